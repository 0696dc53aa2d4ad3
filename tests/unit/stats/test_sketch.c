/*
 * test_sketch.c -- the quantile sketch (stats/sketch.h) against exact answers.
 *
 * Exact answers come from the test, never from the code under test: quantiles by sorting the
 * same sample (the 'lower' quantile is sorted[floor(q (N - 1))]), bucket bounds from frexp()
 * (a bucket is a 1/128 step of the frexp mantissa in [0.5, 1)), and the serialized format from a
 * small encoder written here after the format described in stats/sketch.c.
 */
#include "stats/sketch.h"
#include "stats/codec.h"
#include "testutil.h"

#include <float.h>
#include <string.h>

#define BIG	  1000000	/* values per accuracy sample */
#define REL_BOUND (1.0 / 129.0) /* (hi - lo) / (hi + lo) for hi / lo = 65 / 64 */
#define REL_SLACK (1.0 + 1e-12) /* rounding of the representative */
#define IDX_END	  (2047L * 64)	/* index of +Inf: the end of the index space */
#define IDX_MIN	  64L		/* index of DBL_MIN */

/* ---- independent reference ---- */

/* The bucket of a positive normal finite x, from frexp: x = f 2^e with f in [0.5, 1), bucket
 * [k/128, (k+1)/128) 2^e with k = floor(128 f) in [64, 128); its index is the IEEE exponent
 * field (e + 1022) times 64 plus the 6 mantissa bits (k - 64). */
static long ref_index(double x, double *lo, double *rep)
{
	int e;
	double f = frexp(x, &e);
	long k = (long)(f * 128.0);

	if (lo)
		*lo = ldexp((double)k, e - 7);
	if (rep) /* 2 lo hi / (lo + hi) with lo = k u, hi = (k + 1) u */
		*rep = ldexp(2.0 * (double)k * (double)(k + 1) / (double)(2 * k + 1), e - 7);
	return (long)(e + 1022) * 64 + (k - 64);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, size_t n)
{
	double *s = malloc(n * sizeof *s);

	assert_non_null(s);
	memcpy(s, x, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	return s;
}

static double exact_lower(const double *sorted, size_t n, double q)
{
	return sorted[(size_t)floor(q * (double)(n - 1))];
}

static double rel_err(double got, double want)
{
	if (got == want)
		return 0.0;
	return fabs(got - want) / fabs(want);
}

static struct stats_sketch *new_sketch(size_t max_buckets)
{
	enum stats_status st = STATS_EINVAL;
	struct stats_sketch *s = stats_sketch_new(max_buckets, &st);

	assert_non_null(s);
	assert_int_equal(st, STATS_OK);
	return s;
}

static double quantile(const struct stats_sketch *s, double q)
{
	double v = NAN;

	assert_int_equal(stats_sketch_quantile(s, q, &v), STATS_OK);
	return v;
}

/* Serializes s into a malloc'd buffer. */
static uint8_t *serialize(const struct stats_sketch *s, size_t *len)
{
	size_t cap = stats_sketch_serialized_max(s);
	uint8_t *buf = malloc(cap);

	assert_non_null(buf);
	assert_int_equal(stats_sketch_serialize(s, buf, cap, len), STATS_OK);
	assert_true(*len <= cap);
	return buf;
}

/* Asserts that a and b serialize to the same bytes: same counters, extremes, sum and buckets. */
static void assert_same(const struct stats_sketch *a, const struct stats_sketch *b)
{
	size_t la, lb;
	uint8_t *ba = serialize(a, &la), *bb = serialize(b, &lb);

	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	free(ba);
	free(bb);
}

/* ---- samples ---- */

enum dist { UNIFORM, EXPONENTIAL, LOGNORMAL1, LOGNORMAL2, PARETO, BIMODAL, SPAN };

static const char *const dist_name[] = { "uniform",	 "exponential", "lognormal(1)",
					 "lognormal(2)", "pareto(1.5)", "bimodal",
					 "1e-6..1e3" };

static double draw(enum dist d, struct tu_rng *r)
{
	switch (d) {
	case UNIFORM:
		return tu_uniform(r);
	case EXPONENTIAL:
		return -log1p(-tu_uniform(r));
	case LOGNORMAL1:
		return exp(tu_normal(r));
	case LOGNORMAL2:
		return exp(2.0 * tu_normal(r));
	case PARETO:
		return pow(1.0 - tu_uniform(r), -1.0 / 1.5);
	case BIMODAL:
		if (tu_uniform(r) < 0.7)
			return 0.01 * exp(0.3 * tu_normal(r));
		return fabs(5.0 + 0.5 * tu_normal(r));
	case SPAN:
		return pow(10.0, -6.0 + 9.0 * tu_uniform(r));
	}
	return NAN;
}

static double *sample(enum dist d, size_t n, uint64_t seed)
{
	struct tu_rng r = { seed };
	double *x = malloc(n * sizeof *x);

	assert_non_null(x);
	for (size_t i = 0; i < n; i++)
		x[i] = draw(d, &r);
	return x;
}

/* Lognormal values rounded to multiples of 2^-10 (at least 2^-10): every partial sum is exact,
 * so sketches filled in any order or split must agree bit for bit. */
static double *dyadic_sample(size_t n, uint64_t seed)
{
	struct tu_rng r = { seed };
	double *x = malloc(n * sizeof *x);

	assert_non_null(x);
	for (size_t i = 0; i < n; i++) {
		double v = round(exp(1.5 * tu_normal(&r)) * 1024.0);
		x[i] = (v < 1.0 ? 1.0 : v) / 1024.0;
	}
	return x;
}

static void shuffle(double *x, size_t n, uint64_t seed)
{
	struct tu_rng r = { seed };

	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(tu_next(&r) % i);
		double t = x[i - 1];
		x[i - 1] = x[j];
		x[j] = t;
	}
}

