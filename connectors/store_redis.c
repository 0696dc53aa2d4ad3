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
 * Keys (P: the prefix, "driftd:" unless conn_store_set_prefix changed it; {M}: the model name
 * with '%' written %25 and '}' written %7D, so that the hash tag ends where the name ends and no
 * two names share a key; V, IDs and every value are raw bytes, always sent as binary-safe
 * arguments, never formatted into a command):
 *   P{M}:version:V        STRING  the registration document of version V
 *   P{M}:versions         ZSET    member V, score its registration number (from :seq)
 *   P{M}:seq              STRING  the counter of the model's registrations (INCR)
 *   P{M}:registered       HASH    field V, value registered_ms (decimal)
 *   P{M}:baseline:V       STRING  the baseline of V
 *   P{M}:good             STRING  the last known good version
 *   P{M}:hold             STRING  "1" when on hold; absent (or "0") when not
 *   P{M}:latched          SET     the latched versions
 *   P{M}:history          STREAM  one entry per history document, field "doc"
 *   Pmodels               SET     the model names (no model tag)
 *   Pclaim:{ID}           STRING  "1", SET NX EX 30 days: a claimed decision id
 *   Ppending              HASH    field an event id, value "<modellen>:<model><event>": the
 *                                 events waiting for delivery, of every model (no model tag)
 *   Pckpt:{S}:offsets     HASH    field a stream, value "<next_offset> <hwm_ms> <updated_ms>"
 *   Pckpt:{S}:windows     SET     the window keys (raw) that have at least one partial
 *   Pckpt:{S}:w:<K>       HASH    field an instance, value its partial of window K
 *   Pckpt:{S}:states      HASH    field a pair key (raw), value its state
 *   Pckpt:{S}:lock:<L>    STRING  the owner of lock L, with a PX expiry
 * ({S}: the checkpoint scope, <K> a window key and <L> a lock name, percent-encoded: every byte
 * outside [A-Za-z0-9._-] as %XX, so no brace, space, control byte or NUL is left in a key name;
 * the set and hash fields hold the raw bytes.)
 * Every key of one model carries the same {M} hash tag, so the model's keys share a Redis
 * Cluster slot and the registration script may touch all of them; every key of one scope
 * carries the same {S}, for the commit script. Pmodels is the exception, so it is never
 * written in the same script: a registration first adds M to it (idempotent, pipelined with
 * the script), then runs the script; models() lists only the members that have a version, so a
 * failure between the two leaves nothing visible.
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
#define DEFAULT_PREFIX "driftd:"	  /* conn_store_set_prefix changes it */
#define KEY_MAX                                                                                    \
	4096u /* the longest key: a lock, prefix + encoded scope + encoded name, with room */

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
	char prefix[CONN_STORE_MAX_PREFIX + 1]; /* of every key; "driftd:" by default */
	size_t plen;				/* its length */
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
	/* every key is bounded by the name checks; the longest, a lock: prefix (64) + "ckpt:{"
	 * + scope (255 * 3) + "}:lock:" + name (1024 * 3) < KEY_MAX */
	if (k->n + n > KEY_MAX)
		n = KEY_MAX - k->n;
	memcpy(k->b + k->n, p, n);
	k->n += n;
	k->b[k->n] = '\0';
}

/* The prefix, then text. */
static void key_start(const struct redis_store *s, struct key *k, const char *text)
{
	k->n = 0;
	key_add(k, s->prefix, s->plen);
	key_add(k, text, strlen(text));
}

