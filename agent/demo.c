/*
 * demo.c -- `driftd demo` (see demo.h): its options (getopt_long, cmdline.h), the store set up
 * through the admin operations (admin.h), the mock cluster, the traffic and the table.
 */
#include "agent/demo.h"
#include "agent/admin.h"
#include "agent/cmdline.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/timefmt.h"
#include "agent/traffic.h"
#include "connectors/kafka.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOPIC		 "inference-logs"
#define PER_WINDOW	 3000 /* records per 60 s window (50/s) */
#define WINDOW_MS	 60000
#define START_MS	 1795729980000LL /* 2026-11-26T21:13:00Z, window aligned */
#define BASELINE_RECORDS 40000

struct demo {
	FILE *out;
	char dir[64];
	int rollbacks;
	char *event;	   /* the last event's JSON */
	int degraded_from; /* first degraded window index */
};

static void row(void *arg, const struct agent_window_report *r)
{
	struct demo *d = arg;
	const struct agent_eval *e = r->eval;
	const struct agent_rule_result *kl = &e->rule[AGENT_RULE_KL];
	char s[AGENT_TIME_LEN], t[AGENT_TIME_LEN], klbuf[40], lat[16], acc[16], dec[64];

	agent_time_format(e->start_ms, s);
	agent_time_format(e->end_ms, t);
	if (kl->outcome == AGENT_INCONCLUSIVE)
		snprintf(klbuf, sizeof klbuf, "inconclusive");
	else
		snprintf(klbuf, sizeof klbuf, "%.3f %-8s", kl->value,
			 kl->feature ? kl->feature : "");
	snprintf(lat, sizeof lat, isfinite(e->p95 / e->base_p95) ? "%.2f" : "-",
		 e->p95 / e->base_p95);
	snprintf(acc, sizeof acc, isfinite(e->accuracy - e->base_accuracy) ? "%+.3f" : "-",
		 e->accuracy - e->base_accuracy);
	if (r->event_json)
		snprintf(dec, sizeof dec, "ROLLBACK -> %s",
			 r->decision->to_version ? r->decision->to_version : "(needs target)");
	else if (r->decision->blocked)
		snprintf(dec, sizeof dec, "breach (%s)", r->decision->blocked);
	else if (agent_eval_breached(e))
		snprintf(dec, sizeof dec, "breach %u/2",
			 r->decision->streak[AGENT_RULE_KL] >
				 r->decision->streak[AGENT_RULE_LATENCY]
			     ? r->decision->streak[AGENT_RULE_KL]
			     : r->decision->streak[AGENT_RULE_LATENCY]);
	else
		snprintf(dec, sizeof dec, "pass");
	fprintf(d->out, "  %.5s-%.5s %6" PRIu64 "  %-22s %6s %8s   %s\n", s + 11, t + 11, e->n,
		klbuf, lat, acc, dec);
	fflush(d->out);
	if (r->event_json) {
		d->rollbacks++;
		free(d->event);
		d->event = strdup(r->event_json);
	}
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

/* Writes n generated records of version v into path. */
static int write_traffic(const char *path, const char *v, int n, uint64_t seed)
{
	struct agent_traffic t;
	char buf[4096];
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	agent_traffic_init(&t, seed, "fraud", v);
	for (int i = 0; i < n; i++) {
		size_t len = agent_traffic_record(&t, START_MS - 3600000 + i * 20, buf, sizeof buf);

		buf[len] = '\n';
		fwrite(buf, 1, len + 1, f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* The admin operation's result: 0, or -1 with its message on err. */
static int admin_ok(struct agent_admin *a, enum agent_admin_result r, FILE *err)
{
	if (r == AGENT_ADMIN_OK)
		return 0;
	fprintf(err, "driftd demo: %s\n", agent_admin_error(a));
	return -1;
}

/* Registers fraud v2.3.1 and v2.4.0, builds v2.3.1's baseline and marks it good, as an
 * operator does with driftctl. */
static int setup_store(struct demo *d, FILE *err, const char *store)
{
	static const char fp[] = "{\"amount\":\"log1p\",\"country\":\"one-hot\"}";
	const struct agent_admin_version v1 = {
		.model = "fraud",
		.version = "v2.3.1",
		.training_data_hash = "sha256:5e0c7b",
		.feature_params = fp,
		.hyperparams = "{\"max_depth\":6,\"n_estimators\":300}",
	};
	const struct agent_admin_version v2 = {
		.model = "fraud",
		.version = "v2.4.0",
		.training_data_hash = "sha256:9a41d2",
		.feature_params = fp,
		.hyperparams = "{\"max_depth\":8,\"n_estimators\":500}",
	};
	struct agent_admin *a = agent_admin_new(store, NULL);
	struct agent_admin_build built;
	char path[128];
	int rc = -1;

	if (!a) {
		fprintf(err, "driftd demo: out of memory\n");
		return -1;
	}
	snprintf(path, sizeof path, "%s/good-traffic.jsonl", d->dir);
	if (admin_ok(a, agent_admin_register(a, &v1, NULL), err) < 0 ||
	    admin_ok(a, agent_admin_register(a, &v2, NULL), err) < 0)
		goto out;
	fprintf(d->out, "1. registered fraud v2.3.1 and v2.4.0 (training-data hash, feature "
			"params, hyperparameters)\n");
	if (write_traffic(path, "v2.3.1", BASELINE_RECORDS, 3) < 0) {
		fprintf(err, "driftd demo: cannot write %s\n", path);
		goto out;
	}
	if (admin_ok(a, agent_admin_baseline_build(a, "fraud", "v2.3.1", path, 0, &built), err) <
		0 ||
	    admin_ok(a, agent_admin_good(a, "fraud", "v2.3.1", NULL), err) < 0)
		goto out;
	fprintf(d->out,
		"2. built the baseline of v2.3.1 from %d generated records (%zu equal-frequency "
		"bins per numeric feature); v2.3.1 is the last known good version\n",
		BASELINE_RECORDS, built.bins);
	rc = 0;
out:
	agent_admin_free(a);
	return rc;
}

enum { OPT_DURATION = 256, OPT_WINDOWS, OPT_KEEP };

static const struct option options[] = {
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "windows", required_argument, NULL, OPT_WINDOWS },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ NULL, 0, NULL, 0 },
};

/* Parses argv: 0, or -1 on a usage error (an unknown option or argument, a value out of range:
 * duration 0..600 s, 4..200 windows). */
static int parse(int argc, char **argv, double *duration, int *windows, int *keep)
{
	int r, at;

	agent_cmdline_reset();
	while ((r = agent_cmdline_next(argc, argv, "+:", options, &at)) != -1) {
		switch (r) {
		case OPT_KEEP:
			*keep = 1;
			break;
		case OPT_DURATION:
			*duration = atof(optarg);
			if (!(*duration >= 0 && *duration <= 600))
				return -1;
			break;
		case OPT_WINDOWS:
			*windows = atoi(optarg);
			if (*windows < 4 || *windows > 200)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return optind < argc ? -1 : 0;
}

int agent_demo_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct demo d = { .out = out };
	double duration = 20;
	int windows = 12, keep = 0, rc = 1;
	char store[96], events[96], errbuf[512], buf[4096];
	struct agent_config c;
	struct conn_kafka_mock *mock = NULL;
	struct conn_kafka_producer *prod = NULL;
	struct conn_source *src = NULL;
	struct conn_store *st = NULL;
	struct conn_sink *sink = NULL;
	struct agent_engine *e = NULL;
	struct agent_traffic t;
	struct conn_msg msgs[512];
	uint64_t produced = 0;
	int64_t wall0 = agent_time_mono_ms(); /* the run's pace, on the monotonic clock */

	if (parse(argc, argv, &duration, &windows, &keep) < 0) {
		fprintf(err, "usage: driftd demo [--duration SECONDS] [--windows N] [--keep]\n");
		return 2;
	}
	agent_config_defaults(&c);
	free(c.agent_id);
	c.agent_id = strdup("demo");
	agent_log_setup(err, 0, AGENT_LOG_WARNING);
	strcpy(d.dir, "/tmp/driftd-demo-XXXXXX");
	if (!mkdtemp(d.dir)) {
		fprintf(err, "driftd demo: cannot create a temporary directory\n");
		goto out;
	}
	snprintf(store, sizeof store, "dir:%s/store", d.dir);
	snprintf(events, sizeof events, "file:%s/events.jsonl", d.dir);
	fprintf(out,
		"driftd demo: an in-process Kafka-protocol cluster, generated traffic and a "
		"local store in %s\n\n",
		d.dir);
	if (setup_store(&d, err, store) < 0)
		goto out;

	if (!(mock = conn_kafka_mock_new(1, errbuf, sizeof errbuf)) ||
	    conn_kafka_mock_topic(mock, TOPIC, 3, errbuf, sizeof errbuf) < 0 ||
	    !(prod = conn_kafka_producer_new(conn_kafka_mock_bootstraps(mock), NULL, errbuf,
					     sizeof errbuf)) ||
	    !(src = conn_source_open_kafka(TOPIC, conn_kafka_mock_bootstraps(mock), NULL, NULL, 100,
					   c.max_message, errbuf, sizeof errbuf)) ||
	    !(st = conn_store_open(store, errbuf, sizeof errbuf)) ||
	    !(sink = conn_sink_open(events, errbuf, sizeof errbuf)) ||
	    !(e = agent_engine_new(&c, st, sink, errbuf, sizeof errbuf))) {
		fprintf(err, "driftd demo: %s\n", errbuf);
		goto out;
	}
	agent_engine_on_window(e, row, &d);
	d.degraded_from = windows / 2 - 1;
	fprintf(out,
		"3. Kafka (librdkafka mock cluster) at %s, topic %s, 3 partitions; driftd "
		"consumes all of them\n",
		conn_kafka_mock_bootstraps(mock), TOPIC);
	fprintf(out,
		"4. streaming fraud v2.4.0, %d records per 60 s window: %d healthy windows, then "
		"drift in amount and country with latency x1.4\n\n",
		PER_WINDOW, d.degraded_from);
	fprintf(out,
		"  window (UTC)  records  worst KL (feature)     p95/base acc-base  decision\n");

	agent_traffic_init(&t, 11, "fraud", "v2.4.0");
	for (int w = 0; w < windows; w++) {
		int64_t deadline = wall0 + (int64_t)(duration * 1000.0 * (w + 1) / windows);
		int64_t give_up = agent_time_mono_ms() + 15000;

		if (w == d.degraded_from) {
			t.drift_shift = 1.0;
			t.country_mix = 0.8;
			t.latency_factor = 1.4;
		}
		for (int i = 0; i < PER_WINDOW; i++) {
			int64_t ts =
			    START_MS + (int64_t)w * WINDOW_MS + (int64_t)i * WINDOW_MS / PER_WINDOW;
			size_t len = agent_traffic_record(&t, ts, buf, sizeof buf);

			if (conn_kafka_produce(prod, TOPIC, NULL, buf, len, ts, NULL, 0) < 0) {
				fprintf(err, "driftd demo: %s\n", conn_kafka_producer_error(prod));
				goto out;
			}
			produced++;
		}
		if (conn_kafka_producer_flush(prod, 10000) < 0) {
			fprintf(err, "driftd demo: %s\n", conn_kafka_producer_error(prod));
			goto out;
		}
		/* consume until driftd has seen everything produced so far */
		while (agent_engine_counters(e)->records < produced) {
			int n = conn_source_next(src, msgs, 512);
			int64_t now = agent_time_now_ms();

			if (n < 0 || agent_time_mono_ms() > give_up) {
				fprintf(err, "driftd demo: consuming stalled: %s\n",
					n < 0 ? conn_source_error(src) : "timeout");
				goto out;
			}
			for (int i = 0; i < n; i++)
				agent_engine_feed(e, &msgs[i], now);
			agent_engine_tick(e);
		}
		sleep_ms(deadline - agent_time_mono_ms());
	}
	agent_engine_finish(e);
	if (!d.event) {
		fprintf(err, "driftd demo: no rollback event was emitted\n");
		goto out;
	}
	{
		json_t *j = json_loads(d.event, 0, NULL);
		char *pretty =
		    j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))
		      : NULL;

		fprintf(out,
			"\nrollback event (CloudEvents 1.0; the deployment tooling acts on it):\n"
			"%s\n",
			pretty ? pretty : d.event);
		free(pretty);
		json_decref(j);
	}
	fprintf(out, "\n%" PRIu64 " records in %.1f s. Try: driftctl --store %s history fraud\n",
		produced, (double)(agent_time_mono_ms() - wall0) / 1000.0, store);
	rc = 0;
out:
	agent_engine_free(e);
	conn_sink_close(sink);
	conn_store_close(st);
	conn_source_close(src);
	conn_kafka_producer_free(prod);
	conn_kafka_mock_free(mock);
	free(d.event);
	agent_config_free(&c);
	if (!keep && d.dir[0] && d.dir[strlen(d.dir) - 1] != 'X') {
		snprintf(buf, sizeof buf, "rm -rf '%s'", d.dir);
		if (system(buf) != 0)
			fprintf(err, "driftd demo: could not remove %s\n", d.dir);
	} else if (keep) {
		fprintf(out, "kept %s\n", d.dir);
	}
	return rc;
}
