"""Every metric on a small org computed by hand, edge cases included."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.metrics.benchmarks import compute_benchmarks
from engine.catalog.specs import BenchmarkKind, Thresholds, Windows
from engine.dataset import load_dataset
from engine.metrics.goals import goal_progress, progress_frame, team_average_progress
from engine.metrics.compute import compute_metrics
from engine.aggregation.period import PeriodError, resolve_period
from engine.diagnosis.documents import dumps, funnel_rows, metrics_document
from helpers import write_dataset


def opp(oid, rep, created, status, stage, amount, close, reason="", source=""):
    return {"opportunity_id": oid, "rep_id": rep, "created_date": created, "status": status, "stage": stage,
            "amount": str(amount), "close_date": close, "loss_reason": reason, "source_rep_id": source}


def act(rep, date, kind, minutes="", opportunity=""):
    return {"rep_id": rep, "date": date, "type": kind, "duration_minutes": str(minutes), "opportunity_id": opportunity}


ORG = {
    "reps": [
        {"rep_id": "A", "name": "Nancy", "role": "isr", "team": "Closers", "division": "East", "manager": "M"},
        {"rep_id": "B", "name": "Andrea", "role": "isr", "team": "Closers", "division": "East", "manager": "M"},
        {"rep_id": "C", "name": "Joseph", "role": "bdr", "team": "Hunters", "division": "East", "manager": "S"},
        {"rep_id": "D", "name": "New hire", "role": "isr", "team": "Solo", "division": "West", "manager": "T"},
    ],
    "opportunities": [
        opp("A1", "A", "2026-07-01", "won", "won", 10000, "2026-08-15"),
        opp("A2", "A", "2026-09-01", "won", "won", 20000, "2026-10-10"),
        opp("A3", "A", "2026-08-01", "lost", "demo", 9000, "2026-09-20", "timing"),
        opp("A4", "A", "2026-09-05", "lost", "discovery", 4000, "2026-10-01", "need"),
        opp("A5", "A", "2026-06-01", "lost", "proposal", 15000, "2026-08-30", "price"),
        opp("A6", "A", "2026-04-01", "won", "won", 8000, "2026-05-10"),          # before the window
        opp("A7", "A", "2026-10-05", "open", "demo", 5000, "2026-12-15", source="C"),
        opp("A8", "A", "2026-09-10", "open", "proposal", 50000, "2027-03-01"),   # beyond the horizon
        opp("B1", "B", "2026-09-01", "won", "won", 30000, "2026-09-30", source="C"),
        opp("B2", "B", "2026-09-02", "lost", "demo", 6000, "2026-10-20", "poor_qualification"),
    ],
    "stage_history": [
        {"opportunity_id": "A1", "stage": s, "entered_date": d} for s, d in
        [("discovery", "2026-07-01"), ("demo", "2026-07-11"), ("technical_fit", "2026-07-21"),
         ("proposal", "2026-08-01"), ("won", "2026-08-15")]
    ] + [
        {"opportunity_id": "A3", "stage": "discovery", "entered_date": "2026-08-01"},
        {"opportunity_id": "A3", "stage": "demo", "entered_date": "2026-08-21"},
    ],
    "activities": [act("C", f"2026-10-{d:02d}", "call", 3) for d in range(1, 11)]
    + [act("C", "2026-10-01", "connect"), act("C", "2026-10-02", "connect"),
       act("C", "2026-10-02", "meeting_scheduled"), act("C", "2026-09-15", "call", 3),
       act("C", "2026-10-30", "email"),
       act("A", "2026-10-20", "meeting_held", 30, "A7"), act("A", "2026-10-21", "email", "", "A2")],
    "goals": [
        {"rep_id": "C", "period": "2026-10", "metric": "activity.call", "target": "20"},
        {"rep_id": "C", "period": "2026-10", "metric": "efficiency.call.connect", "target": "8"},
        {"rep_id": "A", "period": "2026-10", "metric": "revenue", "target": "40000"},
        {"rep_id": "A", "period": "2026-09", "metric": "revenue", "target": "1"},
    ],
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory, catalog):
    p = catalog.pipeline.model_copy(update={"windows": Windows(closed_months=3, velocity_months=6,
                                                                ratio_months=1)})
    ds = load_dataset(write_dataset(tmp_path_factory.mktemp("org"), **ORG), p)
    t = Thresholds()
    table = compute_metrics(ds, p, t, "2026-10")
    return p, t, ds, table


def val(table, rep, metric):
    i = list(table.reps["rep_id"]).index(rep)
    return table.value.at[i, metric]


def test_period_as_of_covers_the_whole_month(setup):
    _, _, _, table = setup
    assert table.period.label == "2026-10"
    assert str(table.period.as_of.date()) == "2026-11-01"   # data ends Oct 30: a weekend away


def test_closed_deal_metrics(setup):
    _, _, _, t = setup
    assert val(t, "A", "win_rate") == pytest.approx(2 / 5)
    assert val(t, "A", "avg_deal_size") == pytest.approx(15000)
    assert val(t, "A", "cycle_days") == pytest.approx((45 + 39) / 2)
    assert val(t, "A", "revenue") == 20000
    assert val(t, "B", "win_rate") == pytest.approx(0.5)
    assert val(t, "A", "loss_share.timing") == pytest.approx(1 / 3)
    assert val(t, "A", "loss_share.price") == pytest.approx(1 / 3)
    assert val(t, "B", "loss_share.poor_qualification") == 1.0


def test_funnel_counts_every_stage_up_to_the_furthest(setup):
    _, _, _, t = setup
    assert t.funnel[0].tolist() == [5, 4, 3, 3, 2]
    assert val(t, "A", "stage_conversion.discovery") == pytest.approx(0.8)
    assert val(t, "A", "stage_conversion.demo") == pytest.approx(0.75)
    assert val(t, "A", "stage_conversion.technical_fit") == 1.0
    assert val(t, "A", "stage_conversion.proposal") == pytest.approx(2 / 3)
    assert t.n.at[0, "stage_conversion.demo"] == 4


def test_activities_ratios_and_talk_time(setup):
    _, _, _, t = setup
    assert val(t, "C", "activity.call") == 10          # the September call is outside the month
    assert val(t, "C", "activity.connect") == 2
    assert val(t, "C", "efficiency.call.connect") == 5
    assert val(t, "C", "efficiency.connect.meeting_scheduled") == 2
    assert val(t, "C", "talk_minutes") == 30
    assert val(t, "A", "talk_minutes") == 0            # meetings are not phone time


def test_ratios_read_their_own_longer_window(setup, catalog):
    p, th, ds, _ = setup
    p2 = p.model_copy(update={"windows": p.windows.model_copy(update={"ratio_months": 2})})
    t = compute_metrics(ds, p2, th, "2026-10")
    assert val(t, "C", "efficiency.call.connect") == pytest.approx(11 / 2)   # September's call too
    assert val(t, "C", "activity.call") == 10                                # counts stay monthly


def test_zero_denominator_is_a_lower_bound_not_infinity(setup):
    _, _, _, t = setup
    i = 2
    assert val(t, "C", "efficiency.meeting_scheduled.meeting_held") == 1
    assert bool(t.bound.at[i, "efficiency.meeting_scheduled.meeting_held"])
    assert math.isnan(val(t, "B", "efficiency.call.connect"))      # 0 calls, 0 connects: no data


def test_opportunities_created_owned_or_sourced(setup):
    _, _, _, t = setup
    assert val(t, "A", "opportunities_created") == 1   # A7, owned
    assert val(t, "C", "opportunities_created") == 1   # A7, sourced (B1 was created in September)


def test_velocity_median_days_in_stage(setup):
    _, _, _, t = setup
    assert val(t, "A", "days_in_stage.discovery") == 15      # median of 10 and 20
    assert val(t, "A", "days_in_stage.demo") == 20           # median of 10 and 30 (to close)
    assert val(t, "A", "days_in_stage.proposal") == 14


def test_pipeline_and_at_risk(setup):
    _, _, _, t = setup
    assert val(t, "A", "pipeline_value") == 5000             # A8 closes beyond 90 days
    assert val(t, "A", "pipeline_coverage") == pytest.approx(5000 / 40000)
    oo = t.open_opps.set_index("opportunity_id")
    assert set(oo.index) == {"A7", "A8"}
    assert bool(oo.at["A8", "oversize"]) and bool(oo.at["A8", "overage"])
    assert bool(oo.at["A7", "stalled"])                      # 27 days at demo; won deals took 10
    assert oo.at["A7", "activities"] == 1
    assert val(t, "A", "at_risk.count") == 2
    assert val(t, "A", "at_risk.effort_share") == 1.0


def test_rep_with_nothing_and_a_one_rep_team(setup, catalog):
    p, th, _, t = setup
    d = 3
    assert t.funnel[d].tolist() == [0, 0, 0, 0, 0]
    assert math.isnan(t.value.at[d, "win_rate"]) and t.value.at[d, "revenue"] == 0
    assert t.value.at[d, "activity.call"] == 0
    bench = compute_benchmarks(t, th)
    assert bench[BenchmarkKind.team_median].at[d, "activity.call"] == 0   # its own team of one
    doc = metrics_document(t, bench, p, th, rep="D")
    text = dumps(doc)
    assert "NaN" not in text and "Infinity" not in text
    assert doc["reps"][0]["metrics"]["win_rate"] == {"value": None, "n": 0.0}


def test_benchmarks_compare_within_role(setup):
    _, th, _, t = setup
    b = compute_benchmarks(t, th)
    assert b[BenchmarkKind.team_median].at[0, "win_rate"] == pytest.approx(0.45)
    # company median of closers: A 0.4, B 0.5, D none
    assert b[BenchmarkKind.company_median].at[0, "win_rate"] == pytest.approx(0.45)
    assert math.isnan(b[BenchmarkKind.company_median].at[2, "win_rate"])   # no prospector closes
    assert b[BenchmarkKind.plan].at[2, "activity.call"] == 20


def test_group_values_sum_parts(setup):
    _, _, _, t = setup
    team = t.group_values("team")
    assert team.at["Closers", "win_rate"] == pytest.approx(3 / 7)
    company = t.group_values("company")
    assert company.at[0, "revenue"] == 20000


def test_goals_progress_and_rag(setup):
    _, th, _, t = setup
    prog = progress_frame(t)
    assert prog.at[2, "activity.call"] == pytest.approx(0.5)
    assert prog.at[2, "efficiency.call.connect"] == pytest.approx(8 / 5)   # fewer calls per connect than goal
    g = goal_progress(t, th)
    assert g[2]["activity.call"]["rag"] == "red"
    assert g[0]["revenue"]["progress"] == pytest.approx(0.5)
    assert team_average_progress(t)["Hunters"] == pytest.approx(0.5)


def test_a_month_with_no_data_is_refused_and_a_month_after_it_flagged(setup):
    p, th, ds, _ = setup
    with pytest.raises(PeriodError, match="no data in 2025-01 or before it: the data starts on 2026-04-01"):
        compute_metrics(ds, p, th, "2025-01")
    with pytest.raises(PeriodError, match="no data in 2030-01 or in the 6 months before it"):
        compute_metrics(ds, p, th, "2030-01")
    t = compute_metrics(ds, p, th, "2026-12")            # its 3-month windows still hold October
    assert t.period.after_data
    assert t.value["activity.call"].sum() == 0
    assert not t.value["win_rate"].isna().all()
    assert dumps(metrics_document(t, compute_benchmarks(t, th), p, th))


def test_period_default_and_partial_month(setup):
    _, _, ds, _ = setup
    period = resolve_period(ds.last_activity_date())
    assert period.label == "2026-10"
    import pandas as pd
    early = resolve_period(pd.Timestamp("2026-11-03"))
    assert early.label == "2026-10"                          # an export early in November
    mid = resolve_period(pd.Timestamp("2026-11-20"))
    assert mid.label == "2026-11" and mid.elapsed_share == pytest.approx(20 / 30)


def test_seed_funnel_table():
    rows = funnel_rows(np.array([86, 59, 33, 22, 18]), ["discovery", "demo", "technical_fit", "proposal", "won"])
    assert [r["conversion_to_next"] for r in rows] == [0.686, 0.559, 0.667, 0.818, None]
    assert [round(r["conversion_to_next"] * 100) for r in rows[:-1]] == [69, 56, 67, 82]
    assert [round(r["conversion_from_top"] * 100) for r in rows] == [100, 69, 38, 26, 21]


def test_metric_code_does_not_mutate_its_input(setup):
    p, th, ds, _ = setup
    before = {k: getattr(ds, k).copy() for k in ("opportunities", "activity_daily", "stage_history", "goals")}
    compute_metrics(ds, p, th, "2026-10")
    for k, frame in before.items():
        assert frame.equals(getattr(ds, k)), k


def test_stage_entries_count_new_proposals_and_wins(setup):
    _, _, _, t = setup
    assert val(t, "A", "stage_entries.discovery") == 1      # A7, created in October without history
    assert val(t, "A", "stage_entries.won") == 1            # A2, won in October
    assert val(t, "B", "stage_entries.won") == 0            # B1 was won in September


def test_success_plan_works_backward_from_the_revenue_target(setup):
    from engine.metrics.plan import success_plans
    p, th, _, t = setup
    plans = success_plans(t, compute_benchmarks(t, th), p)
    rows = {r["step"]: r for r in plans.for_rep(0, "closing")}
    assert rows["revenue"]["needed"] == 40000 and rows["revenue"]["actual"] == 20000
    assert rows["won_deals"]["needed"] == pytest.approx(40000 / 15000, abs=0.01)
    assert rows["won_deals"]["source"] == "rep" and rows["won_deals"]["ratio_value"] == 15000
    assert rows["proposals"]["needed"] == pytest.approx((40000 / 15000) / (2 / 3), abs=0.01)
    assert rows["opportunities"]["needed"] == pytest.approx(4 / (0.8 * 0.75 * 1.0), abs=0.01)
    assert rows["won_deals"]["gap"] == pytest.approx(40000 / 15000 - 1, abs=0.01)
    # B has no revenue goal: the plan has nothing to work back from
    assert plans.for_rep(1, "closing")[0]["needed"] is None
