/*
 * fuzz_sketch.c -- fuzz target of stats_sketch_deserialize, and of the sketch operations on
 * whatever it accepts.
 *
 * The format has one encoding per sketch (canonical varints, no padding), so an accepted input
 * must serialize back to the same bytes. Every operation (merge into itself, into a narrower
 * sketch, add) must leave a sketch that the deserializer accepts again: its checks are the
 * sketch's invariants (counter totals, window ends, extremes inside their buckets).
 */
#include "fuzz.h"
#include "stats/sketch.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- helpers ---- */

/* Serializes s into a malloc'd buffer; aborts on failure. */
static uint8_t *serialize(const struct stats_sketch *s, size_t *len)
{
	size_t cap = stats_sketch_serialized_max(s);
	uint8_t *buf = malloc(cap);

	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(stats_sketch_serialize(s, buf, cap, len) == STATS_OK);
	FUZZ_CHECK(*len <= cap);
	return buf;
}

/* s must survive a round trip: accepted again, and the same bytes. */
static void check_roundtrip(const struct stats_sketch *s)
{
	enum stats_status st = STATS_EINVAL;
	size_t len, len2;
	uint8_t *a = serialize(s, &len), *b = NULL;
	struct stats_sketch *t = stats_sketch_deserialize(a, len, &st);

	FUZZ_CHECK(t != NULL && st == STATS_OK);
	b = serialize(t, &len2);
	FUZZ_CHECK(len == len2 && memcmp(a, b, len) == 0);
	stats_sketch_free(t);
	free(b);
	free(a);
}

/* Quantiles lie in [min, max] and do not decrease with q. */
static void check_quantiles(const struct stats_sketch *s)
{
	double prev = -INFINITY, v = 0, lo = stats_sketch_min(s), hi = stats_sketch_max(s);

	if (stats_sketch_count(s) == 0) {
		FUZZ_CHECK(stats_sketch_quantile(s, 0.5, &v) == STATS_EINVAL);
		FUZZ_CHECK(isnan(lo) && isnan(hi));
		return;
	}
	FUZZ_CHECK(lo <= hi);
	for (int i = 0; i <= 20; i++) {
		FUZZ_CHECK(stats_sketch_quantile(s, i / 20.0, &v) == STATS_OK);
		FUZZ_CHECK(v >= lo && v <= hi && v >= prev);
		prev = v;
	}
	FUZZ_CHECK(stats_sketch_quantile(s, 0.0, &v) == STATS_OK && v >= lo);
	FUZZ_CHECK(stats_sketch_quantile(s, 1.0, &v) == STATS_OK && v <= hi);
	FUZZ_CHECK(stats_sketch_quantile(s, 1.5, &v) == STATS_EINVAL);
}

