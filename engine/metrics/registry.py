"""The metric registry: every metric id, what it means, its unit and its direction.

One namespace shared by goals.csv, the catalog, thresholds, the CLI, the JSON and
the web forms. Ids follow the data contract; the families that depend on the
pipeline (stages, activity types, loss reasons) are enumerated from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from ..catalog.specs import Pipeline


class SampleKind(str, Enum):
    proportion = "proportion"  # k of n: beta-binomial against the team
    count = "count"            # events in the window: negative binomial / Poisson
    ratio = "ratio"            # a per b: tested as the proportion b/a
    amount = "amount"          # money or days: compared on its own scale, no exact test


@dataclass(frozen=True)
class MetricDef:
    id: str
    family: str
    title: str
    unit: str              # currency, share, count, ratio, days, minutes
    higher_is_better: bool
    test: SampleKind
    window: str            # activity, results, closed, velocity, pipeline
    description: str
    params: tuple[str, ...] = ()
    averaged: bool = False   # a mean or median over `n` items: too few items mean nothing


    def format(self, value: float | None, currency: str = "USD") -> str:
        """A value as a person reads it: 53%, $41,000, 8.2, 12 days."""
        if value is None:
            return "n/a"
        if self.unit == "share":
            return f"{value:.0%}"
        if self.unit == "currency":
            sign = "$" if currency == "USD" else f"{currency} "
            return f"{sign}{value:,.0f}"
        if self.unit == "days":
            return f"{value:.0f} days"
        if self.unit == "minutes":
            return f"{value:,.0f} min"
        if self.unit == "ratio":
            return f"{value:.1f}"
        return f"{value:,.0f}"


class MetricRegistry:
    """All metric ids of one pipeline, in a stable display order."""

    def __init__(self, pipeline: Pipeline, extra_loss_reasons: Iterable[str] = ()):
        self.pipeline = pipeline
        self._defs: dict[str, MetricDef] = {}
        for d in _enumerate(pipeline, extra_loss_reasons):
            self._defs[d.id] = d

    def __contains__(self, metric_id: str) -> bool:
        return metric_id in self._defs or self._dynamic(metric_id) is not None

    def __iter__(self):
        return iter(self._defs.values())

    def ids(self) -> list[str]:
        return list(self._defs)

    def get(self, metric_id: str) -> MetricDef:
        found = self._defs.get(metric_id) or self._dynamic(metric_id)
        if found is None:
            raise KeyError(metric_id)
        return found

    def _dynamic(self, metric_id: str) -> MetricDef | None:
        # any loss reason seen in a dataset has a loss share, known to the catalog or not
        if metric_id.startswith("loss_share.") and len(metric_id) > len("loss_share."):
            return _loss_share(metric_id.split(".", 1)[1])
        return None


def _loss_share(reason: str) -> MetricDef:
    return MetricDef(f"loss_share.{reason}", "loss_share", f"Losses: {reason.replace('_', ' ')}",
                     "share", False, SampleKind.proportion, "closed",
                     f"share of lost opportunities lost for {reason.replace('_', ' ')}", (reason,))


def _enumerate(p: Pipeline, extra_loss_reasons: Iterable[str]) -> Iterable[MetricDef]:
    yield MetricDef("revenue", "revenue", "Revenue", "currency", True, SampleKind.amount, "results",
                    "sum of amount of opportunities won in the window")
    yield MetricDef("win_rate", "win_rate", "Win rate", "share", True, SampleKind.proportion, "closed",
                    "won / (won + lost), opportunities closed in the window")
    yield MetricDef("avg_deal_size", "avg_deal_size", "Average deal size", "currency", True,
                    SampleKind.amount, "closed", "mean amount of won opportunities", averaged=True)
    yield MetricDef("cycle_days", "cycle_days", "Sales cycle", "days", False, SampleKind.amount,
                    "closed", "mean days from created to close, won opportunities", averaged=True)
    yield MetricDef("pipeline_value", "pipeline_value", "Open pipeline", "currency", True,
                    SampleKind.amount, "pipeline",
                    "sum of amount of open opportunities expected to close in the horizon")
    yield MetricDef("pipeline_coverage", "pipeline_coverage", "Pipeline coverage", "ratio", True,
                    SampleKind.amount, "pipeline",
                    "open pipeline in the horizon divided by the month's revenue target")
    yield MetricDef("opportunities_created", "opportunities_created", "Opportunities created",
                    "count", True, SampleKind.count, "results",
                    "opportunities created (owned or sourced) in the window")
    for s in p.stage_ids:
        yield MetricDef(f"stage_conversion.{s}", "stage_conversion", f"{_title(p, s)} conversion",
                        "share", True, SampleKind.proportion, "closed",
                        f"share of closed opportunities that reached {s} and went on to the next stage",
                        (s,))
    for s in p.all_stages:
        title = "Won deals" if s == p.won_stage else f"Reached {_title(p, s).lower()}"
        yield MetricDef(f"stage_entries.{s}", "stage_entries", title, "count", True, SampleKind.count,
                        "results", f"opportunities that entered {s} in the window", (s,))
    for a in p.activity_types:
        yield MetricDef(f"activity.{a.id}", "activity", a.title, "count", True, SampleKind.count,
                        "activity", f"count of {a.id} activities in the window", (a.id,))
    chain = p.prospecting_funnel
    for i, a in enumerate(chain):
        for b in chain[i + 1:]:
            yield MetricDef(f"efficiency.{a}.{b}", "efficiency",
                            f"{_act(p, a)} per {_act(p, b, singular=True)}", "ratio", False,
                            SampleKind.ratio, "ratio", f"count of {a} per {b} in the window", (a, b))
    yield MetricDef("talk_minutes", "talk_minutes", "Talk time", "minutes", True, SampleKind.count,
                    "activity", "sum of duration_minutes of phone activities in the window")
    for reason in dict.fromkeys([*p.loss_reasons, *extra_loss_reasons]):
        yield _loss_share(reason)
    for s in p.stage_ids:
        yield MetricDef(f"days_in_stage.{s}", "days_in_stage", f"Days in {_title(p, s).lower()}",
                        "days", False, SampleKind.amount, "velocity",
                        f"median days spent in {s} (velocity)", (s,), averaged=True)
    yield MetricDef("at_risk.count", "at_risk", "At-risk deals", "count", False, SampleKind.amount,
                    "pipeline", "open opportunities that are stalled or out of line with won deals")
    yield MetricDef("at_risk.stalled_share", "at_risk", "Stalled share of open deals", "share", False,
                    SampleKind.proportion, "pipeline",
                    "share of open opportunities longer in their stage than most won deals were")
    yield MetricDef("at_risk.effort_share", "at_risk", "Effort on at-risk deals", "share", False,
                    SampleKind.proportion, "pipeline",
                    "share of the activities logged on open opportunities spent on at-risk ones")


def _title(p: Pipeline, stage: str) -> str:
    return next(s.title for s in p.stages if s.id == stage)


def _act(p: Pipeline, a: str, singular: bool = False) -> str:
    """'Calls' as a title; the id in words ('meeting scheduled') after 'per'."""
    return a.replace("_", " ") if singular else next(t.title for t in p.activity_types if t.id == a)
