/*
 * divergence.c -- divergences between a live and a baseline count vector (see divergence.h).
 *
 * Everything here works on two count vectors over the same K bins, smoothed on the fly into
 * p_i = (c_i + alpha)/(n + K alpha) and q_i = (b_i + alpha)/(m + K alpha): no per-bin
 * allocation, no temporary arrays, one pass over the bins. stats_divergence is the agent's
 * per-window call: it computes p_i, q_i and ln(p_i/q_i) once per bin and derives KL in both
 * directions, PSI, the Jensen-Shannon distance and the Hellinger distance from them. The
 * single-statistic functions use the same per-bin expressions in the same order, so they return
 * the same values as the matching fields of struct stats_divergence.
 *
 * Numerics. Terms are written so that they do not cancel: ln(p_i/q_i) is log1p((p_i - q_i)/q_i)
 * near 1 (the rounding of the ratio p_i/q_i would otherwise add ~1e-16 absolute to each term);
 * KL sums p_i ln(p_i/q_i) - p_i + q_i and PSI (p_i - q_i) ln(p_i/q_i), both never negative; the
 * Jensen-Shannon term computes directly the logarithm that lies in [0, ln 2] and gets the other
 * one from ln(p_i/q_i); the Wasserstein distance accumulates the CDF difference
 * sum_{j<=i} (p_j - q_j) rather than subtracting two CDFs close to 1. Results that are
 * non-negative or bounded by definition (KL >= 0, JS and Hellinger in [0, 1]) are clamped to
 * their range, which only absorbs rounding. A bin empty in one distribution (possible only with
 * alpha == 0) makes KL and PSI infinite, as in scipy.special.rel_entr. The exact identities
 * (0 for a distribution against itself, the single functions equal to stats_divergence) hold bit
 * for bit under the project's -ffp-contract=off; contracted multiply-adds leave ~1e-17 instead.
 *
 * The formulas, their directions and references are in doc/statistics.md; the reference values
 * come from SciPy (tests/gen/gen_stats_vectors.py, tests/data/stats/divergence.json).
 */
#ifdef HAVE_CONFIG_H
#include "build.h"
#endif
#include "divergence.h"
#include "counts.h"

#include <math.h>

#define LN2 0.693147180559945309417232121458176568

/* ---- smoothing ---- */

/* How a row of counts becomes probabilities: p_i = (c_i + a) * inv. */
struct row {
	double a;   /* alpha, or 1 for an all-zero row (the same uniform p_i = 1/K) */
	double inv; /* 1 / (total + K a) */
	uint64_t n; /* total of the row */
};

/* Sets up a row of total n. An all-zero row with alpha > 0 is uniform; with alpha == 0 it is
 * undefined (EINVAL). EINVAL too when n + K alpha overflows (alpha far too large). */
static enum stats_status row_init(uint64_t n, size_t k, double alpha, struct row *r)
{
	double den;

	r->n = n;
	if (n == 0) {
		if (alpha == 0)
			return STATS_EINVAL;
		/* (0 + alpha)/(K alpha) = 1/K whatever alpha: avoid 1/(K alpha) overflowing when
		 * alpha is subnormal. */
		r->a = 1;
		r->inv = 1 / (double)k;
		return STATS_OK;
	}
	den = (double)n + (double)k * alpha;
	if (!isfinite(den))
		return STATS_EINVAL;
	r->a = alpha;
	r->inv = 1 / den; /* den >= 1: finite, normal */
	return STATS_OK;
}

static int alpha_ok(double alpha)
{
	return alpha >= 0 && isfinite(alpha);
}

/* Common argument checks and set-up of the two rows of a divergence (both totals in one loop). */
static enum stats_status pair_init(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
				   const void *out, struct row *rc, struct row *rb)
{
	uint64_t n = 0, m = 0;
	enum stats_status st;

	if (!c || !b || !out || k == 0 || !alpha_ok(alpha))
		return STATS_EINVAL;
	for (size_t i = 0; i < k; i++)
		if (__builtin_add_overflow(n, c[i], &n) || __builtin_add_overflow(m, b[i], &m))
			return STATS_ERANGE;
	st = row_init(n, k, alpha, rc);
	if (st == STATS_OK)
		st = row_init(m, k, alpha, rb);
	return st;
}

static inline double prob(const struct row *r, uint64_t c)
{
	return ((double)c + r->a) * r->inv;
}

/* ---- per-bin terms (p, q > 0, l = ln(p/q)) ---- */

/* ln(p/q) for p, q > 0 with a small relative error even when p is close to q: log(p/q) would
 * carry the rounding of the ratio (one ulp of 1, 1.1e-16) as an absolute error into every
 * term, and those errors do not cancel. For p >= q/2, p - q is exact or the ratio is far from
 * 1, so log1p((p - q)/q) is accurate; below, log(p/q) is. */
