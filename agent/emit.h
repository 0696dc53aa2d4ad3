/*
 * emit.h -- emission through the outbox (doc/delivery.md "The outbox"). A decided event is
 * claimed in the store together with the event itself, in one atomic write
 * (conn_store_outbox_claim), before any send; it is then sent from the outbox, under a lock in
 * the store (so that two agents never send one event at once), and marked delivered only when
 * the sink reports it delivered (Kafka: the broker's acknowledgement). The sink is never given
 * an event again while it still holds it; a refused or failed one is sent again after
 * AGENT_RETRY_MIN_MS, doubling up to AGENT_RETRY_MAX_MS (every retry counted in event_retries,
 * every failure in event_errors, and the 1st, 2nd, 4th, 8th, ... logged). Events pending
 * in the store -- decided by an agent that died, or by us before a restart -- are adopted from
 * the store's pending list every AGENT_OUTBOX_ADOPT_MS and sent the same way.
 *
 * The latch (a version's rollback decided) is kept in memory as well as in the store, from the
 * moment of the claim: while the store cannot be written or read, the memory rules, and it is
 * written back when the store returns. The hold of a model is read from the store and the
 * last value read is used while the store fails. Per model, the end of the window of its last
 * rollback (the cooldown, decide.h). Counts into the engine's counters (events, duplicates,
 * event_errors, event_retries, store_errors).
 */
#ifndef DRIFTD_AGENT_EMIT_H
#define DRIFTD_AGENT_EMIT_H

#include "agent/event.h"
#include "connectors/io.h"
#include "connectors/store.h"

#include <stddef.h>
#include <stdint.h>

#define AGENT_PENDING_MAX     1024   /* events kept in the outbox in memory */
#define AGENT_OUTBOX_ADOPT_MS 10000  /* how often the store's pending list is read */
#define AGENT_OUTBOX_LEASE_MS 10000  /* the send lock's lease, renewed while held */
#define AGENT_OUTBOX_WAIT_MS  600000 /* an outcome not reported by then counts as failed */
#define AGENT_RETRY_MIN_MS    100    /* a failed send is tried again after this, doubling */
#define AGENT_RETRY_MAX_MS    10000  /* up to this */

struct agent_counters;
struct agent_emitter;

/* store, sink and k are borrowed; owner names this agent in the send locks (1..255 bytes).
 * NULL on no memory. */
struct agent_emitter *agent_emitter_new(struct conn_store *store, struct conn_sink *sink,
					struct agent_counters *k, const char *owner);
void agent_emitter_free(struct agent_emitter *em);
/* Renames this agent in the locks taken from now on (the checkpoint instance). -1 no memory. */
int agent_emitter_owner(struct agent_emitter *em, const char *owner);

enum agent_emit {
	AGENT_EMIT_SENT = 0,  /* claimed and handed to the sink (a file has it; Kafka: in flight) */
	AGENT_EMIT_DUPLICATE, /* its id was claimed before: not emitted (a pending one is
			       * delivered from the outbox) */
	AGENT_EMIT_KEPT	      /* in the outbox, to send on a later tick (the store or the sink
			       * failed now) */
};
/* Claims ev's id with the event, latches version (after a rollback or needs_target, not a dry
 * run) and sends it. */
enum agent_emit agent_emit(struct agent_emitter *em, const char *model, const char *version,
			   const struct agent_event *ev);
/* Outcomes, claims and sends still to do, lock renewals, latches to write back, and every
 * AGENT_OUTBOX_ADOPT_MS the store's pending list, at now_ms on the monotonic clock
 * (agent_time_mono_ms). Never blocks on the sink. */
void agent_emit_tick(struct agent_emitter *em, int64_t now_ms);
/* Ticks until the outbox in memory is empty or timeout_ms passed (waiting on the sink between
 * ticks); the events left (still pending in the store when they were claimed). */
size_t agent_emit_drain(struct agent_emitter *em, int timeout_ms);
/* Events in the outbox in memory (not delivered yet). */
size_t agent_emit_pending(const struct agent_emitter *em);
/* Adopts an event pending in the store (its restore or listing): 0 added or already there, 1
 * the outbox is full or memory short. */
int agent_emit_restore(struct agent_emitter *em, const char *id, const char *model,
		       const char *json, size_t len);

/* The hold of model and the latch of (model, version) for a decision: the store's, the memory's
 * while the store fails (a failed read counted in store_errors), a latch is not written back
 * yet, or (store_lost) the store was emptied and forgot a latch (then written back). */
void agent_emit_flags(struct agent_emitter *em, const char *model, const char *version,
		      int store_lost, int *hold, int *latched);

/* The end of the window of the model's last rollback: the later of the store's (shared by every
 * agent, group and replay: conn_store_cooldown_get) and ours; 0 with *end_ms, 1 when none. */
int agent_cooldown_get(struct agent_emitter *em, const char *model, int64_t *end_ms);
/* The same from memory only (no store call: what a checkpoint records). */
int agent_cooldown_known(struct agent_emitter *em, const char *model, int64_t *end_ms);
/* Sets it (a rollback was decided on the window ending at end_ms), in the store too (raised
 * only: a failure logged, ours kept). -1 on no memory. */
int agent_cooldown_set(struct agent_emitter *em, const char *model, int64_t end_ms);
/* Sets it when later than the one kept, or none is (a state restored from the store). */
int agent_cooldown_raise(struct agent_emitter *em, const char *model, int64_t end_ms);

#endif
