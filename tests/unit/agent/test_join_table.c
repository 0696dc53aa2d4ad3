/*
 * test_join_table.c -- unit tests of the late-label join table (agent/join_table.h).
 *
 * The hash is checked against CPython's own SipHash-1-3 (the hash of a bytes object; with
 * PYTHONHASHSEED=0 the key is 16 zero bytes, with PYTHONHASHSEED=1 it is CPython's LCG stream
 * seeded with 1), the vectors printed by:
 *     PYTHONHASHSEED=S python3 -c 'import struct; print(hex(hash(struct.pack("<Q", len(m))
 *         + m.encode() + r.encode()) & (2**64 - 1)))'
 * Then the table's semantics one by one (join, replacement, model separation, LRU order, the
 * TTL boundary, a clock stepping back, not-applicable records, the memory bound), and two
 * stress runs: 10^5 random operations checked step by step against a reference written
 * differently (a FIFO of (key, generation) with lazy deletion over a flat array), and 10^5
 * distinct random keys filled, overflowed and drained. Leaks show under ASan.
 */
#include "agent/join_table.h"
#include "testutil.h"

#include <stdint.h>
#include <string.h>

static struct conn_limits lim;

static int setup(void **state)
{
	(void)state;
	conn_limits_default(&lim);
	return 0;
}

/* A record of (model, version, request_id) with a numeric prediction. */
static struct conn_record rec(const char *model, const char *version, const char *rid, double p)
{
	struct conn_record r;

	memset(&r, 0, sizeof r);
	r.model = model;
	r.model_len = strlen(model);
	r.version = version;
	r.version_len = strlen(version);
	if (rid) {
		r.request_id = rid;
		r.request_id_len = strlen(rid);
	}
	r.prediction.kind = CONN_VALUE_NUMBER;
	r.prediction.num = p;
	return r;
}

static struct agent_labels *mk(size_t max_entries, int64_t ttl_ms)
{
	struct agent_labels *t = agent_labels_new(max_entries, ttl_ms, &lim);

	assert_non_null(t);
	return t;
}

static int take(struct agent_labels *t, const char *model, const char *rid, int64_t now,
		struct agent_label_match *m)
{
	return agent_labels_take(t, model, strlen(model), rid, strlen(rid), now, m);
}

static struct agent_labels_counters counters(const struct agent_labels *t)
{
	struct agent_labels_counters c;

	agent_labels_counters(t, &c);
	return c;
}

/* remembered - replaced == joined + expired + evicted + entries */
static void assert_balance(const struct agent_labels *t)
{
	struct agent_labels_counters c = counters(t);

	assert_int_equal(c.remembered - c.replaced, c.joined + c.expired + c.evicted + c.entries);
}

/* ---- the hash ---- */

static void test_hash_vectors(void **state)
{
	static const uint8_t zero[16];
	static const uint8_t lcg1[16] = { 0x29, 0x23, 0xbe, 0x84, 0xe1, 0x6c, 0xd6, 0xae,
					  0x52, 0x90, 0x49, 0xf1, 0xf1, 0xbb, 0xe9, 0xeb };
	static const struct {
		const char *model, *rid;
		uint64_t h0, h1; /* PYTHONHASHSEED=0, =1 */
	} v[] = {
		{ "", "", 0xbd60acb658c79e45ull, 0x97622c04ecfbdc7cull },
		{ "m", "", 0x1a714acdf1a9bf2bull, 0xc69d73cc117f83dbull },
		{ "", "r", 0xd8f63d34ab3edce8ull, 0x789c5900bc5d8db7ull },
		{ "fraud", "7f3a9c", 0x38240944f5de9c5dull, 0xb4296522b58104b4ull },
		{ "aaaaaaa", "b", 0x94b8e90da3262de9ull, 0xb83c1894b96bda06ull },
		{ "ab", "cdefghij", 0xa2322e190daf049eull, 0x88cd386049231898ull },
		{ "model-with-a-longer-name", "0123456789abcdef0123456789abcdef",
		  0xcd1391eeda877513ull, 0x55ac05b10ac7222full },
	};
	char x[129], y[129];

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		size_t ml = strlen(v[i].model), rl = strlen(v[i].rid);

		assert_int_equal(agent_labels_hash(zero, v[i].model, ml, v[i].rid, rl), v[i].h0);
		assert_int_equal(agent_labels_hash(lcg1, v[i].model, ml, v[i].rid, rl), v[i].h1);
	}
	memset(x, 'x', 128);
	memset(y, 'y', 128);
	assert_int_equal(agent_labels_hash(zero, x, 128, y, 128), 0x72601f755b44fa65ull);
	assert_int_equal(agent_labels_hash(lcg1, x, 128, y, 128), 0x0f62c84ac45d1749ull);
	/* the length prefix separates ("ab", "c") from ("a", "bc") */
	assert_true(agent_labels_hash(zero, "ab", 2, "c", 1) !=
		    agent_labels_hash(zero, "a", 1, "bc", 2));
}

