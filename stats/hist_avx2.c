/*
 * hist_avx2.c -- AVX2 histogram kernels (compiled with CFLAGS_AVX2; called only when the CPU
 * has AVX2, FMA and BMI2).
 *
 * Each kernel computes the slots of 4 values at a time in vector registers with exactly the
 * reference's arithmetic (hist_kernel.h) and leaves the counting to the block driver
 * hist_run_blocks (scalar increments of 4 sub-histograms).
 *   uniform: t = (x - lo) * scale, min(t, B-1); when a lane lies outside [lo, hi) the special
 *            lanes are set to -1, B, B+1 in the double domain (exact small integers);
 *            truncated, + 1.
 *   edges:   the branch-free binary search of the reference, 4 lanes at once; a level with at
 *            most 4 candidate edges picks them from a register (vpermd), deeper levels gather.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "hist_kernel.h"

#include <immintrin.h>

/* ---- uniform ---- */

struct uni_ctx {
	__m256d lo, hi, scale, top;	/* lo, hi, B / (hi - lo), B - 1 */
	__m256d v_under, v_over, v_nan; /* -1, B, B + 1: slots - 1 of the specials */
};

static inline __m128i uni_slots4(const struct uni_ctx *c, __m256d v)
{
	__m256d t = _mm256_min_pd(_mm256_mul_pd(_mm256_sub_pd(v, c->lo), c->scale), c->top);
	__m256d inside =
	    _mm256_and_pd(_mm256_cmp_pd(v, c->lo, _CMP_GE_OQ), _mm256_cmp_pd(v, c->hi, _CMP_LT_OQ));

	if (__builtin_expect(_mm256_movemask_pd(inside) != 0xf, 0)) {
		t = _mm256_blendv_pd(t, c->v_under, _mm256_cmp_pd(v, c->lo, _CMP_LT_OQ));
		t = _mm256_blendv_pd(t, c->v_over, _mm256_cmp_pd(v, c->hi, _CMP_GE_OQ));
		t = _mm256_blendv_pd(t, c->v_nan, _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
	}
	return _mm_add_epi32(_mm256_cvttpd_epi32(t), _mm_set1_epi32(1));
}

static void uni_group(const void *ctx, const double *x, uint32_t *out)
{
	const struct uni_ctx *c = ctx;

	for (int g = 0; g < HIST_GROUP; g += 4)
		_mm_store_si128((__m128i *)(out + g), uni_slots4(c, _mm256_loadu_pd(x + g)));
}

static void avx2_uniform(uint64_t *slots, uint32_t *scratch, const struct hist_uniform_args *a,
			 const double *x, size_t n)
{
	const struct uni_ctx c = {
		.lo = _mm256_set1_pd(a->lo),
		.hi = _mm256_set1_pd(a->hi),
		.scale = _mm256_set1_pd(a->scale),
		.top = _mm256_set1_pd((double)a->bins - 1.0),
		.v_under = _mm256_set1_pd(-1.0),
		.v_over = _mm256_set1_pd((double)a->bins),
		.v_nan = _mm256_set1_pd((double)a->bins + 1.0),
	};

	hist_run_blocks(slots, scratch, a->bins, x, n, uni_group, &c);
}

/* ---- edges ---- */

struct edge_ctx {
	__m256i cand[3];       /* levels with 1, 2, 4 candidates, as registers */
	__m256d e0, eb;	       /* first and last edge */
	__m256i v_over, v_nan; /* B + 1, B + 2 */
	const double *tree;    /* deeper levels gather from here */
	uint32_t levels;       /* log2 P */
};

/* One level of the search where the candidates c_j = tree[j 2s + s - 1], j < 4, sit in a
 * register: j = pos >> log2(2s) selects them with a 32-bit permute of (2j, 2j+1) pairs. */
static inline __m256d pick4(__m256i cand, __m256i j)
{
	__m256i idx = _mm256_or_si256(_mm256_slli_epi64(j, 1), _mm256_slli_epi64(j, 33));

	idx = _mm256_add_epi64(idx, _mm256_set1_epi64x((long long)1 << 32));
	return _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(cand, idx));
}

