/*
 * edges.c -- equal-frequency bin edges from a sample: the baseline builder's binning.
 *
 * The definition (hist.h, doc/statistics.md): finite values only; e_0 = min; e_k the
 * ceil(m k / B)-th smallest value in exact integer arithmetic (numpy's 'inverted_cdf' quantile at
 * k/B, except where numpy's rounded index m*(k/B) lands just above an integer) for 0 < k < B;
 * e_B = nextafter(max, +Inf); duplicates removed. Every interior edge is a data value, so a
 * discrete feature gets one bin per value it takes, and a point mass one bin of its own.
 */
#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

enum stats_status stats_edges_quantile(const double *x, size_t n, size_t bins, double *edges,
				       size_t *nedges)
{
	double *s;
	size_t m = 0, out = 0;

	if (!x || !edges || !nedges || bins == 0 || bins > STATS_HIST_MAX_BINS)
		return STATS_EINVAL;
	s = malloc((n ? n : 1) * sizeof *s);
	if (!s)
		return STATS_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i]))
			s[m++] = x[i];
	if (m == 0) {
		free(s);
		return STATS_EINVAL;
	}
	qsort(s, m, sizeof *s, cmp_double);

	edges[out++] = s[0];
	for (size_t k = 1; k < bins; k++) {
		/* 1-based rank ceil(m k / B) in exact integer arithmetic (m k < 2^64 for any
		 * sample that fits in memory: m < 2^48, k <= 2^16) */
		size_t rank = (m * k + bins - 1) / bins;
		double e = s[rank - 1];

		if (e > edges[out - 1])
			edges[out++] = e;
	}
	/* just above max -- or max itself when max is DBL_MAX: no finite double lies above it, so
	 * DBL_MAX values count as overflow (documented) */
	edges[out] = nextafter(s[m - 1], INFINITY);
	if (!isfinite(edges[out]))
		edges[out] = s[m - 1];
	if (edges[out] > edges[out - 1])
		out++;
	else if (out == 1) /* a constant sample of DBL_MAX */
		edges[0] = nextafter(edges[0], -INFINITY), edges[out++] = s[m - 1];
	free(s);
	*nedges = out;
	return STATS_OK;
}
