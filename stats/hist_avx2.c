/*
 * hist_avx2.c -- AVX2 histogram kernels (compiled with CFLAGS_AVX2; called only when the CPU
 * has AVX2, FMA and BMI2).
 *
 * Both kernels compute 4 slots at a time in vector registers with exactly the reference's
 * arithmetic (hist_kernel.h), then increment 4 sub-histograms with scalar adds: vector
 * scatter/conflict detection is slower than this for counting.
 *   uniform: t = (x - lo) * scale, min(t, B-1), special lanes blended to -1, B, B+1 in the
 *            double domain (exact small integers), truncated, + 1.
 *   edges:   the branch-free binary search of the reference, 4 lanes at once; a level with at
 *            most 4 candidate edges picks them from a register (vpermd), deeper levels gather.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "hist_kernel.h"

#include <immintrin.h>

/* Increments the slots of 4 lanes (int32) in the 4 sub-histograms, indices taken out of the
 * register 64 bits at a time. */
static inline void bump4(uint32_t *s0, uint32_t *s1, uint32_t *s2, uint32_t *s3, __m128i k)
{
	uint64_t q0 = (uint64_t)_mm_cvtsi128_si64(k), q1 = (uint64_t)_mm_extract_epi64(k, 1);

	s0[(uint32_t)q0]++;
	s1[q0 >> 32]++;
	s2[(uint32_t)q1]++;
	s3[q1 >> 32]++;
}

static void avx2_uniform(uint64_t *slots, uint32_t *scratch, const struct hist_uniform_args *a,
			 const double *x, size_t n)
{
	const size_t ns = a->bins + 3;
	uint32_t *s0 = scratch, *s1 = scratch + ns, *s2 = scratch + 2 * ns, *s3 = scratch + 3 * ns;
	const __m256d lo = _mm256_set1_pd(a->lo), hi = _mm256_set1_pd(a->hi);
	const __m256d scale = _mm256_set1_pd(a->scale);
	const __m256d top = _mm256_set1_pd((double)a->bins - 1.0);
	const __m256d v_under = _mm256_set1_pd(-1.0), v_over = _mm256_set1_pd((double)a->bins);
	const __m256d v_nan = _mm256_set1_pd((double)a->bins + 1.0);
	const __m128i one = _mm_set1_epi32(1);

#define UNIFORM4(v, out)                                                                           \
	do {                                                                                       \
		__m256d t_ = _mm256_min_pd(_mm256_mul_pd(_mm256_sub_pd((v), lo), scale), top);     \
		t_ = _mm256_blendv_pd(t_, v_under, _mm256_cmp_pd((v), lo, _CMP_LT_OQ));            \
		t_ = _mm256_blendv_pd(t_, v_over, _mm256_cmp_pd((v), hi, _CMP_GE_OQ));             \
		t_ = _mm256_blendv_pd(t_, v_nan, _mm256_cmp_pd((v), (v), _CMP_UNORD_Q));           \
		(out) = _mm_add_epi32(_mm256_cvttpd_epi32(t_), one);                               \
	} while (0)

	while (n) {
		size_t chunk = n < HIST_FLUSH_EVERY ? n : HIST_FLUSH_EVERY, i = 0;

		for (; i + 8 <= chunk; i += 8) {
			__m128i k0, k1;

			_mm_prefetch((const char *)(x + i + HIST_PREFETCH_AHEAD), _MM_HINT_T0);
			UNIFORM4(_mm256_loadu_pd(x + i), k0);
			UNIFORM4(_mm256_loadu_pd(x + i + 4), k1);
			bump4(s0, s1, s2, s3, k0);
			bump4(s0, s1, s2, s3, k1);
		}
		if (i < chunk) {
			/* tail: pad with NaN, then take the NaN slot's extra counts back */
			double tail[8];
			uint32_t pad = (uint32_t)(i + 8 - chunk);
			__m128i k0, k1;

			for (size_t j = 0; j < 8; j++)
				tail[j] = i + j < chunk ? x[i + j] : __builtin_nan("");
			UNIFORM4(_mm256_loadu_pd(tail), k0);
			UNIFORM4(_mm256_loadu_pd(tail + 4), k1);
			bump4(s0, s1, s2, s3, k0);
			bump4(s0, s1, s2, s3, k1);
			hist_flush4(slots, scratch, ns);
			slots[a->bins + 2] -= pad;
		}
		hist_flush4(slots, scratch, ns);
		x += chunk;
		n -= chunk;
	}
#undef UNIFORM4
}

