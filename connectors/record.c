/*
 * record.c -- the inference log record decoder (see record.h): the parts both decoders share.
 *
 * A decode is a walk and a finish. The walker (record_jansson.c or record_simdjson.cc, picked
 * when the decoder is made) reads the JSON text and decides steps 2-5 of the contract
 * (BAD_JSON, TOO_DEEP, NOT_OBJECT, DUPLICATE_KEY); it hands the known top-level members over as
 * raw JSON values and each member of "features" through conn_walk_feature(). Everything after
 * that -- step 6, field by field: types, lengths, the RFC 3339 time (text.h), the feature
 * checks, the conversion into struct conn_record -- happens here, once, so the two decoders cannot
 * differ in it. Step 1 (the size) is checked here before any walk.
 *
 * This file also holds the exact reference routines the walkers fall back on (record_impl.h):
 * a complete iterative JSON validator that measures nesting, and the JSON number grammar with a
 * correctly rounded, locale-independent conversion. They run only on rare inputs (documents
 * deeper than max_depth, a top-level value that is not an object, numbers simdjson refuses), so
 * they favour being obviously right over speed.
 *
 * Decisions record.h leaves open, taken here for both decoders:
 *   - null is "absent" for every optional field (request_id, ts, latency_ms, error,
 *     prediction, label, features and feature values); a null model or version is bad_model /
 *     bad_version.
 *   - ts as a number may have a fraction: it is truncated to whole milliseconds. As an RFC 3339
 *     string: "YYYY-MM-DD" "T"|"t" "hh:mm:ss" ["." 1*DIGIT] ("Z"|"z"|("+"|"-") "hh:mm"); no
 *     space separator, no leap second (ss <= 59), offsets up to 23:59, "-00:00" is UTC; the
 *     fraction is truncated to ms before the offset is applied; the result must lie in
 *     [0, 2^53) ms like a numeric ts (so nothing before 1970-01-01T00:00:00Z): text.h's
 *     conn_text_time_parse with CONN_TEXT_TIME_EPOCH53.
 *   - latency_ms -0 is stored as +0.
 *   - the features checks run in document order, name then value of each member; the first
 *     problem wins (after the count: more than max_features is reported first).
 *   - an empty string is a valid request_id, prediction, label and feature value.
 *   - running out of memory while decoding gives CONN_REJECT_TOO_LARGE.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l */
#endif
#include "connectors/record.h"
#include "connectors/record_impl.h"
#include "connectors/text.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An opened decoder: the walker it uses and the scratch space of one decode. */
struct conn_decoder {
	enum conn_decoder_kind kind; /* CONN_DECODER_JANSSON or CONN_DECODER_SIMDJSON */
	struct conn_walk walk;	     /* limits, raw members and features of the last message */
	char *nf;		     /* the last text rewritten for its non-finite literals */
	size_t nf_cap;
	struct conn_jansson *jansson; /* the walker when kind is JANSSON, else NULL */
#ifdef HAVE_SIMDJSON
	struct conn_simdjson *simdjson; /* the walker when kind is SIMDJSON, else NULL */
#endif
};

/* ---- reasons and limits ---- */

static const char *const reject_names[CONN_REJECT_COUNT] = {
	[CONN_REJECT_NONE] = "none",
	[CONN_REJECT_TOO_LARGE] = "too_large",
	[CONN_REJECT_BAD_JSON] = "bad_json",
	[CONN_REJECT_TOO_DEEP] = "too_deep",
	[CONN_REJECT_NOT_OBJECT] = "not_object",
	[CONN_REJECT_DUPLICATE_KEY] = "duplicate_key",
	[CONN_REJECT_MISSING_MODEL] = "missing_model",
	[CONN_REJECT_BAD_MODEL] = "bad_model",
	[CONN_REJECT_MISSING_VERSION] = "missing_version",
	[CONN_REJECT_BAD_VERSION] = "bad_version",
	[CONN_REJECT_BAD_REQUEST_ID] = "bad_request_id",
	[CONN_REJECT_BAD_TS] = "bad_ts",
	[CONN_REJECT_BAD_LATENCY] = "bad_latency",
	[CONN_REJECT_BAD_ERROR] = "bad_error",
	[CONN_REJECT_BAD_PREDICTION] = "bad_prediction",
	[CONN_REJECT_BAD_LABEL] = "bad_label",
	[CONN_REJECT_BAD_FEATURES] = "bad_features",
	[CONN_REJECT_TOO_MANY_FEATURES] = "too_many_features",
	[CONN_REJECT_BAD_FEATURE_NAME] = "bad_feature_name",
	[CONN_REJECT_BAD_FEATURE_VALUE] = "bad_feature_value",
};

