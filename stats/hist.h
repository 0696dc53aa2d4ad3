/*
 * hist.h -- fixed-binning histograms of doubles, filled in batches by SIMD kernels.
 *
 * Two binnings:
 *   uniform  B bins over [lo, hi): bin(x) = min(B-1, floor((x - lo) * (B / (hi - lo))))
 *            computed in IEEE double with no fused operations, identically by every kernel;
 *   edges    B+1 strictly increasing finite edges e_0 < ... < e_B: bin(x) = k with
 *            e_k <= x < e_{k+1} (pure comparisons, exact).
 * A value below the first edge (lo, e_0) is counted as underflow, a value at or above the last
 * edge (hi, e_B) -- +Inf included -- as overflow, a NaN in the nan counter: nothing is dropped.
 *
 * Counts are exposed as one array of B+3 slots:
 *   slot 0 underflow, slots 1..B the bins, slot B+1 overflow, slot B+2 NaN,
 * so that slots 0..B+1 are the B+2 "bins" a divergence compares (outliers are evidence of drift)
 * and the NaN slot stays apart (missing values are reported, not compared).
 */
#ifndef DRIFTD_STATS_HIST_H
#define DRIFTD_STATS_HIST_H

#include "stats.h"

#define STATS_HIST_MAX_BINS 65536u /* upper bound on B for both binnings */

enum stats_binning {
	STATS_BIN_UNIFORM = 1, /* [lo, hi) cut in B equal bins */
	STATS_BIN_EDGES = 2,   /* explicit sorted edges (e.g. a baseline's quantile edges) */
};

enum stats_hist_kernel {
	STATS_HIST_KERNEL_AUTO = 0,   /* the kernel chosen by stats_init() */
	STATS_HIST_KERNEL_REF = 1,    /* portable scalar reference */
	STATS_HIST_KERNEL_AVX2 = 2,   /* x86-64 AVX2 */
	STATS_HIST_KERNEL_AVX512 = 3, /* x86-64 AVX-512 F+BW+VL+DQ */
};

struct stats_hist;

/* Constructors: NULL on failure with *st set (EINVAL: lo/hi not finite, hi <= lo, B/(hi-lo) not
 * finite, bins == 0 or
 * > STATS_HIST_MAX_BINS, edges not finite or not strictly increasing, nedges < 2; ENOMEM). The
 * edges are copied. st may be NULL. */
struct stats_hist *stats_hist_new_uniform(double lo, double hi, size_t bins, enum stats_status *st);
struct stats_hist *stats_hist_new_edges(const double *edges, size_t nedges, enum stats_status *st);
struct stats_hist *stats_hist_clone(const struct stats_hist *h);
void stats_hist_free(struct stats_hist *h);

/* Bins n values with the selected kernel. O(n); never allocates; never fails. */
void stats_hist_add(struct stats_hist *h, const double *x, size_t n);

/* The same with a given kernel (for tests and benchmarks): STATS_ENOTSUP when this CPU or build
 * cannot run it; nothing is counted then. */
enum stats_status stats_hist_add_kernel(struct stats_hist *h, enum stats_hist_kernel k,
					const double *x, size_t n);

/* dst += src. STATS_EMISMATCH unless both have the same binning, bins and (bitwise) edges;
 * STATS_ERANGE if a counter would overflow (dst is then unchanged). */
enum stats_status stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src);

/* Zeroes every counter; the binning stays. */
void stats_hist_reset(struct stats_hist *h);

enum stats_binning stats_hist_binning(const struct stats_hist *h);
size_t stats_hist_bins(const struct stats_hist *h); /* B */
/* The B+1 edges (for uniform: lo + i*(hi-lo)/B, with e_B = hi exactly). */
const double *stats_hist_edges(const struct stats_hist *h);
/* The B+3 slots described above. Valid until the next call that changes h. */
const uint64_t *stats_hist_counts(const struct stats_hist *h);
uint64_t stats_hist_underflow(const struct stats_hist *h);
uint64_t stats_hist_overflow(const struct stats_hist *h);
uint64_t stats_hist_nan(const struct stats_hist *h);
/* Every value ever added, NaN included. */
uint64_t stats_hist_total(const struct stats_hist *h);

/*
 * Portable, versioned serialization (little-endian, independent of the host), for Redis and
 * baseline files. stats_hist_serialize writes at most stats_hist_serialized_max(h) bytes into
 * buf; *len receives the size written; STATS_ERANGE if cap is too small.
 * stats_hist_deserialize validates everything (magic, version, sizes, edges, trailing bytes) and
 * returns NULL with *st = EFORMAT / EVERSION / ENOMEM on bad input; it never reads past len.
 */
size_t stats_hist_serialized_max(const struct stats_hist *h);
enum stats_status stats_hist_serialize(const struct stats_hist *h, uint8_t *buf, size_t cap,
				       size_t *len);
struct stats_hist *stats_hist_deserialize(const uint8_t *buf, size_t len, enum stats_status *st);

/*
 * Equal-frequency edges from a sample (the baseline builder): NaN and +-Inf are ignored; with the
 * m finite values sorted, e_0 = min, e_k = x_(ceil(m*k/B)) (1-based order statistic in exact
 * integer arithmetic: numpy's 'inverted_cdf' quantile, except where numpy's floating-point index
 * m*(k/B) rounds up past an integer) for 0 < k < B, e_B = nextafter(max, +Inf) so that max falls in
 * the last bin (when max is DBL_MAX, e_B = DBL_MAX and those values count as overflow). Duplicate
 * edges (discrete data, point masses) are removed, so every returned edge is a data value (or the
 * last one) and strictly increasing; a constant sample gives 2 edges. edges must hold bins+1
 * doubles; *nedges receives the number written (2..bins+1). STATS_EINVAL when bins is 0 or >
 * STATS_HIST_MAX_BINS or no finite value exists; ENOMEM.
 */
enum stats_status stats_edges_quantile(const double *x, size_t n, size_t bins, double *edges,
				       size_t *nedges);

/* Kernel selection. stats_hist_kernel_supported tells whether this CPU and build can run k. */
int stats_hist_kernel_supported(enum stats_hist_kernel k);
enum stats_hist_kernel stats_hist_kernel_selected(void);
enum stats_status stats_hist_kernel_select(enum stats_hist_kernel k);
const char *stats_hist_kernel_name(enum stats_hist_kernel k); /* "ref", "avx2", "avx512", "auto" */

#endif
