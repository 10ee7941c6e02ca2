"""Activities as a dense daily cube over the days a period needs: rep x day x type counts
and talk minutes.

The engine has already folded millions of activity rows per rep, day and type
(`act_daily`); the cube spreads the days a period looks at (its windows and series)
into arrays, so every activity metric, window and series (month, week, day) is a slice
and a sum.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..catalog.specs import Pipeline
from .queries import activity_days


@dataclass(frozen=True)
class ActivityCube:
    day0: np.datetime64          # the first day of the cube
    counts: np.ndarray           # rep x day x type, int32
    talk: np.ndarray             # rep x day, minutes of phone activities

    @property
    def n_days(self) -> int:
        return self.counts.shape[1]

    def day_index(self, when) -> int:
        """Index of the day of `when` (clipped to the cube)."""
        d = int((np.datetime64(pd.Timestamp(when), "D") - self.day0) / np.timedelta64(1, "D"))
        return min(max(d, 0), self.n_days)

    def window(self, start, end) -> tuple[np.ndarray, np.ndarray]:
        """(counts rep x type, talk per rep) of activities in [start, end)."""
        a, b = self.day_index(start), self.day_index(end)
        return self.counts[:, a:b, :].sum(axis=1), self.talk[:, a:b].sum(axis=1)

    def buckets(self, edges) -> tuple[np.ndarray, np.ndarray]:
        """(rep x bucket x type counts, rep x bucket talk) between consecutive `edges`."""
        idx = np.array([self.day_index(e) for e in edges])
        cum_c = np.concatenate([np.zeros_like(self.counts[:, :1, :], dtype=np.int64),
                                self.counts.cumsum(axis=1, dtype=np.int64)], axis=1)
        cum_t = np.concatenate([np.zeros_like(self.talk[:, :1]), self.talk.cumsum(axis=1)], axis=1)
        counts = cum_c[:, idx[1:], :] - cum_c[:, idx[:-1], :]
        talk = cum_t[:, idx[1:]] - cum_t[:, idx[:-1]]
        return counts, talk


def build_cube(ds, pipeline: Pipeline, start, end) -> ActivityCube:
    """The cube of the dataset's activities on the days [start, end)."""
    R, T = ds.n_reps, len(pipeline.activity_types)
    day0 = np.datetime64(pd.Timestamp(start), "D")
    D = max(int((np.datetime64(pd.Timestamp(end), "D") - day0) / np.timedelta64(1, "D")), 1)
    a = activity_days(ds.backend, start, end)
    counts = np.zeros((R, D, T), dtype=np.int32)
    talk = np.zeros((R, D))
    if len(a):
        rep = a["rep"].to_numpy(dtype=np.int64)
        d = ((pd.to_datetime(a["day"]).to_numpy(dtype="datetime64[D]") - day0) / np.timedelta64(1, "D")).astype(np.int64)
        typ = a["type"].to_numpy(dtype=np.int64)
        flat = (rep * D + d) * T + typ
        counts = np.bincount(flat, weights=a["n"].to_numpy(dtype=float), minlength=R * D * T
                             ).astype(np.int32).reshape(R, D, T)
        talk = np.bincount(rep * D + d, weights=a["talk"].to_numpy(dtype=float), minlength=R * D).reshape(R, D)
    return ActivityCube(day0, counts, talk)
