/*
 * hist_avx512.c -- AVX-512 histogram kernels (compiled with CFLAGS_AVX512; called only when the
 * CPU has AVX-512 F, BW, VL and DQ).
 *
 * Each kernel computes the slots of 16 values in vector registers with exactly the reference's
 * arithmetic (hist_kernel.h) and leaves the counting to the block driver hist_run_blocks
 * (scalar increments of 4 sub-histograms: scatter with conflict detection measured slower).
 *   uniform: t = (x - lo) * scale, min(t, B-1), truncated. When every lane lies in [lo, hi)
 *            -- the common case, one mask test -- that is all; otherwise the special lanes are
 *            set to -1, B, B+1 in the double domain (exact small integers). Then + 1.
 *   edges:   the reference's branch-free binary search, 8 lanes at once, with the candidate
 *            edges of each level held in registers: levels of up to 8 candidates use one
 *            vpermpd, 16 one vpermt2pd, 32 two vpermt2pd and a blend -- so up to 64 bins no
 *            memory access happens in the search; deeper levels (B > 64) gather.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "hist_kernel.h"

#include <immintrin.h>

/* ---- uniform ---- */

struct uni_ctx {
	__m512d lo, hi, scale, top;	/* lo, hi, B / (hi - lo), B - 1 */
	__m512d v_under, v_over, v_nan; /* -1, B, B + 1: slots - 1 of the specials */
};

static inline __m256i uni_slots8(const struct uni_ctx *c, __m512d v)
{
	__m512d t = _mm512_min_pd(_mm512_mul_pd(_mm512_sub_pd(v, c->lo), c->scale), c->top);
	__mmask8 inside =
	    _mm512_mask_cmp_pd_mask(_mm512_cmp_pd_mask(v, c->lo, _CMP_GE_OQ), v, c->hi, _CMP_LT_OQ);

	if (__builtin_expect(inside != 0xff, 0)) {
		t = _mm512_mask_mov_pd(t, _mm512_cmp_pd_mask(v, c->lo, _CMP_LT_OQ), c->v_under);
		t = _mm512_mask_mov_pd(t, _mm512_cmp_pd_mask(v, c->hi, _CMP_GE_OQ), c->v_over);
		t = _mm512_mask_mov_pd(t, _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q), c->v_nan);
	}
	return _mm256_add_epi32(_mm512_cvttpd_epi32(t), _mm256_set1_epi32(1));
}

static void uni_group(const void *ctx, const double *x, uint32_t *out)
{
	const struct uni_ctx *c = ctx;

	_mm256_store_si256((__m256i *)out, uni_slots8(c, _mm512_loadu_pd(x)));
	_mm256_store_si256((__m256i *)(out + 8), uni_slots8(c, _mm512_loadu_pd(x + 8)));
}

static void avx512_uniform(uint64_t *slots, uint32_t *scratch, const struct hist_uniform_args *a,
			   const double *x, size_t n)
{
	const struct uni_ctx c = {
		.lo = _mm512_set1_pd(a->lo),
		.hi = _mm512_set1_pd(a->hi),
		.scale = _mm512_set1_pd(a->scale),
		.top = _mm512_set1_pd((double)a->bins - 1.0),
		.v_under = _mm512_set1_pd(-1.0),
		.v_over = _mm512_set1_pd((double)a->bins),
		.v_nan = _mm512_set1_pd((double)a->bins + 1.0),
	};

	hist_run_blocks(slots, scratch, a->bins, x, n, uni_group, &c);
}

/* ---- edges ---- */

/* Level lv of the search (step s = P >> (lv+1)) compares with tree[j 2s + s - 1],
 * j = pos >> log2(2s) < 2^lv. */
struct edge_ctx {
	__m512d c[6][4];       /* level lv < 6: its 2^lv candidates in up to 4 registers */
	__m512d e0, eb;	       /* first and last edge */
	__m512i v_over, v_nan; /* B + 1, B + 2 */
	const double *tree;    /* levels >= 6 gather from here */
	uint32_t levels;       /* log2 P */
};

