"""The statistics: exact where they should be, robust to struggling peers, quiet on healthy teams."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from engine.statistics import stats


def test_proportion_test_is_exact_binomial_without_between_rep_spread():
    k, n, mu = np.array([3, 10, 20]), np.array([30, 30, 30]), np.array([0.5, 0.5, 0.5])
    p = stats.proportion_p(k, n, mu, np.zeros(3))
    assert p == pytest.approx(sps.binom.cdf(k, n, mu))
    above = stats.proportion_p(k, n, mu, np.zeros(3), lower=False)
    assert above == pytest.approx(sps.binom.sf(k - 1, n, mu))


def test_beta_binomial_is_more_cautious_than_binomial():
    k, n, mu = np.array([8]), np.array([40]), np.array([0.4])
    plain = stats.proportion_p(k, n, mu, np.zeros(1))
    spread = stats.proportion_p(k, n, mu, np.array([0.005]))
    assert spread[0] > plain[0]


def test_count_test_is_poisson_without_spread_and_wider_with_it():
    x, mu = np.array([4.0]), np.array([15.0])
    assert stats.count_p(x, mu, 0.0) == pytest.approx(sps.poisson.cdf(4, 15))
    assert stats.count_p(x, mu, 0.3)[0] > stats.count_p(x, mu, 0.0)[0]


def test_healthy_spread_ignores_the_struggling_tail():
    rng = np.random.default_rng(1)
    healthy = rng.normal(0.7, 0.03, 70)
    struggling = rng.normal(0.35, 0.03, 30)           # 30% of peers far below
    mixed = np.concatenate([healthy, struggling])
    assert stats.healthy_sd(mixed, lower_is_gap=True) == pytest.approx(0.03, abs=0.012)
    assert np.std(mixed) > 0.1


def test_fdr_matches_scipy_and_keeps_untested_as_nan():
    p = np.array([0.001, np.nan, 0.04, 0.03, 0.5])
    q = stats.fdr(p)
    assert np.isnan(q[1])
    assert q[[0, 2, 3, 4]] == pytest.approx(sps.false_discovery_control(p[[0, 2, 3, 4]]))


def test_a_healthy_team_does_not_light_up_red():
    rng = np.random.default_rng(7)
    R = 400
    true_rate = np.clip(rng.normal(0.3, 0.02, R), 0, 1)        # ordinary reps, a little different
    n = rng.integers(40, 120, R)
    k = rng.binomial(n, true_rate)
    rates = k / n
    groups = np.zeros(R, dtype=int)
    var = stats.between_variance(rates, n.astype(float), groups)
    p = stats.proportion_p(k, n, np.full(R, np.median(rates)), var)
    q = stats.fdr(p)
    assert (q < 0.05).sum() <= 2


def test_relative_gap_is_positive_when_worse():
    assert stats.relative_gap([0.4], [0.5], True)[0] == pytest.approx(0.2)
    assert stats.relative_gap([12.0], [8.0], False)[0] == pytest.approx(0.5)
    assert stats.relative_gap([0.6], [0.5], True)[0] < 0


def test_mann_kendall_trend():
    up = np.arange(12, dtype=float)[None, :]
    flat = np.array([[5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 6]], dtype=float)
    gaps = np.array([[1, np.nan, 3, 4, np.nan, 6, 7, 8, 9, 10, 11, 12]], dtype=float)
    tau, p = stats.mann_kendall(np.vstack([up, -up, flat, gaps]))
    assert tau[0] == 1 and tau[1] == -1 and p[0] < 0.001 and p[1] < 0.001
    assert p[2] > 0.2
    assert tau[3] == 1 and p[3] < 0.01
    short = stats.mann_kendall(np.array([[1.0, 2.0, np.nan, np.nan]]))
    assert np.isnan(short[1][0])


def test_distributions_match_scipy_stats():
    rng = np.random.default_rng(3)
    n = rng.integers(1, 400, 200).astype(float)
    k = np.floor(rng.uniform(0, 1, 200) * (n + 1))
    mu = rng.uniform(0.05, 0.95, 200)
    var = rng.uniform(0, 0.02, 200)
    var = np.minimum(var, mu * (1 - mu) * 0.99)
    s = mu * (1 - mu) / np.where(var > 0, var, 1) - 1
    a, b = mu * s, (1 - mu) * s
    beta = var > 1e-9
    for lower in (True, False):
        got = stats.proportion_p(k, n, mu, var, lower=lower)
        want = np.where(beta, sps.betabinom.cdf(k, n, a, b) if lower else sps.betabinom.sf(k - 1, n, a, b),
                        sps.binom.cdf(k, n, mu) if lower else sps.binom.sf(k - 1, n, mu))
        assert got == pytest.approx(np.clip(want, 0, 1), rel=1e-6, abs=1e-9)   # scipy 1-cdf is coarser
    x = rng.integers(0, 60, 200).astype(float)
    mean = rng.uniform(1, 50, 200)
    cv = rng.uniform(0, 0.5, 200)
    r = 1 / np.where(cv > 1e-6, cv, 1) ** 2
    pr = r / (r + mean)
    for lower in (True, False):
        got = stats.count_p(x, mean, cv, lower=lower)
        want = np.where(cv > 1e-6, sps.nbinom.cdf(x, r, pr) if lower else sps.nbinom.sf(x - 1, r, pr),
                        sps.poisson.cdf(x, mean) if lower else sps.poisson.sf(x - 1, mean))
        assert got == pytest.approx(want, rel=1e-6, abs=1e-12)
    p = rng.uniform(0, 1, 300)
    assert stats.fdr(p) == pytest.approx(sps.false_discovery_control(p))
