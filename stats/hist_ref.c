/*
 * hist_ref.c -- the scalar reference histogram kernels: the definition every SIMD kernel must
 * match count for count (see hist_kernel.h for the slot rules).
 *
 * Still written for speed: the uniform kernel spreads consecutive values over 4 sub-histograms
 * so that runs of equal bins do not serialise on one counter, and the edge kernel is a
 * branch-free binary search over the interior edges padded to a power of two.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "hist_kernel.h"

static inline uint32_t slot_uniform(const struct hist_uniform_args *a, double x)
{
	uint32_t k;

	if (x != x)
		return a->bins + 2;
	if (x < a->lo)
		return 0;
	if (x >= a->hi)
		return a->bins + 1;
	k = (uint32_t)((x - a->lo) * a->scale);
	return 1 + (k < a->bins - 1 ? k : a->bins - 1);
}

static inline uint32_t slot_edges(const struct hist_edges_args *a, double x)
{
	uint32_t pos = 0;

	if (x != x)
		return a->bins + 2;
	if (x < a->edges[0])
		return 0;
	if (x >= a->edges[a->bins])
		return a->bins + 1;
	/* pos = #{interior edges <= x}: the tree holds P-1 sorted entries (+Inf padded) */
	for (uint32_t step = a->pow2 >> 1; step; step >>= 1)
		pos += (a->tree[pos + step - 1] <= x) ? step : 0;
	return 1 + pos;
}

static void ref_uniform(uint64_t *slots, uint32_t *scratch, const struct hist_uniform_args *a,
			const double *x, size_t n)
{
	const size_t ns = a->bins + 3;
	uint32_t *s0 = scratch, *s1 = scratch + ns, *s2 = scratch + 2 * ns, *s3 = scratch + 3 * ns;

	while (n) {
		size_t chunk = n < HIST_FLUSH_EVERY ? n : HIST_FLUSH_EVERY, i = 0;

		for (; i + 4 <= chunk; i += 4) {
			if ((i & 7) == 0)
				__builtin_prefetch(x + i + HIST_PREFETCH_AHEAD);
			s0[slot_uniform(a, x[i])]++;
			s1[slot_uniform(a, x[i + 1])]++;
			s2[slot_uniform(a, x[i + 2])]++;
			s3[slot_uniform(a, x[i + 3])]++;
		}
		for (; i < chunk; i++)
			s0[slot_uniform(a, x[i])]++;
		hist_flush4(slots, scratch, ns);
		x += chunk;
		n -= chunk;
	}
}

static void ref_edges(uint64_t *slots, uint32_t *scratch, const struct hist_edges_args *a,
		      const double *x, size_t n)
{
	const size_t ns = a->bins + 3;
	uint32_t *s0 = scratch, *s1 = scratch + ns, *s2 = scratch + 2 * ns, *s3 = scratch + 3 * ns;

	while (n) {
		size_t chunk = n < HIST_FLUSH_EVERY ? n : HIST_FLUSH_EVERY, i = 0;

		for (; i + 4 <= chunk; i += 4) {
			if ((i & 7) == 0)
				__builtin_prefetch(x + i + HIST_PREFETCH_AHEAD);
			s0[slot_edges(a, x[i])]++;
			s1[slot_edges(a, x[i + 1])]++;
			s2[slot_edges(a, x[i + 2])]++;
			s3[slot_edges(a, x[i + 3])]++;
		}
		for (; i < chunk; i++)
			s0[slot_edges(a, x[i])]++;
		hist_flush4(slots, scratch, ns);
		x += chunk;
		n -= chunk;
	}
}

const struct hist_kernel hist_kernel_ref = {
	.name = "ref",
	.uniform = ref_uniform,
	.edges = ref_edges,
};
