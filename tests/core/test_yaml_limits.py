"""The YAML parser refuses hostile documents while reading them, each with its line."""
from __future__ import annotations

import math
import resource
import time

import pytest

from engine.yamlspec.parse import MAX_ALIASES, MAX_DEPTH, MAX_NODES, load_yaml, parse_yaml


def refused(text: str) -> list[str]:
    doc, problems = parse_yaml(text, "f.yaml")
    assert doc is None and problems, (doc, problems)
    return [str(p) for p in problems]


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_plain_documents_and_a_few_aliases_still_read():
    doc, problems = parse_yaml("a: &x {k: 1}\nb: [*x, *x]\nc: !!str 12\nd: !!float 1\n", "f.yaml")
    assert problems == [] and doc.data == {"a": {"k": 1}, "b": [{"k": 1}, {"k": 1}], "c": "12", "d": 1.0}
    assert doc.lines[("b",)] == 2


def test_a_billion_laughs_is_refused_before_it_is_expanded():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    msgs = refused(billion_laughs())
    assert time.perf_counter() - start < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000   # KiB: nothing was built
    assert len(msgs) == 1 and f"more than {MAX_NODES:,} values" in msgs[0]
    assert msgs[0].startswith("f.yaml:5, key l4[")        # 10**5 lols: the first level over the limit


def test_aliases_are_limited_in_number():
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    msgs = refused(text)
    assert msgs == [f"f.yaml:2, key b[{MAX_ALIASES}]: more than {MAX_ALIASES} aliases in one document; "
                    "expected the values written out"]
    doc, problems = parse_yaml("a: &a 1\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n", "f.yaml")
    assert problems == [] and len(doc.data["b"]) == MAX_ALIASES


@pytest.mark.parametrize("text, where", [
    ("skills: &a [*a]\n", "f.yaml:1, key skills[0]"),
    ("a: &a {b: {c: *a}}\n", "f.yaml:1, key a.b.c"),
    ("a: &a\n  - x\n  - *a\n", "f.yaml:3, key a[1]"),
])
def test_recursive_aliases_are_refused(text, where):
    msgs = refused(text)
    assert len(msgs) == 1 and msgs[0].startswith(where) and "recursive alias" in msgs[0]


def test_undefined_and_duplicate_anchors():
    assert "names no anchor" in refused("a: *nope\n")[0]
    assert refused("a: &x 1\nb: &x 2\n")[0].startswith("f.yaml:2, key b: the anchor &x is defined twice")


@pytest.mark.parametrize("text, tag", [
    ("skills: !!python/object:os.system {}\n", "!!python/object:os.system"),
    ("skills: !!python/object/apply:os.system [ls]\n", "!!python/object/apply:os.system"),
    ("a: !foo x\n", "!foo"),
    ("a: !!binary aGVsbG8=\n", "!!binary"),
    ("a: !!set {x}\n", "!!set"),
    ("a: !!omap [{x: 1}]\n", "!!omap"),
])
def test_unknown_tags_are_refused_with_their_line(text, tag):
    msgs = refused(text)
    assert msgs[0].startswith("f.yaml:1, key a") and "a YAML tag fairway does not read" in msgs[0] \
        or msgs[0].startswith("f.yaml:1, key skills")
    assert repr(tag) in msgs[0]


def test_every_tag_is_listed_at_once():
    msgs = refused("a: !foo x\nb: 1\nc: !bar y\n")
    assert [m.split(":")[1] for m in msgs] == ["1, key a", "3, key c"]


def test_tagged_values_must_read_as_their_type():
    msgs = refused("a: !!int abc\nb: !!bool maybe\nc: !!timestamp soon\n")
    assert len(msgs) == 3 and "for !!int" in msgs[0] and "for !!bool" in msgs[1] and "for !!timestamp" in msgs[2]


def test_deep_nesting_and_second_documents_are_refused():
    assert f"nested deeper than {MAX_DEPTH} levels" in refused("a: " + "[" * 200 + "]" * 200 + "\n")[0]
    doc, problems = parse_yaml("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n", "f.yaml")
    assert problems == []
    assert refused("a: 1\n---\nb: 2\n") == ["f.yaml:2: a second YAML document (---) in the file; "
                                            "expected one document per file"]


def test_merge_keys_are_refused():
    assert refused("b: &x {k: 1}\na:\n  <<: *x\n")[0].startswith(
        "f.yaml:3, key a: merge keys (<<) are not supported")


def test_values_that_cannot_be_built_are_problems_not_tracebacks():
    doc, problems = parse_yaml("a: 2026-13-45\nb: " + "1" * 5000 + "\nc: 1.0e+999\n", "f.yaml")
    msgs = [str(p) for p in problems]
    assert msgs[0].startswith("f.yaml:1, key a: not a valid date: month must be in 1..12")
    assert msgs[1].startswith("f.yaml:2, key b: not a valid whole number")
    assert len(msgs) == 2 and math.isinf(doc.data["c"])          # the schema refuses infinities


def test_control_characters_are_reported_with_their_line():
    assert refused("a: 1\nb: \x00\n") == ["f.yaml:2: not valid YAML: control characters are not allowed"]


def test_files_are_read_under_the_path_policy(tmp_path):
    (tmp_path / "d.yaml").mkdir()
    doc, problems = load_yaml(tmp_path / "d.yaml", "d.yaml")
    assert doc is None and str(problems[0]) == "d.yaml: a folder where a file belongs; expected a regular file"
    doc, problems = load_yaml("/dev/zero", "zero.yaml")
    assert doc is None and "not a regular file" in problems[0].message
