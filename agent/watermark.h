/*
 * watermark.h -- event time: the high-water mark of every input stream and the low water they
 * hold together (SPEC.md "Windows and decisions").
 *
 * Each input stream (a Kafka partition; a file is one stream) has its own high-water mark, the
 * largest record time seen on it. The low water is the smallest of them over the active streams
 * -- heard from within AGENT_STREAM_IDLE_MS on the monotonic clock -- and with no active stream the
 * largest record time seen, so that an idle partition holds time back for AGENT_STREAM_IDLE_MS
 * at most. A stream at its end (a Kafka partition-EOF: the consumer caught up with a producer
 * that may be behind the others) keeps holding its mark until it stays silent that long; only
 * a stream that never delivered a record stops holding at its end. A stream just assigned
 * (hello) holds the low water at "no time yet" until it delivers a record, reaches its end or
 * stays silent (the engine marks a stream assigned with a stored mark at that mark, so that a
 * restart does not turn it into one that never delivered a record). Streams of the
 * labels topic hold no event time (labels come late by nature). Streams are told apart by the
 * id the source gives them (conn_msg.stream); at most AGENT_STREAMS_MAX are tracked, records of
 * further ones still count but hold no time.
 */
#ifndef DRIFTD_AGENT_WATERMARK_H
#define DRIFTD_AGENT_WATERMARK_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_STREAM_IDLE_MS 10000 /* a stream silent this long no longer holds the watermark */
#define AGENT_STREAMS_MAX    4096  /* streams tracked (Kafka partitions of the source) */

struct agent_watermark;

struct agent_watermark *agent_watermark_new(void); /* NULL on no memory */
void agent_watermark_free(struct agent_watermark *wm);

/* Stream id was assigned at time now (ms, monotonic clock): it holds the low water until heard
 * from. */
void agent_watermark_hello(struct agent_watermark *wm, uint32_t id, int64_t now);
/* A record of event time ts on stream id, received at time now (ms, monotonic clock). */
void agent_watermark_mark(struct agent_watermark *wm, uint32_t id, int64_t ts, int64_t now);
/* Stream id reached its end for now: it keeps holding its mark (until silent), or, with no
 * record yet, holds nothing until its first. */
void agent_watermark_at_end(struct agent_watermark *wm, uint32_t id);
/* Stream id belongs to the labels topic: it never holds event time. */
void agent_watermark_labels(struct agent_watermark *wm, uint32_t id, int64_t now);
/* Stream id was taken away: forgotten. */
void agent_watermark_gone(struct agent_watermark *wm, uint32_t id);

/* The largest record time seen: 0 with *ts, or -1 when no record yet. */
int agent_watermark_max(const struct agent_watermark *wm, int64_t *ts);
/* The low water at time now (monotonic): INT64_MIN while an assigned stream has not been heard
 * from; -1 when no record was seen yet (then *ts is untouched), else 0. */
int agent_watermark_low(const struct agent_watermark *wm, int64_t now, int64_t *ts);
/* The high-water mark of stream id: 0 with *ts (INT64_MIN: none yet), -1 when not tracked. */
int agent_watermark_stream(const struct agent_watermark *wm, uint32_t id, int64_t *ts);
/* Whether stream id is a labels stream. */
int agent_watermark_is_labels(const struct agent_watermark *wm, uint32_t id);
/* Streams tracked (labels streams included) and those holding event time. */
size_t agent_watermark_streams(const struct agent_watermark *wm);
size_t agent_watermark_event_streams(const struct agent_watermark *wm);

#endif
