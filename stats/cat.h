/*
 * cat.h -- counts of a categorical feature: values interned up to a bound, the rest in
 * __other__.
 *
 * A value is a byte string (the agent passes JSON strings and "true"/"false"). The first
 * max_values distinct values seen are interned (copied once, then looked up by hash); every
 * later new value, every value longer than STATS_CAT_MAX_VALUE_LEN bytes, and the literal
 * "__other__" itself are counted in the __other__ bucket. Memory is bounded by
 * max_values * (STATS_CAT_MAX_VALUE_LEN + overhead). The comparison with a baseline uses the
 * baseline's categories plus __other__: stats_cat_align.
 */
#ifndef DRIFTD_STATS_CAT_H
#define DRIFTD_STATS_CAT_H

#include "stats.h"

#define STATS_CAT_MAX_VALUES_DEFAULT 256u
#define STATS_CAT_MAX_VALUES_LIMIT   65536u
#define STATS_CAT_MAX_VALUE_LEN	     256u
#define STATS_CAT_OTHER		     "__other__"

struct stats_cat;

/* max_values in [1, STATS_CAT_MAX_VALUES_LIMIT], 0 for the default (256). NULL on failure with
 * *st = EINVAL / ENOMEM (st may be NULL). Storage grows on demand up to what max_values allows
 * (at most about max_values * (STATS_CAT_MAX_VALUE_LEN + 50) bytes), then never again. */
struct stats_cat *stats_cat_new(size_t max_values, enum stats_status *st);
struct stats_cat *stats_cat_clone(const struct stats_cat *c);
void stats_cat_free(struct stats_cat *c);

/* Counts `count` occurrences of the value s[0..len) (not NUL-terminated; any bytes; s may be
 * NULL when len is 0). Returns the index of the category counted (0..size-1) or
 * STATS_CAT_OTHER_INDEX for __other__. O(len). Never fails: a value that cannot be interned
 * (bound reached, too long, "__other__", or no memory) is counted in __other__; counters
 * saturate at UINT64_MAX instead of wrapping. count 0 still interns the value. */
#define STATS_CAT_OTHER_INDEX ((size_t)-1)
size_t stats_cat_add(struct stats_cat *c, const char *s, size_t len, uint64_t count);

/* Index of an interned value, or STATS_CAT_OTHER_INDEX. */
size_t stats_cat_find(const struct stats_cat *c, const char *s, size_t len);

size_t stats_cat_size(const struct stats_cat *c); /* interned values, in first-seen order */
size_t stats_cat_max_values(const struct stats_cat *c);
/* The i-th value (NUL-terminated; *len its length, it may contain NUL bytes), valid until the
 * next call that changes c. i == STATS_CAT_OTHER_INDEX gives "__other__"; i >= size gives
 * NULL with *len = 0. stats_cat_count likewise (0 for i >= size). */
const char *stats_cat_value(const struct stats_cat *c, size_t i, size_t *len);
uint64_t stats_cat_count(const struct stats_cat *c, size_t i);
uint64_t stats_cat_other(const struct stats_cat *c);
uint64_t stats_cat_total(const struct stats_cat *c);

/* Zeroes counts and forgets every interned value (the memory is kept for reuse). */
void stats_cat_reset(struct stats_cat *c);

/* dst += src by value (values new to dst are interned while room remains, otherwise counted in
 * dst's __other__). STATS_ERANGE on counter overflow, ENOMEM: dst unchanged in both cases.
 * dst == src doubles every count. */
enum stats_status stats_cat_merge(struct stats_cat *dst, const struct stats_cat *src);

/* Aligns live counts on the baseline's categories: for i < size(base), live_out[i] and
 * base_out[i] are the counts of base's i-th value; slot size(base) is __other__ (live values
 * unknown to the baseline, plus both __other__ buckets). cap must be >= size(base) + 1;
 * *k receives size(base) + 1, also on EINVAL (cap too small; the outputs
 * are then untouched), so a caller learns the capacity it needs. live == base is allowed. */
enum stats_status stats_cat_align(const struct stats_cat *live, const struct stats_cat *base,
				  uint64_t *live_out, uint64_t *base_out, size_t cap, size_t *k);

/* Portable, versioned serialization, as for stats_hist (see hist.h); on ERANGE *len = 0. */
size_t stats_cat_serialized_max(const struct stats_cat *c);
enum stats_status stats_cat_serialize(const struct stats_cat *c, uint8_t *buf, size_t cap,
				      size_t *len);
struct stats_cat *stats_cat_deserialize(const uint8_t *buf, size_t len, enum stats_status *st);

#endif
