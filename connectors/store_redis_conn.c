/*
 * store_redis_conn.c -- the connection layer of the Redis store (hiredis 0.14, blocking API):
 * the connection with its handshake, timeouts and reconnection backoff, commands sent as
 * binary-safe argument vectors, and the checks of their replies. The operations are in
 * store_redis.c and store_redis_ckpt.c (store_redis_conn.h is what they share).
 *
 * Specs (parsed by endpoint.h's conn_endpoint_parse, which store.c calls; the parsed struct is
 * the handle's target):
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]    TCP; PORT 6379 and DB 0 by default; HOST may
 *                                                 be an IPv6 literal in brackets
 *   redis+unix://[[USER]:PASSWORD@]PATH[?db=N]    a Unix socket
 *   unix:PATH[?db=N]                              a Unix socket, no password
 * USER selects a Redis 6 ACL user (AUTH USER PASSWORD).
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
 * Errors stay on the handle (first wins), never print anything and never contain the password:
 * they name the server (HOST:PORT or unix:PATH), the command and the key (non-printable bytes
 * as \xNN). A value read is one MULTI/EXEC of EXISTS, STRLEN and GETRANGE 0 64MiB-1, so a
 * larger value written by someone else costs at most 64 MiB before it is refused.
 */
#include "connectors/store_redis_conn.h"
#include "connectors/clock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMEOUT_MS     2000 /* connect and command timeouts */
#define BACKOFF_MIN_MS 100  /* first delay after a failed reconnection */
#define BACKOFF_MAX_MS 5000 /* longest delay between reconnections */

/* ---- keys ---- */

void conn_redis_key_add(struct redis_key *k, const char *p, size_t n)
{
	/* every key is bounded by the name checks; the longest, a lock: prefix (64) + "ckpt:{"
	 * + scope (255 * 3) + "}:lock:" + name (1024 * 3) < CONN_REDIS_KEY_MAX */
	if (k->n + n > CONN_REDIS_KEY_MAX)
		n = CONN_REDIS_KEY_MAX - k->n;
	memcpy(k->b + k->n, p, n);
	k->n += n;
	k->b[k->n] = '\0';
}

/* The prefix, then text. */
void conn_redis_key_start(const struct redis_store *s, struct redis_key *k, const char *text)
{
	k->n = 0;
	conn_redis_key_add(k, s->prefix, s->plen);
	conn_redis_key_add(k, text, strlen(text));
}

/* A key for messages: printable ASCII as is, other bytes and '\' as \xNN, at most ~120 bytes. */
const char *conn_redis_key_show(const struct redis_key *k, char *buf, size_t cap)
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

/* ---- the connection ---- */

