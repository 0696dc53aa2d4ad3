/*
 * bench_kafka.c -- `make bench`: driftd's engine consuming from librdkafka's mock cluster on
 * loopback, one core for driftd, one JSON object per line.
 *
 * 1,000,000 generated 22-feature records (~435 bytes) go through a 6-partition topic of an
 * in-process mock cluster, in chunks of 20,000: a chunk is produced (not timed), then the
 * consumer source (a consumer group, like `driftd --source kafka:...`) feeds the engine
 * (decode -> windows -> rules) until the chunk is counted (timed). Chunks keep each partition
 * under the ~5 MB the 2.0.2 mock cluster retains. Reported: records/s over the consuming time,
 * and the CPU time of this process per record while consuming (the mock broker runs in this
 * process, so its share is included: an upper bound for driftd alone). bench_replay's file
 * replay is the comparison.
 * Then "decision": 200 windows that each fire a rollback (breach_windows 1, a new version each),
 * the sink a Kafka topic of the same cluster: the time from the tick that closes the window to
 * the event acknowledged by the broker (the Kafka sink returns only then), median and p99.
 */
#include "agent/baseline.h"
#include "agent/config.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/traffic.h"
#include "benchsink.h"
#include "connectors/kafka.h"
#include "connectors/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef RECORDS
#define RECORDS 1000000
#endif
#define CHUNK	   20000
#define DEADLINE_S 60 /* per chunk: give up (and say so) rather than hang */

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* 200 firing windows, each timed from its closing tick to the broker's ack. */
static int bench_decision(struct conn_kafka_mock *m, struct agent_config *cf, struct conn_store *st)
{
	struct timing_sink ts = { .base = { .ops = &timing_ops } };
	struct agent_baseline_builder *bb = agent_baseline_builder_new("fraud", "v0", 20, 256, 0.5);
	struct conn_limits lim;
	struct conn_decoder *dec;
	struct agent_traffic t;
	struct agent_baseline *b;
	double lat[200];
	char err[512], buf[4096], *json;
	int k = 0;

	conn_limits_default(&lim);
	dec = conn_decoder_new(CONN_DECODER_AUTO, &lim, err, sizeof err);
	agent_traffic_init(&t, 3, "fraud", "v0");
	for (int i = 0; i < 20000; i++) {
		struct conn_record r;
		size_t n = agent_traffic_record(&t, 1795729980000LL + i, buf, sizeof buf);

		if (conn_decode(dec, buf, n, &r) == CONN_REJECT_NONE)
			agent_baseline_builder_add(bb, &r);
	}
	b = agent_baseline_builder_finish(bb, 0, err, sizeof err);
	json = b ? agent_baseline_to_json(b) : NULL;
	if (!json || conn_store_baseline_put(st, "fraud", "v0", json, strlen(json)) < 0 ||
	    conn_store_good_set(st, "fraud", "v0") < 0 ||
	    conn_kafka_mock_topic(m, "rollbacks", 1, err, sizeof err) < 0 ||
	    !(ts.inner = conn_sink_open_kafka("rollbacks", conn_kafka_mock_bootstraps(m), NULL, err,
					      sizeof err))) {
		fprintf(stderr, "bench_kafka: decision setup failed: %s\n", err);
		return 1;
	}
	free(json);
	agent_baseline_free(b);
	cf->breach_windows = 1;
	cf->cooldown_s = 0;
	for (int v = 0; v < 200; v++) {
		struct agent_engine *e = agent_engine_new(cf, st, &ts.base, err, sizeof err);
		char ver[32];
		double t0;

		snprintf(ver, sizeof ver, "v9.%d", v);
		agent_traffic_init(&t, 100 + (uint64_t)v, "fraud", ver);
		t.drift_shift = 1.0;
		for (int i = 0; i < 3251; i++) { /* one window, then a record past its grace */
			size_t n = agent_traffic_record(&t, 1795729980000LL + (int64_t)i * 20, buf,
							sizeof buf);
			struct conn_msg msg = { .data = buf, .len = n, .ts_ms = -1 };

			agent_engine_feed(e, &msg, (int64_t)(now() * 1000));
		}
		ts.done_at = 0;
		t0 = now();
		agent_engine_tick(e);
		while (ts.done_at == 0 && now() - t0 < 5) /* the ack comes on a later tick */
			agent_engine_tick(e);
		if (ts.done_at > 0)
			lat[k++] = (ts.done_at - t0) * 1e3;
		agent_engine_free(e);
	}
	conn_sink_close(ts.inner);
	conn_decoder_free(dec);
	if (k == 0) {
		fprintf(stderr, "bench_kafka: no decision was emitted\n");
		return 1;
	}
	qsort(lat, (size_t)k, sizeof *lat, cmp_double);
	printf("{\"bench\":\"decision\",\"sink\":\"kafka-mock\",\"windows\":%d,"
	       "\"acked_ms_median\":%.3f,\"acked_ms_p99\":%.3f,\"acked_ms_max\":%.3f}\n",
	       k, lat[k / 2], lat[k * 99 / 100], lat[k - 1]);
	return 0;
}

