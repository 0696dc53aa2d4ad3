#!/usr/bin/python3
"""Reference vectors for driftd's statistics, computed independently with NumPy and SciPy.

Writes, under tests/data/stats/ (relative to the repository root):
  divergence.json  KL (both directions), PSI, Jensen-Shannon, Hellinger, Wasserstein-1 on
                   smoothed count vectors (stats/divergence.h);
  stattests.json   chi-square, binned KS, Kolmogorov's survival function, Wilson intervals,
                   two-proportion z-test, KL significance, Benjamini-Hochberg (divergence.h);
  edges.json       equal-frequency histogram edges (stats_edges_quantile in stats/hist.h);
                   a warning is printed where NumPy's 'inverted_cdf' quantile and the exact
                   order statistic of the definition disagree (both are then stored).

Run with Debian's interpreter, which has SciPy 1.10 and NumPy 1.24:
    /usr/bin/python3 tests/gen/gen_stats_vectors.py
The output is deterministic (fixed seeds, sorted keys, floats as Python's round-trip repr).
IEEE specials in inputs are written as the strings "inf", "-inf", "nan" (tests/unit/testutil.h
tu_num reads them back). Nothing here uses driftd's code: the C tests compare against these files.
"""

import json
import math
import os
import sys

import numpy as np
import scipy
import scipy.spatial.distance
import scipy.special
import scipy.stats

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# DRIFTD_VECTORS_OUT redirects the output (tests/tools/check-vectors.sh compares a fresh run with
# the committed files).
OUT = os.environ.get("DRIFTD_VECTORS_OUT") or os.path.join(ROOT, "tests", "data", "stats")

warnings = []


def warn(msg):
    warnings.append(msg)
    print("WARNING: " + msg, file=sys.stderr)


