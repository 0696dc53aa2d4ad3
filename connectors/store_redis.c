/*
 * store_redis.c -- the Redis backend of store.h (hiredis 0.14, blocking API): driftd's durable
 * state in one Redis database, shared by every agent and driftctl (layout in doc/store.md).
 *
 * Specs:
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]    TCP; PORT 6379 and DB 0 by default; HOST may
 *                                                 be an IPv6 literal in brackets
 *   redis+unix://[[USER]:PASSWORD@]PATH[?db=N]    a Unix socket
 *   unix:PATH[?db=N]                              a Unix socket, no password
 * USER and PASSWORD are percent-decoded (so a password may hold '@', ':' or '/' as %40, %3A,
 * %2F); the last '@' ends them. USER selects a Redis 6 ACL user (AUTH USER PASSWORD).
 *
 * Keys ({M}: the model name with '%' written %25 and '}' written %7D, so that the hash tag ends
 * where the name ends and no two names share a key; V, IDs and every value are raw bytes,
 * always sent as binary-safe arguments, never formatted into a command):
 *   driftd:{M}:version:V   STRING  the registration document of version V
 *   driftd:{M}:versions    ZSET    member V, score its registration number (from :seq)
 *   driftd:{M}:seq         STRING  the counter of the model's registrations (INCR)
 *   driftd:{M}:registered  HASH    field V, value registered_ms (decimal)
 *   driftd:{M}:baseline:V  STRING  the baseline of V
 *   driftd:{M}:good        STRING  the last known good version
 *   driftd:{M}:hold        STRING  "1" when on hold; absent (or "0") when not
 *   driftd:{M}:latched     SET     the latched versions
 *   driftd:{M}:history     STREAM  one entry per history document, field "doc"
 *   driftd:models          SET     the model names (the one key without a model tag)
 *   driftd:claim:{ID}      STRING  "1", SET NX EX 30 days: a claimed decision id
 * Every key of one model carries the same {M} hash tag, so the model's keys share a Redis
 * Cluster slot and the registration script may touch all of them. driftd:models is the
 * exception, so it is never written in the same script: a registration first adds M to it
 * (idempotent, pipelined with the script), then runs the script; models() lists only the
 * members that have a version, so a failure between the two leaves nothing visible.
 *
 * Connection: 2 s to connect and 2 s per command (socket timeouts); TCP keepalive; AUTH when a
 * password is given, SELECT when DB != 0, PING otherwise. A failed or timed-out command drops
 * the connection (its reply stream can no longer be trusted) and fails with -1; the next call
 * reconnects. A failed reconnection makes the calls of the next 100 ms fail at once, then
 * 200 ms, ... up to 5 s (reset by a success): a caller retrying in a loop never spins on
 * connect. No call retries by itself: a command whose reply was lost may have run, and the
 * caller knows best whether to repeat it. SIGPIPE is blocked around every socket write and a
 * SIGPIPE it raised is consumed, so a dead server never kills the process.
 *
 * Errors stay on the handle (first wins, a successful call clears it), never print anything
 * and never contain the password: they name the server (HOST:PORT or unix:PATH), the command
 * and the key (non-printable bytes as \xNN). Values are at most 64 MiB: a larger one is refused
 * on write, and a read is one MULTI/EXEC of EXISTS, STRLEN and GETRANGE 0 64MiB-1, so a larger
 * value written by someone else costs at most 64 MiB before it is refused.
 */
#include "connectors/store_impl.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#define MAX_VALUE      ((size_t)64 << 20) /* largest value written or read */
#define MAX_NAME       128u		  /* model and version names, bytes */
#define MAX_ID	       1024u		  /* claim ids, bytes */
#define TIMEOUT_MS     2000		  /* connect and command timeouts */
#define BACKOFF_MIN_MS 100		  /* first delay after a failed reconnection */
#define BACKOFF_MAX_MS 5000		  /* longest delay between reconnections */
#define PAGE	       500		  /* versions, models, history entries per command */
#define CLAIM_TTL_S    (30 * 24 * 3600)	  /* claims expire after 30 days */
#define PREFIX	       "driftd:"
#define KEY_MAX	       1100u /* the longest key: a claim of MAX_ID bytes, with room */

/* Where the server is; everything the spec said. */
struct target {
	char *host;	 /* TCP host without brackets; NULL for a Unix socket */
	int port;	 /* TCP port */
	char *path;	 /* Unix socket path; NULL for TCP */
	char *user;	 /* ACL user; NULL when none */
	char *password;	 /* NULL when none; wiped on close */
	size_t pwlen;	 /* its length */
	int db;		 /* SELECTed database */
	char where[160]; /* "HOST:PORT" or "unix:PATH", for messages (never the password) */
};

struct redis_store {
	struct conn_store base; /* first: the ops table */
	struct target t;	/* the server */
	redisContext *c;	/* the connection; NULL while disconnected */
	int64_t retry_at;	/* monotonic ms before which no reconnection is tried */
	int64_t backoff;	/* the delay after the next failed reconnection, ms; 0: none yet */
	char lost[384];		/* why the connection was lost or could not be made */
};

/* ---- errors ---- */

/* 0 when name is 1..max bytes without NUL; -1 with the error set otherwise. */
static int check_name(struct redis_store *s, const char *what, const char *name, size_t max)
{
	size_t n = name ? strnlen(name, max + 1) : 0;

	if (n == 0 || n > max) {
		conn_store_errf(&s->base, "%s name must be 1 to %zu bytes", what, max);
		return -1;
	}
	return 0;
}

