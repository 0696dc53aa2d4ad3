/*
 * test_rules.c -- agent_rules_eval value by value: KL in both directions (rules.kl.direction),
 * PSI, JS, the smoothing alpha, the sample-size-aware mode with Benjamini-Hochberg, latency p95
 * ratio, accuracy absolute and relative, error_rate, every inconclusive outcome and its `why`,
 * thresholds at the boundary (a rule breaches only when value > threshold), dry_run per rule and
 * the worst-feature selection.
 *
 * Baselines are written out in the test (edges and counts chosen here), windows filled with
 * agent_window_add. Every expected number is computed here from the formulas of SPEC.md
 * "Statistics" and doc/statistics.md (sections 2, 3, 4.3-4.5) -- smoothing, KL, PSI, JS, the
 * chi-square tail in closed form for even degrees of freedom, BH, the pooled z-test -- never by
 * calling the code under test.
 */
#include "agent/rules.h"
#include "testutil.h"

#include <string.h>

#define REL 1e-12 /* divergences and p-values against the closed forms below */

/* ---- the formulas, written out (doc/statistics.md) ---- */

/* p_i = (c_i + alpha) / (n + K alpha) (section 2) */
static void ref_smooth(const uint64_t *c, size_t k, double alpha, double *p)
{
	double n = 0;

	for (size_t i = 0; i < k; i++)
		n += (double)c[i];
	for (size_t i = 0; i < k; i++)
		p[i] = ((double)c[i] + alpha) / (n + (double)k * alpha);
}

/* KL(c || b) = sum p_i ln(p_i / q_i), nats; 0 ln(0/q) = 0, p > 0 = q gives +Inf (3.1) */
static double ref_kl(const uint64_t *c, const uint64_t *b, size_t k, double alpha)
{
	double p[16], q[16], s = 0;

	assert_true(k <= 16);
	ref_smooth(c, k, alpha, p);
	ref_smooth(b, k, alpha, q);
	for (size_t i = 0; i < k; i++)
		if (p[i] > 0)
			s += q[i] > 0 ? p[i] * log(p[i] / q[i]) : INFINITY;
	return s;
}

/* PSI = sum (p_i - q_i) ln(p_i / q_i) (3.2) */
static double ref_psi(const uint64_t *c, const uint64_t *b, size_t k, double alpha)
{
	double p[16], q[16], s = 0;

	assert_true(k <= 16);
	ref_smooth(c, k, alpha, p);
	ref_smooth(b, k, alpha, q);
	for (size_t i = 0; i < k; i++)
		s += (p[i] - q[i]) * log(p[i] / q[i]);
	return s;
}

/* JS distance, base 2: sqrt(1/2 sum p log2(p/M) + 1/2 sum q log2(q/M)), M = (p + q)/2 (3.3) */
static double ref_js(const uint64_t *c, const uint64_t *b, size_t k, double alpha)
{
	double p[16], q[16], s = 0;

	assert_true(k <= 16);
	ref_smooth(c, k, alpha, p);
	ref_smooth(b, k, alpha, q);
	for (size_t i = 0; i < k; i++) {
		double m = (p[i] + q[i]) / 2;

		if (p[i] > 0)
			s += 0.5 * p[i] * log2(p[i] / m);
		if (q[i] > 0)
			s += 0.5 * q[i] * log2(q[i] / m);
	}
	return sqrt(s);
}

/* P(chi2(dof) > x) for even dof: exp(-x/2) sum_{j < dof/2} (x/2)^j / j! */
static double ref_chi2_sf_even(double x, unsigned dof)
{
	double term = 1, s = 0;

	assert_true(dof % 2 == 0 && dof > 0);
	for (unsigned j = 0; j < dof / 2; j++) {
		s += term;
		term *= (x / 2) / (double)(j + 1);
	}
	return exp(-x / 2) * s;
}

/* Sample-size-aware KL (4.4): G = 2 n m / (n + m) KL against chi2(K - 1). */
static double ref_kl_p(double kl, double n, double m, size_t k)
{
	return ref_chi2_sf_even(2 * n * m / (n + m) * kl, (unsigned)(k - 1));
}

/* Benjamini-Hochberg (4.5) for distinct p-values: adj_i = min(1, min_{p_j >= p_i} p_j N / r_j),
 * r_j the rank of p_j. */
static double ref_bh(const double *p, size_t count, size_t i)
{
	double adj = 1;

	for (size_t j = 0; j < count; j++) {
		size_t rank = 0;

		if (p[j] < p[i])
			continue;
		for (size_t l = 0; l < count; l++)
			rank += p[l] <= p[j];
		if (p[j] * (double)count / (double)rank < adj)
			adj = p[j] * (double)count / (double)rank;
	}
	return adj;
}

/* Two-proportion z-test, pooled, two-sided (4.3): p = 2 Q(|z|) = erfc(|z| / sqrt 2). */
static double ref_two_prop_p(double x1, double n1, double x2, double n2)
{
	double p1 = x1 / n1, p2 = x2 / n2, pool = (x1 + x2) / (n1 + n2);
	double z = (p1 - p2) / sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2));

	return erfc(fabs(z) / sqrt(2.0));
}

/* The sketch's answer for a value (sketch.h): its bucket [lo, hi) is x's exponent and top 6
 * mantissa bits; with x = f 2^e, f in [0.5, 1), j = floor(128 f), lo = j 2^(e-7),
 * hi = (j+1) 2^(e-7), and the representative 2 lo hi / (lo + hi) = 2 j (j+1) / (2j+1) 2^(e-7). */
static double ref_bucket_rep(double x)
{
	int e;
	double f = frexp(x, &e), j = floor(128 * f);

	return ldexp(2 * j * (j + 1) / (2 * j + 1), e - 7);
}

/* ---- baselines written out here ---- */

/* Numeric features have the edges 0 1 2 3: B = 3 bins, K = 5 slots compared (underflow, the 3
 * bins, overflow). Slot s is filled with the value s - 0.5: -0.5 underflow, 0.5, 1.5, 2.5 the
 * bins, 3.5 overflow. */
#define NK 5
static const double EDGES[] = { 0, 1, 2, 3 };
static const uint64_t BASE_A[NK] = { 0, 400, 300, 300, 0 }; /* m = 1000 */

static struct agent_baseline *base_new(size_t nfeatures)
{
	struct agent_baseline *b = calloc(1, sizeof *b);

	assert_non_null(b);
	b->model = strdup("m");
	b->version = strdup("v1");
	b->samples = 1000;
	b->features = calloc(nfeatures ? nfeatures : 1, sizeof *b->features);
	b->nfeatures = nfeatures;
	b->latency = stats_sketch_new(0, NULL);
	assert_non_null(b->features);
	assert_non_null(b->latency);
	return b;
}

static void fill_slots(struct stats_hist *h, const uint64_t slots[NK])
{
	for (size_t s = 0; s < NK; s++) {
		double v = (double)s - 0.5;

		for (uint64_t i = 0; i < slots[s]; i++)
			stats_hist_add(h, &v, 1);
	}
}

