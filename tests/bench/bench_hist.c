/*
 * bench_hist.c -- `make bench`: histogram kernels against GSL, in the same run, on the same data,
 * and KL/PSI calls per second on 64-bin pairs. One JSON object per line on stdout.
 *
 * Every figure is the median of REPS timed passes over 10^7 doubles (after a warm-up pass), on
 * one core, in two modes:
 *   "cache"  -- the way the agent bins: columns of BATCH values (one call each) taken from a
 *               WORKSET-value array that stays in L2, 10^7 values in all;
 *   "stream" -- one call over 10^7 distinct doubles (80 MB) read from DRAM: bounded by the
 *               memory bandwidth, which the "memory" line measures with a plain vector sum.
 * Uniform binnings: values N(0,1) over [-4, 4) (a few outside). Quantile-edge binnings: the
 * equal-frequency edges of a N(0,1) sample (stats_edges_quantile), as a baseline has them.
 * GSL: gsl_histogram_set_ranges_uniform / gsl_histogram_set_ranges, gsl_histogram_increment per
 * value (it ignores out-of-range values and NaN, i.e. does less work than we do).
 * BENCH_ONLY=uniform|edges|divergence restricts the run to one group.
 */
#include "stats/divergence.h"
#include "stats/hist.h"
#include "benchutil.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_histogram.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N	10000000u
#define REPS	7
#define BATCH	4096u
#define WORKSET 32768u /* 256 KiB */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uniform01(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static double normal(void)
{
	return sqrt(-2.0 * log1p(-uniform01())) * cos(6.283185307179586 * uniform01());
}

/* Seconds for one pass of GSL over N values (mode: 0 stream, 1 cache). */
static double time_gsl(gsl_histogram *g, const double *x, int cache)
{
	double t0;

	gsl_histogram_reset(g);
	t0 = now();
	if (cache) {
		for (size_t o = 0; o < N; o += BATCH) {
			const double *col = x + o % WORKSET;

			for (size_t i = 0; i < BATCH; i++)
				gsl_histogram_increment(g, col[i]);
		}
	} else {
		for (size_t i = 0; i < N; i++)
			gsl_histogram_increment(g, x[i]);
	}
	return now() - t0;
}

static double time_ours(struct stats_hist *h, enum stats_hist_kernel k, const double *x, int cache)
{
	double t0;

	stats_hist_reset(h);
	t0 = now();
	if (cache) {
		for (size_t o = 0; o < N; o += BATCH)
			stats_hist_add_kernel(h, k, x + o % WORKSET, BATCH);
	} else {
		stats_hist_add_kernel(h, k, x, N);
	}
	return now() - t0;
}

static void bench_one(const char *binning, struct stats_hist *h, gsl_histogram *g, const double *x)
{
	static const enum stats_hist_kernel ks[] = { STATS_HIST_KERNEL_REF, STATS_HIST_KERNEL_AVX2,
						     STATS_HIST_KERNEL_AVX512 };

	for (int cache = 1; cache >= 0; cache--) {
		const char *mode = cache ? "cache" : "stream";
		double tg[REPS], gsl_mvps;

		time_gsl(g, x, cache);
		for (int r = 0; r < REPS; r++)
			tg[r] = time_gsl(g, x, cache);
		gsl_mvps = N / median(tg, (size_t)REPS) / 1e6;
		printf("{\"bench\":\"hist\",\"mode\":\"%s\",\"binning\":\"%s\",\"bins\":%zu,"
		       "\"kernel\":\"gsl\",\"mvalues_per_s\":%.1f}\n",
		       mode, binning, stats_hist_bins(h), gsl_mvps);
		for (size_t k = 0; k < sizeof ks / sizeof *ks; k++) {
			double t[REPS], mvps;

			if (!stats_hist_kernel_supported(ks[k]))
				continue;
			time_ours(h, ks[k], x, cache);
			for (int r = 0; r < REPS; r++)
				t[r] = time_ours(h, ks[k], x, cache);
			mvps = N / median(t, (size_t)REPS) / 1e6;
			printf("{\"bench\":\"hist\",\"mode\":\"%s\",\"binning\":\"%s\","
			       "\"bins\":%zu,\"kernel\":\"%s\",\"selected\":%s,"
			       "\"mvalues_per_s\":%.1f,\"vs_gsl\":%.2f}\n",
			       mode, binning, stats_hist_bins(h), stats_hist_kernel_name(ks[k]),
			       ks[k] == stats_hist_kernel_selected() ? "true" : "false", mvps,
			       mvps / gsl_mvps);
		}
		fflush(stdout);
	}
}