static inline __m256i search4(const struct edge_ctx *pl, __m256d v)
{
	__m256i pos = _mm256_setzero_si256();
	uint32_t lv = 0;

	/* level lv has step s = P >> (lv+1) and 2^lv candidates */
	for (; lv < pl->levels && lv < 3; lv++) {
		const uint32_t shift = pl->levels - lv; /* log2(2s) */
		const long long step = (long long)1 << (shift - 1);
		__m256d c = pick4(pl->cand[lv], _mm256_srli_epi64(pos, (int)shift));
		__m256d le = _mm256_cmp_pd(c, v, _CMP_LE_OQ);

		pos = _mm256_add_epi64(
		    pos, _mm256_and_si256(_mm256_castpd_si256(le), _mm256_set1_epi64x(step)));
	}
	for (; lv < pl->levels; lv++) {
		const long long step = (long long)1 << (pl->levels - lv - 1);
		__m256i at = _mm256_add_epi64(pos, _mm256_set1_epi64x(step - 1));
		__m256d c = _mm256_i64gather_pd(pl->tree, at, 8);
		__m256d le = _mm256_cmp_pd(c, v, _CMP_LE_OQ);

		pos = _mm256_add_epi64(
		    pos, _mm256_and_si256(_mm256_castpd_si256(le), _mm256_set1_epi64x(step)));
	}
	return pos;
}

static inline __m128i edge_slots4(const struct edge_ctx *c, __m256d v)
{
	__m256i k = _mm256_add_epi64(search4(c, v), _mm256_set1_epi64x(1));

	k = _mm256_andnot_si256(_mm256_castpd_si256(_mm256_cmp_pd(v, c->e0, _CMP_LT_OQ)), k);
	k = _mm256_blendv_epi8(k, c->v_over,
			       _mm256_castpd_si256(_mm256_cmp_pd(v, c->eb, _CMP_GE_OQ)));
	k = _mm256_blendv_epi8(k, c->v_nan, _mm256_castpd_si256(_mm256_cmp_pd(v, v, _CMP_UNORD_Q)));
	/* the low 32 bits of the 4 lanes */
	k = _mm256_permutevar8x32_epi32(k, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
	return _mm256_castsi256_si128(k);
}

static void edge_group(const void *ctx, const double *x, uint32_t *out)
{
	const struct edge_ctx *c = ctx;

	for (int g = 0; g < HIST_GROUP; g += 4)
		_mm_store_si128((__m128i *)(out + g), edge_slots4(c, _mm256_loadu_pd(x + g)));
}

static void avx2_edges(uint64_t *slots, uint32_t *scratch, const struct hist_edges_args *a,
		       const double *x, size_t n)
{
	struct edge_ctx c = {
		.e0 = _mm256_set1_pd(a->edges[0]),
		.eb = _mm256_set1_pd(a->edges[a->bins]),
		.v_over = _mm256_set1_epi64x(a->bins + 1),
		.v_nan = _mm256_set1_epi64x(a->bins + 2),
		.tree = a->tree,
		.levels = 0,
	};

	while ((1u << c.levels) < a->pow2)
		c.levels++;
	for (uint32_t lv = 0; lv < 3 && lv < c.levels; lv++) {
		double cand[4] = { 0, 0, 0, 0 };
		const uint32_t s = a->pow2 >> (lv + 1);

		for (uint32_t j = 0; j < (1u << lv); j++)
			cand[j] = a->tree[j * 2 * s + s - 1];
		c.cand[lv] = _mm256_castpd_si256(_mm256_loadu_pd(cand));
	}
	hist_run_blocks(slots, scratch, a->bins, x, n, edge_group, &c);
}

const struct hist_kernel hist_kernel_avx2 = {
	.name = "avx2",
	.uniform = avx2_uniform,
	.edges = avx2_edges,
};
