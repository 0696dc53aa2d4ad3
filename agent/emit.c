/*
 * emit.c -- the outbox, the latch and hold kept in memory, cooldowns (see emit.h).
 *
 * An entry of the outbox goes CLAIM (not claimed yet: the store failed) -> READY (claimed, to
 * send) -> FLIGHT (handed to the sink, under the send lock) -> DONE (delivered: history, the
 * store told) -> gone. A failed outcome or refusal goes back to READY; an entry found already
 * delivered by another agent leaves at once.
 */
#include "agent/emit.h"
#include "agent/decide.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/timefmt.h"
#include "agent/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OUTBOX_SCOPE "outbox" /* the store's lock scope of the send locks */

enum state { ST_CLAIM, ST_READY, ST_FLIGHT, ST_DONE };

struct entry {
	char *model, *json;
	size_t len;
	struct agent_event_attrs a; /* id, headers, from_version */
	char *latch;		    /* the version it latches, or NULL */
	enum state st;
	uint64_t token;	 /* of the send in flight */
	unsigned tries;	 /* sends tried */
	int locked;	 /* we hold its send lock (taken or renewed at lock_ms) */
	int history;	 /* its history entry is written */
	int64_t lock_ms; /* when the lock was taken or last renewed */
	int64_t next_ms; /* not tried again before */
	int64_t sent_ms; /* when handed to the sink */
};

struct latch {
	char *model, *version;
	int on;	   /* latched, as far as we know */
	int dirty; /* not written to the store yet */
};

struct held {
	char *model;
	int on; /* the last hold read from the store */
};

struct cooldown {
	char *model;
	int64_t last_end_ms; /* window end of its last rollback */
};

struct agent_emitter {
	struct conn_store *store; /* borrowed */
	struct conn_sink *sink;	  /* borrowed */
	struct agent_counters *k; /* borrowed */
	char *owner;
	struct entry *q; /* AGENT_PENDING_MAX slots, in the order decided */
	size_t nq;
	uint64_t next_token;
	int64_t last_adopt; /* INT64_MIN: never */
	struct latch *latches;
	size_t nlatches;
	struct held *holds;
	size_t nholds;
	struct cooldown *cool;
	size_t ncool;
};

struct agent_emitter *agent_emitter_new(struct conn_store *store, struct conn_sink *sink,
					struct agent_counters *k, const char *owner)
{
	struct agent_emitter *em = calloc(1, sizeof *em);

	if (!em || !(em->q = calloc(AGENT_PENDING_MAX, sizeof *em->q)) ||
	    !(em->owner = strdup(owner))) {
		if (em)
			free(em->q);
		free(em);
		return NULL;
	}
	em->store = store;
	em->sink = sink;
	em->k = k;
	em->last_adopt = INT64_MIN;
	return em;
}

static void entry_free(struct entry *e)
{
	free(e->model);
	free(e->json);
	free(e->latch);
	agent_event_attrs_free(&e->a);
}

void agent_emitter_free(struct agent_emitter *em)
{
	if (!em)
		return;
	for (size_t i = 0; i < em->nq; i++)
		entry_free(&em->q[i]);
	free(em->q);
	for (size_t i = 0; i < em->nlatches; i++) {
		free(em->latches[i].model);
		free(em->latches[i].version);
	}
	free(em->latches);
	for (size_t i = 0; i < em->nholds; i++)
		free(em->holds[i].model);
	free(em->holds);
	for (size_t i = 0; i < em->ncool; i++)
		free(em->cool[i].model);
	free(em->cool);
	free(em->owner);
	free(em);
}

int agent_emitter_owner(struct agent_emitter *em, const char *owner)
{
	char *o = strdup(owner);

	if (!o)
		return -1;
	free(em->owner);
	em->owner = o;
	return 0;
}

size_t agent_emit_pending(const struct agent_emitter *em)
{
	return em->nq;
}

static int64_t now_ms(void)
{
	return agent_time_mono_ms(); /* its times are all durations: leases, retries, waits */
}

/* ---- the latch and hold in memory ---- */

