/*
 * test_window.c -- the live counts of a window (agent/window.c): numeric values binned into the
 * baseline's edges (underflow, overflow, +-Inf, NaN), nulls, absent and mismatched values,
 * features the baseline lacks, categorical counts and __other__, the monitored prediction, the
 * latency sketch, errors, accuracy scoring (agent_window_add and agent_window_add_label), merge
 * (same baseline, refused for another, span growth), the AGENT_COLUMN batching boundary and
 * agent_window_missing.
 *
 * The baseline is written out in the test: numeric "a" with edges 0 1 2 3 (slot 0 underflow,
 * slots 1..3 the bins [0,1) [1,2) [2,3), slot 4 overflow, slot 5 NaN; hist.h), categorical "c"
 * with the values "x" and "y", and a categorical prediction "cat" / "dog". Expected counts are
 * the definitions of hist.h, cat.h, accuracy.h and window.h applied by hand.
 */
#include "agent/window.h"
#include "testutil.h"

#include <string.h>

static const double EDGES[] = { 0, 1, 2, 3 };

static void bfeature_numeric(struct agent_bfeature *f, const char *name)
{
	double v[3] = { 0.5, 1.5, 2.5 };

	f->name = strdup(name);
	f->hist = stats_hist_new_edges(EDGES, 4, NULL);
	f->iqr = NAN;
	assert_non_null(f->hist);
	stats_hist_add(f->hist, v, 3); /* the baseline has counts; the window starts empty */
}

static void bfeature_categorical(struct agent_bfeature *f, const char *name, const char *v1,
				 const char *v2)
{
	f->name = strdup(name);
	f->categorical = 1;
	f->cat = stats_cat_new(256, NULL);
	f->iqr = NAN;
	assert_non_null(f->cat);
	stats_cat_add(f->cat, v1, strlen(v1), 10);
	stats_cat_add(f->cat, v2, strlen(v2), 10);
}

/* "a" numeric, "c" categorical (sorted by name), with or without the prediction. */
static struct agent_baseline *base_new(int with_prediction)
{
	struct agent_baseline *b = calloc(1, sizeof *b);

	assert_non_null(b);
	b->model = strdup("m");
	b->version = strdup("v1");
	b->samples = 20;
	b->nfeatures = 2;
	b->features = calloc(2, sizeof *b->features);
	b->latency = stats_sketch_new(0, NULL);
	assert_non_null(b->features);
	assert_non_null(b->latency);
	bfeature_numeric(&b->features[0], "a");
	bfeature_categorical(&b->features[1], "c", "x", "y");
	if (with_prediction) {
		bfeature_categorical(&b->prediction, AGENT_PREDICTION_FEATURE, "cat", "dog");
		b->has_prediction = 1;
	}
	return b;
}

/* ---- records ---- */

struct rec {
	struct conn_record r;
	struct conn_feature f[4];
};

static void rec_init(struct rec *x)
{
	memset(x, 0, sizeof *x);
	x->r.model = "m";
	x->r.model_len = 1;
	x->r.version = "v2";
	x->r.version_len = 2;
	x->r.features = x->f;
}

static void rec_feature(struct rec *x, const char *name, struct conn_value v)
{
	assert_true(x->r.nfeatures < 4);
	x->f[x->r.nfeatures++] =
	    (struct conn_feature){ .name = name, .name_len = strlen(name), .value = v };
}

static struct conn_value num(double v)
{
	return (struct conn_value){ .kind = CONN_VALUE_NUMBER, .num = v };
}

static struct conn_value str(const char *s)
{
	return (struct conn_value){ .kind = CONN_VALUE_STRING, .str = s, .len = strlen(s) };
}

static struct conn_value boolean(int b)
{
	return (struct conn_value){ .kind = CONN_VALUE_BOOL, .b = b };
}

static const struct conn_value null = { .kind = CONN_VALUE_MISSING };

static void add(struct agent_window *w, const struct rec *x)
{
	assert_int_equal(agent_window_add(w, &x->r, 0.5), 0);
}

/* One record with only the numeric feature "a" = v. */
static void add_a(struct agent_window *w, double v)
{
	struct rec x;

	rec_init(&x);
	rec_feature(&x, "a", num(v));
	add(w, &x);
}

static struct agent_window *win(const struct agent_baseline *b, int64_t start, int64_t end)
{
	struct agent_window *w = agent_window_new(start, end, b, 256);

