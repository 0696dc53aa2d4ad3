/*
 * text.h -- the small text codecs every layer above stats/ shares, each written once: UTF-8
 * validation, JSON string escaping, percent and hex coding, RFC 3339 times, HOST:PORT.
 *
 * Pure functions on caller buffers: no allocation, no locale (ASCII rules only), no global
 * state, safe from any thread. Lengths are explicit (s, n): NUL is an ordinary byte unless a
 * function says otherwise.
 *
 *   UTF-8        conn_text_utf8_len, conn_text_utf8_valid
 *   JSON         conn_text_json_escape, conn_text_json_fput (the one escaping policy)
 *   percent      conn_text_pct_encode, conn_text_pct_decode
 *   hex          conn_text_hex_digit, conn_text_hex_value, conn_text_hex_encode,
 *                conn_text_hex_decode
 *   RFC 3339     conn_text_time_parse, conn_text_time_format
 *   HOST:PORT    conn_text_hostport
 */
#ifndef DRIFTD_CONN_TEXT_H
#define DRIFTD_CONN_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- UTF-8 (RFC 3629, Unicode table 3-7) ----
 * Valid means: no overlong form, no surrogate (U+D800..U+DFFF), nothing above U+10FFFF, no
 * truncated sequence. Control characters and NUL are valid UTF-8: a caller that refuses them
 * checks them itself. */

/* The length (1 to 4) of the valid UTF-8 sequence at the start of s[0..n), or 0 when s does not
 * start with one (or n is 0). An ASCII byte, NUL included, is a sequence of 1. Reads at most
 * min(n, 4) bytes. */
size_t conn_text_utf8_len(const char *s, size_t n);
/* 1 when s[0..n) is entirely valid UTF-8, else 0. */
int conn_text_utf8_valid(const char *s, size_t n);

/* ---- JSON strings: the one escaping policy ----
 * The body of a JSON string (no surrounding quotes) that is always valid JSON, whatever the
 * input bytes:
 *   "  \  -> \" \\          newline, CR, tab -> \n \r \t
 *   other bytes below 0x20  -> \u00XX (lowercase hex, e.g. \u0001)
 *   a byte that does not start a valid UTF-8 sequence -> \ufffd (U+FFFD), one per byte
 *   everything else (valid UTF-8, '/', DEL) is copied as is.
 * A byte becomes at most 6, so CONN_TEXT_JSON_MAX(n) bytes always hold the escape of n bytes
 * and its NUL. */
#define CONN_TEXT_JSON_MAX(n) (6 * (n) + 1)

/* Writes the escape of s[0..n) into out (cap bytes, NUL-terminated when cap > 0) and returns
 * the length of the whole escape, like snprintf: a return >= cap means out was too small. A
 * short out holds a prefix that ends on a whole escape or character, never half of one. */
size_t conn_text_json_escape(char *out, size_t cap, const char *s, size_t n);
/* Writes the escape of s[0..n) to f (no quotes, no NUL). */
void conn_text_json_fput(FILE *f, const char *s, size_t n);

/* ---- percent encoding ----
 * Every byte outside [A-Za-z0-9._-] is written %XX (uppercase hex), so an encoding holds no
 * '/', brace, space, control byte or NUL (file names, Redis key names, URL userinfo). */
#define CONN_TEXT_PCT_DOT 1u /* also encode a leading '.' (%2E): no "." or ".." file name */

/* Writes the encoding of s[0..n) and a NUL into out, which holds 3 * n + 1 bytes; returns the
 * encoding's length. */
size_t conn_text_pct_encode(char *out, const char *s, size_t n, unsigned flags);
/* Decodes s[0..n) into out (which holds n + 1 bytes) and NUL-terminates it: %XX (either case)
 * becomes the byte, anything else is copied. Returns the decoded length, or -1 when a '%' is
 * not followed by two hex digits or the result would hold a NUL (%00 or a raw one): out is a C
 * string. On -1 out is zeroed (it may have held part of a password). */
