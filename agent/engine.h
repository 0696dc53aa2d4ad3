/*
 * engine.h -- driftd's engine: messages in, window decisions and rollback events out. It does not
 * know where messages come from (io.h sources) nor where events go (io.h sinks); it reads and
 * writes durable state through the store (store.h). The same engine runs a file replay, Kafka
 * and the demo.
 *
 * Time: a record's time is its "ts", else the transport's timestamp, else the receive time. Each
 * input stream (a Kafka partition; a file is one stream) has its own high-water mark, the largest
 * record time seen on it; the watermark is the smallest of them over the active streams --
 * heard from within the last AGENT_STREAM_IDLE_MS (monotonic clock) and not at their end (a Kafka
 * partition-EOF) -- minus the grace; with no active stream, the largest record time seen minus
 * the grace (so an idle or caught-up partition never holds time back). A window [start, end) of any
 * (model, version) closes when the watermark reaches its end, and is then evaluated (rules.h),
 * decided (decide.h) and, when a rollback fires, turned into an event (event.h) that is claimed
 * in the store (duplicates are dropped), handed to the sink, and appended to the model's
 * history. A record for a window already closed is late: counted, not used.
 * Bounds: at most max_models (model, version) pairs; records of further pairs are rejected
 * ("too_many_models"). Baselines are loaded from the store when a window opens (the last known
 * good version's, or the version's own with baseline = self) and cached.
 */
#ifndef DRIFTD_AGENT_ENGINE_H
#define DRIFTD_AGENT_ENGINE_H

#include "agent/config.h"
#include "agent/decide.h"
#include "agent/rules.h"
#include "connectors/alertmanager.h"
#include "connectors/io.h"
#include "connectors/record.h"
#include "connectors/store.h"

/* Rejections beyond the decoder's (connectors/record.h). */
enum agent_reject {
	AGENT_REJECT_TOO_MANY_MODELS = CONN_REJECT_COUNT,
	AGENT_REJECT_FUTURE_TS,		/* ts beyond max_skew ahead (agent_engine_replay) */
	AGENT_REJECT_TOO_MANY_WINDOWS,	/* its pair has limits.max_open_windows open */
	AGENT_REJECT_MODEL_NOT_ALLOWED, /* its model is not in the `models` list */
	AGENT_REJECT_COUNT
};
const char *agent_reject_name(int reason); /* decoder or engine reason */

struct agent_counters {
	uint64_t records;		       /* messages received */
	uint64_t accepted;		       /* counted in a window */
	uint64_t rejected[AGENT_REJECT_COUNT]; /* by reason ([0] unused) */
	uint64_t late;			       /* for a window already closed */
	uint64_t windows;		       /* windows closed and evaluated */
	uint64_t events;		       /* events handed to the sink */
	uint64_t duplicates;		       /* events suppressed by the store's claim */
	uint64_t event_errors;		       /* sink or store failures on the event path */
	uint64_t event_retries;		       /* deliveries of refused events tried again */
	uint64_t store_errors;		       /* store reads that failed */
	uint64_t dropped_nomem;		       /* records not counted: out of memory */
	uint64_t pairs_evicted;		       /* pairs forgotten with open windows (starved) */
	uint64_t records_evicted;	       /* the records of those windows */
	uint64_t store_lost;		       /* good versions found gone from the store */
	uint64_t checkpoints;		       /* checkpoints committed */
	uint64_t checkpoint_errors;	       /* checkpoints that failed (retried) */
	uint64_t checkpoint_ns;		       /* time spent checkpointing */
	uint64_t partials_merged;	       /* other instances' partials merged */
	uint64_t partials_refused;	       /* partials not mergeable (other baseline...) */
	uint64_t windows_skipped;	       /* windows another agent decided */
	uint64_t labels;		       /* messages of the labels topic */
	uint64_t labels_rejected[AGENT_REJECT_COUNT]; /* of which invalid, by reason */
	uint64_t labels_joined;			      /* joined to their prediction and scored */
	uint64_t labels_unmatched; /* no prediction (never seen, expired, evicted) */
	uint64_t labels_expired;   /* predictions that waited in vain (TTL) */
	uint64_t labels_evicted;   /* predictions forgotten for room */
	uint64_t labels_late;	   /* joined after their window closed: counted in
				    * the pair's newest open window */
	uint64_t labels_unplaced;  /* joined, but no open window to count them in */
	uint64_t alerts_firing;	   /* firing alerts matching the selector */
	uint64_t alerts_resolved;  /* resolved ones (recorded, not acted on) */
	uint64_t alerts_acted;	   /* that became an event (or one kept for retry) */
	uint64_t alerts_ignored;   /* blocked (hold, latch), duplicates, no model */
};

