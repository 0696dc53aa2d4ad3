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
 *   checkpoint the cost of exactly-once checkpoints (engine.h): the same in-memory replay as Kafka
 *              messages of 3 partitions, without checkpoints and with one forced every
 *              10,000 records (about 400 times as often as the default 5 s interval at this
 *              speed) into a real redis-server the bench starts (the dir store when there is
 *              none); the time per checkpoint, and the share of processing time it costs at
 *              the default interval, saturated and at 10,000 records/s.
 * Each replay figure is the median of 5 runs. The store is a temporary dir store with the
 * baseline of the same generator; the decoder is the default one (simdjson when built).
 */
#include "agent/baseline.h"
#include "agent/config.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/traffic.h"
#include "benchsink.h"
#include "redisproc.h"
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

/* One in-memory replay as Kafka messages of 3 partitions; a checkpoint forced every `every`
 * records (0: checkpoints off). Returns the seconds taken; *ck the engine's counters. */
static double replay_kafka(const struct agent_config *cf, struct conn_store *st,
			   struct conn_sink *sink, const struct corpus *c, size_t every,
			   struct agent_counters *k)
{
	char err[256];
	struct agent_engine *e = agent_engine_new(cf, st, sink, err, sizeof err);
	double t0;
	static int run;
	char scope[32];

	snprintf(scope, sizeof scope, "bench-%d", run++); /* a fresh group: nothing decided yet */
	if (every && agent_engine_checkpoints(e, scope, "bench-1", 3600000, err, sizeof err) < 0) {
		fprintf(stderr, "bench_replay: %s\n", err);
		exit(1);
	}
	t0 = now();
	for (size_t i = 0; i < RECORDS; i++) {
		struct conn_msg m = { .data = c->buf + c->off[i],
				      .len = c->len[i],
				      .ts_ms = -1,
				      .offset = (int64_t)(i / 3),
				      .stream = (uint32_t)(i % 3) + 1,
				      .topic = "inference-logs",
				      .partition = (int32_t)(i % 3) };

		agent_engine_feed(e, &m, 0);
		if ((i & 255) == 255)
			agent_engine_tick(e);
		if (every && i % every == every - 1)
			agent_engine_checkpoint(e, 1);
	}
	t0 = now() - t0;
	*k = *agent_engine_counters(e);
	if (k->windows < 90 || k->late) {
		fprintf(stderr, "bench_replay: %llu windows decided, %llu late records\n",
			(unsigned long long)k->windows, (unsigned long long)k->late);
		exit(1);
	}
	agent_engine_free(e);
	return t0;
}

static void bench_checkpoints(const struct agent_config *cf, struct conn_store *dirstore,
			      struct conn_sink *sink, const struct corpus *c, const char *dir)
{
	char spec[192], err[256];
	pid_t redis = redisproc_start(dir, spec, sizeof spec);
	struct conn_store *st = redis ? conn_store_open(spec, err, sizeof err) : dirstore;
	double off[REPS], on[REPS], per_ck[REPS], ck_s[REPS];
	struct agent_counters k;
	double us_rec, us_ck, us_win, per_minute;
	uint64_t windows = 0;

	if (!st) {
		fprintf(stderr, "bench_replay: %s\n", err);
		st = dirstore;
	}
	if (st != dirstore)
		put_baseline(st, "v2.3.1");
	for (int r = 0; r < REPS; r++) {
		off[r] = replay_kafka(cf, st, sink, c, 0, &k);
		on[r] = replay_kafka(cf, st, sink, c, 10000, &k);
		per_ck[r] =
		    k.checkpoints ? (double)k.checkpoint_ns / 1e3 / (double)k.checkpoints : 0;
		ck_s[r] = (double)k.checkpoint_ns / 1e9;
		windows = k.windows;
	}
	qsort(off, REPS, sizeof *off, cmp_double);
	qsort(on, REPS, sizeof *on, cmp_double);
	qsort(per_ck, REPS, sizeof *per_ck, cmp_double);
	qsort(ck_s, REPS, sizeof *ck_s, cmp_double);
	us_rec = off[REPS / 2] / RECORDS * 1e6;
	us_ck = per_ck[REPS / 2];
	/* what deciding a window costs more with checkpoints (the store's lock, decision state and
	 * other instances' partials are read): the slowdown not spent in the commits */
	us_win = (on[REPS / 2] - off[REPS / 2] - ck_s[REPS / 2]) * 1e6 / (double)windows;
	if (us_win < 0)
		us_win = 0;
	/* at the default window (60 s) and interval (5 s), per minute of one (model, version) */
	per_minute = 12 * us_ck + us_win;
	printf("{\"bench\":\"checkpoint\",\"store\":\"%s\",\"records\":%d,"
	       "\"records_per_s_off\":%.0f,\"records_per_s_every_10000\":%.0f,"
	       "\"us_per_checkpoint\":%.1f,\"us_per_window_decided_extra\":%.1f,"
	       "\"interval_s\":5,\"window_s\":60,\"share_at_default_saturated\":%.6f,"
	       "\"share_at_default_10k_rps\":%.6f,\"share_at_default_100_rps\":%.6f}\n",
	       st == dirstore ? "dir" : "redis", RECORDS, RECORDS / off[REPS / 2],
	       RECORDS / on[REPS / 2], us_ck, us_win, per_minute / 60e6,
	       per_minute / (10000.0 * 60 * us_rec + per_minute),
	       per_minute / (100.0 * 60 * us_rec + per_minute));
	fflush(stdout);
	if (st != dirstore)
		conn_store_close(st);
	redisproc_stop(redis);
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

	bench_checkpoints(&cf, st, sink, &c, dir);

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
