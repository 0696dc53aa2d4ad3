/*
 * rules.c -- evaluating the rules on a closed window (see rules.h).
 *
 * Per feature: the live counts (numeric: the histogram's slots 0..B+1 -- underflow, bins,
 * overflow; categorical: aligned on the baseline's categories plus __other__) against the
 * baseline's, through stats_divergence (KL both ways, PSI, JS in one pass) and, for the
 * sample-size-aware mode, stats_kl_significance and stats_bh across the window's features.
 * Then latency, accuracy and error rate from the record-level counts.
 */
#include "agent/rules.h"
#include "stats/divergence.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const rule_names[AGENT_RULE_COUNT] = { "kl",	     "psi",	 "js",
							  "latency", "accuracy", "error_rate" };

const char *agent_rule_name(enum agent_rule_id r)
{
	return r < AGENT_RULE_COUNT ? rule_names[r] : "unknown";
}

const char *agent_outcome_name(enum agent_outcome o)
{
	switch (o) {
	case AGENT_PASS:
		return "pass";
	case AGENT_BREACH:
		return "breach";
	case AGENT_INCONCLUSIVE:
		return "inconclusive";
	}
	return "unknown";
}

static const struct agent_rule_conf *rule_conf(const struct agent_config *c, int r)
{
	switch (r) {
	case AGENT_RULE_KL:
		return &c->kl;
	case AGENT_RULE_PSI:
		return &c->psi;
	case AGENT_RULE_JS:
		return &c->js;
	case AGENT_RULE_LATENCY:
		return &c->latency;
	case AGENT_RULE_ACCURACY:
		return &c->accuracy;
	default:
		return &c->error_rate;
	}
}

static void inconclusive(struct agent_rule_result *r, const char *why)
{
	r->outcome = AGENT_INCONCLUSIVE;
	r->why = why;
}

/* ---- features ---- */

/* Scores one live feature against its baseline feature into fs. c, b: scratch of cap counts. */
static int score_feature(const struct agent_config *cf, const struct agent_window *w,
			 const struct agent_lfeature *lf, struct agent_fscore *fs, uint64_t *c,
			 uint64_t *b, size_t cap)
{
	const struct agent_bfeature *ref = lf->ref;
	struct stats_divergence d;
	size_t k;

	memset(fs, 0, sizeof *fs);
	fs->name = ref->name;
	fs->categorical = ref->categorical;
	fs->kl = fs->psi = fs->js = fs->kl_p = fs->kl_q = NAN;
	fs->missing = agent_window_missing(w, lf);
	fs->nonfinite = lf->nonfinite;
	for (int s = 0; s < 3; s++)
		fs->state[s] = AGENT_INCONCLUSIVE;
	if (ref->categorical) {
		if (stats_cat_align(lf->cat, ref->cat, c, b, cap, &k) != STATS_OK)
			return -1;
	} else {
		k = stats_hist_bins(ref->hist) + 2;
		memcpy(c, stats_hist_counts(lf->hist), k * sizeof *c);
		memcpy(b, stats_hist_counts(ref->hist), k * sizeof *b);
	}
	fs->k = k;
	for (size_t i = 0; i < k; i++) {
		fs->n += c[i];
		fs->m += b[i];
	}
	if (fs->n < cf->min_samples || fs->m == 0)
		return 0;
	if (stats_divergence(c, b, k, cf->alpha, &d) != STATS_OK)
		return 0;
	fs->kl = cf->kl_direction == AGENT_KL_LIVE_BASELINE ? d.kl : d.kl_rev;
	fs->psi = d.psi;
	fs->js = d.js;
	if (k >= 2 && isfinite(fs->kl)) {
		double g;

		stats_kl_significance(fs->kl, fs->n, fs->m, k, &g, &fs->kl_p);
	}
	fs->state[0] = fs->kl > cf->kl.threshold ? AGENT_BREACH : AGENT_PASS;
	fs->state[1] = fs->psi > cf->psi.threshold ? AGENT_BREACH : AGENT_PASS;
	fs->state[2] = fs->js > cf->js.threshold ? AGENT_BREACH : AGENT_PASS;
	return 0;
}

