/*
 * hist.c -- fixed-binning histograms: construction, batch add through the selected kernel,
 * merge, reset and the portable serialization (see hist.h for the binning and slot rules).
 *
 * A histogram owns its edges, the padded interior-edge table the edge kernels search, its B+3
 * 64-bit slots and 4 x (B+3) 32-bit scratch counters the kernels use as sub-histograms (so
 * stats_hist_add never allocates).
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "hist.h"
#include "codec.h"
#include "hist_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HIST_MAGIC   "DHST"
#define HIST_VERSION 1

struct stats_hist {
	enum stats_binning binning;   /* uniform or explicit edges */
	uint32_t bins;		      /* B */
	struct hist_uniform_args uni; /* uniform: lo, hi, scale */
	struct hist_edges_args edg;   /* edges: edges, tree, pow2 (edges also set for uniform) */
	double *edges;		      /* B+1 edges, owned */
	double *tree;		      /* P+8 interior edges padded with +Inf, 64-byte aligned */
	uint64_t *slots;	      /* B+3 counters: under, bins, over, NaN */
	uint32_t *scratch;	      /* 4 (B+3) zeroed sub-histogram counters for the kernels */
};

/* ---- construction ---- */

static void set_status(enum stats_status *st, enum stats_status v)
{
	if (st)
		*st = v;
}

static uint32_t pow2_at_least(uint32_t b)
{
	uint32_t p = 1;

	while (p < b)
		p <<= 1;
	return p;
}

/* Allocates every array for B bins; the caller fills edges. */
static struct stats_hist *alloc_hist(enum stats_binning binning, size_t bins)
{
	struct stats_hist *h = calloc(1, sizeof *h);
	uint32_t p = pow2_at_least((uint32_t)bins);
	size_t tree_bytes = ((size_t)p + 8) * sizeof(double);

	if (!h)
		return NULL;
	h->binning = binning;
	h->bins = (uint32_t)bins;
	h->edges = malloc((bins + 1) * sizeof *h->edges);
	h->tree = aligned_alloc(64, (tree_bytes + 63) & ~(size_t)63);
	h->slots = calloc(bins + 3, sizeof *h->slots);
	h->scratch = calloc(4 * (bins + 3), sizeof *h->scratch);
	if (!h->edges || !h->tree || !h->slots || !h->scratch) {
		stats_hist_free(h);
		return NULL;
	}
	for (size_t i = 0; i < (size_t)p + 8; i++)
		h->tree[i] = INFINITY;
	h->edg.bins = h->bins;
	h->edg.pow2 = p;
	h->edg.edges = h->edges;
	h->edg.tree = h->tree;
	return h;
}

struct stats_hist *stats_hist_new_uniform(double lo, double hi, size_t bins, enum stats_status *st)
{
	struct stats_hist *h;

	/* the scale B / (hi - lo) must be finite too: a range of a few subnormals would make it
	 * infinite and (x - lo) * scale NaN for x == lo (found by libFuzzer) */
	if (!isfinite(lo) || !isfinite(hi) || !(hi > lo) || !isfinite(hi - lo) || bins == 0 ||
	    bins > STATS_HIST_MAX_BINS || !isfinite((double)bins / (hi - lo))) {
		set_status(st, STATS_EINVAL);
		return NULL;
	}
	h = alloc_hist(STATS_BIN_UNIFORM, bins);
	if (!h) {
		set_status(st, STATS_ENOMEM);
		return NULL;
	}
	h->uni.lo = lo;
	h->uni.hi = hi;
	h->uni.scale = (double)bins / (hi - lo);
	h->uni.bins = h->bins;
	for (size_t i = 0; i < bins; i++)
		h->edges[i] = lo + (double)i * ((hi - lo) / (double)bins);
	h->edges[bins] = hi;
	set_status(st, STATS_OK);
	return h;
}

struct stats_hist *stats_hist_new_edges(const double *edges, size_t nedges, enum stats_status *st)
{
	struct stats_hist *h;

