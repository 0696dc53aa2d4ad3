/*
 * serve.c -- driftd's HTTP side (see serve.h): routes, published pages, the webhook queue.
 *
 * /readyz is ready when the store answers a ping (checked at most every 2 s), checkpoint commits
 * have not been failing for CKPT_FAILING_MS and, with a Kafka source, at least one partition is
 * assigned; its body says which part is missing:
 *   {"ready":false,"store":"unreachable","kafka":"no partition assigned"}
 *   {"ready":false,"store":"reachable","kafka":"partitions assigned","checkpoint":"failing for 31
 * s"}
 */
#include "agent/serve.h"
#include "agent/about.h"
#include "agent/log.h"
#include "agent/metrics_snapshot.h"
#include "agent/timefmt.h"
#include "connectors/alertmanager.h"
#include "connectors/clock.h"
#include "connectors/endpoint.h"
#include "connectors/http.h"
#include "connectors/kafka.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define QUEUE_MAX	64    /* webhook payloads waiting for the loop */
#define PING_EVERY_MS	2000  /* store reachability for /readyz and driftd_redis_up */
#define CKPT_FAILING_MS 30000 /* checkpoint commits failing this long: not ready */

struct agent_serve {
	struct conn_http *h;
	struct conn_am_selector *sel;
	struct conn_am_limits lim;
	pthread_mutex_t mu; /* guards queue, nq, src, counters below */
	struct conn_am_payload *queue[QUEUE_MAX];
	size_t nq;
	struct conn_source *src;
	uint64_t alerts;			 /* alerts in accepted payloads */
	uint64_t rejected[CONN_AM_REJECT_COUNT]; /* payloads refused, by reason */
	uint64_t overflow;			 /* payloads refused: queue full */
	int store_redis;			 /* the store is Redis */
	int64_t last_publish, last_ping;
	int store_up, kafka;
	int ready;		 /* last published readiness (-1: none yet) */
	int64_t ckpt_failing_ms; /* how long checkpoint commits have been failing */
	size_t store_lost;	 /* models whose good version the store lost */
	int ready_without_partitions;
	int brokers_up; /* conn_source_kafka_up: -1 not known yet */
	double start_s;
	/* liveness: the loop's heartbeat (agent_serve_publish), watched by its own thread */
	_Atomic int64_t beat; /* monotonic ms of the loop's last call */
	int64_t liveness_ms;
	pthread_t watchdog;
	int watchdog_on;
	pthread_mutex_t live_mu; /* guards stalled, stop and the /healthz page */
	pthread_cond_t live_cv;
	int stalled, stop;
};

static void publish_alive(struct agent_serve *s)
{
	conn_http_publish(s->h, "/healthz", CONN_HTTP_TEXT, 200, "application/json",
			  "{\"status\":\"alive\"}\n", 19);
}

/* The watchdog: /healthz says stalled (503) once the loop has not called in for liveness_ms,
 * alive again at its next call (agent_serve_publish). */
static void *watch(void *arg)
{
	struct agent_serve *s = arg;
	struct timespec until;

	pthread_mutex_lock(&s->live_mu);
	while (!s->stop) {
		int64_t silent = agent_time_mono_ms() - atomic_load(&s->beat);

		if (!s->stalled && silent > s->liveness_ms) {
			char body[96];
			int n = snprintf(body, sizeof body,
					 "{\"status\":\"stalled\",\"loop_silent_s\":%lld}\n",
					 (long long)(silent / 1000));

			s->stalled = 1;
			conn_http_publish(s->h, "/healthz", CONN_HTTP_TEXT, 503, "application/json",
					  body, (size_t)n);
			agent_log(AGENT_LOG_ERR, "http",
				  "not alive: the loop has not run for %lld s (/healthz 503)",
				  (long long)(silent / 1000));
		}
		until = conn_clock_deadline(250);
		pthread_cond_timedwait(&s->live_cv, &s->live_mu, &until);
	}
	pthread_mutex_unlock(&s->live_mu);
	return NULL;
}

/* The loop calls in: its heartbeat, and /healthz alive again after a stall. */
static void heartbeat(struct agent_serve *s)
{
	atomic_store(&s->beat, agent_time_mono_ms());
	pthread_mutex_lock(&s->live_mu);
	if (s->stalled) {
		s->stalled = 0;
		publish_alive(s);
		agent_log(AGENT_LOG_NOTICE, "http", "alive again (/healthz 200)");
	}
	pthread_mutex_unlock(&s->live_mu);
}

static void http_log(void *arg, int level, const char *msg)
{
	(void)arg;
	agent_log(level <= LOG_ERR	 ? AGENT_LOG_ERR
		  : level == LOG_WARNING ? AGENT_LOG_WARNING
		  : level == LOG_NOTICE	 ? AGENT_LOG_NOTICE
		  : level == LOG_INFO	 ? AGENT_LOG_INFO
					 : AGENT_LOG_DEBUG,
		  "http", "%s", msg);
}

