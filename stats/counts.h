/*
 * counts.h -- internal: helpers on count vectors shared by the divergences and the tests.
 */
#ifndef DRIFTD_STATS_COUNTS_H
#define DRIFTD_STATS_COUNTS_H

#include "stats.h"

/* Sum of c[0..k-1] into *n; STATS_ERANGE (and *n untouched) if it does not fit in 64 bits. */
static inline enum stats_status stats_counts_total(const uint64_t *c, size_t k, uint64_t *n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < k; i++)
		if (__builtin_add_overflow(s, c[i], &s))
			return STATS_ERANGE;
	*n = s;
	return STATS_OK;
}

#endif
