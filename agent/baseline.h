/*
 * baseline.h -- the reference distribution of one (model, version) (SPEC.md "Baseline"): what
 * live windows are compared with. Built from a JSONL sample (driftctl baseline build), kept in
 * the store as a JSON document ("schema": 1, doc/baseline.md), loaded by the agent.
 *
 * Per feature: a numeric feature has equal-frequency edges (default 20 bins, stats_edges_
 * quantile) with underflow and overflow counts (a stats_hist), a categorical one its categories
 * plus __other__ (a stats_cat); both count records where the feature was missing. A feature's
 * kind is the kind of its first non-missing value in the sample; later values of the other
 * kind are counted in `mismatched`, not binned; a non-finite number counts as missing; a feature
 * never seen with a value becomes an empty categorical one; a name repeated within one record
 * counts once. The prediction is one more feature, named
 * "__prediction__". Then the latency sketch, the scored predictions (accuracy.h) and errors.
 */
#ifndef DRIFTD_AGENT_BASELINE_H
#define DRIFTD_AGENT_BASELINE_H

#include "connectors/record.h"
#include "stats/cat.h"
#include "stats/hist.h"
#include "stats/sketch.h"

#define AGENT_BASELINE_SCHEMA	 1
#define AGENT_PREDICTION_FEATURE "__prediction__"

struct agent_bfeature {
	char *name;		 /* NUL-terminated */
	int categorical;	 /* 0: hist, 1: cat */
	struct stats_hist *hist; /* numeric: baseline edges and counts (slots, see hist.h) */
	struct stats_cat *cat;	 /* categorical: categories, counts, __other__ */
	uint64_t missing;	 /* sample records without this feature (or null) */
	uint64_t mismatched;	 /* values of the other kind, not binned */
	double iqr;		 /* numeric: q75 - q25 of the sample (linear), NaN if unknown */
};

struct agent_baseline {
	char *model; /* NUL-terminated */
	char *version;
	int64_t created_ms;		 /* epoch ms */
	uint64_t samples;		 /* records in the sample */
	char *metadata;			 /* the version's registration document (JSON) or NULL */
	struct agent_bfeature *features; /* sorted by name (strcmp); the prediction not included */
	size_t nfeatures;
	struct agent_bfeature prediction; /* name "__prediction__"; has_prediction = 0 if none */
	int has_prediction;
	struct stats_sketch *latency; /* never NULL (may be empty) */
	uint64_t scored;	      /* classification records scored */
	uint64_t correct;	      /* of which correct */
	uint64_t reg_n;		      /* regression records scored */
	double abs_err_sum;	      /* their sum of absolute errors */
	uint64_t errors;	      /* records with "error": true */
	uint64_t error_known;	      /* records with an "error" field */
};

void agent_baseline_free(struct agent_baseline *b);
/* The feature named name (binary search), or NULL. */
const struct agent_bfeature *agent_baseline_feature(const struct agent_baseline *b,
						    const char *name, size_t len);

/* ---- building from records ---- */
struct agent_baseline_builder;
/* bins: numeric bins (1..STATS_HIST_MAX_BINS, default 20); max_categories as stats_cat_new. */
struct agent_baseline_builder *agent_baseline_builder_new(const char *model, const char *version,
							  size_t bins, size_t max_categories,
							  double accuracy_threshold);
/* Adds one decoded record (its model/version fields are not checked). 0, or -1 on no memory. */
int agent_baseline_builder_add(struct agent_baseline_builder *bb, const struct conn_record *r);
/* Computes edges, bins the kept values and returns the baseline (NULL with err on failure:
 * no record, no memory). Frees the builder in every case. */
struct agent_baseline *agent_baseline_builder_finish(struct agent_baseline_builder *bb,
						     int64_t created_ms, char *err, size_t errlen);

/* ---- JSON (schema 1, doc/baseline.md) ---- */
/* malloc'd NUL-terminated JSON text, or NULL (no memory, a counter above INT64_MAX, metadata that
 * is not a JSON object, a name that is not UTF-8). Doubles round-trip exactly. */
char *agent_baseline_to_json(const struct agent_baseline *b);
/* Parses and validates everything (schema, kinds, edges strictly increasing and finite, counts
 * consistent, sketch bytes); NULL with a message in err on any problem. Never aborts. */
struct agent_baseline *agent_baseline_from_json(const char *json, size_t len, char *err,
						size_t errlen);

#endif
