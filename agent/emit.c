/*
 * emit.c -- claim, sink, history, latch, the queue of refused events, cooldowns (see emit.h).
 */
#include "agent/emit.h"
#include "agent/decide.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/util.h"

#include <stdlib.h>
#include <string.h>

struct refused {
	char *model, *id, *json;
	size_t len;
};

struct cooldown {
	char *model;
	int64_t last_end_ms; /* window end of its last rollback */
};

struct agent_emitter {
	struct conn_store *store; /* borrowed */
	struct conn_sink *sink;	  /* borrowed */
	struct agent_counters *k; /* borrowed */
	int durable;
	struct refused *q; /* AGENT_PENDING_MAX slots */
	size_t nq;
	struct cooldown *cool;
	size_t ncool;
};

struct agent_emitter *agent_emitter_new(struct conn_store *store, struct conn_sink *sink,
					struct agent_counters *k)
{
	struct agent_emitter *em = calloc(1, sizeof *em);

	if (!em || !(em->q = calloc(AGENT_PENDING_MAX, sizeof *em->q))) {
		free(em);
		return NULL;
	}
	em->store = store;
	em->sink = sink;
	em->k = k;
	return em;
}

static void refused_free(struct refused *r)
{
	free(r->model);
	free(r->id);
	free(r->json);
}

void agent_emitter_free(struct agent_emitter *em)
{
	if (!em)
		return;
	for (size_t i = 0; i < em->nq; i++)
		refused_free(&em->q[i]);
	free(em->q);
	for (size_t i = 0; i < em->ncool; i++)
		free(em->cool[i].model);
	free(em->cool);
	free(em);
}

void agent_emitter_durable(struct agent_emitter *em, int durable)
{
	em->durable = durable;
}

size_t agent_emit_pending(const struct agent_emitter *em)
{
	return em->nq;
}

/* The one constructor of a queued event: 0 queued, 1 full, -1 no memory (nothing queued). */
static int enqueue(struct agent_emitter *em, const char *id, const char *model, const char *json,
		   size_t len)
{
	struct refused *r;

	if (em->nq == AGENT_PENDING_MAX)
		return 1;
	r = &em->q[em->nq];
	r->model = strdup(model);
	r->id = strdup(id);
	r->json = agent_strndup(json, len);
	r->len = len;
	if (!r->model || !r->id || !r->json) {
		refused_free(r);
		return -1;
	}
	em->nq++;
	return 0;
}

int agent_emit_restore(struct agent_emitter *em, const char *id, const char *model,
		       const char *json, size_t len)
{
	for (size_t i = 0; i < em->nq; i++)
		if (!strcmp(em->q[i].id, id))
			return 0;
	return enqueue(em, id, model, json, len) == 0 ? 0 : 1;
}

/* Keeps an event the sink refused, for retry on the next tick. */
static void keep(struct agent_emitter *em, const char *model, const struct agent_event *ev)
{
	int rc = enqueue(em, ev->id, model, ev->json, ev->len);

	if (rc == 1) {
		agent_log(AGENT_LOG_CRIT, "events", "retry queue full: event %s not kept", ev->id);
		return;
	}
	if (rc < 0) {
		agent_log(AGENT_LOG_CRIT, "events", "out of memory: event %s not kept", ev->id);
		return;
	}
	if (em->durable && conn_store_pending_put(em->store, ev->id, model, ev->json, ev->len) < 0)
		agent_log(AGENT_LOG_ERR, "events", "%s kept in memory only: %s", ev->id,
			  conn_store_error(em->store));
}

/* After the sink took an event: history, and the latch for a rollback or needs_target. */
static void after_emit(struct agent_emitter *em, const char *model, const char *version,
		       const char *json, size_t len, const char *type)
{
	em->k->events++;
	if (conn_store_history_append(em->store, model, json, len) < 0) {
		em->k->event_errors++;
		agent_log(AGENT_LOG_ERR, "store", "history %s: %s", model,
			  conn_store_error(em->store));
	}
	if (version && strcmp(type, AGENT_EVENT_DRYRUN) != 0 &&
	    conn_store_latch_set(em->store, model, version, 1) < 0) {
		em->k->event_errors++;
		agent_log(AGENT_LOG_ERR, "store", "latch %s %s: %s", model, version,
			  conn_store_error(em->store));
	}
}

void agent_emit_retry(struct agent_emitter *em)
{
	size_t kept = 0;

	for (size_t i = 0; i < em->nq; i++) {
		struct refused *r = &em->q[i];

		em->k->event_retries++;
		if (conn_sink_emit(em->sink, r->model, r->json, r->len, NULL, 0) == 0) {
			agent_log(AGENT_LOG_NOTICE, "events", "delivered %s after retry", r->id);
			after_emit(em, r->model, NULL, r->json, r->len, "");
			if (em->durable && conn_store_pending_del(em->store, r->id) < 0)
				agent_log(AGENT_LOG_WARNING, "events",
					  "%s delivered, still kept: %s", r->id,
					  conn_store_error(em->store));
			refused_free(r);
		} else {
			agent_log(AGENT_LOG_WARNING, "events", "%s: retry failed: %s (%zu waiting)",
				  r->id, conn_sink_error(em->sink), em->nq);
			em->q[kept++] = *r;
		}
	}
	em->nq = kept;
}

enum agent_emit agent_emit(struct agent_emitter *em, const char *model, const char *version,
			   const struct agent_event *ev)
{
	int claim = conn_store_claim(em->store, ev->id);

	if (claim == 1) {
		em->k->duplicates++;
		agent_log(AGENT_LOG_NOTICE, "events", "%s already decided: not emitted again",
			  ev->id);
		return AGENT_EMIT_DUPLICATE;
	}
	if (claim < 0) {
		em->k->event_errors++;
		agent_log(AGENT_LOG_ERR, "store", "claim %s: %s (emitting anyway)", ev->id,
			  conn_store_error(em->store));
	}
	if (conn_sink_emit(em->sink, model, ev->json, ev->len, ev->headers, AGENT_EVENT_HEADERS) !=
	    0) {
		em->k->event_errors++;
		agent_log(AGENT_LOG_ERR, "events", "%s: %s (kept for retry)", ev->id,
			  conn_sink_error(em->sink));
		keep(em, model, ev);
		return AGENT_EMIT_KEPT;
	}
	after_emit(em, model, version, ev->json, ev->len, ev->type);
	agent_log(AGENT_LOG_NOTICE, "events", "%s %s", ev->type, ev->id);
	return AGENT_EMIT_SENT;
}

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

int agent_cooldown_get(struct agent_emitter *em, const char *model, int64_t *end_ms)
{
	struct cooldown *c = cooldown_of(em, model, 0);

	if (!c || c->last_end_ms == INT64_MIN)
		return 1;
	*end_ms = c->last_end_ms;
	return 0;
}

int agent_cooldown_set(struct agent_emitter *em, const char *model, int64_t end_ms)
{
	struct cooldown *c = cooldown_of(em, model, 1);

	if (!c)
		return -1;
	c->last_end_ms = end_ms;
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