/* The name of r; "unknown" for a value outside the enum (never NULL). */
const char *conn_reject_name(enum conn_reject r)
{
	if ((unsigned)r >= CONN_REJECT_COUNT || !reject_names[r])
		return "unknown";
	return reject_names[r];
}

/* Fills *l with the SPEC defaults (1 MiB, 1024 features, 128-byte names, 1024-byte values,
 * depth 32). */
void conn_limits_default(struct conn_limits *l)
{
	l->max_message = (size_t)1 << 20;
	l->max_features = 1024;
	l->max_feature_name = 128;
	l->max_name = 128;
	l->max_value = 1024;
	l->max_depth = 32;
}

/* 0 when every limit is usable, else -1 with the first problem in errbuf. */
static int limits_check(const struct conn_limits *l, char *errbuf, size_t errlen)
{
	const char *bad = NULL;

	if (l->max_message < 1 || l->max_message > CONN_MESSAGE_MAX)
		bad = "max_message must be in [1, 2^30]";
	else if (l->max_depth < 1 || l->max_depth > CONN_DEPTH_MAX)
		bad = "max_depth must be in [1, 1024]";
	else if (l->max_features < 1)
		bad = "max_features must be at least 1";
	else if (l->max_feature_name < 1)
		bad = "max_feature_name must be at least 1";
	else if (l->max_name < 1)
		bad = "max_name must be at least 1";
	else if (l->max_value < 1)
		bad = "max_value must be at least 1";
	if (!bad)
		return 0;
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "record decoder: %s", bad);
	return -1;
}

/* ---- what walkers call: known members, features ---- */

/* record_impl.h. A switch on the first byte, then one memcmp. */
int conn_walk_field(const char *key, size_t len)
{
#define IS(lit) (len == sizeof(lit) - 1 && memcmp(key, lit, sizeof(lit) - 1) == 0)
	switch (len ? key[0] : 0) {
	case 'm':
		return IS("model") ? CONN_FIELD_MODEL : -1;
	case 'v':
		return IS("version") ? CONN_FIELD_VERSION : -1;
	case 'r':
		return IS("request_id") ? CONN_FIELD_REQUEST_ID : -1;
	case 't':
		return IS("ts") ? CONN_FIELD_TS : -1;
	case 'l':
		return IS("latency_ms") ? CONN_FIELD_LATENCY : IS("label") ? CONN_FIELD_LABEL : -1;
	case 'e':
		return IS("error") ? CONN_FIELD_ERROR : -1;
	case 'p':
		return IS("prediction") ? CONN_FIELD_PREDICTION : -1;
	case 'f':
		return IS("features") ? CONN_FIELD_FEATURES : -1;
	default:
		return -1;
	}
#undef IS
}

/* A prediction, label or feature value: number, string (<= max_value bytes) or boolean; null
 * is missing. Returns 0 and fills *out, or -1 (array, object, absent, long string). */
