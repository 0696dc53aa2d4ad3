/*
 * stattests.c -- two-sample tests on raw counts, proportion intervals and multiple-testing
 * control (see divergence.h): Pearson's chi-square test of homogeneity, the binned two-sample
 * Kolmogorov-Smirnov test with Kolmogorov's asymptotic p-value, Wilson score intervals, the
 * pooled two-proportion z-test, the sample-size-aware significance of a KL value and the
 * Benjamini-Hochberg adjustment.
 *
 * Distributions come from GSL (chi-square upper tail through the regularized incomplete gamma
 * function, normal tail and quantile); every GSL status and result is checked, and a failure is
 * returned as STATS_ENUMERIC. GSL's abort-on-error handler must be off (stats_init()). The
 * Kolmogorov distribution is computed here, by two series chosen by the argument so that each
 * converges in a handful of terms without cancellation. Nothing here logs or aborts; only
 * stats_bh allocates.
 *
 * The formulas and references are in doc/statistics.md; the reference values come from SciPy
 * (tests/gen/gen_stats_vectors.py, tests/data/stats/stattests.json).
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "divergence.h"
#include "counts.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>

#define PI	 3.141592653589793238462643383279502884
#define SQRT_2PI 2.506628274631000502415765284811045253

/* Below this lambda Q_KS uses the Jacobi theta form, at or above it the alternating series.
 * Both need at most 5 terms there for full double precision and neither cancels: the
 * theta form gives the CDF (<= 0.73), the alternating series a sum dominated by its first term. */
#define KS_SWITCH 1.0

/* ---- helpers ---- */

/* Both row totals of a two-sample test; EINVAL when a pointer is NULL or a total is 0. */
static enum stats_status totals(const uint64_t *c, const uint64_t *b, size_t k, const void *out,
				uint64_t *n, uint64_t *m)
{
	enum stats_status st;

	if (!c || !b || !out)
		return STATS_EINVAL;
	st = stats_counts_total(c, k, n);
	if (st == STATS_OK)
		st = stats_counts_total(b, k, m);
	if (st == STATS_OK && (*n == 0 || *m == 0))
		st = STATS_EINVAL;
	return st;
}

/* a*b - c*d with one rounding error at most 1.5 ulp (Kahan's algorithm with fused
 * multiply-adds): exact enough to keep the chi-square numerators free of cancellation. */
static double diff_of_products(double a, double b, double c, double d)
{
	double cd = c * d;
	double err = fma(-c, d, cd);

	return fma(a, b, -cd) + err;
}

/* Upper tail of chi-square(dof) at x >= 0: Q(dof/2, x/2). An underflowing tail is 0;
 * any other GSL error or a non-finite value is STATS_ENUMERIC. */
static enum stats_status chi2_sf(double dof, double x, double *p)
{
	gsl_sf_result r;
	int e;

	if (isinf(x)) {
		*p = 0;
		return STATS_OK;
	}
	e = gsl_sf_gamma_inc_Q_e(dof / 2, x / 2, &r);
	if (e == GSL_EUNDRFLW) {
		*p = 0;
		return STATS_OK;
	}
	if (e != GSL_SUCCESS || !isfinite(r.val))
		return STATS_ENUMERIC;
	*p = r.val < 0 ? 0 : r.val > 1 ? 1 : r.val;
	return STATS_OK;
}

/* Wilson score interval of x/n for the two-sided normal quantile z (Wilson 1927, in Newcombe's
 * 1998 form): centre (x + z^2/2)/(n + z^2), half-width z sqrt(x(n-x)/n + z^2/4)/(n + z^2);
 * exactly 0 below when x = 0, exactly 1 above when x = n. */
static void wilson(uint64_t x, uint64_t n, double z, double *lo, double *hi)
{
	double xd = (double)x, nd = (double)n, z2 = z * z;
	double den = nd + z2;
	double centre = (xd + z2 / 2) / den;
	double half = z * sqrt(xd * ((nd - xd) / nd) + z2 / 4) / den;
	double l = x == 0 ? 0 : centre - half;
	double h = x == n ? 1 : centre + half;

	*lo = l < 0 ? 0 : l;
	*hi = h > 1 ? 1 : h;
}

/* The two-sided normal quantile for confidence conf in (0, 1): Q^-1((1 - conf)/2). */
static enum stats_status z_of_conf(double conf, double *z)
{
	if (!(conf > 0 && conf < 1))
		return STATS_EINVAL;
	*z = gsl_cdf_ugaussian_Qinv((1 - conf) / 2);
	return isfinite(*z) ? STATS_OK : STATS_ENUMERIC;
}

