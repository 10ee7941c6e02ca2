"""Datasets are accepted whole or refused whole, with every problem located."""
from __future__ import annotations

import copy

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from engine.dataset import load_dataset
from engine.errors import DatasetError
from helpers import write_dataset


def base() -> dict[str, list[dict]]:
    """A small valid dataset that each case breaks in one way."""
    return {
        "reps": [
            {"rep_id": "R1", "name": "Nancy Olson", "role": "isr", "team": "Closers", "division": "East", "manager": "Maria"},
            {"rep_id": "R2", "name": "Andrea Martin", "role": "isr", "team": "Closers", "division": "East", "manager": "Maria"},
            {"rep_id": "B1", "name": "Joseph Teegardin", "role": "bdr", "team": "Hunters", "division": "East", "manager": "Sam"},
        ],
        "opportunities": [
            {"opportunity_id": "O1", "rep_id": "R1", "created_date": "2026-08-01", "status": "won", "stage": "won",
             "amount": "12000", "close_date": "2026-10-03", "loss_reason": "", "source_rep_id": "B1"},
            {"opportunity_id": "O2", "rep_id": "R1", "created_date": "2026-08-02", "status": "lost", "stage": "demo",
             "amount": "8000", "close_date": "2026-10-05", "loss_reason": "timing", "source_rep_id": ""},
            {"opportunity_id": "O3", "rep_id": "R2", "created_date": "2026-09-03", "status": "open", "stage": "proposal",
             "amount": "7000", "close_date": "2026-12-01", "loss_reason": "", "source_rep_id": ""},
        ],
        "stage_history": [
            {"opportunity_id": "O1", "stage": "discovery", "entered_date": "2026-08-01"},
            {"opportunity_id": "O1", "stage": "demo", "entered_date": "2026-08-10"},
            {"opportunity_id": "O2", "stage": "discovery", "entered_date": "2026-08-02"},
        ],
        "activities": [
            {"rep_id": "B1", "date": "2026-10-01", "type": "call", "duration_minutes": "4", "opportunity_id": ""},
            {"rep_id": "B1", "date": "2026-10-01T09:30:00", "type": "connect", "duration_minutes": "", "opportunity_id": ""},
            {"rep_id": "R1", "date": "2026-10-02", "type": "meeting_held", "duration_minutes": "30", "opportunity_id": "O1"},
        ],
        "goals": [
            {"rep_id": "B1", "period": "2026-10", "metric": "activity.call", "target": "900"},
            {"rep_id": "R1", "period": "2026-10", "metric": "revenue", "target": "40000"},
        ],
    }


def test_valid_dataset_loads_with_summary(tmp_path, pipeline):
    ds = load_dataset(write_dataset(tmp_path, **base()), pipeline)
    s = ds.summary()
    assert s["reps"] == 3 and s["teams"] == 2 and s["roles"] == {"bdr": 1, "isr": 2}
    assert s["rows"] == {"reps": 3, "opportunities": 3, "stage_history": 3, "activities": 3, "goals": 2}
    assert (s["first_date"], s["last_date"]) == ("2026-08-01", "2026-12-01")
    # the furthest stage of O2 is its stage (demo) even though history stops at discovery
    assert list(ds.opportunities["furthest"]) == [4, 1, 3]


def _mutate(fn):
    data = copy.deepcopy(base())
    fn(data)
    return data


# (case, mutation, [(file, row, column, message fragment), ...])
CASES = [
    ("missing required file", lambda d: d.pop("reps"),
     [("reps.csv", None, None, "required file is missing")]),
    ("missing column", lambda d: [r.pop("team") for r in d["reps"]],
     [("reps.csv", 1, "team", "required column is missing")]),
    ("wrong type", lambda d: d["opportunities"][0].update(amount="12k"),
     [("opportunities.csv", 2, "amount", "not a number")]),
    ("impossible date", lambda d: d["opportunities"][1].update(created_date="2026-02-30"),
     [("opportunities.csv", 3, "created_date", "impossible date")]),
    ("not a date", lambda d: d["activities"][0].update(date="yesterday"),
     [("activities.csv", 2, "date", "not a date")]),
    ("unknown role", lambda d: d["reps"][2].update(role="bdrr"),
     [("reps.csv", 4, "role", "unknown role", "bdr")]),
    ("unknown stage", lambda d: d["opportunities"][1].update(stage="Demo"),
     [("opportunities.csv", 3, "stage", "unknown stage", "demo")]),
    ("unknown status", lambda d: d["opportunities"][2].update(status="opn"),
     [("opportunities.csv", 4, "status", "unknown status", "open")]),
    ("unknown activity type", lambda d: d["activities"][0].update(type="calls"),
     [("activities.csv", 2, "type", "unknown activity type", "call")]),
    ("duplicate id", lambda d: d["opportunities"][2].update(opportunity_id="O1"),
     [("opportunities.csv", 4, "opportunity_id", "duplicate id")]),
    ("duplicate rep", lambda d: d["reps"].append(dict(d["reps"][0])),
     [("reps.csv", 5, "rep_id", "duplicate id")]),
    ("unknown rep", lambda d: d["activities"][0].update(rep_id="b1"),
     [("activities.csv", 2, "rep_id", "unknown rep", "B1")]),
    ("unknown source rep", lambda d: d["opportunities"][1].update(source_rep_id="X7"),
     [("opportunities.csv", 3, "source_rep_id", "unknown rep")]),
    ("negative amount", lambda d: d["opportunities"][0].update(amount="-5"),
     [("opportunities.csv", 2, "amount", "negative value")]),
    ("negative duration", lambda d: d["activities"][0].update(duration_minutes="-1"),
     [("activities.csv", 2, "duration_minutes", "negative value")]),
    ("close before create", lambda d: d["opportunities"][0].update(close_date="2026-07-01"),
     [("opportunities.csv", 2, "close_date", "closes before it was created")]),
    ("history of unknown opportunity", lambda d: d["stage_history"].append(
        {"opportunity_id": "O9", "stage": "demo", "entered_date": "2026-09-01"}),
     [("stage_history.csv", 5, "opportunity_id", "unknown opportunity")]),
    ("won without won stage", lambda d: d["opportunities"][0].update(stage="proposal"),
     [("opportunities.csv", 2, "stage", "stage and status disagree")]),
    ("unknown goal metric", lambda d: d["goals"][0].update(metric="activity.calls"),
     [("goals.csv", 2, "metric", "unknown metric id", "activity.call")]),
    ("bad period", lambda d: d["goals"][1].update(period="2026-13"),
     [("goals.csv", 3, "period", "not a month")]),
    ("missing required value", lambda d: d["reps"][1].update(name=""),
     [("reps.csv", 3, "name", "missing value")]),
]