static int value_of(const struct conn_raw *v, size_t max_value, struct conn_value *out)
{
	out->num = 0;
	out->str = NULL;
	out->len = 0;
	out->b = 0;
	switch (v->type) {
	case CONN_RAW_NULL:
		out->kind = CONN_VALUE_MISSING;
		return 0;
	case CONN_RAW_BOOL:
		out->kind = CONN_VALUE_BOOL;
		out->b = v->b;
		return 0;
	case CONN_RAW_NUMBER:
		if (!isfinite(v->num))
			return -1;
		out->kind = CONN_VALUE_NUMBER;
		out->num = v->num;
		return 0;
	case CONN_RAW_STRING:
		if (v->len > max_value)
			return -1;
		out->kind = CONN_VALUE_STRING;
		out->str = v->str;
		out->len = v->len;
		return 0;
	default:
		return -1;
	}
}

/* record_impl.h. O(1) amortized; the array grows by doubling up to max_features. */
void conn_walk_feature(struct conn_walk *w, const char *name, size_t name_len,
		       const struct conn_raw *v)
{
	size_t i = w->nfeatures++;
	struct conn_feature *f;

	if (i >= w->lim.max_features || w->feature_problem != CONN_REJECT_NONE)
		return; /* the record is rejected: only the count matters now */
	if (name_len == 0 || name_len > w->lim.max_feature_name) {
		w->feature_problem = CONN_REJECT_BAD_FEATURE_NAME;
		return;
	}
	if (i >= w->features_cap) {
		size_t cap = w->features_cap ? 2 * w->features_cap : 32;

		if (cap > w->lim.max_features)
			cap = w->lim.max_features;
		f = realloc(w->features, cap * sizeof *f);
		if (!f) {
			w->oom = 1;
			return;
		}
		w->features = f;
		w->features_cap = cap;
	}
	f = &w->features[i];
	if (w->marks && v->type == CONN_RAW_STRING &&
	    conn_nonfinite_mark(v->str, v->len, &f->value.num)) {
		f->value.kind = CONN_VALUE_NUMBER; /* a non-finite value: the window counts it */
		f->value.str = NULL;
		f->value.len = 0;
		f->value.b = 0;
		f->name = name;
		f->name_len = name_len;
		return;
	}
	/* converted in place: a copy of a freshly written struct stalls store forwarding */
	if (value_of(v, w->lim.max_value, &f->value) < 0) {
		w->feature_problem = CONN_REJECT_BAD_FEATURE_VALUE;
		return;
	}
	f->name = name;
	f->name_len = name_len;
}

/* ---- numbers ---- */

/* The "C" locale, made once: strtod must not follow the process's LC_NUMERIC. */
static locale_t c_locale(void)
{
	static locale_t loc;
	locale_t l = __atomic_load_n(&loc, __ATOMIC_ACQUIRE), expected = (locale_t)0;

	if (l)
		return l;
	l = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!l)
		return (locale_t)0;
	if (!__atomic_compare_exchange_n(&loc, &expected, l, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		freelocale(l); /* another thread won the race */
		l = expected;
	}
	return l;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* record_impl.h. Returns -2 (not -1) when the copy for strtod cannot be allocated. */
int conn_json_number(const char *s, size_t len, double *out)
{
	char small[64], *tmp = small;
	size_t i = 0;
	locale_t loc;
	double v;

	/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? and nothing else */
	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0')
		i++;
	else if (i < len && s[i] >= '1' && s[i] <= '9')
		while (i < len && is_digit(s[i]))
			i++;
	else
		return -1;
	if (i < len && s[i] == '.') {
		if (++i >= len || !is_digit(s[i]))
			return -1;
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !is_digit(s[i]))
			return -1;
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i != len)
		return -1;

	if (len >= sizeof small && !(tmp = malloc(len + 1)))
		return -2;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	loc = c_locale();
	v = loc ? strtod_l(tmp, NULL, loc) : strtod(tmp, NULL);
	if (tmp != small)
		free(tmp);
	if (!isfinite(v))
		return -1; /* overflow, as jansson ("real number overflow") and simdjson */
	*out = v;
	return 0;
}

/* ---- the reference validator ---- */

