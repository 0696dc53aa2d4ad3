/*
 * test_baseline.c -- the baseline (agent/baseline.c): the builder on records made here
 * (numeric edges equal stats_edges_quantile of the same values, bin counts, missing and
 * mismatched values, categorical bound, IQR against a sort-based computation and against values
 * numpy.percentile gave, accuracy, regression, errors, latency), the lookup, the JSON round
 * trip (exact, doubles included), and from_json's refusal of each malformed variant.
 */
#include "agent/baseline.h"
#include "testutil.h"

#include <float.h>

/* ---- records made by hand ---- */

struct trec {
	struct conn_record r;
	struct conn_feature f[16];
};

static struct conn_value num(double x)
{
	return (struct conn_value){ .kind = CONN_VALUE_NUMBER, .num = x };
}

static struct conn_value str(const char *s)
{
	return (struct conn_value){ .kind = CONN_VALUE_STRING, .str = s, .len = strlen(s) };
}

static struct conn_value boolean(int b)
{
	return (struct conn_value){ .kind = CONN_VALUE_BOOL, .b = b };
}

static struct conn_value missing(void)
{
	return (struct conn_value){ .kind = CONN_VALUE_MISSING };
}

static void rec_init(struct trec *t)
{
	memset(t, 0, sizeof *t);
	t->r.model = "m";
	t->r.model_len = 1;
	t->r.version = "v1";
	t->r.version_len = 2;
	t->r.features = t->f;
}

static void rec_feat(struct trec *t, const char *name, struct conn_value v)
{
	struct conn_feature *f = &t->f[t->r.nfeatures++];

	assert_true(t->r.nfeatures <= 16);
	f->name = name;
	f->name_len = strlen(name);
	f->value = v;
}

static struct agent_baseline_builder *new_builder(size_t bins, size_t maxc)
{
	struct agent_baseline_builder *bb = agent_baseline_builder_new("m", "v1", bins, maxc, 0.5);

	assert_non_null(bb);
	return bb;
}

static struct agent_baseline *finish(struct agent_baseline_builder *bb)
{
	char err[256] = "";
	struct agent_baseline *b =
	    agent_baseline_builder_finish(bb, 1795730040123LL, err, sizeof err);

	if (!b)
		fail_msg("finish: %s", err);
	return b;
}

