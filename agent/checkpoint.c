/*
 * checkpoint.c -- exactly-once accounting: the engine's partial windows, stream offsets and
 * decision states committed together to the store, restored at start, merged at decision time
 * (see engine.h "exactly-once checkpoints" and doc/delivery.md).
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
 */
#include "agent/engine_impl.h"
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

struct ckpt {
	char *scope, *instance;
	int64_t interval_ms;
	int64_t lock_ttl_ms;	      /* how long a window's lock is held (LOCK_TTL_MS) */
	int64_t last_commit;	      /* wall ms of the last commit attempt */
	struct conn_ckpt_item *drops; /* window keys decided since the last commit (keys owned) */
	size_t ndrops, capdrops;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- keys ---- */

/* MODEL \0 VERSION [\0 START]: a malloc'd key and its length, or NULL. */
static char *make_key(const struct pair *p, const struct agent_window *w, size_t *len)
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

static int encode_state(struct agent_engine *e, const struct pair *p, char *out, size_t cap)
{
	int64_t *cool = engine_cooldown(e, p->model);
	size_t o;

	o = (size_t)snprintf(out, cap, "1 %" PRId64 " %d ", p->closed_upto, p->any_closed);
	if (cool && *cool != INT64_MIN)
		o += (size_t)snprintf(out + o, cap - o, "%" PRId64, *cool);
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
static void apply_state(struct agent_engine *e, struct pair *p, const struct pair_state *ps)
{
	p->closed_upto = ps->closed_upto;
	p->any_closed = ps->any_closed;
	p->streaks = ps->streaks;
	if (ps->cool != INT64_MIN) {
		int64_t *c = engine_cooldown(e, p->model);

		if (c && (*c == INT64_MIN || ps->cool > *c))
			*c = ps->cool;
	}
}

/* ---- restore ---- */

static int restore_state(void *arg, const char *key, size_t klen, const char *blob, size_t len)
{
	struct agent_engine *e = arg;
	const char *m, *v;
	size_t ml, vl;
	struct pair *p;

	struct pair_state ps;

	if (split_key(key, klen, 0, &m, &ml, &v, &vl, NULL) < 0 ||
	    parse_state(blob, len, &ps) < 0 || !(p = engine_pair(e, m, ml, v, vl))) {
		e->k.partials_refused++;
		agent_log(AGENT_LOG_WARNING, "checkpoint", "a stored decision state is unusable");
		return 0;
	}
	apply_state(e, p, &ps);
	return 0;
}

static int restore_window(void *arg, const char *key, size_t klen)
{
	struct agent_engine *e = arg;
	const char *m, *v;
	size_t ml, vl;
	int64_t start;
	struct pair *p;
	struct agent_window *w;
	int late;

	if (split_key(key, klen, 1, &m, &ml, &v, &vl, &start) < 0 ||
	    !(p = engine_pair(e, m, ml, v, vl))) {
		e->k.partials_refused++;
		return 0;
	}
	w = engine_window(e, p, start, &late);
	if (w) {
		w->remote = 1;
		if (w->start_ms != start) /* another window length: not ours to decide */
			e->k.partials_refused++;
	}
	return 0;
}

static int restore_pending(void *arg, const char *id, const char *model, const char *doc,
			   size_t len)
{
	struct agent_engine *e = arg;
	struct pending_event *pe;

	if (e->npending == PENDING_MAX)
		return 1;
	for (size_t i = 0; i < e->npending; i++)
		if (!strcmp(e->pending[i].id, id))
			return 0;
	pe = &e->pending[e->npending];
	pe->key = strdup(model);
	pe->model = strdup(model);
	pe->id = strdup(id);
	pe->json = agent_strndup(doc, len);
	pe->len = len;
	if (pe->key && pe->model && pe->id && pe->json) {
		e->npending++;
		return 0;
	}
	free(pe->key);
	free(pe->model);
	free(pe->id);
	free(pe->json);
	return 1;
}

int agent_engine_checkpoints(struct agent_engine *e, const char *scope, const char *instance,
			     int64_t interval_ms, char *err, size_t errlen)
{
	struct ckpt *ck = e->ck;

	if (!ck) {
		ck = calloc(1, sizeof *ck);
		if (!ck || !(ck->scope = strdup(scope)) || !(ck->instance = strdup(instance))) {
			if (ck)
				free(ck->scope);
			free(ck);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		ck->interval_ms = interval_ms;
		ck->lock_ttl_ms = LOCK_TTL_MS;
	}
	/* states first: they say which windows are already closed */
	if (conn_store_ckpt_states(e->store, scope, restore_state, e) < 0 ||
	    conn_store_ckpt_windows(e->store, scope, restore_window, e) < 0 ||
	    conn_store_pending_list(e->store, restore_pending, e) < 0) {
		snprintf(err, errlen, "restoring checkpoints: %s", conn_store_error(e->store));
		if (!e->ck) {
			free(ck->scope);
			free(ck->instance);
			free(ck);
		}
		return -1;
	}
	e->ck = ck;
	ck->last_commit = agent_time_now_ms();
	return 0;
}

void agent_engine_checkpoint_lock_ttl(struct agent_engine *e, int64_t ms)
{
	if (e->ck && ms > 0)
		e->ck->lock_ttl_ms = ms;
}

void ckpt_free(struct agent_engine *e)
{
	struct ckpt *ck = e->ck;

	if (!ck)
		return;
	for (size_t i = 0; i < ck->ndrops; i++)
		free((char *)ck->drops[i].key);
	free(ck->drops);
	free(ck->scope);
	free(ck->instance);
	free(ck);
	e->ck = NULL;
}

/* ---- offsets ---- */

/* A stream's name in the store: "TOPIC/PARTITION". */
static void stream_name(char *buf, size_t cap, const char *topic, int32_t partition)
{
	snprintf(buf, cap, "%s/%" PRId32, topic, partition);
}

/* The mark of m's stream, named (NULL beyond the bound or on no memory). */
static struct stream_mark *named_stream(struct agent_engine *e, const struct conn_msg *m)
{
	struct stream_mark *sm = engine_stream(e, m->stream);
	char name[600];

	if (!sm || sm->name)
		return sm;
	stream_name(name, sizeof name, m->topic, m->partition);
	sm->name = strdup(name);
	return sm->name ? sm : NULL;
}

void ckpt_note_offset(struct agent_engine *e, const struct conn_msg *m)
{
	struct stream_mark *sm = named_stream(e, m);

	if (sm)
		sm->next_offset = m->offset + 1;
}

struct offset_query {
	const char *name;
	int64_t next, hwm;
	int found;
};

static int find_offset(void *arg, const struct conn_ckpt_offset *o)
{
	struct offset_query *q = arg;

	if (strcmp(o->stream, q->name) != 0)
		return 0;
	q->next = o->next_offset;
	q->hwm = o->hwm_ms;
	q->found = 1;
	return 1;
}

void ckpt_hello(struct agent_engine *e, const struct conn_msg *m)
{
	struct stream_mark *sm = named_stream(e, m);
	struct offset_query q = { 0 };

	if (!sm)
		return;
	q.name = sm->name;
	if (conn_store_ckpt_offsets(e->store, e->ck->scope, find_offset, &q) == 0 && q.found) {
		if (sm->next_offset < 0)
			sm->next_offset = q.next;
		sm->stored_hwm = q.hwm;
	}
	sm->announce = 1;
}

int agent_engine_resume_offset(struct agent_engine *e, const char *topic, int32_t partition,
			       int64_t *next)
{
	char name[600];
	struct offset_query q = { name, 0, 0, 0 };

	if (!e->ck)
		return 1;
	stream_name(name, sizeof name, topic, partition);
	/* a connection broken since the last call fails once, then reconnects: try three times */
	for (int attempt = 0;; attempt++) {
		if (conn_store_ckpt_offsets(e->store, e->ck->scope, find_offset, &q) == 0)
			break;
		if (attempt == 2)
			return -1;
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	if (!q.found || q.next < 0) /* none, or assigned once and never read */
		return 1;
	*next = q.next;
	return 0;
}

void agent_engine_stream_gone(struct agent_engine *e, uint32_t stream)
{
	for (size_t i = 0; i < e->nstreams; i++) {
		if (e->streams[i].id != stream)
			continue;
		free(e->streams[i].name);
		e->streams[i] = e->streams[--e->nstreams];
		e->last_stream = 0;
		return;
	}
}

void agent_engine_committed_offsets(struct agent_engine *e, agent_offset_fn fn, void *arg)
{
	for (size_t i = 0; i < e->nstreams; i++) {
		struct stream_mark *sm = &e->streams[i];

		if (sm->name && sm->saved_offset >= 0 && sm->saved_offset != sm->told_offset) {
			fn(arg, sm->name, sm->saved_offset);
			sm->told_offset = sm->saved_offset;
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
	struct pair **spairs; /* pairs whose state is in this commit */
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

/* Gathers what changed since the last commit into b; -1 on no memory. */
static int gather(struct agent_engine *e, struct commit_buf *b)
{
	size_t nwin = 0;
	int64_t now = agent_time_now_ms();

	for (size_t i = 0; i < e->npairs; i++)
		for (size_t j = 0; j < e->pairs[i].nwin; j++)
			nwin += e->pairs[i].win[j]->dirty;
	b->partials = calloc(nwin ? nwin : 1, sizeof *b->partials);
	b->dirty = calloc(nwin ? nwin : 1, sizeof *b->dirty);
	b->states = calloc(e->npairs ? e->npairs : 1, sizeof *b->states);
	b->spairs = calloc(e->npairs ? e->npairs : 1, sizeof *b->spairs);
	b->sbuf = calloc(e->npairs ? e->npairs : 1, sizeof *b->sbuf);
	b->offsets = calloc(e->nstreams ? e->nstreams : 1, sizeof *b->offsets);
	if (!b->partials || !b->dirty || !b->states || !b->spairs || !b->sbuf || !b->offsets)
		return -1;
	for (size_t i = 0; i < e->npairs; i++) {
		struct pair *p = &e->pairs[i];

		for (size_t j = 0; j < p->nwin; j++) {
			struct agent_window *w = p->win[j];
			struct conn_ckpt_item *it = &b->partials[b->npartials];
			uint8_t *blob;
			size_t len, klen;

			if (!w->dirty)
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
		if (p->state_dirty) {
			struct conn_ckpt_item *it = &b->states[b->nstates];
			int n = encode_state(e, p, b->sbuf[b->nstates], STATE_MAX);
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
	for (size_t i = 0; i < e->nstreams; i++) {
		struct stream_mark *sm = &e->streams[i];

		int64_t hwm = sm->max_ts == INT64_MIN ? -1 : sm->max_ts;

		if (hwm < sm->stored_hwm)
			hwm = sm->stored_hwm;
		if (!sm->name ||
		    (!sm->announce && (sm->next_offset < 0 || sm->next_offset == sm->saved_offset)))
			continue;
		/* labels hold no time; a stream with no record yet holds it from its last stored
		 * mark (-1: all of it) */
		b->offsets[b->noffsets++] =
		    (struct conn_ckpt_offset){ .stream = sm->name,
					       .next_offset = sm->next_offset,
					       .hwm_ms = sm->labels ? INT64_MAX : hwm,
					       .updated_ms = now };
	}
	return 0;
}

int agent_engine_checkpoint(struct agent_engine *e, int force)
{
	struct ckpt *ck = e->ck;
	struct commit_buf b = { 0 };
	struct conn_ckpt c;
	int64_t now;
	uint64_t t0;
	int rc = -1;

	if (!ck)
		return 0;
	now = agent_time_now_ms();
	if (!force && now - ck->last_commit < ck->interval_ms)
		return 0;
	ck->last_commit = now;
	t0 = now_ns();
	if (gather(e, &b) < 0) {
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
	if (conn_store_ckpt_commit(e->store, ck->scope, &c) < 0) {
		agent_log(AGENT_LOG_WARNING, "checkpoint", "not committed (retried): %s",
			  conn_store_error(e->store));
		goto done;
	}
	for (size_t i = 0; i < b.ndirty; i++)
		b.dirty[i]->dirty = 0;
	for (size_t i = 0; i < b.nstates; i++)
		b.spairs[i]->state_dirty = 0;
	for (size_t i = 0; i < e->nstreams; i++) {
		e->streams[i].announce = 0;
		if (e->streams[i].name && e->streams[i].next_offset >= 0)
			e->streams[i].saved_offset = e->streams[i].next_offset;
	}
	for (size_t i = 0; i < ck->ndrops; i++)
		free((char *)ck->drops[i].key);
	ck->ndrops = 0;
	e->k.checkpoints++;
	rc = 0;
done:
	if (rc < 0)
		e->k.checkpoint_errors++;
	commit_buf_free(&b);
	e->k.checkpoint_ns += now_ns() - t0;
	return rc;
}

/* ---- deciding ---- */

struct merge_ctx {
	struct agent_engine *e;
	struct agent_window *w;
	int failed;
};

static int merge_partial(void *arg, const char *name, size_t nlen, const char *blob, size_t len)
{
	struct merge_ctx *mc = arg;
	struct agent_engine *e = mc->e;
	char err[160];

	if (nlen == strlen(e->ck->instance) && !memcmp(name, e->ck->instance, nlen))
		return 0; /* our own: a snapshot of what w holds */
	if (agent_window_decode_merge(mc->w, (const uint8_t *)blob, len, e->c->max_categories, err,
				      sizeof err) < 0) {
		e->k.partials_refused++;
		agent_log(AGENT_LOG_WARNING, "checkpoint", "%.*s: %s",
			  (int)(nlen > 128 ? 128 : nlen), name, err);
		return 0;
	}
	e->k.partials_merged++;
	return 0;
}

/* Other agents' streams: a window waits until each stream another agent committed recently
 * (within AGENT_STREAM_IDLE_MS) has a high-water mark past the window's end plus the grace, so
 * that their counts of it are all in their committed partials. */
struct hold_query {
	const struct agent_engine *e;
	int64_t need, now;
	const char *holder;
	char name[160];
};

static int check_hold(void *arg, const struct conn_ckpt_offset *o)
{
	struct hold_query *q = arg;

	for (size_t i = 0; i < q->e->nstreams; i++)
		if (q->e->streams[i].name && !strcmp(q->e->streams[i].name, o->stream))
			return 0; /* ours: our own watermark covers it */
	if (o->updated_ms < q->now - AGENT_STREAM_IDLE_MS || o->hwm_ms >= q->need)
		return 0;
	snprintf(q->name, sizeof q->name, "%s", o->stream);
	q->holder = q->name;
	return 1;
}

struct state_query {
	const char *key;
	size_t klen;
	struct pair_state ps;
	int found;
};

static int find_state(void *arg, const char *key, size_t klen, const char *blob, size_t len)
{
	struct state_query *q = arg;

	if (klen != q->klen || memcmp(key, q->key, klen))
		return 0;
	q->found = parse_state(blob, len, &q->ps) == 0;
	return 1;
}

/* Reads p's stored decision state. 1 when it says w is decided already (by another agent, or
 * before a restart): p takes the state over, so that this agent's next commit does not move it
 * back. Else 0; a state of later windows than p knows (another agent decided them) is taken
 * over too, so that the streaks continue. -1 when the store cannot be read. */
static int stored_state(struct agent_engine *e, struct pair *p, const struct agent_window *w,
			const char *pkey, size_t plen)
{
	struct state_query q = { .key = pkey, .klen = plen };

	if (conn_store_ckpt_states(e->store, e->ck->scope, find_state, &q) < 0)
		return -1;
	if (!q.found || !q.ps.any_closed)
		return 0;
	if (q.ps.closed_upto >= w->end_ms) {
		apply_state(e, p, &q.ps);
		e->k.windows_skipped++;
		return 1;
	}
	if (!p->any_closed || q.ps.closed_upto > p->closed_upto)
		apply_state(e, p, &q.ps);
	return 0;
}

int ckpt_before_close(struct agent_engine *e, struct pair *p, struct agent_window *w)
{
	struct ckpt *ck = e->ck;
	size_t klen, plen;
	char *key = make_key(p, w, &klen), *pkey = make_key(p, NULL, &plen);
	struct merge_ctx mc = { e, w, 0 };
	struct hold_query hq = { 0 };
	char lock[320]; /* a C string: "MLEN:MODEL" "VLEN:VERSION" START */
	int rc, how = 0;

	if (!key || !pkey) {
		how = w->remote ? 2 : 0;
		goto out;
	}
	hq.e = e;
	hq.need = w->end_ms + e->grace_ms;
	hq.now = agent_time_now_ms();
	if (conn_store_ckpt_offsets(e->store, ck->scope, check_hold, &hq) == 0 && hq.holder) {
		agent_log(AGENT_LOG_DEBUG, "checkpoint", "%s %s: waiting for %s", p->model,
			  p->version, hq.holder);
		how = 2;
		goto out;
	}
	/* decided already? (then no lock is needed; checked again under the lock) */
	if (stored_state(e, p, w, pkey, plen) == 1) {
		how = 1;
		goto out;
	}
	snprintf(lock, sizeof lock, "%zu:%s%zu:%s%" PRId64, p->mlen, p->model, p->vlen, p->version,
		 w->start_ms);
	rc = conn_store_lock(e->store, ck->scope, lock, ck->instance, ck->lock_ttl_ms);
	if (rc == 1) { /* another agent is deciding it: wait until its decision is stored (or its
			* lock expires: then this agent decides) */
		how = 2;
		goto out;
	}
	if (rc == 0 && (rc = stored_state(e, p, w, pkey, plen)) == 1) {
		how = 1;
		goto out;
	}
	if (rc == 0 &&
	    conn_store_ckpt_partials(e->store, ck->scope, key, klen, merge_partial, &mc) == 0)
		goto out;
	/* the store cannot be read: decide on our counts when they are all of the window's */
	e->k.store_errors++;
	agent_log(AGENT_LOG_WARNING, "checkpoint", "%s %s: store unreachable (%s): %s", p->model,
		  p->version, conn_store_error(e->store),
		  w->remote ? "decision deferred" : "deciding on this agent's counts");
	how = w->remote ? 2 : 0;
out:
	free(key);
	free(pkey);
	return how;
}

void ckpt_after_close(struct agent_engine *e, struct pair *p, const struct agent_window *w)
{
	struct ckpt *ck = e->ck;
	size_t klen;
	char *key;

	if (ck->ndrops == ck->capdrops) {
		size_t cap = ck->capdrops ? 2 * ck->capdrops : 8;
		struct conn_ckpt_item *g = realloc(ck->drops, cap * sizeof *g);

		if (!g)
			return; /* its partials stay: the closed state keeps it from being decided
				   again */
		ck->drops = g;
		ck->capdrops = cap;
	}
	key = make_key(p, w, &klen);
	if (!key)
		return;
	ck->drops[ck->ndrops++] = (struct conn_ckpt_item){ .key = key, .klen = klen };
}
