/*
 * test_hist.c -- histograms: every kernel the CPU supports gives exactly the counts of the
 * reference, and the reference gives exactly the counts of a naive oracle written here from the
 * documented definition (hist.h): random data, NaN, +-Inf, +-0, denormals, DBL_MAX, values on and
 * one ulp around every edge, unaligned starts, lengths 0, 1, 7, 8, 9, 15, 16, 17 and 1e6.
 * Then merge, reset, clone, serialization and its malformed inputs, and kernel selection.
 */
#include "stats/hist.h"
#include "testutil.h"

#include <float.h>
#include <string.h>

static const enum stats_hist_kernel kernels[] = { STATS_HIST_KERNEL_REF, STATS_HIST_KERNEL_AVX2,
						  STATS_HIST_KERNEL_AVX512 };

/* ---- the oracle: the definition, written plainly ---- */

static size_t oracle_slot(const struct stats_hist *h, double x)
{
	size_t b = stats_hist_bins(h);
	const double *e = stats_hist_edges(h);

	if (isnan(x))
		return b + 2;
	if (stats_hist_binning(h) == STATS_BIN_UNIFORM) {
		double lo = e[0], hi = e[b];
		double k;

		if (x < lo)
			return 0;
		if (x >= hi)
			return b + 1;
		k = floor((x - lo) * ((double)b / (hi - lo)));
		return 1 + (k < (double)(b - 1) ? (size_t)k : b - 1);
	}
	if (x < e[0])
		return 0;
	if (x >= e[b])
		return b + 1;
	for (size_t k = 0; k < b; k++)
		if (e[k] <= x && x < e[k + 1])
			return k + 1;
	fail_msg("oracle: no bin for %.17g", x);
	return 0;
}

static void check_against_oracle(const struct stats_hist *proto, const double *x, size_t n)
{
	struct stats_hist *ref = stats_hist_clone(proto);
	size_t ns = stats_hist_bins(proto) + 3;
	uint64_t *want = calloc(ns, sizeof *want);

	assert_non_null(ref);
	assert_non_null(want);
	for (size_t i = 0; i < n; i++)
		want[oracle_slot(proto, x[i])]++;
	assert_int_equal(stats_hist_add_kernel(ref, STATS_HIST_KERNEL_REF, x, n), STATS_OK);
	for (size_t s = 0; s < ns; s++)
		if (stats_hist_counts(ref)[s] != want[s])
			fail_msg("ref slot %zu: %llu, oracle %llu (n=%zu bins=%zu)", s,
				 (unsigned long long)stats_hist_counts(ref)[s],
				 (unsigned long long)want[s], n, ns - 3);

	for (size_t k = 1; k < sizeof kernels / sizeof *kernels; k++) {
		struct stats_hist *h;

		if (!stats_hist_kernel_supported(kernels[k]))
			continue;
		h = stats_hist_clone(proto);
		assert_non_null(h);
		assert_int_equal(stats_hist_add_kernel(h, kernels[k], x, n), STATS_OK);
		for (size_t s = 0; s < ns; s++)
			if (stats_hist_counts(h)[s] != want[s])
				fail_msg("%s slot %zu: %llu, want %llu (n=%zu bins=%zu %s)",
					 stats_hist_kernel_name(kernels[k]), s,
					 (unsigned long long)stats_hist_counts(h)[s],
					 (unsigned long long)want[s], n, ns - 3,
					 stats_hist_binning(h) == STATS_BIN_UNIFORM ? "uniform"
										    : "edges");
		assert_true(stats_hist_total(h) == stats_hist_total(proto) + n);
		stats_hist_free(h);
	}
	stats_hist_free(ref);
	free(want);
}

/* ---- inputs ---- */

/* Random values around [lo, hi), a fraction outside, plus every special value. */
static double *make_values(struct tu_rng *r, const struct stats_hist *h, size_t n)
{
	const double *e = stats_hist_edges(h);
	size_t b = stats_hist_bins(h);
	double lo = e[0], hi = e[b], w = hi - lo;
	double *x = malloc((n ? n : 1) * sizeof *x);

	assert_non_null(x);
	for (size_t i = 0; i < n; i++) {
		uint64_t pick = tu_next(r) % 100;
		size_t k = (size_t)(tu_next(r) % (b + 1));

		if (pick < 70)
			x[i] = lo - 0.1 * w + 1.2 * w * tu_uniform(r);
		else if (pick < 80)
			x[i] = e[k]; /* exactly on an edge */
		else if (pick < 85)
			x[i] = nextafter(e[k], -INFINITY);
		else if (pick < 90)
			x[i] = nextafter(e[k], INFINITY);
		else {
			static const double sp[] = { NAN,	   -NAN,     INFINITY, -INFINITY,
						     0.0,	   -0.0,     DBL_MAX,  -DBL_MAX,
						     DBL_MIN,	   -DBL_MIN, 4.9e-324, -4.9e-324,
						     2.2e-308 / 3, 1e300,    -1e300,   1.0 };
			x[i] = sp[tu_next(r) % (sizeof sp / sizeof *sp)];
		}
	}
	return x;
}

