/*
 * test_edges.c -- equal-frequency edges (stats_edges_quantile) against NumPy's 'inverted_cdf'
 * quantiles (tests/data/stats/edges.json, from tests/gen/gen_stats_vectors.py), plus the
 * properties every result must have: strictly increasing finite edges, each interior edge a data
 * value, max inside the last bin, and roughly equal counts on continuous data.
 */
#include "stats/hist.h"
#include "testutil.h"

#include <float.h>

static void test_vectors(void **state)
{
	json_t *doc = tu_load_json("stats/edges.json"), *cases = json_object_get(doc, "cases");
	size_t i;
	json_t *c;

	(void)state;
	assert_true(json_array_size(cases) >= 8);
	json_array_foreach(cases, i, c)
	{
		size_t n, nwant, bins = (size_t)json_integer_value(json_object_get(c, "bins"));
		double *x = tu_doubles(json_object_get(c, "x"), &n);
		double *want = tu_doubles(json_object_get(c, "edges"), &nwant);
		double *got = malloc((bins + 1) * sizeof *got);
		size_t ngot = 0;

		assert_int_equal(stats_edges_quantile(x, n, bins, got, &ngot), STATS_OK);
		if (ngot != nwant)
			fail_msg("%s: %zu edges, numpy %zu",
				 json_string_value(json_object_get(c, "name")), ngot, nwant);
		for (size_t k = 0; k < ngot; k++)
			if (got[k] != want[k])
				fail_msg("%s: edge %zu = %.17g, numpy %.17g",
					 json_string_value(json_object_get(c, "name")), k, got[k],
					 want[k]);
		free(x);
		free(want);
		free(got);
	}
	json_decref(doc);
}

static void test_properties(void **state)
{
	struct tu_rng r = { 7 };
	const size_t n = 100000, bins = 20;
	double *x = malloc(n * sizeof *x), e[21];
	size_t ne;
	struct stats_hist *h;

	(void)state;
	for (size_t i = 0; i < n; i++)
		x[i] = exp(tu_normal(&r));
	assert_int_equal(stats_edges_quantile(x, n, bins, e, &ne), STATS_OK);
	assert_int_equal(ne, bins + 1);
	h = stats_hist_new_edges(e, ne, NULL);
	assert_non_null(h);
	stats_hist_add(h, x, n);
	/* nothing outside; every bin within 1 value of n / bins (continuous data: no ties) */
	assert_true(stats_hist_underflow(h) == 0 && stats_hist_overflow(h) == 0);
	for (size_t k = 1; k <= bins; k++) {
		uint64_t c = stats_hist_counts(h)[k];
		assert_true(c + 1 >= n / bins && c <= n / bins + 1);
	}
	stats_hist_free(h);

	/* a point mass: one bin of its own */
	for (size_t i = 0; i < n; i++)
		x[i] = i % 10 < 6 ? 0.0 : 1.0 + tu_uniform(&r);
	assert_int_equal(stats_edges_quantile(x, n, bins, e, &ne), STATS_OK);
	assert_true(e[0] == 0.0 && e[1] > 0.0);
	for (size_t k = 1; k < ne; k++)
		assert_true(e[k] > e[k - 1]);
	free(x);
}

static void test_degenerate(void **state)
{
	double e[5];
	size_t ne = 0;
	const double constant[] = { 3.0, 3.0, 3.0 }, none[] = { NAN, INFINITY, -INFINITY };
	const double top[] = { 1.0, DBL_MAX, DBL_MAX }, alltop[] = { DBL_MAX, DBL_MAX };

	(void)state;
	assert_int_equal(stats_edges_quantile(constant, 3, 4, e, &ne), STATS_OK);
	assert_int_equal(ne, 2);
	assert_true(e[0] == 3.0 && e[1] == nextafter(3.0, INFINITY));
	assert_int_equal(stats_edges_quantile(none, 3, 4, e, &ne), STATS_EINVAL);
	assert_int_equal(stats_edges_quantile(constant, 0, 4, e, &ne), STATS_EINVAL);
	assert_int_equal(stats_edges_quantile(constant, 3, 0, e, &ne), STATS_EINVAL);
	/* DBL_MAX has no finite successor: it becomes the last edge (and counts as overflow) */
	assert_int_equal(stats_edges_quantile(top, 3, 2, e, &ne), STATS_OK);
	assert_int_equal(ne, 2);
	assert_true(e[0] == 1.0 && e[1] == DBL_MAX);
	assert_int_equal(stats_edges_quantile(alltop, 2, 4, e, &ne), STATS_OK);
	assert_int_equal(ne, 2);
	assert_true(e[0] < e[1] && e[1] == DBL_MAX);
	{
		struct stats_hist *h = stats_hist_new_edges(e, ne, NULL);
		assert_non_null(h);
		stats_hist_free(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_degenerate),
	};

	stats_init();
	return TU_RUN(tests);
}
