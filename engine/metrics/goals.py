"""Progress against the rep's own goals (goals.csv), with red / yellow / green."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.specs import Thresholds
from .table import MetricTable


def progress_frame(table: MetricTable) -> pd.DataFrame:
    """rep x metric: share of the goal reached (NaN where no goal or no value).

    For metrics where lower is better (calls per connect), reaching the goal means
    being at or under it: progress is target / value. A partial month is judged
    on its run rate (counts and sums are projected to the whole month).
    """
    goals = table.goals
    cols = [m for m in goals.columns if m in table.value.columns]
    if not cols:
        return pd.DataFrame(index=table.value.index)
    value = table.value[cols].astype(float)
    share = table.period.elapsed_share
    for m in cols:
        if table.registry.get(m).window in ("activity", "results") and table.den[m].isna().all():
            value[m] = value[m] / share       # run rate of a count or sum
    target = goals[cols].astype(float)
    higher = np.array([table.registry.get(m).higher_is_better for m in cols])
    with np.errstate(divide="ignore", invalid="ignore"):
        up = value / target.where(target > 0)
        down = target / value.where(value > 0)
    out = np.where(higher[None, :], up.to_numpy(), down.to_numpy())
    # a lower-is-better goal met with a value of zero counts as met, not as missing
    out = np.where(~higher[None, :] & (value.to_numpy() == 0) & (target.to_numpy() > 0), 1.0, out)
    return pd.DataFrame(out, index=value.index, columns=cols)


def rag(progress: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """'green', 'yellow', 'red' (None where no goal)."""
    g, y = thresholds.rag.green, thresholds.rag.yellow
    labels = np.where(progress >= g, "green", np.where(progress >= y, "yellow", "red"))
    return pd.DataFrame(labels, index=progress.index, columns=progress.columns).where(progress.notna(), None)


def team_average_progress(table: MetricTable, activity_only: bool = True) -> pd.Series:
    """Average progress toward goals per team (each goal capped at 100%)."""
    p = progress_frame(table)
    if activity_only:
        p = p[[c for c in p.columns if c.startswith("activity.") or c == "opportunities_created"]]
    per_rep = p.clip(upper=1.0).mean(axis=1)
    return per_rep.groupby(table.reps["team"].to_numpy()).mean()


def goal_progress(table: MetricTable, thresholds: Thresholds) -> dict[int, dict]:
    """For each rep with goals: {metric: {target, value, progress, rag}}."""
    p = progress_frame(table)
    if p.empty or not len(p.columns):
        return {}
    cols = list(p.columns)
    colors = rag(p, thresholds).to_numpy(dtype=object)
    target = table.goals[cols].to_numpy(dtype=float)
    value = table.value[cols].to_numpy(dtype=float)
    prog = p.to_numpy(dtype=float)
    out: dict[int, dict] = {}
    for i in np.flatnonzero(~np.isnan(target).all(axis=1)):
        out[int(i)] = {m: {"target": float(target[i, j]),
                           "value": None if np.isnan(value[i, j]) else float(value[i, j]),
                           "progress": None if np.isnan(prog[i, j]) else round(float(prog[i, j]), 4),
                           "rag": colors[i, j]}
                       for j, m in enumerate(cols) if not np.isnan(target[i, j])}
    return out
