"""Month, week and day series per rep, for trend charts and trend tests.

Each series is a DataFrame indexed by (rep, bucket) with one column per measure,
every rep and bucket present (zeros where nothing happened).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.specs import Pipeline
from ..dataset.model import Dataset
from .period import Period


def _buckets(dates: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index of the [edge_i, edge_i+1) bucket of each date; -1 outside."""
    b = np.searchsorted(edges, dates, side="right") - 1
    b[(b < 0) | (b >= len(edges) - 1) | np.isnat(dates)] = -1
    return b


def _cube(rep: np.ndarray, bucket: np.ndarray, kind: np.ndarray, R: int, B: int, K: int,
          weights: np.ndarray | None = None) -> np.ndarray:
    ok = (rep >= 0) & (bucket >= 0) & (kind >= 0)
    keys = (rep[ok].astype(np.int64) * B + bucket[ok]) * K + kind[ok]
    w = None if weights is None else weights[ok]
    return np.bincount(keys, weights=w, minlength=R * B * K)[: R * B * K].reshape(R * B, K)


def _frame(values: np.ndarray, R: int, labels, columns, name: str) -> pd.DataFrame:
    index = pd.MultiIndex.from_product([pd.RangeIndex(R, name="rep"), pd.Index(labels, name=name)])
    return pd.DataFrame(values, index=index, columns=columns)


def build_series(ds: Dataset, period: Period, p: Pipeline) -> dict[str, pd.DataFrame]:
    R = ds.n_reps
    types = p.activity_type_ids
    T = len(types)
    months = period.months_back(p.windows.series_months)
    m_edges = np.array([m.start_time for m in months] + [(months[-1] + 1).start_time], dtype="datetime64[s]")
    a = ds.activities
    rep, date, typ = a["rep"].to_numpy(), a["date"].to_numpy(), a["type"].to_numpy().astype(np.int64)
    out: dict[str, pd.DataFrame] = {}
    M = len(months)
    out["activity_month"] = _frame(_cube(rep, _buckets(date, m_edges), typ, R, M, T), R,
                                   [str(m) for m in months], types, "month")
    # weeks (Monday starts) covering the series months
    w0 = pd.Timestamp(m_edges[0]) - pd.Timedelta(days=pd.Timestamp(m_edges[0]).weekday())
    weeks = pd.date_range(w0, pd.Timestamp(m_edges[-1]), freq="7D")
    w_edges = np.append(weeks.to_numpy(dtype="datetime64[s]"),
                        np.datetime64(weeks[-1] + pd.Timedelta(days=7), "s"))
    out["activity_week"] = _frame(_cube(rep, _buckets(date, w_edges), typ, R, len(weeks), T), R,
                                  [d.date().isoformat() for d in weeks], types, "week")
    days = pd.date_range(period.start, period.end - pd.Timedelta(days=1), freq="D")
    d_edges = np.append(days.to_numpy(dtype="datetime64[s]"), np.datetime64(period.end, "s"))
    out["activity_day"] = _frame(_cube(rep, _buckets(date, d_edges), typ, R, len(days), T), R,
                                 [d.date().isoformat() for d in days], types, "day")
    phone = np.array([t.phone for t in p.activity_types])[typ.clip(0)] & (typ >= 0)
    talk = _cube(rep, _buckets(date, m_edges), np.zeros(len(rep), np.int64), R, M, 1,
                 weights=np.where(phone, a["duration"].to_numpy().astype(float), 0.0))
    out["activity_month"]["talk_minutes"] = talk[:, 0]
    # results by the month of close (won, lost, revenue) and of creation
    o = ds.opportunities
    orep = o["rep"].to_numpy()
    cb = _buckets(o["close"].to_numpy(), m_edges)
    status = o["status"].cat.codes.to_numpy().astype(np.int64)     # open, won, lost
    closed_b = np.where(status > 0, cb, -1)
    res = _cube(orep, closed_b, status, R, M, 3)
    revenue = _cube(orep, np.where(status == 1, cb, -1), np.zeros(len(orep), np.int64), R, M, 1,
                    weights=o["amount"].to_numpy())
    zero = np.zeros(len(orep), np.int64)
    cr_b = _buckets(o["created"].to_numpy(), m_edges)
    src = o["source_rep"].to_numpy()
    created = _cube(orep, cr_b, zero, R, M, 1) + \
        _cube(np.where(src != orep, src, -1), cr_b, zero, R, M, 1)   # sourced by someone else
    frame = _frame(np.column_stack([res[:, 1], res[:, 2], revenue[:, 0], created[:, 0]]), R,
                   [str(m) for m in months], ["won", "lost", "revenue", "created"], "month")
    out["results_month"] = frame
    return out


def ratio_series(series: pd.DataFrame, a: str, b: str) -> pd.Series:
    """a per b for each bucket; NaN where there was no b (the chart leaves a gap)."""
    num, den = series[a].astype(float), series[b].astype(float)
    return (num / den.where(den > 0)).rename(f"{a}.{b}")
