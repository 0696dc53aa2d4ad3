/*
 * test_checkpoint.c -- exactly-once accounting through a real dir store: an engine that
 * checkpoints, takes more records, and "crashes" (is dropped without a last checkpoint); a
 * second engine (another instance) restores, resumes every partition at its committed offset
 * and finishes. Every window must be decided exactly once, on exactly the records it holds:
 * none lost (the first engine's partials are merged), none twice (the records it counted after
 * its last checkpoint are read again, and only its checkpointed partial is merged). Also the
 * window codec: encode / decode-merge round trips, and refusals. The engine cases run on the dir
 * store and on a real redis-server the test starts itself.
 */
#include "agent/baseline.h"
#include "agent/engine.h"
#include "agent/log.h"
#include "agent/timefmt.h"
#include "agent/window_codec.h"
#include "redisproc.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NREC	   3000
#define NPART	   3
#define WINDOW_MS  60000
#define STEP_MS	   80		   /* NREC * STEP_MS = 4 windows */
#define T0	   1795730040000LL /* a window boundary */
#define NWINDOWS   4
#define PER_WINDOW (NREC / NWINDOWS)

struct fx {
	char dir[64], spec[192], sink_spec[160];
	pid_t redis; /* the redis-server of the Redis variants, or 0 */
	struct conn_store *store;
	struct conn_sink *sink;
	struct agent_config c;
	struct agent_baseline *base;
	int decided[NWINDOWS];		     /* decisions per window */
	int nobase[NWINDOWS];		     /* decided without a baseline */
	uint64_t n[NWINDOWS];		     /* records each was decided on (the last decision) */
	struct agent_coverage cov[NWINDOWS]; /* its coverage */
	const char *kl_why[NWINDOWS];	     /* the kl rule's inconclusive reason, or NULL */
	int bad_window;
	int ncensus; /* partitions t/0 .. t/ncensus-1 in the census (0: no census) */
};

static void on_window(void *arg, const struct agent_window_report *r)
{
	struct fx *x = arg;
	int64_t i = (r->eval->start_ms - T0) / WINDOW_MS;

	if (strcmp(r->model, "m") != 0)
		return; /* junk names (test_restored_junk_cannot_lock_out) */
	if (i < 0 || i >= NWINDOWS) {
		x->bad_window = 1;
		return;
	}
	x->decided[i]++;
	x->n[i] = r->eval->n;
	x->cov[i] = r->eval->coverage;
	x->kl_why[i] = r->eval->rule[AGENT_RULE_KL].outcome == AGENT_INCONCLUSIVE
			   ? r->eval->rule[AGENT_RULE_KL].why
			   : NULL;
	x->nobase[i] = r->baseline_version == NULL;
}

static int record_json(int i, char *line, size_t cap)
{
	return snprintf(line, cap,
			"{\"model\":\"m\",\"version\":\"v2\",\"ts\":%lld,\"latency_ms\":%d,"
			"\"features\":{\"x\":%.2f,\"c\":\"%c\"},\"prediction\":0.%d,\"label\":%d}",
			(long long)(T0 + (int64_t)i * STEP_MS), 5 + i % 13, (i % 17) * 0.25,
			"ab"[i % 3 == 0], i % 10, i % 2);
}

/* Feeds record i as the message at offset i / NPART of partition i % NPART of topic "t". */
static void feed(struct agent_engine *e, int i)
{
	char line[256];
	int n = record_json(i, line, sizeof line);
	struct conn_msg m = { .data = line,
			      .len = (size_t)n,
			      .ts_ms = -1,
			      .offset = i / NPART,
			      .stream = (uint32_t)(i % NPART) + 1,
			      .topic = "t",
			      .partition = i % NPART };

	agent_engine_feed(e, &m, agent_time_now_ms());
}

static struct agent_engine *engine(struct fx *x, const char *instance)
{
	char err[256];
	struct agent_engine *e = agent_engine_new(&x->c, x->store, x->sink, err, sizeof err);

	assert_non_null(e);
	agent_engine_on_window(e, on_window, x);
	assert_int_equal(agent_engine_checkpoints(e, "group-1", instance, 3600000, err, sizeof err),
			 0);
	return e;
}