int main(void)
{
	char err[512], dir[] = "/tmp/driftd-bench-kafka-XXXXXX", spec[96], sinkspec[128];
	/* one random partition per record (no sticky batching): even partitions */
	char *keys[] = { "sticky.partitioning.linger.ms" }, *vals[] = { "0" };
	struct conn_kafka_props spread = { keys, vals, 1 };
	struct agent_config cf;
	struct conn_kafka_mock *m;
	struct conn_kafka_producer *p;
	struct conn_source *src;
	struct conn_store *st;
	struct conn_sink *sink;
	struct agent_engine *e;
	struct agent_traffic t;
	struct conn_msg msgs[512];
	char buf[4096];
	double w0 = 0, c0 = 0, w, c;

	if (!mkdtemp(dir))
		return 1;
	agent_log_setup(stderr, 0, AGENT_LOG_ERR);
	agent_config_defaults(&cf);
	snprintf(spec, sizeof spec, "dir:%s/store", dir);
	snprintf(sinkspec, sizeof sinkspec, "file:%s/events.jsonl", dir);
	m = conn_kafka_mock_new(1, err, sizeof err);
	if (!m || conn_kafka_mock_topic(m, "logs", 6, err, sizeof err) < 0) {
		fprintf(stderr, "bench_kafka: %s\n", err);
		return 1;
	}
	p = conn_kafka_producer_new(conn_kafka_mock_bootstraps(m), &spread, err, sizeof err);
	st = conn_store_open(spec, err, sizeof err);
	sink = conn_sink_open(sinkspec, err, sizeof err);
	src = conn_source_open_kafka("logs", conn_kafka_mock_bootstraps(m), "bench", NULL, 100,
				     cf.max_message, err, sizeof err);
	e = p && st && sink && src ? agent_engine_new(&cf, st, sink, err, sizeof err) : NULL;
	if (!e) {
		fprintf(stderr, "bench_kafka: %s\n", err);
		return 1;
	}
	agent_traffic_init(&t, 11, "fraud", "v2.4.0");
	w = c = 0;
	for (int done = 0; done < RECORDS; done += CHUNK) {
		double start = now();

		for (int i = done; i < done + CHUNK; i++) {
			size_t n = agent_traffic_record(&t, 1795729980000LL + (int64_t)i * 20, buf,
							sizeof buf);

			if (conn_kafka_produce(p, "logs", NULL, buf, n, -1, NULL, 0) < 0) {
				fprintf(stderr, "bench_kafka: %s\n", conn_kafka_producer_error(p));
				return 1;
			}
		}
		if (conn_kafka_producer_flush(p, 60000) < 0) {
			fprintf(stderr, "bench_kafka: %s\n", conn_kafka_producer_error(p));
			return 1;
		}
		w0 = 0;
		while (agent_engine_counters(e)->records < (uint64_t)done + CHUNK) {
			int n = conn_source_next(src, msgs, 512);
			int64_t wall = (int64_t)(now() * 1000);

			if (n < 0 || now() - start > DEADLINE_S) {
				fprintf(stderr, "bench_kafka: %llu of %d records consumed: %s\n",
					(unsigned long long)agent_engine_counters(e)->records,
					done + CHUNK, n < 0 ? conn_source_error(src) : "timeout");
				return 1;
			}
			if (n > 0 && w0 == 0) { /* from the first record: not the group join */
				w0 = now();
				c0 = cpu();
			}
			for (int i = 0; i < n; i++)
				agent_engine_feed(e, &msgs[i], wall);
			agent_engine_tick(e);
		}
		w += now() - w0;
		c += cpu() - c0;
	}
	conn_kafka_producer_free(p);
	printf("{\"bench\":\"kafka\",\"source\":\"mock-cluster\",\"partitions\":6,\"records\":%d,"
	       "\"records_per_s\":%.0f,\"cpu_us_per_record\":%.3f,\"windows\":%llu}\n",
	       RECORDS, RECORDS / w, c / RECORDS * 1e6,
	       (unsigned long long)agent_engine_counters(e)->windows);
	fflush(stdout);
	if (bench_decision(m, &cf, st) != 0)
		return 1;
	agent_engine_free(e);
	conn_source_close(src);
	conn_sink_close(sink);
	conn_store_close(st);
	conn_kafka_mock_free(m);
	agent_config_free(&cf);
	snprintf(buf, sizeof buf, "rm -rf '%s'", dir);
	return system(buf) != 0;
}
