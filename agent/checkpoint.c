/*
 * checkpoint.c -- exactly-once accounting: the engine's partial windows, stream offsets and
 * decision states committed together to the store, restored at start, merged at decision time
 * (see checkpoint.h, engine.h "exactly-once checkpoints" and doc/delivery.md).
 *
 * Keys inside the scope (store.h):
 *   window key  MODEL \0 VERSION \0 START_MS (decimal)     -> one partial per instance
 *   pair key    MODEL \0 VERSION                           -> "1 CLOSED_UPTO ANY_CLOSED
 *               COOLDOWN_END DRY_LATCHED STREAK..."  (decimal; COOLDOWN_END "-" when none)
 *   lock        "MLEN:MODEL" "VLEN:VERSION" START (held 30 s by the deciding agent)
 *   stream      "TOPIC/PARTITION"                          -> next offset, high-water mark
 * The invariant: a record of stream s is in some committed partial exactly when its offset is
 * below s's committed next offset. Our own partial of a window is always a snapshot of our
 * in-memory counts of it, so a decision merges our memory with the *other* instances' partials.
 *
 * Bookkeeping (this file's own): a table of named streams; a table of the open windows it
 * knows (by address: the change counter committed last, and "remote": other instances may hold
 * partials of it), entries dropped when the window closes; a table of the pairs whose decision
 * state changed since the last commit (by address, dropped when the pair is forgotten).
 */
#include "agent/checkpoint.h"
#include "agent/log.h"
#include "agent/timefmt.h"
#include "agent/util.h"
#include "agent/window_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOCK_TTL_MS 30000
#define STATE_MAX   256

/* A stream this agent took records from (or was assigned), by its source id. */
struct ck_stream {
	uint32_t id;	      /* conn_msg.stream */
	char *name;	      /* "TOPIC/PARTITION" */
	int64_t next_offset;  /* the offset after the last message taken (-1: none) */
	int64_t saved_offset; /* next_offset at the last commit (-1: none) */
	int64_t told_offset;  /* saved_offset last reported (agent_ckpt_committed_offsets) */
	int64_t stored_hwm;   /* the high-water mark stored when it was assigned (-1: none) */
	int64_t first_offset; /* the first message taken with nothing committed (-1: none) */
	int announce;	      /* assigned, its presence not committed yet */
};

/* A window or pair this agent tracks, by address (sorted). */
struct ck_ref {
	const void *at;
	uint64_t committed;   /* windows: the change counter last committed */
	int flag;	      /* windows: remote; pairs: the state changed since the last commit */
	int64_t wait_from;    /* windows: monotonic ms it began to wait for partitions (0: not) */
	uint64_t committed_n; /* windows: its record count last committed */
	uint8_t *snap;	      /* windows: the partial last committed (agent_ckpt_rewind), or NULL */
	size_t snaplen;
};

struct ck_refs {
	struct ck_ref *v;
	size_t n, cap;
};

struct agent_ckpt {
	struct agent_ckpt_env env;
	char *scope, *instance;
	int64_t interval_ms;
	int64_t lock_ttl_ms;	      /* how long a window's lock is held (LOCK_TTL_MS) */
	int64_t last_commit;	      /* monotonic ms of the last commit attempt */
	int64_t failing_since;	      /* monotonic ms of the first failed commit since the last
				       * success (INT64_MIN: none) */
	struct conn_ckpt_item *drops; /* window keys decided since the last commit (keys owned) */
	char **unlocks; /* with each drop: the window's lock, released once committed */
	size_t ndrops, capdrops;
	struct ck_stream *streams;
	size_t nstreams, last_stream;
	struct ck_refs windows, pairs;
	agent_census_fn census; /* the input partitions (NULL: none) */
	void *census_arg;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- address tables ---- */

/* The index of at in r, or where it would go (*found 0). */
static size_t ref_pos(const struct ck_refs *r, const void *at, int *found)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)r->v[mid].at < (uintptr_t)at)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < r->n && r->v[lo].at == at;
	return lo;
}

static struct ck_ref *ref_find(const struct ck_refs *r, const void *at)
{
	int found;
	size_t i = ref_pos(r, at, &found);

	return found ? &r->v[i] : NULL;
}

/* The entry of at, added (zero) when new; NULL on no memory. */
static struct ck_ref *ref_get(struct ck_refs *r, const void *at)
{
	int found;
	size_t i = ref_pos(r, at, &found);

	if (found)
		return &r->v[i];
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct ck_ref *g = realloc(r->v, cap * sizeof *g);

		if (!g)
			return NULL;
		r->v = g;
		r->cap = cap;
	}
	memmove(r->v + i + 1, r->v + i, (r->n - i) * sizeof *r->v);
	r->n++;
	r->v[i] = (struct ck_ref){ .at = at };
	return &r->v[i];
}

static void ref_drop(struct ck_refs *r, const void *at)
{
	int found;
	size_t i = ref_pos(r, at, &found);

	if (!found)
		return;
	free(r->v[i].snap);
	memmove(r->v + i, r->v + i + 1, (r->n - i - 1) * sizeof *r->v);
	r->n--;
}

/* ---- keys ---- */