/* ---- semantics ---- */

static void test_new_args(void **state)
{
	struct conn_limits big = lim;
	struct agent_label_match m = { 0 };

	(void)state;
	assert_null(agent_labels_new(0, 1000, &lim));
	assert_null(agent_labels_new(10, -1, &lim));
	assert_null(agent_labels_new(10, 1000, NULL));
	big.max_value = ((size_t)1 << 30) + 1;
	assert_null(agent_labels_new(10, 1000, &big));
	big = lim;
	big.max_name = 0;
	assert_null(agent_labels_new(10, 1000, &big));
	agent_labels_free(NULL);
	agent_label_match_clear(&m); /* a zeroed match: no-op */
	agent_labels_free(mk(1, 0));
}

static void test_join(void **state)
{
	struct agent_labels *t = mk(100, 3600000);
	struct conn_record r = rec("fraud", "v2.4.0", "7f3a9c", 0.83);
	struct agent_label_match m = { 0 };
	struct agent_labels_counters c;

	(void)state;
	assert_int_equal(agent_labels_remember(t, &r, 1795730000123, 1795730000500), 0);
	c = counters(t);
	assert_int_equal(c.remembered, 1);
	assert_int_equal(c.entries, 1);
	assert_true(c.bytes > 0);

	assert_int_equal(take(t, "fraud", "nope", 1795730001000, &m), 1);
	assert_null(m.mem);
	assert_int_equal(take(t, "fraud", "7f3a9", 1795730001000, &m), 1); /* a prefix */
	assert_int_equal(take(t, "fraud", "7f3a9c", 1795730001000, &m), 0);
	assert_int_equal(m.version_len, 6);
	assert_string_equal(m.version, "v2.4.0");
	assert_int_equal(m.prediction.kind, CONN_VALUE_NUMBER);
	assert_true(m.prediction.num == 0.83);
	assert_int_equal(m.ts_ms, 1795730000123);
	assert_int_equal(m.remembered_ms, 1795730000500);
	/* taken: gone */
	assert_int_equal(take(t, "fraud", "7f3a9c", 1795730001000, &m), 1);
	assert_null(m.mem); /* take released the previous match */
	c = counters(t);
	assert_int_equal(c.joined, 1);
	assert_int_equal(c.unmatched, 3);
	assert_int_equal(c.entries, 0);
	assert_balance(t);
	/* a match outlives its table */
	assert_int_equal(agent_labels_remember(t, &r, 1, 1795730002000), 0);
	assert_int_equal(take(t, "fraud", "7f3a9c", 1795730002000, &m), 0);
	agent_labels_free(t);
	assert_string_equal(m.version, "v2.4.0");
	agent_label_match_clear(&m);
	assert_null(m.mem);
	assert_null(m.version);
}