	assert_non_null(w);
	return w;
}

static void assert_slots(const struct agent_lfeature *lf, const uint64_t want[6])
{
	const uint64_t *got = stats_hist_counts(lf->hist);

	for (size_t s = 0; s < 6; s++)
		if (got[s] != want[s])
			fail_msg("slot %zu: got %llu, want %llu", s, (unsigned long long)got[s],
				 (unsigned long long)want[s]);
}

static uint64_t cat_count(const struct stats_cat *c, const char *v)
{
	size_t i = stats_cat_find(c, v, strlen(v));

	return i == STATS_CAT_OTHER_INDEX ? 0 : stats_cat_count(c, i);
}

/* ---- tests ---- */

static void test_new(void **state)
{
	struct agent_baseline *b = base_new(1);
	struct agent_window *w = win(b, 60000, 120000);

	(void)state;
	assert_int_equal(w->start_ms, 60000);
	assert_int_equal(w->end_ms, 120000);
	assert_ptr_equal(w->base, b);
	assert_int_equal(w->n, 0);
	assert_int_equal(w->nf, 2);
	assert_ptr_equal(w->f[0].ref, &b->features[0]);
	assert_ptr_equal(w->f[1].ref, &b->features[1]);
	assert_ptr_equal(w->pred.ref, &b->prediction);
	/* the baseline's edges, bit for bit, and no count */
	assert_int_equal(stats_hist_bins(w->f[0].hist), 3);
	assert_memory_equal(stats_hist_edges(w->f[0].hist), EDGES, sizeof EDGES);
	assert_int_equal(stats_hist_total(w->f[0].hist), 0);
	assert_null(w->f[0].cat);
	assert_non_null(w->f[1].cat);
	assert_null(w->f[1].hist);
	assert_int_equal(stats_cat_total(w->f[1].cat), 0);
	assert_int_equal(stats_cat_size(w->f[1].cat), 0);
	assert_int_equal(stats_sketch_count(w->latency), 0);
	agent_window_free(w);
	agent_window_free(NULL);

	/* without a prediction in the baseline it is not monitored */
	agent_baseline_free(b);
	b = base_new(0);
	w = win(b, 0, 1);
	assert_null(w->pred.ref);
	agent_window_free(w);
	agent_baseline_free(b);
}

/* Edges 0 1 2 3: x < 0 underflow, e_k <= x < e_{k+1} bin k, x >= 3 overflow. Values are
 * pending in the column until flushed. A non-finite value (the literals NaN, Infinity,
 * -Infinity of a record) is not binned: counted apart, in nonfinite, and not missing. */
static void test_binning(void **state)
{
	static const double v[] = { -1,
				    -INFINITY,
				    -0x1p-1074, /* underflow */
				    0,
				    0.999,		/* [0, 1) */
				    1,			/* [1, 2) */
				    2.9999999999999996, /* [2, 3): 3 - 1 ulp */
				    3,
				    INFINITY,
				    1e300, /* overflow */
				    NAN };
	static const uint64_t want[6] = { 2, 2, 1, 1, 2, 0 };
	static const uint64_t zero[6] = { 0 };
	struct agent_baseline *b = base_new(0);
	struct agent_window *w = win(b, 0, 60000);

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		add_a(w, v[i]);
	assert_int_equal(w->n, 11);
	assert_int_equal(w->f[0].present, 8);
	assert_int_equal(w->f[0].nonfinite, 3);
	assert_int_equal(agent_window_missing(w, &w->f[0]), 0);
	assert_int_equal(w->f[0].ncol, 8);
	assert_slots(&w->f[0], zero); /* not binned yet */
	agent_window_flush(w);
	assert_int_equal(w->f[0].ncol, 0);
	assert_slots(&w->f[0], want);
	assert_int_equal(stats_hist_total(w->f[0].hist), 8);
	agent_window_flush(w); /* nothing pending: no change */
	assert_slots(&w->f[0], want);
	/* "c" was in no record: all 11 missing */
	assert_int_equal(agent_window_missing(w, &w->f[1]), 11);
	assert_int_equal(w->unknown_values, 0);
	agent_window_free(w);
	agent_baseline_free(b);
}

/* Nulls, absent features and values of the other kind. A number for a categorical feature and
 * a string or boolean for a numeric one are mismatched: not counted, and not missing either. */
