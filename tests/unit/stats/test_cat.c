/*
 * test_cat.c -- unit tests of stats/cat.c, the bounded categorical counts.
 *
 * Expected values never come from the code under test: small cases are written out by hand, and
 * random streams drawn from a skewed (Zipf-like) vocabulary -- short, binary, empty, maximal,
 * over-long and "__other__" values -- are replayed into a naive model (a linear list with the
 * rules of cat.h) that every count, order, merge and alignment is compared with. The serialized
 * format is pinned by a hand-encoded byte string, and malformed inputs are hand-encoded too.
 */
#include "stats/cat.h"
#include "testutil.h"

#include <string.h>

#define OTHER	STATS_CAT_OTHER_INDEX
#define LEN_MAX STATS_CAT_MAX_VALUE_LEN

/* ---- helpers ---- */

static struct stats_cat *cat_new(size_t max_values)
{
	enum stats_status st = STATS_EINVAL;
	struct stats_cat *c = stats_cat_new(max_values, &st);

	assert_non_null(c);
	assert_int_equal(st, STATS_OK);
	return c;
}

static size_t add_str(struct stats_cat *c, const char *s, uint64_t count)
{
	return stats_cat_add(c, s, strlen(s), count);
}

/* The value at index i must be exactly s[0..len), NUL-terminated. */
static void assert_value(const struct stats_cat *c, size_t i, const char *s, size_t len)
{
	size_t got_len = (size_t)-1;
	const char *got = stats_cat_value(c, i, &got_len);

	assert_non_null(got);
	assert_int_equal(got_len, len);
	if (len)
		assert_memory_equal(got, s, len);
	assert_int_equal(got[len], '\0');
}

/* Serializes c into a malloc'd buffer; *len receives the size. */
static uint8_t *ser(const struct stats_cat *c, size_t *len)
{
	size_t max = stats_cat_serialized_max(c);
	uint8_t *buf = malloc(max);

	assert_non_null(buf);
	assert_int_equal(stats_cat_serialize(c, buf, max, len), STATS_OK);
	assert_true(*len <= max);
	return buf;
}

/* a and b hold the same bound, values in the same order, and counts. */
static void assert_same(const struct stats_cat *a, const struct stats_cat *b)
{
	assert_int_equal(stats_cat_max_values(a), stats_cat_max_values(b));
	assert_int_equal(stats_cat_size(a), stats_cat_size(b));
	for (size_t i = 0; i < stats_cat_size(a); i++) {
		size_t len;
		const char *s = stats_cat_value(b, i, &len);

		assert_value(a, i, s, len);
		assert_true(stats_cat_count(a, i) == stats_cat_count(b, i));
	}
	assert_true(stats_cat_other(a) == stats_cat_other(b));
	assert_true(stats_cat_total(a) == stats_cat_total(b));
}

/* Serialize, deserialize, compare, and check that the bytes are reproduced exactly. */
static void assert_roundtrip(const struct stats_cat *c)
{
	size_t len, len2;
	uint8_t *buf = ser(c, &len), *buf2 = NULL;
	enum stats_status st = STATS_EINVAL;
	struct stats_cat *d = stats_cat_deserialize(buf, len, &st);

	assert_non_null(d);
	assert_int_equal(st, STATS_OK);
	assert_same(c, d);
	buf2 = ser(d, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf2);
	free(buf);
	stats_cat_free(d);
}

/* A hand-rolled encoder for building (malformed) serialized inputs independently of codec.c. */
struct enc {
	uint8_t b[8192]; /* bytes */
	size_t n;	 /* used */
};

static void enc_bytes(struct enc *e, const void *p, size_t n)
{
	assert_true(e->n + n <= sizeof e->b);
	memcpy(e->b + e->n, p, n);
	e->n += n;
}

static void enc_u8(struct enc *e, uint8_t v)
{
	enc_bytes(e, &v, 1);
}

static void enc_varint(struct enc *e, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		enc_u8(e, (uint8_t)(byte | (v ? 0x80 : 0)));
	} while (v);
}

static void enc_header(struct enc *e, uint64_t max_values, uint64_t n)
{
	enc_bytes(e, "DCAT", 4);
	enc_u8(e, 1);
	enc_varint(e, max_values);
	enc_varint(e, n);
}

static void enc_value(struct enc *e, const void *s, size_t len, uint64_t count)
{
	enc_varint(e, len);
	enc_bytes(e, s, len);
	enc_varint(e, count);
}

static void assert_rejected(const uint8_t *b, size_t n, enum stats_status want)
{
	enum stats_status st = STATS_OK;
	struct stats_cat *c = stats_cat_deserialize(b, n, &st);

	assert_null(c);
	assert_int_equal(st, want);
}

static struct stats_cat *assert_accepted(const uint8_t *b, size_t n)
{
	enum stats_status st = STATS_EINVAL;
	struct stats_cat *c = stats_cat_deserialize(b, n, &st);

	assert_non_null(c);
	assert_int_equal(st, STATS_OK);
	return c;
}

/* ---- the naive model: a linear list with the rules of cat.h ---- */

#define MODEL_MAX 1024

