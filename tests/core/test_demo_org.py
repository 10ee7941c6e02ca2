"""The demo org generator: deterministic, valid against the contract, and planted as it says."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from engine.dataset import load_dataset
from engine.dataset.contract import FILES
from engine.demo.org import FILE_COLUMNS, TRUTH_COLUMNS, generate_org, write_org
from engine.metrics.registry import MetricRegistry

ARGS = {"reps": 30, "months": 8, "seed": 3, "end": "2025-06"}
PROSPECTING = {"efficiency.call.connect", "efficiency.connect.meeting_scheduled", "activity.call"}


@pytest.fixture(scope="module")
def org(pipeline):
    return generate_org(pipeline, **ARGS)


@pytest.fixture(scope="module")
def larger_org(pipeline):
    """Enough reps for every deficiency to be planted two or three times."""
    return generate_org(pipeline, reps=60, months=8, seed=11, end="2025-06")


@pytest.fixture(scope="module")
def folder(org, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "org"
    write_org(org, out)
    return out


def _truth(org) -> pd.DataFrame:
    return org.truth.set_index("rep_id")


# ------------------------------------------------------------------ determinism and files
def test_same_arguments_give_equal_frames(org, pipeline):
    again = generate_org(pipeline, **ARGS)
    for name in (*FILE_COLUMNS, "truth"):
        pd.testing.assert_frame_equal(getattr(org, name), getattr(again, name))
    assert again.end == org.end == "2025-06"


def test_another_seed_gives_another_org(org, pipeline):
    other = generate_org(pipeline, **{**ARGS, "seed": 4})
    assert not other.reps["name"].equals(org.reps["name"])
    assert len(other.activities) != len(org.activities)


def test_written_files_are_byte_identical(org, folder, pipeline, tmp_path):
    rows = write_org(generate_org(pipeline, **ARGS), tmp_path / "again")
    assert rows["activities.csv"] == len(org.activities)
    for name in rows:
        assert (tmp_path / "again" / name).read_bytes() == (folder / name).read_bytes(), name


def test_file_columns_are_the_contract(folder):
    for spec in FILES:
        header = (folder / f"{spec.stem}.csv").read_text().splitlines()[0].replace('"', "")
        assert header.split(",") == [c.name for c in spec.columns
                                           if c.name not in ("activity_id", "end_date", "active")]
    truth = (folder / "ground_truth.csv").read_text().splitlines()[0].replace('"', "")
    assert truth.split(",") == TRUTH_COLUMNS


def test_the_folder_loads_cleanly(folder, pipeline, org):
    dataset = load_dataset(folder, pipeline)
    assert dataset.warnings == ()
    assert dataset.rows["activities"] == len(org.activities)
    assert dataset.rows["opportunities"] == len(org.opportunities)


def test_parquet_loads_cleanly_with_csv_ground_truth(org, pipeline, tmp_path):
    rows = write_org(org, tmp_path / "pq", fmt="parquet")
    assert set(rows) == {f"{s}.parquet" for s in FILE_COLUMNS} | {"ground_truth.csv"}
    assert load_dataset(tmp_path / "pq", pipeline).rows["stage_history"] == len(org.stage_history)


def test_write_refuses_a_folder_with_files(org, folder):
    with pytest.raises(FileExistsError):
        write_org(org, folder)


def test_bad_arguments_are_refused(pipeline):
    with pytest.raises(ValueError):
        generate_org(pipeline, reps=9)
    with pytest.raises(ValueError):
        generate_org(pipeline, end="2025-13")
    with pytest.raises(ValueError, match="more than the teams allow"):
        generate_org(pipeline, reps=20, planted_share=0.5, end="2025-06")
    with pytest.raises(ValueError):
        write_org(generate_org(pipeline, **ARGS), "unused", fmt="xlsx")


def test_end_defaults_to_the_last_complete_month(pipeline):
    expected = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert generate_org(pipeline, reps=20, months=3).end == expected


# ------------------------------------------------------------------ the org chart
def test_teams_are_single_role_and_sized_five_to_ten(org):
    reps = org.reps
    per_team = reps.groupby("team").agg(roles=("role", "nunique"), size=("rep_id", "size"),
                                        managers=("manager", "nunique"))
    assert (per_team["roles"] == 1).all() and (per_team["managers"] == 1).all()
    assert per_team["size"].between(5, 10).all()
    assert 2 <= reps["division"].nunique() <= 5
    assert 0.3 <= (reps["role"] == "bdr").mean() <= 0.5
    assert reps["rep_id"].is_unique and reps["email"].is_unique
    assert (reps["start_date"] < pd.Timestamp("2024-11-01")).mean() > 0.9


# ------------------------------------------------------------------ opportunities and funnel
def test_funnel_never_widens(org, pipeline):
    stages = pipeline.all_stages
    history = org.stage_history.assign(pos=org.stage_history["stage"].map(stages.index))
    step = history.groupby("opportunity_id", sort=False)["pos"]
    assert (history["pos"] == step.cumcount()).all()     # discovery, demo, ... in order, no gaps
    assert (history.groupby("opportunity_id", sort=False)["entered_date"].diff().dropna()
            >= pd.Timedelta(0)).all()
    last = history.groupby("opportunity_id")["stage"].last()
    opps = org.opportunities.set_index("opportunity_id")
    assert last.reindex(opps.index).equals(opps["stage"])
    assert ((opps["status"] == "won") == (opps["stage"] == pipeline.won_stage)).all()


def test_open_deals_expect_to_close_after_the_end(org):
    opps = org.opportunities
    month_end = pd.Timestamp("2025-07-01")
    is_open = opps["status"] == "open"
    assert is_open.any()
    assert (opps.loc[is_open, "close_date"] >= month_end).all()
    assert (opps.loc[~is_open, "close_date"] < month_end).all()
    assert (opps["close_date"] >= opps["created_date"]).all()


def test_loss_reasons_follow_the_stage_lost(org, pipeline):
    opps = org.opportunities
    lost = opps[opps["status"] == "lost"]
    assert lost["loss_reason"].isin(pipeline.loss_reasons).all()
    assert opps.loc[opps["status"] != "lost", "loss_reason"].isna().all()
    at_proposal = lost.loc[lost["stage"] == "proposal", "loss_reason"]
    assert set(at_proposal) <= {"price", "competitor", "no_decision"}


def test_sourced_deals_go_to_isrs_of_the_bdrs_division(org):
    reps = org.reps.set_index("rep_id")
    sourced = org.opportunities.dropna(subset=["source_rep_id"])
    assert len(sourced) > 0
    assert (reps.loc[sourced["source_rep_id"], "role"] == "bdr").all()
    assert (reps.loc[sourced["rep_id"], "role"] == "isr").all()
    assert (reps.loc[sourced["source_rep_id"], "division"].to_numpy()
            == reps.loc[sourced["rep_id"], "division"].to_numpy()).all()


def test_every_isr_closes_enough_deals(org):
    closed = org.opportunities[org.opportunities["status"] != "open"]
    per_month = closed.groupby("rep_id").size() / 8
    isrs = org.reps.loc[org.reps["role"] == "isr", "rep_id"]
    assert per_month.reindex(isrs).fillna(0).median() >= 8


# ------------------------------------------------------------------ activities and goals
def test_activities_are_on_working_days_in_the_window(org, pipeline):
    days = org.activities["date"]
    assert (days.dt.day_of_week < 5).all()
    assert days.min() >= pd.Timestamp("2024-11-01") and days.max() < pd.Timestamp("2025-07-01")
    assert set(org.activities["type"].unique()) == set(pipeline.activity_type_ids)


def test_connects_sit_beside_connected_calls(org):
    acts = org.activities
    calls = acts[acts["type"] == "call"]
    assert calls["duration_minutes"].between(0.3, 12).all()
    talked = calls[calls["duration_minutes"] >= 2].groupby(["rep_id", "date"], observed=True).size()
    connects = acts[acts["type"] == "connect"].groupby(["rep_id", "date"], observed=True).size()
    assert talked.equals(connects)
    after_call = acts["type"].shift(1)[acts["type"] == "connect"]
    assert (after_call.isin(["call", "connect"])).all()


def test_isr_meetings_are_on_their_own_deals(org):
    acts = org.activities
    linked = acts.dropna(subset=["opportunity_id"])
    owner = org.opportunities.set_index("opportunity_id")["rep_id"]
    roles = org.reps.set_index("rep_id")["role"]
    isr_rows = linked[roles.reindex(linked["rep_id"].astype(str)).to_numpy() == "isr"]
    assert len(isr_rows) > 0 and (isr_rows["type"] == "meeting_held").all()
    assert (owner.loc[isr_rows["opportunity_id"].astype(str)].to_numpy()
            == isr_rows["rep_id"].astype(str).to_numpy()).all()


def test_goals_name_known_metrics_and_healthy_reps_meet_them(org, pipeline):
    goals = org.goals
    registry = MetricRegistry(pipeline)
    assert all(m in registry for m in goals["metric"].unique())
    assert not goals.duplicated(["rep_id", "period", "metric"]).any()
    calls = _monthly(org, "call")
    merged = goals[goals["metric"] == "activity.call"].merge(calls, on=["rep_id", "period"])
    healthy = merged[_truth(org).loc[merged["rep_id"], "planted_metric"].to_numpy() == ""]
    attainment = healthy["n"] / healthy["target"]
    assert attainment.between(0.8, 1.2).mean() > 0.8


# ------------------------------------------------------------------ planted deficiencies
def test_planted_share_is_right_and_spread_over_teams(org, pipeline):
    truth = org.truth
    planted = truth[truth["planted_metric"] != ""]
    assert len(planted) == round(0.3 * ARGS["reps"])
    stage_metrics = {f"stage_conversion.{s}" for s in pipeline.stage_ids}
    assert set(planted.loc[planted["role"] == "isr", "planted_metric"]) <= stage_metrics
    assert set(planted.loc[planted["role"] == "bdr", "planted_metric"]) <= PROSPECTING
    registry = MetricRegistry(pipeline)
    assert all(m in registry for m in planted["planted_metric"])
    share = truth.assign(p=truth["planted_metric"] != "").groupby("team")["p"].mean()
    assert (share <= 0.5).all() and (share > 0).sum() >= 3
    assert planted["severity"].between(0.3, 0.7).all()
    assert (truth.loc[truth["planted_metric"] == "", "severity"] == 1.0).all()


def test_planted_reps_fall_clearly_behind_their_team(larger_org, pipeline):
    org = larger_org
    truth = _truth(org)
    figures = pd.concat([_conversions(org, pipeline), _prospecting(org)], axis=1)
    team = truth["team"].reindex(figures.index)
    healthy = figures[truth["planted_metric"].reindex(figures.index) == ""]
    benchmark = healthy.groupby(team[healthy.index]).median()
    checks = 0
    for rep_id, metric in truth.loc[truth["planted_metric"] != "", "planted_metric"].items():
        value, usual = figures.loc[rep_id, metric], benchmark.loc[team[rep_id], metric]
        if metric.startswith("stage_conversion."):
            assert value < usual - 0.15, (rep_id, metric, value, usual)
        elif metric == "activity.call":
            assert value < 0.75 * usual, (rep_id, metric, value, usual)
        else:   # ratios: more calls per connect, more connects per meeting
            assert value > 1.6 * usual, (rep_id, metric, value, usual)
        checks += 1
    assert checks == round(0.3 * 60)


def test_planted_demo_losses_lean_to_qualification(larger_org):
    org = larger_org
    truth = _truth(org)
    lost = org.opportunities[(org.opportunities["status"] == "lost")
                             & (org.opportunities["stage"] == "demo")]
    planted = truth.loc[lost["rep_id"], "planted_metric"].to_numpy() == "stage_conversion.demo"
    share = (lost["loss_reason"] == "poor_qualification").groupby(planted).mean()
    assert share[True] > share[False] + 0.1


# ------------------------------------------------------------------ helpers
def _monthly(org, kind: str) -> pd.DataFrame:
    acts = org.activities[org.activities["type"] == kind]
    counts = acts.groupby([acts["rep_id"].astype(str), acts["date"].dt.strftime("%Y-%m")]).size()
    return counts.rename_axis(["rep_id", "period"]).rename("n").reset_index()


def _conversions(org, pipeline) -> pd.DataFrame:
    """Per ISR: the share of closed deals that reached each stage and went on to the next."""
    closed = org.opportunities[org.opportunities["status"] != "open"]
    reached = closed["stage"].map(pipeline.all_stages.index)
    out = {}
    for k, stage in enumerate(pipeline.stage_ids):
        at = closed[reached >= k]
        out[f"stage_conversion.{stage}"] = (reached[at.index] > k).groupby(at["rep_id"]).mean()
    return pd.DataFrame(out)


def _prospecting(org) -> pd.DataFrame:
    """Per BDR: calls, calls per connect and connects per meeting booked, over the window."""
    bdrs = org.reps.loc[org.reps["role"] == "bdr", "rep_id"]
    acts = org.activities
    counts = acts.groupby([acts["rep_id"].astype(str), acts["type"].astype(str)]).size() \
        .unstack(fill_value=0).reindex(bdrs)
    return pd.DataFrame({
        "activity.call": counts["call"],
        "efficiency.call.connect": counts["call"] / counts["connect"],
        "efficiency.connect.meeting_scheduled": counts["connect"] / counts["meeting_scheduled"],
    })