/* P{M}:<suffix><name>; name may be NULL. */
static void key_model(const struct redis_store *s, struct key *k, const char *model,
		      const char *suffix, const char *name)
{
	key_start(s, k, "{");
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

/* Writes p[0..n) percent-encoded into out (3 * n bytes at most): every byte outside
 * [A-Za-z0-9._-] as %XX, so an encoding holds no brace, space, control byte or NUL. Returns its
 * length. */
static size_t pct_enc(char *out, const char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

/* Appends the percent-encoding of p[0..n). */
static void key_add_pct(struct key *k, const char *p, size_t n)
{
	if (k->n + 3 * n > KEY_MAX) /* never, with checked arguments */
		n = (KEY_MAX - k->n) / 3;
	k->n += pct_enc(k->b + k->n, p, n);
	k->b[k->n] = '\0';
}

/* P ckpt:{<scope>}:<suffix>, the scope percent-encoded: the hash tag of every key of a scope. */
static void key_ckpt(const struct redis_store *s, struct key *k, const char *scope,
		     const char *suffix)
{
	key_start(s, k, "ckpt:{");
	key_add_pct(k, scope, strlen(scope));
	key_add(k, "}:", 2);
	key_add(k, suffix, strlen(suffix));
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
	s->plen = strlen(DEFAULT_PREFIX);
	memcpy(s->prefix, DEFAULT_PREFIX, s->plen + 1);
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
	key_model(s, &vk, model, "version:", version);
	key_model(s, &zk, model, "versions", NULL);
	key_model(s, &qk, model, "seq", NULL);
	key_model(s, &hk, model, "registered", NULL);
	key_start(s, &mk, "models");
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
	key_model(s, &k, model, "version:", version);
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
	key_model(s, &zk, model, "versions", NULL);
	key_model(s, &hk, model, "registered", NULL);
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

	key_start(s, &mk, "models");
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
			key_model(s, &keys[n], m->element[at]->str, "versions", NULL);
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
	key_model(s, &k, model, "baseline:", version);
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
	key_model(s, &k, model, "baseline:", version);
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
	key_model(s, &k, model, "good", NULL);
	return conn_store_done(&s->base, set_value(s, &k, version, strlen(version)));
}

static int redis_good_get(struct conn_store *cs, const char *model, struct conn_blob *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;
	int rc;

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "good", NULL);
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
	key_model(s, &k, model, "hold", NULL);
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
	key_model(s, &k, model, "hold", NULL);
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
	key_model(s, &k, model, "latched", NULL);
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
	key_model(s, &k, model, "latched", NULL);
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
	key_model(s, &k, model, "history", NULL);
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
	key_model(s, &k, model, "history", NULL);
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
	key_start(s, &k, "claim:{");
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

/* ---- prefix and reachability ---- */

static int redis_set_prefix(struct conn_store *cs, const char *prefix)
{
	struct redis_store *s = (struct redis_store *)cs;

	/* checked by store.c: 1..CONN_STORE_MAX_PREFIX bytes of [A-Za-z0-9_.:-] */
	s->plen = strlen(prefix);
	memcpy(s->prefix, prefix, s->plen + 1);
	return conn_store_done(&s->base, 0);
}

/* PING on the connection (made again first when it was lost, within the backoff). */
static int redis_ping(struct conn_store *cs)
{
	struct redis_store *s = (struct redis_store *)cs;
	const char *argv[1] = { "PING" };
	size_t len[1] = { 4 };
	redisReply *r = run1(s, NULL, 1, argv, len);

	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "PONG") != 0) {
		conn_store_errf(&s->base, "redis %s: PING: unexpected reply (type %d)", s->t.where,
				r->type);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

/* ---- events waiting for delivery ----
 * P pending, a HASH: field the event id, value "<modellen>:<model><doc>" (the length in
 * decimal). One key for every model (no hash tag): each call is a single-key command. */

static int redis_pending_put(struct conn_store *cs, const char *id, const char *model,
			     const char *doc, size_t len)
{
	struct redis_store *s = (struct redis_store *)cs;
	size_t ml = strlen(model), hl;
	struct key k;
	char *v;
	redisReply *r;

	v = malloc(16 + ml + len);
	if (!v) {
		conn_store_errf(&s->base, "out of memory");
		return -1;
	}
	hl = (size_t)snprintf(v, 16, "%zu:", ml);
	memcpy(v + hl, model, ml);
	if (len)
		memcpy(v + hl + ml, doc, len);
	key_start(s, &k, "pending");
	r = key_cmd(s, "HSET", &k, id, strlen(id), v, hl + ml + len, REDIS_REPLY_INTEGER);
	free(v);
	if (!r)
		return -1;
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

static int redis_pending_del(struct conn_store *cs, const char *id)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	key_start(s, &k, "pending");
	return conn_store_done(&s->base, int_cmd(s, "HDEL", &k, id, strlen(id), NULL));
}

/* Splits a pending value into its model (copied into model, MAX_NAME + 1 bytes) and document;
 * -1 when it is not one. */
static int pending_split(const redisReply *e, char *model, const char **doc, size_t *dlen)
{
	size_t ml = 0, i = 0;

	if (e->type != REDIS_REPLY_STRING)
		return -1;
	while (i < e->len && i < 4 && e->str[i] >= '0' && e->str[i] <= '9')
		ml = ml * 10 + (size_t)(e->str[i++] - '0');
	if (i == 0 || i >= e->len || e->str[i] != ':' || ml == 0 || ml > MAX_NAME ||
	    e->len - i - 1 < ml || memchr(e->str + i + 1, '\0', ml))
		return -1;
	memcpy(model, e->str + i + 1, ml);
	model[ml] = '\0';
	*doc = e->str + i + 1 + ml;
	*dlen = e->len - i - 1 - ml;
	return 0;
}

#define PENDING_PAGE 100 /* events per HMGET */

static int redis_pending_list(struct conn_store *cs, conn_store_pending_fn fn, void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	const char *argv[PENDING_PAGE + 2];
	size_t len[PENDING_PAGE + 2];
	struct key k;
	redisReply *ids;
	int stop = 0;

	/* the ids first, then their values by pages: each event present all along is listed
	 * exactly once, whatever fn (or another agent) puts or deletes meanwhile */
	key_start(s, &k, "pending");
	ids = key_cmd(s, "HKEYS", &k, NULL, 0, NULL, 0, REDIS_REPLY_ARRAY);
	if (!ids)
		return -1;
	for (size_t at = 0; at < ids->elements && !stop; at += PENDING_PAGE) {
		size_t n = ids->elements - at < PENDING_PAGE ? ids->elements - at : PENDING_PAGE;
		redisReply *v;

		argv[0] = "HMGET", len[0] = 5;
		argv[1] = k.b, len[1] = k.n;
		for (size_t i = 0; i < n; i++) {
			const redisReply *e = ids->element[at + i];

			if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > MAX_ID ||
			    memchr(e->str, '\0', e->len)) {
				char shown[200];

				conn_store_errf(&s->base,
						"redis %s: %s: a field that is no event id",
						s->t.where, key_show(&k, shown, sizeof shown));
				freeReplyObject(ids);
				return -1;
			}
			argv[i + 2] = e->str, len[i + 2] = e->len;
		}
		v = run1(s, &k, (int)n + 2, argv, len);
		if (!v) {
			freeReplyObject(ids);
			return -1;
		}
		if (v->type != REDIS_REPLY_ARRAY || v->elements != n) {
			freeReplyObject(ids);
			return unexpected(s, "HMGET", &k, v);
		}
		for (size_t i = 0; i < n && !stop; i++) {
			char model[MAX_NAME + 1];
			const char *doc;
			size_t dlen;

			if (v->element[i]->type == REDIS_REPLY_NIL)
				continue; /* deleted since HKEYS */
			if (pending_split(v->element[i], model, &doc, &dlen) < 0) {
				char shown[200];

				conn_store_errf(&s->base, "redis %s: %s: malformed event %.64s",
						s->t.where, key_show(&k, shown, sizeof shown),
						ids->element[at + i]->str);
				freeReplyObject(v);
				freeReplyObject(ids);
				return -1;
			}
			stop = fn(arg, ids->element[at + i]->str, model, doc, dlen) != 0;
		}
		freeReplyObject(v);
	}
	freeReplyObject(ids);
	return conn_store_done(&s->base, 0);
}

/* ---- window checkpoints ----
 * Every key of a scope carries the hash tag {<scope percent-encoded>}:
 *   P ckpt:{S}:offsets    HASH  stream -> "<next_offset> <hwm_ms> <updated_ms>"
 *   P ckpt:{S}:windows    SET   the window keys (raw) that have at least one partial
 *   P ckpt:{S}:w:<K>      HASH  instance -> partial blob (K: the window key percent-encoded)
 *   P ckpt:{S}:states     HASH  pair key (raw) -> state blob
 *   P ckpt:{S}:lock:<L>   STRING the owner, with a PX expiry (L: the lock name encoded)
 *
 * A commit is one Lua script (EVAL) over the scope's keys, all declared in KEYS, rather than
 * MULTI/EXEC: deleting an instance's partial must SREM the window from :windows exactly when
 * the hash became empty, a decision that needs a read inside the atomic unit, which MULTI
 * cannot branch on; WATCH would be optimistic, and the agents of one group commit into the
 * same window hashes all the time, so they would abort each other's EXEC and retry. A script
 * runs atomically on the server (as MULTI/EXEC does) and takes one round trip. It checks the
 * type of every key before its first write, so it never stops half-way on a WRONGTYPE (Redis
 * does not roll a script back); an unreachable server or a lost connection before the request
 * was sent whole leaves nothing applied (the server runs only complete requests).
 *   KEYS: offsets, windows, states, then w:<K> of each partial, then of each drop
 *   ARGV: instance, #offsets, #partials, #drops, #states, then per offset: stream, value;
 *         per partial: K, "s"et or "d"elete, blob; per drop: K; per state: pair, "s"/"d", blob
 */
static const char commit_lua[] =
    "local no, np = tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local nd, ns = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local want = { 'hash', 'set', 'hash' }\n"
    "for i = 1, #KEYS do\n"
    "  local t = redis.call('TYPE', KEYS[i]).ok\n"
    "  if t ~= 'none' and t ~= (want[i] or 'hash') then\n"
    "    return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' holds a ' .. t)\n"
    "  end\n"
    "end\n"
    "local inst, a = ARGV[1], 6\n"
    "for i = 1, no do\n"
    "  redis.call('HSET', KEYS[1], ARGV[a], ARGV[a + 1])\n"
    "  a = a + 2\n"
    "end\n"
    "for i = 1, np do\n"
    "  local k = KEYS[3 + i]\n"
    "  if ARGV[a + 1] == 's' then\n"
    "    redis.call('HSET', k, inst, ARGV[a + 2])\n"
    "    redis.call('SADD', KEYS[2], ARGV[a])\n"
    "  else\n"
    "    redis.call('HDEL', k, inst)\n"
    "    if redis.call('EXISTS', k) == 0 then redis.call('SREM', KEYS[2], ARGV[a]) end\n"
    "  end\n"
    "  a = a + 3\n"
    "end\n"
    "for i = 1, nd do\n"
    "  redis.call('DEL', KEYS[3 + np + i])\n"
    "  redis.call('SREM', KEYS[2], ARGV[a])\n"
    "  a = a + 1\n"
    "end\n"
    "for i = 1, ns do\n"
    "  if ARGV[a + 1] == 's' then\n"
    "    redis.call('HSET', KEYS[3], ARGV[a], ARGV[a + 2])\n"
    "  else\n"
    "    redis.call('HDEL', KEYS[3], ARGV[a])\n"
    "  end\n"
    "  a = a + 3\n"
    "end\n"
    "return 1\n";

static int redis_ckpt_commit(struct conn_store *cs, const char *scope, const struct conn_ckpt *c)
{
	struct redis_store *s = (struct redis_store *)cs;
	const size_t np = c->npartials, nd = c->ndrops, nkeys = 3 + np + nd;
	const size_t argc = 3 + nkeys + 5 + 2 * c->noffsets + 3 * np + nd + 3 * c->nstates;
	struct key ok, wk, sk, base;
	char nums[5][24], *wbuf = NULL, *vbuf = NULL, *w, *v;
	const char **argv = NULL;
	size_t *len = NULL, a = 0, wcap = 0;
	redisReply *r;
	int rc = -1;

	key_ckpt(s, &ok, scope, "offsets");
	key_ckpt(s, &wk, scope, "windows");
	key_ckpt(s, &sk, scope, "states");
	key_ckpt(s, &base, scope, "w:");
	for (size_t i = 0; i < np; i++)
		wcap += base.n + 3 * c->partials[i].klen;
	for (size_t i = 0; i < nd; i++)
		wcap += base.n + 3 * c->drops[i].klen;
	argv = malloc(argc * sizeof *argv);
	len = malloc(argc * sizeof *len);
	wbuf = malloc(wcap + 1);
	vbuf = malloc(c->noffsets * 64 + 1);
	if (!argv || !len || !wbuf || !vbuf) {
		conn_store_errf(&s->base, "out of memory");
		goto out;
	}
#define ARG(p, n) (argv[a] = (p), len[a++] = (n))
	ARG("EVAL", 4);
	ARG(commit_lua, sizeof commit_lua - 1);
	ARG(nums[0], (size_t)snprintf(nums[0], sizeof nums[0], "%zu", nkeys));
	ARG(ok.b, ok.n);
	ARG(wk.b, wk.n);
	ARG(sk.b, sk.n);
	w = wbuf;
	for (size_t i = 0; i < np + nd; i++) {
		const struct conn_ckpt_item *it = i < np ? &c->partials[i] : &c->drops[i - np];
		size_t n = base.n;

		memcpy(w, base.b, base.n);
		n += pct_enc(w + n, it->key, it->klen);
		ARG(w, n);
		w += n;
	}
	ARG(c->instance, strlen(c->instance));
	ARG(nums[1], (size_t)snprintf(nums[1], sizeof nums[1], "%zu", c->noffsets));
	ARG(nums[2], (size_t)snprintf(nums[2], sizeof nums[2], "%zu", np));
	ARG(nums[3], (size_t)snprintf(nums[3], sizeof nums[3], "%zu", nd));
	ARG(nums[4], (size_t)snprintf(nums[4], sizeof nums[4], "%zu", c->nstates));
	v = vbuf;
	for (size_t i = 0; i < c->noffsets; i++) {
		const struct conn_ckpt_offset *o = &c->offsets[i];
		size_t n = (size_t)snprintf(v, 64, "%lld %lld %lld", (long long)o->next_offset,
					    (long long)o->hwm_ms, (long long)o->updated_ms);

		ARG(o->stream, strlen(o->stream));
		ARG(v, n);
		v += n;
	}
	for (size_t i = 0; i < np; i++) {
		const struct conn_ckpt_item *it = &c->partials[i];

		ARG(it->key, it->klen);
		ARG(it->blob ? "s" : "d", 1);
		ARG(it->blob ? it->blob : "", it->blob ? it->len : 0);
	}
	for (size_t i = 0; i < nd; i++)
		ARG(c->drops[i].key, c->drops[i].klen);
	for (size_t i = 0; i < c->nstates; i++) {
		const struct conn_ckpt_item *it = &c->states[i];

		ARG(it->key, it->klen);
		ARG(it->blob ? "s" : "d", 1);
		ARG(it->blob ? it->blob : "", it->blob ? it->len : 0);
	}
#undef ARG
	r = run1(s, &ok, (int)a, argv, len);
	if (!r)
		goto out;
	if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
		unexpected(s, "EVAL", &ok, r);
		goto out;
	}
	freeReplyObject(r);
	rc = 0;
out:
	free(argv);
	free(len);
	free(wbuf);
	free(vbuf);
	return rc == 0 ? conn_store_done(&s->base, 0) : -1;
}

