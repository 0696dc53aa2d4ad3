/*
 * test_label_decoder.c -- unit tests of the label message decoder (connectors/label_decoder.h).
 *
 * A table of messages written from the contract, each with the exact reason expected (or the
 * exact label decoded), under the default limits or tight ones. Every message is decoded from an
 * exact-size heap copy compared with the original afterwards, so an over-read or a write to the
 * input shows under ASan or as a failure. Each case whose reason belongs to steps 1-5 (shared
 * with the record decoder) is also run through the record decoder, which must give the same
 * reason.
 */
#include "connectors/label_decoder.h"
#include "testutil.h"

#include <string.h>

#define OK CONN_REJECT_NONE

enum lims { DEF = 0, TIGHT = 1 }; /* default limits; max_message 64, names 4, values 3, depth 3 */

struct lcase {
	const char *name;
	const char *in; /* the message */
	size_t len;	/* 0: strlen(in) */
	enum lims lim;	/* which limits */
	enum conn_reject want;
	/* when accepted: */
	const char *model, *rid;
	enum conn_value_kind kind;
	double num;	 /* NUMBER */
	const char *str; /* STRING (NUL-terminated here) */
	int b;		 /* BOOL */
};

#define ACC_NUM(n, i, l, m, r, x)                                                                  \
	{                                                                                          \
		n, i, 0, l, OK, m, r, CONN_VALUE_NUMBER, x, NULL, 0                                \
	}
#define ACC_STR(n, i, l, m, r, s)                                                                  \
	{                                                                                          \
		n, i, 0, l, OK, m, r, CONN_VALUE_STRING, 0, s, 0                                   \
	}
#define ACC_BOOL(n, i, l, m, r, v)                                                                 \
	{                                                                                          \
		n, i, 0, l, OK, m, r, CONN_VALUE_BOOL, 0, NULL, v                                  \
	}
#define REJ(n, i, l, why)                                                                          \
	{                                                                                          \
		n, i, 0, l, CONN_REJECT_##why, NULL, NULL, 0, 0, NULL, 0                           \
	}
#define REJN(n, i, len, l, why)                                                                    \
	{                                                                                          \
		n, i, len, l, CONN_REJECT_##why, NULL, NULL, 0, 0, NULL, 0                         \
	}

/* 128 and 129 bytes, for the max_name edges under the default limits */
#define S128                                                                                       \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define S129 S128 "a"

