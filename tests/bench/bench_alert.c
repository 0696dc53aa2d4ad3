/*
 * bench_alert.c -- `make bench`: from an Alertmanager webhook POST to the rollback event handed
 * to the sink (issue target: <= 100 ms), one JSON object per line.
 *
 * The agent side is driftd's own loop in a thread: a Kafka source on librdkafka's in-process
 * mock cluster (an idle topic: the loop sits in a 100 ms blocking poll, as a quiet production
 * agent does), the engine on a dir store with a last known good version, the HTTP side
 * (serve.h) on an ephemeral port. The main thread posts 100 v4 payloads, each a P0 alert for a
 * new version (so no latch or claim stops it), over a fresh TCP connection, and takes the time
 * until the event reaches the sink: median, p99 and max. The webhook wakes the blocked poll
 * (conn_source_wake); without it the median would be about half the poll time.
 */
#include "agent/config.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/serve.h"
#include "benchsink.h"
#include "connectors/kafka.h"
#include "connectors/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define POSTS 100

struct loop {
	struct agent_engine *e;
	struct agent_serve *http;
	struct conn_source *src;
	struct conn_store *store;
	volatile int stop;
};

static void *run_loop(void *arg)
{
	struct loop *l = arg;
	struct conn_msg msgs[64];

	while (!l->stop) {
		int n = conn_source_next(l->src, msgs, 64);

		for (int i = 0; i < n; i++)
			agent_engine_feed(l->e, &msgs[i], 0);
		agent_engine_tick(l->e);
		agent_serve_alerts(l->http, l->e);
	}
	return NULL;
}

/* One POST over a fresh connection; 0 when answered 202. */
static int post(unsigned port, const char *body)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[4096], resp[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n, rc = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		goto out;
	n = snprintf(req, sizeof req,
		     "POST /alertmanager HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     strlen(body), body);
	if (write(fd, req, (size_t)n) != n || read(fd, resp, sizeof resp - 1) < 12)
		goto out;
	rc = strncmp(resp, "HTTP/1.1 202", 12) == 0 ? 0 : -1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int main(void)
{
	char dir[] = "/tmp/driftd-bench-alert-XXXXXX", spec[96], err[256], body[1024];
	struct timing_sink ts = { .base = { .ops = &timing_ops } };
	struct conn_kafka_mock *m;
	struct agent_config cf;
	struct loop l = { 0 };
	pthread_t th;
	double lat[POSTS];
	int k = 0;

	if (!mkdtemp(dir))
		return 1;
	agent_log_setup(stderr, 0, AGENT_LOG_ERR);
	agent_config_defaults(&cf);
	free(cf.metrics_listen);
	cf.metrics_listen = strdup("127.0.0.1:0");
	snprintf(spec, sizeof spec, "dir:%s", dir);
	l.store = conn_store_open(spec, err, sizeof err);
	snprintf(spec, sizeof spec, "file:%s/events.jsonl", dir);
	ts.inner = conn_sink_open(spec, err, sizeof err);
	m = conn_kafka_mock_new(1, err, sizeof err);
	if (!l.store || !ts.inner || !m || conn_kafka_mock_topic(m, "idle", 1, err, sizeof err)) {
		fprintf(stderr, "bench_alert: %s\n", err);
		return 1;
	}
	conn_store_good_set(l.store, "fraud", "v1");
	l.src = conn_source_open_kafka("idle", conn_kafka_mock_bootstraps(m), NULL, NULL, 100,
				       cf.max_message, err, sizeof err);
	l.e = l.src ? agent_engine_new(&cf, l.store, &ts.base, err, sizeof err) : NULL;
	l.http = l.e ? agent_serve_start(&cf, err, sizeof err) : NULL;
	if (!l.http) {
		fprintf(stderr, "bench_alert: %s\n", err);
		return 1;
	}
	agent_serve_source(l.http, l.src);
	pthread_create(&th, NULL, run_loop, &l);
	usleep(300000); /* the loop is in its blocking poll */
	for (int i = 0; i < POSTS; i++) {
		double t0;

		snprintf(
		    body, sizeof body,
		    "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"driftd\","
		    "\"groupKey\":\"g\",\"groupLabels\":{},\"commonLabels\":{},"
		    "\"commonAnnotations\":{},\"externalURL\":\"http://am\",\"truncatedAlerts\":0,"
		    "\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"Down\","
		    "\"severity\":\"P0\",\"model\":\"fraud\",\"version\":\"v2.%d\"},"
		    "\"annotations\":{},\"startsAt\":\"2026-11-27T00:00:00Z\","
		    "\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://p\","
		    "\"fingerprint\":\"%016x\"}]}",
		    i, i + 1);
		ts.done_at = 0;
		t0 = now();
		if (post(agent_serve_port(l.http), body) < 0) {
			fprintf(stderr, "bench_alert: POST %d not accepted\n", i);
			continue;
		}
		while (ts.done_at == 0 && now() - t0 < 2)
			usleep(50);
		if (ts.done_at > 0)
			lat[k++] = (ts.done_at - t0) * 1e3;
		usleep(20000 + (i % 7) * 13000); /* land at different points of the poll */
	}
	l.stop = 1;
	conn_source_wake(l.src);
	pthread_join(th, NULL);
	qsort(lat, (size_t)k, sizeof *lat, cmp_double);
	printf("{\"bench\":\"alert\",\"posts\":%d,\"events\":%d,\"poll_ms\":100,"
	       "\"webhook_to_event_ms_median\":%.3f,\"webhook_to_event_ms_p99\":%.3f,"
	       "\"webhook_to_event_ms_max\":%.3f}\n",
	       POSTS, k, k ? lat[k / 2] : -1, k ? lat[k * 99 / 100] : -1, k ? lat[k - 1] : -1);
	agent_serve_stop(l.http);
	agent_engine_free(l.e);
	conn_source_close(l.src);
	conn_kafka_mock_free(m);
	conn_sink_close(ts.inner);
	conn_store_close(l.store);
	agent_config_free(&cf);
	snprintf(body, sizeof body, "rm -rf '%s'", dir);
	return system(body) == 0 && k == POSTS ? 0 : 1;
}
