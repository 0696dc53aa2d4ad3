/*
 * hist_avx512.c -- AVX-512 histogram kernels (compiled with CFLAGS_AVX512; called only when the
 * CPU has AVX-512 F, BW, VL and DQ).
 *
 * 8 slots per vector with exactly the reference's arithmetic (hist_kernel.h), then scalar
 * increments of 4 sub-histograms (scatter with conflict detection measured slower here).
 *   uniform: as the AVX2 kernel, with mask registers for the special lanes.
 *   edges:   the reference's branch-free binary search, 8 lanes at once, with the candidate
 *            edges of each level held in registers: levels of up to 8 candidates use one
 *            vpermpd, 16 one vpermt2pd, 32 two vpermt2pd and a blend -- so up to 64 bins no
 *            memory access happens in the search; deeper levels (B > 64) gather.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "hist_kernel.h"

#include <immintrin.h>

/* Increments the slots of 8 lanes (int32) in the 4 sub-histograms, taking the indices out of
 * the register 64 bits at a time (a store and 8 reloads measured ~10 % slower). */
static inline void bump8(uint32_t *s0, uint32_t *s1, uint32_t *s2, uint32_t *s3, __m256i k)
{
	__m128i lo = _mm256_castsi256_si128(k), hi = _mm256_extracti128_si256(k, 1);
	uint64_t q0 = (uint64_t)_mm_cvtsi128_si64(lo), q1 = (uint64_t)_mm_extract_epi64(lo, 1);
	uint64_t q2 = (uint64_t)_mm_cvtsi128_si64(hi), q3 = (uint64_t)_mm_extract_epi64(hi, 1);

	s0[(uint32_t)q0]++;
	s1[q0 >> 32]++;
	s2[(uint32_t)q1]++;
	s3[q1 >> 32]++;
	s0[(uint32_t)q2]++;
	s1[q2 >> 32]++;
	s2[(uint32_t)q3]++;
	s3[q3 >> 32]++;
}

static void avx512_uniform(uint64_t *slots, uint32_t *scratch, const struct hist_uniform_args *a,
			   const double *x, size_t n)
{
	const size_t ns = a->bins + 3;
	uint32_t *s0 = scratch, *s1 = scratch + ns, *s2 = scratch + 2 * ns, *s3 = scratch + 3 * ns;
	const __m512d lo = _mm512_set1_pd(a->lo), hi = _mm512_set1_pd(a->hi);
	const __m512d scale = _mm512_set1_pd(a->scale);
	const __m512d top = _mm512_set1_pd((double)a->bins - 1.0);
	const __m512d v_under = _mm512_set1_pd(-1.0), v_over = _mm512_set1_pd((double)a->bins);
	const __m512d v_nan = _mm512_set1_pd((double)a->bins + 1.0);
	const __m256i one = _mm256_set1_epi32(1);

#define UNIFORM8(v, out)                                                                           \
	do {                                                                                       \
		__m512d t_ = _mm512_min_pd(_mm512_mul_pd(_mm512_sub_pd((v), lo), scale), top);     \
		t_ = _mm512_mask_mov_pd(t_, _mm512_cmp_pd_mask((v), lo, _CMP_LT_OQ), v_under);     \
		t_ = _mm512_mask_mov_pd(t_, _mm512_cmp_pd_mask((v), hi, _CMP_GE_OQ), v_over);      \
		t_ = _mm512_mask_mov_pd(t_, _mm512_cmp_pd_mask((v), (v), _CMP_UNORD_Q), v_nan);    \
		(out) = _mm256_add_epi32(_mm512_cvttpd_epi32(t_), one);                            \
	} while (0)

	while (n) {
		size_t chunk = n < HIST_FLUSH_EVERY ? n : HIST_FLUSH_EVERY, i = 0;

		for (; i + 16 <= chunk; i += 16) {
			__m256i k0, k1;

			_mm_prefetch((const char *)(x + i + HIST_PREFETCH_AHEAD), _MM_HINT_T0);
			_mm_prefetch((const char *)(x + i + HIST_PREFETCH_AHEAD + 8), _MM_HINT_T0);
			UNIFORM8(_mm512_loadu_pd(x + i), k0);
			UNIFORM8(_mm512_loadu_pd(x + i + 8), k1);
			bump8(s0, s1, s2, s3, k0);
			bump8(s0, s1, s2, s3, k1);
		}
		for (; i < chunk; i += 8) {
			/* tail lanes load NaN; their NaN counts are taken back after the flush */
			size_t left = chunk - i < 8 ? chunk - i : 8;
			__mmask8 m = (__mmask8)((1u << left) - 1);
			__m256i k;

			UNIFORM8(_mm512_mask_loadu_pd(_mm512_set1_pd(__builtin_nan("")), m, x + i),
				 k);
			bump8(s0, s1, s2, s3, k);
			if (left < 8) {
				hist_flush4(slots, scratch, ns);
				slots[a->bins + 2] -= 8 - left;
			}
		}
		hist_flush4(slots, scratch, ns);
		x += chunk;
		n -= chunk;
	}
#undef UNIFORM8
}