static void test_missing_and_mismatched(void **state)
{
	static const uint64_t want[6] = { 0, 1, 0, 1, 0, 0 };
	struct agent_baseline *b = base_new(0);
	struct agent_window *w = win(b, 0, 60000);
	struct rec x;

	(void)state;
	rec_init(&x); /* 1: a 0.5, c "x" */
	rec_feature(&x, "a", num(0.5));
	rec_feature(&x, "c", str("x"));
	add(w, &x);
	rec_init(&x); /* 2: a null, c true */
	rec_feature(&x, "a", null);
	rec_feature(&x, "c", boolean(1));
	add(w, &x);
	rec_init(&x); /* 3: a "s", c 1.5 */
	rec_feature(&x, "a", str("s"));
	rec_feature(&x, "c", num(1.5));
	add(w, &x);
	rec_init(&x); /* 4: no a, c false */
	rec_feature(&x, "c", boolean(0));
	add(w, &x);
	rec_init(&x); /* 5: c null, a 2.5 (the other order) */
	rec_feature(&x, "c", null);
	rec_feature(&x, "a", num(2.5));
	add(w, &x);
	rec_init(&x); /* 6: a true, no c */
	rec_feature(&x, "a", boolean(1));
	add(w, &x);
	agent_window_flush(w);

	assert_int_equal(w->n, 6);
	/* a: values 0.5 and 2.5, null in 2, mismatched in 3 and 6, absent from 4 */
	assert_int_equal(w->f[0].present, 2);
	assert_int_equal(w->f[0].nulls, 1);
	assert_int_equal(w->f[0].mismatched, 2);
	assert_int_equal(agent_window_missing(w, &w->f[0]), 2);
	assert_slots(&w->f[0], want);
	/* c: "x", "true", "false"; null in 5, mismatched in 3, absent from 6 */
	assert_int_equal(w->f[1].present, 3);
	assert_int_equal(w->f[1].nulls, 1);
	assert_int_equal(w->f[1].mismatched, 1);
	assert_int_equal(agent_window_missing(w, &w->f[1]), 2);
	assert_int_equal(stats_cat_total(w->f[1].cat), 3);
	assert_int_equal(cat_count(w->f[1].cat, "x"), 1);
	assert_int_equal(cat_count(w->f[1].cat, "true"), 1);
	assert_int_equal(cat_count(w->f[1].cat, "false"), 1);
	assert_int_equal(stats_cat_other(w->f[1].cat), 0);
	assert_int_equal(w->unknown_values, 0);
	agent_window_free(w);
	agent_baseline_free(b);
}

/* Feature names the baseline lacks are counted in unknown_values and nothing else; names are
 * matched on their bytes and length (record names are not NUL-terminated), whatever the
 * order of the record's features. */
static void test_unknown_features(void **state)
{
	static const char names[] = "abc"; /* "a" is names[0..1) */
	struct agent_baseline *b = base_new(0);
	struct agent_window *w = win(b, 0, 60000);
	struct rec x;

	(void)state;
	rec_init(&x);
	rec_feature(&x, "a", num(0.5));
	rec_feature(&x, "c", str("y"));
	rec_feature(&x, "zz", num(1));
	add(w, &x);
	rec_init(&x); /* the same positions hold other names now */
	rec_feature(&x, "c", str("y"));
	rec_feature(&x, "ab", num(1.5)); /* "a" is a prefix of it: unknown */
	rec_feature(&x, "a", num(1.5));
	rec_feature(&x, "", num(2.5));
	add(w, &x);
	rec_init(&x);
	x.f[0] = (struct conn_feature){ .name = names, .name_len = 1, .value = num(2.5) };
	x.f[1] = (struct conn_feature){ .name = names + 1, .name_len = 2, .value = num(2.5) };
	x.r.nfeatures = 2;
	add(w, &x);
	agent_window_flush(w);
	assert_int_equal(w->n, 3);
	assert_int_equal(w->unknown_values, 4); /* zz, ab, "", bc */
	assert_int_equal(w->f[0].present, 3);
	{
		static const uint64_t want[6] = { 0, 1, 1, 1, 0, 0 };

		assert_slots(&w->f[0], want);
	}
	assert_int_equal(w->f[1].present, 2);
	assert_int_equal(cat_count(w->f[1].cat, "y"), 2);
	agent_window_free(w);
	agent_baseline_free(b);

	/* without a baseline every feature value is unknown; record-level counts are kept */
	w = win(NULL, 0, 60000);
	rec_init(&x);
	rec_feature(&x, "a", num(0.5));
	rec_feature(&x, "c", str("x"));
	x.r.has_latency = 1;
	x.r.latency_ms = 12;
	x.r.has_error = 1;
	x.r.error = 1;
	add(w, &x);
	agent_window_flush(w);
	assert_int_equal(w->n, 1);
	assert_int_equal(w->nf, 0);
	assert_null(w->pred.ref);
	assert_int_equal(w->unknown_values, 2);
	assert_int_equal(stats_sketch_count(w->latency), 1);
	assert_int_equal(w->errors, 1);
	assert_int_equal(w->error_known, 1);
	agent_window_free(w);
}