static struct stats_hist *make_edges_hist(struct tu_rng *r, size_t bins)
{
	double *e = malloc((bins + 1) * sizeof *e);
	struct stats_hist *h;
	enum stats_status st;

	assert_non_null(e);
	e[0] = -3.0 + tu_uniform(r);
	for (size_t i = 1; i <= bins; i++) {
		/* uneven gaps, some tiny (clustered quantile edges), some huge */
		double g =
		    tu_next(r) % 5 == 0 ? 1e-12 : tu_uniform(r) * (tu_next(r) % 7 == 0 ? 50 : 1);
		e[i] = nextafter(e[i - 1] + g, INFINITY);
	}
	h = stats_hist_new_edges(e, bins + 1, &st);
	assert_int_equal(st, STATS_OK);
	assert_non_null(h);
	free(e);
	return h;
}

/* around the vector widths (4, 8, 16) and the kernels' 256-value blocks, and one long run */
static const size_t lengths[] = { 0,   1,   2,	 3,   7,   8,	9,   15,  16,  17,  31,	    33,
				  100, 255, 256, 257, 271, 272, 273, 511, 512, 513, 1000003 };

static void run_lengths(struct tu_rng *r, const struct stats_hist *h)
{
	for (size_t li = 0; li < sizeof lengths / sizeof *lengths; li++) {
		size_t n = lengths[li];
		double *x = make_values(r, h, n + 3);

		/* aligned and unaligned starts */
		check_against_oracle(h, x, n);
		check_against_oracle(h, x + 1, n);
		check_against_oracle(h, x + 3, n);
		free(x);
	}
}

/* ---- kernels ---- */

static void test_uniform_kernels(void **state)
{
	static const size_t bins[] = { 1, 2, 3, 16, 64, 256, 1000 };
	struct tu_rng r = { 1 };

	(void)state;
	for (size_t i = 0; i < sizeof bins / sizeof *bins; i++) {
		struct stats_hist *h = stats_hist_new_uniform(-2.5, 7.25, bins[i], NULL);

		assert_non_null(h);
		run_lengths(&r, h);
		stats_hist_free(h);
	}
	/* a range whose scale is not exact, and a tiny one */
	{
		struct stats_hist *h = stats_hist_new_uniform(0.1, 0.7, 64, NULL);
		run_lengths(&r, h);
		stats_hist_free(h);
		h = stats_hist_new_uniform(1.0, nextafter(nextafter(1.0, 2), 2), 3, NULL);
		assert_non_null(h);
		run_lengths(&r, h);
		stats_hist_free(h);
	}
}

static void test_edges_kernels(void **state)
{
	/* powers of two and their neighbours: every search depth, register and gather levels */
	static const size_t bins[] = { 1,  2,  3,  4,  5,  8,  9,   15,	 16,  17, 20,
				       31, 32, 33, 63, 64, 65, 100, 128, 129, 300 };
	struct tu_rng r = { 2 };

	(void)state;
	for (size_t i = 0; i < sizeof bins / sizeof *bins; i++) {
		struct stats_hist *h = make_edges_hist(&r, bins[i]);

		run_lengths(&r, h);
		stats_hist_free(h);
	}
}

static void test_specials_each(void **state)
{
	/* every special alone, so a miscount cannot hide in a mix */
	static const double sp[] = { NAN,     INFINITY, -INFINITY, 0.0,	     -0.0,
				     DBL_MAX, -DBL_MAX, 4.9e-324,  -4.9e-324 };
	struct stats_hist *u = stats_hist_new_uniform(-1.0, 1.0, 4, NULL);
	double e[] = { -1.0, -0.5, 0.0, 0.5, 1.0 };
	struct stats_hist *g = stats_hist_new_edges(e, 5, NULL);

	(void)state;
	for (size_t i = 0; i < sizeof sp / sizeof *sp; i++) {
		double x[17];

		for (size_t j = 0; j < 17; j++)
			x[j] = sp[i];
		check_against_oracle(u, x, 17);
		check_against_oracle(g, x, 17);
	}
	/* known answers, independent of the oracle */
	{
		double x[] = { NAN, -2.0, -1.0, -0.75, 0.0, -0.0, 0.25, 0.999, 1.0, INFINITY };
		const uint64_t want[] = { 1, 2, 0, 3, 1, 2, 1 }; /* under, 4 bins, over, nan */

		for (size_t k = 0; k < 3; k++) {
			struct stats_hist *h = stats_hist_clone(g);
			if (!stats_hist_kernel_supported(kernels[k])) {
				stats_hist_free(h);
				continue;
			}
			stats_hist_add_kernel(h, kernels[k], x, 10);
			assert_memory_equal(stats_hist_counts(h), want, sizeof want);
			stats_hist_free(h);
		}
	}
	stats_hist_free(u);
	stats_hist_free(g);
}

