/*
 * pairs.c -- the (model, version) table, its windows and sliding past (see pairs.h).
 */
#include "agent/pairs.h"
#include "agent/log.h"
#include "agent/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct agent_pairs {
	struct agent_pair **v; /* max_pairs slots; pairs at stable addresses */
	size_t n, max, last;   /* last: the pair used last */
	int64_t window_ms;
	size_t max_categories;
	unsigned sliding_k;
	enum agent_baseline_ref ref;
	struct agent_baselines *bl; /* borrowed */
	struct agent_pairs_hooks hooks;
	int64_t horizon;      /* windows ending at or before it are not opened */
	uint64_t min_samples; /* a pair with fewer records open cannot keep its slot */
	size_t max_windows;   /* open windows per pair (0: no bound) */
};

struct agent_pairs *agent_pairs_new(size_t max_pairs, int64_t window_ms, size_t max_categories,
				    unsigned sliding_k, enum agent_baseline_ref ref,
				    struct agent_baselines *bl)
{
	struct agent_pairs *t = calloc(1, sizeof *t);

	if (!t || !(t->v = calloc(max_pairs ? max_pairs : 1, sizeof *t->v))) {
		free(t);
		return NULL;
	}
	t->max = max_pairs;
	t->window_ms = window_ms > 0 ? window_ms : 1;
	t->max_categories = max_categories;
	t->sliding_k = sliding_k;
	t->ref = ref;
	t->bl = bl;
	t->horizon = INT64_MIN;
	return t;
}

void agent_pairs_set_min_samples(struct agent_pairs *t, uint64_t n)
{
	t->min_samples = n;
}

void agent_pairs_set_max_windows(struct agent_pairs *t, size_t n)
{
	t->max_windows = n;
}

void agent_pairs_set_horizon(struct agent_pairs *t, int64_t horizon)
{
	t->horizon = horizon;
}

static void free_pair(struct agent_pair *p)
{
	if (!p)
		return;
	agent_window_summary_free(p->last);
	for (size_t i = 0; i < p->npast; i++)
		agent_window_free(p->past[i]);
	free(p->past);
	for (size_t i = 0; i < p->nwin; i++)
		agent_window_free(p->win[i]);
	free(p->win);
	free(p->model);
	free(p->version);
	free(p->base_version);
	free(p);
}

void agent_pairs_free(struct agent_pairs *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free_pair(t->v[i]);
	free(t->v);
	free(t);
}

void agent_pairs_set_hooks(struct agent_pairs *t, const struct agent_pairs_hooks *h)
{
	t->hooks = *h;
}

size_t agent_pairs_count(const struct agent_pairs *t)
{
	return t->n;
}

struct agent_pair *agent_pairs_at(const struct agent_pairs *t, size_t i)
{
	return i < t->n ? t->v[i] : NULL;
}

int64_t agent_pairs_window_ms(const struct agent_pairs *t)
{
	return t->window_ms;
}

static int same(const struct agent_pair *p, const char *model, size_t mlen, const char *version,
		size_t vlen)
{
	return p->mlen == mlen && p->vlen == vlen && !memcmp(p->model, model, mlen) &&
	       !memcmp(p->version, version, vlen);
}

uint64_t agent_pair_open_records(const struct agent_pair *p)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->nwin; i++)
		n += p->win[i]->n;
	return n;
}

/* Makes room for a new pair: forgets the least recently active (wall clock) of the pairs its
 * owner lets go of that are idle (no open window) or starved (fewer than min_samples records in
 * their open windows: their windows could only be inconclusive, they cannot hold a slot
 * against a pair with traffic). 0 when one was forgotten, -1 when none may be. */
static int evict_one(struct agent_pairs *t)
{
	size_t best = t->n;
	struct agent_pair *p;
	uint64_t open;

	for (size_t i = 0; i < t->n; i++) {
		p = t->v[i];
		if (p->nwin && agent_pair_open_records(p) >= t->min_samples)
			continue;
		if (!t->hooks.can_forget || !t->hooks.can_forget(t->hooks.arg, p))
			continue;
		if (best == t->n || p->last_wall < t->v[best]->last_wall)
			best = i;
	}
	if (best == t->n)
		return -1;
	p = t->v[best];
	open = agent_pair_open_records(p);
	if (p->nwin)
		agent_log(AGENT_LOG_NOTICE, "engine",
			  "forgetting %s %s to make room: %" PRIu64
			  " records in %zu open windows (fewer than min_samples)",
			  p->model, p->version, open, p->nwin);
	else
		agent_log(AGENT_LOG_INFO, "engine", "forgetting idle %s %s", p->model, p->version);
	if (t->hooks.forget)
		t->hooks.forget(t->hooks.arg, p);
	free_pair(p);
	t->v[best] = t->v[--t->n];
	t->last = 0;
	return 0;
}

struct agent_pair *agent_pairs_find(struct agent_pairs *t, const char *model, size_t mlen,
				    const char *version, size_t vlen)
{
	if (t->last < t->n && same(t->v[t->last], model, mlen, version, vlen))
		return t->v[t->last];
	for (size_t i = 0; i < t->n; i++)
		if (same(t->v[i], model, mlen, version, vlen)) {
			t->last = i;
			return t->v[i];
		}
	return NULL;
}

