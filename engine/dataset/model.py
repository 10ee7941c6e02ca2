"""A validated dataset: typed tables in the analytical engine, small frames in pandas.

Reps are numbered 0..R-1 in the order of reps.csv, opportunities 0..O-1 in the order of
opportunities.csv; every table refers to them by these codes, so aggregates come back
as small per-rep arrays. The engine (a Backend) holds:

- `opps`      opp, opportunity_id, rep, source_rep, created, close, status (0 open, 1 won,
              2 lost), stage, furthest (NULL where unknown), amount (NULL where missing),
              loss_reason, account
- `history`   opp, stage, entered: one row per passage (consecutive rows of one stage merged)
- `act_daily` rep, day, type, n, talk: activities folded per rep, day and type
- `opp_daily` opp, day, n: activities logged against each opportunity, per day

and pandas holds `reps` and `goals`. `coverage` says what the data holds; `as_of` is the
last day of done work (one outlying row does not move it).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..aggregation.backend import Backend
    from ..metrics.registry import MetricRegistry


@dataclass(frozen=True)
class Coverage:
    """What the data holds, and so what it can say. Missing data is "no data", never zero."""

    stage_history: bool = False            # a stage history with rows
    activities: bool = False               # an activities file with rows
    activity_types: frozenset = frozenset()  # activity types with at least one row
    talk_time: bool = False                # durations on phone activities
    loss_reasons: bool = False             # a reason on some lost deal
    goals: frozenset = frozenset()         # metric ids some rep has a goal for
    sourced_by: bool = False               # source_rep_id filled on some opportunity
    amounts: bool = False                  # amounts on won deals
    expected_close: bool = False           # expected close dates on open deals
    lost_stages: bool = False              # the furthest stage of lost deals is known

    def to_dict(self) -> dict:
        return {"stage_history": self.stage_history, "activities": self.activities,
                "activity_types": sorted(self.activity_types), "talk_time": self.talk_time,
                "loss_reasons": self.loss_reasons, "goals": sorted(self.goals),
                "sourced_by": self.sourced_by, "amounts": self.amounts,
                "expected_close": self.expected_close, "lost_stages": self.lost_stages}

    @classmethod
    def from_dict(cls, d: dict) -> "Coverage":
        return cls(**{**d, "activity_types": frozenset(d.get("activity_types", ())),
                      "goals": frozenset(d.get("goals", ()))})

    def missing(self, registry: "MetricRegistry", prospecting_roles: tuple[str, ...] = ()
                ) -> dict[str, str]:
        """metric id -> why the data cannot support it ("" when it can). For every rep, except
        `opportunities_created`, which only prospecting roles need sourced-by for."""
        p = registry.pipeline
        out: dict[str, str] = {}
        phone = {t.id for t in p.activity_types if t.phone}
        for d in registry:
            m, why = d.id, ""
            fam = d.family
            if fam == "activity":
                t = d.params[0]
                why = "" if t in self.activity_types else (
                    "no activities in the data" if not self.activities else f"no {t.replace('_', ' ')} activities in the data")
            elif fam == "efficiency":
                absent = [t for t in d.params if t not in self.activity_types]
                why = "" if not absent else ("no activities in the data" if not self.activities else
                                             f"no {absent[0].replace('_', ' ')} activities in the data")
            elif m == "talk_minutes":
                why = "" if self.talk_time and (phone & self.activity_types) else \
                    "no call durations in the data"
            elif fam == "loss_share":
                why = "" if self.loss_reasons else "no loss reasons in the data"
            elif fam == "days_in_stage":
                why = "" if self.stage_history else "no stage history in the data"
            elif m == "at_risk.stalled_share":
                why = "" if self.stage_history else "no stage history in the data"
            elif m == "at_risk.effort_share":
                why = "" if self.activities else "no activities in the data"
            elif fam == "stage_conversion":
                why = "" if self.lost_stages or self.stage_history else \
                    "the stage lost deals reached is not in the data"
            elif m in ("revenue", "avg_deal_size"):
                why = "" if self.amounts else "no amounts on won deals in the data"
            elif m in ("pipeline_value", "pipeline_coverage"):
                why = "" if self.amounts and self.expected_close else \
                    ("no amounts in the data" if not self.amounts else "no expected close dates on open deals")
            if why:
                out[m] = why
        return out


@dataclass(frozen=True)
class Dataset:
    backend: "Backend"
    reps: pd.DataFrame            # rep_id, name, role, team, division, manager, start_date, end_date, active, email, ...
    goals: pd.DataFrame           # rep, period, metric, target
    stages: tuple[str, ...]       # stage index -> stage id (the won stage last)
    activity_types: tuple[str, ...]
    n_opportunities: int
    coverage: Coverage
    as_of: pd.Timestamp | None    # the last day of done work (midnight); None if nothing is dated
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None  # the last date of anything, expected closes included
    source: str = ""
    rows: dict[str, int] = field(default_factory=dict)    # rows read per file
    warnings: tuple[str, ...] = ()

    def __post_init__(self):
        weakref.finalize(self, self.backend.close)

    @property
    def rep_ids(self) -> np.ndarray:
        return self.reps["rep_id"].to_numpy(dtype=object)

    @property
    def n_reps(self) -> int:
        return len(self.reps)

    @cached_property
    def opportunities(self) -> pd.DataFrame:
        """Every opportunity, typed (a frame of the engine's `opps` table, by code)."""
        o = self.backend.frame("SELECT * FROM opps ORDER BY opp")
        o["status"] = pd.Categorical.from_codes(o["status"].astype(int), categories=["open", "won", "lost"])
        return o

    @cached_property
    def stage_history(self) -> pd.DataFrame:
        return self.backend.frame("SELECT * FROM history ORDER BY opp, entered, stage")

    @cached_property
    def activity_daily(self) -> pd.DataFrame:
        return self.backend.frame("SELECT * FROM act_daily ORDER BY rep, day, type")

    def date_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        return self.first_date, self.last_date

    def last_activity_date(self) -> pd.Timestamp | None:
        """The last day of done work (the as-of date): see validate.robust_last_day."""
        return self.as_of

    def summary(self) -> dict:
        first, last = self.first_date, self.last_date
        return {
            "source": self.source,
            "reps": int(self.n_reps),
            "teams": int(self.reps["team"].nunique()),
            "divisions": int(self.reps["division"].nunique()),
            "roles": {str(k): int(v) for k, v in self.reps["role"].value_counts().sort_index().items()},
            "first_date": first.date().isoformat() if first is not None else None,
            "last_date": last.date().isoformat() if last is not None else None,
            "as_of": self.as_of.date().isoformat() if self.as_of is not None else None,
            "rows": dict(self.rows),
            "coverage": self.coverage.to_dict(),
        }
