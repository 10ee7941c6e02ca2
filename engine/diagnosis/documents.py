"""Outputs of the CLI and the API: strict JSON documents and readable text tables."""
from __future__ import annotations

import json
import math
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..catalog.specs import BenchmarkKind, Pipeline, Thresholds
from ..metrics.goals import goal_progress
from ..metrics.table import MetricTable
from ..metrics.trends import month_series, rep_trends, trends

K = BenchmarkKind
# the three benchmarks of the contract, then the others
BENCHMARK_KEYS = {K.team_median: "team", K.division_median: "division", K.company_median: "company",
                  K.team_top_quartile: "team_top_quartile",
                  K.company_top_quartile: "company_top_quartile", K.industry: "industry",
                  K.plan: "plan"}   # the quartiles by value are for the catalog's evidence


def clean(x: Any) -> Any:
    """A value fit for strict JSON: numpy scalars unwrapped, NaN and inf as null."""
    kind = type(x)           # the plain types first, by identity: a document holds hundreds of thousands
    if kind is float:
        return x if x - x == 0.0 else None        # NaN - NaN and inf - inf are NaN
    if kind is str or kind is int or kind is bool or x is None:
        return x
    if kind is dict:
        return {k if type(k) is str else str(k): clean(v) for k, v in x.items()}
    if kind is list:
        return [clean(v) for v in x]
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return None if math.isnan(f) or math.isinf(f) else f
    if x is pd.NaT:
        return None
    if isinstance(x, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(x)
        return None if pd.isna(ts) else ts.date().isoformat()
    return x


def dumps(doc: Any, indent: int | None = None) -> str:
    """Strict JSON (no NaN, no Infinity): refuses rather than writes invalid JSON."""
    try:     # documents built from plain values need no cleaning: a large one saves seconds
        return json.dumps(doc, indent=indent, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError):
        return json.dumps(clean(doc), indent=indent, allow_nan=False, ensure_ascii=False)


def plain(a: np.ndarray, nd: int) -> list:
    """A float array as a list of rounded Python floats, None where NaN or infinite."""
    a = np.asarray(a, dtype=float)
    out = np.round(a, nd).astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def _round(x: float | None, nd: int = 4) -> float | None:
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return None
    return round(float(x), nd)


def funnel_rows(counts: np.ndarray, stages: Iterable[str]) -> list[dict]:
    """The funnel of the contract: count, conversion to next, conversion from top."""
    counts = np.asarray(counts, dtype=float)
    stages = list(stages)
    top = counts[0] if len(counts) else 0
    rows = []
    for i, s in enumerate(stages):
        nxt = counts[i + 1] / counts[i] if i + 1 < len(counts) and counts[i] > 0 else None
        rows.append({"stage": s, "count": int(counts[i]),
                     "conversion_to_next": _round(nxt, 3),
                     "conversion_from_top": _round(counts[i] / top, 3) if top > 0 else None})
    return rows


def rep_indices(table: MetricTable, rep: str | None) -> np.ndarray:
    if rep is None:
        return np.arange(len(table.reps))
    hit = np.flatnonzero(table.reps["rep_id"].to_numpy() == rep)
    return hit


def metrics_document(table: MetricTable, benchmarks: dict, pipeline: Pipeline,
                     thresholds: Thresholds, rep: str | None = None, series: bool = False,
                     groups: bool = True) -> dict:
    """`fairway metrics --json`: metrics per rep with their benchmarks (data contract 4),
    and the same metrics for every team, division and the company."""
    stages = pipeline.all_stages
    ids = table.metric_ids
    idx = rep_indices(table, rep)
    value = [plain(row, 6) for row in table.value.to_numpy()[idx]]
    n = [plain(row, 3) for row in table.n.to_numpy()[idx]]
    bound = table.bound.to_numpy()[idx]
    bench = {key: [plain(row, 6) for row in benchmarks[k].to_numpy()[idx]] for k, key in BENCHMARK_KEYS.items()}
    progress = goal_progress(table, thresholds)
    monthly = trends(month_series(table, pipeline), thresholds.trend_months, thresholds.significance)
    info = table.reps[["rep_id", "name", "role", "team", "division", "manager"]].to_numpy(dtype=object)[idx]
    left = table.reps["left"].to_numpy(dtype=bool) if "left" in table.reps else np.zeros(len(table.reps), bool)
    reps = []
    for r, i in enumerate(idx):
        metrics = {}
        for j, m in enumerate(ids):
            entry = {"value": value[r][j], "n": n[r][j]}
            if bound[r, j]:
                entry["lower_bound"] = True
            metrics[m] = entry
        rep_id, name, role, team, division, manager = info[r]
        reps.append({"rep_id": rep_id, "name": name, "role": role, "team": team, "division": division,
                     "manager": manager, "metrics": metrics,
                     "funnel": funnel_rows(table.funnel[i], stages),
                     "benchmarks": {key: {m: v for m, v in zip(ids, rows[r]) if v is not None}
                                    for key, rows in bench.items()},
                     "goals": progress.get(int(i), {}),
                     "trends": rep_trends(monthly, int(i))})
        if series:
            reps[-1]["series"] = series_document(table, int(i))
        if left[i]:
            reps[-1]["left"] = True          # measured, not diagnosed: gone before the period ended
    doc = {"period": table.period.label, "as_of": table.period.as_of.date().isoformat(), "reps": reps,
           "not_in_data": dict(table.missing)}
    if table.period.after_data:
        doc["after_data"] = True
    if groups:
        doc["groups"] = group_documents(table, stages)
    return doc


def group_documents(table: MetricTable, stages: list[str]) -> dict:
    """Metric values and funnels of every team, division and the company (from summed parts)."""
    out = {}
    for level in ("team", "division", "company"):
        values = table.group_values(level)
        funnels = table.group_funnel(level)
        cols = list(values.columns)
        out[level] = {str(k): {"metrics": dict(zip(cols, plain(values.loc[k].to_numpy(), 6))),
                               "funnel": funnel_rows(funnels.loc[k].to_numpy(), stages)}
                      for k in values.index}
    return out


def series_document(table: MetricTable, i: int) -> dict:
    """A rep's month, week and day series of activity counts (and results by month)."""
    out = {}
    for name, frame in table.series.items():
        part = frame.xs(i, level="rep")
        out[name] = {"buckets": [str(b) for b in part.index],
                     **{str(c): plain(part[c].to_numpy(), 3) for c in part.columns}}
    return out


def text_table(rows: list[list[Any]], header: list[str]) -> str:
    """A plain aligned table (numbers right-aligned)."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) if cells else len(h) for k, h in enumerate(header)]
    numeric = [all(_numeric(r[k]) for r in cells if r[k]) for k in range(len(header))]

    def line(vals):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric)).rstrip()
    out = [line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _numeric(text: str) -> bool:
    t = text.replace(",", "").replace("%", "").replace("$", "").replace("≥", "").strip()
    try:
        float(t)
        return True
    except ValueError:
        return t in ("n/a", "-")


def metrics_text(table: MetricTable, benchmarks: dict, pipeline: Pipeline, rep: str | None = None) -> str:
    """A readable summary: one line per rep with the figures of their role."""
    reg = table.registry
    by_kind = {
        "closing": ["revenue", "win_rate", "avg_deal_size", "cycle_days", "pipeline_value",
                    *[f"stage_conversion.{s}" for s in pipeline.stage_ids]],
        "prospecting": ["opportunities_created", *[f"activity.{t}" for t in pipeline.prospecting_funnel],
                        *[f"efficiency.{a}.{b}" for a, b in zip(pipeline.prospecting_funnel,
                                                               pipeline.prospecting_funnel[1:])],
                        "talk_minutes"],
    }
    team_med = benchmarks[K.team_median]
    parts = [f"Period {table.period.label} (data as of {table.period.as_of.date().isoformat()})"]
    idx = rep_indices(table, rep)
    for role in pipeline.roles:
        sel = [i for i in idx if table.reps.at[i, "role"] == role.id]
        if not sel:
            continue
        cols = [m for m in by_kind[role.kind.value] if m in table.value.columns]
        header = ["rep", "name", "team"] + [_short(reg.get(m).title) for m in cols]
        rows = []
        for i in sel:
            r = table.reps.iloc[i]
            rows.append([r["rep_id"], r["name"], r["team"]] +
                        [_fmt(reg.get(m), table.value.at[i, m], table.bound.at[i, m], pipeline.currency)
                         for m in cols])
        first = sel[0]
        teams = sorted({table.reps.at[i, "team"] for i in sel})
        if len(teams) == 1:
            rows.append(["", "team median", teams[0]] +
                        [_fmt(reg.get(m), team_med.at[first, m], False, pipeline.currency) for m in cols])
        parts.append(f"\n{role.title}s ({role.id})\n" + text_table(rows, header))
    return "\n".join(parts)


def _short(title: str) -> str:
    return title.replace(" conversion", " conv").replace("Technical fit", "Tech fit")


def _fmt(d, v, bound, currency) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    text = d.format(float(v), currency)
    return ("≥" + text) if bound else text


# --------------------------------------------------------------------------- diagnosis

def _finding_doc(f) -> dict:
    doc = {"level": f.level, "id": f.id, "metric": f.metric, "value": _round(f.value, 6),
           "benchmark": ({"kind": f.benchmark_kind, "value": _round(f.benchmark, 6)}
                         if f.benchmark_kind else None),
           "p_value": _round(f.p_value, 6), "q_value": _round(f.q_value, 6),
           "relative_gap": _round(f.rel_gap, 4), "n": _round(f.n, 3),
           "impact": _round(f.impact, 4), "impact_unit": f.impact_unit,
           "evidence": list(f.evidence)}
    if f.explains:
        doc["explains"] = list(f.explains)
    if f.masked_by:
        doc["masked_by"] = list(f.masked_by)
    if f.score is not None:
        doc["score"] = f.score
    if f.bound:
        doc["lower_bound"] = True
    return doc


def diagnosis_document(diagnosis, rep: str | None = None) -> dict:
    """`fairway diagnose --json` (data contract 5)."""
    reps = []
    for r in diagnosis.reps:
        if (rep is not None and r.rep_id != rep) or r.left:
            continue
        focus = None
        if r.focus is not None:
            f = r.focus
            focus = {"metric": f.metric, "performance_gap": f.performance_gap,
                     "behaviour_gap": f.behaviour_gap, "skill_gap": f.skill_gap,
                     "learning_assets": list(f.learning_assets), "assignments": list(f.assignments),
                     "why": f.why, "impact": _round(f.impact, 4), "impact_unit": f.impact_unit}
        doc = {"rep_id": r.rep_id, "name": r.name, "role": r.role, "team": r.team,
               "focus": focus, "findings": [_finding_doc(f) for f in r.findings]}
        if r.opening is not None:
            doc["opening"] = {"performance_gap": r.opening.performance_gap, "metric": r.opening.metric,
                              "why": r.opening.why, "impact": _round(r.opening.impact, 4),
                              "impact_unit": r.opening.impact_unit}
        reps.append(doc)
    return {"period": diagnosis.period, "reps": reps}


def diagnosis_text(diagnosis, catalog, rep: str | None = None) -> str:
    """A readable report: each rep's focus and findings."""
    lines = [f"Diagnosis for {diagnosis.period}"]
    shown = [r for r in diagnosis.reps if (rep is None or r.rep_id == rep) and not r.left]
    with_focus = sum(1 for r in shown if r.focus)
    gone = sum(1 for r in diagnosis.reps if r.left and (rep is None or r.rep_id == rep))
    lines.append(f"{with_focus} of {len(shown)} reps have a focus this month."
                 + (f" {gone} who left are not diagnosed." if gone else "") + "\n")
    for r in shown:
        head = f"{r.rep_id}  {r.name} ({r.role}, {r.team})"
        if r.focus is None and r.opening is not None:
            lines.append(f"{head}\n  no behaviour explains a short result: open the conversation on it\n"
                         f"  ask:   {r.opening.why}\n")
            continue
        if r.focus is None:
            lines.append(f"{head}\n  no focus: nothing both significant and large enough")
            continue
        f = r.focus
        gap = catalog.behaviour_gaps[f.behaviour_gap]
        skill = catalog.skills[f.skill_gap].title if f.skill_gap else "to be found in conversation"
        lines.append(f"{head}\n  focus: {gap.title} -> {skill}\n  why:   {f.why}")
        if f.learning_assets:
            lines.append("  learn: " + ", ".join(catalog.assets[a].title for a in f.learning_assets))
        if f.assignments:
            lines.append("  do:    " + ", ".join(catalog.assignments[a].title for a in f.assignments))
        others = [x for x in r.findings if x.level in ("performance", "behaviour") and x.id != f.behaviour_gap]
        for x in others:
            note = f" (masked by {', '.join(x.masked_by)})" if x.masked_by else ""
            lines.append(f"  also:  {catalog.gap(x.id).title}{note}")
        lines.append("")
    return "\n".join(lines).rstrip()
