/*
 * fuzz_text.c -- fuzz target of the text codecs (connectors/text.h) and the endpoint spec
 * parser (connectors/endpoint.h).
 *
 * Every input goes through each function. Invariants: conn_text_utf8_valid agrees with a walk
 * of conn_text_utf8_len; a JSON escape is always a valid JSON string (parsed by jansson) equal
 * to the input with every invalid byte as U+FFFD, fits CONN_TEXT_JSON_MAX, and a short buffer
 * holds a prefix of it that is valid JSON too; percent and hex coding round-trip; an accepted
 * RFC 3339 time formats and parses back to itself (inside the formatter's years) and lies in
 * the flag's range; an accepted HOST:PORT keeps its bounds; an accepted endpoint has the fields
 * of its kind, a refusal has a message and nothing to free, and the display of a spec with a
 * password has "***" in it.
 */
#include "fuzz.h"
#include "connectors/endpoint.h"
#include "connectors/text.h"

#include <jansson.h>
#include <string.h>

/* The input with every byte that does not start a valid UTF-8 sequence as U+FFFD. */
static size_t sanitized(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t k = conn_text_utf8_len(s + i, n - i);

		if (!k) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		}
	}
	return o;
}

/* The escape e (elen bytes) in quotes parses as a JSON string; its value into *j. */
static json_t *parse_escape(const char *e, size_t elen)
{
	char *doc = malloc(elen + 3);
	json_t *j;

	FUZZ_CHECK(doc != NULL);
	doc[0] = '"';
	memcpy(doc + 1, e, elen);
	doc[elen + 1] = '"';
	j = json_loadb(doc, elen + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	free(doc);
	FUZZ_CHECK(j != NULL && json_is_string(j));
	return j;
}

static void check_utf8_json(const char *s, size_t n)
{
	size_t i = 0, walk_ok = 1, elen, slen;
	char *e = malloc(CONN_TEXT_JSON_MAX(n)), *want = malloc(3 * n + 1), small[17];
	json_t *j;

	FUZZ_CHECK(e && want);
	while (i < n) {
		size_t k = conn_text_utf8_len(s + i, n - i);

		FUZZ_CHECK(k <= 4 && k <= n - i);
		if (!k) {
			walk_ok = 0;
			break;
		}
		i += k;
	}
	FUZZ_CHECK(conn_text_utf8_valid(s, n) == (int)walk_ok);

	elen = conn_text_json_escape(e, CONN_TEXT_JSON_MAX(n), s, n);
	FUZZ_CHECK(elen < CONN_TEXT_JSON_MAX(n) && strlen(e) == elen);
	j = parse_escape(e, elen);
	slen = sanitized(s, n, want);
	FUZZ_CHECK(json_string_length(j) == slen && !memcmp(json_string_value(j), want, slen));
	json_decref(j);
	/* a short buffer: a prefix of the escape, valid on its own */
	FUZZ_CHECK(conn_text_json_escape(small, sizeof small, s, n) == elen);
	FUZZ_CHECK(strlen(small) <= elen && !memcmp(small, e, strlen(small)));
	json_decref(parse_escape(small, strlen(small)));
	free(e);
	free(want);
}

static void check_pct_hex(const char *s, size_t n)
{
	char *enc = malloc(3 * n + 1), *dec = malloc(3 * n + 1);
	unsigned char *raw = malloc(n / 2 + 1);
	long k;

	FUZZ_CHECK(enc && dec && raw);
	for (unsigned fl = 0; fl <= CONN_TEXT_PCT_DOT; fl++) {
		size_t elen = conn_text_pct_encode(enc, s, n, fl);

		FUZZ_CHECK(elen <= 3 * n && strlen(enc) == elen);
		k = conn_text_pct_decode(dec, enc, elen);
		if (memchr(s, '\0', n))
			FUZZ_CHECK(k == -1);
		else
			FUZZ_CHECK(k == (long)n && !memcmp(dec, s, n));
	}
	k = conn_text_pct_decode(dec, s, n);
	FUZZ_CHECK(k >= -1 && k <= (long)n);
	if (k >= 0)
		FUZZ_CHECK(dec[k] == '\0' && strlen(dec) == (size_t)k);

	conn_text_hex_encode(enc, s, n / 2);
	FUZZ_CHECK(conn_text_hex_decode(raw, n / 2 + 1, enc, strlen(enc)) == (long)(n / 2));
	FUZZ_CHECK(!memcmp(raw, s, n / 2));
	k = conn_text_hex_decode(raw, n / 2 + 1, s, n);
	FUZZ_CHECK(k == -1 || (size_t)k == n / 2);
	k = conn_text_hex_value(s, n);
	FUZZ_CHECK(k >= -1 && (n > 8 || k < (1L << (4 * n))));
	free(enc);
	free(dec);
	free(raw);
}

static void check_time(const char *s, size_t n)
{
	int64_t ms, again, back;
	char buf[CONN_TEXT_TIME_LEN];

	if (conn_text_time_parse(s, n, 0, &ms) == 0) {
		FUZZ_CHECK(ms >= -62167305540000LL && ms <= 253402387139999LL);
		conn_text_time_format(ms, buf);
		FUZZ_CHECK(strlen(buf) == 24);
		FUZZ_CHECK(conn_text_time_parse(buf, 24, 0, &back) == 0);
		if (ms >= -62167219200000LL && ms <= 253402300799999LL)
			FUZZ_CHECK(back == ms);
		if (conn_text_time_parse(s, n, CONN_TEXT_TIME_EPOCH53, &again) == 0)
			FUZZ_CHECK(again == ms && ms >= 0 && ms < (1LL << 53));
		else
			FUZZ_CHECK(ms < 0 || ms >= (1LL << 53));
	} else {
		FUZZ_CHECK(conn_text_time_parse(s, n, CONN_TEXT_TIME_EPOCH53, &ms) == -1);
	}
}

static void check_hostport(const char *s, size_t n)
{
	struct conn_hostport hp;

	for (unsigned fl = 0; fl < 8; fl++) {
		if (conn_text_hostport(s, n, fl, &hp) < 0)
			continue;
		FUZZ_CHECK(strlen(hp.host) <= 255 && strlen(hp.host) <= n);
		FUZZ_CHECK(hp.port >= -1 && hp.port <= 65535);
		FUZZ_CHECK(hp.port != -1 || !(fl & CONN_TEXT_HP_PORT));
		FUZZ_CHECK(hp.port != 0 || (fl & CONN_TEXT_HP_PORT0));
		FUZZ_CHECK(hp.host[0] || (fl & CONN_TEXT_HP_EMPTY));
		FUZZ_CHECK(!strchr(hp.host, ':') || hp.bracketed);
	}
}

static void check_endpoint(const char *spec)
{
	struct conn_endpoint ep;
	char err[256], shown[512];

	for (int role = CONN_ENDPOINT_SOURCE; role <= CONN_ENDPOINT_STORE; role++) {
		if (conn_endpoint_parse(spec, (enum conn_endpoint_role)role, &ep, err,
					sizeof err)) {
			FUZZ_CHECK(err[0] && ep.kind == CONN_ENDPOINT_NONE && !ep.mem_);
			continue;
		}
		FUZZ_CHECK(!err[0] && ep.where);
		switch (ep.kind) {
		case CONN_ENDPOINT_FILE:
		case CONN_ENDPOINT_DIR:
			FUZZ_CHECK(ep.path && ep.path[0]);
			break;
		case CONN_ENDPOINT_KAFKA:
			FUZZ_CHECK(ep.ntopics >= 1 && ep.topics[ep.ntopics] == NULL);
			FUZZ_CHECK(ep.ntopics == 1 || role == CONN_ENDPOINT_SOURCE);
			break;
		case CONN_ENDPOINT_REDIS:
			FUZZ_CHECK(ep.host && ep.host[0] && ep.port >= 1 && ep.port <= 65535);
			break;
		case CONN_ENDPOINT_REDIS_UNIX:
			FUZZ_CHECK(ep.path && ep.path[0] && strlen(ep.path) <= 107);
			break;
		default:
			FUZZ_CHECK(0);
		}
		FUZZ_CHECK(ep.db >= 0);
		if (ep.password) { /* the whole display fits a buffer of the spec's length + 4 */
			size_t cap = strlen(spec) + 4;
			char *all = malloc(cap);

			FUZZ_CHECK(all != NULL);
			FUZZ_CHECK(ep.password_len >= 1);
			FUZZ_CHECK(conn_endpoint_mask(spec, all, cap) < cap);
			FUZZ_CHECK(strstr(all, "***") != NULL);
			free(all);
		}
		conn_endpoint_free(&ep);
	}
	FUZZ_CHECK(conn_endpoint_mask(spec, shown, sizeof shown) >= 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char spec[1025];
	size_t n = size < sizeof spec - 1 ? size : sizeof spec - 1;

	check_utf8_json(s, size);
	check_pct_hex(s, size);
	check_time(s, size);
	check_hostport(s, size);
	memcpy(spec, data, n);
	spec[n] = '\0';
	check_endpoint(spec);
	return 0;
}

/* ---- seeds ---- */

static const char *const seeds[] = {
	"plain ascii",
	"caf\xc3\xa9 \xf0\x9f\x98\x80 \xed\xa0\x80 \xc0\xaf \xff q\"b\\ \n\t\x01",
	"a%20b%2F%zz%00",
	"0001abFF",
	"2026-11-26T21:14:00.123Z",
	"2026-11-26T22:14:00.9999+01:00",
	"0000-01-01T00:00:00+23:59",
	"1969-12-31T23:59:59.999Z",
	"2024-02-29T00:00:00-00:00",
	"[::1]:6380",
	"127.0.0.1:0",
	":9640",
	"file:-",
	"kafka:a,b.c",
	"dir:./driftd-store",
	"redis://alice:p%40ss@[::1]:6380/2",
	"redis://:hun@ter2:x@h/1",
	"redis+unix://:s3cret@/run/redis/redis.sock?db=1",
	"unix:/run/redis.sock?db=3",
	"rediss://:x@h",
};

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	return fuzz_seed_string(seeds, sizeof seeds / sizeof *seeds, buf, cap, i);
}
