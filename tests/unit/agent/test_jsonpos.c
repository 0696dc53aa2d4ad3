/*
 * test_jsonpos.c -- unit tests of agent/jsonpos.c, the positional JSON reader: the values it
 * builds (objects in document order, arrays checked but not kept, strings decoded with every
 * escape, numbers kept as written, literals), the line:col of every value and key, every error
 * with its exact "NAME:LINE:COL: message" (strings, numbers, literals, structure, nesting,
 * duplicate keys, key count, size, trailing data, NUL bytes, invalid UTF-8), and the lexical
 * helpers it exports (number lexeme length, quoted excerpts) and the UTF-8 rule it takes from
 * connectors/text.h (conn_text_utf8_len).
 *
 * Expected values are written out by hand from RFC 8259, the Unicode UTF-8 table (Table 3-7)
 * and jsonpos.h; positions are counted by hand (columns count characters from 1).
 */
#include "agent/jsonpos.h"
#include "connectors/text.h"
#include "testutil.h"

static char err[512];

/* ---- helpers ---- */

/* Parses json[0..len) into *root; fails the test on an error. */
static void parse_ok_n(struct agent_jsonpos *root, const char *json, size_t len)
{
	memset(root, 0, sizeof *root);
	err[0] = '\0';
	if (agent_jsonpos_parse(root, "t.json", NULL, json, len, err, sizeof err))
		fail_msg("unexpected error: %s", err);
	assert_int_equal(root->kind, AGENT_JSONPOS_OBJECT);
}

static void parse_ok(struct agent_jsonpos *root, const char *json)
{
	parse_ok_n(root, json, strlen(json));
}

/* Parsing json[0..len) must fail with exactly want, and leave the root empty. */
static void expect_error_n(const char *json, size_t len, const char *want)
{
	struct agent_jsonpos root = { 0 };

	err[0] = '\0';
	assert_int_equal(agent_jsonpos_parse(&root, "t.json", NULL, json, len, err, sizeof err),
			 -1);
	assert_string_equal(err, want);
	assert_null(root.m);
	assert_null(root.s);
	assert_int_equal(root.n, 0);
}

static void expect_error(const char *json, const char *want)
{
	expect_error_n(json, strlen(json), want);
}

/* The member of obj named key (must exist). */
static const struct agent_jsonpos_member *member(const struct agent_jsonpos *obj, const char *key)
{
	assert_int_equal(obj->kind, AGENT_JSONPOS_OBJECT);
	for (size_t i = 0; i < obj->n; i++)
		if (obj->m[i].klen == strlen(key) && !memcmp(obj->m[i].key, key, obj->m[i].klen))
			return &obj->m[i];
	fail_msg("no key \"%s\"", key);
	return NULL;
}

/* The string value of the only member of the document {"s": ...}. */
static void decodes_to_n(const char *json, const char *want, size_t wlen)
{
	struct agent_jsonpos root;
	const struct agent_jsonpos *v;

	parse_ok(&root, json);
	assert_int_equal(root.n, 1);
	v = &root.m[0].v;
	assert_int_equal(v->kind, AGENT_JSONPOS_STRING);
	assert_int_equal(v->len, wlen);
	assert_memory_equal(v->s, want, wlen);
	assert_int_equal(v->s[wlen], '\0');
	agent_jsonpos_free(&root);
}

static void decodes_to(const char *json, const char *want)
{
	decodes_to_n(json, want, strlen(want));
}

/* The number lexeme of the member key of root. */
static void expect_number(const struct agent_jsonpos *root, const char *key, const char *lexeme)
{
	const struct agent_jsonpos *v = &member(root, key)->v;

	assert_int_equal(v->kind, AGENT_JSONPOS_NUMBER);
	assert_string_equal(v->s, lexeme);
	assert_int_equal(v->len, strlen(lexeme));
}

/* ---- values ---- */