static void base_numeric(struct agent_bfeature *f, const char *name, const uint64_t slots[NK])
{
	f->name = strdup(name);
	f->categorical = 0;
	f->hist = stats_hist_new_edges(EDGES, 4, NULL);
	f->iqr = NAN;
	assert_non_null(f->hist);
	fill_slots(f->hist, slots);
}

/* A categorical feature: nv values with their counts, then `other` in __other__. */
static void base_categorical(struct agent_bfeature *f, const char *name, const char *const *values,
			     const uint64_t *counts, size_t nv, uint64_t other)
{
	f->name = strdup(name);
	f->categorical = 1;
	f->cat = stats_cat_new(256, NULL);
	f->iqr = NAN;
	assert_non_null(f->cat);
	for (size_t i = 0; i < nv; i++)
		stats_cat_add(f->cat, values[i], strlen(values[i]), counts[i]);
	if (other)
		stats_cat_add(f->cat, STATS_CAT_OTHER, strlen(STATS_CAT_OTHER), other);
}

static void base_latency(struct agent_baseline *b, double seconds, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++)
		assert_int_equal(stats_sketch_add(b->latency, &seconds, 1), STATS_OK);
}

/* ---- live records ---- */

static void rec_init(struct conn_record *r)
{
	memset(r, 0, sizeof *r);
	r->model = "m";
	r->model_len = 1;
	r->version = "v2";
	r->version_len = 2;
}

static void add_one(struct agent_window *w, const struct conn_record *r)
{
	assert_int_equal(agent_window_add(w, r, 0.5), 0);
}

/* One record per value: feature `name` gets the value s - 0.5 c[s] times per slot s. */
static void add_numeric(struct agent_window *w, const char *name, const uint64_t c[NK])
{
	for (size_t s = 0; s < NK; s++) {
		for (uint64_t i = 0; i < c[s]; i++) {
			struct conn_record r;
			struct conn_feature f = { .name = name,
						  .name_len = strlen(name),
						  .value = { .kind = CONN_VALUE_NUMBER,
							     .num = (double)s - 0.5 } };

			rec_init(&r);
			r.features = &f;
			r.nfeatures = 1;
			add_one(w, &r);
		}
	}
}

static void add_string(struct agent_window *w, const char *name, const char *value, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		struct conn_record r;
		struct conn_feature f = {
			.name = name,
			.name_len = strlen(name),
			.value = { .kind = CONN_VALUE_STRING, .str = value, .len = strlen(value) }
		};

		rec_init(&r);
		r.features = &f;
		r.nfeatures = 1;
		add_one(w, &r);
	}
}

/* count records without features, each with latency_ms (when >= 0). */
static void add_latency(struct agent_window *w, double latency_ms, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		struct conn_record r;

		rec_init(&r);
		r.has_latency = latency_ms >= 0;
		r.latency_ms = latency_ms;
		add_one(w, &r);
	}
}

/* count records with a numeric prediction 0.9 and the label 1 (correct) or 0 (wrong). */
static void add_labelled(struct agent_window *w, int correct, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		struct conn_record r;

		rec_init(&r);
		r.prediction = (struct conn_value){ .kind = CONN_VALUE_NUMBER, .num = 0.9 };
		r.label = (struct conn_value){ .kind = CONN_VALUE_NUMBER, .num = correct ? 1 : 0 };
		add_one(w, &r);
	}
}

static void add_errors(struct agent_window *w, int error, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		struct conn_record r;

		rec_init(&r);
		r.has_error = 1;
		r.error = error;
		add_one(w, &r);
	}
}

/* ---- configuration and evaluation ---- */

/* Defaults, then a JSON document of options (the option names of doc/configuration.md). */
static void conf(struct agent_config *c, const char *json)
{
	char err[256];

	agent_config_defaults(c);
	if (json && agent_config_load_string(c, "test", json, strlen(json), err, sizeof err) != 0)
		fail_msg("config: %s", err);
}

static void eval(const struct agent_config *c, struct agent_window *w, struct agent_eval *e)
{
	agent_window_flush(w);
	assert_int_equal(agent_rules_eval(c, w, e), 0);
}

/* The next step: frees the previous evaluation and configuration, evaluates w under json. */
static void again(struct agent_config *c, struct agent_window *w, struct agent_eval *e,
		  const char *json)
{
	agent_eval_free(e);
	agent_config_free(c);
	conf(c, json);
	eval(c, w, e);
}

/* Frees everything of a test (each free is safe on what is already freed); c may be NULL. */
static void done(struct agent_config *c, struct agent_eval *e, struct agent_window *w,
		 struct agent_baseline *b)
{
	agent_eval_free(e);
	if (c)
		agent_config_free(c);
	agent_window_free(w);
	agent_baseline_free(b);
}

static struct agent_window *win(const struct agent_baseline *b)
{
	struct agent_window *w = agent_window_new(0, 60000, b, 256);

	assert_non_null(w);
	return w;
}

static const struct agent_fscore *feature(const struct agent_eval *e, const char *name)
{
	for (size_t i = 0; i < e->nfeatures; i++)
		if (strcmp(e->features[i].name, name) == 0)
			return &e->features[i];
	fail_msg("no feature %s", name);
	return NULL;
}

/* ---- tests ---- */

static void test_names(void **state)
{
	static const char *const names[] = {
		"kl", "psi", "js", "latency", "accuracy", "error_rate"
	};

	(void)state;
	for (int r = 0; r < AGENT_RULE_COUNT; r++)
		assert_string_equal(agent_rule_name(r), names[r]);
	assert_string_equal(agent_rule_name(AGENT_RULE_COUNT), "unknown");
	assert_string_equal(agent_outcome_name(AGENT_PASS), "pass");
	assert_string_equal(agent_outcome_name(AGENT_BREACH), "breach");
	assert_string_equal(agent_outcome_name(AGENT_INCONCLUSIVE), "inconclusive");
}

/* live counts of feature "a" in most tests: n = 100, mass moved to the tails */
static const uint64_t LIVE_A[NK] = { 10, 20, 30, 30, 10 };

