"""Real-shaped CRM data in: each export shape (tests/exports) through its shipped mapping.

A new Salesforce or HubSpot customer runs one import with the shipped mapping and gets a
valid dataset, a report that says what was left out and what is missing, metrics that
agree with plain pandas on the raw export, and a diagnosis that finds the planted
weaknesses (a demo-stage dropout, a low connect rate) and invents nothing.
"""
from __future__ import annotations

import os
import uuid

import pandas as pd
import pytest

from engine.dataset import load_dataset
from engine.diagnosis.analysis import analyse
from engine.sources import import_dataset, load_mapping, parse_mapping, shipped_mappings
from exports import load_warehouse
from exports.make_exports import SHAPES, write_exports
from exports.reference import figures

ARGS = {"reps": 40, "months": 8, "seed": 7, "end": "2026-10"}
MONTH = "2026-10"
MAPPING = {"salesforce-api": "salesforce", "salesforce-dataloader": "salesforce", "salesforce-sync": "salesforce",
           "salesforce-report": "salesforce-report", "hubspot-sync": "hubspot", "hubspot-export": "hubspot-export"}
# what no shipped mapping can know of this HubSpot org: its time zone and its own call outcome
HUBSPOT_OVERLAY = """
timezone: America/New_York
call_results:
  6e1b5c0a-3d2f-4a8e-9c71-8f40d2b9e513: connect     # "Meeting booked", the org's own outcome
"""
SPOT = {"won_deals": "stage_entries.won", "revenue": "revenue", "win_rate": "win_rate",
        "calls": "activity.call", "connects": "activity.connect",
        "meetings_scheduled": "activity.meeting_scheduled", "meetings_held": "activity.meeting_held"}


def _mapping(shape: str, pipeline):
    path = shipped_mappings()[MAPPING[shape]]
    if shape == "hubspot-sync":
        return parse_mapping(path.read_text(), path.name, pipeline, overlay=HUBSPOT_OVERLAY)
    return load_mapping(path, pipeline)


@pytest.fixture(scope="module", params=SHAPES)
def imported(request, tmp_path_factory, catalog):
    shape = request.param
    root = tmp_path_factory.mktemp(shape)
    truth = write_exports(root / "exports", shape, **ARGS)
    report = import_dataset(root / "exports", _mapping(shape, catalog.pipeline), root / "dataset", catalog.pipeline)
    analysis = analyse(load_dataset(root / "dataset", catalog.pipeline), catalog, MONTH)
    return shape, root / "exports", truth, report, analysis


def test_the_import_reports_what_it_left_out_and_what_the_data_holds(imported, catalog):
    shape, _, _, report, _ = imported
    doc = report.to_dict(catalog)
    left_out = {reason for t in doc["tables"].values() for p in t["parts"] for reason in p["dropped"]}
    assert any("not a kept rep" in r for r in left_out), left_out          # managers' and admins' rows
    if shape.startswith(("salesforce-api", "salesforce-sync", "hubspot-sync")):
        assert "deleted in the CRM" in left_out
    coverage = {row["data"]: row["present"] for row in doc["coverage"]}
    assert all(coverage[k] for k in ("stage history", "activities", "call durations (talk time)",
                                     "amounts of won deals", "the stage lost deals reached")), coverage
    assert doc["dates"]["as_of"] <= "2026-11-01"                     # a call typed in 2062 moves nothing
    assert doc["reps_by_role"]["bdr"] > 0 and doc["reps_by_role"]["isr"] > 0


def test_metrics_agree_with_pandas_on_the_raw_export(imported):
    shape, folder, _, _, analysis = imported
    ref = figures(folder, MONTH)
    t = analysis.table
    ids = list(t.reps["rep_id"])
    differences = []
    for rid in ref.index:
        assert rid in ids, f"{shape}: rep {ref.at[rid, 'name']} ({rid}) not imported"
        i = ids.index(rid)
        for name, metric in SPOT.items():
            want, got = ref.at[rid, name], t.value.at[i, metric]
            if pd.isna(want) and pd.isna(got):
                continue
            if pd.isna(want) or pd.isna(got) or abs(float(want) - float(got)) > 1e-6:
                differences.append((ref.at[rid, "name"], name, want, got))
    assert not differences, f"{shape}: {differences[:10]}"


def test_the_diagnosis_finds_the_planted_weaknesses_and_invents_nothing(imported):
    shape, _, truth, _, analysis = imported
    focus = {r.rep_id: (r.focus.metric if r.focus else None) for r in analysis.diagnosis.reps}
    planted = {p["export_id"]: p["planted_metric"] for p in truth["planted"]}
    for metric in ("stage_conversion.demo", "efficiency.call.connect"):
        reps = [rid for rid, m in planted.items() if m == metric]
        assert reps and all(focus.get(rid) == metric for rid in reps), (shape, metric, {r: focus.get(r) for r in reps})
    found = sum(focus.get(rid) == m for rid, m in planted.items())
    assert found >= len(planted) - 1, (shape, found, len(planted))
    false_alarms = [rid for rid, m in focus.items() if m and rid not in planted]
    assert len(false_alarms) <= 1, (shape, false_alarms)


def test_an_unknown_call_outcome_is_listed_not_silently_dropped(tmp_path, catalog):
    """Without the overlay, the org's own outcome id counts as no connect: the report says so."""
    write_exports(tmp_path / "exports", "hubspot-sync", reps=12, months=2, seed=3, end="2025-12")
    mapping = load_mapping(shipped_mappings()["hubspot"], catalog.pipeline)
    report = import_dataset(tmp_path / "exports", mapping, tmp_path / "dataset", catalog.pipeline, dry_run=True)
    listed = {u.value: u for u in report.unmapped if u.column == "(call_results)"}
    assert "6e1b5c0a-3d2f-4a8e-9c71-8f40d2b9e513" in listed
    assert "counts as none" in listed["6e1b5c0a-3d2f-4a8e-9c71-8f40d2b9e513"].became
    assert not (tmp_path / "dataset").exists()                        # a dry run writes nothing


@pytest.mark.parametrize("shape", ["salesforce-sync", "hubspot-sync"])
def test_a_warehouse_sync_in_postgresql_imports_like_its_files(tmp_path, catalog, shape):
    url = os.environ.get("FAIRWAY_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("FAIRWAY_TEST_POSTGRES_URL not set: no PostgreSQL to test on")
    import sqlalchemy as sa
    from engine.sources.warehouse import import_warehouse
    folder = tmp_path / "exports"
    write_exports(folder, shape, reps=12, months=2, seed=3, end="2025-12")
    schema = f"crm_{uuid.uuid4().hex[:8]}"
    load_warehouse.load(folder, url, schema=schema)
    try:
        mapping = _mapping(shape, catalog.pipeline)
        from_db = import_warehouse(url, schema, mapping, tmp_path / "from_db", catalog.pipeline)
        from_files = import_dataset(folder, mapping, tmp_path / "from_files", catalog.pipeline)
        assert from_db.summary()["rows"] == from_files.summary()["rows"]
        a = load_dataset(tmp_path / "from_db", catalog.pipeline)
        b = load_dataset(tmp_path / "from_files", catalog.pipeline)
        pd.testing.assert_frame_equal(a.activity_daily, b.activity_daily)
        pd.testing.assert_frame_equal(a.opportunities.drop(columns=["opp"]), b.opportunities.drop(columns=["opp"]))
    finally:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
