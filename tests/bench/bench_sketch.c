/*
 * bench_sketch.c -- benchmark of the quantile sketch (stats/sketch.h); `make bench`, not a test.
 *
 * Measures, in one run and on the same 10^7 lognormal latencies (median 10 ms, sigma 1):
 *   - stats_sketch_add, whose bucket index is a shift of the IEEE bits ("bits");
 *   - the classic DDSketch index ceil(log(x) / log(gamma)) into a dense array, with the same
 *     relative accuracy (gamma = 130/128, i.e. alpha = 1/129) and the same bookkeeping (NaN,
 *     negative, zero and +Inf counters, min, max, sum, memory prefetch) ("log"); 1/log(gamma)
 *     is precomputed, so the loop pays one log() and no division per value;
 *   - stats_sketch_quantile on the filled sketch.
 * Each figure is the median of 5 runs (CLOCK_MONOTONIC). Prints one JSON object per line.
 */
#include "stats/sketch.h"
#include "benchutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NVALUES	    10000000 /* values per run */
#define RUNS	    5	     /* runs per figure: the median is printed */
#define NQUERIES    200000   /* quantile queries per run */
#define LOG_BUCKETS 8192     /* dense array of the log-indexed sketch */

/* The log-indexed reference sketch: counters and bookkeeping equal to stats_sketch's. */
struct log_sketch {
	uint64_t counts[LOG_BUCKETS]; /* bucket k - offset counts (gamma^(k-1), gamma^k] */
	int offset;		      /* index of counts[0] */
	double inv_log_gamma;	      /* 1 / log(gamma) */
	uint64_t zero, inf, nan, negative, count; /* as in stats_sketch */
	double min, max, sum;			  /* as in stats_sketch */
};

/* ---- helpers ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_uniform(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* exp(mu + sigma N(0,1)) by Box-Muller. */
static double lognormal(uint64_t *s, double mu, double sigma)
{
	double u = rng_uniform(s), v = rng_uniform(s);

	return exp(mu + sigma * sqrt(-2.0 * log1p(-u)) * cos(6.283185307179586 * v));
}

static void log_reset(struct log_sketch *l)
{
	memset(l->counts, 0, sizeof l->counts);
	l->offset = -LOG_BUCKETS / 2;
	l->inv_log_gamma = 1.0 / log(130.0 / 128.0);
	l->zero = l->inf = l->nan = l->negative = l->count = 0;
	l->min = INFINITY;
	l->max = -INFINITY;
	l->sum = 0.0;
}

static void log_add(struct log_sketch *l, const double *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double v = x[i];

		__builtin_prefetch(x + i + 256); /* the same read-ahead as stats_sketch_add */
		if (v >= DBL_MIN && v < INFINITY) {
			int k = (int)ceil(log(v) * l->inv_log_gamma) - l->offset;

			k = k < 0 ? 0 : k >= LOG_BUCKETS ? LOG_BUCKETS - 1 : k;
			l->counts[k]++;
			l->min = v < l->min ? v : l->min;
			l->max = v > l->max ? v : l->max;
			l->sum += v;
			l->count++;
		} else if (v != v) {
			l->nan++;
		} else if (v < 0) {
			l->negative++;
		} else if (v == INFINITY) {
			l->inf++;
			l->count++;
			l->max = v;
		} else {
			l->zero++;
			l->count++;
			l->min = v < l->min ? v : l->min;
		}
	}
}

/* ---- main ---- */

int main(void)
{
	static const double qs[] = { 0.5, 0.9, 0.95, 0.99, 0.999 };
	double *x = malloc(NVALUES * sizeof *x), t_bits[RUNS], t_log[RUNS], t_q[RUNS];
	struct log_sketch *l = malloc(sizeof *l);
	struct stats_sketch *s = NULL;
	enum stats_status st = STATS_OK;
	uint64_t seed = 42;
	double sink = 0.0, bits_ns, log_ns, q_ns;

	if (!x || !l || stats_init() != STATS_OK)
		return 1;
	s = stats_sketch_new(0, &st);
	if (!s)
		return 1;
	for (size_t i = 0; i < NVALUES; i++)
		x[i] = lognormal(&seed, log(0.01), 1.0);

	for (int r = 0; r < RUNS; r++) {
		double t0;

		stats_sketch_reset(s);
		t0 = (1e9 * now());
		if (stats_sketch_add(s, x, NVALUES) != STATS_OK)
			return 1;
		t_bits[r] = ((1e9 * now()) - t0) / NVALUES;

		log_reset(l);
		t0 = (1e9 * now());
		log_add(l, x, NVALUES);
		t_log[r] = ((1e9 * now()) - t0) / NVALUES;

		if (stats_sketch_count(s) != NVALUES || l->count != NVALUES)
			return 1;

		t0 = (1e9 * now());
		for (int i = 0; i < NQUERIES; i++) {
			double v = 0;

			stats_sketch_quantile(s, qs[i % 5], &v);
			sink += v;
		}
		t_q[r] = ((1e9 * now()) - t0) / NQUERIES;
	}
	bits_ns = median(t_bits, RUNS);
	log_ns = median(t_log, RUNS);
	q_ns = median(t_q, RUNS);
	printf("{\"bench\":\"sketch_add\",\"impl\":\"bits\",\"values\":%d,\"ns_per_value\":%.3f,"
	       "\"vs_log\":%.2f}\n",
	       NVALUES, bits_ns, log_ns / bits_ns);
	printf("{\"bench\":\"sketch_add\",\"impl\":\"log\",\"values\":%d,\"ns_per_value\":%.3f}\n",
	       NVALUES, log_ns);
	printf("{\"bench\":\"sketch_quantile\",\"impl\":\"bits\",\"buckets\":%zu,\"ns_per_query\":%"
	       ".1f,"
	       "\"checksum\":%.6g}\n",
	       stats_sketch_buckets(s), q_ns, sink / (RUNS * (double)NQUERIES));
	stats_sketch_free(s);
	free(l);
	free(x);
	return 0;
}