/* MODEL \0 VERSION [\0 START]: a malloc'd key and its length, or NULL. */
static char *make_key(const struct agent_pair *p, const struct agent_window *w, size_t *len)
{
	char start[24] = "";
	size_t sl = w ? (size_t)snprintf(start, sizeof start, "%" PRId64, w->start_ms) : 0;
	size_t n = p->mlen + 1 + p->vlen + (w ? 1 + sl : 0);
	char *k = malloc(n + 1);

	if (!k)
		return NULL;
	memcpy(k, p->model, p->mlen);
	k[p->mlen] = '\0';
	memcpy(k + p->mlen + 1, p->version, p->vlen);
	if (w) {
		k[p->mlen + 1 + p->vlen] = '\0';
		memcpy(k + p->mlen + 2 + p->vlen, start, sl);
	}
	k[n] = '\0';
	*len = n;
	return k;
}

/* Splits a key into model, version and (window keys) start; -1 when malformed. */
static int split_key(const char *k, size_t len, int want_start, const char **m, size_t *mlen,
		     const char **v, size_t *vlen, int64_t *start)
{
	const char *z1 = memchr(k, '\0', len), *z2;
	char buf[24], *end;

	if (!z1 || z1 == k)
		return -1;
	*m = k;
	*mlen = (size_t)(z1 - k);
	*v = z1 + 1;
	z2 = memchr(*v, '\0', len - *mlen - 1);
	if (!want_start) {
		*vlen = len - *mlen - 1;
		return z2 || *vlen == 0 || *vlen > 128 || *mlen > 128 ? -1 : 0;
	}
	if (!z2 || z2 == *v)
		return -1;
	*vlen = (size_t)(z2 - *v);
	len -= *mlen + *vlen + 2;
	if (len == 0 || len >= sizeof buf || *mlen > 128 || *vlen > 128)
		return -1;
	memcpy(buf, z2 + 1, len);
	buf[len] = '\0';
	*start = strtoll(buf, &end, 10);
	return *end ? -1 : 0;
}

/* ---- pair states ---- */

static int encode_state(struct agent_ckpt *ck, const struct agent_pair *p, char *out, size_t cap)
{
	int64_t cool;
	size_t o;

	o = (size_t)snprintf(out, cap, "1 %" PRId64 " %d ", p->closed_upto, p->any_closed);
	if (agent_cooldown_known(ck->env.em, p->model, &cool) == 0)
		o += (size_t)snprintf(out + o, cap - o, "%" PRId64, cool);
	else
		o += (size_t)snprintf(out + o, cap - o, "-");
	o += (size_t)snprintf(out + o, cap - o, " %d", p->streaks.dry_latched);
	for (int r = 0; r < AGENT_RULE_COUNT && o < cap; r++)
		o += (size_t)snprintf(out + o, cap - o, " %u", p->streaks.n[r]);
	return o < cap ? (int)o : -1;
}

/* A stored decision state, parsed. */
struct pair_state {
	int64_t closed_upto;
	int any_closed;
	int64_t cool; /* INT64_MIN: none */
	struct agent_streaks streaks;
};

/* Parses a stored state; -1 when malformed. */
static int parse_state(const char *s, size_t len, struct pair_state *ps)
{
	char buf[STATE_MAX], *q, *end;

	if (len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strncmp(buf, "1 ", 2) != 0)
		return -1;
	memset(ps, 0, sizeof *ps);
	ps->cool = INT64_MIN;
	ps->closed_upto = strtoll(buf + 2, &end, 10);
	ps->any_closed = strtol(end, &end, 10) != 0;
	while (*end == ' ')
		end++;
	if (*end == '-')
		end++;
	else if ((ps->cool = strtoll(end, &end, 10)) == INT64_MIN)
		return -1;
	ps->streaks.dry_latched = (int)strtol(end, &end, 10);
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		q = end;
		ps->streaks.n[r] = (unsigned)strtoul(q, &end, 10);
		if (end == q)
			return -1;
	}
	return *end ? -1 : 0;
}

/* Applies a parsed state to p (and the model's cooldown). */
static void apply_state(struct agent_ckpt *ck, struct agent_pair *p, const struct pair_state *ps)
{
	p->closed_upto = ps->closed_upto;
	p->any_closed = ps->any_closed;
	p->streaks = ps->streaks;
	if (ps->cool != INT64_MIN)
		agent_cooldown_raise(ck->env.em, p->model, ps->cool);
}

/* The name of the lock of window w of p: "MLEN:MODEL" "VLEN:VERSION" START. */
#define LOCK_NAME_MAX 320
static void lock_name(const struct agent_pair *p, const struct agent_window *w,
		      char buf[LOCK_NAME_MAX])
{
	snprintf(buf, LOCK_NAME_MAX, "%zu:%s%zu:%s%" PRId64, p->mlen, p->model, p->vlen, p->version,
		 w->start_ms);
}

/* ---- pairs ---- */

void agent_ckpt_pair_changed(struct agent_ckpt *ck, const struct agent_pair *p)
{
	struct ck_ref *r = ref_get(&ck->pairs, p);

	if (r)
		r->flag = 1;
	/* no memory: the state is saved with a later change */
}

int agent_ckpt_pair_saved(struct agent_ckpt *ck, const struct agent_pair *p)
{
	const struct ck_ref *r = ref_find(&ck->pairs, p);

	return !r || !r->flag;
}

void agent_ckpt_pair_forget(struct agent_ckpt *ck, const struct agent_pair *p)
{
	ref_drop(&ck->pairs, p);
}

