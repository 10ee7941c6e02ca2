"""The `fairway` command as a user meets it: outputs, exit codes, strict JSON."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from engine.catalog.loader import DEFAULT_ROOT
from web.cli import cli


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "org"
    r = CliRunner().invoke(cli, ["demo-data", str(out), "--reps", "30", "--months", "12", "--seed", "3",
                                 "--end", "2026-10"])
    assert r.exit_code == 0, r.output
    return out


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_demo_data_is_deterministic(org, tmp_path):
    again = tmp_path / "again"
    assert run("demo-data", again, "--reps", 30, "--months", 12, "--seed", 3, "--end", "2026-10").exit_code == 0
    for f in ("reps.csv", "opportunities.csv", "activities.csv", "ground_truth.csv"):
        assert (org / f).read_bytes() == (again / f).read_bytes()


def test_validate_valid_and_refused(org, tmp_path):
    r = run("validate", org)
    assert r.exit_code == 0 and "valid" in r.output and "30 reps" in r.output
    broken = tmp_path / "broken"
    shutil.copytree(org, broken)
    text = (broken / "reps.csv").read_text().replace('"isr"', '"closer"', 1)
    (broken / "reps.csv").write_text(text)
    r = run("validate", broken)
    assert r.exit_code == 1
    assert "reps.csv, row" in r.stderr and "unknown role (got 'closer')" in r.stderr


def test_metrics_json_follows_the_contract(org):
    r = run("metrics", org, "--json", "--period", "2026-10")
    assert r.exit_code == 0
    doc = json.loads(r.output, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert doc["period"] == "2026-10"
    rep = doc["reps"][0]
    assert {"rep_id", "name", "role", "team", "division", "metrics", "funnel", "benchmarks"} <= set(rep)
    assert {"value", "n"} <= set(rep["metrics"]["win_rate"])
    assert {"team", "division", "company"} <= set(rep["benchmarks"])
    assert [s["stage"] for s in rep["funnel"]] == ["discovery", "demo", "technical_fit", "proposal", "won"]
    assert {"count", "conversion_to_next", "conversion_from_top"} <= set(rep["funnel"][0])


def test_metrics_for_one_rep_and_readable_table(org):
    r = run("metrics", org, "--rep", "R0001", "--json")
    assert [x["rep_id"] for x in json.loads(r.output)["reps"]] == ["R0001"]
    r = run("metrics", org)
    assert r.exit_code == 0 and "Win rate" in r.output and "R0001" in r.output


def test_diagnose_json_follows_the_contract(org):
    r = run("diagnose", org, "--json")
    assert r.exit_code == 0
    doc = json.loads(r.output)
    focused = [x for x in doc["reps"] if x["focus"]]
    assert focused, "a demo org with planted gaps has reps to coach"
    f = focused[0]["focus"]
    assert {"metric", "performance_gap", "behaviour_gap", "skill_gap", "learning_assets", "why"} <= set(f)
    finding = focused[0]["findings"][0]
    assert {"level", "id", "metric", "value", "benchmark", "p_value", "impact", "evidence"} <= set(finding)
    assert {x["level"] for r_ in doc["reps"] for x in r_["findings"]} <= {"performance", "behaviour", "skill", "knowledge"}
    assert all(x["focus"] is None or x["findings"] for x in doc["reps"])


def test_usage_errors_exit_2(org):
    assert run("metrics", org, "--period", "2026-13").exit_code == 2
    assert run("diagnose", org, "--rep", "NOBODY").exit_code == 2
    assert run("metrics", "/no/such/folder").exit_code == 2


def test_catalog_check_and_test(tmp_path):
    r = run("catalog", "check")
    assert r.exit_code == 0 and "catalog ok" in r.output and "Coverage" in r.output
    r = run("catalog", "test")
    assert r.exit_code == 0 and " 0 failed" in r.output
    broken = tmp_path / "cat"
    shutil.copytree(DEFAULT_ROOT / "rules", broken / "rules")
    shutil.copytree(DEFAULT_ROOT / "learning_library", broken / "learning_library")
    p = broken / "rules/gaps/closing.yaml"
    p.write_text(p.read_text().replace("metric: win_rate", "metric: win_rat"))
    r = run("catalog", "check", broken)
    assert r.exit_code == 1
    assert "rules/gaps/closing.yaml:" in r.stderr and "did you mean 'win_rate'" in r.stderr
    assert run("metrics", tmp_path, "--catalog", broken).exit_code == 1


def test_metrics_json_has_groups_and_optional_series(org):
    doc = json.loads(run("metrics", org, "--json", "--rep", "R0001", "--series").output)
    assert {"team", "division", "company"} <= set(doc["groups"])
    company = doc["groups"]["company"]["0"]
    assert 0 <= company["metrics"]["win_rate"] <= 1 and company["funnel"][0]["stage"] == "discovery"
    series = doc["reps"][0]["series"]
    assert len(series["activity_month"]["buckets"]) == 12 and "call" in series["activity_month"]
    assert len(series["activity_day"]["buckets"]) == 31


def test_metrics_json_carries_month_trends(org):
    doc = json.loads(run("metrics", org, "--json", "--rep", "R0001").output)
    trends = doc["reps"][0]["trends"]
    assert {"efficiency.call.connect", "talk_minutes", "win_rate", "revenue"} <= set(trends)
    assert all(t["direction"] in ("up", "down", "flat") for t in trends.values())


def test_engine_settings_and_memory_limit_are_one_line_errors(org, monkeypatch):
    monkeypatch.setenv("FAIRWAY_DUCKDB_MEMORY", "lots")
    r = run("validate", org)
    assert r.exit_code == 1 and "FAIRWAY_DUCKDB_MEMORY='lots' is not an amount of memory" in r.stderr
    assert "Traceback" not in r.output
    monkeypatch.setenv("FAIRWAY_DUCKDB_MEMORY", "4MB")
    r = run("diagnose", org)
    assert r.exit_code == 1, r.output
    assert "ran out of memory at its limit of 4MB" in r.stderr and "FAIRWAY_DUCKDB_MEMORY" in r.stderr
    assert "not a readable" not in r.stderr          # the limit is not blamed on a file
    monkeypatch.setenv("FAIRWAY_DUCKDB_MEMORY", "1GB")
    monkeypatch.setenv("FAIRWAY_DUCKDB_THREADS", "0")
    r = run("validate", org)
    assert r.exit_code == 1 and "FAIRWAY_DUCKDB_THREADS='0'" in r.stderr


# --------------------------------------------------------------------------- catalog whatif, diff, export

def test_catalog_whatif_lists_the_reps_whose_focus_changes(org):
    r = run("catalog", "whatif", org, "--set", "significance=0.2", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    plain = json.loads(run("diagnose", org, "--json").output)
    assert doc["period"] == plain["period"]
    assert doc["unchanged"] + len(doc["changed"]) == sum(1 for rep in plain["reps"] if not rep.get("left"))
    focus = {rep["rep_id"]: (rep["focus"] or {}).get("metric") for rep in plain["reps"]}
    assert doc["changed"], "a looser significance gives some rep a focus"
    for c in doc["changed"]:
        assert {"rep_id", "name", "before", "after"} <= set(c)
        assert c["before"] == focus[c["rep_id"]] and c["after"] != c["before"]
    text = run("catalog", "whatif", org, "--set", "significance=0.2")
    assert text.exit_code == 0 and ("change focus" in text.stdout or "changes focus" in text.stdout)


@pytest.mark.parametrize("args,code,says", [
    (["--set", "min_gapp=0.2"], 2, "did you mean 'min_gap'"),
    (["--set", "min_gap"], 2, "not KEY=VALUE"),
    (["--set", "gaps.nope.min_gap=0.2"], 2, "no gap 'nope'"),
    (["--set", "min_gap=1.5"], 1, "rules/thresholds.yaml:15, key min_gap"),
    (["--set", "min_gap=0.2", "--period", "1999-01"], 2, "1999-01"),
])
def test_catalog_whatif_refuses_what_it_cannot_do(org, args, code, says):
    r = run("catalog", "whatif", org, *args)
    assert r.exit_code == code, r.output
    assert says in r.stderr


def test_catalog_diff_of_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        shutil.copytree(DEFAULT_ROOT / "rules", d / "rules")
        shutil.copytree(DEFAULT_ROOT / "learning_library", d / "learning_library")
    (b / "rules/thresholds.yaml").write_text((a / "rules/thresholds.yaml").read_text().replace("min_gap: 0.15",
                                                                                               "min_gap: 0.2"))
    r = run("catalog", "diff", a, b)
    assert r.exit_code == 0
    assert "-min_gap: 0.15\n+min_gap: 0.2\n" in r.output and "rules/thresholds.yaml" in r.output
    assert "changed  rules/thresholds.yaml  +1 -1" in run("catalog", "diff", a, b, "--stat").output
    same = run("catalog", "diff", a, a)
    assert same.exit_code == 0 and same.stdout == "" and "0 files differ" in same.stderr
    assert run("catalog", "diff", a, tmp_path / "nothing-here").exit_code == 2


def test_catalog_versions_export_and_diff_of_an_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRWAY_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("FAIRWAY_ENV", "development")
    monkeypatch.delenv("FAIRWAY_DATABASE_URL", raising=False)
    assert run("db", "upgrade").exit_code == 0
    listed = run("catalog", "versions")
    assert listed.exit_code == 0 and listed.output.startswith("*    1 ") and "initial" in listed.output
    out = tmp_path / "v1"
    assert run("catalog", "export", 1, out).exit_code == 0
    assert (out / "rules/thresholds.yaml").read_text() == (DEFAULT_ROOT / "rules/thresholds.yaml").read_text()
    assert run("catalog", "diff", 1, DEFAULT_ROOT).stdout == ""
    assert run("catalog", "export", 1, tmp_path / "v1.zip").exit_code == 0
    assert (tmp_path / "v1.zip").read_bytes()[:2] == b"PK"
    assert run("catalog", "diff", 7, DEFAULT_ROOT).exit_code == 2
