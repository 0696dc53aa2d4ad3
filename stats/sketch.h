/*
 * sketch.h -- mergeable relative-error quantile sketch (DDSketch-style) for latencies.
 *
 * A positive value x is counted in the bucket named by the top bits of its IEEE-754 encoding:
 * the 11 exponent bits and the top STATS_SKETCH_SUBBITS (6) mantissa bits, i.e. 64 log-linear
 * buckets per octave. Bucket [lo, hi) has hi/lo <= 1 + 1/64, and its representative value
 * 2 lo hi / (lo + hi) is within (hi - lo)/(hi + lo) < 0.78 % of any value in it, so every
 * quantile is within 1 % relative error of the exact one (before collapsing, see below). The
 * index is a shift of the bits: no log() per value.
 *
 * Memory is bounded: counts live in a dense window of at most max_buckets buckets (default
 * 2048, i.e. 32 octaves: 1 us .. 4000 s in seconds); when a value falls outside and the window
 * cannot grow, the lowest buckets are collapsed into the lowest kept one (the high quantiles,
 * p95/p99, keep their accuracy). Values in [0, DBL_MIN) go to a zero counter, NaN and negative
 * values to their own counters (excluded from quantiles), +Inf to an infinity counter (ranks
 * that land there answer +Inf). Nothing is dropped; the minimum and maximum are exact (-0.0
 * counts as +0.0). The counts window never exceeds max_buckets; its buffer may hold up to
 * 2 x max_buckets counters (16 bytes each) so that a sliding window rarely moves its counts.
 * The serialized format is described at the top of sketch.c and in doc/statistics.md.
 */
#ifndef DRIFTD_STATS_SKETCH_H
#define DRIFTD_STATS_SKETCH_H

#include "stats.h"

#define STATS_SKETCH_SUBBITS		 6	 /* mantissa bits in the index: 64 buckets/octave */
#define STATS_SKETCH_MAX_BUCKETS_DEFAULT 2048u	 /* 32 octaves */
#define STATS_SKETCH_MAX_BUCKETS_LIMIT	 131072u /* every positive finite double, uncollapsed */

struct stats_sketch;

/* max_buckets in [64, STATS_SKETCH_MAX_BUCKETS_LIMIT], 0 for the default. NULL on failure with
 * *st = EINVAL / ENOMEM (st may be NULL). */
struct stats_sketch *stats_sketch_new(size_t max_buckets, enum stats_status *st);
struct stats_sketch *stats_sketch_clone(const struct stats_sketch *s);
void stats_sketch_free(struct stats_sketch *s);

/* Counts n values. May grow the bucket window up to max_buckets: STATS_ENOMEM if that
 * allocation fails (the values are then still counted, collapsed into the existing window).
 * STATS_ERANGE, counting nothing, when the total would pass 2^64 - 1 (possible only after merges
 * or deserializing near-full counters). */
enum stats_status stats_sketch_add(struct stats_sketch *s, const double *x, size_t n);

/* dst += src (any max_buckets; dst's bound applies). STATS_ERANGE on counter overflow (dst is
 * unchanged), ENOMEM. merge(dst, dst) doubles everything. */
enum stats_status stats_sketch_merge(struct stats_sketch *dst, const struct stats_sketch *src);
void stats_sketch_reset(struct stats_sketch *s);

/* The q-quantile (0 <= q <= 1) of the counted values (zero, positive and +Inf; NaN and negative
 * excluded) with the 'lower' rank definition: the value of rank floor(q (N-1)) in sorted order,
 * approximated by its bucket's representative and clamped to [min, max]. A rank in the zero
 * counter answers min (0 for zeros); a rank below a collapsed window answers the lowest kept
 * bucket's value (an overestimate: collapsing sacrifices the lowest quantiles). EINVAL when q is
 * out of range or no value was counted. */
enum stats_status stats_sketch_quantile(const struct stats_sketch *s, double q, double *out);

uint64_t stats_sketch_count(const struct stats_sketch *s); /* values used for quantiles */
uint64_t stats_sketch_nan(const struct stats_sketch *s);
uint64_t stats_sketch_negative(const struct stats_sketch *s);
/* Values moved by collapsing: exact for sketches filled by add (or merged from uncollapsed
 * ones); after merging collapsed sketches an estimate, never above the values in buckets. */
uint64_t stats_sketch_collapsed(const struct stats_sketch *s);
/* Sum of the finite counted values (may overflow to +Inf; rounding depends on batching). */
double stats_sketch_sum(const struct stats_sketch *s);
double stats_sketch_min(const struct stats_sketch *s);	   /* NaN when empty */
double stats_sketch_max(const struct stats_sketch *s);	   /* NaN when empty */
size_t stats_sketch_buckets(const struct stats_sketch *s); /* current window size */

/* Portable, versioned serialization, as for stats_hist (see hist.h); canonical: one sketch has
 * exactly one encoding. On ERANGE *len receives the size needed. deserialize(NULL, len > 0)
 * gives EINVAL. */
size_t stats_sketch_serialized_max(const struct stats_sketch *s);
enum stats_status stats_sketch_serialize(const struct stats_sketch *s, uint8_t *buf, size_t cap,
					 size_t *len);
struct stats_sketch *stats_sketch_deserialize(const uint8_t *buf, size_t len,
					      enum stats_status *st);

#endif