/* One level of the search where the candidates c_j = tree[j 2s + s - 1], j < 4, sit in a
 * register: j = pos >> log2(2s) selects them with a 32-bit permute of (2j, 2j+1) pairs. */
static inline __m256d pick4(__m256i cand, __m256i j)
{
	__m256i idx = _mm256_or_si256(_mm256_slli_epi64(j, 1), _mm256_slli_epi64(j, 33));

	idx = _mm256_add_epi64(idx, _mm256_set1_epi64x((long long)1 << 32));
	return _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(cand, idx));
}

struct edge_plan {
	uint32_t levels;    /* log2 P */
	__m256i cand[3];    /* levels with 1, 2, 4 candidates, as registers */
	const double *tree; /* for gathered levels */
};

static inline __m256i search4(const struct edge_plan *pl, __m256d v)
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

static void avx2_edges(uint64_t *slots, uint32_t *scratch, const struct hist_edges_args *a,
		       const double *x, size_t n)
{
	const size_t ns = a->bins + 3;
	uint32_t *s0 = scratch, *s1 = scratch + ns, *s2 = scratch + 2 * ns, *s3 = scratch + 3 * ns;
	const __m256d e0 = _mm256_set1_pd(a->edges[0]), eb = _mm256_set1_pd(a->edges[a->bins]);
	const __m256i one = _mm256_set1_epi64x(1), v_over = _mm256_set1_epi64x(a->bins + 1);
	const __m256i v_nan = _mm256_set1_epi64x(a->bins + 2);
	struct edge_plan pl = { .levels = 0, .tree = a->tree };

	while ((1u << pl.levels) < a->pow2)
		pl.levels++;
	for (uint32_t lv = 0; lv < 3 && lv < pl.levels; lv++) {
		double c[4] = { 0, 0, 0, 0 };
		const uint32_t s = a->pow2 >> (lv + 1);

		for (uint32_t j = 0; j < (1u << lv); j++)
			c[j] = a->tree[j * 2 * s + s - 1];
		pl.cand[lv] = _mm256_castpd_si256(_mm256_loadu_pd(c));
	}

#define EDGES4(v, out)                                                                             \
	do {                                                                                       \
		__m256i k_ = _mm256_add_epi64(search4(&pl, (v)), one);                             \
		k_ = _mm256_andnot_si256(_mm256_castpd_si256(_mm256_cmp_pd((v), e0, _CMP_LT_OQ)),  \
					 k_);                                                      \
		k_ = _mm256_blendv_epi8(k_, v_over,                                                \
					_mm256_castpd_si256(_mm256_cmp_pd((v), eb, _CMP_GE_OQ)));  \
		k_ = _mm256_blendv_epi8(                                                           \
		    k_, v_nan, _mm256_castpd_si256(_mm256_cmp_pd((v), (v), _CMP_UNORD_Q)));        \
		(out) = k_;                                                                        \
	} while (0)

	while (n) {
		size_t chunk = n < HIST_FLUSH_EVERY ? n : HIST_FLUSH_EVERY, i = 0;

		for (; i + 4 <= chunk; i += 4) {
			__m256i k;

			if ((i & 7) == 0)
				_mm_prefetch((const char *)(x + i + HIST_PREFETCH_AHEAD),
					     _MM_HINT_T0);
			EDGES4(_mm256_loadu_pd(x + i), k);
			s0[(uint64_t)_mm256_extract_epi64(k, 0)]++;
			s1[(uint64_t)_mm256_extract_epi64(k, 1)]++;
			s2[(uint64_t)_mm256_extract_epi64(k, 2)]++;
			s3[(uint64_t)_mm256_extract_epi64(k, 3)]++;
		}
		if (i < chunk) {
			double tail[4];
			uint32_t pad = (uint32_t)(i + 4 - chunk);
			__m256i k;

			for (size_t j = 0; j < 4; j++)
				tail[j] = i + j < chunk ? x[i + j] : __builtin_nan("");
			EDGES4(_mm256_loadu_pd(tail), k);
			s0[(uint64_t)_mm256_extract_epi64(k, 0)]++;
			s1[(uint64_t)_mm256_extract_epi64(k, 1)]++;
			s2[(uint64_t)_mm256_extract_epi64(k, 2)]++;
			s3[(uint64_t)_mm256_extract_epi64(k, 3)]++;
			hist_flush4(slots, scratch, ns);
			slots[a->bins + 2] -= pad;
		}
		hist_flush4(slots, scratch, ns);
		x += chunk;
		n -= chunk;
	}
#undef EDGES4
}

const struct hist_kernel hist_kernel_avx2 = {
	.name = "avx2",
	.uniform = avx2_uniform,
	.edges = avx2_edges,
};