/* ---- target ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum stats_status st = STATS_OK, r;
	struct stats_sketch *s = stats_sketch_deserialize(data, size, &st), *c = NULL;
	uint8_t *out = NULL;
	double v[12] = { 0.5, 1e300, NAN, -1.0, 0.0, INFINITY };
	size_t len, nv = 6;
	uint64_t counted = 4, nans = 1, n, nan, neg; /* counted, NaN among v[0..nv) */

	if (!s) {
		FUZZ_CHECK(st == STATS_EFORMAT || st == STATS_EVERSION || st == STATS_ENOMEM);
		return 0;
	}
	FUZZ_CHECK(st == STATS_OK);
	n = stats_sketch_count(s);
	nan = stats_sketch_nan(s);
	neg = stats_sketch_negative(s);
	FUZZ_CHECK(stats_sketch_collapsed(s) <= n);

	/* one encoding per sketch */
	out = serialize(s, &len);
	FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
	free(out);
	check_quantiles(s);

	/* into a clone of itself: every counter doubles, or ERANGE and nothing changes */
	c = stats_sketch_clone(s);
	FUZZ_CHECK(c != NULL);
	r = stats_sketch_merge(c, s);
	FUZZ_CHECK(r == STATS_OK || r == STATS_ERANGE);
	if (r == STATS_OK) {
		FUZZ_CHECK(stats_sketch_count(c) == 2 * n && stats_sketch_nan(c) == 2 * nan &&
			   stats_sketch_negative(c) == 2 * neg);
		FUZZ_CHECK(stats_sketch_buckets(c) == stats_sketch_buckets(s));
		check_roundtrip(c);
		check_quantiles(c);
	} else {
		FUZZ_CHECK(n + nan + neg > UINT64_MAX / 2);
		FUZZ_CHECK(stats_sketch_count(c) == n && stats_sketch_nan(c) == nan);
	}
	stats_sketch_free(c);

	/* into the narrowest sketch: collapses, counts nothing twice */
	c = stats_sketch_new(64, NULL);
	FUZZ_CHECK(c != NULL);
	FUZZ_CHECK(stats_sketch_merge(c, s) == STATS_OK);
	FUZZ_CHECK(stats_sketch_count(c) == n && stats_sketch_buckets(c) <= 64);
	FUZZ_CHECK(stats_sketch_min(c) == stats_sketch_min(s) || n == 0);
	check_roundtrip(c);
	check_quantiles(c);
	stats_sketch_free(c);

	/* a few values, some taken from the input's bytes */
	for (size_t off = 0; off + 8 <= size && nv < 12; off += 8 * (size / 64 + 1)) {
		memcpy(&v[nv], data + off, 8);
		counted += !isnan(v[nv]) && !(v[nv] < 0);
		nans += isnan(v[nv]) != 0;
		nv++;
	}
	r = stats_sketch_add(s, v, nv);
	FUZZ_CHECK(r == STATS_OK || r == STATS_ERANGE);
	if (r == STATS_OK) {
		FUZZ_CHECK(stats_sketch_count(s) == n + counted);
		FUZZ_CHECK(stats_sketch_nan(s) == nan + nans);
		check_roundtrip(s);
		check_quantiles(s);
	} else {
		FUZZ_CHECK(stats_sketch_count(s) == n);
	}
	stats_sketch_free(s);
	return 0;
}

/* ---- seeds ---- */

static uint64_t seed_rng(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Seeds: empty, small, specials, collapsed (add and merge), only +Inf, only NaN, wide. */
size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	static const double small[] = { 1.0, 1.0, 1.5, 3e-3, 250.0 };
	static const double specials[] = { NAN,	     -1.0,    -0.0,   0.0, 5e-324,
					   INFINITY, DBL_MAX, 1e-300, 2.0 };
	static const double infs[] = { INFINITY, INFINITY, INFINITY };
	static const double nans[] = { NAN, -NAN };
	struct stats_sketch *s = NULL, *w = NULL;
	uint64_t rng = 0x5eed + i;
	double x[2000];
	size_t len = 0;

	switch (i) {
	case 0:
		s = stats_sketch_new(0, NULL);
		break;
	case 1:
		s = stats_sketch_new(0, NULL);
		stats_sketch_add(s, small, sizeof small / sizeof small[0]);
		break;
	case 2: /* 1e-300 .. DBL_MAX collapses the default window */
		s = stats_sketch_new(0, NULL);
		stats_sketch_add(s, specials, sizeof specials / sizeof specials[0]);
		break;
	case 3: /* collapsed by add */
	case 4: /* collapsed by merge */
		for (size_t k = 0; k < 2000; k++)
			x[k] = exp(-14.0 + 28.0 * (double)(seed_rng(&rng) >> 11) * 0x1.0p-53);
		s = stats_sketch_new(64, NULL);
		if (i == 3) {
			stats_sketch_add(s, x, 2000);
		} else {
			w = stats_sketch_new(0, NULL);
			stats_sketch_add(w, x, 2000);
			stats_sketch_merge(s, w);
			stats_sketch_free(w);
		}
		break;
	case 5:
		s = stats_sketch_new(0, NULL);
		stats_sketch_add(s, infs, 3);
		break;
	case 6:
		s = stats_sketch_new(100, NULL);
		stats_sketch_add(s, nans, 2);
		break;
	case 7: /* wide, some of the counts needing several varint bytes */
		for (size_t k = 0; k < 2000; k++)
			x[k] = 1e-3 * (double)(1 + seed_rng(&rng) % 1000000);
		s = stats_sketch_new(STATS_SKETCH_MAX_BUCKETS_LIMIT, NULL);
		for (int rep = 0; rep < 5; rep++)
			stats_sketch_add(s, x, 2000);
		break;
	default:
		return 0;
	}
	if (!s)
		return 0;
	if (stats_sketch_serialize(s, buf, cap, &len) != STATS_OK)
		len = 0;
	stats_sketch_free(s);
	return len;
}