/* HGETALL k: its reply, checked (an even number of strings), or NULL with the error set. */
static redisReply *hgetall(struct redis_store *s, const struct key *k)
{
	redisReply *r = key_cmd(s, "HGETALL", k, NULL, 0, NULL, 0, REDIS_REPLY_ARRAY);

	if (!r)
		return NULL;
	for (size_t i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING || r->elements % 2) {
			unexpected(s, "HGETALL", k, r);
			return NULL;
		}
	}
	return r;
}

/* Sets the error for foreign data under key k; -1. */
static int foreign(struct redis_store *s, const struct key *k, const char *what)
{
	char shown[200];

	conn_store_errf(&s->base, "redis %s: %s: %s", s->t.where, key_show(k, shown, sizeof shown),
			what);
	return -1;
}

/* Parses "<next_offset> <hwm_ms> <updated_ms>"; -1 when it is not that. */
static int parse_offset(const redisReply *e, struct conn_ckpt_offset *o)
{
	char buf[80], *p = buf, *end;
	long long v[3];

	if (e->len == 0 || e->len >= sizeof buf)
		return -1;
	memcpy(buf, e->str, e->len);
	buf[e->len] = '\0';
	for (int i = 0; i < 3; i++) {
		if (!((*p >= '0' && *p <= '9') || *p == '-'))
			return -1;
		errno = 0;
		v[i] = strtoll(p, &end, 10);
		if (errno || end == p || *end != (i < 2 ? ' ' : '\0'))
			return -1;
		p = end + 1;
	}
	o->next_offset = v[0], o->hwm_ms = v[1], o->updated_ms = v[2];
	return 0;
}

