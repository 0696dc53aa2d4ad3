/*
 * rules.h -- the rules of SPEC.md "Windows and decisions", evaluated on one closed window
 * against its baseline. A rule is (statistic, scope, threshold); its outcome per window is pass,
 * breach or inconclusive, always with its evidence (value, threshold, n, baseline n, p-value).
 *
 *   kl        per feature (and the prediction): KL of the smoothed binned distributions in the
 *             configured direction > threshold; with sample_size_aware, the feature must also be
 *             significant (2nm/(n+m) KL against chi-square(K-1)) after Benjamini-Hochberg at fdr
 *             across the window's features. The rule breaches when any feature does.
 *   psi, js   the same per feature with PSI / Jensen-Shannon distance (off by default).
 *   latency   live p95 / baseline p95 > threshold (default 1.15).
 *   accuracy  baseline accuracy - live accuracy > threshold (absolute points, default 0.05), or
 *             that drop / baseline accuracy in relative mode; z-test and Wilson intervals as
 *             evidence. Classification scoring only (accuracy.h).
 *   error_rate live error ratio - baseline error ratio > threshold (off by default).
 * Inconclusive, never a breach: the window has fewer than min_samples records, there is no
 * baseline, or the rule's own data is short (a feature with fewer than min_samples values, no
 * latencies or labels on either side).
 */
#ifndef DRIFTD_AGENT_RULES_H
#define DRIFTD_AGENT_RULES_H

#include "agent/config.h"
#include "agent/coverage.h"
#include "agent/window.h"

enum agent_outcome { AGENT_PASS = 0, AGENT_BREACH = 1, AGENT_INCONCLUSIVE = 2 };

enum agent_rule_id {
	AGENT_RULE_KL = 0,
	AGENT_RULE_PSI,
	AGENT_RULE_JS,
	AGENT_RULE_LATENCY,
	AGENT_RULE_ACCURACY,
	AGENT_RULE_ERROR_RATE,
	AGENT_RULE_COUNT
};

const char *agent_rule_name(enum agent_rule_id r);    /* "kl", "psi", ... */
const char *agent_outcome_name(enum agent_outcome o); /* "pass", "breach", "inconclusive" */

/* Scores of one feature. */
struct agent_fscore {
	const char *name; /* the baseline feature's name */
	int categorical;
	uint64_t n, m;		     /* live values, baseline values compared */
	size_t k;		     /* bins compared */
	double kl, psi, js;	     /* NaN when not computed (too few values) */
	double kl_p;		     /* sample-size-aware p-value of KL (NaN if not computed) */
	double kl_q;		     /* its BH-adjusted value */
	enum agent_outcome state[3]; /* outcome for kl, psi, js */
	uint64_t missing;	     /* live records without the feature */
	uint64_t nonfinite;	     /* live values NaN, Infinity or -Infinity (not compared) */
};

/* Outcome of one rule. For per-feature rules value/n/m are those of the worst feature. */
struct agent_rule_result {
	int enabled;
	enum agent_outcome outcome;
	const char *why; /* inconclusive: "min_samples", "no_baseline", "no_data", ... */
	double value;	 /* the score compared (NaN when none) */
	double threshold;
	uint64_t n, m;	     /* live and baseline sample sizes behind value */
	double p_value;	     /* NaN when none */
	const char *feature; /* per-feature rules: the worst feature (NULL otherwise) */
	int dry_run;	     /* the rule is configured dry-run */
};

struct agent_eval {
	int64_t start_ms, end_ms;
	uint64_t n;		       /* records in the window */
	struct agent_fscore *features; /* the window's features, then the prediction */
	size_t nfeatures;
	struct agent_rule_result rule[AGENT_RULE_COUNT];
	double p50, p95, p99;		/* live latency, seconds (NaN when none) */
	double base_p95;		/* NaN when none */
	double accuracy, base_accuracy; /* NaN when none */
	double error_ratio, base_error_ratio;
	uint64_t scored;		/* live classification records scored */
	struct agent_coverage coverage; /* the input partitions the counts account for */
};

/* Evaluates a closed (flushed) window. base is the window's baseline (may be NULL). Returns 0,
 * or -1 on no memory. The eval borrows feature names from the baseline. */
int agent_rules_eval(const struct agent_config *c, const struct agent_window *w,
		     struct agent_eval *out);
void agent_eval_free(struct agent_eval *e);
/* Sets e's coverage; below the configured min_coverage every enabled rule is inconclusive
 * ("coverage"). */
void agent_eval_coverage(const struct agent_config *c, struct agent_eval *e,
			 const struct agent_coverage *cov);

/* One feature of a decided window as reported (agent_fscore's name, kl, psi, js, n). */
struct agent_feature_summary {
	const char *name;   /* label value (NULL is ""); owned by a summary made below */
	double kl, psi, js; /* NaN: not computed */
	uint64_t n;	    /* live values compared */
	uint64_t nonfinite; /* live values NaN, Infinity or -Infinity (not compared) */
};

/* A decided window as it is reported: the one "last decided window" of a (model, version) that
 * the engine keeps (pairs.h) and the metrics render (metrics.h). Made from an eval by
 * agent_window_summary_new; the metrics' tests fill one by hand. */
struct agent_window_summary {
	int64_t decided_wall_ms;		      /* when it was decided (wall clock) */
	int64_t window_end_ms;			      /* e.end_ms */
	uint64_t samples;			      /* e.n: records in the window */
	const struct agent_feature_summary *features; /* e.features (the prediction included) */
	size_t nfeatures;
	double p50, p95, p99;  /* live latency, seconds; NaN: no latency */
	double p95_ratio;      /* p95 / baseline p95; NaN: no baseline latency */
	double accuracy;       /* 0..1; NaN: nothing scored */
	double accuracy_delta; /* accuracy - baseline accuracy (negative: worse); NaN: either NaN */
	double error_ratio;    /* NaN: no record said "error" */
	double target_missing; /* share of the window's records without a label; NaN: no record */
	double coverage;       /* share of the input partitions accounted for (coverage.h) */
	int rule_enabled[AGENT_RULE_COUNT];		 /* disabled rules are not shown */
	enum agent_outcome rule_state[AGENT_RULE_COUNT]; /* e.rule[r].outcome */
	double rule_value[AGENT_RULE_COUNT];		 /* NaN omitted */
	double rule_threshold[AGENT_RULE_COUNT];
	uint64_t rule_n[AGENT_RULE_COUNT];
};

/* The summary of evaluated window e: labels is the count of its records with a label (own or
 * joined), wall_ms the decision's wall time. Copies the feature names. NULL on no memory. */
struct agent_window_summary *agent_window_summary_new(const struct agent_eval *e, uint64_t labels,
						      int64_t wall_ms);
void agent_window_summary_free(struct agent_window_summary *s);

/* Whether any enabled rule breached (dry-run rules included). */
int agent_eval_breached(const struct agent_eval *e);

#endif
