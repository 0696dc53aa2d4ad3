/*
 * record.h -- the inference log record (SPEC.md "Inference log record") decoded into a neutral
 * form, and the decoders that produce it.
 *
 * Two decoders share this interface and must produce *identical* results -- the same record, or
 * the same rejection reason -- for every input (tests/unit/connectors/test_record.c runs both
 * over a corpus): CONN_DECODER_SIMDJSON (simdjson On-Demand behind a C ABI shim, the fast one;
 * built when configure finds simdjson) and CONN_DECODER_JANSSON (always built).
 *
 * Validation, in this order; the first failing check names the rejection:
 *   1. size > limits.max_message                                 -> CONN_REJECT_TOO_LARGE
 *   2. not a syntactically valid JSON text (anywhere, including values of unknown keys;
 *      invalid UTF-8; a string containing \u0000)               -> CONN_REJECT_BAD_JSON
 *   3. nesting deeper than limits.max_depth (the top object is depth 1)
 *                                                                -> CONN_REJECT_TOO_DEEP
 *   4. the top-level value is not an object                      -> CONN_REJECT_NOT_OBJECT
 *   5. a key repeated in the top object or in "features"         -> CONN_REJECT_DUPLICATE_KEY
 *   6. then field by field, in this order: model, version, request_id, ts, latency_ms, error,
 *      prediction, label, features (each: the first problem of that field):
 *      model/version   absent -> MISSING_MODEL / MISSING_VERSION; not a string, empty, or
 *                      longer than limits.max_name bytes -> BAD_MODEL / BAD_VERSION
 *      request_id      optional; not a string or longer than limits.max_name -> BAD_REQUEST_ID
 *      ts              optional; a number (epoch ms, finite, 0 <= ts < 2^53) or an RFC 3339
 *                      string ("2026-11-26T21:14:00.123Z", offsets +hh:mm allowed, fraction to
 *                      ms, truncated) -> anything else BAD_TS
 *      latency_ms      optional; a finite number >= 0, else BAD_LATENCY
 *      error           optional; a boolean, else BAD_ERROR
 *      prediction      optional; number (finite) or string or boolean (<= limits.max_value
 *                      bytes), null = absent; else BAD_PREDICTION
 *      label           the same rules -> BAD_LABEL
 *      features        optional object (absent = no features), else BAD_FEATURES; more than
 *                      limits.max_features entries -> TOO_MANY_FEATURES; a name empty or longer
 *                      than limits.max_feature_name -> BAD_FEATURE_NAME; a value that is an
 *                      array, an object, a non-finite number or a string longer than
 *                      limits.max_value -> BAD_FEATURE_VALUE
 *   Unknown top-level keys are allowed and ignored (their values must still be valid JSON).
 * Numbers are IEEE doubles correctly rounded from the text (integers too). Further rules:
 *   - null is absent for every optional field (request_id, ts, latency_ms, error, prediction,
 *     label, features, feature values); a null model or version is BAD_MODEL / BAD_VERSION;
 *   - a numeric ts is truncated to whole ms (-0 is 0); an RFC 3339 ts is "YYYY-MM-DD" "T"|"t"
 *     "hh:mm:ss" ["." digits] ("Z"|"z"|"+hh:mm"|"-hh:mm"): no space separator, no leap second,
 *     offsets up to 23:59, "-00:00" is UTC, the fraction truncated to ms before the offset is
 *     applied; the result must lie in [0, 2^53) ms (nothing before 1970);
 *   - latency_ms -0 is stored as +0;
 *   - features: the count is checked first, then each member in document order, name before
 *     value; empty strings are valid values (and request_id, prediction, label);
 *   - lengths are bytes after unescaping; duplicate keys are compared after unescaping and are
 *     allowed inside unknown nested objects; a NUL byte anywhere is BAD_JSON;
 *   - running out of memory during a decode gives TOO_LARGE.
 * conn_decoder_new refuses limits below 1, max_depth above CONN_DEPTH_MAX (1024) and
 * max_message above 1 GiB. A simdjson decoder holds about 7 x the largest message seen.
 */
#ifndef DRIFTD_CONN_RECORD_H
#define DRIFTD_CONN_RECORD_H

#include <stddef.h>
#include <stdint.h>

enum conn_value_kind {
	CONN_VALUE_MISSING = 0, /* absent or null */
	CONN_VALUE_NUMBER = 1,	/* num */
	CONN_VALUE_STRING = 2,	/* str, len (categorical) */
	CONN_VALUE_BOOL = 3,	/* b (categorical: "true" / "false") */
};