static int redis_ckpt_offsets(struct conn_store *cs, const char *scope, conn_ckpt_offset_fn fn,
			      void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;
	redisReply *r;

	key_ckpt(s, &k, scope, "offsets");
	r = hgetall(s, &k);
	if (!r)
		return -1;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i];
		struct conn_ckpt_offset o = { f->str, 0, 0, 0 };

		if (f->len == 0 || f->len > CONN_CKPT_MAX_STREAM || memchr(f->str, '\0', f->len) ||
		    parse_offset(r->element[i + 1], &o) < 0) {
			freeReplyObject(r);
			return foreign(s, &k, "not a stream offset");
		}
		if (fn(arg, &o) != 0)
			break;
	}
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

static int redis_ckpt_windows(struct conn_store *cs, const char *scope, conn_ckpt_key_fn fn,
			      void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;
	redisReply *r;

	key_ckpt(s, &k, scope, "windows");
	r = key_cmd(s, "SMEMBERS", &k, NULL, 0, NULL, 0, REDIS_REPLY_ARRAY);
	if (!r)
		return -1;
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];

		if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > CONN_CKPT_MAX_KEY) {
			freeReplyObject(r);
			return foreign(s, &k, "a member that is no window key");
		}
		if (fn(arg, e->str, e->len) != 0)
			break;
	}
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

