/*
 * metrics_snapshot.h -- the /metrics page of a running driftd: a snapshot of the engine (its
 * counters and the last decided window of every (model, version)), the source's consumer lag
 * and the HTTP side's own counters, rendered by metrics.h. Called from the agent loop only.
 */
#ifndef DRIFTD_AGENT_METRICS_SNAPSHOT_H
#define DRIFTD_AGENT_METRICS_SNAPSHOT_H

#include "agent/engine.h"
#include "connectors/alertmanager.h"
#include "connectors/http.h"
#include "connectors/io.h"

/* What the HTTP side (serve.c) knows. */
struct agent_serve_stats {
	const struct conn_http *h;			 /* for the per-route counters */
	uint64_t alerts_received;			 /* alerts in accepted payloads */
	uint64_t webhook_rejected[CONN_AM_REJECT_COUNT]; /* payloads refused, by reason */
	int store_up;					 /* the last ping */
	int store_redis; /* the store is Redis (else driftd_redis_up is omitted) */
	int kafka;	 /* a Kafka source (else the Kafka series are omitted) */
	int kafka_ready;
	double start_s;
};

/* Renders the page (openmetrics: OpenMetrics 1.0, else Prometheus text 0.0.4) into a malloc'd
 * buffer. 0, or -1 on no memory. */
int agent_metrics_page(struct agent_engine *e, struct conn_source *src,
		       const struct agent_serve_stats *st, int openmetrics, char **out,
		       size_t *len);

#endif