static struct latch *latch_of(struct agent_emitter *em, const char *model, const char *version,
			      int create)
{
	struct latch *g;

	for (size_t i = 0; i < em->nlatches; i++)
		if (!strcmp(em->latches[i].model, model) &&
		    !strcmp(em->latches[i].version, version))
			return &em->latches[i];
	if (!create)
		return NULL;
	g = realloc(em->latches, (em->nlatches + 1) * sizeof *g);
	if (!g)
		return NULL;
	em->latches = g;
	g = &g[em->nlatches];
	*g = (struct latch){ strdup(model), strdup(version), 0, 0 };
	if (!g->model || !g->version) {
		free(g->model);
		free(g->version);
		return NULL;
	}
	em->nlatches++;
	return g;
}

/* A version decided: latched in memory now. Its event not claimed in the store yet, the store's
 * latch waits (latch_now, latch_write_back): a crash between a stored latch and the claim
 * would leave the version latched with no event, and its decision, made again after the
 * restart, blocked by the latch. */
static struct latch *latch_mem(struct agent_emitter *em, const char *model, const char *version)
{
	struct latch *l = latch_of(em, model, version, 1);

	if (!l) {
		agent_log(AGENT_LOG_CRIT, "events", "out of memory latching %s %s", model, version);
		return NULL;
	}
	l->on = 1;
	l->dirty = 1;
	return l;
}

/* A version decided, its event claimed: latched in memory now, in the store as soon as it
 * answers. */
static void latch_now(struct agent_emitter *em, const char *model, const char *version)
{
	struct latch *l = latch_mem(em, model, version);

	if (!l)
		return;
	if (conn_store_latch_set(em->store, model, version, 1) == 0) {
		l->dirty = 0;
		return;
	}
	em->k->event_errors++;
	agent_log(AGENT_LOG_ERR, "store",
		  "latch %s %s: %s (latched in memory, written when the store answers)", model,
		  version, conn_store_error(em->store));
}

/* Whether the event that latches (model, version) still waits for its claim. */
static int claim_waits(const struct agent_emitter *em, const char *model, const char *version)
{
	for (size_t i = 0; i < em->nq; i++)
		if (em->q[i].st == ST_CLAIM && em->q[i].latch && !strcmp(em->q[i].latch, version) &&
		    !strcmp(em->q[i].model, model))
			return 1;
	return 0;
}

static void latch_write_back(struct agent_emitter *em)
{
	for (size_t i = 0; i < em->nlatches; i++) {
		struct latch *l = &em->latches[i];

		if (!l->dirty || claim_waits(em, l->model, l->version) ||
		    conn_store_latch_set(em->store, l->model, l->version, 1) < 0)
			continue;
		l->dirty = 0;
		agent_log(AGENT_LOG_NOTICE, "store", "latch %s %s written back", l->model,
			  l->version);
	}
}

void agent_emit_flags(struct agent_emitter *em, const char *model, const char *version,
		      int store_lost, int *hold, int *latched)
{
	struct latch *l = latch_of(em, model, version, 0);
	struct held *h = NULL;
	int on = 0;

	for (size_t i = 0; i < em->nholds; i++)
		if (!strcmp(em->holds[i].model, model))
			h = &em->holds[i];
	if (conn_store_hold_get(em->store, model, &on) == 0) {
		struct held *g;

		*hold = on;
		if (h) {
			h->on = on;
		} else if ((g = realloc(em->holds, (em->nholds + 1) * sizeof *g))) {
			em->holds = g;
			if ((g[em->nholds].model = strdup(model))) {
				g[em->nholds].on = on;
				em->nholds++;
			}
		}
	} else {
		em->k->store_errors++;
		*hold = h ? h->on : 0;
	}
	if (conn_store_latch_get(em->store, model, version, &on) == 0) {
		if (l && l->on && !on && store_lost)
			l->dirty = 1; /* an emptied store forgot it: ours is right, written back */
		if (l && !l->dirty)
			l->on = on; /* the store rules once written: `driftctl rearm` clears it */
		*latched = on || (l && l->dirty && l->on);
	} else {
		em->k->store_errors++;
		*latched = l && l->on;
	}
}

/* ---- the outbox ---- */

static struct entry *find(struct agent_emitter *em, const char *id)
{
	for (size_t i = 0; i < em->nq; i++)
		if (!strcmp(em->q[i].a.id, id))
			return &em->q[i];
	return NULL;
}

/* The version an event latches: a rollback's or needs_target's from_version. */
static const char *latches(const struct agent_event_attrs *a)
{
	return a->from_version && (!strcmp(a->type, AGENT_EVENT_ROLLBACK) ||
				   !strcmp(a->type, AGENT_EVENT_NEEDS_TARGET))
		   ? a->from_version
		   : NULL;
}