static int check_value(struct redis_store *s, const char *doc, size_t len)
{
	if (!doc && len) {
		conn_store_errf(&s->base, "a value of %zu bytes without data", len);
		return -1;
	}
	if (len > MAX_VALUE) {
		conn_store_errf(&s->base, "a value must be at most %zu bytes", MAX_VALUE);
		return -1;
	}
	return 0;
}

/* ---- keys ---- */

struct key {
	size_t n;	     /* length */
	char b[KEY_MAX + 1]; /* bytes, NUL-terminated for convenience only */
};

static void key_add(struct key *k, const char *p, size_t n)
{
	/* every key is bounded by the name checks: MAX_NAME * 3 + MAX_NAME + 32 < KEY_MAX */
	if (k->n + n > KEY_MAX)
		n = KEY_MAX - k->n;
	memcpy(k->b + k->n, p, n);
	k->n += n;
	k->b[k->n] = '\0';
}

/* P{M}:<suffix><name>; name may be NULL. */
static void key_model(struct key *k, const char *model, const char *suffix, const char *name)
{
	k->n = 0;
	key_add(k, PREFIX "{", strlen(PREFIX "{"));
	for (const char *p = model; *p; p++) {
		if (*p == '%')
			key_add(k, "%25", 3);
		else if (*p == '}')
			key_add(k, "%7D", 3);
		else
			key_add(k, p, 1);
	}
	key_add(k, "}:", 2);
	key_add(k, suffix, strlen(suffix));
	if (name)
		key_add(k, name, strlen(name));
}

/* A key for messages: printable ASCII as is, other bytes and '\' as \xNN, at most ~120 bytes. */
static const char *key_show(const struct key *k, char *buf, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < k->n && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)k->b[i];

		if (o > 120) {
			o += (size_t)snprintf(buf + o, cap - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", c);
	}
	buf[o < cap ? o : cap - 1] = '\0';
	return buf;
}

/* ---- the spec ---- */

