/*
 * test_kafka.c -- the Kafka source's stream ids (connectors/kafka.h, io.h) against librdkafka's
 * mock cluster: two topics of 3 and 2 partitions read without a group (every partition assigned
 * at open), keyed records spread over the partitions. Each (topic, partition) gets one id, the ids
 * are exactly 0..4 (dense, in the order the source first saw the pairs: the hello messages),
 * and every hello, record and end-of-partition message of a pair carries the pair's id.
 */
#include "connectors/kafka.h"
#include "testutil.h"

#include <time.h>

#define NPAIRS	5
#define RECORDS 200

struct pair {
	char topic[8];
	int32_t partition;
	uint32_t id;
	int records;
};

/* The pair of (topic, partition) in seen (added when new); checks its id is the one seen. */
static void note(struct pair *seen, size_t *n, const struct conn_msg *m)
{
	assert_non_null(m->topic);
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp(seen[i].topic, m->topic) && seen[i].partition == m->partition) {
			if (seen[i].id != m->stream)
				fail_msg("%s/%d: stream %u, then %u", m->topic, (int)m->partition,
					 (unsigned)seen[i].id, (unsigned)m->stream);
			seen[i].records += !m->hello && !m->eof;
			return;
		}
	}
	assert_true(*n < NPAIRS);
	for (size_t i = 0; i < *n; i++)
		if (seen[i].id == m->stream)
			fail_msg("%s/%d shares stream %u with %s/%d", m->topic, (int)m->partition,
				 (unsigned)m->stream, seen[i].topic, (int)seen[i].partition);
	snprintf(seen[*n].topic, sizeof seen[*n].topic, "%s", m->topic);
	seen[*n].partition = m->partition;
	seen[*n].id = m->stream;
	seen[*n].records = !m->hello && !m->eof;
	(*n)++;
}

/* conn_sink_poll's callback: arg is { uint64_t *token, int *delivered }. */
static void on_outcome(void *arg, uint64_t token, const char *why)
{
	void **a = arg;

	if (why)
		fail_msg("delivery failed: %s", why);
	*(uint64_t *)a[0] = token;
	++*(int *)a[1];
}

static void test_dense_stream_ids(void **state)
{
	char *keys[] = { "sticky.partitioning.linger.ms" }, *vals[] = { "0" };
	struct conn_kafka_props spread = { keys, vals, 1 };
	struct conn_kafka_mock *m;
	struct conn_kafka_producer *p;
	struct conn_source *src;
	struct conn_msg msgs[64];
	struct pair seen[NPAIRS];
	size_t nseen = 0;
	int records = 0, hellos = 0;
	time_t start = time(NULL);
	char err[512];

	(void)state;
	m = conn_kafka_mock_new(1, err, sizeof err);
	if (!m || conn_kafka_mock_topic(m, "a", 3, err, sizeof err) < 0 ||
	    conn_kafka_mock_topic(m, "b", 2, err, sizeof err) < 0)
		fail_msg("mock cluster: %s", err);
	p = conn_kafka_producer_new(conn_kafka_mock_bootstraps(m), &spread, err, sizeof err);
	if (!p)
		fail_msg("producer: %s", err);
	for (int i = 0; i < RECORDS; i++) {
		char key[16];

		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(
		    conn_kafka_produce(p, i % 2 ? "a" : "b", key, "{}", 2, -1, NULL, 0), 0);
	}
	if (conn_kafka_producer_flush(p, 30000) < 0)
		fail_msg("flush: %s", conn_kafka_producer_error(p));
	src = conn_source_open_kafka("a,b", conn_kafka_mock_bootstraps(m), NULL, NULL, 100, 1024,
				     err, sizeof err);
	if (!src)
		fail_msg("source: %s", err);
	while (records < RECORDS) {
		int n = conn_source_next(src, msgs, 64);

		assert_true(n >= 0);
		if (time(NULL) - start > 60)
			fail_msg("%d of %d records in 60 s", records, RECORDS);
		for (int i = 0; i < n; i++) {
			note(seen, &nseen, &msgs[i]);
			hellos += msgs[i].hello;
			records += !msgs[i].hello && !msgs[i].eof;
		}
	}
	assert_int_equal(hellos, NPAIRS); /* every partition announced once, first */
	assert_int_equal(nseen, NPAIRS);
	for (uint32_t id = 0; id < NPAIRS; id++) { /* exactly 0..4 */
		size_t k = 0;

		for (size_t i = 0; i < nseen; i++)
			k += seen[i].id == id;
		assert_int_equal(k, 1);
	}
	conn_source_close(src);
	conn_kafka_producer_free(p);
	conn_kafka_mock_free(m);
}

/* The Kafka sink: conn_sink_emit (send, then wait for the outcome) returns once the broker
 * acknowledged the event, and the asynchronous path reports its token's outcome by
 * conn_sink_poll, once. */
static void test_sink_outcomes(void **state)
{
	struct conn_kafka_mock *m;
	struct conn_sink *k;
	struct conn_header h[1] = { { "ce_id", "x/1" } };
	uint64_t got = 0;
	int n = 0;
	char err[512];

	(void)state;
	m = conn_kafka_mock_new(1, err, sizeof err);
	if (!m || conn_kafka_mock_topic(m, "ev", 1, err, sizeof err) < 0)
		fail_msg("mock cluster: %s", err);
	k = conn_sink_open_kafka("ev", conn_kafka_mock_bootstraps(m), NULL, err, sizeof err);
	if (!k)
		fail_msg("sink: %s", err);
	if (conn_sink_emit(k, "m", "{}", 2, h, 1) != 0)
		fail_msg("emit: %s", conn_sink_error(k));
	assert_int_equal(conn_sink_send(k, 7, "m", "{\"a\":1}", 7, h, 1), 0);
	assert_int_equal(conn_sink_in_flight(k), 1);
	for (int i = 0; i < 100 && !n; i++)
		conn_sink_poll(k, 100, on_outcome, (void *[]){ &got, &n });
	assert_int_equal(n, 1);
	assert_true(got == 7);
	assert_int_equal(conn_sink_in_flight(k), 0);
	conn_sink_close(k);
	conn_kafka_mock_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense_stream_ids),
		cmocka_unit_test(test_sink_outcomes),
	};

	return TU_RUN(tests);
}
