/*
 * store_redis.c -- the Redis backend of store.h (hiredis 0.14, blocking API): driftd's durable
 * state in one Redis database, shared by every agent and driftctl (layout in doc/store.md).
 *
 * The spec is endpoint.h's (parsed by store.c); the connection (handshake, timeouts,
 * reconnection backoff) and the commands with their replies are store_redis_conn.c's; the window
 * checkpoints and locks are store_redis_ckpt.c's. This file holds the registry, baselines, flags,
 * history, claims, prefix, ping and pending events, and the ops table.
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
 * Errors stay on the handle (first wins, a successful call clears it), never print anything
 * and never contain the password. Values are at most 64 MiB: a larger one is refused on write
 * and on read.
 */
#include "connectors/store_redis_conn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME       128u		/* model and version names, bytes */
#define MAX_ID	       1024u		/* claim ids, bytes */
#define PAGE	       500		/* versions, models, history entries per command */
#define CLAIM_TTL_S    (30 * 24 * 3600) /* claims expire after 30 days */
#define DEFAULT_PREFIX "driftd:"	/* conn_store_set_prefix changes it */

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
	if (len > CONN_REDIS_MAX_VALUE) {
		conn_store_errf(&s->base, "a value must be at most %zu bytes",
				CONN_REDIS_MAX_VALUE);
		return -1;
	}
	return 0;
}

/* ---- keys ---- */

/* P{M}:<suffix><name>; name may be NULL. */
static void key_model(const struct redis_store *s, struct redis_key *k, const char *model,
		      const char *suffix, const char *name)
{
	conn_redis_key_start(s, k, "{");
	for (const char *p = model; *p; p++) {
		if (*p == '%')
			conn_redis_key_add(k, "%25", 3);
		else if (*p == '}')
			conn_redis_key_add(k, "%7D", 3);
		else
			conn_redis_key_add(k, p, 1);
	}
	conn_redis_key_add(k, "}:", 2);
	conn_redis_key_add(k, suffix, strlen(suffix));
	if (name)
		conn_redis_key_add(k, name, strlen(name));
}

/* ---- open / close ---- */

static const struct conn_store_ops redis_ops;

struct conn_store *conn_store_redis_open(struct conn_endpoint *ep, char *errbuf, size_t errlen)
{
	struct redis_store *s = calloc(1, sizeof *s);

	if (!s) {
		conn_endpoint_free(ep);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	s->base.ops = &redis_ops;
	s->plen = strlen(DEFAULT_PREFIX);
	memcpy(s->prefix, DEFAULT_PREFIX, s->plen + 1);
	if (conn_redis_connect(s, ep, errbuf, errlen) < 0) {
		free(s);
		return NULL;
	}
	return &s->base;
}

static void redis_close(struct conn_store *cs)
{
	struct redis_store *s = (struct redis_store *)cs;

	conn_redis_disconnect(s);
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
	struct redis_key vk, zk, qk, hk, mk = { 0 };
	char ms[24];
	const char *sadd[3], *eval[10];
	size_t saddl[3], evall[10];
	struct redis_cmd cmds[2];
	redisReply *r[2];
	int rc;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0 || check_value(s, doc, len) < 0)
		return -1;
	key_model(s, &vk, model, "version:", version);
	key_model(s, &zk, model, "versions", NULL);
	key_model(s, &qk, model, "seq", NULL);
	key_model(s, &hk, model, "registered", NULL);
	conn_redis_key_start(s, &mk, "models");
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
	cmds[0] = (struct redis_cmd){ 3, sadd, saddl, &mk };
	cmds[1] = (struct redis_cmd){ 10, eval, evall, &vk };
	if (conn_redis_run(s, 2, cmds, r) < 0)
		return -1;
	if (r[1]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r[0]);
		return conn_redis_unexpected(s, "EVAL", &vk, r[1]);
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
	struct redis_key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "version:", version);
	return conn_store_done(&s->base, conn_redis_get_value(s, &k, out));
}