def fnum(x):
    """A float for JSON; IEEE specials as strings."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def ints(a):
    return [int(v) for v in a]


def write(name, doc):
    doc["generator"] = "tests/gen/gen_stats_vectors.py"
    doc["numpy"] = np.__version__
    doc["scipy"] = scipy.__version__
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(doc, f, sort_keys=True, indent=1, allow_nan=False)
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT))


# ---- binning helpers (the slots of stats/hist.h: underflow, B bins, overflow) ----

def slot_counts(x, edges):
    """Counts of x over the B+2 slots: x < e_0, e_j <= x < e_{j+1}, x >= e_B."""
    idx = np.searchsorted(np.asarray(edges), np.asarray(x), side="right")
    return np.bincount(idx, minlength=len(edges) + 1)


def quantile_edges(x, bins):
    e = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
    assert len(e) == bins + 1
    return e


# ---- divergence.json ----

def smooth(c, alpha):
    c = np.asarray(c, dtype=np.float64)
    return (c + alpha) / (c.sum() + len(c) * alpha)


def divergence_case(name, c, b, alpha, edges=None, iqr=None):
    """One case: the smoothed p, q and every divergence of divergence.h; Wasserstein-1 when
    edges (B+1 of them, for K = B+2 slots) are given."""
    c = np.asarray(c, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    assert len(c) == len(b)
    p = smooth(c, alpha)
    q = smooth(b, alpha)
    # All reference cases have p, q > 0 (alpha == 0 only without empty bins).
    assert (p > 0).all() and (q > 0).all(), name
    case = {
        "name": name,
        "c": ints(c),
        "b": ints(b),
        "alpha": float(alpha),
        "p": [float(v) for v in p],
        "q": [float(v) for v in q],
        "kl": float(scipy.stats.entropy(p, q)),
        "kl_rev": float(scipy.stats.entropy(q, p)),
        "psi": float(np.sum((p - q) * np.log(p / q))),
        "js": float(scipy.spatial.distance.jensenshannon(p, q, base=2)),
        "hellinger": float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2)),
    }
    # Cross-check of KL against rel_entr (a second SciPy path).
    kl2 = float(np.sum(scipy.special.rel_entr(p, q)))
    assert abs(kl2 - case["kl"]) <= 1e-12 * max(abs(kl2), 1e-300) or kl2 == case["kl"], name
    if edges is not None:
        edges = np.asarray(edges, dtype=np.float64)
        assert len(edges) == len(c) - 1
        r = np.concatenate(([edges[0]], (edges[:-1] + edges[1:]) / 2, [edges[-1]]))
        w = scipy.stats.wasserstein_distance(r, r, p, q)
        scale = iqr if (iqr is not None and np.isfinite(iqr) and iqr > 0) else edges[-1] - edges[0]
        case["edges"] = [float(e) for e in edges]
        case["iqr"] = fnum(iqr)
        case["wasserstein"] = float(w / scale)
        case["wasserstein_scale"] = float(scale)
    return case


def numeric_case(name, live, base, bins, alpha, iqr=None):
    edges = quantile_edges(base, bins)
    if iqr is None:
        iqr = float(np.quantile(base, 0.75) - np.quantile(base, 0.25))
    return divergence_case(name, slot_counts(live, edges), slot_counts(base, edges), alpha,
                           edges=edges, iqr=iqr)


def gen_divergence():
    rng = np.random.default_rng(20240501)
    cases = []
    base = rng.normal(0, 1, 20000)
    same = slot_counts(base, quantile_edges(base, 20))
    cases.append(divergence_case("identical", same, same, 0.5, quantile_edges(base, 20),
                                 float(np.quantile(base, 0.75) - np.quantile(base, 0.25))))
    cases.append(numeric_case("shifted_normal_small", rng.normal(0.1, 1, 5000), base, 20, 0.5))
    cases.append(numeric_case("shifted_normal_large", rng.normal(1.0, 1.5, 5000), base, 20, 0.5))
    cases.append(numeric_case("shifted_normal_alpha1", rng.normal(0.3, 1, 3000), base, 20, 1.0))
    cases.append(numeric_case("disjoint", rng.uniform(10, 11, 4000), base, 10, 0.5))
    cases.append(numeric_case("k66_lognormal", rng.lognormal(0.2, 1.0, 30000),
                              rng.lognormal(0.0, 1.0, 100000), 64, 0.5))
    # alpha = 0 without empty bins: live and baseline cover every slot.
    c0 = slot_counts(rng.normal(0.2, 1.2, 20000), quantile_edges(base, 8))
    b0 = slot_counts(base, quantile_edges(base, 8))
    b0[0] += 3
    b0[-1] += 5
    assert (c0 > 0).all() and (b0 > 0).all()
    cases.append(divergence_case("alpha0_no_empty_bins", c0, b0, 0.0, quantile_edges(base, 8),
                                 float(np.quantile(base, 0.75) - np.quantile(base, 0.25))))
    # Empty bins in both rows, smoothed away.
    e = [-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]
    cases.append(divergence_case("zeros_in_bins", [0, 12, 0, 40, 3, 0, 9],
                                 [5, 0, 30, 0, 22, 8, 0], 0.5, e, 1.5))
    cases.append(divergence_case("k2", [30, 70], [50, 50], 0.5))
    cases.append(divergence_case("k2_alpha1", [3, 0], [0, 4], 1.0))
    cases.append(divergence_case("k1", [5], [7], 0.5))
    cases.append(divergence_case("big_counts",
                                 [1000000000, 2000000000, 1500000000, 900000000, 1100000000,
                                  1000000007, 999999999, 3000000000, 400000000, 1],
                                 [1100000000, 1900000000, 1500000000, 1000000000, 1000000000,
                                  1000000000, 1000000000, 2800000000, 500000000, 3],
                                 0.5, [0, 1, 2, 3, 4, 5, 6, 7, 8], 4.0))
    cases.append(divergence_case("tiny_counts", [1, 0, 0, 2, 0], [0, 1, 1, 0, 0], 0.5,
                                 [1.0, 2.0, 4.0, 8.0], 2.5))
    cases.append(divergence_case("live_empty", [0, 0, 0, 0], [3, 9, 1, 0], 0.5))
    cases.append(divergence_case("categorical", [120, 40, 33, 0, 7, 250, 18],
                                 [100, 50, 30, 10, 10, 240, 20], 0.5))
    cases.append(divergence_case("categorical_alpha0", [120, 40, 33, 1, 7, 250, 18],
                                 [100, 50, 30, 10, 10, 240, 20], 0.0))
    cases.append(divergence_case("iqr_zero_fallback", [2, 30, 10, 1, 0], [0, 25, 20, 5, 1], 0.5,
                                 [0.0, 0.5, 1.5, 4.0], 0.0))
    cases.append(divergence_case("iqr_nan_fallback", [2, 30, 10, 1, 0], [0, 25, 20, 5, 1], 0.5,
                                 [0.0, 0.5, 1.5, 4.0], float("nan")))
    cases.append(divergence_case("iqr_negative_fallback", [2, 30, 10, 1, 0], [0, 25, 20, 5, 1],
                                 0.5, [0.0, 0.5, 1.5, 4.0], -1.0))
    cases.append(divergence_case("iqr_inf_fallback", [2, 30, 10, 1, 0], [0, 25, 20, 5, 1],
                                 0.5, [0.0, 0.5, 1.5, 4.0], float("inf")))
    cases.append(divergence_case("identical_shape_different_n", [10, 20, 30, 40],
                                 [100, 200, 300, 400], 0.0, [0.0, 1.0, 2.0], 1.0))
    cases.append(divergence_case("alpha_small", [0, 10, 0, 500, 3], [1, 0, 200, 300, 0],
                                 1e-6, [-1.0, 0.0, 1.0, 2.0], 1.0))
    cases.append(divergence_case("alpha_large", [0, 10, 0, 500, 3], [1, 0, 200, 300, 0],
                                 1000.0, [-1.0, 0.0, 1.0, 2.0], 1.0))
    write("divergence.json", {"cases": cases})


# ---- stattests.json ----

def chi2_case(name, c, b):
    c = np.asarray(c, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    t = np.array([c, b])
    t = t[:, t.sum(axis=0) > 0]
    stat, p, dof, _ = scipy.stats.chi2_contingency(t, correction=False)
    return {"name": name, "c": ints(c), "b": ints(b), "statistic": float(stat),
            "p_value": float(p), "dof": int(dof), "n": int(c.sum()), "m": int(b.sum())}


def ks_case(name, c, b):
    c = np.asarray(c, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    n, m = int(c.sum()), int(b.sum())
    d = float(np.max(np.abs(np.cumsum(c) / n - np.cumsum(b) / m)))
    lam = math.sqrt(n * m / (n + m)) * d
    return {"name": name, "c": ints(c), "b": ints(b), "statistic": d,
            "p_value": float(scipy.stats.kstwobign.sf(lam)), "n": n, "m": m}


def wilson(x, n, conf):
    # binomtest also computes a p-value we do not use; at n = 1e9 that underflows noisily.
    with np.errstate(divide="ignore", under="ignore"):
        ci = scipy.stats.binomtest(x, n).proportion_ci(confidence_level=conf,
                                                       method="wilson")
    return float(ci.low), float(ci.high)


def two_prop_case(x1, n1, x2, n2, conf):
    p1, p2 = x1 / n1, x2 / n2
    pool = (x1 + x2) / (n1 + n2)
    if pool in (0.0, 1.0):
        z, pv = 0.0, 1.0
    else:
        z = (p1 - p2) / math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
        pv = float(2 * scipy.stats.norm.sf(abs(z)))
    l1, h1 = wilson(x1, n1, conf)
    l2, h2 = wilson(x2, n2, conf)
    return {"x1": x1, "n1": n1, "x2": x2, "n2": n2, "conf": conf, "p1": p1, "p2": p2,
            "delta": p1 - p2, "z": float(z), "p_value": pv, "p1_lo": l1, "p1_hi": h1,
            "p2_lo": l2, "p2_hi": h2}


def bh_ref(p):
    """Benjamini-Hochberg adjusted p-values, NaN as 1: sort, p*count/rank, reverse cumulative
    minimum, clip at 1."""
    p = np.where(np.isnan(p), 1.0, np.asarray(p, dtype=np.float64))
    cnt = len(p)
    order = np.argsort(p, kind="stable")
    ranks = np.arange(1, cnt + 1, dtype=np.float64)
    scaled = p[order] * cnt / ranks
    adj_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    adj = np.empty(cnt)
    adj[order] = np.minimum(adj_sorted, 1.0)
    return adj


def bh_case(name, p, q):
    adj = bh_ref(np.array(p, dtype=np.float64))
    return {"name": name, "p": [fnum(v) for v in p], "q": q, "adj": [float(v) for v in adj],
            "reject": [bool(v <= q) for v in adj]}


def gen_stattests():
    rng = np.random.default_rng(7)
    pairs = []
    base = rng.normal(0, 1, 20000)
    e20 = quantile_edges(base, 20)
    pairs.append(("shifted_small", slot_counts(rng.normal(0.05, 1, 3000), e20),
                  slot_counts(base, e20)))
    pairs.append(("shifted_large", slot_counts(rng.normal(0.5, 1, 3000), e20),
                  slot_counts(base, e20)))
    pairs.append(("same_distribution", slot_counts(rng.normal(0, 1, 3000), e20),
                  slot_counts(base, e20)))
    pairs.append(("identical", slot_counts(base, e20), slot_counts(base, e20)))
    pairs.append(("proportional", [10, 20, 0, 30], [30, 60, 0, 90]))
    pairs.append(("with_empty_columns", [0, 5, 0, 8, 2, 0], [0, 9, 0, 3, 7, 0]))
    pairs.append(("k2", [30, 70], [50, 50]))
    pairs.append(("dof0", [0, 5, 0], [0, 7, 0]))
    pairs.append(("single_bin", [4], [9]))
    pairs.append(("tiny", [1, 0, 2], [0, 3, 0]))
    pairs.append(("disjoint_moderate", [0, 0, 40, 0], [30, 10, 0, 0]))
    pairs.append(("disjoint_large", [0, 0, 0, 5000, 5000], [4000, 6000, 0, 0, 0]))
    pairs.append(("big_counts", [1000000000, 2000000000, 1500000000, 900000000],
                  [1000100000, 1999000000, 1500500000, 900000000]))
    e64 = quantile_edges(base, 64)
    pairs.append(("k66", slot_counts(rng.normal(0.1, 1.1, 50000), e64), slot_counts(base, e64)))
    chi2 = [chi2_case(name, c, b) for name, c, b in pairs]
    ks = [ks_case(name, c, b) for name, c, b in pairs]

    lambdas = sorted(set(
        [round(v, 6) for v in np.linspace(0.01, 6, 121)]
        + [round(v, 6) for v in np.linspace(0.6, 1.3, 71)]
        + [0.001, 0.05, 0.1, 0.2, 0.3, 0.4, 0.82, 0.8199999999999999, 0.8200000000000001,
           0.9999999999999999, 1.0, 1.0000000000000002, 7.0, 8.0, 10.0, 12.5, 15.0, 18.0,
           18.5]))
    kol = [{"lambda": lam, "sf": float(scipy.stats.kstwobign.sf(lam))} for lam in lambdas]
    for v in kol:
        assert v["sf"] > 1e-300
    # Where the tail underflows or the argument is out of the support.
    kol_limits = [{"lambda": lam, "sf": float(scipy.stats.kstwobign.sf(lam))}
                  for lam in [0.0, -1.0, 20.0, 30.0, 1000.0]]

    wil = []
    for x, n, conf in [(0, 10, 0.95), (10, 10, 0.95), (0, 1, 0.95), (1, 1, 0.95),
                       (1, 2, 0.9), (37, 100, 0.95), (5, 1000, 0.99), (500, 1000, 0.5),
                       (999999, 1000000, 0.95), (1, 1000000000, 0.95), (3, 7, 0.999),
                       (12, 40, 0.8), (0, 100000, 0.99)]:
        lo, hi = wilson(x, n, conf)
        wil.append({"x": x, "n": n, "conf": conf, "lo": lo, "hi": hi})

    two = [two_prop_case(*a) for a in [
        (10, 100, 20, 100, 0.95), (0, 50, 0, 60, 0.95), (50, 50, 60, 60, 0.95),
        (0, 50, 3, 60, 0.95), (500, 1000, 450, 1000, 0.95), (1, 1000000, 1000, 1000000, 0.95),
        (930, 1000, 9500, 10000, 0.99), (1, 1, 0, 1, 0.9), (7, 9, 7, 9, 0.95),
        (4000, 5000, 1000, 5000, 0.95)]]

    kls = []
    for kl, n, m, k in [(0.01, 1000, 10000, 22), (0.0, 500, 500, 10), (1e-5, 200, 200, 2),
                        (0.5, 1000000, 1000000, 66), (0.002, 5000, 50000, 10),
                        (0.05, 300, 100000, 66), (0.3, 2000, 2000, 3), (2.0, 10000, 10000, 5)]:
        g = 2 * n * m / (n + m) * kl
        kls.append({"kl": kl, "n": n, "m": m, "k": k, "g": g,
                    "p": float(scipy.stats.chi2.sf(g, k - 1))})

    bh = [
        bh_case("random20", [float(v) for v in rng.uniform(0, 1, 20) ** 3], 0.05),
        bh_case("classic", [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.045, 0.9], 0.05),
        bh_case("ties", [0.02, 0.02, 0.02, 0.5, 0.001, 0.001, 0.04], 0.05),
        bh_case("with_nan", [0.001, float("nan"), 0.03, float("nan"), 0.2], 0.1),
        bh_case("single", [0.03], 0.05),
        bh_case("all_one", [1.0, 1.0, 1.0], 0.05),
        bh_case("zeros", [0.0, 0.0, 0.5, 0.01], 0.01),
        bh_case("boundary", [0.01, 0.02, 0.03, 0.04], 0.04),
    ]
    write("stattests.json", {"chi2": chi2, "ks": ks, "kolmogorov_sf": kol,
                             "kolmogorov_sf_limits": kol_limits, "wilson": wil,
                             "two_prop": two, "kl_significance": kls, "bh": bh})


# ---- edges.json ----

def edges_ref(x, bins):
    """stats_edges_quantile's edges (stats/hist.h), twice: with NumPy's quantile
    (e_k = np.quantile(x, k/B, method='inverted_cdf')) and with the exact order statistic
    e_k = x_(ceil(m k/B)) in integer arithmetic. Both: finite values only, e_0 = min,
    e_B = nextafter(max, inf), duplicates removed (np.unique keeps them sorted)."""
    x = np.asarray(x, dtype=np.float64)
    f = np.sort(x[np.isfinite(x)])
    m = len(f)
    npy = [f[0]]
    exact = [f[0]]
    for k in range(1, bins):
        npy.append(np.quantile(f, k / bins, method="inverted_cdf"))
        exact.append(f[-(-m * k // bins) - 1])  # ceil(m k / B), 1-based
    npy.append(np.nextafter(f[-1], np.inf))
    exact.append(np.nextafter(f[-1], np.inf))
    return np.unique(np.array(npy)), np.unique(np.array(exact))


def gen_edges():
    rng = np.random.default_rng(11)
    cases = []

    def add(name, x, bins):
        npy, exact = edges_ref(x, bins)
        case = {"name": name, "x": [fnum(v) for v in x], "bins": bins,
                "edges": [float(v) for v in exact]}
        if len(npy) != len(exact) or not np.array_equal(npy, exact):
            # The header defines e_k as the order statistic x_(ceil(m k/B)); numpy computes
            # the index from the rounded product m * (k/B), which can land just above an
            # integer and pick the next order statistic. Keep the documented definition as
            # the expectation and record numpy's answer beside it.
            warn("edges case %s: np.quantile(method='inverted_cdf') differs from the exact "
                 "order statistic x_(ceil(m k/B)) documented in stats/hist.h; 'edges' holds "
                 "the exact one, 'edges_numpy' numpy's" % name)
            case["edges_numpy"] = [float(v) for v in npy]
        cases.append(case)

    add("normal_n1000_b20", rng.normal(0, 1, 1000), 20)
    add("lognormal_n5000_b64", rng.lognormal(0, 1, 5000), 64)
    add("uniform_n10_b20", rng.uniform(0, 1, 10), 20)
    add("discrete_012_b20", rng.integers(0, 3, 500).astype(np.float64), 20)
    pm = np.concatenate((np.zeros(600), rng.normal(1, 1, 400)))
    rng.shuffle(pm)
    add("point_mass_60pct_b20", pm, 20)
    add("constant_b10", np.full(50, 3.25), 10)
    mixed = rng.normal(5, 2, 200)
    mixed[[3, 50, 77]] = np.nan
    mixed[[10, 120]] = np.inf
    mixed[[42, 199]] = -np.inf
    add("nan_inf_mixed_b16", mixed, 16)
    add("n1_b8", np.array([-2.5]), 8)
    add("n2_b8", np.array([4.0, -1.0]), 8)
    add("n2_b1", np.array([4.0, -1.0]), 1)
    add("n7_b3", rng.normal(0, 1, 7), 3)
    add("n100_b3", rng.normal(0, 1, 100), 3)
    # Sizes where numpy's floating-point index and the exact one disagree (see add()).
    add("n25_b25_numpy_differs", rng.normal(0, 1, 25), 25)
    add("n5000_b50_numpy_differs", rng.normal(0, 1, 5000), 50)
    write("edges.json", {"cases": cases})


def main():
    os.makedirs(OUT, exist_ok=True)
    gen_divergence()
    gen_stattests()
    gen_edges()
    if warnings:
        print("%d warning(s), see above" % len(warnings), file=sys.stderr)


if __name__ == "__main__":
    main()