static const struct lcase cases[] = {
	/* ---- accepted ---- */
	ACC_NUM("non-finite literals in other keys",
		"{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,\"x\":[NaN,-Infinity],"
		"\"y\":Infinity}",
		DEF, "m", "r", 1),
	ACC_STR("a literal in a string is text",
		"{\"model\":\"m\",\"request_id\":\"r\",\"label\":\"NaN\",\"z\":NaN}", DEF, "m", "r",
		"NaN"),
	ACC_NUM("spec example", "{\"model\":\"fraud\",\"request_id\":\"7f3a9c\",\"label\":1}", DEF,
		"fraud", "7f3a9c", 1),
	ACC_NUM("keys in any order, whitespace",
		" \t\r\n{ \"label\" : 0.25 , \"request_id\":\"r\",\"model\":\"m\" }\n", DEF, "m",
		"r", 0.25),
	ACC_NUM("negative zero kept", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":-0}", DEF,
		"m", "r", -0.0),
	ACC_NUM("big integer as double",
		"{\"model\":\"m\",\"request_id\":\"r\",\"label\":12345678901234567890}", DEF, "m",
		"r", 12345678901234567890.0),
	ACC_NUM("exponent", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1.5e3}", DEF, "m", "r",
		1500),
	ACC_STR("string label", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":\"fraud\"}", DEF,
		"m", "r", "fraud"),
	ACC_STR("empty string label", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":\"\"}", DEF,
		"m", "r", ""),
	ACC_BOOL("true label", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":true}", DEF, "m",
		 "r", 1),
	ACC_BOOL("false label", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":false}", DEF, "m",
		 "r", 0),
	ACC_NUM("unknown keys ignored, duplicates inside them allowed",
		"{\"model\":\"m\",\"version\":\"v2\",\"ts\":\"not checked\",\"request_id\":\"r\","
		"\"meta\":{\"a\":1,\"a\":[null,{\"b\":2,\"b\":3}]},\"label\":7,\"x\":null}",
		DEF, "m", "r", 7),
	ACC_NUM("escaped key names",
		"{\"mod\\u0065l\":\"m\",\"request\\u005fid\":\"r\",\"label\":2}", DEF, "m", "r", 2),
	ACC_STR("lengths after unescaping",
		"{\"model\":\"\\u00e9\",\"request_id\":\"\\ud83d\\ude00\",\"label\":\"\\n\"}", DEF,
		"\xc3\xa9", "\xf0\x9f\x98\x80", "\n"),
	ACC_NUM("names of exactly max_name bytes",
		"{\"model\":\"" S128 "\",\"request_id\":\"" S128 "\",\"label\":1}", DEF, S128, S128,
		1),
	ACC_STR("tight: names of 4 bytes, label of 3",
		"{\"model\":\"abcd\",\"request_id\":\"wxyz\",\"label\":\"abc\"}", TIGHT, "abcd",
		"wxyz", "abc"),
	ACC_NUM("tight: depth 3 exactly",
		"{\"model\":\"m\",\"request_id\":\"r\",\"x\":[[1]],"
		"\"label\":1}",
		TIGHT, "m", "r", 1),

	/* ---- 1. too_large ---- */
	REJ("tight: 65 bytes",
	    "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,\"pad\":\"xxxxxxxxxxxxxxxx\"}",
	    TIGHT, TOO_LARGE),
	REJ("tight: too large wins over bad json",
	    "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{", TIGHT,
	    TOO_LARGE),

	/* ---- 2. bad_json ---- */
	REJ("empty", "", DEF, BAD_JSON),
	REJ("whitespace only", "  \n", DEF, BAD_JSON),
	REJ("unterminated", "{\"model\":\"m\"", DEF, BAD_JSON),
	REJ("trailing comma", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,}", DEF, BAD_JSON),
	REJ("trailing garbage", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1} x", DEF,
	    BAD_JSON),
	REJ("two texts", "{} {}", DEF, BAD_JSON),
	REJ("invalid utf-8", "{\"model\":\"\xff\",\"request_id\":\"r\",\"label\":1}", DEF,
	    BAD_JSON),
	REJ("escaped nul", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":\"a\\u0000\"}", DEF,
	    BAD_JSON),
	REJ("lone surrogate", "{\"model\":\"m\",\"request_id\":\"\\ud800\",\"label\":1}", DEF,
	    BAD_JSON),
	REJ("overflowing number in an unknown key",
	    "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,\"x\":1e400}", DEF, BAD_JSON),
	REJ("single quotes", "{'model':'m'}", DEF, BAD_JSON),
	/* the non-finite literals read as the record decoder reads them: a NaN label is no label,
	 * a number where a name is required */
	REJ("nan literal", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":NaN}", DEF, BAD_LABEL),
	REJ("infinity model", "{\"model\":Infinity,\"request_id\":\"r\",\"label\":1}", DEF,
	    BAD_MODEL),
	REJ("nan request_id", "{\"model\":\"m\",\"request_id\":-Infinity,\"label\":1}", DEF,
	    BAD_REQUEST_ID),
	REJ("nan glued", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":NaNx}", DEF, BAD_JSON),
	REJN("raw nul after a number", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":0\0}", 42,
	     DEF, BAD_JSON),
	REJN("raw nul after the text", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1}\0", 42,
	     DEF, BAD_JSON),
	REJ("bad json wins over a duplicate key", "{\"model\":\"m\",\"model\":\"m\",", DEF,
	    BAD_JSON),
	REJ("bad json wins over depth", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]", DEF,
	    BAD_JSON),

	/* ---- 3. too_deep ---- */
	REJ("tight: depth 4", "{\"model\":\"m\",\"request_id\":\"r\",\"x\":[[[1]]],\"label\":1}",
	    TIGHT, TOO_DEEP),
	REJ("tight: deep scalar array", "[[[[1]]]]", TIGHT, TOO_DEEP),
	ACC_NUM("tight: brackets inside strings do not count",
		"{\"model\":\"[[[[\",\"request_id\":\"{{{\",\"label\":1}", TIGHT, "[[[[", "{{{", 1),
	ACC_NUM("tight: nor after escaped quotes and backslashes",
		"{\"model\":\"\\\"[[[\",\"request_id\":\"\\\\[[\",\"label\":1}", TIGHT, "\"[[[",
		"\\[[", 1),

	/* ---- 4. not_object ---- */
	REJ("array", "[{\"model\":\"m\",\"request_id\":\"r\",\"label\":1}]", DEF, NOT_OBJECT),
	REJ("number", "1", DEF, NOT_OBJECT),
	REJ("string", "\"model\"", DEF, NOT_OBJECT),
	REJ("null", "null", DEF, NOT_OBJECT),
	REJ("true", " true ", DEF, NOT_OBJECT),

	/* ---- 5. duplicate_key ---- */
	REJ("model twice", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,\"model\":\"m\"}",
	    DEF, DUPLICATE_KEY),
	REJ("label twice", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,\"label\":0}", DEF,
	    DUPLICATE_KEY),
	REJ("unknown key twice",
	    "{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,\"x\":1,"
	    "\"x\":1}",
	    DEF, DUPLICATE_KEY),
	REJ("twice after unescaping",
	    "{\"model\":\"m\",\"mod\\u0065l\":\"m\",\"request_id\":\"r\","
	    "\"label\":1}",
	    DEF, DUPLICATE_KEY),
	REJ("duplicate wins over a missing model", "{\"a\":1,\"a\":2}", DEF, DUPLICATE_KEY),

	/* ---- 6. fields ---- */
	REJ("empty object", "{}", DEF, MISSING_MODEL),
	REJ("no model", "{\"request_id\":\"r\",\"label\":1}", DEF, MISSING_MODEL),
	REJ("model case matters", "{\"Model\":\"m\",\"request_id\":\"r\",\"label\":1}", DEF,
	    MISSING_MODEL),
	REJ("null model", "{\"model\":null,\"request_id\":\"r\",\"label\":1}", DEF, BAD_MODEL),
	REJ("numeric model", "{\"model\":1,\"request_id\":\"r\",\"label\":1}", DEF, BAD_MODEL),
	REJ("empty model", "{\"model\":\"\",\"request_id\":\"r\",\"label\":1}", DEF, BAD_MODEL),
	REJ("array model", "{\"model\":[\"m\"],\"request_id\":\"r\",\"label\":1}", DEF, BAD_MODEL),
	REJ("model of max_name + 1", "{\"model\":\"" S129 "\",\"request_id\":\"r\",\"label\":1}",
	    DEF, BAD_MODEL),
	REJ("tight: model of 5 bytes", "{\"model\":\"abcde\",\"request_id\":\"r\",\"label\":1}",
	    TIGHT, BAD_MODEL),
	REJ("model checked before request_id", "{\"model\":\"\"}", DEF, BAD_MODEL),
	REJ("no request_id", "{\"model\":\"m\",\"label\":1}", DEF, BAD_REQUEST_ID),
	REJ("null request_id", "{\"model\":\"m\",\"request_id\":null,\"label\":1}", DEF,
	    BAD_REQUEST_ID),
	REJ("empty request_id", "{\"model\":\"m\",\"request_id\":\"\",\"label\":1}", DEF,
	    BAD_REQUEST_ID),
	REJ("numeric request_id", "{\"model\":\"m\",\"request_id\":7,\"label\":1}", DEF,
	    BAD_REQUEST_ID),
	REJ("object request_id", "{\"model\":\"m\",\"request_id\":{},\"label\":1}", DEF,
	    BAD_REQUEST_ID),
	REJ("request_id of max_name + 1",
	    "{\"model\":\"m\",\"request_id\":\"" S129 "\",\"label\":1}", DEF, BAD_REQUEST_ID),
	REJ("request_id checked before label", "{\"model\":\"m\"}", DEF, BAD_REQUEST_ID),
	REJ("no label", "{\"model\":\"m\",\"request_id\":\"r\"}", DEF, BAD_LABEL),
	REJ("null label", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":null}", DEF, BAD_LABEL),
	REJ("array label", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":[1]}", DEF, BAD_LABEL),
	REJ("object label", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":{}}", DEF, BAD_LABEL),
	REJ("tight: label of 4 bytes", "{\"model\":\"m\",\"request_id\":\"r\",\"label\":\"abcd\"}",
	    TIGHT, BAD_LABEL),
};