/* Benjamini-Hochberg across the features with a KL p-value: a KL breach must also be
 * significant. */
static int apply_bh(const struct agent_config *cf, struct agent_eval *e)
{
	double *p = malloc((e->nfeatures ? e->nfeatures : 1) * sizeof *p);
	double *adj = malloc((e->nfeatures ? e->nfeatures : 1) * sizeof *adj);
	unsigned char *rej = malloc(e->nfeatures ? e->nfeatures : 1);
	size_t *at = malloc((e->nfeatures ? e->nfeatures : 1) * sizeof *at);
	size_t np = 0;
	int rc = -1;

	if (!p || !adj || !rej || !at)
		goto out;
	for (size_t i = 0; i < e->nfeatures; i++) {
		if (!isnan(e->features[i].kl_p)) {
			p[np] = e->features[i].kl_p;
			at[np++] = i;
		}
	}
	if (np && stats_bh(p, np, cf->fdr, adj, rej) != STATS_OK)
		goto out;
	for (size_t j = 0; j < np; j++) {
		struct agent_fscore *fs = &e->features[at[j]];

		fs->kl_q = adj[j];
		if (fs->state[0] == AGENT_BREACH && !rej[j])
			fs->state[0] = AGENT_PASS;
	}
	rc = 0;
out:
	free(p);
	free(adj);
	free(rej);
	free(at);
	return rc;
}

/* The per-feature rules (kl, psi, js = s 0..2) from the feature scores. */
static void feature_rule(struct agent_eval *e, int s, struct agent_rule_result *r)
{
	const struct agent_fscore *worst = NULL;
	int conclusive = 0, breach = 0;

	for (size_t i = 0; i < e->nfeatures; i++) {
		const struct agent_fscore *fs = &e->features[i];
		double v = s == 0 ? fs->kl : s == 1 ? fs->psi : fs->js;
		double wv;

		if (fs->state[s] == AGENT_INCONCLUSIVE)
			continue;
		conclusive = 1;
		breach |= fs->state[s] == AGENT_BREACH;
		wv = worst ? (s == 0 ? worst->kl : s == 1 ? worst->psi : worst->js) : 0;
		/* the worst: a breaching feature first, then the largest score */
		if (!worst || (fs->state[s] == AGENT_BREACH && worst->state[s] != AGENT_BREACH) ||
		    ((fs->state[s] == AGENT_BREACH) == (worst->state[s] == AGENT_BREACH) && v > wv))
			worst = fs;
	}
	if (!conclusive) {
		inconclusive(r, e->nfeatures ? "min_samples_feature" : "no_features");
		return;
	}
	r->outcome = breach ? AGENT_BREACH : AGENT_PASS;
	r->feature = worst->name;
	r->value = s == 0 ? worst->kl : s == 1 ? worst->psi : worst->js;
	r->n = worst->n;
	r->m = worst->m;
	r->p_value = s == 0 ? worst->kl_p : NAN;
}

/* ---- record-level rules ---- */

static void latency_rule(const struct agent_config *cf, const struct agent_window *w,
			 struct agent_eval *e, struct agent_rule_result *r)
{
	const struct stats_sketch *base = w->base->latency;
	uint64_t n = stats_sketch_count(w->latency), m = stats_sketch_count(base);

	r->n = n;
	r->m = m;
	if (n < cf->min_samples || n == 0) {
		inconclusive(r, "no_data");
		return;
	}
	if (m == 0 || !(e->base_p95 > 0)) {
		inconclusive(r, "no_baseline_data");
		return;
	}
	r->value = e->p95 / e->base_p95;
	r->outcome = r->value > r->threshold ? AGENT_BREACH : AGENT_PASS;
}

static void accuracy_rule(const struct agent_config *cf, const struct agent_window *w,
			  struct agent_eval *e, struct agent_rule_result *r)
{
	const struct agent_baseline *b = w->base;
	struct stats_two_prop tp;

