/*
 * kafka.h -- Kafka through librdkafka: a consumer source for io.h, a producer, and librdkafka's
 * mock cluster (the embedded Kafka-protocol broker of `driftd demo` and the tests; its API is
 * experimental in librdkafka, so it is used in this one file only).
 *
 * Client properties pass through unchanged (`kafka.*` options: SASL, SSL, ...); an invalid one
 * is reported by name, never with its value (it may be a secret).
 */
#ifndef DRIFTD_CONN_KAFKA_H
#define DRIFTD_CONN_KAFKA_H

#include "connectors/io.h"

#include <stddef.h>
#include <stdint.h>

/* librdkafka properties to set on a client, in order. */
struct conn_kafka_props {
	char *const *keys;
	char *const *values;
	size_t n;
};

/* librdkafka's log lines go to fn (syslog level 0..7, librdkafka's facility, the line), from
 * librdkafka's own threads, for every client made after the call; NULL (the default): it
 * prints them itself on stderr. A kafka.* property of the other kind of client only (a
 * consumer's for a producer, and the reverse; librdkafka's own table says which) is not
 * applied to it. */
typedef void (*conn_kafka_log_fn)(int level, const char *fac, const char *line);
void conn_kafka_set_log(conn_kafka_log_fn fn);

/* ---- consumer source ----
 * Subscribes to the comma-separated topics in consumer group `group` (auto.offset.reset
 * earliest unless props say otherwise) and hands out messages in batches; next() waits at most
 * poll_ms and returns 0 when nothing came. Message timestamps become conn_msg.ts_ms.
 * group NULL: no group at all -- every partition of the topics is assigned from its beginning,
 * nothing is committed (the demo: no rebalance to wait for). Each (topic, partition) is one
 * stream with a dense id (io.h). */
struct conn_source *conn_source_open_kafka(const char *topics, const char *brokers,
					   const char *group, const struct conn_kafka_props *props,
					   int poll_ms, size_t max_message, char *errbuf,
					   size_t errlen);

/* ---- consumer hooks: where to resume, and checkpoints before partitions leave ----
 * resume: called for each partition at its assignment (from inside conn_source_next): 0 with
 * *next to start reading there; 1 (nothing stored) or -1 (the store cannot say) to start from
 * the group's committed offset, else auto.offset.reset. revoke: called once per rebalance that
 * takes partitions away (and at close), before they go, with their stream ids (io.h: dense,
 * the ids their messages carried): the callee checkpoints what it counted from them. Set the hooks
 * before the first conn_source_next. */
struct conn_kafka_hooks {
	void *arg;
	int (*resume)(void *arg, const char *topic, int32_t partition, int64_t *next);
	void (*revoke)(void *arg, const uint32_t *streams, size_t n);
};
/* -1 when src is not a Kafka source. */
int conn_source_kafka_hooks(struct conn_source *src, const struct conn_kafka_hooks *h);
/* Commits next as the group's offset of the stream "TOPIC/PARTITION" (asynchronously: for lag
 * monitoring and as the fallback of resume). -1 when src is not a Kafka source or the name is
 * malformed. */
int conn_source_kafka_commit(struct conn_source *src, const char *stream, int64_t next);

/* Makes the consumer read the stream "TOPIC/PARTITION" again from offset next (before its next
 * poll); its messages already polled and not handed out are dropped. For a stream rewound to
 * its checkpoint (the store unreachable at a rebalance). Callable from a revoke hook. -1 when
 * src is not a Kafka source, the name is malformed or on no memory. */
int conn_source_kafka_seek(struct conn_source *src, const char *stream, int64_t next);

/* Whether the consumer has a broker connection up (librdkafka's statistics, every 2 s): 1 yes,
 * 0 none, -1 not known yet or not a Kafka source. */
int conn_source_kafka_up(const struct conn_source *src);
/* Consumer lag: calls fn for each assigned partition with the broker's high watermark minus
 * the consumer's position (-1 when either is not known yet). Cheap: cached values only. -1 when
 * src is not a Kafka source. */
typedef void (*conn_kafka_lag_fn)(void *arg, const char *topic, int32_t partition, int64_t lag);
int conn_source_kafka_lag(struct conn_source *src, conn_kafka_lag_fn fn, void *arg);

