/*
 * record_impl.h -- the internal interface between connectors/record.c (the shared checks) and
 * the two JSON walkers, connectors/record_jansson.c and connectors/record_simdjson.cc; also
 * connectors/label_decoder.c, which checks label messages with the same validator and limits so
 * that the same bytes are rejected for the same reason on both topics. Nothing else includes this
 * file (the unit tests and the fuzz targets use only record.h and label_decoder.h).
 *
 * Division of labour. A walker owns everything that depends on how the JSON is read: it decides
 * steps 2-5 of the contract in record.h (BAD_JSON, TOO_DEEP, NOT_OBJECT, DUPLICATE_KEY) and
 * hands every known top-level member to record.c as a struct conn_raw (a JSON value with its
 * type, before any contract check) through a struct conn_walk, and every member of "features"
 * through conn_walk_feature(). record.c then applies step 6 (field by field) once for both
 * walkers, so the two decoders can differ only in how they walk the text.
 *
 * record.c also provides the two exact, slow reference routines both walkers fall back on, so
 * that a case one library cannot decide is decided by the same code for both:
 *   - conn_json_check(): a complete RFC 8259 validator (iterative, any depth) that also measures
 *     nesting and the type of the top-level value. The simdjson walker calls it when the top
 *     value is not an object or when it meets a container deeper than max_depth; the jansson
 *     walker when jansson's own parser gives up at its fixed depth (JSON_PARSER_MAX_DEPTH).
 *   - conn_json_number(): the exact number grammar and a correctly rounded conversion, for the
 *     numbers simdjson refuses but JSON allows (exponents of 19+ digits such as
 * 0e99999999999999999999).
 */
#ifndef DRIFTD_CONN_RECORD_IMPL_H
#define DRIFTD_CONN_RECORD_IMPL_H

#include "connectors/record.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest accepted limits.max_depth: both walkers recurse once per nesting level up to
 * max_depth + 1, and jansson's parser stops at JSON_PARSER_MAX_DEPTH (2048), which must stay
 * above it (see conn_jansson_walk). */
#define CONN_DEPTH_MAX 1024
/* Largest accepted limits.max_message (1 GiB): simdjson indexes 32-bit offsets. */
#define CONN_MESSAGE_MAX ((size_t)1 << 30)

/* ---- raw values: what a walker saw, before any contract check ---- */

enum conn_raw_type {
	CONN_RAW_ABSENT = 0, /* the key is not in the object */
	CONN_RAW_NULL,
	CONN_RAW_BOOL,	 /* b */
	CONN_RAW_NUMBER, /* num: always finite (both walkers reject overflowing numbers) */
	CONN_RAW_STRING, /* str, len: unescaped, valid UTF-8, no NUL byte, walker-owned */
	CONN_RAW_ARRAY,	 /* contents already validated, not kept */
	CONN_RAW_OBJECT, /* idem (the features object is delivered by conn_walk_feature) */
};

struct conn_raw {
	enum conn_raw_type type; /* what the JSON value is */
	int b;			 /* CONN_RAW_BOOL: 0 or 1 */
	double num;		 /* CONN_RAW_NUMBER */
	const char *str; /* CONN_RAW_STRING: not NUL-terminated; valid until the next walk */
	size_t len;	 /* CONN_RAW_STRING: bytes */
};

/* The top-level members record.h knows, in the order step 6 checks them. */
enum conn_field {
	CONN_FIELD_MODEL = 0,
	CONN_FIELD_VERSION,
	CONN_FIELD_REQUEST_ID,
	CONN_FIELD_TS,
	CONN_FIELD_LATENCY,
	CONN_FIELD_ERROR,
	CONN_FIELD_PREDICTION,
	CONN_FIELD_LABEL,
	CONN_FIELD_FEATURES,
	CONN_FIELD_COUNT
};

/* What a walk found. record.c resets it before each walk; a walker only fills it. */
struct conn_walk {
	struct conn_limits lim;			 /* the decoder's limits (read-only for walkers) */
	struct conn_raw field[CONN_FIELD_COUNT]; /* known top-level members (last one wins) */
	struct conn_feature *features;		 /* converted features, document order */
	size_t features_cap;			 /* allocated entries (grows to max_features) */
	size_t nfeatures;			 /* members of "features" seen, kept or not */
	enum conn_reject feature_problem;	 /* first bad name or value, document order */
	int oom;				 /* memory ran out while storing features */
	int marks; /* the text was rewritten (conn_nonfinite_rewrite): marked strings are
		    * non-finite numbers */
};

/* The conn_field of an unescaped top-level key, or -1 for an unknown key. O(len). */
int conn_walk_field(const char *key, size_t len);

/* Records one member of the "features" object, in document order: checks its name and value
 * against the limits (the first problem is kept in w->feature_problem) and stores it converted
 * while fewer than max_features are stored; beyond that it only counts. name and v->str must
 * stay valid until the next walk. Sets w->oom when the array cannot grow. */
