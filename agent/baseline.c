/*
 * baseline.c -- the reference distribution of one (model, version) (see baseline.h): built from
 * decoded records, written and read as JSON schema 1 (doc/baseline.md).
 *
 * The builder keeps every finite numeric value of every numeric feature (exact equal-frequency
 * edges and IQR need the whole sample: memory is 8 bytes per value), counts categorical values
 * in a bounded stats_cat as they come, and the record-level counts (latency in a sketch, in
 * seconds like a live window's; accuracy scored by agent_accuracy_score; errors). Features are
 * found by name through an open-addressing hash table. At finish, per numeric feature, the
 * values are sorted once: stats_edges_quantile gives the edges, a stats_hist counts the values
 * with them, and the IQR is q75 - q25 with numpy.percentile's default ('linear') definition.
 *
 * Invariant of every baseline (the builder makes it, from_json checks it): for each feature and
 * the prediction, values counted (histogram total or categorical total) + missing + mismatched
 * == samples.
 */
#include "agent/baseline.h"
#include "agent/util.h"
#include "agent/accuracy.h"
#include "agent/json_out.h"
#include "agent/timefmt.h"
#include "connectors/hash.h"

#include <jansson.h>
#include <math.h>
#include <nettle/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIND_UNKNOWN (-1)
#define KIND_NUMERIC 0
#define KIND_CAT     1
#define MAX_NAME     128u	       /* model and version names, bytes */
#define MAX_MS	     253402300799999LL /* 9999-12-31T23:59:59.999Z */
#define JSON_FLAGS   (JSON_COMPACT | JSON_REAL_PRECISION(17))

/* ---- lifetime and lookup ---- */

static void free_bfeature(struct agent_bfeature *f)
{
	free(f->name);
	stats_hist_free(f->hist);
	stats_cat_free(f->cat);
}

void agent_baseline_free(struct agent_baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nfeatures; i++)
		free_bfeature(&b->features[i]);
	free(b->features);
	free_bfeature(&b->prediction);
	stats_sketch_free(b->latency);
	free(b->model);
	free(b->version);
	free(b->metadata);
	free(b);
}

/* strcmp(s, name[0..len)) for a name without NUL bytes. */
static int cmp_name(const char *s, const char *name, size_t len)
{
	int c = strncmp(s, name, len);

	if (c)
		return c;
	return s[len] != '\0';
}

