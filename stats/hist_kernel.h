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

/* ---- the two-pass block driver of the SIMD kernels ----
 * For each block of HIST_BLOCK values, a kernel's group function computes the slots of
 * HIST_GROUP consecutive values at a time into an L1 buffer (vector stores), then one tight loop
 * increments 4 sub-histograms from the buffer. Measured faster than incrementing straight from
 * the vector registers (uniform, 64 bins: ~2,300 vs ~1,450 M values/s in cache). The tail (fewer
 * than HIST_GROUP values) goes through a NaN-padded copy, and only its real values are counted. */
#define HIST_GROUP 16
#define HIST_BLOCK 256

/* Writes the slots of x[0..HIST_GROUP) into out[0..HIST_GROUP). */
typedef void (*hist_group_fn)(const void *ctx, const double *x, uint32_t *out);

static inline __attribute__((always_inline)) void
hist_run_blocks(uint64_t *slots, uint32_t *scratch, uint32_t bins, const double *x, size_t n,
		hist_group_fn group, const void *ctx)
{
	const size_t ns = (size_t)bins + 3;
	uint32_t *s0 = scratch, *s1 = scratch + ns, *s2 = scratch + 2 * ns, *s3 = scratch + 3 * ns;
	uint32_t buf[HIST_BLOCK] __attribute__((aligned(64)));

	while (n) {
		size_t chunk = n < HIST_FLUSH_EVERY ? n : HIST_FLUSH_EVERY, i = 0;

		for (; i + HIST_BLOCK <= chunk; i += HIST_BLOCK) {
			for (size_t j = 0; j < HIST_BLOCK; j += HIST_GROUP) {
				__builtin_prefetch(x + i + j + HIST_PREFETCH_AHEAD);
				__builtin_prefetch(x + i + j + HIST_PREFETCH_AHEAD + 8);
				group(ctx, x + i + j, buf + j);
			}
			for (size_t j = 0; j < HIST_BLOCK; j += 4) {
				s0[buf[j]]++;
				s1[buf[j + 1]]++;
				s2[buf[j + 2]]++;
				s3[buf[j + 3]]++;
			}
		}
		for (; i < chunk; i += HIST_GROUP) {
			size_t left = chunk - i < HIST_GROUP ? chunk - i : HIST_GROUP;
			double tail[HIST_GROUP];

			for (size_t j = 0; j < HIST_GROUP; j++)
				tail[j] = j < left ? x[i + j] : __builtin_nan("");
			group(ctx, tail, buf);
			for (size_t j = 0; j < left; j++)
				s0[buf[j]]++;
		}
		hist_flush4(slots, scratch, ns);
		x += chunk;
		n -= chunk;
	}
}

#endif