static void target_free(struct target *t)
{
	if (t->password)
		explicit_bzero(t->password, t->pwlen);
	free(t->password);
	free(t->user);
	free(t->host);
	free(t->path);
	memset(t, 0, sizeof *t);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The percent-decoding of p[0..n) as a new string; NULL when malformed or holding a NUL. */
static char *pct_decode(const char *p, size_t n, size_t *outlen)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)p[i];

		if (c == '%') {
			int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(p[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				goto bad;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0)
			goto bad;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
bad:
	explicit_bzero(out, n + 1);
	free(out);
	return NULL;
}

/* A decimal in [lo, hi] made of p[0..n) digits only; -1 otherwise. */
static long parse_num(const char *p, size_t n, long lo, long hi)
{
	long v = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

/* Parses [[USER]:PASSWORD@] at the start of *rest (ending at its last '@'); advances *rest. */
static int parse_userinfo(const char **rest, struct target *t, char *errbuf, size_t errlen)
{
	const char *at = strrchr(*rest, '@'), *colon;

	if (!at)
		return 0;
	colon = memchr(*rest, ':', (size_t)(at - *rest));
	if (!colon) {
		snprintf(errbuf, errlen,
			 "store redis: the part before '@' must be [USER]:PASSWORD (a password "
			 "alone is written :PASSWORD@)");
		return -1;
	}
	if (colon > *rest && !(t->user = pct_decode(*rest, (size_t)(colon - *rest), NULL))) {
		snprintf(errbuf, errlen, "store redis: malformed user name (percent-encoding)");
		return -1;
	}
	if (at == colon + 1) {
		snprintf(errbuf, errlen, "store redis: empty password");
		return -1;
	}
	t->password = pct_decode(colon + 1, (size_t)(at - colon - 1), &t->pwlen);
	if (!t->password) {
		snprintf(errbuf, errlen, "store redis: malformed password (percent-encoding)");
		return -1;
	}
	*rest = at + 1;
	return 0;
}

/* PATH[?db=N] of a Unix socket spec. */
static int parse_unix(const char *rest, struct target *t, char *errbuf, size_t errlen)
{
	const char *q = strrchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);

	if (q) {
		long db =
		    strncmp(q, "?db=", 4) == 0 ? parse_num(q + 4, strlen(q + 4), 0, INT_MAX) : -1;
		if (db < 0) {
			snprintf(errbuf, errlen,
				 "store redis: a socket path may only be followed by ?db=N");
			return -1;
		}
		t->db = (int)db;
	}
	if (n == 0 || n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(errbuf, errlen, "store redis: the socket path must be 1 to %zu bytes",
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -1;
	}
	t->path = strndup(rest, n);
	if (!t->path) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	snprintf(t->where, sizeof t->where, "unix:%s", t->path);
	return 0;
}

/* HOST[:PORT][/DB] of a TCP spec. */
static int parse_tcp(const char *rest, struct target *t, char *errbuf, size_t errlen)
{
	const char *slash = strchr(rest, '/'), *end = slash ? slash : rest + strlen(rest);
	const char *host = rest, *hend, *port = NULL;
	long v;

	if (*rest == '[') { /* [IPv6] */
		host = rest + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		if (!hend || (hend + 1 < end && hend[1] != ':')) {
			snprintf(errbuf, errlen, "store redis: malformed [IPv6] host");
			return -1;
		}
		if (hend + 1 < end)
			port = hend + 2;
	} else {
		hend = memchr(host, ':', (size_t)(end - host));
		if (hend)
			port = hend + 1;
		else
			hend = end;
	}
	if (hend == host || hend - host > 255) {
		snprintf(errbuf, errlen, "store redis: the host must be 1 to 255 bytes");
		return -1;
	}
	for (const char *p = host; p < hend; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '@' || *p == '?' || *p == '[' ||
		    *p == ']' || (*p == ':' && *rest != '[')) {
			snprintf(errbuf, errlen, "store redis: malformed host");
			return -1;
		}
	}
	t->port = 6379;
	if (port) {
		v = parse_num(port, (size_t)(end - port), 1, 65535);
		if (v < 0) {
			snprintf(errbuf, errlen, "store redis: the port must be 1 to 65535");
			return -1;
		}
		t->port = (int)v;
	}
	if (slash && slash[1]) {
		v = parse_num(slash + 1, strlen(slash + 1), 0, INT_MAX);
		if (v < 0) {
			snprintf(errbuf, errlen, "store redis: the database must be a number");
			return -1;
		}
		t->db = (int)v;
	}
	t->host = strndup(host, (size_t)(hend - host));
	if (!t->host) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	snprintf(t->where, sizeof t->where, *rest == '[' ? "[%s]:%d" : "%s:%d", t->host, t->port);
	return 0;
}

static int parse_spec(const char *spec, struct target *t, char *errbuf, size_t errlen)
{
	const char *rest;

	memset(t, 0, sizeof *t);
	if (strncmp(spec, "unix:", 5) == 0)
		return parse_unix(spec + 5, t, errbuf, errlen);
	if (strncmp(spec, "redis+unix://", 13) == 0) {
		rest = spec + 13;
		if (parse_userinfo(&rest, t, errbuf, errlen) < 0)
			return -1;
		return parse_unix(rest, t, errbuf, errlen);
	}
	if (strncmp(spec, "redis://", 8) == 0) {
		rest = spec + 8;
		if (parse_userinfo(&rest, t, errbuf, errlen) < 0)
			return -1;
		return parse_tcp(rest, t, errbuf, errlen);
	}
	snprintf(errbuf, errlen, "store redis: unsupported scheme");
	return -1;
}

/* ---- the connection ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* hiredis writes with write(2): a server that went away would raise SIGPIPE. The guard blocks
 * SIGPIPE for this thread and, on the way out, consumes one that the guarded code raised. */
struct pipe_guard {
	sigset_t old;	 /* the mask to restore */
	int was_pending; /* a SIGPIPE was pending before: not ours to consume */
};

static void guard_on(struct pipe_guard *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void guard_off(struct pipe_guard *g)
{
	sigset_t set, pending;
	int e = errno;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pending);
	if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = e;
}

/* The message of a context's error; a socket timeout says so. */
static const char *ctx_error(const redisContext *c)
{
	if (c->err == REDIS_ERR_IO &&
	    (!strcmp(c->errstr, strerror(EAGAIN)) || !strcmp(c->errstr, strerror(EWOULDBLOCK))))
		return "timed out after 2 s";
	if (c->err == REDIS_ERR_EOF || !c->errstr[0])
		return c->errstr[0] ? c->errstr : "connection lost";
	return c->errstr;
}

/* One handshake command; 0 when its reply is a status (OK / PONG), -1 with msg set otherwise. */
static int handshake_cmd(redisContext *c, const struct target *t, int argc, const char **argv,
			 const size_t *len, char *msg, size_t msglen)
{
	redisReply *r = redisCommandArgv(c, argc, argv, len);
	int rc = -1;

	if (!r)
		snprintf(msg, msglen, "redis %s: %s: %s", t->where, argv[0], ctx_error(c));
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(msg, msglen, "redis %s: %s: %.*s", t->where, argv[0],
			 (int)(r->len < 200 ? r->len : 200), r->str);
	else if (r->type != REDIS_REPLY_STATUS)
		snprintf(msg, msglen, "redis %s: %s: unexpected reply", t->where, argv[0]);
	else
		rc = 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

/* Connects, sets the timeouts, authenticates and selects the database. The context, or NULL
 * with msg set. The caller holds a pipe_guard. */
static redisContext *dial(const struct target *t, char *msg, size_t msglen)
{
	struct timeval tv = { TIMEOUT_MS / 1000, (TIMEOUT_MS % 1000) * 1000 };
	redisContext *c = t->path ? redisConnectUnixWithTimeout(t->path, tv)
				  : redisConnectWithTimeout(t->host, t->port, tv);
	char db[16];

	if (!c) {
		snprintf(msg, msglen, "redis %s: out of memory", t->where);
		return NULL;
	}
	if (c->err) {
		snprintf(msg, msglen, "redis %s: connect: %s", t->where, ctx_error(c));
		goto fail;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		snprintf(msg, msglen, "redis %s: set timeout: %s", t->where, ctx_error(c));
		goto fail;
	}
	if (!t->path)
		redisEnableKeepAlive(c); /* best effort: a failure only loses early detection */
	if (t->password) {
		/* AUTH [USER] PASSWORD */
		const char *argv[3] = { "AUTH" };
		size_t len[3] = { 4 };
		int argc = 1;

		if (t->user) {
			argv[argc] = t->user;
			len[argc++] = strlen(t->user);
		}
		argv[argc] = t->password;
		len[argc++] = t->pwlen;
		if (handshake_cmd(c, t, argc, argv, len, msg, msglen) < 0)
			goto fail;
	}
	if (t->db != 0) {
		const char *argv[2] = { "SELECT", db };
		size_t len[2] = { 6, (size_t)snprintf(db, sizeof db, "%d", t->db) };

		if (handshake_cmd(c, t, 2, argv, len, msg, msglen) < 0)
			goto fail;
	} else if (!t->password) { /* prove it is a Redis that lets us in */
		const char *argv[1] = { "PING" };
		size_t len[1] = { 4 };

		if (handshake_cmd(c, t, 1, argv, len, msg, msglen) < 0)
			goto fail;
	}
	return c;
fail:
	redisFree(c);
	return NULL;
}

/* Drops a connection whose replies can no longer be trusted; the next call reconnects at once.
 * why: what happened, for the errors of the calls until then. */
static void drop(struct redis_store *s, const char *why)
{
	snprintf(s->lost, sizeof s->lost, "%s", why);
	redisFree(s->c);
	s->c = NULL;
	s->retry_at = 0;
}

/* 0 when connected (reconnecting when due); -1 with the error set. The caller holds a guard. */
static int ensure(struct redis_store *s)
{
	int64_t now;

	if (s->c)
		return 0;
	now = now_ms();
	if (now < s->retry_at) {
		conn_store_errf(&s->base, "redis %s: not connected (%s); next attempt in %lld ms",
				s->t.where, s->lost, (long long)(s->retry_at - now));
		return -1;
	}
	s->c = dial(&s->t, s->lost, sizeof s->lost);
	if (!s->c) {
		s->backoff = s->backoff ? s->backoff * 2 : BACKOFF_MIN_MS;
		if (s->backoff > BACKOFF_MAX_MS)
			s->backoff = BACKOFF_MAX_MS;
		s->retry_at = now + s->backoff;
		conn_store_errf(&s->base, "%s", s->lost);
		return -1;
	}
	s->backoff = 0;
	return 0;
}

/* One command of a pipeline. */
struct cmd {
	int argc;
	const char **argv;
	const size_t *len;
	const struct key *key; /* the key it is about, for messages; NULL when none */
};

/* Sends n commands in one write and reads their n replies into r[0..n). 0 when all replies
 * arrived and none is an error reply; -1 with the error set otherwise (and every reply freed).
 * A lost connection is dropped; an error reply (WRONGTYPE, ...) leaves it in place, except
 * READONLY (a replica after a failover: reconnecting may reach the new primary). */
static int run(struct redis_store *s, size_t n, const struct cmd *cmds, redisReply **r)
{
	struct pipe_guard g;
	char shown[200];
	size_t got = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		r[i] = NULL;
	guard_on(&g);
	if (ensure(s) < 0) {
		guard_off(&g);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (redisAppendCommandArgv(s->c, cmds[i].argc, cmds[i].argv, cmds[i].len) !=
		    REDIS_OK)
			goto lost;
	for (; got < n; got++) {
		void *reply = NULL;

		if (redisGetReply(s->c, &reply) != REDIS_OK || !reply)
			goto lost;
		r[got] = reply;
	}
	guard_off(&g);
	for (size_t i = 0; i < n; i++) {
		if (r[i]->type != REDIS_REPLY_ERROR)
			continue;
		conn_store_errf(&s->base, "redis %s: %s%s%s: %.*s", s->t.where, cmds[i].argv[0],
				cmds[i].key ? " " : "",
				cmds[i].key ? key_show(cmds[i].key, shown, sizeof shown) : "",
				(int)(r[i]->len < 200 ? r[i]->len : 200), r[i]->str);
		if (!strncmp(r[i]->str, "READONLY", 8) && s->c)
			drop(s, "READONLY: the server is a replica");
		rc = -1;
	}
	if (rc < 0)
		goto free;
	return 0;
lost:
	guard_off(&g);
	{
		size_t i = got < n ? got : n - 1;

		conn_store_errf(&s->base, "redis %s: %s%s%s: %s", s->t.where, cmds[i].argv[0],
				cmds[i].key ? " " : "",
				cmds[i].key ? key_show(cmds[i].key, shown, sizeof shown) : "",
				ctx_error(s->c));
	}
	drop(s, ctx_error(s->c));
free:
	for (size_t i = 0; i < n; i++) {
		if (r[i])
			freeReplyObject(r[i]);
		r[i] = NULL;
	}
	return -1;
}

/* One command: its reply (never an error reply), or NULL with the error set. */
static redisReply *run1(struct redis_store *s, const struct key *k, int argc, const char **argv,
			const size_t *len)
{
	struct cmd c = { argc, argv, len, k };
	redisReply *r;

	return run(s, 1, &c, &r) == 0 ? r : NULL;
}

/* Sets the error for a reply of an unexpected type; frees it; -1. */
static int unexpected(struct redis_store *s, const char *cmd, const struct key *k, redisReply *r)
{
	char shown[200];

	conn_store_errf(&s->base, "redis %s: %s %s: unexpected reply (type %d)", s->t.where, cmd,
			key_show(k, shown, sizeof shown), r ? r->type : 0);
	if (r)
		freeReplyObject(r);
	return -1;
}

/* A command on one key with up to two further arguments; reply checked against type (0: any). */
static redisReply *key_cmd(struct redis_store *s, const char *cmd, const struct key *k,
			   const char *a1, size_t l1, const char *a2, size_t l2, int type)
{
	const char *argv[4] = { cmd, k->b, a1, a2 };
	size_t len[4] = { strlen(cmd), k->n, l1, l2 };
	redisReply *r = run1(s, k, a2 ? 4 : a1 ? 3 : 2, argv, len);

	if (r && type && r->type != type) {
		unexpected(s, cmd, k, r);
		return NULL;
	}
	return r;
}

/* Copies bytes into a blob (malloc'd, NUL-terminated). */
static int blob_set(struct redis_store *s, struct conn_blob *out, const char *p, size_t n)
{
	out->data = malloc(n + 1);
	if (!out->data) {
		conn_store_errf(&s->base, "out of memory");
		return -1;
	}
	if (n)
		memcpy(out->data, p, n);
	out->data[n] = '\0';
	out->len = n;
	return 0;
}

/* Reads the STRING at k into out: 0, 1 when it does not exist, -1 on error (also when it is
 * larger than MAX_VALUE). One MULTI/EXEC: EXISTS, STRLEN and GETRANGE of at most MAX_VALUE
 * bytes: a value above the bound costs at most MAX_VALUE bytes before it is refused. */
static int get_value(struct redis_store *s, const struct key *k, struct conn_blob *out)
{
	static const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	static const size_t mlen[] = { 5 }, elen[] = { 4 };
	char end[24];
	const char *ex[] = { "EXISTS", k->b }, *sl[] = { "STRLEN", k->b },
		   *gr[] = { "GETRANGE", k->b, "0", end };
	size_t exl[] = { 6, k->n }, sll[] = { 6, k->n },
	       grl[] = { 8, k->n, 1, (size_t)snprintf(end, sizeof end, "%zu", MAX_VALUE - 1) };
	struct cmd cmds[] = { { 1, multi, mlen, NULL },
			      { 2, ex, exl, k },
			      { 2, sl, sll, k },
			      { 4, gr, grl, k },
			      { 1, exec, elen, NULL } };
	redisReply *r[5], *x;
	int rc = -1;

	out->data = NULL;
	out->len = 0;
	if (run(s, 5, cmds, r) < 0)
		return -1;
	x = r[4];
	if (x->type != REDIS_REPLY_ARRAY || x->elements != 3) {
		unexpected(s, "EXEC", k, NULL);
		goto out;
	}
	for (size_t i = 0; i < 3; i++) {
		if (x->element[i]->type == REDIS_REPLY_ERROR) {
			char shown[200];

			conn_store_errf(&s->base, "redis %s: GET %s: %.*s", s->t.where,
					key_show(k, shown, sizeof shown),
					(int)(x->element[i]->len < 200 ? x->element[i]->len : 200),
					x->element[i]->str);
			goto out;
		}
	}
	if (x->element[0]->type != REDIS_REPLY_INTEGER ||
	    x->element[1]->type != REDIS_REPLY_INTEGER ||
	    x->element[2]->type != REDIS_REPLY_STRING) {
		unexpected(s, "EXEC", k, NULL);
		goto out;
	}
	if (x->element[0]->integer == 0) {
		rc = 1;
	} else if ((unsigned long long)x->element[1]->integer > MAX_VALUE) {
		char shown[200];

		conn_store_errf(&s->base, "redis %s: %s is larger than %zu bytes", s->t.where,
				key_show(k, shown, sizeof shown), MAX_VALUE);
	} else {
		rc = blob_set(s, out, x->element[2]->str, x->element[2]->len);
	}
out:
	for (size_t i = 0; i < 5; i++)
		freeReplyObject(r[i]);
	return rc;
}

/* SET k value (0 or -1). */
static int set_value(struct redis_store *s, const struct key *k, const char *p, size_t n)
{
	redisReply *r = key_cmd(s, "SET", k, p ? p : "", n, NULL, 0, REDIS_REPLY_STATUS);

	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* A command whose integer reply is stored in *v. */
static int int_cmd(struct redis_store *s, const char *cmd, const struct key *k, const char *a1,
		   size_t l1, long long *v)
{
	redisReply *r = key_cmd(s, cmd, k, a1, l1, NULL, 0, REDIS_REPLY_INTEGER);

	if (!r)
		return -1;
	if (v)
		*v = r->integer;
	freeReplyObject(r);
	return 0;
}

/* ---- open / close ---- */

static const struct conn_store_ops redis_ops;

struct conn_store *conn_store_redis_open(const char *spec, char *errbuf, size_t errlen)
{
	struct redis_store *s;
	struct pipe_guard g;
	char msg[sizeof s->lost];

	s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &redis_ops;
	if (parse_spec(spec, &s->t, errbuf, errlen) < 0) {
		target_free(&s->t);
		free(s);
		return NULL;
	}
	guard_on(&g);
	s->c = dial(&s->t, msg, sizeof msg);
	guard_off(&g);
	if (!s->c) {
		snprintf(errbuf, errlen, "store %s", msg);
		target_free(&s->t);
		free(s);
		return NULL;
	}
	return &s->base;
}

static void redis_close(struct conn_store *cs)
{
	struct redis_store *s = (struct redis_store *)cs;

	if (s->c) {
		struct pipe_guard g;

		guard_on(&g);
		redisFree(s->c);
		guard_off(&g);
	}
	target_free(&s->t);
	free(s);
}

/* ---- version registry ---- */

/*
 * The registration runs as one Lua script (EVAL) rather than WATCH/MULTI/EXEC: a script is
 * atomic on the server and takes one round trip, whereas WATCH is optimistic -- every agent
 * and driftctl registering versions of one model at once would abort each other's EXEC and
 * loop. All four keys carry the model's hash tag, so the script is valid on Redis Cluster.
 * The types are checked before the first write, so the script never stops half-way on a
 * WRONGTYPE (Redis does not roll a script back). Returns 1 when registered, 0 when V exists.
 *   KEYS: version:V, versions, seq, registered   ARGV: V, the document, registered_ms
 */
static const char register_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "local want = { 'zset', 'string', 'hash' }\n"
    "for i = 1, 3 do\n"
    "  local t = redis.call('TYPE', KEYS[i + 1]).ok\n"
    "  if t ~= 'none' and t ~= want[i] then\n"
    "    return redis.error_reply('WRONGTYPE ' .. KEYS[i + 1] .. ' holds a ' .. t)\n"
    "  end\n"
    "end\n"
    "local n = redis.call('INCR', KEYS[3])\n"
    "redis.call('SET', KEYS[1], ARGV[2])\n"
    "redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])\n"
    "redis.call('ZADD', KEYS[2], n, ARGV[1])\n"
    "return 1\n";

static int redis_version_put(struct conn_store *cs, const char *model, const char *version,
			     const char *doc, size_t len, int64_t registered_ms)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key vk, zk, qk, hk, mk = { 0 };
	char ms[24];
	const char *sadd[3], *eval[10];
	size_t saddl[3], evall[10];
	struct cmd cmds[2];
	redisReply *r[2];
	int rc;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0 || check_value(s, doc, len) < 0)
		return -1;
	key_model(&vk, model, "version:", version);
	key_model(&zk, model, "versions", NULL);
	key_model(&qk, model, "seq", NULL);
	key_model(&hk, model, "registered", NULL);
	key_add(&mk, PREFIX "models", strlen(PREFIX "models"));
	sadd[0] = "SADD", saddl[0] = 4;
	sadd[1] = mk.b, saddl[1] = mk.n;
	sadd[2] = model, saddl[2] = strlen(model);
	eval[0] = "EVAL", evall[0] = 4;
	eval[1] = register_lua, evall[1] = sizeof register_lua - 1;
	eval[2] = "4", evall[2] = 1;
	eval[3] = vk.b, evall[3] = vk.n;
	eval[4] = zk.b, evall[4] = zk.n;
	eval[5] = qk.b, evall[5] = qk.n;
	eval[6] = hk.b, evall[6] = hk.n;
	eval[7] = version, evall[7] = strlen(version);
	eval[8] = doc ? doc : "", evall[8] = len;
	eval[9] = ms, evall[9] = (size_t)snprintf(ms, sizeof ms, "%lld", (long long)registered_ms);
	cmds[0] = (struct cmd){ 3, sadd, saddl, &mk };
	cmds[1] = (struct cmd){ 10, eval, evall, &vk };
	if (run(s, 2, cmds, r) < 0)
		return -1;
	if (r[1]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r[0]);
		return unexpected(s, "EVAL", &vk, r[1]);
	}
	rc = r[1]->integer == 1 ? 0 : 2;
	freeReplyObject(r[0]);
	freeReplyObject(r[1]);
	if (rc == 2) {
		conn_store_errf(&s->base, "version already registered");
		return 2;
	}
	return conn_store_done(&s->base, 0);
}

static int redis_version_get(struct conn_store *cs, const char *model, const char *version,
			     struct conn_blob *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "version:", version);
	return conn_store_done(&s->base, get_value(s, &k, out));
}