struct model {
	size_t max;		  /* bound */
	size_t n;		  /* values kept */
	char (*val)[LEN_MAX + 1]; /* their bytes */
	size_t len[MODEL_MAX];	  /* their lengths */
	uint64_t cnt[MODEL_MAX];  /* their counts */
	uint64_t other;		  /* everything else */
};

static struct model *model_new(size_t max)
{
	struct model *m = calloc(1, sizeof *m);

	assert_non_null(m);
	assert_true(max <= MODEL_MAX);
	m->val = calloc(MODEL_MAX, sizeof *m->val);
	assert_non_null(m->val);
	m->max = max;
	return m;
}

static void model_free(struct model *m)
{
	free(m->val);
	free(m);
}

static size_t model_find(const struct model *m, const char *s, size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->len[i] == len && memcmp(m->val[i], s, len) == 0)
			return i;
	return OTHER;
}

static size_t model_add(struct model *m, const char *s, size_t len, uint64_t count)
{
	size_t i;

	if (len > LEN_MAX || (len == 9 && memcmp(s, "__other__", 9) == 0)) {
		m->other += count;
		return OTHER;
	}
	i = model_find(m, s, len);
	if (i == OTHER && m->n < m->max) {
		i = m->n++;
		memcpy(m->val[i], s, len);
		m->len[i] = len;
	}
	if (i == OTHER)
		m->other += count;
	else
		m->cnt[i] += count;
	return i;
}

static void assert_matches(const struct stats_cat *c, const struct model *m)
{
	uint64_t total = m->other;

	assert_int_equal(stats_cat_size(c), m->n);
	for (size_t i = 0; i < m->n; i++) {
		assert_value(c, i, m->val[i], m->len[i]);
		assert_true(stats_cat_count(c, i) == m->cnt[i]);
		assert_int_equal(stats_cat_find(c, m->val[i], m->len[i]), i);
		total += m->cnt[i];
	}
	assert_true(stats_cat_other(c) == m->other);
	assert_true(stats_cat_total(c) == total);
}

/* The vocabulary random streams draw from: value k of kind k % 8. */
static size_t vocab(size_t k, char *buf)
{
	switch (k % 8) {
	case 0: /* over-long, 257 to 300 bytes */
	{
		size_t len = LEN_MAX + 1 + k % 44;
		memset(buf, 'L', len);
		memcpy(buf, &k, sizeof k);
		return len;
	}
	case 1: /* exactly the longest value kept */
		memset(buf, 'M', LEN_MAX);
		memcpy(buf + 1, &k, sizeof k);
		return LEN_MAX;
	case 2: /* binary, NUL bytes inside */
		memset(buf, 0, 12);
		memcpy(buf + 2, &k, sizeof k);
		return 3 + k % 9;
	case 3:
		if (k % 24 == 3)
			return 0; /* the empty value */
		if (k % 24 == 11) {
			memcpy(buf, "__other__", 9);
			return 9;
		}
		/* fall through */
	default:
		return (size_t)snprintf(buf, LEN_MAX, "v%zu", k);
	}
}

/* Zipf-like: small k far more often. */
static size_t draw(struct tu_rng *r, size_t nvocab)
{
	double u = tu_uniform(r);

	return (size_t)((double)nvocab * u * u * u);
}

static uint64_t draw_count(struct tu_rng *r)
{
	uint64_t x = tu_next(r);

	return (x & 7) ? 1 : (x >> 8) % 1000;
}

/* Feeds the same n random values into c and m. */
static void feed(struct stats_cat *c, struct model *m, struct tu_rng *r, size_t nvocab, size_t n)
{
	char buf[512];

	for (size_t t = 0; t < n; t++) {
		size_t len = vocab(draw(r, nvocab), buf);
		uint64_t count = draw_count(r);
		size_t want = model_add(m, buf, len, count);

		assert_int_equal(stats_cat_add(c, buf, len, count), want);
	}
}

/* ---- construction, interning, the bound ---- */

static void test_new_bounds(void **state)
{
	enum stats_status st = STATS_OK;
	struct stats_cat *c = NULL;

	(void)state;
	c = cat_new(0);
	assert_int_equal(stats_cat_max_values(c), STATS_CAT_MAX_VALUES_DEFAULT);
	assert_int_equal(stats_cat_size(c), 0);
	assert_true(stats_cat_total(c) == 0 && stats_cat_other(c) == 0);
	stats_cat_free(c);
	c = cat_new(1);
	assert_int_equal(stats_cat_max_values(c), 1);
	stats_cat_free(c);
	c = cat_new(STATS_CAT_MAX_VALUES_LIMIT);
	assert_int_equal(stats_cat_max_values(c), STATS_CAT_MAX_VALUES_LIMIT);
	stats_cat_free(c);
	assert_null(stats_cat_new(STATS_CAT_MAX_VALUES_LIMIT + 1, &st));
	assert_int_equal(st, STATS_EINVAL);
	assert_null(stats_cat_new((size_t)-1, NULL));
	stats_cat_free(NULL);
}