/* Calls fn for each field of HASH k: names of 1..maxname bytes, blobs within MAX_VALUE. */
static int hash_each(struct redis_store *s, const struct key *k, size_t maxname,
		     conn_ckpt_blob_fn fn, void *arg)
{
	redisReply *r = hgetall(s, k);

	if (!r)
		return -1;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *b = r->element[i + 1];

		if (f->len == 0 || f->len > maxname || b->len > MAX_VALUE) {
			freeReplyObject(r);
			return foreign(s, k, "a field that is not a checkpoint entry");
		}
		if (fn(arg, f->str, f->len, b->str, b->len) != 0)
			break;
	}
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

static int redis_ckpt_partials(struct conn_store *cs, const char *scope, const char *key,
			       size_t klen, conn_ckpt_blob_fn fn, void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	key_ckpt(s, &k, scope, "w:");
	key_add_pct(&k, key, klen);
	return hash_each(s, &k, CONN_CKPT_MAX_INSTANCE, fn, arg);
}

static int redis_ckpt_states(struct conn_store *cs, const char *scope, conn_ckpt_blob_fn fn,
			     void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct key k;

	key_ckpt(s, &k, scope, "states");
	return hash_each(s, &k, CONN_CKPT_MAX_KEY, fn, arg);
}

/* ---- locks ----
 * P ckpt:{S}:lock:<L> holds the owner, with an expiry (PX): Redis' clock decides, the key
 * vanishes when it expires. Taking, renewing and releasing are small scripts, so that "is it
 * mine?" and the write are one atomic step. */