/* A decimal integer reply string; -1 with the error set when it is not one. */
static int parse_ms(struct redis_store *s, const struct key *k, const redisReply *e, int64_t *ms)
{
	char buf[24], *end;
	long long v;

	if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len >= sizeof buf) {
		char shown[200];

		conn_store_errf(&s->base, "redis %s: %s: a version without its registration time",
				s->t.where, key_show(k, shown, sizeof shown));
		return -1;
	}
	memcpy(buf, e->str, e->len);
	buf[e->len] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end) {
		char shown[200];

		conn_store_errf(&s->base, "redis %s: %s: malformed registration time", s->t.where,
				key_show(k, shown, sizeof shown));
		return -1;
	}
	*ms = v;
	return 0;
}

/* 1 when a reply element is a name of ours (1..MAX_NAME bytes without NUL). */
static int is_name(const redisReply *e)
{
	return e->type == REDIS_REPLY_STRING && e->len > 0 && e->len <= MAX_NAME &&
	       !memchr(e->str, '\0', e->len);
}

static int redis_versions(struct conn_store *cs, const char *model, conn_store_version_fn fn,
			  void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key zk, hk;
	const char *argv[PAGE + 2];
	size_t len[PAGE + 2];

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(&zk, model, "versions", NULL);
	key_model(&hk, model, "registered", NULL);
	/* Ranks are stable between pages: versions are only ever added, with a larger score. */
	for (long start = 0;; start += PAGE) {
		char from[24], to[24];
		redisReply *z, *h;
		size_t n;
		int stop = 0;

		snprintf(from, sizeof from, "%ld", start);
		snprintf(to, sizeof to, "%ld", start + PAGE - 1);
		z = key_cmd(s, "ZRANGE", &zk, from, strlen(from), to, strlen(to),
			    REDIS_REPLY_ARRAY);
		if (!z)
			return -1;
		n = z->elements;
		if (n == 0) {
			freeReplyObject(z);
			break;
		}
		argv[0] = "HMGET", len[0] = 5;
		argv[1] = hk.b, len[1] = hk.n;
		for (size_t i = 0; i < n && i < PAGE; i++) {
			if (!is_name(z->element[i])) {
				char shown[200];

				conn_store_errf(&s->base,
						"redis %s: %s: a member that is not a version name",
						s->t.where, key_show(&zk, shown, sizeof shown));
				freeReplyObject(z);
				return -1;
			}
			argv[i + 2] = z->element[i]->str;
			len[i + 2] = z->element[i]->len;
		}
		if (n > PAGE)
			n = PAGE;
		h = run1(s, &hk, (int)n + 2, argv, len);
		if (!h) {
			freeReplyObject(z);
			return -1;
		}
		if (h->type != REDIS_REPLY_ARRAY || h->elements != n) {
			freeReplyObject(z);
			return unexpected(s, "HMGET", &hk, h);
		}
		for (size_t i = 0; i < n && !stop; i++) {
			int64_t ms;

			if (parse_ms(s, &hk, h->element[i], &ms) < 0) {
				freeReplyObject(z);
				freeReplyObject(h);
				return -1;
			}
			stop = fn(arg, z->element[i]->str, ms) != 0;
		}
		freeReplyObject(z);
		freeReplyObject(h);
		if (stop || n < PAGE)
			break;
	}
	return conn_store_done(&s->base, 0);
}