static struct conn_limits limits[2];

static int setup(void **state)
{
	(void)state;
	conn_limits_default(&limits[DEF]);
	limits[TIGHT] = limits[DEF];
	limits[TIGHT].max_message = 64;
	limits[TIGHT].max_name = 4;
	limits[TIGHT].max_value = 3;
	limits[TIGHT].max_depth = 3;
	return 0;
}

static size_t case_len(const struct lcase *c)
{
	return c->len ? c->len : strlen(c->in);
}

/* Decodes buf from an exact-size heap copy, checks the copy was not written, frees it. */
static enum conn_reject decode_copy(struct conn_label_decoder *d, const char *buf, size_t len,
				    struct conn_label *out)
{
	char *copy = malloc(len ? len : 1);
	enum conn_reject r;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	r = conn_label_decode(d, len ? copy : NULL, len, out);
	if (len)
		assert_memory_equal(copy, buf, len);
	free(copy);
	return r;
}

static void check_bytes(const char *got, size_t len, const char *want, const char *what,
			const char *cname)
{
	if (len != strlen(want) || memcmp(got, want, len) != 0)
		fail_msg("%s: %s: got \"%.*s\", want \"%s\"", cname, what, (int)len, got, want);
}

static void test_cases(void **state)
{
	struct conn_label_decoder *d[2];
	char err[256];

	(void)state;
	for (int k = 0; k < 2; k++)
		assert_non_null(d[k] = conn_label_decoder_new(&limits[k], err, sizeof err));
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const struct lcase *c = &cases[i];
		struct conn_label l;
		enum conn_reject r = decode_copy(d[c->lim], c->in, case_len(c), &l);

		if (r != c->want)
			fail_msg("%s: got %s, want %s", c->name, conn_reject_name(r),
				 conn_reject_name(c->want));
		if (r != OK) {
			assert_null(l.model); /* zeroed */
			continue;
		}
		check_bytes(l.model, l.model_len, c->model, "model", c->name);
		check_bytes(l.request_id, l.request_id_len, c->rid, "request_id", c->name);
		if (l.label.kind != c->kind)
			fail_msg("%s: label kind %d, want %d", c->name, l.label.kind, c->kind);
		switch (c->kind) {
		case CONN_VALUE_NUMBER:
			if (memcmp(&l.label.num, &c->num, sizeof c->num) != 0)
				fail_msg("%s: label %.17g, want %.17g", c->name, l.label.num,
					 c->num);
			break;
		case CONN_VALUE_STRING:
			check_bytes(l.label.str, l.label.len, c->str, "label", c->name);
			break;
		default:
			assert_int_equal(l.label.b, c->b);
			break;
		}
	}
	for (int k = 0; k < 2; k++)
		conn_label_decoder_free(d[k]);
}