/* A new entry for the event json of model, in state st; NULL when full, short of memory or
 * json is no event (logged). */
static struct entry *add(struct agent_emitter *em, const char *model, const char *json, size_t len,
			 enum state st)
{
	struct entry *e;

	if (em->nq == AGENT_PENDING_MAX) {
		agent_log(AGENT_LOG_CRIT, "events", "outbox full (%d events in memory)",
			  AGENT_PENDING_MAX);
		return NULL;
	}
	e = &em->q[em->nq];
	memset(e, 0, sizeof *e);
	if (agent_event_attrs_parse(&e->a, json, len) < 0) {
		agent_log(AGENT_LOG_ERR, "events", "an outbox entry of %s is no event: dropped",
			  model);
		return NULL;
	}
	e->model = strdup(model);
	e->json = agent_strndup(json, len);
	e->latch = latches(&e->a) ? strdup(latches(&e->a)) : NULL;
	if (!e->model || !e->json || (latches(&e->a) && !e->latch)) {
		entry_free(e);
		agent_log(AGENT_LOG_CRIT, "events", "out of memory keeping an event of %s", model);
		return NULL;
	}
	e->len = len;
	e->st = st;
	em->nq++;
	return e;
}

/* Releases e's send lock (a failure leaves it to expire). */
static void unlock(struct agent_emitter *em, struct entry *e)
{
	if (e->locked)
		conn_store_unlock(em->store, OUTBOX_SCOPE, e->a.id, em->owner);
	e->locked = 0;
}

static void drop(struct agent_emitter *em, struct entry *e)
{
	size_t i = (size_t)(e - em->q);

	unlock(em, e);
	entry_free(e);
	memmove(&em->q[i], &em->q[i + 1], (em->nq - i - 1) * sizeof *e);
	em->nq--;
}

/* Replaces e's event by the one stored with its claim (another agent's, maybe). 0, -1. */
static int take_stored(struct entry *e, struct conn_blob *model, struct conn_blob *doc)
{
	struct agent_event_attrs a;

	if (agent_event_attrs_parse(&a, doc->data, doc->len) < 0) {
		agent_log(AGENT_LOG_ERR, "events", "%s: the stored event is no event", e->a.id);
		return -1;
	}
	agent_event_attrs_free(&e->a);
	e->a = a;
	free(e->model);
	free(e->json);
	e->model = model->data;
	e->json = doc->data;
	e->len = doc->len;
	return 0;
}

/* Claims e: READY when claimed now, CLAIM again when the store failed; when it was claimed
 * before, READY when still pending in the store's outbox (its stored event taken), else gone
 * (*gone = 1). The enum agent_emit of it. */
static enum agent_emit claim(struct agent_emitter *em, struct entry *e, int *gone)
{
	struct conn_blob m, d;
	int rc = conn_store_outbox_claim(em->store, e->a.id, e->model, e->json, e->len);

	*gone = 0;
	if (rc < 0) {
		em->k->event_errors++;
		agent_log(AGENT_LOG_ERR, "store",
			  "outbox claim %s: %s (kept in memory, claimed when the store answers)",
			  e->a.id, conn_store_error(em->store));
		e->st = ST_CLAIM;
		return AGENT_EMIT_KEPT;
	}
	if (e->latch) /* the claim is stored (now, or before a crash): the latch may follow */
		latch_now(em, e->model, e->latch);
	if (rc == 0) {
		e->st = ST_READY;
		return AGENT_EMIT_SENT; /* for now: sent next */
	}
	em->k->duplicates++;
	agent_log(AGENT_LOG_NOTICE, "events", "%s already decided: not emitted again", e->a.id);
	switch (conn_store_outbox_get(em->store, e->a.id, &m, &d)) {
	case CONN_OUTBOX_PENDING:
		/* on the pending list again, in case a crash came between its claim and its index
		 * (store.h): a failure leaves it to this agent's own delivery */
		conn_store_pending_put(em->store, e->a.id, m.data, d.data, d.len);
		if (take_stored(e, &m, &d) == 0) {
			agent_log(AGENT_LOG_NOTICE, "events",
				  "%s still pending in the outbox: delivering it", e->a.id);
			e->st = ST_READY;
			return AGENT_EMIT_DUPLICATE;
		}
		free(m.data);
		free(d.data);
		break;
	case CONN_OUTBOX_ERROR:
		agent_log(AGENT_LOG_WARNING, "store", "outbox %s: %s (the pending list has it)",
			  e->a.id, conn_store_error(em->store));
		break;
	default:
		break;
	}
	drop(em, e);
	*gone = 1;
	return AGENT_EMIT_DUPLICATE;
}

