"""Missing data is "no data", never zero; a stray future row never moves the month under review."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from engine.dataset import load_dataset
from engine.demo.org import generate_org, write_org
from engine.diagnosis.analysis import analyse
from engine.diagnosis.documents import diagnosis_document, metrics_document


@pytest.fixture(scope="module")
def org_folder(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("org") / "org"
    write_org(generate_org(catalog.pipeline, reps=60, months=8, seed=5, end="2026-09", planted_share=0.3), folder)
    return folder


def _copy(org_folder, tmp_path, drop=(), edit=None):
    folder = tmp_path / "ds"
    shutil.copytree(org_folder, folder)
    for name in drop:
        (folder / name).unlink()
    if edit:
        edit(folder)
    return folder


def test_without_activities_no_activity_metric_and_no_activity_focus(org_folder, tmp_path, catalog):
    full = analyse(load_dataset(org_folder, catalog.pipeline), catalog)
    ds = load_dataset(_copy(org_folder, tmp_path, drop=["activities.csv"]), catalog.pipeline)
    assert not ds.coverage.activities and not ds.coverage.talk_time
    a = analyse(ds, catalog)
    t = a.table
    activity = [m for m in t.metric_ids if m.startswith(("activity.", "efficiency.")) or m == "talk_minutes"]
    assert activity and t.value[activity].isna().all().all()      # null, not 0
    doc = metrics_document(t, a.benchmarks, catalog.pipeline, catalog.thresholds)
    assert doc["not_in_data"]["activity.call"] == "no activities in the data"
    assert all(r["metrics"]["activity.call"]["value"] is None for r in doc["reps"])
    focus = [r.focus.metric for r in a.diagnosis.reps if r.focus]
    assert not [m for m in focus if m in activity], focus
    # what the opportunities say is still found: the closers' planted stage conversions
    full_stage = {r.rep_id for r in full.diagnosis.reps if r.focus and r.focus.metric.startswith("stage_conversion")}
    stage = {r.rep_id for r in a.diagnosis.reps if r.focus and r.focus.metric.startswith("stage_conversion")}
    assert stage and stage == full_stage
    # and nothing pretends: the diagnosis document has no activity finding at all
    findings = [f for r in diagnosis_document(a.diagnosis)["reps"] for f in r["findings"]]
    assert not [f for f in findings if f["metric"] in activity]


def test_without_loss_reasons_or_history_their_metrics_are_null(org_folder, tmp_path, catalog):
    def blank_reasons(folder):
        o = pd.read_csv(folder / "opportunities.csv", dtype=str, keep_default_na=False)
        o["loss_reason"] = ""
        o.to_csv(folder / "opportunities.csv", index=False)
    ds = load_dataset(_copy(org_folder, tmp_path, drop=["stage_history.csv"], edit=blank_reasons), catalog.pipeline)
    t = analyse(ds, catalog, with_diagnosis=False).table
    for prefix in ("loss_share.", "days_in_stage."):
        cols = [m for m in t.metric_ids if m.startswith(prefix)]
        assert cols and t.value[cols].isna().all().all(), prefix
    assert t.value["at_risk.stalled_share"].isna().all()
    assert t.value["win_rate"].notna().any()                 # what the data holds is still measured
    assert t.missing["loss_share.timing"] == "no loss reasons in the data"


def test_a_future_row_never_moves_the_month(org_folder, tmp_path, catalog):
    before = load_dataset(org_folder, catalog.pipeline)

    def typo(folder):
        with open(folder / "activities.csv", "a", encoding="utf-8") as fh:
            fh.write('"R0002",2062-10-03,"call",3.5,\n')
            fh.write('"R0003",2026-12-24,"email",,\n')
    ds = load_dataset(_copy(org_folder, tmp_path, edit=typo), catalog.pipeline)
    assert ds.as_of == before.as_of
    assert analyse(ds, catalog, with_diagnosis=False).table.period.label == "2026-09"
    assert any("2062-10-03" in w and "not counted" in w for w in ds.warnings)


def test_reps_who_left_are_measured_not_diagnosed(org_folder, tmp_path, catalog):
    def leave(folder):
        r = pd.read_csv(folder / "reps.csv", dtype=str, keep_default_na=False)
        r["end_date"] = ""
        r.loc[r["rep_id"] == "R0004", "end_date"] = "2026-08-15"
        r.to_csv(folder / "reps.csv", index=False)
    a = analyse(load_dataset(_copy(org_folder, tmp_path, edit=leave), catalog.pipeline), catalog)
    assert a.diagnosis.for_rep("R0004").left
    assert "R0004" not in {r["rep_id"] for r in diagnosis_document(a.diagnosis)["reps"]}
    i = list(a.table.reps["rep_id"]).index("R0004")
    assert a.table.reps.at[i, "left"] and a.table.value.loc[i].notna().any()      # still measured


def test_a_short_result_nothing_explains_opens_the_conversation(org_folder, tmp_path, catalog):
    """Revenue far below plan with no behaviour behind it: never a silent "nothing to coach"."""
    base = analyse(load_dataset(org_folder, catalog.pipeline), catalog)
    truth = pd.read_csv(org_folder / "ground_truth.csv", keep_default_na=False).set_index("rep_id")
    t = base.table
    healthy = [rid for rid, r in truth.iterrows() if r["role"] == "isr" and not r["planted_metric"]
               and base.diagnosis.for_rep(rid).focus is None and t.value.at[list(t.reps["rep_id"]).index(rid), "revenue"] > 0]
    rid = healthy[0]
    revenue = t.value.at[list(t.reps["rep_id"]).index(rid), "revenue"]

    def raise_goal(folder):
        g = pd.read_csv(folder / "goals.csv", dtype=str, keep_default_na=False)
        hit = (g["rep_id"] == rid) & (g["period"] == "2026-09") & (g["metric"] == "revenue")
        g.loc[hit, "target"] = str(round(revenue / 0.34))
        g.to_csv(folder / "goals.csv", index=False)
    a = analyse(load_dataset(_copy(org_folder, tmp_path, edit=raise_goal), catalog.pipeline), catalog)
    r = a.diagnosis.for_rep(rid)
    assert r.focus is None and r.opening is not None
    assert r.opening.performance_gap == "revenue_below_plan"
    assert "34% of plan" in r.opening.why and "nothing in the data explains it" in r.opening.why
    doc = next(d for d in diagnosis_document(a.diagnosis)["reps"] if d["rep_id"] == rid)
    assert doc["focus"] is None and doc["opening"]["metric"] == "revenue"


def test_the_snapshots_and_the_coverage_table_say_what_is_not_in_the_data(org_folder, tmp_path, catalog):
    from engine.diagnosis.snapshot import rep_documents
    from engine.sources import coverage_rows
    ds = load_dataset(_copy(org_folder, tmp_path, drop=["activities.csv"]), catalog.pipeline)
    docs, aggregates = rep_documents(analyse(ds, catalog), catalog)
    for d in docs:
        missing = d["metrics"]["not_in_data"]
        assert missing["activity.call"] == "no activities in the data"
        assert missing["talk_minutes"] and "win_rate" not in missing
        assert all(d["metrics"]["metrics"][m]["value"] is None for m in missing)
    assert aggregates["not_in_data"]["activity.call"] == "no activities in the data"
    rows = {r["data"]: r for r in coverage_rows(ds.coverage, ds.activity_types, catalog)}
    assert not rows["activities"]["present"] and rows["stage history"]["present"]
    assert "activity.call" in rows["activities"]["disables"] and rows["activities"]["gaps"]
    assert all(catalog.gaps[g].metric in rows["activities"]["disables"] for g in rows["activities"]["gaps"])
    assert rows["goals"]["present"] and rows["stage history"]["disables"] == []
