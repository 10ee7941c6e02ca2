"""Compare every rep with the benchmark of every gap of the catalog, vectorised.

For each gap (performance or behaviour) and each rep of its roles: the value, the
benchmark chosen (the first of the gap's `compare_to` the rep has), the relative gap,
the sample behind it and a one-sided p-value; then q-values across every comparison
of the run (Benjamini-Hochberg). Whether a comparison is a *finding* is decided by
the rules (engine.rules), not here.

q-values are computed within each level: every performance comparison of the run is
one family, every behaviour comparison another.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.model import Catalog
from ..catalog.specs import BenchmarkKind, Direction, PerformanceGap
from ..metrics.registry import SampleKind
from ..metrics.table import MetricTable
from . import stats

COLUMNS = ["rep", "gap", "level", "metric", "value", "benchmark", "benchmark_kind", "rel_gap",
           "p", "q", "n", "bound", "tested"]


def min_sample(catalog: Catalog, kind: SampleKind, averaged: bool) -> float:
    ms = catalog.thresholds.min_sample
    if kind in (SampleKind.proportion, SampleKind.ratio):
        return ms.proportion
    if kind == SampleKind.count:
        return ms.count
    return ms.amount if averaged else 0


def compare_gaps(table: MetricTable, benchmarks: dict[BenchmarkKind, pd.DataFrame],
                 catalog: Catalog) -> pd.DataFrame:
    """One row per (rep, gap) the catalog applies to; see COLUMNS."""
    parts = [_compare(table, benchmarks, catalog, g, level)
             for level, gaps in (("performance", catalog.performance_gaps),
                                 ("behaviour", catalog.behaviour_gaps))
             for g in gaps.values() if g.metric in table.value.columns]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    # false-discovery control within each level: results and behaviours answer different questions
    q = np.full(len(frame), np.nan)
    for level in ("performance", "behaviour"):
        at = (frame["level"] == level).to_numpy()
        q[at] = stats.fdr(frame.loc[at, "p"].to_numpy(dtype=float))
    frame["q"] = q
    return frame[COLUMNS]


def _choose_benchmark(benchmarks, kinds: list[BenchmarkKind], metric: str, rows: np.ndarray):
    bench = np.full(len(rows), np.nan)
    chosen = np.full(len(rows), None, dtype=object)
    for kind in kinds:
        b = benchmarks[kind][metric].to_numpy(dtype=float)[rows]
        take = np.isnan(bench) & ~np.isnan(b)
        bench[take] = b[take]
        chosen[take] = kind.value
    return bench, chosen


def _compare(table: MetricTable, benchmarks, catalog: Catalog, gap: PerformanceGap, level: str
             ) -> pd.DataFrame:
    m = gap.metric
    d = table.registry.get(m)
    role = table.reps["role"].to_numpy()
    present = ~table.reps["left"].to_numpy(dtype=bool) if "left" in table.reps else np.ones(len(role), bool)
    rows = np.flatnonzero(np.isin(role, gap.roles) & present)      # reps who left are not diagnosed
    groups = role[rows]
    value = table.value[m].to_numpy(dtype=float)[rows]
    num = table.num[m].to_numpy(dtype=float)[rows]
    den = table.den[m].to_numpy(dtype=float)[rows]
    n = table.n[m].to_numpy(dtype=float)[rows]
    bound = table.bound[m].to_numpy()[rows]
    kinds = catalog.benchmarks_of(gap)
    bench, chosen = _choose_benchmark(benchmarks, kinds, m, rows)
    if BenchmarkKind.plan in kinds and d.window in ("activity", "results") and d.test == SampleKind.count:
        # a goal is for the whole month: judge a month under way on its share of it
        plan = chosen == BenchmarkKind.plan.value
        bench[plan] = bench[plan] * table.period.elapsed_share
    below = catalog.direction_of(gap) == Direction.below
    rel = stats.relative_gap(value, bench, below)
    p = _p_values(d.test, value, num, den, n, bench, groups, below)
    guard = min_sample(catalog, d.test, d.averaged)
    sample = bench if d.test == SampleKind.count else n
    tested = ~np.isnan(p) & ~np.isnan(value) & ~np.isnan(bench) & (sample >= guard)
    return pd.DataFrame({
        "rep": rows, "gap": gap.id, "level": level, "metric": m, "value": value, "benchmark": bench,
        "benchmark_kind": chosen, "rel_gap": rel, "p": np.where(tested, p, np.nan), "q": np.nan,
        "n": n, "bound": bound, "tested": tested})


def _p_values(kind: SampleKind, value, num, den, n, bench, groups, below: bool) -> np.ndarray:
    if kind == SampleKind.proportion:
        var = stats.between_variance(value, den, groups, below)
        return stats.proportion_p(num, den, bench, var, lower=below)
    if kind == SampleKind.ratio:
        # a per b, tested as the proportion b of a: more calls per connect = fewer connects per call
        trials = num
        hits = np.minimum(den, num)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(trials > 0, hits / np.where(trials > 0, trials, 1), np.nan)
            mu = np.where(bench > 0, 1.0 / bench, np.nan)
        var = stats.between_variance(rate, trials, groups, not below)
        return stats.proportion_p(hits, trials, np.minimum(mu, 1.0), var, lower=not below)
    if kind == SampleKind.count:
        cv = stats.between_cv(value, groups, below)
        return stats.count_p(value, bench, cv, lower=below)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bench > 0, value / bench, np.nan)
    return stats.amount_p(ratio, groups, lower=below)