struct agent_pair *agent_pairs_get(struct agent_pairs *t, const char *model, size_t mlen,
				   const char *version, size_t vlen)
{
	struct agent_pair *p = agent_pairs_find(t, model, mlen, version, vlen);

	if (p)
		return p;
	if (t->n == t->max && evict_one(t) < 0)
		return NULL; /* its streaks are forgotten */
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->model = agent_strndup(model, mlen);
	p->version = agent_strndup(version, vlen);
	if (!p->model || !p->version) {
		free_pair(p);
		return NULL;
	}
	p->mlen = mlen;
	p->vlen = vlen;
	t->last = t->n;
	t->v[t->n++] = p;
	return p;
}

struct agent_pair *agent_pairs_newest(const struct agent_pairs *t, const char *model)
{
	struct agent_pair *best = NULL;
	int64_t best_t = INT64_MIN;

	for (size_t i = 0; i < t->n; i++) {
		struct agent_pair *p = t->v[i];
		int64_t at = p->nwin	     ? p->win[p->nwin - 1]->start_ms
			     : p->any_closed ? p->closed_upto
					     : INT64_MIN;

		if (!strcmp(p->model, model) && (!best || at > best_t)) {
			best = p;
			best_t = at;
		}
	}
	return best;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The start of the window holding ts. */
static int64_t window_start(const struct agent_pairs *t, int64_t ts)
{
	return floor_div(ts, t->window_ms) * t->window_ms;
}

/* Chooses the comparison baseline of a new window of p (and notes its version). */
static const struct agent_baseline *choose_baseline(struct agent_pairs *t, struct agent_pair *p)
{
	const struct agent_baseline *b =
	    agent_baselines_choose(t->bl, t->ref, p->model, p->version, p->base_version);

	free(p->base_version);
	p->base_version = b ? strdup(b->version) : NULL;
	return b;
}

enum agent_slot agent_pair_window(struct agent_pairs *t, struct agent_pair *p, int64_t ts,
				  struct agent_window **out)
{
	int64_t start = window_start(t, ts);
	struct agent_window *w;
	size_t at;

	*out = NULL;
	if (p->nwin && p->win[p->nwin - 1]->start_ms == start) {
		*out = p->win[p->nwin - 1];
		return AGENT_SLOT_OPEN;
	}
	if (p->any_closed && start + t->window_ms <= p->closed_upto)
		return AGENT_SLOT_LATE;
	for (at = 0; at < p->nwin && p->win[at]->start_ms < start; at++)
		;
	if (at < p->nwin && p->win[at]->start_ms == start) {
		*out = p->win[at];
		return AGENT_SLOT_OPEN;
	}
	if (start + t->window_ms <= t->horizon)
		return AGENT_SLOT_LATE; /* never open a window the watermark passed */
	if (t->max_windows && p->nwin >= t->max_windows)
		return AGENT_SLOT_FULL;
	if (p->nwin == p->capwin) {
		size_t cap = p->capwin ? 2 * p->capwin : 4;
		struct agent_window **g = realloc(p->win, cap * sizeof *g);

		if (!g)
			return AGENT_SLOT_NOMEM;
		p->win = g;
		p->capwin = cap;
	}
	w = agent_window_new(start, start + t->window_ms, choose_baseline(t, p), t->max_categories);
	if (!w)
		return AGENT_SLOT_NOMEM;
	memmove(p->win + at + 1, p->win + at, (p->nwin - at) * sizeof *p->win);
	p->win[at] = w;
	p->nwin++;
	*out = w;
	return AGENT_SLOT_OPEN;
}

void agent_pair_mark_closed(struct agent_pair *p, const struct agent_window *w)
{
	if (!p->any_closed || w->end_ms > p->closed_upto)
		p->closed_upto = w->end_ms;
	p->any_closed = 1;
}

int agent_pair_keep_past(struct agent_pairs *t, struct agent_pair *p, struct agent_window *w)
{
	size_t keep = t->sliding_k > 1 ? t->sliding_k - 1 : 0;

	if (keep == 0)
		return 0;
	if (!p->past && !(p->past = calloc(keep, sizeof *p->past)))
		return 0;
	if (p->npast == keep) {
		agent_window_free(p->past[0]);
		memmove(p->past, p->past + 1, (keep - 1) * sizeof *p->past);
		p->npast--;
	}
	p->past[p->npast++] = w;
	return 1;
}

void agent_pair_drop_oldest(struct agent_pair *p, size_t n)
{
	if (!n)
		return;
	memmove(p->win, p->win + n, (p->nwin - n) * sizeof *p->win);
	p->nwin -= n;
}

struct agent_window *agent_pair_sliding_view(const struct agent_pairs *t,
					     const struct agent_pair *p,
					     const struct agent_window *w)
{
	struct agent_window *v;

	if (t->sliding_k <= 1 || p->npast == 0)
		return NULL;
	v = agent_window_new(w->start_ms, w->end_ms, w->base, t->max_categories);
	if (!v || agent_window_merge(v, w) < 0)
		goto fail;
	for (size_t i = 0; i < p->npast; i++)
		if (p->past[i]->base == w->base && agent_window_merge(v, p->past[i]) < 0)
			goto fail;
	return v;
fail:
	agent_window_free(v);
	return NULL;
}

void agent_pair_set_decided(struct agent_pair *p, const struct agent_eval *ev, uint64_t labels,
			    int64_t wall_ms)
{
	struct agent_window_summary *s = agent_window_summary_new(ev, labels, wall_ms);

	if (!s)
		return; /* the metrics keep showing the window before */
	agent_window_summary_free(p->last);
	p->last = s;
}