/* Steps 1-5 are the record decoder's: the same text, the same reason. */
static void test_same_as_record(void **state)
{
	struct conn_decoder *rd[2];
	char err[256];
	size_t n = 0;

	(void)state;
	for (int k = 0; k < 2; k++)
		assert_non_null(
		    rd[k] = conn_decoder_new(CONN_DECODER_JANSSON, &limits[k], err, sizeof err));
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const struct lcase *c = &cases[i];
		struct conn_record rec;
		enum conn_reject r;

		if (c->want == OK || c->want > CONN_REJECT_DUPLICATE_KEY)
			continue;
		r = conn_decode(rd[c->lim], c->in, case_len(c), &rec);
		if (r != c->want)
			fail_msg("%s: record decoder %s, label decoder %s", c->name,
				 conn_reject_name(r), conn_reject_name(c->want));
		n++;
	}
	assert_true(n > 20);
	for (int k = 0; k < 2; k++)
		conn_decoder_free(rd[k]);
}

/* Deeper than jansson's own parser goes (2048): the exact validator decides. */
static void test_very_deep(void **state)
{
	enum { DEPTH = 3000 };
	struct conn_label_decoder *d = conn_label_decoder_new(&limits[DEF], NULL, 0);
	char *buf = malloc(2 * DEPTH + 64);
	struct conn_label l;
	size_t n = 0;

	(void)state;
	assert_non_null(d);
	assert_non_null(buf);
	n += (size_t)sprintf(buf, "{\"x\":");
	memset(buf + n, '[', DEPTH);
	n += DEPTH;
	memset(buf + n, ']', DEPTH);
	n += DEPTH;
	buf[n++] = '}';
	assert_int_equal(conn_label_decode(d, buf, n, &l), CONN_REJECT_TOO_DEEP);
	buf[n - 2] = ','; /* invalid after the depth: bad json wins */
	assert_int_equal(conn_label_decode(d, buf, n, &l), CONN_REJECT_BAD_JSON);
	assert_int_equal(conn_label_decode(d, buf, 5 + DEPTH, &l), CONN_REJECT_BAD_JSON);
	free(buf);
	conn_label_decoder_free(d);
}