static int redis_models(struct conn_store *cs, conn_store_model_fn fn, void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key mk = { 0 }, *keys = NULL;
	struct cmd *cmds = NULL;
	redisReply *m, **r = NULL;
	const char *(*argv)[2] = NULL;
	size_t(*len)[2] = NULL;
	int rc = -1, stop = 0;

	key_add(&mk, PREFIX "models", strlen(PREFIX "models"));
	m = key_cmd(s, "SMEMBERS", &mk, NULL, 0, NULL, 0, REDIS_REPLY_ARRAY);
	if (!m)
		return -1;
	keys = malloc(PAGE * sizeof *keys);
	cmds = malloc(PAGE * sizeof *cmds);
	r = malloc(PAGE * sizeof *r);
	argv = malloc(PAGE * sizeof *argv);
	len = malloc(PAGE * sizeof *len);
	if (!keys || !cmds || !r || !argv || !len) {
		conn_store_errf(&s->base, "out of memory");
		goto out;
	}
	/* The set may hold a model whose registration failed after its SADD: list only the
	 * members that have a version (EXISTS of the ZSET; Redis deletes an empty ZSET). */
	for (size_t at = 0; at < m->elements && !stop;) {
		size_t n = 0, idx[PAGE];

		for (; at < m->elements && n < PAGE; at++) {
			if (!is_name(m->element[at]))
				continue; /* not ours */
			key_model(&keys[n], m->element[at]->str, "versions", NULL);
			argv[n][0] = "EXISTS", len[n][0] = 6;
			argv[n][1] = keys[n].b, len[n][1] = keys[n].n;
			cmds[n] = (struct cmd){ 2, argv[n], len[n], &keys[n] };
			idx[n++] = at;
		}
		if (n == 0)
			break;
		if (run(s, n, cmds, r) < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			if (r[i]->type != REDIS_REPLY_INTEGER) {
				unexpected(s, "EXISTS", &keys[i], NULL);
				stop = -1;
			} else if (!stop && r[i]->integer == 1 &&
				   fn(arg, m->element[idx[i]]->str) != 0) {
				stop = 1;
			}
		}
		for (size_t i = 0; i < n; i++)
			freeReplyObject(r[i]);
		if (stop < 0)
			goto out;
	}
	rc = 0;
out:
	freeReplyObject(m);
	free(keys);
	free(cmds);
	free(r);
	free(argv);
	free(len);
	return rc == 0 ? conn_store_done(&s->base, 0) : -1;
}

