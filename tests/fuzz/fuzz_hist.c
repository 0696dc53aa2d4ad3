/*
 * fuzz_hist.c -- fuzz target of the histogram deserializer (the bytes driftd reads back from
 * Redis and baseline files). Any input: no crash, no out-of-bounds read, no leak. A decoded
 * histogram must re-encode to bytes that decode to the same histogram, merge with itself (or
 * report overflow), and keep counting.
 */
#include "fuzz.h"
#include "stats/hist.h"

#include <math.h>
#include <string.h>

static int same(const struct stats_hist *a, const struct stats_hist *b)
{
	size_t bins = stats_hist_bins(a);

	return stats_hist_binning(a) == stats_hist_binning(b) && bins == stats_hist_bins(b) &&
	       !memcmp(stats_hist_edges(a), stats_hist_edges(b), (bins + 1) * sizeof(double)) &&
	       !memcmp(stats_hist_counts(a), stats_hist_counts(b), (bins + 3) * sizeof(uint64_t));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum stats_status st;
	struct stats_hist *h = stats_hist_deserialize(data, size, &st), *back, *twice;
	uint8_t *buf;
	size_t cap, len = 0;
	const double probe[] = { NAN, -INFINITY, INFINITY, 0.0, -0.0, 1.0, -1.0, 1e300, 4.9e-324 };

	if (!h) {
		FUZZ_CHECK(st == STATS_EFORMAT || st == STATS_EVERSION || st == STATS_ENOMEM);
		return 0;
	}
	FUZZ_CHECK(st == STATS_OK);
	cap = stats_hist_serialized_max(h);
	buf = malloc(cap);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(stats_hist_serialize(h, buf, cap, &len) == STATS_OK);
	back = stats_hist_deserialize(buf, len, &st);
	FUZZ_CHECK(back != NULL && same(h, back));

	twice = stats_hist_clone(h);
	FUZZ_CHECK(twice != NULL);
	st = stats_hist_merge(twice, h);
	FUZZ_CHECK(st == STATS_OK || st == STATS_ERANGE);
	if (st == STATS_OK)
		FUZZ_CHECK(stats_hist_total(twice) == 2 * stats_hist_total(h));

	if (stats_hist_total(back) < UINT64_MAX - 16) {
		uint64_t before = stats_hist_total(back);

		stats_hist_add(back, probe, sizeof probe / sizeof *probe);
		FUZZ_CHECK(stats_hist_total(back) == before + sizeof probe / sizeof *probe);
	}
	free(buf);
	stats_hist_free(h);
	stats_hist_free(back);
	stats_hist_free(twice);
	return 0;
}

size_t fuzz_seed(uint8_t *buf, size_t cap, unsigned i)
{
	struct stats_hist *h = NULL;
	size_t len = 0;
	double edges[] = { -3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 8.0 };
	double x[64];

	for (size_t k = 0; k < 64; k++)
		x[k] = (double)k / 8.0 - 4.0;
	switch (i) {
	case 0:
		h = stats_hist_new_uniform(0.0, 1.0, 1, NULL);
		break;
	case 1:
		h = stats_hist_new_uniform(-4.0, 4.0, 16, NULL);
		break;
	case 2:
		h = stats_hist_new_edges(edges, 7, NULL);
		break;
	case 3:
		h = stats_hist_new_edges(edges, 2, NULL);
		break;
	case 4: {
		/* regression (libFuzzer): uniform over [0, a subnormal): its scale overflows to
		 * +Inf */
		static const uint8_t narrow[] = { 'D',	'H', 'S', 'T', 1, 1, 1, 0, 0, 0, /* B = 1 */
						  0,	0,   0,	  0,   0, 0, 0, 0, /* lo = 0 */
						  0x41, 0,   0,	  3,   0, 0, 0, 0, /* hi */
						  0,	0,   0,	  0 };

		if (cap < sizeof narrow)
			return 0;
		memcpy(buf, narrow, sizeof narrow);
		return sizeof narrow;
	}
	default:
		return 0;
	}
	if (i % 2 == 1 || i == 2)
		stats_hist_add(h, x, 64);
	if (stats_hist_serialize(h, buf, cap, &len) != STATS_OK)
		len = 0;
	stats_hist_free(h);
	return len;
}
