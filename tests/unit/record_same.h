/*
 * record_same.h -- field-by-field equality of two decoded records (strings by content, doubles
 * bit for bit): the decoders' differential test and fuzz target both judge with it.
 * Header-only.
 */
#ifndef DRIFTD_TEST_RECORD_SAME_H
#define DRIFTD_TEST_RECORD_SAME_H

#include "connectors/record.h"

#include <string.h>

static inline int same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static inline int same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* 1 when two values are equal. */
static inline int same_value(const struct conn_value *a, const struct conn_value *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case CONN_VALUE_NUMBER:
		return same_double(a->num, b->num);
	case CONN_VALUE_STRING:
		return same_bytes(a->str, a->len, b->str, b->len);
	case CONN_VALUE_BOOL:
		return a->b == b->b;
	default:
		return 1;
	}
}

/* 1 when a and b are equal field by field; else 0 and the first differing field in *why. */
static inline int same_record(const struct conn_record *a, const struct conn_record *b,
			      const char **why)
{
#define DIFF(what)                                                                                 \
	do {                                                                                       \
		*why = what;                                                                       \
		return 0;                                                                          \
	} while (0)
	if (!same_bytes(a->model, a->model_len, b->model, b->model_len))
		DIFF("model");
	if (!same_bytes(a->version, a->version_len, b->version, b->version_len))
		DIFF("version");
	if (!a->request_id != !b->request_id ||
	    (a->request_id &&
	     !same_bytes(a->request_id, a->request_id_len, b->request_id, b->request_id_len)))
		DIFF("request_id");
	if (a->has_ts != b->has_ts || a->ts_ms != b->ts_ms)
		DIFF("ts");
	if (a->has_latency != b->has_latency || !same_double(a->latency_ms, b->latency_ms))
		DIFF("latency_ms");
	if (a->has_error != b->has_error || a->error != b->error)
		DIFF("error");
	if (!same_value(&a->prediction, &b->prediction))
		DIFF("prediction");
	if (a->prediction_nonfinite != b->prediction_nonfinite)
		DIFF("prediction_nonfinite");
	if (!same_value(&a->label, &b->label))
		DIFF("label");
	if (a->nfeatures != b->nfeatures)
		DIFF("nfeatures");
	for (size_t i = 0; i < a->nfeatures; i++) {
		const struct conn_feature *fa = &a->features[i], *fb = &b->features[i];

		if (!same_bytes(fa->name, fa->name_len, fb->name, fb->name_len))
			DIFF("feature name");
		if (!same_value(&fa->value, &fb->value))
			DIFF("feature value");
	}
	return 1;
#undef DIFF
}

#endif
