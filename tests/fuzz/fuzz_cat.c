/*
 * fuzz_cat.c -- fuzz target of stats/cat.c: the deserializer and the interning of arbitrary
 * values.
 *
 * Every input is used twice. (a) As serialized bytes: when stats_cat_deserialize accepts them, the
 * set must satisfy the invariants of cat.h, serialize back to a canonical form that round-trips
 * byte for byte, align with itself conserving its counts, and merge into its clone by doubling
 * every count (or refuse with STATS_ERANGE leaving the clone intact). (b) As a stream of values:
 * byte 0 picks a bound in [1, 16], byte 1 a delimiter, the rest is split at the delimiter and each
 * piece is added once; the set must stay within its bound, count every piece, and agree with
 * stats_cat_find and stats_cat_value on each returned index.
 */
#include "fuzz.h"
#include "stats/cat.h"

#include <string.h>

#define OTHER STATS_CAT_OTHER_INDEX

/* ---- invariants ---- */

/* Structure of a set: bound, values, lookup, total = sum of counts + other. */
static void check_set(const struct stats_cat *c)
{
	size_t n = stats_cat_size(c);
	uint64_t sum = stats_cat_other(c);

	FUZZ_CHECK(stats_cat_max_values(c) >= 1);
	FUZZ_CHECK(stats_cat_max_values(c) <= STATS_CAT_MAX_VALUES_LIMIT);
	FUZZ_CHECK(n <= stats_cat_max_values(c));
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)-1;
		const char *s = stats_cat_value(c, i, &len);
		uint64_t cnt = stats_cat_count(c, i);

		FUZZ_CHECK(s != NULL);
		FUZZ_CHECK(len <= STATS_CAT_MAX_VALUE_LEN);
		FUZZ_CHECK(s[len] == '\0');
		FUZZ_CHECK(!(len == 9 && memcmp(s, STATS_CAT_OTHER, 9) == 0));
		FUZZ_CHECK(stats_cat_find(c, s, len) == i);
		FUZZ_CHECK(cnt <= UINT64_MAX - sum);
		sum += cnt;
	}
	FUZZ_CHECK(stats_cat_value(c, n, NULL) == NULL);
	FUZZ_CHECK(sum == stats_cat_total(c));
}

/* Serializes c into a malloc'd buffer (NULL only when memory runs out). */
static uint8_t *ser(const struct stats_cat *c, size_t *len)
{
	size_t max = stats_cat_serialized_max(c);
	uint8_t *buf = malloc(max);

	if (!buf)
		return NULL;
	FUZZ_CHECK(stats_cat_serialize(c, buf, max, len) == STATS_OK);
	FUZZ_CHECK(*len <= max);
	if (*len)
		FUZZ_CHECK(stats_cat_serialize(c, buf, *len - 1, len) == STATS_ERANGE);
	FUZZ_CHECK(stats_cat_serialize(c, buf, max, len) == STATS_OK);
	return buf;
}

/* serialize -> deserialize -> serialize gives identical bytes. */
static void check_roundtrip(const struct stats_cat *c)
{
	enum stats_status st;
	struct stats_cat *d = NULL;
	uint8_t *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;

	a = ser(c, &la);
	if (!a)
		goto out;
	d = stats_cat_deserialize(a, la, &st);
	FUZZ_CHECK(d != NULL || st == STATS_ENOMEM);
	if (!d)
		goto out;
	FUZZ_CHECK(stats_cat_size(d) == stats_cat_size(c));
	FUZZ_CHECK(stats_cat_total(d) == stats_cat_total(c));
	b = ser(d, &lb);
	if (!b)
		goto out;
	FUZZ_CHECK(la == lb && memcmp(a, b, la) == 0);
out:
	free(b);
	free(a);
	stats_cat_free(d);
}