/* Takes or renews e's send lock: 0 held, 1 another agent holds it, -1 store error. */
static int lock(struct agent_emitter *em, struct entry *e, int64_t now)
{
	int rc;

	if (e->locked && now - e->lock_ms < AGENT_OUTBOX_LEASE_MS / 3)
		return 0;
	rc = conn_store_lock(em->store, OUTBOX_SCOPE, e->a.id, em->owner, AGENT_OUTBOX_LEASE_MS);
	if (rc == 0) {
		e->locked = 1;
		e->lock_ms = now;
	} else if (e->locked && now - e->lock_ms >= AGENT_OUTBOX_LEASE_MS) {
		e->locked = 0; /* the lease ran out: another agent may take it now */
	}
	return rc;
}

/* After e's tries-th send failed: when it is tried again (AGENT_RETRY_MIN_MS doubling up to
 * AGENT_RETRY_MAX_MS: a topic the broker refuses for good costs a send every 10 s, not every
 * tick), and whether the failure is logged (the 1st, 2nd, 4th, 8th, ...: every one is counted
 * in event_errors). */
static int retry_later(struct entry *e, int64_t now)
{
	unsigned k = e->tries > 1 ? e->tries - 1 : 0;
	int64_t delay = AGENT_RETRY_MIN_MS << (k < 10 ? k : 10);

	e->next_ms = now + (delay < AGENT_RETRY_MAX_MS ? delay : AGENT_RETRY_MAX_MS);
	return (e->tries & (e->tries - 1)) == 0;
}

/* Sends READY e (its lock taken first; an event delivered meanwhile by another agent leaves):
 * FLIGHT, or READY again. 1 when e left the outbox. */
static int send(struct agent_emitter *em, struct entry *e, int64_t now)
{
	struct conn_header h[AGENT_EVENT_HEADERS];
	int was_locked = e->locked, rc = lock(em, e, now);

	if (rc != 0) {
		if (rc < 0)
			agent_log(AGENT_LOG_WARNING, "store", "outbox lock %s: %s", e->a.id,
				  conn_store_error(em->store));
		e->next_ms = now + 1000;
		return 0;
	}
	if (!was_locked) { /* freshly ours: is it still to deliver? */
		struct conn_blob m, d;
		enum conn_outbox_state st = conn_store_outbox_get(em->store, e->a.id, &m, &d);

		free(m.data);
		free(d.data);
		if (st == CONN_OUTBOX_DELIVERED || st == CONN_OUTBOX_NONE) {
			agent_log(AGENT_LOG_INFO, "events", "%s delivered by another agent",
				  e->a.id);
			drop(em, e);
			return 1;
		}
		if (st == CONN_OUTBOX_ERROR) {
			e->next_ms = now + 1000;
			return 0;
		}
	}
	if (e->tries++)
		em->k->event_retries++;
	agent_event_attrs_headers(&e->a, h);
	e->token = ++em->next_token;
	if (conn_sink_send(em->sink, e->token, e->model, e->json, e->len, h, AGENT_EVENT_HEADERS) ==
	    0) {
		e->st = ST_FLIGHT;
		e->sent_ms = now;
		return 0;
	}
	em->k->event_errors++;
	unlock(em, e); /* nothing in flight: another agent may send it meanwhile */
	if (!retry_later(e, now))
		return 0;
	if (e->tries == 1)
		agent_log(AGENT_LOG_ERR, "events", "%s: %s (kept for retry)", e->a.id,
			  conn_sink_error(em->sink));
	else
		agent_log(AGENT_LOG_WARNING, "events",
			  "%s: retry %u failed: %s (%zu waiting; next in %gs)", e->a.id, e->tries,
			  conn_sink_error(em->sink), em->nq, (double)(e->next_ms - now) / 1000.0);
	return 0;
}