static void test_kl_live_baseline(void **state)
{
	struct agent_baseline *b = base_new(1);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	const struct agent_fscore *fs;
	const struct agent_rule_result *r;
	double kl = ref_kl(LIVE_A, BASE_A, NK, 0.5);

	(void)state;
	base_numeric(&b->features[0], "a", BASE_A);
	w = win(b);
	add_numeric(w, "a", LIVE_A);
	add_latency(w, -1, 20); /* 20 records without "a" */
	conf(&c, "{\"min_samples\": 50, \"rules\": {\"kl\": {\"direction\": \"live_baseline\"}}}");
	eval(&c, w, &e);
	assert_int_equal(e.n, 120);
	assert_int_equal(e.start_ms, 0);
	assert_int_equal(e.end_ms, 60000);
	assert_int_equal(e.nfeatures, 1);
	fs = &e.features[0];
	assert_string_equal(fs->name, "a");
	assert_int_equal(fs->categorical, 0);
	assert_int_equal(fs->n, 100);
	assert_int_equal(fs->m, 1000);
	assert_int_equal(fs->k, NK);
	assert_int_equal(fs->missing, 20);
	tu_assert_rel(fs->kl, kl, REL, "kl(live||baseline)");
	tu_assert_rel(fs->psi, ref_psi(LIVE_A, BASE_A, NK, 0.5), REL, "psi");
	tu_assert_rel(fs->js, ref_js(LIVE_A, BASE_A, NK, 0.5), REL, "js");
	tu_assert_rel(fs->kl_p, ref_kl_p(kl, 100, 1000, NK), REL, "kl_p");
	assert_true(isnan(fs->kl_q)); /* BH only in the sample-size-aware mode */
	assert_int_equal(fs->state[0], AGENT_BREACH);
	r = &e.rule[AGENT_RULE_KL];
	assert_int_equal(r->enabled, 1);
	assert_int_equal(r->outcome, AGENT_BREACH);
	assert_null(r->why);
	assert_string_equal(r->feature, "a");
	tu_assert_rel(r->value, kl, REL, "rule value");
	tu_assert_rel(r->threshold, 0.2, 0, "default threshold");
	assert_int_equal(r->n, 100);
	assert_int_equal(r->m, 1000);
	tu_assert_rel(r->p_value, fs->kl_p, 0, "rule p = the feature's");
	assert_true(agent_eval_breached(&e));
	agent_eval_free(&e);
	assert_null(e.features);
	agent_config_free(&c);
	agent_window_free(w);
	agent_baseline_free(b);
}

/* KL(baseline || live) = KL(b || c) here 0.275 nats, KL(live || baseline) 0.948: a threshold of
 * 0.5 between them makes the direction decide the outcome. */
static void test_kl_direction(void **state)
{
	struct agent_baseline *b = base_new(1);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	double fwd = ref_kl(LIVE_A, BASE_A, NK, 0.5), rev = ref_kl(BASE_A, LIVE_A, NK, 0.5);

	(void)state;
	assert_true(rev < 0.5 && fwd > 0.5);
	base_numeric(&b->features[0], "a", BASE_A);
	w = win(b);
	add_numeric(w, "a", LIVE_A);

	conf(&c, "{\"min_samples\": 50, \"rules\": {\"kl\": {\"threshold\": 0.5}}}");
	assert_int_equal(c.kl_direction, AGENT_KL_LIVE_BASELINE); /* the default */
	eval(&c, w, &e);
	tu_assert_rel(e.features[0].kl, fwd, REL, "live_baseline");
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);

	again(&c, w, &e,
	      "{\"min_samples\": 50, \"rules\": {\"kl\": {\"threshold\": 0.5, "
	      "\"direction\": \"baseline_live\"}}}");
	tu_assert_rel(e.features[0].kl, rev, REL, "baseline_live");
	tu_assert_rel(e.rule[AGENT_RULE_KL].value, rev, REL, "rule value");
	tu_assert_rel(e.features[0].kl_p, ref_kl_p(rev, 100, 1000, NK), REL, "p of the reverse KL");
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_PASS);
	/* PSI is symmetric: the direction does not change it */
	tu_assert_rel(e.features[0].psi, ref_psi(LIVE_A, BASE_A, NK, 0.5), REL, "psi");
	done(&c, &e, w, b);
}

/* PSI and JS on a numeric and a categorical feature; the categorical one is compared on the
 * baseline's categories plus __other__ (a live category the baseline lacks goes there). */
static void test_psi_js_categorical(void **state)
{
	static const char *const vals[] = { "x", "y" };
	static const uint64_t bc[] = { 600, 400 };
	static const uint64_t live_c[3] = { 30, 50, 20 }, base_c[3] = { 600, 400, 5 };
	struct agent_baseline *b = base_new(2);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	const struct agent_fscore *fa, *fc;
	double psi_a = ref_psi(LIVE_A, BASE_A, NK, 0.5), psi_c = ref_psi(live_c, base_c, 3, 0.5);
	double js_a = ref_js(LIVE_A, BASE_A, NK, 0.5), js_c = ref_js(live_c, base_c, 3, 0.5);

	(void)state;
	base_numeric(&b->features[0], "a", BASE_A);
	base_categorical(&b->features[1], "c", vals, bc, 2, 5);
	w = win(b);
	add_numeric(w, "a", LIVE_A);
	add_string(w, "c", "x", 30);
	add_string(w, "c", "y", 50);
	add_string(w, "c", "z", 15); /* unknown to the baseline: __other__ */
	add_string(w, "c", STATS_CAT_OTHER, 5);
	conf(&c, "{\"min_samples\": 50, \"rules\": {\"psi\": {\"enabled\": true}, "
		 "\"js\": {\"enabled\": true, \"threshold\": 0.352}}}");
	eval(&c, w, &e);
	assert_int_equal(e.nfeatures, 2);
	fa = feature(&e, "a");
	fc = feature(&e, "c");
	assert_int_equal(fc->categorical, 1);
	assert_int_equal(fc->k, 3);
	assert_int_equal(fc->n, 100);
	assert_int_equal(fc->m, 1005);
	tu_assert_rel(fc->kl, ref_kl(live_c, base_c, 3, 0.5), REL, "kl c");
	tu_assert_rel(fc->kl_p, ref_kl_p(fc->kl, 100, 1005, 3), REL, "kl_p c (chi2(2))");
	tu_assert_rel(fa->psi, psi_a, REL, "psi a");
	tu_assert_rel(fc->psi, psi_c, REL, "psi c");
	tu_assert_rel(fa->js, js_a, REL, "js a");
	tu_assert_rel(fc->js, js_c, REL, "js c");
	/* PSI is the symmetric KL (3.2) */
	tu_assert_rel(fa->psi, ref_kl(LIVE_A, BASE_A, NK, 0.5) + ref_kl(BASE_A, LIVE_A, NK, 0.5),
		      1e-12, "psi = kl + kl reversed");
	/* psi: 1.224 (a) and 0.935 (c), both above 0.25; the worst is the larger */
	assert_true(psi_a > psi_c && psi_c > 0.25);
	assert_int_equal(e.rule[AGENT_RULE_PSI].enabled, 1);
	assert_int_equal(e.rule[AGENT_RULE_PSI].outcome, AGENT_BREACH);
	assert_string_equal(e.rule[AGENT_RULE_PSI].feature, "a");
	tu_assert_rel(e.rule[AGENT_RULE_PSI].value, psi_a, REL, "psi rule");
	assert_true(isnan(e.rule[AGENT_RULE_PSI].p_value));
	assert_int_equal(e.rule[AGENT_RULE_PSI].m, 1000);
	/* js: 0.3504 (a) passes and 0.3542 (c) breaches the threshold 0.352: the breaching one is
	 * the worst */
	assert_true(js_a < 0.352 && js_c > 0.352);
	assert_int_equal(fa->state[2], AGENT_PASS);
	assert_int_equal(fc->state[2], AGENT_BREACH);
	assert_int_equal(e.rule[AGENT_RULE_JS].outcome, AGENT_BREACH);
	assert_string_equal(e.rule[AGENT_RULE_JS].feature, "c");
	tu_assert_rel(e.rule[AGENT_RULE_JS].threshold, 0.352, 0, "js threshold");
	assert_true(isnan(e.rule[AGENT_RULE_JS].p_value));
	done(&c, &e, w, b);
}