/* ---- baselines ---- */

static int redis_baseline_put(struct conn_store *cs, const char *model, const char *version,
			      const char *doc, size_t len)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0 || check_value(s, doc, len) < 0)
		return -1;
	key_model(&k, model, "baseline:", version);
	return conn_store_done(&s->base, set_value(s, &k, doc, len));
}

static int redis_baseline_get(struct conn_store *cs, const char *model, const char *version,
			      struct conn_blob *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "baseline:", version);
	return conn_store_done(&s->base, get_value(s, &k, out));
}

/* ---- last known good, hold, latch ---- */

static int redis_good_set(struct conn_store *cs, const char *model, const char *version)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "good", NULL);
	return conn_store_done(&s->base, set_value(s, &k, version, strlen(version)));
}

static int redis_good_get(struct conn_store *cs, const char *model, struct conn_blob *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;
	int rc;

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "good", NULL);
	rc = get_value(s, &k, out);
	if (rc == 0 && (out->len == 0 || out->len > MAX_NAME || memchr(out->data, 0, out->len))) {
		char shown[200];

		free(out->data);
		out->data = NULL;
		out->len = 0;
		conn_store_errf(&s->base, "redis %s: %s: not a version name", s->t.where,
				key_show(&k, shown, sizeof shown));
		return -1;
	}
	return conn_store_done(&s->base, rc);
}