static const struct agent_bfeature *feature(const struct agent_baseline *b, const char *name)
{
	const struct agent_bfeature *f = agent_baseline_feature(b, name, strlen(name));

	if (!f)
		fail_msg("no feature %s", name);
	return f;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* q75 - q25 by sorting and interpolating linearly between order statistics. */
static double ref_iqr(const double *x, size_t n)
{
	double *s = malloc(n * sizeof *s), q[2];

	assert_non_null(s);
	memcpy(s, x, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	for (int k = 0; k < 2; k++) {
		double pos = (double)(n - 1) * (k ? 0.75 : 0.25);
		size_t lo = (size_t)pos;
		double frac = pos - (double)lo;

		q[k] = lo + 1 < n ? s[lo] + frac * (s[lo + 1] - s[lo]) : s[lo];
	}
	free(s);
	return q[1] - q[0];
}

/* The baseline's numeric feature has exactly the edges and counts of the values. */
static void check_numeric(const struct agent_bfeature *f, const double *x, size_t n, size_t bins)
{
	double *want = malloc((bins + 1) * sizeof *want);
	size_t nwant = 0;
	struct stats_hist *h;

	assert_non_null(want);
	assert_false(f->categorical);
	assert_int_equal(stats_edges_quantile(x, n, bins, want, &nwant), STATS_OK);
	assert_int_equal(stats_hist_bins(f->hist) + 1, nwant);
	for (size_t k = 0; k < nwant; k++)
		if (memcmp(&stats_hist_edges(f->hist)[k], &want[k], sizeof(double)) != 0)
			fail_msg("%s: edge %zu = %.17g, want %.17g", f->name, k,
				 stats_hist_edges(f->hist)[k], want[k]);
	h = stats_hist_new_edges(want, nwant, NULL);
	assert_non_null(h);
	stats_hist_add(h, x, n);
	assert_memory_equal(stats_hist_counts(f->hist), stats_hist_counts(h),
			    (nwant + 2) * sizeof(uint64_t));
	assert_int_equal(stats_hist_total(f->hist), n);
	stats_hist_free(h);
	free(want);
}

/* ---- builder ---- */

static void test_numeric(void **state)
{
	struct agent_baseline_builder *bb = new_builder(20, 0);
	struct agent_baseline *b;
	struct tu_rng rng = { 42 };
	enum { N = 5000 };
	double *x = malloc(N * sizeof *x), *d = malloc(N * sizeof *d);
	size_t nx = 0, nd = 0, nmiss_d = 0;
	struct trec t;

	(void)state;
	assert_non_null(x);
	assert_non_null(d);
	for (int i = 0; i < N; i++) {
		rec_init(&t);
		x[nx] = exp(tu_normal(&rng));
		rec_feat(&t, "x", num(x[nx++]));
		if (i % 7 == 0) {
			rec_feat(&t, "d", missing()); /* null */
			nmiss_d++;
		} else if (i % 11 == 0) {
			nmiss_d++; /* absent */
		} else {
			d[nd] = (double)(tu_next(&rng) % 5); /* discrete: one bin per value */
			rec_feat(&t, "d", num(d[nd++]));
		}
		assert_int_equal(agent_baseline_builder_add(bb, &t.r), 0);
	}
	b = finish(bb);
	assert_int_equal(b->samples, N);
	assert_int_equal(b->nfeatures, 2);
	assert_string_equal(b->features[0].name, "d");
	assert_string_equal(b->features[1].name, "x");
	assert_string_equal(b->model, "m");
	assert_string_equal(b->version, "v1");
	assert_true(b->created_ms == 1795730040123LL);
	assert_null(b->metadata);
	assert_false(b->has_prediction);

	check_numeric(feature(b, "x"), x, nx, 20);
	assert_int_equal(stats_hist_bins(feature(b, "x")->hist), 20);
	assert_int_equal(feature(b, "x")->missing, 0);
	tu_assert_rel(feature(b, "x")->iqr, ref_iqr(x, nx), 1e-12, "iqr x");

	check_numeric(feature(b, "d"), d, nd, 20);
	assert_int_equal(stats_hist_bins(feature(b, "d")->hist), 5);
	assert_int_equal(feature(b, "d")->missing, nmiss_d);
	assert_int_equal(feature(b, "d")->mismatched, 0);
	tu_assert_rel(feature(b, "d")->iqr, ref_iqr(d, nd), 1e-12, "iqr d");
	agent_baseline_free(b);

	/* the IQR is numpy.percentile's, bit for bit (values from numpy 1.24) */
	{
		static const double a[] = { 0.1, 0.7, 0.2, 1e3, -5, 3.3, 2.2 };
		static const double c[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
		struct {
			const double *v;
			size_t n;
			double iqr;
		} cases[] = { { a, 7, 2.75 - 0.15000000000000002 },
			      { c, 10, 4.5 },
			      { c, 4, 1.5 },
			      { a + 3, 1, 0.0 } };

		for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			bb = new_builder(4, 0);
			for (size_t i = 0; i < cases[k].n; i++) {
				rec_init(&t);
				rec_feat(&t, "v", num(cases[k].v[i]));
				agent_baseline_builder_add(bb, &t.r);
			}
			b = finish(bb);
			if (feature(b, "v")->iqr != cases[k].iqr)
				fail_msg("case %zu: iqr %.17g, numpy %.17g", k,
					 feature(b, "v")->iqr, cases[k].iqr);
			agent_baseline_free(b);
		}
	}
	free(x);
	free(d);
}

static void test_categorical(void **state)
{
	struct agent_baseline_builder *bb = new_builder(0, 3);
	struct agent_baseline *b;
	const struct agent_bfeature *f;
	char longv[300];
	struct trec t;
	size_t len;
	const char *vals[] = { "DE", "FR", "DE", "US", "IT", "ES", "DE", "__other__", longv, "FR" };

	(void)state;
	memset(longv, 'z', 257);
	longv[257] = '\0';
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		rec_init(&t);
		rec_feat(&t, "country", str(vals[i]));
		rec_feat(&t, "is_new", i % 3 ? boolean(1) : boolean(0));
		if (i == 0)
			rec_feat(&t, "only_null", missing());
		assert_int_equal(agent_baseline_builder_add(bb, &t.r), 0);
	}
	b = finish(bb);
	f = feature(b, "country");
	assert_true(f->categorical);
	assert_null(f->hist);
	assert_true(isnan(f->iqr));
	/* bound 3: DE, FR, US interned in first-seen order; IT, ES, "__other__", long -> other */
	assert_int_equal(stats_cat_size(f->cat), 3);
	assert_int_equal(stats_cat_max_values(f->cat), 3);
	assert_string_equal(stats_cat_value(f->cat, 0, &len), "DE");
	assert_int_equal(stats_cat_count(f->cat, 0), 3);
	assert_string_equal(stats_cat_value(f->cat, 1, &len), "FR");
	assert_int_equal(stats_cat_count(f->cat, 1), 2);
	assert_string_equal(stats_cat_value(f->cat, 2, &len), "US");
	assert_int_equal(stats_cat_count(f->cat, 2), 1);
	assert_int_equal(stats_cat_other(f->cat), 4);
	assert_int_equal(f->missing, 0);

	f = feature(b, "is_new");
	assert_true(f->categorical);
	assert_int_equal(stats_cat_count(f->cat, stats_cat_find(f->cat, "true", 4)), 6);
	assert_int_equal(stats_cat_count(f->cat, stats_cat_find(f->cat, "false", 5)), 4);

	/* never seen with a value: an empty categorical, everything missing */
	f = feature(b, "only_null");
	assert_true(f->categorical);
	assert_int_equal(stats_cat_total(f->cat), 0);
	assert_int_equal(f->missing, b->samples);
	agent_baseline_free(b);
}

static void test_kinds(void **state)
{
	struct agent_baseline_builder *bb = new_builder(10, 0);
	struct agent_baseline *b;
	const struct agent_bfeature *f;
	struct trec t;

	(void)state;
	/* r1: a null first (no kind yet), r2: numeric decides, r3: a string is mismatched, r4:
	 * non-finite numbers are missing, r5: a repeated name counts once (the first value) */
	rec_init(&t);
	rec_feat(&t, "a", missing());
	rec_feat(&t, "b", str("x"));
	agent_baseline_builder_add(bb, &t.r);
	rec_init(&t);
	rec_feat(&t, "a", num(1.5));
	rec_feat(&t, "b", num(3));
	agent_baseline_builder_add(bb, &t.r);
	rec_init(&t);
	rec_feat(&t, "a", str("oops"));
	rec_feat(&t, "b", boolean(1));
	agent_baseline_builder_add(bb, &t.r);
	rec_init(&t);
	rec_feat(&t, "a", num(NAN));
	rec_feat(&t, "b", num(INFINITY));
	agent_baseline_builder_add(bb, &t.r);
	rec_init(&t);
	rec_feat(&t, "a", num(2.5));
	rec_feat(&t, "a", num(99));
	rec_feat(&t, "", num(1)); /* an empty name is ignored */
	agent_baseline_builder_add(bb, &t.r);
	b = finish(bb);
	assert_int_equal(b->samples, 5);
	assert_int_equal(b->nfeatures, 2);

	f = feature(b, "a");
	assert_false(f->categorical);
	assert_int_equal(stats_hist_total(f->hist), 2); /* 1.5, 2.5 */
	assert_true(stats_hist_edges(f->hist)[0] == 1.5);
	assert_int_equal(f->mismatched, 1);
	assert_int_equal(f->missing, 2);
	f = feature(b, "b");
	assert_true(f->categorical);
	assert_int_equal(stats_cat_total(f->cat), 2); /* "x", true */
	assert_int_equal(f->mismatched, 1);	      /* 3 */
	assert_int_equal(f->missing, 2);	      /* inf, absent */
	agent_baseline_free(b);
}

static void test_prediction_and_scores(void **state)
{
	struct agent_baseline_builder *bb = new_builder(5, 0);
	struct agent_baseline *b;
	struct trec t;
	size_t len;

	(void)state;
	/* binary classification with a numeric prediction and threshold 0.5 */
	for (int i = 0; i < 10; i++) {
		rec_init(&t);
		t.r.prediction = num(i / 10.0);
		t.r.label = num(i % 2);
		t.r.has_latency = 1;
		t.r.latency_ms = 10.0 * (i + 1);
		t.r.has_error = i < 8;
		t.r.error = i == 3;
		agent_baseline_builder_add(bb, &t.r);
	}
	/* regression: labels other than 0/1 */
	rec_init(&t);
	t.r.prediction = num(2.0);
	t.r.label = num(3.5);
	agent_baseline_builder_add(bb, &t.r);
	rec_init(&t);
	t.r.prediction = num(7.0);
	t.r.label = num(4.0);
	agent_baseline_builder_add(bb, &t.r);
	/* a string prediction on a numeric prediction feature: mismatched, scored as text */
	rec_init(&t);
	t.r.prediction = str("yes");
	t.r.label = str("yes");
	agent_baseline_builder_add(bb, &t.r);
	/* no prediction, no label */
	rec_init(&t);
	agent_baseline_builder_add(bb, &t.r);
	b = finish(bb);

	assert_int_equal(b->samples, 14);
	assert_true(b->has_prediction);
	assert_string_equal(b->prediction.name, AGENT_PREDICTION_FEATURE);
	assert_false(b->prediction.categorical);
	assert_int_equal(stats_hist_total(b->prediction.hist), 12);
	assert_int_equal(b->prediction.mismatched, 1);
	assert_int_equal(b->prediction.missing, 1);
	assert_null(agent_baseline_feature(b, AGENT_PREDICTION_FEATURE, 14));
	/* (i/10 >= 0.5) == (i odd): right for i = 0, 2, 4, 5, 7, 9; wrong for 1, 3, 6, 8; plus
	 * "yes" == "yes" */
	assert_int_equal(b->scored, 11);
	assert_int_equal(b->correct, 7);
	assert_int_equal(b->reg_n, 2);
	assert_true(b->abs_err_sum == 1.5 + 3.0);
	assert_int_equal(b->error_known, 8);
	assert_int_equal(b->errors, 1);
	/* latency in seconds */
	assert_int_equal(stats_sketch_count(b->latency), 10);
	assert_true(stats_sketch_min(b->latency) == 0.01);
	assert_true(stats_sketch_max(b->latency) == 0.1);
	agent_baseline_free(b);

	/* a categorical prediction */
	bb = new_builder(5, 0);
	rec_init(&t);
	t.r.prediction = str("fraud");
	agent_baseline_builder_add(bb, &t.r);
	b = finish(bb);
	assert_true(b->has_prediction && b->prediction.categorical);
	assert_string_equal(stats_cat_value(b->prediction.cat, 0, &len), "fraud");
	assert_int_equal(b->scored, 0);
	assert_int_equal(stats_sketch_count(b->latency), 0);
	agent_baseline_free(b);
}

static void test_builder_errors(void **state)
{
	char err[128] = "";
	struct agent_baseline_builder *bb = new_builder(20, 0);

	(void)state;
	assert_null(agent_baseline_builder_finish(bb, 0, err, sizeof err));
	assert_non_null(strstr(err, "no record"));
	assert_null(agent_baseline_builder_new("m", "v", STATS_HIST_MAX_BINS + 1, 0, 0.5));
	assert_null(agent_baseline_builder_new("m", "v", 20, STATS_CAT_MAX_VALUES_LIMIT + 1, 0.5));
	/* bins 0 means the default, 20 */
	bb = new_builder(0, 0);
	for (int i = 0; i < 100; i++) {
		struct trec t;

		rec_init(&t);
		rec_feat(&t, "x", num(i));
		agent_baseline_builder_add(bb, &t.r);
	}
	{
		struct agent_baseline *b = finish(bb);

		assert_int_equal(stats_hist_bins(feature(b, "x")->hist), 20);
		agent_baseline_free(b);
	}
}

static void test_lookup(void **state)
{
	struct agent_baseline_builder *bb = new_builder(5, 0);
	struct agent_baseline *b;
	const char *names[] = { "b", "ab", "a", "abc", "B", "\xc3\xa9t\xc3\xa9", "z" };
	struct trec t;

	(void)state;
	rec_init(&t);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		rec_feat(&t, names[i], num((double)i));
	agent_baseline_builder_add(bb, &t.r);
	b = finish(bb);
	assert_int_equal(b->nfeatures, 7);
	for (size_t i = 1; i < b->nfeatures; i++)
		assert_true(strcmp(b->features[i - 1].name, b->features[i].name) < 0);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_string_equal(feature(b, names[i])->name, names[i]);
	/* names are not NUL-terminated: a prefix of a longer buffer */
	assert_string_equal(agent_baseline_feature(b, "abcdef", 2)->name, "ab");
	assert_string_equal(agent_baseline_feature(b, "abcdef", 3)->name, "abc");
	assert_null(agent_baseline_feature(b, "abcdef", 4));
	assert_null(agent_baseline_feature(b, "", 0));
	assert_null(agent_baseline_feature(b, "zz", 2));
	assert_null(agent_baseline_feature(b, "a\0b", 3));
	agent_baseline_free(b);
}

/* ---- JSON ---- */

/* A baseline with every kind of content, doubles that are hard to print included. */
static struct agent_baseline *rich_baseline(void)
{
	struct agent_baseline_builder *bb = new_builder(6, 4);
	static const double hard[] = { 0.1,  1.0 / 3,	1e-300, 5e-324,	 1e300,
				       -2.5, 0.1 + 0.2, -0.0,	DBL_MAX, 123456789.123456789 };
	struct agent_baseline *b;
	struct tu_rng rng = { 7 };
	struct trec t;

	for (int i = 0; i < 200; i++) {
		rec_init(&t);
		rec_feat(&t, "hard", num(hard[i % 10]));
		rec_feat(&t, "amount", num(100 * tu_uniform(&rng)));
		rec_feat(&t, "country", str(i % 3 ? "DE" : i % 5 ? "FR" : "\xe6\x97\xa5\"\\\n"));
		if (i % 4)
			rec_feat(&t, "device", str(i % 7 ? "ios" : "android"));
		if (i == 5)
			rec_feat(&t, "device", num(1)); /* repeated: ignored */
		if (i == 6)
			t.f[1].value = str("n/a"); /* a string where numbers are: mismatched */
		t.r.prediction = num(tu_uniform(&rng));
		t.r.label = num(i % 2);
		t.r.has_latency = i % 9 != 0;
		t.r.latency_ms = 1 + 50 * tu_uniform(&rng);
		t.r.has_error = 1;
		t.r.error = i % 50 == 0;
		agent_baseline_builder_add(bb, &t.r);
	}
	rec_init(&t);
	t.r.prediction = num(3);
	t.r.label = num(1.25);
	agent_baseline_builder_add(bb, &t.r);
	b = finish(bb);
	b->metadata =
	    strdup("{\"model\":\"m\",\"version\":\"v1\",\"training_data_hash\":\"sha256:ab\","
		   "\"feature_params\":{\"scale\":0.1},\"hyperparams\":{\"lr\":1e-3},"
		   "\"tags\":{}}");
	assert_non_null(b->metadata);
	return b;
}

static void check_same_feature(const struct agent_bfeature *x, const struct agent_bfeature *y)
{
	assert_string_equal(x->name, y->name);
	assert_int_equal(x->categorical, y->categorical);
	assert_int_equal(x->missing, y->missing);
	assert_int_equal(x->mismatched, y->mismatched);
	assert_memory_equal(&x->iqr, &y->iqr, sizeof(double));
	if (!x->categorical) {
		size_t bins = stats_hist_bins(x->hist);

		assert_int_equal(bins, stats_hist_bins(y->hist));
		assert_memory_equal(stats_hist_edges(x->hist), stats_hist_edges(y->hist),
				    (bins + 1) * sizeof(double));
		assert_memory_equal(stats_hist_counts(x->hist), stats_hist_counts(y->hist),
				    (bins + 3) * sizeof(uint64_t));
	} else {
		size_t n = stats_cat_size(x->cat), lx, ly;

		assert_int_equal(n, stats_cat_size(y->cat));
		assert_int_equal(stats_cat_max_values(x->cat), stats_cat_max_values(y->cat));
		assert_int_equal(stats_cat_other(x->cat), stats_cat_other(y->cat));
		for (size_t i = 0; i < n; i++) {
			const char *vx = stats_cat_value(x->cat, i, &lx),
				   *vy = stats_cat_value(y->cat, i, &ly);

			assert_int_equal(lx, ly);
			assert_memory_equal(vx, vy, lx);
			assert_int_equal(stats_cat_count(x->cat, i), stats_cat_count(y->cat, i));
		}
	}
}

static void test_json_roundtrip(void **state)
{
	struct agent_baseline *b = rich_baseline(), *c;
	char *j1 = agent_baseline_to_json(b), *j2, err[256] = "";
	uint8_t s1[65536], s2[65536];
	size_t l1, l2;

	(void)state;
	assert_non_null(j1);
	c = agent_baseline_from_json(j1, strlen(j1), err, sizeof err);
	if (!c)
		fail_msg("from_json: %s\n%s", err, j1);
	j2 = agent_baseline_to_json(c);
	assert_non_null(j2);
	assert_string_equal(j1, j2);

	assert_string_equal(b->model, c->model);
	assert_string_equal(b->version, c->version);
	assert_true(b->created_ms == c->created_ms);
	assert_int_equal(b->samples, c->samples);
	assert_int_equal(b->nfeatures, c->nfeatures);
	for (size_t i = 0; i < b->nfeatures; i++)
		check_same_feature(&b->features[i], &c->features[i]);
	assert_int_equal(b->has_prediction, c->has_prediction);
	check_same_feature(&b->prediction, &c->prediction);
	assert_int_equal(stats_sketch_serialize(b->latency, s1, sizeof s1, &l1), STATS_OK);
	assert_int_equal(stats_sketch_serialize(c->latency, s2, sizeof s2, &l2), STATS_OK);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	assert_int_equal(b->scored, c->scored);
	assert_int_equal(b->correct, c->correct);
	assert_int_equal(b->reg_n, c->reg_n);
	assert_memory_equal(&b->abs_err_sum, &c->abs_err_sum, sizeof(double));
	assert_int_equal(b->errors, c->errors);
	assert_int_equal(b->error_known, c->error_known);
	assert_non_null(c->metadata);
	/* the hard doubles came back bit for bit (checked through the edges above) */
	assert_int_equal(stats_hist_bins(feature(c, "hard")->hist), 6);
	assert_int_equal(feature(c, "amount")->mismatched, 1);

	/* no prediction, no metadata, no latency */
	agent_baseline_free(c);
	free(j2);
	{
		struct agent_baseline_builder *bb = new_builder(3, 0);
		struct trec t;

		rec_init(&t);
		rec_feat(&t, "x", num(1));
		agent_baseline_builder_add(bb, &t.r);
		c = finish(bb);
		free(j2 = agent_baseline_to_json(c));
		assert_non_null(j2);
		agent_baseline_free(c);
	}
	agent_baseline_free(b);
	free(j1);
}

/* ---- from_json refusals ---- */

/* A JSON Pointer-like path "a/0/b" into doc (array indices as numbers). */
static json_t *at(json_t *doc, const char *path)
{
	char buf[128], *save = NULL, *tok;
	json_t *v = doc;

	snprintf(buf, sizeof buf, "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok && v; tok = strtok_r(NULL, "/", &save))
		v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10))
				     : json_object_get(v, tok);
	assert_non_null(v);
	return v;
}

