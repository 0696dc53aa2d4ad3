/*
 * io.c -- the dispatch of io.h to the source and sink implementations (io_impl.h).
 */
#include "connectors/io_impl.h"

#include <stddef.h>

int conn_source_next(struct conn_source *s, struct conn_msg *msgs, int cap)
{
	return s->ops->next(s, msgs, cap);
}

int conn_source_finite(const struct conn_source *s)
{
	return s->ops->finite;
}

void conn_source_wake(struct conn_source *s)
{
	if (s && s->ops->wake)
		s->ops->wake(s);
}

int conn_source_close(struct conn_source *s)
{
	return s ? s->ops->close(s) : 0;
}

const char *conn_source_error(const struct conn_source *s)
{
	return s->err;
}

int conn_sink_emit(struct conn_sink *k, const char *key, const char *value, size_t len,
		   const struct conn_header *headers, size_t nheaders)
{
	return k->ops->emit(k, key, value, len, headers, nheaders);
}

void conn_sink_close(struct conn_sink *k)
{
	if (k)
		k->ops->close(k);
}

const char *conn_sink_error(const struct conn_sink *k)
{
	return k->err;
}