/* A decimal integer reply string; -1 with the error set when it is not one. */
static int parse_ms(struct redis_store *s, const struct redis_key *k, const redisReply *e,
		    int64_t *ms)
{
	char buf[24], *end;
	long long v;

	if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len >= sizeof buf) {
		char shown[200];

		conn_store_errf(&s->base, "redis %s: %s: a version without its registration time",
				s->t.where, conn_redis_key_show(k, shown, sizeof shown));
		return -1;
	}
	memcpy(buf, e->str, e->len);
	buf[e->len] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end) {
		char shown[200];

		conn_store_errf(&s->base, "redis %s: %s: malformed registration time", s->t.where,
				conn_redis_key_show(k, shown, sizeof shown));
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
	struct redis_key zk, hk;
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
		z = conn_redis_key_cmd(s, "ZRANGE", &zk, from, strlen(from), to, strlen(to),
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

				conn_store_errf(
				    &s->base, "redis %s: %s: a member that is not a version name",
				    s->t.where, conn_redis_key_show(&zk, shown, sizeof shown));
				freeReplyObject(z);
				return -1;
			}
			argv[i + 2] = z->element[i]->str;
			len[i + 2] = z->element[i]->len;
		}
		if (n > PAGE)
			n = PAGE;
		h = conn_redis_run1(s, &hk, (int)n + 2, argv, len);
		if (!h) {
			freeReplyObject(z);
			return -1;
		}
		if (h->type != REDIS_REPLY_ARRAY || h->elements != n) {
			freeReplyObject(z);
			return conn_redis_unexpected(s, "HMGET", &hk, h);
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
	struct redis_key mk = { 0 }, *keys = NULL;
	struct redis_cmd *cmds = NULL;
	redisReply *m, **r = NULL;
	const char *(*argv)[2] = NULL;
	size_t(*len)[2] = NULL;
	int rc = -1, stop = 0;

	conn_redis_key_start(s, &mk, "models");
	m = conn_redis_key_cmd(s, "SMEMBERS", &mk, NULL, 0, NULL, 0, REDIS_REPLY_ARRAY);
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
			cmds[n] = (struct redis_cmd){ 2, argv[n], len[n], &keys[n] };
			idx[n++] = at;
		}
		if (n == 0)
			break;
		if (conn_redis_run(s, n, cmds, r) < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			if (r[i]->type != REDIS_REPLY_INTEGER) {
				conn_redis_unexpected(s, "EXISTS", &keys[i], NULL);
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
	struct redis_key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0 || check_value(s, doc, len) < 0)
		return -1;
	key_model(s, &k, model, "baseline:", version);
	return conn_store_done(&s->base, conn_redis_set_value(s, &k, doc, len));
}

static int redis_baseline_get(struct conn_store *cs, const char *model, const char *version,
			      struct conn_blob *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "baseline:", version);
	return conn_store_done(&s->base, conn_redis_get_value(s, &k, out));
}

/* ---- last known good, hold, latch ---- */

static int redis_good_set(struct conn_store *cs, const char *model, const char *version)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "good", NULL);
	return conn_store_done(&s->base, conn_redis_set_value(s, &k, version, strlen(version)));
}

static int redis_good_get(struct conn_store *cs, const char *model, struct conn_blob *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
	int rc;

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "good", NULL);
	rc = conn_redis_get_value(s, &k, out);
	if (rc == 0 && (out->len == 0 || out->len > MAX_NAME || memchr(out->data, 0, out->len))) {
		char shown[200];

		free(out->data);
		out->data = NULL;
		out->len = 0;
		conn_store_errf(&s->base, "redis %s: %s: not a version name", s->t.where,
				conn_redis_key_show(&k, shown, sizeof shown));
		return -1;
	}
	return conn_store_done(&s->base, rc);
}