struct conn_value {
	enum conn_value_kind kind;
	double num;	 /* CONN_VALUE_NUMBER */
	const char *str; /* CONN_VALUE_STRING: not NUL-terminated, no NUL inside */
	size_t len;	 /* its length in bytes */
	int b;		 /* CONN_VALUE_BOOL: 0 or 1 */
};

struct conn_feature {
	const char *name; /* not NUL-terminated */
	size_t name_len;
	struct conn_value value;
};

/* A decoded record. Every pointer points into memory owned by the decoder, valid until the next
 * conn_decode on the same decoder. */
struct conn_record {
	const char *model;
	size_t model_len;
	const char *version;
	size_t version_len;
	const char *request_id; /* NULL when absent */
	size_t request_id_len;
	int has_ts;    /* 0: absent (the caller uses the Kafka timestamp or receive time) */
	int64_t ts_ms; /* epoch milliseconds */
	int has_latency;
	double latency_ms;
	int has_error;
	int error;
	struct conn_value prediction;
	int prediction_nonfinite; /* the prediction was NaN or +-Infinity: prediction is missing */
	struct conn_value label;
	struct conn_feature *features; /* in document order; a NUMBER value may be non-finite:
					* the literals NaN, Infinity, -Infinity (doc/record.md) */
	size_t nfeatures;
};

enum conn_reject {
	CONN_REJECT_NONE = 0,
	CONN_REJECT_TOO_LARGE,
	CONN_REJECT_BAD_JSON,
	CONN_REJECT_TOO_DEEP,
	CONN_REJECT_NOT_OBJECT,
	CONN_REJECT_DUPLICATE_KEY,
	CONN_REJECT_MISSING_MODEL,
	CONN_REJECT_BAD_MODEL,
	CONN_REJECT_MISSING_VERSION,
	CONN_REJECT_BAD_VERSION,
	CONN_REJECT_BAD_REQUEST_ID,
	CONN_REJECT_BAD_TS,
	CONN_REJECT_BAD_LATENCY,
	CONN_REJECT_BAD_ERROR,
	CONN_REJECT_BAD_PREDICTION,
	CONN_REJECT_BAD_LABEL,
	CONN_REJECT_BAD_FEATURES,
	CONN_REJECT_TOO_MANY_FEATURES,
	CONN_REJECT_BAD_FEATURE_NAME,
	CONN_REJECT_BAD_FEATURE_VALUE,
	CONN_REJECT_COUNT /* number of reasons, NONE included */
};

/* Stable lower-case name of a reason ("too_large", "bad_json", ...): the `reason` label of
 * driftd_records_rejected_total and the driftd-reason dead-letter header. */
const char *conn_reject_name(enum conn_reject r);

struct conn_limits {
	size_t max_message;	 /* bytes (default 1 MiB) */
	size_t max_features;	 /* per record (default 1024) */
	size_t max_feature_name; /* bytes (default 128) */
	size_t max_name;	 /* model, version, request_id bytes (default 128) */
	size_t max_value;	 /* string value bytes (default 1024) */
	size_t max_depth;	 /* JSON nesting (default 32) */
};

/* The SPEC defaults. */
void conn_limits_default(struct conn_limits *l);

enum conn_decoder_kind {
	CONN_DECODER_AUTO = 0, /* simdjson when built, else jansson */
	CONN_DECODER_JANSSON = 1,
	CONN_DECODER_SIMDJSON = 2,
};

struct conn_decoder;

/* NULL with a message in errbuf when kind is not built in or memory is short. The limits are
 * copied. */
struct conn_decoder *conn_decoder_new(enum conn_decoder_kind kind, const struct conn_limits *l,
				      char *errbuf, size_t errlen);
void conn_decoder_free(struct conn_decoder *d);
enum conn_decoder_kind conn_decoder_kind(const struct conn_decoder *d);
int conn_decoder_available(enum conn_decoder_kind kind);

/* Decodes one message (buf need not be NUL-terminated; it is not modified). Returns
 * CONN_REJECT_NONE and fills *out, or the rejection reason (then *out is unspecified). Never
 * aborts; memory use is bounded by the limits. */
enum conn_reject conn_decode(struct conn_decoder *d, const char *buf, size_t len,
			     struct conn_record *out);

#endif
