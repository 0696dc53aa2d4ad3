/*
 * endpoint.c -- the endpoint spec parser and display of endpoint.h.
 *
 * A parse is a dispatch on the scheme, then one small parser per form. Every string of the
 * result is carved out of one buffer (struct arena) sized from the spec -- the parts of a spec
 * are disjoint, so twice its length and a few NULs always suffice -- which conn_endpoint_free
 * zeroes (it may hold the password) and frees. Messages are written once, at the point of the
 * refusal, and never contain the spec or any part of it.
 */
#include "connectors/endpoint.h"
#include "connectors/text.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* The messages of a refusal by role: the forms the role takes. */
static const char *const role_expected[] = {
	[CONN_ENDPOINT_SOURCE] = "expected file:PATH, file:- or kafka:TOPIC[,TOPIC...] (topics: "
				 "letters, digits, '.', '_', '-')",
	[CONN_ENDPOINT_SINK] = "expected file:PATH, file:- or kafka:TOPIC",
	[CONN_ENDPOINT_TOPIC] = "expected kafka:TOPIC",
	[CONN_ENDPOINT_STORE] = "expected dir:PATH, redis://[:PASSWORD@]HOST[:PORT][/DB] or "
				"unix:PATH",
};

/* The strings of one result, bump-allocated. */
struct arena {
	char *p;
	size_t used, cap;
};

struct parse {
	struct conn_endpoint *ep;
	struct arena a;
	char *errbuf;
	size_t errlen;
};

