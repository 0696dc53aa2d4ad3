/*
 * test_engine.c -- the engine on records built in the test (no decoder): window boundaries and
 * the lateness grace, late records, min_samples, windows without a baseline, each rule's pass /
 * breach / inconclusive, and the decisions end to end through a real dir store and a file sink:
 * breach_windows, hold, latch and rearm, cooldown, dry run, needs_target, and a re-evaluated
 * window suppressed by the store's claim.
 */
#include "agent/baseline.h"
#include "agent/engine.h"
#include "agent/watermark.h"
#include "agent/log.h"
#include "agent/timefmt.h"
#include "testutil.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a tiny model: feature x ~ N(mu, 1), c in {a, b}, prediction, label, latency ---- */

struct gen {
	struct tu_rng r;
	double mu;	/* mean of x */
	double pa;	/* share of "a" in c */
	double latency; /* ms scale */
	double flip;	/* label flip probability */
	char id[32];
};

static void make_record(struct gen *g, struct conn_record *rec, struct conn_feature f[2])
{
	double p = tu_uniform(&g->r);

	memset(rec, 0, sizeof *rec);
	rec->model = "m";
	rec->model_len = 1;
	rec->version = "v2";
	rec->version_len = 2;
	f[0] = (struct conn_feature){ .name = "x",
				      .name_len = 1,
				      .value = { .kind = CONN_VALUE_NUMBER,
						 .num = g->mu + tu_normal(&g->r) } };
	f[1] = (struct conn_feature){ .name = "c",
				      .name_len = 1,
				      .value = { .kind = CONN_VALUE_STRING,
						 .str = tu_uniform(&g->r) < g->pa ? "a" : "b",
						 .len = 1 } };
	rec->features = f;
	rec->nfeatures = 2;
	rec->prediction = (struct conn_value){ .kind = CONN_VALUE_NUMBER, .num = p };
	rec->label =
	    (struct conn_value){ .kind = CONN_VALUE_NUMBER,
				 .num = (tu_uniform(&g->r) < p) ^ (tu_uniform(&g->r) < g->flip) };
	rec->has_latency = 1;
	rec->latency_ms = g->latency * (1 + 0.2 * tu_uniform(&g->r));
	rec->has_error = 1;
	rec->error = 0;
}

static struct gen healthy(uint64_t seed)
{
	struct gen g = { .r = { seed }, .mu = 0, .pa = 0.7, .latency = 10, .flip = 0 };

	return g;
}

/* ---- fixture: a store with v1 (good, baseline) and v2, a sink file ---- */

struct fx {
	char dir[64], sink_path[96], store_spec[96], sink_spec[112];
	struct conn_store *store;
	struct conn_sink *sink;
	struct agent_config c;
	struct agent_engine *e;
	int windows, events, duplicates;
	int m_windows;		   /* of model "m" */
	uint64_t m_n[8];	   /* records of model m's decided windows, in order */
	uint64_t x_nonfinite, x_n; /* feature x of the last window: non-finite values, compared */
	struct agent_eval last;	   /* copy of the last report's eval (features not kept) */
	char last_type[64], last_blocked[32];
};

static void on_window(void *arg, const struct agent_window_report *r)
{
	struct fx *x = arg;

	x->windows++;
	if (!strcmp(r->model, "m") && x->m_windows < 8)
		x->m_n[x->m_windows++] = r->eval->n;
	for (size_t i = 0; i < r->eval->nfeatures; i++)
		if (!strcmp(r->eval->features[i].name, "x")) {
			x->x_nonfinite = r->eval->features[i].nonfinite;
			x->x_n = r->eval->features[i].n;
		}
	x->last = *r->eval;
	x->last.features = NULL;
	x->last_type[0] = x->last_blocked[0] = '\0';
	if (r->event_json) {
		x->events++;
		snprintf(x->last_type, sizeof x->last_type, "%s", r->decision->type);
	}
	if (r->duplicate)
		x->duplicates++;
	if (r->decision->blocked)
		snprintf(x->last_blocked, sizeof x->last_blocked, "%s", r->decision->blocked);
}

static void put_baseline(struct fx *x, const char *version, uint64_t seed)
{
	struct agent_baseline_builder *bb = agent_baseline_builder_new("m", version, 20, 256, 0.5);
	struct gen g = healthy(seed);
	struct agent_baseline *b;
	char err[256], *json;

	assert_non_null(bb);
	for (int i = 0; i < 20000; i++) {
		struct conn_record rec;
		struct conn_feature f[2];

		make_record(&g, &rec, f);
		assert_int_equal(agent_baseline_builder_add(bb, &rec), 0);
	}
	b = agent_baseline_builder_finish(bb, 1, err, sizeof err);
	assert_non_null(b);
	json = agent_baseline_to_json(b);
	assert_non_null(json);
	assert_int_equal(conn_store_baseline_put(x->store, "m", version, json, strlen(json)), 0);
	free(json);
	agent_baseline_free(b);
}

