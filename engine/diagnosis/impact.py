"""What closing a gap is worth, through the funnel math (Activity x Proficiency = Sales).

Each role works one chain of counts. Prospecting: calls -> connects -> meetings
scheduled -> meetings held -> opportunities created (the prospecting funnel of the
pipeline). Closing: opportunities at each stage -> won deals -> revenue.

A behaviour gap adds to one node of its chain (more calls; more connects from the
same calls; more demos passed from the same demos), and the rest of the chain
carries that through at the rep's own yields (the role's company yields where the
rep has none: a rep with no meeting still turns meetings into opportunities like
their peers). All impacts are per month.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..catalog.specs import Pipeline
from ..metrics.table import MetricTable

REVENUE = "revenue"


@dataclass(frozen=True)
class Chains:
    """Counts per rep at every node of both chains, per month, and the fallback yields."""

    nodes: dict[str, list[str]]          # role kind -> node names, top to bottom
    counts: pd.DataFrame                 # rep x node, per month
    company: pd.DataFrame                # rep x node: the median of the rep's role peers
    deal_size: np.ndarray                # rep: average won amount (role median where none)
    talk: np.ndarray                     # rep: talk minutes in the month
    closed_months: int
    count: dict[str, np.ndarray] = field(default_factory=dict)   # node -> counts' column
    peers: dict[str, np.ndarray] = field(default_factory=dict)   # node -> company's column

    def node_of_metric(self, metric: str) -> str | None:
        """The chain node a metric counts, if it counts one."""
        if metric in self.counts.columns:
            return metric
        return {"revenue": "won", "win_rate": "won"}.get(metric)

    def yield_between(self, i: int, a: str, b: str) -> float:
        """How many of node b one more of node a gives rep i (1 when a is b)."""
        if a == b:
            return 1.0
        ca, cb = self.count[a][i], self.count[b][i]
        if ca > 0 and not np.isnan(cb):
            return float(cb / ca)
        pa, pb = self.peers[a][i], self.peers[b][i]
        return float(pb / pa) if pa > 0 else 0.0

    def downstream(self, kind: str, a: str, b: str) -> bool:
        chain = self.nodes[kind]
        return a in chain and b in chain and chain.index(a) <= chain.index(b)


def build_chains(table: MetricTable, pipeline: Pipeline) -> Chains:
    """Counts at every chain node, per month, for every rep."""
    v = table.value
    months_closed = pipeline.windows.closed_months
    months_act = pipeline.windows.activity_months
    prospecting = [f"activity.{t}" for t in pipeline.prospecting_funnel] + ["opportunities_created"]
    closing = [f"reached.{s}" for s in pipeline.stage_ids] + ["won"]
    counts = pd.DataFrame(index=v.index)
    for node in prospecting:
        per = months_act if node.startswith("activity.") else pipeline.windows.results_months
        counts[node] = v[node].to_numpy(dtype=float) / per
    for j, node in enumerate(closing):
        counts[node] = table.funnel[:, j] / months_closed
    role = table.reps["role"].to_numpy()
    company = counts.groupby(role).transform("median")
    size = v["avg_deal_size"].to_numpy(dtype=float)
    size_fallback = pd.Series(size).groupby(role).transform("median").to_numpy(dtype=float)
    size = np.where(np.isnan(size), size_fallback, size)
    return Chains(nodes={"prospecting": prospecting, "closing": closing}, counts=counts,
                  company=company, deal_size=np.nan_to_num(size), talk=v["talk_minutes"].to_numpy(dtype=float)
                  / months_act, closed_months=months_closed,
                  count={c: counts[c].to_numpy(dtype=float) for c in counts.columns},
                  peers={c: company[c].to_numpy(dtype=float) for c in company.columns})


def _gain(chains: Chains, i: int, metric: str, value: float, bench: float, kind: str,
          table: MetricTable) -> tuple[str | None, float]:
    """(the node that grows, by how much per month) if rep i closed the gap on `metric`."""
    c = chains.count
    if metric.startswith("activity."):
        return metric, (bench - value) / table_months(table, "activity")
    if metric.startswith("efficiency."):
        _, a, b = metric.split(".")
        na, nb = f"activity.{a}", f"activity.{b}"
        # a per b, worse when higher: at the benchmark, the same a would give a / bench of b
        if bench <= 0:
            return nb, 0.0
        return nb, c[na][i] / bench - c[nb][i]
    if metric.startswith("stage_conversion."):
        stage = metric.split(".", 1)[1]
        stages = [n.split(".", 1)[1] for n in chains.nodes["closing"][:-1]]
        j = stages.index(stage)
        nxt = chains.nodes["closing"][j + 1]
        return nxt, c[f"reached.{stage}"][i] * (bench - value)
    if metric == "talk_minutes":
        final = chains.nodes[kind][-1]
        per_min = (c[final][i] / chains.talk[i]) if chains.talk[i] > 0 else 0.0
        return final, (bench - value) / table_months(table, "activity") * per_min
    if metric.startswith("at_risk."):
        n_open = table.column("n", metric)[i]
        rate = table.column("value", "win_rate")[i]
        rate = 0.0 if np.isnan(rate) else rate
        return "won", max(value - bench, 0.0) * n_open * rate / chains.closed_months
    return None, 0.0


def table_months(table: MetricTable, window: str) -> int:
    w = table.registry.pipeline.windows
    return {"activity": w.activity_months, "results": w.results_months}.get(window, 1)


def behaviour_impact(chains: Chains, table: MetricTable, i: int, metric: str, value: float,
                     bench: float, performance_metric: str, kind: str) -> float:
    """What closing a behaviour gap is worth in the unit of the performance metric, per month."""
    node, gain = _gain(chains, i, metric, value, bench, kind, table)
    if node is None or not np.isfinite(gain) or gain <= 0:
        return 0.0
    target = chains.node_of_metric(performance_metric)
    if target is None:
        if performance_metric in ("pipeline_coverage", "pipeline_value"):
            target = "won"   # the pipeline a healthier funnel would hold, valued as deals
        else:
            return 0.0
    if not chains.downstream(kind, node, target):
        return 0.0
    amount = gain * chains.yield_between(i, node, target)
    if performance_metric in (REVENUE, "pipeline_coverage", "pipeline_value"):
        amount *= chains.deal_size[i]
    return float(amount)


def ranking_impact(chains: Chains, table: MetricTable, i: int, metric: str, value: float,
                   bench: float, kind: str) -> float:
    """The impact at the end of the rep's chain: comparable across all their behaviour gaps."""
    final = chains.nodes[kind][-1]
    return behaviour_impact(chains, table, i, metric, value, bench, final, kind)


def performance_impact(table: MetricTable, i: int, metric: str, value: float, bench: float) -> float:
    """What closing a performance gap is worth in its own unit, per month."""
    d = table.registry.get(metric)
    if d.test.value == "proportion":
        closed = table.column("n", metric)[i]
        months = table.registry.pipeline.windows.closed_months
        return float(max(bench - value, 0.0) * closed / months) if d.higher_is_better \
            else float(max(value - bench, 0.0) * closed / months)
    if metric == "pipeline_coverage":
        target = table.column("goals", "revenue")[i]
        return float(max(bench - value, 0.0) * target) if np.isfinite(target) else 0.0
    gap = bench - value if d.higher_is_better else value - bench
    return float(max(gap, 0.0))
