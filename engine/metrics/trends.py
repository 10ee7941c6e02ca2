"""Month series of the figures a manager watches, and their trends (Mann-Kendall).

From the table's monthly series: the efficiency ratios along the prospecting funnel,
talk time, the funnel's activity counts, win rate and revenue, per rep (rep x month),
and for each the direction of its trend over the last `months` months.
"""
from __future__ import annotations

import numpy as np

from ..catalog.specs import Pipeline
from ..statistics.stats import mann_kendall
from .table import MetricTable


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def month_series(table: MetricTable, pipeline: Pipeline) -> dict[str, np.ndarray]:
    """metric id -> rep x month values (NaN where a ratio is undefined that month)."""
    R = len(table.reps)
    act = table.series["activity_month"]
    res = table.series["results_month"]

    def col(frame, name):
        return frame[name].to_numpy(dtype=float).reshape(R, -1)
    chain = pipeline.prospecting_funnel
    out: dict[str, np.ndarray] = {}
    for a, b in zip(chain, chain[1:]):
        out[f"efficiency.{a}.{b}"] = _divide(col(act, a), col(act, b))
    out["talk_minutes"] = col(act, "talk_minutes")
    for a in chain:
        out[f"activity.{a}"] = col(act, a)
    won, lost = col(res, "won"), col(res, "lost")
    out["win_rate"] = _divide(won, won + lost)
    out["revenue"] = col(res, "revenue")
    return out


def trends(series: dict[str, np.ndarray], months: int, alpha: float) -> dict[str, dict[str, np.ndarray]]:
    """metric id -> {tau, p_value, direction} arrays over reps, for the last `months` months."""
    out = {}
    for metric, values in series.items():
        tau, p = mann_kendall(values[:, -months:])
        significant = ~np.isnan(p) & (p < alpha)
        direction = np.where(significant & (tau > 0), "up", np.where(significant & (tau < 0), "down", "flat"))
        out[metric] = {"tau": tau, "p_value": p, "direction": direction}
    return out


def rep_trends(all_trends: dict, i: int) -> dict[str, dict]:
    """One rep's trends as plain values."""
    def num(x):
        return None if np.isnan(x) else round(float(x), 4)
    return {m: {"tau": num(t["tau"][i]), "p_value": num(t["p_value"][i]), "direction": str(t["direction"][i])}
            for m, t in all_trends.items()}
