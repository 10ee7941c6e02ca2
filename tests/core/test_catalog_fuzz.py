"""Fuzzing the YAML parser and the catalog loader: any input is accepted or refused with
problems, never another exception, never a hang.

Three sources of input: arbitrary text; text built from YAML's special tokens (anchors,
aliases, tags, flow brackets, merge keys, documents...); and mutations of the shipped
catalog files, in their text or in their structure (a value replaced by any YAML
value, a key dropped or renamed, an item repeated). Examples are derandomized so that a
run is reproducible; FAIRWAY_FUZZ_EXAMPLES raises their number for a longer hunt.
"""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.catalog import load_catalog
from engine.diagnosis.diagnose import fill_says
from engine.errors import CatalogError, Problem
from engine.paths import shipped_root
from engine.yamlspec.parse import parse_yaml

EXAMPLES = int(os.environ.get("FAIRWAY_FUZZ_EXAMPLES", "0"))


def fuzz(examples: int, deadline_ms: int):
    return settings(max_examples=EXAMPLES or examples, deadline=deadline_ms, derandomize=not EXAMPLES,
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


TOKENS = ["a", "b", "id", "skills", ":", ": ", " ", "  ", "\n", "\n  ", "- ", "[", "]", "{", "}", ", ", "&a ",
          "*a", "&b ", "*b", "!!python/object:os.system ", "!foo ", "!!binary ", "!!int ", "!!str ", "!", "? ",
          "<<: ", "'", '"', "#", "---\n", "...\n", ".nan", ".inf", "-.inf", "1.0e+999", "2026-13-45", "yes",
          "~", "|\n", ">-\n", "\t", "%YAML 1.1\n", "\\0", "\x00", "\ufeff", "{value.__class__}", "{value:>9999}",
          "1" * 50, "=", "@", "`"]


def assert_parsed_or_refused(text: str) -> None:
    doc, problems = parse_yaml(text, "f.yaml")
    assert all(isinstance(p, Problem) and p.file == "f.yaml" for p in problems)
    if doc is None:
        assert problems
        return
    assert doc.file == "f.yaml"
    for p in problems:
        str(p)


@fuzz(300, 1000)
@given(st.text(max_size=400))
def test_any_text_parses_or_is_refused(text):
    assert_parsed_or_refused(text)


@fuzz(400, 1000)
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_yaml_like_text_parses_or_is_refused(text):
    assert_parsed_or_refused(text)


# --------------------------------------------------------------------------- the catalog, mutated

YAML_FILES = sorted(p.relative_to(shipped_root()).as_posix()
                    for folder in ("rules", "learning_library") for p in (shipped_root() / folder).rglob("*.yaml"))

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10), st.integers(min_value=10 ** 18, max_value=10 ** 40),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 0.5, 1.0, -1.0, 1e308]),
    st.text(max_size=30), st.sampled_from(["isr", "bdr", "qualification", "demo_dropoff", "win_rate",
                                           "team_median", "loss_share.timing", "{value:.0%}", "{value.real}",
                                           "{benchmark:>99999}", "{", "microlearning/x.md", "../x.md"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "cat"
    shutil.copytree(shipped_root() / "rules", root / "rules")
    shutil.copytree(shipped_root() / "learning_library", root / "learning_library")
    return root


def paths_in(data, prefix=()):
    """Every key path of a parsed document."""
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths_in(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from paths_in(v, prefix + (i,))


def mutate(data, path: tuple, how: str, value):
    """`data` with the node at `path` replaced, dropped, renamed or repeated."""
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if how == "replace":
        parent[last] = value
    elif how == "drop":
        del parent[last]
    elif how == "repeat" and isinstance(parent, list):
        parent.insert(last, parent[last])
    elif how == "rename" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.pop(last)
    return data


def check_catalog_outcome(root: Path) -> None:
    try:
        catalog = load_catalog(root)       # inspect_catalog, raising CatalogError on problems
    except CatalogError as err:
        assert err.problems and all(isinstance(p, Problem) and str(p) for p in err.problems)
        return
    for flow in catalog.flows.values():     # whatever a sentence says, filling it never fails
        for ev in flow.evidence:
            for v in (0.5, math.nan, 1e308, -math.inf):
                assert isinstance(fill_says(ev, lambda m, v=v: v, lambda m, k, v=v: v), str)


@fuzz(30, 5000)
@given(rel=st.sampled_from(YAML_FILES), data=st.data())
def test_structural_mutations_are_accepted_or_refused(workdir, rel, data):
    path = workdir / rel
    original = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(original)
    target = data.draw(st.sampled_from(list(paths_in(doc))))
    how = data.draw(st.sampled_from(["replace", "replace", "drop", "repeat", "rename"]))
    new = mutate(doc, target, how, data.draw(values))
    try:
        path.write_text(yaml.safe_dump(new, allow_unicode=True), encoding="utf-8")
        check_catalog_outcome(workdir)
    finally:
        path.write_text(original, encoding="utf-8")


@fuzz(30, 5000)
@given(rel=st.sampled_from(YAML_FILES), data=st.data())
def test_text_mutations_are_accepted_or_refused(workdir, rel, data):
    path = workdir / rel
    original = path.read_text(encoding="utf-8")
    at = data.draw(st.integers(0, len(original)))
    cut = data.draw(st.integers(0, 40))
    insert = "".join(data.draw(st.lists(st.sampled_from(TOKENS), max_size=6)))
    try:
        path.write_text(original[:at] + insert + original[at + cut:], encoding="utf-8")
        check_catalog_outcome(workdir)
    finally:
        path.write_text(original, encoding="utf-8")