const struct agent_bfeature *agent_baseline_feature(const struct agent_baseline *b,
						    const char *name, size_t len)
{
	size_t lo = 0, hi = b->nfeatures;

	if (memchr(name, '\0', len))
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_name(b->features[mid].name, name, len);

		if (c == 0)
			return &b->features[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- builder ---- */

/* One feature while building. */
struct bfeat {
	char *name; /* NUL-terminated */
	size_t len;
	int kind;     /* KIND_UNKNOWN until the first non-missing value */
	double *vals; /* numeric: the finite values */
	size_t nvals, cap;
	struct stats_cat *cat; /* categorical */
	uint64_t mismatched;   /* values of the other kind */
	uint64_t last;	       /* the record (1-based) that last had it: duplicates count once */
};

struct agent_baseline_builder {
	char *model, *version;
	size_t bins;	       /* numeric bins */
	size_t max_categories; /* stats_cat bound */
	double threshold;      /* accuracy_threshold */
	struct bfeat *f;       /* features in first-seen order */
	size_t nf, capf;
	uint32_t *table;   /* open addressing: 0 empty, else index + 1 */
	size_t tcap;	   /* a power of two, >= 2 nf */
	struct bfeat pred; /* the prediction */
	struct stats_sketch *latency;
	uint64_t samples, scored, correct, reg_n, errors, error_known;
	double abs_err_sum;
	int nomem; /* an allocation failed: finish fails */
};

struct agent_baseline_builder *agent_baseline_builder_new(const char *model, const char *version,
							  size_t bins, size_t max_categories,
							  double accuracy_threshold)
{
	struct agent_baseline_builder *bb = calloc(1, sizeof *bb);

	if (!bb)
		return NULL;
	bb->bins = bins ? bins : 20;
	bb->max_categories = max_categories;
	bb->threshold = accuracy_threshold;
	bb->pred.kind = KIND_UNKNOWN;
	bb->model = strdup(model ? model : "");
	bb->version = strdup(version ? version : "");
	bb->latency = stats_sketch_new(0, NULL);
	bb->tcap = 64;
	bb->table = calloc(bb->tcap, sizeof *bb->table);
	if (bb->bins > STATS_HIST_MAX_BINS || max_categories > STATS_CAT_MAX_VALUES_LIMIT ||
	    !bb->model || !bb->version || !bb->latency || !bb->table) {
		free(bb->model);
		free(bb->version);
		stats_sketch_free(bb->latency);
		free(bb->table);
		free(bb);
		return NULL;
	}
	return bb;
}

static void free_bfeat(struct bfeat *f)
{
	free(f->name);
	free(f->vals);
	stats_cat_free(f->cat);
}

static void builder_free(struct agent_baseline_builder *bb)
{
	for (size_t i = 0; i < bb->nf; i++)
		free_bfeat(&bb->f[i]);
	free(bb->f);
	free_bfeat(&bb->pred);
	free(bb->table);
	stats_sketch_free(bb->latency);
	free(bb->model);
	free(bb->version);
	free(bb);
}

/* Doubles the hash table. */
static int grow_table(struct agent_baseline_builder *bb)
{
	size_t cap = bb->tcap * 2;
	uint32_t *t = calloc(cap, sizeof *t);

	if (!t)
		return -1;
	for (size_t i = 0; i < bb->nf; i++) {
		size_t h = (size_t)conn_hash(0, bb->f[i].name, bb->f[i].len) & (cap - 1);

		while (t[h])
			h = (h + 1) & (cap - 1);
		t[h] = (uint32_t)(i + 1);
	}
	free(bb->table);
	bb->table = t;
	bb->tcap = cap;
	return 0;
}

/* The feature named name, created when new; NULL on no memory. */
static struct bfeat *find_or_add(struct agent_baseline_builder *bb, const char *name, size_t len)
{
	size_t h = (size_t)conn_hash(0, name, len) & (bb->tcap - 1);
	struct bfeat *f;

	while (bb->table[h]) {
		f = &bb->f[bb->table[h] - 1];
		if (f->len == len && memcmp(f->name, name, len) == 0)
			return f;
		h = (h + 1) & (bb->tcap - 1);
	}
	if (bb->nf >= UINT32_MAX - 1)
		return NULL;
	if (bb->nf == bb->capf) {
		size_t cap = bb->capf ? 2 * bb->capf : 16;
		struct bfeat *nf = realloc(bb->f, cap * sizeof *nf);

		if (!nf)
			return NULL;
		bb->f = nf;
		bb->capf = cap;
	}
	f = &bb->f[bb->nf];
	memset(f, 0, sizeof *f);
	f->kind = KIND_UNKNOWN;
	f->len = len;
	f->name = malloc(len + 1);
	if (!f->name)
		return NULL;
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	bb->table[h] = (uint32_t)(bb->nf + 1);
	bb->nf++;
	if (2 * bb->nf > bb->tcap && grow_table(bb) < 0)
		return NULL; /* the old table still holds every feature but needs room: fail */
	return f;
}

/* Counts one value of a feature: -1 on no memory. A missing value, or a non-finite number
 * (never produced by the decoders), counts as missing (nothing to do here). */
static int add_value(struct agent_baseline_builder *bb, struct bfeat *f, const struct conn_value *v)
{
	switch (v->kind) {
	case CONN_VALUE_MISSING:
		return 0;
	case CONN_VALUE_NUMBER:
		if (!isfinite(v->num))
			return 0;
		if (f->kind == KIND_UNKNOWN)
			f->kind = KIND_NUMERIC;
		if (f->kind != KIND_NUMERIC) {
			f->mismatched++;
			return 0;
		}
		if (f->nvals == f->cap) {
			size_t cap = f->cap ? 2 * f->cap : 64;
			double *nv = realloc(f->vals, cap * sizeof *nv);

			if (!nv)
				return -1;
			f->vals = nv;
			f->cap = cap;
		}
		f->vals[f->nvals++] = v->num;
		return 0;
	case CONN_VALUE_STRING:
	case CONN_VALUE_BOOL:
		if (f->kind == KIND_UNKNOWN) {
			f->cat = stats_cat_new(bb->max_categories, NULL);
			if (!f->cat)
				return -1;
			f->kind = KIND_CAT;
		}
		if (f->kind != KIND_CAT) {
			f->mismatched++;
			return 0;
		}
		if (v->kind == CONN_VALUE_STRING)
			stats_cat_add(f->cat, v->str, v->len, 1);
		else
			stats_cat_add(f->cat, v->b ? "true" : "false", v->b ? 4 : 5, 1);
		return 0;
	}
	return 0;
}

int agent_baseline_builder_add(struct agent_baseline_builder *bb, const struct conn_record *r)
{
	int rc = 0, correct = 0;
	double err = 0;

	bb->samples++;
	if (bb->nomem)
		return -1; /* finish fails anyway; the table may be full */
	for (size_t i = 0; i < r->nfeatures; i++) {
		const struct conn_feature *cf = &r->features[i];
		struct bfeat *f;

		/* names the decoders never produce (empty, with NUL) are ignored */
		if (cf->name_len == 0 || memchr(cf->name, '\0', cf->name_len))
			continue;
		f = find_or_add(bb, cf->name, cf->name_len);
		if (!f) {
			rc = -1;
			continue;
		}
		if (f->last == bb->samples)
			continue; /* a repeated name: the first value counts */
		f->last = bb->samples;
		if (add_value(bb, f, &cf->value) < 0)
			rc = -1;
	}
	if (add_value(bb, &bb->pred, &r->prediction) < 0)
		rc = -1;
	if (r->has_latency) {
		double s = r->latency_ms / 1000.0;

		if (stats_sketch_add(bb->latency, &s, 1) == STATS_ENOMEM)
			rc = -1;
	}
	if (r->has_error) {
		bb->error_known++;
		bb->errors += r->error != 0;
	}
	switch (agent_accuracy_score(&r->prediction, &r->label, bb->threshold, &correct, &err)) {
	case AGENT_SCORE_CLASSIFICATION:
		bb->scored++;
		bb->correct += correct != 0;
		break;
	case AGENT_SCORE_REGRESSION:
		bb->reg_n++;
		bb->abs_err_sum += err;
		break;
	case AGENT_SCORE_NONE:
		break;
	}
	if (rc < 0)
		bb->nomem = 1;
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* numpy.percentile(x, 100 q) with the default 'linear' method on sorted finite values: index
 * h = (n - 1) q, and numpy's lerp (a + (b - a) t, or b - (b - a)(1 - t) when t >= 0.5). */
static double quantile_linear(const double *s, size_t n, double q)
{
	double h = (double)(n - 1) * q, lo = floor(h), t = h - lo, a, b;
	size_t i = (size_t)lo, j = i + 1 < n ? i + 1 : n - 1;

	a = s[i];
	b = s[j];
	if (t >= 0.5)
		return b - (b - a) * (1 - t);
	return a + (b - a) * t;
}

/* Fills out from a built numeric feature: sorts its values, edges, histogram, IQR. */
static int finish_numeric(struct agent_baseline_builder *bb, struct bfeat *f,
			  struct agent_bfeature *out)
{
	double *edges = malloc((bb->bins + 1) * sizeof *edges), q25, q75;
	size_t ne = 0;
	enum stats_status st;

	if (!edges)
		return -1;
	qsort(f->vals, f->nvals, sizeof *f->vals, cmp_double);
	st = stats_edges_quantile(f->vals, f->nvals, bb->bins, edges, &ne);
	if (st == STATS_OK)
		out->hist = stats_hist_new_edges(edges, ne, &st);
	free(edges);
	if (st != STATS_OK || !out->hist)
		return -1;
	stats_hist_add(out->hist, f->vals, f->nvals);
	q25 = quantile_linear(f->vals, f->nvals, 0.25);
	q75 = quantile_linear(f->vals, f->nvals, 0.75);
	out->iqr = q75 - q25;
	if (!isfinite(out->iqr))
		out->iqr = NAN;
	return 0;
}

/* Moves a built feature into out. -1 on no memory. */
static int finish_feature(struct agent_baseline_builder *bb, struct bfeat *f,
			  struct agent_bfeature *out, const char *name)
{
	uint64_t counted;

	memset(out, 0, sizeof *out);
	out->iqr = NAN;
	out->name = strdup(name);
	if (!out->name)
		return -1;
	out->mismatched = f->mismatched;
	if (f->kind == KIND_NUMERIC) {
		if (finish_numeric(bb, f, out) < 0)
			return -1;
		counted = f->nvals;
	} else {
		/* categorical, or never seen with a value: an empty categorical */
		out->categorical = 1;
		if (!f->cat)
			f->cat = stats_cat_new(bb->max_categories, NULL);
		if (!f->cat)
			return -1;
		out->cat = f->cat;
		f->cat = NULL;
		counted = stats_cat_total(out->cat);
	}
	out->missing = bb->samples - counted - f->mismatched;
	return 0;
}

static int cmp_bfeat(const void *a, const void *b)
{
	return strcmp(((const struct bfeat *)a)->name, ((const struct bfeat *)b)->name);
}

struct agent_baseline *agent_baseline_builder_finish(struct agent_baseline_builder *bb,
						     int64_t created_ms, char *err, size_t errlen)
{
	struct agent_baseline *b = NULL;

	if (bb->nomem)
		goto nomem;
	if (bb->samples == 0) {
		agent_errf(err, errlen, "no record to build a baseline from");
		builder_free(bb);
		return NULL;
	}
	b = calloc(1, sizeof *b);
	if (!b)
		goto nomem;
	b->model = bb->model;
	b->version = bb->version;
	bb->model = bb->version = NULL;
	b->created_ms = created_ms;
	b->samples = bb->samples;
	b->latency = bb->latency;
	bb->latency = NULL;
	b->scored = bb->scored;
	b->correct = bb->correct;
	b->reg_n = bb->reg_n;
	b->abs_err_sum = bb->abs_err_sum;
	b->errors = bb->errors;
	b->error_known = bb->error_known;
	b->prediction.iqr = NAN;

	if (bb->nf > 1)
		qsort(bb->f, bb->nf, sizeof *bb->f, cmp_bfeat);
	b->features = calloc(bb->nf ? bb->nf : 1, sizeof *b->features);
	if (!b->features)
		goto nomem;
	for (size_t i = 0; i < bb->nf; i++) {
		b->nfeatures = i + 1;
		if (finish_feature(bb, &bb->f[i], &b->features[i], bb->f[i].name) < 0)
			goto nomem;
		free(bb->f[i].vals); /* release memory as soon as possible */
		bb->f[i].vals = NULL;
	}
	if (bb->pred.kind != KIND_UNKNOWN) {
		b->has_prediction = 1;
		if (finish_feature(bb, &bb->pred, &b->prediction, AGENT_PREDICTION_FEATURE) < 0)
			goto nomem;
	}
	builder_free(bb);
	return b;
nomem:
	agent_errf(err, errlen, "out of memory building the baseline");
	agent_baseline_free(b);
	builder_free(bb);
	return NULL;
}

/* ---- base64 (RFC 4648, padded; nettle's codec) ---- */

static char *b64_encode(const uint8_t *p, size_t n)
{
	char *out = malloc(BASE64_ENCODE_RAW_LENGTH(n) + 1);

	if (!out)
		return NULL;
	base64_encode_raw(out, n, p);
	out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
	return out;
}

/* The value of a base64 digit, -1 for any other byte (NUL and '=' included). */
static int b64_val(char c)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(digits, c) : NULL;

	return p ? (int)(p - digits) : -1;
}

/* 1 when s[0..len) is strict base64: a multiple of 4 digits, '=' only as the last one or two
 * bytes, canonical (the bits a padded quantum leaves unused are zero). nettle's decoder is
 * lenient (it skips white space), so this decides what is refused. */
static int b64_strict(const char *s, size_t len)
{
	size_t pad = 0;

	if (len % 4)
		return 0;
	if (len && s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (b64_val(s[i]) < 0)
			return 0;
	if (pad == 1)
		return (b64_val(s[len - 2]) & 3) == 0;
	if (pad == 2)
		return (b64_val(s[len - 3]) & 15) == 0;
	return 1;
}

/* Strict decoding (b64_strict). NULL on bad input or no memory; *n receives the length. */
static uint8_t *b64_decode(const char *s, size_t len, size_t *n, int *nomem)
{
	struct base64_decode_ctx ctx;
	uint8_t *out;
	size_t o = 0;

	*nomem = 0;
	if (!b64_strict(s, len))
		return NULL;
	out = malloc(BASE64_DECODE_LENGTH(len) + 1);
	if (!out) {
		*nomem = 1;
		return NULL;
	}
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &o, out, len, s) || !base64_decode_final(&ctx)) {
		free(out);
		return NULL;
	}
	*n = o;
	return out;
}

/* ---- to JSON ---- */

#define I64_MAX_U ((uint64_t)INT64_MAX)

/* A JSON integer of a counter; NULL when it exceeds what JSON integers hold here. */
static json_t *jcount(uint64_t v)
{
	return v <= I64_MAX_U ? json_integer((json_int_t)v) : NULL;
}

/* A JSON array of n doubles (finite) or counters. */
static json_t *jreals(const double *x, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_real(x[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *feature_to_json(const struct agent_bfeature *f)
{
	json_t *o = json_object(), *counts = json_array(), *x;
	int bad = !o || !counts;

	bad |= agent_json_set(o, "name", json_string(f->name));
	bad |= agent_json_set(o, "kind", json_string(f->categorical ? "categorical" : "numeric"));
	bad |= agent_json_set(o, "missing", jcount(f->missing));
	bad |= agent_json_set(o, "mismatched", jcount(f->mismatched));
	if (bad)
		goto error;
	if (!f->categorical) {
		size_t bins = stats_hist_bins(f->hist);
		const uint64_t *c = stats_hist_counts(f->hist);

		bad |= agent_json_set(o, "iqr", isfinite(f->iqr) ? json_real(f->iqr) : json_null());
		bad |= agent_json_set(o, "edges", jreals(stats_hist_edges(f->hist), bins + 1));
		for (size_t i = 1; i <= bins && !bad; i++)
			bad |= json_array_append_new(counts, x = jcount(c[i])) < 0 || !x;
		bad |= agent_json_set(o, "counts", counts);
		counts = NULL;
		bad |= agent_json_set(o, "underflow", jcount(stats_hist_underflow(f->hist)));
		bad |= agent_json_set(o, "overflow", jcount(stats_hist_overflow(f->hist)));
		if (stats_hist_nan(f->hist) != 0)
			bad = 1; /* values are finite: a baseline never counts NaN */
	} else {
		size_t n = stats_cat_size(f->cat), len;
		json_t *values = json_array();

		bad |= agent_json_set(o, "max_categories",
				      json_integer((json_int_t)stats_cat_max_values(f->cat)));
		for (size_t i = 0; i < n && !bad && values; i++) {
			const char *v = stats_cat_value(f->cat, i, &len);

			bad |= json_array_append_new(values, x = json_stringn(v, len)) < 0 || !x;
			bad |= json_array_append_new(counts,
						     x = jcount(stats_cat_count(f->cat, i))) < 0 ||
			       !x;
		}
		bad |= agent_json_set(o, "values", values);
		bad |= agent_json_set(o, "counts", counts);
		counts = NULL;
		bad |= agent_json_set(o, "other", jcount(stats_cat_other(f->cat)));
	}
	if (!bad)
		return o;
error:
	json_decref(counts);
	json_decref(o);
	return NULL;
}

char *agent_baseline_to_json(const struct agent_baseline *b)
{
	json_t *o = json_object(), *features = json_array(), *x, *meta = NULL;
	char created[AGENT_TIME_LEN], *sk = NULL, *out = NULL;
	uint8_t *buf = NULL;
	size_t cap, len = 0;
	int bad = !o || !features;

	if (b->metadata) {
		meta = json_loads(b->metadata, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(meta))
			bad = 1;
	}
	cap = stats_sketch_serialized_max(b->latency);
	buf = malloc(cap ? cap : 1);
	if (!buf || stats_sketch_serialize(b->latency, buf, cap, &len) != STATS_OK ||
	    !(sk = b64_encode(buf, len)))
		bad = 1;
	agent_time_format(b->created_ms, created);

	bad |= agent_json_set(o, "schema", json_integer(AGENT_BASELINE_SCHEMA));
	bad |= agent_json_set(o, "model", json_string(b->model));
	bad |= agent_json_set(o, "version", json_string(b->version));
	bad |= agent_json_set(o, "created", json_string(created));
	bad |= agent_json_set(o, "created_ms", json_integer((json_int_t)b->created_ms));
	bad |= agent_json_set(o, "samples", jcount(b->samples));
	bad |= agent_json_set(o, "metadata", meta ? meta : json_null());
	meta = NULL;
	for (size_t i = 0; i < b->nfeatures && !bad; i++)
		bad |=
		    json_array_append_new(features, x = feature_to_json(&b->features[i])) < 0 || !x;
	bad |= agent_json_set(o, "features", features);
	features = NULL;
	bad |= agent_json_set(o, "prediction",
			      b->has_prediction ? feature_to_json(&b->prediction) : json_null());
	if (!bad) {
		json_t *lat = json_object(), *acc = json_object(), *reg = json_object(),
		       *errs = json_object();

		bad |= agent_json_set(lat, "unit", json_string("seconds"));
		bad |= agent_json_set(lat, "sketch", json_string(sk));
		bad |= agent_json_set(o, "latency", lat);
		bad |= agent_json_set(acc, "scored", jcount(b->scored));
		bad |= agent_json_set(acc, "correct", jcount(b->correct));
		bad |= agent_json_set(o, "accuracy", acc);
		bad |= agent_json_set(reg, "n", jcount(b->reg_n));
		bad |= agent_json_set(reg, "abs_err_sum", json_real(b->abs_err_sum));
		bad |= agent_json_set(o, "regression", reg);
		bad |= agent_json_set(errs, "known", jcount(b->error_known));
		bad |= agent_json_set(errs, "errors", jcount(b->errors));
		bad |= agent_json_set(o, "errors", errs);
	}
	if (!bad)
		out = json_dumps(o, JSON_FLAGS);
	json_decref(meta);
	json_decref(features);
	json_decref(o);
	free(sk);
	free(buf);
	return out;
}

/* ---- from JSON ---- */

/* The parse state: the first error and where. */
struct jp {
	char *err;
	size_t errlen;
	int failed;
};

static int fail(struct jp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct jp *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -1;
	p->failed = 1;
	if (p->err && p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Every key of o is one of the NULL-terminated keys. */
static int only_keys(struct jp *p, const json_t *o, const char *where, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
	{
		size_t i = 0;

		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i])
			return fail(p, "%s: unknown key \"%.64s\"", where, k);
	}
	return 0;
}

/* A counter: a JSON integer >= 0. */
static int get_count(struct jp *p, const json_t *o, const char *where, const char *key,
		     uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return fail(p, "%s: missing \"%s\"", where, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(p, "%s: \"%s\" must be an integer >= 0", where, key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* A string of 1..max bytes without NUL; *len receives its length. */
static const char *get_string(struct jp *p, const json_t *o, const char *where, const char *key,
			      size_t max, size_t *len)
{
	const json_t *v = json_object_get(o, key);
	size_t n;

	if (!v) {
		fail(p, "%s: missing \"%s\"", where, key);
		return NULL;
	}
	if (!json_is_string(v)) {
		fail(p, "%s: \"%s\" must be a string", where, key);
		return NULL;
	}
	n = json_string_length(v);
	if (n == 0 || n > max || memchr(json_string_value(v), '\0', n)) {
		fail(p, "%s: \"%s\" must be 1 to %zu bytes without NUL", where, key, max);
		return NULL;
	}
	if (len)
		*len = n;
	return json_string_value(v);
}

/* a += v, failing on overflow past INT64_MAX. */
static int add_total(struct jp *p, const char *where, uint64_t *a, uint64_t v)
{
	if (v > I64_MAX_U - *a)
		return fail(p, "%s: counts overflow", where);
	*a += v;
	return 0;
}

static void put_le32(uint8_t *o, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		o[i] = (uint8_t)(v >> (8 * i));
}

/* A histogram with the given edges and slots (under, bins..., over, NaN = 0), through its
 * serialized form ("DHST" v1, doc/stats-internals.md): stats/ has no other way to set counts. */
static struct stats_hist *hist_from_counts(const double *edges, size_t bins, const uint64_t *slots,
					   enum stats_status *st)
{
	size_t cap = 10 + (bins + 1) * 8 + (bins + 3) * 10, o = 0;
	uint8_t *buf = malloc(cap);
	struct stats_hist *h;

	if (!buf) {
		*st = STATS_ENOMEM;
		return NULL;
	}
	memcpy(buf, "DHST", 4);
	buf[4] = 1;		  /* format version */
	buf[5] = STATS_BIN_EDGES; /* binning */
	put_le32(buf + 6, (uint32_t)bins);
	o = 10;
	for (size_t i = 0; i <= bins; i++) {
		uint64_t u;

		memcpy(&u, &edges[i], 8);
		for (int k = 0; k < 8; k++)
			buf[o++] = (uint8_t)(u >> (8 * k));
	}
	for (size_t i = 0; i < bins + 3; i++) {
		uint64_t v = i < bins + 2 ? slots[i] : 0;

		do {
			buf[o++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
			v >>= 7;
		} while (v);
	}
	h = stats_hist_deserialize(buf, o, st);
	free(buf);
	return h;
}

static const char *const numeric_keys[] = { "name",  "kind",   "missing",   "mismatched", "iqr",
					    "edges", "counts", "underflow", "overflow",	  NULL };
static const char *const cat_keys[] = { "name",	      "kind",	"missing",
					"mismatched", "values", "max_categories",
					"counts",     "other",	NULL };

static int numeric_from_json(struct jp *p, const json_t *o, const char *where,
			     struct agent_bfeature *f, uint64_t *counted)
{
	const json_t *je = json_object_get(o, "edges"), *jc = json_object_get(o, "counts"),
		     *iqr = json_object_get(o, "iqr");
	size_t ne, bins;
	double *edges = NULL;
	uint64_t *slots = NULL;
	enum stats_status st = STATS_OK;
	int rc = -1;

	if (only_keys(p, o, where, numeric_keys) < 0)
		return -1;
	if (!iqr)
		return fail(p, "%s: missing \"iqr\"", where);
	if (json_is_null(iqr)) {
		f->iqr = NAN;
	} else if (!json_is_number(iqr) || !isfinite(json_number_value(iqr)) ||
		   json_number_value(iqr) < 0) {
		return fail(p, "%s: \"iqr\" must be a finite number >= 0 or null", where);
	} else {
		f->iqr = json_number_value(iqr);
	}
	if (!json_is_array(je))
		return fail(p, "%s: \"edges\" must be an array", where);
	ne = json_array_size(je);
	if (ne < 2 || ne > (size_t)STATS_HIST_MAX_BINS + 1)
		return fail(p, "%s: \"edges\" must hold 2 to %u numbers", where,
			    STATS_HIST_MAX_BINS + 1);
	bins = ne - 1;
	if (!json_is_array(jc) || json_array_size(jc) != bins)
		return fail(p, "%s: \"counts\" must be an array of %zu counts (one per bin)", where,
			    bins);
	edges = malloc(ne * sizeof *edges);
	slots = malloc((bins + 2) * sizeof *slots);
	if (!edges || !slots) {
		fail(p, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ne; i++) {
		const json_t *v = json_array_get(je, i);

		if (!json_is_number(v) || !isfinite(json_number_value(v))) {
			fail(p, "%s: edge %zu is not a finite number", where, i);
			goto out;
		}
		edges[i] = json_number_value(v);
		if (i > 0 && !(edges[i] > edges[i - 1])) {
			fail(p, "%s: edges must be strictly increasing (edge %zu)", where, i);
			goto out;
		}
	}
	*counted = 0;
	if (get_count(p, o, where, "underflow", &slots[0]) < 0 ||
	    get_count(p, o, where, "overflow", &slots[bins + 1]) < 0 ||
	    add_total(p, where, counted, slots[0]) < 0 ||
	    add_total(p, where, counted, slots[bins + 1]) < 0)
		goto out;
	for (size_t i = 0; i < bins; i++) {
		const json_t *v = json_array_get(jc, i);

		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			fail(p, "%s: count %zu must be an integer >= 0", where, i);
			goto out;
		}
		slots[i + 1] = (uint64_t)json_integer_value(v);
		if (add_total(p, where, counted, slots[i + 1]) < 0)
			goto out;
	}
	f->hist = hist_from_counts(edges, bins, slots, &st);
	if (!f->hist) {
		fail(p, "%s: histogram: %s", where, stats_strerror(st));
		goto out;
	}
	rc = 0;
out:
	free(edges);
	free(slots);
	return rc;
}

static int cat_from_json(struct jp *p, const json_t *o, const char *where, struct agent_bfeature *f,
			 uint64_t *counted)
{
	const json_t *jv = json_object_get(o, "values"), *jc = json_object_get(o, "counts");
	uint64_t maxc, other;
	size_t n;

	if (only_keys(p, o, where, cat_keys) < 0 ||
	    get_count(p, o, where, "max_categories", &maxc) < 0 ||
	    get_count(p, o, where, "other", &other) < 0)
		return -1;
	if (json_object_get(o, "iqr"))
		return fail(p, "%s: a categorical feature has no \"iqr\"", where);
	if (maxc < 1 || maxc > STATS_CAT_MAX_VALUES_LIMIT)
		return fail(p, "%s: \"max_categories\" must be 1 to %u", where,
			    STATS_CAT_MAX_VALUES_LIMIT);
	if (!json_is_array(jv))
		return fail(p, "%s: \"values\" must be an array", where);
	n = json_array_size(jv);
	if (n > maxc)
		return fail(p, "%s: %zu values, more than max_categories", where, n);
	if (!json_is_array(jc) || json_array_size(jc) != n)
		return fail(p, "%s: \"counts\" must be an array of %zu counts (one per value)",
			    where, n);
	f->cat = stats_cat_new((size_t)maxc, NULL);
	if (!f->cat)
		return fail(p, "out of memory");
	*counted = 0;
	if (add_total(p, where, counted, other) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(jv, i), *c = json_array_get(jc, i);
		size_t len;

		if (!json_is_string(v))
			return fail(p, "%s: value %zu is not a string", where, i);
		len = json_string_length(v);
		if (len > STATS_CAT_MAX_VALUE_LEN)
			return fail(p, "%s: value %zu is longer than %u bytes", where, i,
				    STATS_CAT_MAX_VALUE_LEN);
		if (len == strlen(STATS_CAT_OTHER) &&
		    memcmp(json_string_value(v), STATS_CAT_OTHER, len) == 0)
			return fail(p, "%s: value %zu is \"%s\" (use \"other\")", where, i,
				    STATS_CAT_OTHER);
		if (!json_is_integer(c) || json_integer_value(c) < 0)
			return fail(p, "%s: count %zu must be an integer >= 0", where, i);
		if (add_total(p, where, counted, (uint64_t)json_integer_value(c)) < 0)
			return -1;
		if (stats_cat_find(f->cat, json_string_value(v), len) != STATS_CAT_OTHER_INDEX)
			return fail(p, "%s: value %zu is repeated", where, i);
		if (stats_cat_add(f->cat, json_string_value(v), len,
				  (uint64_t)json_integer_value(c)) != i)
			return fail(p, "out of memory");
	}
	stats_cat_add(f->cat, STATS_CAT_OTHER, strlen(STATS_CAT_OTHER), other);
	return 0;
}

/* One feature object; name_want: the name it must have (the prediction), else any. */
static int feature_from_json(struct jp *p, const json_t *o, const char *where,
			     struct agent_bfeature *f, uint64_t samples)
{
	const char *name, *kind;
	uint64_t counted = 0, total;

	memset(f, 0, sizeof *f);
	f->iqr = NAN;
	if (!json_is_object(o))
		return fail(p, "%s: not an object", where);
	name = get_string(p, o, where, "name", SIZE_MAX, NULL);
	kind = name ? get_string(p, o, where, "kind", 32, NULL) : NULL;
	if (!kind || get_count(p, o, where, "missing", &f->missing) < 0 ||
	    get_count(p, o, where, "mismatched", &f->mismatched) < 0)
		return -1;
	f->name = strdup(name);
	if (!f->name)
		return fail(p, "out of memory");
	if (strcmp(kind, "numeric") == 0) {
		if (numeric_from_json(p, o, where, f, &counted) < 0)
			return -1;
	} else if (strcmp(kind, "categorical") == 0) {
		f->categorical = 1;
		if (cat_from_json(p, o, where, f, &counted) < 0)
			return -1;
	} else {
		return fail(p, "%s: \"kind\" must be \"numeric\" or \"categorical\"", where);
	}
	total = counted;
	if (add_total(p, where, &total, f->missing) < 0 ||
	    add_total(p, where, &total, f->mismatched) < 0)
		return -1;
	if (total != samples)
		return fail(p,
			    "%s: values (%llu) + missing + mismatched must equal samples (%llu), "
			    "not %llu",
			    where, (unsigned long long)counted, (unsigned long long)samples,
			    (unsigned long long)total);
	return 0;
}

static const char *const top_keys[] = { "schema",     "model",	 "version",  "created",
					"created_ms", "samples", "metadata", "features",
					"prediction", "latency", "accuracy", "regression",
					"errors",     NULL };

/* An object member that must itself be an object with exactly the given keys. */
static const json_t *get_object(struct jp *p, const json_t *o, const char *key,
				const char *const *keys)
{
	const json_t *v = json_object_get(o, key);

	if (!v) {
		fail(p, "missing \"%s\"", key);
		return NULL;
	}
	if (!json_is_object(v)) {
		fail(p, "\"%s\" must be an object", key);
		return NULL;
	}
	if (only_keys(p, v, key, keys) < 0)
		return NULL;
	return v;
}

static int record_counts_from_json(struct jp *p, const json_t *root, struct agent_baseline *b)
{
	static const char *const acc_keys[] = { "scored", "correct", NULL };
	static const char *const reg_keys[] = { "n", "abs_err_sum", NULL };
	static const char *const err_keys[] = { "known", "errors", NULL };
	const json_t *acc = get_object(p, root, "accuracy", acc_keys), *reg, *errs, *aes;
	uint64_t both = 0;

	if (!acc || get_count(p, acc, "accuracy", "scored", &b->scored) < 0 ||
	    get_count(p, acc, "accuracy", "correct", &b->correct) < 0)
		return -1;
	if (b->correct > b->scored)
		return fail(p, "accuracy: \"correct\" exceeds \"scored\"");
	reg = get_object(p, root, "regression", reg_keys);
	if (!reg || get_count(p, reg, "regression", "n", &b->reg_n) < 0)
		return -1;
	aes = json_object_get(reg, "abs_err_sum");
	if (!json_is_number(aes) || !isfinite(json_number_value(aes)) || json_number_value(aes) < 0)
		return fail(p, "regression: \"abs_err_sum\" must be a finite number >= 0");
	b->abs_err_sum = json_number_value(aes);
	if (b->reg_n == 0 && b->abs_err_sum != 0)
		return fail(p, "regression: \"abs_err_sum\" must be 0 when \"n\" is 0");
	if (add_total(p, "accuracy", &both, b->scored) < 0 ||
	    add_total(p, "regression", &both, b->reg_n) < 0)
		return -1;
	if (both > b->samples)
		return fail(p, "more records scored than samples");
	errs = get_object(p, root, "errors", err_keys);
	if (!errs || get_count(p, errs, "errors", "known", &b->error_known) < 0 ||
	    get_count(p, errs, "errors", "errors", &b->errors) < 0)
		return -1;
	if (b->errors > b->error_known || b->error_known > b->samples)
		return fail(p, "errors: need errors <= known <= samples");
	return 0;
}

static int latency_from_json(struct jp *p, const json_t *root, struct agent_baseline *b)
{
	static const char *const lat_keys[] = { "unit", "sketch", NULL };
	const json_t *lat = get_object(p, root, "latency", lat_keys), *jsk;
	const char *unit;
	uint8_t *bytes;
	size_t n = 0;
	int nomem = 0;
	enum stats_status st = STATS_OK;
	uint64_t total = 0;

	if (!lat)
		return -1;
	unit = get_string(p, lat, "latency", "unit", 16, NULL);
	if (!unit)
		return -1;
	if (strcmp(unit, "seconds") != 0)
		return fail(p, "latency: \"unit\" must be \"seconds\"");
	jsk = json_object_get(lat, "sketch");
	if (!json_is_string(jsk))
		return fail(p, "latency: \"sketch\" must be a base64 string");
	bytes = b64_decode(json_string_value(jsk), json_string_length(jsk), &n, &nomem);
	if (!bytes)
		return fail(p, nomem ? "out of memory" : "latency: \"sketch\" is not valid base64");
	b->latency = stats_sketch_deserialize(bytes, n, &st);
	free(bytes);
	if (!b->latency)
		return fail(p, "latency: bad sketch: %s", stats_strerror(st));
	if (add_total(p, "latency", &total, stats_sketch_count(b->latency)) < 0 ||
	    add_total(p, "latency", &total, stats_sketch_nan(b->latency)) < 0 ||
	    add_total(p, "latency", &total, stats_sketch_negative(b->latency)) < 0)
		return -1;
	if (total > b->samples)
		return fail(p, "latency: more values than samples");
	return 0;
}

static int parse_baseline(struct jp *p, const json_t *root, struct agent_baseline *b)
{
	const json_t *v, *features, *meta, *pred;
	const char *s, *created;
	char want[AGENT_TIME_LEN], where[64];
	json_int_t ms;

	if (!json_is_object(root))
		return fail(p, "a baseline must be a JSON object");
	v = json_object_get(root, "schema");
	if (!v)
		return fail(p, "missing \"schema\"");
	if (!json_is_integer(v) || json_integer_value(v) != AGENT_BASELINE_SCHEMA)
		return fail(p, "\"schema\" must be %d", AGENT_BASELINE_SCHEMA);
	if (only_keys(p, root, "baseline", top_keys) < 0)
		return -1;
	if (!(s = get_string(p, root, "baseline", "model", MAX_NAME, NULL)) ||
	    !(b->model = strdup(s)))
		return p->failed ? -1 : fail(p, "out of memory");
	if (!(s = get_string(p, root, "baseline", "version", MAX_NAME, NULL)) ||
	    !(b->version = strdup(s)))
		return p->failed ? -1 : fail(p, "out of memory");
	v = json_object_get(root, "created_ms");
	if (!json_is_integer(v) || (ms = json_integer_value(v)) < 0 || ms > MAX_MS)
		return fail(p, "\"created_ms\" must be an integer in 0..%lld", (long long)MAX_MS);
	b->created_ms = ms;
	created = get_string(p, root, "baseline", "created", AGENT_TIME_LEN, NULL);
	if (!created)
		return -1;
	agent_time_format(b->created_ms, want);
	if (strcmp(created, want) != 0)
		return fail(p, "\"created\" must be %s (created_ms in RFC 3339)", want);
	if (get_count(p, root, "baseline", "samples", &b->samples) < 0)
		return -1;
	if (b->samples == 0)
		return fail(p, "\"samples\" must be at least 1");

	meta = json_object_get(root, "metadata");
	if (!meta)
		return fail(p, "missing \"metadata\"");
	if (json_is_object(meta)) {
		b->metadata = json_dumps(meta, JSON_FLAGS);
		if (!b->metadata)
			return fail(p, "out of memory");
	} else if (!json_is_null(meta)) {
		return fail(p, "\"metadata\" must be an object or null");
	}

	features = json_object_get(root, "features");
	if (!json_is_array(features))
		return fail(p, "\"features\" must be an array");
	b->features = calloc(json_array_size(features) + 1, sizeof *b->features);
	if (!b->features)
		return fail(p, "out of memory");
	for (size_t i = 0; i < json_array_size(features); i++) {
		snprintf(where, sizeof where, "features[%zu]", i);
		b->nfeatures = i + 1;
		if (feature_from_json(p, json_array_get(features, i), where, &b->features[i],
				      b->samples) < 0)
			return -1;
		if (i > 0 && strcmp(b->features[i - 1].name, b->features[i].name) >= 0)
			return fail(p, "%s: feature names must be unique and sorted", where);
	}

	pred = json_object_get(root, "prediction");
	if (!pred)
		return fail(p, "missing \"prediction\"");
	b->prediction.iqr = NAN;
	if (!json_is_null(pred)) {
		b->has_prediction = 1;
		if (feature_from_json(p, pred, "prediction", &b->prediction, b->samples) < 0)
			return -1;
		if (strcmp(b->prediction.name, AGENT_PREDICTION_FEATURE) != 0)
			return fail(p, "prediction: \"name\" must be \"%s\"",
				    AGENT_PREDICTION_FEATURE);
	}
	if (latency_from_json(p, root, b) < 0)
		return -1;
	return record_counts_from_json(p, root, b);
}

struct agent_baseline *agent_baseline_from_json(const char *json, size_t len, char *err,
						size_t errlen)
{
	struct jp p = { .err = err, .errlen = errlen };
	struct agent_baseline *b;
	json_error_t je;
	json_t *root;

	if (err && errlen)
		err[0] = '\0';
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		fail(&p, "line %d, column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	b = calloc(1, sizeof *b);
	if (!b) {
		fail(&p, "out of memory");
	} else if (parse_baseline(&p, root, b) < 0) {
		agent_baseline_free(b);
		b = NULL;
	}
	json_decref(root);
	return b;
}
