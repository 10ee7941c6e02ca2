"""Statistics with scipy: is a rep's gap to a benchmark more than chance?

Every test is one-sided (is the rep worse?) and vectorised over reps:

- proportions (k of n: win rate, a stage conversion, connects per call): beta-binomial,
  the binomial noise of the rep's own sample plus the natural spread of rates among
  healthy peers, so that ordinary reps do not light up red by chance;
- counts (calls, meetings): negative binomial with the peers' natural spread, or
  Poisson against a goal;
- amounts (revenue against plan, days in stage): a robust z-score of the rep's
  ratio to the benchmark among the peers' ratios.

The natural spread among peers is estimated on the favourable side of the median
only (for "below" gaps, from the reps above it): struggling reps, however many, do
not widen the yardstick they are measured with. Many comparisons are controlled with
Benjamini-Hochberg, and trends with a Mann-Kendall test.

The distributions are written with scipy.special's incomplete beta and gamma
functions (the same results as scipy.stats, checked by the tests): scipy.stats
itself takes half a second to import, which every `fairway diagnose` would pay.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

Q_TO_SD = 0.6745   # a normal distribution's quartile, in standard deviations


def healthy_sd(x: np.ndarray, lower_is_gap: bool = True) -> float:
    """The spread of healthy peers: from the quartile on the favourable side of the median.

    For gaps below the benchmark, (Q3 - median) / 0.6745; for gaps above, (median - Q1).
    NaNs are ignored; fewer than 4 values give NaN.
    """
    x = x[~np.isnan(x)]
    if len(x) < 4:
        return np.nan
    q1, q2, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return float(((q3 - q2) if lower_is_gap else (q2 - q1)) / Q_TO_SD)


def group_healthy_sd(values: np.ndarray, groups: np.ndarray, lower_is_gap: bool = True) -> np.ndarray:
    """healthy_sd of `values` within each group, broadcast back to each element."""
    s = pd.Series(values)
    sd = s.groupby(groups).transform(lambda g: healthy_sd(g.to_numpy(), lower_is_gap))
    return sd.to_numpy(dtype=float)


# --------------------------------------------------------------------------- proportions

def between_variance(rates: np.ndarray, trials: np.ndarray, groups: np.ndarray,
                     lower_is_gap: bool = True) -> np.ndarray:
    """Natural between-rep variance of true rates within each group (beyond binomial noise)."""
    ok = trials > 0
    r = np.where(ok, rates, np.nan)
    sd = group_healthy_sd(r, groups, lower_is_gap)
    inv_n = pd.Series(np.where(ok, 1.0 / np.where(ok, trials, 1), np.nan)).groupby(groups).transform("median")
    mu = pd.Series(r).groupby(groups).transform("median").to_numpy(dtype=float)
    binom_var = mu * (1 - mu) * inv_n.to_numpy(dtype=float)
    return np.clip(np.nan_to_num(sd ** 2 - binom_var, nan=0.0), 0.0, None)


def proportion_p(k: np.ndarray, n: np.ndarray, mu: np.ndarray, var_between: np.ndarray,
                 lower: bool = True) -> np.ndarray:
    """P(a rep this far from `mu` or further) under a beta-binomial of mean `mu`.

    `lower`: the gap is a rate below mu. With no between-rep variance it is exact binomial.
    """
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    mu = np.clip(np.asarray(mu, float), 1e-6, 1 - 1e-6)
    v = np.minimum(np.asarray(var_between, float), mu * (1 - mu) * 0.99)
    out = np.full(len(k), np.nan)
    ok = (n > 0) & ~np.isnan(k) & ~np.isnan(mu)
    k = np.clip(np.round(k), 0, n)
    beta = ok & (v > 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = mu * (1 - mu) / np.where(v > 0, v, 1) - 1          # alpha + beta
    a, b = mu * s, (1 - mu) * s
    plain = ok & ~beta
    out[beta] = _betabinom_tail(k[beta], n[beta], a[beta], b[beta], lower)
    out[plain] = _binom_tail(k[plain], n[plain], mu[plain], lower)
    return np.clip(out, 0.0, 1.0)


def _binom_tail(k, n, p, lower: bool) -> np.ndarray:
    """P(X <= k) if lower else P(X >= k), X ~ Binomial(n, p)."""
    if lower:
        return np.where(k >= n, 1.0, special.betainc(np.maximum(n - k, 1e-300), k + 1, 1 - p))
    return np.where(k <= 0, 1.0, special.betainc(np.maximum(k, 1e-300), n - k + 1, p))


def _betabinom_tail(k, n, a, b, lower: bool) -> np.ndarray:
    """P(X <= k) if lower else P(X >= k), X ~ BetaBinomial(n, a, b): a sum of the pmf."""
    if len(k) == 0:
        return np.array([])
    start = np.zeros_like(k) if lower else k
    stop = k if lower else n
    width = int((stop - start).max()) + 1
    j = start[:, None] + np.arange(width)[None, :]
    inside = j <= stop[:, None]
    jj = np.where(inside, j, 0)
    nn, aa, bb = n[:, None], a[:, None], b[:, None]
    log_pmf = (special.gammaln(nn + 1) - special.gammaln(jj + 1) - special.gammaln(nn - jj + 1)
               + special.betaln(jj + aa, nn - jj + bb) - special.betaln(aa, bb))
    return np.where(inside, np.exp(log_pmf), 0.0).sum(axis=1)


# --------------------------------------------------------------------------- counts

def count_p(x: np.ndarray, mu: np.ndarray, cv: np.ndarray | float = 0.0, lower: bool = True) -> np.ndarray:
    """P(a count this far from `mu` or further): negative binomial with coefficient of
    variation `cv` between reps (Poisson when cv is 0)."""
    x = np.round(np.asarray(x, float))
    mu = np.asarray(mu, float)
    cv = np.broadcast_to(np.asarray(cv, float), mu.shape)
    out = np.full(len(x), np.nan)
    ok = (mu > 0) & ~np.isnan(x) & ~np.isnan(mu)
    nb = ok & (cv > 1e-6)
    r = np.where(nb, 1.0 / np.where(nb, cv, 1) ** 2, 1.0)
    pr = r / (r + np.where(ok, mu, 1))
    pois = ok & ~nb
    x = np.maximum(x, 0)
    if lower:       # P(X <= x)
        out[nb] = special.betainc(r[nb], x[nb] + 1, pr[nb])
        out[pois] = special.gammaincc(x[pois] + 1, mu[pois])
    else:           # P(X >= x)
        out[nb] = np.where(x[nb] <= 0, 1.0, special.betaincc(r[nb], np.maximum(x[nb], 1e-300), pr[nb]))
        out[pois] = np.where(x[pois] <= 0, 1.0, special.gammainc(np.maximum(x[pois], 1e-300), mu[pois]))
    return np.clip(out, 0.0, 1.0)


def between_cv(counts: np.ndarray, groups: np.ndarray, lower_is_gap: bool = True) -> np.ndarray:
    """Natural coefficient of variation of counts among peers, beyond Poisson noise."""
    med = pd.Series(counts).groupby(groups).transform("median").to_numpy(dtype=float)
    sd = group_healthy_sd(np.asarray(counts, float), groups, lower_is_gap)
    extra = np.clip(np.nan_to_num(sd ** 2 - med, nan=0.0), 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(med > 0, np.sqrt(extra) / med, 0.0)


# --------------------------------------------------------------------------- amounts

def amount_p(ratio: np.ndarray, groups: np.ndarray, lower: bool = True, floor_sd: float = 0.1
             ) -> np.ndarray:
    """P(a ratio to the benchmark this far below 1 or further), by a robust z-score among
    the peers' ratios. `floor_sd` keeps a team of near-identical reps from making a
    small gap look certain."""
    sd = group_healthy_sd(np.asarray(ratio, float), groups, lower)
    sd = np.fmax(np.nan_to_num(sd, nan=floor_sd), floor_sd)
    z = (np.asarray(ratio, float) - 1.0) / sd
    out = special.ndtr(z) if lower else special.ndtr(-z)
    return np.where(np.isnan(ratio), np.nan, out)


# --------------------------------------------------------------------------- effect, FDR, trend

def relative_gap(value: np.ndarray, bench: np.ndarray, lower_is_gap: bool | np.ndarray) -> np.ndarray:
    """How much worse than the benchmark, as a share of it (positive = worse)."""
    value, bench = np.asarray(value, float), np.asarray(bench, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = (bench - value) / np.abs(bench)
    gap = np.where(lower_is_gap, below, -below)
    # a benchmark of zero: any rep above it (for "above" gaps) is infinitely worse; cap it
    return np.where(bench == 0, np.where(np.where(lower_is_gap, value < 0, value > 0), 1.0, 0.0), gap)


def cohens_h(p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Effect size of a difference between two proportions."""
    p1, p2 = np.clip(np.asarray(p1, float), 0, 1), np.clip(np.asarray(p2, float), 0, 1)
    return 2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2))