/* POST /alertmanager, on an HTTP thread: parse, queue, wake the loop. */
static int on_webhook(void *arg, const char *body, size_t len, char *reply, size_t replycap)
{
	struct agent_serve *s = arg;
	struct conn_am_payload *p = NULL;
	struct conn_source *src;
	enum conn_am_reject why = conn_am_parse(body, len, &s->lim, &p, reply, replycap);
	int status = 202;

	pthread_mutex_lock(&s->mu);
	if (why != CONN_AM_OK) {
		s->rejected[why]++;
		pthread_mutex_unlock(&s->mu);
		return why == CONN_AM_NO_MEMORY ? 503 : 400;
	}
	s->alerts += p->nalerts;
	if (s->nq == QUEUE_MAX) {
		s->overflow++;
		status = 503;
	} else {
		s->queue[s->nq++] = p;
		p = NULL;
	}
	src = s->src;
	pthread_mutex_unlock(&s->mu);
	conn_am_payload_free(p);
	if (status == 503) {
		snprintf(reply, replycap, "busy: %d payloads waiting, retry later\n", QUEUE_MAX);
		return 503;
	}
	conn_source_wake(src);
	snprintf(reply, replycap, "accepted\n");
	return 202;
}

/* Whether the store spec names a Redis store (TCP or a Unix socket): driftd_redis_up. */
static int store_is_redis(const char *spec)
{
	struct conn_endpoint ep;
	char err[256];
	int redis;

	if (conn_endpoint_parse(spec, CONN_ENDPOINT_STORE, &ep, err, sizeof err) < 0)
		return 0;
	redis = ep.kind == CONN_ENDPOINT_REDIS || ep.kind == CONN_ENDPOINT_REDIS_UNIX;
	conn_endpoint_free(&ep);
	return redis;
}

struct agent_serve *agent_serve_start(const struct agent_config *c, char *err, size_t errlen)
{
	struct conn_http_conf hc;
	struct agent_serve *s;

	err[0] = '\0';
	if (!c->metrics_listen || !c->metrics_listen[0])
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->live_mu, NULL);
	/* the watchdog's sleeps and the loop's silence on the monotonic clock: a step of the
	 * wall clock neither fakes a stall nor hides one */
	conn_clock_cond_init(&s->live_cv);
	atomic_init(&s->beat, agent_time_mono_ms());
	s->liveness_ms = (int64_t)(c->liveness_timeout_s * 1000.0);
	s->ready = -1;
	s->ready_without_partitions = c->ready_without_partitions;
	s->store_up = 1;
	s->start_s = (double)agent_time_now_ms() / 1000.0;
	s->store_redis = store_is_redis(c->store);
	conn_am_limits_default(&s->lim);
	s->sel = conn_am_selector_new(c->alert_selector, err, errlen);
	if (!s->sel)
		goto fail;
	conn_http_conf_default(&hc);
	hc.listen = c->metrics_listen;
	hc.log = http_log;
	hc.max_connections = c->http_max_connections;
	hc.max_per_ip = c->http_max_per_address;
	if (hc.threads > hc.max_connections)
		hc.threads = hc.max_connections;
	s->h = conn_http_new(&hc, err, errlen);
	if (!s->h)
		goto fail;
	if (conn_http_route_get(s->h, "/metrics", CONN_HTTP_NEGOTIATE) < 0 ||
	    conn_http_route_get(s->h, "/healthz", 0) < 0 ||
	    conn_http_route_get(s->h, "/readyz", 0) < 0 ||
	    conn_http_route_post(s->h, "/alertmanager", c->alert_token, 0, on_webhook, s) < 0 ||
	    conn_http_start(s->h) < 0) {
		snprintf(err, errlen, "http: %s", conn_http_error(s->h));
		goto fail;
	}
	publish_alive(s);
	if (pthread_create(&s->watchdog, NULL, watch, s) != 0) {
		snprintf(err, errlen, "http: cannot start the liveness watchdog");
		goto fail;
	}
	s->watchdog_on = 1;
	return s;
fail:
	agent_serve_stop(s);
	return NULL;
}

void agent_serve_stop(struct agent_serve *s)
{
	if (!s)
		return;
	if (s->watchdog_on) {
		pthread_mutex_lock(&s->live_mu);
		s->stop = 1;
		pthread_cond_signal(&s->live_cv);
		pthread_mutex_unlock(&s->live_mu);
		pthread_join(s->watchdog, NULL);
	}
	conn_http_free(s->h); /* no handler runs after this */
	for (size_t i = 0; i < s->nq; i++)
		conn_am_payload_free(s->queue[i]);
	conn_am_selector_free(s->sel);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->live_mu);
	pthread_cond_destroy(&s->live_cv);
	free(s);
}