static int redis_hold_set(struct conn_store *cs, const char *model, int on)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "hold", NULL);
	if (on)
		return conn_store_done(&s->base, set_value(s, &k, "1", 1));
	return conn_store_done(&s->base, int_cmd(s, "DEL", &k, NULL, 0, NULL));
}

static int redis_hold_get(struct conn_store *cs, const char *model, int *on)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct conn_blob b = { 0 };
	struct key k;
	int rc;

	*on = 0;
	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "hold", NULL);
	rc = get_value(s, &k, &b);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (b.len == 1 && (b.data[0] == '0' || b.data[0] == '1')) {
			*on = b.data[0] == '1';
		} else {
			char shown[200];

			conn_store_errf(&s->base, "redis %s: %s: not a flag (\"1\" or absent)",
					s->t.where, key_show(&k, shown, sizeof shown));
			rc = -1;
		}
		free(b.data);
	}
	return conn_store_done(&s->base, rc < 0 ? -1 : 0);
}

static int redis_latch_set(struct conn_store *cs, const char *model, const char *version, int on)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "latched", NULL);
	return conn_store_done(
	    &s->base, int_cmd(s, on ? "SADD" : "SREM", &k, version, strlen(version), NULL));
}

static int redis_latch_get(struct conn_store *cs, const char *model, const char *version, int *on)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;
	long long v = 0;

	*on = 0;
	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "latched", NULL);
	if (int_cmd(s, "SISMEMBER", &k, version, strlen(version), &v) < 0)
		return -1;
	*on = v == 1;
	return conn_store_done(&s->base, 0);
}

/* ---- rollback history and dedup ---- */