/* ---- accuracy ---- */

static const double qs[] = { 0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1 };

static void test_accuracy(void **state)
{
	enum dist d = (enum dist)(intptr_t)*state;
	double *x = sample(d, BIG, 1000 + (uint64_t)d), *sorted = sorted_copy(x, BIG);
	struct stats_sketch *s = new_sketch(0);
	double worst = 0.0, worst_grid = 0.0, sum = 0.0;

	assert_int_equal(stats_sketch_add(s, x, BIG), STATS_OK);
	assert_int_equal(stats_sketch_count(s), BIG);
	assert_int_equal(stats_sketch_collapsed(s), 0);
	assert_true(stats_sketch_min(s) == sorted[0]);
	assert_true(stats_sketch_max(s) == sorted[BIG - 1]);
	for (size_t i = 0; i < BIG; i++)
		sum += x[i];
	tu_assert_rel(stats_sketch_sum(s), sum, 1e-9, "sum");

	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		double want = exact_lower(sorted, BIG, qs[i]), got = quantile(s, qs[i]);
		double e = rel_err(got, want);

		if (e > worst)
			worst = e;
		if (!(e <= 0.01))
			fail_msg("%s q=%g: got %.17g want %.17g (rel %.3g > 1%%)", dist_name[d],
				 qs[i], got, want, e);
	}
	/* every 1/1000: the documented bound of the representative, tighter than 1 % */
	for (int i = 0; i <= 1000; i++) {
		double q = i / 1000.0, want = exact_lower(sorted, BIG, q), got = quantile(s, q);
		double e = rel_err(got, want);

		if (e > worst_grid)
			worst_grid = e;
		if (!(e <= REL_BOUND * REL_SLACK))
			fail_msg("%s q=%g: got %.17g want %.17g (rel %.3g > 1/129)", dist_name[d],
				 q, got, want, e);
	}
	printf("# sketch accuracy %-13s max rel err %.4f %% (q list), %.4f %% (1001-point grid), "
	       "%zu buckets\n",
	       dist_name[d], 100 * worst, 100 * worst_grid, stats_sketch_buckets(s));
	stats_sketch_free(s);
	free(sorted);
	free(x);
}

/* Every rank of a wide sample answers exactly its bucket's representative, as computed from
 * frexp: catches any shift of the index or of the rank. */
static void test_exact_buckets(void **state)
{
	const size_t n = 20000;
	struct tu_rng r = { 7 };
	double *x = malloc(n * sizeof *x), *sorted;
	struct stats_sketch *s = new_sketch(STATS_SKETCH_MAX_BUCKETS_LIMIT);
	long lo, hi;

	(void)state;
	assert_non_null(x);
	for (size_t i = 0; i < n; i++)
		x[i] = exp(4.0 * tu_normal(&r));
	sorted = sorted_copy(x, n);
	assert_int_equal(stats_sketch_add(s, x, n), STATS_OK);
	lo = ref_index(sorted[0], NULL, NULL);
	hi = ref_index(sorted[n - 1], NULL, NULL);
	assert_int_equal(stats_sketch_buckets(s), hi - lo + 1);
	assert_int_equal(stats_sketch_collapsed(s), 0);
	for (size_t k = 0; k < n; k++) {
		double q = k + 1 < n ? ((double)k + 0.5) / (double)(n - 1) : 1.0, rep, got;

		ref_index(sorted[k], NULL, &rep);
		rep = rep < sorted[0] ? sorted[0] : rep > sorted[n - 1] ? sorted[n - 1] : rep;
		got = quantile(s, q);
		if (!(rel_err(got, rep) <= 1e-15))
			fail_msg("rank %zu of %.17g: got %.17g want %.17g", k, sorted[k], got, rep);
	}
	/* bucket edges: a power of two opens a bucket, its predecessor closes the previous one */
	for (int e = -1021; e <= 1023; e += 7) {
		double v = ldexp(1.0, e), below = nextafter(v, 0.0);

		assert_int_equal(ref_index(v, NULL, NULL), ref_index(below, NULL, NULL) + 1);
		stats_sketch_reset(s);
		assert_int_equal(stats_sketch_add(s, (double[]){ below, v }, 2), STATS_OK);
		assert_int_equal(stats_sketch_buckets(s), 2);
		tu_assert_rel(quantile(s, 0.0), below, 0, "below a power of two");
		tu_assert_rel(quantile(s, 1.0), v, 0, "a power of two");
	}
	stats_sketch_free(s);
	free(sorted);
	free(x);
}

/* ---- merge, order, chunks ---- */