/* Aligned with itself: k = size + 1, both sides equal, counts conserved. */
static void check_align_self(const struct stats_cat *c)
{
	size_t n = stats_cat_size(c), k = 0;
	uint64_t *lo = malloc((n + 1) * sizeof *lo), *bo = malloc((n + 1) * sizeof *bo);
	uint64_t sum = 0;

	if (!lo || !bo)
		goto out;
	if (n)
		FUZZ_CHECK(stats_cat_align(c, c, lo, bo, n, &k) == STATS_EINVAL);
	FUZZ_CHECK(stats_cat_align(c, c, lo, bo, n + 1, &k) == STATS_OK);
	FUZZ_CHECK(k == n + 1);
	for (size_t i = 0; i < k; i++) {
		FUZZ_CHECK(lo[i] == bo[i]);
		FUZZ_CHECK(lo[i] == (i < n ? stats_cat_count(c, i) : stats_cat_other(c)));
		sum += lo[i];
	}
	FUZZ_CHECK(sum == stats_cat_total(c));
out:
	free(lo);
	free(bo);
}

/* Aligning live on base conserves both totals. */
static void check_align(const struct stats_cat *live, const struct stats_cat *base)
{
	size_t n = stats_cat_size(base), k = 0;
	uint64_t *lo = malloc((n + 1) * sizeof *lo), *bo = malloc((n + 1) * sizeof *bo);
	uint64_t sl = 0, sb = 0;

	if (!lo || !bo)
		goto out;
	FUZZ_CHECK(stats_cat_align(live, base, lo, bo, n + 1, &k) == STATS_OK);
	FUZZ_CHECK(k == n + 1);
	for (size_t i = 0; i < k; i++) {
		sl += lo[i];
		sb += bo[i];
	}
	FUZZ_CHECK(sl == stats_cat_total(live));
	FUZZ_CHECK(sb == stats_cat_total(base));
out:
	free(lo);
	free(bo);
}

/* Merging c into its clone doubles every count, or fails with ERANGE leaving the clone as c. */
static void check_merge_clone(const struct stats_cat *c)
{
	struct stats_cat *d = stats_cat_clone(c);
	enum stats_status st;
	size_t n = stats_cat_size(c);

	if (!d)
		return;
	st = stats_cat_merge(d, c);
	FUZZ_CHECK(st == STATS_OK || st == STATS_ERANGE || st == STATS_ENOMEM);
	FUZZ_CHECK((st == STATS_ERANGE) == (stats_cat_total(c) > UINT64_MAX - stats_cat_total(c)));
	FUZZ_CHECK(stats_cat_size(d) == n);
	if (st == STATS_OK) {
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(stats_cat_count(d, i) == 2 * stats_cat_count(c, i));
		FUZZ_CHECK(stats_cat_other(d) == 2 * stats_cat_other(c));
		FUZZ_CHECK(stats_cat_total(d) == 2 * stats_cat_total(c));
	} else {
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(stats_cat_count(d, i) == stats_cat_count(c, i));
		FUZZ_CHECK(stats_cat_other(d) == stats_cat_other(c));
		FUZZ_CHECK(stats_cat_total(d) == stats_cat_total(c));
	}
	check_set(d);
	stats_cat_free(d);
}

static void check_all(const struct stats_cat *c)
{
	check_set(c);
	check_roundtrip(c);
	check_align_self(c);
	check_merge_clone(c);
}

/* ---- the two uses of an input ---- */

static struct stats_cat *as_serialized(const uint8_t *data, size_t size)
{
	enum stats_status st = STATS_OK;
	struct stats_cat *c = stats_cat_deserialize(data, size, &st);

	if (!c) {
		FUZZ_CHECK(st == STATS_EFORMAT || st == STATS_EVERSION || st == STATS_ENOMEM);
		return NULL;
	}
	FUZZ_CHECK(st == STATS_OK);
	check_all(c);
	return c;
}