/* Every partition of the subscribed topics, as the brokers list them (a census thread asks for
 * their metadata and offsets every second, so that partitions added to a topic are seen):
 * fn gets each with its low and high watermark offsets (the first offset kept and the log end;
 * -1 when not known). Returns how many partitions were listed; -1 before the first complete
 * census, for a source without a group (it is assigned every partition itself) or not a
 * Kafka source. */
typedef void (*conn_kafka_partition_fn)(void *arg, const char *topic, int32_t partition,
					int64_t low, int64_t high);
int conn_source_kafka_partitions(struct conn_source *src, conn_kafka_partition_fn fn, void *arg);

/* ---- producer ----
 * Idempotent (enable.idempotence=true, acks=all). produce() queues a copy of the message;
 * flush() waits until every queued message is acknowledged by the broker or failed. */
struct conn_kafka_producer;
struct conn_kafka_producer *conn_kafka_producer_new(const char *brokers,
						    const struct conn_kafka_props *props,
						    char *errbuf, size_t errlen);
void conn_kafka_producer_free(struct conn_kafka_producer *p);
/* 0 queued, -1 on error (conn_kafka_producer_error). ts_ms < 0: the producer's clock. */
int conn_kafka_produce(struct conn_kafka_producer *p, const char *topic, const char *key,
		       const char *value, size_t len, int64_t ts_ms,
		       const struct conn_header *headers, size_t nheaders);
/* 0 when everything queued so far was delivered, -1 on a delivery failure or a timeout. */
int conn_kafka_producer_flush(struct conn_kafka_producer *p, int timeout_ms);
const char *conn_kafka_producer_error(const struct conn_kafka_producer *p);
/* A sink (io.h) producing to `topic` with the event's key and headers: a send queues the event
 * in the idempotent producer, conn_sink_poll reports the broker's acknowledgement (or the
 * failure after librdkafka's own retries). */
struct conn_sink *conn_sink_open_kafka(const char *topic, const char *brokers,
				       const struct conn_kafka_props *props, char *errbuf,
				       size_t errlen);

/* ---- mock cluster ---- */
struct conn_kafka_mock;
struct conn_kafka_mock *conn_kafka_mock_new(int brokers, char *errbuf, size_t errlen);
void conn_kafka_mock_free(struct conn_kafka_mock *m);
/* "127.0.0.1:PORT[,...]": real TCP listeners other processes can use. */
const char *conn_kafka_mock_bootstraps(const struct conn_kafka_mock *m);
int conn_kafka_mock_topic(struct conn_kafka_mock *m, const char *topic, int partitions,
			  char *errbuf, size_t errlen);
/* Fault injection (librdkafka's mock API), for `driftd mock-kafka --control`; broker -1: every
 * broker. 0, or -1 with a message. */
/* Takes broker down (its connections closed, new ones refused) or up again. */
int conn_kafka_mock_broker_up(struct conn_kafka_mock *m, int broker, int up, char *errbuf,
			      size_t errlen);
/* Delays every response of broker by rtt_ms (0: none). */
int conn_kafka_mock_broker_rtt(struct conn_kafka_mock *m, int broker, int rtt_ms, char *errbuf,
			       size_t errlen);
/* The next n requests of Kafka API key api (0 Produce, 1 Fetch, ...) fail with error err. */
int conn_kafka_mock_request_errors(struct conn_kafka_mock *m, int api, int n, int err, char *errbuf,
				   size_t errlen);
/* The same, for the requests broker (one broker) answers: before the cluster-wide ones. */
int conn_kafka_mock_broker_errors(struct conn_kafka_mock *m, int broker, int api, int n, int err,
				  char *errbuf, size_t errlen);
/* Makes broker the leader of topic's partition. */
int conn_kafka_mock_leader(struct conn_kafka_mock *m, const char *topic, int partition, int broker,
			   char *errbuf, size_t errlen);
/* The code of a Kafka error named as librdkafka names it (NOT_ENOUGH_REPLICAS, the "name" of
 * rd_kafka_get_err_descs), or of its number; -1 when unknown. */
int conn_kafka_error_code(const char *name);

#endif
