/*
 * window_codec.c -- a window's counts to bytes and back (see window_codec.h).
 */
#include "agent/window_codec.h"
#include "stats/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC	"DWIN"
#define VERSION 2 /* 2 added each feature's non-finite count; 1 is still read (as 0) */

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- encoding ---- */

/* Appends a length-prefixed stats object; *scratch grows as needed. -1 on no memory. */
static int put_feature(struct codec_w *cw, const struct agent_lfeature *lf, uint8_t **scratch,
		       size_t *cap)
{
	size_t need =
	    lf->hist ? stats_hist_serialized_max(lf->hist) : stats_cat_serialized_max(lf->cat);
	size_t len = 0;
	enum stats_status st;

	if (need > *cap) {
		uint8_t *g = realloc(*scratch, need);

		if (!g)
			return -1;
		*scratch = g;
		*cap = need;
	}
	st = lf->hist ? stats_hist_serialize(lf->hist, *scratch, *cap, &len)
		      : stats_cat_serialize(lf->cat, *scratch, *cap, &len);
	if (st != STATS_OK)
		return -1;
	codec_put_varint(cw, lf->present);
	codec_put_varint(cw, lf->nulls);
	codec_put_varint(cw, lf->mismatched);
	codec_put_varint(cw, lf->nonfinite);
	codec_put_varint(cw, len);
	codec_put_bytes(cw, *scratch, len);
	return 0;
}

/* Writes the whole window through cw (a sizing pass when cw->p is NULL). */
static int put_window(struct codec_w *cw, const struct agent_window *w, uint8_t **scratch,
		      size_t *cap)
{
	const struct agent_baseline *b = w->base;
	size_t vlen = b ? strlen(b->version) : 0, slen = 0;
	size_t sneed = stats_sketch_serialized_max(w->latency);

	codec_put_header(cw, MAGIC, VERSION);
	codec_put_varint(cw, zigzag(w->start_ms));
	codec_put_varint(cw, zigzag(w->end_ms));
	codec_put_varint(cw, vlen);
	codec_put_bytes(cw, b ? b->version : "", vlen);
	codec_put_varint(cw, b ? b->samples : 0);
	codec_put_varint(cw, w->nf);
	codec_put_u8(cw, w->pred.ref != NULL);
	codec_put_varint(cw, w->n);
	codec_put_varint(cw, w->errors);
	codec_put_varint(cw, w->error_known);
	codec_put_varint(cw, w->scored);
	codec_put_varint(cw, w->correct);
	codec_put_varint(cw, w->reg_n);
	codec_put_varint(cw, w->labels);
	codec_put_varint(cw, w->unknown_values);
	codec_put_f64(cw, w->abs_err_sum);
	if (sneed > *cap) {
		uint8_t *g = realloc(*scratch, sneed);

		if (!g)
			return -1;
		*scratch = g;
		*cap = sneed;
	}
	if (stats_sketch_serialize(w->latency, *scratch, *cap, &slen) != STATS_OK)
		return -1;
	codec_put_varint(cw, slen);
	codec_put_bytes(cw, *scratch, slen);
	for (size_t i = 0; i < w->nf; i++)
		if (put_feature(cw, &w->f[i], scratch, cap) < 0)
			return -1;
	if (w->pred.ref && put_feature(cw, &w->pred, scratch, cap) < 0)
		return -1;
	return 0;
}

int agent_window_encode(struct agent_window *w, uint8_t **out, size_t *len)
{
	struct codec_w cw = { 0 };
	uint8_t *scratch = NULL;
	size_t cap = 0;
	int rc = -1;

	agent_window_flush(w);
	*out = NULL;
	*len = 0;
	if (put_window(&cw, w, &scratch, &cap) < 0) /* sizing pass: cw.len counts */
		goto done;
	cw.p = malloc(cw.len ? cw.len : 1);
	cw.cap = cw.len;
	cw.len = 0;
	if (!cw.p || put_window(&cw, w, &scratch, &cap) < 0 || codec_w_status(&cw) != STATS_OK) {
		free(cw.p);
		goto done;
	}
	*out = cw.p;
	*len = cw.len;
	rc = 0;
done:
	free(scratch);
	return rc;
}

/* ---- decoding ---- */

/* Reads one feature of the blob into tmp's live feature lf (bound like dst's). */
static int get_feature(struct codec_r *cr, struct agent_lfeature *lf, size_t max_categories,
		       uint8_t version, const char **why)
{
	size_t len;
	const uint8_t *p;
	enum stats_status st;

	lf->present = codec_get_varint(cr);
	lf->nulls = codec_get_varint(cr);
	lf->mismatched = codec_get_varint(cr);
	lf->nonfinite = version >= 2 ? codec_get_varint(cr) : 0;
	len = (size_t)codec_get_varint(cr);
	p = codec_get_span(cr, len);
	if (cr->err) {
		*why = "truncated";
		return -1;
	}
	if (lf->hist) {
		struct stats_hist *h = stats_hist_deserialize(p, len, &st);

		st = h ? stats_hist_merge(lf->hist, h) : st;
		if (st == STATS_OK && stats_hist_total(h) != lf->present)
			st = STATS_EFORMAT;
		stats_hist_free(h);
		if (st != STATS_OK) {
			*why = st == STATS_EMISMATCH ? "histogram edges differ from the baseline's"
						     : "bad histogram";
			return -1;
		}
	} else {
		struct stats_cat *c = stats_cat_deserialize(p, len, &st);

		(void)max_categories;
		st = c ? stats_cat_merge(lf->cat, c) : st;
		if (st == STATS_OK && stats_cat_total(c) != lf->present)
			st = STATS_EFORMAT;
		stats_cat_free(c);
		if (st != STATS_OK) {
			*why = "bad category counts";
			return -1;
		}
	}
	return 0;
}

