/*
 * hist_ref.c -- the scalar reference histogram kernels: the definition every SIMD kernel must
 * match count for count (see hist_kernel.h for the slot rules).
 *
 * slot_uniform and slot_edges are the definition; the counting goes through the same block
 * driver as the SIMD kernels (hist_run_blocks). The edge search is branch-free: a binary search
 * over the interior edges padded with +Inf to a power of two.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
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

static void uni_group(const void *ctx, const double *x, uint32_t *out)
{
	for (int i = 0; i < HIST_GROUP; i++)
		out[i] = slot_uniform(ctx, x[i]);
}

static void edge_group(const void *ctx, const double *x, uint32_t *out)
{
	for (int i = 0; i < HIST_GROUP; i++)
		out[i] = slot_edges(ctx, x[i]);
}

static void ref_uniform(uint64_t *slots, uint32_t *scratch, const struct hist_uniform_args *a,
			const double *x, size_t n)
{
	hist_run_blocks(slots, scratch, a->bins, x, n, uni_group, a);
}

static void ref_edges(uint64_t *slots, uint32_t *scratch, const struct hist_edges_args *a,
		      const double *x, size_t n)
{
	hist_run_blocks(slots, scratch, a->bins, x, n, edge_group, a);
}

const struct hist_kernel hist_kernel_ref = {
	.name = "ref",
	.uniform = ref_uniform,
	.edges = ref_edges,
};