static void test_lifetime(void **state)
{
	struct conn_label_decoder *d = conn_label_decoder_new(&limits[DEF], NULL, 0);
	const char *a = "{\"model\":\"first\",\"request_id\":\"1\",\"label\":\"yes\"}";
	const char *b = "{\"model\":\"second\",\"request_id\":\"2\",\"label\":false}";
	struct conn_label l1, l2;
	char *copy = strdup(a);

	(void)state;
	assert_non_null(d);
	assert_int_equal(conn_label_decode(d, copy, strlen(copy), &l1), OK);
	memset(copy, 'x', strlen(copy)); /* the label does not point into the input */
	free(copy);
	check_bytes(l1.model, l1.model_len, "first", "model", "lifetime");
	check_bytes(l1.label.str, l1.label.len, "yes", "label", "lifetime");
	assert_int_equal(conn_label_decode(d, b, strlen(b), &l2), OK);
	check_bytes(l2.model, l2.model_len, "second", "model", "lifetime");
	assert_int_equal(l2.label.kind, CONN_VALUE_BOOL);
	assert_int_equal(l2.label.b, 0);
	/* a rejection after an accepted message: nothing stale */
	assert_int_equal(conn_label_decode(d, NULL, 0, &l2), CONN_REJECT_BAD_JSON);
	assert_null(l2.model);
	conn_label_decoder_free(d);
	conn_label_decoder_free(NULL);
}

static void test_new_limits(void **state)
{
	struct conn_limits l;
	char err[256];

	(void)state;
	err[0] = '\0';
	assert_null(conn_label_decoder_new(NULL, err, sizeof err));
	assert_string_equal(err, "label decoder: no limits");
	conn_limits_default(&l);
	l.max_depth = 1025;
	assert_null(conn_label_decoder_new(&l, err, sizeof err));
	assert_string_equal(err, "label decoder: max_depth must be in [1, 1024]");
	conn_limits_default(&l);
	l.max_message = 0;
	assert_null(conn_label_decoder_new(&l, err, sizeof err));
	conn_limits_default(&l);
	l.max_name = 0;
	assert_null(conn_label_decoder_new(&l, err, sizeof err));
	conn_limits_default(&l);
	l.max_value = 0;
	assert_null(conn_label_decoder_new(&l, NULL, 0));
	/* limits the label decoder does not use are not checked */
	conn_limits_default(&l);
	l.max_features = 0;
	conn_label_decoder_free(conn_label_decoder_new(&l, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cases, setup),
		cmocka_unit_test_setup(test_same_as_record, setup),
		cmocka_unit_test_setup(test_very_deep, setup),
		cmocka_unit_test_setup(test_lifetime, setup),
		cmocka_unit_test_setup(test_new_limits, setup),
	};

	return TU_RUN(tests);
}
