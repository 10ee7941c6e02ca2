"""The success plan (Activity x Proficiency = Sales), worked backward for every rep.

From the month's target (a revenue goal for closers, an opportunities goal for
prospectors) and the ratios that turn one step into the next, the plan says how
many won deals, proposals, opportunities, meetings, connects and calls the month
needs, and how far the rep's run rate is from each. Each ratio comes from the
rep's own plan (goals.csv) where set, else from the rep's trailing figures, else
from the median of their role peers in the team. Vectorised over all reps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..catalog.specs import BenchmarkKind, Pipeline
from .table import MetricTable

SOURCES = ("plan", "rep", "team")


@dataclass(frozen=True)
class PlanStep:
    id: str            # won_deals, proposals, opportunities, meetings_held, meetings_scheduled, connects, calls
    title: str
    metric: str        # the metric that counts the month's actual
    ratio: str         # how the step before turns into this one, in words


@dataclass(frozen=True)
class SuccessPlans:
    steps: dict[str, list[PlanStep]]        # role kind -> steps, top (the target) down
    needed: pd.DataFrame                    # rep x step: what the month needs
    actual: pd.DataFrame                    # rep x step: done so far this month
    run_rate: pd.DataFrame                  # rep x step: the month's projection at this pace
    ratio: pd.DataFrame                     # rep x step: the ratio used to get to the step
    source: pd.DataFrame                    # rep x step: plan, rep or team

    _columns: dict = field(default_factory=dict, repr=False, compare=False)

    def _column(self, part: str, step: str) -> np.ndarray:
        key = (part, step)
        found = self._columns.get(key)
        if found is None:
            found = self._columns[key] = getattr(self, part)[step].to_numpy()
        return found

    def for_rep(self, i: int, kind: str) -> list[dict]:
        """The plan of rep i as rows a person reads (each frame's column read once, then indexed)."""
        rows = []
        for st in self.steps[kind]:
            needed, run = self._column("needed", st.id)[i], self._column("run_rate", st.id)[i]
            rows.append({"step": st.id, "title": st.title, "metric": st.metric, "ratio": st.ratio,
                         "ratio_value": _num(self._column("ratio", st.id)[i]),
                         "source": self._column("source", st.id)[i],
                         "needed": _num(needed), "actual": _num(self._column("actual", st.id)[i]),
                         "run_rate": _num(run),
                         "gap": _num(needed - run) if np.isfinite(needed) and np.isfinite(run) else None})
        return rows


def _num(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 2)


def _pick(table: MetricTable, team: pd.DataFrame, metric: str, plan: pd.DataFrame | None = None,
          invert: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A ratio per rep from the plan, else the rep, else the team; and where it came from."""
    R = len(table.reps)
    value = np.full(R, np.nan)
    source = np.full(R, None, dtype=object)
    layers = []
    if plan is not None and metric in plan.columns:
        layers.append(("plan", plan[metric].to_numpy(dtype=float)))
    layers.append(("rep", table.value[metric].to_numpy(dtype=float)))
    layers.append(("team", team[metric].to_numpy(dtype=float)))
    for name, v in layers:
        ok = np.isnan(value) & np.isfinite(v) & (v > 0)
        value[ok] = v[ok]
        source[ok] = name
    if invert:
        with np.errstate(divide="ignore"):
            value = 1.0 / value
    return value, source


def success_plans(table: MetricTable, benchmarks: dict, pipeline: Pipeline) -> SuccessPlans:
    """Every rep's success plan for the table's period."""
    team = benchmarks[BenchmarkKind.team_median]
    plan = table.goals
    stages = pipeline.stage_ids
    share = table.period.elapsed_share
    R = len(table.reps)
    cols: dict[str, dict[str, np.ndarray]] = {k: {} for k in ("needed", "actual", "ratio", "source")}

    def put(step: str, needed, actual, ratio, source):
        cols["needed"][step], cols["actual"][step] = needed, actual
        cols["ratio"][step], cols["source"][step] = ratio, source

    def goal(metric: str) -> np.ndarray:
        return plan[metric].to_numpy(dtype=float) if metric in plan.columns else np.full(R, np.nan)

    v = table.value
    # closing: revenue -> won deals -> proposals -> opportunities
    revenue = goal("revenue")
    size, size_src = _pick(table, team, "avg_deal_size", plan)
    won = revenue / size
    put("revenue", revenue, v["revenue"].to_numpy(dtype=float), np.full(R, np.nan), np.full(R, None))
    put("won_deals", won, v[f"stage_entries.{pipeline.won_stage}"].to_numpy(dtype=float), size, size_src)
    close, close_src = _pick(table, team, f"stage_conversion.{stages[-1]}", plan)
    proposals = won / close
    put("proposals", proposals, v[f"stage_entries.{stages[-1]}"].to_numpy(dtype=float), close, close_src)
    reach = np.ones(R)
    worst = np.zeros(R, dtype=int)          # the least personal source among the stages used
    for s in stages[:-1]:
        conv, src = _pick(table, team, f"stage_conversion.{s}", plan)
        reach = reach * conv
        worst = np.maximum(worst, np.array([SOURCES.index(x) if x else 2 for x in src]))
    put("opportunities", proposals / reach, v["opportunities_created"].to_numpy(dtype=float), reach,
        np.array(SOURCES, dtype=object)[worst])
    # prospecting: opportunities -> meetings held -> meetings scheduled -> connects -> calls
    chain = pipeline.prospecting_funnel
    opps_goal = goal("opportunities_created")
    put("opportunities_sourced", opps_goal, v["opportunities_created"].to_numpy(dtype=float),
        np.full(R, np.nan), np.full(R, None))
    need = opps_goal
    last = chain[-1]
    held = v[f"activity.{last}"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_meeting = np.where(held > 0, v["opportunities_created"].to_numpy(dtype=float) / held, np.nan)
    team_per_meeting = pd.Series(per_meeting).groupby(table.reps["team"].to_numpy()).transform("median").to_numpy()
    rate = np.where(np.isfinite(per_meeting) & (per_meeting > 0), per_meeting, team_per_meeting)
    src = np.where(np.isfinite(per_meeting) & (per_meeting > 0), "rep", "team").astype(object)
    need = need / rate
    put(last, need, held, rate, src)
    for upper, lower in zip(reversed(chain[:-1]), reversed(chain[1:])):
        ratio, rsrc = _pick(table, team, f"efficiency.{upper}.{lower}", plan)
        need = need * ratio
        put(upper, need, v[f"activity.{upper}"].to_numpy(dtype=float), ratio, rsrc)
    frames = {k: pd.DataFrame(c, index=table.value.index) for k, c in cols.items()}
    run_rate = frames["actual"] / share
    ratios = {"won_deals": "average deal size", "proposals": "proposals that close",
              "opportunities": "opportunities that reach a proposal",
              last: "opportunities per meeting held"}
    act = {a.id: a.title for a in pipeline.activity_types}
    closing = [PlanStep("revenue", "Revenue", "revenue", ""),
               PlanStep("won_deals", "Won deals", f"stage_entries.{pipeline.won_stage}", ratios["won_deals"]),
               PlanStep("proposals", "Proposals", f"stage_entries.{stages[-1]}", ratios["proposals"]),
               PlanStep("opportunities", "Opportunities", "opportunities_created", ratios["opportunities"])]
    prospecting = [PlanStep("opportunities_sourced", "Opportunities sourced", "opportunities_created", "")]
    prospecting.append(PlanStep(last, act[last], f"activity.{last}", ratios[last]))
    for upper, lower in zip(reversed(chain[:-1]), reversed(chain[1:])):
        prospecting.append(PlanStep(upper, act[upper], f"activity.{upper}",
                                    f"{act[upper].lower()} per {lower.replace('_', ' ')}"))
    return SuccessPlans(steps={"closing": closing, "prospecting": prospecting}, needed=frames["needed"],
                        actual=frames["actual"], run_rate=run_rate, ratio=frames["ratio"],
                        source=frames["source"])
