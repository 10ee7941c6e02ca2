"""Everything the pages show about each rep, as plain JSON-able documents.

Computed once per analysis (per import in the web app), so that no page computes a
metric. Per rep: the metrics document of `fairway metrics --json`, the diagnosis,
the success plan and the chart data; per team, division and the company: aggregates.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import Analysis
from ..catalog.model import Catalog
from ..catalog.specs import BenchmarkKind
from ..metrics.trends import month_series
from ..metrics.plan import success_plans
from .documents import clean, group_documents, metrics_document


def rep_documents(analysis: Analysis, catalog: Catalog) -> tuple[list[dict], dict]:
    """(one document per rep, the aggregates of teams, divisions and the company)."""
    t, bench, diag = analysis.table, analysis.benchmarks, analysis.diagnosis
    p = catalog.pipeline
    metrics = metrics_document(t, bench, p, catalog.thresholds, groups=False)["reps"]
    plans = success_plans(t, bench, p)
    months = t.series["activity_month"]
    results = t.series["results_month"]
    month_labels = list(months.index.get_level_values("month").unique())
    chain = p.prospecting_funnel
    losses = [m for m in t.metric_ids if m.startswith("loss_share.")]
    open_pipeline = _open_pipeline(t.open_opps, p.stage_ids)
    monthly = month_series(t, p)
    ratio_names = {"calls_per_connect": f"efficiency.{chain[0]}.{chain[1]}",
                   "connects_per_meeting": f"efficiency.{chain[1]}.{chain[2]}" if len(chain) > 2 else None}
    ratio_series = {k: monthly[m] for k, m in ratio_names.items() if m}
    R = len(t.reps)
    M = len(month_labels)
    # every per-rep lookup below is an array index: the frames are read column by column once
    act = {a: months[a].to_numpy().reshape(R, M) for a in [*p.activity_type_ids, "talk_minutes"]}
    res = {c: results[c].to_numpy().reshape(R, M) for c in results.columns}
    loss_counts = {m_: t.num[m_].to_numpy() for m_ in losses}
    reps = {c: t.reps[c].tolist() for c in ("rep_id", "name", "role", "team", "division", "manager")}
    docs = []
    left = t.reps["left"].to_numpy(dtype=bool)
    for i in range(R):
        if left[i]:
            continue              # gone before the period ended: nobody coaches them
        role = reps["role"][i]
        kind = p.role(role).kind.value
        charts = {
            "months": month_labels,
            "activity_month": {a: [int(x) for x in act[a][i]] for a in p.activity_type_ids},
            "talk_minutes": [round(float(x), 1) for x in act["talk_minutes"][i]],
            "ratios": {k: [None if np.isnan(x) else round(float(x), 3) for x in v[i]]
                       for k, v in ratio_series.items()},
            "results_month": {c: [round(float(x), 2) for x in res[c][i]] for c in results.columns},
            "losses": {m_.split(".", 1)[1]: int(col[i]) for m_, col in loss_counts.items() if col[i] > 0},
            "open_pipeline": open_pipeline.get(i, []),
            "trends": {k: metrics[i]["trends"][m] for k, m in {**ratio_names, "talk_minutes": "talk_minutes"}.items()
                       if m},
        }
        # what the data cannot say for this rep: shown "not in the data", never 0 (Coverage.missing)
        metrics[i]["not_in_data"] = {m: why for m, why in t.missing.items()
                                     if (metrics[i]["metrics"].get(m) or {}).get("value") is None}
        rd = diag.reps[i] if diag is not None else None
        docs.append({"rep_id": reps["rep_id"][i], "name": reps["name"][i], "role": role, "team": reps["team"][i],
                     "division": reps["division"][i], "manager": reps["manager"][i],
                     "metrics": metrics[i], "diagnosis": rd.to_dict() if rd else None,
                     "charts": clean(charts), "plan": clean(plans.for_rep(i, kind))})
    return docs, clean(aggregates(analysis, catalog))


def _open_pipeline(open_opps: pd.DataFrame, stage_ids: list[str]) -> dict[int, list[dict]]:
    """Each rep's open opportunities for the pipeline chart, in the frame's order."""
    out: dict[int, list[dict]] = {}
    if open_opps.empty:
        return out
    c = {k: open_opps[k].tolist() for k in ("rep", "opportunity_id", "stage", "amount", "expected_close", "age_days",
                                             "days_in_stage", "activities", "at_risk", "stalled", "oversize",
                                             "overage")}
    for j, rep in enumerate(c["rep"]):
        if rep is None or rep != rep:         # no rep (NaN): in no rep's chart
            continue
        close = c["expected_close"][j]
        out.setdefault(rep, []).append({
            "id": c["opportunity_id"][j], "stage": stage_ids[int(c["stage"][j])],
            "amount": round(float(c["amount"][j]), 2),
            "expected_close": None if pd.isna(close) else pd.Timestamp(close).date().isoformat(),
            "age_days": int(c["age_days"][j]), "days_in_stage": int(c["days_in_stage"][j]),
            "activities": int(c["activities"][j]), "at_risk": bool(c["at_risk"][j]), "stalled": bool(c["stalled"][j]),
            "oversize": bool(c["oversize"][j]), "overage": bool(c["overage"][j])})
    return out


def folder_documents(dataset: str, catalog: str, period: str | None) -> tuple[list[dict], dict]:
    """rep_documents of a dataset folder under a catalog folder: for a child process (engine.isolation)."""
    from pathlib import Path

    from ..catalog.loader import load_catalog
    from ..dataset import load_dataset
    from .analysis import analyse
    cat = load_catalog(Path(catalog))
    return rep_documents(analyse(load_dataset(Path(dataset), cat.pipeline), cat, period), cat)


def aggregates(analysis: Analysis, catalog: Catalog) -> dict:
    """Team, division and company figures: metric values, funnels, medians, the team's reps."""
    t, bench = analysis.table, analysis.benchmarks
    stages = catalog.pipeline.all_stages
    out: dict = {"period": t.period.label, "as_of": t.period.as_of.date().isoformat(),
                 **group_documents(t, stages)}
    keep = t.metric_ids
    # per team and role: each rep's headline figures, for the team charts
    roster: dict = {}
    reps = {c: t.reps[c].tolist() for c in ("rep_id", "name", "role", "team")}
    figures = {k: t.value[m].to_numpy() for k, m in (("win_rate", "win_rate"), ("talk_minutes", "talk_minutes"),
                                                     ("calls", "activity.call"))}
    for i, team in enumerate(reps["team"]):
        roster.setdefault(team, []).append({
            "rep_id": reps["rep_id"][i], "name": reps["name"][i], "role": reps["role"][i],
            **{k: v[i] for k, v in figures.items()}})
    out["roster"] = roster
    out["not_in_data"] = dict(t.missing)
    out["company_median"] = {role: {m: bench[BenchmarkKind.company_median].loc[idx, m].iloc[0]
                                    for m in keep}
                             for role, idx in t.reps.groupby("role").groups.items()}
    return out