	if (!edges || nedges < 2 || nedges - 1 > STATS_HIST_MAX_BINS) {
		set_status(st, STATS_EINVAL);
		return NULL;
	}
	for (size_t i = 0; i < nedges; i++) {
		if (!isfinite(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1]))) {
			set_status(st, STATS_EINVAL);
			return NULL;
		}
	}
	h = alloc_hist(STATS_BIN_EDGES, nedges - 1);
	if (!h) {
		set_status(st, STATS_ENOMEM);
		return NULL;
	}
	memcpy(h->edges, edges, nedges * sizeof *edges);
	/* interior edges e_1 .. e_{B-1}; the rest stays +Inf */
	if (nedges > 2)
		memcpy(h->tree, edges + 1, (nedges - 2) * sizeof *edges);
	set_status(st, STATS_OK);
	return h;
}

struct stats_hist *stats_hist_clone(const struct stats_hist *h)
{
	struct stats_hist *c = h->binning == STATS_BIN_UNIFORM
				   ? stats_hist_new_uniform(h->uni.lo, h->uni.hi, h->bins, NULL)
				   : stats_hist_new_edges(h->edges, (size_t)h->bins + 1, NULL);

	if (c)
		memcpy(c->slots, h->slots, ((size_t)h->bins + 3) * sizeof *h->slots);
	return c;
}

void stats_hist_free(struct stats_hist *h)
{
	if (!h)
		return;
	free(h->edges);
	free(h->tree);
	free(h->slots);
	free(h->scratch);
	free(h);
}

/* ---- counting ---- */

static void add_with(struct stats_hist *h, const struct hist_kernel *k, const double *x, size_t n)
{
	if (n == 0)
		return;
	if (h->binning == STATS_BIN_UNIFORM)
		k->uniform(h->slots, h->scratch, &h->uni, x, n);
	else
		k->edges(h->slots, h->scratch, &h->edg, x, n);
}

void stats_hist_add(struct stats_hist *h, const double *x, size_t n)
{
	add_with(h, hist_kernel_get(STATS_HIST_KERNEL_AUTO), x, n);
}

enum stats_status stats_hist_add_kernel(struct stats_hist *h, enum stats_hist_kernel k,
					const double *x, size_t n)
{
	const struct hist_kernel *kern = hist_kernel_get(k);

	if (!kern)
		return STATS_ENOTSUP;
	add_with(h, kern, x, n);
	return STATS_OK;
}

static int same_shape(const struct stats_hist *a, const struct stats_hist *b)
{
	return a->binning == b->binning && a->bins == b->bins &&
	       memcmp(a->edges, b->edges, ((size_t)a->bins + 1) * sizeof *a->edges) == 0;
}

enum stats_status stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src)
{
	const size_t ns = (size_t)dst->bins + 3;
	uint64_t total = stats_hist_total(dst), sum;

	if (!same_shape(dst, src))
		return STATS_EMISMATCH;
	/* the grand total bounds every slot: if it does not overflow, no slot does */
	if (__builtin_add_overflow(total, stats_hist_total(src), &sum))
		return STATS_ERANGE;
	for (size_t i = 0; i < ns; i++)
		dst->slots[i] += src->slots[i];
	return STATS_OK;
}

void stats_hist_reset(struct stats_hist *h)
{
	memset(h->slots, 0, ((size_t)h->bins + 3) * sizeof *h->slots);
}

/* ---- accessors ---- */

enum stats_binning stats_hist_binning(const struct stats_hist *h)
{
	return h->binning;
}

size_t stats_hist_bins(const struct stats_hist *h)
{
	return h->bins;
}

const double *stats_hist_edges(const struct stats_hist *h)
{
	return h->edges;
}

const uint64_t *stats_hist_counts(const struct stats_hist *h)
{
	return h->slots;
}

uint64_t stats_hist_underflow(const struct stats_hist *h)
{
	return h->slots[0];
}

