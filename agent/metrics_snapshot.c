/*
 * metrics_snapshot.c -- the engine's state as a metrics snapshot (see metrics_snapshot.h).
 */
#include "agent/metrics_snapshot.h"
#include "agent/metrics.h"
#include "agent/pairs.h"
#include "agent/timefmt.h"
#include "connectors/kafka.h"

#include <stdlib.h>
#include <string.h>

struct lag_list {
	struct agent_metrics_lag *v;
	size_t n, cap;
};

static void add_lag(void *arg, const char *topic, int32_t partition, int64_t lag)
{
	struct lag_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct agent_metrics_lag *g = realloc(l->v, cap * sizeof *g);

		if (!g)
			return;
		l->v = g;
		l->cap = cap;
	}
	/* the topic name must outlive the call: kept in the list's own copy */
	l->v[l->n++] = (struct agent_metrics_lag){ .topic = strdup(topic),
						   .partition = partition,
						   .lag = lag };
}

static const char *const routes[] = { "/metrics", "/healthz", "/readyz", "/alertmanager" };

int agent_metrics_page(struct agent_engine *e, struct conn_source *src,
		       const struct agent_serve_stats *st, int openmetrics, char **out, size_t *len)
{
	const struct agent_config *c = agent_engine_config(e);
	const struct agent_pairs *t = agent_engine_pairs(e);
	size_t npairs = agent_pairs_count(t);
	int64_t window_ms = agent_pairs_window_ms(t);
	struct agent_metrics m = { 0 };
	struct agent_metrics_pair *pairs = calloc(npairs ? npairs : 1, sizeof *pairs);
	struct agent_metrics_http_route hr[sizeof routes / sizeof routes[0]];
	struct lag_list lags = { 0 };
	size_t np = 0;
	int64_t now = agent_time_now_ms();
	/* a (model, version) no window was decided for in 3 windows (at least 5 min) is gone from
	 * the page: its last states would otherwise hold alerts after it stopped serving */
	int64_t stale = 3 * window_ms > 300000 ? 3 * window_ms : 300000;
	int rc = -1;

	if (!pairs)
		goto out;
	for (size_t i = 0; i < npairs; i++) {
		const struct agent_pair *p = agent_pairs_at(t, i);
		struct agent_metrics_pair *mp = &pairs[np];

		if (!p->last || now - p->last->decided_wall_ms > stale)
			continue;
		np++;
		mp->model = p->model;
		mp->version = p->version;
		mp->last = p->last;
		for (int r = 0; r < AGENT_RULE_COUNT; r++)
			mp->rule_streak[r] = p->streaks.n[r];
		for (int ty = 0; ty < AGENT_METRICS_ROLLBACK_TYPES; ty++)
			mp->rollbacks[ty] = p->events[ty];
	}
	m.k = agent_engine_counters(e);
	m.pairs = pairs;
	m.npairs = np;
	m.pairs_tracked = npairs;
	m.pairs_max = c->max_models;
	m.kl_threshold = c->kl.threshold;
	m.psi_threshold = c->psi.threshold;
	m.js_threshold = c->js.threshold;
	m.start_time_s = st->start_s;
	m.redis_up = st->store_redis ? st->store_up : -1;
	m.kafka_ready = st->kafka ? st->kafka_ready : -1;
	if (st->kafka && src)
		conn_source_kafka_lag(src, add_lag, &lags);
	m.lag = lags.v;
	m.nlag = lags.n;
	if (st->h) {
		struct conn_http_stats hs;

		for (size_t r = 0; r < sizeof routes / sizeof routes[0]; r++) {
			struct conn_http_route_stats rs = { 0 };

			conn_http_route_stats(st->h, routes[r], &rs);
			hr[r] = (struct agent_metrics_http_route){ .path = routes[r],
								   .requests = rs.requests,
								   .errors = rs.errors };
		}
		m.http_routes = hr;
		m.nhttp_routes = sizeof routes / sizeof routes[0];
		conn_http_stats(st->h, &hs);
		m.http_not_found = hs.not_found;
		m.http_cut = hs.cut;
		m.http_timeouts = hs.timeouts;
		m.http_aborted = hs.aborted;
	}
	m.alerts_received = st->alerts_received;
	memcpy(m.alerts_rejected, st->webhook_rejected, sizeof m.alerts_rejected);
	m.alerts_resolved = m.k->alerts_resolved;
	m.alerts_acted = m.k->alerts_acted;
	rc = agent_metrics_render(&m, openmetrics, out, len);
out:
	for (size_t i = 0; i < lags.n; i++)
		free((char *)lags.v[i].topic);
	free(lags.v);
	free(pairs);
	return rc;
}