static inline double log_ratio(double p, double q)
{
	return 2 * p >= q ? log1p((p - q) / q) : log(p / q);
}

/* p ln(2p/(p+q)) + q ln(2q/(p+q)), i.e. twice the bin's share of the Jensen-Shannon divergence
 * in nats. The logarithm for the larger of p, q is ln(1 + |p - q|/(p + q)), in [0, ln 2]; the
 * other one differs from it by l. */
static inline double js_term(double p, double q, double l)
{
	double la = log1p(fabs(p - q) / (p + q));
	int pbig = p >= q;
	double lp = pbig ? la : la + l;
	double lq = pbig ? la - l : la;

	return p * lp + q * lq;
}

/* (sqrt p - sqrt q)^2, twice the bin's share of the squared Hellinger distance, with the
 * difference of the roots written as (p - q)/(sqrt p + sqrt q) so that it does not cancel. */
static inline double hel_term(double p, double q)
{
	double s = sqrt(p) + sqrt(q);
	double d = s > 0 ? (p - q) / s : 0;

	return d * d;
}

/* The Jensen-Shannon distance from the sum of js_term over the bins: sqrt of the divergence in
 * bits, clamped to [0, 1]. */
static double js_finish(double s)
{
	double d = s / (2 * LN2);

	return sqrt(d < 0 ? 0 : d > 1 ? 1 : d);
}

static double hel_finish(double s)
{
	double d = s / 2;

	return sqrt(d < 0 ? 0 : d > 1 ? 1 : d);
}

static double nonneg(double x)
{
	return x < 0 ? 0 : x;
}

/* ---- API ---- */

/* p_i = (c_i + alpha)/(n + K alpha) by the formula itself (one division per bin). Returns
 * EINVAL (NULL, k == 0, bad alpha, zero total with alpha == 0, n + K alpha overflowing) or
 * ERANGE (n overflows 64 bits); p is written only on STATS_OK. O(k). */
enum stats_status stats_smooth(const uint64_t *c, size_t k, double alpha, double *p)
{
	struct row r;
	enum stats_status st;
	uint64_t n;
	double den;

	if (!c || !p || k == 0 || !alpha_ok(alpha))
		return STATS_EINVAL;
	st = stats_counts_total(c, k, &n);
	if (st == STATS_OK)
		st = row_init(n, k, alpha, &r);
	if (st != STATS_OK)
		return st;
	den = (double)r.n + (double)k * r.a;
	for (size_t i = 0; i < k; i++)
		p[i] = ((double)c[i] + r.a) / den;
	return STATS_OK;
}

/* KL(p || q) = sum p_i ln(p_i/q_i) in nats, >= 0; +Inf when some q_i = 0 < p_i (alpha == 0).
 * Summed as sum [p_i ln(p_i/q_i) - p_i + q_i] (the same value, since sum p = sum q = 1): every
 * term is >= 0 and the rounding of sum p and sum q away from 1 does not leak into the result.
 * Errors as stats_smooth; *out is written only on STATS_OK. O(k), one log per bin. */
enum stats_status stats_kl(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
			   double *out)
{
	struct row rc, rb;
	enum stats_status st = pair_init(c, b, k, alpha, out, &rc, &rb);
	double s = 0;

	if (st != STATS_OK)
		return st;
	for (size_t i = 0; i < k; i++) {
		double p = prob(&rc, c[i]), q = prob(&rb, b[i]);

		if (p > 0 && q > 0)
			s += p * log_ratio(p, q) - (p - q);
		else if (p > 0)
			s = INFINITY;
		else
			s += q;
	}
	*out = nonneg(s);
	return STATS_OK;
}

/* PSI = sum (p_i - q_i) ln(p_i/q_i) >= 0, symmetric; +Inf when exactly one of p_i, q_i is 0.
 * Errors as stats_smooth. O(k). */
enum stats_status stats_psi(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
			    double *out)
{
	struct row rc, rb;
	enum stats_status st = pair_init(c, b, k, alpha, out, &rc, &rb);
	double s = 0;

	if (st != STATS_OK)
		return st;
	for (size_t i = 0; i < k; i++) {
		double p = prob(&rc, c[i]), q = prob(&rb, b[i]);

		if (p > 0 && q > 0)
			s += (p - q) * log_ratio(p, q);
		else if (p != q)
			s = INFINITY;
	}
	*out = s;
	return STATS_OK;
}

/* Jensen-Shannon distance, base 2, in [0, 1] (finite even with empty bins). Errors as
 * stats_smooth. O(k), two logs per bin. */
enum stats_status stats_js(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
			   double *out)
{
	struct row rc, rb;
	enum stats_status st = pair_init(c, b, k, alpha, out, &rc, &rb);
	double s = 0;

	if (st != STATS_OK)
		return st;
	for (size_t i = 0; i < k; i++) {
		double p = prob(&rc, c[i]), q = prob(&rb, b[i]);

		if (p > 0 && q > 0)
			s += js_term(p, q, log_ratio(p, q));
		else
			s += (p + q) * LN2; /* one of them is 0: x ln(2x/x) */
	}
	*out = js_finish(s);
	return STATS_OK;
}

