/*
 * metrics.h -- driftd's Prometheus exposition: a plain-data snapshot of what the agent knows
 * (engine counters, the last decided window of every (model, version), connector state) and a
 * renderer that turns it into the Prometheus text format 0.0.4 or OpenMetrics 1.0 text. Pure:
 * no I/O, no globals, no engine internals; the agent loop fills the snapshot and publishes the
 * rendered page (conn_http_publish), the HTTP thread never sees the snapshot itself.
 *
 * Every family, its labels and when a sample is absent: doc/metrics.md. In short:
 *   - HELP and TYPE once per family, every family present even when it has no sample, each
 *     family's samples contiguous, families in a fixed order;
 *   - (model, version) pairs sorted by model then version (strcmp), features of a pair by name,
 *     later duplicates skipped -- the page is a function of the snapshot's content, not of the
 *     order its arrays come in;
 *   - a NaN value omits its sample (a score not computed is absent, never "NaN");
 *   - label values are escaped (\\ \" \n) and invalid UTF-8 is replaced by U+FFFD, so a page
 *     is always valid whatever the strings hold.
 * Size: about 110 bytes per series. Cost: linear in the series (about 70 ns each), no allocation
 * per series.
 */
#ifndef DRIFTD_AGENT_METRICS_H
#define DRIFTD_AGENT_METRICS_H

#include "agent/engine.h"
#include "agent/rules.h"
#include "connectors/alertmanager.h"

#include <stddef.h>
#include <stdint.h>

/* The event types counted in driftd_rollbacks_total{type}. */
enum agent_metrics_rollback {
	AGENT_METRICS_ROLLBACK = 0, /* io.driftd.rollback: "rollback" */
	AGENT_METRICS_DRYRUN,	    /* io.driftd.rollback.dryrun: "dryrun" */
	AGENT_METRICS_NEEDS_TARGET, /* io.driftd.rollback.needs_target: "needs_target" */
	AGENT_METRICS_ROLLBACK_TYPES
};

/* One (model, version) with at least one decided window. */
struct agent_metrics_pair {
	const char *model, *version;		 /* label values; NULL is "" */
	const struct agent_window_summary *last; /* its last decided window (rules.h; the
						  * prediction is the feature "__prediction__") */
	unsigned rule_streak[AGENT_RULE_COUNT];	 /* consecutive breaching windows (agent_streaks.n,
						  * i.e. decision->streak after the window) */
	uint64_t rollbacks[AGENT_METRICS_ROLLBACK_TYPES]; /* events emitted for the pair so far */
};

/* Consumer lag of one partition of a source topic. */
struct agent_metrics_lag {
	const char *topic; /* NULL is "" */
	int32_t partition;
	int64_t lag; /* messages behind the high watermark; < 0: unknown (sample omitted) */
};

/* Requests of one HTTP route (conn_http_route_stats). */
struct agent_metrics_http_route {
	const char *path; /* "/metrics", ... */
	uint64_t requests, errors;
};

struct agent_metrics {
	const struct agent_counters *k; /* engine counters; NULL: all zero */
	const struct agent_metrics_pair *pairs;
	size_t npairs;
	uint64_t pairs_tracked; /* (model, version) pairs the engine tracks now */
	uint64_t pairs_max;	/* config max_models */
	double kl_threshold, psi_threshold, js_threshold; /* config rules.*.threshold */
	double start_time_s;				  /* process start, epoch seconds */
	int redis_up; /* 1 answered its last probe, 0 not; < 0: the store is not Redis (omitted) */
	int kafka_ready; /* 1 partitions assigned, 0 not; < 0: no Kafka source (omitted) */
	const struct agent_metrics_lag *lag; /* per source partition */
	size_t nlag;
	const struct agent_metrics_http_route *http_routes; /* NULL/0: no HTTP server */
	size_t nhttp_routes;
	uint64_t http_not_found, http_cut, http_timeouts, http_aborted; /* conn_http_stats */
	uint64_t alerts_received; /* alerts in accepted Alertmanager webhook payloads */
	uint64_t alerts_rejected[CONN_AM_REJECT_COUNT]; /* payloads refused, by conn_am_reject
							 * ([0] unused) */
	uint64_t alerts_resolved; /* resolved alerts received (recorded, never acted on) */
	uint64_t alerts_acted;	  /* firing alerts that matched the selector and named a model:
				   * handed to the decision (hold, latch, dedup still apply) */
};

/* Renders m into a malloc'd buffer: *out (NUL-terminated, the caller frees it) and *len (the
 * length without the NUL). openmetrics: OpenMetrics 1.0 text (counters' metadata without
 * "_total", UNIT lines, build info as an info family, "# EOF\n" at the end); else the
 * Prometheus text format 0.0.4. Returns 0, or -1 when out of memory (*out NULL, *len 0). */
int agent_metrics_render(const struct agent_metrics *m, int openmetrics, char **out, size_t *len);

#endif