/* rules.alpha is the smoothing of every divergence; with alpha = 0 a live bin the baseline
 * never saw makes KL and PSI +Inf (no p-value then), JS stays finite. */
static void test_alpha(void **state)
{
	struct agent_baseline *b = base_new(1);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	const struct agent_fscore *fs;

	(void)state;
	base_numeric(&b->features[0], "a", BASE_A);
	w = win(b);
	add_numeric(w, "a", LIVE_A);
	conf(&c, "{\"min_samples\": 50, \"rules\": {\"alpha\": 1}}");
	eval(&c, w, &e);
	fs = &e.features[0];
	tu_assert_rel(fs->kl, ref_kl(LIVE_A, BASE_A, NK, 1), REL, "kl alpha 1");
	tu_assert_rel(fs->psi, ref_psi(LIVE_A, BASE_A, NK, 1), REL, "psi alpha 1");
	tu_assert_rel(fs->js, ref_js(LIVE_A, BASE_A, NK, 1), REL, "js alpha 1");
	assert_true(fabs(fs->kl - ref_kl(LIVE_A, BASE_A, NK, 0.5)) > 1e-3);

	again(&c, w, &e, "{\"min_samples\": 50, \"rules\": {\"alpha\": 0}}");
	fs = &e.features[0];
	assert_true(isinf(fs->kl) && fs->kl > 0);
	assert_true(isinf(fs->psi) && fs->psi > 0);
	tu_assert_rel(fs->js, ref_js(LIVE_A, BASE_A, NK, 0), REL, "js alpha 0");
	assert_true(isnan(fs->kl_p));
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	done(&c, &e, w, b);
}

/* Two features above the KL threshold 0.01 against the same baseline (n = 100, m = 1000, K = 5,
 * chi2(4)): "a" p = 0.0299, "b" p = 0.494. BH over 2: adj_a = min(2 p_a, p_b) = 0.0599,
 * adj_b = p_b. At fdr 0.05 neither is significant (a is, raw, below 0.05): the rule passes; at
 * fdr 0.1 "a" breaches. Without the mode both breach. */
static const uint64_t LIVE_SA[NK] = { 0, 29, 27, 44, 0 }, LIVE_SB[NK] = { 0, 40, 26, 34, 0 };

static void eval_two(struct agent_eval *e, struct agent_window **w, struct agent_baseline **b,
		     const char *json)
{
	struct agent_config c;

	*b = base_new(2);
	base_numeric(&(*b)->features[0], "a", BASE_A);
	base_numeric(&(*b)->features[1], "b", BASE_A);
	*w = win(*b);
	add_numeric(*w, "a", LIVE_SA);
	add_numeric(*w, "b", LIVE_SB);
	conf(&c, json);
	eval(&c, *w, e);
	agent_config_free(&c);
}

static void test_sample_size_aware(void **state)
{
	struct agent_baseline *b;
	struct agent_window *w;
	struct agent_eval e;
	double ka = ref_kl(LIVE_SA, BASE_A, NK, 0.5), kb = ref_kl(LIVE_SB, BASE_A, NK, 0.5);
	double p[2] = { ref_kl_p(ka, 100, 1000, NK), ref_kl_p(kb, 100, 1000, NK) };
	double qa = ref_bh(p, 2, 0), qb = ref_bh(p, 2, 1);

	(void)state;
	/* the design: both above 0.01, a significant only raw, b not at all */
	assert_true(ka > 0.01 && kb > 0.01 && ka > kb);
	assert_true(p[0] < 0.05 && qa > 0.05 && qa < 0.1 && qb > 0.1);
	tu_assert_rel(qa, 2 * p[0], 1e-15, "adj a = 2 p_a");

	eval_two(&e, &w, &b, "{\"min_samples\": 50, \"rules\": {\"kl\": {\"threshold\": 0.01}}}");
	assert_int_equal(e.features[0].state[0], AGENT_BREACH);
	assert_int_equal(e.features[1].state[0], AGENT_BREACH);
	assert_true(isnan(e.features[0].kl_q) && isnan(e.features[1].kl_q));
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	done(NULL, &e, w, b);

	eval_two(&e, &w, &b,
		 "{\"min_samples\": 50, \"rules\": {\"kl\": {\"threshold\": 0.01, "
		 "\"sample_size_aware\": true}}}");
	tu_assert_rel(e.features[0].kl, ka, REL, "kl a");
	tu_assert_rel(e.features[1].kl, kb, REL, "kl b");
	tu_assert_rel(e.features[0].kl_p, p[0], REL, "kl_p a");
	tu_assert_rel(e.features[1].kl_p, p[1], REL, "kl_p b");
	tu_assert_rel(e.features[0].kl_q, qa, REL, "kl_q a");
	tu_assert_rel(e.features[1].kl_q, qb, REL, "kl_q b");
	assert_int_equal(e.features[0].state[0], AGENT_PASS);
	assert_int_equal(e.features[1].state[0], AGENT_PASS);
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_PASS);
	/* no breach: the worst is the largest KL, with its raw p-value */
	assert_string_equal(e.rule[AGENT_RULE_KL].feature, "a");
	tu_assert_rel(e.rule[AGENT_RULE_KL].p_value, p[0], REL, "rule p");
	done(NULL, &e, w, b);

	eval_two(&e, &w, &b,
		 "{\"min_samples\": 50, \"rules\": {\"kl\": {\"threshold\": 0.01, "
		 "\"sample_size_aware\": true, \"fdr\": 0.1}}}");
	assert_int_equal(e.features[0].state[0], AGENT_BREACH);
	assert_int_equal(e.features[1].state[0], AGENT_PASS);
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	assert_string_equal(e.rule[AGENT_RULE_KL].feature, "a");
	/* the mode concerns KL only: PSI and JS states are untouched */
	assert_int_equal(e.features[1].state[1],
			 e.features[1].psi > 0.25 ? AGENT_BREACH : AGENT_PASS);
	done(NULL, &e, w, b);

	/* a KL below the threshold stays a pass however significant */
	eval_two(&e, &w, &b,
		 "{\"min_samples\": 50, \"rules\": {\"kl\": {\"threshold\": 0.5, "
		 "\"sample_size_aware\": true, \"fdr\": 0.5}}}");
	assert_true(e.features[1].kl_q <= 0.5);
	assert_int_equal(e.features[0].state[0], AGENT_PASS);
	assert_int_equal(e.features[1].state[0], AGENT_PASS);
	done(NULL, &e, w, b);
}

