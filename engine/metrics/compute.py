"""Compute every metric of every rep for a period, vectorised over all reps at once.

Pure functions: a Dataset and the catalog's pipeline and thresholds in, a
MetricTable out. Rep and opportunity codes are small integers, so most sums are
`np.bincount` over (rep, key) pairs; nothing loops over reps or rows in Python.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.specs import Pipeline, Thresholds
from ..dataset.model import Dataset
from ..aggregation.period import Period, resolve_period
from .registry import MetricRegistry
from ..aggregation.cube import ActivityCube, build_cube
from .series import build_series
from .table import MetricTable, derive_values

REP_COLUMNS = ["rep_id", "name", "role", "team", "division", "manager"]


def compute_metrics(ds: Dataset, pipeline: Pipeline, thresholds: Thresholds,
                    period: str | Period | None = None) -> MetricTable:
    """All metrics of the contract for `period` (YYYY-MM; default: the latest month with data)."""
    if not isinstance(period, Period):
        period = resolve_period(ds.last_activity_date(), period)
    loss_reasons = ds.opportunities["loss_reason"].cat.categories.astype(str).tolist()
    registry = MetricRegistry(pipeline, loss_reasons)
    w = pipeline.windows
    R = ds.n_reps
    num: dict[str, np.ndarray] = {}
    den: dict[str, np.ndarray] = {}
    n: dict[str, np.ndarray] = {}

    closed = _closed_in(ds, period.window(w.closed_months))
    funnel = _funnel(ds, closed, R)
    _closed_metrics(ds, closed, funnel, pipeline, R, num, den, n)
    _results_metrics(ds, period.window(w.results_months), R, num, den, n)
    cube = build_cube(ds, pipeline)
    _activity_metrics(cube, period.window(w.activity_months), period.window(w.ratio_months),
                      pipeline, num, den, n)
    stage_days = _stage_passages(ds, period.window(w.velocity_months))
    _velocity_metrics(stage_days, pipeline, R, num, den, n)
    goals = _goals(ds, period, registry, R)
    open_opps = open_opportunities(ds, period, thresholds, stage_days)
    _pipeline_metrics(open_opps, period, w.pipeline_horizon_days, goals, R, num, den, n)

    ids = [m for m in registry.ids() if m in num]
    index = pd.RangeIndex(R)
    num_f = pd.DataFrame({m: num[m] for m in ids}, index=index)
    den_f = pd.DataFrame({m: den.get(m, np.full(R, np.nan)) for m in ids}, index=index)
    n_f = pd.DataFrame({m: n[m] for m in ids}, index=index)
    value, bound = derive_values(num_f, den_f, registry)
    reps = ds.reps[REP_COLUMNS].copy()
    return MetricTable(period=period, reps=reps, num=num_f, den=den_f, n=n_f, value=value,
                       bound=bound, funnel=funnel, goals=goals, stage_days=stage_days,
                       open_opps=open_opps, series=build_series(ds, cube, period, pipeline),
                       registry=registry)


def _count(keys: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(keys, weights=weights, minlength=size)[:size].astype(float)


def _in(dates: np.ndarray, window: tuple[np.datetime64, np.datetime64]) -> np.ndarray:
    return (dates >= window[0]) & (dates < window[1])


# ----------------------------------------------------------------------- closed deals

def _closed_in(ds: Dataset, window) -> pd.DataFrame:
    o = ds.opportunities
    status = o["status"].to_numpy()
    mask = (status != "open") & _in(o["close"].to_numpy(), window) & (o["rep"].to_numpy() >= 0)
    return o.loc[mask]


def _funnel(ds: Dataset, closed: pd.DataFrame, R: int) -> np.ndarray:
    """rep x stage: closed opportunities that reached each stage (won last).

    An opportunity counts at every stage up to the furthest it reached, so the
    funnel never widens downwards.
    """
    S = len(ds.stages)
    furthest = closed["furthest"].to_numpy().astype(np.int64)
    ok = furthest >= 0
    keys = closed["rep"].to_numpy()[ok].astype(np.int64) * S + furthest[ok]
    at = _count(keys, R * S).reshape(R, S)
    return at[:, ::-1].cumsum(axis=1)[:, ::-1]


def _closed_metrics(ds, closed, funnel, p: Pipeline, R, num, den, n):
    rep = closed["rep"].to_numpy()
    won = (closed["status"] == "won").to_numpy()
    lost = ~won
    amount = closed["amount"].to_numpy()
    wins = _count(rep[won], R)
    losses = _count(rep[lost], R)
    num["win_rate"], den["win_rate"], n["win_rate"] = wins, wins + losses, wins + losses
    won_amount = _count(rep[won], R, amount[won])
    num["avg_deal_size"], den["avg_deal_size"], n["avg_deal_size"] = won_amount, wins, wins
    cycle = (closed["close"].to_numpy() - closed["created"].to_numpy()) / np.timedelta64(1, "D")
    num["cycle_days"], den["cycle_days"], n["cycle_days"] = _count(rep[won], R, cycle[won]), wins, wins
    for i, s in enumerate(p.stage_ids):
        m = f"stage_conversion.{s}"
        num[m], den[m], n[m] = funnel[:, i + 1], funnel[:, i], funnel[:, i]
    reasons = closed["loss_reason"]
    codes = reasons.cat.codes.to_numpy()
    known = list(reasons.cat.categories)
    for reason in dict.fromkeys([*p.loss_reasons, *known]):   # a reason nobody lost to is a 0% share
        m = f"loss_share.{reason}"
        j = known.index(reason) if reason in known else -2
        num[m] = _count(rep[lost & (codes == j)], R)
        den[m] = n[m] = losses


# ----------------------------------------------------------------------- results of the month

def _results_metrics(ds: Dataset, window, R, num, den, n):
    o = ds.opportunities
    won = (o["status"] == "won").to_numpy() & _in(o["close"].to_numpy(), window) & (o["rep"].to_numpy() >= 0)
    rep = o["rep"].to_numpy()
    num["revenue"] = _count(rep[won], R, o["amount"].to_numpy()[won])
    n["revenue"] = _count(rep[won], R)
    created = _in(o["created"].to_numpy(), window)
    owner = rep[created & (rep >= 0)]
    src = o["source_rep"].to_numpy()
    sourced = created & (src >= 0) & (src != rep)      # sourced by someone else than the owner
    num["opportunities_created"] = _count(owner, R) + _count(src[sourced], R)
    n["opportunities_created"] = num["opportunities_created"]
    entries = _stage_entries(ds, window, R)
    for j, stage in enumerate(ds.stages):
        num[f"stage_entries.{stage}"] = n[f"stage_entries.{stage}"] = entries[:, j]


def _stage_entries(ds: Dataset, window, R: int) -> np.ndarray:
    """rep x stage: opportunities that entered each stage in the window (new proposals...).

    From the stage history; an opportunity without history enters the first stage when
    created, and the won stage when it closes won.
    """
    S = len(ds.stages)
    o, h = ds.opportunities, ds.stage_history
    h = h[_in(h["entered"].to_numpy(), window)].drop_duplicates(["opp", "stage"])
    rep_of = o["rep"].to_numpy()
    keys = [rep_of[h["opp"].to_numpy()].astype(np.int64) * S + h["stage"].to_numpy()]
    has_h = np.zeros(len(o), dtype=bool)
    has_h[ds.stage_history["opp"].to_numpy()] = True
    won_in_h = np.zeros(len(o), dtype=bool)
    won_rows = ds.stage_history["stage"].to_numpy() == S - 1
    won_in_h[ds.stage_history["opp"].to_numpy()[won_rows]] = True
    new = ~has_h & _in(o["created"].to_numpy(), window)
    won = (o["status"].to_numpy() == "won") & ~won_in_h & _in(o["close"].to_numpy(), window)
    keys += [rep_of[new].astype(np.int64) * S, rep_of[won].astype(np.int64) * S + (S - 1)]
    k = np.concatenate(keys)
    k = k[k >= 0]
    return _count(k, R * S).reshape(R, S)


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

def _stage_passages(ds: Dataset, window) -> pd.DataFrame:
    """Time spent in each stage by each opportunity, for passages that ended in the window.

    A passage ends when the next stage is entered, or at close for the last stage of
    a closed opportunity. The won stage is an end, not a passage.
    """
    h = ds.stage_history
    o = ds.opportunities
    empty = pd.DataFrame({"rep": np.array([], np.int32), "stage": np.array([], np.int8),
                          "days": np.array([], float), "won": np.array([], bool)})
    if h.empty:
        return empty
    h = h.sort_values(["opp", "entered", "stage"], kind="stable")
    opp = h["opp"].to_numpy()
    entered = h["entered"].to_numpy()
    same_next = np.append(opp[1:] == opp[:-1], False)
    next_entered = np.append(entered[1:], np.datetime64("NaT"))
    close = o["close"].to_numpy()[opp]
    closed = (o["status"].to_numpy() != "open")[opp]
    exit_ = np.where(same_next, next_entered, np.where(closed, close, np.datetime64("NaT")))
    won_stage = len(ds.stages) - 1
    stage = h["stage"].to_numpy()
    keep = (stage != won_stage) & ~np.isnat(exit_) & _in(exit_, window)
    rep = o["rep"].to_numpy()[opp]
    keep &= rep >= 0
    days = (exit_[keep] - entered[keep]) / np.timedelta64(1, "D")
    won = (o["status"].to_numpy() == "won")[opp][keep]
    return pd.DataFrame({"rep": rep[keep], "stage": stage[keep], "days": np.maximum(days, 0.0),
                         "won": won})


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

def _goals(ds: Dataset, period: Period, registry: MetricRegistry, R: int) -> pd.DataFrame:
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
    were), or out of line with won deals in size or age.
    """
    o = ds.opportunities
    as_of = np.datetime64(period.as_of, "s")
    created = o["created"].to_numpy()
    close = o["close"].to_numpy()
    status = o["status"].to_numpy()
    is_open = (created < as_of) & ((status == "open") | (~np.isnat(close) & (close >= as_of) & (status != "open")))
    is_open &= o["rep"].to_numpy() >= 0
    idx = np.flatnonzero(is_open)
    h = ds.stage_history
    h = h[h["entered"].to_numpy() < as_of]
    last = h.sort_values(["opp", "entered"], kind="stable").groupby("opp").tail(1).set_index("opp")
    cur_stage = o["furthest"].to_numpy()[idx].astype(int)
    since = created[idx].copy()
    has_h = np.isin(idx, last.index.to_numpy())
    if has_h.any():
        sel = idx[has_h]
        cur_stage[has_h] = last.loc[sel, "stage"].to_numpy()
        since[has_h] = last.loc[sel, "entered"].to_numpy()
    won_stage = len(ds.stages) - 1
    cur_stage = np.minimum(cur_stage, won_stage - 1).clip(0)
    in_stage = (as_of - since) / np.timedelta64(1, "D")
    age = (as_of - created[idx]) / np.timedelta64(1, "D")
    amount = o["amount"].to_numpy()[idx]
    # effort: activities logged against each opportunity up to as_of
    a = ds.activities
    am = (a["opp"].to_numpy() >= 0) & (a["date"].to_numpy() < as_of)
    effort = np.bincount(a["opp"].to_numpy()[am], minlength=len(o))[idx] if len(o) else np.array([])
    # what won deals looked like
    won = (status == "won") & ~np.isnat(close) & (close < as_of)
    won_amount = o["amount"].to_numpy()[won]
    won_age = (close[won] - created[won]) / np.timedelta64(1, "D")
    q = t.at_risk
    size_cut = np.quantile(won_amount, q.size_quantile) if len(won_amount) else np.inf
    age_cut = np.quantile(won_age, q.age_quantile) if len(won_age) else np.inf
    stall_cut = np.full(won_stage, np.inf)
    if stage_days is not None and not stage_days.empty:
        wd = stage_days[stage_days["won"]]
        if len(wd):
            cuts = wd.groupby("stage")["days"].quantile(q.stalled_quantile)
            stall_cut[cuts.index.to_numpy().astype(int)] = cuts.to_numpy()
    stalled = in_stage > stall_cut[cur_stage]
    oversize = amount > size_cut
    overage = age > age_cut
    return pd.DataFrame({
        "opp": idx.astype(np.int32), "opportunity_id": ds.opportunity_ids[idx],
        "rep": o["rep"].to_numpy()[idx], "stage": cur_stage.astype(np.int8),
        "amount": amount, "expected_close": close[idx], "created": created[idx],
        "age_days": age, "days_in_stage": in_stage, "activities": effort.astype(np.int64),
        "stalled": stalled, "oversize": oversize, "overage": overage,
        "at_risk": stalled | oversize | overage,
    })


def _pipeline_metrics(open_opps: pd.DataFrame, period: Period, horizon_days: int,
                      goals: pd.DataFrame, R, num, den, n):
    rep = open_opps["rep"].to_numpy()
    as_of = np.datetime64(period.as_of, "s")
    exp = open_opps["expected_close"].to_numpy()
    in_h = ~np.isnat(exp) & (exp >= as_of) & (exp < as_of + np.timedelta64(horizon_days, "D"))
    amount = open_opps["amount"].to_numpy()
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
