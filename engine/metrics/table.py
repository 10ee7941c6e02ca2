"""MetricTable: every metric of every rep for one period, with the parts behind it.

Each metric is kept as additive parts so that teams, divisions and the company
aggregate exactly (sum the parts, then divide):

- `num`  the numerator, or the value itself for counts and amounts
- `den`  the denominator (NaN for metrics without one)
- `n`    the sample behind the value: trials of a proportion, calls behind a ratio,
         deals behind an amount

`value` follows from them. A zero denominator never yields inf or NaN where the
data speaks: a ratio with 12 connects and no meeting is 12 and flagged as a lower
bound (`bound`), the strongest signal rather than a missing one. Only no data at
all (0 of 0) leaves a metric undefined (NaN here, null in JSON).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..aggregation.period import Period
from .registry import MetricRegistry, SampleKind


def derive_values(num: pd.DataFrame, den: pd.DataFrame, registry: MetricRegistry
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(value, bound) from the parts; see the module docstring."""
    values = {}
    bounds = {}
    for m in num.columns:
        a = num[m].to_numpy(dtype=float)
        b = den[m].to_numpy(dtype=float)
        kind = registry.get(m).test
        bound = np.zeros(len(a), dtype=bool)
        if np.isnan(b).all():
            v = a.copy()
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
            if kind == SampleKind.ratio:
                bound = (b == 0) & (a > 0)
                v = np.where(bound, a, v)       # a per at most one b: a lower bound
        values[m] = v
        bounds[m] = bound
    idx = num.index
    return pd.DataFrame(values, index=idx), pd.DataFrame(bounds, index=idx)


@dataclass(frozen=True)
class MetricTable:
    period: Period
    reps: pd.DataFrame                 # rep_id, name, role, team, division, manager (row = rep code)
    num: pd.DataFrame                  # rep x metric
    den: pd.DataFrame
    n: pd.DataFrame
    value: pd.DataFrame
    bound: pd.DataFrame
    funnel: np.ndarray                 # rep x stage (won last): closed opportunities that reached it
    goals: pd.DataFrame                # rep x metric: the period's targets (NaN where none)
    stage_days: pd.DataFrame           # passages: rep, stage, days, won (velocity window)
    open_opps: pd.DataFrame            # open opportunities at as_of, with at-risk flags
    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    registry: MetricRegistry | None = None
    missing: dict[str, str] = field(default_factory=dict)   # metric id -> why the data cannot say
    _columns: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def metric_ids(self) -> list[str]:
        return list(self.value.columns)

    def column(self, part: str, metric: str) -> np.ndarray:
        """The rep x metric frame `part` (value, n, num, den, goals)'s column as floats (NaN
        where the frame lacks it), taken from the frame once: a lookup per rep and gap is then
        an array index, not a pandas one."""
        key = (part, metric)
        found = self._columns.get(key)
        if found is None:
            frame = getattr(self, part)
            found = frame[metric].to_numpy(dtype=float) if metric in frame else np.full(len(frame), np.nan)
            self._columns[key] = found
        return found

    def group_values(self, by: str) -> pd.DataFrame:
        """Metric values of each team, division or the company (by='company'), from summed parts."""
        keys = self._keys(by)
        num = self.num.groupby(keys).sum(min_count=1)
        den = self.den.groupby(keys).sum(min_count=1)
        has_den = self.den.notna().any()
        den.loc[:, ~has_den] = np.nan
        value, _ = derive_values(num, den, self.registry)
        days = self._group_stage_days(keys)
        for col in days.columns:
            value[col] = days[col].reindex(value.index)
        return value

    def group_funnel(self, by: str) -> pd.DataFrame:
        """Funnel counts per team, division or company."""
        return pd.DataFrame(self.funnel).groupby(self._keys(by)).sum()

    def _keys(self, by: str) -> np.ndarray:
        if by == "company":
            return np.zeros(len(self.reps), dtype=int)
        return self.reps[by].to_numpy()

    def _group_stage_days(self, keys: np.ndarray) -> pd.DataFrame:
        sd = self.stage_days
        if sd.empty:
            return pd.DataFrame()
        frame = pd.DataFrame({"g": keys[sd["rep"].to_numpy()], "stage": sd["stage"].to_numpy(),
                              "days": sd["days"].to_numpy()})
        med = frame.groupby(["g", "stage"])["days"].median().unstack("stage")
        stages = self.registry.pipeline.stage_ids
        med.columns = [f"days_in_stage.{stages[int(s)]}" for s in med.columns]
        return med