static void test_prediction_kinds(void **state)
{
	struct agent_labels *t = mk(10, 1000);
	struct conn_record r = rec("m", "v", "s", 0);
	struct agent_label_match m = { 0 };
	const char cls[] = "fraud\xc3\xa9";

	(void)state;
	r.prediction.kind = CONN_VALUE_STRING;
	r.prediction.str = cls;
	r.prediction.len = sizeof cls - 1;
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 0);
	r = rec("m", "v", "e", 0);
	r.prediction.kind = CONN_VALUE_STRING;
	r.prediction.str = "";
	r.prediction.len = 0;
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 0);
	r = rec("m", "v", "b", 0);
	r.prediction.kind = CONN_VALUE_BOOL;
	r.prediction.b = 1;
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 0);
	r = rec("m", "v", "z", -0.0);
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 0);

	assert_int_equal(take(t, "m", "s", 0, &m), 0);
	assert_int_equal(m.prediction.kind, CONN_VALUE_STRING);
	assert_int_equal(m.prediction.len, sizeof cls - 1);
	assert_memory_equal(m.prediction.str, cls, sizeof cls); /* NUL-terminated */
	assert_int_equal(take(t, "m", "e", 0, &m), 0);
	assert_int_equal(m.prediction.kind, CONN_VALUE_STRING);
	assert_int_equal(m.prediction.len, 0);
	assert_string_equal(m.prediction.str, "");
	assert_int_equal(take(t, "m", "b", 0, &m), 0);
	assert_int_equal(m.prediction.kind, CONN_VALUE_BOOL);
	assert_int_equal(m.prediction.b, 1);
	assert_null(m.prediction.str);
	assert_int_equal(take(t, "m", "z", 0, &m), 0);
	assert_int_equal(m.prediction.kind, CONN_VALUE_NUMBER);
	assert_true(m.prediction.num == 0 && signbit(m.prediction.num));
	agent_label_match_clear(&m);
	agent_labels_free(t);
}

static void test_not_applicable(void **state)
{
	struct agent_labels *t = mk(10, 1000);
	struct conn_record r;
	char longname[130];
	struct agent_labels_counters c;
	struct agent_label_match m = { 0 };

	(void)state;
	memset(longname, 'n', sizeof longname - 1);
	longname[129] = '\0';
	r = rec("m", "v", NULL, 1); /* no request_id */
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 1);
	r = rec("m", "v", "", 1); /* empty: no label can name it */
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 1);
	r = rec("m", "v", "r", 1);
	r.prediction.kind = CONN_VALUE_MISSING;
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 1);
	r = rec(longname, "v", "r", 1); /* 129 > max_name */
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 1);
	r = rec("m", longname, "r", 1);
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 1);
	r = rec("m", "v", longname, 1);
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 1);
	r = rec("", "v", "r", 1); /* empty model */
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 1);
	assert_int_equal(agent_labels_take(t, NULL, 0, "r", 1, 0, &m), 1);
	assert_int_equal(agent_labels_take(t, "m", 1, NULL, 0, 0, &m), 1);
	longname[128] = '\0'; /* exactly max_name: kept */
	r = rec(longname, longname, longname, 1);
	assert_int_equal(agent_labels_remember(t, &r, 0, 0), 0);
	c = counters(t);
	assert_int_equal(c.remembered, 1);
	assert_int_equal(c.entries, 1);
	assert_int_equal(c.unmatched, 2);
	agent_labels_free(t);
}

static void test_replace(void **state)
{
	struct agent_labels *t = mk(10, 1000);
	struct conn_record a = rec("m", "v1", "r", 0.1), b = rec("m", "v2", "r", 0.2);
	struct agent_label_match m = { 0 };
	struct agent_labels_counters c;

	(void)state;
	assert_int_equal(agent_labels_remember(t, &a, 10, 0), 0);
	assert_int_equal(agent_labels_remember(t, &b, 20, 800), 0);
	c = counters(t);
	assert_int_equal(c.entries, 1);
	assert_int_equal(c.remembered, 2);
	assert_int_equal(c.replaced, 1);
	/* the replacement restarted the TTL: alive at 1800, gone after */
	assert_int_equal(agent_labels_expire(t, 1800), 0);
	assert_int_equal(take(t, "m", "r", 1800, &m), 0);
	assert_string_equal(m.version, "v2");
	assert_true(m.prediction.num == 0.2);
	assert_int_equal(m.ts_ms, 20);
	assert_int_equal(take(t, "m", "r", 1800, &m), 1);
	assert_balance(t);
	agent_label_match_clear(&m);
	agent_labels_free(t);
}