/* Skips the string starting at *pp (on its opening quote). 0 when valid, else -1. */
static int check_string(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp + 1;

	for (;;) {
		if (p >= end)
			return -1;
		if (*p == '"')
			break;
		if (*p < 0x20)
			return -1;
		if (*p == '\\') {
			long cp;

			if (++p >= end)
				return -1;
			if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
				continue;
			}
			if (*p != 'u' || end - p < 5 ||
			    (cp = conn_text_hex_value((const char *)p + 1, 4)) < 0)
				return -1;
			p += 5;
			if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
				return -1; /* \u0000, lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				long lo;

				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    (lo = conn_text_hex_value((const char *)p + 2, 4)) < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				p += 6;
			}
		} else if (*p < 0x80) {
			p++;
		} else {
			size_t n = conn_text_utf8_len((const char *)p, (size_t)(end - p));

			if (!n)
				return -1;
			p += n;
		}
	}
	*pp = p + 1;
	return 0;
}

static const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The container stack of the validator: one bit per level (1 = object). */
struct bitstack {
	uint64_t local[64]; /* the first 4096 levels */
	uint64_t *bits;	    /* local, or a heap array once deeper */
	size_t cap;	    /* levels bits can hold */
	size_t depth;	    /* levels in use */
};

static int bs_push(struct bitstack *s, int is_object, size_t len)
{
	if (s->depth == s->cap) {
		size_t cap = len + 64; /* a text of len bytes nests at most len deep */
		uint64_t *b = calloc(cap / 64 + 1, sizeof *b);

		if (!b)
			return -1;
		memcpy(b, s->bits, s->cap / 8);
		if (s->bits != s->local)
			free(s->bits);
		s->bits = b;
		s->cap = cap;
	}
	if (is_object)
		s->bits[s->depth / 64] |= (uint64_t)1 << (s->depth % 64);
	else
		s->bits[s->depth / 64] &= ~((uint64_t)1 << (s->depth % 64));
	s->depth++;
	return 0;
}

static int bs_top_is_object(const struct bitstack *s)
{
	size_t i = s->depth - 1;

	return (int)((s->bits[i / 64] >> (i % 64)) & 1);
}

/* record_impl.h. A state machine over the bytes (VALUE expected, KEY expected, AFTER a value)
 * with the container stack in bits. */
enum conn_reject conn_json_check(const char *buf, size_t len, size_t max_depth)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	struct bitstack st;
	size_t max_seen = 0;
	int root_object = -1; /* unknown until the first value */
	enum { VALUE, KEY, AFTER } state = VALUE;
	enum conn_reject r = CONN_REJECT_BAD_JSON;

	st.bits = st.local;
	st.cap = 64 * 64;
	st.depth = 0;
	for (;;) {
		p = skip_ws(p, end);
		if (state == AFTER) {
			if (st.depth == 0) {
				if (p == end)
					r = max_seen > max_depth ? CONN_REJECT_TOO_DEEP
					    : root_object	 ? CONN_REJECT_NONE
								 : CONN_REJECT_NOT_OBJECT;
				goto out;
			}
			if (p == end)
				goto out;
			if (*p == ',') {
				p++;
				state = bs_top_is_object(&st) ? KEY : VALUE;
			} else if (*p == (bs_top_is_object(&st) ? '}' : ']')) {
				p++;
				st.depth--;
			} else {
				goto out;
			}
			continue;
		}
		if (p == end)
			goto out;
		if (state == KEY) {
			if (*p != '"' || check_string(&p, end) < 0)
				goto out;
			p = skip_ws(p, end);
			if (p == end || *p != ':')
				goto out;
			p++;
			state = VALUE;
			continue;
		}
		/* state == VALUE */
		if (root_object < 0)
			root_object = *p == '{';
		if (*p == '{' || *p == '[') {
			int obj = *p == '{';

			if (bs_push(&st, obj, len) < 0) {
				r = CONN_REJECT_TOO_LARGE;
				goto out;
			}
			if (st.depth > max_seen)
				max_seen = st.depth;
			p = skip_ws(p + 1, end);
			if (p < end && *p == (obj ? '}' : ']')) {
				p++;
				st.depth--;
				state = AFTER;
			} else {
				state = obj ? KEY : VALUE;
			}
		} else if (*p == '"') {
			if (check_string(&p, end) < 0)
				goto out;
			state = AFTER;
		} else if (*p == '-' || is_digit((char)*p)) {
			/* the longest run of number characters: any JSON text where a number is
			 * directly followed by one of them is invalid anyway */
			const unsigned char *q = p;
			double v;
			int e;

			while (q < end && (is_digit((char)*q) || *q == '-' || *q == '+' ||
					   *q == '.' || *q == 'e' || *q == 'E'))
				q++;
			e = conn_json_number((const char *)p, (size_t)(q - p), &v);
			if (e == -2)
				r = CONN_REJECT_TOO_LARGE;
			if (e < 0)
				goto out;
			p = q;
			state = AFTER;
		} else {
			static const char *const lits[] = { "true", "false", "null" };
			size_t i;

			for (i = 0; i < 3; i++) {
				size_t n = strlen(lits[i]);

				if ((size_t)(end - p) >= n && memcmp(p, lits[i], n) == 0) {
					p += n;
					break;
				}
			}
			if (i == 3)
				goto out;
			state = AFTER;
		}
	}
out:
	if (st.bits != st.local)
		free(st.bits);
	return r;
}

/* ---- step 6: the fields, in contract order ---- */

/* A required name (model, version): a non-empty string of at most max bytes. */
static int name_ok(const struct conn_raw *v, size_t max)
{
	return v->type == CONN_RAW_STRING && v->len >= 1 && v->len <= max;
}

/* An optional field given as null counts as absent (producers often serialize a missing value
 * as null). */
static int absent(const struct conn_raw *v)
{
	return v->type == CONN_RAW_ABSENT || v->type == CONN_RAW_NULL;
}

/* Checks the raw members of w in record.h's order and fills *r. */
static enum conn_reject finish(const struct conn_walk *w, struct conn_record *r)
{
	const struct conn_limits *l = &w->lim;
	struct conn_raw marked[CONN_FIELD_COUNT];
	const struct conn_raw *f = w->field;
	const struct conn_raw *v;
	int nonfinite_pred = 0;

	memset(r, 0, sizeof *r);
	if (w->marks) { /* marked strings are the non-finite numbers they stood for */
		memcpy(marked, w->field, sizeof marked);
		for (int i = 0; i < CONN_FIELD_COUNT; i++)
			if (marked[i].type == CONN_RAW_STRING &&
			    conn_nonfinite_mark(marked[i].str, marked[i].len, &marked[i].num))
				marked[i].type = CONN_RAW_NUMBER;
		f = marked;
		/* a non-finite time or latency is no time or latency; a non-finite label is no
		 * label; a non-finite prediction is counted as such (conn_record) */
		if (f[CONN_FIELD_TS].type == CONN_RAW_NUMBER && !isfinite(f[CONN_FIELD_TS].num))
			marked[CONN_FIELD_TS].type = CONN_RAW_ABSENT;
		if (f[CONN_FIELD_LATENCY].type == CONN_RAW_NUMBER &&
		    !isfinite(f[CONN_FIELD_LATENCY].num))
			marked[CONN_FIELD_LATENCY].type = CONN_RAW_ABSENT;
		if (f[CONN_FIELD_LABEL].type == CONN_RAW_NUMBER &&
		    !isfinite(f[CONN_FIELD_LABEL].num))
			marked[CONN_FIELD_LABEL].type = CONN_RAW_NULL;
		if (f[CONN_FIELD_PREDICTION].type == CONN_RAW_NUMBER &&
		    !isfinite(f[CONN_FIELD_PREDICTION].num)) {
			marked[CONN_FIELD_PREDICTION].type = CONN_RAW_NULL;
			nonfinite_pred = 1;
		}
	}
	if (f[CONN_FIELD_MODEL].type == CONN_RAW_ABSENT)
		return CONN_REJECT_MISSING_MODEL;
	if (!name_ok(&f[CONN_FIELD_MODEL], l->max_name))
		return CONN_REJECT_BAD_MODEL;
	r->model = f[CONN_FIELD_MODEL].str;
	r->model_len = f[CONN_FIELD_MODEL].len;

	if (f[CONN_FIELD_VERSION].type == CONN_RAW_ABSENT)
		return CONN_REJECT_MISSING_VERSION;
	if (!name_ok(&f[CONN_FIELD_VERSION], l->max_name))
		return CONN_REJECT_BAD_VERSION;
	r->version = f[CONN_FIELD_VERSION].str;
	r->version_len = f[CONN_FIELD_VERSION].len;

	v = &f[CONN_FIELD_REQUEST_ID];
	if (!absent(v)) {
		if (v->type != CONN_RAW_STRING || v->len > l->max_name)
			return CONN_REJECT_BAD_REQUEST_ID;
		r->request_id = v->str;
		r->request_id_len = v->len;
	}

	v = &f[CONN_FIELD_TS];
	if (v->type == CONN_RAW_NUMBER) {
		/* 2^53 is exact: every double below it truncates into int64_t */
		if (!(v->num >= 0 && v->num < 9007199254740992.0))
			return CONN_REJECT_BAD_TS;
		r->ts_ms = (int64_t)v->num;
		r->has_ts = 1;
	} else if (v->type == CONN_RAW_STRING) {
		if (conn_text_time_parse(v->str, v->len, CONN_TEXT_TIME_EPOCH53, &r->ts_ms) < 0)
			return CONN_REJECT_BAD_TS;
		r->has_ts = 1;
	} else if (!absent(v)) {
		return CONN_REJECT_BAD_TS;
	}

	v = &f[CONN_FIELD_LATENCY];
	if (!absent(v)) {
		if (v->type != CONN_RAW_NUMBER || !(v->num >= 0) || !isfinite(v->num))
			return CONN_REJECT_BAD_LATENCY;
		r->latency_ms = v->num + 0.0; /* -0 becomes +0 */
		r->has_latency = 1;
	}

	v = &f[CONN_FIELD_ERROR];
	if (!absent(v)) {
		if (v->type != CONN_RAW_BOOL)
			return CONN_REJECT_BAD_ERROR;
		r->error = v->b;
		r->has_error = 1;
	}

	v = &f[CONN_FIELD_PREDICTION];
	if (v->type != CONN_RAW_ABSENT && value_of(v, l->max_value, &r->prediction) < 0)
		return CONN_REJECT_BAD_PREDICTION;
	r->prediction_nonfinite = nonfinite_pred;
	v = &f[CONN_FIELD_LABEL];
	if (v->type != CONN_RAW_ABSENT && value_of(v, l->max_value, &r->label) < 0)
		return CONN_REJECT_BAD_LABEL;

	v = &f[CONN_FIELD_FEATURES];
	if (v->type == CONN_RAW_OBJECT) {
		if (w->nfeatures > l->max_features)
			return CONN_REJECT_TOO_MANY_FEATURES;
		if (w->feature_problem != CONN_REJECT_NONE)
			return w->feature_problem;
		r->features = w->features;
		r->nfeatures = w->nfeatures;
	} else if (!absent(v)) {
		return CONN_REJECT_BAD_FEATURES;
	}
	return CONN_REJECT_NONE;
}

/* ---- API ---- */

/* 1 when conn_decoder_new can make a decoder of this kind: always for JANSSON and AUTO, for
 * SIMDJSON when built with HAVE_SIMDJSON. */
int conn_decoder_available(enum conn_decoder_kind kind)
{
	switch (kind) {
	case CONN_DECODER_AUTO:
	case CONN_DECODER_JANSSON:
		return 1;
	case CONN_DECODER_SIMDJSON:
#ifdef HAVE_SIMDJSON
		return 1;
#else
		return 0;
#endif
	default:
		return 0;
	}
}

/* Makes a decoder of the given kind (AUTO resolved: simdjson when built). Borrows l, copies
 * it. NULL with errbuf set when the kind is not built in, a limit is out of range (record_impl.h:
 * every limit >= 1, max_depth <= CONN_DEPTH_MAX, max_message <= CONN_MESSAGE_MAX), or memory is
 * short. */
struct conn_decoder *conn_decoder_new(enum conn_decoder_kind kind, const struct conn_limits *l,
				      char *errbuf, size_t errlen)
{
	struct conn_decoder *d = NULL;
	const char *msg = "out of memory";

	if (kind == CONN_DECODER_AUTO)
		kind = conn_decoder_available(CONN_DECODER_SIMDJSON) ? CONN_DECODER_SIMDJSON
								     : CONN_DECODER_JANSSON;
	if (!conn_decoder_available(kind)) {
		msg = kind == CONN_DECODER_SIMDJSON ? "simdjson not built in" : "unknown kind";
		goto error;
	}
	if (!l) {
		msg = "no limits";
		goto error;
	}
	if (limits_check(l, errbuf, errlen) < 0)
		return NULL; /* errbuf says which */
	if (!(d = calloc(1, sizeof *d)))
		goto error;
	d->kind = kind;
	d->walk.lim = *l;
	if (kind == CONN_DECODER_JANSSON && !(d->jansson = conn_jansson_new()))
		goto error;
#ifdef HAVE_SIMDJSON
	if (kind == CONN_DECODER_SIMDJSON && !(d->simdjson = conn_simdjson_new(l)))
		goto error;
#endif
	return d;
error:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "record decoder: %s", msg);
	conn_decoder_free(d);
	return NULL;
}