/* The worst feature: a breaching one before any passing one, then the largest score; on a tie
 * the first in baseline order. "a" (n = 100) has KL 0.0612, p 0.0252; "d" and its twin "e"
 * (n = 12) KL 0.299, p 0.132: at fdr 0.1 only "a" is significant after BH. */
static void test_worst_feature(void **state)
{
	static const uint64_t live_a[NK] = { 0, 36, 20, 44, 0 }, live_d[NK] = { 0, 3, 3, 6, 0 };
	double ka = ref_kl(live_a, BASE_A, NK, 0.5), kd = ref_kl(live_d, BASE_A, NK, 0.5);
	double p[2] = { ref_kl_p(ka, 100, 1000, NK), ref_kl_p(kd, 12, 1000, NK) };
	struct agent_baseline *b = base_new(3);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;

	(void)state;
	assert_true(kd > ka && ka > 0.05);
	assert_true(3 * p[0] <= 0.1 && p[1] > 0.1);
	base_numeric(&b->features[0], "a", BASE_A);
	base_numeric(&b->features[1], "d", BASE_A);
	base_numeric(&b->features[2], "e", BASE_A); /* a twin of "d" */
	w = win(b);
	add_numeric(w, "a", live_a);
	add_numeric(w, "d", live_d);
	add_numeric(w, "e", live_d);

	/* plain: all breach, the largest KL is the worst; d and e tie, d comes first */
	conf(&c, "{\"min_samples\": 10, \"rules\": {\"kl\": {\"threshold\": 0.05}}}");
	eval(&c, w, &e);
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	assert_string_equal(e.rule[AGENT_RULE_KL].feature, "d");
	tu_assert_rel(e.rule[AGENT_RULE_KL].value, kd, REL, "worst value");
	assert_int_equal(e.rule[AGENT_RULE_KL].n, 12);

	/* sample-size-aware: only "a" is significant; it is the worst though d's KL is larger */
	again(&c, w, &e,
	      "{\"min_samples\": 10, \"rules\": {\"kl\": {\"threshold\": 0.05, "
	      "\"sample_size_aware\": true, \"fdr\": 0.1}}}");
	/* three p-values (d and e tie, rank 3 both): adj_d = adj_e = 3 p_d / 3,
	 * adj_a = min(3 p_a, p_d) = 3 p_a = 0.0756 */
	tu_assert_rel(e.features[0].kl_q, fmin(3 * p[0], p[1]), REL, "kl_q a of 3");
	tu_assert_rel(e.features[1].kl_q, p[1], REL, "kl_q d of 3");
	tu_assert_rel(e.features[2].kl_q, p[1], REL, "kl_q e of 3");
	assert_int_equal(e.features[0].state[0], AGENT_BREACH);
	assert_int_equal(e.features[1].state[0], AGENT_PASS);
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	assert_string_equal(e.rule[AGENT_RULE_KL].feature, "a");
	tu_assert_rel(e.rule[AGENT_RULE_KL].value, ka, REL, "breaching worst value");
	assert_int_equal(e.rule[AGENT_RULE_KL].n, 100);
	tu_assert_rel(e.rule[AGENT_RULE_KL].p_value, p[0], REL, "breaching worst p");
	done(&c, &e, w, b);
}

/* The prediction is one more feature, last, named __prediction__; rules.monitor_prediction
 * false leaves it out. */
static void test_prediction(void **state)
{
	static const uint64_t base_p[NK] = { 0, 500, 300, 200, 0 };
	static const uint64_t live_p[NK] = { 0, 10, 30, 60, 0 };
	struct agent_baseline *b = base_new(1);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	double kp = ref_kl(live_p, base_p, NK, 0.5);

	(void)state;
	base_numeric(&b->features[0], "a", BASE_A);
	base_numeric(&b->prediction, AGENT_PREDICTION_FEATURE, base_p);
	b->has_prediction = 1;
	w = win(b);
	add_numeric(w, "a", BASE_A); /* "a" exactly like the baseline: KL 0 */
	for (size_t s = 0; s < NK; s++) {
		for (uint64_t i = 0; i < live_p[s]; i++) {
			struct conn_record r;

			rec_init(&r);
			r.prediction = (struct conn_value){ .kind = CONN_VALUE_NUMBER,
							    .num = (double)s - 0.5 };
			add_one(w, &r);
		}
	}
	conf(&c, "{\"min_samples\": 50}");
	eval(&c, w, &e);
	assert_int_equal(e.nfeatures, 2);
	assert_string_equal(e.features[0].name, "a");
	assert_true(fabs(e.features[0].kl) <= 1e-15);
	assert_string_equal(e.features[1].name, AGENT_PREDICTION_FEATURE);
	assert_int_equal(e.features[1].n, 100);
	assert_int_equal(e.features[1].missing, 1000);
	tu_assert_rel(e.features[1].kl, kp, REL, "prediction kl");
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	assert_string_equal(e.rule[AGENT_RULE_KL].feature, AGENT_PREDICTION_FEATURE);

	again(&c, w, &e, "{\"min_samples\": 50, \"rules\": {\"monitor_prediction\": false}}");
	assert_int_equal(e.nfeatures, 1);
	assert_string_equal(e.features[0].name, "a");
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_PASS);
	assert_string_equal(e.rule[AGENT_RULE_KL].feature, "a");
	done(&c, &e, w, b);
}

/* A feature with fewer than min_samples values, or with no baseline values, is inconclusive
 * (NaN scores) and skipped; when none is conclusive the rule is "min_samples_feature"; with
 * no feature at all "no_features". A feature with exactly min_samples values is conclusive. */