static int64_t now_ms(void)
{
	return conn_clock_mono_ms();
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
static int handshake_cmd(redisContext *c, const struct conn_endpoint *t, int argc,
			 const char **argv, const size_t *len, char *msg, size_t msglen)
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
static redisContext *dial(const struct conn_endpoint *t, char *msg, size_t msglen)
{
	struct timeval tv = { TIMEOUT_MS / 1000, (TIMEOUT_MS % 1000) * 1000 };
	int unix_socket = t->kind == CONN_ENDPOINT_REDIS_UNIX;
	redisContext *c = unix_socket ? redisConnectUnixWithTimeout(t->path, tv)
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
	if (!unix_socket)
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
		len[argc++] = t->password_len;
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

/* Sends n commands in one write and reads their n replies into r[0..n). 0 when all replies
 * arrived and none is an error reply; -1 with the error set otherwise (and every reply freed).
 * A lost connection is dropped; an error reply (WRONGTYPE, ...) leaves it in place, except
 * READONLY (a replica after a failover: reconnecting may reach the new primary). */
int conn_redis_run(struct redis_store *s, size_t n, const struct redis_cmd *cmds, redisReply **r)
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
				cmds[i].key ? conn_redis_key_show(cmds[i].key, shown, sizeof shown)
					    : "",
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
				cmds[i].key ? conn_redis_key_show(cmds[i].key, shown, sizeof shown)
					    : "",
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
redisReply *conn_redis_run1(struct redis_store *s, const struct redis_key *k, int argc,
			    const char **argv, const size_t *len)
{
	struct redis_cmd c = { argc, argv, len, k };
	redisReply *r;

	return conn_redis_run(s, 1, &c, &r) == 0 ? r : NULL;
}

/* Sets the error for a reply of an unexpected type; frees it; -1. */
int conn_redis_unexpected(struct redis_store *s, const char *cmd, const struct redis_key *k,
			  redisReply *r)
{
	char shown[200];

	conn_store_errf(&s->base, "redis %s: %s %s: unexpected reply (type %d)", s->t.where, cmd,
			conn_redis_key_show(k, shown, sizeof shown), r ? r->type : 0);
	if (r)
		freeReplyObject(r);
	return -1;
}

/* A command on one key with up to two further arguments; reply checked against type (0: any). */
redisReply *conn_redis_key_cmd(struct redis_store *s, const char *cmd, const struct redis_key *k,
			       const char *a1, size_t l1, const char *a2, size_t l2, int type)
{
	const char *argv[4] = { cmd, k->b, a1, a2 };
	size_t len[4] = { strlen(cmd), k->n, l1, l2 };
	redisReply *r = conn_redis_run1(s, k, a2 ? 4 : a1 ? 3 : 2, argv, len);

	if (r && type && r->type != type) {
		conn_redis_unexpected(s, cmd, k, r);
		return NULL;
	}
	return r;
}

/* Copies bytes into a blob (malloc'd, NUL-terminated). */
int conn_redis_blob_set(struct redis_store *s, struct conn_blob *out, const char *p, size_t n)
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
 * larger than CONN_REDIS_MAX_VALUE). One MULTI/EXEC: EXISTS, STRLEN and GETRANGE of at most
 * CONN_REDIS_MAX_VALUE bytes: a value above the bound costs at most CONN_REDIS_MAX_VALUE bytes
 * before it is refused. */
int conn_redis_get_value(struct redis_store *s, const struct redis_key *k, struct conn_blob *out)
{
	static const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	static const size_t mlen[] = { 5 }, elen[] = { 4 };
	char end[24];
	const char *ex[] = { "EXISTS", k->b }, *sl[] = { "STRLEN", k->b },
		   *gr[] = { "GETRANGE", k->b, "0", end };
	size_t exl[] = { 6, k->n }, sll[] = { 6, k->n },
	       grl[] = { 8, k->n, 1,
			 (size_t)snprintf(end, sizeof end, "%zu", CONN_REDIS_MAX_VALUE - 1) };
	struct redis_cmd cmds[] = { { 1, multi, mlen, NULL },
				    { 2, ex, exl, k },
				    { 2, sl, sll, k },
				    { 4, gr, grl, k },
				    { 1, exec, elen, NULL } };
	redisReply *r[5], *x;
	int rc = -1;

	out->data = NULL;
	out->len = 0;
	if (conn_redis_run(s, 5, cmds, r) < 0)
		return -1;
	x = r[4];
	if (x->type != REDIS_REPLY_ARRAY || x->elements != 3) {
		conn_redis_unexpected(s, "EXEC", k, NULL);
		goto out;
	}
	for (size_t i = 0; i < 3; i++) {
		if (x->element[i]->type == REDIS_REPLY_ERROR) {
			char shown[200];

			conn_store_errf(&s->base, "redis %s: GET %s: %.*s", s->t.where,
					conn_redis_key_show(k, shown, sizeof shown),
					(int)(x->element[i]->len < 200 ? x->element[i]->len : 200),
					x->element[i]->str);
			goto out;
		}
	}
	if (x->element[0]->type != REDIS_REPLY_INTEGER ||
	    x->element[1]->type != REDIS_REPLY_INTEGER ||
	    x->element[2]->type != REDIS_REPLY_STRING) {
		conn_redis_unexpected(s, "EXEC", k, NULL);
		goto out;
	}
	if (x->element[0]->integer == 0) {
		rc = 1;
	} else if ((unsigned long long)x->element[1]->integer > CONN_REDIS_MAX_VALUE) {
		char shown[200];

		conn_store_errf(&s->base, "redis %s: %s is larger than %zu bytes", s->t.where,
				conn_redis_key_show(k, shown, sizeof shown), CONN_REDIS_MAX_VALUE);
	} else {
		rc = conn_redis_blob_set(s, out, x->element[2]->str, x->element[2]->len);
	}
out:
	for (size_t i = 0; i < 5; i++)
		freeReplyObject(r[i]);
	return rc;
}

/* SET k value (0 or -1). */
int conn_redis_set_value(struct redis_store *s, const struct redis_key *k, const char *p, size_t n)
{
	redisReply *r = conn_redis_key_cmd(s, "SET", k, p ? p : "", n, NULL, 0, REDIS_REPLY_STATUS);

	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* A command whose integer reply is stored in *v. */
int conn_redis_int_cmd(struct redis_store *s, const char *cmd, const struct redis_key *k,
		       const char *a1, size_t l1, long long *v)
{
	redisReply *r = conn_redis_key_cmd(s, cmd, k, a1, l1, NULL, 0, REDIS_REPLY_INTEGER);

	if (!r)
		return -1;
	if (v)
		*v = r->integer;
	freeReplyObject(r);
	return 0;
}

/* ---- connecting ---- */

int conn_redis_connect(struct redis_store *s, struct conn_endpoint *ep, char *errbuf, size_t errlen)
{
	struct pipe_guard g;
	char msg[sizeof s->lost];

	s->t = *ep; /* taken over */
	memset(ep, 0, sizeof *ep);
	guard_on(&g);
	s->c = dial(&s->t, msg, sizeof msg);
	guard_off(&g);
	if (!s->c) {
		snprintf(errbuf, errlen, "store %s", msg);
		conn_endpoint_free(&s->t);
		return -1;
	}
	return 0;
}

void conn_redis_disconnect(struct redis_store *s)
{
	if (s->c) {
		struct pipe_guard g;

		guard_on(&g);
		redisFree(s->c);
		guard_off(&g);
		s->c = NULL;
	}
	conn_endpoint_free(&s->t);
}