static void test_merge_halves(void **state)
{
	const size_t n = BIG;
	double *x = dyadic_sample(n, 11);
	struct stats_sketch *whole = new_sketch(0), *a = new_sketch(0), *b = new_sketch(0);
	struct stats_sketch *empty = new_sketch(0);

	(void)state;
	assert_int_equal(stats_sketch_add(whole, x, n), STATS_OK);
	assert_int_equal(stats_sketch_add(a, x, n / 2), STATS_OK);
	assert_int_equal(stats_sketch_add(b, x + n / 2, n - n / 2), STATS_OK);
	assert_int_equal(stats_sketch_merge(a, b), STATS_OK);
	assert_same(a, whole);
	for (int i = 0; i <= 200; i++)
		assert_true(quantile(a, i / 200.0) == quantile(whole, i / 200.0));

	/* empty on either side */
	assert_int_equal(stats_sketch_merge(a, empty), STATS_OK);
	assert_same(a, whole);
	assert_int_equal(stats_sketch_merge(empty, whole), STATS_OK);
	assert_same(empty, whole);

	/* a wider source into the default: same counts */
	stats_sketch_reset(b);
	stats_sketch_free(a);
	a = new_sketch(STATS_SKETCH_MAX_BUCKETS_LIMIT);
	assert_int_equal(stats_sketch_add(a, x, n), STATS_OK);
	assert_int_equal(stats_sketch_merge(b, a), STATS_OK);
	assert_same(b, whole);

	/* into itself: every counter doubles */
	assert_int_equal(stats_sketch_merge(b, b), STATS_OK);
	assert_int_equal(stats_sketch_count(b), 2 * n);
	assert_true(stats_sketch_min(b) == stats_sketch_min(whole));
	assert_true(stats_sketch_max(b) == stats_sketch_max(whole));
	assert_true(stats_sketch_sum(b) == 2 * stats_sketch_sum(whole));
	assert_int_equal(stats_sketch_merge(whole, whole), STATS_OK);
	assert_same(b, whole);

	stats_sketch_free(empty);
	stats_sketch_free(a);
	stats_sketch_free(b);
	stats_sketch_free(whole);
	free(x);
}

/* The same values in any order and any chunking give the same sketch (window growth upwards,
 * downwards and relocation inside the buffer). */
static void test_order_and_chunks(void **state)
{
	const size_t n = 200000;
	double *x = dyadic_sample(n, 12);
	struct stats_sketch *ref = new_sketch(0), *s = new_sketch(0);
	struct tu_rng r = { 5 };

	(void)state;
	assert_int_equal(stats_sketch_add(ref, x, n), STATS_OK);
	qsort(x, n, sizeof *x, cmp_double);
	assert_int_equal(stats_sketch_add(s, x, n), STATS_OK);
	assert_same(s, ref);
	for (size_t i = 0; i < n / 2; i++) {
		double t = x[i];
		x[i] = x[n - 1 - i];
		x[n - 1 - i] = t;
	}
	stats_sketch_reset(s);
	assert_int_equal(stats_sketch_add(s, x, n), STATS_OK);
	assert_same(s, ref);
	shuffle(x, n, 3);
	stats_sketch_reset(s);
	for (size_t i = 0; i < n;) {
		size_t k = (size_t)(tu_next(&r) % 1000);
		if (k > n - i)
			k = n - i;
		assert_int_equal(stats_sketch_add(s, x + i, k), STATS_OK);
		i += k;
	}
	assert_same(s, ref);
	stats_sketch_free(s);
	stats_sketch_free(ref);
	free(x);
}

/* Counters near 2^64: built by merging a sketch into itself (no crafted bytes). */
static void test_overflow(void **state)
{
	struct stats_sketch *s = new_sketch(0), *t = NULL, *before = NULL;
	double one = 1.0;

	(void)state;
	assert_int_equal(stats_sketch_add(s, &one, 1), STATS_OK);
	t = stats_sketch_clone(s);
	assert_non_null(t);
	/* s = 1 + 2 + ... + 2^63 = 2^64 - 1 values */
	for (int i = 0; i < 63; i++) {
		assert_int_equal(stats_sketch_merge(t, t), STATS_OK);
		assert_int_equal(stats_sketch_merge(s, t), STATS_OK);
	}
	assert_true(stats_sketch_count(s) == UINT64_MAX);
	assert_true(stats_sketch_count(t) == (uint64_t)1 << 63);
	before = stats_sketch_clone(t);
	assert_non_null(before);
	assert_int_equal(stats_sketch_merge(t, t), STATS_ERANGE);
	assert_same(t, before);
	stats_sketch_free(before);
	before = stats_sketch_clone(s);
	assert_non_null(before);
	assert_int_equal(stats_sketch_merge(s, t), STATS_ERANGE);
	assert_int_equal(stats_sketch_add(s, &one, 1), STATS_ERANGE);
	assert_same(s, before);
	tu_assert_rel(quantile(s, 0.5), 1.0, 0, "median of 2^64-1 ones");
	stats_sketch_free(before);
	stats_sketch_free(t);
	stats_sketch_free(s);
}

/* ---- collapsing ---- */

/* The window keeps the highest max_buckets buckets: values below them are counted in the lowest
 * kept bucket, and the count of those is `collapsed`, whatever the order of arrival. */
