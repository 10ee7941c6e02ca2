"""Benchmarks for every rep and metric: team, division, company, top performers,
industry figures and the rep's own plan.

Peers are reps of the same role (a prospector is never measured against closers).
Each benchmark is a rep x metric frame aligned with the MetricTable.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.specs import BenchmarkKind, Thresholds
from .table import MetricTable

K = BenchmarkKind


def _peer_stat(values: pd.DataFrame, keys: list[np.ndarray], q: pd.Series | float) -> pd.DataFrame:
    """The q-quantile of each metric over each rep's peers, broadcast back to the reps."""
    qs = q if isinstance(q, pd.Series) else pd.Series(q, index=values.columns)
    at = pd.MultiIndex.from_arrays(keys) if len(keys) > 1 else pd.Index(keys[0])
    out = pd.DataFrame(np.nan, index=values.index, columns=values.columns)
    grouped = values.groupby(keys)
    for qv in sorted(set(qs.to_list())):
        cols = list(qs.index[qs == qv])
        per_group = grouped[cols].quantile(qv)
        out[cols] = per_group.reindex(at).to_numpy()
    return out


def compute_benchmarks(table: MetricTable, thresholds: Thresholds) -> dict[BenchmarkKind, pd.DataFrame]:
    """Every benchmark kind as a rep x metric frame (NaN where it does not exist)."""
    reps = table.reps
    # reps who left (or have not started) are measured, but are nobody's yardstick
    v = table.value
    if "left" in reps:
        v = v.where(pd.Series(~reps["left"].to_numpy(dtype=bool), index=v.index), axis=0)
    role, team, division = (reps[c].to_numpy() for c in ("role", "team", "division"))
    higher = pd.Series({m: table.registry.get(m).higher_is_better for m in v.columns})
    top = higher.map({True: thresholds.top_quantile, False: 1 - thresholds.top_quantile})
    out = {
        K.team_median: _peer_stat(v, [team, role], 0.5),
        K.team_top_quartile: _peer_stat(v, [team, role], top),
        K.division_median: _peer_stat(v, [division, role], 0.5),
        K.company_median: _peer_stat(v, [role], 0.5),
        K.company_top_quartile: _peer_stat(v, [role], top),
        K.team_upper_quartile: _peer_stat(v, [team, role], 0.75),
        K.team_lower_quartile: _peer_stat(v, [team, role], 0.25),
        K.company_upper_quartile: _peer_stat(v, [role], 0.75),
        K.company_lower_quartile: _peer_stat(v, [role], 0.25),
    }
    industry = pd.DataFrame(np.nan, index=v.index, columns=v.columns)
    for m, x in thresholds.industry.items():
        if m in industry:
            industry[m] = float(x)
    out[K.industry] = industry
    out[K.plan] = table.goals.reindex(columns=v.columns).set_axis(v.index)
    return out


def rest_of_group(parts: pd.DataFrame, keys: list[np.ndarray]) -> pd.DataFrame:
    """For each rep, the sum of `parts` over the other members of their group."""
    total = parts.groupby(keys).transform("sum")
    return total - parts.fillna(0)