def fdr(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN (not tested)."""
    p = np.asarray(p, float)
    q = np.full(len(p), np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if len(ok):
        order = ok[np.argsort(p[ok], kind="stable")]
        m = len(order)
        scaled = p[order] * m / np.arange(1, m + 1)
        q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trend of each row of a (rows x months) matrix: (Kendall's tau-like S/n-pairs, two-sided p).

    NaN months are skipped; rows with fewer than 3 points get NaN.
    """
    x = np.asarray(series, float)
    valid = ~np.isnan(x)
    diff = x[:, None, :] - x[:, :, None]                  # [r, i, j] = x_j - x_i
    pair = valid[:, None, :] & valid[:, :, None]
    upper = np.triu(np.ones((x.shape[1], x.shape[1]), dtype=bool), k=1)
    pair &= upper[None]
    s = np.where(pair, np.sign(np.nan_to_num(diff)), 0).sum(axis=(1, 2))
    n = valid.sum(axis=1)
    pairs = np.maximum(pair.sum(axis=(1, 2)), 1)
    var = n * (n - 1) * (2 * n + 5) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    p = 2 * special.ndtr(-np.abs(z))
    tau = s / pairs
    bad = n < 3
    return np.where(bad, np.nan, tau), np.where(bad, np.nan, p)