static void check_collapsed(struct stats_sketch *s, size_t max_buckets, const double *sorted,
			    size_t n)
{
	long top = ref_index(sorted[n - 1], NULL, NULL), low = top - (long)max_buckets + 1;
	uint64_t below = 0;
	double low_lo;

	for (size_t i = 0; i < n; i++)
		below += ref_index(sorted[i], NULL, NULL) < low;
	assert_true(below > n / 2); /* the test means something */
	assert_int_equal(stats_sketch_collapsed(s), below);
	assert_int_equal(stats_sketch_buckets(s), max_buckets);
	assert_int_equal(stats_sketch_count(s), n);
	assert_true(stats_sketch_min(s) == sorted[0]);
	assert_true(stats_sketch_max(s) == sorted[n - 1]);
	assert_true(quantile(s, 0.0) == quantile(s, 0.25)); /* both in the lowest bucket */
	/* p95 and above lie in the kept octaves */
	for (size_t i = 5; i < sizeof qs / sizeof qs[0]; i++) {
		assert_true(ref_index(exact_lower(sorted, n, qs[i]), NULL, NULL) >= low);
		tu_assert_rel(quantile(s, qs[i]), exact_lower(sorted, n, qs[i]),
			      REL_BOUND * REL_SLACK, "high quantile after collapsing");
	}
	/* a rank below the window answers the lowest kept bucket, max_buckets / 64 octaves below
	 * the top bucket (index low - 1 opens at the top bucket's bound halved that many times) */
	ref_index(sorted[n - 1], &low_lo, NULL);
	low_lo = ldexp(low_lo, -(int)(max_buckets / 64));
	assert_true(quantile(s, 0.25) > low_lo && quantile(s, 0.25) < low_lo * (1 + 1.0 / 32));
}

static void test_collapse(void **state)
{
	const size_t n = 100000, m = 128;
	double *x = sample(SPAN, n, 21), *sorted = sorted_copy(x, n);
	struct stats_sketch *s = new_sketch(m), *wide = new_sketch(0), *d = new_sketch(m);

	(void)state;
	assert_int_equal(stats_sketch_add(s, x, n), STATS_OK); /* random order */
	check_collapsed(s, m, sorted, n);
	stats_sketch_reset(s);
	assert_int_equal(stats_sketch_add(s, sorted, n), STATS_OK); /* ascending: slides up */
	check_collapsed(s, m, sorted, n);
	stats_sketch_reset(s);
	for (size_t i = n; i-- > 0;) /* descending: grows down, then collapses */
		assert_int_equal(stats_sketch_add(s, &sorted[i], 1), STATS_OK);
	check_collapsed(s, m, sorted, n);

	/* merging a wide sketch into a narrow one collapses the same way */
	assert_int_equal(stats_sketch_add(wide, x, n), STATS_OK);
	assert_int_equal(stats_sketch_collapsed(wide), 0);
	assert_int_equal(stats_sketch_merge(d, wide), STATS_OK);
	check_collapsed(d, m, sorted, n);
	for (int i = 0; i <= 200; i++)
		assert_true(quantile(d, i / 200.0) == quantile(s, i / 200.0));

	stats_sketch_free(d);
	stats_sketch_free(wide);
	stats_sketch_free(s);
	free(sorted);
	free(x);
}

/* Values just outside a one-bucket window, at every position of add()'s 4-value steps and of
 * its tail; then values far outside a narrow window (the new window shares no bucket with the
 * old one). */
static void test_window_edges(void **state)
{
	const double below = nextafter(1.0, 0.0), above = 1.0 + 1.0 / 64;
	double x[9], lo, y, rep;
	struct stats_sketch *s = NULL;

	(void)state;
	assert_int_equal(ref_index(below, NULL, NULL) + 1, ref_index(1.0, NULL, NULL));
	assert_int_equal(ref_index(above, NULL, NULL) - 1, ref_index(1.0, NULL, NULL));
	for (int pos = 0; pos < 9; pos++) {
		for (int side = 0; side < 2; side++) {
			s = new_sketch(0);
			for (int i = 0; i < 9; i++)
				x[i] = 1.0;
			x[pos] = side ? above : below;
			assert_int_equal(stats_sketch_add(s, (double[]){ 1.0 }, 1), STATS_OK);
			assert_int_equal(stats_sketch_add(s, x, 9), STATS_OK);
			assert_int_equal(stats_sketch_buckets(s), 2);
			assert_int_equal(stats_sketch_count(s), 10);
			/* the outside value's bucket representative, clamped onto it */
			if (side)
				assert_true(quantile(s, 1.0) == above);
			else
				assert_true(quantile(s, 0.0) == below);
			stats_sketch_free(s);
		}
	}

	for (int order = 0; order < 2; order++) {
		s = new_sketch(64);
		if (order == 0) {
			assert_int_equal(stats_sketch_add(s, (double[]){ 1.0, 1.0 }, 2), STATS_OK);
			assert_int_equal(stats_sketch_add(s, (double[]){ 1e6 }, 1), STATS_OK);
		} else {
			assert_int_equal(stats_sketch_add(s, (double[]){ 1e6 }, 1), STATS_OK);
			assert_int_equal(stats_sketch_add(s, (double[]){ 1.0, 1.0 }, 2), STATS_OK);
		}
		assert_int_equal(stats_sketch_count(s), 3);
		assert_int_equal(stats_sketch_collapsed(s), 2);
		assert_int_equal(stats_sketch_buckets(s), 64);
		/* the lowest kept bucket is 63 above the one an octave below 1e6's */
		ref_index(1e6, &lo, NULL);
		y = ldexp(lo, -1) * (1 + 1.0 / 64);
		assert_int_equal(ref_index(y, NULL, &rep), ref_index(1e6, NULL, NULL) - 63);
		tu_assert_rel(quantile(s, 0.0), rep, 1e-15, "collapsed far below");
		tu_assert_rel(quantile(s, 1.0), 1e6, 0, "max");
		stats_sketch_free(s);
	}
}

