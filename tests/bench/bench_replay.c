/*
 * bench_replay.c -- `make bench`: driftd's engine end to end on one core, one JSON object per
 * line.
 *
 *   replay     records/s through decode -> route -> bin -> windows -> rules -> decisions, for
 *              300,000 generated 22-feature records (~435 bytes) held in memory (the engine's
 *              cost, no I/O), and the same records read from a file by the file source;
 *   decision   from the watermark passing a window's end (the tick that closes it) to its
 *              rollback event written by the sink (a file, fsync'd): rules over 22 features and
 *              the prediction, the store's claim (fsync'd), the event -- "written_ms"; and the
 *              whole tick including the history entry and the latch after it -- "tick_ms".
 *              Median and p99 over 200 decisions.
 * Each replay figure is the median of 5 runs. The store is a temporary dir store with the
 * baseline of the same generator; the decoder is the default one (simdjson when built).
 */
#include "agent/baseline.h"
#include "agent/config.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/traffic.h"
#include "benchsink.h"
#include "connectors/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECORDS 300000
#define REPS	5

struct corpus {
	char *buf;   /* all records, newline separated */
	size_t *off; /* start of record i */
	size_t *len;
	size_t bytes;
};

static void make_corpus(struct corpus *c, const char *version, double drift, uint64_t seed)
{
	struct agent_traffic t;
	size_t cap = (size_t)RECORDS * 600;

	c->buf = malloc(cap);
	c->off = malloc(RECORDS * sizeof *c->off);
	c->len = malloc(RECORDS * sizeof *c->len);
	c->bytes = 0;
	agent_traffic_init(&t, seed, "fraud", version);
	t.drift_shift = drift;
	for (size_t i = 0; i < RECORDS; i++) {
		size_t n = agent_traffic_record(&t, 1795729980000LL + (int64_t)i * 20,
						c->buf + c->bytes, cap - c->bytes);

		c->off[i] = c->bytes;
		c->len[i] = n;
		c->bytes += n;
		c->buf[c->bytes++] = '\n';
	}
}

static void put_baseline(struct conn_store *st, const char *version)
{
	struct agent_baseline_builder *bb =
	    agent_baseline_builder_new("fraud", version, 20, 256, 0.5);
	struct conn_limits lim;
	struct conn_decoder *dec;
	struct corpus c;
	struct agent_baseline *b;
	char err[256], *json;

	conn_limits_default(&lim);
	dec = conn_decoder_new(CONN_DECODER_AUTO, &lim, NULL, 0);
	make_corpus(&c, version, 0, 3);
	for (size_t i = 0; i < 50000; i++) {
		struct conn_record r;

		if (conn_decode(dec, c.buf + c.off[i], c.len[i], &r) == CONN_REJECT_NONE)
			agent_baseline_builder_add(bb, &r);
	}
	b = agent_baseline_builder_finish(bb, 0, err, sizeof err);
	json = agent_baseline_to_json(b);
	conn_store_baseline_put(st, "fraud", version, json, strlen(json));
	conn_store_good_set(st, "fraud", version);
	free(json);
	agent_baseline_free(b);
	conn_decoder_free(dec);
	free(c.buf);
	free(c.off);
	free(c.len);
}