static void test_objects(void **state)
{
	struct agent_jsonpos root;
	const struct agent_jsonpos_member *m;

	(void)state;
	parse_ok(&root, "{}");
	assert_int_equal(root.n, 0);
	assert_null(root.m);
	assert_int_equal(root.line, 1);
	assert_int_equal(root.col, 1);
	agent_jsonpos_free(&root);

	/* members in document order, with the position of every key and value */
	parse_ok(&root, "{\"a\": 1, \"b\": {\"c\": true}, \"d\": {}}");
	assert_int_equal(root.n, 3);
	assert_string_equal(root.m[0].key, "a");
	assert_string_equal(root.m[1].key, "b");
	assert_string_equal(root.m[2].key, "d");
	m = &root.m[0];
	assert_int_equal(m->klen, 1);
	assert_int_equal(m->line, 1);
	assert_int_equal(m->col, 2);
	assert_int_equal(m->v.line, 1);
	assert_int_equal(m->v.col, 7);
	m = &root.m[1];
	assert_int_equal(m->col, 10);
	assert_int_equal(m->v.kind, AGENT_JSONPOS_OBJECT);
	assert_int_equal(m->v.col, 15);
	assert_int_equal(m->v.n, 1);
	assert_string_equal(m->v.m[0].key, "c");
	assert_int_equal(m->v.m[0].col, 16);
	assert_int_equal(m->v.m[0].v.kind, AGENT_JSONPOS_BOOL);
	assert_int_equal(m->v.m[0].v.col, 21);
	m = &root.m[2];
	assert_int_equal(m->col, 28);
	assert_int_equal(m->v.kind, AGENT_JSONPOS_OBJECT);
	assert_int_equal(m->v.col, 33);
	assert_int_equal(m->v.n, 0);
	agent_jsonpos_free(&root);

	/* positions across lines: '\n' ends a line, '\r' and '\t' are one column each */
	parse_ok(&root, "{\n  \"x\":\n\t[1, 2],\r\n  \"y\" : null\n}");
	m = member(&root, "x");
	assert_int_equal(m->line, 2);
	assert_int_equal(m->col, 3);
	assert_int_equal(m->v.kind, AGENT_JSONPOS_ARRAY);
	assert_int_equal(m->v.line, 3);
	assert_int_equal(m->v.col, 2);
	m = member(&root, "y");
	assert_int_equal(m->line, 4);
	assert_int_equal(m->col, 3);
	assert_int_equal(m->v.kind, AGENT_JSONPOS_NULL);
	assert_int_equal(m->v.line, 4);
	assert_int_equal(m->v.col, 9);
	agent_jsonpos_free(&root);

	/* the order is the document's, not sorted; keys are decoded; "" is a key */
	parse_ok(&root, "{\"z\": 1, \"a\": 2, \"m\": 3, \"\\u00e9t\\u00e9\": 4, \"\": 5}");
	assert_int_equal(root.n, 5);
	assert_string_equal(root.m[0].key, "z");
	assert_string_equal(root.m[1].key, "a");
	assert_string_equal(root.m[2].key, "m");
	assert_string_equal(root.m[3].key, "\xc3\xa9t\xc3\xa9");
	assert_int_equal(root.m[3].klen, 5);
	assert_string_equal(root.m[4].key, "");
	assert_int_equal(root.m[4].klen, 0);
	agent_jsonpos_free(&root);

	/* no white space at all, and white space everywhere */
	parse_ok(&root, "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":false}");
	assert_int_equal(root.n, 2);
	agent_jsonpos_free(&root);
	parse_ok(&root, " \t\r\n{ \"a\" \t: \n 1 \r\n , \"b\" : [ ] } \n\t");
	assert_int_equal(root.n, 2);
	assert_int_equal(root.line, 2);
	assert_int_equal(root.col, 1);
	agent_jsonpos_free(&root);
	/* freeing twice is safe */
	agent_jsonpos_free(&root);
}

static void test_arrays(void **state)
{
	struct agent_jsonpos root;
	const struct agent_jsonpos_member *m;

	(void)state;
	/* arrays are checked, their items are not kept */
	parse_ok(&root, "{\"a\": [], \"b\": [1, \"x\", [true, null], {\"k\": [2]}], \"c\": [ ]}");
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(root.m[i].v.kind, AGENT_JSONPOS_ARRAY);
		assert_int_equal(root.m[i].v.n, 0);
		assert_null(root.m[i].v.m);
		assert_null(root.m[i].v.s);
	}
	m = member(&root, "b");
	assert_int_equal(m->v.col, 16);
	agent_jsonpos_free(&root);

	expect_error("{\"a\": [1,]}", "t.json:1:10: expected a value, got ']'");
	expect_error("{\"a\": [1 2]}", "t.json:1:10: expected ',' or ']'");
	expect_error("{\"a\": [1", "t.json:1:9: unexpected end of input: expected ',' or ']'");
	expect_error("{\"a\": [", "t.json:1:8: unexpected end of input: expected a value");
	expect_error("{\"a\": [}", "t.json:1:8: expected a value, got '}'");
	expect_error("{\"a\": ]}", "t.json:1:7: expected a value, got ']'");
	expect_error("{\"a\": [,1]}", "t.json:1:8: expected a value, got ','");
	/* items are parsed although not kept: their errors are found */
	expect_error("{\"a\": [1, \"\\q\"]}", "t.json:1:12: invalid escape sequence in a string");
	expect_error("{\"a\": [{\"k\": 1, \"k\": 2}]}",
		     "t.json:1:17: duplicate key \"k\" (first at 1:9)");
}

/* ---- strings ---- */