/* ---- special values ---- */

static void test_specials(void **state)
{
	const double sub = 5e-324, half = DBL_MIN / 2;
	const double in[] = { NAN,     -1.0,	-0.0, 0.0,	 sub,  half, INFINITY,
			      DBL_MAX, DBL_MIN, 1.0,  -INFINITY, -NAN, -sub };
	/* the counted values, sorted; zeros [0, DBL_MIN) answer min = 0 */
	const double want[] = { 0, 0, 0, 0, DBL_MIN, 1.0, DBL_MAX, INFINITY };
	struct stats_sketch *s = new_sketch(STATS_SKETCH_MAX_BUCKETS_LIMIT), *d = new_sketch(0);
	double v = 0;

	(void)state;
	assert_int_equal(stats_sketch_add(s, in, sizeof in / sizeof in[0]), STATS_OK);
	assert_int_equal(stats_sketch_count(s), 8);
	assert_int_equal(stats_sketch_nan(s), 2);
	assert_int_equal(stats_sketch_negative(s), 3);
	assert_int_equal(stats_sketch_collapsed(s), 0);
	assert_true(stats_sketch_min(s) == 0.0 && !signbit(stats_sketch_min(s)));
	assert_true(stats_sketch_max(s) == INFINITY);
	tu_assert_rel(stats_sketch_sum(s), DBL_MAX, 1e-15, "sum with DBL_MAX");
	/* DBL_MIN and DBL_MAX: the first and the last bucket of the index space */
	assert_int_equal(stats_sketch_buckets(s), IDX_END - IDX_MIN);
	for (size_t k = 0; k < 8; k++) {
		double q = k < 7 ? ((double)k + 0.5) / 7.0 : 1.0;

		v = quantile(s, q);
		if (want[k] == 0 || isinf(want[k]))
			assert_true(v == want[k]);
		else
			tu_assert_rel(v, want[k], REL_BOUND * REL_SLACK, "special rank");
		assert_false(isnan(v));
	}

	/* the default window cannot hold DBL_MIN .. DBL_MAX: DBL_MIN and 1.0 are collapsed */
	assert_int_equal(stats_sketch_add(d, in, sizeof in / sizeof in[0]), STATS_OK);
	assert_int_equal(stats_sketch_count(d), 8);
	assert_int_equal(stats_sketch_collapsed(d), 2);
	assert_int_equal(stats_sketch_buckets(d), STATS_SKETCH_MAX_BUCKETS_DEFAULT);
	tu_assert_rel(quantile(d, 6.5 / 7), DBL_MAX, REL_BOUND * REL_SLACK, "DBL_MAX collapsed");

	/* tiny sums are exact; only +Inf; only zeros; nothing counted */
	stats_sketch_reset(s);
	assert_int_equal(stats_sketch_add(s, (double[]){ sub, DBL_MIN, -0.0 }, 3), STATS_OK);
	assert_true(stats_sketch_sum(s) == sub + DBL_MIN);
	stats_sketch_reset(s);
	assert_int_equal(stats_sketch_add(s, (double[]){ INFINITY, INFINITY }, 2), STATS_OK);
	assert_true(quantile(s, 0) == INFINITY && stats_sketch_min(s) == INFINITY);
	assert_int_equal(stats_sketch_buckets(s), 0);
	stats_sketch_reset(s);
	assert_int_equal(stats_sketch_add(s, (double[]){ -0.0, 0.0 }, 2), STATS_OK);
	assert_true(quantile(s, 1) == 0 && stats_sketch_max(s) == 0);
	stats_sketch_reset(s);
	assert_int_equal(stats_sketch_add(s, (double[]){ NAN, -2.0 }, 2), STATS_OK);
	assert_int_equal(stats_sketch_count(s), 0);
	assert_int_equal(stats_sketch_quantile(s, 0.5, &v), STATS_EINVAL);
	assert_true(isnan(stats_sketch_min(s)) && isnan(stats_sketch_max(s)));
	stats_sketch_free(d);
	stats_sketch_free(s);
}

/* ---- arguments, clone, reset ---- */

