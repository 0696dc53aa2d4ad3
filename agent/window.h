/*
 * window.h -- one tumbling event-time window of one (model, version): the live counts that the
 * rules compare with a baseline.
 *
 * A window is bound to the baseline it will be compared with: numeric features are binned with
 * that baseline's edges (a stats_hist cloned empty from the baseline's), categorical ones
 * counted in a stats_cat (aligned on the baseline's categories when compared). Numeric values are
 * buffered per feature in a column and binned in batches by the stats kernels. Features the
 * baseline does not have are counted (unknown_values), not kept; without a baseline only the
 * record-level counts (n, latency, errors, accuracy) are kept. The prediction is monitored like a
 * feature when the baseline has one. Memory per window: O(features x (bins + column)).
 */
#ifndef DRIFTD_AGENT_WINDOW_H
#define DRIFTD_AGENT_WINDOW_H

#include "agent/baseline.h"
#include "connectors/record.h"

#define AGENT_COLUMN 256 /* numeric values buffered per feature before binning */

/* Live counts of one baseline feature. */
struct agent_lfeature {
	const struct agent_bfeature *ref; /* the baseline feature (binning, name) */
	struct stats_hist *hist;	  /* numeric */
	struct stats_cat *cat;		  /* categorical */
	double *col;			  /* numeric: AGENT_COLUMN pending values */
	size_t ncol;			  /* pending */
	uint64_t present;		  /* values counted (binned or pending) */
	uint64_t nulls;			  /* explicit nulls (missing) */
	uint64_t mismatched;		  /* values of the other kind: not counted */
	uint64_t nonfinite;		  /* NaN, Infinity, -Infinity: not counted */
};

struct agent_window {
	int64_t start_ms, end_ms;	   /* [start, end) event time */
	const struct agent_baseline *base; /* binning baseline (may be NULL); not owned */
	uint64_t n;			   /* records */
	struct agent_lfeature *f;	   /* one per base->features, same order */
	size_t nf;
	struct agent_lfeature pred;   /* the prediction (pred.ref NULL: not monitored) */
	struct stats_sketch *latency; /* latency_ms / 1000: seconds */
	uint64_t errors, error_known; /* "error": true / records with "error" */
	uint64_t scored, correct;     /* classification scoring (accuracy.h) */
	uint64_t reg_n;		      /* regression scoring */
	double abs_err_sum;
	uint64_t labels;	 /* records that carried a label */
	uint64_t unknown_values; /* feature values with no baseline feature */
	uint32_t *hint;		 /* record feature i -> baseline index last time */
	size_t nhint;
	uint64_t updates; /* records and labels counted so far: a change counter for observers
			   * (a checkpoint commits a window whose counter moved) */
};

/* NULL on no memory. base may be NULL. max_categories bounds live categorical counts. */
struct agent_window *agent_window_new(int64_t start_ms, int64_t end_ms,
				      const struct agent_baseline *base, size_t max_categories);
void agent_window_free(struct agent_window *w);

/* Counts one record. latency and accuracy use accuracy_threshold (accuracy.h). Returns 0, or -1
 * when memory ran out (the record is then counted only partly). */
int agent_window_add(struct agent_window *w, const struct conn_record *r,
		     double accuracy_threshold);

/* Scores one label against its prediction (accuracy.h) into the window's accuracy counts: a
 * record's own label, or a late label joined to a remembered prediction. */
void agent_window_add_label(struct agent_window *w, const struct conn_value *prediction,
			    const struct conn_value *label, double accuracy_threshold);

/* Bins every pending column value: call before reading the histograms. */
void agent_window_flush(struct agent_window *w);

/* dst += src: both flushed, bound to the same baseline (else -1, dst unchanged in its counts
 * only partly on no memory: -1). dst's span grows to cover src's. For the sliding view. */
int agent_window_merge(struct agent_window *dst, const struct agent_window *src);

/* The missing count of a live feature: records without a usable value for it. */
uint64_t agent_window_missing(const struct agent_window *w, const struct agent_lfeature *f);

#endif