static inline __m512i search8(const struct edge_ctx *pl, __m512d v)
{
	__m512i pos = _mm512_setzero_si512();
	uint32_t lv = 0;

	for (; lv < pl->levels && lv < 6; lv++) {
		const uint32_t shift = pl->levels - lv;
		const __m512i j = _mm512_srli_epi64(pos, shift);
		__m512d c;

		if (lv <= 3) {
			c = _mm512_permutexvar_pd(j, pl->c[lv][0]);
		} else if (lv == 4) {
			c = _mm512_permutex2var_pd(pl->c[lv][0], j, pl->c[lv][1]);
		} else {
			__m512d lo = _mm512_permutex2var_pd(pl->c[lv][0], j, pl->c[lv][1]);
			__m512d hi = _mm512_permutex2var_pd(pl->c[lv][2], j, pl->c[lv][3]);
			c = _mm512_mask_mov_pd(lo, _mm512_test_epi64_mask(j, _mm512_set1_epi64(16)),
					       hi);
		}
		pos = _mm512_mask_add_epi64(pos, _mm512_cmp_pd_mask(c, v, _CMP_LE_OQ), pos,
					    _mm512_set1_epi64((long long)1 << (shift - 1)));
	}
	for (; lv < pl->levels; lv++) {
		const long long step = (long long)1 << (pl->levels - lv - 1);
		__m512i at = _mm512_add_epi64(pos, _mm512_set1_epi64(step - 1));
		__m512d c = _mm512_i64gather_pd(at, pl->tree, 8);

		pos = _mm512_mask_add_epi64(pos, _mm512_cmp_pd_mask(c, v, _CMP_LE_OQ), pos,
					    _mm512_set1_epi64(step));
	}
	return pos;
}

static inline __m256i edge_slots8(const struct edge_ctx *c, __m512d v)
{
	__m512i k = _mm512_add_epi64(search8(c, v), _mm512_set1_epi64(1));

	k = _mm512_mask_mov_epi64(k, _mm512_cmp_pd_mask(v, c->e0, _CMP_LT_OQ),
				  _mm512_setzero_si512());
	k = _mm512_mask_mov_epi64(k, _mm512_cmp_pd_mask(v, c->eb, _CMP_GE_OQ), c->v_over);
	k = _mm512_mask_mov_epi64(k, _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q), c->v_nan);
	return _mm512_cvtepi64_epi32(k);
}

static void edge_group(const void *ctx, const double *x, uint32_t *out)
{
	const struct edge_ctx *c = ctx;

	_mm256_store_si256((__m256i *)out, edge_slots8(c, _mm512_loadu_pd(x)));
	_mm256_store_si256((__m256i *)(out + 8), edge_slots8(c, _mm512_loadu_pd(x + 8)));
}

static void avx512_edges(uint64_t *slots, uint32_t *scratch, const struct hist_edges_args *a,
			 const double *x, size_t n)
{
	struct edge_ctx c = {
		.e0 = _mm512_set1_pd(a->edges[0]),
		.eb = _mm512_set1_pd(a->edges[a->bins]),
		.v_over = _mm512_set1_epi64(a->bins + 1),
		.v_nan = _mm512_set1_epi64(a->bins + 2),
		.tree = a->tree,
		.levels = 0,
	};

	while ((1u << c.levels) < a->pow2)
		c.levels++;
	for (uint32_t lv = 0; lv < 6 && lv < c.levels; lv++) {
		double cand[32] = { 0 };
		const uint32_t s = a->pow2 >> (lv + 1);

		for (uint32_t j = 0; j < (1u << lv); j++)
			cand[j] = a->tree[j * 2 * s + s - 1];
		for (int r = 0; r < 4; r++)
			c.c[lv][r] = _mm512_loadu_pd(cand + 8 * r);
	}
	hist_run_blocks(slots, scratch, a->bins, x, n, edge_group, &c);
}

const struct hist_kernel hist_kernel_avx512 = {
	.name = "avx512",
	.uniform = avx512_uniform,
	.edges = avx512_edges,
};
