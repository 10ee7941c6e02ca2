"""Month, week and day series per rep, for trend charts and trend tests.

Each series is a DataFrame indexed by (rep, bucket) with one column per measure,
every rep and bucket present (zeros where nothing happened).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.specs import Pipeline
from ..dataset.model import Dataset
from ..aggregation.cube import ActivityCube
from ..aggregation.queries import results_by_month
from ..aggregation.period import Period


def _frame(values: np.ndarray, R: int, labels, columns, name: str) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([pd.RangeIndex(R, name="rep"), pd.Index(labels, name=name)])
    return pd.DataFrame(values.reshape(R * len(labels), -1), index=index, columns=columns)


def build_series(ds: Dataset, cube: ActivityCube, period: Period, p: Pipeline) -> dict[str, pd.DataFrame]:
    R = ds.n_reps
    types = p.activity_type_ids
    months = period.months_back(p.windows.series_months)
    labels = [str(m) for m in months]
    m_edges = [m.start_time for m in months] + [(months[-1] + 1).start_time]
    out: dict[str, pd.DataFrame] = {}
    counts, talk = cube.buckets(m_edges)
    frame = _frame(counts, R, labels, types, "month")
    frame["talk_minutes"] = talk.reshape(-1)
    out["activity_month"] = frame
    # weeks (starting Mondays) covering the series months
    w0 = m_edges[0] - pd.Timedelta(days=m_edges[0].weekday())
    weeks = pd.date_range(w0, m_edges[-1], freq="7D")
    w_edges = list(weeks) + [weeks[-1] + pd.Timedelta(days=7)]
    counts, _ = cube.buckets(w_edges)
    out["activity_week"] = _frame(counts, R, [d.date().isoformat() for d in weeks], types, "week")
    days = pd.date_range(period.start, period.end - pd.Timedelta(days=1), freq="D")
    counts, _ = cube.buckets(list(days) + [period.end])
    out["activity_day"] = _frame(counts, R, [d.date().isoformat() for d in days], types, "day")
    # results by the month of close (won, lost, revenue) and of creation
    res = results_by_month(ds.backend, m_edges[0], m_edges[-1])
    M = len(months)
    month_index = {pd.Timestamp(m.start_time): k for k, m in enumerate(months)}
    k = pd.to_datetime(res["month"]).map(month_index).to_numpy(dtype=float)
    rep = res["rep"].to_numpy(dtype=float)
    ok = ~np.isnan(k) & ~np.isnan(rep)
    keys = rep[ok].astype(np.int64) * M + k[ok].astype(np.int64)
    cols = [np.bincount(keys, weights=res[c].to_numpy(dtype=float)[ok], minlength=R * M)[: R * M].reshape(R, M)
            for c in ("won", "lost", "revenue", "created")]
    out["results_month"] = _frame(np.stack(cols, axis=-1).astype(float), R,
                                  labels, ["won", "lost", "revenue", "created"], "month")
    return out


def ratio_series(series: pd.DataFrame, a: str, b: str) -> pd.Series:
    """a per b for each bucket; NaN where there was no b (the chart leaves a gap)."""
    num, den = series[a].astype(float), series[b].astype(float)
    return (num / den.where(den > 0)).rename(f"{a}.{b}")
