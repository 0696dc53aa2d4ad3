/*
 * test_record.c -- unit tests of the inference log record decoders (connectors/record.h).
 *
 * The expectations come from tests/data/records/corpus.jsonl, written from the contract by
 * tests/gen/gen_record_corpus.py (never by running a decoder): every case goes through each
 * decoder built in and must give the expected record field by field (doubles bit for bit) or the
 * expected reason. Then the two decoders are run against each other -- the corpus and 50,000
 * seeded mutations of it (bit flips, structural characters and tokens set or inserted, ranges
 * deleted, duplicated or truncated), each under three sets of limits -- and must agree exactly.
 * That part is reported as a TAP "# SKIP" when simdjson is not built; RECORD_MUTATIONS=N in the
 * environment changes the number of mutations.
 *
 * Every message is decoded from an exact-size heap copy that is compared with the original
 * after the decode and freed before the record is read: an over-read, a write to the input or a
 * record pointing into the input shows up under ASan or as a failure.
 */
#include "connectors/record.h"
#include "testutil.h"
#include "record_same.h"

#include <math.h>
#include <string.h>

#define CORPUS	      "records/corpus.jsonl"
#define MUTATIONS     50000
#define MUTATE_MAXLEN 8192 /* corpus inputs longer than this are not mutated (speed) */

/* One corpus case. */
struct tcase {
	const char *name;	/* its "name" */
	unsigned char *input;	/* the raw message */
	size_t len;		/* its length */
	struct conn_limits lim; /* defaults with the case's "limits" applied */
	json_t *line;		/* the whole line ("reject" or "expect") */
};

static struct tcase *cases;
static size_t ncases;

/* ---- corpus ---- */

