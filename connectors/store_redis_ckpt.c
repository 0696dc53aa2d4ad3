/*
 * store_redis_ckpt.c -- the window checkpoints and locks of the Redis store (store.h "window
 * checkpoints"): the commit script, the listings, the point reads and the lock scripts, over
 * the connection of store_redis_conn.c. Every key of a scope carries the hash tag
 * {<scope percent-encoded>}, so a scope is one Redis Cluster slot.
 */
#include "connectors/store_redis_conn.h"
#include "connectors/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- keys ---- */

/* Appends the percent-encoding of p[0..n) (text.h: every byte outside [A-Za-z0-9._-] as %XX,
 * so an encoding holds no brace, space, control byte or NUL). */
static void key_add_pct(struct redis_key *k, const char *p, size_t n)
{
	if (k->n + 3 * n > CONN_REDIS_KEY_MAX) /* never, with checked arguments */
		n = (CONN_REDIS_KEY_MAX - k->n) / 3;
	k->n += conn_text_pct_encode(k->b + k->n, p, n, 0);
}

/* P ckpt:{<scope>}:<suffix>, the scope percent-encoded: the hash tag of every key of a scope. */
static void key_ckpt(const struct redis_store *s, struct redis_key *k, const char *scope,
		     const char *suffix)
{
	conn_redis_key_start(s, k, "ckpt:{");
	key_add_pct(k, scope, strlen(scope));
	conn_redis_key_add(k, "}:", 2);
	conn_redis_key_add(k, suffix, strlen(suffix));
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

int conn_redis_ckpt_commit(struct conn_store *cs, const char *scope, const struct conn_ckpt *c)
{
	struct redis_store *s = (struct redis_store *)cs;
	const size_t np = c->npartials, nd = c->ndrops, nkeys = 3 + np + nd;
	const size_t argc = 3 + nkeys + 5 + 2 * c->noffsets + 3 * np + nd + 3 * c->nstates;
	struct redis_key ok, wk, sk, base;
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
		n += conn_text_pct_encode(w + n, it->key, it->klen, 0); /* a NUL after: wcap + 1 */
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
	r = conn_redis_run1(s, &ok, (int)a, argv, len);
	if (!r)
		goto out;
	if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
		conn_redis_unexpected(s, "EVAL", &ok, r);
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
static redisReply *hgetall(struct redis_store *s, const struct redis_key *k)
{
	redisReply *r = conn_redis_key_cmd(s, "HGETALL", k, NULL, 0, NULL, 0, REDIS_REPLY_ARRAY);

	if (!r)
		return NULL;
	for (size_t i = 0; i < r->elements; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING || r->elements % 2) {
			conn_redis_unexpected(s, "HGETALL", k, r);
			return NULL;
		}
	}
	return r;
}

/* HGET k field: its reply (a string or nil), or NULL with the error set. */
static redisReply *hget(struct redis_store *s, const struct redis_key *k, const char *field,
			size_t flen)
{
	redisReply *r = conn_redis_key_cmd(s, "HGET", k, field, flen, NULL, 0, 0);

	if (r && r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL) {
		conn_redis_unexpected(s, "HGET", k, r);
		return NULL;
	}
	return r;
}

/* Sets the error for foreign data under key k; -1. */
static int foreign(struct redis_store *s, const struct redis_key *k, const char *what)
{
	char shown[200];

	conn_store_errf(&s->base, "redis %s: %s: %s", s->t.where,
			conn_redis_key_show(k, shown, sizeof shown), what);
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

int conn_redis_ckpt_offsets(struct conn_store *cs, const char *scope, conn_ckpt_offset_fn fn,
			    void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
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

/* One field of the offsets hash (HGET): no listing of the scope. */
int conn_redis_ckpt_offset_get(struct conn_store *cs, const char *scope, const char *stream,
			       struct conn_ckpt_offset *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
	redisReply *r;

	*out = (struct conn_ckpt_offset){ stream, 0, 0, 0 };
	key_ckpt(s, &k, scope, "offsets");
	r = hget(s, &k, stream, strlen(stream));
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return conn_store_done(&s->base, 1);
	}
	if (parse_offset(r, out) < 0) {
		freeReplyObject(r);
		*out = (struct conn_ckpt_offset){ stream, 0, 0, 0 };
		return foreign(s, &k, "not a stream offset");
	}
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

int conn_redis_ckpt_windows(struct conn_store *cs, const char *scope, conn_ckpt_key_fn fn,
			    void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
	redisReply *r;

	key_ckpt(s, &k, scope, "windows");
	r = conn_redis_key_cmd(s, "SMEMBERS", &k, NULL, 0, NULL, 0, REDIS_REPLY_ARRAY);
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

/* Calls fn for each field of HASH k: names of 1..maxname bytes, blobs within CONN_REDIS_MAX_VALUE.
 */
static int hash_each(struct redis_store *s, const struct redis_key *k, size_t maxname,
		     conn_ckpt_blob_fn fn, void *arg)
{
	redisReply *r = hgetall(s, k);

	if (!r)
		return -1;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *b = r->element[i + 1];

		if (f->len == 0 || f->len > maxname || b->len > CONN_REDIS_MAX_VALUE) {
			freeReplyObject(r);
			return foreign(s, k, "a field that is not a checkpoint entry");
		}
		if (fn(arg, f->str, f->len, b->str, b->len) != 0)
			break;
	}
	freeReplyObject(r);
	return conn_store_done(&s->base, 0);
}

int conn_redis_ckpt_partials(struct conn_store *cs, const char *scope, const char *key, size_t klen,
			     conn_ckpt_blob_fn fn, void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;

	key_ckpt(s, &k, scope, "w:");
	key_add_pct(&k, key, klen);
	return hash_each(s, &k, CONN_CKPT_MAX_INSTANCE, fn, arg);
}

int conn_redis_ckpt_states(struct conn_store *cs, const char *scope, conn_ckpt_blob_fn fn,
			   void *arg)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;

	key_ckpt(s, &k, scope, "states");
	return hash_each(s, &k, CONN_CKPT_MAX_KEY, fn, arg);
}

/* One field of the states hash (HGET): no listing of the scope. */
int conn_redis_ckpt_state_get(struct conn_store *cs, const char *scope, const char *key,
			      size_t klen, struct conn_blob *out)
{
	struct redis_store *s = (struct redis_store *)cs;
	struct redis_key k;
	redisReply *r;
	int rc;

	out->data = NULL;
	out->len = 0;
	key_ckpt(s, &k, scope, "states");
	r = hget(s, &k, key, klen);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return conn_store_done(&s->base, 1);
	}
	if (r->len > CONN_REDIS_MAX_VALUE) {
		freeReplyObject(r);
		return foreign(s, &k, "a field that is not a checkpoint entry");
	}
	rc = conn_redis_blob_set(s, out, r->str, r->len);
	freeReplyObject(r);
	return rc < 0 ? -1 : conn_store_done(&s->base, 0);
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
	struct redis_key k;
	const char *argv[6] = { "EVAL", script, "1", NULL, owner, ttl };
	size_t len[6] = { 4, slen, 1, 0, strlen(owner), ttl ? strlen(ttl) : 0 };
	redisReply *r;
	int rc;

	key_ckpt(s, &k, scope, "lock:");
	key_add_pct(&k, name, strlen(name));
	argv[3] = k.b, len[3] = k.n;
	r = conn_redis_run1(s, &k, ttl ? 6 : 5, argv, len);
	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER || (r->integer != 0 && r->integer != 1))
		return conn_redis_unexpected(s, "EVAL", &k, r);
	rc = (int)r->integer;
	freeReplyObject(r);
	return rc;
}

int conn_redis_lock(struct conn_store *cs, const char *scope, const char *name, const char *owner,
		    int64_t ttl_ms)
{
	struct redis_store *s = (struct redis_store *)cs;
	char ttl[24];

	snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
	return conn_store_done(
	    &s->base, lock_script(s, lock_lua, sizeof lock_lua - 1, scope, name, owner, ttl));
}

int conn_redis_unlock(struct conn_store *cs, const char *scope, const char *name, const char *owner)
{
	struct redis_store *s = (struct redis_store *)cs;

	return conn_store_done(
	    &s->base, lock_script(s, unlock_lua, sizeof unlock_lua - 1, scope, name, owner, NULL));
}
