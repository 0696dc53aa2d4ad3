/*
 * io_impl.h -- internal: what every source and sink implementation starts with (io.h is the
 * public side). An implementation embeds struct conn_source / conn_sink as its first member.
 */
#ifndef DRIFTD_CONN_IO_IMPL_H
#define DRIFTD_CONN_IO_IMPL_H

#include "connectors/io.h"

#include <stdint.h>

struct conn_source_ops {
	int (*next)(struct conn_source *s, struct conn_msg *msgs, int cap);
	int (*close)(struct conn_source *s); /* 0, or -1: not closed cleanly (io.h) */
	int finite; /* 1: next() returning 0 means the end (a file); 0: nothing right now */
	void (*wake)(struct conn_source *s); /* NULL: next() never blocks long */
};

struct conn_source {
	const struct conn_source_ops *ops;
	char err[256]; /* first error */
};

struct conn_sink_ops {
	int (*send)(struct conn_sink *k, uint64_t token, const char *key, const char *value,
		    size_t len, const struct conn_header *headers, size_t nheaders);
	/* reports every outcome known (conn_sink_done_report), waiting as io.h says */
	void (*poll)(struct conn_sink *k, int timeout_ms);
	void (*close)(struct conn_sink *k);
};

/* An outcome kept until the next poll reports it. */
struct conn_sink_done {
	uint64_t token;
	int failed;
	char *err; /* why, when failed (NULL: no memory to say) */
};

struct conn_sink {
	const struct conn_sink_ops *ops;
	char err[256];		     /* last error */
	size_t in_flight;	     /* taken, not reported yet (io.c) */
	struct conn_sink_done *done; /* outcomes known, to report (conn_sink_done_add) */
	size_t ndone, capdone;
	conn_sink_done_fn fn; /* during a poll: where outcomes go */
	void *fn_arg;
};

/* Keeps the outcome of token for the next poll (err copied; NULL: delivered). 0, or -1 on no
 * memory: the outcome is lost, and the caller's outbox gives up waiting for it after its
 * bound (then sends it again). */
int conn_sink_done_add(struct conn_sink *k, uint64_t token, const char *err);
/* Frees the outcomes kept (at close). */
void conn_sink_done_free(struct conn_sink *k);

#endif
