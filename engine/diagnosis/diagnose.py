"""The diagnosis: for each rep, the findings down the pyramid and the one focus.

metrics + benchmarks -> comparisons (engine.statistics.gaps) -> facts -> rules (engine.rules.compile,
through engine.rules.adapter) -> what the rules concluded -> impact (engine.diagnosis.impact)
-> findings, ranked, and the focus.

The rules decide what is a finding, which behaviour explains which result, what
masks what, and which evidence holds. `interpret` turns a rep's conclusions into
ranked, explained results; the catalog tests (engine.catalog.testing) use the same
path with hand-written comparisons.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ..rules import adapter as rules_adapter
from ..catalog.crosscheck import comparisons as condition_comparisons
from ..catalog.model import Catalog
from ..catalog.specs import BenchmarkKind, Evidence
from ..statistics.gaps import compare_gaps
from ..yamlspec.template import SAYS
from .impact import behaviour_impact, build_chains, performance_impact, ranking_impact
from ..metrics.table import MetricTable
from ..rules.compile import Compiled, cmp_fact, compile_catalog, limits

BENCHMARK_LABEL = {k.value: k.value.replace("_", " ") for k in BenchmarkKind}


@dataclass(frozen=True)
class Finding:
    level: str                     # performance, behaviour, skill, knowledge
    id: str
    metric: str | None = None
    value: float | None = None
    benchmark_kind: str | None = None
    benchmark: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    rel_gap: float | None = None
    n: float | None = None
    impact: float = 0.0            # in the unit of the performance metric it bears on, per month
    impact_unit: str = ""
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
class Opening:
    """A result significantly short that nothing in the data explains: the conversation opens on it."""

    performance_gap: str
    metric: str
    why: str
    impact: float
    impact_unit: str


@dataclass(frozen=True)
class RepDiagnosis:
    rep_id: str
    name: str
    role: str
    team: str
    focus: Focus | None
    findings: tuple[Finding, ...]
    candidates: dict = field(default_factory=dict)   # behaviour gap -> {skill: prior + evidence}
    evidence: dict = field(default_factory=dict)     # behaviour gap -> [[evidence id, sentence]]
    opening: Opening | None = None                   # without a focus: the result to ask about
    left: bool = False                               # not there at the period's end: not diagnosed

    def to_dict(self) -> dict:
        return _as_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RepDiagnosis":
        focus = Focus(**{**d["focus"], "learning_assets": tuple(d["focus"]["learning_assets"]),
                         "assignments": tuple(d["focus"]["assignments"])}) if d.get("focus") else None
        findings = tuple(Finding(**{**f, "explains": tuple(f["explains"]), "masked_by": tuple(f["masked_by"]),
                                    "evidence": tuple(f["evidence"])}) for f in d["findings"])
        opening = Opening(**d["opening"]) if d.get("opening") else None
        return cls(rep_id=d["rep_id"], name=d["name"], role=d["role"], team=d["team"], focus=focus,
                   findings=findings, candidates=d.get("candidates", {}), evidence=d.get("evidence", {}),
                   opening=opening, left=bool(d.get("left", False)))

    def finding(self, level: str, gap_id: str) -> Finding | None:
        return next((f for f in self.findings if f.level == level and f.id == gap_id), None)


@dataclass(frozen=True)
class Diagnosis:
    period: str
    reps: tuple[RepDiagnosis, ...]
    comparisons: pd.DataFrame     # every (rep, gap) comparison: for charts and audits

    def for_rep(self, rep_id: str) -> RepDiagnosis | None:
        return next((r for r in self.reps if r.rep_id == rep_id), None)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _as_dict(obj):
    """dataclasses.asdict for these frozen documents (dataclasses, tuples, lists, dicts of plain
    values), without its deep copies of immutable values: the same dict, several times faster."""
    kind = type(obj)
    names = _FIELDS.get(kind)
    if names is None and is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS[kind] = tuple(f.name for f in fields(obj))
    if names is not None:
        return {n: _as_dict(getattr(obj, n)) for n in names}
    if kind is tuple or kind is list:
        return kind(_as_dict(v) for v in obj)
    if kind is dict:
        return {k: _as_dict(v) for k, v in obj.items()}
    if kind in (str, int, float, bool) or obj is None:
        return obj
    return asdict(obj) if is_dataclass(obj) else copy.deepcopy(obj)


# --------------------------------------------------------------------------- rule outcomes

@dataclass
class RuleOutcome:
    """What the rules concluded for one rep."""

    performance: list[str] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)
    behaviour: dict[str, list[str]] = field(default_factory=dict)   # behaviour gap -> results it explains
    masked: dict[str, list[str]] = field(default_factory=dict)
    flows: list[str] = field(default_factory=list)                  # flows whose candidates apply
    evidence: dict[str, list[str]] = field(default_factory=dict)    # behaviour gap -> evidence ids


def _on_performance(out: RuleOutcome, m):
    out.performance.append(m["c"]["gap"])
    return []


def _on_shortfall(out: RuleOutcome, m):
    out.shortfalls.append(m["c"]["gap"])
    return [{"t": "finding", "level": "shortfall", "gap": m["c"]["gap"]}]


def _on_behaviour(out: RuleOutcome, m):
    b, p = m["c"]["gap"], m["p"]["gap"]
    out.behaviour.setdefault(b, []).append(p)
    return [{"t": "finding", "level": "behaviour", "gap": b, "explains": p}]


def _on_masked(out: RuleOutcome, m):
    out.masked.setdefault(m["a"]["gap"], []).append(m["b"]["gap"])
    return []


def _on_candidates(out: RuleOutcome, m):
    out.flows.append(m["f"]["gap"])
    return []


def _evidence_action(gap_id: str, evidence_id: str):
    def act(out: RuleOutcome, m):
        out.evidence.setdefault(gap_id, []).append(evidence_id)
        return []
    return act


def run_rules(catalog: Catalog, compiled: Compiled, batches: Iterable[tuple[str, list[dict]]]
              ) -> dict[str, RuleOutcome]:
    """Evaluate each rep's facts; what the rules concluded, by key.

    A rep's comparisons, and each of its metrics facts (one per flow), are evaluated apart:
    no rule joins a metrics fact with another fact (engine.rules.compile), so the findings
    never depend on them, nor the evidence of one flow on anything else. Apart, each part
    falls in one of few patterns (the comparisons' margins cross the thresholds or not; each
    piece of a flow's evidence holds or not), and the rules adapter evaluates a pattern once
    (`memo`: these actions read only the gap ids of the facts they match); a rep whose part
    repeats an earlier rep's is given its conclusions.
    """
    parts: dict[str, RuleOutcome] = {}

    def bind(fn):
        def action(record, m):
            return fn(parts.setdefault(record.key, RuleOutcome()), m)
        return action

    actions = {name: bind(fn) for name, fn in (
        ("performance", _on_performance), ("shortfall", _on_shortfall), ("behaviour", _on_behaviour),
        ("masked", _on_masked), ("candidates", _on_candidates))}
    definition = {}
    for name, rule in compiled.definition.items():
        run = rule["run"]
        if run == "evidence":
            _, gap_id, ev_id = name.split("__", 2)
            run = f"evidence:{gap_id}:{ev_id}"
            actions[run] = bind(_evidence_action(gap_id, ev_id))
        definition[name] = dict(rule, run=run)
    keys = []

    evidence_keys: dict[str, list[str]] = {}

    def split():
        for key, facts in batches:
            keys.append(key)
            yield f"{key}\x1f", [f for f in facts if f.get("t") != "metrics"]
            for n, fact in enumerate(f for f in facts if f.get("t") == "metrics"):
                part_key = f"{key}\x1f{n}"
                evidence_keys.setdefault(key, []).append(part_key)
                yield part_key, [fact]
    records = rules_adapter.evaluate(compiled.name, definition, actions, split(), memo=True)

    def part(key: str) -> RuleOutcome:
        record = records[key]
        return parts.get(record.same_as if record.same_as is not None else key) or RuleOutcome()
    out = {}
    for k in keys:
        found = part(f"{k}\x1f")
        evidence: dict[str, list[str]] = {}
        for part_key in evidence_keys.get(k, []):
            for b, ids in part(part_key).evidence.items():
                evidence.setdefault(b, []).extend(ids)
        out[k] = RuleOutcome(performance=list(found.performance), shortfalls=list(found.shortfalls),
                             behaviour={b: list(p) for b, p in found.behaviour.items()},
                             masked={b: list(m) for b, m in found.masked.items()}, flows=list(found.flows),
                             evidence=evidence)
    return out


# --------------------------------------------------------------------------- interpretation

Row = dict   # one comparison: metric, value, benchmark, benchmark_kind, p, q, rel_gap, n, bound


def interpret(catalog: Catalog, outcome: RuleOutcome, rows: dict[str, Row],
              impact_of: Callable[[str, str], float], rank_of: Callable[[str], float],
              says_of: Callable[[str, Evidence], str], performance_impact_of: Callable[[str], float],
              role: str | None = None) -> tuple[list[Finding], Focus | None, dict, dict, Opening | None]:
    """Findings, focus, candidate scores, evidence sentences and, without a focus, the
    opening (the result short that nothing explains) from what the rules concluded.

    `impact_of(behaviour, performance)` is what closing the behaviour gap is worth in the
    unit of the performance metric; `rank_of(behaviour)` makes a rep's behaviour gaps
    comparable; `says_of(gap, evidence)` fills an evidence sentence.
    """
    findings: list[Finding] = []
    for gid in dict.fromkeys(outcome.performance):
        gap = catalog.performance_gaps[gid]
        findings.append(_finding("performance", gid, rows[gid], performance_impact_of(gid), _unit(gap.metric)))
    evidence_text: dict[str, list[list[str]]] = {}
    for b_id, flow in catalog.flows.items():
        hits = outcome.evidence.get(b_id, [])
        sentences = [[ev.id, says_of(b_id, ev)] for ev in flow.evidence if ev.id in hits]
        if sentences:
            evidence_text[b_id] = sentences
    candidates: dict[str, dict[str, float]] = {}
    behaviour: list[Finding] = []
    for b_id, explained in outcome.behaviour.items():
        explained = list(dict.fromkeys(explained))
        impacts = {p: impact_of(b_id, p) for p in explained}
        explained.sort(key=lambda p: -impacts[p])      # the result it bears on most first (stable)
        main = explained[0]
        scores = candidate_scores(catalog, b_id, outcome.evidence.get(b_id, [])) if b_id in outcome.flows else {}
        candidates[b_id] = scores
        behaviour.append(_finding(
            "behaviour", b_id, rows[b_id], impacts[main], _unit(catalog.performance_gaps[main].metric),
            explains=tuple(explained), masked_by=tuple(dict.fromkeys(outcome.masked.get(b_id, []))),
            evidence=tuple(s for _, s in evidence_text.get(b_id, [])), rank_impact=rank_of(b_id)))
    behaviour.sort(key=lambda f: (-f.rank_impact, -(f.rel_gap or 0)))
    findings += behaviour
    eligible = [f for f in behaviour if not f.masked_by]
    focus = None
    if eligible:
        top = eligible[0]
        ranked = rank_candidates(candidates.get(top.id, {}))
        for sid, score in ranked:
            findings.append(Finding(level=catalog.skills[sid].kind.value, id=sid, impact=top.impact,
                                    impact_unit=top.impact_unit, explains=(top.id,), score=round(score, 3),
                                    evidence=top.evidence))
        skill_id = ranked[0][0] if ranked else None
        main = top.explains[0]
        focus = Focus(metric=top.metric, performance_gap=main, behaviour_gap=top.id, skill_gap=skill_id,
                      learning_assets=tuple(a.id for a in catalog.assets_for(skill_id, role)) if skill_id else (),
                      assignments=tuple(a.id for a in catalog.assignments_for(skill_id, role)) if skill_id else (),
                      why=why(catalog, top, rows.get(main)), impact=top.impact, impact_unit=top.impact_unit)
    return (findings, focus, candidates, evidence_text,
            None if focus else opening(catalog, findings, rows, performance_impact_of))


def opening(catalog: Catalog, findings: list[Finding], rows: dict[str, Row],
            performance_impact_of: Callable[[str], float]) -> Opening | None:
    """The result most worth asking about when no behaviour explains it: never a silent
    "nothing to coach" beside a result significantly short, or far short (`opening_gap`)
    in a month too small to call it significant."""
    results = [f for f in findings if f.level == "performance"]
    if not results:
        far = catalog.thresholds.opening_gap
        for gid, row in rows.items():
            if gid in catalog.performance_gaps and _f(row["rel_gap"]) is not None and row["rel_gap"] >= far \
                    and _f(row["value"]) is not None and _f(row["benchmark"]) is not None:
                results.append(_finding("performance", gid, row, performance_impact_of(gid),
                                        _unit(catalog.performance_gaps[gid].metric)))
    if not results:
        return None
    f = max(results, key=lambda f: f.impact or 0)
    d = catalog.registry.get(f.metric)
    cur = catalog.pipeline.currency
    label = BENCHMARK_LABEL.get(f.benchmark_kind or "", "benchmark")
    if f.benchmark_kind == BenchmarkKind.plan.value and f.benchmark:
        against = f"{f.value / f.benchmark:.0%} of plan ({d.format(f.value, cur)} of {d.format(f.benchmark, cur)})"
    else:
        against = f"{d.format(f.value, cur)} vs {label} {d.format(f.benchmark, cur)}"
    text = (f"{d.title} {against}; nothing in the data explains it: ask what got in the way "
            f"(worth ~{format_impact(f.impact, f.impact_unit, cur)} a month).")
    return Opening(performance_gap=f.id, metric=f.metric, why=text, impact=f.impact, impact_unit=f.impact_unit)


def candidate_scores(catalog: Catalog, gap_id: str, evidence_ids: Iterable[str]) -> dict[str, float]:
    """The root causes of a flow with their prior weight plus the points of the evidence that holds."""
    flow = catalog.flows.get(gap_id)
    if flow is None:
        return {}
    scores = dict(flow.candidates)
    hits = set(evidence_ids)
    for ev in flow.evidence:
        if ev.id in hits:
            for sid, pts in ev.points_to.items():
                scores[sid] = scores.get(sid, 0.0) + pts
    return scores


def rank_candidates(scores: dict[str, float]) -> list[tuple[str, float]]:
    """Highest score first; ties keep the flow's order (its authors' priority)."""
    order = list(scores)
    return sorted(scores.items(), key=lambda kv: (-kv[1], order.index(kv[0])))


def _finding(level: str, gid: str, row: Row, impact: float, unit: str, **kw) -> Finding:
    return Finding(level=level, id=gid, metric=row["metric"], value=_f(row["value"]),
                   benchmark_kind=row["benchmark_kind"], benchmark=_f(row["benchmark"]),
                   p_value=_f(row["p"]), q_value=_f(row["q"]), rel_gap=_f(row["rel_gap"]), n=_f(row["n"]),
                   impact=round(float(impact), 4), impact_unit=unit, bound=bool(row.get("bound", False)), **kw)


def _f(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if np.isnan(x) or np.isinf(x) else x


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


UNIT_WORDS = {"won_deals": "won deals", "opportunities": "opportunities", "meetings": "meetings"}


def format_impact(value: float, unit: str, currency: str = "USD") -> str:
    """`$41,000` or `3.2 more won deals`."""
    if unit == "revenue":
        return f"${value:,.0f}" if currency == "USD" else f"{currency} {value:,.0f}"
    word = UNIT_WORDS.get(unit, unit.replace("_", " "))
    return f"{value:,.1f} more {word}" if value < 10 else f"{value:,.0f} more {word}"


def why(catalog: Catalog, f: Finding, result: Row | None = None) -> str:
    """One sentence with the numbers: the behaviour against its benchmark, and what it is worth."""
    reg = catalog.registry
    d = reg.get(f.metric)
    cur = catalog.pipeline.currency
    label = BENCHMARK_LABEL.get(f.benchmark_kind or "", "benchmark")
    value = ("≥" if f.bound else "") + d.format(f.value, cur)
    p = f"p={f.p_value:.3f}" if f.p_value is not None and f.p_value >= 0.001 else "p<0.001"
    text = f"{d.title} {value} vs {label} {d.format(f.benchmark, cur)} ({p})"
    if result is not None and result.get("value") is not None:
        rd = reg.get(result["metric"])
        rlabel = BENCHMARK_LABEL.get(result["benchmark_kind"] or "", "benchmark")
        text += (f", behind {rd.title.lower()} of {rd.format(_f(result['value']), cur)} vs "
                 f"{rlabel} {rd.format(_f(result['benchmark']), cur)}")
    worth = format_impact(f.impact, f.impact_unit, cur)
    return f"{text}; closing it to the {label} is worth ~{worth} a month."


# --------------------------------------------------------------------------- facts

def rep_facts(table: MetricTable, benchmarks, compiled: Compiled, comparisons: pd.DataFrame,
              catalog: Catalog) -> list[list[dict]]:
    """The facts of every rep: their comparisons (with their margins over the catalog's
    thresholds) and the metric values the evidence reads."""
    R = len(table.reps)
    facts: list[list[dict]] = [[] for _ in range(R)]
    ok = comparisons["tested"].to_numpy(dtype=bool)
    cols = comparisons.loc[ok, ["rep", "gap", "q", "rel_gap", "value", "benchmark", "n", "metric"]]
    counted = cols["metric"].map(lambda m: table.registry.get(m).test.value == "count").to_numpy(dtype=bool)
    sample = np.where(counted, cols["benchmark"], cols["n"])
    lims = {g: limits(catalog, g) for g in cols["gap"].unique()}
    for (rep, gap, q, rel, value, bench, _n, _m), s in zip(cols.itertuples(index=False), sample):
        facts[int(rep)].append(cmp_fact(gap, q, rel, s, value, bench, lims[gap]))
    metric_cols = {p: table.value[m].to_numpy(dtype=float) for p, m in compiled.metric_properties.items()}
    for p, (m, kind, factor) in compiled.difference_properties.items():
        metric_cols[p] = table.value[m].to_numpy(dtype=float) - factor * benchmarks[kind][m].to_numpy(dtype=float)
    values = [dict(zip(metric_cols, row)) for row in zip(*metric_cols.values())] if metric_cols else [{}] * R
    for i in range(R):
        facts[i] += metrics_facts(compiled, values[i])
    return facts


def metrics_facts(compiled: Compiled, values: dict[str, float | None]) -> list[dict]:
    """The metrics facts, one per flow with evidence, each with the values its evidence reads;
    values without data are left out, so no condition on them holds."""
    out = []
    for flow, props in compiled.flow_properties.items():
        fact = {"t": "metrics", "flow": flow}
        for p in props:
            v = values.get(p)
            if v is not None and np.isfinite(v):
                fact[p] = float(v)
        out.append(fact)
    return out


# --------------------------------------------------------------------------- diagnose

def diagnose(table: MetricTable, benchmarks: dict, catalog: Catalog,
             compiled: Compiled | None = None) -> Diagnosis:
    """Findings and focus for every rep of the table."""
    compiled = compiled or compile_catalog(catalog)
    comparisons = compare_gaps(table, benchmarks, catalog)
    facts = rep_facts(table, benchmarks, compiled, comparisons, catalog)
    outcomes = run_rules(catalog, compiled, ((str(i), f) for i, f in enumerate(facts)))
    chains = build_chains(table, catalog.pipeline)
    columns = _Columns(table, benchmarks)
    rows_by_rep: dict[int, dict[str, Row]] = {}
    for row in _records(comparisons):
        rows_by_rep.setdefault(int(row["rep"]), {})[row["gap"]] = row
    reps = []
    left = table.reps["left"].to_numpy(dtype=bool) if "left" in table.reps else np.zeros(len(table.reps), bool)
    for i, rep in enumerate(_records(table.reps[["rep_id", "name", "role", "team"]])):
        if left[i]:
            reps.append(RepDiagnosis(rep_id=rep["rep_id"], name=rep["name"], role=rep["role"], team=rep["team"],
                                     focus=None, findings=(), left=True))
            continue
        kind = catalog.pipeline.role(rep["role"]).kind.value
        rows = rows_by_rep.get(i, {})

        def impact_of(b, p, i=i, rows=rows, kind=kind):
            r = rows[b]
            return behaviour_impact(chains, table, i, r["metric"], r["value"], r["benchmark"],
                                    catalog.performance_gaps[p].metric, kind)

        def rank_of(b, i=i, rows=rows, kind=kind):
            r = rows[b]
            return ranking_impact(chains, table, i, r["metric"], r["value"], r["benchmark"], kind)

        def perf_impact(p, i=i, rows=rows):
            r = rows[p]
            return performance_impact(table, i, r["metric"], r["value"], r["benchmark"])

        def says(b, ev, i=i):
            return fill_says(ev, lambda m: columns.value(m)[i], lambda m, k: columns.bench(k, m)[i])
        findings, focus, candidates, evidence, open_on = interpret(catalog, outcomes[str(i)], rows, impact_of,
                                                                   rank_of, says, perf_impact, rep["role"])
        reps.append(RepDiagnosis(rep_id=rep["rep_id"], name=rep["name"], role=rep["role"], team=rep["team"],
                                 focus=focus, findings=tuple(findings), candidates=candidates,
                                 evidence=evidence, opening=open_on))
    return Diagnosis(period=table.period.label, reps=tuple(reps), comparisons=comparisons)


def _records(frame: pd.DataFrame) -> list[dict]:
    """frame.to_dict("records"), the same Python values, column by column (several times faster
    on text columns held by Arrow)."""
    columns = {c: [None if v is pd.NA else v for v in frame[c].tolist()]
               if isinstance(frame[c].dtype, pd.StringDtype) else frame[c].tolist() for c in frame.columns}
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


class _Columns:
    """Metric and benchmark columns as numpy arrays, taken from the frames once each."""

    def __init__(self, table: MetricTable, benchmarks: dict):
        self.table, self.benchmarks = table, benchmarks
        self._cache: dict = {}

    def value(self, metric: str) -> np.ndarray:
        return self.table.column("value", metric)

    def bench(self, kind: BenchmarkKind, metric: str) -> np.ndarray:
        key = (kind, metric)
        if key not in self._cache:
            frame = self.benchmarks[kind]
            self._cache[key] = frame[metric].to_numpy(dtype=float) if metric in frame else np.full(len(frame), np.nan)
        return self._cache[key]


def fill_says(ev: Evidence, value_of: Callable[[str], float], bench_of: Callable[[str, BenchmarkKind], float]
              ) -> str:
    """An evidence sentence with {value} and {benchmark} filled in from its first comparison.

    The template policy (engine.yamlspec.template) applies again here: whatever the
    sentence, this never raises and allocates no more than a few hundred characters.
    """
    said = said_of(ev)
    if said is None:
        return SAYS.render(ev.says, {})
    metric, bound = said
    bench = bench_of(metric, bound) if isinstance(bound, BenchmarkKind) else bound
    return SAYS.render(ev.says, {"value": value_of(metric), "benchmark": bench})


_SAID: dict[int, tuple[Evidence, tuple[str, object] | None]] = {}


def said_of(ev: Evidence) -> tuple[str, object] | None:
    """The metric and bound (a benchmark kind, or a number) an evidence sentence speaks of (its
    first comparison), or None; found once per evidence, as a catalog never changes once loaded
    (the evidence is kept with its answer, so that its id stays its own)."""
    kept = _SAID.get(id(ev))
    if kept is not None and kept[0] is ev:
        return kept[1]
    first = next(iter(condition_comparisons(ev.when, ())), None)
    found = None if first is None else (first[1].metric, first[1].bounds()[0][1])
    if len(_SAID) > 20_000:                  # many catalogs loaded in one process (drafts, what-ifs)
        _SAID.clear()
    _SAID[id(ev)] = (ev, found)
    return found