int main(void)
{
	char dir[] = "/tmp/driftd-bench-XXXXXX", spec[64], sinkspec[96], err[256], path[96];
	struct agent_config cf;
	struct conn_store *st;
	struct conn_sink *sink;
	struct corpus c;
	double t[REPS], lat[200], wr[200];
	struct timing_sink ts = { .base = { .ops = &timing_ops } };
	FILE *f;

	if (!mkdtemp(dir))
		return 1;
	agent_log_setup(stderr, 0, AGENT_LOG_ERR);
	agent_config_defaults(&cf);
	snprintf(spec, sizeof spec, "dir:%s/store", dir);
	snprintf(sinkspec, sizeof sinkspec, "file:%s/events.jsonl", dir);
	st = conn_store_open(spec, err, sizeof err);
	sink = conn_sink_open(sinkspec, err, sizeof err);
	if (!st || !sink) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return 1;
	}
	put_baseline(st, "v2.3.1");
	make_corpus(&c, "v2.4.0", 0, 11);

	/* ---- replay from memory ---- */
	for (int r = 0; r < REPS; r++) {
		struct agent_engine *e = agent_engine_new(&cf, st, sink, err, sizeof err);
		double t0 = now();

		for (size_t i = 0; i < RECORDS; i++) {
			struct conn_msg m = { .data = c.buf + c.off[i],
					      .len = c.len[i],
					      .ts_ms = -1 };

			agent_engine_feed(e, &m, 0);
			if ((i & 255) == 255)
				agent_engine_tick(e);
		}
		agent_engine_finish(e);
		t[r] = now() - t0;
		agent_engine_free(e);
	}
	qsort(t, REPS, sizeof *t, cmp_double);
	printf(
	    "{\"bench\":\"replay\",\"source\":\"memory\",\"records\":%d,\"bytes_per_record\":%.0f,"
	    "\"records_per_s\":%.0f,\"us_per_record\":%.3f,\"decoder\":\"%s\"}\n",
	    RECORDS, (double)c.bytes / RECORDS, RECORDS / t[REPS / 2], t[REPS / 2] / RECORDS * 1e6,
	    conn_decoder_available(CONN_DECODER_SIMDJSON) ? "simdjson" : "jansson");
	fflush(stdout);

	/* ---- replay through the file source ---- */
	snprintf(path, sizeof path, "%s/replay.jsonl", dir);
	f = fopen(path, "w");
	fwrite(c.buf, 1, c.bytes, f);
	fclose(f);
	for (int r = 0; r < REPS; r++) {
		struct agent_engine *e = agent_engine_new(&cf, st, sink, err, sizeof err);
		char fspec[128];
		struct conn_source *src;
		struct conn_msg msgs[256];
		double t0 = now();
		int n;

		snprintf(fspec, sizeof fspec, "file:%s", path);
		src = conn_source_open(fspec, cf.max_message, err, sizeof err);
		while ((n = conn_source_next(src, msgs, 256)) > 0) {
			for (int i = 0; i < n; i++)
				agent_engine_feed(e, &msgs[i], 0);
			agent_engine_tick(e);
		}
		agent_engine_finish(e);
		t[r] = now() - t0;
		conn_source_close(src);
		agent_engine_free(e);
	}
	qsort(t, REPS, sizeof *t, cmp_double);
	printf("{\"bench\":\"replay\",\"source\":\"file\",\"records\":%d,\"records_per_s\":%.0f,"
	       "\"mbytes_per_s\":%.1f}\n",
	       RECORDS, RECORDS / t[REPS / 2], (double)c.bytes / t[REPS / 2] / 1e6);
	fflush(stdout);

	/* ---- decision latency: 200 windows that each fire (breach_windows 1, new version each) */
	{
		struct corpus d;
		int k = 0;

		cf.breach_windows = 1;
		cf.cooldown_s = 0;
		ts.inner = sink;
		make_corpus(&d, "v2.4.0", 1.0, 21);
		for (int v = 0; v < 200; v++) {
			struct agent_engine *e =
			    agent_engine_new(&cf, st, &ts.base, err, sizeof err);
			char ver[32];
			double t0;

			snprintf(ver, sizeof ver, "v9.%d", v);
			/* one full window of drifted records of version ver: rewrite the version */
			for (size_t i = 0; i < 3000; i++) {
				char line[4096];
				const char *p = d.buf + d.off[i];
				const char *at = strstr(p, "\"version\":\"v2.4.0\"");
				size_t pre = (size_t)(at - p), n;
				struct conn_msg m;

				n = (size_t)snprintf(line, sizeof line,
						     "%.*s\"version\":\"%s\"%.*s", (int)pre, p, ver,
						     (int)(d.len[i] - pre - 18), at + 18);
				m = (struct conn_msg){ .data = line, .len = n, .ts_ms = -1 };
				agent_engine_feed(e, &m, 0);
			}
			/* the first record after end + grace closes the window: time that tick */
			{
				const char *p = d.buf + d.off[3000 + 250];
				struct conn_msg m = { .data = p,
						      .len = d.len[3000 + 250],
						      .ts_ms = -1 };

				agent_engine_feed(e, &m, 0);
			}
			ts.done_at = 0;
			t0 = now();
			agent_engine_tick(e);
			lat[k] = (now() - t0) * 1e3;
			wr[k++] = ts.done_at > 0 ? (ts.done_at - t0) * 1e3 : 1e9;
			agent_engine_free(e);
		}
		qsort(lat, (size_t)k, sizeof *lat, cmp_double);
		qsort(wr, (size_t)k, sizeof *wr, cmp_double);
		printf("{\"bench\":\"decision\",\"windows\":%d,\"features\":23,"
		       "\"sink\":\"file+fsync\",\"store\":\"dir\",\"written_ms_median\":%.3f,"
		       "\"written_ms_p99\":%.3f,\"tick_ms_median\":%.3f,\"tick_ms_p99\":%.3f}\n",
		       k, wr[k / 2], wr[k * 99 / 100], lat[k / 2], lat[k * 99 / 100]);
		free(d.buf);
		free(d.off);
		free(d.len);
	}
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "bench_replay: could not remove %s\n", dir);
	conn_sink_close(sink);
	conn_store_close(st);
	agent_config_free(&cf);
	free(c.buf);
	free(c.off);
	free(c.len);
	return 0;
}