static void test_interning_order_counts(void **state)
{
	struct stats_cat *c = cat_new(0);

	(void)state;
	assert_int_equal(add_str(c, "FR", 1), 0);
	assert_int_equal(add_str(c, "US", 1), 1);
	assert_int_equal(add_str(c, "FR", 2), 0);
	assert_int_equal(add_str(c, "true", 1), 2);
	assert_int_equal(add_str(c, "false", 0), 3); /* interned, count 0 */
	assert_int_equal(add_str(c, "US", 5), 1);
	assert_int_equal(add_str(c, "fr", 1), 4); /* case matters */
	assert_int_equal(stats_cat_size(c), 5);
	assert_value(c, 0, "FR", 2);
	assert_value(c, 1, "US", 2);
	assert_value(c, 2, "true", 4);
	assert_value(c, 3, "false", 5);
	assert_value(c, 4, "fr", 2);
	assert_true(stats_cat_count(c, 0) == 3);
	assert_true(stats_cat_count(c, 1) == 6);
	assert_true(stats_cat_count(c, 2) == 1);
	assert_true(stats_cat_count(c, 3) == 0);
	assert_true(stats_cat_count(c, 4) == 1);
	assert_true(stats_cat_other(c) == 0);
	assert_true(stats_cat_total(c) == 11);
	/* out-of-range indexes; the __other__ index names the bucket */
	assert_null(stats_cat_value(c, 5, NULL));
	assert_true(stats_cat_count(c, 5) == 0);
	assert_string_equal(stats_cat_value(c, OTHER, NULL), "__other__");
	assert_true(stats_cat_count(c, OTHER) == 0);
	stats_cat_free(c);
}

static void test_bound(void **state)
{
	struct stats_cat *c = cat_new(0);
	char buf[32];
	size_t max_bytes;

	(void)state;
	for (size_t k = 0; k < 256; k++) {
		snprintf(buf, sizeof buf, "value-%zu", k);
		assert_int_equal(add_str(c, buf, 1), k);
	}
	assert_int_equal(stats_cat_size(c), 256);
	assert_int_equal(add_str(c, "value-256", 1), OTHER); /* the 257th */
	assert_int_equal(add_str(c, "value-0", 1), 0);	     /* known values still count */
	assert_int_equal(stats_cat_find(c, "value-256", 9), OTHER);
	assert_true(stats_cat_other(c) == 1);
	assert_true(stats_cat_count(c, 0) == 2);

	/* a flood of distinct values: nothing more is kept, nothing grows, everything is counted */
	max_bytes = stats_cat_serialized_max(c);
	for (size_t k = 0; k < 1000000; k++) {
		snprintf(buf, sizeof buf, "flood-%zu", k);
		assert_int_equal(add_str(c, buf, 1), OTHER);
	}
	assert_int_equal(stats_cat_size(c), 256);
	assert_true(stats_cat_other(c) == 1 + 1000000);
	assert_true(stats_cat_total(c) == 257 + 1 + 1000000);
	assert_int_equal(stats_cat_serialized_max(c), max_bytes);
	assert_true(max_bytes <= 5 + 30 + 256 * (20 + LEN_MAX + 1));
	stats_cat_free(c);
}

static void test_bound_one_and_limit(void **state)
{
	struct stats_cat *c = cat_new(1);
	char buf[32];

	(void)state;
	assert_int_equal(add_str(c, "a", 1), 0);
	assert_int_equal(add_str(c, "b", 1), OTHER);
	assert_int_equal(add_str(c, "a", 1), 0);
	assert_int_equal(stats_cat_size(c), 1);
	stats_cat_free(c);

	/* the largest bound: the table is rehashed many times on the way */
	c = cat_new(STATS_CAT_MAX_VALUES_LIMIT);
	for (size_t k = 0; k < STATS_CAT_MAX_VALUES_LIMIT + 1000; k++) {
		int n = snprintf(buf, sizeof buf, "%zx", k * 2654435761u);
		size_t want = k < STATS_CAT_MAX_VALUES_LIMIT ? k : OTHER;

		assert_int_equal(stats_cat_add(c, buf, (size_t)n, 1), want);
	}
	assert_int_equal(stats_cat_size(c), STATS_CAT_MAX_VALUES_LIMIT);
	for (size_t k = 0; k < STATS_CAT_MAX_VALUES_LIMIT + 1000; k++) {
		int n = snprintf(buf, sizeof buf, "%zx", k * 2654435761u);
		size_t want = k < STATS_CAT_MAX_VALUES_LIMIT ? k : OTHER;

		assert_int_equal(stats_cat_find(c, buf, (size_t)n), want);
	}
	assert_true(stats_cat_other(c) == 1000);
	assert_roundtrip(c);
	stats_cat_free(c);
}

static void test_long_values(void **state)
{
	struct stats_cat *c = cat_new(4);
	char *big = malloc(1 << 20);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 1 << 20);
	assert_int_equal(stats_cat_add(c, big, LEN_MAX, 1), 0); /* the longest kept */
	assert_int_equal(stats_cat_add(c, big, LEN_MAX + 1, 2), OTHER);
	assert_int_equal(stats_cat_add(c, big, 1 << 20, 3), OTHER);
	assert_int_equal(stats_cat_find(c, big, LEN_MAX + 1), OTHER);
	assert_int_equal(stats_cat_find(c, big, LEN_MAX), 0);
	assert_value(c, 0, big, LEN_MAX);
	assert_int_equal(stats_cat_size(c), 1);
	assert_true(stats_cat_other(c) == 5);
	assert_true(stats_cat_total(c) == 6);
	assert_roundtrip(c);
	free(big);
	stats_cat_free(c);
}