/* What the engine reports after each closed window (for logs, the demo's table, tests). */
struct agent_window_report {
	const char *model, *version;
	const char *baseline_version; /* NULL when no baseline */
	const struct agent_eval *eval;
	const struct agent_decision *decision;
	const char *event_json; /* the event emitted, or NULL */
	uint64_t labels;	/* records of the window with a label (own or joined) */
	int duplicate;		/* the event was a duplicate (not emitted) */
};
typedef void (*agent_window_fn)(void *arg, const struct agent_window_report *r);
/* Called with every rejected message and its reason name (the dead-letter copy). */
typedef void (*agent_reject_fn)(void *arg, const struct conn_msg *m, const char *reason);

struct agent_engine;

/* The engine borrows c, store and sink (they must outlive it). NULL with err on failure. */
struct agent_engine *agent_engine_new(const struct agent_config *c, struct conn_store *store,
				      struct conn_sink *sink, char *err, size_t errlen);
void agent_engine_free(struct agent_engine *e);
void agent_engine_on_window(struct agent_engine *e, agent_window_fn fn, void *arg);
void agent_engine_on_reject(struct agent_engine *e, agent_reject_fn fn, void *arg);

/* Event-time admission (doc/rules.md "Event time"): a record whose time is more than
 * max_skew ahead is rejected (future_ts) and never moves event time. Ahead of the wall clock
 * by default (a live stream); with replay = 1 (a file of history) ahead of the largest record
 * time accepted, where a jump is confirmed by the next record: a record beyond the bound is
 * held back until the next one, accepted with it when that one is within max_skew of it (the
 * file's time moved on: a gap), rejected otherwise (a lone outlier); and a record without any
 * time counts at the largest record time seen, never moving it. */
void agent_engine_replay(struct agent_engine *e, int replay);

/* Decodes and counts one message; now_ms is the receive time. */
void agent_engine_feed(struct agent_engine *e, const struct conn_msg *m, int64_t now_ms);
/* Counts an already decoded record (ts_ms: its time, resolved by the caller). */
void agent_engine_add(struct agent_engine *e, const struct conn_record *r, int64_t ts_ms);
/* Closes and decides every window the watermark has passed; moves the outbox on (emit.h). */
void agent_engine_tick(struct agent_engine *e);
#define AGENT_ENGINE_DRAIN_MS                                                                      \
	15000 /* the end of a replay waits for deliveries: a dead agent's                          \
	       * send lock (emit.h, 10 s), then 5 s */
/* Closes and decides every open window (end of a replay), then waits up to
 * AGENT_ENGINE_DRAIN_MS for the outbox to be delivered. */
void agent_engine_finish(struct agent_engine *e);
/* Models whose good version the store lost (baselines.h): the store was emptied or replaced;
 * the agent is not ready while there is one. */
size_t agent_engine_store_lost(const struct agent_engine *e);
/* How long (ms) checkpoint commits have been failing (0: fine, or checkpoints off). */
int64_t agent_engine_checkpoint_failing_ms(const struct agent_engine *e);
/* Waits up to timeout_ms for the outbox to be delivered; the events left (pending in the
 * store: the next agent delivers them). */
size_t agent_engine_drain(struct agent_engine *e, int timeout_ms);
const struct agent_counters *agent_engine_counters(const struct agent_engine *e);
/* Input streams this engine holds (Kafka: partitions assigned and not revoked, the labels
 * topic's excepted; a file: 1 once it delivered). */
size_t agent_engine_assigned(const struct agent_engine *e);
/* The largest record time seen so far: 0 and *ts_ms set, or -1 when no record yet. */
int agent_engine_watermark(const struct agent_engine *e, int64_t *ts_ms);

struct agent_pairs;
/* The (model, version) table (pairs.h), for the metrics to read; valid until the next call that
 * feeds, ticks or frees the engine. */
const struct agent_pairs *agent_engine_pairs(const struct agent_engine *e);
const struct agent_config *agent_engine_config(const struct agent_engine *e);