/* Frees d and everything the last record pointed into. NULL is a no-op. */
void conn_decoder_free(struct conn_decoder *d)
{
	if (!d)
		return;
	conn_jansson_free(d->jansson);
#ifdef HAVE_SIMDJSON
	conn_simdjson_free(d->simdjson);
#endif
	free(d->walk.features);
	free(d->nf);
	free(d);
}

/* The kind d decodes with (never AUTO). */
enum conn_decoder_kind conn_decoder_kind(const struct conn_decoder *d)
{
	return d->kind;
}

/* Steps 1-6 of record.h. O(len) for both walkers. */
enum conn_reject conn_decode(struct conn_decoder *d, const char *buf, size_t len,
			     struct conn_record *out)
{
	struct conn_walk *w = &d->walk;
	enum conn_reject r;

	if (len > w->lim.max_message)
		return CONN_REJECT_TOO_LARGE;
	if (len == 0)
		return CONN_REJECT_BAD_JSON; /* an empty text; buf may be NULL */
	for (int i = 0; i < CONN_FIELD_COUNT; i++)
		w->field[i].type = CONN_RAW_ABSENT;
	w->nfeatures = 0;
	w->feature_problem = CONN_REJECT_NONE;
	w->oom = 0;
	switch (conn_nonfinite_rewrite(buf, len, &d->nf, &d->nf_cap, &len)) {
	case 0:
		buf = d->nf;
		w->marks = 1;
		break;
	case -2:
		return CONN_REJECT_TOO_LARGE;
	default:
		w->marks = 0;
	}
#ifdef HAVE_SIMDJSON
	if (d->kind == CONN_DECODER_SIMDJSON)
		r = conn_simdjson_walk(d->simdjson, buf, len, w);
	else
#endif
		r = conn_jansson_walk(d->jansson, buf, len, w);
	if (r != CONN_REJECT_NONE)
		return r;
	if (w->oom)
		return CONN_REJECT_TOO_LARGE;
	return finish(w, out);
}
