/*
 * benchsink.h -- a sink that forwards to another and notes when each emit returned (the event
 * written, or acknowledged by the broker for a Kafka sink): the decision benchmarks time the
 * path from a window's closing tick to that moment. Header-only; needs benchutil.h.
 */
#ifndef DRIFTD_BENCHSINK_H
#define DRIFTD_BENCHSINK_H

#include "benchutil.h"
#include "connectors/io_impl.h"

struct timing_sink {
	struct conn_sink base;	 /* ops */
	struct conn_sink *inner; /* the real sink */
	double done_at;		 /* now() when the last emit returned */
};

static int timing_emit(struct conn_sink *k, const char *key, const char *value, size_t len,
		       const struct conn_header *h, size_t nh)
{
	struct timing_sink *t = (struct timing_sink *)k;
	int rc = conn_sink_emit(t->inner, key, value, len, h, nh);

	t->done_at = now();
	return rc;
}

static void timing_close(struct conn_sink *k)
{
	(void)k;
}

static const struct conn_sink_ops timing_ops = { timing_emit, timing_close };

#endif
