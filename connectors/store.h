/*
 * store.h -- where driftd keeps its durable state: the version registry, baselines, the last
 * known good version, holds, latches, the rollback history and decision dedup keys.
 *
 * One interface, two backends: "dir:PATH" (files, the embedded default; store_dir*.c) and
 * "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]", "unix:PATH[?db=N]" (hiredis; store_redis*.c; the
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

/* ---- cooldown ----
 * The end (event time, ms) of the window of the model's last rollback, shared by every agent,
 * consumer group and replay on the store: raise sets it only when later than the one stored
 * (atomically: Redis, one script; dir, under an flock), so an old replay never shortens a live
 * cooldown. get: 0 with *end_ms, 1 when none was ever set. */
int conn_store_cooldown_raise(struct conn_store *s, const char *model, int64_t end_ms);
int conn_store_cooldown_get(struct conn_store *s, const char *model, int64_t *end_ms);

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

/* ---- key prefix and reachability ----
 * The calls from here on check their arguments before the backend sees them: a NULL pointer,
 * an empty or too long name, id, key or scope, a blob over 64 MiB, a count or ttl out of range
 * is -1 with a message naming the argument, and nothing is written. */
/* Sets the prefix of every key (Redis; default "driftd:"; 1..64 bytes of [A-Za-z0-9_.:-]), the
 * registry, claims, pending events, checkpoints and locks alike. Call right after open, before
 * any other call (it applies to the calls that follow it). The dir store accepts it and ignores
 * it (its directory is its namespace). -1 on an invalid prefix (the previous one is kept). */
int conn_store_set_prefix(struct conn_store *s, const char *prefix);
/* 0 when the store answers now (Redis: PING, on the connection made again first when it was
 * lost, as any call does, within the reconnection backoff; dir: a file can be created in and
 * removed from the directory), -1 otherwise. For readiness and driftd_redis_up; never blocks
 * longer than one call's timeout. */
int conn_store_ping(struct conn_store *s);

/* ---- events waiting for delivery ----
 * The pending list: the outbox's events not delivered yet (conn_store_outbox_claim puts them
 * there), and events put directly (an earlier driftd's refused events). id: the event id
 * (1..1024 bytes); model: the model (the Kafka key, 1..128 bytes); doc: the event JSON (bytes,
 * at most 64 MiB). put replaces an entry of the same id, atomically (the old or the new entry,
 * never a mix). Pending events are not per model: one list for the whole store (under the
 * prefix). The listing gives only what is still to deliver: an entry whose claim says
 * delivered is removed instead of given; for an outbox entry the doc given is the claim's. */
int conn_store_pending_put(struct conn_store *s, const char *id, const char *model, const char *doc,
			   size_t len);
/* 0 deleted or absent. */
int conn_store_pending_del(struct conn_store *s, const char *id);
/* Calls fn for each kept event (any order); stops early when fn returns non-zero. id and model
 * are NUL-terminated, doc is followed by a NUL (not counted in len); all valid during the call
 * only. fn may delete the event it is given (deliver, then delete). */
typedef int (*conn_store_pending_fn)(void *arg, const char *id, const char *model, const char *doc,
				     size_t len);
int conn_store_pending_list(struct conn_store *s, conn_store_pending_fn fn, void *arg);

/* ---- the outbox (doc/delivery.md "The outbox") ----
 * A decided event is stored with its claim in one atomic write, before any send: the claim of
 * its id holds the event (model and JSON) until conn_store_outbox_done marks it delivered, and
 * the event is listed by conn_store_pending_list meanwhile. A crash at any moment leaves the
 * event claimed and kept, or not claimed at all: never claimed and lost (a crash between the
 * claim and its pending-list entry leaves the event in the claim, where conn_store_outbox_get
 * finds it; the caller that does puts it on the list again, conn_store_pending_put). */
/* 0: id claimed now, its event pending; 1: id was claimed before (nothing written; see
 * conn_store_outbox_get); -1 on error (nothing claimed, or -- a lost reply -- claimed and
 * pending: a retry then says 1 and the event is delivered from the outbox). */
int conn_store_outbox_claim(struct conn_store *s, const char *id, const char *model,
			    const char *doc, size_t len);
enum conn_outbox_state {
	CONN_OUTBOX_ERROR = -1,	 /* the message in conn_store_error() */
	CONN_OUTBOX_PENDING = 0, /* claimed, not delivered yet: *model and *doc hold the event */
	CONN_OUTBOX_DELIVERED = 1 /* delivered (or claimed by conn_store_claim: no event kept) */,
	CONN_OUTBOX_NONE = 2 /* never claimed (or the claim expired) */
};
/* The state of id's claim; on PENDING, model and doc are malloc'd (the caller frees both). */
enum conn_outbox_state conn_store_outbox_get(struct conn_store *s, const char *id,
					     struct conn_blob *model, struct conn_blob *doc);
/* Marks id delivered (the claim stays: a later decision of id is a duplicate) and takes it off
 * the pending list. 0, or -1 (then it is still pending: call again). */
int conn_store_outbox_done(struct conn_store *s, const char *id);