/* An Alertmanager alert that matched the selector (SPEC: a P0 incident). A firing alert naming
 * a model (label "model", optional "version": else the model's most recently active version)
 * becomes a rollback decision with trigger "alert": breach_windows and the cooldown do not apply,
 * hold, latch and the claim of its id ("model/version/alert/FINGERPRINT") do. Resolved alerts
 * are counted and logged, not acted on. AGENT_ALERT_ACTED when an event was emitted (or kept for
 * retry); AGENT_ALERT_IGNORED when not, with the reason in *why. */
enum agent_alert_result {
	AGENT_ALERT_ACTED = 0, /* an event was emitted, or kept for retry */
	AGENT_ALERT_IGNORED    /* not acted on: the reason in *why */
};
enum agent_alert_result agent_engine_alert(struct agent_engine *e, const struct conn_am_alert *a,
					   const char **why);

/* ---- exactly-once checkpoints (checkpoint.c; doc/delivery.md) ----
 * With checkpoints on, the engine keeps in the store, in scope `scope` (the consumer group):
 * its partial counts of every open window (one blob per window for this agent instance), the
 * next offset of every stream it took records from, and each (model, version)'s decision state
 * (streaks, closed windows, cooldown) -- all written together in one atomic commit. A record is
 * in a committed partial exactly when its offset is below its stream's committed offset, so a
 * restarted or another agent resuming at those offsets counts every record exactly once. A
 * window is decided on its counts merged with every other instance's partial of it, by the
 * agent that takes its lock; the decision state and the dropping of its partials are committed
 * with the next checkpoint. Checkpoints happen every interval_ms, after windows are decided, and
 * when asked (rebalance, shutdown).
 *
 * Turns checkpoints on and restores from the store: the decision states, the windows other
 * instances left partial counts of, and the events waiting for delivery. instance names this
 * agent process (unique per run). -1 with err when the store cannot be read (nothing changed:
 * call again later). */
int agent_engine_checkpoints(struct agent_engine *e, const char *scope, const char *instance,
			     int64_t interval_ms, char *err, size_t errlen);
/* The census of the input partitions (coverage.h; the Kafka source's): a window is decided
 * when every partition is accounted for, or after coverage_wait saying which are missing
 * (doc/scaling.md "Coverage"). Call after agent_engine_checkpoints; without it (a file) the
 * partitions are this agent's and those in the store. */
void agent_engine_census(struct agent_engine *e, agent_census_fn fn, void *arg);
/* How long the lock of a window being decided is held (default 30 s; for tests). */
void agent_engine_checkpoint_lock_ttl(struct agent_engine *e, int64_t ms);
/* Commits a checkpoint when one is due (force: now, if anything changed). 0 committed or
 * nothing to commit; -1 failed (kept, retried next time). With checkpoints off: 0. */
int agent_engine_checkpoint(struct agent_engine *e, int force);
/* The committed next offset of (topic, partition): 0 with *next, 1 when none, -1 on error. */
int agent_engine_resume_offset(struct agent_engine *e, const char *topic, int32_t partition,
			       int64_t *next);
/* A stream was taken away from this agent (after a checkpoint): it no longer holds time. */
void agent_engine_stream_gone(struct agent_engine *e, uint32_t stream);
/* The store is unreachable at a rebalance (the checkpoint before partitions leave failed): what
 * this agent counted since its last checkpoint is dropped -- every open window goes back to its
 * committed partial, every stream to its committed offset -- so that the revoked partitions'
 * next owner, reading from the stored offsets, counts those records once. fn(arg, stream, name,
 * offset) is told, for each stream that took messages since, where to read it again (the
 * partitions this agent keeps must be read again from there). Returns the windows rewound (0
 * with checkpoints off). */
typedef void (*agent_rewind_fn)(void *arg, uint32_t stream, const char *name, int64_t offset);
size_t agent_engine_rewind(struct agent_engine *e, agent_rewind_fn fn, void *arg);
/* Each stream's committed next offset, for the source to commit too (Kafka: lag monitoring).
 * Calls fn for each stream whose committed offset changed since the last call. */
typedef void (*agent_offset_fn)(void *arg, const char *stream_name, int64_t next);
void agent_engine_committed_offsets(struct agent_engine *e, agent_offset_fn fn, void *arg);

#endif