static void test_einval(void **state)
{
	enum stats_status st = STATS_OK;
	struct stats_sketch *s = NULL;
	double v = 0;

	(void)state;
	assert_null(stats_sketch_new(1, &st));
	assert_int_equal(st, STATS_EINVAL);
	st = STATS_OK;
	assert_null(stats_sketch_new(63, &st));
	assert_int_equal(st, STATS_EINVAL);
	st = STATS_OK;
	assert_null(stats_sketch_new(STATS_SKETCH_MAX_BUCKETS_LIMIT + 1, &st));
	assert_int_equal(st, STATS_EINVAL);
	assert_null(stats_sketch_new(SIZE_MAX, NULL));
	s = stats_sketch_new(64, NULL);
	assert_non_null(s);
	assert_int_equal(stats_sketch_quantile(s, 0.5, &v), STATS_EINVAL); /* empty */
	assert_int_equal(stats_sketch_add(s, (double[]){ 3.0 }, 1), STATS_OK);
	assert_int_equal(stats_sketch_add(s, NULL, 0), STATS_OK);
	assert_int_equal(stats_sketch_quantile(s, -0.001, &v), STATS_EINVAL);
	assert_int_equal(stats_sketch_quantile(s, 1.001, &v), STATS_EINVAL);
	assert_int_equal(stats_sketch_quantile(s, NAN, &v), STATS_EINVAL);
	assert_int_equal(stats_sketch_quantile(s, -INFINITY, &v), STATS_EINVAL);
	assert_int_equal(stats_sketch_quantile(s, 1.0, &v), STATS_OK);
	assert_true(v == 3.0);
	stats_sketch_free(s);
	stats_sketch_free(NULL);
}

static void test_clone_reset(void **state)
{
	const size_t n = 50000;
	double *x = dyadic_sample(n, 31);
	struct stats_sketch *s = new_sketch(128), *c = NULL, *fresh = new_sketch(128);

	(void)state;
	assert_int_equal(stats_sketch_add(s, x, n / 2), STATS_OK);
	c = stats_sketch_clone(s);
	assert_non_null(c);
	assert_same(c, s);
	assert_int_equal(stats_sketch_add(c, x + n / 2, n - n / 2), STATS_OK); /* s unchanged */
	assert_int_equal(stats_sketch_count(s), n / 2);
	assert_int_equal(stats_sketch_count(c), n);
	assert_int_equal(stats_sketch_add(s, x + n / 2, n - n / 2), STATS_OK);
	assert_same(c, s);
	assert_true(stats_sketch_collapsed(s) > 0); /* 128 buckets are too few */

	stats_sketch_reset(s);
	assert_int_equal(stats_sketch_count(s), 0);
	assert_int_equal(stats_sketch_nan(s), 0);
	assert_int_equal(stats_sketch_collapsed(s), 0);
	assert_int_equal(stats_sketch_buckets(s), 0);
	assert_true(stats_sketch_sum(s) == 0 && isnan(stats_sketch_min(s)));
	assert_same(s, fresh);
	assert_int_equal(stats_sketch_add(s, x, n), STATS_OK);
	assert_int_equal(stats_sketch_add(fresh, x, n), STATS_OK);
	assert_same(s, fresh);
	stats_sketch_free(fresh);
	stats_sketch_free(c);
	stats_sketch_free(s);
	free(x);
}

/* ---- serialization ---- */

static void test_roundtrip(void **state)
{
	const size_t n = 100000;
	double *x = sample(LOGNORMAL2, n, 41);
	const double specials[] = { NAN, -1, 0, INFINITY, 1e-310 };
	struct stats_sketch *s = new_sketch(256), *t = NULL;
	enum stats_status st = STATS_EINVAL;
	uint8_t *buf, *again;
	size_t len, len2, need = 0;

	(void)state;
	assert_int_equal(stats_sketch_add(s, x, n), STATS_OK);
	assert_int_equal(stats_sketch_add(s, specials, 5), STATS_OK);
	buf = serialize(s, &len);
	t = stats_sketch_deserialize(buf, len, &st);
	assert_non_null(t);
	assert_int_equal(st, STATS_OK);
	again = serialize(t, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, again, len);
	assert_int_equal(stats_sketch_count(t), stats_sketch_count(s));
	assert_int_equal(stats_sketch_nan(t), 1);
	assert_int_equal(stats_sketch_negative(t), 1);
	assert_int_equal(stats_sketch_collapsed(t), stats_sketch_collapsed(s));
	assert_int_equal(stats_sketch_buckets(t), stats_sketch_buckets(s));
	assert_true(stats_sketch_sum(t) == stats_sketch_sum(s));
	assert_true(stats_sketch_min(t) == 0 && stats_sketch_max(t) == INFINITY);
	for (int i = 0; i <= 100; i++)
		assert_true(quantile(t, i / 100.0) == quantile(s, i / 100.0));
	/* the copy keeps working like the original */
	assert_int_equal(stats_sketch_add(s, x, n), STATS_OK);
	assert_int_equal(stats_sketch_add(t, x, n), STATS_OK);
	assert_same(s, t);

	/* cap too small */
	assert_int_equal(stats_sketch_serialize(s, buf, 10, &need), STATS_ERANGE);
	assert_int_equal(stats_sketch_serialize(s, NULL, 0, &need), STATS_ERANGE);
	free(again);
	again = serialize(s, &len2);
	assert_int_equal(need, len2);

	/* every truncation fails, so does a trailing byte */
	for (size_t k = 0; k < len; k++) {
		st = STATS_OK;
		assert_null(stats_sketch_deserialize(buf, k, &st));
		assert_int_equal(st, STATS_EFORMAT);
	}
	free(again);
	again = malloc(len + 1);
	assert_non_null(again);
	memcpy(again, buf, len);
	again[len] = 0;
	assert_null(stats_sketch_deserialize(again, len + 1, &st));
	assert_int_equal(st, STATS_EFORMAT);
	again[0] = 'X';
	assert_null(stats_sketch_deserialize(again, len, &st));
	assert_int_equal(st, STATS_EFORMAT);
	again[0] = buf[0];
	again[4] = 2;
	assert_null(stats_sketch_deserialize(again, len, &st));
	assert_int_equal(st, STATS_EVERSION);

	free(again);
	free(buf);
	stats_sketch_free(t);
	stats_sketch_free(s);
	free(x);
}

