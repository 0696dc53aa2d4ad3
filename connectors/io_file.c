/*
 * io_file.c -- the file source (JSONL, one record per line) and the file sink (one event per
 * line) of io.h.
 *
 * The source reads in 1 MiB chunks and hands out the complete lines of its buffer as messages.
 * A line longer than max_message is not kept: its first max_message bytes are handed out flagged
 * `oversized` (the engine rejects it as too_large) and the rest is skipped up to the newline,
 * so memory stays bounded whatever the input. A last line without a newline is a message too.
 * Empty lines (and lines of only "\r") are skipped. Specs are read by endpoint.h (file:PATH,
 * file:- for standard input or output); a file source is one stream, id 0.
 */
#include "connectors/endpoint.h"
#include "connectors/io_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20) /* bytes read at a time */

struct file_source {
	struct conn_source base; /* ops, err */
	FILE *f;		 /* the file (stdin not closed) */
	int is_stdin;
	char *buf;	    /* cap bytes: [start, end) unread */
	size_t cap;	    /* max_message + CHUNK + 1 */
	size_t start, end;  /* unread span of buf */
	size_t max_message; /* longest message kept whole */
	int eof;	    /* no more input */
	int skipping;	    /* inside an oversized line: drop bytes up to the next newline */
	int64_t line;	    /* lines handed out or skipped so far */
};

struct file_sink {
	struct conn_sink base; /* ops, err */
	FILE *f;	       /* the file (stdout not closed) */
	int is_stdout;
};

static void set_err(char *dst, size_t n, const char *fmt, const char *a, const char *b)
{
	if (dst && n)
		snprintf(dst, n, fmt, a, b);
}

/* The file endpoint of spec for role (endpoint.h): 0 with *ep to free, or -1 with errbuf
 * (what: "source" or "events sink", for the message). */
static int file_endpoint(const char *spec, enum conn_endpoint_role role, const char *what,
			 struct conn_endpoint *ep, char *errbuf, size_t errlen)
{
	char err[256];

	if (conn_endpoint_parse(spec, role, ep, err, sizeof err) < 0) {
		set_err(errbuf, errlen, "%s: %s", what, err);
		return -1;
	}
	if (ep->kind != CONN_ENDPOINT_FILE) {
		set_err(errbuf, errlen, "unsupported %s '%s' here (only file:PATH and file:-)",
			what, ep->where);
		conn_endpoint_free(ep);
		return -1;
	}
	return 0;
}

/* ---- source ---- */

static int file_next(struct conn_source *base, struct conn_msg *msgs, int cap);
static int file_close(struct conn_source *base);

static const struct conn_source_ops file_source_ops = { file_next, file_close, 1, NULL };

struct conn_source *conn_source_open(const char *spec, size_t max_message, char *errbuf,
				     size_t errlen)
{
	struct file_source *s = NULL;
	struct conn_endpoint ep;

	if (file_endpoint(spec, CONN_ENDPOINT_SOURCE, "source", &ep, errbuf, errlen) < 0)
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		goto nomem;
	s->base.ops = &file_source_ops;
	s->max_message = max_message ? max_message : 1;
	s->cap = s->max_message + CHUNK + 1;
	s->buf = malloc(s->cap);
	if (!s->buf)
		goto nomem;
	if (ep.std) {
		s->f = stdin;
		s->is_stdin = 1;
	} else {
		s->f = fopen(ep.path, "rb");
		if (!s->f) {
			set_err(errbuf, errlen, "%s: %s", ep.path, strerror(errno));
			file_close(&s->base);
			conn_endpoint_free(&ep);
			return NULL;
		}
	}
	conn_endpoint_free(&ep);
	return &s->base;
nomem:
	set_err(errbuf, errlen, "%s%s", "out of memory", "");
	if (s)
		file_close(&s->base);
	conn_endpoint_free(&ep);
	return NULL;
}

static int file_close(struct conn_source *base)
{
	struct file_source *s = (struct file_source *)base;

	if (s->f && !s->is_stdin)
		fclose(s->f);
	free(s->buf);
	free(s);
	return 0;
}

/* Reads more input after compacting; -1 on a read error. */
static int fill(struct file_source *s)
{
	size_t got;

	if (s->start > 0) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	got = fread(s->buf + s->end, 1, s->cap - 1 - s->end, s->f);
	s->end += got;
	if (got == 0) {
		if (ferror(s->f)) {
			snprintf(s->base.err, sizeof s->base.err, "read error: %s",
				 strerror(errno));
			return -1;
		}
		s->eof = 1;
	}
	return 0;
}