static void test_model_separation(void **state)
{
	struct agent_labels *t = mk(10, 1000);
	struct conn_record a = rec("fraud", "v1", "42", 1), b = rec("churn", "v9", "42", 2);
	struct conn_record c = rec("fraud4", "v1", "2", 3); /* same bytes concatenated */
	struct agent_label_match m = { 0 };

	(void)state;
	assert_int_equal(agent_labels_remember(t, &a, 0, 0), 0);
	assert_int_equal(agent_labels_remember(t, &b, 0, 0), 0);
	assert_int_equal(agent_labels_remember(t, &c, 0, 0), 0);
	assert_int_equal(counters(t).entries, 3);
	assert_int_equal(take(t, "churn", "42", 0, &m), 0);
	assert_string_equal(m.version, "v9");
	assert_int_equal(take(t, "churn", "42", 0, &m), 1);
	assert_int_equal(take(t, "fraud", "42", 0, &m), 0);
	assert_string_equal(m.version, "v1");
	assert_true(m.prediction.num == 1);
	assert_int_equal(take(t, "fraud4", "2", 0, &m), 0);
	assert_true(m.prediction.num == 3);
	assert_int_equal(take(t, "other", "42", 0, &m), 1);
	agent_label_match_clear(&m);
	agent_labels_free(t);
}

static void test_lru_eviction(void **state)
{
	struct agent_labels *t = mk(3, 1000000);
	struct conn_record a = rec("m", "v", "a", 1), b = rec("m", "v", "b", 2);
	struct conn_record c = rec("m", "v", "c", 3), d = rec("m", "v", "d", 4);
	struct conn_record e = rec("m", "v", "e", 5), f = rec("m", "v", "f", 6);
	struct agent_label_match m = { 0 };

	(void)state;
	assert_int_equal(agent_labels_remember(t, &a, 0, 1), 0);
	assert_int_equal(agent_labels_remember(t, &b, 0, 2), 0);
	assert_int_equal(agent_labels_remember(t, &c, 0, 3), 0);
	assert_int_equal(agent_labels_remember(t, &a, 0, 4), 0); /* a is now the newest */
	assert_int_equal(agent_labels_remember(t, &d, 0, 5), 0); /* evicts b */
	assert_int_equal(counters(t).evicted, 1);
	assert_int_equal(agent_labels_remember(t, &e, 0, 6), 0); /* evicts c */
	assert_int_equal(counters(t).evicted, 2);
	assert_int_equal(take(t, "m", "b", 7, &m), 1);
	assert_int_equal(take(t, "m", "c", 7, &m), 1);
	/* a, d, e held; taking d frees a place: f evicts nothing */
	assert_int_equal(take(t, "m", "d", 7, &m), 0);
	assert_true(m.prediction.num == 4);
	assert_int_equal(agent_labels_remember(t, &f, 0, 8), 0);
	assert_int_equal(counters(t).evicted, 2);
	/* full again (a, e, f): the next new key evicts a, the least recently remembered */
	assert_int_equal(agent_labels_remember(t, &b, 0, 9), 0);
	assert_int_equal(take(t, "m", "a", 9, &m), 1);
	assert_int_equal(take(t, "m", "e", 9, &m), 0);
	assert_int_equal(take(t, "m", "f", 9, &m), 0);
	assert_int_equal(take(t, "m", "b", 9, &m), 0);
	assert_int_equal(counters(t).evicted, 3);
	assert_int_equal(counters(t).entries, 0);
	assert_balance(t);
	agent_label_match_clear(&m);
	agent_labels_free(t);
}

static void test_ttl_boundary(void **state)
{
	struct agent_labels *t = mk(10, 1000);
	struct conn_record a = rec("m", "v", "a", 1), b = rec("m", "v", "b", 2);
	struct conn_record c = rec("m", "v", "c", 3);
	struct agent_label_match m = { 0 };
	struct agent_labels_counters k;

	(void)state;
	assert_int_equal(agent_labels_remember(t, &a, 0, 5000), 0);
	assert_int_equal(agent_labels_remember(t, &b, 0, 5000), 0);
	assert_int_equal(agent_labels_remember(t, &c, 0, 5001), 0);
	/* age == ttl: alive */
	assert_int_equal(agent_labels_expire(t, 6000), 0);
	assert_int_equal(take(t, "m", "a", 6000, &m), 0);
	/* age == ttl + 1: b expired by the take itself, without an expire call; c still alive */
	assert_int_equal(take(t, "m", "b", 6001, &m), 1);
	assert_null(m.mem);
	k = counters(t);
	assert_int_equal(k.expired, 1);
	assert_int_equal(k.unmatched, 1);
	assert_int_equal(k.entries, 1);
	assert_int_equal(agent_labels_expire(t, 6001), 0);
	assert_int_equal(agent_labels_expire(t, 6002), 1);
	assert_int_equal(counters(t).expired, 2);
	assert_balance(t);

	/* ttl 0: alive only at the very ms it was remembered */
	agent_labels_free(t);
	t = mk(10, 0);
	assert_int_equal(agent_labels_remember(t, &a, 0, 100), 0);
	assert_int_equal(take(t, "m", "a", 100, &m), 0);
	assert_int_equal(agent_labels_remember(t, &a, 0, 100), 0);
	assert_int_equal(take(t, "m", "a", 101, &m), 1);
	assert_int_equal(counters(t).expired, 1);
	agent_label_match_clear(&m);
	agent_labels_free(t);
}