void conn_walk_feature(struct conn_walk *w, const char *name, size_t name_len,
		       const struct conn_raw *v);

/* The exact reference validator. Returns CONN_REJECT_BAD_JSON when buf is not one valid JSON
 * text (RFC 8259; UTF-8 checked; \u0000 and numbers overflowing a double are refused, as by
 * both walkers), else CONN_REJECT_TOO_DEEP when it nests deeper than max_depth, else
 * CONN_REJECT_NOT_OBJECT when the top value is not an object, else CONN_REJECT_NONE.
 * CONN_REJECT_TOO_LARGE when memory runs out. Iterative: O(len) time, len / 8 bytes of heap
 * for the container stack beyond the first 4096 levels. */
enum conn_reject conn_json_check(const char *buf, size_t len, size_t max_depth);

/* Parses exactly one JSON number token s[0..len) into *out (correctly rounded, independent of
 * the C locale). Returns 0, or -1 when s is not exactly a JSON number or overflows a double. */
int conn_json_number(const char *s, size_t len, double *out);

/* ---- non-finite literals (record_nonfinite.c) ---- */

/* When buf[0..len) holds NaN, Infinity or -Infinity outside its strings (and no U+FDD0 of its
 * own), writes into *out (grown to *cap, at most 4 * len + 16 bytes) the text with each literal
 * replaced by a marked string, its length in *outlen, and returns 0; 1 when there is nothing to
 * rewrite (the text is used as it is); -2 when memory is short. */
int conn_nonfinite_rewrite(const char *buf, size_t len, char **out, size_t *cap, size_t *outlen);
/* The longest text a walker is handed for a message of at most max_message bytes: the rewrite
 * makes a message of len bytes up to len * 4 + 16 long, when that is at most CONN_MESSAGE_MAX. */
static inline size_t conn_nonfinite_max_text(size_t max_message)
{
	size_t grown = max_message * 4 + 16;

	if (grown > CONN_MESSAGE_MAX)
		grown = CONN_MESSAGE_MAX;
	return grown > max_message ? grown : max_message;
}
/* 1 with *num (NaN, +inf, -inf) when the unescaped string s[0..len) is a mark, else 0. */
int conn_nonfinite_mark(const char *s, size_t len, double *num);

/* ---- the walkers ---- */

/* Each walk*() decodes buf[0..len) (len >= 1, len <= lim.max_message, or <= 4 * max_message +
 * 16 for a text conn_nonfinite_rewrite wrote) and returns
 * CONN_REJECT_NONE with w filled, or one of BAD_JSON, TOO_DEEP, NOT_OBJECT, DUPLICATE_KEY (the
 * first of steps 2-5 that fails), or TOO_LARGE when memory runs out. Strings it hands out stay
 * valid until its next walk or its free. */

struct conn_jansson; /* jansson walker state: the tree of the last message */
/* NULL when memory is short. */
struct conn_jansson *conn_jansson_new(void);
/* Frees j and the tree of its last message. NULL is a no-op. */
void conn_jansson_free(struct conn_jansson *j);
enum conn_reject conn_jansson_walk(struct conn_jansson *j, const char *buf, size_t len,
				   struct conn_walk *w);

/* The jansson parse both jansson decoders share (records here, label messages in label_decoder.c):
 * steps 2 and 3 -- any NUL byte is BAD_JSON, then json_loadb with JSON_DECODE_ANY and
 * JSON_DECODE_INT_AS_REAL; a syntax error is BAD_JSON, running out of memory TOO_LARGE, and
 * jansson's own depth limit is decided by conn_json_check. NONE with *root set (the caller
 * frees it); otherwise *root is NULL. */
struct json_t;
enum conn_reject conn_jansson_parse(const char *buf, size_t len, size_t max_depth,
				    struct json_t **root);
/* What one scan of a text jansson accepted finds: the nesting and the members as written (a
 * ':' outside strings) of the top object and of the object value of its member number fidx
 * (0-based; SIZE_MAX for none). Fewer members in jansson's tree than here means a repeated key
 * (jansson keeps one member per key). O(len). */
struct conn_text_scan {
	size_t max_depth; /* deepest nesting (the top container is 1) */
	size_t ntop;	  /* members of the top object */
	size_t nfeat;	  /* members of the object value of top member number fidx */
};
void conn_text_scan(const char *buf, size_t len, size_t fidx, struct conn_text_scan *t);

#ifdef HAVE_SIMDJSON
struct conn_simdjson; /* simdjson walker state: parser, padded copy, key sets */
/* NULL when memory is short. Copies max_message and max_depth from l. */
struct conn_simdjson *conn_simdjson_new(const struct conn_limits *l);
/* Frees s and every buffer of its last message. NULL is a no-op. */
void conn_simdjson_free(struct conn_simdjson *s);
enum conn_reject conn_simdjson_walk(struct conn_simdjson *s, const char *buf, size_t len,
				    struct conn_walk *w);
#endif

#ifdef __cplusplus
}
#endif

#endif
