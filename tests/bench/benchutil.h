/*
 * benchutil.h -- what every benchmark needs: a monotonic clock and medians. Header-only.
 */
#ifndef DRIFTD_BENCHUTIL_H
#define DRIFTD_BENCHUTIL_H

#include <stdlib.h>
#include <time.h>

/* Monotonic time in seconds. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static inline double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return v[n / 2];
}

#endif