/* Live categories are counted as seen (new ones interned up to max_categories, the rest and the
 * literal __other__ in __other__); the comparison aligns them on the baseline's later. */
static void test_categorical(void **state)
{
	struct agent_baseline *b = base_new(0);
	struct agent_window *w;
	static const char *const seq[] = { "x", "y", "x", "w", "__other__", "w", "x", "v", "y" };

	(void)state;
	for (size_t bound = 2; bound <= 256; bound += 254) {
		w = agent_window_new(0, 60000, b, bound);
		assert_non_null(w);
		for (size_t i = 0; i < sizeof seq / sizeof *seq; i++) {
			struct rec x;

			rec_init(&x);
			rec_feature(&x, "c", str(seq[i]));
			add(w, &x);
		}
		assert_int_equal(w->f[1].present, 9);
		assert_int_equal(stats_cat_total(w->f[1].cat), 9);
		assert_int_equal(cat_count(w->f[1].cat, "x"), 3);
		assert_int_equal(cat_count(w->f[1].cat, "y"), 2);
		if (bound == 2) { /* x, y interned; w, v and __other__ in __other__ */
			assert_int_equal(stats_cat_size(w->f[1].cat), 2);
			assert_int_equal(stats_cat_other(w->f[1].cat), 4);
		} else {
			assert_int_equal(stats_cat_size(w->f[1].cat), 4);
			assert_int_equal(cat_count(w->f[1].cat, "w"), 2);
			assert_int_equal(cat_count(w->f[1].cat, "v"), 1);
			assert_int_equal(stats_cat_other(w->f[1].cat), 1);
		}
		agent_window_free(w);
	}
	agent_baseline_free(b);
}

/* The prediction is counted like a feature when the baseline has one. */
static void test_prediction(void **state)
{
	struct agent_baseline *b = base_new(1);
	struct agent_window *w = win(b, 0, 60000);
	const struct conn_value *preds[6];
	struct conn_value cat = str("cat"), dog = str("dog"), bird = str("bird"), n1 = num(1);

	(void)state;
	preds[0] = &cat;
	preds[1] = &cat;
	preds[2] = &dog;
	preds[3] = &bird;
	preds[4] = &n1;	  /* a number for a categorical prediction: mismatched */
	preds[5] = &null; /* no prediction */
	for (size_t i = 0; i < 6; i++) {
		struct rec x;

		rec_init(&x);
		x.r.prediction = *preds[i];
		add(w, &x);
	}
	agent_window_flush(w);
	assert_int_equal(w->pred.present, 4);
	assert_int_equal(w->pred.mismatched, 1);
	assert_int_equal(w->pred.nulls, 1);
	assert_int_equal(agent_window_missing(w, &w->pred), 1);
	assert_int_equal(cat_count(w->pred.cat, "cat"), 2);
	assert_int_equal(cat_count(w->pred.cat, "dog"), 1);
	assert_int_equal(cat_count(w->pred.cat, "bird"), 1);
	assert_int_equal(w->unknown_values, 0);
	agent_window_free(w);
	agent_baseline_free(b);

	/* not monitored without a baseline prediction: nothing counted, no crash */
	b = base_new(0);
	w = win(b, 0, 60000);
	{
		struct rec x;

		rec_init(&x);
		x.r.prediction = cat;
		add(w, &x);
	}
	assert_null(w->pred.ref);
	assert_int_equal(w->pred.present, 0);
	assert_int_equal(w->n, 1);
	agent_window_free(w);
	agent_baseline_free(b);
}

/* Latency: latency_ms / 1000 of the records that have one, in seconds; errors: the records
 * with an "error" field, and those with true. */
