"""A validated dataset: typed frames keyed by integer codes.

Reps are numbered 0..R-1 in the order of reps.csv; every other frame refers to a
rep (and an opportunity) by that number, so that metric code can aggregate with
`np.bincount` and groupby on small integers. The `*_ids` arrays turn codes back
into the ids of the files.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Dataset:
    reps: pd.DataFrame            # rep_id, name, role, team, division, manager, start_date, email, ...
    opportunities: pd.DataFrame   # opp, rep, source_rep, created, close, status, furthest, amount, loss_reason, account
    stage_history: pd.DataFrame   # opp, stage, entered
    activities: pd.DataFrame      # rep, date, type, duration, opp
    goals: pd.DataFrame           # rep, period, metric, target
    opportunity_ids: np.ndarray   # code -> opportunity_id
    stages: tuple[str, ...]       # stage index -> stage id (the won stage last)
    activity_types: tuple[str, ...]
    source: str = ""
    rows: dict[str, int] = field(default_factory=dict)    # rows read per file
    warnings: tuple[str, ...] = ()

    @property
    def rep_ids(self) -> np.ndarray:
        return self.reps["rep_id"].to_numpy(dtype=object)

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    def date_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The first and last date of any event in the data."""
        parts = [self.opportunities["created"], self.opportunities["close"],
                 self.activities["date"], self.stage_history["entered"]]
        lows = [p.min() for p in parts if len(p) and p.notna().any()]
        highs = [p.max() for p in parts if len(p) and p.notna().any()]
        return (min(lows) if lows else None, max(highs) if highs else None)

    def last_activity_date(self) -> pd.Timestamp | None:
        """The latest date at which something happened (closes and expected closes excluded)."""
        o = self.opportunities
        parts = [o["created"], o.loc[o["status"] != "open", "close"], self.activities["date"],
                 self.stage_history["entered"]]
        highs = [p.max() for p in parts if len(p) and p.notna().any()]
        return max(highs) if highs else None

    def summary(self) -> dict:
        first, last = self.date_range()
        return {
            "source": self.source,
            "reps": int(self.n_reps),
            "teams": int(self.reps["team"].nunique()),
            "divisions": int(self.reps["division"].nunique()),
            "roles": {str(k): int(v) for k, v in self.reps["role"].value_counts().sort_index().items()},
            "first_date": first.date().isoformat() if first is not None else None,
            "last_date": last.date().isoformat() if last is not None else None,
            "rows": dict(self.rows),
        }