	r->n = w->scored;
	r->m = b->scored;
	if (w->scored < cf->min_samples || w->scored == 0) {
		inconclusive(r, "no_labels");
		return;
	}
	if (b->scored == 0) {
		inconclusive(r, "no_baseline_data");
		return;
	}
	r->value = e->base_accuracy - e->accuracy;
	if (cf->accuracy_mode == AGENT_ACC_RELATIVE) {
		if (!(e->base_accuracy > 0)) {
			inconclusive(r, "no_baseline_data");
			return;
		}
		r->value /= e->base_accuracy;
	}
	if (stats_two_prop_test(w->correct, w->scored, b->correct, b->scored, 0.95, &tp) ==
	    STATS_OK)
		r->p_value = tp.p_value;
	r->outcome = r->value > r->threshold ? AGENT_BREACH : AGENT_PASS;
}

static void error_rule(const struct agent_config *cf, const struct agent_window *w,
		       struct agent_eval *e, struct agent_rule_result *r)
{
	const struct agent_baseline *b = w->base;
	struct stats_two_prop tp;

	r->n = w->error_known;
	r->m = b->error_known;
	if (w->error_known < cf->min_samples || w->error_known == 0) {
		inconclusive(r, "no_data");
		return;
	}
	if (b->error_known == 0) {
		inconclusive(r, "no_baseline_data");
		return;
	}
	r->value = e->error_ratio - e->base_error_ratio;
	if (stats_two_prop_test(w->errors, w->error_known, b->errors, b->error_known, 0.95, &tp) ==
	    STATS_OK)
		r->p_value = tp.p_value;
	r->outcome = r->value > r->threshold ? AGENT_BREACH : AGENT_PASS;
}

/* ---- the window ---- */

static double quantile(const struct stats_sketch *s, double q)
{
	double v;

	return s && stats_sketch_quantile(s, q, &v) == STATS_OK ? v : NAN;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : NAN;
}

int agent_rules_eval(const struct agent_config *cf, const struct agent_window *w,
		     struct agent_eval *e)
{
	const struct agent_baseline *b = w->base;
	size_t nf = w->nf + (w->pred.ref && cf->monitor_prediction ? 1 : 0), cap = 0;
	uint64_t *c = NULL, *bb = NULL;

	memset(e, 0, sizeof *e);
	e->start_ms = w->start_ms;
	e->end_ms = w->end_ms;
	e->n = w->n;
	e->p50 = quantile(w->latency, 0.5);
	e->p95 = quantile(w->latency, 0.95);
	e->p99 = quantile(w->latency, 0.99);
	e->base_p95 = b ? quantile(b->latency, 0.95) : NAN;
	e->accuracy = ratio(w->correct, w->scored);
	e->base_accuracy = b ? ratio(b->correct, b->scored) : NAN;
	e->error_ratio = ratio(w->errors, w->error_known);
	e->base_error_ratio = b ? ratio(b->errors, b->error_known) : NAN;
	e->scored = w->scored;
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		const struct agent_rule_conf *rc = rule_conf(cf, r);

		e->rule[r].enabled = rc->enabled;
		e->rule[r].threshold = rc->threshold;
		e->rule[r].dry_run = rc->dry_run;
		e->rule[r].value = NAN;
		e->rule[r].p_value = NAN;
		e->rule[r].outcome = AGENT_INCONCLUSIVE;
	}
	if (!b) {
		for (int r = 0; r < AGENT_RULE_COUNT; r++)
			inconclusive(&e->rule[r], "no_baseline");
		return 0;
	}

	/* features: scratch big enough for any of them */
	for (size_t i = 0; i < nf; i++) {
		const struct agent_lfeature *lf = i < w->nf ? &w->f[i] : &w->pred;
		size_t k = lf->ref->categorical ? stats_cat_size(lf->ref->cat) + 1
						: stats_hist_bins(lf->ref->hist) + 2;

		cap = k > cap ? k : cap;
	}
	e->features = calloc(nf ? nf : 1, sizeof *e->features);
	c = malloc((cap ? cap : 1) * sizeof *c);
	bb = malloc((cap ? cap : 1) * sizeof *bb);
	if (!e->features || !c || !bb)
		goto nomem;
	e->nfeatures = nf;
	for (size_t i = 0; i < nf; i++)
		if (score_feature(cf, w, i < w->nf ? &w->f[i] : &w->pred, &e->features[i], c, bb,
				  cap) < 0)
			goto nomem;
	if (cf->sample_size_aware && apply_bh(cf, e) < 0)
		goto nomem;
	free(c);
	free(bb);

	if (w->n < cf->min_samples) {
		for (int r = 0; r < AGENT_RULE_COUNT; r++)
			inconclusive(&e->rule[r], "min_samples");
		return 0;
	}
	for (int s = 0; s < 3; s++)
		feature_rule(e, s, &e->rule[s]);
	latency_rule(cf, w, e, &e->rule[AGENT_RULE_LATENCY]);
	accuracy_rule(cf, w, e, &e->rule[AGENT_RULE_ACCURACY]);
	error_rule(cf, w, e, &e->rule[AGENT_RULE_ERROR_RATE]);
	return 0;