/* obj at parent path: key = value (stolen); value NULL deletes key. */
static void set(json_t *doc, const char *parent, const char *key, json_t *value)
{
	json_t *p = parent[0] ? at(doc, parent) : doc;

	if (json_is_array(p)) {
		size_t i = strtoul(key, NULL, 10);

		if (value)
			assert_int_equal(json_array_set_new(p, i, value), 0);
		else
			assert_int_equal(json_array_remove(p, i), 0);
		return;
	}
	if (value)
		assert_int_equal(json_object_set_new(p, key, value), 0);
	else
		assert_int_equal(json_object_del(p, key), 0);
}

/* One malformed variant of the valid document. */
struct mutation {
	const char *what;
	const char *parent; /* "" for the top object */
	const char *key;
	const char *value; /* JSON text, or NULL to delete */
};

/* Indices in the rich baseline: features sorted amount, country, device, hard. */
static const struct mutation mutations[] = {
	{ "schema missing", "", "schema", NULL },
	{ "schema 2", "", "schema", "2" },
	{ "schema string", "", "schema", "\"1\"" },
	{ "unknown key", "", "extra", "1" },
	{ "model missing", "", "model", NULL },
	{ "model empty", "", "model", "\"\"" },
	{ "model number", "", "model", "7" },
	{ "model too long", "", "model",
	  "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "x"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"" },
	{ "version missing", "", "version", NULL },
	{ "created_ms negative", "", "created_ms", "-1" },
	{ "created_ms real", "", "created_ms", "1.5" },
	{ "created differs", "", "created", "\"2026-01-01T00:00:00.000Z\"" },
	{ "samples 0", "", "samples", "0" },
	{ "samples negative", "", "samples", "-3" },
	{ "samples real", "", "samples", "201.0" },
	{ "samples off by one", "", "samples", "202" },
	{ "metadata string", "", "metadata", "\"x\"" },
	{ "metadata missing", "", "metadata", NULL },
	{ "features object", "", "features", "{}" },
	{ "feature not an object", "features", "0", "1" },
	{ "feature unknown key", "features/0", "extra", "1" },
	{ "feature name missing", "features/0", "name", NULL },
	{ "feature name empty", "features/0", "name", "\"\"" },
	{ "features unsorted", "features/0", "name", "\"zzz\"" },
	{ "feature names repeated", "features/1", "name", "\"amount\"" },
	{ "kind unknown", "features/0", "kind", "\"ordinal\"" },
	{ "kind missing", "features/0", "kind", NULL },
	{ "missing negative", "features/0", "missing", "-1" },
	{ "missing too many", "features/0", "missing", "5" },
	{ "edges missing", "features/0", "edges", NULL },
	{ "one edge", "features/0", "edges", "[1.0]" },
	{ "edges not increasing", "features/0/edges", "1", "0.0" },
	{ "edge repeated", "features/0/edges", "2", "-1e308" },
	{ "edge not a number", "features/0/edges", "1", "\"inf\"" },
	{ "edge null", "features/0/edges", "1", "null" },
	{ "counts short", "features/0/counts", "0", NULL },
	{ "count negative", "features/0/counts", "0", "-1" },
	{ "count real", "features/0/counts", "0", "1.0" },
	{ "count overflow", "features/0/counts", "0", "9223372036854775807" },
	{ "underflow missing", "features/0", "underflow", NULL },
	{ "overflow wrong", "features/0", "overflow", "1" },
	{ "iqr negative", "features/0", "iqr", "-1.0" },
	{ "iqr string", "features/0", "iqr", "\"1\"" },
	{ "iqr missing", "features/0", "iqr", NULL },
	{ "numeric with values", "features/0", "values", "[]" },
	{ "categorical with iqr", "features/1", "iqr", "1.0" },
	{ "categorical with edges", "features/1", "edges", "[0.0, 1.0]" },
	{ "values repeated", "features/1/values", "0", "\"DE\"" },
	{ "value too long", "features/1/values", "0",
	  "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
	  "zz"
	  "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
	  "zzz"
	  "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"" },
	{ "value __other__", "features/1/values", "0", "\"__other__\"" },
	{ "value number", "features/1/values", "0", "1" },
	{ "values longer than counts", "features/1/counts", "0", NULL },
	{ "max_categories 0", "features/1", "max_categories", "0" },
	{ "more values than max_categories", "features/1", "max_categories", "1" },
	{ "max_categories too big", "features/1", "max_categories", "65537" },
	{ "other missing", "features/1", "other", NULL },
	{ "other wrong", "features/1", "other", "1000" },
	{ "prediction missing", "", "prediction", NULL },
	{ "prediction renamed", "prediction", "name", "\"score\"" },
	{ "prediction an array", "", "prediction", "[]" },
	{ "latency missing", "", "latency", NULL },
	{ "latency unit", "latency", "unit", "\"ms\"" },
	{ "latency extra key", "latency", "p95", "1.0" },
	{ "sketch not base64", "latency", "sketch", "\"!!!!\"" },
	{ "sketch bad length", "latency", "sketch", "\"QUJD\\u0041\"" },
	{ "sketch not canonical", "latency", "sketch", "\"QR==\"" },
	{ "sketch padding inside", "latency", "sketch", "\"QQ==QUJD\"" },
	{ "sketch garbage", "latency", "sketch", "\"AAAAAAAA\"" },
	{ "sketch empty", "latency", "sketch", "\"\"" },
	{ "accuracy missing", "", "accuracy", NULL },
	{ "correct above scored", "accuracy", "correct", "1000" },
	{ "scored above samples", "accuracy", "scored", "10000" },
	{ "abs_err_sum negative", "regression", "abs_err_sum", "-1.0" },
	{ "abs_err_sum without n", "regression", "n", "0" },
	{ "regression n string", "regression", "n", "\"1\"" },
	{ "errors above known", "errors", "errors", "1000" },
	{ "known above samples", "errors", "known", "1000" },
	{ "errors extra key", "errors", "rate", "0.1" },
};

static void test_json_refusals(void **state)
{
	struct agent_baseline *b = rich_baseline(), *c;
	char *good = agent_baseline_to_json(b), err[256];
	size_t n = sizeof mutations / sizeof mutations[0];

	(void)state;
	assert_non_null(good);
	for (size_t i = 0; i < n; i++) {
		const struct mutation *m = &mutations[i];
		json_t *doc = json_loads(good, 0, NULL), *v = NULL;
		char *text;

		assert_non_null(doc);
		if (m->value) {
			v = json_loads(m->value, JSON_DECODE_ANY, NULL);
			if (!v)
				fail_msg("%s: bad test value", m->what);
		}
		set(doc, m->parent, m->key, v);
		text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
		assert_non_null(text);
		err[0] = '\0';
		c = agent_baseline_from_json(text, strlen(text), err, sizeof err);
		if (c)
			fail_msg("accepted: %s", m->what);
		if (!err[0])
			fail_msg("%s: no message", m->what);
		free(text);
		json_decref(doc);
	}

	/* texts that are not a baseline at all */
	{
		const char *bad[] = {
			"", "{", "[]", "null", "1", "{\"schema\":1}", "{\"schema\":1,\"schema\":1}"
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			err[0] = '\0';
			assert_null(
			    agent_baseline_from_json(bad[i], strlen(bad[i]), err, sizeof err));
			assert_true(err[0] != '\0');
		}
		/* a truncated document, every length */
		for (size_t len = 0; len < strlen(good); len += 7)
			assert_null(agent_baseline_from_json(good, len, NULL, 0));
	}
	/* the unchanged document is accepted (the mutations were the only fault) */
	c = agent_baseline_from_json(good, strlen(good), err, sizeof err);
	if (!c)
		fail_msg("%s", err);
	agent_baseline_free(c);
	agent_baseline_free(b);
	free(good);
}

/* The example of doc/baseline.md is a valid baseline. */
static void test_doc_example(void **state)
{
	static const char example[] =
	    "{\"schema\":1,\"model\":\"fraud\",\"version\":\"v2.3.1\",\"created\":\"2026-11-26T21"
	    ":54:00.123Z\",\"created_ms\":1795730040123,\"samples\":4,\"metadata\":{\"model\":\"f"
	    "raud\",\"version\":\"v2.3.1\",\"registered\":\"2026-11-20T09:00:00.000Z\","
	    "\"registered_ms\":1795165200000,\"training_data_hash\":\"sha256:9f2c41\","
	    "\"feature_params\":{\"scaler\":\"standard\"},\"hyperparams\":{\"max_depth\":6},"
	    "\"tags\":{\"team\":\"risk\"}},\"features\":[{\"name\":\"amount\","
	    "\"kind\":\"numeric\",\"missing\":1,\"mismatched\":0,\"iqr\":60.0,"
	    "\"edges\":[12.5,40.0,132.5,132.50000000000003],\"counts\":[1,"
	    "1,1],\"underflow\":0,\"overflow\":0},{\"name\":\"country\",\"kind\":\"categorical\","
	    "\"missing\":0,\"mismatched\":0,\"max_categories\":256,\"values\":[\"DE\","
	    "\"FR\"],\"counts\":[3,1],\"other\":0}],\"prediction\":{\"name\":\"__prediction__\","
	    "\"kind\":\"numeric\",\"missing\":0,\"mismatched\":0,\"iqr\":0.5,"
	    "\"edges\":[0.1,0.5,0.9,0.9000000000000001],\"counts\":[1,1,2],"
	    "\"underflow\":0,\"overflow\":0},\"latency\":{\"unit\":\"seconds\","
	    "\"sketch\":\"RFNLVAGAEAQAAAAAAILix5i7loA/Pldbsb/snj9YObTIdr6vP4L8A3oBAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ==\"},"
	    "\"accuracy\":{\"scored\":4,\"correct\":4},\"regression\":{\"n\":0,"
	    "\"abs_err_sum\":0.0},\"errors\":{\"known\":4,\"errors\":1}}";
	char err[256] = "";
	struct agent_baseline *b =
	    agent_baseline_from_json(example, strlen(example), err, sizeof err);

	(void)state;
	if (!b)
		fail_msg("doc example: %s", err);
	assert_int_equal(b->nfeatures, 2);
	assert_true(b->has_prediction);
	agent_baseline_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric),	       cmocka_unit_test(test_categorical),
		cmocka_unit_test(test_kinds),	       cmocka_unit_test(test_prediction_and_scores),
		cmocka_unit_test(test_builder_errors), cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_json_roundtrip), cmocka_unit_test(test_json_refusals),
		cmocka_unit_test(test_doc_example),
	};

	return TU_RUN(tests);
}