static int setup_in(void **state, int redis)
{
	struct fx *x = calloc(1, sizeof *x);
	struct agent_baseline_builder *bb = agent_baseline_builder_new("m", "v1", 20, 256, 0.5);
	char err[256], *json;

	assert_non_null(x);
	strcpy(x->dir, "/tmp/driftd-ckpt-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->spec, sizeof x->spec, "dir:%s/store", x->dir);
	if (redis)
		x->redis = redisproc_start(x->dir, x->spec, sizeof x->spec);
	snprintf(x->sink_spec, sizeof x->sink_spec, "file:%s/events.jsonl", x->dir);
	for (int i = 0; i < 100 && !(x->store = conn_store_open(x->spec, err, sizeof err)); i++)
		usleep(50000);
	x->sink = conn_sink_open(x->sink_spec, err, sizeof err);
	assert_non_null(x->store);
	assert_non_null(x->sink);
	/* the baseline: the same record shapes */
	for (int i = 0; i < 5000; i++) {
		char line[256];
		int n = record_json(i, line, sizeof line);
		struct conn_limits lim;
		struct conn_decoder *d;
		struct conn_record r;

		conn_limits_default(&lim);
		d = conn_decoder_new(CONN_DECODER_AUTO, &lim, err, sizeof err);
		assert_non_null(d);
		assert_int_equal(conn_decode(d, line, (size_t)n, &r), CONN_REJECT_NONE);
		assert_int_equal(agent_baseline_builder_add(bb, &r), 0);
		conn_decoder_free(d);
	}
	x->base = agent_baseline_builder_finish(bb, 1, err, sizeof err);
	assert_non_null(x->base);
	json = agent_baseline_to_json(x->base);
	assert_int_equal(conn_store_baseline_put(x->store, "m", "v1", json, strlen(json)), 0);
	free(json);
	assert_int_equal(conn_store_good_set(x->store, "m", "v1"), 0);
	agent_config_defaults(&x->c);
	x->c.window_s = WINDOW_MS / 1000;
	x->c.grace_s = 5;
	x->c.min_samples = 10;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	conn_sink_close(x->sink);
	conn_store_close(x->store);
	redisproc_stop(x->redis);
	agent_config_free(&x->c);
	agent_baseline_free(x->base);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

static int setup(void **state)
{
	return setup_in(state, 0);
}

static int setup_redis(void **state)
{
	if (access(REDISPROC_SERVER, X_OK) != 0)
		return -1; /* reported as a failed setup: ./dev installs redis-server */
	return setup_in(state, 1);
}

/* Feeds partition by partition from each one's committed offset (as a resumed consumer). */
static void resume_all(struct fx *x, struct agent_engine *e)
{
	int64_t from[NPART];

	for (int p = 0; p < NPART; p++) {
		int rc = agent_engine_resume_offset(e, "t", p, &from[p]);

		assert_true(rc == 0 || rc == 1);
		if (rc == 1)
			from[p] = 0;
	}
	(void)x;
	for (int i = 0; i < NREC; i++)
		if (i / NPART >= from[i % NPART])
			feed(e, i);
}

static void check_exactly_once(struct fx *x)
{
	assert_false(x->bad_window);
	for (int w = 0; w < NWINDOWS; w++) {
		assert_int_equal(x->decided[w], 1);
		assert_int_equal(x->n[w], PER_WINDOW);
	}
}

/* A crash after a checkpoint, with records counted since: nothing lost, nothing twice. */
static void test_crash_and_resume(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A"), *b;
	const struct agent_counters *k;

	for (int i = 0; i < 1000; i++)
		feed(a, i);
	agent_engine_tick(a); /* window 1 is open (t = 80 s, grace 5 s) */
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	assert_int_equal(x->decided[0], 1);
	for (int i = 1000; i < 1700; i++) /* window 1 closes at t = 125 s: decided, committed */
		feed(a, i);
	agent_engine_tick(a);
	assert_int_equal(x->decided[1], 1);
	for (int i = 1700; i < 2000; i++) /* window 2: counted, never checkpointed */
		feed(a, i);
	agent_engine_free(a); /* the crash: no last checkpoint */

	b = engine(x, "B");
	resume_all(x, b);
	agent_engine_finish(b);
	k = agent_engine_counters(b);
	assert_int_equal(k->partials_merged, 1); /* A's partial of window 2 (records 1500-1699) */
	assert_int_equal(k->windows_skipped, 0);
	assert_int_equal(k->late, 0);
	agent_engine_free(b);
	check_exactly_once(x);
}

/* A window's lock is released once its decision is committed: another agent can take it at
 * once (it used to be held for its 30 s, and stay a file in the dir store). */
static void test_decided_lock_released(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A");
	char lock[64];

	snprintf(lock, sizeof lock, "1:m2:v2%lld", (long long)T0); /* window 0 of (m, v2) */
	for (int i = 0; i < 1000; i++)
		feed(a, i);
	agent_engine_tick(a); /* window 0 decided, its decision committed */
	assert_int_equal(x->decided[0], 1);
	assert_int_equal(conn_store_lock(x->store, "group-1", lock, "other", 30000), 0);
	/* window 1, still open, was never locked; once decided, its lock goes too */
	snprintf(lock, sizeof lock, "1:m2:v2%lld", (long long)(T0 + WINDOW_MS));
	for (int i = 1000; i < 1700; i++)
		feed(a, i);
	agent_engine_tick(a);
	assert_int_equal(x->decided[1], 1);
	assert_int_equal(conn_store_lock(x->store, "group-1", lock, "other", 30000), 0);
	agent_engine_free(a);
}

/* The store goes away mid-stream: a window opened meanwhile is compared with the baseline its
 * version was compared with before (cached), never decided as inconclusive(no_baseline). */
static void test_store_down_keeps_baseline(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A");

	for (int i = 0; i < 1000; i++) /* window 0 decided on v1's baseline; window 1 open */
		feed(a, i);
	agent_engine_tick(a);
	assert_int_equal(x->decided[0], 1);
	assert_false(x->nobase[0]);
	redisproc_stop(x->redis); /* the store is gone */
	x->redis = 0;
	for (int i = 1000; i < NREC; i++) /* windows 2 and 3 open while it is */
		feed(a, i);
	agent_engine_tick(a);
	agent_engine_finish(a);
	for (int w = 1; w < NWINDOWS; w++) {
		assert_int_equal(x->decided[w], 1);
		assert_false(x->nobase[w]);
	}
	agent_engine_free(a);
}

/* The store is gone while a rollback is decided and while the windows after it are (one
 * breaching window fires, no cooldown): the version is latched in memory from the decision,
 * so the later windows are blocked and there is one rollback, not one per window; its event
 * waits in memory for its claim and goes out when a store is back (here an empty one: the
 * killed redis-server kept nothing), and the latch is written back to it. */
static void test_store_down_latch_in_memory(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a;
	char sink[192], spec[192];
	int on = 0;

	x->c.latency.threshold = 0.01; /* every window breaches */
	x->c.breach_windows = 1;
	x->c.cooldown_s = 0;
	a = engine(x, "A");
	snprintf(sink, sizeof sink, "%s/events.jsonl", x->dir);
	feed(a, 0); /* window 0 opens on the baseline, read while the store is there */
	redisproc_stop(x->redis);
	x->redis = 0;
	for (int i = 1; i < NREC; i++)
		feed(a, i);
	agent_engine_tick(a);
	agent_engine_finish(a);
	for (int w = 0; w < NWINDOWS; w++)
		assert_int_equal(x->decided[w], 1);
	assert_int_equal(tu_count_lines(sink), 0); /* not claimed: not sent */
	assert_int_equal(agent_engine_counters(a)->events, 0);
	x->redis = redisproc_start(x->dir, spec, sizeof spec);
	assert_string_equal(spec, x->spec); /* the same socket: the store reconnects */
	for (int i = 0; i < 100 && tu_count_lines(sink) == 0; i++) {
		usleep(100000); /* the reconnection backoff */
		agent_engine_tick(a);
	}
	assert_int_equal(tu_count_lines(sink), 1);
	assert_int_equal(agent_engine_counters(a)->events, 1);
	assert_int_equal(conn_store_latch_get(x->store, "m", "v2", &on), 0);
	assert_int_equal(on, 1);
	agent_engine_free(a);
}

/* Checkpoint commits failing are measured from the first failure (for /readyz: not ready once
 * they have failed for 30 s) and forgotten at the next success. */
static void test_checkpoint_failing_measured(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A");
	char spec[192];

	for (int i = 0; i < 100; i++)
		feed(a, i);
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	assert_true(agent_engine_checkpoint_failing_ms(a) == 0);
	redisproc_stop(x->redis);
	x->redis = 0;
	for (int i = 100; i < 200; i++)
		feed(a, i);
	assert_int_equal(agent_engine_checkpoint(a, 1), -1);
	usleep(300 * 1000);
	assert_int_equal(agent_engine_checkpoint(a, 1), -1);
	assert_true(agent_engine_checkpoint_failing_ms(a) >= 300);
	x->redis = redisproc_start(x->dir, spec, sizeof spec);
	for (int i = 0; i < 100 && agent_engine_checkpoint(a, 1) != 0; i++)
		usleep(100000); /* the reconnection backoff */
	assert_true(agent_engine_checkpoint_failing_ms(a) == 0);
	agent_engine_free(a);
}

/* The store restarts empty (a redis-server without persistence) after a rollback was decided:
 * the good version the agent read is gone; that is noticed (agent_engine_store_lost, the
 * store_lost counter), the known good version and the latch in memory still rule -- no second
 * rollback, no needs_target for the version already rolled back -- and the latch is written
 * back; storing the good version again ends it. */
static void test_store_emptied(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a;
	char sink[192], spec[192];
	int on = 0;

	x->c.latency.threshold = 0.01; /* every window breaches */
	x->c.breach_windows = 1;
	x->c.cooldown_s = 0;
	a = engine(x, "A");
	snprintf(sink, sizeof sink, "%s/events.jsonl", x->dir);
	for (int i = 0; i < 1000; i++) /* window 0 decided: a rollback to v1 */
		feed(a, i);
	agent_engine_tick(a);
	assert_int_equal(x->decided[0], 1);
	assert_int_equal(tu_count_lines(sink), 1);
	assert_int_equal(agent_engine_store_lost(a), 0);
	redisproc_stop(x->redis); /* restarted empty */
	x->redis = redisproc_start(x->dir, spec, sizeof spec);
	assert_string_equal(spec, x->spec);
	for (int i = 1000; i < NREC; i++)
		feed(a, i);
	for (int i = 0; i < 100 && x->decided[2] == 0; i++) {
		usleep(100000); /* the reconnection backoff */
		agent_engine_tick(a);
	}
	agent_engine_finish(a);
	for (int w = 1; w < NWINDOWS; w++)
		assert_int_equal(x->decided[w], 1);
	assert_int_equal(tu_count_lines(sink), 1); /* no second event of any type */
	assert_int_equal(agent_engine_store_lost(a), 1);
	assert_int_equal(agent_engine_counters(a)->store_lost, 1);
	assert_int_equal(conn_store_latch_get(x->store, "m", "v2", &on), 0);
	assert_int_equal(on, 1); /* written back to the new store */
	assert_int_equal(conn_store_good_set(x->store, "m", "v1"), 0);
	for (int i = 0; i < 10; i++)
		feed(a, NREC + i); /* a window after: the good version read again */
	agent_engine_finish(a);
	assert_int_equal(agent_engine_store_lost(a), 0);
	agent_engine_free(a);
}

/* The lock-out across a restart: 64 junk names counted and checkpointed by agent A (one record
 * each, on a stream of their own), then agent B restores them -- a table full of restored pairs
 * with open windows -- and the real traffic still takes slots: every window decided once on
 * exactly its records. */
static void test_restored_junk_cannot_lock_out(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A"), *b;

	for (int i = 0; i < 64; i++) {
		char line[160];
		int n = snprintf(line, sizeof line,
				 "{\"model\":\"junk-%d\",\"version\":\"v1\",\"ts\":%lld,"
				 "\"features\":{\"a\":1}}",
				 i, (long long)T0 + i);
		struct conn_msg m = {
			.data = line, .len = (size_t)n, .ts_ms = -1, .offset = i, .stream = 10
		}; /* no topic: no offset of its own */

		agent_engine_feed(a, &m, agent_time_now_ms());
	}
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	agent_engine_free(a);
	b = engine(x, "B");
	resume_all(x, b);
	agent_engine_finish(b);
	assert_int_equal(agent_engine_counters(b)->rejected[AGENT_REJECT_TOO_MANY_MODELS], 0);
	assert_true(agent_engine_counters(b)->pairs_evicted >= 1); /* the table was full */
	check_exactly_once(x);
	agent_engine_free(b);
}

/* A clean stop (a checkpoint at the end) and a restart: the same. */
static void test_stop_and_restart(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A"), *b;

	for (int i = 0; i < 1234; i++)
		feed(a, i);
	agent_engine_tick(a);
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	agent_engine_free(a);
	b = engine(x, "B");
	resume_all(x, b);
	agent_engine_finish(b);
	agent_engine_free(b);
	check_exactly_once(x);
}

/* Several crashes in a row, each after a checkpoint at a different point. */
static void test_many_crashes(void **state)
{
	struct fx *x = *state;
	int cuts[] = { 100, 777, 1500, 2222, 2900 };
	char inst[16];
	int done = 0;

	for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
		struct agent_engine *e;
		int64_t from[NPART];

		snprintf(inst, sizeof inst, "I%zu", c);
		e = engine(x, inst);
		for (int p = 0; p < NPART; p++)
			if (agent_engine_resume_offset(e, "t", p, &from[p]) != 0)
				from[p] = 0;
		for (int i = 0; i < cuts[c]; i++)
			if (i / NPART >= from[i % NPART])
				feed(e, i);
		agent_engine_tick(e);
		assert_int_equal(agent_engine_checkpoint(e, 1), 0);
		for (int i = cuts[c]; i < cuts[c] + 50 && i < NREC; i++) /* lost in the crash */
			feed(e, i);
		agent_engine_free(e);
		done = cuts[c];
	}
	(void)done;
	{
		struct agent_engine *e = engine(x, "last");

		resume_all(x, e);
		agent_engine_finish(e);
		agent_engine_free(e);
	}
	check_exactly_once(x);
}

/* Two agents in one group: A reads partitions 0 and 1, B partition 2 (each a hello first, as
 * the Kafka source does). They tick in turns; every window must be decided once, by one of
 * them, on all 750 records. */
static void hello(struct agent_engine *e, int part)
{
	struct conn_msg m = { .data = "",
			      .ts_ms = -1,
			      .stream = (uint32_t)part + 1,
			      .topic = "t",
			      .partition = part,
			      .hello = 1 };

	agent_engine_feed(e, &m, agent_time_now_ms());
}

/* A restarted agent whose partition is behind: A counts partitions 0 and 1 up to t = 72 s and
 * partition 2 only up to t = 24 s (its producer is behind), checkpoints and crashes. B takes
 * over; partition 2 is at its end (nothing new yet) while partitions 0 and 1 bring records up to
 * t = 96 s. Partition 2 must hold window 0 at its stored mark, as it did in A -- a partition
 * that never delivered a record in this run used to hold nothing at its end, and window 0 was
 * decided without its records of 24-60 s, which then came late. */
static void test_restart_partition_behind(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A"), *b;
	struct conn_msg eof = {
		.data = "", .ts_ms = -1, .stream = 3, .topic = "t", .partition = 2, .eof = 1
	};
	int64_t from[NPART];

	for (int p = 0; p < NPART; p++)
		hello(a, p);
	for (int i = 0; i < 900; i++)
		if (i % NPART != 2 || i < 300)
			feed(a, i);
	agent_engine_tick(a);
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	assert_int_equal(x->decided[0], 0); /* partition 2 holds it */
	agent_engine_free(a);		    /* the crash */

	b = engine(x, "B");
	for (int p = 0; p < NPART; p++) {
		hello(b, p);
		assert_int_equal(agent_engine_resume_offset(b, "t", p, &from[p]), 0);
	}
	agent_engine_feed(b, &eof, agent_time_now_ms());
	for (int i = 0; i < 1200; i++)
		if (i % NPART != 2 && i / NPART >= from[i % NPART])
			feed(b, i);
	agent_engine_tick(b);
	assert_int_equal(x->decided[0], 0); /* still: partition 2 was heard from just now */
	for (int i = 0; i < 1200; i++)	    /* partition 2 catches up */
		if (i % NPART == 2 && i / NPART >= from[2])
			feed(b, i);
	agent_engine_tick(b);
	assert_int_equal(x->decided[0], 1);
	assert_int_equal(x->n[0], PER_WINDOW);
	assert_int_equal(agent_engine_counters(b)->late, 0);
	agent_engine_free(b);
}

/* A (partitions 0 and 1) and B (partition 2) announce their partitions and take every record,
 * ticking and committing in turns, then one more record per partition past the last window's
 * end (and its grace). */
static void two_agents_feed(struct agent_engine *a, struct agent_engine *b)
{
	hello(a, 0);
	hello(a, 1);
	hello(b, 2);
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	assert_int_equal(agent_engine_checkpoint(b, 1), 0);
	for (int i = 0; i < NREC; i += 30) {
		for (int j = i; j < i + 30 && j < NREC; j++)
			feed(j % NPART == 2 ? b : a, j);
		agent_engine_tick(a);
		agent_engine_tick(b);
		agent_engine_checkpoint(a, 1);
		agent_engine_checkpoint(b, 1);
	}
	/* the last window closes on one more record past its end (and its grace) */
	{
		char line[128];
		int n =
		    snprintf(line, sizeof line, "{\"model\":\"m\",\"version\":\"v2\",\"ts\":%lld}",
			     (long long)(T0 + NWINDOWS * WINDOW_MS + 10000));

		for (int p = 0; p < NPART; p++) {
			struct conn_msg m = { .data = line,
					      .len = (size_t)n,
					      .ts_ms = -1,
					      .offset = NREC / NPART + 1,
					      .stream = (uint32_t)p + 1,
					      .topic = "t",
					      .partition = p };

			agent_engine_feed(p == 2 ? b : a, &m, agent_time_now_ms());
		}
	}
}

static void two_agents(struct fx *x, int64_t lock_ttl_ms)
{
	struct agent_engine *a = engine(x, "A"), *b = engine(x, "B");

	if (lock_ttl_ms) {
		agent_engine_checkpoint_lock_ttl(a, lock_ttl_ms);
		agent_engine_checkpoint_lock_ttl(b, lock_ttl_ms);
	}
	two_agents_feed(a, b);
	for (int k = 0; k < 4; k++) {
		agent_engine_tick(a);
		agent_engine_tick(b);
		agent_engine_checkpoint(a, 1);
		agent_engine_checkpoint(b, 1);
	}
	agent_engine_free(a);
	agent_engine_free(b);
	check_exactly_once(x);
}

static void test_two_agents(void **state)
{
	two_agents(*state, 0);
}

/* Locks that expire at once: the agent that did not decide a window learns from the stored
 * decision state that it is decided, and never moves that state back. */
static void test_two_agents_short_locks(void **state)
{
	two_agents(*state, 1);
}

/* The census of x->ncensus partitions of "t": t/3 and beyond hold 50 records nobody reads. */
static int census(void *arg, agent_census_each_fn each, void *earg)
{
	const struct fx *x = arg;

	for (int p = 0; p < x->ncensus; p++)
		each(earg, "t", p, 0, p < NPART ? NREC / NPART + 2 : 50);
	return x->ncensus;
}

/* Two agents as in two_agents, with a census of ncensus partitions and coverage_wait wait_s:
 * returns after every window was decided (or 5 s). */
static void two_agents_census(struct fx *x, int ncensus, double wait_s)
{
	struct agent_engine *a, *b;

	x->ncensus = ncensus;
	x->c.coverage_wait_s = wait_s;
	a = engine(x, "A");
	b = engine(x, "B");
	agent_engine_census(a, census, x);
	agent_engine_census(b, census, x);
	two_agents_feed(a, b);
	for (int k = 0; k < 500 && x->decided[NWINDOWS - 1] == 0; k++) {
		agent_engine_tick(a);
		agent_engine_tick(b);
		agent_engine_checkpoint(a, 1);
		agent_engine_checkpoint(b, 1);
		if (k == 3 && wait_s >= 1) /* waiting for t/3: nothing decided yet */
			for (int w = 0; w < NWINDOWS; w++)
				assert_int_equal(x->decided[w], 0);
		usleep(10000);
	}
	agent_engine_free(a);
	agent_engine_free(b);
}

/* Every partition of the census accounted for: decided as without one, coverage complete. */
static void test_census_complete(void **state)
{
	struct fx *x = *state;

	two_agents_census(x, NPART, 30);
	check_exactly_once(x);
	for (int w = 0; w < NWINDOWS; w++) {
		assert_int_equal(x->cov[w].partitions, NPART);
		assert_int_equal(x->cov[w].covered, NPART);
		assert_null(x->kl_why[w]);
	}
}

/* A fourth partition nobody reads: every window waits coverage_wait (1 s), then is decided on
 * the three there, naming t/3; min_coverage 0.5 lets 3/4 be judged. */
static void test_census_missing(void **state)
{
	struct fx *x = *state;

	two_agents_census(x, NPART + 1, 1);
	check_exactly_once(x);
	for (int w = 0; w < NWINDOWS; w++) {
		assert_int_equal(x->cov[w].partitions, NPART + 1);
		assert_int_equal(x->cov[w].covered, NPART);
		assert_int_equal(x->cov[w].nlisted, 1);
		assert_string_equal(x->cov[w].missing[0], "t/3");
		assert_null(x->kl_why[w]);
	}
}

/* Below min_coverage every rule is inconclusive ("coverage"). */
static void test_census_below_min(void **state)
{
	struct fx *x = *state;

	x->c.min_coverage = 0.8;
	two_agents_census(x, NPART + 1, 0.05);
	check_exactly_once(x);
	for (int w = 0; w < NWINDOWS; w++) {
		assert_int_equal(x->cov[w].covered, NPART);
		assert_non_null(x->kl_why[w]);
		assert_string_equal(x->kl_why[w], "coverage");
	}
}

/* The rewind of a rebalance while the store is unreachable: the streams that took messages
 * since their commit, and where to read them again. */
struct rewound {
	int n;
	int64_t offset[NPART];
};

static void on_rewind(void *arg, uint32_t stream, const char *name, int64_t offset)
{
	struct rewound *rw = arg;
	char want[16];

	assert_true(stream >= 1 && stream <= NPART);
	snprintf(want, sizeof want, "t/%u", stream - 1);
	assert_string_equal(name, want);
	rw->offset[stream - 1] = offset;
	rw->n++;
}

/* Partitions are revoked while the store cannot take a checkpoint: A drops what it counted
 * since its last one (agent_engine_rewind), so that their next owner B, resuming at the stored
 * offsets, counts those records once -- A's later commit (the store back) must not add them
 * again. Every window once, on exactly its records. */
static void test_rebalance_store_down(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A"), *b;
	struct rewound rw = { 0 };
	char path[160], away[176];

	for (int p = 0; p < NPART; p++)
		hello(a, p);
	for (int i = 0; i < 900; i++) /* window 0 decided; window 1 open (t = 72 s) */
		feed(a, i);
	agent_engine_tick(a);
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	assert_int_equal(x->decided[0], 1);
	for (int i = 900; i < 1200; i++) /* counted, not checkpointed */
		feed(a, i);
	/* the store fails: its checkpoint file is a directory now */
	snprintf(path, sizeof path, "%s/store/ckpt/group-1/checkpoint", x->dir);
	snprintf(away, sizeof away, "%s.away", path);
	assert_int_equal(rename(path, away), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	{
		char inside[200];
		FILE *f;

		snprintf(inside, sizeof inside, "%s/x", path);
		assert_non_null(f = fopen(inside, "w"));
		fclose(f);
		assert_int_equal(agent_engine_checkpoint(a, 1), -1);
		/* the revoke: rewound, then the partitions go */
		assert_int_equal(agent_engine_rewind(a, on_rewind, &rw), 1); /* window 1 */
		assert_int_equal(rw.n, NPART);
		for (int p = 0; p < NPART; p++)
			assert_int_equal(rw.offset[p], 300); /* records 900.. */
		for (int p = 0; p < NPART; p++)
			agent_engine_stream_gone(a, (uint32_t)p + 1);
		assert_int_equal(unlink(inside), 0);
	}
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rename(away, path), 0);
	/* the store is back: A's commit holds what it had committed, nothing of 900-1199 */
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	agent_engine_free(a);
	b = engine(x, "B");
	resume_all(x, b);
	agent_engine_finish(b);
	agent_engine_free(b);
	check_exactly_once(x);
}

/* A window another agent decided: what this agent counted in it after its last commit is in no
 * decision (it came after the merge) and is counted late, not dropped silently. */
static void test_skipped_counts_late(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A"), *b = engine(x, "B");

	hello(a, 0);
	hello(a, 1);
	hello(b, 2);
	for (int i = 0; i < 875; i++) /* up to t = 70 s: window 0 can close */
		feed(i % NPART == 2 ? b : a, i);
	assert_int_equal(agent_engine_checkpoint(b, 1), 0);
	agent_engine_tick(a); /* A decides window 0 on both agents' counts */
	assert_int_equal(x->decided[0], 1);
	assert_int_equal(x->n[0], PER_WINDOW);
	assert_int_equal(agent_engine_checkpoint(a, 1), 0);
	feed(b, 2); /* one more record of window 0 at B, after B's commit */
	agent_engine_tick(b);
	assert_int_equal(x->decided[0], 1); /* skipped: decided by A */
	assert_int_equal(agent_engine_counters(b)->windows_skipped, 1);
	assert_int_equal(agent_engine_counters(b)->late, 1);
	agent_engine_free(a);
	agent_engine_free(b);
}

/* The agent that did not decide a window must not move the stored decision state back: A
 * decides windows 0 and 1 while B (reading partition 2) only commits its counts; then B skips
 * window 0 (decided) and waits on window 1 (locked), commits; once A's lock expires B must still
 * see window 1 as decided. */
static void test_no_state_regression(void **state)
{
	struct fx *x = *state;
	struct agent_engine *a = engine(x, "A"), *b = engine(x, "B");
	int i = 0;

	hello(a, 0);
	hello(a, 1);
	hello(b, 2);
	agent_engine_checkpoint_lock_ttl(a, 1);
	for (; i < 875; i++) /* up to t = 70 s */
		feed(i % NPART == 2 ? b : a, i);
	assert_int_equal(agent_engine_checkpoint(b, 1), 0);
	agent_engine_tick(a);
	assert_int_equal(x->decided[0], 1);
	usleep(5000); /* window 0's lock is gone */
	agent_engine_checkpoint_lock_ttl(a, 300);
	for (; i < 1625; i++) /* up to t = 130 s */
		feed(i % NPART == 2 ? b : a, i);
	assert_int_equal(agent_engine_checkpoint(b, 1), 0);
	agent_engine_tick(a);
	assert_int_equal(x->decided[1], 1);
	agent_engine_tick(b); /* skips window 0, waits on window 1's lock */
	assert_int_equal(agent_engine_checkpoint(b, 1), 0);
	usleep(400000); /* window 1's lock is gone */
	agent_engine_tick(b);
	assert_int_equal(x->decided[1], 1);
	agent_engine_free(a);
	agent_engine_free(b);
}

/* ---- the window codec ---- */

static struct agent_window *window_of(struct fx *x, int from, int to)
{
	struct agent_window *w = agent_window_new(T0, T0 + WINDOW_MS, x->base, 256);
	struct conn_limits lim;
	char err[128];
	struct conn_decoder *d;

	conn_limits_default(&lim);
	d = conn_decoder_new(CONN_DECODER_AUTO, &lim, err, sizeof err);
	assert_non_null(w);
	for (int i = from; i < to; i++) {
		char line[256];
		int n = record_json(i, line, sizeof line);
		struct conn_record r;

		assert_int_equal(conn_decode(d, line, (size_t)n, &r), CONN_REJECT_NONE);
		assert_int_equal(agent_window_add(w, &r, 0.5), 0);
	}
	conn_decoder_free(d);
	agent_window_flush(w);
	return w;
}

static void assert_same_feature(const struct agent_lfeature *a, const struct agent_lfeature *b)
{
	assert_true(a->present == b->present && a->nulls == b->nulls &&
		    a->mismatched == b->mismatched);
	if (a->hist) {
		size_t n = stats_hist_bins(a->hist);

		assert_int_equal(n, stats_hist_bins(b->hist));
		assert_memory_equal(stats_hist_counts(a->hist), stats_hist_counts(b->hist),
				    n * sizeof(uint64_t));
		assert_int_equal(stats_hist_underflow(a->hist), stats_hist_underflow(b->hist));
		assert_int_equal(stats_hist_overflow(a->hist), stats_hist_overflow(b->hist));
		assert_int_equal(stats_hist_nan(a->hist), stats_hist_nan(b->hist));
		assert_true(stats_hist_total(a->hist) > 0);
	} else {
		/* the same counts by value (the interning order may differ) */
		assert_int_equal(stats_cat_size(a->cat), stats_cat_size(b->cat));
		assert_int_equal(stats_cat_other(a->cat), stats_cat_other(b->cat));
		for (size_t i = 0; i < stats_cat_size(a->cat); i++) {
			size_t len, j;
			const char *v = stats_cat_value(a->cat, i, &len);

			j = stats_cat_find(b->cat, v, len);
			assert_true(j < stats_cat_size(b->cat));
			assert_int_equal(stats_cat_count(a->cat, i), stats_cat_count(b->cat, j));
		}
	}
}

/* The same counts: record-level, per feature, and the latency sketch's quantiles. */
static void assert_same_window(struct agent_window *a, struct agent_window *b)
{
	assert_true(a->n == b->n && a->errors == b->errors && a->error_known == b->error_known &&
		    a->scored == b->scored && a->correct == b->correct && a->labels == b->labels &&
		    a->unknown_values == b->unknown_values);
	assert_int_equal(a->nf, b->nf);
	for (size_t i = 0; i < a->nf; i++)
		assert_same_feature(&a->f[i], &b->f[i]);
	assert_int_equal(a->pred.ref != NULL, b->pred.ref != NULL);
	if (a->pred.ref)
		assert_same_feature(&a->pred, &b->pred);
	assert_int_equal(stats_sketch_count(a->latency), stats_sketch_count(b->latency));
	for (double q = 0; q <= 1.0; q += 0.05) {
		double qa, qb;

		assert_int_equal(stats_sketch_quantile(a->latency, q, &qa), STATS_OK);
		assert_int_equal(stats_sketch_quantile(b->latency, q, &qb), STATS_OK);
		assert_true(qa == qb);
	}
}

static void test_codec_split_merge(void **state)
{
	struct fx *x = *state;
	struct agent_window *all = window_of(x, 0, 700), *a = window_of(x, 0, 300);
	struct agent_window *b = window_of(x, 300, 700);
	uint8_t *blob;
	size_t len;
	char err[128];

	assert_int_equal(agent_window_encode(b, &blob, &len), 0);
	assert_int_equal(agent_window_decode_merge(a, blob, len, 256, err, sizeof err), 0);
	assert_int_equal(a->n, 700);
	assert_int_equal(a->scored, all->scored);
	assert_int_equal(a->correct, all->correct);
	assert_true(a->f[0].present == all->f[0].present);
	assert_same_window(a, all);
	/* every strict prefix is refused, as is any trailing byte; dst stays unchanged */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(agent_window_decode_merge(b, blob, cut, 256, err, sizeof err), -1);
	blob = realloc(blob, len + 1);
	blob[len] = 0;
	assert_int_equal(agent_window_decode_merge(b, blob, len + 1, 256, err, sizeof err), -1);
	assert_int_equal(b->n, 400);
	free(blob);
	agent_window_free(all);
	agent_window_free(a);
	agent_window_free(b);
}

static void test_codec_refusals(void **state)
{
	struct fx *x = *state;
	struct agent_window *w = window_of(x, 0, 100);
	struct agent_window *other_span =
	    agent_window_new(T0 + WINDOW_MS, T0 + 2 * WINDOW_MS, x->base, 256);
	struct agent_window *no_base = agent_window_new(T0, T0 + WINDOW_MS, NULL, 256);
	uint8_t *blob;
	size_t len;
	char err[128];

	assert_int_equal(agent_window_encode(w, &blob, &len), 0);
	assert_int_equal(agent_window_decode_merge(other_span, blob, len, 256, err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "another span"));
	assert_int_equal(agent_window_decode_merge(no_base, blob, len, 256, err, sizeof err), -1);
	assert_non_null(strstr(err, "another baseline"));
	assert_int_equal(other_span->n, 0);
	assert_int_equal(no_base->n, 0);
	/* single-byte corruptions anywhere: refused or merged, never a crash (ASan checks) */
	for (size_t i = 0; i < len; i++) {
		struct agent_window *t = agent_window_new(T0, T0 + WINDOW_MS, x->base, 256);

		blob[i] ^= 0x41;
		(void)agent_window_decode_merge(t, blob, len, 256, err, sizeof err);
		blob[i] ^= 0x41;
		agent_window_free(t);
	}
	free(blob);
	agent_window_free(w);
	agent_window_free(other_span);
	agent_window_free(no_base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_partition_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_crashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_agents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_and_resume, setup_redis, teardown),
		cmocka_unit_test_setup_teardown(test_decided_lock_released, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decided_lock_released, setup_redis, teardown),
		cmocka_unit_test_setup_teardown(test_store_down_keeps_baseline, setup_redis,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_down_latch_in_memory, setup_redis,
						teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_failing_measured, setup_redis,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_emptied, setup_redis, teardown),
		cmocka_unit_test_setup_teardown(test_restored_junk_cannot_lock_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restored_junk_cannot_lock_out, setup_redis,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_crashes, setup_redis, teardown),
		cmocka_unit_test_setup_teardown(test_two_agents, setup_redis, teardown),
		cmocka_unit_test_setup_teardown(test_two_agents_short_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_census_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_census_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_census_below_min, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebalance_store_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skipped_counts_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_agents_short_locks, setup_redis, teardown),
		cmocka_unit_test_setup_teardown(test_no_state_regression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_state_regression, setup_redis, teardown),
		cmocka_unit_test_setup_teardown(test_codec_split_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_refusals, setup, teardown),
	};

	stats_init();
	agent_log_setup(stderr, 0, AGENT_LOG_WARNING);
	return TU_RUN(tests);
}
