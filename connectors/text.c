/*
 * text.c -- the text codecs of text.h: UTF-8, JSON string escaping, percent and hex coding,
 * RFC 3339 times and HOST:PORT.
 *
 * Everything is byte arithmetic on explicit lengths (ASCII classes by hand, no <ctype.h>: no
 * locale can change a result). Calendar conversions use H. Hinnant's days-from-civil and
 * civil-from-days algorithms (proleptic Gregorian), exact over the years 0000..9999.
 *
 * Where the copies this replaces differed (issue 9):
 *   - RFC 3339: record.c's and alertmanager.c's parsers accepted the same text (same grammar,
 *     'T'/'t' and 'Z'/'z', any number of fraction digits, offsets to 23:59, ss <= 59); they
 *     differed only in the range of the result: the record's ts must lie in [0, 2^53) ms
 *     (CONN_TEXT_TIME_EPOCH53), Alertmanager's times take any 4-digit year (Go's zero time
 *     0001-01-01 included).
 *   - JSON escaping: log.c passed invalid UTF-8 through (a JSON log line could be invalid
 *     JSON) and wrote only \n short; config.c's dump wrote \n \r \t short and \ufffd for
 *     invalid bytes. The one policy is the dump's.
 *   - HOST:PORT: config.c check_listen took a port without leading zeros (a JSON integer) and
 *     looked only at the last ']' ("a]:80" passed); http.c read the port with strtoul (so
 *     " 80" passed) and left the host to getaddrinfo; store_redis.c took an optional port
 *     1..65535 with leading zeros and refused spaces, control bytes, '@', '?', '[', ']' in the
 *     host. The one grammar is store_redis.c's, with flags for a required port, an empty host
 *     and port 0 (the listen address).
 */
#include "connectors/text.h"

#include <string.h>

/* ---- UTF-8 ---- */

size_t conn_text_utf8_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c, lo = 0x80, hi = 0xbf;
	size_t need;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0; /* a continuation byte, an overlong lead (C0, C1) or above U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0; /* no overlong 3-byte form */
	else if (c == 0xed)
		hi = 0x9f; /* no surrogate */
	else if (c == 0xf0)
		lo = 0x90; /* no overlong 4-byte form */
	else if (c == 0xf4)
		hi = 0x8f; /* nothing above U+10FFFF */
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