static int redis_hold_set(struct conn_store *cs, const char *model, int on)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "hold", NULL);
	if (on)
		return conn_store_done(&s->base, conn_redis_set_value(s, &k, "1", 1));
	return conn_store_done(&s->base, conn_redis_int_cmd(s, "DEL", &k, NULL, 0, NULL));
}

static int redis_hold_get(struct conn_store *cs, const char *model, int *on)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct conn_blob b = { 0 };
	struct redis_key k;
	int rc;

	*on = 0;
	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "hold", NULL);
	rc = conn_redis_get_value(s, &k, &b);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (b.len == 1 && (b.data[0] == '0' || b.data[0] == '1')) {
			*on = b.data[0] == '1';
		} else {
			char shown[200];

			conn_store_errf(&s->base, "redis %s: %s: not a flag (\"1\" or absent)",
					s->t.where, conn_redis_key_show(&k, shown, sizeof shown));
			rc = -1;
		}
		free(b.data);
	}
	return conn_store_done(&s->base, rc < 0 ? -1 : 0);
}

static int redis_latch_set(struct conn_store *cs, const char *model, const char *version, int on)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;

	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "latched", NULL);
	return conn_store_done(&s->base, conn_redis_int_cmd(s, on ? "SADD" : "SREM", &k, version,
							    strlen(version), NULL));
}

static int redis_latch_get(struct conn_store *cs, const char *model, const char *version, int *on)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
	long long v = 0;

	*on = 0;
	if (check_name(s, "model", model, MAX_NAME) < 0 ||
	    check_name(s, "version", version, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "latched", NULL);
	if (conn_redis_int_cmd(s, "SISMEMBER", &k, version, strlen(version), &v) < 0)
		return -1;
	*on = v == 1;
	return conn_store_done(&s->base, 0);
}

/* ---- cooldown: P{M}:cooldown, a STRING of the window end (ms, decimal) ---- */

static const char cooldown_lua[] =
    "local c = tonumber(redis.call('GET', KEYS[1]))\n"
    "if c == nil or c < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end\n"
    "return 0\n";

static int redis_cooldown_raise(struct conn_store *cs, const char *model, int64_t end_ms)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
	char v[24];
	const char *argv[5];
	size_t len[5];
	redisReply *r;

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "cooldown", NULL);
	argv[0] = "EVAL", len[0] = 4;
	argv[1] = cooldown_lua, len[1] = sizeof cooldown_lua - 1;
	argv[2] = "1", len[2] = 1;
	argv[3] = k.b, len[3] = k.n;
	argv[4] = v, len[4] = (size_t)snprintf(v, sizeof v, "%lld", (long long)end_ms);
	r = conn_redis_run1(s, &k, 5, argv, len);
	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER)
		return conn_redis_unexpected(s, "EVAL", &k, r);
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

static int redis_cooldown_get(struct conn_store *cs, const char *model, int64_t *end_ms)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
	struct conn_blob b = { 0 };
	char *end;
	long long v;
	int rc;

	if (check_name(s, "model", model, MAX_NAME) < 0)
		return -1;
	key_model(s, &k, model, "cooldown", NULL);
	rc = conn_redis_get_value(s, &k, &b);
	if (rc != 0)
		return rc < 0 ? -1 : conn_store_done(&s->base, 1);
	errno = 0;
	v = strtoll(b.data, &end, 10);
	if (b.len == 0 || *end || errno) {
		char shown[200];

		free(b.data);
		conn_store_errf(&s->base, "redis %s: %s: not a window end", s->t.where,
				conn_redis_key_show(&k, shown, sizeof shown));
		return -1;
	}
	free(b.data);
	*end_ms = (int64_t)v;
	return conn_store_done(&s->base, 0);
}

/* ---- rollback history and dedup ---- */

