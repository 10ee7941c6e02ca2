"""Load a catalog directory: parse every YAML file once, build specs, cross-check.

Every problem of every file is collected before anything is refused, each with
file, line and key, and a "did you mean" where a close name exists.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydantic import BaseModel

from ..errors import CatalogError, Problem, did_you_mean
from ..paths import shipped_root
from ..yamlspec.spec import validate_located
from ..yamlspec.parse import Located, load_yaml
from .model import Catalog, Source, freeze
from .specs import (AllOf, AnyOf, BenchmarkKind, Comparison, Flow, GapsFile, LibraryFile,
                    Pipeline, SkillsFile, TestsFile, Thresholds)

DEFAULT_ROOT = shipped_root()


def default_root() -> Path:
    """The catalog used when none is given: $FAIRWAY_CATALOG, else the shipped one."""
    env = os.environ.get("FAIRWAY_CATALOG")
    return Path(env) if env else DEFAULT_ROOT


class _Collector:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.docs: dict[str, Located] = {}
        self.hash = hashlib.sha256()

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def parse(self, path: Path, model: type[BaseModel], required: bool = True):
        name = self.rel(path)
        if not path.exists():
            if required:
                self.problems.append(Problem(file=name, message="file is missing",
                                             expected=f"a YAML file of {model.__name__}"))
            return None, None
        self.hash.update(name.encode() + b"\0" + path.read_bytes())
        doc, problems = load_yaml(path, name)
        self.problems += problems      # duplicate keys and the like: the rest is still checked
        if doc is None:
            return None, doc
        self.docs[name] = doc
        if doc.data is None:
            self.problems.append(doc.problem((), "file is empty",
                                             expected=f"a mapping of {model.__name__}"))
            return None, doc
        spec, schema_problems = validate_located(doc, model)
        self.problems += schema_problems
        return (None if problems or schema_problems else spec), doc


def load_catalog(root: Path | str | None = None) -> Catalog:
    """Load and cross-check the catalog under `root`; raise CatalogError listing every problem."""
    catalog, problems, _ = inspect_catalog(root)
    if problems:
        raise CatalogError(problems)
    assert catalog is not None
    return catalog


def inspect_catalog(root: Path | str | None = None) -> tuple[Catalog | None, list[Problem], "Locations"]:
    """Parse and cross-check; return (catalog or None, problems, where each id is defined)."""
    root = Path(root) if root is not None else default_root()
    c = _Collector(root)
    rules, library = root / "rules", root / "learning_library"
    if not rules.is_dir():
        c.problems.append(Problem(file=str(rules), message="folder is missing",
                                  expected="a catalog folder holding rules/ and learning_library/"))
        return None, c.problems, Locations({})
    pipeline, pdoc = c.parse(rules / "pipeline.yaml", Pipeline)
    thresholds, tdoc = c.parse(rules / "thresholds.yaml", Thresholds)
    skills_file, sdoc = c.parse(rules / "skills.yaml", SkillsFile)
    gap_files = [(c.parse(p, GapsFile)) for p in sorted((rules / "gaps").glob("*.yaml"))]
    flow_files = [(c.parse(p, Flow)) for p in sorted((rules / "flows").glob("*.yaml"))]
    test_files = [(c.parse(p, TestsFile)) for p in sorted((rules / "tests").glob("*.yaml"))]
    lib_files = [(c.parse(p, LibraryFile)) for p in sorted(library.glob("*.yaml"))] if library.is_dir() else []
    if not library.is_dir():
        c.problems.append(Problem(file=c.rel(library), message="folder is missing",
                                  expected="learning_library/ with the learning assets"))
    if not gap_files:
        c.problems.append(Problem(file=c.rel(rules / "gaps"), message="no gap files",
                                  expected="rules/gaps/*.yaml"))

    where = Locations({})
    x = _CrossCheck(c, where)
    if pipeline is not None:
        x.pipeline(pipeline, pdoc)
    if pipeline is None or thresholds is None or skills_file is None or c.problems:
        # without a sound pipeline, thresholds and skills nothing else can be checked
        if thresholds is not None and pipeline is not None:
            x.thresholds(thresholds, tdoc, pipeline)
        return None, c.problems, where
    registry_pipeline = pipeline
    x.thresholds(thresholds, tdoc, registry_pipeline)
    skills = x.skills(skills_file, sdoc)
    perf, behav = x.gaps([(g, d) for g, d in gap_files if g is not None], registry_pipeline)
    flows = x.flows([(f, d) for f, d in flow_files if f is not None], behav, skills, registry_pipeline)
    assets, assignments = x.library([(l, d) for l, d in lib_files if l is not None], skills, library,
                                    pipeline.role_ids)
    tests = x.tests([(t, d) for t, d in test_files if t is not None], pipeline, perf, behav, flows,
                    skills, registry_pipeline)
    if c.problems:
        return None, c.problems, where
    catalog = Catalog(root=root, pipeline=pipeline, thresholds=thresholds,
                      performance_gaps=freeze(perf), behaviour_gaps=freeze(behav),
                      skills=freeze(skills), flows=freeze(flows), assets=freeze(assets),
                      assignments=freeze(assignments), tests=tuple(tests),
                      sources=freeze(where.sources), version=c.hash.hexdigest()[:12])
    return catalog, [], where


class Locations:
    """Where each catalog item is defined: "gap:<id>" -> Source(file, line)."""

    def __init__(self, sources: dict[str, Source]):
        self.sources = sources

    def add(self, key: str, doc: Located, path: tuple):
        self.sources[key] = Source(doc.file, doc.line(path))


class _CrossCheck:
    def __init__(self, c: _Collector, where: Locations):
        self.c = c
        self.where = where

    def err(self, doc: Located, path: tuple, message: str, **kw):
        self.c.problems.append(doc.problem(path, message, **kw))

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
        if value in choices:
            return True
        self.err(doc, path, f"unknown {what}", value=value,
                 suggestion=did_you_mean(value, choices),
                 expected=f"a {what} defined in the catalog")
        return False

    # ------------------------------------------------------------------ pipeline
    def pipeline(self, p: Pipeline, doc: Located):
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

    def thresholds(self, t: Thresholds, doc: Located, p: Pipeline):
        from ..metrics.registry import MetricRegistry
        reg = MetricRegistry(p)
        for key in t.industry:
            if key not in reg:
                self.err(doc, ("industry", key), "unknown metric id", value=key,
                         suggestion=did_you_mean(key, reg.ids()), expected="a metric id")

    def skills(self, f: SkillsFile, doc: Located) -> dict:
        self.unique(f.skills, doc, ("skills",), "skill")
        out = {}
        for i, s in enumerate(f.skills):
            out.setdefault(s.id, s)
            self.where.add(f"skill:{s.id}", doc, ("skills", i))
        return out

    # ------------------------------------------------------------------ gaps
    def gaps(self, files, p: Pipeline):
        from ..metrics.registry import MetricRegistry
        reg = MetricRegistry(p)
        perf, behav, seen = {}, {}, {}
        for f, doc in files:
            self.unique(f.performance, doc, ("performance",), "gap", seen)
            self.unique(f.behaviour, doc, ("behaviour",), "gap", seen)
            for kind, items, target in (("performance", f.performance, perf),
                                        ("behaviour", f.behaviour, behav)):
                for i, g in enumerate(items):
                    target.setdefault(g.id, g)
                    self.where.add(f"gap:{g.id}", doc, (kind, i))
                    self.ref(doc, (kind, i, "metric"), g.metric, reg.ids(), "metric id")
                    for j, r in enumerate(g.roles):
                        self.ref(doc, (kind, i, "roles", j), r, p.role_ids, "role")
                    if BenchmarkKind.industry in (g.compare_to or []) and g.metric not in self._industry:
                        self.err(doc, (kind, i, "compare_to"),
                                 "compares with the industry figure, but thresholds.yaml gives none "
                                 "for this metric", value=g.metric)
        for f, doc in files:
            for i, g in enumerate(f.behaviour):
                for j, e in enumerate(g.explains):
                    if not self.ref(doc, ("behaviour", i, "explains", j), e, list(perf),
                                    "performance gap"):
                        continue
                if not any(set(g.roles) & set(perf[e].roles) for e in g.explains if e in perf):
                    self.err(doc, ("behaviour", i, "explains"),
                             "explains nothing: none of these performance gaps applies to its roles",
                             value=g.id)
                for j, other in enumerate(g.masked_by):
                    if self.ref(doc, ("behaviour", i, "masked_by", j), other, list(behav),
                                "behaviour gap") and other == g.id:
                        self.err(doc, ("behaviour", i, "masked_by", j), "a gap cannot mask itself",
                                 value=other)
        return perf, behav

    @property
    def _industry(self):
        doc = self.c.docs.get("rules/thresholds.yaml")
        data = doc.data if doc and isinstance(doc.data, dict) else {}
        industry = data.get("industry") or {}
        return industry if isinstance(industry, dict) else {}

    # ------------------------------------------------------------------ flows
    def flows(self, files, behav: dict, skills: dict, p: Pipeline) -> dict:
        from ..metrics.registry import MetricRegistry
        reg = MetricRegistry(p)
        out: dict[str, Flow] = {}
        question_at: dict[str, str] = {}   # question ids are unique across flows: answers key on them
        for flow, doc in files:
            if self.ref(doc, ("behaviour_gap",), flow.behaviour_gap, list(behav), "behaviour gap"):
                if flow.behaviour_gap in out:
                    self.err(doc, ("behaviour_gap",), "a second flow for this behaviour gap",
                             value=flow.behaviour_gap,
                             expected=f"one flow per gap (see {self.where.sources[f'flow:{flow.behaviour_gap}'].file})")
                else:
                    out[flow.behaviour_gap] = flow
                    self.where.add(f"flow:{flow.behaviour_gap}", doc, ())
            for sid in flow.candidates:
                self.ref(doc, ("candidates", sid), sid, list(skills), "skill or knowledge gap")
            cands = list(flow.candidates)

            def points(path, pts):
                for sid in pts:
                    if sid not in cands:
                        self.err(doc, path + (sid,), "not a candidate of this flow", value=sid,
                                 suggestion=did_you_mean(sid, cands),
                                 expected="one of the flow's candidates (add it there first)")

            seen_ev: set = set()
            for i, ev in enumerate(flow.evidence):
                if ev.id in seen_ev:
                    self.err(doc, ("evidence", i, "id"), "duplicate evidence id", value=ev.id)
                seen_ev.add(ev.id)
                points(("evidence", i, "points_to"), ev.points_to)
                for path, cmp in _comparisons(ev.when, ("evidence", i, "when")):
                    self.ref(doc, path + ("metric",), cmp.metric, reg.ids(), "metric id")
            qids = [q.id for q in flow.questions]
            for i, q in enumerate(flow.questions):
                if q.id in question_at:
                    self.err(doc, ("questions", i, "id"), "duplicate question id", value=q.id,
                             expected=f"ids unique across the catalog (first defined in {question_at[q.id]})")
                else:
                    question_at[q.id] = f"{doc.file}:{doc.line(('questions', i))}"
                aids = [a.id for a in q.answers]
                for j, a in enumerate(q.answers):
                    if a.id in aids[:j]:
                        self.err(doc, ("questions", i, "answers", j, "id"), "duplicate answer id",
                                 value=a.id)
                    points(("questions", i, "answers", j, "points_to"), a.points_to)
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
        return out

    # ------------------------------------------------------------------ library
    def library(self, files, skills: dict, library: Path, roles: list[str]):
        assets, assignments, seen = {}, {}, {}
        for f, doc in files:
            self.unique(f.assets, doc, ("assets",), "asset", seen)
            self.unique(f.assignments, doc, ("assignments",), "assignment", seen)
            for i, a in enumerate(f.assets):
                assets.setdefault(a.id, a)
                self.where.add(f"asset:{a.id}", doc, ("assets", i))
                for j, sid in enumerate(a.addresses):
                    self.ref(doc, ("assets", i, "addresses", j), sid, list(skills),
                             "skill or knowledge gap")
                for j, r in enumerate(a.roles):
                    self.ref(doc, ("assets", i, "roles", j), r, roles, "role")
                if a.file is not None and not (library / a.file).is_file():
                    self.err(doc, ("assets", i, "file"), "file not found in learning_library/",
                             value=a.file)
            for i, a in enumerate(f.assignments):
                assignments.setdefault(a.id, a)
                self.where.add(f"assignment:{a.id}", doc, ("assignments", i))
                for j, sid in enumerate(a.addresses):
                    self.ref(doc, ("assignments", i, "addresses", j), sid, list(skills),
                             "skill or knowledge gap")
                for j, r in enumerate(a.roles):
                    self.ref(doc, ("assignments", i, "roles", j), r, roles, "role")
        return assets, assignments

    # ------------------------------------------------------------------ tests
    def tests(self, files, p, perf, behav, flows, skills, rp):
        from ..metrics.registry import MetricRegistry
        reg = MetricRegistry(rp)
        gap_ids = list(perf) + list(behav)
        questions = {q.id: q for f in flows.values() for q in f.questions}
        out = []
        for f, doc in files:
            for i, t in enumerate(f.tests):
                base = ("tests", i)
                out.append((doc.file, t))
                self.ref(doc, base + ("role",), t.role, p.role_ids, "role")
                for gid in t.gaps:
                    self.ref(doc, base + ("gaps", gid), gid, gap_ids, "gap")
                for mid in t.metrics:
                    self.ref(doc, base + ("metrics", mid), mid, reg.ids(), "metric id")
                for mid in t.benchmarks:
                    self.ref(doc, base + ("benchmarks", mid), mid, reg.ids(), "metric id")
                for qid, aid in t.answers.items():
                    if self.ref(doc, base + ("answers", qid), qid, list(questions), "question"):
                        self.ref(doc, base + ("answers", qid), aid,
                                 [a.id for a in questions[qid].answers], f"answer of {qid}")
                e = t.expect
                for key in ("findings", "findings_include", "findings_exclude"):
                    for j, gid in enumerate(getattr(e, key) or []):
                        self.ref(doc, base + ("expect", key, j), gid, gap_ids, "gap")
                if e.focus:
                    self.ref(doc, base + ("expect", "focus"), e.focus, list(behav), "behaviour gap")
                if e.root_cause:
                    self.ref(doc, base + ("expect", "root_cause"), e.root_cause, list(skills),
                             "skill or knowledge gap")
                for j, sid in enumerate(e.ranking or []):
                    self.ref(doc, base + ("expect", "ranking", j), sid, list(skills),
                             "skill or knowledge gap")
        return out


def _comparisons(cond, path: tuple):
    """Every metric comparison inside a condition, with its path."""
    if isinstance(cond, Comparison):
        yield path, cond
    elif isinstance(cond, AllOf):
        for i, c in enumerate(cond.all):
            yield from _comparisons(c, path + ("all", i))
    elif isinstance(cond, AnyOf):
        for i, c in enumerate(cond.any):
            yield from _comparisons(c, path + ("any", i))


comparisons = _comparisons


def load_pipeline(root: Path | str | None = None) -> Pipeline:
    """Only rules/pipeline.yaml, checked: for tools that need the vocabulary, not the flows."""
    root = Path(root) if root is not None else default_root()
    c = _Collector(root)
    pipeline, doc = c.parse(root / "rules" / "pipeline.yaml", Pipeline)
    if pipeline is not None:
        _CrossCheck(c, Locations({})).pipeline(pipeline, doc)
    if c.problems:
        raise CatalogError(c.problems)
    return pipeline