static void test_string_escapes(void **state)
{
	(void)state;
	/* the two-character escapes */
	decodes_to("{\"s\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", "\"\\/\b\f\n\r\t");
	decodes_to("{\"s\": \"a\\nb\"}", "a\nb");
	decodes_to("{\"s\": \"\"}", "");
	/* \u: 1, 2, 3 bytes of UTF-8, either case of hex digits */
	decodes_to("{\"s\": \"\\u0041\"}", "A");
	decodes_to("{\"s\": \"\\u0001\\u001f\\u007f\"}", "\x01\x1f\x7f");
	decodes_to("{\"s\": \"\\u0080\"}", "\xc2\x80");
	decodes_to("{\"s\": \"\\u00e9\\u00E9\"}", "\xc3\xa9\xc3\xa9");
	decodes_to("{\"s\": \"\\u07ff\"}", "\xdf\xbf");
	decodes_to("{\"s\": \"\\u0800\"}", "\xe0\xa0\x80");
	decodes_to("{\"s\": \"\\u20AC\\u20ac\"}", "\xe2\x82\xac\xe2\x82\xac");
	decodes_to("{\"s\": \"\\uffff\"}", "\xef\xbf\xbf");
	/* surrogate pairs: 4 bytes */
	decodes_to("{\"s\": \"\\ud800\\udc00\"}", "\xf0\x90\x80\x80");
	decodes_to("{\"s\": \"\\uD83D\\uDE00\"}", "\xf0\x9f\x98\x80");
	decodes_to("{\"s\": \"\\udbff\\udfff\"}", "\xf4\x8f\xbf\xbf");
	/* escapes between plain text */
	decodes_to("{\"s\": \"x\\u0041y\\tz\\ud83d\\ude00!\"}", "xAy\tz\xf0\x9f\x98\x80!");
	/* raw UTF-8 and DEL are kept as they are */
	decodes_to("{\"s\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		   "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	decodes_to("{\"s\": \"a\x7f"
		   "b\"}",
		   "a\x7f"
		   "b");
}

static void test_string_errors(void **state)
{
	(void)state;
	/* a bad escape is reported at its backslash; the string starts at column 7 */
	expect_error("{\"s\": \"\\q\"}", "t.json:1:8: invalid escape sequence in a string");
	expect_error("{\"s\": \"ab\\x\"}", "t.json:1:10: invalid escape sequence in a string");
	expect_error("{\"s\": \"\\U0041\"}", "t.json:1:8: invalid escape sequence in a string");
	expect_error("{\"s\": \"\\'\"}", "t.json:1:8: invalid escape sequence in a string");
	expect_error_n("{\"s\": \"\\\0\"}", 11, "t.json:1:8: invalid escape sequence in a string");
	expect_error("{\"s\": \"\\u12g4\"}", "t.json:1:8: invalid \\u escape in a string");
	expect_error("{\"s\": \"\\u12\"}", "t.json:1:8: invalid \\u escape in a string");
	expect_error("{\"s\": \"\\u12", "t.json:1:8: invalid \\u escape in a string");
	expect_error("{\"s\": \"\\u\"}", "t.json:1:8: invalid \\u escape in a string");
	/* surrogates must come in (high, low) pairs */
	expect_error("{\"s\": \"\\ud800\"}",
		     "t.json:1:8: invalid \\u escape in a string: unpaired surrogate");
	expect_error("{\"s\": \"\\udc00\"}",
		     "t.json:1:8: invalid \\u escape in a string: unpaired surrogate");
	expect_error("{\"s\": \"\\udfff\\ud800\"}",
		     "t.json:1:8: invalid \\u escape in a string: unpaired surrogate");
	expect_error("{\"s\": \"\\ud800\\u0041\"}",
		     "t.json:1:8: invalid \\u escape in a string: unpaired surrogate");
	expect_error("{\"s\": \"\\ud800\\ud800\"}",
		     "t.json:1:8: invalid \\u escape in a string: unpaired surrogate");
	expect_error("{\"s\": \"\\ud800x\\udc00\"}",
		     "t.json:1:8: invalid \\u escape in a string: unpaired surrogate");
	expect_error("{\"s\": \"ab\\udbff\\ue000\"}",
		     "t.json:1:10: invalid \\u escape in a string: unpaired surrogate");
	/* a NUL cannot be represented */
	expect_error("{\"s\": \"\\u0000\"}", "t.json:1:8: \\u0000 is not allowed in a string");
	/* unterminated: at the opening quote */
	expect_error("{\"s\": \"abc", "t.json:1:7: unterminated string");
	expect_error("{\"s\": \"ab\\", "t.json:1:7: unterminated string");
	expect_error("{\"s\": \"", "t.json:1:7: unterminated string");
	expect_error("{\"abc", "t.json:1:2: unterminated string");
	/* raw control characters and NUL: at the byte */
	expect_error("{\"s\": \"a\tb\"}",
		     "t.json:1:9: control character in a string (write it as an escape)");
	expect_error("{\"s\": \"a\nb\"}",
		     "t.json:1:9: control character in a string (write it as an escape)");
	expect_error("{\"s\": \"\x1f\"}",
		     "t.json:1:8: control character in a string (write it as an escape)");
	expect_error_n("{\"s\": \"a\0b\"}", 12,
		       "t.json:1:9: control character in a string (write it as an escape)");
	expect_error_n("{\"a\0\": 1}", 9,
		       "t.json:1:4: control character in a string (write it as an escape)");
	/* errors in keys too */
	expect_error("{\"a\\qb\": 1}", "t.json:1:4: invalid escape sequence in a string");
	/* the content of a string is never quoted (it may be a secret) */
	expect_error("{\"s\": \"hunter2\\q\"}", "t.json:1:15: invalid escape sequence in a string");
	expect_error("{\"s\": \"hunter2\xff\"}", "t.json:1:15: invalid UTF-8 in a string");
}

static void test_string_utf8(void **state)
{
	(void)state;
	/* invalid UTF-8 is reported at its first byte */
	expect_error("{\"s\": \"a\xff\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\x80\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xc0\xaf\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xc1\xbf\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xe0\x80\xaf\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xed\xa0\x80\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xed\xbf\xbf\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xf0\x8f\xbf\xbf\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xf4\x90\x80\x80\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xf5\x80\x80\x80\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xf8\x88\x80\x80\x80\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xe2\x82\"}", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xe2\x28\xa1\"}", "t.json:1:9: invalid UTF-8 in a string");
	/* truncated by the end of the input */
	expect_error("{\"s\": \"a\xe2\x82", "t.json:1:9: invalid UTF-8 in a string");
	expect_error("{\"s\": \"a\xc3", "t.json:1:9: invalid UTF-8 in a string");
	/* columns count characters: e-acute and the euro sign are one column each */
	expect_error("{\"s\": \"\xc3\xa9\xe2\x82\xac\xff\"}",
		     "t.json:1:10: invalid UTF-8 in a string");
	/* outside strings, a non-ASCII byte is not a value */
	expect_error("{\"s\": \xc3\xa9}", "t.json:1:7: expected a value");
	/* the boundaries that are valid */
	decodes_to("{\"s\": \"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\xc2\x80\xdf\xbf\"}",
		   "\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\xc2\x80\xdf\xbf");
}

/* ---- numbers and literals ---- */

static void test_numbers(void **state)
{
	struct agent_jsonpos root;

	(void)state;
	/* kept as written: the caller decides what a number means */
	parse_ok(&root, "{\"a\": 0, \"b\": -0, \"c\": 12, \"d\": -3.25, \"e\": 1e10, \"f\": 1E+2, "
			"\"g\": 2.5e-3, \"h\": 123456789012345678901234567890, \"i\": 0.0e0}");
	expect_number(&root, "a", "0");
	expect_number(&root, "b", "-0");
	expect_number(&root, "c", "12");
	expect_number(&root, "d", "-3.25");
	expect_number(&root, "e", "1e10");
	expect_number(&root, "f", "1E+2");
	expect_number(&root, "g", "2.5e-3");
	expect_number(&root, "h", "123456789012345678901234567890");
	expect_number(&root, "i", "0.0e0");
	agent_jsonpos_free(&root);
	/* a number ends where a character that cannot continue it starts */
	parse_ok(&root, "{\"a\":1,\"b\":[2,3],\"c\":4}");
	expect_number(&root, "a", "1");
	expect_number(&root, "c", "4");
	agent_jsonpos_free(&root);

	/* the value starts at column 7 */
	expect_error("{\"n\": 01}", "t.json:1:7: invalid number");
	expect_error("{\"n\": -01}", "t.json:1:7: invalid number");
	expect_error("{\"n\": 1.}", "t.json:1:7: invalid number");
	expect_error("{\"n\": 1.e5}", "t.json:1:7: invalid number");
	expect_error("{\"n\": -}", "t.json:1:7: invalid number");
	expect_error("{\"n\": -a}", "t.json:1:7: invalid number");
	expect_error("{\"n\": 1e}", "t.json:1:7: invalid number");
	expect_error("{\"n\": 1e+}", "t.json:1:7: invalid number");
	expect_error("{\"n\": 1x}", "t.json:1:7: invalid number");
	expect_error("{\"n\": 0x10}", "t.json:1:7: invalid number");
	expect_error("{\"n\": 1.5.2}", "t.json:1:7: invalid number");
	expect_error("{\"n\": 1", "t.json:1:8: unexpected end of input: expected ',' or '}'");
	expect_error("{\"n\": .5}", "t.json:1:7: expected a value, got '.'");
	expect_error("{\"n\": +5}", "t.json:1:7: expected a value, got '+'");
	/* '-' cannot continue a number, so this is a structural error after it */
	expect_error("{\"n\": 1-2}", "t.json:1:8: expected ',' or '}'");
}

static void test_literals(void **state)
{
	struct agent_jsonpos root;

	(void)state;
	parse_ok(&root, "{\"t\": true, \"f\": false, \"z\": null}");
	assert_int_equal(member(&root, "t")->v.kind, AGENT_JSONPOS_BOOL);
	assert_int_equal(member(&root, "t")->v.b, 1);
	assert_int_equal(member(&root, "f")->v.kind, AGENT_JSONPOS_BOOL);
	assert_int_equal(member(&root, "f")->v.b, 0);
	assert_int_equal(member(&root, "z")->v.kind, AGENT_JSONPOS_NULL);
	assert_null(member(&root, "z")->v.s);
	agent_jsonpos_free(&root);

	expect_error("{\"t\": tru}", "t.json:1:7: invalid literal (strings need double quotes)");
	expect_error("{\"t\": t", "t.json:1:7: invalid literal (strings need double quotes)");
	expect_error("{\"t\": True}", "t.json:1:7: invalid literal (strings need double quotes)");
	expect_error("{\"t\": NULL}", "t.json:1:7: invalid literal (strings need double quotes)");
	expect_error("{\"t\": nullx}", "t.json:1:7: invalid literal (strings need double quotes)");
	expect_error("{\"t\": true1}", "t.json:1:7: invalid literal (strings need double quotes)");
	expect_error("{\"t\": truefalse}",
		     "t.json:1:7: invalid literal (strings need double quotes)");
	expect_error("{\"t\": abc}", "t.json:1:7: invalid literal (strings need double quotes)");
	expect_error("{\"t\": 'x'}", "t.json:1:7: expected a value, got '''");
	/* a literal ends at a character that is not a letter or digit */
	expect_error("{\"t\": null_}", "t.json:1:11: expected ',' or '}'");
}

/* ---- structure ---- */

static void test_structure_errors(void **state)
{
	(void)state;
	expect_error("{", "t.json:1:2: unexpected end of input in an object");
	expect_error("{\n", "t.json:2:1: unexpected end of input in an object");
	expect_error("{\"a\"", "t.json:1:5: expected ':' after the key");
	expect_error("{\"a\" 1}", "t.json:1:6: expected ':' after the key");
	expect_error("{\"a\":", "t.json:1:6: unexpected end of input: expected a value");
	expect_error("{\"a\":1", "t.json:1:7: unexpected end of input: expected ',' or '}'");
	expect_error("{\"a\":1,", "t.json:1:8: unexpected end of input in an object");
	expect_error("{\"a\":1,}", "t.json:1:8: trailing comma before '}'");
	expect_error("{\"a\": 1 \"b\": 2}", "t.json:1:9: expected ',' or '}'");
	expect_error("{\"a\": 1;}", "t.json:1:8: expected ',' or '}'");
	expect_error("{,}", "t.json:1:2: expected a key (a double-quoted string)");
	expect_error("{1: 2}", "t.json:1:2: expected a key (a double-quoted string)");
	expect_error("{'a': 1}", "t.json:1:2: expected a key (a double-quoted string)");
	expect_error("{a: 1}", "t.json:1:2: expected a key (a double-quoted string)");
	expect_error("{\"a\": }", "t.json:1:7: expected a value, got '}'");
	expect_error("{\"a\": @}", "t.json:1:7: expected a value, got '@'");
	expect_error("{\"a\": \x01}", "t.json:1:7: expected a value");
	expect_error("{\"a\": \x7f}", "t.json:1:7: expected a value");
	/* only space, tab, CR and LF are white space */
	expect_error("{\f}", "t.json:1:2: expected a key (a double-quoted string)");
	expect_error("{\"a\":\v1}", "t.json:1:6: expected a value");
	/* positions: CRLF ends a line, a lone CR does not; tabs and characters are one column */
	expect_error("{\r\n  \"a\" 1\r\n}", "t.json:2:7: expected ':' after the key");
	expect_error("{\r\"a\" 1}", "t.json:1:7: expected ':' after the key");
	expect_error("{\t\t\"a\" 1}", "t.json:1:8: expected ':' after the key");
	expect_error("{\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\": 1 2}",
		     "t.json:1:11: expected ',' or '}'");
	expect_error("{\n\n\n      \"a\": [1,\n  ]}", "t.json:5:3: expected a value, got ']'");
	/* a syntax error is found wherever it is */
	expect_error("{\"a\": {\"b\": {\"c\": [1, 2, {\"d\": nul}]}}}",
		     "t.json:1:32: invalid literal (strings need double quotes)");
}

static void test_nesting(void **state)
{
	char doc[512];
	struct agent_jsonpos root;
	int k;

	(void)state;
	/* the root object is level 1: 31 arrays inside it are levels 2..32 */
	k = snprintf(doc, sizeof doc, "{\"x\": ");
	for (int d = 0; d < 31; d++)
		doc[k++] = '[';
	for (int d = 0; d < 31; d++)
		doc[k++] = ']';
	doc[k++] = '}';
	doc[k] = '\0';
	parse_ok(&root, doc);
	agent_jsonpos_free(&root);
	/* the 32nd '[' (column 6 + 32) opens level 33 */
	k = snprintf(doc, sizeof doc, "{\"x\": ");
	for (int d = 0; d < 32; d++)
		doc[k++] = '[';
	for (int d = 0; d < 32; d++)
		doc[k++] = ']';
	doc[k++] = '}';
	doc[k] = '\0';
	expect_error(doc, "t.json:1:38: nesting deeper than 32 levels");

	/* objects: 31 nested in the root, then a 32nd at column 1 + 5 * 32 */
	k = snprintf(doc, sizeof doc, "{");
	for (int d = 0; d < 31; d++)
		k += snprintf(doc + k, sizeof doc - (size_t)k, "\"a\":{");
	for (int d = 0; d < 32; d++)
		doc[k++] = '}';
	doc[k] = '\0';
	parse_ok(&root, doc);
	agent_jsonpos_free(&root);
	k = snprintf(doc, sizeof doc, "{");
	for (int d = 0; d < 32; d++)
		k += snprintf(doc + k, sizeof doc - (size_t)k, "\"a\":{");
	for (int d = 0; d < 33; d++)
		doc[k++] = '}';
	doc[k] = '\0';
	expect_error(doc, "t.json:1:161: nesting deeper than 32 levels");

	/* the depth is that of the deepest path, not a total: siblings each go 32 deep */
	k = snprintf(doc, sizeof doc, "{\"a\": ");
	for (int d = 0; d < 31; d++)
		doc[k++] = '[';
	for (int d = 0; d < 31; d++)
		doc[k++] = ']';
	k += snprintf(doc + k, sizeof doc - (size_t)k, ", \"b\": ");
	for (int d = 0; d < 31; d++)
		doc[k++] = '[';
	for (int d = 0; d < 31; d++)
		doc[k++] = ']';
	doc[k++] = '}';
	doc[k] = '\0';
	parse_ok(&root, doc);
	assert_int_equal(root.n, 2);
	agent_jsonpos_free(&root);
}

static void test_duplicate_keys(void **state)
{
	struct agent_jsonpos root;
	char doc[256], want[256];
	char key[61];

	(void)state;
	expect_error("{\"a\": 1, \"b\": 2, \"a\": 3}",
		     "t.json:1:18: duplicate key \"a\" (first at 1:2)");
	expect_error("{\n \"o\": {\n  \"k\": 1,\n  \"k\": 2}}",
		     "t.json:4:3: duplicate key \"k\" (first at 3:3)");
	/* keys are compared after decoding */
	expect_error("{\"\xc3\xa9\": 1, \"\\u00e9\": 2}",
		     "t.json:1:10: duplicate key \"\xc3\xa9\" (first at 1:2)");
	/* the same key in different objects, keys differing in case or length: not duplicates */
	parse_ok(&root, "{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}, \"A\": 3, \"ab\": 4, \"\": 5}");
	assert_int_equal(root.n, 5);
	agent_jsonpos_free(&root);
	/* a long key is quoted as an excerpt of 48 bytes */
	memset(key, 'k', 60);
	key[60] = '\0';
	snprintf(doc, sizeof doc, "{\"%s\": 1, \"%s\": 2}", key, key);
	snprintf(want, sizeof want, "t.json:1:69: duplicate key \"%.48s...\" (first at 1:2)", key);
	expect_error(doc, want);
	/* control characters in a key are escaped in the message */
	expect_error("{\"a\\nb\": 1, \"a\\nb\": 2}",
		     "t.json:1:13: duplicate key \"a\\x0ab\" (first at 1:2)");
}

static void test_members_limit(void **state)
{
	size_t cap = 4100 * 16, k;
	char *doc = malloc(cap);
	struct agent_jsonpos root;

	(void)state;
	assert_non_null(doc);
	/* 4096 keys in one object are accepted, one per line from line 2 */
	k = (size_t)snprintf(doc, cap, "{\n");
	for (int p = 0; p < 4096; p++)
		k += (size_t)snprintf(doc + k, cap - k, "\"k%04d\": %d%s\n", p, p,
				      p < 4095 ? "," : "");
	snprintf(doc + k, cap - k, "}");
	parse_ok(&root, doc);
	assert_int_equal(root.n, 4096);
	assert_string_equal(root.m[4095].key, "k4095");
	assert_int_equal(root.m[4095].line, 4097);
	assert_string_equal(root.m[4095].v.s, "4095");
	agent_jsonpos_free(&root);
	/* the 4097th, on line 4098, is refused */
	k = (size_t)snprintf(doc, cap, "{\n");
	for (int p = 0; p < 4097; p++)
		k += (size_t)snprintf(doc + k, cap - k, "\"k%04d\": 1%s\n", p, p < 4096 ? "," : "");
	snprintf(doc + k, cap - k, "}");
	expect_error(doc, "t.json:4098:1: more than 4096 keys in one object");
	free(doc);
}

/* ---- the document ---- */

static void test_document(void **state)
{
	struct agent_jsonpos root = { 0 };

	(void)state;
	expect_error("", "t.json:1:1: empty document: expected a JSON object");
	expect_error("  \n\t ", "t.json:2:3: empty document: expected a JSON object");
	/* NULL is an empty document, whatever the length */
	expect_error_n(NULL, 0, "t.json:1:1: empty document: expected a JSON object");
	expect_error_n(NULL, 5, "t.json:1:1: empty document: expected a JSON object");
	/* the root must be an object; the check comes before the value is parsed */
	expect_error("[1]", "t.json:1:1: the document must be a JSON object");
	expect_error("[1", "t.json:1:1: the document must be a JSON object");
	expect_error(" \"x\"", "t.json:1:2: the document must be a JSON object");
	expect_error("1", "t.json:1:1: the document must be a JSON object");
	expect_error("true", "t.json:1:1: the document must be a JSON object");
	expect_error("null", "t.json:1:1: the document must be a JSON object");
	expect_error("}", "t.json:1:1: the document must be a JSON object");
	/* the names used in messages */
	assert_int_equal(
	    agent_jsonpos_parse(&root, "cfg", "the configuration", "[]", 2, err, sizeof err), -1);
	assert_string_equal(err, "cfg:1:1: the configuration must be a JSON object");
	assert_int_equal(agent_jsonpos_parse(&root, NULL, NULL, "", 0, err, sizeof err), -1);
	assert_string_equal(err, "<json>:1:1: empty document: expected a JSON object");
	/* err may be NULL */
	assert_int_equal(agent_jsonpos_parse(&root, "t", NULL, "{", 1, NULL, 0), -1);
	/* a message is cut to the buffer */
	assert_int_equal(agent_jsonpos_parse(&root, "t.json", NULL, "", 0, err, 8), -1);
	assert_string_equal(err, "t.json:");

	/* a UTF-8 byte order mark is skipped and takes no column; only one, only at the start */
	parse_ok(&root, "\xef\xbb\xbf{}");
	assert_int_equal(root.col, 1);
	agent_jsonpos_free(&root);
	expect_error("\xef\xbb\xbf{\"a\" 1}", "t.json:1:6: expected ':' after the key");
	expect_error("\xef\xbb\xbf\xef\xbb\xbf{}",
		     "t.json:1:1: the document must be a JSON object");
	expect_error("{}\xef\xbb\xbf", "t.json:1:3: unexpected data after the JSON object");

	/* nothing but white space after the object */
	parse_ok(&root, "{}\n\t \r\n");
	agent_jsonpos_free(&root);
	expect_error("{} x", "t.json:1:4: unexpected data after the JSON object");
	expect_error("{}{}", "t.json:1:3: unexpected data after the JSON object");
	expect_error("{}\n\n  ]", "t.json:3:3: unexpected data after the JSON object");
	expect_error("{\"a\": 1}}", "t.json:1:9: unexpected data after the JSON object");

	/* NUL bytes are bytes like others: never the end of the document */
	expect_error_n("{}\0", 3, "t.json:1:3: unexpected data after the JSON object");
	expect_error_n("{} \0", 4, "t.json:1:4: unexpected data after the JSON object");
	expect_error_n("\0{}", 3, "t.json:1:1: the document must be a JSON object");
	expect_error_n("{\"a\": 1\0}", 9, "t.json:1:8: expected ',' or '}'");
	expect_error_n("{\"a\"\0: 1}", 9, "t.json:1:5: expected ':' after the key");
	expect_error_n("{\"a\": \0}", 8, "t.json:1:7: expected a value");
	/* the length is what counts, not a terminating NUL */
	parse_ok_n(&root, "{\"a\": 1} trailing", 8);
	assert_int_equal(root.n, 1);
	agent_jsonpos_free(&root);
}

static void test_size_limit(void **state)
{
	size_t n = AGENT_JSONPOS_MAX_BYTES;
	char *big = malloc(n + 2);
	struct agent_jsonpos root;

	(void)state;
	assert_int_equal(AGENT_JSONPOS_MAX_BYTES, 1048576);
	assert_non_null(big);
	/* exactly 1 MiB: {"a": "xxx...x"} */
	memcpy(big, "{\"a\": \"", 7);
	memset(big + 7, 'x', n - 9);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	parse_ok_n(&root, big, n);
	assert_int_equal(root.m[0].v.len, n - 9);
	agent_jsonpos_free(&root);
	/* one byte more is refused before it is read, even if it is only white space */
	big[n] = ' ';
	big[n + 1] = '\0';
	expect_error_n(big, n + 1, "t.json:1:1: larger than 1048576 bytes (1 MiB)");
	free(big);
}

/* ---- the lexical helpers ---- */

/* The reader's UTF-8 rule is text.h's conn_text_utf8_len (no copy of its own): these are the
 * sequences the reader must take and refuse. */
static size_t u8(const char *s, size_t n)
{
	return conn_text_utf8_len(s, n);
}

static void test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(u8("A", 1), 1);
	assert_int_equal(u8("\x7f", 1), 1);
	assert_int_equal(u8("", 1), 1); /* NUL is an ASCII character */
	/* 2 bytes: C2..DF, then 80..BF */
	assert_int_equal(u8("\xc2\x80", 2), 2);
	assert_int_equal(u8("\xdf\xbf", 2), 2);
	assert_int_equal(u8("\xc0\x80", 2), 0);
	assert_int_equal(u8("\xc1\xbf", 2), 0);
	assert_int_equal(u8("\xc2\x7f", 2), 0);
	assert_int_equal(u8("\xc2\xc0", 2), 0);
	/* 3 bytes: E0 A0..BF, E1..EC 80..BF, ED 80..9F, EE..EF 80..BF */
	assert_int_equal(u8("\xe0\xa0\x80", 3), 3);
	assert_int_equal(u8("\xe0\x9f\xbf", 3), 0);
	assert_int_equal(u8("\xe1\x80\x80", 3), 3);
	assert_int_equal(u8("\xed\x9f\xbf", 3), 3);
	assert_int_equal(u8("\xed\xa0\x80", 3), 0);
	assert_int_equal(u8("\xee\x80\x80", 3), 3);
	assert_int_equal(u8("\xef\xbf\xbf", 3), 3);
	assert_int_equal(u8("\xe2\x28\xa1", 3), 0);
	assert_int_equal(u8("\xe2\x82\x28", 3), 0);
	/* 4 bytes: F0 90..BF, F1..F3 80..BF, F4 80..8F */
	assert_int_equal(u8("\xf0\x90\x80\x80", 4), 4);
	assert_int_equal(u8("\xf0\x8f\xbf\xbf", 4), 0);
	assert_int_equal(u8("\xf3\xbf\xbf\xbf", 4), 4);
	assert_int_equal(u8("\xf4\x8f\xbf\xbf", 4), 4);
	assert_int_equal(u8("\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(u8("\xf0\x90\x80\x7f", 4), 0);
	/* never a lead byte */
	assert_int_equal(u8("\x80", 1), 0);
	assert_int_equal(u8("\xbf", 1), 0);
	assert_int_equal(u8("\xf5\x80\x80\x80", 4), 0);
	assert_int_equal(u8("\xf8\x88\x80\x80\x80", 5), 0);
	assert_int_equal(u8("\xff", 1), 0);
	/* a sequence longer than the bytes available */
	assert_int_equal(u8("\xc3\xa9", 1), 0);
	assert_int_equal(u8("\xe2\x82\xac", 2), 0);
	assert_int_equal(u8("\xf0\x9f\x98\x80", 3), 0);
	/* only the first sequence is measured */
	assert_int_equal(u8("\xc3\xa9z", 3), 2);
}

static void test_number_len(void **state)
{
	(void)state;
	assert_int_equal(agent_jsonpos_number_len("0", 1), 1);
	assert_int_equal(agent_jsonpos_number_len("-0", 2), 2);
	assert_int_equal(agent_jsonpos_number_len("12", 2), 2);
	assert_int_equal(agent_jsonpos_number_len("-3.25", 5), 5);
	assert_int_equal(agent_jsonpos_number_len("1e10", 4), 4);
	assert_int_equal(agent_jsonpos_number_len("1E+2", 4), 4);
	assert_int_equal(agent_jsonpos_number_len("2.5e-3", 6), 6);
	/* the longest prefix that is a number */
	assert_int_equal(agent_jsonpos_number_len("01", 2), 1);
	assert_int_equal(agent_jsonpos_number_len("1x", 2), 1);
	assert_int_equal(agent_jsonpos_number_len("1.5.2", 5), 3);
	assert_int_equal(agent_jsonpos_number_len("7,", 2), 1);
	/* not numbers */
	assert_int_equal(agent_jsonpos_number_len("", 0), 0);
	assert_int_equal(agent_jsonpos_number_len("-", 1), 0);
	assert_int_equal(agent_jsonpos_number_len("1.", 2), 0);
	assert_int_equal(agent_jsonpos_number_len("1.x", 3), 0);
	assert_int_equal(agent_jsonpos_number_len("1e", 2), 0);
	assert_int_equal(agent_jsonpos_number_len("1e+", 3), 0);
	assert_int_equal(agent_jsonpos_number_len(".5", 2), 0);
	assert_int_equal(agent_jsonpos_number_len("+5", 2), 0);
	assert_int_equal(agent_jsonpos_number_len("x", 1), 0);
	/* n bounds what is read */
	assert_int_equal(agent_jsonpos_number_len("123", 2), 2);
	assert_int_equal(agent_jsonpos_number_len("1.5", 2), 0);
	assert_int_equal(agent_jsonpos_number_len("1e5", 2), 0);
	assert_int_equal(agent_jsonpos_number_len("5", 0), 0);
}

static void test_quote(void **state)
{
	char buf[128], longer[61];

	(void)state;
	agent_jsonpos_quote(buf, sizeof buf, "abc", 3);
	assert_string_equal(buf, "\"abc\"");
	agent_jsonpos_quote(buf, sizeof buf, "", 0);
	assert_string_equal(buf, "\"\"");
	/* only the given bytes */
	agent_jsonpos_quote(buf, sizeof buf, "abcdef", 2);
	assert_string_equal(buf, "\"ab\"");
	/* quotes and backslashes escaped, control characters and DEL as \xHH, UTF-8 as it is */
	agent_jsonpos_quote(buf, sizeof buf, "a\"b\\c", 5);
	assert_string_equal(buf, "\"a\\\"b\\\\c\"");
	agent_jsonpos_quote(buf, sizeof buf, "a\nb\x7f\x01", 5);
	assert_string_equal(buf, "\"a\\x0ab\\x7f\\x01\"");
	agent_jsonpos_quote(buf, sizeof buf, "x\0y", 3);
	assert_string_equal(buf, "\"x\\x00y\"");
	agent_jsonpos_quote(buf, sizeof buf, "\xc3\xa9", 2);
	assert_string_equal(buf, "\"\xc3\xa9\"");
	/* at most 48 bytes, then "..." */
	memset(longer, 'x', 60);
	longer[60] = '\0';
	agent_jsonpos_quote(buf, sizeof buf, longer, 48);
	assert_int_equal(strlen(buf), 50);
	assert_null(strstr(buf, "..."));
	agent_jsonpos_quote(buf, sizeof buf, longer, 49);
	assert_int_equal(strlen(buf), 1 + 48 + 3 + 1);
	assert_string_equal(buf + 49, "...\"");
	/* a small buffer cuts it shorter, still quoted and terminated */
	agent_jsonpos_quote(buf, 16, "abcdefghijklmnopqrstuvwxyz", 26);
	assert_string_equal(buf, "\"abcdefghi...\"");
	/* below 8 bytes: empty; 0 bytes: untouched */
	agent_jsonpos_quote(buf, 7, "abc", 3);
	assert_string_equal(buf, "");
	buf[0] = 'z';
	agent_jsonpos_quote(buf, 0, "abc", 3);
	assert_int_equal(buf[0], 'z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects),	       cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_string_escapes), cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_string_utf8),    cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_literals),       cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_nesting),	       cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_members_limit),  cmocka_unit_test(test_document),
		cmocka_unit_test(test_size_limit),     cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_number_len),     cmocka_unit_test(test_quote),
	};

	return TU_RUN(tests);
}