static int redis_history_append(struct conn_store *cs, const char *model, const char *doc,
				size_t len)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
	const char *argv[5];
	size_t alen[5];
	redisReply *r;

	if (len == 0 || !doc || memchr(doc, '\n', len) || memchr(doc, '\0', len)) {
		conn_store_errf(&s->base, "a history entry must be one non-empty line");
		return -1;
	}
	if (len > CONN_REDIS_MAX_VALUE) {
		conn_store_errf(&s->base, "a history entry must be at most %zu bytes",
				CONN_REDIS_MAX_VALUE);
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
	r = conn_redis_run1(s, &k, 5, argv, alen);
	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_STRING)
		return conn_redis_unexpected(s, "XADD", &k, r);
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
	struct redis_key k;
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
		r = conn_redis_run1(s, &k, 6, argv, len);
		if (!r)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY)
			return conn_redis_unexpected(s, "XRANGE", &k, r);
		n = r->elements;
		for (size_t i = 0; i < n && !stop; i++) {
			const redisReply *e = r->element[i], *f, *doc = NULL;

			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING ||
			    e->element[1]->type != REDIS_REPLY_ARRAY)
				return conn_redis_unexpected(s, "XRANGE", &k, r);
			f = e->element[1];
			for (size_t j = 0; j + 1 < f->elements; j += 2)
				if (f->element[j]->type == REDIS_REPLY_STRING &&
				    f->element[j]->len == 3 &&
				    !memcmp(f->element[j]->str, "doc", 3) &&
				    f->element[j + 1]->type == REDIS_REPLY_STRING)
					doc = f->element[j + 1];
			if (!doc) {
				char shown[200];

				conn_store_errf(
				    &s->base, "redis %s: %s: an entry without a doc field",
				    s->t.where, conn_redis_key_show(&k, shown, sizeof shown));
				freeReplyObject(r);
				return -1;
			}
			stop = fn(arg, doc->str, doc->len) != 0;
			if (i + 1 == n && next_id(e->element[0]->str, e->element[0]->len, from,
						  sizeof from) < 0) {
				char shown[200];

				conn_store_errf(&s->base, "redis %s: %s: malformed entry id",
						s->t.where,
						conn_redis_key_show(&k, shown, sizeof shown));
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

/* The claim key of id: P claim:{ID}. */
static void key_claim(const struct redis_store *s, struct redis_key *k, const char *id)
{
	conn_redis_key_start(s, k, "claim:{");
	conn_redis_key_add(k, id, strlen(id));
	conn_redis_key_add(k, "}", 1);
}

/* SET claim:{ID} value NX EX 30 days: 0 set now, 1 it existed. */
static int claim_set(struct redis_store *s, const char *id, const char *value, size_t vlen)
{
	struct redis_key k = { 0 };
	char ttl[16];
	const char *argv[6];
	size_t len[6];
	redisReply *r;
	int rc;

	if (check_name(s, "claim id", id, MAX_ID) < 0)
		return -1;
	key_claim(s, &k, id);
	argv[0] = "SET", len[0] = 3;
	argv[1] = k.b, len[1] = k.n;
	argv[2] = value, len[2] = vlen;
	argv[3] = "NX", len[3] = 2;
	argv[4] = "EX", len[4] = 2;
	argv[5] = ttl, len[5] = (size_t)snprintf(ttl, sizeof ttl, "%d", CLAIM_TTL_S);
	r = conn_redis_run1(s, &k, 6, argv, len);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_STATUS)
		rc = 0; /* OK: set now */
	else if (r->type == REDIS_REPLY_NIL)
		rc = 1; /* it existed */
	else
		return conn_redis_unexpected(s, "SET", &k, r);
	freeReplyObject(r);
	return conn_store_done(&s->base, rc);
}

static int redis_claim(struct conn_store *cs, const char *id)
{
	return claim_set((struct redis_store *)cs, id, "1", 1);
}

static int redis_claim_put(struct conn_store *cs, const char *id, const char *value, size_t len)
{
	return claim_set((struct redis_store *)cs, id, value, len);
}

