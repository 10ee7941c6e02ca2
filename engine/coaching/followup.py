"""Follow-up on data: where a plan's KPI stands against its baseline and its target.

The target's side of the baseline gives the direction (a target above the baseline means
higher is better for this plan); without a baseline, the metric's own direction does.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KpiStanding:
    """A plan's KPI at one measurement."""

    value: float | None
    reached: bool            # at or beyond the target, on the plan's side
    progress: float | None   # share of the way from the baseline to the target (1.0: reached)
    moved: str               # "better", "worse" or "" (unchanged, or nothing to compare)

    def to_dict(self) -> dict:
        return {"value": self.value, "reached": self.reached, "progress": self.progress, "moved": self.moved}


def upward(baseline: float | None, target: float | None, higher_is_better: bool = True) -> bool:
    """Whether the plan wants the KPI to go up."""
    if baseline is None or target is None or target == baseline:
        return higher_is_better
    return target > baseline


def standing(value: float | None, baseline: float | None, target: float | None,
             higher_is_better: bool = True, tolerance: float = 1e-9) -> KpiStanding:
    """The KPI `value` against the plan's `baseline` and `target`."""
    if value is None:
        return KpiStanding(None, False, None, "")
    up = upward(baseline, target, higher_is_better)
    sign = 1.0 if up else -1.0
    reached = target is not None and sign * (value - target) >= -tolerance
    progress = None
    if baseline is not None and target is not None and target != baseline:
        progress = round((value - baseline) / (target - baseline), 4)
    moved = ""
    if baseline is not None and abs(value - baseline) > tolerance * max(1.0, abs(baseline)):
        moved = "better" if sign * (value - baseline) > 0 else "worse"
    return KpiStanding(value, bool(reached), progress, moved)


def trend(values: list[float | None], up: bool) -> str:
    """The last move of a series of measures towards the target: "better", "worse" or "flat"."""
    known = [v for v in values if v is not None]
    if len(known) < 2 or known[-1] == known[-2]:
        return "flat"
    return "better" if (known[-1] > known[-2]) == up else "worse"