static unsigned char *append(unsigned char *buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (n == 0)
		return buf;
	if (*len + n > *cap) {
		*cap = (*len + n) * 2 + 16;
		buf = realloc(buf, *cap);
		assert_non_null(buf);
	}
	memcpy(buf + *len, p, n);
	*len += n;
	return buf;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Builds the raw message of a corpus line from input, input_hex or input_parts. */
static void case_input(struct tcase *c)
{
	json_t *in = json_object_get(c->line, "input");
	json_t *hex = json_object_get(c->line, "input_hex");
	json_t *parts = json_object_get(c->line, "input_parts");
	size_t len = 0, cap = 0;
	unsigned char *buf = NULL;

	if (in) {
		buf = append(buf, &len, &cap, json_string_value(in), json_string_length(in));
	} else if (hex) {
		const char *h = json_string_value(hex);
		size_t n = strlen(h);

		assert_true(n % 2 == 0);
		for (size_t i = 0; i < n; i += 2) {
			unsigned char b = (unsigned char)(hexval(h[i]) * 16 + hexval(h[i + 1]));
			buf = append(buf, &len, &cap, &b, 1);
		}
	} else {
		size_t i;
		json_t *p;

		assert_non_null(parts);
		json_array_foreach(parts, i, p)
		{
			json_t *t = json_array_get(p, 0);
			json_int_t k = json_integer_value(json_array_get(p, 1));

			for (json_int_t r = 0; r < k; r++)
				buf = append(buf, &len, &cap, json_string_value(t),
					     json_string_length(t));
		}
	}
	c->input = buf ? buf : malloc(1);
	c->len = len;
}

/* The corpus, loaded once (kept until exit). */
static void load_corpus(void)
{
	char path[1024];
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t n;
	FILE *f;

	if (cases)
		return;
	snprintf(path, sizeof path, "%s/%s", DRIFTD_TEST_DATA, CORPUS);
	f = fopen(path, "r");
	if (!f)
		fail_msg("%s: cannot open", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t err;
		struct tcase *c;
		json_t *lim, *v;
		const char *k;

		if (ncases == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			cases = realloc(cases, alloc * sizeof *cases);
			assert_non_null(cases);
		}
		c = &cases[ncases];
		c->line = json_loadb(line, (size_t)n, 0, &err);
		if (!c->line)
			fail_msg("%s:%zu: %s", path, ncases + 1, err.text);
		c->name = json_string_value(json_object_get(c->line, "name"));
		assert_non_null(c->name);
		case_input(c);
		conn_limits_default(&c->lim);
		lim = json_object_get(c->line, "limits");
		json_object_foreach(lim, k, v)
		{
			size_t x = (size_t)json_integer_value(v);

			if (!strcmp(k, "max_message"))
				c->lim.max_message = x;
			else if (!strcmp(k, "max_features"))
				c->lim.max_features = x;
			else if (!strcmp(k, "max_feature_name"))
				c->lim.max_feature_name = x;
			else if (!strcmp(k, "max_name"))
				c->lim.max_name = x;
			else if (!strcmp(k, "max_value"))
				c->lim.max_value = x;
			else if (!strcmp(k, "max_depth"))
				c->lim.max_depth = x;
			else
				fail_msg("%s: unknown limit %s", c->name, k);
		}
		ncases++;
	}
	free(line);
	fclose(f);
	if (ncases < 80)
		fail_msg("%s: only %zu cases", path, ncases);
}

/* ---- decoding and comparing ---- */

static struct conn_decoder *decoder(enum conn_decoder_kind kind, const struct conn_limits *l)
{
	char err[256] = "";
	struct conn_decoder *d = conn_decoder_new(kind, l, err, sizeof err);

	if (!d)
		fail_msg("conn_decoder_new(%d): %s", (int)kind, err);
	assert_int_equal(conn_decoder_kind(d), kind);
	return d;
}

/* Decodes in[0..len) from an exact-size copy, checks the copy is untouched, frees it. */
static enum conn_reject decode(struct conn_decoder *d, const unsigned char *in, size_t len,
			       struct conn_record *r)
{
	unsigned char *copy = malloc(len ? len : 1);
	enum conn_reject e;

	assert_non_null(copy);
	if (len)
		memcpy(copy, in, len);
	e = conn_decode(d, (const char *)copy, len, r);
	if (len && memcmp(copy, in, len) != 0)
		fail_msg("conn_decode modified its input");
	free(copy);
	return e;
}

static const char *kind_name(enum conn_decoder_kind k)
{
	return k == CONN_DECODER_SIMDJSON ? "simdjson" : "jansson";
}

/* ---- expectations ---- */

static void want_bytes(const char *cname, const char *what, const char *got, size_t len,
		       const json_t *want)
{
	if (!json_is_string(want))
		fail_msg("%s: %s: bad expectation", cname, what);
	if (!got || !same_bytes(got, len, json_string_value(want), json_string_length(want)))
		fail_msg("%s: %s: got \"%.*s\" (%zu bytes), want \"%s\"", cname, what,
			 got ? (int)(len > 200 ? 200 : len) : 6, got ? got : "(null)", len,
			 json_string_value(want));
}

static void want_double(const char *cname, const char *what, double got, const json_t *want)
{
	double w = json_number_value(want);

	if (!json_is_number(want) || !same_double(got, w))
		fail_msg("%s: %s: got %.17g, want %.17g", cname, what, got, w);
}

/* want: NULL (missing) or [kind, value]. */
static void want_value(const char *cname, const char *what, const struct conn_value *v,
		       const json_t *want)
{
	const char *kind = want ? json_string_value(json_array_get(want, 0)) : "missing";
	const json_t *x = want ? json_array_get(want, 1) : NULL;
	static const char *const kinds[] = { "missing", "number", "string", "bool" };

	if (!strcmp(kind, "nonfinite")) { /* NaN, Infinity, -Infinity */
		const char *t = json_string_value(x);

		if (v->kind != CONN_VALUE_NUMBER || isfinite(v->num) ||
		    strcmp(t, isnan(v->num) ? "nan"
			      : v->num > 0  ? "inf"
					    : "-inf") != 0)
			fail_msg("%s: %s: kind %d value %g, want %s", cname, what, (int)v->kind,
				 v->num, t);
		return;
	}
	if ((unsigned)v->kind > 3 || strcmp(kinds[v->kind], kind) != 0)
		fail_msg("%s: %s: kind %d, want %s", cname, what, (int)v->kind, kind);
	if (v->kind == CONN_VALUE_NUMBER)
		want_double(cname, what, v->num, x);
	else if (v->kind == CONN_VALUE_STRING)
		want_bytes(cname, what, v->str, v->len, x);
	else if (v->kind == CONN_VALUE_BOOL && v->b != json_is_true(x))
		fail_msg("%s: %s: got %d", cname, what, v->b);
}

static void want_record(const char *cname, const struct conn_record *r, const json_t *e)
{
	const json_t *v, *fs = json_object_get(e, "features");
	size_t i;

	want_bytes(cname, "model", r->model, r->model_len, json_object_get(e, "model"));
	want_bytes(cname, "version", r->version, r->version_len, json_object_get(e, "version"));
	if ((v = json_object_get(e, "request_id")))
		want_bytes(cname, "request_id", r->request_id, r->request_id_len, v);
	else if (r->request_id)
		fail_msg("%s: request_id present", cname);
	if ((v = json_object_get(e, "ts_ms"))) {
		if (!r->has_ts || r->ts_ms != (int64_t)json_integer_value(v))
			fail_msg("%s: ts_ms: got %d/%lld, want %lld", cname, r->has_ts,
				 (long long)r->ts_ms, (long long)json_integer_value(v));
	} else if (r->has_ts) {
		fail_msg("%s: ts present", cname);
	}
	if ((v = json_object_get(e, "latency_ms"))) {
		assert_true(r->has_latency);
		want_double(cname, "latency_ms", r->latency_ms, v);
	} else if (r->has_latency) {
		fail_msg("%s: latency present", cname);
	}
	if ((v = json_object_get(e, "error"))) {
		if (!r->has_error || r->error != json_is_true(v))
			fail_msg("%s: error: got %d/%d", cname, r->has_error, r->error);
	} else if (r->has_error) {
		fail_msg("%s: error present", cname);
	}
	want_value(cname, "prediction", &r->prediction, json_object_get(e, "prediction"));
	if (r->prediction_nonfinite != json_is_true(json_object_get(e, "prediction_nonfinite")))
		fail_msg("%s: prediction_nonfinite %d", cname, r->prediction_nonfinite);
	want_value(cname, "label", &r->label, json_object_get(e, "label"));
	if (r->nfeatures != json_array_size(fs))
		fail_msg("%s: %zu features, want %zu", cname, r->nfeatures, json_array_size(fs));
	json_array_foreach(fs, i, v)
	{
		const struct conn_feature *f = &r->features[i];
		json_t *want = json_pack("[OO]", json_array_get(v, 1), json_array_get(v, 2));
		char what[64];

		snprintf(what, sizeof what, "feature %zu", i);
		want_bytes(cname, what, f->name, f->name_len, json_array_get(v, 0));
		want_value(cname, what, &f->value, want);
		json_decref(want);
	}
}

/* Every corpus case through a decoder of the given kind. */
static void run_corpus(enum conn_decoder_kind kind)
{
	struct conn_decoder *dflt;
	size_t nreject = 0;

	load_corpus();
	dflt = decoder(kind, &cases[0].lim);
	for (size_t i = 0; i < ncases; i++) {
		const struct tcase *c = &cases[i];
		const json_t *rej = json_object_get(c->line, "reject");
		struct conn_decoder *d =
		    json_object_get(c->line, "limits") ? decoder(kind, &c->lim) : dflt;
		struct conn_record r;
		enum conn_reject e = decode(d, c->input, c->len, &r);

		if (rej) {
			if (strcmp(conn_reject_name(e), json_string_value(rej)) != 0)
				fail_msg("%s [%s]: got %s, want %s", c->name, kind_name(kind),
					 conn_reject_name(e), json_string_value(rej));
			nreject++;
		} else {
			if (e != CONN_REJECT_NONE)
				fail_msg("%s [%s]: rejected as %s", c->name, kind_name(kind),
					 conn_reject_name(e));
			want_record(c->name, &r, json_object_get(c->line, "expect"));
		}
		if (d != dflt)
			conn_decoder_free(d);
	}
	printf("# %s: %zu corpus cases (%zu rejections)\n", kind_name(kind), ncases, nreject);
	conn_decoder_free(dflt);
}

static void test_corpus_jansson(void **state)
{
	(void)state;
	run_corpus(CONN_DECODER_JANSSON);
}

static void test_corpus_simdjson(void **state)
{
	(void)state;
	if (conn_decoder_available(CONN_DECODER_SIMDJSON))
		run_corpus(CONN_DECODER_SIMDJSON);
}

/* ---- differential ---- */

/* The limit sets the decoders are compared under. */
static void limit_sets(struct conn_limits l[3])
{
	conn_limits_default(&l[0]);
	l[1] = l[0];
	l[1].max_features = 3;
	l[1].max_feature_name = 4;
	l[1].max_name = 5;
	l[1].max_value = 3;
	l[1].max_depth = 3;
	l[2] = l[0];
	l[2].max_depth = 1; /* simdjson hands nearly everything to the exact validator */
}

static void hexdump(const unsigned char *p, size_t len)
{
	printf("# input (%zu bytes):", len);
	for (size_t i = 0; i < len && i < 4096; i++)
		printf("%s%02x", i % 32 ? "" : "\n# ", p[i]);
	printf("\n");
}

/* Runs both decoders on one input; fails with details on any difference. */
static void agree(struct conn_decoder *j, struct conn_decoder *s, const unsigned char *in,
		  size_t len, const char *what, size_t counts[CONN_REJECT_COUNT])
{
	struct conn_record rj, rs;
	enum conn_reject ej = decode(j, in, len, &rj);
	enum conn_reject es = decode(s, in, len, &rs);
	const char *why = NULL;

	if (ej != es || (ej == CONN_REJECT_NONE && !same_record(&rj, &rs, &why))) {
		hexdump(in, len);
		fail_msg("%s: jansson %s, simdjson %s%s%s", what, conn_reject_name(ej),
			 conn_reject_name(es), why ? ", differ in " : "", why ? why : "");
	}
	counts[ej]++;
}

static const char *const tokens[] = {
	"{",
	"}",
	"[",
	"]",
	",",
	":",
	"\"",
	"\\",
	" ",
	"0",
	"-0",
	"1e400",
	"1e-400",
	"01",
	"1.",
	".5",
	"true",
	"false",
	"null",
	"nul",
	"\\u0000",
	"\\ud800",
	"\\udc00",
	"\\u00e9",
	"\xc3",
	"\xff",
	"\xed\xa0\x80",
	"\"a\":1",
	"\"model\":\"m\"",
	"\"version\":\"v\"",
	"{\"a\":1}",
	"\"features\":{",
	"\"ts\":\"2026-11-26T21:14:00Z\"",
	"[[[[[[[[",
	"]]]]]]]]",
	"1e99999999999999999999",
	"\"x\":{\"y\":1,\"y\":2}",
	"\x00",
};

/* Well-formed values a member's value is replaced with. */
static const char *const values[] = {
	"1",
	"-0",
	"0.5",
	"1795730000123",
	"9007199254740992",
	"-1",
	"1e400",
	"1e-400",
	"0e99999999999999999999",
	"\"x\"",
	"\"\"",
	"\"\\u00e9\"",
	"\"\\u0000\"",
	"\"2026-11-26T21:14:00.5+01:00\"",
	"\"2026-02-30T00:00:00Z\"",
	"null",
	"true",
	"false",
	"[]",
	"{}",
	"[1,\"a\"]",
	"{\"a\":1}",
	"{\"a\":1,\"a\":2}",
	"{\"a\":[]}",
	"{\"\":1}",
	"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
};

/* Keys a member's key is replaced with. */
static const char *const keys[] = {
	"model", "version",  "request_id", "ts", "latency_ms",	"error", "prediction",
	"label", "features", "x",	   "",	 "mod\\u0065l", "a",	 "f0000",
};

/* Replaces the bytes [from, to) of buf (len bytes, room for cap) with t. */
static size_t splice(unsigned char *buf, size_t len, size_t cap, size_t from, size_t to,
		     const char *t)
{
	size_t n = strlen(t);

	if (len - (to - from) + n > cap)
		return len;
	memmove(buf + from + n, buf + to, len - to);
	memcpy(buf + from, t, n);
	return len - (to - from) + n;
}

/* A position of byte c in buf chosen at random, or len. */
static size_t find_random(struct tu_rng *g, const unsigned char *buf, size_t len, unsigned char c)
{
	size_t start = len ? (size_t)(tu_next(g) % len) : 0;

	for (size_t i = 0; i < len; i++) {
		size_t at = (start + i) % len;

		if (buf[at] == c)
			return at;
	}
	return len;
}

/* 1 or 2 random edits of buf (len bytes, room for cap); returns the new length. Half of them
 * keep the text well-formed more often than not (a member's value or key replaced). */
static size_t mutate(struct tu_rng *g, unsigned char *buf, size_t len, size_t cap)
{
	unsigned rounds = 1 + (unsigned)(tu_next(g) % 2);

	while (rounds--) {
		size_t at = len ? (size_t)(tu_next(g) % len) : 0;

		switch (tu_next(g) % 14) {
		case 7: /* replace a member's value (naively: up to the next ',' or '}') */
		case 8:
		case 9:
		case 10: {
			size_t c = find_random(g, buf, len, ':'), e;

			if (c == len)
				break;
			for (e = c + 1; e < len && buf[e] != ',' && buf[e] != '}'; e++)
				;
			len = splice(buf, len, cap, c + 1, e,
				     values[tu_next(g) % (sizeof values / sizeof *values)]);
			break;
		}
		case 11: /* replace a key (the string before a ':') */
		case 12: {
			size_t c = find_random(g, buf, len, ':'), b;

			if (c == len || c < 2 || buf[c - 1] != '"')
				break;
			for (b = c - 2; b > 0 && buf[b] != '"'; b--)
				;
			len = splice(buf, len, cap, b + 1, c - 1,
				     keys[tu_next(g) % (sizeof keys / sizeof *keys)]);
			break;
		}
		case 13: /* duplicate a member: copy ',"k":v' after itself */
		{
			size_t c = find_random(g, buf, len, ','), e;
			char tmp[64];

			if (c == len)
				break;
			for (e = c + 1;
			     e < len && e - c < sizeof tmp - 1 && buf[e] != ',' && buf[e] != '}';
			     e++)
				;
			memcpy(tmp, buf + c, e - c);
			tmp[e - c] = '\0';
			len = splice(buf, len, cap, e, e, tmp);
			break;
		}
		case 0: /* flip a bit */
			if (len)
				buf[at] ^= (unsigned char)(1u << (tu_next(g) % 8));
			break;
		case 1: /* overwrite with a token */
		case 2: /* insert a token */
		{
			const char *t = tokens[tu_next(g) % (sizeof tokens / sizeof *tokens)];
			size_t n = t[0] ? strlen(t) : 1;
			int insert = tu_next(g) & 1;

			if (len + n > cap)
				break;
			if (insert)
				memmove(buf + at + n, buf + at, len - at);
			else if (at + n > len)
				break;
			memcpy(buf + at, t, n);
			if (insert)
				len += n;
			break;
		}
		case 3: /* delete a range */
			if (len) {
				size_t n = 1 + (size_t)(tu_next(g) % 8);

				if (n > len - at)
					n = len - at;
				memmove(buf + at, buf + at + n, len - at - n);
				len -= n;
			}
			break;
		case 4: /* truncate */
			len = at;
			break;
		case 5: /* duplicate a range somewhere else */
			if (len) {
				unsigned char tmp[16];
				size_t n = 1 + (size_t)(tu_next(g) % sizeof tmp);
				size_t to = (size_t)(tu_next(g) % (len + 1));

				if (n > len - at)
					n = len - at;
				if (len + n > cap)
					break;
				memcpy(tmp, buf + at, n);
				memmove(buf + to + n, buf + to, len - to);
				memcpy(buf + to, tmp, n);
				len += n;
			}
			break;
		default: /* swap two bytes */
			if (len) {
				size_t b = (size_t)(tu_next(g) % len);
				unsigned char t = buf[at];

				buf[at] = buf[b];
				buf[b] = t;
			}
			break;
		}
	}
	return len;
}

static void test_differential(void **state)
{
	struct conn_limits l[3];
	struct conn_decoder *dj[3], *ds[3];
	struct tu_rng g = { 0x5eed0fd1ffull };
	size_t counts[CONN_REJECT_COUNT] = { 0 }, nbase = 0, *base;
	unsigned long mutations = MUTATIONS;
	const char *env = getenv("RECORD_MUTATIONS");
	unsigned char *buf;
	char what[128];

	(void)state;
	if (env)
		mutations = strtoul(env, NULL, 10);
	if (!conn_decoder_available(CONN_DECODER_SIMDJSON))
		return; /* reported as SKIP by its name */
	load_corpus();
	limit_sets(l);
	for (int k = 0; k < 3; k++) {
		dj[k] = decoder(CONN_DECODER_JANSSON, &l[k]);
		ds[k] = decoder(CONN_DECODER_SIMDJSON, &l[k]);
	}
	base = malloc(ncases * sizeof *base);
	buf = malloc(MUTATE_MAXLEN + 256);
	assert_non_null(base);
	assert_non_null(buf);
	for (size_t i = 0; i < ncases; i++) {
		for (int k = 0; k < 3; k++) {
			snprintf(what, sizeof what, "corpus %s, limits %d", cases[i].name, k);
			agree(dj[k], ds[k], cases[i].input, cases[i].len, what, counts);
		}
		if (cases[i].len <= MUTATE_MAXLEN)
			base[nbase++] = i;
	}
	for (unsigned long it = 0; it < mutations; it++) {
		const struct tcase *c = &cases[base[tu_next(&g) % nbase]];
		size_t len;

		memcpy(buf, c->input, c->len);
		len = mutate(&g, buf, c->len, MUTATE_MAXLEN + 256);
		for (int k = 0; k < 3; k++) {
			snprintf(what, sizeof what, "mutation %lu of %s, limits %d", it, c->name,
				 k);
			agree(dj[k], ds[k], buf, len, what, counts);
		}
	}
	printf("# differential: %lu decodes agreed;", (ncases + mutations) * 3);
	for (int r = 0; r < CONN_REJECT_COUNT; r++)
		if (counts[r])
			printf(" %s %zu", conn_reject_name((enum conn_reject)r), counts[r]);
	printf("\n");
	for (int k = 0; k < 3; k++) {
		conn_decoder_free(dj[k]);
		conn_decoder_free(ds[k]);
	}
	free(base);
	free(buf);
}

/* ---- limits, names, lifecycle ---- */

static const char spec_record[] =
    "{\"model\":\"fraud\",\"version\":\"v2.4.0\",\"request_id\":\"7f3a9c\","
    "\"ts\":1795730000123,\"latency_ms\":12.7,\"prediction\":0.83,\"label\":1,"
    "\"error\":false,\"features\":{\"amount\":132.5,\"age\":41,\"country\":\"DE\","
    "\"device\":\"ios\",\"is_new\":true}}";

/* The spec record under l with each decoder built in: both must give want. */
static void spec_under(const struct conn_limits *l, enum conn_reject want)
{
	for (int k = CONN_DECODER_JANSSON; k <= CONN_DECODER_SIMDJSON; k++) {
		struct conn_decoder *d;
		struct conn_record r;
		enum conn_reject e;

		if (!conn_decoder_available((enum conn_decoder_kind)k))
			continue;
		d = decoder((enum conn_decoder_kind)k, l);
		e = decode(d, (const unsigned char *)spec_record, sizeof spec_record - 1, &r);
		if (e != want)
			fail_msg("%s: got %s, want %s", kind_name((enum conn_decoder_kind)k),
				 conn_reject_name(e), conn_reject_name(want));
		conn_decoder_free(d);
	}
}

static void test_limits_configurable(void **state)
{
	struct conn_limits l, bad;
	char err[256];

	(void)state;
	conn_limits_default(&l);
	assert_int_equal(l.max_message, 1 << 20);
	assert_int_equal(l.max_features, 1024);
	assert_int_equal(l.max_feature_name, 128);
	assert_int_equal(l.max_name, 128);
	assert_int_equal(l.max_value, 1024);
	assert_int_equal(l.max_depth, 32);
	spec_under(&l, CONN_REJECT_NONE);

	l.max_message = sizeof spec_record - 1;
	spec_under(&l, CONN_REJECT_NONE);
	l.max_message--;
	spec_under(&l, CONN_REJECT_TOO_LARGE);
	conn_limits_default(&l);
	l.max_name = 6; /* "v2.4.0" */
	spec_under(&l, CONN_REJECT_NONE);
	l.max_name = 5;
	spec_under(&l, CONN_REJECT_BAD_VERSION);
	l.max_name = 4; /* "fraud" */
	spec_under(&l, CONN_REJECT_BAD_MODEL);
	conn_limits_default(&l);
	l.max_features = 5;
	spec_under(&l, CONN_REJECT_NONE);
	l.max_features = 4;
	spec_under(&l, CONN_REJECT_TOO_MANY_FEATURES);
	conn_limits_default(&l);
	l.max_feature_name = 7; /* "country" */
	spec_under(&l, CONN_REJECT_NONE);
	l.max_feature_name = 6;
	spec_under(&l, CONN_REJECT_BAD_FEATURE_NAME);
	conn_limits_default(&l);
	l.max_value = 3; /* "ios" */
	spec_under(&l, CONN_REJECT_NONE);
	l.max_value = 2;
	spec_under(&l, CONN_REJECT_BAD_FEATURE_VALUE);
	conn_limits_default(&l);
	l.max_depth = 2;
	spec_under(&l, CONN_REJECT_NONE);
	l.max_depth = 1;
	spec_under(&l, CONN_REJECT_TOO_DEEP);

	/* out-of-range limits are refused with a message */
	conn_limits_default(&l);
	for (int i = 0; i < 8; i++) {
		bad = l;
		switch (i) {
		case 0:
			bad.max_depth = 0;
			break;
		case 1:
			bad.max_depth = 1025;
			break;
		case 2:
			bad.max_message = 0;
			break;
		case 3:
			bad.max_message = ((size_t)1 << 30) + 1;
			break;
		case 4:
			bad.max_features = 0;
			break;
		case 5:
			bad.max_feature_name = 0;
			break;
		case 6:
			bad.max_name = 0;
			break;
		default:
			bad.max_value = 0;
			break;
		}
		err[0] = '\0';
		assert_null(conn_decoder_new(CONN_DECODER_JANSSON, &bad, err, sizeof err));
		assert_true(strlen(err) > 0);
	}
	bad = l;
	bad.max_depth = 1024;
	conn_decoder_free(decoder(CONN_DECODER_JANSSON, &bad));
}

static void test_reason_names(void **state)
{
	static const char *const want[CONN_REJECT_COUNT] = {
		"none",
		"too_large",
		"bad_json",
		"too_deep",
		"not_object",
		"duplicate_key",
		"missing_model",
		"bad_model",
		"missing_version",
		"bad_version",
		"bad_request_id",
		"bad_ts",
		"bad_latency",
		"bad_error",
		"bad_prediction",
		"bad_label",
		"bad_features",
		"too_many_features",
		"bad_feature_name",
		"bad_feature_value",
	};

	(void)state;
	assert_int_equal(CONN_REJECT_COUNT, 20);
	for (int i = 0; i < CONN_REJECT_COUNT; i++) {
		const char *n = conn_reject_name((enum conn_reject)i);

		assert_string_equal(n, want[i]);
		for (const char *p = n; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, conn_reject_name((enum conn_reject)j));
	}
	assert_string_equal(conn_reject_name(CONN_REJECT_COUNT), "unknown");
	assert_string_equal(conn_reject_name((enum conn_reject) - 1), "unknown");
}

static void test_decoder_kinds(void **state)
{
	struct conn_limits l;
	struct conn_decoder *d;
	char err[256] = "";
	int sj = conn_decoder_available(CONN_DECODER_SIMDJSON);

	(void)state;
	conn_limits_default(&l);
	assert_true(conn_decoder_available(CONN_DECODER_JANSSON));
	assert_true(conn_decoder_available(CONN_DECODER_AUTO));
	assert_false(conn_decoder_available((enum conn_decoder_kind)7));
	d = conn_decoder_new(CONN_DECODER_AUTO, &l, err, sizeof err);
	assert_non_null(d);
	assert_int_equal(conn_decoder_kind(d), sj ? CONN_DECODER_SIMDJSON : CONN_DECODER_JANSSON);
	conn_decoder_free(d);
	conn_decoder_free(NULL);
	d = conn_decoder_new(CONN_DECODER_SIMDJSON, &l, err, sizeof err);
	if (sj) {
		assert_non_null(d);
		conn_decoder_free(d);
	} else {
		assert_null(d);
		assert_non_null(strstr(err, "simdjson"));
	}
	err[0] = '\0';
	assert_null(conn_decoder_new((enum conn_decoder_kind)7, &l, err, sizeof err));
	assert_true(strlen(err) > 0);
}

/* The record stays valid until the next decode on the same decoder, whatever other decoders
 * do; a rejected message, an empty one and a NULL buffer of length 0 are fine. */
static void test_record_lifetime(void **state)
{
	static const char a[] = "{\"model\":\"alpha\",\"version\":\"1\",\"features\":"
				"{\"k\":\"v1\"}}";
	static const char b[] =
	    "{\"model\":\"beta\",\"version\":\"2\",\"features\":{\"k\":\"v2\"}}";
	struct conn_limits l;

	(void)state;
	conn_limits_default(&l);
	for (int k = CONN_DECODER_JANSSON; k <= CONN_DECODER_SIMDJSON; k++) {
		struct conn_decoder *d, *other;
		struct conn_record ra, rb, ro;

		if (!conn_decoder_available((enum conn_decoder_kind)k))
			continue;
		d = decoder((enum conn_decoder_kind)k, &l);
		other = decoder((enum conn_decoder_kind)k, &l);
		assert_int_equal(decode(d, (const unsigned char *)a, sizeof a - 1, &ra), 0);
		assert_int_equal(decode(other, (const unsigned char *)b, sizeof b - 1, &ro), 0);
		assert_int_equal(decode(other, (const unsigned char *)"[", 1, &ro),
				 CONN_REJECT_BAD_JSON);
		assert_true(same_bytes(ra.model, ra.model_len, "alpha", 5));
		assert_true(
		    same_bytes(ra.features[0].value.str, ra.features[0].value.len, "v1", 2));
		assert_int_equal(decode(d, (const unsigned char *)b, sizeof b - 1, &rb), 0);
		assert_true(same_bytes(rb.model, rb.model_len, "beta", 4));
		assert_true(
		    same_bytes(rb.features[0].value.str, rb.features[0].value.len, "v2", 2));
		assert_int_equal(conn_decode(d, NULL, 0, &rb), CONN_REJECT_BAD_JSON);
		assert_int_equal(decode(d, (const unsigned char *)"", 0, &rb),
				 CONN_REJECT_BAD_JSON);
		conn_decoder_free(d);
		conn_decoder_free(other);
	}
}

int main(void)
{
	int sj = conn_decoder_available(CONN_DECODER_SIMDJSON);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_decoder_kinds),
		cmocka_unit_test(test_limits_configurable),
		cmocka_unit_test(test_record_lifetime),
		cmocka_unit_test(test_corpus_jansson),
		{ sj ? "test_corpus_simdjson" : "test_corpus_simdjson # SKIP simdjson not built",
		  test_corpus_simdjson, NULL, NULL, NULL },
		{ sj ? "test_differential" : "test_differential # SKIP simdjson not built",
		  test_differential, NULL, NULL, NULL },
	};

	return TU_RUN(tests);
}
