/*
 * bench_kafka.c -- `make bench`: driftd's engine consuming from librdkafka's mock cluster on
 * loopback, one core for driftd, one JSON object per line.
 *
 * 1,000,000 generated 22-feature records (~435 bytes) are produced to a 3-partition topic of an
 * in-process mock cluster first (not timed); then a consumer source (a consumer group, like
 * `driftd --source kafka:...`) feeds the engine (decode -> windows -> rules) until every record
 * is counted. Reported: records/s over the wall time, and the CPU time of this process per
 * record (the mock broker runs in the same process, so its share is included: an upper bound
 * for driftd alone). The file replay of bench_replay is the comparison.
 */
#include "agent/config.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/traffic.h"
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
#define DEADLINE_S 120 /* give up (and say so) rather than hang */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
	       (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

int main(void)
{
	char err[512], dir[] = "/tmp/driftd-bench-kafka-XXXXXX", spec[96], sinkspec[128];
	char *keys[] = { "batch.size" }, *vals[] = { "65536" };
	struct conn_kafka_props small = { keys, vals, 1 };
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
	double w0, c0, w, c;

	if (!mkdtemp(dir))
		return 1;
	agent_log_setup(stderr, 0, AGENT_LOG_ERR);
	agent_config_defaults(&cf);
	snprintf(spec, sizeof spec, "dir:%s/store", dir);
	snprintf(sinkspec, sizeof sinkspec, "file:%s/events.jsonl", dir);
	m = conn_kafka_mock_new(1, err, sizeof err);
	if (!m || conn_kafka_mock_topic(m, "logs", 3, err, sizeof err) < 0) {
		fprintf(stderr, "bench_kafka: %s\n", err);
		return 1;
	}
	/* small batches: the 2.0.2 mock cluster loses records of batches near 1 MB */
	p = conn_kafka_producer_new(conn_kafka_mock_bootstraps(m), &small, err, sizeof err);
	agent_traffic_init(&t, 11, "fraud", "v2.4.0");
	for (int i = 0; i < RECORDS; i++) {
		size_t n =
		    agent_traffic_record(&t, 1795729980000LL + (int64_t)i * 20, buf, sizeof buf);

		if (conn_kafka_produce(p, "logs", NULL, buf, n, -1, NULL, 0) < 0) {
			fprintf(stderr, "bench_kafka: %s\n", conn_kafka_producer_error(p));
			return 1;
		}
	}
	if (conn_kafka_producer_flush(p, 60000) < 0) {
		fprintf(stderr, "bench_kafka: %s\n", conn_kafka_producer_error(p));
		return 1;
	}
	conn_kafka_producer_free(p);
	fprintf(stderr, "bench_kafka: %d records produced\n", RECORDS);

	st = conn_store_open(spec, err, sizeof err);
	sink = conn_sink_open(sinkspec, err, sizeof err);
	src = conn_source_open_kafka("logs", conn_kafka_mock_bootstraps(m), "bench", NULL, 100,
				     cf.max_message, err, sizeof err);
	e = st && sink && src ? agent_engine_new(&cf, st, sink, err, sizeof err) : NULL;
	if (!e) {
		fprintf(stderr, "bench_kafka: %s\n", err);
		return 1;
	}
	/* the group join happens on the first polls: start the clock at the first record */
	w0 = c0 = 0;
	{
		double start = now();

		while (agent_engine_counters(e)->records < RECORDS) {
			int n = conn_source_next(src, msgs, 512);
			int64_t wall = (int64_t)(now() * 1000);

			if (now() - start > DEADLINE_S) {
				fprintf(stderr,
					"bench_kafka: only %llu of %d records consumed in %d s\n",
					(unsigned long long)agent_engine_counters(e)->records,
					RECORDS, DEADLINE_S);
				return 1;
			}

			if (n < 0) {
				fprintf(stderr, "bench_kafka: %s\n", conn_source_error(src));
				return 1;
			}
			if (n > 0 && w0 == 0) {
				w0 = now();
				c0 = cpu();
			}
			for (int i = 0; i < n; i++)
				agent_engine_feed(e, &msgs[i], wall);
			agent_engine_tick(e);
		}
	}
	w = now() - w0;
	c = cpu() - c0;
	printf("{\"bench\":\"kafka\",\"source\":\"mock-cluster\",\"partitions\":3,\"records\":%d,"
	       "\"records_per_s\":%.0f,\"cpu_us_per_record\":%.3f,\"windows\":%llu}\n",
	       RECORDS, RECORDS / w, c / RECORDS * 1e6,
	       (unsigned long long)agent_engine_counters(e)->windows);
	agent_engine_free(e);
	conn_source_close(src);
	conn_sink_close(sink);
	conn_store_close(st);
	conn_kafka_mock_free(m);
	agent_config_free(&cf);
	snprintf(buf, sizeof buf, "rm -rf '%s'", dir);
	return system(buf) != 0;
}