/* The documented format, encoded here field by field. */
struct fmt {
	uint64_t max_buckets, count, zero, inf, nan, negative, collapsed; /* header counters */
	double min, max, sum;						  /* extremes and sum */
	uint64_t off, len;						  /* the window */
	uint64_t counts[40];						  /* its first counts */
	uint8_t version;						  /* format version */
};

static size_t encode(const struct fmt *f, uint8_t *buf, size_t cap)
{
	struct codec_w w = { .p = buf, .cap = cap, .len = 0 };

	codec_put_header(&w, "DSKT", f->version);
	codec_put_varint(&w, f->max_buckets);
	codec_put_varint(&w, f->count);
	codec_put_varint(&w, f->zero);
	codec_put_varint(&w, f->inf);
	codec_put_varint(&w, f->nan);
	codec_put_varint(&w, f->negative);
	codec_put_varint(&w, f->collapsed);
	codec_put_f64(&w, f->min);
	codec_put_f64(&w, f->max);
	codec_put_f64(&w, f->sum);
	codec_put_varint(&w, f->off);
	codec_put_varint(&w, f->len);
	for (uint64_t k = 0; k < f->len && k < 40; k++)
		codec_put_varint(&w, f->counts[k]);
	assert_int_equal(codec_w_status(&w), STATS_OK);
	return w.len;
}

static enum stats_status decode(const struct fmt *f)
{
	uint8_t buf[1024];
	size_t len = encode(f, buf, sizeof buf);
	enum stats_status st = STATS_OK;
	struct stats_sketch *s = stats_sketch_deserialize(buf, len, &st);

	if (s) {
		assert_int_equal(st, STATS_OK);
		stats_sketch_free(s);
	} else {
		assert_int_not_equal(st, STATS_OK);
	}
	return st;
}

