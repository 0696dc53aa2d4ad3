/*
 * engine.h -- driftd's engine: messages in, window decisions and rollback events out. It does not
 * know where messages come from (io.h sources) nor where events go (io.h sinks); it reads and
 * writes durable state through the store (store.h). The same engine runs a file replay, Kafka
 * and the demo.
 *
 * Time: a record's time is its "ts", else the transport's timestamp, else the receive time. Each
 * input stream (a Kafka partition; a file is one stream) has its own high-water mark, the largest
 * record time seen on it; the watermark is the smallest of them over the active streams --
 * heard from within the last AGENT_STREAM_IDLE_MS of wall time and not at their end (a Kafka
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
#include "connectors/io.h"
#include "connectors/record.h"
#include "connectors/store.h"

#define AGENT_STREAM_IDLE_MS 10000 /* a stream silent this long no longer holds the watermark */
#define AGENT_STREAMS_MAX    4096  /* streams tracked (Kafka partitions of the source) */

/* Rejections beyond the decoder's (connectors/record.h). */
enum agent_reject { AGENT_REJECT_TOO_MANY_MODELS = CONN_REJECT_COUNT, AGENT_REJECT_COUNT };
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
	uint64_t store_errors;		       /* store reads that failed */
	uint64_t dropped_nomem;		       /* records not counted: out of memory */
};

/* What the engine reports after each closed window (for logs, the demo's table, tests). */
struct agent_window_report {
	const char *model, *version;
	const char *baseline_version; /* NULL when no baseline */
	const struct agent_eval *eval;
	const struct agent_decision *decision;
	const char *event_json; /* the event emitted, or NULL */
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

/* Decodes and counts one message; now_ms is the receive time. */
void agent_engine_feed(struct agent_engine *e, const struct conn_msg *m, int64_t now_ms);
/* Counts an already decoded record (ts_ms: its time, resolved by the caller). */
void agent_engine_add(struct agent_engine *e, const struct conn_record *r, int64_t ts_ms);
/* Closes and decides every window the watermark has passed. */
void agent_engine_tick(struct agent_engine *e);
/* Closes and decides every open window (end of a replay, shutdown). */
void agent_engine_finish(struct agent_engine *e);
const struct agent_counters *agent_engine_counters(const struct agent_engine *e);
/* The largest record time seen so far: 0 and *ts_ms set, or -1 when no record yet. */
int agent_engine_watermark(const struct agent_engine *e, int64_t *ts_ms);

#endif