static void test_other_literal(void **state)
{
	struct stats_cat *c = cat_new(0);

	(void)state;
	assert_int_equal(add_str(c, "__other__", 4), OTHER);
	assert_int_equal(stats_cat_size(c), 0);
	assert_int_equal(stats_cat_find(c, "__other__", 9), OTHER);
	/* near misses are ordinary values */
	assert_int_equal(add_str(c, "__other_", 1), 0);
	assert_int_equal(add_str(c, "__other__x", 1), 1);
	assert_int_equal(stats_cat_add(c, "__other__\0", 10, 1), 2);
	assert_int_equal(add_str(c, "__OTHER__", 1), 3);
	assert_true(stats_cat_other(c) == 4);
	assert_true(stats_cat_total(c) == 8);
	assert_roundtrip(c);
	stats_cat_free(c);
}

static void test_binary_values(void **state)
{
	struct stats_cat *c = cat_new(0);
	const char all[4] = { '\0', '\0', '\0', '\0' };

	(void)state;
	assert_int_equal(stats_cat_add(c, "a\0b", 3, 1), 0);
	assert_int_equal(stats_cat_add(c, "a\0c", 3, 1), 1);
	assert_int_equal(stats_cat_add(c, "a", 1, 1), 2);
	assert_int_equal(stats_cat_add(c, "a\0", 2, 1), 3);
	assert_int_equal(stats_cat_add(c, NULL, 0, 1), 4); /* the empty value */
	assert_int_equal(stats_cat_add(c, "", 0, 1), 4);
	assert_int_equal(stats_cat_add(c, all, 1, 1), 5);
	assert_int_equal(stats_cat_add(c, all, 4, 1), 6);
	assert_int_equal(stats_cat_add(c, "\xff\xfe", 2, 1), 7);
	assert_int_equal(stats_cat_add(c, "a\0b", 3, 1), 0);
	assert_value(c, 0, "a\0b", 3);
	assert_value(c, 1, "a\0c", 3);
	assert_value(c, 2, "a", 1);
	assert_value(c, 3, "a\0", 2);
	assert_value(c, 4, "", 0);
	assert_value(c, 5, all, 1);
	assert_value(c, 6, all, 4);
	assert_value(c, 7, "\xff\xfe", 2);
	assert_int_equal(stats_cat_find(c, all, 2), OTHER);
	assert_int_equal(stats_cat_find(c, NULL, 0), 4);
	assert_true(stats_cat_count(c, 0) == 2);
	assert_true(stats_cat_total(c) == 10);
	assert_roundtrip(c);
	stats_cat_free(c);
}

static void test_find(void **state)
{
	struct stats_cat *c = cat_new(0);

	(void)state;
	assert_int_equal(stats_cat_find(c, "a", 1), OTHER); /* empty set */
	add_str(c, "alpha", 1);
	add_str(c, "beta", 1);
	assert_int_equal(stats_cat_find(c, "alpha", 5), 0);
	assert_int_equal(stats_cat_find(c, "beta", 4), 1);
	assert_int_equal(stats_cat_find(c, "alph", 4), OTHER);
	assert_int_equal(stats_cat_find(c, "alphabet", 5), 0); /* only len bytes are read */
	assert_int_equal(stats_cat_find(c, "gamma", 5), OTHER);
	assert_true(stats_cat_total(c) == 2); /* find counts nothing */
	assert_int_equal(stats_cat_size(c), 2);
	stats_cat_free(c);
}

static void test_add_saturates(void **state)
{
	struct stats_cat *c = cat_new(0);

	(void)state;
	add_str(c, "a", UINT64_MAX - 1);
	add_str(c, "b", 5); /* clamped to 1 */
	add_str(c, "c", 5); /* interned, clamped to 0 */
	add_str(c, "__other__", 5);
	assert_true(stats_cat_total(c) == UINT64_MAX);
	assert_true(stats_cat_count(c, 0) == UINT64_MAX - 1);
	assert_true(stats_cat_count(c, 1) == 1);
	assert_true(stats_cat_count(c, 2) == 0);
	assert_true(stats_cat_other(c) == 0);
	assert_roundtrip(c);
	stats_cat_free(c);
}

/* ---- reset, clone ---- */

static void test_reset(void **state)
{
	struct stats_cat *c = cat_new(3);

	(void)state;
	add_str(c, "a", 1);
	add_str(c, "b", 2);
	add_str(c, "c", 3);
	add_str(c, "d", 4);
	stats_cat_reset(c);
	assert_int_equal(stats_cat_size(c), 0);
	assert_true(stats_cat_total(c) == 0 && stats_cat_other(c) == 0);
	assert_int_equal(stats_cat_find(c, "a", 1), OTHER);
	assert_int_equal(stats_cat_max_values(c), 3);
	/* fresh first-seen order, the full bound available again */
	assert_int_equal(add_str(c, "d", 1), 0);
	assert_int_equal(add_str(c, "c", 1), 1);
	assert_int_equal(add_str(c, "x", 1), 2);
	assert_int_equal(add_str(c, "a", 1), OTHER);
	assert_int_equal(stats_cat_find(c, "b", 1), OTHER);
	assert_value(c, 0, "d", 1);
	assert_true(stats_cat_total(c) == 4 && stats_cat_other(c) == 1);
	assert_roundtrip(c);
	stats_cat_reset(c);
	stats_cat_reset(c);
	assert_roundtrip(c);
	stats_cat_free(c);
}