static void test_format(void **state)
{
	/* {1, 1, 1.5, 0, +Inf, NaN, -2}: 1.0 is bucket 1023 * 64, 1.5 is 32 buckets higher */
	const double in[] = { 1.0, 1.0, 1.5, 0.0, INFINITY, NAN, -2.0 };
	const struct fmt good = {
		.version = 1,
		.max_buckets = 64,
		.count = 5,
		.zero = 1,
		.inf = 1,
		.nan = 1,
		.negative = 1,
		.collapsed = 0,
		.min = 0.0,
		.max = INFINITY,
		.sum = 3.5,
		.off = 1023 * 64,
		.len = 33,
		.counts = { [0] = 2, [32] = 1 },
	};
	struct stats_sketch *s = new_sketch(64);
	uint8_t want[1024], *got;
	size_t wlen, glen;
	struct fmt f;

	(void)state;
	assert_int_equal(ref_index(1.0, NULL, NULL), good.off);
	assert_int_equal(ref_index(1.5, NULL, NULL), good.off + 32);
	assert_int_equal(stats_sketch_add(s, in, sizeof in / sizeof in[0]), STATS_OK);
	got = serialize(s, &glen);
	wlen = encode(&good, want, sizeof want);
	assert_int_equal(glen, wlen);
	assert_memory_equal(got, want, wlen);
	free(got);
	stats_sketch_free(s);
	assert_int_equal(decode(&good), STATS_OK);

#define BAD(field, value, status)                                                                  \
	do {                                                                                       \
		f = good;                                                                          \
		f.field = value;                                                                   \
		if (decode(&f) != (status))                                                        \
			fail_msg("%s = %s accepted or wrong status", #field, #value);              \
	} while (0)

	BAD(version, 0, STATS_EVERSION);
	BAD(version, 2, STATS_EVERSION);
	BAD(max_buckets, 63, STATS_EFORMAT);
	BAD(max_buckets, STATS_SKETCH_MAX_BUCKETS_LIMIT + 1, STATS_EFORMAT);
	BAD(max_buckets, UINT64_MAX, STATS_EFORMAT);
	BAD(count, 6, STATS_EFORMAT);
	BAD(count, 4, STATS_EFORMAT);
	BAD(zero, 2, STATS_EFORMAT);
	BAD(inf, 0, STATS_EFORMAT);
	BAD(nan, UINT64_MAX, STATS_EFORMAT); /* total passes 2^64 */
	BAD(negative, UINT64_MAX - 5, STATS_EFORMAT);
	BAD(collapsed, 4, STATS_EFORMAT); /* more than the 3 values in buckets */
	BAD(min, -0.0, STATS_EFORMAT);
	BAD(min, NAN, STATS_EFORMAT);
	BAD(min, 1.0, STATS_EFORMAT); /* zero > 0 needs min < DBL_MIN */
	BAD(min, -1.0, STATS_EFORMAT);
	BAD(max, 1.5, STATS_EFORMAT); /* inf > 0 needs max = +Inf */
	BAD(max, NAN, STATS_EFORMAT);
	BAD(sum, -1.0, STATS_EFORMAT);
	BAD(sum, NAN, STATS_EFORMAT);
	BAD(off, 0, STATS_EFORMAT);
	BAD(off, IDX_MIN - 1, STATS_EFORMAT);
	BAD(off, IDX_END - 32, STATS_EFORMAT); /* the window passes the index space */
	BAD(off, UINT64_MAX, STATS_EFORMAT);
	BAD(len, 65, STATS_EFORMAT);	   /* more than max_buckets */
	BAD(len, 0, STATS_EFORMAT);	   /* off must then be 0 */
	BAD(counts[32], 0, STATS_EFORMAT); /* and the count is off by one */
	BAD(counts[1], 1, STATS_EFORMAT);

	/* a long window that the input does not hold: rejected before allocating it */
	f = good;
	f.max_buckets = STATS_SKETCH_MAX_BUCKETS_LIMIT;
	f.len = 100000;
	assert_int_equal(decode(&f), STATS_EFORMAT);
	/* the window's ends must be occupied */
	f = good;
	f.counts[32] = 0;
	f.counts[31] = 1;
	assert_int_equal(decode(&f), STATS_EFORMAT);
	f = good;
	f.counts[0] = 0;
	f.counts[1] = 2;
	assert_int_equal(decode(&f), STATS_EFORMAT);
	/* the window where off + len is exactly the end of the index space is fine */
	f = good;
	f.zero = 0, f.inf = 0, f.count = 3, f.min = 0x1.7cp1023, f.max = DBL_MAX, f.sum = INFINITY;
	f.off = IDX_END - 33;
	assert_int_equal(decode(&f), STATS_OK);
	/* without zeros or collapsed values, min and max lie in the end buckets */
	f = good;
	f.zero = 0, f.count = 4, f.min = 1.0;
	assert_int_equal(decode(&f), STATS_OK);
	f.min = 0.9; /* below the first bucket: only with a collapsed value */
	assert_int_equal(decode(&f), STATS_EFORMAT);
	f.collapsed = 1;
	assert_int_equal(decode(&f), STATS_OK);
	f.min = 1.2; /* above the first bucket: never */
	assert_int_equal(decode(&f), STATS_EFORMAT);
	f = good;
	f.inf = 0, f.count = 4, f.max = 1.5;
	assert_int_equal(decode(&f), STATS_OK);
	f.max = 1.6;
	assert_int_equal(decode(&f), STATS_EFORMAT);
	f.max = 1.4;
	assert_int_equal(decode(&f), STATS_EFORMAT);

	/* empty: min +Inf, max -Inf, sum 0, no window */
	f = (struct fmt){ .version = 1, .max_buckets = 2048, .min = INFINITY, .max = -INFINITY };
	assert_int_equal(decode(&f), STATS_OK);
	f.nan = 3;
	assert_int_equal(decode(&f), STATS_OK);
	f.min = NAN;
	assert_int_equal(decode(&f), STATS_EFORMAT);
	f.min = INFINITY, f.sum = 1;
	assert_int_equal(decode(&f), STATS_EFORMAT);
	f.sum = 0, f.off = 100;
	assert_int_equal(decode(&f), STATS_EFORMAT);
	/* only +Inf values: min = max = +Inf */
	f = (struct fmt){ .version = 1,
			  .max_buckets = 64,
			  .count = 2,
			  .inf = 2,
			  .min = INFINITY,
			  .max = INFINITY };
	assert_int_equal(decode(&f), STATS_OK);
	f.min = 1.0;
	assert_int_equal(decode(&f), STATS_EFORMAT);
#undef BAD

	/* a non-canonical varint (64 as 0xc0 0x00), a NULL buffer */
	{
		uint8_t b[1024];
		size_t n = encode(&good, b, sizeof b);
		enum stats_status st = STATS_OK;

		assert_int_equal(b[5], 64);
		memmove(b + 7, b + 6, n - 6);
		b[5] = 0xc0;
		b[6] = 0x00;
		assert_null(stats_sketch_deserialize(b, n + 1, &st));
		assert_int_equal(st, STATS_EFORMAT);
		assert_null(stats_sketch_deserialize(NULL, 0, &st));
		assert_int_equal(st, STATS_EFORMAT);
	}
}

#define ACCURACY(d)                                                                                \
	{                                                                                          \
		"accuracy_" #d, test_accuracy, NULL, NULL, (void *)(intptr_t)(d)                   \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		ACCURACY(UNIFORM),
		ACCURACY(EXPONENTIAL),
		ACCURACY(LOGNORMAL1),
		ACCURACY(LOGNORMAL2),
		ACCURACY(PARETO),
		ACCURACY(BIMODAL),
		ACCURACY(SPAN),
		cmocka_unit_test(test_exact_buckets),
		cmocka_unit_test(test_merge_halves),
		cmocka_unit_test(test_order_and_chunks),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_collapse),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_specials),
		cmocka_unit_test(test_einval),
		cmocka_unit_test(test_clone_reset),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_format),
	};

	if (stats_init() != STATS_OK)
		return 1;
	return TU_RUN(tests);
}
