"""`fairway catalog check`: the loader's validation plus static analysis.

Errors (the catalog is refused): anything the loader refuses, rules that do not
compile within the rules engine's limits, questions no conversation can reach.
Warnings (reported; `--strict` makes them errors): answers that tell nothing apart,
behaviour gaps without a flow, performance gaps nothing explains, root causes no flow
considers, and the trainers' coverage report: root causes without a learning asset or
without a selling assignment, and assets longer than an hour.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CatalogError, Problem
from .loader import inspect_catalog
from .model import Catalog
from .specs import Flow

MAX_ASSET_MINUTES = 60
MAX_PATH_STATES = 20_000     # states of a flow's conversations static analysis explores (shipped: < 100)


@dataclass
class CheckReport:
    catalog: Catalog | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    coverage: list[dict] = field(default_factory=list)   # per root cause: assets, assignments, flows

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)


def check_catalog(root: Path | str | None = None) -> CheckReport:
    catalog, problems, _ = inspect_catalog(root)
    report = CheckReport(catalog=catalog, errors=list(problems))
    if catalog is None:
        return report
    from ..rules.compile import compile_catalog   # the rules must compile: a rule that does not is an error
    try:
        compile_catalog(catalog)
    except CatalogError as err:
        report.errors += err.problems
    for gap_id, flow in catalog.flows.items():
        _analyse_flow(catalog, flow, report)
    _gaps(catalog, report)
    _coverage(catalog, report)
    return report


def _where(catalog: Catalog, key: str, default: str) -> tuple[str, int | None]:
    src = catalog.sources.get(key)
    return (src.file, src.line) if src else (default, None)


def reachable_questions(flow: Flow) -> tuple[set[str], set[tuple[str, str]]] | None:
    """Questions some conversation reaches, and the (question, answer) pairs it can give.

    A state is a position and the answers later questions' `ask_if` still read; None when
    a flow has more than MAX_PATH_STATES of them (ask_if conditions multiply paths).
    """
    index = {q.id: i for i, q in enumerate(flow.questions)}
    read_from: list[set[str]] = [set() for _ in range(len(flow.questions) + 1)]  # asked about at or after
    for i in range(len(flow.questions) - 1, -1, -1):
        q = flow.questions[i]
        read_from[i] = read_from[i + 1] | ({q.ask_if.question} if q.ask_if else set())

    def at(pos: int, answers: dict) -> tuple[int, tuple]:
        keep = read_from[min(pos, len(flow.questions))]
        return pos, tuple(sorted((k, v) for k, v in answers.items() if k in keep))

    seen_states: set = set()
    asked: set[str] = set()
    given: set[tuple[str, str]] = set()
    stack: list[tuple[int, tuple]] = [(0, ())]
    while stack:
        pos, memo = stack.pop()
        if (pos, memo) in seen_states or pos >= len(flow.questions):
            continue
        seen_states.add((pos, memo))
        if len(seen_states) > MAX_PATH_STATES:
            return None
        q = flow.questions[pos]
        answers = dict(memo)
        if q.ask_if is not None and answers.get(q.ask_if.question) not in q.ask_if.answer_in:
            stack.append(at(pos + 1, answers))
            continue
        asked.add(q.id)
        stack.append(at(pos + 1, answers))          # skipped, or "none of these"
        for a in q.answers:
            given.add((q.id, a.id))
            if a.ends:
                continue
            stack.append(at(index[a.next] if a.next else pos + 1, {**answers, q.id: a.id}))
    return asked, given


def _analyse_flow(catalog: Catalog, flow: Flow, report: CheckReport) -> None:
    file, line = _where(catalog, f"flow:{flow.behaviour_gap}", "rules/flows")
    reached = reachable_questions(flow)
    if reached is None:
        report.errors.append(Problem(file=file, line=line, column="questions",
                                     message=f"more than {MAX_PATH_STATES:,} ways through the questions: "
                                             "too many to check that each question can be reached",
                                     expected="fewer ask_if conditions on answers of different questions"))
    asked = reached[0] if reached is not None else {q.id for q in flow.questions}
    for q in flow.questions:
        if q.id not in asked:
            report.errors.append(Problem(file=file, line=line, column=f"questions.{q.id}",
                                         message="no conversation reaches this question",
                                         expected="an ask_if that some path can satisfy, or no jump over it"))
        for a in q.answers:
            if not a.points_to and not a.next and not a.ends:
                report.warnings.append(Problem(
                    file=file, line=line, column=f"questions.{q.id}.answers.{a.id}",
                    message="this answer tells nothing apart: it points to no cause, jumps nowhere, ends nothing"))
    if not flow.questions:
        report.errors.append(Problem(file=file, line=line, message="a flow without questions"))


def _gaps(catalog: Catalog, report: CheckReport) -> None:
    explained = {p for b in catalog.behaviour_gaps.values() for p in b.explains}
    for gid in catalog.behaviour_gaps:
        if gid not in catalog.flows:
            file, line = _where(catalog, f"gap:{gid}", "rules/gaps")
            report.warnings.append(Problem(file=file, line=line, column=gid,
                                           message="behaviour gap without a diagnostic flow: managers "
                                                   "cannot be guided to its root cause",
                                           expected=f"rules/flows/{gid}.yaml"))
    for gid in catalog.performance_gaps:
        if gid not in explained:
            file, line = _where(catalog, f"gap:{gid}", "rules/gaps")
            report.warnings.append(Problem(file=file, line=line, column=gid,
                                           message="no behaviour gap explains this performance gap: it can "
                                                   "never lead to a focus"))
    considered = {sid for f in catalog.flows.values() for sid in f.candidates}
    for sid in catalog.skills:
        if sid not in considered:
            file, line = _where(catalog, f"skill:{sid}", "rules/skills.yaml")
            report.warnings.append(Problem(file=file, line=line, column=sid,
                                           message="no flow considers this root cause"))


def _coverage(catalog: Catalog, report: CheckReport) -> None:
    for sid, skill in catalog.skills.items():
        assets = catalog.assets_for(sid)
        assignments = catalog.assignments_for(sid)
        flows = [g for g, f in catalog.flows.items() if sid in f.candidates]
        report.coverage.append({"skill": sid, "kind": skill.kind.value, "title": skill.title,
                                "assets": [a.id for a in assets], "assignments": [a.id for a in assignments],
                                "minutes": sum(a.minutes for a in assets), "flows": flows})
        file, line = _where(catalog, f"skill:{sid}", "rules/skills.yaml")
        if not assets:
            report.warnings.append(Problem(file=file, line=line, column=sid,
                                           message="no learning asset addresses this root cause",
                                           expected="an asset in learning_library/ listing it in addresses"))
        if not assignments:
            report.warnings.append(Problem(file=file, line=line, column=sid,
                                           message="no selling assignment addresses this root cause",
                                           expected="an assignment in learning_library/ listing it in addresses"))
    # per role: a root cause a flow of that role considers needs assets written for the role
    for gap_id, flow in catalog.flows.items():
        for role in catalog.behaviour_gaps[gap_id].roles:
            for sid in flow.candidates:
                for what, items in (("learning asset", catalog.assets), ("selling assignment", catalog.assignments)):
                    if not any(sid in i.addresses and (not i.roles or role in i.roles) for i in items.values()):
                        file, line = _where(catalog, f"flow:{gap_id}", "rules/flows")
                        report.warnings.append(Problem(
                            file=file, line=line, column=f"candidates.{sid}",
                            message=f"no {what} for role {role} addresses this root cause",
                            expected=f"an item in learning_library/ for {sid} with no roles or with {role}"))
    report.warnings = list({str(w): w for w in report.warnings}.values())
    for aid, asset in catalog.assets.items():
        if asset.minutes > MAX_ASSET_MINUTES:
            file, line = _where(catalog, f"asset:{aid}", "learning_library")
            report.warnings.append(Problem(file=file, line=line, column=f"{aid}.minutes", value=asset.minutes,
                                           message="longer than an hour: coaching assets should take an "
                                                   "hour or less"))
