/*
 * io_impl.h -- internal: what every source and sink implementation starts with (io.h is the
 * public side). An implementation embeds struct conn_source / conn_sink as its first member.
 */
#ifndef DRIFTD_CONN_IO_IMPL_H
#define DRIFTD_CONN_IO_IMPL_H

#include "connectors/io.h"

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
	int (*emit)(struct conn_sink *k, const char *key, const char *value, size_t len,
		    const struct conn_header *headers, size_t nheaders);
	void (*close)(struct conn_sink *k);
};

struct conn_sink {
	const struct conn_sink_ops *ops;
	char err[256]; /* last error */
};

#endif