void agent_ckpt_window_forget(struct agent_ckpt *ck, const struct agent_window *w)
{
	ref_drop(&ck->windows, w);
}

/* ---- restore ---- */

static int restore_state(void *arg, const char *key, size_t klen, const char *blob, size_t len)
{
	struct agent_ckpt *ck = arg;
	const char *m, *v;
	size_t ml, vl;
	struct agent_pair *p;
	struct pair_state ps;

	if (split_key(key, klen, 0, &m, &ml, &v, &vl, NULL) < 0 ||
	    parse_state(blob, len, &ps) < 0 ||
	    !(p = agent_pairs_get(ck->env.pairs, m, ml, v, vl))) {
		ck->env.k->partials_refused++;
		agent_log(AGENT_LOG_WARNING, "checkpoint", "a stored decision state is unusable");
		return 0;
	}
	apply_state(ck, p, &ps);
	return 0;
}

static int restore_window(void *arg, const char *key, size_t klen)
{
	struct agent_ckpt *ck = arg;
	const char *m, *v;
	size_t ml, vl;
	int64_t start;
	struct agent_pair *p;
	struct agent_window *w;
	struct ck_ref *r;

	if (split_key(key, klen, 1, &m, &ml, &v, &vl, &start) < 0 ||
	    !(p = agent_pairs_get(ck->env.pairs, m, ml, v, vl))) {
		ck->env.k->partials_refused++;
		return 0;
	}
	if (agent_pair_window(ck->env.pairs, p, start, &w) == AGENT_SLOT_OPEN) {
		if ((r = ref_get(&ck->windows, w)))
			r->flag = 1;	  /* remote */
		if (w->start_ms != start) /* another window length: not ours to decide */
			ck->env.k->partials_refused++;
	}
	return 0;
}

static int restore_pending(void *arg, const char *id, const char *model, const char *doc,
			   size_t len)
{
	struct agent_ckpt *ck = arg;

	return agent_emit_restore(ck->env.em, id, model, doc, len);
}

struct agent_ckpt *agent_ckpt_new(const struct agent_ckpt_env *env, const char *scope,
				  const char *instance, int64_t interval_ms)
{
	struct agent_ckpt *ck = calloc(1, sizeof *ck);

	if (!ck || !(ck->scope = strdup(scope)) || !(ck->instance = strdup(instance))) {
		if (ck)
			free(ck->scope);
		free(ck);
		return NULL;
	}
	ck->env = *env;
	ck->interval_ms = interval_ms;
	ck->lock_ttl_ms = LOCK_TTL_MS;
	ck->failing_since = INT64_MIN;
	return ck;
}

int agent_ckpt_restore(struct agent_ckpt *ck, char *err, size_t errlen)
{
	struct conn_store *st = ck->env.store;

	/* states first: they say which windows are already closed */
	if (conn_store_ckpt_states(st, ck->scope, restore_state, ck) < 0 ||
	    conn_store_ckpt_windows(st, ck->scope, restore_window, ck) < 0 ||
	    conn_store_pending_list(st, restore_pending, ck) < 0) {
		snprintf(err, errlen, "restoring checkpoints: %s", conn_store_error(st));
		return -1;
	}
	ck->last_commit = agent_time_mono_ms();
	return 0;
}

void agent_ckpt_lock_ttl(struct agent_ckpt *ck, int64_t ms)
{
	if (ms > 0)
		ck->lock_ttl_ms = ms;
}

void agent_ckpt_free(struct agent_ckpt *ck)
{
	if (!ck)
		return;
	for (size_t i = 0; i < ck->ndrops; i++) {
		free((char *)ck->drops[i].key);
		free(ck->unlocks[i]);
	}
	free(ck->drops);
	free(ck->unlocks);
	for (size_t i = 0; i < ck->nstreams; i++)
		free(ck->streams[i].name);
	free(ck->streams);
	for (size_t i = 0; i < ck->windows.n; i++)
		free(ck->windows.v[i].snap);
	free(ck->windows.v);
	free(ck->pairs.v);
	free(ck->scope);
	free(ck->instance);
	free(ck);
}

/* ---- offsets ---- */

/* A stream's name in the store: "TOPIC/PARTITION". */
static void stream_name(char *buf, size_t cap, const char *topic, int32_t partition)
{
	snprintf(buf, cap, "%s/%" PRId32, topic, partition);
}

/* The entry of m's stream, created and named when new (NULL beyond AGENT_STREAMS_MAX streams or
 * on no memory). */
static struct ck_stream *stream_of(struct agent_ckpt *ck, const struct conn_msg *m)
{
	struct ck_stream *cs;
	char name[600];

	if (ck->last_stream < ck->nstreams && ck->streams[ck->last_stream].id == m->stream)
		return &ck->streams[ck->last_stream];
	for (size_t i = 0; i < ck->nstreams; i++)
		if (ck->streams[i].id == m->stream) {
			ck->last_stream = i;
			return &ck->streams[i];
		}
	if (ck->nstreams == AGENT_STREAMS_MAX)
		return NULL;
	if (!(ck->nstreams & (ck->nstreams - 1))) { /* grow at powers of two */
		size_t cap = ck->nstreams ? 2 * ck->nstreams : 4;
		struct ck_stream *g = realloc(ck->streams, cap * sizeof *g);

		if (!g)
			return NULL;
		ck->streams = g;
	}
	stream_name(name, sizeof name, m->topic, m->partition);
	cs = &ck->streams[ck->nstreams];
	*cs = (struct ck_stream){ .id = m->stream,
				  .name = strdup(name),
				  .next_offset = -1,
				  .saved_offset = -1,
				  .told_offset = -1,
				  .stored_hwm = -1,
				  .first_offset = -1 };
	if (!cs->name)
		return NULL;
	ck->last_stream = ck->nstreams++;
	return cs;
}