static void test_clock_back(void **state)
{
	struct agent_labels *t = mk(10, 1000);
	struct conn_record a = rec("m", "v", "a", 1), b = rec("m", "v", "b", 2);
	struct agent_label_match m = { 0 };

	(void)state;
	assert_int_equal(agent_labels_remember(t, &a, 0, 10000), 0);
	/* the clock steps back 9 s: b is stamped 10000, not 1000, and a is not revived later */
	assert_int_equal(agent_labels_remember(t, &b, 0, 1000), 0);
	assert_int_equal(agent_labels_expire(t, 500), 0);
	assert_int_equal(agent_labels_expire(t, 11000), 0);
	assert_int_equal(take(t, "m", "b", 2000, &m), 0);
	assert_int_equal(m.remembered_ms, 10000);
	assert_int_equal(agent_labels_expire(t, 11001), 1);
	assert_int_equal(take(t, "m", "a", 0, &m), 1);
	/* extreme clocks do not overflow */
	agent_labels_free(t);
	t = mk(10, INT64_MAX);
	assert_int_equal(agent_labels_remember(t, &a, INT64_MIN, INT64_MIN), 0);
	assert_int_equal(agent_labels_expire(t, -1), 0);	/* age INT64_MAX == ttl: alive */
	assert_int_equal(agent_labels_expire(t, INT64_MAX), 1); /* age 2^64 - 1 > ttl */
	agent_label_match_clear(&m);
	agent_labels_free(t);
}

/* Every entry of max_entries at the worst case of the default limits stays within the bound
 * join_table.h states, and the bytes return when the entries go. */
static void test_memory_bound(void **state)
{
	enum { N = 1000 };
	struct agent_labels *t = mk(N, 1000);
	size_t worst = AGENT_LABELS_ENTRY_OVERHEAD + 3 * lim.max_name + lim.max_value;
	char name[129], rid[129], value[1024];
	struct agent_label_match m = { 0 };
	struct conn_record r;
	size_t empty = counters(t).bytes;

	(void)state;
	assert_int_equal(worst, 1508);			/* the figure join_table.h quotes */
	assert_true(empty < 256 + 16 * sizeof(void *)); /* the table and its first 16 buckets */
	memset(name, 'm', 128);
	name[128] = '\0';
	memset(value, 'p', sizeof value);
	for (int i = 0; i < 2 * N; i++) {
		snprintf(rid, sizeof rid, "%0128d", i);
		r = rec(name, name, rid, 0);
		r.prediction.kind = CONN_VALUE_STRING;
		r.prediction.str = value;
		r.prediction.len = sizeof value;
		assert_int_equal(agent_labels_remember(t, &r, 0, 0), 0);
		assert_true(counters(t).bytes <= 256 + (size_t)N * worst);
	}
	assert_int_equal(counters(t).entries, N);
	assert_int_equal(counters(t).evicted, N);
	for (int i = N; i < 2 * N; i++) {
		snprintf(rid, sizeof rid, "%0128d", i);
		assert_int_equal(take(t, name, rid, 0, &m), 0);
		assert_int_equal(m.prediction.len, sizeof value);
	}
	/* empty again: only the table and its (grown) buckets */
	assert_true(counters(t).bytes <= 256 + (size_t)N * 2 * sizeof(void *));
	agent_label_match_clear(&m);
	agent_labels_free(t);
}

/* ---- stress ---- */

enum { SKEYS = 3000, SMAX = 1000, SOPS = 100000, STTL = 2000 };

