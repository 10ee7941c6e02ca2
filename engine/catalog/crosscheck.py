"""Cross-references of the catalog: every id one file names must be defined by another.

The check runs on whatever loaded: a file refused by its schema takes no part, but the
ids written in it are still known as "unsure", so that other files naming them are not
reported too; a kind of which some file could not be read at all (pipeline.yaml is
unreadable: roles and metric ids are unknown) is not checked. That way one broken file
never hides the problems of the others, and never buries them under false ones.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem, did_you_mean
from ..files import read_text
from ..yamlspec.parse import Located
from .model import Source
from .specs import (AllOf, AnyOf, BenchmarkKind, Comparison, Flow, GapsFile, LibraryFile, Pipeline,
                    SkillsFile, TestsFile, Thresholds)


@dataclass
class Known:
    """The ids of one kind (gaps, skills, roles, metric ids...) as far as the files could be read.

    `items` come from files that loaded; `unsure` are ids written in files their schema
    refused; `complete` is False when a file of this kind could not be read at all.
    """

    items: dict = field(default_factory=dict)
    unsure: set = field(default_factory=set)
    complete: bool = True

    def names(self) -> list[str]:
        return list(self.items) + sorted(self.unsure - set(self.items))

    def merge(self, other: "Known") -> "Known":
        return Known({**self.items, **other.items}, self.unsure | other.unsure,
                     self.complete and other.complete)

    def learn_from(self, doc: Located | None, *keys: str) -> None:
        """Note the ids written under `keys` of a file its schema refused."""
        data = doc.data if doc is not None else None
        if not isinstance(data, dict):
            self.complete = False
            return
        for key in keys:
            items = data.get(key)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    self.unsure.add(item["id"])


def unknown() -> Known:
    """A kind nothing can be said about (its file did not load)."""
    return Known(complete=False)


class Locations:
    """Where each catalog item is defined: "gap:<id>" -> Source(file, line)."""

    def __init__(self, sources: dict[str, Source]):
        self.sources = sources

    def add(self, key: str, doc: Located, path: tuple):
        self.sources[key] = Source(doc.file, doc.line(path))


class CrossCheck:
    """Each method checks one kind of file against what is known, adding to `problems`."""

    def __init__(self, problems: list[Problem], where: Locations):
        self.problems = problems
        self.where = where

    def err(self, doc: Located, path: tuple, message: str, **kw):
        self.problems.append(doc.problem(path, message, **kw))

    def unique(self, items: list, doc: Located, base: tuple, what: str, seen: dict | None = None):
        seen = {} if seen is None else seen
        for i, item in enumerate(items):
            if item.id in seen:
                self.err(doc, base + (i, "id"), f"duplicate {what} id", value=item.id,
                         expected=f"ids unique across the catalog (first defined in {seen[item.id]})")
            else:
                seen[item.id] = f"{doc.file}:{doc.line(base + (i,))}"
        return seen

    def ref(self, doc: Located, path: tuple, value: str, choices, what: str) -> bool:
        """True if `value` names a loaded item; reported when it certainly names none."""
        if isinstance(choices, Known):
            if value in choices.items:
                return True
            if value in choices.unsure or not choices.complete:
                return False            # defined in a file that did not load, maybe
            choices = choices.names()
        elif value in choices:
            return True
        self.err(doc, path, f"unknown {what}", value=value,
                 suggestion=did_you_mean(value, choices),
                 expected=f"a {what} defined in the catalog")
        return False

    # ------------------------------------------------------------------ pipeline
    def pipeline(self, p: Pipeline, doc: Located) -> bool:
        """Check the pipeline's own references; True when it is sound."""
        before = len(self.problems)
        self.unique(p.roles, doc, ("roles",), "role")
        self.unique(p.stages, doc, ("stages",), "stage")
        self.unique(p.activity_types, doc, ("activity_types",), "activity type")
        if p.won_stage in p.stage_ids:
            self.err(doc, ("won_stage",), "the won stage must not also be listed in stages",
                     value=p.won_stage)
        types = p.activity_type_ids
        for i, a in enumerate(p.activity_types):
            if a.subset_of is not None:
                self.ref(doc, ("activity_types", i, "subset_of"), a.subset_of, types, "activity type")
        for i, t in enumerate(p.prospecting_funnel):
            self.ref(doc, ("prospecting_funnel", i), t, types, "activity type")
        if len(set(p.prospecting_funnel)) != len(p.prospecting_funnel):
            self.err(doc, ("prospecting_funnel",), "an activity type appears twice in the funnel")
        if len(set(p.loss_reasons)) != len(p.loss_reasons):
            self.err(doc, ("loss_reasons",), "a loss reason appears twice")
        return len(self.problems) == before

    def thresholds(self, t: Thresholds, doc: Located, metrics: Known):
        for key in t.industry:
            self.ref(doc, ("industry", key), key, metrics, "metric id")

    def skills(self, f: SkillsFile | None, doc: Located | None) -> Known:
        known = Known()
        if f is None:
            known.learn_from(doc, "skills")
            return known
        self.unique(f.skills, doc, ("skills",), "skill")
        for i, s in enumerate(f.skills):
            known.items.setdefault(s.id, s)
            self.where.add(f"skill:{s.id}", doc, ("skills", i))
        return known

    # ------------------------------------------------------------------ gaps
    def gaps(self, files: list[tuple[GapsFile | None, Located | None]], metrics: Known, roles: Known,
             industry: dict | None) -> tuple[Known, Known]:
        perf, behav, seen = Known(), Known(), {}
        loaded = []
        for f, doc in files:
            if f is None:
                perf.learn_from(doc, "performance")
                behav.learn_from(doc, "behaviour")
                continue
            loaded.append((f, doc))
            self.unique(f.performance, doc, ("performance",), "gap", seen)
            self.unique(f.behaviour, doc, ("behaviour",), "gap", seen)
            for kind, items, target in (("performance", f.performance, perf),
                                        ("behaviour", f.behaviour, behav)):
                for i, g in enumerate(items):
                    target.items.setdefault(g.id, g)
                    self.where.add(f"gap:{g.id}", doc, (kind, i))
                    self.ref(doc, (kind, i, "metric"), g.metric, metrics, "metric id")
                    for j, r in enumerate(g.roles):
                        self.ref(doc, (kind, i, "roles", j), r, roles, "role")
                    if (industry is not None and BenchmarkKind.industry in (g.compare_to or [])
                            and g.metric not in industry):
                        self.err(doc, (kind, i, "compare_to"),
                                 "compares with the industry figure, but thresholds.yaml gives none "
                                 "for this metric", value=g.metric)
        for f, doc in loaded:
            for i, g in enumerate(f.behaviour):
                explained = [e for j, e in enumerate(g.explains)
                             if self.ref(doc, ("behaviour", i, "explains", j), e, perf, "performance gap")]
                if explained and not any(set(g.roles) & set(perf.items[e].roles) for e in explained):
                    self.err(doc, ("behaviour", i, "explains"),
                             "explains nothing: none of these performance gaps applies to its roles",
                             value=g.id)
                for j, other in enumerate(g.masked_by):
                    if self.ref(doc, ("behaviour", i, "masked_by", j), other, behav,
                                "behaviour gap") and other == g.id:
                        self.err(doc, ("behaviour", i, "masked_by", j), "a gap cannot mask itself",
                                 value=other)
        self._masking_cycles(loaded, behav)
        return perf, behav

    def _masking_cycles(self, loaded, behav: Known) -> None:
        at = {g.id: (doc, ("behaviour", i, "masked_by"))
              for f, doc in loaded for i, g in enumerate(f.behaviour)}
        masks = {gid: [m for m in g.masked_by if m in behav.items and m != gid]
                 for gid, g in behav.items.items()}
        for cycle in masking_cycles(masks):
            doc, path = at[cycle[0]]
            self.err(doc, path, "a masking cycle: " + " -> ".join(cycle + [cycle[0]]) + " (each is "
                     "masked by the next): when they are all found, none can be the focus",
                     expected="masking in one direction only: a symptom masked by its cause")

    # ------------------------------------------------------------------ flows
    def flows(self, files: list[tuple[Flow | None, Located | None]], behav: Known, skills: Known,
              metrics: Known) -> tuple[Known, Known]:
        """The flows by behaviour gap, and the questions by id (unique across flows)."""
        out, questions = Known(), Known()
        question_at: dict[str, str] = {}   # question ids are unique across flows: answers key on them
        for flow, doc in files:
            if flow is None:
                out.complete = out.complete and doc is not None and isinstance(doc.data, dict)
                questions.learn_from(doc, "questions")
                continue
            if self.ref(doc, ("behaviour_gap",), flow.behaviour_gap, behav, "behaviour gap"):
                if flow.behaviour_gap in out.items:
                    self.err(doc, ("behaviour_gap",), "a second flow for this behaviour gap",
                             value=flow.behaviour_gap,
                             expected=f"one flow per gap (see {self.where.sources[f'flow:{flow.behaviour_gap}'].file})")
                else:
                    out.items[flow.behaviour_gap] = flow
                    self.where.add(f"flow:{flow.behaviour_gap}", doc, ())
            for sid in flow.candidates:
                self.ref(doc, ("candidates", sid), sid, skills, "skill or knowledge gap")
            self._evidence(flow, doc, metrics)
            for i, q in enumerate(flow.questions):
                if q.id in question_at:
                    self.err(doc, ("questions", i, "id"), "duplicate question id", value=q.id,
                             expected=f"ids unique across the catalog (first defined in {question_at[q.id]})")
                else:
                    question_at[q.id] = f"{doc.file}:{doc.line(('questions', i))}"
                    questions.items[q.id] = q
            self._questions(flow, doc)
        return out, questions

    def _points(self, flow: Flow, doc: Located, path: tuple, pts: dict) -> None:
        cands = list(flow.candidates)
        for sid in pts:
            if sid not in cands:
                self.err(doc, path + (sid,), "not a candidate of this flow", value=sid,
                         suggestion=did_you_mean(sid, cands),
                         expected="one of the flow's candidates (add it there first)")

    def _evidence(self, flow: Flow, doc: Located, metrics: Known) -> None:
        seen_ev: set = set()
        for i, ev in enumerate(flow.evidence):
            if ev.id in seen_ev:
                self.err(doc, ("evidence", i, "id"), "duplicate evidence id", value=ev.id)
            seen_ev.add(ev.id)
            self._points(flow, doc, ("evidence", i, "points_to"), ev.points_to)
            for path, cmp in comparisons(ev.when, ("evidence", i, "when")):
                self.ref(doc, path + ("metric",), cmp.metric, metrics, "metric id")

    def _questions(self, flow: Flow, doc: Located) -> None:
        qids = [q.id for q in flow.questions]
        for i, q in enumerate(flow.questions):
            aids = [a.id for a in q.answers]
            for j, a in enumerate(q.answers):
                if a.id in aids[:j]:
                    self.err(doc, ("questions", i, "answers", j, "id"), "duplicate answer id",
                             value=a.id)
                self._points(flow, doc, ("questions", i, "answers", j, "points_to"), a.points_to)
                if a.next is not None:
                    if a.next not in qids:
                        self.ref(doc, ("questions", i, "answers", j, "next"), a.next, qids,
                                 "question of this flow")
                    elif qids.index(a.next) <= i:
                        self.err(doc, ("questions", i, "answers", j, "next"),
                                 "jumps back: next must name a later question", value=a.next)
                if a.next is not None and a.ends:
                    self.err(doc, ("questions", i, "answers", j), "an answer cannot both "
                             "jump (next) and end the conversation (ends)")
            if q.ask_if is not None:
                earlier = qids[:i]
                if self.ref(doc, ("questions", i, "ask_if", "question"), q.ask_if.question,
                            earlier, "earlier question of this flow"):
                    prev = flow.questions[qids.index(q.ask_if.question)]
                    for k, aid in enumerate(q.ask_if.answer_in):
                        self.ref(doc, ("questions", i, "ask_if", "answer_in", k), aid,
                                 [a.id for a in prev.answers], f"answer of {prev.id}")

    # ------------------------------------------------------------------ library
    def library(self, files: list[tuple[LibraryFile | None, Located | None]], skills: Known, library: Path,
                roles: Known, hash_update) -> tuple[dict, dict]:
        assets, assignments, seen = {}, {}, {}
        for f, doc in files:
            if f is None:
                continue
            self.unique(f.assets, doc, ("assets",), "asset", seen)
            self.unique(f.assignments, doc, ("assignments",), "assignment", seen)
            for kind, items, target in (("assets", f.assets, assets), ("assignments", f.assignments, assignments)):
                for i, a in enumerate(items):
                    target.setdefault(a.id, a)
                    self.where.add(f"{kind[:-1]}:{a.id}", doc, (kind, i))
                    for j, sid in enumerate(a.addresses):
                        self.ref(doc, (kind, i, "addresses", j), sid, skills, "skill or knowledge gap")
                    for j, r in enumerate(a.roles):
                        self.ref(doc, (kind, i, "roles", j), r, roles, "role")
            for i, a in enumerate(f.assets):
                if a.file is not None:
                    self._asset_file(doc, ("assets", i, "file"), library, a.file, hash_update)
        return assets, assignments

    def _asset_file(self, doc: Located, path: tuple, library: Path, rel: str, hash_update) -> None:
        """A shipped Markdown asset: a regular UTF-8 file inside learning_library/, read once."""
        target = library / rel
        inside, folder = os.path.realpath(library), os.path.realpath(target.parent)
        if os.path.commonpath([inside, folder]) != inside:
            self.err(doc, path, "the file is outside learning_library/ (through a linked folder)",
                     value=rel, expected="a Markdown file inside learning_library/")
            return
        text, problems = read_text(target, rel, limit_name="markdown_file")
        for p in problems:
            at = f" (line {p.line} of the file)" if p.line is not None else ""
            message = "file not found in learning_library/" if p.message == "file is missing" else p.message
            self.err(doc, path, f"{message}{at}", value=rel, expected=p.expected)
        if text is not None:
            hash_update(rel, text)

    # ------------------------------------------------------------------ tests
    def tests(self, files: list[tuple[TestsFile | None, Located | None]], roles: Known, gaps: Known,
              behav: Known, questions: Known, skills: Known, metrics: Known) -> list:
        out = []
        for f, doc in files:
            if f is None:
                continue
            for i, t in enumerate(f.tests):
                base = ("tests", i)
                out.append((doc.file, t))
                self.ref(doc, base + ("role",), t.role, roles, "role")
                for gid in t.gaps:
                    self.ref(doc, base + ("gaps", gid), gid, gaps, "gap")
                for mid in t.metrics:
                    self.ref(doc, base + ("metrics", mid), mid, metrics, "metric id")
                for mid in t.benchmarks:
                    self.ref(doc, base + ("benchmarks", mid), mid, metrics, "metric id")
                for qid, aid in t.answers.items():
                    if self.ref(doc, base + ("answers", qid), qid, questions, "question"):
                        self.ref(doc, base + ("answers", qid), aid,
                                 [a.id for a in questions.items[qid].answers], f"answer of {qid}")
                e = t.expect
                for key in ("findings", "findings_include", "findings_exclude"):
                    for j, gid in enumerate(getattr(e, key) or []):
                        self.ref(doc, base + ("expect", key, j), gid, gaps, "gap")
                if e.focus:
                    self.ref(doc, base + ("expect", "focus"), e.focus, behav, "behaviour gap")
                if e.root_cause:
                    self.ref(doc, base + ("expect", "root_cause"), e.root_cause, skills,
                             "skill or knowledge gap")
                for j, sid in enumerate(e.ranking or []):
                    self.ref(doc, base + ("expect", "ranking", j), sid, skills,
                             "skill or knowledge gap")
        return out


def masking_cycles(masks: dict[str, list[str]]) -> list[list[str]]:
    """Cycles of "is masked by" (a by b, b by a), each once; at least one per knot of them."""
    state: dict[str, int] = {}          # 1: on the current path, 2: done
    found, seen = [], set()
    for start in masks:
        if start in state:
            continue
        path, stack = [start], [iter(masks[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                cycle = path[path.index(nxt):]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(cycle)
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(masks[nxt]))
    return found


def comparisons(cond, path: tuple):
    """Every metric comparison inside a condition, with its path."""
    if isinstance(cond, Comparison):
        yield path, cond
    elif isinstance(cond, AllOf):
        for i, c in enumerate(cond.all):
            yield from comparisons(c, path + ("all", i))
    elif isinstance(cond, AnyOf):
        for i, c in enumerate(cond.any):
            yield from comparisons(c, path + ("any", i))