static void on_outcome(void *arg, uint64_t token, const char *err)
{
	struct agent_emitter *em = arg;

	for (size_t i = 0; i < em->nq; i++) {
		struct entry *e = &em->q[i];

		if (e->st != ST_FLIGHT || e->token != token)
			continue;
		if (!err) {
			e->st = ST_DONE;
			return;
		}
		em->k->event_errors++;
		unlock(em, e);
		e->st = ST_READY;
		if (retry_later(e, now_ms()))
			agent_log(AGENT_LOG_WARNING, "events", "%s: %s (sent again in %gs)",
				  e->a.id, err, (double)(e->next_ms - now_ms()) / 1000.0);
		return;
	}
}

/* DONE e: history, the store told; gone. 1 when e left the outbox. */
static int finish(struct agent_emitter *em, struct entry *e)
{
	if (!e->history) {
		if (conn_store_history_append(em->store, e->model, e->json, e->len) < 0) {
			em->k->event_errors++;
			agent_log(AGENT_LOG_ERR, "store", "history %s: %s", e->model,
				  conn_store_error(em->store));
		}
		e->history = 1; /* once: a failed append is not retried */
		em->k->events++;
		if (e->tries > 1)
			agent_log(AGENT_LOG_NOTICE, "events", "delivered %s after retry", e->a.id);
		else
			agent_log(AGENT_LOG_NOTICE, "events", "%s %s", e->a.type, e->a.id);
	}
	if (conn_store_outbox_done(em->store, e->a.id) < 0) {
		agent_log(AGENT_LOG_WARNING, "store", "outbox %s delivered, still pending: %s",
			  e->a.id, conn_store_error(em->store));
		return 0;
	}
	drop(em, e);
	return 1;
}

/* Moves e on as far as it goes now. 1 when e left the outbox. */
static int step(struct agent_emitter *em, struct entry *e, int64_t now)
{
	switch (e->st) {
	case ST_CLAIM: {
		int gone;

		claim(em, e, &gone);
		if (gone)
			return 1;
		if (e->st != ST_READY)
			return 0;
	}
		/* fall through */
	case ST_READY:
		return now >= e->next_ms ? send(em, e, now) : 0;
	case ST_FLIGHT:
		if (now - e->sent_ms > AGENT_OUTBOX_WAIT_MS) {
			em->k->event_errors++;
			agent_log(AGENT_LOG_WARNING, "events",
				  "%s: no outcome after %d s (sent again)", e->a.id,
				  AGENT_OUTBOX_WAIT_MS / 1000);
			e->st = ST_READY;
			return 0;
		}
		if (lock(em, e, now) < 0)
			agent_log(AGENT_LOG_WARNING, "store", "outbox lock %s: %s", e->a.id,
				  conn_store_error(em->store));
		return 0;
	case ST_DONE:
		return finish(em, e);
	}
	return 0;
}

static int adopt_one(void *arg, const char *id, const char *model, const char *doc, size_t len)
{
	agent_emit_restore(arg, id, model, doc, len);
	return 0;
}

void agent_emit_tick(struct agent_emitter *em, int64_t now)
{
	if (em->last_adopt == INT64_MIN || now - em->last_adopt >= AGENT_OUTBOX_ADOPT_MS) {
		em->last_adopt = now;
		if (conn_store_pending_list(em->store, adopt_one, em) < 0)
			agent_log(AGENT_LOG_WARNING, "store", "outbox listing: %s",
				  conn_store_error(em->store));
	}
	conn_sink_poll(em->sink, 0, on_outcome, em);
	for (size_t i = 0; i < em->nq;) {
		size_t n = em->nq;

		step(em, &em->q[i], now);
		if (em->nq == n)
			i++; /* else q[i] left: the next one moved into its slot */
	}
	conn_sink_poll(em->sink, 0, on_outcome, em);
	for (size_t i = 0; i < em->nq;) { /* the outcomes known at once (a file sink) */
		size_t n = em->nq;

		if (em->q[i].st == ST_DONE)
			finish(em, &em->q[i]);
		if (em->nq == n)
			i++;
	}
	latch_write_back(em);
}

size_t agent_emit_drain(struct agent_emitter *em, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	agent_emit_tick(em, now_ms());
	while (em->nq && now_ms() < end) {
		if (conn_sink_in_flight(em->sink)) {
			conn_sink_poll(em->sink, 100, on_outcome, em);
		} else {
			struct timespec ts = { 0, 100 * 1000000L };

			nanosleep(&ts, NULL);
		}
		agent_emit_tick(em, now_ms());
	}
	return em->nq;
}