static void test_clone(void **state)
{
	struct stats_cat *c = cat_new(4), *d = NULL;

	(void)state;
	d = stats_cat_clone(c); /* empty */
	assert_non_null(d);
	assert_same(c, d);
	assert_int_equal(add_str(d, "z", 1), 0);
	assert_int_equal(stats_cat_size(c), 0);
	stats_cat_free(d);

	add_str(c, "a", 1);
	add_str(c, "b\0b", 2);
	add_str(c, "nope-too-long-is-not-this", 0);
	add_str(c, "__other__", 7);
	d = stats_cat_clone(c);
	assert_non_null(d);
	assert_same(c, d);
	/* independent: the clone interns, counts and resets on its own */
	assert_int_equal(add_str(d, "e", 1), 3);
	assert_int_equal(add_str(d, "f", 1), OTHER);
	assert_int_equal(add_str(d, "a", 10), 0);
	assert_int_equal(stats_cat_size(c), 3);
	assert_true(stats_cat_count(c, 0) == 1);
	assert_true(stats_cat_other(c) == 7);
	assert_int_equal(stats_cat_find(c, "e", 1), OTHER);
	stats_cat_reset(d);
	assert_int_equal(stats_cat_size(c), 3);
	assert_int_equal(stats_cat_find(c, "a", 1), 0);
	stats_cat_free(d);
	stats_cat_free(c);
}

/* ---- merge ---- */

static void test_merge(void **state)
{
	struct stats_cat *dst = cat_new(4), *src = cat_new(8);

	(void)state;
	add_str(dst, "a", 1);
	add_str(dst, "b", 2);
	add_str(dst, "__other__", 3);
	add_str(src, "c", 10); /* new to dst */
	add_str(src, "a", 20);
	add_str(src, "d", 30); /* new: fills dst */
	add_str(src, "e", 40); /* no room left: dst's __other__ */
	add_str(src, "__other__", 50);
	assert_int_equal(stats_cat_merge(dst, src), STATS_OK);
	assert_int_equal(stats_cat_size(dst), 4);
	assert_value(dst, 0, "a", 1);
	assert_value(dst, 1, "b", 1);
	assert_value(dst, 2, "c", 1);
	assert_value(dst, 3, "d", 1);
	assert_true(stats_cat_count(dst, 0) == 21);
	assert_true(stats_cat_count(dst, 1) == 2);
	assert_true(stats_cat_count(dst, 2) == 10);
	assert_true(stats_cat_count(dst, 3) == 30);
	assert_true(stats_cat_other(dst) == 3 + 40 + 50);
	assert_true(stats_cat_total(dst) == 6 + 150);
	assert_int_equal(stats_cat_max_values(dst), 4);
	/* src untouched */
	assert_int_equal(stats_cat_size(src), 4);
	assert_true(stats_cat_total(src) == 150);

	/* merging an empty set changes nothing; into an empty set copies */
	{
		struct stats_cat *empty = cat_new(0), *copy = stats_cat_clone(dst);

		assert_int_equal(stats_cat_merge(dst, empty), STATS_OK);
		assert_same(dst, copy);
		assert_int_equal(stats_cat_merge(empty, src), STATS_OK);
		assert_int_equal(stats_cat_size(empty), 4);
		assert_value(empty, 3, "e", 1);
		assert_true(stats_cat_total(empty) == 150);
		stats_cat_free(copy);
		stats_cat_free(empty);
	}

	/* self-merge doubles every count */
	assert_int_equal(stats_cat_merge(src, src), STATS_OK);
	assert_int_equal(stats_cat_size(src), 4);
	assert_true(stats_cat_count(src, 0) == 20);
	assert_true(stats_cat_count(src, 3) == 80);
	assert_true(stats_cat_other(src) == 100);
	assert_true(stats_cat_total(src) == 300);
	stats_cat_free(dst);
	stats_cat_free(src);
}

