/*
 * divergence.h -- divergences and two-sample tests between a live and a baseline distribution.
 *
 * Inputs are count vectors over the same K bins: c (live, total n) and b (baseline, total m).
 * For a numeric feature the K = B+2 bins are underflow, the B baseline bins and overflow (slots
 * 0..B+1 of a stats_hist); for a categorical one, the baseline categories plus __other__.
 * With additive smoothing alpha >= 0 (default 0.5, Jeffreys):
 *     p_i = (c_i + alpha) / (n + K alpha),    q_i = (b_i + alpha) / (m + K alpha).
 * Every divergence is computed on the smoothed p, q; the tests (chi-square, KS, z) on raw counts.
 * See doc/statistics.md for each formula, its direction, base and reference.
 * All functions return STATS_OK, STATS_EINVAL (K == 0, alpha < 0 or not finite, a zero total
 * with alpha == 0, n + K alpha overflowing, NULL pointers, and the per-function cases below),
 * STATS_ERANGE (a count total overflows 64 bits, or a result overflows a double) or
 * STATS_ENUMERIC (a GSL routine failed); outputs are written only on STATS_OK.
 * With alpha == 0 and a bin empty in the baseline only, KL and PSI are +Inf (as in SciPy): the
 * caller must be ready for it (JSON has no Inf). The bit-exact identities (a distribution against
 * itself gives exactly 0; the single functions equal the stats_divergence fields) rely on
 * -ffp-contract=off, which the build sets.
 */
#ifndef DRIFTD_STATS_DIVERGENCE_H
#define DRIFTD_STATS_DIVERGENCE_H

#include "stats.h"

#define STATS_ALPHA_DEFAULT 0.5 /* Jeffreys smoothing */

/* Smoothed probabilities p_i = (c_i + alpha)/(n + K alpha) into p[0..k-1]. */
enum stats_status stats_smooth(const uint64_t *c, size_t k, double alpha, double *p);

/* KL(live || baseline) = sum p_i ln(p_i / q_i), nats. KL(baseline || live) is stats_kl(b, c). */
enum stats_status stats_kl(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
			   double *out);
/* PSI = sum (p_i - q_i) ln(p_i / q_i). Symmetric. */
enum stats_status stats_psi(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
			    double *out);
/* Jensen-Shannon distance, base 2: sqrt(JSD), JSD = (KL2(p||M) + KL2(q||M))/2, M = (p+q)/2; in
 * [0, 1]. Equals scipy.spatial.distance.jensenshannon(p, q, base=2). */
enum stats_status stats_js(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
			   double *out);
/* Hellinger distance sqrt(sum (sqrt p_i - sqrt q_i)^2 / 2), in [0, 1]. */
enum stats_status stats_hellinger(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
				  double *out);

/* Everything above in one pass (p and q computed once): the agent's per-window call. */
struct stats_divergence {
	double kl;	  /* KL(live || baseline), nats */
	double kl_rev;	  /* KL(baseline || live), nats */
	double psi;	  /* population stability index */
	double js;	  /* Jensen-Shannon distance, base 2 */
	double hellinger; /* Hellinger distance */
	uint64_t n;	  /* live sample size (sum of c) */
	uint64_t m;	  /* baseline sample size (sum of b) */
	size_t k;	  /* bins compared */
};
enum stats_status stats_divergence(const uint64_t *c, const uint64_t *b, size_t k, double alpha,
				   struct stats_divergence *out);

/*
 * Wasserstein-1 between the binned, smoothed distributions of a numeric feature, divided by
 * scale. edges are the B+1 baseline edges, k must be B+2 (underflow, bins, overflow). Each bin
 * is represented by a point: underflow by e_0, bin j by (e_j + e_{j+1})/2, overflow by e_B; then
 * W1 = sum_{i<k-1} |P_i - Q_i| (r_{i+1} - r_i) with P, Q the cumulative sums: the value of
 * scipy.stats.wasserstein_distance(r, r, p, q). scale is the baseline IQR; when it is not > 0
 * and finite the baseline range e_B - e_0 is used instead. *used_scale receives the divisor
 * (may be NULL). EINVAL also when k < 3 or edges is NULL, not finite or not increasing.
 */
