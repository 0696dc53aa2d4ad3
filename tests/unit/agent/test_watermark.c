/*
 * test_watermark.c -- event time (agent/watermark.h): per-stream high-water marks and the low
 * water they hold together, written from engine.h / watermark.h: an assigned stream holds it
 * at "no time yet", a silent stream holds nothing, a finished one its mark until silent (or
 * nothing when it never had a record), labels streams never do, and
 * with no active stream the largest record time rules.
 */
#include "agent/watermark.h"
#include "testutil.h"

static void test_no_record(void **state)
{
	struct agent_watermark *wm = agent_watermark_new();
	int64_t t = 42;

	(void)state;
	assert_non_null(wm);
	assert_int_equal(agent_watermark_max(wm, &t), -1);
	assert_int_equal(agent_watermark_low(wm, 0, &t), -1);
	assert_int_equal(t, 42); /* untouched */
	agent_watermark_hello(wm, 7, 1000);
	assert_int_equal(agent_watermark_low(wm, 1000, &t), -1); /* still no record */
	assert_int_equal(agent_watermark_streams(wm), 1);
	agent_watermark_free(wm);
}

static void test_smallest_active(void **state)
{
	struct agent_watermark *wm = agent_watermark_new();
	int64_t t;

	(void)state;
	agent_watermark_mark(wm, 1, 5000, 100);
	agent_watermark_mark(wm, 2, 3000, 100);
	agent_watermark_mark(wm, 1, 4000, 100); /* older than its mark: the mark stays */
	assert_int_equal(agent_watermark_low(wm, 100, &t), 0);
	assert_int_equal(t, 3000);
	assert_int_equal(agent_watermark_max(wm, &t), 0);
	assert_int_equal(t, 5000);
	assert_int_equal(agent_watermark_stream(wm, 1, &t), 0);
	assert_int_equal(t, 5000);
	assert_int_equal(agent_watermark_stream(wm, 9, &t), -1);
	/* stream 2 silent for exactly the idle time still holds, one ms more it does not */
	agent_watermark_mark(wm, 1, 6000, 100 + AGENT_STREAM_IDLE_MS);
	assert_int_equal(agent_watermark_low(wm, 100 + AGENT_STREAM_IDLE_MS, &t), 0);
	assert_int_equal(t, 3000);
	assert_int_equal(agent_watermark_low(wm, 101 + AGENT_STREAM_IDLE_MS, &t), 0);
	assert_int_equal(t, 6000);
	/* none active: the largest record time */
	assert_int_equal(agent_watermark_low(wm, 200 + 2 * AGENT_STREAM_IDLE_MS, &t), 0);
	assert_int_equal(t, 6000);
	agent_watermark_free(wm);
}

static void test_hello_end_gone(void **state)
{
	struct agent_watermark *wm = agent_watermark_new();
	int64_t t;

	(void)state;
	agent_watermark_mark(wm, 1, 5000, 100);
	agent_watermark_hello(wm, 2, 150); /* assigned, nothing yet: holds at no time */
	assert_int_equal(agent_watermark_low(wm, 200, &t), 0);
	assert_true(t == INT64_MIN);
	agent_watermark_at_end(wm, 2); /* at its end: holds nothing */
	assert_int_equal(agent_watermark_low(wm, 200, &t), 0);
	assert_int_equal(t, 5000);
	agent_watermark_mark(wm, 2, 4000, 300); /* heard from again */
	assert_int_equal(agent_watermark_low(wm, 300, &t), 0);
	assert_int_equal(t, 4000);
	assert_int_equal(agent_watermark_event_streams(wm), 2);
	agent_watermark_gone(wm, 2);
	assert_int_equal(agent_watermark_streams(wm), 1);
	assert_int_equal(agent_watermark_low(wm, 300, &t), 0);
	assert_int_equal(t, 5000);
	/* a stream with a mark keeps holding it at its end (its producer may be behind), until
	 * silent for the idle time: its records still to come are not late */
	agent_watermark_mark(wm, 3, 4500, 300);
	agent_watermark_at_end(wm, 3);
	assert_int_equal(agent_watermark_low(wm, 300, &t), 0);
	assert_int_equal(t, 4500);
	assert_int_equal(agent_watermark_low(wm, 300 + AGENT_STREAM_IDLE_MS, &t), 0);
	assert_int_equal(t, 4500);
	agent_watermark_mark(wm, 1, 5000, 301 + AGENT_STREAM_IDLE_MS); /* stream 1 still talks */
	assert_int_equal(agent_watermark_low(wm, 301 + AGENT_STREAM_IDLE_MS, &t), 0);
	assert_int_equal(t, 5000);
	agent_watermark_gone(wm, 3);
	agent_watermark_at_end(wm, 77); /* unknown streams: no effect */
	agent_watermark_gone(wm, 77);
	assert_int_equal(agent_watermark_streams(wm), 1);
	agent_watermark_free(wm);
}

static void test_labels_hold_nothing(void **state)
{
	struct agent_watermark *wm = agent_watermark_new();
	int64_t t;

	(void)state;
	agent_watermark_labels(wm, 3, 100);
	agent_watermark_mark(wm, 1, 5000, 100);
	assert_true(agent_watermark_is_labels(wm, 3));
	assert_false(agent_watermark_is_labels(wm, 1));
	assert_false(agent_watermark_is_labels(wm, 4));
	assert_int_equal(agent_watermark_low(wm, 100, &t), 0);
	assert_int_equal(t, 5000);
	assert_int_equal(agent_watermark_streams(wm), 2);
	assert_int_equal(agent_watermark_event_streams(wm), 1);
	agent_watermark_free(wm);
}

/* Beyond AGENT_STREAMS_MAX streams the records still raise the largest time, hold nothing. */
static void test_bound(void **state)
{
	struct agent_watermark *wm = agent_watermark_new();
	int64_t t;

	(void)state;
	for (uint32_t id = 0; id < AGENT_STREAMS_MAX; id++)
		agent_watermark_mark(wm, id, 1000 + id, 100);
	assert_int_equal(agent_watermark_streams(wm), AGENT_STREAMS_MAX);
	agent_watermark_mark(wm, AGENT_STREAMS_MAX, 50, 100); /* older than all: not tracked */
	agent_watermark_mark(wm, AGENT_STREAMS_MAX + 1, 999999, 100);
	assert_int_equal(agent_watermark_streams(wm), AGENT_STREAMS_MAX);
	assert_int_equal(agent_watermark_low(wm, 100, &t), 0);
	assert_int_equal(t, 1000);
	assert_int_equal(agent_watermark_max(wm, &t), 0);
	assert_int_equal(t, 999999);
	agent_watermark_free(wm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_record),      cmocka_unit_test(test_smallest_active),
		cmocka_unit_test(test_hello_end_gone), cmocka_unit_test(test_labels_hold_nothing),
		cmocka_unit_test(test_bound),
	};

	return TU_RUN(tests);
}