static int fail(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parse *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->errbuf, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A NUL-terminated copy of s[0..n) in the arena (sized so that it always fits). */
static char *keep(struct parse *ps, const char *s, size_t n)
{
	char *d = ps->a.p + ps->a.used;

	memcpy(d, s, n);
	d[n] = '\0';
	ps->a.used += n + 1;
	return d;
}

/* A decimal of 1 to 9 digits at s[0..n), in 0..INT_MAX: the value, or -1. */
static long small_number(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* ---- file:, dir:, kafka: ---- */

static int parse_path(struct parse *ps, enum conn_endpoint_kind kind, const char *spec,
		      const char *path, enum conn_endpoint_role role)
{
	struct conn_endpoint *ep = ps->ep;

	if (!path[0])
		return fail(ps, "%s", role_expected[role]);
	ep->kind = kind;
	ep->path = keep(ps, path, strlen(path));
	ep->std = kind == CONN_ENDPOINT_FILE && strcmp(path, "-") == 0;
	ep->where = keep(ps, spec, strlen(spec));
	return 0;
}

static int topic_ok(const char *s, size_t n)
{
	if (n == 0 || n > CONN_ENDPOINT_MAX_TOPIC)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int parse_kafka(struct parse *ps, const char *spec, const char *list,
		       enum conn_endpoint_role role)
{
	struct conn_endpoint *ep = ps->ep;
	size_t n = 1;
	char *copy;

	for (const char *c = list; *c; c++)
		n += *c == ',';
	if (n > 1 && role != CONN_ENDPOINT_SOURCE)
		return fail(ps, "%s", role_expected[role]);
	for (const char *s = list;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (!topic_ok(s, len))
			return fail(ps, "%s", role_expected[role]);
		if (!comma)
			break;
		s = comma + 1;
	}
	ep->topicv_ = calloc(n + 1, sizeof *ep->topicv_);
	if (!ep->topicv_)
		return fail(ps, "out of memory");
	copy = keep(ps, list, strlen(list));
	for (size_t i = 0; i < n; i++) {
		ep->topicv_[i] = copy;
		copy += strcspn(copy, ",");
		*copy++ = '\0';
	}
	ep->kind = CONN_ENDPOINT_KAFKA;
	ep->topics = ep->topicv_;
	ep->ntopics = n;
	ep->where = keep(ps, spec, strlen(spec));
	return 0;
}

/* ---- Redis ---- */

/* [[USER]:PASSWORD@] at the start of *rest, ending at its last '@'; advances *rest past it. */
static int parse_userinfo(struct parse *ps, const char **rest)
{
	struct conn_endpoint *ep = ps->ep;
	const char *at = strrchr(*rest, '@'), *colon;
	char *d;
	long n;

	if (!at)
		return 0;
	colon = memchr(*rest, ':', (size_t)(at - *rest));
	if (!colon)
		return fail(ps, "redis: the part before '@' must be [USER]:PASSWORD (a password "
				"alone is written :PASSWORD@)");
	if (colon > *rest) {
		d = ps->a.p + ps->a.used;
		n = conn_text_pct_decode(d, *rest, (size_t)(colon - *rest));
		if (n < 0)
			return fail(ps, "redis: malformed user name (percent-encoding)");
		ps->a.used += (size_t)n + 1;
		ep->user = d;
	}
	if (at == colon + 1)
		return fail(ps, "redis: empty password");
	d = ps->a.p + ps->a.used;
	n = conn_text_pct_decode(d, colon + 1, (size_t)(at - colon - 1));
	if (n < 0)
		return fail(ps, "redis: malformed password (percent-encoding)");
	ps->a.used += (size_t)n + 1;
	ep->password = d;
	ep->password_len = (size_t)n;
	*rest = at + 1;
	return 0;
}

/* PATH[?db=N] of a socket spec. */
static int parse_socket(struct parse *ps, const char *rest)
{
	struct conn_endpoint *ep = ps->ep;
	const char *q = strrchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);
	char *where;

	if (q) {
		long db = has_prefix(q, "?db=") ? small_number(q + 4, strlen(q + 4)) : -1;

		if (db < 0)
			return fail(ps, "redis: a socket path may only be followed by ?db=N");
		ep->db = (int)db;
	}
	if (n == 0 || n > SOCKET_PATH_MAX)
		return fail(ps, "redis: the socket path must be 1 to %zu bytes", SOCKET_PATH_MAX);
	ep->kind = CONN_ENDPOINT_REDIS_UNIX;
	ep->path = keep(ps, rest, n);
	where = ps->a.p + ps->a.used;
	ps->a.used += (size_t)snprintf(where, ps->a.cap - ps->a.used, "unix:%s", ep->path) + 1;
	ep->where = where;
	return 0;
}

/* Why HOST[:PORT] at s[0..n) is refused. */
static int hostport_error(struct parse *ps, const char *s, size_t n)
{
	struct conn_hostport hp;
	const char *cut;

	if (n && s[0] == '[') {
		cut = memchr(s, ']', n);
		if (!cut || conn_text_hostport(s, (size_t)(cut + 1 - s), 0, &hp) < 0 ||
		    (cut + 1 < s + n && cut[1] != ':'))
			return fail(ps, "redis: malformed [IPv6] host");
	} else {
		cut = memchr(s, ':', n);
		if (!cut)
			cut = s + n;
		if (cut == s || cut - s > 255)
			return fail(ps, "redis: the host must be 1 to 255 bytes");
		if (conn_text_hostport(s, (size_t)(cut - s), 0, &hp) < 0)
			return fail(ps, "redis: malformed host");
	}
	return fail(ps, "redis: the port must be 1 to 65535");
}

/* HOST[:PORT][/DB] of a TCP spec. */
static int parse_tcp(struct parse *ps, const char *rest)
{
	struct conn_endpoint *ep = ps->ep;
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	struct conn_hostport hp;
	char *where;

	if (conn_text_hostport(rest, n, 0, &hp) < 0)
		return hostport_error(ps, rest, n);
	if (slash && slash[1]) {
		long db = small_number(slash + 1, strlen(slash + 1));

		if (db < 0)
			return fail(ps, "redis: the database must be a number");
		ep->db = (int)db;
	}
	ep->kind = CONN_ENDPOINT_REDIS;
	ep->host = keep(ps, hp.host, strlen(hp.host));
	ep->port = hp.port < 0 ? CONN_ENDPOINT_REDIS_PORT : hp.port;
	ep->bracketed = hp.bracketed;
	where = ps->a.p + ps->a.used;
	ps->a.used += (size_t)snprintf(where, ps->a.cap - ps->a.used,
				       hp.bracketed ? "[%s]:%d" : "%s:%d", ep->host, ep->port) +
		      1;
	ep->where = where;
	return 0;
}

static int parse_store(struct parse *ps, const char *spec)
{
	const char *rest;

	if (has_prefix(spec, "dir:") && !spec[4])
		return fail(ps, "dir: empty path (%s)", role_expected[CONN_ENDPOINT_STORE]);
	if (has_prefix(spec, "dir:"))
		return parse_path(ps, CONN_ENDPOINT_DIR, spec, spec + 4, CONN_ENDPOINT_STORE);
	if (has_prefix(spec, "unix:"))
		return parse_socket(ps, spec + 5);
	if (has_prefix(spec, "redis+unix://")) {
		rest = spec + 13;
		return parse_userinfo(ps, &rest) < 0 ? -1 : parse_socket(ps, rest);
	}
	if (has_prefix(spec, "redis://")) {
		rest = spec + 8;
		return parse_userinfo(ps, &rest) < 0 ? -1 : parse_tcp(ps, rest);
	}
	if (has_prefix(spec, "rediss://"))
		return fail(ps, "rediss:// is not supported (Redis over TLS: hiredis 0.14 has no "
				"TLS)");
	return fail(ps, "%s", role_expected[CONN_ENDPOINT_STORE]);
}

/* ---- API ---- */

const char *conn_endpoint_expected(enum conn_endpoint_role role)
{
	return (unsigned)role > CONN_ENDPOINT_STORE ? "unknown endpoint role" : role_expected[role];
}

int conn_endpoint_parse(const char *spec, enum conn_endpoint_role role, struct conn_endpoint *ep,
			char *errbuf, size_t errlen)
{
	struct parse ps = { ep, { NULL, 0, 0 }, errbuf, errlen };
	size_t len = spec ? strlen(spec) : 0;
	int rc;

	memset(ep, 0, sizeof *ep);
	if (errlen)
		errbuf[0] = '\0';
	if ((unsigned)role > CONN_ENDPOINT_STORE)
		return fail(&ps, "unknown endpoint role");
	if (!spec)
		return fail(&ps, "%s", role_expected[role]);
	/* the parts of spec are disjoint: two copies, the "unix:" or "[]:65535" of where and the
	 * NULs fit in 2 * len + 64 */
	ps.a.cap = 2 * len + 64;
	ps.a.p = malloc(ps.a.cap);
	if (!ps.a.p)
		return fail(&ps, "out of memory");
	ep->mem_ = ps.a.p;
	ep->memlen_ = ps.a.cap;
	if (role == CONN_ENDPOINT_STORE)
		rc = parse_store(&ps, spec);
	else if (role != CONN_ENDPOINT_TOPIC && has_prefix(spec, "file:"))
		rc = parse_path(&ps, CONN_ENDPOINT_FILE, spec, spec + 5, role);
	else if (has_prefix(spec, "kafka:"))
		rc = parse_kafka(&ps, spec, spec + 6, role);
	else
		rc = fail(&ps, "%s", role_expected[role]);
	if (rc < 0)
		conn_endpoint_free(ep);
	return rc;
}

void conn_endpoint_free(struct conn_endpoint *ep)
{
	if (ep->mem_)
		explicit_bzero(ep->mem_, ep->memlen_); /* it holds the password */
	free(ep->mem_);
	free(ep->topicv_);
	memset(ep, 0, sizeof *ep);
}

/* ---- display ---- */

/* Appends s[0..n) to out (cap bytes) at *o, counting what does not fit. */
static void put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o < cap) {
		size_t k = cap - *o - 1 < n ? cap - *o - 1 : n;

		memcpy(out + *o, s, k);
		out[*o + k] = '\0';
	}
	*o += n;
}

size_t conn_endpoint_mask(const char *spec, char *out, size_t cap)
{
	static const char *const plain[] = { "file:", "kafka:", "dir:", "unix:" };
	static const char *const urls[] = { "redis://", "redis+unix://", "rediss://" };
	const char *user = NULL, *at, *colon;
	size_t o = 0;

	if (cap)
		out[0] = '\0';
	if (!spec) {
		put(out, cap, &o, "***", 3);
		return o;
	}
	for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
		if (has_prefix(spec, plain[i])) {
			put(out, cap, &o, spec, strlen(spec));
			return o;
		}
	for (size_t i = 0; i < sizeof urls / sizeof *urls; i++)
		if (has_prefix(spec, urls[i]))
			user = spec + strlen(urls[i]);
	if (!user) {
		put(out, cap, &o, "***", 3);
		return o;
	}
	at = strrchr(user, '@');
	if (!at) {
		put(out, cap, &o, spec, strlen(spec));
		return o;
	}
	colon = memchr(user, ':', (size_t)(at - user));
	put(out, cap, &o, spec, (size_t)((colon ? colon + 1 : user) - spec));
	put(out, cap, &o, "***", 3);
	put(out, cap, &o, at, strlen(at));
	return o;
}
