/*
 * window.c -- the live counts of one window (see window.h).
 *
 * The per-record path: for each feature of the record, find the baseline feature by name --
 * first at the index the same position matched in the previous record (records of one model
 * usually list their features in the same order), else by binary search -- then append a
 * numeric value to its column (binned by stats_hist_add when AGENT_COLUMN are pending) or count
 * a categorical value. Then the prediction, latency, error and the accuracy score.
 */
#include "agent/window.h"
#include "agent/accuracy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- construction ---- */

static int init_feature(struct agent_lfeature *lf, const struct agent_bfeature *ref,
			size_t max_categories)
{
	memset(lf, 0, sizeof *lf);
	lf->ref = ref;
	if (ref->categorical) {
		lf->cat = stats_cat_new(max_categories, NULL);
		return lf->cat ? 0 : -1;
	}
	lf->hist = stats_hist_clone(ref->hist);
	lf->col = malloc(AGENT_COLUMN * sizeof *lf->col);
	if (!lf->hist || !lf->col)
		return -1;
	stats_hist_reset(lf->hist);
	return 0;
}

static void free_feature(struct agent_lfeature *lf)
{
	stats_hist_free(lf->hist);
	stats_cat_free(lf->cat);
	free(lf->col);
}

struct agent_window *agent_window_new(int64_t start_ms, int64_t end_ms,
				      const struct agent_baseline *base, size_t max_categories)
{
	struct agent_window *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->start_ms = start_ms;
	w->end_ms = end_ms;
	w->base = base;
	w->latency = stats_sketch_new(0, NULL);
	if (!w->latency)
		goto error;
	if (base) {
		w->nf = base->nfeatures;
		w->f = calloc(w->nf ? w->nf : 1, sizeof *w->f);
		if (!w->f)
			goto error;
		for (size_t i = 0; i < w->nf; i++)
			if (init_feature(&w->f[i], &base->features[i], max_categories) < 0)
				goto error;
		if (base->has_prediction &&
		    init_feature(&w->pred, &base->prediction, max_categories) < 0)
			goto error;
	}
	return w;
error:
	agent_window_free(w);
	return NULL;
}

void agent_window_free(struct agent_window *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nf && w->f; i++)
		free_feature(&w->f[i]);
	free(w->f);
	free_feature(&w->pred);
	stats_sketch_free(w->latency);
	free(w->hint);
	free(w);
}

/* ---- counting ---- */

static void flush_feature(struct agent_lfeature *lf)
{
	if (lf->ncol) {
		stats_hist_add(lf->hist, lf->col, lf->ncol);
		lf->ncol = 0;
	}
}

void agent_window_flush(struct agent_window *w)
{
	for (size_t i = 0; i < w->nf; i++)
		flush_feature(&w->f[i]);
	if (w->pred.ref)
		flush_feature(&w->pred);
}

static int merge_feature(struct agent_lfeature *d, const struct agent_lfeature *s)
{
	if (d->hist && stats_hist_merge(d->hist, s->hist) != STATS_OK)
		return -1;
	if (d->cat && stats_cat_merge(d->cat, s->cat) != STATS_OK)
		return -1;
	d->present += s->present;
	d->nulls += s->nulls;
	d->mismatched += s->mismatched;
	d->nonfinite += s->nonfinite;
	return 0;
}

int agent_window_merge(struct agent_window *dst, const struct agent_window *src)
{
	if (dst->base != src->base || dst->nf != src->nf || (!dst->pred.ref) != (!src->pred.ref))
		return -1;
	for (size_t i = 0; i < dst->nf; i++)
		if (merge_feature(&dst->f[i], &src->f[i]) < 0)
			return -1;
	if (dst->pred.ref && merge_feature(&dst->pred, &src->pred) < 0)
		return -1;
	if (stats_sketch_merge(dst->latency, src->latency) != STATS_OK)
		return -1;
	dst->n += src->n;
	dst->errors += src->errors;
	dst->error_known += src->error_known;
	dst->scored += src->scored;
	dst->correct += src->correct;
	dst->reg_n += src->reg_n;
	dst->abs_err_sum += src->abs_err_sum;
	dst->labels += src->labels;
	dst->unknown_values += src->unknown_values;
	if (src->start_ms < dst->start_ms)
		dst->start_ms = src->start_ms;
	if (src->end_ms > dst->end_ms)
		dst->end_ms = src->end_ms;
	return 0;
}

