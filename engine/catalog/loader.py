"""Load a catalog directory: parse every YAML file once, build specs, cross-check.

Every file is read under the path policy of engine.files (regular files, no links, a
size limit) and parsed by engine.yamlspec; every problem of every file is collected
before anything is refused, each with file, line and key, and a "did you mean" where a
close name exists. The cross-references are checked in engine.catalog.crosscheck.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydantic import BaseModel

from ..errors import CatalogError, Problem
from ..files import read_text
from ..metrics.registry import MetricRegistry
from ..paths import shipped_root
from ..yamlspec.parse import parse_yaml
from ..yamlspec.spec import validate_located
from .crosscheck import CrossCheck, Known, Locations, unknown
from .model import Catalog, freeze
from .specs import Flow, GapsFile, LibraryFile, Pipeline, SkillsFile, TestsFile, Thresholds

DEFAULT_ROOT = shipped_root()


def default_root() -> Path:
    """The catalog used when none is given: $FAIRWAY_CATALOG, else the shipped one."""
    env = os.environ.get("FAIRWAY_CATALOG")
    return Path(env) if env else DEFAULT_ROOT


class _Collector:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.hash = hashlib.sha256()

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def add_to_hash(self, name: str, text: str) -> None:
        self.hash.update(name.encode() + b"\0" + text.encode("utf-8", "surrogatepass") + b"\0")

    def parse(self, path: Path, model: type[BaseModel], required: bool = True):
        """(spec or None, document or None) of one file, its problems collected."""
        name = self.rel(path)
        if not os.path.lexists(path):
            if required:
                self.problems.append(Problem(file=name, message="file is missing",
                                             expected=f"a YAML file of {model.__name__}"))
            return None, None
        text, problems = read_text(path, name, limit_name="yaml_file")   # regular files only, bounded
        if text is None:
            self.problems += problems
            return None, None
        self.add_to_hash(name, text)
        doc, problems = parse_yaml(text, name)
        self.problems += problems      # duplicate keys and the like: the rest is still checked
        if doc is None:
            return None, None
        if doc.data is None:
            self.problems.append(doc.problem((), "file is empty",
                                             expected=f"a mapping of {model.__name__}"))
            return None, doc
        spec, schema_problems = validate_located(doc, model)
        self.problems += schema_problems
        return (None if problems or schema_problems else spec), doc

    def parse_all(self, folder: Path, model: type[BaseModel]) -> list:
        return [self.parse(p, model) for p in sorted(folder.glob("*.yaml"))] if folder.is_dir() else []


def load_catalog(root: Path | str | None = None) -> Catalog:
    """Load and cross-check the catalog under `root`; raise CatalogError listing every problem."""
    catalog, problems, _ = inspect_catalog(root)
    if problems:
        raise CatalogError(problems)
    assert catalog is not None
    return catalog


def inspect_catalog(root: Path | str | None = None) -> tuple[Catalog | None, list[Problem], Locations]:
    """Parse and cross-check; return (catalog or None, problems, where each id is defined).

    Every file is read and checked, whatever is wrong with the others: what one file
    names in another is checked against whatever of the other loaded.
    """
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
    gap_files = c.parse_all(rules / "gaps", GapsFile)
    flow_files = c.parse_all(rules / "flows", Flow)
    test_files = c.parse_all(rules / "tests", TestsFile)
    lib_files = c.parse_all(library, LibraryFile)
    if not library.is_dir():
        c.problems.append(Problem(file=c.rel(library), message="folder is missing",
                                  expected="learning_library/ with the learning assets"))
    if not gap_files:
        c.problems.append(Problem(file=c.rel(rules / "gaps"), message="no gap files",
                                  expected="rules/gaps/*.yaml"))

    where = Locations({})
    x = CrossCheck(c.problems, where)
    roles, metrics = unknown(), unknown()
    if pipeline is not None:
        roles = Known({r.id: r for r in pipeline.roles})
        if x.pipeline(pipeline, pdoc):   # metric ids follow from a sound pipeline only
            metrics = Known(dict.fromkeys(MetricRegistry(pipeline).ids()))
    if thresholds is not None:
        x.thresholds(thresholds, tdoc, metrics)
    skills = x.skills(skills_file, sdoc)
    perf, behav = x.gaps(gap_files, metrics, roles, thresholds.industry if thresholds is not None else None)
    flows, questions = x.flows(flow_files, behav, skills, metrics)
    assets, assignments = x.library(lib_files, skills, library, roles, c.add_to_hash)
    tests = x.tests(test_files, roles, perf.merge(behav), behav, questions, skills, metrics)
    if c.problems:
        return None, c.problems, where
    assert pipeline is not None and thresholds is not None
    catalog = Catalog(root=root, pipeline=pipeline, thresholds=thresholds,
                      performance_gaps=freeze(perf.items), behaviour_gaps=freeze(behav.items),
                      skills=freeze(skills.items), flows=freeze(flows.items), assets=freeze(assets),
                      assignments=freeze(assignments), tests=tuple(tests),
                      sources=freeze(where.sources), version=c.hash.hexdigest()[:12])
    return catalog, [], where


def load_pipeline(root: Path | str | None = None) -> Pipeline:
    """Only rules/pipeline.yaml, checked: for tools that need the vocabulary, not the flows."""
    root = Path(root) if root is not None else default_root()
    c = _Collector(root)
    pipeline, doc = c.parse(root / "rules" / "pipeline.yaml", Pipeline)
    if pipeline is not None:
        CrossCheck(c.problems, Locations({})).pipeline(pipeline, doc)
    if c.problems:
        raise CatalogError(c.problems)
    return pipeline