unsigned agent_serve_port(const struct agent_serve *s)
{
	return s && s->h ? conn_http_port(s->h) : 0;
}

void agent_serve_source(struct agent_serve *s, struct conn_source *src)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->src = src;
	pthread_mutex_unlock(&s->mu);
}

void agent_serve_alerts(struct agent_serve *s, struct agent_engine *e)
{
	struct conn_am_payload *q[QUEUE_MAX];
	size_t n;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	n = s->nq;
	memcpy(q, s->queue, n * sizeof *q);
	s->nq = 0;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < q[i]->nalerts; j++) {
			const struct conn_am_alert *a = &q[i]->alerts[j];
			const char *model = conn_am_label(&a->labels, "model"), *why;

			if (!conn_am_match(s->sel, a))
				continue;
			if (agent_engine_alert(e, a, &why) == AGENT_ALERT_ACTED)
				agent_log(AGENT_LOG_NOTICE, "alert",
					  "%s: rollback decided on alert %s", model ? model : "?",
					  a->fingerprint ? a->fingerprint : "");
			else
				agent_log(
				    strcmp(why, "resolved") ? AGENT_LOG_WARNING : AGENT_LOG_INFO,
				    "alert", "%s: alert %s not acted on: %s", model ? model : "?",
				    a->fingerprint ? a->fingerprint : "", why);
		}
		conn_am_payload_free(q[i]);
	}
}

static void publish_ready(struct agent_serve *s, int kafka_source)
{
	char body[256], ckpt[64] = "";
	int failing = s->ckpt_failing_ms >= CKPT_FAILING_MS;
	int ready = s->store_up && !failing && !s->store_lost &&
		    (!kafka_source ||
		     ((s->kafka > 0 || s->ready_without_partitions) && s->brokers_up != 0));
	int n;

	if (failing)
		snprintf(ckpt, sizeof ckpt, ",\"checkpoint\":\"failing for %lld s\"",
			 (long long)(s->ckpt_failing_ms / 1000));
	n = snprintf(body, sizeof body, "{\"ready\":%s,\"store\":\"%s\",\"kafka\":\"%s\"%s}\n",
		     ready ? "true" : "false",
		     !s->store_up    ? "unreachable"
		     : s->store_lost ? "emptied (a good version is gone)"
				     : "reachable",
		     !kafka_source	  ? "not used"
		     : s->brokers_up == 0 ? "brokers unreachable"
		     : s->kafka		  ? "partitions assigned"
					  : "no partition assigned",
		     ckpt);

	conn_http_publish(s->h, "/readyz", CONN_HTTP_TEXT, ready ? 200 : 503, "application/json",
			  body, (size_t)n);
	if (ready != s->ready)
		agent_log(ready ? AGENT_LOG_INFO : AGENT_LOG_WARNING, "http", "%s: %.*s",
			  ready ? "ready" : "not ready", n - 1, body);
	s->ready = ready;
}

void agent_serve_publish(struct agent_serve *s, struct agent_engine *e, struct conn_store *store,
			 struct conn_source *src, int force)
{
	int64_t now = agent_time_mono_ms();
	struct agent_serve_stats st;
	char *page;
	size_t len;

	if (!s)
		return;
	heartbeat(s);
	if (!force && now - s->last_publish < 1000)
		return;
	s->last_publish = now;
	if (now - s->last_ping >= PING_EVERY_MS) {
		s->last_ping = now;
		s->store_up = conn_store_ping(store) == 0;
	}
	s->kafka = agent_engine_assigned(e);
	s->ckpt_failing_ms = agent_engine_checkpoint_failing_ms(e);
	s->store_lost = agent_engine_store_lost(e);
	s->brokers_up = src ? conn_source_kafka_up(src) : -1;
	publish_ready(s, src && !conn_source_finite(src));
	memset(&st, 0, sizeof st);
	pthread_mutex_lock(&s->mu);
	st.alerts_received = s->alerts;
	memcpy(st.webhook_rejected, s->rejected, sizeof st.webhook_rejected);
	pthread_mutex_unlock(&s->mu);
	st.h = s->h;
	st.store_up = s->store_up;
	st.store_redis = s->store_redis;
	st.kafka = src && !conn_source_finite(src);
	st.kafka_ready = s->kafka > 0 && s->brokers_up != 0;
	st.start_s = s->start_s;
	for (int om = 0; om < 2; om++) {
		if (agent_metrics_page(e, src, &st, om, &page, &len) < 0) {
			agent_log(AGENT_LOG_ERR, "http", "out of memory rendering the metrics");
			return;
		}
		conn_http_publish(s->h, "/metrics", om ? CONN_HTTP_OPENMETRICS : CONN_HTTP_TEXT,
				  200, om ? CONN_HTTP_CT_OPENMETRICS : CONN_HTTP_CT_PROMETHEUS,
				  page, len);
		free(page);
	}
}
