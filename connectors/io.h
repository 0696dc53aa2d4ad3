/*
 * io.h -- where records come from and where events go, behind two small interfaces so that the
 * engine does not know: a file ("file:PATH", "file:-"; io_file.c) or Kafka (kafka.h). Specs
 * are parsed by endpoint.h.
 *
 * A source hands out messages in batches; a message is the raw bytes of one record (a line of
 * a JSONL file, without its newline, or a Kafka message value) plus what the transport knows
 * (Kafka timestamp, topic/partition/offset). A sink takes events: a key (the model), the value
 * (CloudEvents JSON) and the CloudEvents attributes to duplicate as headers.
 *
 * Streams: every message names the ordered stream it came from by a small integer the source
 * hands out densely -- 0, 1, 2, ... in the order it first sees each stream -- and keeps for its
 * whole lifetime (a Kafka partition revoked and assigned again gets its old id back). Two
 * streams never share an id, so per-stream state (event-time watermarks, offsets) can be kept
 * in an array indexed by it. A file source is one stream, id 0; a Kafka source has one per
 * (topic, partition).
 */
#ifndef DRIFTD_CONN_IO_H
#define DRIFTD_CONN_IO_H

#include <stddef.h>
#include <stdint.h>

struct conn_msg {
	const char *data; /* valid until the next conn_source_next */
	size_t len;
	int64_t ts_ms;	 /* transport timestamp, -1 when none */
	int64_t offset;	 /* position in the source (line number for files), for logs/dead letters */
	int oversized;	 /* 1: longer than the source's max_message: data holds a prefix only */
	uint32_t stream; /* the ordered stream it came from, a dense id (see the top): a file 0,
			  * Kafka one per (topic, partition); watermarks are kept per stream */
	int eof;   /* no record: the stream has no more messages for now (its end was reached) */
	int hello; /* no record: the stream was just assigned to us (it holds event time back
		    * until it delivers a record, reaches its end or stays silent) */
	const char *topic; /* Kafka: the topic (valid like data); a file: NULL */
	int32_t partition; /* Kafka: the partition; a file: -1 */
};

struct conn_source;

/* spec: "file:PATH" or "file:-" (stdin). max_message: longer lines are not kept whole (their
 * message is flagged oversized, memory stays bounded). speed: 0 as fast as possible, else
 * replay at that multiple of the records' own time (the engine paces; stored here). NULL with
 * errbuf on failure. */
struct conn_source *conn_source_open(const char *spec, size_t max_message, char *errbuf,
				     size_t errlen);
/* Closes s and frees it. 0, or -1 when it could not close cleanly within its bound (Kafka: the
 * consumer did not leave its group within 10 s, brokers unreachable: the group takes the
 * partitions back after the session timeout). */
int conn_source_close(struct conn_source *s);
/* Fills up to cap messages; returns how many, 0 when there is nothing (for a finite source --
 * a file -- the end; for Kafka, nothing within the poll time), -1 on an error (message on the
 * handle). Messages stay valid until the next call. */
int conn_source_next(struct conn_source *s, struct conn_msg *msgs, int cap);
int conn_source_finite(const struct conn_source *s);
/* Makes a conn_source_next blocked in another thread return now (Kafka: the poll is yielded);
 * safe from any thread; a no-op for sources that never block. */
void conn_source_wake(struct conn_source *s);
const char *conn_source_error(const struct conn_source *s);

struct conn_header {
	const char *name;
	const char *value;
};

struct conn_sink;

/* spec: "file:PATH" (appended) or "file:-" (stdout). */
struct conn_sink *conn_sink_open(const char *spec, char *errbuf, size_t errlen);
/* Closes s (Kafka: waits 1 s at most for the messages in flight; their outcome is not
 * reported: the caller's outbox still has them). */
void conn_sink_close(struct conn_sink *s);
/* Hands one event over without waiting for its delivery: 0 taken (its outcome is reported by a
 * later conn_sink_poll under token), -1 refused now (the message on the handle). The file sink
 * writes the value as one line, flushed and fsync'd before it returns (the key and headers
 * are for transports that carry them); Kafka queues it in the idempotent producer, which
 * retries on its own until it is acknowledged or its message.timeout.ms passes: an event
 * taken is never to be sent again before its outcome is known. */
int conn_sink_send(struct conn_sink *s, uint64_t token, const char *key, const char *value,
		   size_t len, const struct conn_header *headers, size_t nheaders);
/* (token is any value but UINT64_MAX.) */
/* The outcome of a send: err NULL when delivered (the broker acknowledged it, the file has
 * it), else why not (it may be sent again). */
typedef void (*conn_sink_done_fn)(void *arg, uint64_t token, const char *err);
/* Reports the outcomes known now, waiting up to timeout_ms (0: not at all) for the first one
 * when none is known. */
void conn_sink_poll(struct conn_sink *s, int timeout_ms, conn_sink_done_fn fn, void *arg);
/* Events taken and not reported yet. */
size_t conn_sink_in_flight(const struct conn_sink *s);
/* send and wait (10 s at most) for its outcome: 0 delivered, -1 not. For a caller with no
 * other send in flight (the outcomes of others are dropped). */
int conn_sink_emit(struct conn_sink *s, const char *key, const char *value, size_t len,
		   const struct conn_header *headers, size_t nheaders);
const char *conn_sink_error(const struct conn_sink *s);

#endif