/* The counts of one window agree with each other (as agent_window_add keeps them). */
static int feature_ok(const struct agent_lfeature *f, uint64_t n)
{
	return f->present <= n && f->nulls <= n - f->present &&
	       f->mismatched <= n - f->present - f->nulls &&
	       f->nonfinite <= n - f->present - f->nulls - f->mismatched;
}

static int consistent(const struct agent_window *w)
{
	for (size_t i = 0; i < w->nf; i++)
		if (!feature_ok(&w->f[i], w->n))
			return 0;
	if (w->pred.ref && !feature_ok(&w->pred, w->n))
		return 0;
	return w->correct <= w->scored && w->error_known <= w->n && w->errors <= w->error_known &&
	       w->scored <= w->labels && w->reg_n <= w->labels - w->scored &&
	       stats_sketch_count(w->latency) <= w->n && w->abs_err_sum >= 0;
}

int agent_window_decode_merge(struct agent_window *dst, const uint8_t *buf, size_t len,
			      size_t max_categories, char *err, size_t errlen)
{
	struct codec_r cr = { .p = buf, .len = len };
	const struct agent_baseline *b = dst->base;
	struct agent_window *tmp = NULL;
	const char *why = NULL;
	int64_t start, end;
	size_t vlen, slen;
	const uint8_t *v, *sp;
	uint64_t samples, nf;
	int has_pred;
	uint8_t version;
	struct stats_sketch *sk;
	enum stats_status st;

	version = codec_get_header_range(&cr, MAGIC, 1, VERSION);
	start = unzigzag(codec_get_varint(&cr));
	end = unzigzag(codec_get_varint(&cr));
	vlen = (size_t)codec_get_varint(&cr);
	v = codec_get_span(&cr, vlen);
	samples = codec_get_varint(&cr);
	nf = codec_get_varint(&cr);
	has_pred = codec_get_u8(&cr);
	if (cr.err) {
		why = cr.err == STATS_EVERSION ? "unknown format version" : "not a window";
		goto fail;
	}
	if (start != dst->start_ms || end != dst->end_ms) {
		why = "covers another span";
		goto fail;
	}
	if ((b ? strlen(b->version) : 0) != vlen || (vlen && memcmp(v, b->version, vlen)) ||
	    (b ? b->samples : 0) != samples || nf != dst->nf ||
	    has_pred != (dst->pred.ref != NULL)) {
		why = "made against another baseline";
		goto fail;
	}
	tmp = agent_window_new(start, end, b, max_categories);
	if (!tmp) {
		why = "out of memory";
		goto fail;
	}
	tmp->n = codec_get_varint(&cr);
	tmp->errors = codec_get_varint(&cr);
	tmp->error_known = codec_get_varint(&cr);
	tmp->scored = codec_get_varint(&cr);
	tmp->correct = codec_get_varint(&cr);
	tmp->reg_n = codec_get_varint(&cr);
	tmp->labels = codec_get_varint(&cr);
	tmp->unknown_values = codec_get_varint(&cr);
	tmp->abs_err_sum = codec_get_f64(&cr);
	slen = (size_t)codec_get_varint(&cr);
	sp = codec_get_span(&cr, slen);
	if (cr.err) {
		why = "truncated";
		goto fail;
	}
	sk = stats_sketch_deserialize(sp, slen, &st);
	st = sk ? stats_sketch_merge(tmp->latency, sk) : st;
	stats_sketch_free(sk);
	if (st != STATS_OK) {
		why = "bad latency sketch";
		goto fail;
	}
	for (size_t i = 0; i < tmp->nf; i++)
		if (get_feature(&cr, &tmp->f[i], max_categories, version, &why) < 0)
			goto fail;
	if (tmp->pred.ref && get_feature(&cr, &tmp->pred, max_categories, version, &why) < 0)
		goto fail;
	if (codec_r_finish(&cr) != STATS_OK) {
		why = "trailing bytes";
		goto fail;
	}
	if (!consistent(tmp)) {
		why = "inconsistent counts";
		goto fail;
	}
	agent_window_flush(dst);
	if (agent_window_merge(dst, tmp) < 0) {
		why = "counts overflow or out of memory";
		goto fail;
	}
	agent_window_free(tmp);
	return 0;
fail:
	agent_window_free(tmp);
	snprintf(err, errlen, "window partial refused: %s", why ? why : "malformed");
	return -1;
}