enum stats_status stats_wasserstein(const uint64_t *c, const uint64_t *b, const double *edges,
				    size_t k, double alpha, double scale, double *out,
				    double *used_scale);

/* Pearson chi-square test of homogeneity on the 2 x K table (c; b), raw counts, no continuity
 * correction; bins empty in both rows are dropped; dof = (non-empty bins) - 1. With dof == 0
 * the statistic is 0 and the p-value 1. Matches scipy.stats.chi2_contingency(correction=False).
 * EINVAL when n or m is 0. */
struct stats_chi2 {
	double statistic; /* sum (O - E)^2 / E */
	double p_value;	  /* upper tail of chi-square(dof), GSL gamma_inc_Q */
	size_t dof;	  /* degrees of freedom */
	uint64_t n, m;	  /* row totals */
};
enum stats_status stats_chi2_test(const uint64_t *c, const uint64_t *b, size_t k,
				  struct stats_chi2 *out);

/* Two-sample Kolmogorov-Smirnov on the binned empirical CDFs (raw counts):
 * D = max_i |C_i/n - B_i/m|, p = Q_KS(sqrt(n m/(n+m)) D) (Kolmogorov's asymptotic
 * distribution, = scipy.stats.kstwobign.sf). EINVAL when n or m is 0. */
struct stats_ks {
	double statistic; /* D in [0, 1] */
	double p_value;	  /* asymptotic */
	uint64_t n, m;
};
enum stats_status stats_ks_test(const uint64_t *c, const uint64_t *b, size_t k,
				struct stats_ks *out);
/* Kolmogorov's survival function Q_KS(lambda) = 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2)
 * (the theta-function form below lambda = 1); 1 for lambda <= 0, NaN for NaN. */
double stats_kolmogorov_sf(double lambda);

/* Wilson score interval for x successes in n trials at confidence conf (e.g. 0.95): the value
 * of scipy.stats.binomtest(x, n).proportion_ci(conf, method='wilson'). EINVAL: n == 0, x > n,
 * conf not in (0, 1). */
enum stats_status stats_wilson(uint64_t x, uint64_t n, double conf, double *lo, double *hi);

/* Two-proportion z-test, live x1/n1 against baseline x2/n2, pooled variance, two-sided:
 * z = (p1 - p2) / sqrt(P (1-P) (1/n1 + 1/n2)), P = (x1+x2)/(n1+n2); p = 2 Q(|z|).
 * When P is 0 or 1 (no variance), z = 0 and p = 1. Wilson intervals of both proportions. */
struct stats_two_prop {
	double p1, p2;	     /* live and baseline proportions */
	double delta;	     /* p1 - p2 */
	double z, p_value;   /* the test */
	double p1_lo, p1_hi; /* Wilson interval of p1 at conf */
	double p2_lo, p2_hi; /* Wilson interval of p2 at conf */
	uint64_t n1, n2;     /* sample sizes */
};
enum stats_status stats_two_prop_test(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2,
				      double conf, struct stats_two_prop *out);

/* Sample-size-aware significance of a KL value over k bins: under no drift
 * G = 2 n m/(n+m) KL ~ chi-square(k-1); *p = upper tail. EINVAL: k < 2, n or m 0, kl < 0.
 * kl = +Inf gives G = +Inf, p = 0. */
enum stats_status stats_kl_significance(double kl, uint64_t n, uint64_t m, size_t k, double *g,
					double *p);

/* Benjamini-Hochberg step-up over count p-values at FDR level q: adj[i] receives the adjusted
 * p-value min(1, min_{j: p_(j) >= p_i} p_(j) count / rank_j) and reject[i] = adj[i] <= q.
 * NaN p-values are treated as 1. adj or reject may be NULL. O(count log count); allocates.
 * EINVAL: q outside [0, 1], a p-value outside [0, 1], p NULL with count > 0; ENOMEM. */
enum stats_status stats_bh(const double *p, size_t count, double q, double *adj,
			   unsigned char *reject);

#endif