static void test_latency_and_errors(void **state)
{
	static const double ms[] = { 5, 0, 250, 12.5 };
	struct agent_baseline *b = base_new(0);
	struct agent_window *w = win(b, 0, 60000);
	double q;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct rec x;

		rec_init(&x);
		x.r.has_latency = 1;
		x.r.latency_ms = ms[i];
		x.r.has_error = i < 3;
		x.r.error = i == 1 || i == 3; /* the 4th has no error field: not counted */
		add(w, &x);
	}
	{
		struct rec x;

		rec_init(&x); /* no latency, no error field */
		add(w, &x);
	}
	assert_int_equal(w->n, 5);
	assert_int_equal(stats_sketch_count(w->latency), 4);
	tu_assert_rel(stats_sketch_min(w->latency), 0, 0, "min");
	tu_assert_rel(stats_sketch_max(w->latency), 0.25, 0, "max (exact)");
	/* q = 1: the maximum, exact; q = 0: the minimum */
	assert_int_equal(stats_sketch_quantile(w->latency, 1, &q), STATS_OK);
	tu_assert_rel(q, 0.25, 0, "q1");
	assert_int_equal(stats_sketch_quantile(w->latency, 0, &q), STATS_OK);
	tu_assert_rel(q, 0, 0, "q0");
	tu_assert_rel(stats_sketch_sum(w->latency), 0.005 + 0.25 + 0.0125, 1e-15, "sum, seconds");
	assert_int_equal(w->error_known, 3);
	assert_int_equal(w->errors, 1);
	agent_window_free(w);
	agent_baseline_free(b);
}

/* Accuracy (accuracy.h): a 0/1 label against a numeric prediction by the threshold
 * (prediction >= threshold is class 1), a string or boolean label by equal text, any other
 * numeric label as regression; other combinations are labelled but not scored. */
static void test_accuracy(void **state)
{
	struct {
		struct conn_value pred, label;
		double threshold;
		int kind; /* 0 none, 1 correct, 2 wrong, 3 regression */
	} cases[] = {
		{ num(0.7), num(1), 0.5, 1 },	      { num(0.5), num(1), 0.5, 1 }, /* >= */
		{ num(0.49), num(1), 0.5, 2 },	      { num(0.2), num(0), 0.5, 1 },
		{ num(0.7), num(1), 0.8, 2 }, /* the threshold is the caller's */
		{ num(0.85), num(0), 0.8, 2 },	      { str("cat"), str("cat"), 0.5, 1 },
		{ str("cat"), str("cats"), 0.5, 2 },  { boolean(1), boolean(1), 0.5, 1 },
		{ boolean(0), str("false"), 0.5, 1 }, /* a boolean is the text "false" */
		{ num(1), str("1"), 0.5, 0 },	      /* kinds that do not match */
		{ str("1"), num(1), 0.5, 0 },	      { null, num(1), 0.5, 0 }, /* no prediction */
		{ num(2), num(3.5), 0.5, 3 },	      { num(1), num(0.25), 0.5, 3 },
	};
	struct agent_baseline *b = base_new(0);
	struct agent_window *w = win(b, 0, 60000), *lw = win(b, 0, 60000);
	uint64_t scored = 0, correct = 0, reg = 0;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct rec x;

		rec_init(&x);
		x.r.prediction = cases[i].pred;
		x.r.label = cases[i].label;
		assert_int_equal(agent_window_add(w, &x.r, cases[i].threshold), 0);
		/* the same as a late label joined to its prediction */
		agent_window_add_label(lw, &cases[i].pred, &cases[i].label, cases[i].threshold);
		scored += cases[i].kind == 1 || cases[i].kind == 2;
		correct += cases[i].kind == 1;
		reg += cases[i].kind == 3;
	}
	{
		struct rec x;

		rec_init(&x); /* a prediction without label: not labelled */
		x.r.prediction = num(0.9);
		add(w, &x);
	}
	assert_int_equal(scored, 10);
	assert_int_equal(correct, 6);
	assert_int_equal(w->labels, sizeof cases / sizeof *cases);
	assert_int_equal(w->scored, scored);
	assert_int_equal(w->correct, correct);
	assert_int_equal(w->reg_n, reg);
	tu_assert_rel(w->abs_err_sum, 1.5 + 0.75, 0, "abs errors");
	assert_int_equal(lw->labels, w->labels);
	assert_int_equal(lw->scored, w->scored);
	assert_int_equal(lw->correct, w->correct);
	assert_int_equal(lw->reg_n, w->reg_n);
	tu_assert_rel(lw->abs_err_sum, w->abs_err_sum, 0, "late abs errors");
	assert_int_equal(lw->n, 0); /* a late label is no record */
	agent_window_free(w);
	agent_window_free(lw);
	agent_baseline_free(b);
}