static int file_next(struct conn_source *base, struct conn_msg *msgs, int cap)
{
	struct file_source *s = (struct file_source *)base;
	int n = 0;

	for (;;) {
		/* refill only before handing anything out: fill() moves the buffer */
		if (n == 0 && !s->eof && s->end - s->start <= s->max_message && fill(s) < 0)
			return -1;
		while (n < cap && s->start < s->end) {
			char *p = s->buf + s->start;
			size_t avail = s->end - s->start;
			char *nl = memchr(p, '\n', avail);
			size_t len = nl ? (size_t)(nl - p) : avail;

			if (s->skipping) { /* the tail of an oversized line */
				s->start += nl ? len + 1 : len;
				s->skipping = !nl;
				continue;
			}
			if (!nl && !s->eof && len <= s->max_message)
				break; /* an incomplete line: wait for more input */
			s->line++;
			if (len > s->max_message) {
				msgs[n++] = (struct conn_msg){ .data = p,
							       .len = s->max_message,
							       .ts_ms = -1,
							       .partition = -1,
							       .offset = s->line,
							       .oversized = 1 };
				s->start += nl ? len + 1 : len;
				s->skipping = !nl;
				continue;
			}
			s->start += nl ? len + 1 : len;
			if (len > 0 && p[len - 1] == '\r')
				len--;
			if (len > 0)
				msgs[n++] = (struct conn_msg){ .data = p,
							       .len = len,
							       .ts_ms = -1,
							       .offset = s->line,
							       .partition = -1 };
		}
		if (n > 0 || (s->eof && s->start == s->end))
			return n;
		if (s->eof)
			continue; /* unreachable: at EOF every line is complete */
		if (fill(s) < 0)
			return -1;
	}
}

/* ---- sink ---- */

static int file_send(struct conn_sink *base, uint64_t token, const char *key, const char *value,
		     size_t len, const struct conn_header *headers, size_t nheaders);
static void file_poll(struct conn_sink *base, int timeout_ms);
static void file_sink_close(struct conn_sink *base);

static const struct conn_sink_ops file_sink_ops = { file_send, file_poll, file_sink_close };

struct conn_sink *conn_sink_open(const char *spec, char *errbuf, size_t errlen)
{
	struct file_sink *k;
	struct conn_endpoint ep;

	if (file_endpoint(spec, CONN_ENDPOINT_SINK, "events sink", &ep, errbuf, errlen) < 0)
		return NULL;
	k = calloc(1, sizeof *k);
	if (!k) {
		set_err(errbuf, errlen, "%s%s", "out of memory", "");
		conn_endpoint_free(&ep);
		return NULL;
	}
	k->base.ops = &file_sink_ops;
	if (ep.std) {
		k->f = stdout;
		k->is_stdout = 1;
	} else if (!(k->f = fopen(ep.path, "ab"))) {
		set_err(errbuf, errlen, "%s: %s", ep.path, strerror(errno));
		free(k);
		conn_endpoint_free(&ep);
		return NULL;
	}
	conn_endpoint_free(&ep);
	return &k->base;
}

static void file_sink_close(struct conn_sink *base)
{
	struct file_sink *k = (struct file_sink *)base;

	if (k->f && !k->is_stdout)
		fclose(k->f);
	else if (k->f)
		fflush(k->f);
	conn_sink_done_free(&k->base);
	free(k);
}

/* The outcome is known when the write returns: kept for the next poll. */
static void file_poll(struct conn_sink *base, int timeout_ms)
{
	(void)base;
	(void)timeout_ms;
}

static int file_send(struct conn_sink *base, uint64_t token, const char *key, const char *value,
		     size_t len, const struct conn_header *headers, size_t nheaders)
{
	struct file_sink *k = (struct file_sink *)base;

	(void)key;
	(void)headers;
	(void)nheaders;
	if (fwrite(value, 1, len, k->f) != len || fputc('\n', k->f) == EOF || fflush(k->f) != 0) {
		snprintf(k->base.err, sizeof k->base.err, "write error: %s", strerror(errno));
		return -1;
	}
	if (!k->is_stdout)
		fsync(fileno(k->f));
	conn_sink_done_add(&k->base, token, NULL);
	return 0;
}