static void test_merge_overflow(void **state)
{
	struct stats_cat *dst = cat_new(2), *src = cat_new(0);
	uint8_t *before = NULL, *after = NULL;
	size_t lb, la;

	(void)state;
	add_str(dst, "a", UINT64_MAX - 10);
	add_str(dst, "__other__", 5);
	add_str(src, "b", 3); /* would be interned ... */
	add_str(src, "a", 3); /* ... and this pushes the total over */
	before = ser(dst, &lb);
	assert_int_equal(stats_cat_merge(dst, src), STATS_ERANGE);
	after = ser(dst, &la);
	assert_int_equal(lb, la);
	assert_memory_equal(before, after, lb); /* dst unchanged, "b" not interned */
	assert_int_equal(stats_cat_find(dst, "b", 1), OTHER);
	free(after);

	/* exactly reaching UINT64_MAX is fine */
	stats_cat_reset(src);
	add_str(src, "a", 5);
	assert_int_equal(stats_cat_merge(dst, src), STATS_OK);
	assert_true(stats_cat_total(dst) == UINT64_MAX);
	/* then any non-empty src overflows, even one with only __other__ */
	stats_cat_reset(src);
	add_str(src, "__other__", 1);
	assert_int_equal(stats_cat_merge(dst, src), STATS_ERANGE);
	assert_true(stats_cat_other(dst) == 5);
	assert_int_equal(stats_cat_merge(dst, dst), STATS_ERANGE);
	assert_true(stats_cat_total(dst) == UINT64_MAX);
	free(before);
	stats_cat_free(dst);
	stats_cat_free(src);
}

/* Merges of random sets, compared with merging the models value by value. */
static void test_merge_random(void **state)
{
	static const size_t bounds[] = { 1, 3, 17, 256, 1000 };
	struct tu_rng r = { 42 };

	(void)state;
	for (size_t t = 0; t < 40; t++) {
		size_t bd = bounds[t % 5], bs = bounds[(t / 5) % 5], nv = 50 + 100 * (t % 7);
		struct stats_cat *dst = cat_new(bd), *src = cat_new(bs);
		struct model *md = model_new(bd), *ms = model_new(bs);

		feed(dst, md, &r, nv, 300 * (t % 4));
		feed(src, ms, &r, nv, 2000);
		assert_int_equal(stats_cat_merge(dst, src), STATS_OK);
		for (size_t i = 0; i < ms->n; i++)
			model_add(md, ms->val[i], ms->len[i], ms->cnt[i]);
		md->other += ms->other;
		assert_matches(dst, md);
		assert_matches(src, ms);
		model_free(md);
		model_free(ms);
		stats_cat_free(dst);
		stats_cat_free(src);
	}
}

/* ---- align ---- */

static void test_align(void **state)
{
	struct stats_cat *live = cat_new(0), *base = cat_new(0);
	uint64_t lo[5] = { 99, 99, 99, 99, 99 }, bo[5] = { 99, 99, 99, 99, 99 };
	size_t k = 0;

	(void)state;
	add_str(base, "a", 5);
	add_str(base, "b", 3);
	add_str(base, "c", 2);
	add_str(base, "__other__", 4);
	add_str(live, "c", 1);
	add_str(live, "d", 7); /* unknown to the baseline: folded into __other__ */
	add_str(live, "a", 2);
	add_str(live, "__other__", 3);

	assert_int_equal(stats_cat_align(live, base, lo, bo, 3, &k), STATS_EINVAL);
	assert_int_equal(k, 4);
	assert_true(lo[0] == 99 && bo[0] == 99); /* untouched */

	assert_int_equal(stats_cat_align(live, base, lo, bo, 5, &k), STATS_OK);
	assert_int_equal(k, 4);
	assert_true(lo[0] == 2 && lo[1] == 0 && lo[2] == 1 && lo[3] == 10);
	assert_true(bo[0] == 5 && bo[1] == 3 && bo[2] == 2 && bo[3] == 4);
	assert_true(lo[4] == 99 && bo[4] == 99); /* nothing past k */

	/* the other way round: base = live */
	assert_int_equal(stats_cat_align(base, live, lo, bo, 4, &k), STATS_OK);
	assert_int_equal(k, 4);
	assert_true(lo[0] == 2 && lo[1] == 0 && lo[2] == 5 && lo[3] == 3 + 4);
	assert_true(bo[0] == 1 && bo[1] == 7 && bo[2] == 2 && bo[3] == 3);

	/* with itself */
	assert_int_equal(stats_cat_align(live, live, lo, bo, 4, &k), STATS_OK);
	assert_true(lo[0] == 1 && lo[1] == 7 && lo[2] == 2 && lo[3] == 3);
	assert_memory_equal(lo, bo, 4 * sizeof *lo);

	/* an empty baseline: one slot holding everything */
	stats_cat_reset(base);
	assert_int_equal(stats_cat_align(live, base, lo, bo, 0, &k), STATS_EINVAL);
	assert_int_equal(k, 1);
	assert_int_equal(stats_cat_align(live, base, lo, bo, 1, &k), STATS_OK);
	assert_int_equal(k, 1);
	assert_true(lo[0] == 13 && bo[0] == 0);
	stats_cat_free(live);
	stats_cat_free(base);
}