static void test_feature_inconclusive(void **state)
{
	static const uint64_t live_short[NK] = { 0, 20, 15, 14, 0 }; /* 49 */
	static const uint64_t live_exact[NK] = { 0, 20, 15, 15, 0 }; /* 50 */
	static const char *const none[1] = { NULL };
	struct agent_baseline *b = base_new(3);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;

	(void)state;
	base_numeric(&b->features[0], "a", BASE_A);
	base_numeric(&b->features[1], "b", BASE_A);
	base_categorical(&b->features[2], "empty", none, NULL, 0, 0); /* m = 0 */
	w = win(b);
	add_numeric(w, "a", live_short);
	add_numeric(w, "b", live_exact);
	add_string(w, "empty", "q", 60);
	conf(&c, "{\"min_samples\": 50, \"rules\": {\"psi\": {\"enabled\": true}}}");
	eval(&c, w, &e);
	assert_int_equal(e.n, 159);
	for (int s = 0; s < 3; s++) {
		assert_int_equal(e.features[0].state[s], AGENT_INCONCLUSIVE);
		assert_int_equal(e.features[2].state[s], AGENT_INCONCLUSIVE);
	}
	assert_int_equal(e.features[0].n, 49);
	assert_true(isnan(e.features[0].kl) && isnan(e.features[0].psi) &&
		    isnan(e.features[0].js) && isnan(e.features[0].kl_p));
	assert_int_equal(e.features[2].n, 60);
	assert_int_equal(e.features[2].m, 0);
	assert_int_equal(e.features[2].k, 1);
	assert_true(isnan(e.features[2].kl));
	tu_assert_rel(e.features[1].kl, ref_kl(live_exact, BASE_A, NK, 0.5), REL, "b at n = 50");
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_PASS);
	assert_string_equal(e.rule[AGENT_RULE_KL].feature, "b");

	/* min_samples 61: the window (159 records) is big enough, no feature is */
	again(&c, w, &e, "{\"min_samples\": 61}");
	for (int s = 0; s < 3; s++) {
		assert_int_equal(e.rule[s].outcome, AGENT_INCONCLUSIVE);
		assert_string_equal(e.rule[s].why, "min_samples_feature");
		assert_null(e.rule[s].feature);
		assert_true(isnan(e.rule[s].value));
	}
	assert_false(agent_eval_breached(&e));
	done(&c, &e, w, b);

	/* a baseline without features nor prediction */
	b = base_new(0);
	w = win(b);
	add_latency(w, -1, 100);
	conf(&c, "{\"min_samples\": 50}");
	eval(&c, w, &e);
	assert_int_equal(e.nfeatures, 0);
	for (int s = 0; s < 3; s++)
		assert_string_equal(e.rule[s].why, "no_features");
	done(&c, &e, w, b);
}

/* A window with fewer than min_samples records: every rule inconclusive "min_samples", whatever
 * data each rule has; with exactly min_samples records each rule looks at its own data. */
static void test_window_min_samples(void **state)
{
	struct agent_baseline *b = base_new(1);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;

	(void)state;
	base_numeric(&b->features[0], "a", BASE_A);
	base_latency(b, 0.010, 100);
	b->scored = 100;
	b->correct = 90;
	b->errors = 1;
	b->error_known = 100;
	w = win(b);
	add_numeric(w, "a", LIVE_A); /* 100 records */
	add_latency(w, 50, 20);
	add_labelled(w, 0, 20);
	add_errors(w, 1, 19); /* 159 records */
	conf(&c, "{\"min_samples\": 160, \"rules\": {\"psi\": {\"enabled\": true}, "
		 "\"js\": {\"enabled\": true}, \"error_rate\": {\"enabled\": true}}}");
	eval(&c, w, &e);
	assert_int_equal(e.n, 159);
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		assert_int_equal(e.rule[r].outcome, AGENT_INCONCLUSIVE);
		assert_string_equal(e.rule[r].why, "min_samples");
	}
	assert_false(agent_eval_breached(&e));
	/* the window-level statistics are still reported */
	tu_assert_rel(e.p95, 0.05, 0, "p95 (constant latencies)");
	tu_assert_rel(e.accuracy, 0, 0, "accuracy");
	agent_eval_free(&e);
	agent_config_free(&c);

	add_errors(w, 1, 1); /* 160 */
	conf(&c, "{\"min_samples\": 160, \"rules\": {\"error_rate\": {\"enabled\": true}}}");
	eval(&c, w, &e);
	for (int r = 0; r < AGENT_RULE_COUNT; r++)
		assert_true(e.rule[r].why == NULL || strcmp(e.rule[r].why, "min_samples") != 0);
	/* each record-level rule now has its own data: 20 latencies, 20 labels, 20 error fields,
	 * all fewer than 160 */
	assert_string_equal(e.rule[AGENT_RULE_LATENCY].why, "no_data");
	assert_string_equal(e.rule[AGENT_RULE_ACCURACY].why, "no_labels");
	assert_string_equal(e.rule[AGENT_RULE_ERROR_RATE].why, "no_data");
	assert_string_equal(e.rule[AGENT_RULE_KL].why, "min_samples_feature");
	done(&c, &e, w, b);
}

/* No baseline: every rule inconclusive "no_baseline"; live statistics still reported. */
static void test_no_baseline(void **state)
{
	struct agent_window *w = win(NULL);
	struct agent_config c;
	struct agent_eval e;

	(void)state;
	add_latency(w, 20, 300);
	add_labelled(w, 1, 3);
	add_labelled(w, 0, 1);
	conf(&c, NULL);
	eval(&c, w, &e);
	assert_int_equal(e.n, 304);
	assert_int_equal(e.nfeatures, 0);
	assert_null(e.features);
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		assert_int_equal(e.rule[r].outcome, AGENT_INCONCLUSIVE);
		assert_string_equal(e.rule[r].why, "no_baseline");
		assert_true(isnan(e.rule[r].value) && isnan(e.rule[r].p_value));
	}
	tu_assert_rel(e.p50, 0.02, 0, "p50");
	tu_assert_rel(e.p95, 0.02, 0, "p95");
	tu_assert_rel(e.p99, 0.02, 0, "p99");
	assert_true(isnan(e.base_p95));
	tu_assert_rel(e.accuracy, 0.75, 0, "accuracy 3/4");
	assert_int_equal(e.scored, 4);
	assert_true(isnan(e.base_accuracy) && isnan(e.error_ratio) && isnan(e.base_error_ratio));
	agent_eval_free(&e);
	agent_config_free(&c);
	agent_window_free(w);
}

/* Latency: live p95 / baseline p95 > threshold. Constant latencies give exact quantiles (the
 * sketch clamps to [min, max]); otherwise the bucket representative of rank floor(0.95 (N-1)). */