uint64_t agent_window_missing(const struct agent_window *w, const struct agent_lfeature *f)
{
	return w->n - f->present - f->mismatched - f->nonfinite;
}

/* Counts one value in a live feature by kind. */
static void count_value(struct agent_lfeature *lf, const struct conn_value *v)
{
	switch (v->kind) {
	case CONN_VALUE_MISSING:
		lf->nulls++;
		return;
	case CONN_VALUE_NUMBER:
		if (!isfinite(v->num)) { /* the literals NaN, Infinity, -Infinity */
			lf->nonfinite++;
			return;
		}
		if (lf->ref->categorical) {
			lf->mismatched++;
			return;
		}
		lf->col[lf->ncol++] = v->num;
		lf->present++;
		if (lf->ncol == AGENT_COLUMN)
			flush_feature(lf);
		return;
	case CONN_VALUE_STRING:
	case CONN_VALUE_BOOL:
		if (!lf->ref->categorical) {
			lf->mismatched++;
			return;
		}
		if (v->kind == CONN_VALUE_STRING)
			stats_cat_add(lf->cat, v->str, v->len, 1);
		else
			stats_cat_add(lf->cat, v->b ? "true" : "false", v->b ? 4 : 5, 1);
		lf->present++;
		return;
	}
}

/* Baseline index of a feature name, or -1: the hint first, then binary search. */
static long find_feature(const struct agent_window *w, size_t pos, const char *name, size_t len)
{
	const struct agent_bfeature *bf;

	if (pos < w->nhint && w->hint[pos] < w->nf) {
		bf = w->f[w->hint[pos]].ref;
		if (strncmp(bf->name, name, len) == 0 && bf->name[len] == '\0')
			return (long)w->hint[pos];
	}
	bf = agent_baseline_feature(w->base, name, len);
	return bf ? (long)(bf - w->base->features) : -1;
}

int agent_window_add(struct agent_window *w, const struct conn_record *r, double accuracy_threshold)
{
	int rc = 0;

	w->n++;
	w->updates++;
	if (w->base && r->nfeatures > w->nhint) {
		uint32_t *h = realloc(w->hint, r->nfeatures * sizeof *h);

		if (h) {
			for (size_t i = w->nhint; i < r->nfeatures; i++)
				h[i] = UINT32_MAX;
			w->hint = h;
			w->nhint = r->nfeatures;
		} else {
			rc = -1;
		}
	}
	for (size_t i = 0; i < r->nfeatures; i++) {
		const struct conn_feature *cf = &r->features[i];
		long k = w->base ? find_feature(w, i, cf->name, cf->name_len) : -1;

		if (k < 0) {
			w->unknown_values++;
			continue;
		}
		if (i < w->nhint)
			w->hint[i] = (uint32_t)k;
		count_value(&w->f[k], &cf->value);
	}
	if (w->pred.ref && r->prediction_nonfinite)
		w->pred.nonfinite++;
	else if (w->pred.ref)
		count_value(&w->pred, &r->prediction);
	if (r->has_latency) {
		double s = r->latency_ms / 1000.0;

		if (stats_sketch_add(w->latency, &s, 1) != STATS_OK)
			rc = -1;
	}
	if (r->has_error) {
		w->error_known++;
		w->errors += r->error != 0;
	}
	if (r->label.kind != CONN_VALUE_MISSING)
		agent_window_add_label(w, &r->prediction, &r->label, accuracy_threshold);
	return rc;
}

void agent_window_add_label(struct agent_window *w, const struct conn_value *prediction,
			    const struct conn_value *label, double accuracy_threshold)
{
	int correct = 0;
	double err = 0;

	w->labels++;
	w->updates++;
	switch (agent_accuracy_score(prediction, label, accuracy_threshold, &correct, &err)) {
	case AGENT_SCORE_CLASSIFICATION:
		w->scored++;
		w->correct += correct != 0;
		break;
	case AGENT_SCORE_REGRESSION:
		w->reg_n++;
		w->abs_err_sum += err;
		break;
	case AGENT_SCORE_NONE:
		break;
	}
}