/* Random live and baseline sets, aligned by the model and checked for conservation. */
static void test_align_random(void **state)
{
	static const size_t bounds[] = { 1, 5, 64, 256, 1000 };
	struct tu_rng r = { 7 };
	uint64_t *lo = malloc((MODEL_MAX + 1) * sizeof *lo),
		 *bo = malloc((MODEL_MAX + 1) * sizeof *bo);

	(void)state;
	assert_non_null(lo);
	assert_non_null(bo);
	for (size_t t = 0; t < 40; t++) {
		size_t bl = bounds[t % 5], bb = bounds[(t / 5) % 5], k = 0;
		struct stats_cat *live = cat_new(bl), *base = cat_new(bb);
		struct model *ml = model_new(bl), *mb = model_new(bb);
		uint64_t sl = 0, sb = 0, rest;

		feed(base, mb, &r, 300, 3000);
		feed(live, ml, &r, 200 + 100 * (t % 5), 3000); /* a shifted vocabulary */
		assert_int_equal(stats_cat_align(live, base, lo, bo, MODEL_MAX + 1, &k), STATS_OK);
		assert_int_equal(k, mb->n + 1);
		rest = ml->other;
		for (size_t i = 0; i < ml->n; i++)
			if (model_find(mb, ml->val[i], ml->len[i]) == OTHER)
				rest += ml->cnt[i];
		for (size_t i = 0; i < mb->n; i++) {
			size_t j = model_find(ml, mb->val[i], mb->len[i]);

			assert_true(lo[i] == (j == OTHER ? 0 : ml->cnt[j]));
			assert_true(bo[i] == mb->cnt[i]);
		}
		assert_true(lo[mb->n] == rest);
		assert_true(bo[mb->n] == mb->other);
		for (size_t i = 0; i < k; i++) {
			sl += lo[i];
			sb += bo[i];
		}
		assert_true(sl == stats_cat_total(live));
		assert_true(sb == stats_cat_total(base));
		model_free(ml);
		model_free(mb);
		stats_cat_free(live);
		stats_cat_free(base);
	}
	free(lo);
	free(bo);
}

/* ---- random streams against the model ---- */

static void test_model_streams(void **state)
{
	static const size_t bounds[] = { 1, 2, 3, 8, 9, 50, 100, 255, 256, 257, 1000 };
	struct tu_rng r = { 20240601 };

	(void)state;
	for (size_t t = 0; t < sizeof bounds / sizeof *bounds; t++) {
		for (size_t nv = 16; nv <= 4096; nv *= 4) {
			struct stats_cat *c = cat_new(bounds[t]);
			struct model *m = model_new(bounds[t]);

			feed(c, m, &r, nv, 5000);
			assert_matches(c, m);
			assert_roundtrip(c);
			model_free(m);
			stats_cat_free(c);
		}
	}
}

/* ---- serialization ---- */

