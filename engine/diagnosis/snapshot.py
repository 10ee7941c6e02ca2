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
    open_opps = t.open_opps
    by_rep_open = {r: g for r, g in open_opps.groupby("rep")}
    monthly = month_series(t, p)
    ratio_names = {"calls_per_connect": f"efficiency.{chain[0]}.{chain[1]}",
                   "connects_per_meeting": f"efficiency.{chain[1]}.{chain[2]}" if len(chain) > 2 else None}
    ratio_series = {k: monthly[m] for k, m in ratio_names.items() if m}
    R = len(t.reps)
    docs = []
    left = t.reps["left"].to_numpy(dtype=bool)
    for i in range(R):
        if left[i]:
            continue              # gone before the period ended: nobody coaches them
        rep = t.reps.iloc[i]
        kind = p.role(rep["role"]).kind.value
        m = months.xs(i, level="rep")
        r = results.xs(i, level="rep")
        opps = by_rep_open.get(i)
        charts = {
            "months": month_labels,
            "activity_month": {a: [int(x) for x in m[a]] for a in p.activity_type_ids},
            "talk_minutes": [round(float(x), 1) for x in m["talk_minutes"]],
            "ratios": {k: [None if np.isnan(x) else round(float(x), 3) for x in v[i]]
                       for k, v in ratio_series.items()},
            "results_month": {c: [round(float(x), 2) for x in r[c]] for c in r.columns},
            "losses": {m_.split(".", 1)[1]: int(t.num.at[i, m_]) for m_ in losses if t.num.at[i, m_] > 0},
            "open_pipeline": [] if opps is None else [
                {"id": o.opportunity_id, "stage": p.stage_ids[int(o.stage)], "amount": round(float(o.amount), 2),
                 "expected_close": None if pd.isna(o.expected_close) else pd.Timestamp(o.expected_close).date().isoformat(),
                 "age_days": int(o.age_days), "days_in_stage": int(o.days_in_stage),
                 "activities": int(o.activities), "at_risk": bool(o.at_risk), "stalled": bool(o.stalled),
                 "oversize": bool(o.oversize), "overage": bool(o.overage)}
                for o in opps.itertuples(index=False)],
            "trends": {k: metrics[i]["trends"][m] for k, m in {**ratio_names, "talk_minutes": "talk_minutes"}.items()
                       if m},
        }
        # what the data cannot say for this rep: shown "not in the data", never 0 (Coverage.missing)
        metrics[i]["not_in_data"] = {m: why for m, why in t.missing.items()
                                     if (metrics[i]["metrics"].get(m) or {}).get("value") is None}
        rd = diag.reps[i] if diag is not None else None
        docs.append({"rep_id": rep["rep_id"], "name": rep["name"], "role": rep["role"], "team": rep["team"],
                     "division": rep["division"], "manager": rep["manager"],
                     "metrics": metrics[i], "diagnosis": rd.to_dict() if rd else None,
                     "charts": clean(charts), "plan": clean(plans.for_rep(i, kind))})
    return docs, clean(aggregates(analysis, catalog))


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
    for i, rep in t.reps.iterrows():
        roster.setdefault(rep["team"], []).append({
            "rep_id": rep["rep_id"], "name": rep["name"], "role": rep["role"],
            "win_rate": t.value.at[i, "win_rate"], "talk_minutes": t.value.at[i, "talk_minutes"],
            "calls": t.value.at[i, "activity.call"]})
    out["roster"] = roster
    out["not_in_data"] = dict(t.missing)
    out["company_median"] = {role: {m: bench[BenchmarkKind.company_median].loc[idx, m].iloc[0]
                                    for m in keep}
                             for role, idx in t.reps.groupby("role").groups.items()}
    return out