@pytest.mark.parametrize("case,mutation,expected", CASES, ids=[c[0] for c in CASES])
def test_broken_dataset_is_refused_with_the_right_message(tmp_path, pipeline, case, mutation, expected):
    folder = write_dataset(tmp_path, **_mutate(mutation))
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, pipeline)
    problems = err.value.problems
    for file, row, column, fragment, *suggestion in expected:
        hits = [p for p in problems if p.file == file and p.row == row and p.column == column
                and fragment in p.message]
        assert hits, f"{case}: no {file} row {row} {column} '{fragment}' in:\n{err.value.summary()}"
        if suggestion:
            assert hits[0].suggestion == suggestion[0]
        assert file in str(hits[0])


def test_every_problem_is_listed_at_once(tmp_path, pipeline):
    def many(d):
        d["reps"][2]["role"] = "closer"
        d["opportunities"][0]["amount"] = "abc"
        d["activities"][1]["type"] = "mail"
        d["goals"][0]["period"] = "October"
    with pytest.raises(DatasetError) as err:
        load_dataset(write_dataset(tmp_path, **_mutate(many)), pipeline)
    files = {p.file for p in err.value.problems}
    assert files == {"reps.csv", "opportunities.csv", "activities.csv", "goals.csv"}
    assert "4 problems" in err.value.summary()


def test_many_bad_rows_are_counted_not_flooded(tmp_path, pipeline):
    d = base()
    d["activities"] = [{"rep_id": "B1", "date": "2026-10-01", "type": "dial", "duration_minutes": "1",
                        "opportunity_id": ""} for _ in range(500)]
    with pytest.raises(DatasetError) as err:
        load_dataset(write_dataset(tmp_path, **d), pipeline)
    problems = [p for p in err.value.problems if p.column == "type"]
    assert len(problems) == 11
    assert "490 more rows" in problems[-1].message


def test_unknown_extra_columns_are_kept_and_ignored(tmp_path, pipeline):
    d = base()
    for r in d["reps"]:
        r["region_code"] = "X1"
    ds = load_dataset(write_dataset(tmp_path, **d), pipeline)
    assert list(ds.reps["region_code"]) == ["X1"] * 3


def test_loss_reasons_outside_the_catalog_are_kept_with_a_warning(tmp_path, pipeline):
    d = base()
    d["opportunities"][1]["loss_reason"] = "Went Dark"
    ds = load_dataset(write_dataset(tmp_path, **d), pipeline)
    assert "went_dark" in set(ds.opportunities["loss_reason"].dropna())
    assert any("went_dark" in w for w in ds.warnings)


def test_parquet_files_are_read_like_csv(tmp_path, pipeline):
    folder = write_dataset(tmp_path / "csv", **base())
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    for f in folder.glob("*.csv"):
        table = pacsv.read_csv(f)   # typed by inference: dates, numbers
        pq.write_table(table, pq_dir / f"{f.stem}.parquet")
    a = load_dataset(folder, pipeline)
    b = load_dataset(pq_dir, pipeline)
    assert a.summary()["rows"] == b.summary()["rows"]
    assert (a.opportunities["amount"].to_numpy() == b.opportunities["amount"].to_numpy()).all()
    pd.testing.assert_frame_equal(a.activity_daily, b.activity_daily)
    pd.testing.assert_frame_equal(a.stage_history, b.stage_history)


def test_both_csv_and_parquet_is_ambiguous(tmp_path, pipeline):
    folder = write_dataset(tmp_path, **base())
    pq.write_table(pacsv.read_csv(folder / "goals.csv"), folder / "goals.parquet")
    with pytest.raises(DatasetError, match="both a CSV and a Parquet file"):
        load_dataset(folder, pipeline)


def test_not_a_folder(tmp_path, pipeline):
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(tmp_path / "nope", pipeline)