static void test_latency(void **state)
{
	struct agent_baseline *b = base_new(0);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	const struct agent_rule_result *r;
	double ratio = (23 / 1000.0) / 0.020;

	(void)state;
	base_latency(b, 0.020, 1000);
	w = win(b);
	add_latency(w, 23, 200);
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	r = &e.rule[AGENT_RULE_LATENCY];
	tu_assert_rel(e.p95, 0.023, 0, "p95");
	tu_assert_rel(e.base_p95, 0.020, 0, "baseline p95");
	assert_int_equal(r->n, 200);
	assert_int_equal(r->m, 1000);
	tu_assert_rel(r->value, ratio, 1e-15, "ratio");
	tu_assert_rel(r->threshold, 1.15, 0, "default threshold");
	assert_true(isnan(r->p_value));
	assert_null(r->feature);
	/* 0.023 / 0.020 is exactly the double 1.15, the default threshold: not above, a pass */
	assert_true(ratio == 1.15);
	assert_int_equal(r->outcome, AGENT_PASS);
	agent_eval_free(&e);
	agent_config_free(&c);

	/* the boundary: value == threshold passes, one ulp below it breaches */
	conf(&c, "{\"min_samples\": 200}");
	c.latency.threshold = ratio;
	eval(&c, w, &e);
	assert_int_equal(e.rule[AGENT_RULE_LATENCY].outcome, AGENT_PASS);
	agent_eval_free(&e);
	c.latency.threshold = nextafter(ratio, 0);
	eval(&c, w, &e);
	assert_int_equal(e.rule[AGENT_RULE_LATENCY].outcome, AGENT_BREACH);
	assert_true(agent_eval_breached(&e));
	agent_eval_free(&e);
	agent_config_free(&c);
	agent_window_free(w);

	/* 1..200 ms: rank floor(0.95 * 199) = 189 is 190 ms, p50 rank 99 (100 ms), p99 rank 197 */
	w = win(b);
	for (int i = 1; i <= 200; i++)
		add_latency(w, i, 1);
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	tu_assert_rel(e.p95, ref_bucket_rep(190 / 1000.0), 1e-12, "p95 bucket");
	tu_assert_rel(e.p50, ref_bucket_rep(100 / 1000.0), 1e-12, "p50 bucket");
	tu_assert_rel(e.p99, ref_bucket_rep(198 / 1000.0), 1e-12, "p99 bucket");
	tu_assert_rel(e.rule[AGENT_RULE_LATENCY].value, ref_bucket_rep(0.190) / 0.020, 1e-12,
		      "ratio");
	assert_int_equal(e.rule[AGENT_RULE_LATENCY].outcome, AGENT_BREACH);
	agent_eval_free(&e);
	agent_config_free(&c);
	agent_window_free(w);

	/* fewer latencies than min_samples (the window has enough records): no_data */
	w = win(b);
	add_latency(w, 23, 199);
	add_latency(w, -1, 1);
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	assert_int_equal(e.rule[AGENT_RULE_LATENCY].outcome, AGENT_INCONCLUSIVE);
	assert_string_equal(e.rule[AGENT_RULE_LATENCY].why, "no_data");
	assert_int_equal(e.rule[AGENT_RULE_LATENCY].n, 199);
	agent_eval_free(&e);
	/* none at all, even with min_samples 0 */
	c.min_samples = 0;
	agent_window_free(w);
	w = win(b);
	add_latency(w, -1, 10);
	eval(&c, w, &e);
	assert_string_equal(e.rule[AGENT_RULE_LATENCY].why, "no_data");
	done(&c, &e, w, b);

	/* a baseline without latencies: no_baseline_data */
	b = base_new(0);
	w = win(b);
	add_latency(w, 23, 200);
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	assert_string_equal(e.rule[AGENT_RULE_LATENCY].why, "no_baseline_data");
	assert_int_equal(e.rule[AGENT_RULE_LATENCY].m, 0);
	assert_true(isnan(e.base_p95));
	done(&c, &e, w, b);
}

/* Accuracy: baseline 900/1000 = 0.9, live 160/200 = 0.8. Absolute drop 0.9 - 0.8 =
 * 0.09999999999999998 in doubles (passes 0.1), relative 0.1/0.9 = 0.111 (breaches 0.1). */
static void test_accuracy(void **state)
{
	struct agent_baseline *b = base_new(0);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	const struct agent_rule_result *r = &e.rule[AGENT_RULE_ACCURACY];
	double drop = 900 / 1000.0 - 160 / 200.0;
	double p = ref_two_prop_p(160, 200, 900, 1000);

	(void)state;
	b->scored = 1000;
	b->correct = 900;
	w = win(b);
	add_labelled(w, 1, 160);
	add_labelled(w, 0, 40);
	conf(&c, "{\"min_samples\": 200, \"rules\": {\"accuracy\": {\"threshold\": 0.1}}}");
	assert_int_equal(c.accuracy_mode, AGENT_ACC_ABSOLUTE);
	eval(&c, w, &e);
	tu_assert_rel(e.accuracy, 0.8, 0, "live accuracy");
	tu_assert_rel(e.base_accuracy, 0.9, 0, "baseline accuracy");
	assert_int_equal(e.scored, 200);
	assert_int_equal(r->n, 200);
	assert_int_equal(r->m, 1000);
	tu_assert_rel(r->value, drop, 1e-15, "absolute drop");
	tu_assert_rel(r->p_value, p, 1e-12, "two-proportion p");
	assert_int_equal(r->outcome, AGENT_PASS);

	again(&c, w, &e,
	      "{\"min_samples\": 200, \"rules\": {\"accuracy\": {\"threshold\": 0.1, "
	      "\"mode\": \"relative\"}}}");
	tu_assert_rel(r->value, drop / 0.9, 1e-15, "relative drop");
	tu_assert_rel(r->p_value, p, 1e-12, "p, whatever the mode");
	assert_int_equal(r->outcome, AGENT_BREACH);
	agent_eval_free(&e);
	/* boundary */
	c.accuracy.threshold = drop / 0.9;
	eval(&c, w, &e);
	assert_int_equal(r->outcome, AGENT_PASS);
	agent_eval_free(&e);
	c.accuracy.threshold = nextafter(drop / 0.9, 0);
	eval(&c, w, &e);
	assert_int_equal(r->outcome, AGENT_BREACH);
	agent_eval_free(&e);
	agent_config_free(&c);

	/* an improvement is a negative drop: a pass */
	agent_window_free(w);
	w = win(b);
	add_labelled(w, 1, 200);
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	tu_assert_rel(r->value, 0.9 - 1.0, 1e-15, "negative drop");
	tu_assert_rel(r->p_value, ref_two_prop_p(200, 200, 900, 1000), 1e-12, "p");
	assert_int_equal(r->outcome, AGENT_PASS);
	done(&c, &e, w, b);
}

static void test_accuracy_inconclusive(void **state)
{
	struct agent_baseline *b = base_new(0);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;

	(void)state;
	b->scored = 1000;
	b->correct = 900;
	/* 200 records, 199 labelled */
	w = win(b);
	add_labelled(w, 1, 199);
	add_latency(w, -1, 1);
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	assert_string_equal(e.rule[AGENT_RULE_ACCURACY].why, "no_labels");
	assert_int_equal(e.rule[AGENT_RULE_ACCURACY].n, 199);
	agent_eval_free(&e);
	agent_window_free(w);
	/* no label at all, min_samples 0 */
	c.min_samples = 0;
	w = win(b);
	add_latency(w, -1, 5);
	eval(&c, w, &e);
	assert_string_equal(e.rule[AGENT_RULE_ACCURACY].why, "no_labels");
	assert_true(isnan(e.accuracy));
	agent_eval_free(&e);
	agent_window_free(w);
	agent_config_free(&c);

	/* the baseline scored nothing */
	b->scored = b->correct = 0;
	w = win(b);
	add_labelled(w, 1, 200);
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	assert_string_equal(e.rule[AGENT_RULE_ACCURACY].why, "no_baseline_data");
	agent_eval_free(&e);
	agent_config_free(&c);

	/* relative mode with a baseline accuracy of 0: no_baseline_data (absolute is fine) */
	b->scored = 1000;
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	assert_int_equal(e.rule[AGENT_RULE_ACCURACY].outcome, AGENT_PASS);
	tu_assert_rel(e.rule[AGENT_RULE_ACCURACY].value, -1, 0, "0 - 1");
	again(&c, w, &e,
	      "{\"min_samples\": 200, \"rules\": {\"accuracy\": {\"mode\": \"relative\"}}}");
	assert_int_equal(e.rule[AGENT_RULE_ACCURACY].outcome, AGENT_INCONCLUSIVE);
	assert_string_equal(e.rule[AGENT_RULE_ACCURACY].why, "no_baseline_data");
	done(&c, &e, w, b);
}