/* A p-value being ranked by stats_bh, with its position in the caller's array. */
struct ranked {
	double p;   /* the p-value, NaN replaced by 1 */
	size_t idx; /* index in the input */
};

/* By p-value, ties by input position (a total order: the result does not depend on qsort). */
static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* ---- API ---- */

/* Pearson chi-square on the 2 x K table with the empty columns dropped. Each column adds
 * (c_i m - b_i n)^2 / (n m (c_i + b_i)), the sum of (O - E)^2/E over its two cells written
 * without the cancellation of O - E. dof = non-empty columns - 1; dof 0 gives statistic 0 and
 * p-value 1. EINVAL: NULL, n or m 0; ERANGE: a total overflows; ENUMERIC: GSL failed. O(k). */
enum stats_status stats_chi2_test(const uint64_t *c, const uint64_t *b, size_t k,
				  struct stats_chi2 *out)
{
	uint64_t n, m;
	enum stats_status st = totals(c, b, k, out, &n, &m);
	double nd, md, s = 0, stat, p = 1;
	size_t cols = 0;

	if (st != STATS_OK)
		return st;
	nd = (double)n;
	md = (double)m;
	for (size_t i = 0; i < k; i++) {
		double col, d;

		if (c[i] == 0 && b[i] == 0)
			continue;
		cols++;
		col = (double)c[i] + (double)b[i];
		d = diff_of_products((double)c[i], md, (double)b[i], nd);
		s += d * d / col;
	}
	stat = cols > 1 ? s / (nd * md) : 0;
	if (cols > 1) {
		st = chi2_sf((double)(cols - 1), stat, &p);
		if (st != STATS_OK)
			return st;
	}
	out->statistic = stat;
	out->p_value = p;
	out->dof = cols - 1; /* cols >= 1 since n > 0 */
	out->n = n;
	out->m = m;
	return STATS_OK;
}

/* Binned two-sample KS: D = max_i |C_i/n - B_i/m| over the cumulative counts, p-value
 * Q_KS(sqrt(n m/(n+m)) D). EINVAL: NULL, n or m 0; ERANGE: a total overflows. O(k). */
enum stats_status stats_ks_test(const uint64_t *c, const uint64_t *b, size_t k,
				struct stats_ks *out)
{
	uint64_t n, m, cc = 0, cb = 0;
	enum stats_status st = totals(c, b, k, out, &n, &m);
	double nd, md, d = 0;

	if (st != STATS_OK)
		return st;
	nd = (double)n;
	md = (double)m;
	for (size_t i = 0; i < k; i++) {
		double di;

		cc += c[i]; /* cannot overflow: bounded by the checked totals */
		cb += b[i];
		di = fabs((double)cc / nd - (double)cb / md);
		if (di > d)
			d = di;
	}
	d = d > 1 ? 1 : d;
	out->statistic = d;
	out->p_value = stats_kolmogorov_sf(sqrt(nd * md / (nd + md)) * d);
	out->n = n;
	out->m = m;
	return STATS_OK;
}

/* Q_KS(lambda) = P(K > lambda) for Kolmogorov's limiting distribution. 1 for lambda <= 0, NaN
 * for NaN, 0 once the tail underflows (lambda > ~19.3). Small lambda: the theta form
 * 1 - sqrt(2 pi)/lambda sum_{j>=1} exp(-(2j-1)^2 pi^2 / (8 lambda^2)); large lambda: the
 * alternating series 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2). O(1). */
double stats_kolmogorov_sf(double lambda)
{
	double s = 0;

	if (isnan(lambda))
		return lambda;
	if (lambda <= 0)
		return 1;
	if (lambda < KS_SWITCH) {
		double t = -PI * PI / (8 * lambda * lambda);

		for (int j = 1; j < 64; j++) {
			double o = 2.0 * j - 1;
			double e = exp(o * o * t);

			s += e;
			if (e <= s * 0x1p-60)
				break;
		}
		s = 1 - SQRT_2PI / lambda * s;
	} else {
		double t = -2 * lambda * lambda;

		for (int j = 1; j < 64; j++) {
			double e = exp(t * j * j);

			s += j & 1 ? e : -e;
			if (e <= s * 0x1p-60)
				break;
		}
		s *= 2;
	}
	return s < 0 ? 0 : s > 1 ? 1 : s;
}

/* Wilson score interval of x/n at confidence conf. EINVAL: NULL, n == 0, x > n, conf not in
 * (0, 1); ENUMERIC: the normal quantile failed. O(1). */