/* Single-core read bandwidth: a plain sum over the 80 MB array (4 accumulators). */
static void bench_memory(const double *x)
{
	double t[REPS], sink = 0.0;

	for (int r = 0; r < REPS; r++) {
		double a0 = 0, a1 = 0, a2 = 0, a3 = 0, t0 = now();

		for (size_t i = 0; i < N; i += 4) {
			a0 += x[i];
			a1 += x[i + 1];
			a2 += x[i + 2];
			a3 += x[i + 3];
		}
		t[r] = now() - t0;
		sink += a0 + a1 + a2 + a3;
	}
	printf("{\"bench\":\"memory\",\"mode\":\"stream\",\"gbytes_per_s\":%.2f,"
	       "\"mdoubles_per_s\":%.1f,\"checksum\":%.3g}\n",
	       N * 8.0 / median(t, (size_t)REPS) / 1e9, N / median(t, (size_t)REPS) / 1e6, sink);
}

static void bench_divergence(void)
{
	uint64_t c[64], b[64];
	const int calls = 2000000;
	double t[REPS], sink = 0.0;

	for (int i = 0; i < 64; i++) {
		c[i] = 100 + (uint64_t)(1000 * uniform01());
		b[i] = 100 + (uint64_t)(1000 * uniform01());
	}
	for (int which = 0; which < 3; which++) {
		const char *name = which == 0 ? "kl" : which == 1 ? "psi" : "divergence_all";

		for (int r = 0; r < REPS; r++) {
			double t0 = now(), v = 0.0;
			struct stats_divergence d;

			for (int i = 0; i < calls; i++) {
				c[i & 63]++; /* defeat hoisting */
				if (which == 0)
					stats_kl(c, b, 64, STATS_ALPHA_DEFAULT, &v);
				else if (which == 1)
					stats_psi(c, b, 64, STATS_ALPHA_DEFAULT, &v);
				else
					stats_divergence(c, b, 64, STATS_ALPHA_DEFAULT, &d),
					    v = d.kl;
				sink += v;
			}
			t[r] = now() - t0;
		}
		printf("{\"bench\":\"divergence\",\"stat\":\"%s\",\"bins\":64,\"ns_per_call\":%.1f,"
		       "\"calls_per_s\":%.0f}\n",
		       name, median(t, (size_t)REPS) / calls * 1e9,
		       calls / median(t, (size_t)REPS));
	}
	if (sink == 42.0)
		fprintf(stderr, "unlikely\n");
}

static int wanted(const char *group)
{
	const char *only = getenv("BENCH_ONLY");

	return !only || !*only || strcmp(only, group) == 0;
}

int main(void)
{
	double *x = malloc(N * sizeof *x);
	static const size_t ubins[] = { 16, 64, 256 }, ebins[] = { 20, 64 };

	gsl_set_error_handler_off();
	stats_init();
	if (!x)
		return 1;
	for (size_t i = 0; i < N; i++)
		x[i] = normal();
	printf("{\"bench\":\"setup\",\"values\":%u,\"reps\":%d,\"batch\":%u,\"workset\":%u,"
	       "\"selected_kernel\":\"%s\"}\n",
	       N, REPS, BATCH, WORKSET, stats_hist_kernel_name(stats_hist_kernel_selected()));
	bench_memory(x);

	for (size_t i = 0; wanted("uniform") && i < sizeof ubins / sizeof *ubins; i++) {
		struct stats_hist *h = stats_hist_new_uniform(-4.0, 4.0, ubins[i], NULL);
		gsl_histogram *g = gsl_histogram_alloc(ubins[i]);

		gsl_histogram_set_ranges_uniform(g, -4.0, 4.0);
		bench_one("uniform", h, g, x);
		stats_hist_free(h);
		gsl_histogram_free(g);
	}
	for (size_t i = 0; wanted("edges") && i < sizeof ebins / sizeof *ebins; i++) {
		double edges[65];
		size_t ne;
		struct stats_hist *h;
		gsl_histogram *g;

		stats_edges_quantile(x, 200000, ebins[i], edges, &ne);
		h = stats_hist_new_edges(edges, ne, NULL);
		g = gsl_histogram_alloc(ne - 1);
		gsl_histogram_set_ranges(g, edges, ne);
		bench_one("edges", h, g, x);
		stats_hist_free(h);
		gsl_histogram_free(g);
	}
	if (wanted("divergence"))
		bench_divergence();
	free(x);
	return 0;
}