/* ---- API ---- */

static void test_constructors(void **state)
{
	enum stats_status st = STATS_OK;
	double bad1[] = { 0.0, 0.0 }, bad2[] = { 0.0, NAN }, bad3[] = { 1.0, 0.0 };
	double bad4[] = { -INFINITY, 1.0 }, good[] = { 0.0, 1.0 };

	(void)state;
	assert_null(stats_hist_new_uniform(1.0, 1.0, 4, &st));
	assert_int_equal(st, STATS_EINVAL);
	assert_null(stats_hist_new_uniform(0.0, INFINITY, 4, &st));
	assert_null(stats_hist_new_uniform(NAN, 1.0, 4, &st));
	assert_null(stats_hist_new_uniform(-DBL_MAX, DBL_MAX, 4, &st)); /* width overflows */
	/* a width of one subnormal: the scale overflows (found by libFuzzer) */
	assert_null(stats_hist_new_uniform(0.0, 4.9e-324, 4, &st));
	assert_null(stats_hist_new_uniform(-4.9e-324, 0.0, 1, &st));
	assert_null(stats_hist_new_uniform(0.0, 1.0, 0, &st));
	assert_null(stats_hist_new_uniform(0.0, 1.0, STATS_HIST_MAX_BINS + 1, &st));
	assert_null(stats_hist_new_edges(bad1, 2, &st));
	assert_null(stats_hist_new_edges(bad2, 2, &st));
	assert_null(stats_hist_new_edges(bad3, 2, &st));
	assert_null(stats_hist_new_edges(bad4, 2, &st));
	assert_null(stats_hist_new_edges(good, 1, &st));
	assert_int_equal(st, STATS_EINVAL);
	{
		struct stats_hist *h = stats_hist_new_edges(good, 2, &st);
		assert_int_equal(st, STATS_OK);
		assert_int_equal(stats_hist_bins(h), 1);
		stats_hist_free(h);
		h = stats_hist_new_uniform(0.0, 1.0, STATS_HIST_MAX_BINS, &st);
		assert_non_null(h);
		assert_true(stats_hist_edges(h)[STATS_HIST_MAX_BINS] == 1.0);
		stats_hist_free(h);
	}
	stats_hist_free(NULL);
}

static void test_merge_reset_clone(void **state)
{
	struct tu_rng r = { 3 };
	struct stats_hist *a = make_edges_hist(&r, 20), *b = stats_hist_clone(a), *whole;
	double *x = make_values(&r, a, 10000);
	double e2[] = { 0.0, 1.0, 2.0 };
	struct stats_hist *other = stats_hist_new_edges(e2, 3, NULL);
	struct stats_hist *uni = stats_hist_new_uniform(0.0, 2.0, 2, NULL);

	(void)state;
	whole = stats_hist_clone(a);
	stats_hist_add(a, x, 4000);
	stats_hist_add(b, x + 4000, 6000);
	stats_hist_add(whole, x, 10000);
	assert_int_equal(stats_hist_merge(a, b), STATS_OK);
	assert_memory_equal(stats_hist_counts(a), stats_hist_counts(whole), 23 * sizeof(uint64_t));
	assert_true(stats_hist_total(a) == 10000);
	assert_int_equal(stats_hist_merge(a, other), STATS_EMISMATCH);
	/* same bins and edges values but another binning kind */
	assert_int_equal(stats_hist_merge(uni, other), STATS_EMISMATCH);
	stats_hist_reset(a);
	assert_true(stats_hist_total(a) == 0);
	assert_int_equal(stats_hist_bins(a), 20);
	free(x);
	stats_hist_free(a);
	stats_hist_free(b);
	stats_hist_free(whole);
	stats_hist_free(other);
	stats_hist_free(uni);
}

