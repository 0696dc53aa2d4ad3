/*
 * store_impl.h -- internal: what every store backend provides (store.h is the public side).
 * A backend embeds struct conn_store as the first member of its own handle, points ops at its
 * table, and implements each operation with exactly the contract store.h states for the
 * matching conn_store_* function (return values, error kept on the handle, first error wins,
 * a successful call clears it). connectors/store.c dispatches; for the operations of the
 * second group (prefix, ping, pending events, checkpoints, locks) it also checks the arguments
 * against the bounds below first, so a backend receives only valid ones: non-NULL pointers,
 * names within their lengths, blobs within CONN_STORE_MAX_VALUE, counts within
 * CONN_CKPT_MAX_ITEMS, a ttl within CONN_LOCK_MAX_TTL_MS, a prefix of the allowed characters.
 */
#ifndef DRIFTD_CONN_STORE_IMPL_H
#define DRIFTD_CONN_STORE_IMPL_H

#include "connectors/store.h"

struct conn_endpoint; /* endpoint.h: a parsed spec */

/* Bounds of the second group's arguments, checked by store.c (bytes unless said otherwise). */
#define CONN_STORE_MAX_VALUE   ((size_t)64 << 20) /* a value, a blob, a pending event */
#define CONN_STORE_MAX_NAME    128u		  /* model names */
#define CONN_STORE_MAX_ID      1024u		  /* pending event ids */
#define CONN_STORE_MAX_PREFIX  64u		  /* a Redis key prefix */
#define CONN_CKPT_MAX_SCOPE    255u		  /* a checkpoint scope */
#define CONN_CKPT_MAX_STREAM   512u		  /* a stream name ("TOPIC/PARTITION") */
#define CONN_CKPT_MAX_KEY      1024u		  /* a window key or a pair key */
#define CONN_CKPT_MAX_INSTANCE 128u		  /* an agent instance name */
#define CONN_CKPT_MAX_ITEMS    100000u		  /* offsets + partials + drops + states */
#define CONN_LOCK_MAX_NAME     1024u		  /* a lock name */
#define CONN_LOCK_MAX_OWNER    255u		  /* a lock owner */
#define CONN_LOCK_MAX_TTL_MS   ((int64_t)366 * 24 * 3600 * 1000) /* a lock's ttl */

struct conn_store_ops {
	void (*close)(struct conn_store *s); /* frees the handle; s != NULL */
	int (*version_put)(struct conn_store *s, const char *model, const char *version,
			   const char *doc, size_t len, int64_t registered_ms);
	int (*version_get)(struct conn_store *s, const char *model, const char *version,
			   struct conn_blob *out);
	int (*versions)(struct conn_store *s, const char *model, conn_store_version_fn fn,
			void *arg);
	int (*models)(struct conn_store *s, conn_store_model_fn fn, void *arg);
	int (*baseline_put)(struct conn_store *s, const char *model, const char *version,
			    const char *doc, size_t len);
	int (*baseline_get)(struct conn_store *s, const char *model, const char *version,
			    struct conn_blob *out);
	int (*good_set)(struct conn_store *s, const char *model, const char *version);
	int (*good_get)(struct conn_store *s, const char *model, struct conn_blob *out);
	int (*hold_set)(struct conn_store *s, const char *model, int on);
	int (*hold_get)(struct conn_store *s, const char *model, int *on);
	int (*latch_set)(struct conn_store *s, const char *model, const char *version, int on);
	int (*latch_get)(struct conn_store *s, const char *model, const char *version, int *on);
	int (*cooldown_raise)(struct conn_store *s, const char *model, int64_t end_ms);
	int (*cooldown_get)(struct conn_store *s, const char *model, int64_t *end_ms);
	int (*history_append)(struct conn_store *s, const char *model, const char *doc, size_t len);
	int (*history)(struct conn_store *s, const char *model, conn_store_entry_fn fn, void *arg);
	int (*claim)(struct conn_store *s, const char *id);
	/* The claim of id as a value (the outbox of store.c is built on these three): claim_put
	 * creates it holding value (0, 1 when it exists: unchanged), claim_get reads it (0, 1
	 * none), claim_mark replaces the value of an existing one, its expiry kept (0, 1 none). */
	int (*claim_put)(struct conn_store *s, const char *id, const char *value, size_t len);
	int (*claim_get)(struct conn_store *s, const char *id, struct conn_blob *out);
	int (*claim_mark)(struct conn_store *s, const char *id, const char *value, size_t len);
	/* ---- the second group: arguments checked by store.c ---- */
	int (*set_prefix)(struct conn_store *s, const char *prefix);
	int (*ping)(struct conn_store *s);
	int (*pending_put)(struct conn_store *s, const char *id, const char *model, const char *doc,
			   size_t len);
	int (*pending_del)(struct conn_store *s, const char *id);
	int (*pending_list)(struct conn_store *s, conn_store_pending_fn fn, void *arg);
	int (*ckpt_commit)(struct conn_store *s, const char *scope, const struct conn_ckpt *c);
	int (*ckpt_offsets)(struct conn_store *s, const char *scope, conn_ckpt_offset_fn fn,
			    void *arg);
	/* out->stream is set and the rest zeroed by store.c; 0 found, 1 none, -1 error */
	int (*ckpt_offset_get)(struct conn_store *s, const char *scope, const char *stream,
			       struct conn_ckpt_offset *out);
	int (*ckpt_windows)(struct conn_store *s, const char *scope, conn_ckpt_key_fn fn,
			    void *arg);
	int (*ckpt_partials)(struct conn_store *s, const char *scope, const char *key, size_t klen,
			     conn_ckpt_blob_fn fn, void *arg);
	int (*ckpt_states)(struct conn_store *s, const char *scope, conn_ckpt_blob_fn fn,
			   void *arg);
	/* out is emptied by store.c; 0 found, 1 none, -1 error */
	int (*ckpt_state_get)(struct conn_store *s, const char *scope, const char *key, size_t klen,
			      struct conn_blob *out);
	int (*lock)(struct conn_store *s, const char *scope, const char *name, const char *owner,
		    int64_t ttl_ms);
	int (*unlock)(struct conn_store *s, const char *scope, const char *name, const char *owner);
};

struct conn_store {
	const struct conn_store_ops *ops; /* the backend's table; never NULL */
	char err[512]; /* first error since the last successful call; "" when none */
};

/* Records an error on the handle unless one is already recorded (first error wins). */
void conn_store_errf(struct conn_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns rc; a call that succeeded (rc >= 0) clears the error. */
int conn_store_done(struct conn_store *s, int rc);

/* The backends' constructors; conn_store_open picks one by the spec's kind. Each returns
 * NULL with a message in errbuf (which never contains a password). */

/* path: the directory (the spec without "dir:"), created when missing. */
struct conn_store *conn_store_dir_open(const char *path, char *errbuf, size_t errlen);

/* ep: a parsed CONN_ENDPOINT_REDIS or CONN_ENDPOINT_REDIS_UNIX spec (endpoint.h), taken over:
 * *ep is zeroed whatever the outcome (the store frees it, wiping the password, when it closes or
 * fails). Connects before returning: an unreachable server or a refused AUTH is an error. */
struct conn_store *conn_store_redis_open(struct conn_endpoint *ep, char *errbuf, size_t errlen);

#endif
