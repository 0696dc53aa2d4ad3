/*
 * store_redis_conn.h -- internal to the Redis store: what its operation files (store_redis.c:
 * registry, baselines, flags, history, claims, pending events; store_redis_ckpt.c: window
 * checkpoints and locks) share with its connection layer (store_redis_conn.c: the
 * connection to the parsed spec with its handshake, timeouts and reconnection backoff,
 * commands and their replies). Nothing outside store_redis*.c includes it; store.h is the public
 * side.
 */
#ifndef DRIFTD_CONN_STORE_REDIS_CONN_H
#define DRIFTD_CONN_STORE_REDIS_CONN_H

#include "connectors/endpoint.h"
#include "connectors/store_impl.h"

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_REDIS_MAX_VALUE ((size_t)64 << 20) /* largest value written or read */
#define CONN_REDIS_KEY_MAX                                                                         \
	4096u /* the longest key: a lock, prefix + encoded scope + encoded name, with room */

/* The Redis store's handle. */
struct redis_store {
	struct conn_store base; /* first: the ops table */
	struct conn_endpoint t; /* the server: the parsed spec (owned; t.where names it) */
	redisContext *c;	/* the connection; NULL while disconnected */
	int64_t retry_at;	/* monotonic ms before which no reconnection is tried */
	int64_t backoff;	/* the delay after the next failed reconnection, ms; 0: none yet */
	char lost[384];		/* why the connection was lost or could not be made */
	char prefix[CONN_STORE_MAX_PREFIX + 1]; /* of every key; "driftd:" by default */
	size_t plen;				/* its length */
};

/* ---- connecting ---- */

/* Takes the parsed spec *ep over into s->t (a CONN_ENDPOINT_REDIS or _REDIS_UNIX endpoint;
 * *ep is zeroed) and connects (AUTH, SELECT or PING): 0, or -1 with a message in errbuf (never
 * the password; s->t is then freed). Blocks about 4 s at most. */
int conn_redis_connect(struct redis_store *s, struct conn_endpoint *ep, char *errbuf,
		       size_t errlen);
/* Closes the connection (if any) and frees s->t, wiping the password. */
void conn_redis_disconnect(struct redis_store *s);

/* ---- keys ---- */

struct redis_key {
	size_t n;			/* length */
	char b[CONN_REDIS_KEY_MAX + 1]; /* bytes, NUL-terminated for convenience only */
};

/* Appends p[0..n) (cut at CONN_REDIS_KEY_MAX, never reached with checked arguments). */
void conn_redis_key_add(struct redis_key *k, const char *p, size_t n);
/* Starts k with the prefix, then text. */
void conn_redis_key_start(const struct redis_store *s, struct redis_key *k, const char *text);
/* A key for messages: printable ASCII as is, other bytes and '\' as \xNN, at most ~120 bytes,
 * in buf (cap bytes). */
const char *conn_redis_key_show(const struct redis_key *k, char *buf, size_t cap);

/* ---- commands ---- */

/* One command of a pipeline. */
struct redis_cmd {
	int argc;
	const char **argv;
	const size_t *len;
	const struct redis_key *key; /* the key it is about, for messages; NULL when none */
};

/* Sends n commands in one write and reads their n replies into r[0..n) (the connection made
 * again first when it was lost and the backoff allows). 0 when all replies arrived and none is
 * an error reply; -1 with the error set otherwise (and every reply freed). */
int conn_redis_run(struct redis_store *s, size_t n, const struct redis_cmd *cmds, redisReply **r);
/* One command: its reply (never an error reply; the caller frees it), or NULL with the error
 * set. k: the key it is about, for messages (may be NULL). */
redisReply *conn_redis_run1(struct redis_store *s, const struct redis_key *k, int argc,
			    const char **argv, const size_t *len);
/* Sets the error for a reply of an unexpected type (r may be NULL); frees it; -1. */
int conn_redis_unexpected(struct redis_store *s, const char *cmd, const struct redis_key *k,
			  redisReply *r);
/* A command on one key with up to two further arguments (a1 / a2 NULL: absent); its reply
 * checked against type (0: any), or NULL with the error set. */
redisReply *conn_redis_key_cmd(struct redis_store *s, const char *cmd, const struct redis_key *k,
			       const char *a1, size_t l1, const char *a2, size_t l2, int type);

/* ---- replies ---- */

/* Copies p[0..n) into a blob (malloc'd, NUL-terminated); -1 with the error set. */
int conn_redis_blob_set(struct redis_store *s, struct conn_blob *out, const char *p, size_t n);
/* Reads the STRING at k into out: 0, 1 when it does not exist, -1 on error (also when it is
 * larger than CONN_REDIS_MAX_VALUE, at a cost of at most that many bytes). */
int conn_redis_get_value(struct redis_store *s, const struct redis_key *k, struct conn_blob *out);
/* SET k p[0..n): 0 or -1. */
int conn_redis_set_value(struct redis_store *s, const struct redis_key *k, const char *p, size_t n);
/* A command on k (with one argument when a1 is not NULL) whose integer reply goes to *v (when
 * v is not NULL): 0 or -1. */
int conn_redis_int_cmd(struct redis_store *s, const char *cmd, const struct redis_key *k,
		       const char *a1, size_t l1, long long *v);

/* ---- the operations of store_redis_ckpt.c (in the ops table of store_redis.c) ---- */

int conn_redis_ckpt_commit(struct conn_store *cs, const char *scope, const struct conn_ckpt *c);
int conn_redis_ckpt_offsets(struct conn_store *cs, const char *scope, conn_ckpt_offset_fn fn,
			    void *arg);
int conn_redis_ckpt_offset_get(struct conn_store *cs, const char *scope, const char *stream,
			       struct conn_ckpt_offset *out);
int conn_redis_ckpt_windows(struct conn_store *cs, const char *scope, conn_ckpt_key_fn fn,
			    void *arg);
int conn_redis_ckpt_partials(struct conn_store *cs, const char *scope, const char *key, size_t klen,
			     conn_ckpt_blob_fn fn, void *arg);
int conn_redis_ckpt_states(struct conn_store *cs, const char *scope, conn_ckpt_blob_fn fn,
			   void *arg);
int conn_redis_ckpt_state_get(struct conn_store *cs, const char *scope, const char *key,
			      size_t klen, struct conn_blob *out);
int conn_redis_lock(struct conn_store *cs, const char *scope, const char *name, const char *owner,
		    int64_t ttl_ms);
int conn_redis_unlock(struct conn_store *cs, const char *scope, const char *name,
		      const char *owner);

#endif