static int redis_history_append(struct conn_store *cs, const char *model, const char *doc,
				size_t len)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;
	const char *argv[5];
	size_t alen[5];
	redisReply *r;

	if (len == 0 || !doc || memchr(doc, '\n', len) || memchr(doc, '\0', len)) {
		conn_store_errf(&s->base, "a history entry must be one non-empty line");
		return -1;
	}
	if (len > MAX_VALUE) {
		conn_store_errf(&s->base, "a history entry must be at most %zu bytes", MAX_VALUE);
		return -1;
	}
	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "history", NULL);
	argv[0] = "XADD", alen[0] = 4;
	argv[1] = k.b, alen[1] = k.n;
	argv[2] = "*", alen[2] = 1;
	argv[3] = "doc", alen[3] = 3;
	argv[4] = doc, alen[4] = len;
	r = run1(s, &k, 5, argv, alen);
	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_STRING)
		return unexpected(s, "XADD", &k, r);
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

/* The smallest stream id after id ("MS-SEQ"), written into next; -1 when id is malformed. */
static int next_id(const char *id, size_t n, char *next, size_t cap)
{
	char buf[48], *dash, *end;
	unsigned long long ms, seq;

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, id, n);
	buf[n] = '\0';
	dash = strchr(buf, '-');
	if (!dash)
		return -1;
	*dash = '\0';
	errno = 0;
	ms = strtoull(buf, &end, 10);
	if (errno || *end || end == buf)
		return -1;
	seq = strtoull(dash + 1, &end, 10);
	if (errno || *end || end == dash + 1)
		return -1;
	if (seq == ULLONG_MAX) {
		if (ms == ULLONG_MAX)
			return -1;
		ms++, seq = 0;
	} else {
		seq++;
	}
	snprintf(next, cap, "%llu-%llu", ms, seq);
	return 0;
}

static int redis_history(struct conn_store *cs, const char *model, conn_store_entry_fn fn,
			 void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;
	char from[48] = "-", count[16];
	const char *argv[6] = { "XRANGE", NULL, from, "+", "COUNT", count };
	size_t len[6] = { 6, 0, 0, 1, 5, 0 };
	int stop = 0;

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(&k, model, "history", NULL);
	argv[1] = k.b, len[1] = k.n;
	len[5] = (size_t)snprintf(count, sizeof count, "%d", PAGE);
	while (!stop) {
		redisReply *r;
		size_t n;

		len[2] = strlen(from);
		r = run1(s, &k, 6, argv, len);
		if (!r)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY)
			return unexpected(s, "XRANGE", &k, r);
		n = r->elements;
		for (size_t i = 0; i < n && !stop; i++) {
			const redisReply *e = r->element[i], *f, *doc = NULL;

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING ||
			    e->element[1]->type != REDIS_REPLY_ARRAY)
				return unexpected(s, "XRANGE", &k, r);
			f = e->element[1];
			for (size_t j = 0; j + 1 < f->elements; j += 2)
				if (f->element[j]->type == REDIS_REPLY_STRING &&
				    f->element[j]->len == 3 &&
				    !memcmp(f->element[j]->str, "doc", 3) &&
				    f->element[j + 1]->type == REDIS_REPLY_STRING)
					doc = f->element[j + 1];
			if (!doc) {
				char shown[200];

				conn_store_errf(&s->base,
						"redis %s: %s: an entry without a doc field",
						s->t.where, key_show(&k, shown, sizeof shown));
				freeReplyObject(r);
				return -1;
			}
			stop = fn(arg, doc->str, doc->len) != 0;
			if (i + 1 == n && next_id(e->element[0]->str, e->element[0]->len, from,
						  sizeof from) < 0) {
				char shown[200];

				conn_store_errf(&s->base, "redis %s: %s: malformed entry id",
						s->t.where, key_show(&k, shown, sizeof shown));
				freeReplyObject(r);
				return -1;
			}
		}
		freeReplyObject(r);
		if (n < PAGE)
			break;
	}
	return conn_store_done(&s->base, 0);
}

static int redis_claim(struct conn_store *cs, const char *id)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k = { 0 };
	char ttl[16];
	const char *argv[6];
	size_t len[6];
	redisReply *r;
	int rc;

	if (check_name(s, "claim id", id, MAX_ID) < 0)
		return -1;
	key_add(&k, PREFIX "claim:{", strlen(PREFIX "claim:{"));
	key_add(&k, id, strlen(id));
	key_add(&k, "}", 1);
	argv[0] = "SET", len[0] = 3;
	argv[1] = k.b, len[1] = k.n;
	argv[2] = "1", len[2] = 1;
	argv[3] = "NX", len[3] = 2;
	argv[4] = "EX", len[4] = 2;
	argv[5] = ttl, len[5] = (size_t)snprintf(ttl, sizeof ttl, "%d", CLAIM_TTL_S);
	r = run1(s, &k, 6, argv, len);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_STATUS)
		rc = 0; /* OK: set now */
	else if (r->type == REDIS_REPLY_NIL)
		rc = 1; /* it existed */
	else
		return unexpected(s, "SET", &k, r);
	freeReplyObject(r);
	return conn_store_done(&s->base, rc);
}

static const struct conn_store_ops redis_ops = {
	.close = redis_close,
	.version_put = redis_version_put,
	.version_get = redis_version_get,
	.versions = redis_versions,
	.models = redis_models,
	.baseline_put = redis_baseline_put,
	.baseline_get = redis_baseline_get,
	.good_set = redis_good_set,
	.good_get = redis_good_get,
	.hold_set = redis_hold_set,
	.hold_get = redis_hold_get,
	.latch_set = redis_latch_set,
	.latch_get = redis_latch_get,
	.history_append = redis_history_append,
	.history = redis_history,
	.claim = redis_claim,
};
