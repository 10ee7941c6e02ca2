"""The catalog: loaded whole or refused with every problem located; static analysis;
its own tests; and the shipped catalog passing all of it."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from engine.catalog import inspect_catalog, load_catalog
from engine.catalog.check import check_catalog
from engine.catalog.loader import DEFAULT_ROOT
from engine.catalog.testing import run_catalog_tests
from engine.errors import CatalogError


def catalog_copy(tmp_path: Path, files: dict[str, str | None] | None = None) -> Path:
    """The shipped catalog, with some files replaced by inline YAML (None deletes)."""
    root = tmp_path / "cat"
    shutil.copytree(DEFAULT_ROOT / "rules", root / "rules")
    shutil.copytree(DEFAULT_ROOT / "learning_library", root / "learning_library")
    for rel, text in (files or {}).items():
        path = root / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    _, problems, _ = inspect_catalog(root)
    return [str(p) for p in problems]


def test_the_shipped_catalog_loads_checks_and_passes_its_tests(catalog):
    report = check_catalog()
    assert report.errors == [] and report.warnings == []
    outcomes = run_catalog_tests(catalog)
    assert outcomes and all(o.passed for o in outcomes), [o.diffs for o in outcomes if not o.passed]
    assert len(catalog.flows) == len(catalog.behaviour_gaps)
    for sid in catalog.skills:      # every root cause has a learning asset and a selling assignment
        assert catalog.assets_for(sid) and catalog.assignments_for(sid), sid
    shipped = [a for a in catalog.assets.values() if a.file]
    assert shipped and all(catalog.asset_path(a).is_file() for a in shipped)


def test_unknown_key_with_suggestion_and_line(tmp_path):
    root = catalog_copy(tmp_path, {"rules/gaps/extra.yaml": """
        performance:
          - id: late_deals
            title: Deals close late
            metrc: cycle_days
            roles: [isr]
        """})
    msgs = problems_of(root)
    hit = [m for m in msgs if "unknown key" in m]
    assert hit and hit[0].startswith("rules/gaps/extra.yaml:4") and "did you mean 'metric'" in hit[0]
    assert any("required key is missing" in m and "metric" in m for m in msgs)


def test_every_broken_reference_is_reported_at_once(tmp_path):
    root = catalog_copy(tmp_path, {"rules/gaps/broken.yaml": """
        behaviour:
          - id: slow_demos
            title: Demos take long
            metric: days_in_stage.demoo
            roles: [isr, closer]
            explains: [low_win_rat]
        """})
    msgs = problems_of(root)
    assert any("unknown metric id" in m and "days_in_stage.demo" in m for m in msgs)
    assert any("unknown role" in m and "'closer'" in m for m in msgs)
    assert any("unknown performance gap" in m and "did you mean 'low_win_rate'" in m for m in msgs)
    assert all(m.startswith("rules/gaps/broken.yaml:") for m in msgs)   # file:line


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    root = catalog_copy(tmp_path, {"rules/thresholds.yaml": "significance: 0.05\nmin_gap: [0.1\n"})
    msgs = problems_of(root)
    assert len(msgs) == 1 and msgs[0].startswith("rules/thresholds.yaml:") and "not valid YAML" in msgs[0]


def test_thresholds_out_of_range_and_duplicate_keys(tmp_path):
    root = catalog_copy(tmp_path, {"rules/thresholds.yaml": """
        significance: 1.5
        min_gap: 0.15
        min_gap: 0.2
        rag: {green: 0.5, yellow: 0.8}
        """})
    msgs = problems_of(root)
    assert any("significance" in m and "less than 0.5" in m for m in msgs)
    assert any("duplicate key" in m and ":3" in m for m in msgs)
    assert any("yellow must not be above green" in m for m in msgs)


def test_a_flow_refers_to_questions_answers_and_causes_that_exist(tmp_path):
    root = catalog_copy(tmp_path, {"rules/flows/demo_dropoff.yaml": """
        behaviour_gap: demo_dropoff
        candidates: {qualification: 1, demo_delivery: 1}
        evidence:
          - id: e1
            when: {metric: loss_share.poor_qualification, above: 0.2}
            points_to: {qualifcation: 1}
            says: "x"
        questions:
          - id: dq1
            ask: Who gets a demo?
            answers:
              - {id: a, say: Anyone, points_to: {qualification: 2}, next: dq0}
              - {id: b, say: Qualified ones, points_to: {pain_discovery: 1}}
          - id: dq2
            ask: And then?
            ask_if: {question: dq1, answer_in: [c]}
            answers:
              - {id: a, say: x, points_to: {demo_delivery: 1}}
              - {id: b, say: y, points_to: {qualification: 1}}
        """})
    msgs = problems_of(root)
    assert any("not a candidate of this flow" in m and "qualifcation" in m and "did you mean 'qualification'" in m for m in msgs)
    assert any("unknown question of this flow" in m and "dq0" in m for m in msgs)
    assert any("not a candidate" in m and "pain_discovery" in m for m in msgs)
    assert any("unknown answer of dq1" in m and "'c'" in m for m in msgs)


def test_static_analysis_finds_unreachable_questions_and_dead_answers(tmp_path):
    root = catalog_copy(tmp_path, {"rules/flows/demo_dropoff.yaml": """
        behaviour_gap: demo_dropoff
        candidates: {qualification: 1, demo_delivery: 1}
        questions:
          - id: dq1
            ask: Who gets a demo?
            answers:
              - {id: a, say: Anyone, points_to: {qualification: 2}, next: dq3}
              - {id: b, say: Qualified ones, points_to: {demo_delivery: 1}, next: dq3}
          - id: dq2
            ask: Never asked
            ask_if: {question: dq1, answer_in: [a]}     # but answer a jumps past it
            answers:
              - {id: a, say: x, points_to: {demo_delivery: 1}}
              - {id: b, say: y}
          - id: dq3
            ask: Last
            answers:
              - {id: a, say: x, points_to: {demo_delivery: 1}}
              - {id: b, say: y, points_to: {qualification: 1}}
        """, "rules/tests/closing.yaml": None})   # its tests answer the shipped questions
    report = check_catalog(root)
    assert any("no conversation reaches this question" in str(p) and "dq2" in str(p) for p in report.errors)
    assert any("tells nothing apart" in str(p) and "dq2.answers.b" in str(p) for p in report.warnings)


def test_coverage_report_lists_root_causes_without_assets(tmp_path):
    root = catalog_copy(tmp_path)
    skills = (root / "rules/skills.yaml").read_text() + textwrap.indent(textwrap.dedent("""
        - id: territory_planning
          kind: skill
          title: Territory planning
        """), "  ")
    (root / "rules/skills.yaml").write_text(skills)
    report = check_catalog(root)
    assert not report.errors and not report.ok(strict=True)
    texts = [str(w) for w in report.warnings]
    assert any("no learning asset" in t and "territory_planning" in t for t in texts)
    assert any("no selling assignment" in t and "territory_planning" in t for t in texts)
    assert any("no flow considers" in t for t in texts)
    row = next(r for r in report.coverage if r["skill"] == "territory_planning")
    assert row["assets"] == [] and row["assignments"] == []


def test_a_failing_catalog_test_shows_expected_against_actual(tmp_path):
    root = catalog_copy(tmp_path, {"rules/tests/extra.yaml": """
        tests:
          - name: wrong expectation
            role: isr
            gaps:
              low_win_rate: {value: 0.31, benchmark: 0.52, p: 0.003, n: 60}
              demo_dropoff: {value: 0.53, benchmark: 0.81, p: 0.004, n: 34}
            expect:
              focus: proposal_dropoff
              findings: [low_win_rate]
        """})
    outcomes = run_catalog_tests(load_catalog(root))
    bad = next(o for o in outcomes if o.name == "wrong expectation")
    text = "\n".join(bad.diffs)
    assert "focus:\n    expected: proposal_dropoff\n    got:      demo_dropoff" in text
    assert "findings:" in text and "demo_dropoff" in text


def test_load_catalog_raises_with_every_problem(tmp_path):
    root = catalog_copy(tmp_path, {"rules/skills.yaml": None})
    with pytest.raises(CatalogError, match="rules/skills.yaml: file is missing"):
        load_catalog(root)


def test_a_schema_error_in_thresholds_hides_no_other_problem(tmp_path):
    root = catalog_copy(tmp_path, {"rules/thresholds.yaml": "significance: .nan\n",
                                   "rules/gaps/extra.yaml": """
        performance:
          - id: late_deals
            title: Deals close late
            metric: cycle_dayz
            roles: [isr]
        """})
    msgs = problems_of(root)
    assert "rules/thresholds.yaml:1, key significance: Input should be a finite number (got nan)" in msgs
    assert any(m.startswith("rules/gaps/extra.yaml:4, key performance[0].metric: unknown metric id") for m in msgs)


def test_masking_cycles_are_found_once_each():
    from engine.catalog.crosscheck import masking_cycles
    masks = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["e"], "e": ["d", "a"], "f": ["a"]}
    assert masking_cycles(masks) == [["a", "b", "c"], ["d", "e"]]
    assert masking_cycles({"a": ["b"], "b": [], "c": ["a", "b"]}) == []


def test_filling_an_evidence_sentence_never_raises_whatever_it_holds(catalog):
    from engine.catalog.specs import Evidence
    from engine.diagnosis.diagnose import fill_says
    ev = next(iter(catalog.flows.values())).evidence[0]
    for says in ("{value.__class__}", "{value.nosuchattr}", "{value:>99999999}", "{0}", "{", "{value:.0%}"):
        hostile = Evidence.model_construct(**{**ev.__dict__, "says": says})    # as if validation were skipped
        out = fill_says(hostile, lambda m: 0.5, lambda m, k: 0.25)
        assert out == ("50%" if says == "{value:.0%}" else says)


def test_static_analysis_of_a_flow_with_too_many_paths_ends_quickly(tmp_path):
    import time
    answers = "\n".join(f"      - {{id: a{k}, say: Answer {k}, points_to: {{qualification: 1}}}}" for k in range(4))
    questions = []
    for i in range(12):                          # twelve questions, then twelve asking about each of them
        questions.append(f"  - id: q{i}\n    ask: Question {i}?\n    answers:\n{answers}")
    for i in range(12):
        questions.append(f"  - id: r{i}\n    ask: Follow-up {i}?\n    ask_if: {{question: q{i}, answer_in: [a0]}}\n"
                         f"    answers:\n{answers}")
    root = catalog_copy(tmp_path, {"rules/flows/demo_dropoff.yaml": "behaviour_gap: demo_dropoff\n"
                                   "candidates: {qualification: 1}\nquestions:\n" + "\n".join(questions) + "\n",
                                   "rules/tests/closing.yaml": None})
    start = time.perf_counter()
    report = check_catalog(root)
    assert time.perf_counter() - start < 30
    assert [str(e) for e in report.errors] == [
        "rules/flows/demo_dropoff.yaml:1, key questions: more than 20,000 ways through the questions: too many "
        "to check that each question can be reached; expected fewer ask_if conditions on answers of different "
        "questions"]