/* The reference: a flat array by key number and a FIFO of (key, generation) in remember order
 * where superseded or removed items are skipped lazily. */
struct ref {
	int present[SKEYS];
	unsigned gen[SKEYS];
	int64_t at[SKEYS], ts[SKEYS];
	double pred[SKEYS];
	int version[SKEYS];
	struct {
		int key;
		unsigned gen;
	} * q;
	size_t qhead, qtail;
	size_t count;
	int64_t clock;
	uint64_t remembered, replaced, joined, unmatched, expired, evicted;
};

/* Skips superseded items at the head of the FIFO; the first live one or NULL. */
static int ref_front(struct ref *f)
{
	while (f->qhead < f->qtail) {
		int k = f->q[f->qhead].key;

		if (f->present[k] && f->gen[k] == f->q[f->qhead].gen)
			return k;
		f->qhead++;
	}
	return -1;
}

static size_t ref_advance(struct ref *f, int64_t now)
{
	size_t n = 0;
	int k;

	if (now > f->clock)
		f->clock = now;
	while ((k = ref_front(f)) >= 0 && f->at[k] < f->clock - STTL) {
		f->present[k] = 0;
		f->count--;
		n++;
	}
	f->expired += n;
	return n;
}

static void key_name(int k, char *model, char *rid)
{
	/* 3 models; request ids shared between them */
	sprintf(model, "model-%d", k % 3);
	sprintf(rid, "req-%08x", (unsigned)(k / 3) * 2654435761u);
}

static void test_stress_reference(void **state)
{
	struct agent_labels *t = mk(SMAX, STTL);
	struct ref *f = calloc(1, sizeof *f);
	struct tu_rng rng = { 12345 };
	struct agent_label_match m = { 0 };
	struct agent_labels_counters c;
	int64_t now = 1000000;

	(void)state;
	assert_non_null(f);
	f->q = malloc(SOPS * sizeof *f->q);
	assert_non_null(f->q);
	f->clock = INT64_MIN;
	for (int op = 0; op < SOPS; op++) {
		int k = (int)(tu_next(&rng) % SKEYS);
		unsigned what = (unsigned)(tu_next(&rng) % 100);
		char model[32], rid[32], version[32];

		/* mostly forward, sometimes a step back */
		now += (int64_t)(tu_next(&rng) % 4) - (tu_next(&rng) % 50 == 0 ? 30 : 0);
		key_name(k, model, rid);
		if (what < 55) { /* remember */
			struct conn_record r;
			int v = (int)(tu_next(&rng) % 1000);
			double p = tu_uniform(&rng);
			int64_t ts = (int64_t)(tu_next(&rng) % 100000);

			sprintf(version, "v%d", v);
			r = rec(model, version, rid, p);
			assert_int_equal(agent_labels_remember(t, &r, ts, now), 0);
			ref_advance(f, now);
			if (f->present[k]) {
				f->replaced++;
			} else {
				if (f->count >= SMAX) {
					int o = ref_front(f);

					assert_true(o >= 0);
					f->present[o] = 0;
					f->count--;
					f->evicted++;
				}
				f->count++;
			}
			f->present[k] = 1;
			f->gen[k]++;
			f->at[k] = f->clock;
			f->ts[k] = ts;
			f->pred[k] = p;
			f->version[k] = v;
			f->q[f->qtail].key = k;
			f->q[f->qtail].gen = f->gen[k];
			f->qtail++;
			f->remembered++;
		} else if (what < 95) { /* take */
			int got = take(t, model, rid, now, &m);

			ref_advance(f, now);
			assert_int_equal(got, f->present[k] ? 0 : 1);
			if (f->present[k]) {
				sprintf(version, "v%d", f->version[k]);
				assert_string_equal(m.version, version);
				assert_true(m.prediction.num == f->pred[k]);
				assert_int_equal(m.ts_ms, f->ts[k]);
				assert_int_equal(m.remembered_ms, f->at[k]);
				f->present[k] = 0;
				f->count--;
				f->joined++;
			} else {
				assert_null(m.mem);
				f->unmatched++;
			}
		} else { /* expire */
			size_t n = agent_labels_expire(t, now);

			assert_int_equal(n, ref_advance(f, now));
		}
		assert_int_equal(counters(t).entries, f->count);
	}
	c = counters(t);
	assert_int_equal(c.remembered, f->remembered);
	assert_int_equal(c.replaced, f->replaced);
	assert_int_equal(c.joined, f->joined);
	assert_int_equal(c.unmatched, f->unmatched);
	assert_int_equal(c.expired, f->expired);
	assert_int_equal(c.evicted, f->evicted);
	assert_true(c.evicted > 100 && c.expired > 100 && c.replaced > 100 && c.joined > 1000);
	assert_balance(t);
	/* finally every key, present or not */
	for (int k = 0; k < SKEYS; k++) {
		char model[32], rid[32];

		key_name(k, model, rid);
		assert_int_equal(take(t, model, rid, now, &m), f->present[k] ? 0 : 1);
	}
	assert_int_equal(counters(t).entries, 0);
	agent_label_match_clear(&m);
	free(f->q);
	free(f);
	agent_labels_free(t);
}