/* KEYS: the lock; ARGV: owner, ttl_ms. 0 when taken or renewed, 1 when another owner holds
 * it. */
static const char lock_lua[] = "local v = redis.call('GET', KEYS[1])\n"
			       "if v == false or v == ARGV[1] then\n"
			       "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
			       "  return 0\n"
			       "end\n"
			       "return 1\n";

/* KEYS: the lock; ARGV: owner. Deletes the lock when owner holds it; 0. */
static const char unlock_lua[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
				 "  redis.call('DEL', KEYS[1])\n"
				 "end\n"
				 "return 0\n";

/* Runs a lock script; its integer reply (0 or 1), or -1. */
static int lock_script(struct redis_store *s, const char *script, size_t slen, const char *scope,
		       const char *name, const char *owner, const char *ttl)
{
	struct key k;
	const char *argv[6] = { "EVAL", script, "1", NULL, owner, ttl };
	size_t len[6] = { 4, slen, 1, 0, strlen(owner), ttl ? strlen(ttl) : 0 };
	redisReply *r;
	int rc;

	key_ckpt(s, &k, scope, "lock:");
	key_add_pct(&k, name, strlen(name));
	argv[3] = k.b, len[3] = k.n;
	r = run1(s, &k, ttl ? 6 : 5, argv, len);
	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER || (r->integer != 0 && r->integer != 1))
		return unexpected(s, "EVAL", &k, r);
	rc = (int)r->integer;
	freeReplyObject(r);
	return rc;
}

static int redis_lock(struct conn_store *cs, const char *scope, const char *name, const char *owner,
		      int64_t ttl_ms)
{
	struct redis_store *s = (struct redis_store *)cs;
	char ttl[24];

	snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
	return conn_store_done(
	    &s->base, lock_script(s, lock_lua, sizeof lock_lua - 1, scope, name, owner, ttl));
}

static int redis_unlock(struct conn_store *cs, const char *scope, const char *name,
			const char *owner)
{
	struct redis_store *s = (struct redis_store *)cs;

	return conn_store_done(
	    &s->base, lock_script(s, unlock_lua, sizeof unlock_lua - 1, scope, name, owner, NULL));
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
	.set_prefix = redis_set_prefix,
	.ping = redis_ping,
	.pending_put = redis_pending_put,
	.pending_del = redis_pending_del,
	.pending_list = redis_pending_list,
	.ckpt_commit = redis_ckpt_commit,
	.ckpt_offsets = redis_ckpt_offsets,
	.ckpt_windows = redis_ckpt_windows,
	.ckpt_partials = redis_ckpt_partials,
	.ckpt_states = redis_ckpt_states,
	.lock = redis_lock,
	.unlock = redis_unlock,
};