static void test_serialize_golden(void **state)
{
	static const uint8_t want[] = { 'D', 'C', 'A',	'T',  1, 3, 2, 2,
					'a', 'b', 0x96, 0x01, 0, 1, 5 };
	struct stats_cat *c = cat_new(3), *d = NULL;
	uint8_t buf[64];
	size_t len = 0;

	(void)state;
	add_str(c, "ab", 150);
	add_str(c, "", 1);
	add_str(c, "__other__", 5);
	assert_int_equal(stats_cat_serialize(c, buf, sizeof buf, &len), STATS_OK);
	assert_int_equal(len, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	assert_true(stats_cat_serialized_max(c) >= len);
	/* every cap short of the size is refused */
	for (size_t cap = 0; cap < sizeof want; cap++)
		assert_int_equal(stats_cat_serialize(c, buf, cap, &len), STATS_ERANGE);
	assert_int_equal(stats_cat_serialize(c, buf, sizeof want, &len), STATS_OK);
	d = assert_accepted(want, sizeof want);
	assert_same(c, d);
	stats_cat_free(d);
	stats_cat_free(c);
}

static void test_roundtrip(void **state)
{
	struct stats_cat *c = cat_new(1);
	char big[LEN_MAX];

	(void)state;
	assert_roundtrip(c); /* empty */
	add_str(c, "only", UINT64_MAX - 3);
	add_str(c, "__other__", 3);
	assert_roundtrip(c);
	stats_cat_free(c);

	c = cat_new(0);
	memset(big, 0, sizeof big);
	stats_cat_add(c, big, sizeof big, 1);
	stats_cat_add(c, "\0\xff", 2, 0);
	stats_cat_add(c, NULL, 0, 7);
	assert_roundtrip(c);
	stats_cat_free(c);
}

static void test_malformed(void **state)
{
	struct stats_cat *c = cat_new(5), *d = NULL;
	uint8_t *buf = NULL;
	size_t len;
	struct enc e;

	(void)state;
	add_str(c, "alpha", 300);
	stats_cat_add(c, "b\0", 2, 1);
	add_str(c, "__other__", 70000);
	buf = ser(c, &len);

	/* truncated at every length */
	for (size_t n = 0; n < len; n++)
		assert_rejected(buf, n, STATS_EFORMAT);
	assert_rejected(NULL, 0, STATS_EFORMAT);
	d = assert_accepted(buf, len);
	stats_cat_free(d);

	/* a trailing byte */
	{
		uint8_t *longer = malloc(len + 1);

		assert_non_null(longer);
		memcpy(longer, buf, len);
		longer[len] = 0;
		assert_rejected(longer, len + 1, STATS_EFORMAT);
		free(longer);
	}

	/* bad magic, bad versions */
	buf[0] = 'd';
	assert_rejected(buf, len, STATS_EFORMAT);
	buf[0] = 'D';
	buf[3] = 'H';
	assert_rejected(buf, len, STATS_EFORMAT);
	buf[3] = 'T';
	buf[4] = 2;
	assert_rejected(buf, len, STATS_EVERSION);
	buf[4] = 0;
	assert_rejected(buf, len, STATS_EVERSION);
	buf[4] = 1;
	stats_cat_free(assert_accepted(buf, len));
	free(buf);
	stats_cat_free(c);

	/* duplicate values, even with different counts */
	e.n = 0;
	enc_header(&e, 4, 2);
	enc_value(&e, "ab", 2, 1);
	enc_value(&e, "ab", 2, 2);
	enc_varint(&e, 0);
	assert_rejected(e.b, e.n, STATS_EFORMAT);
	e.n = 0;
	enc_header(&e, 4, 3);
	enc_value(&e, "a\0", 2, 1);
	enc_value(&e, "a", 1, 1);
	enc_value(&e, "a\0", 2, 1);
	enc_varint(&e, 0);
	assert_rejected(e.b, e.n, STATS_EFORMAT);

	/* a "__other__" value */
	e.n = 0;
	enc_header(&e, 4, 1);
	enc_value(&e, "__other__", 9, 1);
	enc_varint(&e, 0);
	assert_rejected(e.b, e.n, STATS_EFORMAT);

	/* value lengths: 256 is kept, 257 is not */
	{
		char v[LEN_MAX + 1];

		memset(v, 'v', sizeof v);
		e.n = 0;
		enc_header(&e, 4, 1);
		enc_value(&e, v, LEN_MAX, 1);
		enc_varint(&e, 0);
		stats_cat_free(assert_accepted(e.b, e.n));
		e.n = 0;
		enc_header(&e, 4, 1);
		enc_value(&e, v, LEN_MAX + 1, 1);
		enc_varint(&e, 0);
		assert_rejected(e.b, e.n, STATS_EFORMAT);
	}

	/* a length past the end of the input */
	e.n = 0;
	enc_header(&e, 4, 1);
	enc_varint(&e, 200);
	enc_bytes(&e, "short", 5);
	assert_rejected(e.b, e.n, STATS_EFORMAT);

	/* max_values bounds, and more values than max_values */
	e.n = 0;
	enc_header(&e, 0, 0);
	enc_varint(&e, 0);
	assert_rejected(e.b, e.n, STATS_EFORMAT);
	e.n = 0;
	enc_header(&e, STATS_CAT_MAX_VALUES_LIMIT + 1, 0);
	enc_varint(&e, 0);
	assert_rejected(e.b, e.n, STATS_EFORMAT);
	e.n = 0;
	enc_header(&e, UINT64_MAX, 0);
	enc_varint(&e, 0);
	assert_rejected(e.b, e.n, STATS_EFORMAT);
	e.n = 0;
	enc_header(&e, STATS_CAT_MAX_VALUES_LIMIT, 0);
	enc_varint(&e, 0);
	d = assert_accepted(e.b, e.n);
	assert_int_equal(stats_cat_max_values(d), STATS_CAT_MAX_VALUES_LIMIT);
	stats_cat_free(d);
	e.n = 0;
	enc_header(&e, 1, 2);
	enc_value(&e, "a", 1, 1);
	enc_value(&e, "b", 1, 1);
	enc_varint(&e, 0);
	assert_rejected(e.b, e.n, STATS_EFORMAT);
	e.n = 0;
	enc_header(&e, 1, UINT64_MAX);
	assert_rejected(e.b, e.n, STATS_EFORMAT);

	/* totals that wrap: through the counts, through __other__ */
	e.n = 0;
	enc_header(&e, 4, 2);
	enc_value(&e, "a", 1, UINT64_MAX);
	enc_value(&e, "b", 1, 1);
	enc_varint(&e, 0);
	assert_rejected(e.b, e.n, STATS_EFORMAT);
	e.n = 0;
	enc_header(&e, 4, 1);
	enc_value(&e, "a", 1, UINT64_MAX - 1);
	enc_varint(&e, 2);
	assert_rejected(e.b, e.n, STATS_EFORMAT);
	e.n = 0;
	enc_header(&e, 4, 1);
	enc_value(&e, "a", 1, UINT64_MAX - 1);
	enc_varint(&e, 1);
	d = assert_accepted(e.b, e.n);
	assert_true(stats_cat_total(d) == UINT64_MAX);
	stats_cat_free(d);

	/* a non-canonical varint (1 written on two bytes) */
	e.n = 0;
	enc_header(&e, 4, 0);
	enc_u8(&e, 0x81);
	enc_u8(&e, 0x00);
	assert_rejected(e.b, e.n, STATS_EFORMAT);

	/* st may be NULL */
	assert_null(stats_cat_deserialize(e.b, e.n, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_bounds),
		cmocka_unit_test(test_interning_order_counts),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_bound_one_and_limit),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_other_literal),
		cmocka_unit_test(test_binary_values),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_add_saturates),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_clone),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_overflow),
		cmocka_unit_test(test_merge_random),
		cmocka_unit_test(test_align),
		cmocka_unit_test(test_align_random),
		cmocka_unit_test(test_model_streams),
		cmocka_unit_test(test_serialize_golden),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
	};

	stats_init();
	return TU_RUN(tests);
}
