"""Compute every metric of every rep for a period, vectorised over all reps at once.

The heavy part runs in the analytical engine (engine.aggregation.queries: closed-deal
windows, stage passages, open deals at risk, the activity cube); what comes back is
small (per rep, per rep and stage) and becomes the additive parts of each metric here
with `np.bincount`. Nothing loops over reps or rows in Python.

Missing data is "no data", never zero: a metric the data cannot support (no activities
of a type, no stage history, no loss reasons, ...; see Coverage.missing) is NaN for every
rep, null in JSON and "not in the data" in the app.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..aggregation import queries as q
from ..aggregation.cube import ActivityCube, build_cube
from ..aggregation.period import Period, resolve_period
from ..catalog.specs import Pipeline, RoleKind, Thresholds
from ..dataset.model import Dataset
from .registry import MetricRegistry
from .series import build_series
from .table import MetricTable, derive_values

REP_COLUMNS = ["rep_id", "name", "role", "team", "division", "manager"]


def compute_metrics(ds: Dataset, pipeline: Pipeline, thresholds: Thresholds,
                    period: str | Period | None = None) -> MetricTable:
    """All metrics of the contract for `period` (YYYY-MM; default: the latest month with data)."""
    if not isinstance(period, Period):
        w = pipeline.windows
        reach = max(w.activity_months, w.ratio_months, w.results_months, w.closed_months, w.velocity_months)
        period = resolve_period(ds.as_of, period, ds.first_date, reach)
    b = ds.backend
    registry = MetricRegistry(pipeline, q.loss_reasons(b))
    w = pipeline.windows
    R = ds.n_reps
    num: dict[str, np.ndarray] = {}
    den: dict[str, np.ndarray] = {}
    n: dict[str, np.ndarray] = {}

    closed = q.closed_deals(b, period.window(w.closed_months))
    funnel = _funnel(closed, R, len(ds.stages))
    _closed_metrics(closed, funnel, pipeline, registry, R, num, den, n)
    _results_metrics(ds, period.window(w.results_months), R, num, den, n)
    cube = build_cube(ds, pipeline, _cube_start(period, pipeline), period.end)
    _activity_metrics(cube, period.window(w.activity_months), period.window(w.ratio_months),
                      pipeline, num, den, n)
    won_stage = len(ds.stages) - 1
    stage_days = q.passages(b, period.window(w.velocity_months), won_stage)
    _velocity_metrics(stage_days, pipeline, R, num, den, n)
    goals = _goals(ds, period, R)
    open_opps = open_opportunities(ds, period, thresholds, stage_days)
    _pipeline_metrics(open_opps, period, w.pipeline_horizon_days, goals, R, num, den, n)

    ids = [m for m in registry.ids() if m in num]
    index = pd.RangeIndex(R)
    num_f = pd.DataFrame({m: num[m] for m in ids}, index=index)
    den_f = pd.DataFrame({m: den.get(m, np.full(R, np.nan)) for m in ids}, index=index)
    n_f = pd.DataFrame({m: n[m] for m in ids}, index=index)
    missing = _without_data(ds, pipeline, registry, num_f, den_f, n_f)
    value, bound = derive_values(num_f, den_f, registry)
    reps = ds.reps[REP_COLUMNS].copy()
    reps["left"] = _left(ds, period)
    return MetricTable(period=period, reps=reps, num=num_f, den=den_f, n=n_f, value=value,
                       bound=bound, funnel=funnel, goals=goals, stage_days=stage_days,
                       open_opps=open_opps, series=build_series(ds, cube, period, pipeline),
                       registry=registry, missing=missing)


def _count(keys: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(keys, weights=weights, minlength=size)[:size].astype(float)


def _cube_start(period: Period, p: Pipeline) -> pd.Timestamp:
    """The first day any window or series of the period reaches (weeks start on Mondays)."""
    w = p.windows
    months = max(w.series_months, w.activity_months, w.ratio_months)
    start = (period.month - (months - 1)).start_time
    return start - pd.Timedelta(days=start.weekday())


# ----------------------------------------------------------------------- closed deals

def _funnel(closed: pd.DataFrame, R: int, S: int) -> np.ndarray:
    """rep x stage: closed opportunities that reached each stage (won last).

    An opportunity counts at every stage up to the furthest it reached, so the funnel
    never widens downwards. A lost deal whose furthest stage is unknown counts nowhere.
    """
    known = closed[closed["furthest"] >= 0]
    keys = known["rep"].to_numpy(dtype=np.int64) * S + known["furthest"].to_numpy(dtype=np.int64)
    at = _count(keys, R * S, known["n"].to_numpy(dtype=float)).reshape(R, S)
    return at[:, ::-1].cumsum(axis=1)[:, ::-1]


def _closed_metrics(closed: pd.DataFrame, funnel, p: Pipeline, registry: MetricRegistry, R, num, den, n):
    rep = closed["rep"].to_numpy(dtype=np.int64)
    won = (closed["status"] == 1).to_numpy()
    lost = ~won
    cnt = closed["n"].to_numpy(dtype=float)
    wins = _count(rep[won], R, cnt[won])
    losses = _count(rep[lost], R, cnt[lost])
    num["win_rate"], den["win_rate"], n["win_rate"] = wins, wins + losses, wins + losses
    priced = _count(rep[won], R, closed["with_amount"].to_numpy(dtype=float)[won])
    won_amount = _count(rep[won], R, closed["amount"].to_numpy(dtype=float)[won])
    num["avg_deal_size"], den["avg_deal_size"], n["avg_deal_size"] = won_amount, priced, priced
    cycle = closed["cycle_days"].to_numpy(dtype=float)
    num["cycle_days"], den["cycle_days"], n["cycle_days"] = _count(rep[won], R, cycle[won]), wins, wins
    for i, s in enumerate(p.stage_ids):
        m = f"stage_conversion.{s}"
        num[m], den[m], n[m] = funnel[:, i + 1], funnel[:, i], funnel[:, i]
    reasons = closed["loss_reason"].to_numpy(dtype=object)
    reasoned = lost & pd.notna(reasons)
    with_reason = _count(rep[reasoned], R, cnt[reasoned])
    for d in registry:
        if d.family != "loss_share":
            continue
        hit = reasoned & (reasons == d.params[0])
        num[d.id] = _count(rep[hit], R, cnt[hit])     # a reason nobody lost to is a 0% share
        den[d.id] = n[d.id] = with_reason


# ----------------------------------------------------------------------- results of the month

def _results_metrics(ds: Dataset, window, R, num, den, n):
    won = q.won_in(ds.backend, window)
    rep = won["rep"].to_numpy(dtype=np.int64)
    num["revenue"] = _count(rep, R, won["revenue"].to_numpy(dtype=float))
    n["revenue"] = _count(rep, R, won["n"].to_numpy(dtype=float))
    created = q.created_in(ds.backend, window)
    num["opportunities_created"] = _count(created["rep"].to_numpy(dtype=np.int64), R,
                                          created["n"].to_numpy(dtype=float))
    n["opportunities_created"] = num["opportunities_created"]
    S = len(ds.stages)
    entries = q.stage_entries(ds.backend, window, S - 1)
    keys = entries["rep"].to_numpy(dtype=np.int64) * S + entries["stage"].to_numpy(dtype=np.int64)
    at = _count(keys, R * S, entries["n"].to_numpy(dtype=float)).reshape(R, S)
    for j, stage in enumerate(ds.stages):
        num[f"stage_entries.{stage}"] = n[f"stage_entries.{stage}"] = at[:, j]


# ----------------------------------------------------------------------- activities

def _activity_metrics(cube: ActivityCube, window, ratio_window, p: Pipeline, num, den, n):
    counts, talk = cube.window(*window)
    counts = counts.astype(float)
    ids = p.activity_type_ids
    for j, t in enumerate(ids):
        num[f"activity.{t}"] = n[f"activity.{t}"] = counts[:, j]
    ratio_counts = cube.window(*ratio_window)[0].astype(float)
    chain = p.prospecting_funnel
    for i, x in enumerate(chain):
        for y in chain[i + 1:]:
            m = f"efficiency.{x}.{y}"
            cx, cy = ratio_counts[:, ids.index(x)], ratio_counts[:, ids.index(y)]
            num[m], den[m], n[m] = cx, cy, cx
    phone = np.array([t.phone for t in p.activity_types])
    num["talk_minutes"] = talk
    n["talk_minutes"] = counts[:, phone].sum(axis=1)


# ----------------------------------------------------------------------- velocity

def _velocity_metrics(stage_days: pd.DataFrame, p: Pipeline, R, num, den, n):
    S = len(p.stage_ids)
    med = np.full((R, S), np.nan)
    cnt = np.zeros((R, S))
    if not stage_days.empty:
        g = stage_days.groupby(["rep", "stage"])["days"]
        stats = pd.DataFrame({"median": g.median(), "count": g.size()}).reset_index()
        r = stats["rep"].to_numpy().astype(int)
        s = stats["stage"].to_numpy().astype(int)
        med[r, s] = stats["median"].to_numpy()
        cnt[r, s] = stats["count"].to_numpy()
    for i, st in enumerate(p.stage_ids):
        num[f"days_in_stage.{st}"], n[f"days_in_stage.{st}"] = med[:, i], cnt[:, i]


# ----------------------------------------------------------------------- goals

def _goals(ds: Dataset, period: Period, R: int) -> pd.DataFrame:
    g = ds.goals
    g = g[(g["period"] == period.label) & (g["rep"] >= 0)]
    table = g.pivot(index="rep", columns="metric", values="target") if len(g) else pd.DataFrame()
    table = table.reindex(pd.RangeIndex(R))
    table.columns.name = None
    return table


# ----------------------------------------------------------------------- open pipeline

def open_opportunities(ds: Dataset, period: Period, t: Thresholds,
                       stage_days: pd.DataFrame | None = None) -> pd.DataFrame:
    """Open opportunities at `as_of`, each with its current stage, age, effort and risk.

    At risk: stalled (longer in its current stage than `stalled_quantile` of won deals
    were; a deal with no stage history has been in its stage since it was created), or out
    of line with won deals in size or age. Without any stage history no deal is stalled.
    """
    as_of = period.as_of
    won_stage = len(ds.stages) - 1
    o = q.open_at(ds.backend, as_of, won_stage)
    qa = t.at_risk
    size_cut, age_cut = q.won_profile(ds.backend, as_of, qa.size_quantile, qa.age_quantile)
    stall_cut = np.full(won_stage, np.inf)
    if stage_days is not None and not stage_days.empty:
        wd = stage_days[stage_days["won"]]
        if len(wd):
            cuts = wd.groupby("stage")["days"].quantile(qa.stalled_quantile)
            stall_cut[cuts.index.to_numpy().astype(int)] = cuts.to_numpy()
    as_of64 = np.datetime64(as_of, "s")
    cur_stage = o["stage"].to_numpy(dtype=np.int64)
    since = pd.to_datetime(o["since"]).to_numpy(dtype="datetime64[s]")
    created = pd.to_datetime(o["created"]).to_numpy(dtype="datetime64[s]")
    in_stage = (as_of64 - since) / np.timedelta64(1, "D")
    age = (as_of64 - created) / np.timedelta64(1, "D")
    amount = o["amount"].to_numpy(dtype=float)
    stalled = in_stage > stall_cut[cur_stage]
    oversize = np.nan_to_num(amount, nan=0.0) > size_cut
    overage = age > age_cut
    return pd.DataFrame({
        "opp": o["opp"].to_numpy(dtype=np.int32), "opportunity_id": o["opportunity_id"].to_numpy(dtype=object),
        "rep": o["rep"].to_numpy(dtype=np.int64), "stage": cur_stage.astype(np.int8),
        "amount": amount, "expected_close": pd.to_datetime(o["expected_close"]).to_numpy(dtype="datetime64[s]"),
        "created": created, "age_days": age, "days_in_stage": in_stage,
        "activities": o["activities"].to_numpy(dtype=np.int64),
        "stalled": stalled, "oversize": oversize, "overage": overage,
        "at_risk": stalled | oversize | overage,
    })


def _pipeline_metrics(open_opps: pd.DataFrame, period: Period, horizon_days: int,
                      goals: pd.DataFrame, R, num, den, n):
    rep = open_opps["rep"].to_numpy(dtype=np.int64)
    as_of = np.datetime64(period.as_of, "s")
    exp = open_opps["expected_close"].to_numpy()
    in_h = ~np.isnat(exp) & (exp >= as_of) & (exp < as_of + np.timedelta64(horizon_days, "D"))
    amount = np.nan_to_num(open_opps["amount"].to_numpy(dtype=float), nan=0.0)
    num["pipeline_value"] = _count(rep[in_h], R, amount[in_h])
    n["pipeline_value"] = _count(rep[in_h], R)
    target = goals["revenue"].to_numpy(dtype=float) if "revenue" in goals else np.full(R, np.nan)
    num["pipeline_coverage"] = num["pipeline_value"]
    den["pipeline_coverage"] = np.where(target > 0, target, 0.0)
    n["pipeline_coverage"] = n["pipeline_value"]
    risk = open_opps["at_risk"].to_numpy()
    stalled = open_opps["stalled"].to_numpy()
    n_open = _count(rep, R)
    num["at_risk.count"] = _count(rep[risk], R)
    n["at_risk.count"] = n_open
    num["at_risk.stalled_share"], den["at_risk.stalled_share"] = _count(rep[stalled], R), n_open
    n["at_risk.stalled_share"] = n_open
    effort = open_opps["activities"].to_numpy().astype(float)
    num["at_risk.effort_share"] = _count(rep[risk], R, effort[risk])
    den["at_risk.effort_share"] = n["at_risk.effort_share"] = _count(rep, R, effort)


# ----------------------------------------------------------------------- what the data cannot say

def _without_data(ds: Dataset, p: Pipeline, registry: MetricRegistry, num, den, n) -> dict[str, str]:
    """Blank the metrics the data cannot support (in place); metric id -> why."""
    missing = ds.coverage.missing(registry)
    for m in missing:
        if m in num:
            num[m] = den[m] = n[m] = np.nan
    if not ds.coverage.sourced_by:
        # prospectors source opportunities they do not own: without sourced-by they have none
        prospecting = [r.id for r in p.roles if r.kind == RoleKind.prospecting]
        rows = ds.reps["role"].isin(prospecting).to_numpy()
        if rows.any():
            for frame in (num, den, n):
                frame.loc[rows, "opportunities_created"] = np.nan
            missing = {**missing, "opportunities_created": "no sourced-by in the data (prospecting roles)"}
    return missing


def _left(ds: Dataset, period: Period) -> np.ndarray:
    """Reps not there at the end of the period: left before it (end_date), gone for good
    (active false), or not yet started. They are measured, never diagnosed."""
    reps = ds.reps
    as_of = np.datetime64(period.as_of - pd.Timedelta(days=1), "s")
    end = reps["end_date"].to_numpy(dtype="datetime64[s]")
    start = reps["start_date"].to_numpy(dtype="datetime64[s]")
    gone = ~np.isnat(end) & (end < as_of)
    inactive = reps["active"].to_numpy(dtype=object) == False   # noqa: E712 - NA stays unknown
    inactive &= np.isnat(end)
    not_yet = ~np.isnat(start) & (start > as_of)
    return gone | inactive | not_yet
