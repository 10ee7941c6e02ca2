"""The diagnosis: for each rep, the findings down the pyramid and the one focus.

metrics + benchmarks -> comparisons (engine.gaps) -> facts -> rules (engine.rules,
through engine.rules_adapter) -> findings -> impact (engine.impact) -> focus.

The rules decide what is a finding, which behaviour explains which result, what
masks what, and which root causes the evidence points to. This module turns what
they concluded into ranked, explained results.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import rules_adapter
from .catalog.model import Catalog
from .catalog.specs import BenchmarkKind
from .gaps import compare_gaps
from .impact import Chains, behaviour_impact, build_chains, performance_impact, ranking_impact
from .metrics.table import MetricTable
from .rules import Compiled, compile_catalog

BENCHMARK_LABEL = {
    "team_median": "team median", "team_top_quartile": "team top quartile",
    "division_median": "division median", "company_median": "company median",
    "company_top_quartile": "company top quartile", "industry": "industry", "plan": "plan",
}


@dataclass(frozen=True)
class Finding:
    level: str                     # performance, behaviour, skill, knowledge
    id: str
    metric: str | None
    value: float | None
    benchmark_kind: str | None
    benchmark: float | None
    p_value: float | None
    q_value: float | None
    rel_gap: float | None
    n: float | None
    impact: float                  # in the unit of the performance metric it bears on, per month
    impact_unit: str
    explains: tuple[str, ...] = ()
    masked_by: tuple[str, ...] = ()
    score: float | None = None     # root causes: prior + evidence points
    evidence: tuple[str, ...] = ()
    rank_impact: float = 0.0       # behaviour: impact at the end of the rep's chain
    bound: bool = False            # the value is a lower bound (a ratio with a zero denominator)


@dataclass(frozen=True)
class Focus:
    metric: str
    performance_gap: str
    behaviour_gap: str
    skill_gap: str | None
    learning_assets: tuple[str, ...]
    assignments: tuple[str, ...]
    why: str
    impact: float
    impact_unit: str


@dataclass(frozen=True)
class RepDiagnosis:
    rep: int
    rep_id: str
    name: str
    role: str
    team: str
    focus: Focus | None
    findings: tuple[Finding, ...]
    candidates: dict = field(default_factory=dict)   # behaviour gap -> {skill: score}
    evidence: dict = field(default_factory=dict)     # behaviour gap -> [(evidence id, sentence)]


@dataclass(frozen=True)
class Diagnosis:
    period: str
    reps: tuple[RepDiagnosis, ...]
    comparisons: pd.DataFrame     # every (rep, gap) comparison: for charts and audits

    def for_rep(self, rep_id: str) -> RepDiagnosis | None:
        return next((r for r in self.reps if r.rep_id == rep_id), None)


# --------------------------------------------------------------------------- actions

def _on_performance(record, m):
    record.events.append(("performance", {"gap": m["c"]["gap"]}))
    return []


def _on_shortfall(record, m):
    record.events.append(("shortfall", {"gap": m["c"]["gap"]}))
    return [{"t": "finding", "level": "shortfall", "gap": m["c"]["gap"]}]


def _on_behaviour(record, m):
    c, p = m["c"], m["p"]
    record.events.append(("behaviour", {"gap": c["gap"], "explains": p["gap"]}))
    return [{"t": "finding", "level": "behaviour", "gap": c["gap"], "explains": p["gap"]}]


def _on_masked(record, m):
    record.events.append(("masked", {"gap": m["a"]["gap"], "by": m["b"]["gap"]}))
    return []


def _on_candidates(record, m):
    record.events.append(("candidates", {"gap": m["f"]["gap"]}))
    return []


def _evidence_action(evidence_id: str):
    def act(record, m):
        record.events.append(("evidence", {"gap": m["f"]["gap"], "evidence": evidence_id}))
        return []
    return act


ACTIONS = {"performance": _on_performance, "shortfall": _on_shortfall, "behaviour": _on_behaviour,
           "masked": _on_masked,
           "candidates": _on_candidates}


# --------------------------------------------------------------------------- facts

def rep_facts(table: MetricTable, benchmarks, compiled: Compiled, comparisons: pd.DataFrame
              ) -> list[list[dict]]:
    """The facts of every rep: their comparisons and the metric values the evidence reads."""
    R = len(table.reps)
    facts: list[list[dict]] = [[] for _ in range(R)]
    ok = comparisons["tested"].to_numpy(dtype=bool)
    cols = comparisons.loc[ok, ["rep", "gap", "q", "rel_gap", "value", "benchmark", "n", "metric"]]
    sample = np.where(cols["metric"].map(lambda m: table.registry.get(m).test.value == "count"),
                      cols["benchmark"], cols["n"])
    for (rep, gap, q, rel, value, bench, _n, _m), s in zip(cols.itertuples(index=False), sample):
        facts[int(rep)].append({"t": "cmp", "gap": gap, "q": float(q), "rel": float(rel),
                                "sample": float(s), "value": float(value), "bench": float(bench)})
    metric_cols = {p: table.value[m].to_numpy(dtype=float) for p, m in compiled.metric_properties.items()}
    diff_cols = {}
    for p, (m, kind) in compiled.difference_properties.items():
        diff_cols[p] = table.value[m].to_numpy(dtype=float) - benchmarks[kind][m].to_numpy(dtype=float)
    for i in range(R):
        fact = {"t": "metrics"}
        for p, col in metric_cols.items():
            if np.isfinite(col[i]):
                fact[p] = float(col[i])
        for p, col in diff_cols.items():
            if np.isfinite(col[i]):
                fact[p] = float(col[i])
        facts[i].append(fact)
    return facts


# --------------------------------------------------------------------------- diagnose

def diagnose(table: MetricTable, benchmarks: dict, catalog: Catalog,
             compiled: Compiled | None = None) -> Diagnosis:
    """Findings and focus for every rep of the table."""
    compiled = compiled or compile_catalog(catalog)
    comparisons = compare_gaps(table, benchmarks, catalog)
    facts = rep_facts(table, benchmarks, compiled, comparisons)
    actions = dict(ACTIONS)
    for b_id, flow in catalog.flows.items():
        for ev in flow.evidence:
            actions[f"evidence:{b_id}:{ev.id}"] = _evidence_action(ev.id)
    definition = {name: dict(rule, run=_action_name(name, rule)) for name, rule in compiled.definition.items()}
    records = rules_adapter.evaluate(compiled.name, definition, actions,
                                     ((str(i), f) for i, f in enumerate(facts)))
    chains = build_chains(table, catalog.pipeline)
    by_rep_gap = comparisons.set_index(["rep", "gap"])
    reps = tuple(_rep_result(table, benchmarks, catalog, chains, by_rep_gap, i, records[str(i)])
                 for i in range(len(table.reps)))
    return Diagnosis(period=table.period.label, reps=reps, comparisons=comparisons)


def _action_name(rule_name: str, rule: dict) -> str:
    if rule["run"] == "evidence":
        _, b, e = rule_name.split("__", 2)
        return f"evidence:{b}:{e}"
    return rule["run"]


def _rep_result(table, benchmarks, catalog: Catalog, chains: Chains, cmp, i: int, record
                ) -> RepDiagnosis:
    rep = table.reps.iloc[i]
    kind = catalog.pipeline.role(rep["role"]).kind.value
    perf_ids: list[str] = []
    explains: dict[str, list[str]] = {}
    masked: dict[str, list[str]] = {}
    flows: list[str] = []
    evidence_hits: dict[str, list[str]] = {}
    for name, ev in record.events:
        if name == "performance":
            perf_ids.append(ev["gap"])
        elif name == "behaviour":
            explains.setdefault(ev["gap"], []).append(ev["explains"])
        elif name == "masked":
            masked.setdefault(ev["gap"], []).append(ev["by"])
        elif name == "candidates":
            flows.append(ev["gap"])
        elif name == "evidence":
            evidence_hits.setdefault(ev["gap"], []).append(ev["evidence"])
    findings: list[Finding] = []
    perf_findings = {}
    for gid in dict.fromkeys(perf_ids):
        row = cmp.loc[(i, gid)]
        gap = catalog.performance_gaps[gid]
        impact = performance_impact(table, i, gap.metric, row["value"], row["benchmark"])
        f = _finding("performance", gid, row, impact, _unit(gap.metric))
        perf_findings[gid] = f
        findings.append(f)
    candidates: dict[str, dict[str, float]] = {}
    evidence_text: dict[str, list[tuple[str, str]]] = {}
    behaviour: list[Finding] = []
    for bid, perf in explains.items():
        perf = list(dict.fromkeys(perf))
        row = cmp.loc[(i, bid)]
        gap = catalog.behaviour_gaps[bid]
        impacts = {p: behaviour_impact(chains, table, i, gap.metric, row["value"], row["benchmark"],
                                       catalog.performance_gaps[p].metric, kind) for p in perf}
        main = max(perf, key=lambda p: impacts[p])
        rank = ranking_impact(chains, table, i, gap.metric, row["value"], row["benchmark"], kind)
        flow = catalog.flows.get(bid)
        scores = dict(flow.candidates) if flow and bid in flows else {}
        sentences = []
        if flow:
            for ev in flow.evidence:
                if ev.id in evidence_hits.get(bid, []):
                    for sid, pts in ev.points_to.items():
                        scores[sid] = scores.get(sid, 0.0) + pts
                    sentences.append((ev.id, _says(ev, table, benchmarks, i)))
        candidates[bid] = scores
        evidence_text[bid] = sentences
        f = _finding("behaviour", bid, row, impacts[main], _unit(catalog.performance_gaps[main].metric),
                     explains=tuple(perf), masked_by=tuple(dict.fromkeys(masked.get(bid, []))),
                     evidence=tuple(s for _, s in sentences), rank_impact=rank)
        behaviour.append(f)
    behaviour.sort(key=lambda f: -f.rank_impact)
    findings += behaviour
    eligible = [f for f in behaviour if not f.masked_by]
    focus = None
    if eligible:
        top = eligible[0]
        scores = candidates.get(top.id, {})
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], list(scores).index(kv[0])))
        for sid, score in ranked:
            skill = catalog.skills[sid]
            findings.append(Finding(level=skill.kind.value, id=sid, metric=None, value=None,
                                    benchmark_kind=None, benchmark=None, p_value=None, q_value=None,
                                    rel_gap=None, n=None, impact=top.impact, impact_unit=top.impact_unit,
                                    explains=(top.id,), score=round(score, 3), evidence=top.evidence))
        skill_id = ranked[0][0] if ranked else None
        perf_id = top.explains[0]
        for p in top.explains:
            if perf_findings.get(p) and _unit(catalog.performance_gaps[p].metric) == top.impact_unit:
                perf_id = p
                break
        focus = Focus(metric=top.metric, performance_gap=perf_id, behaviour_gap=top.id, skill_gap=skill_id,
                      learning_assets=tuple(a.id for a in catalog.assets_for(skill_id)) if skill_id else (),
                      assignments=tuple(a.id for a in catalog.assignments_for(skill_id)) if skill_id else (),
                      why=_why(table, catalog, top), impact=top.impact, impact_unit=top.impact_unit)
    return RepDiagnosis(rep=i, rep_id=rep["rep_id"], name=rep["name"], role=rep["role"], team=rep["team"],
                        focus=focus, findings=tuple(findings), candidates=candidates,
                        evidence=evidence_text)


def _finding(level, gid, row, impact, unit, **kw) -> Finding:
    return Finding(level=level, id=gid, metric=row["metric"], value=_f(row["value"]),
                   benchmark_kind=row["benchmark_kind"], benchmark=_f(row["benchmark"]),
                   p_value=_f(row["p"]), q_value=_f(row["q"]), rel_gap=_f(row["rel_gap"]), n=_f(row["n"]),
                   impact=round(float(impact), 4), impact_unit=unit, bound=bool(row["bound"]), **kw)


def _f(x) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def _unit(metric: str) -> str:
    if metric in ("revenue", "pipeline_value", "pipeline_coverage"):
        return "revenue"
    if metric == "win_rate":
        return "won_deals"
    if metric == "opportunities_created":
        return "opportunities"
    if metric.startswith("activity.meeting"):
        return "meetings"
    if metric.startswith("activity."):
        return metric.split(".", 1)[1] + "s"
    return "units"


UNIT_WORDS = {"revenue": "", "won_deals": "won deals", "opportunities": "opportunities",
              "meetings": "meetings"}


def format_impact(value: float, unit: str, currency: str = "USD") -> str:
    if unit == "revenue":
        return f"${value:,.0f}" if currency == "USD" else f"{currency} {value:,.0f}"
    word = UNIT_WORDS.get(unit, unit.replace("_", " "))
    return f"{value:,.1f} more {word}" if value < 10 else f"{value:,.0f} more {word}"


def _why(table: MetricTable, catalog: Catalog, f: Finding) -> str:
    d = table.registry.get(f.metric)
    cur = catalog.pipeline.currency
    label = BENCHMARK_LABEL.get(f.benchmark_kind or "", f.benchmark_kind or "benchmark")
    value = ("≥" if f.bound else "") + d.format(f.value, cur)
    p = f"p={f.p_value:.3f}" if f.p_value is not None and f.p_value >= 0.001 else "p<0.001"
    worth = format_impact(f.impact, f.impact_unit, cur)
    return (f"{d.title} {value} vs {label} {d.format(f.benchmark, cur)} ({p}); closing it to the "
            f"{label} is worth ~{worth}{' a month' if f.impact_unit else ''}.")


def _says(ev, table: MetricTable, benchmarks, i: int) -> str:
    """An evidence sentence with {value} and {benchmark} filled in."""
    from .catalog.loader import comparisons
    metric, bench = None, None
    for _, cmp in comparisons(ev.when, ()):
        metric = cmp.metric
        for _, b in cmp.bounds():
            if isinstance(b, BenchmarkKind):
                bench = benchmarks[b][metric].iat[i]
            else:
                bench = b
        break
    value = table.value[metric].iat[i] if metric else None
    try:
        return ev.says.format(value=_num(value), benchmark=_num(bench))
    except (ValueError, KeyError, IndexError, TypeError):
        return ev.says


def _num(x):
    return float("nan") if x is None else float(x)