uint64_t stats_hist_overflow(const struct stats_hist *h)
{
	return h->slots[h->bins + 1];
}

uint64_t stats_hist_nan(const struct stats_hist *h)
{
	return h->slots[h->bins + 2];
}

uint64_t stats_hist_total(const struct stats_hist *h)
{
	uint64_t t = 0;

	for (size_t i = 0; i < (size_t)h->bins + 3; i++)
		t += h->slots[i];
	return t;
}

/* ---- serialization ----
 * "DHST" u8:version u8:binning u32:B, then uniform: f64 lo, f64 hi | edges: (B+1) f64,
 * then B+3 varint slots (under, bins..., over, NaN). */

size_t stats_hist_serialized_max(const struct stats_hist *h)
{
	size_t b = h->bins;

	return 4 + 1 + 1 + 4 + (b + 1) * 8 + (b + 3) * CODEC_VARINT_MAX;
}

enum stats_status stats_hist_serialize(const struct stats_hist *h, uint8_t *buf, size_t cap,
				       size_t *len)
{
	struct codec_w w = { .p = buf, .cap = cap, .len = 0 };
	enum stats_status st;

	codec_put_header(&w, HIST_MAGIC, HIST_VERSION);
	codec_put_u8(&w, (uint8_t)h->binning);
	codec_put_u32(&w, h->bins);
	if (h->binning == STATS_BIN_UNIFORM) {
		codec_put_f64(&w, h->uni.lo);
		codec_put_f64(&w, h->uni.hi);
	} else {
		for (size_t i = 0; i <= h->bins; i++)
			codec_put_f64(&w, h->edges[i]);
	}
	for (size_t i = 0; i < (size_t)h->bins + 3; i++)
		codec_put_varint(&w, h->slots[i]);
	st = codec_w_status(&w);
	if (st == STATS_OK && len)
		*len = w.len;
	return st;
}

struct stats_hist *stats_hist_deserialize(const uint8_t *buf, size_t len, enum stats_status *st)
{
	struct codec_r r = { .p = buf, .len = len };
	struct stats_hist *h = NULL;
	double *edges = NULL;
	enum stats_status s = STATS_OK;
	uint8_t binning;
	uint32_t bins;
	uint64_t total = 0;

	codec_get_header(&r, HIST_MAGIC, HIST_VERSION);
	binning = codec_get_u8(&r);
	bins = codec_get_u32(&r);
	if (r.err)
		goto error;
	if (bins == 0 || bins > STATS_HIST_MAX_BINS ||
	    (binning != STATS_BIN_UNIFORM && binning != STATS_BIN_EDGES))
		goto bad;
	if (binning == STATS_BIN_UNIFORM) {
		double lo = codec_get_f64(&r), hi = codec_get_f64(&r);

		if (r.err)
			goto error;
		h = stats_hist_new_uniform(lo, hi, bins, &s);
	} else {
		/* the edges must be there before allocating for them */
		if (((size_t)bins + 1) * 8 > len - r.off)
			goto bad;
		edges = malloc(((size_t)bins + 1) * sizeof *edges);
		if (!edges) {
			s = STATS_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i <= bins; i++)
			edges[i] = codec_get_f64(&r);
		h = stats_hist_new_edges(edges, (size_t)bins + 1, &s);
	}
	if (!h) {
		if (s == STATS_EINVAL)
			s = STATS_EFORMAT;
		goto out;
	}
	for (size_t i = 0; i < (size_t)bins + 3; i++) {
		h->slots[i] = codec_get_varint(&r);
		if (__builtin_add_overflow(total, h->slots[i], &total))
			codec_r_fail(&r);
	}
	s = codec_r_finish(&r);
	if (s != STATS_OK) {
		stats_hist_free(h);
		h = NULL;
	}
	goto out;
bad:
	codec_r_fail(&r);
error:
	s = (enum stats_status)r.err;
out:
	free(edges);
	set_status(st, s);
	return h;
}
