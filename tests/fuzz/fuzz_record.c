/*
 * fuzz_record.c -- differential fuzz target of the record decoders (connectors/record.h).
 *
 * Every input is decoded by the jansson and the simdjson decoder under two sets of limits (the
 * defaults, and tight ones where every limit is reachable by a short input), and the two must
 * agree exactly: the same reason, or the same record field by field (strings by content,
 * doubles bit for bit). Every accepted record must also keep the contract's promises: names
 * and values within their limits and free of NUL bytes, ts in [0, 2^53), latency finite and not
 * negative, numbers finite but a feature's (a non-finite literal), at most max_features
 * features. Without simdjson the jansson decoder
 * is checked against a second jansson decoder (determinism, independent state) and the same
 * promises. The decoders are made once and reused, as in the agent.
 */
#include "fuzz.h"
#include "record_same.h"
#include "connectors/record.h"

#include <math.h>
#include <string.h>

#define NLIMITS 2

/* ---- invariants ---- */

static void check_same(const struct conn_record *a, const struct conn_record *b)
{
	const char *why = "";

	if (!same_record(a, b, &why)) {
		fprintf(stderr, "the decoders disagree on %s\n", why);
		abort();
	}
}

static void check_text(const char *s, size_t len, size_t min, size_t max)
{
	FUZZ_CHECK(len >= min && len <= max);
	FUZZ_CHECK(len == 0 || (s && !memchr(s, '\0', len)));
}

/* nonfinite: the value may be a non-finite number (a feature's; the literals NaN, Infinity,
 * -Infinity). */
static void check_value(const struct conn_value *v, const struct conn_limits *l, int nonfinite)
{
	switch (v->kind) {
	case CONN_VALUE_MISSING:
		break;
	case CONN_VALUE_NUMBER:
		FUZZ_CHECK(nonfinite || isfinite(v->num));
		break;
	case CONN_VALUE_STRING:
		check_text(v->str, v->len, 0, l->max_value);
		break;
	case CONN_VALUE_BOOL:
		FUZZ_CHECK(v->b == 0 || v->b == 1);
		break;
	default:
		FUZZ_CHECK(!"value kind");
	}
}

static void check_record(const struct conn_record *r, const struct conn_limits *l)
{
	check_text(r->model, r->model_len, 1, l->max_name);
	check_text(r->version, r->version_len, 1, l->max_name);
	if (r->request_id)
		check_text(r->request_id, r->request_id_len, 0, l->max_name);
	if (r->has_ts)
		FUZZ_CHECK(r->ts_ms >= 0 && r->ts_ms < ((int64_t)1 << 53));
	if (r->has_latency)
		FUZZ_CHECK(r->latency_ms >= 0 && isfinite(r->latency_ms) &&
			   !signbit(r->latency_ms));
	if (r->has_error)
		FUZZ_CHECK(r->error == 0 || r->error == 1);
	check_value(&r->prediction, l, 0);
	check_value(&r->label, l, 0);
	FUZZ_CHECK(!r->prediction_nonfinite || r->prediction.kind == CONN_VALUE_MISSING);
	FUZZ_CHECK(r->nfeatures <= l->max_features);
	for (size_t i = 0; i < r->nfeatures; i++) {
		check_text(r->features[i].name, r->features[i].name_len, 1, l->max_feature_name);
		check_value(&r->features[i].value, l, 1);
	}
}

/* ---- target ---- */

static struct conn_decoder *dec[NLIMITS][2]; /* [limits][reference, other] */
static struct conn_limits lim[NLIMITS];