nomem:
	free(c);
	free(bb);
	agent_eval_free(e);
	return -1;
}

void agent_eval_free(struct agent_eval *e)
{
	free(e->features);
	e->features = NULL;
	e->nfeatures = 0;
}

void agent_eval_coverage(const struct agent_config *c, struct agent_eval *e,
			 const struct agent_coverage *cov)
{
	e->coverage = *cov;
	if (agent_coverage_fraction(cov) >= c->min_coverage)
		return;
	for (int r = 0; r < AGENT_RULE_COUNT; r++)
		if (e->rule[r].enabled)
			inconclusive(&e->rule[r], "coverage");
}

int agent_eval_breached(const struct agent_eval *e)
{
	for (int r = 0; r < AGENT_RULE_COUNT; r++)
		if (e->rule[r].enabled && e->rule[r].outcome == AGENT_BREACH)
			return 1;
	return 0;
}

/* ---- summaries ---- */

void agent_window_summary_free(struct agent_window_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfeatures; i++)
		free((char *)s->features[i].name);
	free((void *)s->features);
	free(s);
}

struct agent_window_summary *agent_window_summary_new(const struct agent_eval *e, uint64_t labels,
						      int64_t wall_ms)
{
	struct agent_window_summary *s = calloc(1, sizeof *s);
	struct agent_feature_summary *f;

	if (!s)
		return NULL;
	f = calloc(e->nfeatures ? e->nfeatures : 1, sizeof *f);
	if (!f) {
		free(s);
		return NULL;
	}
	s->features = f;
	for (size_t i = 0; i < e->nfeatures; i++) {
		const struct agent_fscore *fs = &e->features[i];

		f[i] = (struct agent_feature_summary){ .name = strdup(fs->name),
						       .kl = fs->kl,
						       .psi = fs->psi,
						       .js = fs->js,
						       .n = fs->n,
						       .nonfinite = fs->nonfinite };
		s->nfeatures++;
		if (!f[i].name) {
			agent_window_summary_free(s);
			return NULL;
		}
	}
	s->decided_wall_ms = wall_ms;
	s->window_end_ms = e->end_ms;
	s->samples = e->n;
	s->p50 = e->p50;
	s->p95 = e->p95;
	s->p99 = e->p99;
	s->p95_ratio = e->base_p95 > 0 ? e->p95 / e->base_p95 : NAN;
	s->accuracy = e->accuracy;
	s->accuracy_delta = e->accuracy - e->base_accuracy; /* NaN when either is */
	s->error_ratio = e->error_ratio;
	/* late labels of earlier windows may count here too: at least 0 */
	s->target_missing =
	    e->n ? (labels >= e->n ? 0.0 : 1.0 - (double)labels / (double)e->n) : NAN;
	s->coverage = agent_coverage_fraction(&e->coverage);
	for (int r = 0; r < AGENT_RULE_COUNT; r++) {
		s->rule_enabled[r] = e->rule[r].enabled;
		s->rule_state[r] = e->rule[r].outcome;
		s->rule_value[r] = e->rule[r].value;
		s->rule_threshold[r] = e->rule[r].threshold;
		s->rule_n[r] = e->rule[r].n;
	}
	return s;
}