int agent_emit_restore(struct agent_emitter *em, const char *id, const char *model,
		       const char *json, size_t len)
{
	struct entry *e;

	if (find(em, id))
		return 0;
	e = add(em, model, json, len, ST_READY);
	if (!e)
		return 1;
	if (strcmp(e->a.id, id) != 0) {
		agent_log(AGENT_LOG_ERR, "events", "outbox entry %s holds the event %s: dropped",
			  id, e->a.id);
		drop(em, e);
		return 0;
	}
	agent_log(AGENT_LOG_NOTICE, "events", "%s pending in the outbox: delivering it", id);
	if (e->latch)
		latch_now(em, e->model, e->latch);
	return 0;
}

enum agent_emit agent_emit(struct agent_emitter *em, const char *model, const char *version,
			   const struct agent_event *ev)
{
	struct entry *e;
	enum agent_emit how;
	int64_t now = now_ms();
	int gone;

	if (find(em, ev->id)) { /* decided again while still in our outbox */
		em->k->duplicates++;
		agent_log(AGENT_LOG_NOTICE, "events", "%s already decided: not emitted again",
			  ev->id);
		return AGENT_EMIT_DUPLICATE;
	}
	e = add(em, model, ev->json, ev->len, ST_CLAIM);
	if (!e) {
		em->k->event_errors++;
		return AGENT_EMIT_KEPT;
	}
	(void)version; /* the event's own from_version is latched */
	if (e->latch)  /* decided: latched in memory now, whatever the store can take */
		latch_mem(em, e->model, e->latch);
	how = claim(em, e, &gone);
	if (how != AGENT_EMIT_SENT)
		return how; /* a duplicate pending in the store, or a claim to retry: next tick */
	if (send(em, e, now) == 0 && e->st == ST_FLIGHT) {
		conn_sink_poll(em->sink, 0, on_outcome, em);
		if (e->st == ST_DONE)
			finish(em, e);
		return AGENT_EMIT_SENT;
	}
	return AGENT_EMIT_KEPT;
}

/* ---- cooldowns ---- */

static struct cooldown *cooldown_of(struct agent_emitter *em, const char *model, int create)
{
	struct cooldown *g;

	for (size_t i = 0; i < em->ncool; i++)
		if (!strcmp(em->cool[i].model, model))
			return &em->cool[i];
	if (!create)
		return NULL;
	g = realloc(em->cool, (em->ncool + 1) * sizeof *g);
	if (!g)
		return NULL;
	em->cool = g;
	g[em->ncool].model = strdup(model);
	if (!g[em->ncool].model)
		return NULL;
	g[em->ncool].last_end_ms = INT64_MIN;
	return &g[em->ncool++];
}

int agent_cooldown_known(struct agent_emitter *em, const char *model, int64_t *end_ms)
{
	struct cooldown *c = cooldown_of(em, model, 0);

	if (!c || c->last_end_ms == INT64_MIN)
		return 1;
	*end_ms = c->last_end_ms;
	return 0;
}

int agent_cooldown_get(struct agent_emitter *em, const char *model, int64_t *end_ms)
{
	int64_t stored;
	int rc = conn_store_cooldown_get(em->store, model, &stored);

	/* the store's is every agent's, group's and replay's; ours holds while it fails */
	if (rc == 0)
		agent_cooldown_raise(em, model, stored);
	else if (rc < 0)
		em->k->store_errors++;
	return agent_cooldown_known(em, model, end_ms);
}

int agent_cooldown_set(struct agent_emitter *em, const char *model, int64_t end_ms)
{
	struct cooldown *c = cooldown_of(em, model, 1);

	if (!c)
		return -1;
	c->last_end_ms = end_ms;
	if (conn_store_cooldown_raise(em->store, model, end_ms) < 0) {
		em->k->event_errors++;
		agent_log(AGENT_LOG_ERR, "store", "cooldown %s: %s (kept in memory)", model,
			  conn_store_error(em->store));
	}
	return 0;
}

int agent_cooldown_raise(struct agent_emitter *em, const char *model, int64_t end_ms)
{
	struct cooldown *c = cooldown_of(em, model, 1);

	if (!c)
		return -1;
	if (c->last_end_ms == INT64_MIN || end_ms > c->last_end_ms)
		c->last_end_ms = end_ms;
	return 0;
}