static void fx_engine(struct fx *x)
{
	char err[256];

	agent_engine_free(x->e);
	x->e = agent_engine_new(&x->c, x->store, x->sink, err, sizeof err);
	assert_non_null(x->e);
	agent_engine_on_window(x->e, on_window, x);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	char err[256];

	strcpy(x->dir, "/tmp/driftd-engine-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->store_spec, sizeof x->store_spec, "dir:%s/store", x->dir);
	snprintf(x->sink_path, sizeof x->sink_path, "%s/events.jsonl", x->dir);
	snprintf(x->sink_spec, sizeof x->sink_spec, "file:%s", x->sink_path);
	x->store = conn_store_open(x->store_spec, err, sizeof err);
	assert_non_null(x->store);
	x->sink = conn_sink_open(x->sink_spec, err, sizeof err);
	assert_non_null(x->sink);
	put_baseline(x, "v1", 1);
	assert_int_equal(conn_store_good_set(x->store, "m", "v1"), 0);
	agent_config_defaults(&x->c);
	free(x->c.agent_id);
	x->c.agent_id = strdup("test");
	x->c.window_s = 60;
	x->c.grace_s = 5;
	fx_engine(x);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	agent_engine_free(x->e);
	conn_sink_close(x->sink);
	conn_store_close(x->store);
	agent_config_free(&x->c);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

/* Feeds n records of g spread evenly over [t0, t0 + span) ms, then ticks. */
static void feed(struct fx *x, struct gen *g, int n, int64_t t0, int64_t span)
{
	for (int i = 0; i < n; i++) {
		struct conn_record rec;
		struct conn_feature f[2];

		make_record(g, &rec, f);
		agent_engine_add(x->e, &rec, t0 + span * i / n);
	}
	agent_engine_tick(x->e);
}

/* ---- tests ---- */

static void test_boundaries_and_lateness(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(2);
	const struct agent_counters *k = agent_engine_counters(x->e);

	feed(x, &g, 1000, 0, 60000);  /* window [0, 60 s) */
	feed(x, &g, 10, 60000, 4999); /* [60 s, 65 s): watermark < 60 s, nothing closes */
	assert_int_equal(x->windows, 0);
	feed(x, &g, 1, 65000, 1); /* watermark 60 s: the first window closes */
	assert_int_equal(x->windows, 1);
	assert_int_equal(x->last.start_ms, 0);
	assert_int_equal(x->last.end_ms, 60000);
	assert_int_equal(x->last.n, 1000);
	feed(x, &g, 3, 59000, 10); /* late: its window is closed */
	assert_int_equal(k->late, 3);
	assert_int_equal(k->accepted, 1011);
	agent_engine_finish(x->e);
	assert_int_equal(x->windows, 2);
	assert_int_equal(x->last.n, 11);
	/* 11 records < min_samples: every rule inconclusive */
	for (int r = 0; r < AGENT_RULE_COUNT; r++)
		assert_int_equal(x->last.rule[r].outcome, AGENT_INCONCLUSIVE);
	assert_string_equal(x->last.rule[AGENT_RULE_KL].why, "min_samples");
}

static void test_healthy_passes(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(3);

	for (int w = 0; w < 10; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	agent_engine_finish(x->e);
	assert_int_equal(x->windows, 10);
	assert_int_equal(x->events, 0);
	assert_int_equal(x->last.rule[AGENT_RULE_KL].outcome, AGENT_PASS);
	assert_int_equal(x->last.rule[AGENT_RULE_LATENCY].outcome, AGENT_PASS);
	assert_int_equal(x->last.rule[AGENT_RULE_ACCURACY].outcome, AGENT_PASS);
	assert_int_equal(x->last.rule[AGENT_RULE_PSI].enabled, 0);
	assert_int_equal(tu_count_lines(x->sink_path), 0);
}

static void test_drift_fires_once_then_latched(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(4);
	int latched = 0;

	g.mu = 1.0;
	feed(x, &g, 3000, 0, 60000);
	feed(x, &g, 3000, 60000, 60000); /* closes window 1: breach 1/2 */
	assert_int_equal(x->events, 0);
	assert_int_equal(x->last.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	assert_string_equal(x->last.rule[AGENT_RULE_KL].feature, "x");
	feed(x, &g, 3000, 120000, 60000); /* closes window 2: fires */
	assert_int_equal(x->events, 1);
	assert_string_equal(x->last_type, AGENT_EVENT_ROLLBACK);
	assert_int_equal(conn_store_latch_get(x->store, "m", "v2", &latched), 0);
	assert_true(latched);
	for (int w = 3; w < 8; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 1);
	assert_string_equal(x->last_blocked, "latched");
	/* rearm: fires again after two more breaches -- but the cooldown holds it */
	assert_int_equal(conn_store_latch_set(x->store, "m", "v2", 0), 0);
	for (int w = 8; w < 11; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 1);
	assert_string_equal(x->last_blocked, "cooldown");
	/* after the cooldown (600 s from the rollback's window end, 180 s) it fires */
	for (int w = 11; w < 14; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 2);
	assert_int_equal(tu_count_lines(x->sink_path), 2);
}

static void test_hold_and_dry_run(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(5);
	int latched = 1;

	g.latency = 14; /* p95 ratio 1.4 */
	assert_int_equal(conn_store_hold_set(x->store, "m", 1), 0);
	for (int w = 0; w < 4; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 0);
	assert_string_equal(x->last_blocked, "hold");
	assert_int_equal(x->last.rule[AGENT_RULE_LATENCY].outcome, AGENT_BREACH);
	assert_int_equal(conn_store_hold_set(x->store, "m", 0), 0);
	x->c.dry_run = 1;
	feed(x, &g, 3000, 4 * 60000, 60000);
	assert_int_equal(x->events, 1);
	assert_string_equal(x->last_type, AGENT_EVENT_DRYRUN);
	/* a dry run does not latch the version in the store */
	assert_int_equal(conn_store_latch_get(x->store, "m", "v2", &latched), 0);
	assert_false(latched);
}

/* A dry-run decision and the real one of the same window have ids of their own: neither claim
 * suppresses the other, in either order (a shadow agent in dry run on the same store, or a dry
 * run before the real one). */
static void test_dry_run_own_ids(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(5);

	g.latency = 14; /* p95 ratio 1.4: windows 0 and 1 breach, the second one fires */
	x->c.dry_run = 1;
	fx_engine(x);
	for (int w = 0; w < 3; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 1);
	assert_string_equal(x->last_type, AGENT_EVENT_DRYRUN);
	x->c.dry_run = 0; /* the real run over the same windows */
	fx_engine(x);
	for (int w = 0; w < 3; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 2);
	assert_int_equal(x->duplicates, 0);
	assert_string_equal(x->last_type, AGENT_EVENT_ROLLBACK);

	/* the reverse: a real decision first, then a dry run of the same windows (15 minutes on:
	 * past the first rollback's cooldown, which the store shares with every agent) */
	assert_int_equal(conn_store_latch_set(x->store, "m", "v2", 0), 0); /* driftctl rearm */
	fx_engine(x);
	for (int w = 15; w < 18; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 3);
	assert_string_equal(x->last_type, AGENT_EVENT_ROLLBACK);
	assert_int_equal(conn_store_latch_set(x->store, "m", "v2", 0), 0); /* driftctl rearm */
	x->c.dry_run = 1;
	fx_engine(x);
	for (int w = 15; w < 18; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 4);
	assert_int_equal(x->duplicates, 0);
	assert_string_equal(x->last_type, AGENT_EVENT_DRYRUN);
	assert_int_equal(tu_count_lines(x->sink_path), 4);
}

/* Late means late: once the watermark passed a window, its records are late even when the pair
 * never had that window open (issue 10: window 0, one record far later, then window 3 -- every
 * record of window 3 is late, no fragment window is opened and decided). */
static void test_never_open_behind_watermark(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(12);
	const struct agent_counters *k;

	feed(x, &g, 3000, 0, 60000);   /* window 0 */
	feed(x, &g, 1, 10 * 60000, 1); /* one record of window 10: window 0 closes */
	assert_int_equal(x->windows, 1);
	feed(x, &g, 3000, 3 * 60000, 60000); /* window 3, behind the watermark (595 s) */
	k = agent_engine_counters(x->e);
	assert_int_equal(k->late, 3000);
	assert_int_equal(k->accepted, 3001);
	assert_int_equal(x->windows, 1);
	agent_engine_finish(x->e); /* window 10 only */
	assert_int_equal(x->windows, 2);
	assert_int_equal(x->last.n, 1);
	assert_int_equal(x->last.start_ms, 10 * 60000);
}

/* An event the sink refuses is kept and retried on every tick, each attempt counted in
 * event_retries (and logged at warning). /dev/full refuses every write. */
static void test_refused_event_retried(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(5);
	struct conn_sink *full, *good = x->sink;
	char err[256];
	const struct agent_counters *k;

	full = conn_sink_open("file:/dev/full", err, sizeof err);
	assert_non_null(full);
	x->sink = full;
	fx_engine(x);
	g.latency = 14;
	for (int w = 0; w < 3; w++) /* window 1 fires; the event is refused, kept */
		feed(x, &g, 3000, w * 60000, 60000);
	k = agent_engine_counters(x->e);
	assert_int_equal(k->events, 0);
	assert_true(k->event_errors >= 1);
	assert_int_equal(k->event_retries, 0); /* refused in the last tick */
	/* tried again after 100 ms, then 200, 400, 800 (the 4th at 1.5 s): over 1 s of ticks every
	 * 10 ms, 2 to 4 retries (not one a tick), however slow the ticks */
	for (int64_t t0 = agent_time_mono_ms(); agent_time_mono_ms() - t0 < 1000;) {
		agent_engine_tick(x->e);
		usleep(10000);
	}
	assert_in_range(k->event_retries, 2, 4);
	assert_int_equal(k->events, 0);
	agent_engine_free(x->e);
	x->e = NULL;
	conn_sink_close(full);
	x->sink = good;
}

static void test_accuracy_and_needs_target(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(6);
	FILE *f;
	char line[8192];

	g.flip = 0.3;
	/* no good version: compared with v2's own baseline, built healthy */
	put_baseline(x, "v2", 9);
	assert_int_equal(conn_store_good_set(x->store, "m", "v2"), 0);
	for (int w = 0; w < 3; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 1);
	assert_string_equal(x->last_type, AGENT_EVENT_NEEDS_TARGET);
	f = fopen(x->sink_path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof line, f));
	fclose(f);
	assert_non_null(strstr(line, "\"to_version\":null"));
	assert_non_null(strstr(line, "\"trigger\":\"accuracy\""));
	assert_non_null(strstr(line, "\"type\":\"io.driftd.rollback.needs_target\""));
}

static void test_duplicate_suppressed(void **state)
{
	struct fx *x = *state;
	struct gen g1 = healthy(7), g2;

	g1.mu = 1.0;
	g2 = g1;
	for (int w = 0; w < 3; w++)
		feed(x, &g1, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 1);
	/* a restarted agent re-evaluates the same windows: same id, claimed, not emitted */
	assert_int_equal(conn_store_latch_set(x->store, "m", "v2", 0), 0);
	fx_engine(x);
	for (int w = 0; w < 3; w++)
		feed(x, &g2, 3000, w * 60000, 60000);
	assert_int_equal(x->events, 1);
	assert_int_equal(x->duplicates, 1);
	assert_int_equal(tu_count_lines(x->sink_path), 1);
}

static int count_pending(void *arg, const char *id, const char *model, const char *doc, size_t len)
{
	(void)id;
	(void)model;
	(void)doc;
	(void)len;
	++*(int *)arg;
	return 0;
}

static int count_history(void *arg, const char *doc, size_t len)
{
	(void)doc;
	(void)len;
	++*(int *)arg;
	return 0;
}

/* An agent decides a rollback and dies before the sink took it (here the sink refuses it, and
 * the agent is freed without a drain): the event was stored with its claim, so the next agent
 * on the store delivers it, once, and deciding the same windows again sends nothing more. */
static void test_outbox_survives_crash(void **state)
{
	struct fx *x = *state;
	struct gen g1 = healthy(7), g2;
	struct conn_sink *full, *good = x->sink;
	char err[256];
	int pending = 0, history = 0;

	g1.mu = 1.0;
	g2 = g1;
	full = conn_sink_open("file:/dev/full", err, sizeof err);
	assert_non_null(full);
	x->sink = full;
	fx_engine(x);
	for (int w = 0; w < 3; w++)
		feed(x, &g1, 3000, w * 60000, 60000);
	assert_int_equal(agent_engine_counters(x->e)->events, 0);
	assert_int_equal(conn_store_pending_list(x->store, count_pending, &pending), 0);
	assert_int_equal(pending, 1);
	agent_engine_free(x->e); /* the crash */
	x->e = NULL;
	conn_sink_close(full);
	x->sink = good;
	fx_engine(x);
	agent_engine_tick(x->e); /* the outbox is read at the first tick */
	assert_int_equal(tu_count_lines(x->sink_path), 1);
	assert_int_equal(agent_engine_counters(x->e)->events, 1);
	pending = 0;
	assert_int_equal(conn_store_pending_list(x->store, count_pending, &pending), 0);
	assert_int_equal(pending, 0);
	assert_int_equal(conn_store_history(x->store, "m", count_history, &history), 0);
	assert_int_equal(history, 1);
	/* the delivering agent latched the version: the same windows decided again are blocked */
	x->windows = 0;
	for (int w = 0; w < 3; w++)
		feed(x, &g2, 3000, w * 60000, 60000);
	assert_true(x->windows >= 2);
	assert_string_equal(x->last_blocked, "latched");
	/* re-armed: the same decision again is a duplicate, nothing more is sent */
	assert_int_equal(conn_store_latch_set(x->store, "m", "v2", 0), 0);
	fx_engine(x);
	for (int w = 0; w < 3; w++)
		feed(x, &g2, 3000, w * 60000, 60000);
	assert_int_equal(x->duplicates, 1);
	assert_int_equal(tu_count_lines(x->sink_path), 1);
}

static void test_no_baseline(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(8);
	struct conn_record rec;
	struct conn_feature f[2];

	make_record(&g, &rec, f);
	rec.model = "other";
	rec.model_len = 5;
	for (int i = 0; i < 500; i++)
		agent_engine_add(x->e, &rec, 1000 + i);
	agent_engine_finish(x->e);
	assert_int_equal(x->windows, 1);
	assert_string_equal(x->last.rule[AGENT_RULE_KL].why, "no_baseline");
	assert_int_equal(x->last.rule[AGENT_RULE_LATENCY].outcome, AGENT_INCONCLUSIVE);
}

static void test_sliding_view(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(10);

	/* 150 records a window: below min_samples (200) on its own */
	for (int w = 0; w < 3; w++)
		feed(x, &g, 150, w * 60000, 60000);
	assert_int_equal(x->windows, 2);
	assert_int_equal(x->last.rule[AGENT_RULE_KL].outcome, AGENT_INCONCLUSIVE);
	/* the same with the last 3 windows merged: conclusive from the second window on */
	x->c.sliding_k = 3;
	fx_engine(x);
	x->windows = 0;
	for (int w = 0; w < 4; w++)
		feed(x, &g, 150, w * 60000, 60000);
	assert_int_equal(x->windows, 3);
	assert_int_equal(x->last.n, 450); /* windows 0, 1 and 2 merged */
	assert_int_equal(x->last.start_ms, 0);
	assert_int_equal(x->last.end_ms, 180000);
	assert_int_not_equal(x->last.rule[AGENT_RULE_KL].outcome, AGENT_INCONCLUSIVE);
}

static void test_sample_size_aware(void **state)
{
	struct fx *x = *state;
	struct gen g1 = healthy(12), g2 = healthy(12);

	/* a threshold below the sampling noise of KL at n = 300 (about (K-1)/2n = 0.035) */
	x->c.kl.threshold = 0.02;
	feed(x, &g1, 300, 0, 60000);
	feed(x, &g1, 1, 65000, 1); /* watermark 60 s: closes it */
	assert_int_equal(x->windows, 1);
	assert_int_equal(x->last.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	/* the same window, with significance required: noise is not significant */
	x->c.sample_size_aware = 1;
	fx_engine(x);
	feed(x, &g2, 300, 0, 60000);
	feed(x, &g2, 1, 65000, 1);
	assert_int_equal(x->windows, 2);
	assert_int_equal(x->last.rule[AGENT_RULE_KL].outcome, AGENT_PASS);
}

/* Feeds one JSON record of stream `stream` at time ts through the decoder path. */
/* A record of time ts on stream, received at wall time wall. */
static void feed_json_at(struct fx *x, uint32_t stream, int64_t ts, int64_t wall)
{
	char line[256];
	int n = snprintf(line, sizeof line,
			 "{\"model\":\"m\",\"version\":\"v2\",\"ts\":%lld,"
			 "\"features\":{\"x\":0.5,\"c\":\"a\"},\"prediction\":0.3}",
			 (long long)ts);
	struct conn_msg m = { .data = line, .len = (size_t)n, .ts_ms = -1, .stream = stream };

	agent_engine_feed(x->e, &m, wall);
}

static void feed_json(struct fx *x, uint32_t stream, int64_t ts)
{
	feed_json_at(x, stream, ts, agent_time_now_ms());
}

static void control(struct fx *x, uint32_t stream, int hello, int eof)
{
	struct conn_msg m = {
		.data = "", .ts_ms = -1, .stream = stream, .hello = hello, .eof = eof
	};

	agent_engine_feed(x->e, &m, agent_time_now_ms());
}

static void test_partition_watermarks(void **state)
{
	struct fx *x = *state;
	const struct agent_counters *k = agent_engine_counters(x->e);

	/* two partitions assigned; only the first delivers, far ahead in event time */
	control(x, 1, 1, 0);
	control(x, 2, 1, 0);
	for (int64_t t = 0; t < 300000; t += 1000)
		feed_json(x, 1, t);
	agent_engine_tick(x->e);
	assert_int_equal(x->windows, 0); /* partition 2 holds time back */
	/* partition 2 delivers an old record: it is on time, not late (received, as far as the
	 * engine knows, 0.6 s before it would count as silent) */
	feed_json_at(x, 2, 30000, agent_time_now_ms() - AGENT_STREAM_IDLE_MS + 600);
	agent_engine_tick(x->e);
	assert_int_equal(k->late, 0);
	assert_int_equal(x->windows, 0); /* its high-water mark is 30 s: nothing ended by 25 s */
	/* partition 2 reaches its end: it keeps holding its mark (its producer may be behind
	 * the other one's: its next records belong to the windows open now) */
	control(x, 2, 0, 1);
	agent_engine_tick(x->e);
	assert_int_equal(x->windows, 0);
	/* until it has been silent for AGENT_STREAM_IDLE_MS: windows up to 295 s close */
	usleep(900 * 1000);
	agent_engine_tick(x->e);
	assert_int_equal(x->windows, 4);
	assert_int_equal(k->records, 301); /* control messages are not records */
	/* now a record for a closed window is late */
	feed_json(x, 2, 10000);
	assert_int_equal(k->late, 1);
}

/* A record without a time, on stream 0, received at wall. */
static void feed_no_ts(struct fx *x, int64_t wall)
{
	static const char line[] = "{\"model\":\"m\",\"version\":\"v2\","
				   "\"features\":{\"x\":0.5,\"c\":\"a\"},\"prediction\":0.3}";
	struct conn_msg m = { .data = line, .len = sizeof line - 1, .ts_ms = -1 };

	agent_engine_feed(x->e, &m, wall);
}

/* Event-time admission, live: a record more than max_skew (300 s) ahead of the wall clock is
 * future_ts and moves nothing; one within it is counted. */
static void test_future_ts_live(void **state)
{
	struct fx *x = *state;
	const struct agent_counters *k = agent_engine_counters(x->e);
	int64_t now = agent_time_now_ms(), t;

	feed_json_at(x, 1, now - 1000, now);
	feed_json_at(x, 1, now + 301000, now); /* 5 min 1 s ahead */
	assert_int_equal(k->rejected[AGENT_REJECT_FUTURE_TS], 1);
	assert_string_equal(agent_reject_name(AGENT_REJECT_FUTURE_TS), "future_ts");
	assert_int_equal(agent_engine_watermark(x->e, &t), 0);
	assert_true(t == now - 1000);	       /* event time did not move */
	feed_json_at(x, 1, now + 299000, now); /* within the bound */
	assert_int_equal(k->accepted, 2);
	assert_int_equal(k->rejected[AGENT_REJECT_FUTURE_TS], 1);
}

/* Event-time admission, a replay (the reproduction): one year-2100 record after the
 * 100th of a file makes nothing late and is the one record rejected; a real gap in the file
 * (an hour without records) is not an outlier: every record after it counts; records without
 * a time count at the file's time and do not move it. */
static void test_future_ts_replay(void **state)
{
	struct fx *x = *state;
	const struct agent_counters *k = agent_engine_counters(x->e);
	int64_t now = agent_time_now_ms(), t;

	agent_engine_replay(x->e, 1);
	for (int i = 0; i < 3000; i++) {
		feed_json_at(x, 0, 1000 + (int64_t)i * 60, now);
		if (i == 100)
			feed_json_at(x, 0, 4102444800000LL, now);
		if (i % 500 == 7)
			feed_no_ts(x, now);
	}
	assert_int_equal(k->rejected[AGENT_REJECT_FUTURE_TS], 1);
	assert_int_equal(k->late, 0);
	assert_int_equal(k->accepted, 3000 + 6);
	assert_int_equal(agent_engine_watermark(x->e, &t), 0);
	assert_true(t == 1000 + 2999 * 60);
	/* an hour without records, then the file goes on */
	for (int i = 0; i < 1000; i++)
		feed_json_at(x, 0, 4000000 + (int64_t)i * 60, now);
	assert_int_equal(k->rejected[AGENT_REJECT_FUTURE_TS], 1);
	assert_int_equal(k->accepted, 4000 + 6);
	assert_int_equal(k->late, 0);
	/* the last record of a file, alone beyond the bound: rejected at the end */
	feed_json_at(x, 0, 4102444800000LL, now);
	agent_engine_finish(x->e);
	assert_int_equal(k->rejected[AGENT_REJECT_FUTURE_TS], 2);
	assert_int_equal(k->accepted, 4000 + 6);
	assert_int_equal(k->late, 0);
}

/* 64 junk (model, version) names, one record each, then real traffic (the lock-out
 * reproduction): the table is full of pairs with open windows, but each holds fewer than
 * min_samples records, so the real pair takes the slot of the least recently active one and is
 * decided on exactly its records; nothing is rejected as too_many_models. */
static void test_junk_cannot_lock_out(void **state)
{
	struct fx *x = *state;
	const struct agent_counters *k = agent_engine_counters(x->e);
	struct gen g = healthy(11);
	int64_t now = agent_time_now_ms();

	for (int i = 0; i < 64; i++) {
		char line[160];
		int n = snprintf(line, sizeof line,
				 "{\"model\":\"junk-%d\",\"version\":\"v1\",\"ts\":%d,"
				 "\"features\":{\"a\":1}}",
				 i, 1000 + i);
		struct conn_msg m = { .data = line, .len = (size_t)n, .ts_ms = -1, .stream = 0 };

		agent_engine_feed(x->e, &m, now - 60000 + i); /* junk-0 the least recent */
	}
	assert_int_equal(agent_engine_counters(x->e)->accepted, 64);
	for (int w = 0; w < 3; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(k->rejected[AGENT_REJECT_TOO_MANY_MODELS], 0);
	assert_int_equal(k->accepted, 64 + 9000);
	assert_int_equal(k->records_evicted, 1); /* junk-0's one record */
	assert_int_equal(x->m_windows, 2);
	assert_int_equal(x->m_n[0], 3000);
	assert_int_equal(x->m_n[1], 3000);
}

/* One partition holds time back (assigned, silent) while another sends one record per future
 * window (the 1.39 GB reproduction): at most limits.max_open_windows (256) windows
 * open per pair, the records that would open more rejected as too_many_windows. */
static void test_open_windows_bounded(void **state)
{
	struct fx *x = *state;
	const struct agent_counters *k = agent_engine_counters(x->e);

	control(x, 2, 1, 0);
	for (int64_t i = 0; i < 300; i++)
		feed_json(x, 1, i * 60000 + 1);
	agent_engine_tick(x->e);
	assert_int_equal(x->windows, 0); /* partition 2 holds them all open */
	assert_int_equal(k->accepted, 256);
	assert_int_equal(k->rejected[AGENT_REJECT_TOO_MANY_WINDOWS], 44);
	assert_string_equal(agent_reject_name(AGENT_REJECT_TOO_MANY_WINDOWS), "too_many_windows");
	feed_json(x, 1, 255 * 60000 + 2); /* an open window still takes records */
	assert_int_equal(k->accepted, 257);
}

/* The allow-list: only the models named (or matching a pattern) are monitored; any other is
 * rejected as model_not_allowed and takes no slot, so 100 junk names leave room for every
 * allowed one. */
static void test_models_allow_list(void **state)
{
	struct fx *x = *state;
	const struct agent_counters *k;
	struct gen g = healthy(12);
	int64_t now = agent_time_now_ms();
	static const char *const names[] = { "credit-eu", "credit-", "m" };

	x->c.models = strdup("m,credit-*");
	assert_non_null(x->c.models);
	fx_engine(x);
	k = agent_engine_counters(x->e);
	for (int i = 0; i < 100; i++) {
		char line[160];
		int n = snprintf(line, sizeof line,
				 "{\"model\":\"junk-%d\",\"version\":\"v1\",\"ts\":%d,"
				 "\"features\":{\"a\":1}}",
				 i, 1000 + i);
		struct conn_msg m = { .data = line, .len = (size_t)n, .ts_ms = -1 };

		agent_engine_feed(x->e, &m, now);
	}
	assert_int_equal(k->rejected[AGENT_REJECT_MODEL_NOT_ALLOWED], 100);
	assert_string_equal(agent_reject_name(AGENT_REJECT_MODEL_NOT_ALLOWED), "model_not_allowed");
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char line[160];
		int n = snprintf(line, sizeof line,
				 "{\"model\":\"%s\",\"version\":\"v1\",\"ts\":2000,"
				 "\"features\":{\"a\":1}}",
				 names[i]);
		struct conn_msg m = { .data = line, .len = (size_t)n, .ts_ms = -1 };

		agent_engine_feed(x->e, &m, now);
	}
	assert_int_equal(k->accepted, 3);
	assert_int_equal(k->rejected[AGENT_REJECT_MODEL_NOT_ALLOWED], 100);
	feed(x, &g, 3000, 0, 60000);
	assert_int_equal(k->accepted, 3003);
	assert_int_equal(k->rejected[AGENT_REJECT_TOO_MANY_MODELS], 0);
}

/* Records with the literals NaN, Infinity, -Infinity (Python's json.dumps default) are kept:
 * each such value is counted as non-finite for its feature, not compared; the rest of the
 * record (its other features, prediction, latency) counts as usual. */
static void test_nonfinite_literals(void **state)
{
	struct fx *x = *state;
	const struct agent_counters *k = agent_engine_counters(x->e);
	int64_t now = agent_time_now_ms();
	static const char *const lit[] = { "NaN", "Infinity", "-Infinity" };

	for (int i = 0; i < 600; i++) {
		char line[256], xv[32];
		int n;
		struct conn_msg m = { .ts_ms = -1 };

		if (i % 3 == 0)
			snprintf(xv, sizeof xv, "%s", lit[(i / 3) % 3]);
		else
			snprintf(xv, sizeof xv, "%.3f", (i % 7) * 0.1);
		n = snprintf(line, sizeof line,
			     "{\"model\":\"m\",\"version\":\"v2\",\"ts\":%d,\"latency_ms\":%s,"
			     "\"features\":{\"x\":%s,\"c\":\"a\"},\"prediction\":%s}",
			     1000 + i * 50, i % 10 == 0 ? "NaN" : "12", xv,
			     i % 5 == 0 ? "NaN" : "0.3");
		m.data = line;
		m.len = (size_t)n;
		agent_engine_feed(x->e, &m, now);
	}
	agent_engine_finish(x->e);
	assert_int_equal(k->accepted, 600);
	assert_int_equal(k->rejected[CONN_REJECT_BAD_JSON], 0);
	assert_true(x->windows >= 1);
	assert_int_equal(x->x_nonfinite, 200);
	assert_int_equal(x->x_n, 400);
}

/* The reproduction: the dir store on a full disk (a 1 MiB tmpfs, filled) with no
 * cooldown and one breaching window to fire -- the latch write fails, and so does the claim:
 * the version is latched in memory, so one rollback, not one per window; its event waits for
 * its claim and goes out when there is room again. Needs the right to mount (root, as in CI):
 * skipped otherwise, saying so. */
static void test_disk_full_one_rollback(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(13);
	char mnt[96], spec[128], fill[128], err[256];
	struct conn_store *full, *keep = x->store;

	snprintf(mnt, sizeof mnt, "%s/small", x->dir);
	if (tu_tmpfs_mount(mnt, "1m") < 0) {
		fprintf(stderr,
			"# cannot mount a tmpfs here (not root?): disk-full case skipped\n");
		skip();
	}
	snprintf(spec, sizeof spec, "dir:%s/store", mnt);
	full = conn_store_open(spec, err, sizeof err);
	assert_non_null(full);
	x->store = full;
	put_baseline(x, "v1", 1);
	assert_int_equal(conn_store_good_set(full, "m", "v1"), 0);
	x->c.breach_windows = 1;
	x->c.cooldown_s = 0;
	fx_engine(x);
	feed(x, &g, 3000, 0, 60000); /* the baseline is read while there is room */
	snprintf(fill, sizeof fill, "%s/filler", mnt);
	tu_fill_disk(fill);
	g.mu = 1.0;
	for (int w = 1; w < 7; w++) /* six breaching windows on a full disk */
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(tu_count_lines(x->sink_path), 0); /* not claimed: not sent */
	assert_string_equal(x->last_blocked, "latched");
	assert_int_equal(unlink(fill), 0);
	agent_engine_tick(x->e);
	assert_int_equal(tu_count_lines(x->sink_path), 1);
	agent_engine_free(x->e);
	x->e = NULL;
	conn_store_close(full);
	x->store = keep;
	tu_tmpfs_umount(mnt);
}

/* The cooldown is the store's, shared by every agent, group and replay (the issue's
 * reproduction: a replay rolled v2 back, the latch was re-armed, and another agent's run
 * rolled it back again 2 minutes of event time later, inside the 600 s cooldown): a second
 * engine on the store, with nothing in its memory, is held by the first one's cooldown. */
static void test_cooldown_shared(void **state)
{
	struct fx *x = *state;
	struct gen g = healthy(14);
	int64_t end = 0;

	g.mu = 1.0;
	for (int w = 0; w < 3; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_int_equal(tu_count_lines(x->sink_path), 1);
	assert_int_equal(conn_store_cooldown_get(x->store, "m", &end), 0);
	assert_true(end == 120000); /* the rollback's window: [60 s, 120 s) */
	assert_int_equal(conn_store_latch_set(x->store, "m", "v2", 0), 0); /* driftctl rearm */
	fx_engine(x);							   /* another agent */
	for (int w = 4; w < 7; w++)
		feed(x, &g, 3000, w * 60000, 60000);
	assert_string_equal(x->last_blocked, "cooldown");
	assert_int_equal(tu_count_lines(x->sink_path), 1);
	/* an old replay cannot shorten it: the store only raises */
	assert_int_equal(conn_store_cooldown_raise(x->store, "m", 1000), 0);
	assert_int_equal(conn_store_cooldown_get(x->store, "m", &end), 0);
	assert_true(end == 120000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_boundaries_and_lateness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_healthy_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drift_fires_once_then_latched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_and_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_own_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_open_behind_watermark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_event_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accuracy_and_needs_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_suppressed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_survives_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sliding_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_size_aware, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partition_watermarks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_junk_cannot_lock_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_windows_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_models_allow_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonfinite_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_one_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cooldown_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_ts_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_ts_replay, setup, teardown),
	};

	stats_init();
	agent_log_setup(stderr, 0, AGENT_LOG_WARNING);
	return TU_RUN(tests);
}