static void test_merge_overflow(void **state)
{
	/* counters near 2^64 come only from deserialization: build one by hand */
	uint8_t buf[128];
	size_t len;
	struct stats_hist *h = stats_hist_new_uniform(0.0, 1.0, 1, NULL), *big, *copy;
	enum stats_status st;
	uint64_t before[4];

	(void)state;
	assert_int_equal(stats_hist_serialize(h, buf, sizeof buf, &len), STATS_OK);
	/* rewrite the 4 slots (last 4 bytes: varints 0) as UINT64_MAX - 1, 0, 0, 0 */
	len -= 4;
	{
		uint64_t v = UINT64_MAX - 1;
		while (v >= 0x80) {
			buf[len++] = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		buf[len++] = (uint8_t)v;
		buf[len++] = 0;
		buf[len++] = 0;
		buf[len++] = 0;
	}
	big = stats_hist_deserialize(buf, len, &st);
	assert_int_equal(st, STATS_OK);
	assert_true(stats_hist_underflow(big) == UINT64_MAX - 1);
	copy = stats_hist_clone(big);
	memcpy(before, stats_hist_counts(big), sizeof before);
	assert_int_equal(stats_hist_merge(big, copy), STATS_ERANGE);
	assert_memory_equal(stats_hist_counts(big), before, sizeof before);
	stats_hist_free(h);
	stats_hist_free(big);
	stats_hist_free(copy);
}

static void roundtrip(struct stats_hist *h)
{
	size_t cap = stats_hist_serialized_max(h), len = 0;
	uint8_t *buf = malloc(cap + 1);
	struct stats_hist *back;
	enum stats_status st;

	assert_int_equal(stats_hist_serialize(h, buf, cap, &len), STATS_OK);
	assert_true(len <= cap);
	assert_int_equal(stats_hist_serialize(h, buf, len - 1, NULL), STATS_ERANGE);
	back = stats_hist_deserialize(buf, len, &st);
	assert_int_equal(st, STATS_OK);
	assert_int_equal(stats_hist_binning(back), stats_hist_binning(h));
	assert_int_equal(stats_hist_bins(back), stats_hist_bins(h));
	assert_memory_equal(stats_hist_edges(back), stats_hist_edges(h),
			    (stats_hist_bins(h) + 1) * sizeof(double));
	assert_memory_equal(stats_hist_counts(back), stats_hist_counts(h),
			    (stats_hist_bins(h) + 3) * sizeof(uint64_t));
	assert_int_equal(stats_hist_merge(back, h), STATS_OK); /* same shape */
	stats_hist_free(back);

	/* every truncation fails cleanly */
	for (size_t cut = 0; cut < len; cut++) {
		st = STATS_OK;
		assert_null(stats_hist_deserialize(buf, cut, &st));
		assert_true(st == STATS_EFORMAT);
	}
	/* a trailing byte */
	buf[len] = 0;
	assert_null(stats_hist_deserialize(buf, len + 1, &st));
	assert_int_equal(st, STATS_EFORMAT);
	/* a future version */
	buf[4] = 2;
	assert_null(stats_hist_deserialize(buf, len, &st));
	assert_int_equal(st, STATS_EVERSION);
	buf[4] = 1;
	/* bad magic */
	buf[0] = 'X';
	assert_null(stats_hist_deserialize(buf, len, &st));
	assert_int_equal(st, STATS_EFORMAT);
	free(buf);
}

static void test_serialize(void **state)
{
	struct tu_rng r = { 4 };
	struct stats_hist *u = stats_hist_new_uniform(-1.0, 3.0, 64, NULL);
	struct stats_hist *e = make_edges_hist(&r, 20);
	double *x = make_values(&r, e, 5000);

	(void)state;
	roundtrip(u);
	roundtrip(e);
	stats_hist_add(u, x, 5000);
	stats_hist_add(e, x, 5000);
	roundtrip(u);
	roundtrip(e);
	/* the encoding is fixed: a known byte string decodes to a known histogram */
	{
		static const uint8_t bytes[] = { 'D', 'H',  'S',  'T', 1, 2, 1,	   0,	 0, 0,
						 0,   0,    0,	  0,   0, 0, 0,	   0,	 /* 0.0 */
						 0,   0,    0,	  0,   0, 0, 0xf0, 0x3f, /* 1.0 */
						 3,   0x80, 0x01, 5,   7 };
		enum stats_status st;
		struct stats_hist *k = stats_hist_deserialize(bytes, sizeof bytes, &st);

		assert_int_equal(st, STATS_OK);
		assert_int_equal(stats_hist_bins(k), 1);
		assert_true(stats_hist_underflow(k) == 3);
		assert_true(stats_hist_counts(k)[1] == 128);
		assert_true(stats_hist_overflow(k) == 5);
		assert_true(stats_hist_nan(k) == 7);
		stats_hist_free(k);
	}
	free(x);
	stats_hist_free(u);
	stats_hist_free(e);
}

static void test_deserialize_rejects(void **state)
{
	enum stats_status st;
	/* edges not increasing; bins 0; binning 9; non-canonical varint */
	static const uint8_t notsorted[] = {
		'D', 'H',  'S',	 'T', 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0,
		0,   0xf0, 0x3f, 0,   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
	};
	static const uint8_t zero_bins[] = { 'D', 'H', 'S', 'T', 1, 1, 0, 0, 0, 0 };
	static const uint8_t bad_kind[] = { 'D', 'H', 'S', 'T', 1, 9, 1, 0, 0, 0 };
	static const uint8_t huge_bins[] = { 'D', 'H', 'S', 'T', 1, 2, 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t noncanon[] = { 'D', 'H', 'S',  'T',  1,	1,    1, 0, 0, 0, 0,
					    0,	 0,   0,    0,	  0,	0,    0, 0, 0, 0, 0,
					    0,	 0,   0xf0, 0x3f, 0x80, 0x00, 0, 0, 0 };

	(void)state;
	assert_null(stats_hist_deserialize(notsorted, sizeof notsorted, &st));
	assert_int_equal(st, STATS_EFORMAT);
	assert_null(stats_hist_deserialize(zero_bins, sizeof zero_bins, &st));
	assert_int_equal(st, STATS_EFORMAT);
	assert_null(stats_hist_deserialize(bad_kind, sizeof bad_kind, &st));
	assert_int_equal(st, STATS_EFORMAT);
	assert_null(stats_hist_deserialize(huge_bins, sizeof huge_bins, &st));
	assert_int_equal(st, STATS_EFORMAT);
	assert_null(stats_hist_deserialize(noncanon, sizeof noncanon, &st));
	assert_int_equal(st, STATS_EFORMAT);
	assert_null(stats_hist_deserialize(NULL, 0, &st));
	assert_int_equal(st, STATS_EFORMAT);
}

static void test_kernel_selection(void **state)
{
	enum stats_hist_kernel best = stats_hist_kernel_selected();

	(void)state;
	assert_true(stats_hist_kernel_supported(STATS_HIST_KERNEL_REF));
	assert_int_equal(stats_hist_kernel_select(STATS_HIST_KERNEL_REF), STATS_OK);
	assert_int_equal(stats_hist_kernel_selected(), STATS_HIST_KERNEL_REF);
	for (size_t k = 0; k < 3; k++)
		if (!stats_hist_kernel_supported(kernels[k]))
			assert_int_equal(stats_hist_kernel_select(kernels[k]), STATS_ENOTSUP);
	setenv("DRIFTD_HIST_KERNEL", "ref", 1);
	assert_int_equal(stats_init(), STATS_OK);
	assert_int_equal(stats_hist_kernel_selected(), STATS_HIST_KERNEL_REF);
	setenv("DRIFTD_HIST_KERNEL", "sse9", 1);
	assert_int_equal(stats_init(), STATS_EINVAL);
	assert_int_equal(stats_hist_kernel_selected(), best); /* the best stays selected */
	if (stats_hist_kernel_supported(STATS_HIST_KERNEL_AVX2)) {
		setenv("DRIFTD_HIST_KERNEL", "avx2", 1);
		assert_int_equal(stats_init(), STATS_OK);
		assert_int_equal(stats_hist_kernel_selected(), STATS_HIST_KERNEL_AVX2);
	}
	unsetenv("DRIFTD_HIST_KERNEL");
	assert_int_equal(stats_init(), STATS_OK);
	assert_int_equal(stats_hist_kernel_selected(), best);
	assert_string_equal(stats_hist_kernel_name(STATS_HIST_KERNEL_AVX512), "avx512");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform_kernels),
		cmocka_unit_test(test_edges_kernels),
		cmocka_unit_test(test_specials_each),
		cmocka_unit_test(test_constructors),
		cmocka_unit_test(test_merge_reset_clone),
		cmocka_unit_test(test_merge_overflow),
		cmocka_unit_test(test_serialize),
		cmocka_unit_test(test_deserialize_rejects),
		cmocka_unit_test(test_kernel_selection),
	};

	unsetenv("DRIFTD_HIST_KERNEL");
	stats_init();
	/* the kernels each CPU can run are reported, so a log shows what was compared */
	for (size_t k = 0; k < 3; k++)
		printf("# kernel %s: %s\n", stats_hist_kernel_name(kernels[k]),
		       stats_hist_kernel_supported(kernels[k]) ? "tested" : "not supported here");
	return TU_RUN(tests);
}
