/*
 * benchsink.h -- a sink that forwards to another and notes when each outcome was reported (the
 * event written, or acknowledged by the broker for a Kafka sink): the decision benchmarks time the
 * path from a window's closing tick to that moment. Header-only; needs benchutil.h.
 */
#ifndef DRIFTD_BENCHSINK_H
#define DRIFTD_BENCHSINK_H

#include "benchutil.h"
#include "connectors/io_impl.h"

struct timing_sink {
	struct conn_sink base;	 /* ops */
	struct conn_sink *inner; /* the real sink */
	double done_at;		 /* now() when the last outcome was reported */
};

static int timing_send(struct conn_sink *k, uint64_t token, const char *key, const char *value,
		       size_t len, const struct conn_header *h, size_t nh)
{
	struct timing_sink *t = (struct timing_sink *)k;

	return conn_sink_send(t->inner, token, key, value, len, h, nh);
}

static void timing_done(void *arg, uint64_t token, const char *err)
{
	struct timing_sink *t = arg;

	t->done_at = now();
	conn_sink_done_add(&t->base, token, err);
}

static void timing_poll(struct conn_sink *k, int timeout_ms)
{
	struct timing_sink *t = (struct timing_sink *)k;

	conn_sink_poll(t->inner, timeout_ms, timing_done, t);
}

static void timing_close(struct conn_sink *k)
{
	conn_sink_done_free(k);
}

static const struct conn_sink_ops timing_ops = { timing_send, timing_poll, timing_close };

#endif