/* ---- window checkpoints (exactly-once accounting; doc/delivery.md) ----
 * Everything here lives in a scope (the Kafka consumer group id, 1..255 bytes): one Redis hash
 * tag per scope, so that a commit is one atomic unit even on Redis Cluster (a Lua script over
 * the scope's keys: atomic like MULTI/EXEC, see store_redis_ckpt.c for why not MULTI). Inside a
 * scope:
 *  - offsets: per stream name ("TOPIC/PARTITION"), the next offset to read, the stream's
 *    high-water mark (largest record time counted, ms) and the wall time of the commit (ms);
 *  - partials: per window key (opaque bytes, 1..1024, from the engine), one blob per agent
 *    instance (the instance's partial state of that window);
 *  - states: per pair key (opaque bytes, 1..1024), one blob (the decision state of a
 *    (model, version));
 *  - locks: per name, an owner and an expiry.
 * conn_store_ckpt_commit applies a whole checkpoint atomically: a reader (or a restart after a
 * crash at any moment) sees all of it or none of it. Blobs are binary (may hold NUL), at most
 * 64 MiB each; a non-NULL blob of len 0 is an empty blob, not a deletion. The parts apply in
 * the order offsets, partials, drops, states; within one array the last item of a key wins; so
 * a window both set and dropped by one commit ends dropped. A commit holds at most 100000 items
 * (offsets + partials + drops + states). An empty commit changes nothing. On -1 (Redis: a lost
 * reply) the commit may or may not have been applied, but never in part. Readers: fn gets
 * pointers valid during the call only, each followed by a NUL (not counted); they stop early
 * when fn returns non-zero; a scope never committed to is empty (0, no call). */
struct conn_ckpt_offset {
	const char *stream; /* "TOPIC/PARTITION", NUL-terminated, 1..512 bytes */
	int64_t next_offset;
	int64_t hwm_ms;
	int64_t updated_ms;
};
struct conn_ckpt_item {
	const char *key; /* window key (partials) or pair key (states) */
	size_t klen;
	const char *blob; /* NULL: delete (this instance's partial / the state) */
	size_t len;
};
struct conn_ckpt {
	const char *instance; /* this agent instance (1..128 bytes, NUL-terminated) */
	const struct conn_ckpt_offset *offsets; /* set (replace) these streams' offsets */
	size_t noffsets;
	const struct conn_ckpt_item *partials; /* set or delete this instance's partials */
	size_t npartials;
	const struct conn_ckpt_item *drops; /* windows decided: delete every instance's partial
					     * of these keys (blob and len unused) */
	size_t ndrops;
	const struct conn_ckpt_item *states; /* set or delete pair states */
	size_t nstates;
};
int conn_store_ckpt_commit(struct conn_store *s, const char *scope, const struct conn_ckpt *c);
/* Calls fn for each stored stream offset of the scope (any order). */
typedef int (*conn_ckpt_offset_fn)(void *arg, const struct conn_ckpt_offset *o);
int conn_store_ckpt_offsets(struct conn_store *s, const char *scope, conn_ckpt_offset_fn fn,
			    void *arg);
/* The result of a point read (the values of the store's other lookups: 0, 1, -1). */
enum conn_store_lookup {
	CONN_STORE_ERROR = -1, /* the message in conn_store_error(); nothing returned */
	CONN_STORE_FOUND = 0,  /* the value is in *out */
	CONN_STORE_NONE = 1,   /* nothing stored under that name (a scope never committed to) */
};
/* The stored offset of one stream of the scope, without listing the others (Redis: one HGET;
 * dir: the scope's file read, one lookup). On CONN_STORE_FOUND, *out holds it, out->stream
 * being the stream given; otherwise *out is zero but for out->stream. */
enum conn_store_lookup conn_store_ckpt_offset_get(struct conn_store *s, const char *scope,
						  const char *stream, struct conn_ckpt_offset *out);
/* Calls fn for each window key that has at least one partial (any order). */
typedef int (*conn_ckpt_key_fn)(void *arg, const char *key, size_t klen);
int conn_store_ckpt_windows(struct conn_store *s, const char *scope, conn_ckpt_key_fn fn,
			    void *arg);
/* Calls fn for each instance's partial of one window (any order); 0 with no call when none. */
typedef int (*conn_ckpt_blob_fn)(void *arg, const char *name, size_t nlen, const char *blob,
				 size_t len);
int conn_store_ckpt_partials(struct conn_store *s, const char *scope, const char *key, size_t klen,
			     conn_ckpt_blob_fn fn, void *arg);
/* Calls fn(pair key, state) for each stored pair state of the scope (any order). */
int conn_store_ckpt_states(struct conn_store *s, const char *scope, conn_ckpt_blob_fn fn,
			   void *arg);
/* The stored state of one pair key (key[0..klen), 1..1024 bytes) of the scope, without listing
 * the others (Redis: one HGET; dir: the scope's file read, one lookup). On CONN_STORE_FOUND,
 * *out is the state (malloc'd, followed by a NUL not counted in len; the caller frees
 * out->data); otherwise out->data is NULL and out->len 0. */
enum conn_store_lookup conn_store_ckpt_state_get(struct conn_store *s, const char *scope,
						 const char *key, size_t klen,
						 struct conn_blob *out);
/* Takes or renews the lock `name` (1..1024 bytes) of the scope for `owner` (1..255 bytes)
 * during ttl_ms (1 ms to 366 days) from now: 0 when owner holds it now, 1 when another owner
 * holds it (not expired), -1 on error. release: 0 released (or it was not held by owner: then
 * nothing changes). Redis: the server's clock expires it (a key with PX). Dir store: locks are
 * kept in files with an expiry on the host's wall clock (one host only). */
int conn_store_lock(struct conn_store *s, const char *scope, const char *name, const char *owner,
		    int64_t ttl_ms);
int conn_store_unlock(struct conn_store *s, const char *scope, const char *name, const char *owner);

#endif