/* 10^5 distinct random request ids: fill to max_entries, overflow by as many again (the first
 * batch is evicted, in order), then drain the second batch in a shuffled order. */
static void test_stress_1e5(void **state)
{
	enum { N = 100000 };
	struct agent_labels *t = mk(N, 3600000);
	char(*rid)[24] = malloc(2 * (size_t)N * sizeof *rid);
	unsigned *order = malloc(N * sizeof *order);
	struct tu_rng rng = { 777 };
	struct agent_label_match m = { 0 };
	struct conn_record r;

	(void)state;
	assert_non_null(rid);
	assert_non_null(order);
	for (unsigned i = 0; i < 2 * N; i++) /* distinct: the index is part of the id */
		snprintf(rid[i], sizeof rid[i], "%016llx%06x",
			 (unsigned long long)(tu_next(&rng) >> 4), i);
	for (unsigned i = 0; i < N; i++) {
		r = rec(i % 2 ? "fraud" : "churn", "v1", rid[i], (double)i);
		assert_int_equal(agent_labels_remember(t, &r, i, 1000), 0);
	}
	assert_int_equal(counters(t).entries, N);
	assert_int_equal(counters(t).evicted, 0);
	for (unsigned i = N; i < 2 * N; i++) {
		r = rec(i % 2 ? "fraud" : "churn", "v1", rid[i], (double)i);
		assert_int_equal(agent_labels_remember(t, &r, i, 2000), 0);
		assert_int_equal(counters(t).evicted, i - N + 1);
	}
	for (unsigned i = 0; i < N; i += 7) /* the first batch is gone */
		assert_int_equal(take(t, i % 2 ? "fraud" : "churn", rid[i], 2000, &m), 1);
	for (unsigned i = 0; i < N; i++)
		order[i] = N + i;
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = (unsigned)(tu_next(&rng) % (i + 1)), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (unsigned i = 0; i < N; i++) {
		unsigned k = order[i];

		/* the wrong model never matches */
		if (i % 16 == 0)
			assert_int_equal(take(t, k % 2 ? "churn" : "fraud", rid[k], 2000, &m), 1);
		assert_int_equal(take(t, k % 2 ? "fraud" : "churn", rid[k], 2000, &m), 0);
		assert_true(m.prediction.num == (double)k);
		assert_int_equal(m.ts_ms, k);
	}
	assert_int_equal(counters(t).entries, 0);
	assert_int_equal(counters(t).joined, N);
	assert_balance(t);
	agent_label_match_clear(&m);
	free(order);
	free(rid);
	agent_labels_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_hash_vectors, setup),
		cmocka_unit_test_setup(test_new_args, setup),
		cmocka_unit_test_setup(test_join, setup),
		cmocka_unit_test_setup(test_prediction_kinds, setup),
		cmocka_unit_test_setup(test_not_applicable, setup),
		cmocka_unit_test_setup(test_replace, setup),
		cmocka_unit_test_setup(test_model_separation, setup),
		cmocka_unit_test_setup(test_lru_eviction, setup),
		cmocka_unit_test_setup(test_ttl_boundary, setup),
		cmocka_unit_test_setup(test_clock_back, setup),
		cmocka_unit_test_setup(test_memory_bound, setup),
		cmocka_unit_test_setup(test_stress_reference, setup),
		cmocka_unit_test_setup(test_stress_1e5, setup),
	};

	return TU_RUN(tests);
}
