/*
 * io.c -- the dispatch of io.h to the source and sink implementations (io_impl.h).
 */
#include "connectors/io_impl.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int conn_sink_send(struct conn_sink *k, uint64_t token, const char *key, const char *value,
		   size_t len, const struct conn_header *headers, size_t nheaders)
{
	if (k->ops->send(k, token, key, value, len, headers, nheaders) < 0)
		return -1;
	k->in_flight++;
	return 0;
}

int conn_sink_done_add(struct conn_sink *k, uint64_t token, const char *err)
{
	struct conn_sink_done *d;

	if (k->ndone == k->capdone) {
		size_t cap = k->capdone ? 2 * k->capdone : 8;

		d = realloc(k->done, cap * sizeof *d);
		if (!d)
			return -1;
		k->done = d;
		k->capdone = cap;
	}
	d = &k->done[k->ndone++];
	d->token = token;
	d->failed = err != NULL;
	d->err = err ? strdup(err) : NULL; /* NULL after a failure: "out of memory" */
	return 0;
}

void conn_sink_done_free(struct conn_sink *k)
{
	for (size_t i = 0; i < k->ndone; i++)
		free(k->done[i].err);
	free(k->done);
	k->done = NULL;
	k->ndone = k->capdone = 0;
}

void conn_sink_poll(struct conn_sink *k, int timeout_ms, conn_sink_done_fn fn, void *arg)
{
	size_t n;

	if (!k->ndone)
		k->ops->poll(k, timeout_ms);
	n = k->ndone;
	k->ndone = 0;
	for (size_t i = 0; i < n; i++) {
		if (k->in_flight)
			k->in_flight--;
		if (fn)
			fn(arg, k->done[i].token,
			   !k->done[i].failed ? NULL
			   : k->done[i].err   ? k->done[i].err
					      : "out of memory");
		free(k->done[i].err);
	}
}

size_t conn_sink_in_flight(const struct conn_sink *k)
{
	return k->in_flight;
}

struct wait_one {
	uint64_t token;
	int state; /* 0 waiting, 1 delivered, -1 failed */
	char err[256];
};

static void wait_one_done(void *arg, uint64_t token, const char *err)
{
	struct wait_one *w = arg;

	if (token != w->token)
		return;
	w->state = err ? -1 : 1;
	if (err)
		snprintf(w->err, sizeof w->err, "%s", err);
}

int conn_sink_emit(struct conn_sink *k, const char *key, const char *value, size_t len,
		   const struct conn_header *headers, size_t nheaders)
{
	struct wait_one w = { .token = 0 }; /* the sink's tokens are any but UINT64_MAX */

	if (conn_sink_send(k, w.token, key, value, len, headers, nheaders) < 0)
		return -1;
	for (int i = 0; i < 100 && w.state == 0; i++)
		conn_sink_poll(k, 100, wait_one_done, &w);
	if (w.state == 1)
		return 0;
	snprintf(k->err, sizeof k->err, "%s", w.state ? w.err : "not acknowledged within 10 s");
	return -1;
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