int conn_text_utf8_valid(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k;

		if ((unsigned char)s[i] < 0x80) { /* the common case, without a call */
			i++;
			continue;
		}
		k = conn_text_utf8_len(s + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

/* ---- JSON strings ---- */

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* The escape of the character at s[0..n) (n >= 1) into esc (at least 6 bytes): its length, and
 * in *used the input bytes it stands for. */
static size_t json_unit(const char *s, size_t n, char esc[6], size_t *used)
{
	unsigned char c = (unsigned char)s[0];
	size_t k;

	*used = 1;
	switch (c) {
	case '"':
	case '\\':
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	case '\n':
		memcpy(esc, "\\n", 2);
		return 2;
	case '\r':
		memcpy(esc, "\\r", 2);
		return 2;
	case '\t':
		memcpy(esc, "\\t", 2);
		return 2;
	default:
		break;
	}
	if (c < 0x20) {
		memcpy(esc, "\\u00", 4);
		esc[4] = hex_lower[c >> 4];
		esc[5] = hex_lower[c & 15];
		return 6;
	}
	if (c < 0x80) {
		esc[0] = (char)c;
		return 1;
	}
	k = conn_text_utf8_len(s, n);
	if (!k) {
		memcpy(esc, "\\ufffd", 6);
		return 6;
	}
	memcpy(esc, s, k);
	*used = k;
	return k;
}

size_t conn_text_json_escape(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0, total = 0;
	int full = cap == 0;

	for (size_t i = 0; i < n;) {
		char esc[6];
		size_t used, k = json_unit(s + i, n - i, esc, &used);

		if (!full && o + k < cap) {
			memcpy(out + o, esc, k);
			o += k;
		} else {
			full = 1; /* what follows does not fit either: never half a unit */
		}
		total += k;
		i += used;
	}
	if (cap)
		out[o] = '\0';
	return total;
}

void conn_text_json_fput(FILE *f, const char *s, size_t n)
{
	char buf[512];
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t used, k;

		if (o + 6 > sizeof buf) {
			fwrite(buf, 1, o, f);
			o = 0;
		}
		k = json_unit(s + i, n - i, buf + o, &used);
		o += k;
		i += used;
	}
	if (o)
		fwrite(buf, 1, o, f);
}

/* ---- percent encoding ---- */

static int pct_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

size_t conn_text_pct_encode(char *out, const char *s, size_t n, unsigned flags)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (pct_safe(c) && !(i == 0 && c == '.' && (flags & CONN_TEXT_PCT_DOT))) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex_upper[c >> 4];
			out[o++] = hex_upper[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

long conn_text_pct_decode(char *out, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = n - i > 2 ? conn_text_hex_digit(s[i + 1]) : -1;
			int lo = hi < 0 ? -1 : conn_text_hex_digit(s[i + 2]);

			if (lo < 0)
				goto bad;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0)
			goto bad;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
bad:
	memset(out, 0, n + 1);
	return -1;
}

/* ---- hex ---- */

int conn_text_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long conn_text_hex_value(const char *s, size_t n)
{
	long v = 0;

	if (n < 1 || n > 8)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int d = conn_text_hex_digit((unsigned char)s[i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

void conn_text_hex_encode(char *out, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_lower[b[i] >> 4];
		out[2 * i + 1] = hex_lower[b[i] & 15];
	}
	out[2 * n] = '\0';
}

long conn_text_hex_decode(void *out, size_t cap, const char *s, size_t n)
{
	unsigned char *b = out;

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = conn_text_hex_digit((unsigned char)s[i]);
		int lo = conn_text_hex_digit((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		b[i / 2] = (unsigned char)(hi * 16 + lo);
	}
	return (long)(n / 2);
}

/* ---- RFC 3339 ---- */

#define TIME_MIN_MS (-62167219200000LL) /* 0000-01-01T00:00:00.000Z */
#define TIME_MAX_MS 253402300799999LL	/* 9999-12-31T23:59:59.999Z */

/* The n ASCII digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date of z days from 1970-01-01 (the inverse of days_from_civil). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int conn_text_time_parse(const char *s, size_t n, unsigned flags, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac = 0, off = 0;
	size_t i = 19;
	int64_t t;

	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return -1;
	if (s[i] == '.') {
		int nd = 0;

		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++)
			if (nd < 3)
				frac = frac * 10 + (s[i] - '0');
		if (nd == 0)
			return -1;
		for (; nd < 3; nd++)
			frac *= 10;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int oh, om;

		if (n - i < 6 || s[i + 3] != ':')
			return -1;
		oh = digits(s + i + 1, 2);
		om = digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		off = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return -1;
	}
	if (i != n)
		return -1;
	t = (((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec) * 1000 + frac -
	    (int64_t)off * 60000;
	if ((flags & CONN_TEXT_TIME_EPOCH53) && (t < 0 || t >= ((int64_t)1 << 53)))
		return -1;
	*ms = t;
	return 0;
}

/* Writes v as exactly w decimal digits (0 <= v < 10^w). */
static void put_digits(char *d, int v, int w)
{
	for (int i = w - 1; i >= 0; i--) {
		d[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void conn_text_time_format(int64_t ms, char buf[CONN_TEXT_TIME_LEN])
{
	int64_t days, rem;
	int y, mo, d;

	if (ms < TIME_MIN_MS)
		ms = TIME_MIN_MS;
	if (ms > TIME_MAX_MS)
		ms = TIME_MAX_MS;
	days = ms / 86400000;
	rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	/* YYYY-MM-DDThh:mm:ss.mmmZ */
	put_digits(buf, y, 4);
	buf[4] = '-';
	put_digits(buf + 5, mo, 2);
	buf[7] = '-';
	put_digits(buf + 8, d, 2);
	buf[10] = 'T';
	put_digits(buf + 11, (int)(rem / 3600000), 2);
	buf[13] = ':';
	put_digits(buf + 14, (int)(rem / 60000 % 60), 2);
	buf[16] = ':';
	put_digits(buf + 17, (int)(rem / 1000 % 60), 2);
	buf[19] = '.';
	put_digits(buf + 20, (int)(rem % 1000), 3);
	buf[23] = 'Z';
	buf[24] = '\0';
}

/* ---- HOST:PORT ---- */

/* A byte a host may hold (in brackets, ':' too). */
static int host_byte(unsigned char c, int bracketed)
{
	if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '@' || c == '?' || c == '/')
		return 0;
	return c != ':' || bracketed;
}

int conn_text_hostport(const char *s, size_t n, unsigned flags, struct conn_hostport *hp)
{
	const char *host = s, *hend, *port = NULL, *end = s + n;
	int bracketed = n > 0 && s[0] == '[';
	long v = 0;

	if (bracketed) {
		host = s + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		if (!hend || hend == host || (hend + 1 < end && hend[1] != ':'))
			return -1;
		if (hend + 1 < end)
			port = hend + 2;
	} else {
		hend = memchr(s, ':', n);
		if (hend)
			port = hend + 1;
		else
			hend = end;
	}
	if (hend - host > 255 || (hend == host && !(flags & CONN_TEXT_HP_EMPTY)))
		return -1;
	for (const char *p = host; p < hend; p++)
		if (!host_byte((unsigned char)*p, bracketed))
			return -1;
	if (!port && (flags & CONN_TEXT_HP_PORT))
		return -1;
	if (port) {
		if (port == end)
			return -1;
		for (const char *p = port; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			v = v * 10 + (*p - '0');
			if (v > 65535)
				return -1;
		}
		if (v == 0 && !(flags & CONN_TEXT_HP_PORT0))
			return -1;
	}
	memcpy(hp->host, host, (size_t)(hend - host));
	hp->host[hend - host] = '\0';
	hp->port = port ? (int)v : -1;
	hp->bracketed = bracketed;
	return 0;
}
