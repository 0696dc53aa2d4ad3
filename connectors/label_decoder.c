/*
 * label_decoder.c -- the label message decoder (see label_decoder.h), on jansson.
 *
 * Steps 1-5 of the contract are decided by the record decoder's own jansson parse and text
 * scan (conn_jansson_parse, conn_text_scan in record_jansson.c), so the two agree on every text:
 * any NUL byte is BAD_JSON up front (jansson's reader would silently drop one right after a number
 * or literal); jansson parses with JSON_DECODE_ANY (a scalar top value is NOT_OBJECT, not a syntax
 * error) and JSON_DECODE_INT_AS_REAL (every number a correctly rounded double, big integers
 * allowed); any parse error is BAD_JSON except running out of memory (TOO_LARGE) and jansson's own
 * depth limit (JSON_PARSER_MAX_DEPTH, 2048, above CONN_DEPTH_MAX), where the exact reference
 * validator of record.c, conn_json_check (record_impl.h), decides between BAD_JSON and
 * TOO_DEEP. Nesting and duplicate keys are measured on the text by one plain scan once jansson
 * has accepted it: jansson keeps one member per repeated key, so fewer members in the tree than
 * ':' at depth 1 in the text means a repeated top-level key (JSON_REJECT_DUPLICATES would also
 * refuse repeats nested in unknown keys, and stop before a later syntax error).
 *
 * The label's strings point into the tree, which lives until the next decode.
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "connectors/label_decoder.h"
#include "connectors/record_impl.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn_label_decoder {
	struct conn_limits lim; /* copied at creation */
	json_t *root;		/* the tree of the last message, NULL before the first */
	char *nf;		/* the last text rewritten for its non-finite literals */
	size_t nf_cap;
	int marks; /* the last text was rewritten: marked strings are non-finite numbers */
};

/* A marked string of a rewritten text (record_impl.h): a non-finite number. */
static int is_mark(const struct conn_label_decoder *d, const json_t *v)
{
	double x;

	return d->marks && json_is_string(v) &&
	       conn_nonfinite_mark(json_string_value(v), json_string_length(v), &x);
}

/* ---- helpers ---- */

/* A required join-key string: 1..max bytes. Fills *s, *n; 0, or -1. */
static int name_of(const json_t *v, size_t max, const char **s, size_t *n)
{
	if (!json_is_string(v))
		return -1;
	*n = json_string_length(v);
	if (*n < 1 || *n > max)
		return -1;
	*s = json_string_value(v);
	return 0;
}

/* A label value as record.h's value rules, null excluded: 0 and *out filled, or -1. */
static int value_of(const json_t *v, size_t max_value, struct conn_value *out)
{
	memset(out, 0, sizeof *out);
	switch (json_typeof(v)) {
	case JSON_TRUE:
	case JSON_FALSE:
		out->kind = CONN_VALUE_BOOL;
		out->b = json_is_true(v);
		return 0;
	case JSON_INTEGER: /* not produced under JSON_DECODE_INT_AS_REAL */
	case JSON_REAL:
		out->kind = CONN_VALUE_NUMBER;
		out->num = json_number_value(v); /* finite: jansson refuses overflowing numbers */
		return 0;
	case JSON_STRING:
		if (json_string_length(v) > max_value)
			return -1;
		out->kind = CONN_VALUE_STRING;
		out->str = json_string_value(v);
		out->len = json_string_length(v);
		return 0;
	default: /* null, array, object */
		return -1;
	}
}

/* Steps 2-5 for a non-empty text within max_message: parses into d->root (the record
 * decoder's jansson parse and text scan, record_impl.h). */
static enum conn_reject parse(struct conn_label_decoder *d, const char *buf, size_t len)
{
	struct conn_text_scan s;
	enum conn_reject r = conn_jansson_parse(buf, len, d->lim.max_depth, &d->root);

	if (r != CONN_REJECT_NONE)
		return r;
	conn_text_scan(buf, len, SIZE_MAX, &s);
	if (s.max_depth > d->lim.max_depth)
		return CONN_REJECT_TOO_DEEP;
	if (!json_is_object(d->root))
		return CONN_REJECT_NOT_OBJECT;
	if (s.ntop != json_object_size(d->root))
		return CONN_REJECT_DUPLICATE_KEY;
	return CONN_REJECT_NONE;
}

/* ---- API ---- */

/* label_decoder.h. The limits are checked as conn_decoder_new checks them (record.c): every one >=
 * 1, max_message <= CONN_MESSAGE_MAX, max_depth <= CONN_DEPTH_MAX. */
struct conn_label_decoder *conn_label_decoder_new(const struct conn_limits *l, char *errbuf,
						  size_t errlen)
{
	struct conn_label_decoder *d;
	const char *bad = NULL;

	if (!l)
		bad = "no limits";
	else if (l->max_message < 1 || l->max_message > CONN_MESSAGE_MAX)
		bad = "max_message must be in [1, 2^30]";
	else if (l->max_depth < 1 || l->max_depth > CONN_DEPTH_MAX)
		bad = "max_depth must be in [1, 1024]";
	else if (l->max_name < 1)
		bad = "max_name must be at least 1";
	else if (l->max_value < 1)
		bad = "max_value must be at least 1";
	else if (!(d = calloc(1, sizeof *d)))
		bad = "out of memory";
	if (bad) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "label decoder: %s", bad);
		return NULL;
	}
	d->lim = *l;
	return d;
}

/* label_decoder.h. */
void conn_label_decoder_free(struct conn_label_decoder *d)
{
	if (!d)
		return;
	json_decref(d->root);
	free(d->nf);
	free(d);
}

/* label_decoder.h. O(len): the parse, one scan of the text, three lookups. */
enum conn_reject conn_label_decode(struct conn_label_decoder *d, const char *buf, size_t len,
				   struct conn_label *out)
{
	const struct conn_limits *l = &d->lim;
	enum conn_reject r;
	json_t *v;

	memset(out, 0, sizeof *out);
	json_decref(d->root);
	d->root = NULL;
	if (len > l->max_message)
		return CONN_REJECT_TOO_LARGE;
	if (len == 0)
		return CONN_REJECT_BAD_JSON; /* an empty text; buf may be NULL */
	/* NaN, Infinity, -Infinity as the record decoder reads them (record_nonfinite.c): a
	 * number where a name is required, and a label that is no label */
	switch (conn_nonfinite_rewrite(buf, len, &d->nf, &d->nf_cap, &len)) {
	case 0:
		buf = d->nf;
		d->marks = 1;
		break;
	case -2:
		return CONN_REJECT_TOO_LARGE;
	default:
		d->marks = 0;
	}
	if ((r = parse(d, buf, len)) != CONN_REJECT_NONE)
		return r;

	if (!(v = json_object_get(d->root, "model")))
		r = CONN_REJECT_MISSING_MODEL;
	else if (is_mark(d, v) || name_of(v, l->max_name, &out->model, &out->model_len) < 0)
		r = CONN_REJECT_BAD_MODEL;
	else if (is_mark(d, json_object_get(d->root, "request_id")) ||
		 name_of(json_object_get(d->root, "request_id"), l->max_name, &out->request_id,
			 &out->request_id_len) < 0)
		r = CONN_REJECT_BAD_REQUEST_ID;
	else if (!(v = json_object_get(d->root, "label")) || is_mark(d, v) ||
		 value_of(v, l->max_value, &out->label) < 0)
		r = CONN_REJECT_BAD_LABEL;
	if (r != CONN_REJECT_NONE)
		memset(out, 0, sizeof *out);
	return r;
}
