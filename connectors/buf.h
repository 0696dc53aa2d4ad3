/*
 * buf.h -- a growable byte buffer: bytes appended at its end, the capacity doubled as needed,
 * NUL-terminated after every put. A failed allocation sets oom and every later put is dropped,
 * so that a writer checks once, at the end. Header-only (the metrics page and the positional
 * JSON reader append in their inner loops). The HTTP server's upload buffer is not one: its
 * capacity is clamped to the route's body limit.
 */
#ifndef DRIFTD_CONN_BUF_H
#define DRIFTD_CONN_BUF_H

#include <stdlib.h>
#include <string.h>

struct conn_buf {
	char *p;	 /* NULL until the first put */
	size_t len, cap; /* cap: bytes allocated; len + 1 <= cap once allocated */
	int oom;	 /* an allocation failed: everything after is dropped */
};

/* Makes room for n more bytes and the NUL. 0, or -1 (oom set). */
static inline int conn_buf_reserve(struct conn_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = (char *)realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Appends s[0..n). 0, or -1 (oom). */
static inline int conn_buf_put(struct conn_buf *b, const void *s, size_t n)
{
	if (conn_buf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static inline int conn_buf_putc(struct conn_buf *b, char c)
{
	if (conn_buf_reserve(b, 1) < 0)
		return -1;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
	return 0;
}

#endif
