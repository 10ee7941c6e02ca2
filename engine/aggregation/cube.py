"""Activities folded once into a daily cube: rep x day x type counts and talk minutes.

Millions of activity rows become a few million cells in one `np.bincount`; every
activity metric, window and series (month, week, day) is then a slice and a sum.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..catalog.specs import Pipeline
from ..dataset.model import Dataset


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
        d = int((np.datetime64(when, "D") - self.day0) / np.timedelta64(1, "D"))
        return min(max(d, 0), self.n_days)

    def window(self, start, end) -> tuple[np.ndarray, np.ndarray]:
        """(counts rep x type, talk per rep) of activities in [start, end)."""
        a, b = self.day_index(start), self.day_index(end)
        return self.counts[:, a:b, :].sum(axis=1), self.talk[:, a:b].sum(axis=1)

    def buckets(self, edges) -> tuple[np.ndarray, np.ndarray]:
        """(rep x bucket x type counts, rep x bucket talk) between consecutive `edges`."""
        idx = [self.day_index(e) for e in edges]
        n_b = len(idx) - 1
        counts = np.zeros((self.counts.shape[0], n_b, self.counts.shape[2]), dtype=np.int64)
        talk = np.zeros((self.counts.shape[0], n_b))
        cum_c = np.concatenate([np.zeros_like(self.counts[:, :1, :], dtype=np.int64),
                                self.counts.cumsum(axis=1, dtype=np.int64)], axis=1)
        cum_t = np.concatenate([np.zeros_like(self.talk[:, :1]), self.talk.cumsum(axis=1)], axis=1)
        for k in range(n_b):
            counts[:, k, :] = cum_c[:, idx[k + 1], :] - cum_c[:, idx[k], :]
            talk[:, k] = cum_t[:, idx[k + 1]] - cum_t[:, idx[k]]
        return counts, talk


def build_cube(ds: Dataset, pipeline: Pipeline) -> ActivityCube:
    """Fold every activity of the dataset into the daily cube."""
    a = ds.activities
    R, T = ds.n_reps, len(pipeline.activity_types)
    date = a["date"].to_numpy()
    ok = ~np.isnat(date) & (a["rep"].to_numpy() >= 0) & (a["type"].to_numpy() >= 0)
    if not ok.any():
        return ActivityCube(np.datetime64("2000-01-01", "D"), np.zeros((R, 1, T), np.int32), np.zeros((R, 1)))
    days = date[ok].astype("datetime64[D]")
    day0 = days.min()
    d = (days - day0).astype(np.int64)
    D = int(d.max()) + 1
    rep = a["rep"].to_numpy()[ok].astype(np.int64)
    typ = a["type"].to_numpy()[ok].astype(np.int64)
    keys = (rep * D + d) * T + typ
    counts = np.bincount(keys, minlength=R * D * T).astype(np.int32).reshape(R, D, T)
    phone = np.array([t.phone for t in pipeline.activity_types])[typ]
    minutes = a["duration"].to_numpy()[ok].astype(float)
    talk = np.bincount((rep * D + d)[phone], weights=minutes[phone], minlength=R * D).reshape(R, D)
    return ActivityCube(day0, counts, talk)