static void setup(void)
{
	enum conn_decoder_kind other = conn_decoder_available(CONN_DECODER_SIMDJSON)
					   ? CONN_DECODER_SIMDJSON
					   : CONN_DECODER_JANSSON;
	char err[256];

	conn_limits_default(&lim[0]);
	lim[1] = lim[0];
	lim[1].max_message = 4096;
	lim[1].max_features = 3;
	lim[1].max_feature_name = 4;
	lim[1].max_name = 5;
	lim[1].max_value = 6;
	lim[1].max_depth = 3;
	for (int k = 0; k < NLIMITS; k++) {
		dec[k][0] = conn_decoder_new(CONN_DECODER_JANSSON, &lim[k], err, sizeof err);
		dec[k][1] = conn_decoder_new(other, &lim[k], err, sizeof err);
		FUZZ_CHECK(dec[k][0] && dec[k][1]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dec[0][0])
		setup();
	for (int k = 0; k < NLIMITS; k++) {
		struct conn_record a, b;
		enum conn_reject ra = conn_decode(dec[k][0], (const char *)data, size, &a);
		enum conn_reject rb = conn_decode(dec[k][1], (const char *)data, size, &b);

		if (ra != rb)
			fprintf(stderr, "limits %d: jansson %s, other %s\n", k,
				conn_reject_name(ra), conn_reject_name(rb));
		FUZZ_CHECK(ra == rb);
		FUZZ_CHECK((unsigned)ra < CONN_REJECT_COUNT);
		FUZZ_CHECK(size <= lim[k].max_message || ra == CONN_REJECT_TOO_LARGE);
		if (ra != CONN_REJECT_NONE)
			continue;
		check_record(&a, &lim[k]);
		check_same(&a, &b);
	}
	return 0;
}

/* ---- seeds ---- */

static const char *const seeds[] = {
	"{\"model\":\"fraud\",\"version\":\"v2.4.0\",\"request_id\":\"7f3a9c\",\"ts\":"
	"1795730000123,"
	"\"latency_ms\":12.7,\"prediction\":0.83,\"label\":1,\"error\":false,\"features\":{"
	"\"amount\":132.5,\"age\":41,\"country\":\"DE\",\"device\":\"ios\",\"is_new\":true}}",
	"{\"model\":\"m\",\"version\":\"v\"}",
	"{\"model\":\"m\",\"version\":\"v\",\"ts\":\"2026-11-26T23:14:00.123456+02:00\","
	"\"prediction\":\"fraud\",\"label\":null}",
	"{\"features\":{\"n\":-0,\"s\":\"\",\"t\":true,\"z\":null,\"\\u00e9\":\"\\ud83d\\ude00\"},"
	"\"version\":\"v\",\"model\":\"m\"}",
	"{\"mod\\u0065l\":\"m\",\"version\":\"v\",\"meta\":{\"a\":[1,{\"b\":null}],\"a\":2},"
	"\"tags\":[\"x\",\"y\"]}",
	"{\"model\":\"m\",\"version\":\"v\",\"model\":\"m\"}",
	"{\"model\":\"m\",\"version\":\"v\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]"
	"]"
	"]]]]]]]]]]]]]]]]]]}",
	"{\"model\":\"m\",\"version\":\"v\",\"features\":{\"a\":1,}}",
	"[{\"model\":\"m\",\"version\":\"v\"}]",
	"{\"model\":\"m\",\"version\":\"v\",\"features\":{\"big\":12345678901234567890,"
	"\"tiny\":1e-400,\"exotic\":0e99999999999999999999,\"long\":0."
	"000000000000000200000000001e300}}",
	"{\"model\":\"m\",\"version\":\"v\",\"ts\":-1,\"latency_ms\":-0,\"error\":1}",
	"{\"model\":\"m\",\"version\":\"v\",\"x\":\"\\u0000\",\"y\":1e400}",
	"{\"model\":\"m\",\"version\":\"v\",\"features\":{\"a\":[1],\"\":2,\"a\":3}}",
	/* the non-finite literals (Python's json.dumps default): values where a value may be */
	"{\"model\":\"m\",\"version\":\"v\",\"ts\":NaN,\"latency_ms\":Infinity,\"prediction\":NaN,"
	"\"label\":-Infinity,\"x\":[NaN,{\"y\":-Infinity}],\"features\":{\"a\":NaN,\"b\":Infinity,"
	"\"c\":-Infinity,\"NaN\":\"Infinity\"}}",
	"{NaN:1,\"model\":\"m\",\"version\":\"v\",\"s\":\"\\ufdd0\",\"x\":-NaN}",
};

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	return fuzz_seed_string(seeds, sizeof seeds / sizeof *seeds, buf, cap, i);
}