long conn_text_pct_decode(char *out, const char *s, size_t n);

/* ---- hex ---- */

/* The value (0 to 15) of the hex digit c (0-9, a-f, A-F), or -1. */
int conn_text_hex_digit(int c);
/* The value of the n hex digits at s (1 <= n <= 8: "00e9" for a JSON \u escape), or -1 when
 * one is not a hex digit or n is out of range. */
long conn_text_hex_value(const char *s, size_t n);
/* Writes the 2 * n lowercase hex digits of p[0..n) and a NUL into out (2 * n + 1 bytes). */
void conn_text_hex_encode(char *out, const void *p, size_t n);
/* Decodes the 2 * k hex digits s[0..n) (either case) into k bytes at out; returns k, or -1
 * when n is odd, a character is not a hex digit or k > cap. */
long conn_text_hex_decode(void *out, size_t cap, const char *s, size_t n);

/* ---- RFC 3339 times, in milliseconds since 1970-01-01T00:00:00Z ----
 * Parsed: "YYYY-MM-DD" ("T"|"t") "hh:mm:ss" ["." 1*DIGIT] ("Z"|"z"|("+"|"-") "hh:mm"), exactly
 * that (no space separator, no leading or trailing white space, no leap second: ss <= 59,
 * offsets up to 23:59, "-00:00" is UTC, the day checked against its month and leap years). The
 * fraction is truncated to milliseconds before the offset is applied; any number of its digits
 * is read. Years 0000 to 9999, so the result lies in [-62167305540000, 253402387139999]. */
#define CONN_TEXT_TIME_EPOCH53                                                                     \
	1u		      /* refuse a result outside [0, 2^53) ms: the range of a              \
			       * record's numeric ts (nothing before 1970) */
#define CONN_TEXT_TIME_LEN 32 /* buffer size for conn_text_time_format */

/* Parses s[0..n); 0 with *ms set, or -1 (*ms untouched) when s is anything else. */
int conn_text_time_parse(const char *s, size_t n, unsigned flags, int64_t *ms);
/* Formats ms as "YYYY-MM-DDThh:mm:ss.mmmZ" (always 24 bytes and a NUL; UTC, milliseconds)
 * into buf. Any int64 is taken: values outside years 0000..9999 are clamped to
 * 0000-01-01T00:00:00.000Z / 9999-12-31T23:59:59.999Z. conn_text_time_parse reads it back. */
void conn_text_time_format(int64_t ms, char buf[CONN_TEXT_TIME_LEN]);

/* ---- HOST:PORT ----
 * "HOST[:PORT]" or "[IPV6][:PORT]": HOST is 1 to 255 bytes with no ':', no '[' or ']', no '@',
 * '?' or '/', no space, control byte or DEL; in brackets the same but ':' is allowed (and a
 * zone "%eth0"). PORT is one or more ASCII digits (leading zeros allowed) with a value in
 * 1..65535, or 0..65535 with CONN_TEXT_HP_PORT0. The host is only checked for its syntax,
 * never resolved. */
#define CONN_TEXT_HP_PORT  1u /* the port is required */
#define CONN_TEXT_HP_EMPTY 2u /* the host may be empty: ":PORT" (every interface) */
#define CONN_TEXT_HP_PORT0 4u /* port 0 is allowed (listen: the system picks one) */

struct conn_hostport {
	char host[256]; /* without the brackets, NUL-terminated; "" for ":PORT" */
	int port;	/* the port, or -1 when none was written (the caller's default) */
	int bracketed;	/* 1: the host was written in brackets (an IPv6 literal) */
};

/* Parses s[0..n) as above into *hp. 0, or -1 when s does not match (*hp then undefined). */
int conn_text_hostport(const char *s, size_t n, unsigned flags, struct conn_hostport *hp);

#endif