/* Candidate registers of the search: level lv (step s = P >> (lv+1)) compares with
 * tree[j 2s + s - 1], j = pos >> log2(2s) < 2^lv. */
struct edge_plan {
	uint32_t levels;    /* log2 P */
	__m512d c[6][4];    /* level lv < 6: its 2^lv candidates in up to 4 registers */
	const double *tree; /* levels >= 6 gather from here */
};

static inline __m512i search8(const struct edge_plan *pl, __m512d v)
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

static void avx512_edges(uint64_t *slots, uint32_t *scratch, const struct hist_edges_args *a,
			 const double *x, size_t n)
{
	const size_t ns = a->bins + 3;
	uint32_t *s0 = scratch, *s1 = scratch + ns, *s2 = scratch + 2 * ns, *s3 = scratch + 3 * ns;
	const __m512d e0 = _mm512_set1_pd(a->edges[0]), eb = _mm512_set1_pd(a->edges[a->bins]);
	const __m512i one = _mm512_set1_epi64(1), v_over = _mm512_set1_epi64(a->bins + 1);
	const __m512i v_nan = _mm512_set1_epi64(a->bins + 2);
	struct edge_plan pl = { .levels = 0, .tree = a->tree };

	while ((1u << pl.levels) < a->pow2)
		pl.levels++;
	for (uint32_t lv = 0; lv < 6 && lv < pl.levels; lv++) {
		double c[32] = { 0 };
		const uint32_t s = a->pow2 >> (lv + 1);

		for (uint32_t j = 0; j < (1u << lv); j++)
			c[j] = a->tree[j * 2 * s + s - 1];
		for (int r = 0; r < 4; r++)
			pl.c[lv][r] = _mm512_loadu_pd(c + 8 * r);
	}

#define EDGES8(v, out)                                                                             \
	do {                                                                                       \
		__m512i k_ = _mm512_add_epi64(search8(&pl, (v)), one);                             \
		k_ = _mm512_mask_mov_epi64(k_, _mm512_cmp_pd_mask((v), e0, _CMP_LT_OQ),            \
					   _mm512_setzero_si512());                                \
		k_ = _mm512_mask_mov_epi64(k_, _mm512_cmp_pd_mask((v), eb, _CMP_GE_OQ), v_over);   \
		k_ = _mm512_mask_mov_epi64(k_, _mm512_cmp_pd_mask((v), (v), _CMP_UNORD_Q), v_nan); \
		(out) = _mm512_cvtepi64_epi32(k_);                                                 \
	} while (0)

	while (n) {
		size_t chunk = n < HIST_FLUSH_EVERY ? n : HIST_FLUSH_EVERY, i = 0;

		for (; i + 16 <= chunk; i += 16) {
			__m256i k0, k1;

			_mm_prefetch((const char *)(x + i + HIST_PREFETCH_AHEAD), _MM_HINT_T0);
			_mm_prefetch((const char *)(x + i + HIST_PREFETCH_AHEAD + 8), _MM_HINT_T0);
			EDGES8(_mm512_loadu_pd(x + i), k0);
			EDGES8(_mm512_loadu_pd(x + i + 8), k1);
			bump8(s0, s1, s2, s3, k0);
			bump8(s0, s1, s2, s3, k1);
		}
		for (; i < chunk; i += 8) {
			size_t left = chunk - i < 8 ? chunk - i : 8;
			__mmask8 m = (__mmask8)((1u << left) - 1);
			__m256i k;

			EDGES8(_mm512_mask_loadu_pd(_mm512_set1_pd(__builtin_nan("")), m, x + i),
			       k);
			bump8(s0, s1, s2, s3, k);
			if (left < 8) {
				hist_flush4(slots, scratch, ns);
				slots[a->bins + 2] -= 8 - left;
			}
		}
		hist_flush4(slots, scratch, ns);
		x += chunk;
		n -= chunk;
	}
#undef EDGES8
}

const struct hist_kernel hist_kernel_avx512 = {
	.name = "avx512",
	.uniform = avx512_uniform,
	.edges = avx512_edges,
};