static int redis_claim_get(struct conn_store *cs, const char *id, struct conn_blob *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k = { 0 };

	key_claim(s, &k, id);
	return conn_store_done(&s->base, conn_redis_get_value(s, &k, out));
}

/* SET claim:{ID} value XX KEEPTTL: the claim's expiry stays. 0, or 1 when there is none. */
static int redis_claim_mark(struct conn_store *cs, const char *id, const char *value, size_t vlen)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k = { 0 };
	const char *argv[5];
	size_t len[5];
	redisReply *r;
	int rc;

	key_claim(s, &k, id);
	argv[0] = "SET", len[0] = 3;
	argv[1] = k.b, len[1] = k.n;
	argv[2] = value, len[2] = vlen;
	argv[3] = "XX", len[3] = 2;
	argv[4] = "KEEPTTL", len[4] = 7;
	r = conn_redis_run1(s, &k, 5, argv, len);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_STATUS)
		rc = 0;
	else if (r->type == REDIS_REPLY_NIL)
		rc = 1;
	else
		return conn_redis_unexpected(s, "SET", &k, r);
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
	redisReply *r = conn_redis_run1(s, NULL, 1, argv, len);

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
	struct redis_key k;
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
	conn_redis_key_start(s, &k, "pending");
	r = conn_redis_key_cmd(s, "HSET", &k, id, strlen(id), v, hl + ml + len,
			       REDIS_REPLY_INTEGER);
	free(v);
	if (!r)
		return -1;
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

static int redis_pending_del(struct conn_store *cs, const char *id)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;

	conn_redis_key_start(s, &k, "pending");
	return conn_store_done(&s->base, conn_redis_int_cmd(s, "HDEL", &k, id, strlen(id), NULL));
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
	struct redis_key k;
	redisReply *ids;
	int stop = 0;

	/* the ids first, then their values by pages: each event present all along is listed
	 * exactly once, whatever fn (or another agent) puts or deletes meanwhile */
	conn_redis_key_start(s, &k, "pending");
	ids = conn_redis_key_cmd(s, "HKEYS", &k, NULL, 0, NULL, 0, REDIS_REPLY_ARRAY);
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

				conn_store_errf(
				    &s->base, "redis %s: %s: a field that is no event id",
				    s->t.where, conn_redis_key_show(&k, shown, sizeof shown));
				freeReplyObject(ids);
				return -1;
			}
			argv[i + 2] = e->str, len[i + 2] = e->len;
		}
		v = conn_redis_run1(s, &k, (int)n + 2, argv, len);
		if (!v) {
			freeReplyObject(ids);
			return -1;
		}
		if (v->type != REDIS_REPLY_ARRAY || v->elements != n) {
			freeReplyObject(ids);
			return conn_redis_unexpected(s, "HMGET", &k, v);
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
						s->t.where,
						conn_redis_key_show(&k, shown, sizeof shown),
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
	.cooldown_raise = redis_cooldown_raise,
	.cooldown_get = redis_cooldown_get,
	.history_append = redis_history_append,
	.history = redis_history,
	.claim = redis_claim,
	.claim_put = redis_claim_put,
	.claim_get = redis_claim_get,
	.claim_mark = redis_claim_mark,
	.set_prefix = redis_set_prefix,
	.ping = redis_ping,
	.pending_put = redis_pending_put,
	.pending_del = redis_pending_del,
	.pending_list = redis_pending_list,
	.ckpt_commit = conn_redis_ckpt_commit,
	.ckpt_offsets = conn_redis_ckpt_offsets,
	.ckpt_offset_get = conn_redis_ckpt_offset_get,
	.ckpt_windows = conn_redis_ckpt_windows,
	.ckpt_partials = conn_redis_ckpt_partials,
	.ckpt_states = conn_redis_ckpt_states,
	.ckpt_state_get = conn_redis_ckpt_state_get,
	.lock = conn_redis_lock,
	.unlock = conn_redis_unlock,
};
