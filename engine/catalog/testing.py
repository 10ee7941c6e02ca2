"""`fairway catalog test`: run the catalog's own tests (rules/tests/*.yaml).

Each test gives a rep's comparisons (value, benchmark, p-value, sample per gap), other
metric values and, optionally, the answers of the conversation; the runner asserts
them as facts into the same compiled rules the diagnosis uses, interprets the result
the same way, walks the dialogue with the given answers, and compares with `expect`.
Within a test, p-values are used as they are (no false-discovery adjustment across
tests), and findings rank by the `impact` given, else by their relative gap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..dialogue import conversation as dialogue
from ..diagnosis.diagnose import RepDiagnosis, fill_says, interpret, metrics_facts, run_rules
from ..metrics.registry import SampleKind
from ..rules.compile import Compiled, cmp_fact, compile_catalog, limits
from ..statistics.stats import relative_gap
from .model import Catalog
from .specs import CatalogTest, Direction


@dataclass
class TestOutcome:
    file: str
    name: str
    diffs: list[str] = field(default_factory=list)
    got: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.diffs


def _rows(catalog: Catalog, t: CatalogTest) -> dict[str, dict]:
    rows = {}
    for gid, g in t.gaps.items():
        gap = catalog.gap(gid)
        below = catalog.direction_of(gap) == Direction.below
        rows[gid] = {"metric": gap.metric, "value": g.value, "benchmark": g.benchmark,
                     "benchmark_kind": catalog.benchmarks_of(gap)[0].value, "p": g.p, "q": g.p,
                     "rel_gap": float(relative_gap([g.value], [g.benchmark], below)[0]), "n": g.n,
                     "bound": False, "impact": g.impact}
    return rows


def _facts(catalog: Catalog, compiled: Compiled, t: CatalogTest, rows: dict) -> list[dict]:
    facts = []
    reg = catalog.registry
    for gid, r in rows.items():
        counted = reg.get(r["metric"]).test == SampleKind.count
        facts.append(cmp_fact(gid, r["q"], r["rel_gap"], r["benchmark"] if counted else r["n"],
                              r["value"], r["benchmark"], limits(catalog, gid)))
    values = {r["metric"]: r["value"] for r in rows.values()}
    values.update(t.metrics)
    benches = {m: dict(b) for m, b in t.benchmarks.items()}
    for gid, r in rows.items():
        benches.setdefault(r["metric"], {}).setdefault(catalog.benchmarks_of(catalog.gap(gid))[0], r["benchmark"])
    props = {p: values.get(m) for p, m in compiled.metric_properties.items()}
    for p, (m, kind, factor) in compiled.difference_properties.items():
        v, b = values.get(m), benches.get(m, {}).get(kind)
        props[p] = None if v is None or b is None else v - factor * b
    facts += metrics_facts(compiled, props)
    return facts


def run_catalog_tests(catalog: Catalog, compiled: Compiled | None = None) -> list[TestOutcome]:
    """Run every test of the catalog; an outcome per test, with the differences found."""
    compiled = compiled or compile_catalog(catalog)
    prepared = [(file, t, _rows(catalog, t)) for file, t in catalog.tests]
    outcomes = run_rules(catalog, compiled,
                         ((str(k), _facts(catalog, compiled, t, rows)) for k, (_, t, rows) in enumerate(prepared)))
    results = []
    for k, (file, t, rows) in enumerate(prepared):
        results.append(_judge(catalog, file, t, rows, outcomes[str(k)]))
    return results


def run_folder_tests(folder: str) -> list[TestOutcome]:
    """run_catalog_tests of the catalog in `folder`: for a child process (engine.isolation)."""
    from pathlib import Path

    from .loader import load_catalog
    return run_catalog_tests(load_catalog(Path(folder)))


def _judge(catalog: Catalog, file: str, t: CatalogTest, rows: dict, outcome) -> TestOutcome:
    def impact(b, p=None):
        r = rows[b]
        return r["impact"] if r["impact"] is not None else max(r["rel_gap"], 0.0)

    values = {r["metric"]: r["value"] for r in rows.values()} | dict(t.metrics)
    benches = {m: dict(b) for m, b in t.benchmarks.items()}

    def says(b, ev):
        return fill_says(ev, lambda m: values.get(m, float("nan")),
                         lambda m, kind: benches.get(m, {}).get(kind, float("nan")))

    findings, focus, candidates, evidence, _ = interpret(catalog, outcome, rows, impact, impact, says, impact,
                                                         t.role)
    rep = RepDiagnosis(rep_id=t.name, name=t.name, role=t.role, team="", focus=focus,
                       findings=tuple(findings), candidates=candidates, evidence=evidence)
    got_findings = sorted({f.id for f in findings if f.level in ("performance", "behaviour")})
    ranking: list[str] = []
    scores: dict[str, float] = {}
    if focus is not None and focus.behaviour_gap in catalog.flows:
        state = dialogue.start(catalog, rep)
        step = dialogue.step(catalog, state, rep)
        while not step.done:
            q = step.question
            state = dialogue.answer(catalog, state, q.id, t.answers.get(q.id, dialogue.SKIP))
            step = dialogue.step(catalog, state, rep)
        ranking = [c.skill for c in step.result.causes]
        scores = {c.skill: c.score for c in step.result.causes}
    out = TestOutcome(file=file, name=t.name, got={
        "findings": got_findings, "focus": focus.behaviour_gap if focus else None,
        "root_cause": ranking[0] if ranking else None, "ranking": ranking,
        "masked": sorted(f.id for f in findings if f.masked_by)})
    e = t.expect
    if e.findings is not None and sorted(set(e.findings)) != got_findings:
        out.diffs.append(_diff("findings", sorted(set(e.findings)), got_findings))
    missing = sorted(set(e.findings_include) - set(got_findings))
    if missing:
        out.diffs.append(_diff("findings to include", e.findings_include, got_findings, f"missing {missing}"))
    extra = sorted(set(e.findings_exclude) & set(got_findings))
    if extra:
        out.diffs.append(_diff("findings to exclude", e.findings_exclude, got_findings, f"present {extra}"))
    if e.focus is not False and e.focus != out.got["focus"]:
        out.diffs.append(_diff("focus", e.focus, out.got["focus"]))
    if e.root_cause is not None and e.root_cause != out.got["root_cause"]:
        out.diffs.append(_diff("root cause", e.root_cause, out.got["root_cause"], f"scores {scores}"))
    if e.ranking is not None and ranking[:len(e.ranking)] != list(e.ranking):
        out.diffs.append(_diff("ranking", e.ranking, ranking[:len(e.ranking)]))
    return out


def _diff(what: str, expected, got, note: str = "") -> str:
    text = f"{what}:\n    expected: {expected}\n    got:      {got}"
    return text + (f"\n    ({note})" if note else "")