/* Fills one window with a fixed mix: k copies of the records below. */
static void fill(struct agent_window *w, int k)
{
	for (int i = 0; i < k; i++) {
		struct rec x;

		rec_init(&x);
		rec_feature(&x, "a", num(-1 + i));
		rec_feature(&x, "c", str(i % 2 ? "x" : "new"));
		rec_feature(&x, "zz", num(0));
		x.r.prediction = str("cat");
		x.r.label = str(i % 3 ? "cat" : "dog");
		x.r.has_latency = 1;
		x.r.latency_ms = 10 + i;
		x.r.has_error = 1;
		x.r.error = i == 0;
		add(w, &x);
		rec_init(&x);
		rec_feature(&x, "a", null);
		rec_feature(&x, "c", num(1));
		x.r.prediction = num(2);
		x.r.label = num(3);
		add(w, &x);
	}
	agent_window_flush(w);
}

static void test_merge(void **state)
{
	struct agent_baseline *b = base_new(1), *other = base_new(1);
	struct agent_window *d = win(b, 60000, 120000), *s = win(b, 0, 60000);
	struct agent_window *o = win(other, 120000, 180000);
	static const uint64_t want_d[6] = { 1, 1, 1, 1, 0, 0 };	  /* -1 0 1 2 */
	static const uint64_t want_sum[6] = { 2, 2, 2, 1, 0, 0 }; /* + -1 0 1 */

	(void)state;
	fill(d, 4);
	fill(s, 3);
	assert_slots(&d->f[0], want_d);
	assert_int_equal(agent_window_merge(d, s), 0);
	assert_int_equal(d->start_ms, 0);
	assert_int_equal(d->end_ms, 120000);
	assert_int_equal(d->n, 14);
	assert_slots(&d->f[0], want_sum);
	assert_int_equal(d->f[0].present, 7);
	assert_int_equal(d->f[0].nulls, 7);
	assert_int_equal(agent_window_missing(d, &d->f[0]), 7);
	assert_int_equal(d->f[1].present, 7);
	assert_int_equal(d->f[1].mismatched, 7);
	assert_int_equal(cat_count(d->f[1].cat, "x"), 2 + 1);
	assert_int_equal(cat_count(d->f[1].cat, "new"), 2 + 2);
	assert_int_equal(d->pred.present, 7);
	assert_int_equal(d->pred.mismatched, 7);
	assert_int_equal(cat_count(d->pred.cat, "cat"), 7);
	assert_int_equal(stats_sketch_count(d->latency), 7);
	tu_assert_rel(stats_sketch_max(d->latency), 0.013, 0, "max latency");
	assert_int_equal(d->errors, 2);
	assert_int_equal(d->error_known, 7);
	assert_int_equal(d->labels, 14);
	assert_int_equal(d->scored, 7);
	assert_int_equal(d->correct, 2 + 2); /* i = 1, 2 of each; i = 0, 3 are "dog" */
	assert_int_equal(d->reg_n, 7);
	tu_assert_rel(d->abs_err_sum, 7.0, 0, "abs errors");
	assert_int_equal(d->unknown_values, 7);
	/* the source is unchanged */
	assert_int_equal(s->n, 6);
	assert_int_equal(s->start_ms, 0);

	/* a window bound to another baseline (an equal one) is refused; d keeps its counts */
	fill(o, 2);
	assert_int_equal(agent_window_merge(d, o), -1);
	assert_int_equal(d->n, 14);
	assert_int_equal(d->end_ms, 120000);
	assert_slots(&d->f[0], want_sum);
	assert_int_equal(d->labels, 14);
	assert_int_equal(stats_sketch_count(d->latency), 7);
	/* and so is one without a baseline, both ways */
	{
		struct agent_window *nb = win(NULL, 0, 60000);

		assert_int_equal(agent_window_merge(d, nb), -1);
		assert_int_equal(agent_window_merge(nb, d), -1);
		assert_int_equal(nb->n, 0);
		assert_int_equal(d->n, 14);
		agent_window_free(nb);
	}
	/* a later source extends the end; windows without a baseline merge */
	{
		struct agent_window *n1 = win(NULL, 0, 60000), *n2 = win(NULL, 60000, 180000);
		struct rec x;

		rec_init(&x);
		rec_feature(&x, "a", num(1));
		x.r.has_latency = 1;
		x.r.latency_ms = 3;
		add(n1, &x);
		add(n2, &x);
		add(n2, &x);
		assert_int_equal(agent_window_merge(n1, n2), 0);
		assert_int_equal(n1->start_ms, 0);
		assert_int_equal(n1->end_ms, 180000);
		assert_int_equal(n1->n, 3);
		assert_int_equal(n1->unknown_values, 3);
		assert_int_equal(stats_sketch_count(n1->latency), 3);
		agent_window_free(n1);
		agent_window_free(n2);
	}
	agent_window_free(d);
	agent_window_free(s);
	agent_window_free(o);
	agent_baseline_free(b);
	agent_baseline_free(other);
}

