/*
 * emit.h -- emission: a decided event claimed in the store (so that a decision is emitted once
 * across agents and restarts), handed to the sink, appended to the model's history and, for a
 * rollback or needs_target, the version latched. An event the sink refuses is kept in the
 * queue of refused events (in memory, and in the store's pending list with checkpoints on) and
 * retried on every tick until delivered (every attempt counted in event_retries, every failed
 * one logged at warning). Per model, the end of the window of its last rollback
 * (the cooldown, decide.h). Counts into the engine's counters (events, duplicates,
 * event_errors).
 */
#ifndef DRIFTD_AGENT_EMIT_H
#define DRIFTD_AGENT_EMIT_H

#include "agent/event.h"
#include "connectors/io.h"
#include "connectors/store.h"

#include <stddef.h>
#include <stdint.h>

#define AGENT_PENDING_MAX 1024 /* refused events kept for retry */

struct agent_counters;
struct agent_emitter;

/* store, sink and k are borrowed. NULL on no memory. */
struct agent_emitter *agent_emitter_new(struct conn_store *store, struct conn_sink *sink,
					struct agent_counters *k);
void agent_emitter_free(struct agent_emitter *em);
/* With durable = 1 (checkpoints on), refused events are also kept in the store's pending list. */
void agent_emitter_durable(struct agent_emitter *em, int durable);

enum agent_emit {
	AGENT_EMIT_SENT = 0,  /* handed to the sink (history and latch written) */
	AGENT_EMIT_DUPLICATE, /* its id was claimed before: not emitted */
	AGENT_EMIT_KEPT	      /* the sink refused it: kept for retry */
};
/* Claims ev's id, hands ev to the sink keyed by model, records it. version: latched after a
 * rollback or needs_target (not after a dry run). */
enum agent_emit agent_emit(struct agent_emitter *em, const char *model, const char *version,
			   const struct agent_event *ev);
/* Retries the refused events; those delivered leave the queue (and the store's list). */
void agent_emit_retry(struct agent_emitter *em);
/* Events waiting for retry. */
size_t agent_emit_pending(const struct agent_emitter *em);
/* Adds a refused event to the queue (the restore of the store's pending list: not stored
 * again). 0 added or already there, 1 the queue is full or memory short. */
int agent_emit_restore(struct agent_emitter *em, const char *id, const char *model,
		       const char *json, size_t len);

/* The end of the window of the model's last rollback: 0 with *end_ms, 1 when none. */
int agent_cooldown_get(struct agent_emitter *em, const char *model, int64_t *end_ms);
/* Sets it (a rollback was decided on the window ending at end_ms). -1 on no memory. */
int agent_cooldown_set(struct agent_emitter *em, const char *model, int64_t end_ms);
/* Sets it when later than the one kept, or none is (a state restored from the store). */
int agent_cooldown_raise(struct agent_emitter *em, const char *model, int64_t end_ms);

#endif
