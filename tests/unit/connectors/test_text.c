/*
 * test_text.c -- the text codecs (connectors/text.h), value by value: UTF-8 at every boundary
 * of Unicode table 3-7 (overlongs, surrogates, U+10FFFF, truncations), the one JSON escaping
 * policy (checked by parsing the output with jansson), percent and hex coding both ways,
 * RFC 3339 parsing at its edges (leap years, offsets, fractions, the 2^53 range of a record's
 * ts) and formatting (against gmtime_r, clamped years, a read-back), and HOST:PORT with its
 * flags.
 */
#include "connectors/text.h"
#include "testutil.h"

#include <time.h>

/* ---- UTF-8 ---- */

static size_t ulen(const char *s)
{
	return conn_text_utf8_len(s, strlen(s));
}

static void test_utf8_len(void **state)
{
	(void)state;
	assert_int_equal(conn_text_utf8_len("", 0), 0);
	assert_int_equal(conn_text_utf8_len("\0", 1), 1); /* NUL is a character */
	assert_int_equal(ulen("a"), 1);
	assert_int_equal(ulen("\x7f"), 1);
	/* 2 bytes: U+0080..U+07FF; C0 and C1 lead only overlongs */
	assert_int_equal(ulen("\xc2\x80"), 2);
	assert_int_equal(ulen("\xdf\xbf"), 2);
	assert_int_equal(ulen("\xc0\x80"), 0);
	assert_int_equal(ulen("\xc1\xbf"), 0);
	assert_int_equal(ulen("\xc3\xa9x"), 2);
	/* 3 bytes: E0 needs A0..BF (no overlong), ED needs 80..9F (no surrogate) */
	assert_int_equal(ulen("\xe0\xa0\x80"), 3);
	assert_int_equal(ulen("\xe0\x9f\xbf"), 0);
	assert_int_equal(ulen("\xed\x9f\xbf"), 3); /* U+D7FF */
	assert_int_equal(ulen("\xed\xa0\x80"), 0); /* U+D800 */
	assert_int_equal(ulen("\xed\xbf\xbf"), 0); /* U+DFFF */
	assert_int_equal(ulen("\xee\x80\x80"), 3); /* U+E000 */
	assert_int_equal(ulen("\xef\xbf\xbd"), 3); /* U+FFFD */
	assert_int_equal(ulen("\xef\xbf\xbf"), 3); /* U+FFFF */
	/* 4 bytes: F0 needs 90..BF, F4 needs 80..8F; F5..FF never */
	assert_int_equal(ulen("\xf0\x90\x80\x80"), 4);
	assert_int_equal(ulen("\xf0\x8f\xbf\xbf"), 0);
	assert_int_equal(ulen("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
	assert_int_equal(ulen("\xf4\x90\x80\x80"), 0); /* U+110000 */
	assert_int_equal(ulen("\xf5\x80\x80\x80"), 0);
	assert_int_equal(ulen("\xff"), 0);
	/* a lone continuation byte, a bad continuation, a truncated sequence */
	assert_int_equal(ulen("\x80"), 0);
	assert_int_equal(ulen("\xbf"), 0);
	assert_int_equal(ulen("\xe2\x82x"), 0);
	assert_int_equal(ulen("\xe2\x28\xa1"), 0);
	assert_int_equal(conn_text_utf8_len("\xe2\x82\xac", 2), 0); /* cut by n */
	assert_int_equal(conn_text_utf8_len("\xf0\x9f\x98\x80", 3), 0);
	assert_int_equal(conn_text_utf8_len("\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(conn_text_utf8_len("\xc3\xa9", 1), 0);
}

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(conn_text_utf8_valid("", 0));
	assert_true(conn_text_utf8_valid("plain ascii\n\t", 13));
	assert_true(conn_text_utf8_valid("a\0b", 3));
	assert_true(conn_text_utf8_valid("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	assert_false(conn_text_utf8_valid("caf\xc3", 4));
	assert_false(conn_text_utf8_valid("\xed\xa0\x80", 3));
	assert_false(conn_text_utf8_valid("ok\xffok", 5));
	assert_false(conn_text_utf8_valid("\xc0\xaf", 2)); /* overlong '/' */
	assert_false(conn_text_utf8_valid("\xe0\x80\xaf", 3));
	assert_false(conn_text_utf8_valid("\xf0\x80\x80\xaf", 4));
	/* every single byte: exactly the ASCII ones */
	for (int c = 0; c < 256; c++) {
		char b = (char)c;

		assert_int_equal(conn_text_utf8_valid(&b, 1), c < 0x80);
	}
}

/* ---- JSON ---- */

/* The escape of s[0..n) as a malloc'd string; its length must match the return. */
static char *esc(const char *s, size_t n)
{
	size_t need = conn_text_json_escape(NULL, 0, s, n);
	char *out = malloc(need + 1);

	assert_non_null(out);
	assert_int_equal(conn_text_json_escape(out, need + 1, s, n), need);
	assert_int_equal(strlen(out), need);
	assert_true(need <= CONN_TEXT_JSON_MAX(n) - 1);
	return out;
}

/* "..." with the escape of s[0..n) in it parses as a JSON string equal to want[0..wn). */
static void json_round(const char *s, size_t n, const char *want, size_t wn)
{
	char *e = esc(s, n), *doc = malloc(strlen(e) + 3);
	json_error_t err;
	json_t *j;

	sprintf(doc, "\"%s\"", e);
	j = json_loads(doc, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!j)
		fail_msg("not JSON: %s (%s)", doc, err.text);
	assert_int_equal(json_string_length(j), wn);
	assert_memory_equal(json_string_value(j), want, wn);
	json_decref(j);
	free(doc);
	free(e);
}

static void expect_escape(const char *s, size_t n, const char *want)
{
	char *e = esc(s, n);

	assert_string_equal(e, want);
	free(e);
}

static void test_json_escape(void **state)
{
	(void)state;
	expect_escape("", 0, "");
	expect_escape("plain", 5, "plain");
	expect_escape("q\"b\\s/", 6, "q\\\"b\\\\s/");
	expect_escape("\n\r\t", 3, "\\n\\r\\t");
	expect_escape("\x01\x08\x0c\x1f", 4, "\\u0001\\u0008\\u000c\\u001f");
	expect_escape("a\0b", 3, "a\\u0000b");
	expect_escape("\x7f", 1, "\x7f"); /* DEL is valid JSON as is */
	expect_escape("\xc3\xa9\xf0\x9f\x98\x80", 6, "\xc3\xa9\xf0\x9f\x98\x80");
	/* every invalid byte becomes one U+FFFD */
	expect_escape("a\xffz", 3, "a\\ufffdz");
	expect_escape("\xc3", 1, "\\ufffd");
	expect_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");
	expect_escape("\xe2\x82", 2, "\\ufffd\\ufffd");
	expect_escape("\xc0\xaf", 2, "\\ufffd\\ufffd");

	/* parsed back by jansson: the input, invalid bytes as U+FFFD */
	json_round("a\"\\\n\x01\0z", 7, "a\"\\\n\x01\0z", 7);
	json_round("\xff\xc3\xa9", 3, "\xef\xbf\xbd\xc3\xa9", 5);
	{
		char all[256];

		for (int c = 0; c < 256; c++)
			all[c] = (char)c;
		{
			char *e = esc(all, sizeof all), *doc = malloc(strlen(e) + 3);
			json_t *j;

			sprintf(doc, "\"%s\"", e);
			j = json_loads(doc, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
			assert_non_null(j);
			/* 128 ASCII bytes + 128 replacement characters of 3 bytes */
			assert_int_equal(json_string_length(j), 128 + 128 * 3);
			json_decref(j);
			free(doc);
			free(e);
		}
	}
}

static void test_json_escape_short(void **state)
{
	char out[16];
	const char *s = "ab\"\xc3\xa9\x01";

	(void)state;
	/* the full escape is ab\"é\u0001: 2 + 2 + 2 + 6 = 12 bytes */
	assert_int_equal(conn_text_json_escape(out, sizeof out, s, 6), 12);
	assert_string_equal(out, "ab\\\"\xc3\xa9\\u0001");
	/* never half a unit: cut before the escape or character that does not fit */
	assert_int_equal(conn_text_json_escape(out, 4, s, 6), 12);
	assert_string_equal(out, "ab");
	assert_int_equal(conn_text_json_escape(out, 5, s, 6), 12);
	assert_string_equal(out, "ab\\\"");
	assert_int_equal(conn_text_json_escape(out, 6, s, 6), 12);
	assert_string_equal(out, "ab\\\"");
	assert_int_equal(conn_text_json_escape(out, 8, s, 6), 12);
	assert_string_equal(out, "ab\\\"\xc3\xa9");
	assert_int_equal(conn_text_json_escape(out, 12, s, 6), 12);
	assert_string_equal(out, "ab\\\"\xc3\xa9");
	assert_int_equal(conn_text_json_escape(out, 13, s, 6), 12);
	assert_string_equal(out, "ab\\\"\xc3\xa9\\u0001");
	assert_int_equal(conn_text_json_escape(out, 1, s, 6), 12);
	assert_string_equal(out, "");
	out[0] = 'x';
	assert_int_equal(conn_text_json_escape(out, 0, s, 6), 12);
	assert_int_equal(out[0], 'x'); /* cap 0: nothing written */
}

static void test_json_fput(void **state)
{
	char big[3000], got[20000], *want;
	FILE *f = tmpfile();
	size_t n;

	(void)state;
	assert_non_null(f);
	/* longer than the internal buffer, with units across its edges */
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = "a\x01\"\xc3\xa9\xff"[i % 6];
	conn_text_json_fput(f, big, sizeof big);
	conn_text_json_fput(f, "", 0);
	rewind(f);
	n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	fclose(f);
	want = esc(big, sizeof big);
	assert_string_equal(got, want);
	free(want);
}

/* ---- percent ---- */

static void test_pct(void **state)
{
	char out[64];
	long n;

	(void)state;
	assert_int_equal(conn_text_pct_encode(out, "aZ09._-", 7, 0), 7);
	assert_string_equal(out, "aZ09._-");
	assert_int_equal(conn_text_pct_encode(out, "a b/{}%~", 8, 0), 20);
	assert_string_equal(out, "a%20b%2F%7B%7D%25%7E");
	assert_int_equal(conn_text_pct_encode(out, "\0\xff", 2, 0), 6);
	assert_string_equal(out, "%00%FF");
	assert_int_equal(conn_text_pct_encode(out, "", 0, 0), 0);
	assert_string_equal(out, "");
	/* a leading dot, only with the flag, only the first */
	assert_int_equal(conn_text_pct_encode(out, "..x", 3, 0), 3);
	assert_string_equal(out, "..x");
	assert_int_equal(conn_text_pct_encode(out, "..x", 3, CONN_TEXT_PCT_DOT), 5);
	assert_string_equal(out, "%2E.x");
	assert_int_equal(conn_text_pct_encode(out, "x.", 2, CONN_TEXT_PCT_DOT), 2);

	n = conn_text_pct_decode(out, "a%20b%2f%2F%40", 14);
	assert_int_equal(n, 6);
	assert_string_equal(out, "a b//@");
	assert_int_equal(conn_text_pct_decode(out, "", 0), 0);
	assert_string_equal(out, "");
	assert_int_equal(conn_text_pct_decode(out, "%ff%E9", 6), 2);
	assert_memory_equal(out, "\xff\xe9", 3);
	assert_int_equal(conn_text_pct_decode(out, "plain+text", 10), 10);
	/* malformed: out zeroed */
	assert_int_equal(conn_text_pct_decode(out, "pw%zz", 5), -1);
	assert_memory_equal(out, "\0\0\0\0\0", 6);
	assert_int_equal(conn_text_pct_decode(out, "pw%4", 4), -1);
	assert_int_equal(conn_text_pct_decode(out, "pw%", 3), -1);
	assert_int_equal(conn_text_pct_decode(out, "%4g", 3), -1);
	assert_int_equal(conn_text_pct_decode(out, "a%00b", 5), -1);
	assert_int_equal(conn_text_pct_decode(out, "a\0b", 3), -1);
	/* the bound: "%41" decodes but "%41" cut to 2 bytes does not */
	assert_int_equal(conn_text_pct_decode(out, "%41", 3), 1);
	assert_int_equal(conn_text_pct_decode(out, "%41", 2), -1);

	/* every byte but NUL round-trips */
	{
		char all[255], enc[3 * 255 + 1], dec[3 * 255 + 1];

		for (int c = 1; c < 256; c++)
			all[c - 1] = (char)c;
		for (unsigned fl = 0; fl <= CONN_TEXT_PCT_DOT; fl++) {
			size_t k = conn_text_pct_encode(enc, all, sizeof all, fl);

			assert_int_equal(strlen(enc), k);
			assert_int_equal(conn_text_pct_decode(dec, enc, k), (long)sizeof all);
			assert_memory_equal(dec, all, sizeof all);
		}
	}
}

/* ---- hex ---- */

static void test_hex(void **state)
{
	unsigned char b[8];
	char out[32];

	(void)state;
	for (int c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9'	  ? c - '0'
			   : c >= 'a' && c <= 'f' ? c - 'a' + 10
			   : c >= 'A' && c <= 'F' ? c - 'A' + 10
						  : -1;
		assert_int_equal(conn_text_hex_digit(c), want);
	}
	assert_int_equal(conn_text_hex_digit(-1), -1);
	assert_int_equal(conn_text_hex_value("00e9", 4), 0xe9);
	assert_int_equal(conn_text_hex_value("D83D", 4), 0xd83d);
	assert_int_equal(conn_text_hex_value("f", 1), 15);
	assert_int_equal(conn_text_hex_value("ffffffff", 8), 0xffffffffL);
	assert_int_equal(conn_text_hex_value("00e9", 0), -1);
	assert_int_equal(conn_text_hex_value("123456789", 9), -1);
	assert_int_equal(conn_text_hex_value("00g9", 4), -1);
	assert_int_equal(conn_text_hex_value("+0e9", 4), -1);
	assert_int_equal(conn_text_hex_value("0 e9", 4), -1);

	conn_text_hex_encode(out, "\x00\x01\xab\xff", 4);
	assert_string_equal(out, "0001abff");
	conn_text_hex_encode(out, "", 0);
	assert_string_equal(out, "");
	assert_int_equal(conn_text_hex_decode(b, sizeof b, "0001abFF", 8), 4);
	assert_memory_equal(b, "\x00\x01\xab\xff", 4);
	assert_int_equal(conn_text_hex_decode(b, sizeof b, "", 0), 0);
	assert_int_equal(conn_text_hex_decode(b, sizeof b, "abc", 3), -1); /* odd */
	assert_int_equal(conn_text_hex_decode(b, sizeof b, "zz", 2), -1);  /* not hex */
	assert_int_equal(conn_text_hex_decode(b, sizeof b, "0x", 2), -1);
	assert_int_equal(conn_text_hex_decode(b, 1, "0001", 4), -1); /* too long */
	assert_int_equal(conn_text_hex_decode(b, 2, "0001", 4), 2);
}

/* ---- RFC 3339 ---- */

static int64_t t_ok(const char *s, unsigned flags)
{
	int64_t ms = 42;

	if (conn_text_time_parse(s, strlen(s), flags, &ms) != 0)
		fail_msg("refused: %s", s);
	return ms;
}

static void t_bad(const char *s, unsigned flags)
{
	int64_t ms = 42;

	if (conn_text_time_parse(s, strlen(s), flags, &ms) == 0)
		fail_msg("accepted: %s", s);
	assert_int_equal(ms, 42);
}

static void test_time_parse(void **state)
{
	static const char *const bad[] = {
		"",
		"2026-11-26",
		"2026-11-26T21:14:00",	 /* no zone */
		"2026-11-26 21:14:00Z",	 /* space separator */
		"2026-11-26T21:14:00Z ", /* trailing */
		" 2026-11-26T21:14:00Z",
		"2026-11-26T21:14:60Z", /* no leap second */
		"2026-11-26T24:00:00Z",
		"2026-11-26T21:60:00Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-11-00T00:00:00Z",
		"2026-11-31T00:00:00Z",
		"2023-02-29T00:00:00Z", /* not a leap year */
		"1900-02-29T00:00:00Z",
		"2026-11-26T21:14:00.Z", /* a dot needs a digit */
		"2026-11-26T21:14:00,5Z",
		"2026-11-26T21:14:00+0100",
		"2026-11-26T21:14:00+01",
		"2026-11-26T21:14:00+24:00",
		"2026-11-26T21:14:00+01:60",
		"2026-11-26T21:14:00+01:00Z",
		"2026-11-26T21:14:00UTC",
		"+2026-11-26T21:14:00Z",
		"2026-1-26T21:14:00Z",
		"20261126T211400Z",
		"2026-11-26T21:14:0xZ",
		"2026/11/26T21:14:00Z",
		"2026-11-26X21:14:00Z",
		"2026-11-26T21-14:00Z",
		"2026-11-26T21:14-00Z",
	};

	(void)state;
	assert_int_equal(t_ok("1970-01-01T00:00:00Z", 0), 0);
	assert_int_equal(t_ok("2026-11-26T21:14:00Z", 0), 1795727640000);
	assert_int_equal(t_ok("2026-11-26t21:14:00z", 0), 1795727640000);
	assert_int_equal(t_ok("2026-11-26T21:14:00.1Z", 0), 1795727640100);
	assert_int_equal(t_ok("2026-11-26T21:14:00.12Z", 0), 1795727640120);
	assert_int_equal(t_ok("2026-11-26T21:14:00.123Z", 0), 1795727640123);
	assert_int_equal(t_ok("2026-11-26T21:14:00.123999999999Z", 0), 1795727640123);
	assert_int_equal(t_ok("2026-11-26T22:14:00+01:00", 0), 1795727640000);
	assert_int_equal(t_ok("2026-11-26T20:44:00-00:30", 0), 1795727640000);
	assert_int_equal(t_ok("2026-11-26T21:14:00-00:00", 0), 1795727640000);
	assert_int_equal(t_ok("2026-11-26T21:14:00+00:00", 0), 1795727640000);
	/* the fraction is truncated before the offset applies */
	assert_int_equal(t_ok("2026-11-26T22:14:00.9999+01:00", 0), 1795727640999);
	/* leap days */
	assert_int_equal(t_ok("2024-02-29T00:00:00Z", 0), 1709164800000);
	assert_int_equal(t_ok("2000-02-29T00:00:00Z", 0), 951782400000);
	/* the ends: years 0000 and 9999 with the widest offsets */
	assert_int_equal(t_ok("0001-01-01T00:00:00Z", 0), -62135596800000);
	assert_int_equal(t_ok("0000-01-01T00:00:00+23:59", 0), -62167305540000);
	assert_int_equal(t_ok("9999-12-31T23:59:59.999-23:59", 0), 253402387139999);
	assert_int_equal(t_ok("1969-12-31T23:59:59.999Z", 0), -1);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		t_bad(bad[i], 0);
	/* n bounds the text: a valid time cut or followed by a NUL */
	{
		int64_t ms;

		assert_int_equal(conn_text_time_parse("2026-11-26T21:14:00Z", 19, 0, &ms), -1);
		assert_int_equal(conn_text_time_parse("2026-11-26T21:14:00.5Z", 21, 0, &ms), -1);
		assert_int_equal(conn_text_time_parse("2026-11-26T21:14:00Z\0", 21, 0, &ms), -1);
		assert_int_equal(conn_text_time_parse("2026-11-26T21:14:00+01:00", 24, 0, &ms), -1);
	}

	/* CONN_TEXT_TIME_EPOCH53: [0, 2^53) ms only */
	assert_int_equal(t_ok("1970-01-01T00:00:00Z", CONN_TEXT_TIME_EPOCH53), 0);
	assert_int_equal(t_ok("1970-01-01T01:00:00+01:00", CONN_TEXT_TIME_EPOCH53), 0);
	t_bad("1969-12-31T23:59:59.999Z", CONN_TEXT_TIME_EPOCH53);
	t_bad("1970-01-01T00:59:59+01:00", CONN_TEXT_TIME_EPOCH53);
	t_bad("0001-01-01T00:00:00Z", CONN_TEXT_TIME_EPOCH53);
	assert_int_equal(t_ok("9999-12-31T23:59:59.999-23:59", CONN_TEXT_TIME_EPOCH53),
			 253402387139999); /* < 2^53: every 4-digit year after 1970 fits */
}

static void test_time_format(void **state)
{
	char buf[CONN_TEXT_TIME_LEN];
	uint64_t s = 99;

	(void)state;
	conn_text_time_format(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	conn_text_time_format(1795727640123, buf);
	assert_string_equal(buf, "2026-11-26T21:14:00.123Z");
	conn_text_time_format(-1, buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	conn_text_time_format(951782400000, buf);
	assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
	conn_text_time_format(-62135596800000, buf);
	assert_string_equal(buf, "0001-01-01T00:00:00.000Z");
	/* clamped to years 0000..9999 */
	conn_text_time_format(INT64_MIN, buf);
	assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
	conn_text_time_format(-62167219200001, buf);
	assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
	conn_text_time_format(INT64_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
	conn_text_time_format(253402300800000, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");

	/* against the C library, and read back, over the whole range */
	for (int i = 0; i < 100000; i++) {
		int64_t ms, back, span = 253402300799999LL + 62167219200000LL;
		time_t t;
		struct tm tm;
		char want[64];

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		ms = (int64_t)((s >> 11) % (uint64_t)span) - 62167219200000LL;
		if (i % 4 == 0)
			ms = (int64_t)((s >> 20) % 4000000000000ULL); /* 1970..2096 */
		t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
		gmtime_r(&t, &tm);
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(ms - (int64_t)t * 1000));
		conn_text_time_format(ms, buf);
		if (strcmp(buf, want))
			fail_msg("%lld: %s, want %s", (long long)ms, buf, want);
		assert_int_equal(conn_text_time_parse(buf, strlen(buf), 0, &back), 0);
		assert_int_equal(back, ms);
	}
}

/* ---- HOST:PORT ---- */

static void hp_ok(const char *s, unsigned flags, const char *host, int port, int br)
{
	struct conn_hostport hp;

	if (conn_text_hostport(s, strlen(s), flags, &hp) != 0)
		fail_msg("refused: %s (flags %u)", s, flags);
	assert_string_equal(hp.host, host);
	assert_int_equal(hp.port, port);
	assert_int_equal(hp.bracketed, br);
}

static void hp_bad(const char *s, unsigned flags)
{
	struct conn_hostport hp;

	if (conn_text_hostport(s, strlen(s), flags, &hp) == 0)
		fail_msg("accepted: %s (flags %u)", s, flags);
}

static void test_hostport(void **state)
{
	static const char *const bad[] = {
		"",	  "h:",	     "h:0",	 "h:65536", "h:99999999999", "h:-1",
		"h:+1",	  "h: 1",    "h:1 ",	 "h:8x",    "h:port",	     "::1",
		"::1:80", "a:b:c",   "[::1",	 "[::1]x",  "[::1]80",	     "[]:80",
		"[]",	  "[::1]:",  "[a]b]:80", "a]:80",   "[a[b]:80",	     "ho st:80",
		"h\t:80", "u@h:80",  "h?:80",	 "h/x:80",  "h\x7f:80",	     "[::1 ]:80",
		":80",	  "[::1]:0",
	};
	char longhost[300];

	(void)state;
	hp_ok("h", 0, "h", -1, 0);
	hp_ok("redis.internal:6380", 0, "redis.internal", 6380, 0);
	hp_ok("10.0.0.7", 0, "10.0.0.7", -1, 0);
	hp_ok("h:1", 0, "h", 1, 0);
	hp_ok("h:65535", 0, "h", 65535, 0);
	hp_ok("h:0080", 0, "h", 80, 0); /* leading zeros */
	hp_ok("[::1]", 0, "::1", -1, 1);
	hp_ok("[::1]:6380", 0, "::1", 6380, 1);
	hp_ok("[fe80::1%eth0]:80", 0, "fe80::1%eth0", 80, 1);
	hp_ok("[v6]:80", 0, "v6", 80, 1); /* the syntax only: never resolved */
	hp_ok("\xc3\xa9:1", 0, "\xc3\xa9", 1, 0);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		hp_bad(bad[i], 0);

	/* flags: a required port, an empty host, port 0 */
	hp_bad("h", CONN_TEXT_HP_PORT);
	hp_bad("[::1]", CONN_TEXT_HP_PORT);
	hp_ok("h:1", CONN_TEXT_HP_PORT, "h", 1, 0);
	hp_ok(":80", CONN_TEXT_HP_EMPTY, "", 80, 0);
	hp_ok(":0", CONN_TEXT_HP_EMPTY | CONN_TEXT_HP_PORT0, "", 0, 0);
	hp_ok("", CONN_TEXT_HP_EMPTY, "", -1, 0);
	hp_bad("", CONN_TEXT_HP_EMPTY | CONN_TEXT_HP_PORT);
	hp_bad("[]:80", CONN_TEXT_HP_EMPTY);
	hp_bad("::1:80", CONN_TEXT_HP_EMPTY);
	hp_ok("127.0.0.1:0", CONN_TEXT_HP_PORT0, "127.0.0.1", 0, 0);
	hp_ok("[::1]:0", CONN_TEXT_HP_PORT0, "::1", 0, 1);
	hp_bad("h:65536", CONN_TEXT_HP_PORT0);

	/* the host: 255 bytes, not 256; n bounds the text */
	{
		struct conn_hostport hp;

		memset(longhost, 'h', 256);
		strcpy(longhost + 256, ":1");
		hp_bad(longhost, 0);
		assert_int_equal(conn_text_hostport(longhost + 1, strlen(longhost + 1), 0, &hp), 0);
		assert_int_equal(strlen(hp.host), 255);
		assert_int_equal(hp.port, 1);
		assert_int_equal(conn_text_hostport("h:80/0", 4, 0, &hp), 0);
		assert_int_equal(hp.port, 80);
		assert_int_equal(conn_text_hostport("h:80", 2, 0, &hp), -1);
		assert_int_equal(conn_text_hostport("[::1]:80", 5, 0, &hp), 0);
		assert_string_equal(hp.host, "::1");
		assert_int_equal(conn_text_hostport("h\0:80", 5, 0, &hp), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_len),    cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_json_escape), cmocka_unit_test(test_json_escape_short),
		cmocka_unit_test(test_json_fput),   cmocka_unit_test(test_pct),
		cmocka_unit_test(test_hex),	    cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format), cmocka_unit_test(test_hostport),
	};

	return TU_RUN(tests);
}
