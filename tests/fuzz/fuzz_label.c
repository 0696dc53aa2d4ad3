/*
 * fuzz_label.c -- fuzz target of the label message decoder (connectors/label_decoder.h).
 *
 * Every input is decoded under two sets of limits (the defaults, and tight ones where every
 * limit is reachable by a short input) by the label decoder and, as a cross-check, by the
 * jansson record decoder (record.h), which shares steps 1-5 of the contract. Invariants:
 *   - an accepted label keeps the contract's promises: model and request_id of 1..max_name
 *     bytes and free of NUL bytes, the label a finite number, a boolean 0/1 or a string of at
 *     most max_value bytes free of NUL bytes (never missing); a rejection zeroes the output;
 *   - the two decoders agree on steps 1-5: when either says too_large, bad_json, too_deep or
 *     not_object, both do; a repeated top-level key is duplicate_key for both (the record
 *     decoder alone also refuses repeats inside "features");
 *   - both check model first: when both reach step 6 they agree on missing_model/bad_model;
 *   - when both accept, the record's request_id and label are the label's;
 *   - decoding the same input again gives the same result (no state leaks between calls).
 * The decoders are made once and reused, as in the agent.
 */
#include "fuzz.h"
#include "record_same.h"
#include "connectors/label_decoder.h"
#include "connectors/record.h"

#include <math.h>
#include <string.h>

#define NLIMITS 2

static struct conn_label_decoder *ldec[NLIMITS];
static struct conn_decoder *rdec[NLIMITS];
static struct conn_limits lim[NLIMITS];

static void check_text(const char *s, size_t len, size_t min, size_t max)
{
	FUZZ_CHECK(len >= min && len <= max);
	FUZZ_CHECK(len == 0 || (s && !memchr(s, '\0', len)));
}

static void check_label(const struct conn_label *l, const struct conn_limits *k)
{
	check_text(l->model, l->model_len, 1, k->max_name);
	check_text(l->request_id, l->request_id_len, 1, k->max_name);
	switch (l->label.kind) {
	case CONN_VALUE_NUMBER:
		FUZZ_CHECK(isfinite(l->label.num));
		break;
	case CONN_VALUE_STRING:
		check_text(l->label.str, l->label.len, 0, k->max_value);
		break;
	case CONN_VALUE_BOOL:
		FUZZ_CHECK(l->label.b == 0 || l->label.b == 1);
		break;
	default:
		FUZZ_CHECK(!"label kind");
	}
}

static int structural(enum conn_reject r)
{
	return r == CONN_REJECT_TOO_LARGE || r == CONN_REJECT_BAD_JSON ||
	       r == CONN_REJECT_TOO_DEEP || r == CONN_REJECT_NOT_OBJECT;
}

static int model_reason(enum conn_reject r)
{
	return r == CONN_REJECT_MISSING_MODEL || r == CONN_REJECT_BAD_MODEL;
}

static void setup(void)
{
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
		ldec[k] = conn_label_decoder_new(&lim[k], err, sizeof err);
		rdec[k] = conn_decoder_new(CONN_DECODER_JANSSON, &lim[k], err, sizeof err);
		FUZZ_CHECK(ldec[k] && rdec[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	if (!ldec[0])
		setup();
	for (int k = 0; k < NLIMITS; k++) {
		struct conn_label l, again;
		struct conn_record r;
		enum conn_reject rr = conn_decode(rdec[k], buf, size, &r);
		enum conn_reject rl = conn_label_decode(ldec[k], buf, size, &l);

		if ((structural(rl) || structural(rr) || rl == CONN_REJECT_DUPLICATE_KEY) &&
		    rl != rr) {
			fprintf(stderr, "limits %d: label %s, record %s\n", k, conn_reject_name(rl),
				conn_reject_name(rr));
			abort();
		}
		FUZZ_CHECK((unsigned)rl < CONN_REJECT_COUNT);
		FUZZ_CHECK(size <= lim[k].max_message || rl == CONN_REJECT_TOO_LARGE);
		if (rr != CONN_REJECT_DUPLICATE_KEY && (model_reason(rl) || model_reason(rr)))
			FUZZ_CHECK(rl == rr);
		if (rl != CONN_REJECT_NONE) {
			FUZZ_CHECK(!l.model && !l.request_id && l.label.kind == CONN_VALUE_MISSING);
		} else {
			check_label(&l, &lim[k]);
			if (rr == CONN_REJECT_NONE) {
				FUZZ_CHECK(r.request_id &&
					   same_bytes(r.request_id, r.request_id_len, l.request_id,
						      l.request_id_len));
				FUZZ_CHECK(same_bytes(r.model, r.model_len, l.model, l.model_len));
				FUZZ_CHECK(same_value(&r.label, &l.label));
			}
		}
		/* determinism: the same again (l is invalidated by the second decode) */
		{
			int kind = l.label.kind;
			size_t mlen = l.model_len, rlen = l.request_id_len;

			FUZZ_CHECK(conn_label_decode(ldec[k], buf, size, &again) == rl);
			FUZZ_CHECK((int)again.label.kind == kind && again.model_len == mlen &&
				   again.request_id_len == rlen);
		}
	}
	return 0;
}

/* ---- seeds ---- */

static const char *const seeds[] = {
	"{\"model\":\"fraud\",\"request_id\":\"7f3a9c\",\"label\":1}",
	"{\"model\":\"m\",\"request_id\":\"r\",\"label\":\"fraud\"}",
	"{\"label\":true,\"request_id\":\"\\u00e9\\ud83d\\ude00\",\"mod\\u0065l\":\"m\"}",
	"{\"model\":\"m\",\"version\":\"v\",\"request_id\":\"r\",\"label\":-0,\"meta\":{\"a\":[1,"
	"{\"b\":null}],\"a\":2}}",
	"{\"model\":\"m\",\"request_id\":\"r\",\"label\":null}",
	"{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,\"model\":\"m\"}",
	"{\"model\":\"m\",\"request_id\":\"\",\"label\":[1]}",
	"{\"model\":\"m\",\"request_id\":\"r\",\"label\":1,\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	"]]"
	"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	"{\"model\":\"m\",\"version\":\"v\",\"request_id\":\"r\",\"prediction\":0.9,\"label\":1,"
	"\"features\":{\"a\":1,\"a\":2}}",
	"[{\"model\":\"m\",\"request_id\":\"r\",\"label\":1}]",
	"{\"model\":\"m\",\"request_id\":\"r\",\"label\":12345678901234567890,\"y\":1e400}",
	"{\"model\":\"m\",\"request_id\":\"r\",\"label\":\"a\\u0000\"}",
};

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	return fuzz_seed_string(seeds, sizeof seeds / sizeof *seeds, buf, cap, i);
}
