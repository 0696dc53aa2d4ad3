/*
 * store.h -- where driftd keeps its durable state: the version registry, baselines, the last
 * known good version, holds, latches, the rollback history and decision dedup keys.
 *
 * One interface, two backends: "dir:PATH" (files, the embedded default; store_dir.c) and
 * "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]", "unix:PATH[?db=N]" (hiredis; store_redis.c; the
 * key layout in doc/store.md, SPEC.md "Redis layout"). Values are opaque byte strings
 * (JSON documents written by the agent); the store knows nothing of statistics. Model and
 * version names are arbitrary byte strings of 1..128 bytes without NUL; a backend encodes them
 * as it must (the dir store percent-encodes them into file names).
 *
 * Every call returns 0 on success, 1 for "not found" where a lookup can miss (2: version_put of
 * an existing version), -1 on error with
 * the message available from conn_store_error() (first error since the last successful call
 * wins; nothing secret in it). Writes are atomic: a reader sees the old or the new value, never
 * a torn one (the dir store writes a temporary file and renames it).
 */
#ifndef DRIFTD_CONN_STORE_H
#define DRIFTD_CONN_STORE_H

#include <stddef.h>
#include <stdint.h>

struct conn_store;

/* Opens a store: "dir:PATH" (the directory is created when missing) or a Redis spec (connects,
 * AUTH, SELECT: may block about 4 s; later calls about 2 s at most each, a broken connection is
 * re-opened by the next call with a bounded backoff). NULL with a message in errbuf; no message
 * ever contains a password. */
struct conn_store *conn_store_open(const char *spec, char *errbuf, size_t errlen);
void conn_store_close(struct conn_store *s);
const char *conn_store_error(const struct conn_store *s);

/* A value handed out by the store: malloc'd, NUL-terminated (len excludes the NUL); the caller
 * frees it with free(). */
struct conn_blob {
	char *data;
	size_t len;
};

/* ---- version registry ----
 * version_put stores the version's registration document (JSON with the required metadata)
 * and records its registration time; it fails (returns 2) when the version already exists. */
int conn_store_version_put(struct conn_store *s, const char *model, const char *version,
			   const char *doc, size_t len, int64_t registered_ms);
int conn_store_version_get(struct conn_store *s, const char *model, const char *version,
			   struct conn_blob *out);
/* Calls fn for each version of model in registration order (oldest first); stops early when
 * fn returns non-zero. 0 when the model has no version. */
typedef int (*conn_store_version_fn)(void *arg, const char *version, int64_t registered_ms);
int conn_store_versions(struct conn_store *s, const char *model, conn_store_version_fn fn,
			void *arg);
/* Calls fn for each model with at least one registered version (any order). */
typedef int (*conn_store_model_fn)(void *arg, const char *model);
int conn_store_models(struct conn_store *s, conn_store_model_fn fn, void *arg);

/* ---- baselines ---- */
int conn_store_baseline_put(struct conn_store *s, const char *model, const char *version,
			    const char *doc, size_t len);
int conn_store_baseline_get(struct conn_store *s, const char *model, const char *version,
			    struct conn_blob *out);

/* ---- last known good, hold, latch ---- */
int conn_store_good_set(struct conn_store *s, const char *model, const char *version);
/* 1 when none is set; out receives the version otherwise. */
int conn_store_good_get(struct conn_store *s, const char *model, struct conn_blob *out);
int conn_store_hold_set(struct conn_store *s, const char *model, int on);
/* *on receives 0 or 1 (0 when never set). */
int conn_store_hold_get(struct conn_store *s, const char *model, int *on);
int conn_store_latch_set(struct conn_store *s, const char *model, const char *version, int on);
int conn_store_latch_get(struct conn_store *s, const char *model, const char *version, int *on);

/* ---- rollback history and dedup ---- */
/* Appends one entry (a JSON document, one line, no newline inside) to the model's history. */
int conn_store_history_append(struct conn_store *s, const char *model, const char *doc, size_t len);
/* Calls fn for each entry, oldest first; stops early when fn returns non-zero. */
typedef int (*conn_store_entry_fn)(void *arg, const char *doc, size_t len);
int conn_store_history(struct conn_store *s, const char *model, conn_store_entry_fn fn, void *arg);
/* Claims a decision id: 0 when this call claimed it (first time), 1 when it was already
 * claimed (a duplicate decision: do not emit), -1 on error. An id has 1..1024 bytes. Claims
 * never expire in the dir store; in Redis they expire after 30 days. A -1 may hide a claim that
 * was made (a lost reply): the engine then emits anyway (at least once, never lost). */
int conn_store_claim(struct conn_store *s, const char *id);

#endif
