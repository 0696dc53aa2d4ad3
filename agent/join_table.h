/*
 * join_table.h -- the join table of delayed ground truth: predictions remembered by (model,
 * request_id) until their label arrives (connectors/label_decoder.h), a TTL passes, or room is
 * needed.
 *
 * Semantics:
 *   - key: the bytes of (model, request_id); the same request_id under two models is two
 *     entries. A record without a request_id (or with an empty one) or without a prediction is
 *     not remembered: no label message can name it.
 *   - value: the record's version, its prediction (number, string or boolean) and the event
 *     time the caller gives (ts_ms, typically the record's ts, else the Kafka timestamp, else
 *     receive time), handed back by agent_labels_take so the caller can score the label
 *     (agent/accuracy.h) for the right (model, version) window.
 *   - time: the TTL runs on the receive-time clock now_ms the caller passes to every call (a
 *     wall or monotonic clock in ms, not event time). The table keeps the largest now_ms it has
 *     seen and uses that, so a clock stepping back never revives nor reorders anything. An entry
 *     remembered at `at` is expired once now_ms - at > ttl_ms: at exactly at + ttl_ms it can
 *     still be taken, at at + ttl_ms + 1 it is gone. Every call drops the expired entries first
 *     (remember and take too), so a result never depends on when agent_labels_expire ran;
 *     calling it on idle ticks only returns memory sooner.
 *   - recency: remembering a key makes it the most recently used (a replacement restarts its
 *     TTL); taking removes it. The list is thus in remember order, which is also TTL order:
 *     expiry and eviction both drop from the oldest end, O(1) each.
 *   - room: beyond max_entries the least recently remembered entry is evicted (counted).
 *
 * Memory is strictly bounded. An entry holds its strings NUL-terminated in one block after a
 * fixed part; the bucket array (chained hashing, load factor <= 1 until it reaches its largest
 * size, the power of two >= max_entries) costs at most 2 pointers per entry of max_entries.
 * agent_labels_remember refuses a model, version or request_id longer than lim->max_name and a
 * string prediction longer than lim->max_value (records from a decoder with the same limits
 * never are), so per entry of max_entries, malloc's own per-block overhead (glibc: <= 23 bytes)
 * aside:
 *     AGENT_LABELS_ENTRY_OVERHEAD + 3 x max_name + max_value  bytes, worst case,
 *   = 100 + 384 + 1024 = 1508 bytes with the default limits (a numeric or boolean prediction:
 *     484 bytes; a typical entry, 10-byte names and a 36-byte UUID request id: about 160 bytes);
 * the whole table at most sizeof(table) (< 256 bytes) + max_entries x that.
 *
 * Hashing: SipHash-1-3 (Aumasson & Bernstein; as in CPython and Rust's HashMap) keyed by 128
 * random bits drawn per table (getrandom, else a clock/pid mix), so keys chosen to collide in
 * one process's table cannot be precomputed: chains stay short under adversarial request ids.
 *
 * remember and take are O(1) on average (plus O(expired) for the entries they drop, each
 * dropped once: amortized O(1)); expire is O(expired). Not thread-safe: one owner (the loop).
 */
#ifndef DRIFTD_AGENT_LABELS_H
#define DRIFTD_AGENT_LABELS_H

#include "connectors/record.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes per entry besides its strings: the fixed part (80 on LP64), 4 NUL terminators and the
 * entry's share of the bucket array (at most 2 pointers). Checked at compile time in join_table.c.
 */
#define AGENT_LABELS_ENTRY_OVERHEAD 100

struct agent_labels;

/* A taken entry. Zero-initialise before first use; agent_labels_take releases what it held
 * before filling it; agent_labels_match_clear releases it (then it is zero again). */
struct agent_label_match {
	const char *version; /* NUL-terminated (also version_len), owned by the match */
	size_t version_len;
	struct conn_value prediction; /* never MISSING; a string is NUL-terminated, owned */
	int64_t ts_ms;		      /* event time given to agent_labels_remember */
	int64_t remembered_ms;	      /* receive time it was remembered at (TTL clock) */
	void *mem;		      /* the block the strings live in (private) */
};

struct agent_labels_counters {
	uint64_t remembered; /* predictions kept (replacements included) */
	uint64_t replaced;   /* of which replaced an entry of the same key */
	uint64_t joined;     /* takes that found their entry */
	uint64_t unmatched;  /* takes that found none (never remembered, expired, evicted, taken) */
	uint64_t expired;    /* entries dropped by the TTL */
	uint64_t evicted;    /* entries dropped for room (least recently remembered first) */
	size_t entries;	     /* held now; remembered - replaced = joined + expired + evicted +
				entries */
	size_t bytes;	     /* heap bytes held now: table, buckets, entries (malloc overhead
				excluded) */
};

/* A table of at most max_entries (>= 1) entries kept ttl_ms (>= 0) ms. lim is borrowed: its
 * max_name and max_value (each in [1, 2^30]) bound the strings. NULL when an argument is out of
 * range or memory is short. */
struct agent_labels *agent_labels_new(size_t max_entries, int64_t ttl_ms,
				      const struct conn_limits *lim);
/* Frees t and every entry. NULL is a no-op. Matches taken from t stay valid. */
void agent_labels_free(struct agent_labels *t);

/* Remembers the prediction of record r (its model, version, request_id and prediction are
 * copied) made at event time ts_ms, received at now_ms. An entry with the same (model,
 * request_id) is replaced; a new key beyond max_entries evicts the least recently remembered
 * entry. Returns 0 when kept; 1 when not applicable (no or empty request_id, an empty model, no
 * prediction, a string over its limit: nothing kept, nothing counted); -1 when memory is short
 * (nothing changed but expiry: a replaced entry stays as it was). Whether a record that already
 * carries its label should be remembered is the caller's choice. */
int agent_labels_remember(struct agent_labels *t, const struct conn_record *r, int64_t ts_ms,
			  int64_t now_ms);

/* Finds and removes the entry of (model, request_id) at receive time now_ms. Returns 0 with
 * *out filled (counted joined), or 1 with *out empty (counted unmatched). Never allocates. */
int agent_labels_take(struct agent_labels *t, const char *model, size_t model_len,
		      const char *request_id, size_t request_id_len, int64_t now_ms,
		      struct agent_label_match *out);

/* Releases what m holds and zeroes it. A zeroed m is a no-op. */
void agent_label_match_clear(struct agent_label_match *m);

/* Drops the entries remembered more than ttl_ms before now_ms (counted expired); returns how
 * many. O(expired). */
size_t agent_labels_expire(struct agent_labels *t, int64_t now_ms);

/* Fills *c. O(1). */
void agent_labels_counters(const struct agent_labels *t, struct agent_labels_counters *c);

/* ---- for tests ---- */

/* The table's hash of (model, request_id) under key: SipHash-1-3 of the 8-byte little-endian
 * model_len, the model's bytes, then the request id's bytes. */
uint64_t agent_labels_hash(const uint8_t key[16], const char *model, size_t model_len,
			   const char *request_id, size_t request_id_len);

#endif