/* Numeric values wait in a column of AGENT_COLUMN and are binned when it is full: the
 * AGENT_COLUMN-th value bins the column at once, one more waits for the next flush. */
static void test_column_boundary(void **state)
{
	struct agent_baseline *b = base_new(0);
	struct agent_window *w = win(b, 0, 60000);
	uint64_t want[6] = { 0 };

	(void)state;
	for (int i = 0; i < AGENT_COLUMN; i++) {
		double v = (double)(i % 5) - 0.5; /* slots 0..4 in turn */

		add_a(w, v);
		want[i % 5]++;
		if (i < AGENT_COLUMN - 1) {
			assert_int_equal(w->f[0].ncol, (size_t)i + 1);
			assert_int_equal(stats_hist_total(w->f[0].hist), 0);
		}
	}
	assert_int_equal(w->f[0].ncol, 0);
	assert_int_equal(stats_hist_total(w->f[0].hist), AGENT_COLUMN);
	assert_slots(&w->f[0], want);
	add_a(w, 3.5);
	want[4]++;
	assert_int_equal(w->f[0].ncol, 1);
	assert_int_equal(stats_hist_total(w->f[0].hist), AGENT_COLUMN);
	assert_int_equal(w->f[0].present, AGENT_COLUMN + 1);
	agent_window_flush(w);
	assert_int_equal(w->f[0].ncol, 0);
	assert_int_equal(stats_hist_total(w->f[0].hist), AGENT_COLUMN + 1);
	assert_slots(&w->f[0], want);
	assert_int_equal(want[0] + want[1] + want[2] + want[3] + want[4], AGENT_COLUMN + 1);
	agent_window_free(w);
	agent_baseline_free(b);
}

/* A prediction column fills the same way. */
static void test_prediction_column(void **state)
{
	struct agent_baseline *b = base_new(0);
	struct agent_window *w;

	(void)state;
	/* a numeric prediction: baseline "__prediction__" with the edges 0 1 2 3 */
	bfeature_numeric(&b->prediction, AGENT_PREDICTION_FEATURE);
	b->has_prediction = 1;
	w = win(b, 0, 60000);
	for (int i = 0; i <= AGENT_COLUMN; i++) {
		struct rec x;

		rec_init(&x);
		x.r.prediction = num(4);
		add(w, &x);
	}
	assert_int_equal(w->pred.ncol, 1);
	assert_int_equal(stats_hist_overflow(w->pred.hist), AGENT_COLUMN);
	agent_window_flush(w);
	assert_int_equal(stats_hist_overflow(w->pred.hist), AGENT_COLUMN + 1);
	assert_int_equal(agent_window_missing(w, &w->pred), 0);
	assert_int_equal(agent_window_missing(w, &w->f[0]), AGENT_COLUMN + 1);
	agent_window_free(w);
	agent_baseline_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_binning),
		cmocka_unit_test(test_missing_and_mismatched),
		cmocka_unit_test(test_unknown_features),
		cmocka_unit_test(test_categorical),
		cmocka_unit_test(test_prediction),
		cmocka_unit_test(test_latency_and_errors),
		cmocka_unit_test(test_accuracy),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_column_boundary),
		cmocka_unit_test(test_prediction_column),
	};

	stats_init();
	return TU_RUN(tests);
}
