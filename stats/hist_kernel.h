/*
 * hist_kernel.h -- internal: the histogram kernels and their dispatch table.
 *
 * A kernel bins n doubles into the B+3 slots of hist.h (0 underflow, 1..B bins, B+1 overflow,
 * B+2 NaN) by adding to `slots`. Every kernel must give exactly the counts of the reference
 * (hist_ref.c) for every input: tests/unit/stats/test_hist.c checks it.
 *
 * The uniform kernels get lo, hi, the scale B/(hi-lo) and B; the slot of x is
 *   NaN -> B+2;  x < lo -> 0;  x >= hi -> B+1;  else 1 + min(B-1, (int)((x - lo) * scale)).
 * The edge kernels get the B+1 edges e_0..e_B and, for the branch-free search, the B-1 interior
 * edges padded with +Inf to a power of two P >= B (`tree`, P-1 entries used, P >= 1):
 *   NaN -> B+2;  x < e_0 -> 0;  x >= e_B -> B+1;  else 1 + #{interior edges <= x}.
 */
#ifndef DRIFTD_STATS_HIST_KERNEL_H
#define DRIFTD_STATS_HIST_KERNEL_H

#include "stats.h"

struct hist_uniform_args {
	double lo, hi, scale; /* scale = B / (hi - lo) */
	uint32_t bins;	      /* B */
};

struct hist_edges_args {
	const double *edges; /* B+1 strictly increasing finite edges */
	const double *tree;  /* interior edges e_1..e_{B-1}, then +Inf up to P-1 entries */
	uint32_t bins;	     /* B */
	uint32_t pow2;	     /* P: power of two >= B */
};

/* scratch: 4 * (B+3) uint32 counters the kernel may use as sub-histograms (zero on entry, to be
 * left zero on return); n may be any size (kernels flush before 32-bit counters could wrap). */
typedef void (*hist_uniform_fn)(uint64_t *slots, uint32_t *scratch,
				const struct hist_uniform_args *a, const double *x, size_t n);
typedef void (*hist_edges_fn)(uint64_t *slots, uint32_t *scratch, const struct hist_edges_args *a,
			      const double *x, size_t n);

struct hist_kernel {
	const char *name;
	hist_uniform_fn uniform;
	hist_edges_fn edges;
};

extern const struct hist_kernel hist_kernel_ref;
#ifdef HAVE_HIST_AVX2
extern const struct hist_kernel hist_kernel_avx2;
#endif
#ifdef HAVE_HIST_AVX512
extern const struct hist_kernel hist_kernel_avx512;
#endif

/* The kernel for k (AUTO: the selected one); NULL if unsupported. */
const struct hist_kernel *hist_kernel_get(int k);
enum stats_status stats_hist_kernel_init(void);

/* Doubles ahead of the current position that the kernels prefetch (2 KiB): binning a column
 * streamed from DRAM measured twice as fast with it, cached columns lose nothing. */
#define HIST_PREFETCH_AHEAD 256

/* Values per flush of the 32-bit sub-histograms: far below 2^32 / 4. */
#define HIST_FLUSH_EVERY ((size_t)1 << 28)

/* Adds the 4 sub-histograms of scratch to slots and zeroes them. */
static inline void hist_flush4(uint64_t *slots, uint32_t *scratch, size_t nslots)
{
	for (size_t i = 0; i < nslots; i++) {
		slots[i] += (uint64_t)scratch[i] + scratch[nslots + i] + scratch[2 * nslots + i] +
			    scratch[3 * nslots + i];
		scratch[i] = scratch[nslots + i] = scratch[2 * nslots + i] =
		    scratch[3 * nslots + i] = 0;
	}
}

#endif