/* error_rate (off by default): live 30/200 - baseline 50/1000 = 0.1. */
static void test_error_rate(void **state)
{
	struct agent_baseline *b = base_new(0);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	const struct agent_rule_result *r = &e.rule[AGENT_RULE_ERROR_RATE];
	double diff = 30 / 200.0 - 50 / 1000.0;

	(void)state;
	b->errors = 50;
	b->error_known = 1000;
	w = win(b);
	add_errors(w, 1, 30);
	add_errors(w, 0, 170);
	conf(&c, "{\"min_samples\": 200}");
	eval(&c, w, &e);
	assert_int_equal(r->enabled, 0);
	tu_assert_rel(r->threshold, 0.05, 0, "default threshold");
	tu_assert_rel(e.error_ratio, 0.15, 0, "live ratio");
	tu_assert_rel(e.base_error_ratio, 0.05, 0, "baseline ratio");
	tu_assert_rel(r->value, diff, 1e-15, "difference");
	tu_assert_rel(r->p_value, ref_two_prop_p(30, 200, 50, 1000), 1e-12, "p");
	assert_int_equal(r->n, 200);
	assert_int_equal(r->m, 1000);
	/* evaluated while disabled, but a disabled rule's breach is no breach of the window */
	assert_int_equal(r->outcome, AGENT_BREACH);
	assert_false(agent_eval_breached(&e));

	again(&c, w, &e,
	      "{\"min_samples\": 200, \"rules\": {\"error_rate\": {\"enabled\": true}}}");
	assert_true(agent_eval_breached(&e));
	agent_eval_free(&e);
	c.error_rate.threshold = diff;
	eval(&c, w, &e);
	assert_int_equal(r->outcome, AGENT_PASS);
	agent_eval_free(&e);
	agent_window_free(w);

	/* 199 records with the field in 200: no_data; baseline without: no_baseline_data */
	w = win(b);
	add_errors(w, 1, 199);
	add_latency(w, -1, 1);
	eval(&c, w, &e);
	assert_string_equal(r->why, "no_data");
	assert_int_equal(r->n, 199);
	agent_eval_free(&e);
	agent_window_free(w);
	b->errors = b->error_known = 0;
	w = win(b);
	add_errors(w, 0, 200);
	eval(&c, w, &e);
	assert_string_equal(r->why, "no_baseline_data");
	assert_true(isnan(e.base_error_ratio));
	done(&c, &e, w, b);
}

/* Per-feature thresholds at the boundary: a feature whose score equals the threshold passes. */
static void test_feature_threshold_boundary(void **state)
{
	struct agent_baseline *b = base_new(1);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;
	double kl, psi, js;

	(void)state;
	base_numeric(&b->features[0], "a", BASE_A);
	w = win(b);
	add_numeric(w, "a", LIVE_A);
	conf(&c, "{\"min_samples\": 50}");
	eval(&c, w, &e);
	kl = e.features[0].kl;
	psi = e.features[0].psi;
	js = e.features[0].js;
	agent_eval_free(&e);
	c.kl.threshold = kl;
	c.psi.threshold = psi;
	c.js.threshold = js;
	eval(&c, w, &e);
	for (int s = 0; s < 3; s++) {
		assert_int_equal(e.features[0].state[s], AGENT_PASS);
		assert_int_equal(e.rule[s].outcome, AGENT_PASS);
	}
	agent_eval_free(&e);
	c.kl.threshold = nextafter(kl, 0);
	c.psi.threshold = nextafter(psi, 0);
	c.js.threshold = nextafter(js, 0);
	eval(&c, w, &e);
	for (int s = 0; s < 3; s++)
		assert_int_equal(e.rule[s].outcome, AGENT_BREACH);
	done(&c, &e, w, b);
}

/* enabled, threshold and dry_run come from each rule's own options; a dry-run rule's breach
 * still counts as a breach of the window (the decision turns it into a dry-run event). */
static void test_dry_run_per_rule(void **state)
{
	static const char *const names[] = {
		"kl", "psi", "js", "latency", "accuracy", "error_rate"
	};
	struct agent_baseline *b = base_new(1);
	struct agent_window *w;
	struct agent_config c;
	struct agent_eval e;

	(void)state;
	base_numeric(&b->features[0], "a", BASE_A);
	w = win(b);
	add_numeric(w, "a", LIVE_A);
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		char json[256];

		snprintf(json, sizeof json,
			 "{\"min_samples\": 50, \"rules\": {\"%s\": {\"dry_run\": true, "
			 "\"enabled\": true, \"threshold\": 0.125}}}",
			 names[r]);
		conf(&c, json);
		eval(&c, w, &e);
		for (int o = 0; o < AGENT_RULE_COUNT; o++) {
			assert_int_equal(e.rule[o].dry_run, o == r);
			if (o == r) {
				assert_int_equal(e.rule[o].enabled, 1);
				tu_assert_rel(e.rule[o].threshold, 0.125, 0, "threshold");
			}
		}
		if (r <= AGENT_RULE_JS) {
			assert_int_equal(e.rule[r].outcome, AGENT_BREACH);
			assert_true(agent_eval_breached(&e));
		}
		agent_eval_free(&e);
		agent_config_free(&c);
	}
	/* kl disabled: its breach no longer makes the window breached */
	conf(&c, "{\"min_samples\": 50, \"rules\": {\"kl\": {\"enabled\": false}}}");
	eval(&c, w, &e);
	assert_int_equal(e.rule[AGENT_RULE_KL].enabled, 0);
	assert_int_equal(e.rule[AGENT_RULE_KL].outcome, AGENT_BREACH);
	assert_false(agent_eval_breached(&e));
	done(&c, &e, w, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_kl_live_baseline),
		cmocka_unit_test(test_kl_direction),
		cmocka_unit_test(test_psi_js_categorical),
		cmocka_unit_test(test_alpha),
		cmocka_unit_test(test_sample_size_aware),
		cmocka_unit_test(test_worst_feature),
		cmocka_unit_test(test_prediction),
		cmocka_unit_test(test_feature_inconclusive),
		cmocka_unit_test(test_window_min_samples),
		cmocka_unit_test(test_no_baseline),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_accuracy),
		cmocka_unit_test(test_accuracy_inconclusive),
		cmocka_unit_test(test_error_rate),
		cmocka_unit_test(test_feature_threshold_boundary),
		cmocka_unit_test(test_dry_run_per_rule),
	};

	stats_init();
	return TU_RUN(tests);
}