enum stats_status stats_wilson(uint64_t x, uint64_t n, double conf, double *lo, double *hi)
{
	double z;
	enum stats_status st;

	if (!lo || !hi || n == 0 || x > n)
		return STATS_EINVAL;
	st = z_of_conf(conf, &z);
	if (st != STATS_OK)
		return st;
	wilson(x, n, z, lo, hi);
	return STATS_OK;
}

/* Pooled two-proportion z-test, two-sided, with the Wilson interval of each proportion. With no
 * pooled variance (x1 + x2 = 0 or n1 + n2) z = 0 and p = 1. EINVAL: NULL, n1 or n2 0, x > n,
 * conf not in (0, 1); ENUMERIC: a GSL result is not finite. O(1). */
enum stats_status stats_two_prop_test(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2,
				      double conf, struct stats_two_prop *out)
{
	double zc, p1, p2, pool, se, z = 0, pv = 1;
	enum stats_status st;

	if (!out || n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2)
		return STATS_EINVAL;
	st = z_of_conf(conf, &zc);
	if (st != STATS_OK)
		return st;
	p1 = (double)x1 / (double)n1;
	p2 = (double)x2 / (double)n2;
	pool = ((double)x1 + (double)x2) / ((double)n1 + (double)n2);
	se = sqrt(pool * (1 - pool) * (1 / (double)n1 + 1 / (double)n2));
	if (se > 0) { /* P in (0, 1) */
		z = (p1 - p2) / se;
		pv = 2 * gsl_cdf_ugaussian_Q(fabs(z));
		if (!isfinite(z) || !isfinite(pv))
			return STATS_ENUMERIC;
		pv = pv > 1 ? 1 : pv;
	}
	out->p1 = p1;
	out->p2 = p2;
	out->delta = p1 - p2;
	out->z = z;
	out->p_value = pv;
	wilson(x1, n1, zc, &out->p1_lo, &out->p1_hi);
	wilson(x2, n2, zc, &out->p2_lo, &out->p2_hi);
	out->n1 = n1;
	out->n2 = n2;
	return STATS_OK;
}

/* G = 2 n m/(n+m) KL and its chi-square(k-1) upper tail. kl = +Inf gives G = +Inf, p = 0.
 * EINVAL: NULL, k < 2, n or m 0, kl negative or NaN; ENUMERIC: GSL failed. O(1). */
enum stats_status stats_kl_significance(double kl, uint64_t n, uint64_t m, size_t k, double *g,
					double *p)
{
	double nd = (double)n, md = (double)m, gv, pv;
	enum stats_status st;

	if (!g || !p || k < 2 || n == 0 || m == 0 || !(kl >= 0))
		return STATS_EINVAL;
	gv = 2 * nd * md / (nd + md) * kl;
	st = chi2_sf((double)(k - 1), gv, &pv);
	if (st != STATS_OK)
		return st;
	*g = gv;
	*p = pv;
	return STATS_OK;
}

/* Benjamini-Hochberg adjusted p-values: sort (NaN as 1), p_(r) count / r, running minimum from
 * the largest rank down, capped at 1. Ties share one adjusted value. EINVAL: p NULL with
 * count > 0, a p-value outside [0, 1], q outside [0, 1]; ENOMEM. Allocates count (p, index)
 * pairs, freed before returning. O(count log count). */
enum stats_status stats_bh(const double *p, size_t count, double q, double *adj,
			   unsigned char *reject)
{
	struct ranked *r;
	double cur = 1, cnt = (double)count;

	if (!(q >= 0 && q <= 1) || (count > 0 && !p))
		return STATS_EINVAL;
	for (size_t i = 0; i < count; i++)
		if (!isnan(p[i]) && !(p[i] >= 0 && p[i] <= 1))
			return STATS_EINVAL;
	if (count == 0)
		return STATS_OK;
	if (count > SIZE_MAX / sizeof *r)
		return STATS_ENOMEM;
	r = malloc(count * sizeof *r);
	if (!r)
		return STATS_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		r[i].p = isnan(p[i]) ? 1 : p[i];
		r[i].idx = i;
	}
	qsort(r, count, sizeof *r, ranked_cmp);
	for (size_t j = count; j > 0; j--) {
		double v = r[j - 1].p * cnt / (double)j;
		size_t i = r[j - 1].idx;

		if (v < cur)
			cur = v;
		if (adj)
			adj[i] = cur;
		if (reject)
			reject[i] = cur <= q;
	}
	free(r);
	return STATS_OK;
}