static struct stats_cat *as_stream(const uint8_t *data, size_t size)
{
	struct stats_cat *c = NULL;
	size_t bound, start = 2;
	uint64_t pieces = 0;
	uint8_t delim;

	if (size < 2)
		return NULL;
	bound = 1 + data[0] % 16;
	delim = data[1];
	c = stats_cat_new(bound, NULL);
	if (!c)
		return NULL;
	for (size_t i = 2; i <= size; i++) {
		const char *s = (const char *)data + start;
		size_t len = i - start, idx, vlen;
		const char *v = NULL;

		if (i < size && data[i] != delim)
			continue;
		idx = stats_cat_add(c, s, len, 1);
		pieces++;
		start = i + 1;
		FUZZ_CHECK(idx == OTHER || idx < stats_cat_size(c));
		FUZZ_CHECK(stats_cat_find(c, s, len) == idx);
		if (idx == OTHER)
			continue;
		v = stats_cat_value(c, idx, &vlen);
		FUZZ_CHECK(vlen == len && memcmp(v, s, len) == 0);
	}
	FUZZ_CHECK(stats_cat_size(c) <= bound);
	FUZZ_CHECK(stats_cat_total(c) == pieces);
	check_all(c);
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stats_cat *a = as_serialized(data, size);
	struct stats_cat *b = as_stream(data, size);

	if (a && b) {
		check_align(a, b);
		check_align(b, a);
	}
	stats_cat_free(a);
	stats_cat_free(b);
	return 0;
}

/* ---- seeds ---- */

static size_t seed_of(const struct stats_cat *c, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	if (stats_cat_serialize(c, buf, cap, &len) != STATS_OK)
		return 0;
	return len;
}

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	static const char stream[] = "\x03,FR,US,FR,DE,__other__,,true,false,US,\x00\x01,FR";
	struct stats_cat *c = NULL;
	char v[STATS_CAT_MAX_VALUE_LEN];
	char name[16];
	size_t len = 0;

	switch (i) {
	case 0: /* empty, default bound */
		c = stats_cat_new(0, NULL);
		break;
	case 1: /* small, with __other__ */
		c = stats_cat_new(8, NULL);
		if (!c)
			return 0;
		stats_cat_add(c, "true", 4, 120);
		stats_cat_add(c, "false", 5, 3);
		stats_cat_add(c, STATS_CAT_OTHER, 9, 7);
		break;
	case 2: /* full: the bound reached, the rest in __other__ */
		c = stats_cat_new(4, NULL);
		if (!c)
			return 0;
		for (unsigned k = 0; k < 7; k++) {
			int n = snprintf(name, sizeof name, "cc%u", k);
			stats_cat_add(c, name, (size_t)n, 1000u >> k);
		}
		break;
	case 3: /* binary values: inner NULs, empty, the longest allowed, huge counts */
		c = stats_cat_new(16, NULL);
		if (!c)
			return 0;
		memset(v, 0, sizeof v);
		stats_cat_add(c, "a\0b", 3, 1);
		stats_cat_add(c, "", 0, 2);
		stats_cat_add(c, v, sizeof v, UINT64_MAX / 3);
		stats_cat_add(c, "\xff\x80\x7f", 3, UINT64_MAX / 3);
		break;
	case 4: /* the default bound, full */
		c = stats_cat_new(0, NULL);
		if (!c)
			return 0;
		for (unsigned k = 0; k < 300; k++) {
			int n = snprintf(name, sizeof name, "%u", k * 7919u);
			stats_cat_add(c, name, (size_t)n, 1 + k % 5);
		}
		break;
	case 5: /* a stream for part (b) */
		if (cap < sizeof stream - 1)
			return 0;
		memcpy(buf, stream, sizeof stream - 1);
		return sizeof stream - 1;
	default:
		return 0;
	}
	if (!c)
		return 0;
	len = seed_of(c, buf, cap);
	stats_cat_free(c);
	return len;
}