/* Hellinger distance sqrt(sum (sqrt p_i - sqrt q_i)^2 / 2), in [0, 1]. Errors as stats_smooth.
 * O(k). */
enum stats_status stats_hellinger(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
				  double *out)
{
	struct row rc, rb;
	enum stats_status st = pair_init(c, b, k, alpha, out, &rc, &rb);
	double s = 0;

	if (st != STATS_OK)
		return st;
	for (size_t i = 0; i < k; i++)
		s += hel_term(prob(&rc, c[i]), prob(&rb, b[i]));
	*out = hel_finish(s);
	return STATS_OK;
}

/* All of the above in one pass: p_i, q_i and ln(p_i/q_i) once per bin, then two logs and two
 * square roots per bin in total. kl equals stats_kl(c, b) and psi, js, hellinger the single
 * functions exactly; kl_rev is sum [(p_i - q_i) - q_i ln(p_i/q_i)], equal to stats_kl(b, c) up
 * to rounding.
 * Errors as stats_smooth; *out is written only on STATS_OK. O(k). */
enum stats_status stats_divergence(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
				   struct stats_divergence *out)
{
	struct row rc, rb;
	enum stats_status st = pair_init(c, b, k, alpha, out, &rc, &rb);
	double kl = 0, klr = 0, psi = 0, js = 0, hel = 0;

	if (st != STATS_OK)
		return st;
	for (size_t i = 0; i < k; i++) {
		double p = prob(&rc, c[i]), q = prob(&rb, b[i]);

		if (p > 0 && q > 0) {
			double l = log_ratio(p, q);

			kl += p * l - (p - q);
			klr += (p - q) - q * l;
			psi += (p - q) * l;
			js += js_term(p, q, l);
		} else if (p > 0) { /* q == 0 */
			kl = INFINITY;
			klr += p;
			psi = INFINITY;
			js += p * LN2;
		} else if (q > 0) { /* p == 0 */
			kl += q;
			klr = INFINITY;
			psi = INFINITY;
			js += q * LN2;
		}
		hel += hel_term(p, q);
	}
	out->kl = nonneg(kl);
	out->kl_rev = nonneg(klr);
	out->psi = psi;
	out->js = js_finish(js);
	out->hellinger = hel_finish(hel);
	out->n = rc.n;
	out->m = rb.n;
	out->k = k;
	return STATS_OK;
}

/* Wasserstein-1 between the smoothed binned distributions, divided by the baseline IQR (or by
 * the range e_B - e_0 when scale is not > 0 and finite). k = B+2 >= 3, edges[0..B] finite and
 * strictly increasing, else EINVAL (besides the errors of stats_smooth). ERANGE when the range
 * or the result is not finite (edges spanning more than DBL_MAX). Outputs are written only on
 * STATS_OK; used_scale may be NULL. O(k). */
enum stats_status stats_wasserstein(const uint64_t *c, const uint64_t *b, const double *edges,
				    size_t k, double alpha, double scale, double *out,
				    double *used_scale)
{
	struct row rc, rb;
	enum stats_status st = pair_init(c, b, k, alpha, out, &rc, &rb);
	size_t nb;
	double div, d = 0, w = 0, r;

	if (st != STATS_OK)
		return st;
	if (!edges || k < 3)
		return STATS_EINVAL;
	nb = k - 2; /* B: edges[0..nb] */
	for (size_t i = 0; i <= nb; i++)
		if (!isfinite(edges[i]) || (i > 0 && !(edges[i - 1] < edges[i])))
			return STATS_EINVAL;
	div = scale > 0 && isfinite(scale) ? scale : edges[nb] - edges[0];
	if (!isfinite(div))
		return STATS_ERANGE;

	/* Representative points: r_0 = e_0, r_i = (e_{i-1} + e_i)/2 for 1 <= i <= B,
	 * r_{B+1} = e_B; W1 = sum_{i<k-1} |P_i - Q_i| (r_{i+1} - r_i). */
	r = edges[0];
	for (size_t i = 0; i + 1 < k; i++) {
		double next;

		if (i < nb) {
			next = (edges[i] + edges[i + 1]) / 2;
			if (!isfinite(next))
				next = edges[i] / 2 + edges[i + 1] / 2;
		} else {
			next = edges[nb];
		}
		d += prob(&rc, c[i]) - prob(&rb, b[i]);
		w += fabs(d) * (next - r);
		r = next;
	}
	w /= div;
	if (!isfinite(w))
		return STATS_ERANGE;
	*out = w;
	if (used_scale)
		*used_scale = div;
	return STATS_OK;
}
