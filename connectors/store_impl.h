/*
 * store_impl.h -- internal: what every store backend provides (store.h is the public side).
 * A backend embeds struct conn_store as the first member of its own handle, points ops at its
 * table, and implements each operation with exactly the contract store.h states for the
 * matching conn_store_* function (return values, error kept on the handle, first error wins,
 * a successful call clears it). connectors/store.c dispatches; it adds nothing of its own.
 */
#ifndef DRIFTD_CONN_STORE_IMPL_H
#define DRIFTD_CONN_STORE_IMPL_H

#include "connectors/store.h"

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
	int (*history_append)(struct conn_store *s, const char *model, const char *doc, size_t len);
	int (*history)(struct conn_store *s, const char *model, conn_store_entry_fn fn, void *arg);
	int (*claim)(struct conn_store *s, const char *id);
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

/* The backends' constructors; conn_store_open picks one by the spec's scheme. Each returns
 * NULL with a message in errbuf (which never contains a password). */

/* path: the directory (the spec without "dir:"), created when missing. */
struct conn_store *conn_store_dir_open(const char *path, char *errbuf, size_t errlen);

/* spec: the whole "redis://...", "redis+unix://..." or "unix:..." spec (store_redis.c documents
 * the syntax). Connects before returning: an unreachable server or a refused AUTH is an error. */
struct conn_store *conn_store_redis_open(const char *spec, char *errbuf, size_t errlen);

#endif