void agent_ckpt_note_offset(struct agent_ckpt *ck, const struct conn_msg *m)
{
	struct ck_stream *cs = stream_of(ck, m);

	if (!cs)
		return;
	if (cs->next_offset < 0 && cs->first_offset < 0)
		cs->first_offset = m->offset;
	cs->next_offset = m->offset + 1;
}

int64_t agent_ckpt_hello(struct agent_ckpt *ck, const struct conn_msg *m)
{
	struct ck_stream *cs = stream_of(ck, m);
	struct conn_ckpt_offset o;

	if (!cs)
		return -1;
	if (conn_store_ckpt_offset_get(ck->env.store, ck->scope, cs->name, &o) ==
	    CONN_STORE_FOUND) {
		if (cs->next_offset < 0)
			cs->next_offset = o.next_offset;
		cs->stored_hwm = o.hwm_ms;
	}
	cs->announce = 1;
	return cs->stored_hwm;
}

int agent_ckpt_resume_offset(struct agent_ckpt *ck, const char *topic, int32_t partition,
			     int64_t *next)
{
	char name[600];
	struct conn_ckpt_offset o;
	enum conn_store_lookup rc;

	stream_name(name, sizeof name, topic, partition);
	/* a connection broken since the last call fails once, then reconnects: try three times */
	for (int attempt = 0;; attempt++) {
		rc = conn_store_ckpt_offset_get(ck->env.store, ck->scope, name, &o);
		if (rc != CONN_STORE_ERROR)
			break;
		if (attempt == 2)
			return -1;
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	if (rc == CONN_STORE_NONE || o.next_offset < 0) /* none, or assigned once, never read */
		return 1;
	*next = o.next_offset;
	return 0;
}

void agent_ckpt_gone(struct agent_ckpt *ck, uint32_t stream)
{
	for (size_t i = 0; i < ck->nstreams; i++) {
		if (ck->streams[i].id != stream)
			continue;
		free(ck->streams[i].name);
		ck->streams[i] = ck->streams[--ck->nstreams];
		ck->last_stream = 0;
		return;
	}
}

void agent_ckpt_committed_offsets(struct agent_ckpt *ck, agent_offset_fn fn, void *arg)
{
	for (size_t i = 0; i < ck->nstreams; i++) {
		struct ck_stream *cs = &ck->streams[i];

		if (cs->saved_offset >= 0 && cs->saved_offset != cs->told_offset) {
			fn(arg, cs->name, cs->saved_offset);
			cs->told_offset = cs->saved_offset;
		}
	}
}

/* ---- commit ---- */

struct commit_buf {
	struct conn_ckpt_item *partials, *states;
	size_t npartials, nstates;
	struct conn_ckpt_offset *offsets;
	size_t noffsets;
	struct agent_window **dirty; /* windows whose partial is in this commit */
	size_t ndirty;
	const struct agent_pair **spairs; /* pairs whose state is in this commit */
	char (*sbuf)[STATE_MAX];
};

static void commit_buf_free(struct commit_buf *b)
{
	for (size_t i = 0; i < b->npartials; i++) {
		free((char *)b->partials[i].key);
		free((char *)b->partials[i].blob);
	}
	for (size_t i = 0; i < b->nstates; i++)
		free((char *)b->states[i].key);
	free(b->partials);
	free(b->states);
	free(b->offsets);
	free(b->dirty);
	free(b->spairs);
	free(b->sbuf);
}

/* Whether w counted anything since its last commit. */
static int window_dirty(const struct agent_ckpt *ck, const struct agent_window *w)
{
	const struct ck_ref *r = ref_find(&ck->windows, w);

	return w->updates != (r ? r->committed : 0);
}

static int pair_dirty(const struct agent_ckpt *ck, const struct agent_pair *p)
{
	const struct ck_ref *r = ref_find(&ck->pairs, p);

	return r && r->flag;
}

/* Gathers what changed since the last commit into b; -1 on no memory. */
static int gather(struct agent_ckpt *ck, struct commit_buf *b)
{
	struct agent_pairs *pairs = ck->env.pairs;
	size_t np = agent_pairs_count(pairs), nwin = 0;
	int64_t now = agent_time_now_ms();

	for (size_t i = 0; i < np; i++) {
		const struct agent_pair *p = agent_pairs_at(pairs, i);

		for (size_t j = 0; j < p->nwin; j++)
			nwin += window_dirty(ck, p->win[j]);
	}
	b->partials = calloc(nwin ? nwin : 1, sizeof *b->partials);
	b->dirty = calloc(nwin ? nwin : 1, sizeof *b->dirty);
	b->states = calloc(np ? np : 1, sizeof *b->states);
	b->spairs = calloc(np ? np : 1, sizeof *b->spairs);
	b->sbuf = calloc(np ? np : 1, sizeof *b->sbuf);
	b->offsets = calloc(ck->nstreams ? ck->nstreams : 1, sizeof *b->offsets);
	if (!b->partials || !b->dirty || !b->states || !b->spairs || !b->sbuf || !b->offsets)
		return -1;
	for (size_t i = 0; i < np; i++) {
		const struct agent_pair *p = agent_pairs_at(pairs, i);

		for (size_t j = 0; j < p->nwin; j++) {
			struct agent_window *w = p->win[j];
			struct conn_ckpt_item *it = &b->partials[b->npartials];
			uint8_t *blob;
			size_t len, klen;

			if (!window_dirty(ck, w))
				continue;
			if (agent_window_encode(w, &blob, &len) < 0)
				return -1;
			it->key = make_key(p, w, &klen);
			it->klen = klen;
			it->blob = (const char *)blob;
			it->len = len;
			b->npartials++;
			if (!it->key)
				return -1;
			b->dirty[b->ndirty++] = w;
		}
		if (pair_dirty(ck, p)) {
			struct conn_ckpt_item *it = &b->states[b->nstates];
			int n = encode_state(ck, p, b->sbuf[b->nstates], STATE_MAX);
			size_t klen;

			if (n < 0)
				return -1;
			it->key = make_key(p, NULL, &klen);
			it->klen = klen;
			it->blob = b->sbuf[b->nstates];
			it->len = (size_t)n;
			b->spairs[b->nstates++] = p;
			if (!it->key)
				return -1;
		}
	}
	for (size_t i = 0; i < ck->nstreams; i++) {
		struct ck_stream *cs = &ck->streams[i];
		int64_t max_ts = INT64_MIN, hwm;

		agent_watermark_stream(ck->env.wm, cs->id, &max_ts);
		hwm = max_ts == INT64_MIN ? -1 : max_ts;
		if (hwm < cs->stored_hwm)
			hwm = cs->stored_hwm;
		if (!cs->announce && (cs->next_offset < 0 || cs->next_offset == cs->saved_offset))
			continue;
		/* labels hold no time; a stream with no record yet holds it from its last stored
		 * mark (-1: all of it) */
		b->offsets[b->noffsets++] = (struct conn_ckpt_offset){
			.stream = cs->name,
			.next_offset = cs->next_offset,
			.hwm_ms = agent_watermark_is_labels(ck->env.wm, cs->id) ? INT64_MAX : hwm,
			.updated_ms = now
		};
	}
	return 0;
}

/* After a commit: what it held is saved. */
static void committed(struct agent_ckpt *ck, const struct commit_buf *b)
{
	for (size_t i = 0; i < b->ndirty; i++) { /* partials[i] is dirty[i]'s */
		struct ck_ref *r = ref_get(&ck->windows, b->dirty[i]);

		if (!r)
			continue;
		r->committed = b->dirty[i]->updates;
		r->committed_n = b->dirty[i]->n;
		free(r->snap); /* kept: what the store holds of it (agent_ckpt_rewind) */
		r->snap = (uint8_t *)b->partials[i].blob;
		r->snaplen = b->partials[i].len;
		b->partials[i].blob = NULL;
	}
	for (size_t i = 0; i < b->nstates; i++) {
		struct ck_ref *r = ref_find(&ck->pairs, b->spairs[i]);

		if (r)
			r->flag = 0;
	}
	for (size_t i = 0; i < ck->nstreams; i++) {
		ck->streams[i].announce = 0;
		if (ck->streams[i].next_offset >= 0)
			ck->streams[i].saved_offset = ck->streams[i].next_offset;
	}
	/* the decisions are stored: their windows' locks are no longer needed (in the dir store a
	 * lock left to expire stays a file, one per decided window) */
	for (size_t i = 0; i < ck->ndrops; i++) {
		if (ck->unlocks[i] &&
		    conn_store_unlock(ck->env.store, ck->scope, ck->unlocks[i], ck->instance) < 0)
			agent_log(AGENT_LOG_DEBUG, "checkpoint",
				  "lock not released (it expires): %s",
				  conn_store_error(ck->env.store));
		free((char *)ck->drops[i].key);
		free(ck->unlocks[i]);
	}
	ck->ndrops = 0;
}

int agent_ckpt_commit(struct agent_ckpt *ck, int force)
{
	struct agent_counters *k = ck->env.k;
	struct commit_buf b = { 0 };
	struct conn_ckpt c;
	int64_t now;
	uint64_t t0;
	int rc = -1;

	now = agent_time_mono_ms();
	if (!force && now - ck->last_commit < ck->interval_ms)
		return 0;
	ck->last_commit = now;
	t0 = now_ns();
	if (gather(ck, &b) < 0) {
		agent_log(AGENT_LOG_ERR, "checkpoint", "out of memory");
		goto done;
	}
	if (!b.npartials && !b.nstates && !b.noffsets && !ck->ndrops) {
		rc = 0;
		goto done;
	}
	c = (struct conn_ckpt){ .instance = ck->instance,
				.offsets = b.offsets,
				.noffsets = b.noffsets,
				.partials = b.partials,
				.npartials = b.npartials,
				.drops = ck->drops,
				.ndrops = ck->ndrops,
				.states = b.states,
				.nstates = b.nstates };
	if (conn_store_ckpt_commit(ck->env.store, ck->scope, &c) < 0) {
		agent_log(AGENT_LOG_WARNING, "checkpoint", "not committed (retried): %s",
			  conn_store_error(ck->env.store));
		goto done;
	}
	committed(ck, &b);
	k->checkpoints++;
	rc = 0;
done:
	if (rc < 0) {
		k->checkpoint_errors++;
		if (ck->failing_since == INT64_MIN)
			ck->failing_since = now;
	} else {
		ck->failing_since = INT64_MIN;
	}
	commit_buf_free(&b);
	k->checkpoint_ns += now_ns() - t0;
	return rc;
}

/* ---- deciding ---- */

struct merge_ctx {
	struct agent_ckpt *ck;
	struct agent_window *w;
};

static int merge_partial(void *arg, const char *name, size_t nlen, const char *blob, size_t len)
{
	struct merge_ctx *mc = arg;
	struct agent_ckpt *ck = mc->ck;
	char err[160];

	if (nlen == strlen(ck->instance) && !memcmp(name, ck->instance, nlen))
		return 0; /* our own: a snapshot of what w holds */
	if (agent_window_decode_merge(mc->w, (const uint8_t *)blob, len, ck->env.c->max_categories,
				      err, sizeof err) < 0) {
		ck->env.k->partials_refused++;
		agent_log(AGENT_LOG_WARNING, "checkpoint", "%.*s: %s",
			  (int)(nlen > 128 ? 128 : nlen), name, err);
		return 0;
	}
	ck->env.k->partials_merged++;
	return 0;
}

/* ---- coverage ---- */

void agent_ckpt_census(struct agent_ckpt *ck, agent_census_fn fn, void *arg)
{
	ck->census = fn;
	ck->census_arg = arg;
}

/* What coverage is judged on: the census and the stored partitions, copied. */
struct cov_ctx {
	struct agent_ckpt *ck;
	struct agent_census_part *census;
	size_t ncensus, capcensus;
	struct agent_stored_part *stored;
	size_t nstored, capstored;
	int oom;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *g;

	if (n < *cap)
		return 0;
	nc = *cap ? 2 * *cap : 16;
	if (!(g = realloc(*v, nc * size)))
		return -1;
	*v = g;
	*cap = nc;
	return 0;
}

static void census_part(void *arg, const char *topic, int32_t partition, int64_t low, int64_t high)
{
	struct cov_ctx *cc = arg;
	char name[600];

	if (cc->oom ||
	    grow((void **)&cc->census, &cc->capcensus, cc->ncensus, sizeof *cc->census)) {
		cc->oom = 1;
		return;
	}
	stream_name(name, sizeof name, topic, partition);
	if (!(cc->census[cc->ncensus].name = strdup(name))) {
		cc->oom = 1;
		return;
	}
	cc->census[cc->ncensus].low = low;
	cc->census[cc->ncensus++].high = high;
}

static int stored_part(void *arg, const struct conn_ckpt_offset *o)
{
	struct cov_ctx *cc = arg;
	struct agent_stored_part *sp;

	if (cc->oom ||
	    grow((void **)&cc->stored, &cc->capstored, cc->nstored, sizeof *cc->stored)) {
		cc->oom = 1;
		return 1;
	}
	sp = &cc->stored[cc->nstored];
	*sp = (struct agent_stored_part){ .name = strdup(o->stream),
					  .next_offset = o->next_offset,
					  .hwm_ms = o->hwm_ms,
					  .updated_ms = o->updated_ms };
	if (!sp->name) {
		cc->oom = 1;
		return 1;
	}
	cc->nstored++;
	return 0;
}

/* Whether name is one of this agent's input partitions. */
static int ours(void *arg, const char *name)
{
	const struct agent_ckpt *ck = arg;

	for (size_t i = 0; i < ck->nstreams; i++)
		if (!strcmp(ck->streams[i].name, name))
			return !agent_watermark_is_labels(ck->env.wm, ck->streams[i].id);
	return 0;
}

static void cov_free(struct cov_ctx *cc)
{
	for (size_t i = 0; i < cc->ncensus; i++)
		free((char *)cc->census[i].name);
	for (size_t i = 0; i < cc->nstored; i++)
		free((char *)cc->stored[i].name);
	free(cc->census);
	free(cc->stored);
}

/* The coverage of w (its end plus grace: need) at wall time now; -1 when the store's partitions
 * cannot be read (or no memory): then only the census and this agent's partitions count. */
static int judge(struct agent_ckpt *ck, int64_t need, int64_t now, struct agent_coverage *cov)
{
	struct cov_ctx cc = { .ck = ck };
	struct agent_coverage_in in = { .ours = ours, .arg = ck, .need = need, .now = now };
	int have_census = 0, rc = 0;

	if (ck->census && ck->census(ck->census_arg, census_part, &cc) >= 0 && !cc.oom)
		have_census = 1;
	if (conn_store_ckpt_offsets(ck->env.store, ck->scope, stored_part, &cc) < 0 || cc.oom) {
		rc = -1;
		for (size_t i = 0; i < cc.nstored; i++)
			free((char *)cc.stored[i].name);
		cc.nstored = 0;
	}
	for (size_t i = 0; i < ck->nstreams; i++)
		in.nours += !agent_watermark_is_labels(ck->env.wm, ck->streams[i].id);
	if (have_census) {
		in.census = cc.census;
		in.ncensus = cc.ncensus;
	}
	in.stored = cc.stored;
	in.nstored = cc.nstored;
	agent_coverage_judge(&in, cov);
	cov_free(&cc);
	return rc;
}

/* Whether w waits for its partitions: while some are not accounted for, for coverage_wait_ms
 * from the first time it could have closed; then it is decided on what is there (*cov says
 * what). */
static int wait_coverage(struct agent_ckpt *ck, const struct agent_pair *p,
			 const struct agent_window *w, struct agent_coverage *cov)
{
	int64_t now = agent_time_mono_ms(); /* the wait; the stored marks are on the wall clock */
	struct ck_ref *r;
	char s[AGENT_TIME_LEN];

	judge(ck, w->end_ms + ck->env.grace_ms, agent_time_now_ms(), cov);
	if (agent_coverage_complete(cov))
		return 0;
	if (!(r = ref_get(&ck->windows, w)))
		return 0; /* no memory to keep the wait: decided now, saying what is missing */
	agent_time_format(w->start_ms, s);
	if (!r->wait_from) {
		r->wait_from = now;
		agent_log(
		    AGENT_LOG_INFO, "coverage",
		    "%s %s: the window of %s waits for %u of %u partitions (%s%s), %gs at most",
		    p->model, p->version, s, cov->partitions - cov->covered, cov->partitions,
		    cov->nlisted ? cov->missing[0] : "",
		    cov->partitions - cov->covered > 1 ? ", ..." : "",
		    (double)ck->env.coverage_wait_ms / 1000.0);
	}
	if (now - r->wait_from < ck->env.coverage_wait_ms)
		return 1;
	agent_log(AGENT_LOG_WARNING, "coverage",
		  "%s %s: the window of %s is decided on %u of %u partitions after waiting %gs",
		  p->model, p->version, s, cov->covered, cov->partitions,
		  (double)(now - r->wait_from) / 1000.0);
	return 0;
}

/* What p's stored decision state says of w. */
enum stored { STORED_OPEN = 0, STORED_DECIDED, STORED_UNREADABLE };

/* Reads p's stored decision state. STORED_DECIDED when it says w is decided already (by another
 * agent, or before a restart): p takes the state over, so that this agent's next commit does
 * not move it back. Else STORED_OPEN; a state of later windows than p knows (another agent
 * decided them) is taken over too, so that the streaks continue. */
static enum stored stored_state(struct agent_ckpt *ck, struct agent_pair *p,
				const struct agent_window *w, const char *pkey, size_t plen)
{
	struct conn_blob blob;
	struct pair_state ps;
	int parsed;

	switch (conn_store_ckpt_state_get(ck->env.store, ck->scope, pkey, plen, &blob)) {
	case CONN_STORE_ERROR:
		return STORED_UNREADABLE;
	case CONN_STORE_NONE:
		return STORED_OPEN;
	case CONN_STORE_FOUND:
		break;
	}
	parsed = parse_state(blob.data, blob.len, &ps) == 0;
	free(blob.data);
	if (!parsed || !ps.any_closed)
		return STORED_OPEN;
	if (ps.closed_upto >= w->end_ms) {
		apply_state(ck, p, &ps);
		ck->env.k->windows_skipped++;
		return STORED_DECIDED;
	}
	if (!p->any_closed || ps.closed_upto > p->closed_upto)
		apply_state(ck, p, &ps);
	return STORED_OPEN;
}

/* w was decided by another agent (or before a restart): the records this agent counted in it
 * since its last commit are in no decision -- they came after the decider merged the partials
 * -- and are counted late, like any record of a window already decided. */
static enum agent_ckpt_close skipped(struct agent_ckpt *ck, const struct agent_pair *p,
				     const struct agent_window *w)
{
	const struct ck_ref *r = ref_find(&ck->windows, w);
	uint64_t after = w->n - (r && r->committed_n <= w->n ? r->committed_n : 0);

	if (after) {
		char s[AGENT_TIME_LEN];

		ck->env.k->late += after;
		agent_time_format(w->start_ms, s);
		agent_log(AGENT_LOG_INFO, "checkpoint",
			  "%s %s: the window of %s was decided elsewhere: %" PRIu64
			  " record%s counted here since the last checkpoint are late",
			  p->model, p->version, s, after, after == 1 ? "" : "s");
	}
	return AGENT_CKPT_SKIP;
}

enum agent_ckpt_close agent_ckpt_before_close(struct agent_ckpt *ck, struct agent_pair *p,
					      struct agent_window *w, struct agent_coverage *cov)
{
	const struct ck_ref *ref = ref_find(&ck->windows, w);
	int remote = ref && ref->flag;
	size_t klen, plen;
	char *key = make_key(p, w, &klen), *pkey = make_key(p, NULL, &plen);
	struct merge_ctx mc = { ck, w };
	char lock[LOCK_NAME_MAX];
	enum agent_ckpt_close how = AGENT_CKPT_DECIDE;
	enum stored st;
	int rc;

	memset(cov, 0, sizeof *cov);
	if (!key || !pkey) {
		how = remote ? AGENT_CKPT_WAIT : AGENT_CKPT_DECIDE;
		goto out;
	}
	/* decided already? (then no lock is needed; checked again under the lock) */
	if (stored_state(ck, p, w, pkey, plen) == STORED_DECIDED) {
		how = skipped(ck, p, w);
		goto out;
	}
	if (wait_coverage(ck, p, w, cov)) {
		how = AGENT_CKPT_WAIT;
		goto out;
	}
	lock_name(p, w, lock);
	rc = conn_store_lock(ck->env.store, ck->scope, lock, ck->instance, ck->lock_ttl_ms);
	if (rc == 1) { /* another agent is deciding it: wait until its decision is stored (or its
			* lock expires: then this agent decides) */
		how = AGENT_CKPT_WAIT;
		goto out;
	}
	if (rc == 0) {
		st = stored_state(ck, p, w, pkey, plen);
		if (st == STORED_DECIDED) {
			how = skipped(ck, p, w);
			goto out;
		}
		if (st == STORED_OPEN && conn_store_ckpt_partials(ck->env.store, ck->scope, key,
								  klen, merge_partial, &mc) == 0)
			goto out;
	}
	/* the store cannot be read: decide on our counts when they are all of the window's */
	ck->env.k->store_errors++;
	agent_log(AGENT_LOG_WARNING, "checkpoint", "%s %s: store unreachable (%s): %s", p->model,
		  p->version, conn_store_error(ck->env.store),
		  remote ? "decision deferred" : "deciding on this agent's counts");
	how = remote ? AGENT_CKPT_WAIT : AGENT_CKPT_DECIDE;
out:
	free(key);
	free(pkey);
	return how;
}

void agent_ckpt_after_close(struct agent_ckpt *ck, const struct agent_pair *p,
			    const struct agent_window *w)
{
	size_t klen;
	char *key, lock[LOCK_NAME_MAX];

	ref_drop(&ck->windows, w);
	if (ck->ndrops == ck->capdrops) {
		size_t cap = ck->capdrops ? 2 * ck->capdrops : 8;
		struct conn_ckpt_item *g = realloc(ck->drops, cap * sizeof *g);
		char **u;

		if (!g)
			return; /* its partials stay: the closed state keeps it from being decided
				   again */
		ck->drops = g;
		if (!(u = realloc(ck->unlocks, cap * sizeof *u)))
			return;
		ck->unlocks = u;
		ck->capdrops = cap;
	}
	key = make_key(p, w, &klen);
	if (!key)
		return;
	lock_name(p, w, lock);
	ck->unlocks[ck->ndrops] = strdup(lock); /* NULL: left to expire */
	ck->drops[ck->ndrops++] = (struct conn_ckpt_item){ .key = key, .klen = klen };
}

/* ---- rewinding to the last commit ---- */

/* A copy of w's counts as last committed (empty when never committed); NULL on no memory. */
static struct agent_window *as_committed(struct agent_ckpt *ck, const struct agent_window *w,
					 const struct ck_ref *r)
{
	struct agent_window *nw =
	    agent_window_new(w->start_ms, w->end_ms, w->base, ck->env.c->max_categories);
	char err[160];

	if (!nw)
		return NULL;
	if (r && r->snap &&
	    agent_window_decode_merge(nw, r->snap, r->snaplen, ck->env.c->max_categories, err,
				      sizeof err) < 0) {
		agent_window_free(nw);
		return NULL;
	}
	nw->updates = r ? r->committed : 0;
	return nw;
}

size_t agent_ckpt_rewind(struct agent_ckpt *ck, agent_rewind_fn fn, void *arg)
{
	struct agent_pairs *pairs = ck->env.pairs;
	size_t np = agent_pairs_count(pairs), n = 0;

	for (size_t i = 0; i < np; i++) {
		struct agent_pair *p = agent_pairs_at(pairs, i);

		for (size_t j = 0; j < p->nwin; j++) {
			struct agent_window *w = p->win[j], *nw;
			struct ck_ref *r = ref_find(&ck->windows, w), keep = { 0 }, *nr;

			if (w->updates == (r ? r->committed : 0))
				continue; /* nothing counted since its commit */
			if (!(nw = as_committed(ck, w, r)))
				continue; /* no memory: left as it is (counted again, at least once)
					   */
			if (r) {
				keep = *r;
				r->snap = NULL;
				ref_drop(&ck->windows, w);
			}
			p->win[j] = nw;
			agent_window_free(w);
			n++;
			if (!(nr = ref_get(&ck->windows, nw))) {
				free(keep.snap);
				continue;
			}
			keep.at = nw;
			*nr = keep;
			nr->flag =
			    1; /* the partitions' next owners count the rest: not ours alone */
		}
	}
	for (size_t i = 0; i < ck->nstreams; i++) { /* read again from there by whoever owns it */
		struct ck_stream *cs = &ck->streams[i];
		int64_t from = cs->saved_offset >= 0 ? cs->saved_offset : cs->first_offset;

		if (cs->next_offset == cs->saved_offset)
			continue; /* nothing taken since its commit */
		cs->next_offset = cs->saved_offset;
		if (fn && from >= 0)
			fn(arg, cs->id, cs->name, from);
	}
	return n;
}

int64_t agent_ckpt_failing_ms(const struct agent_ckpt *ck, int64_t now)
{
	return ck->failing_since == INT64_MIN ? 0 : now - ck->failing_since;
}
