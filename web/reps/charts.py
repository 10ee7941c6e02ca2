"""Figures of a rep's snapshot shaped for the page: formatted values and the charts.

Everything comes from the stored snapshot (metrics, diagnosis, charts, plan) and the
dataset's aggregates; these helpers only pick and shape those figures for Chart.js
(`Chart.spec`) and for the table of numbers behind each chart (`Chart.columns` /
`Chart.rows`, already formatted for a person). The team page uses them too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from statistics import median

from markupsafe import Markup

from ..catalog_live import live_catalog
from ..filters import metric_title, metric_value, money, nice_date, percent, rag_badge
from ..models import RepSnapshot

BENCHMARK_WORDS = {"team_median": "team median", "division_median": "division median",
                   "company_median": "company median", "team_top_quartile": "team top quartile",
                   "company_top_quartile": "company top quartile", "industry": "industry", "plan": "plan"}


# --------------------------------------------------------------------------- shared helpers

def catalog():
    return live_catalog()


def role_kind(role_id: str) -> str:
    """'closing' or 'prospecting'."""
    return catalog().pipeline.role(role_id).kind.value


@dataclass
class Chart:
    """One chart: what charts.js draws (`spec`) and the numbers behind it, as a table."""

    id: str
    title: str
    subtitle: str = ""
    spec: dict | None = None                   # None: nothing to draw (the table says why)
    columns: list[tuple[str, bool]] = field(default_factory=list)   # (header, numeric)
    rows: list[list] = field(default_factory=list)
    empty: str = ""
    note: str = ""


def fmt(value, metric_id: str) -> str:
    return metric_value(value, metric_id)


def stat(metrics: dict, metric_id: str):
    """The rep's value of a metric (None where undefined)."""
    return (metrics.get("metrics", {}).get(metric_id) or {}).get("value")


def bench(metrics: dict, kind: str, metric_id: str):
    return metrics.get("benchmarks", {}).get(kind, {}).get(metric_id)


def gap_title(gap_id: str | None) -> str:
    cat = catalog()
    gap = cat.behaviour_gaps.get(gap_id) or cat.performance_gaps.get(gap_id)
    return gap.title if gap else (gap_id or "")


def skill_title(skill_id: str | None) -> str | None:
    if not skill_id:
        return None
    skill = catalog().skills.get(skill_id)
    return skill.title if skill else skill_id


def stage_title(stage_id: str) -> str:
    p = catalog().pipeline
    if stage_id == p.won_stage:
        return "Won"
    return next((s.title for s in p.stages if s.id == stage_id), stage_id)


def activity_title(activity_id: str) -> str:
    return next((a.title for a in catalog().pipeline.activity_types if a.id == activity_id), activity_id)


def goal_metrics(goal_ids) -> list[str]:
    """Goals in reading order: activities first (the pipeline's order), then results."""
    acts = [f"activity.{a}" for a in catalog().pipeline.activity_type_ids]
    return [m for m in acts if m in goal_ids] + sorted(m for m in goal_ids if m not in acts)


def activity_progress(goals: dict) -> float | None:
    """Average progress toward activity goals (each capped at 100%), as the seed's team chart."""
    vals = [min(g["progress"], 1.0) for m, g in goals.items()
            if (m.startswith("activity.") or m == "opportunities_created") and g.get("progress") is not None]
    return sum(vals) / len(vals) if vals else None


def funnel_worst(metrics: dict, kind: str) -> dict | None:
    """The step where the rep converts worst against the team median, with every step's bars."""
    steps = conversion_steps(metrics, kind)
    scored = [s for s in steps if s["rep"] is not None and s["team"]]
    if not scored:
        return None
    worst = min(scored, key=lambda s: s["rep"] / s["team"])
    for s in steps:
        s["worst"] = s is worst
    return {"steps": steps, "worst": worst, "behind": worst["rep"] < worst["team"]}


def conversion_steps(metrics: dict, kind: str) -> list[dict]:
    """Conversion to the next step: pipeline stages (closers) or the prospecting funnel (prospectors)."""
    p = catalog().pipeline
    if kind == "closing":
        return [{"label": stage_title(s), "metric": f"stage_conversion.{s}",
                 "rep": stat(metrics, f"stage_conversion.{s}"),
                 "team": bench(metrics, "team", f"stage_conversion.{s}"),
                 "company": bench(metrics, "company", f"stage_conversion.{s}")} for s in p.stage_ids]
    chain = p.prospecting_funnel
    out = []
    for a, b in zip(chain, chain[1:]):
        m = f"efficiency.{a}.{b}"
        out.append({"label": f"{activity_title(a)} → {activity_title(b)}", "metric": m,
                    "rep": _inverse(stat(metrics, m)), "team": _inverse(bench(metrics, "team", m)),
                    "company": _inverse(bench(metrics, "company", m))})
    return out


def _inverse(x):
    """'calls per connect' as 'connects per call' (a conversion rate); undefined stays None."""
    return 1.0 / x if x else None


def _num(value, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


ROSTER_CHARTS = ("chart-winrate", "chart-talk-team")      # every teammate by name: not for a rep's own eyes


def without_roster(charts: list[Chart]) -> list[Chart]:
    """The charts a rep sees of themselves: against the team median, never their teammates one by one."""
    return [c for c in charts if c.id not in ROSTER_CHARTS]


def roster_chart(chart_id: str, title: str, roster: list[dict], key: str, metric_id: str,
                 median_value, highlight: str | None = None, subtitle: str = "") -> Chart:
    """Each rep of a team on one metric, with the team median (and one rep highlighted)."""
    roster = sorted(roster, key=lambda r: (r.get(key) is None, -(r.get(key) or 0)))
    people = [r for r in roster if r.get(key) is not None]
    chart = Chart(chart_id, title, subtitle, columns=[("Rep", False), (metric_title(metric_id), True)])
    chart.rows = [[r["name"] + (" (this rep)" if r["rep_id"] == highlight else ""), fmt(r[key], metric_id)]
                  for r in roster]
    chart.rows.append(["Team median", fmt(median_value, metric_id)])
    if not people:
        chart.empty = "No figures for this team yet."
        return chart
    chart.spec = {"type": "roster", "format": unit_of(metric_id), "labels": [r["name"] for r in people],
                  "values": [r[key] for r in people], "median": median_value, "metric": metric_title(metric_id),
                  "highlight": next((i for i, r in enumerate(people) if r["rep_id"] == highlight), None)}
    return chart


def unit_of(metric_id: str) -> str:
    return catalog().registry.get(metric_id).unit


# --------------------------------------------------------------------------- the page's sections

def focus_view(focus: dict | None, diagnosis: dict) -> dict | None:
    """The focus with catalog titles, the ranked root causes and the learning to assign."""
    if not focus:
        return None
    cat = catalog()
    gap = cat.behaviour_gaps.get(focus["behaviour_gap"])
    skill = cat.skills.get(focus.get("skill_gap") or "")
    ranked = sorted((diagnosis.get("candidates") or {}).get(focus["behaviour_gap"], {}).items(),
                    key=lambda kv: -kv[1])
    finding = next((f for f in diagnosis.get("findings", [])
                    if f["level"] == "behaviour" and f["id"] == focus["behaviour_gap"]), None)
    return {"gap_title": gap_title(focus["behaviour_gap"]), "gap_description": gap.description if gap else "",
            "performance_title": gap_title(focus.get("performance_gap")),
            "skill": skill, "skill_title": skill_title(focus.get("skill_gap")), "why": focus.get("why", ""),
            "candidates": [(skill_title(s), score) for s, score in ranked if s != focus.get("skill_gap")][:3],
            "evidence": list(finding["evidence"]) if finding else [],
            "assets": [cat.assets[a] for a in focus.get("learning_assets", []) if a in cat.assets],
            "assignments": [cat.assignments[a] for a in focus.get("assignments", []) if a in cat.assignments]}


def other_findings(diagnosis: dict) -> list[dict]:
    """Results and behaviours found besides the focus, with their numbers."""
    focus_gap = (diagnosis.get("focus") or {}).get("behaviour_gap")
    out = []
    for f in diagnosis.get("findings", []):
        if f["level"] not in ("performance", "behaviour") or f["id"] == focus_gap:
            continue
        metric = f.get("metric")
        out.append({"level": "Result" if f["level"] == "performance" else "Behaviour",
                    "title": gap_title(f["id"]), "metric": metric_title(metric) if metric else "",
                    "value": metric_value(f.get("value"), metric, f.get("lower_bound") or f.get("bound"))
                    if metric else "",
                    "benchmark": (f"{BENCHMARK_WORDS.get(f.get('benchmark_kind'), 'benchmark')} "
                                  f"{metric_value(f.get('benchmark'), metric)}") if metric else "",
                    "explains": [gap_title(x) for x in f.get("explains", [])],
                    "masked_by": [gap_title(x) for x in f.get("masked_by", [])],
                    "evidence": list(f.get("evidence", []))})
    return out


PLAN_RATIO_FORMAT = {"won_deals": money, "proposals": percent, "opportunities": percent}
PLAN_SOURCE = {"plan": "from the plan", "rep": "own trailing figure", "team": "team median"}


def plan_rows(plan: list[dict]) -> list[dict]:
    """The success plan, top down: what the month needs against the run rate, step by step."""
    rows = []
    for st in plan:
        show = money if st["metric"] == "revenue" else _plan_count
        needed, run, gap = st.get("needed"), st.get("run_rate"), st.get("gap")
        ratio = ""
        if st.get("ratio") and st.get("ratio_value") is not None:
            value = PLAN_RATIO_FORMAT.get(st["step"], lambda v: _num(v, 2))(st["ratio_value"])
            ratio = f"{st['ratio']}: {value} ({PLAN_SOURCE.get(st.get('source'), 'estimate')})"
        status = progress_rag(run / needed if needed and run is not None else None)
        rows.append({"title": st["title"], "needed": show(needed), "actual": show(st.get("actual")),
                     "run_rate": show(run), "gap": "n/a" if gap is None else (show(gap) if gap > 0 else "—"),
                     "ratio": ratio, "badge": rag_badge(status, "plan") if status else Markup("")})
    return rows


def _plan_count(v) -> str:
    """Small counts with a decimal (2.5 won deals), large ones without (1,329 calls)."""
    return _num(v, 1 if v is not None and abs(v) < 20 else 0)


def progress_rag(progress: float | None) -> str | None:
    """Red, yellow or green by the catalog's levels (thresholds.yaml), as for goals."""
    if progress is None:
        return None
    rag = catalog().thresholds.rag
    return "green" if progress >= rag.green else "yellow" if progress >= rag.yellow else "red"


def headline_tiles(rep: RepSnapshot, kind: str) -> list[dict]:
    """Four figures at the top of the page, each against the team median."""
    ids = (["revenue", "win_rate", "pipeline_value", "at_risk.count"] if kind == "closing" else
           ["activity.meeting_scheduled", "opportunities_created", "efficiency.call.connect", "talk_minutes"])
    m = rep.metrics or {}
    return [{"title": metric_title(i), "value": fmt(stat(m, i), i),
             "team": fmt(bench(m, "team", i), i)} for i in ids]


# --------------------------------------------------------------------------- the charts

def rep_charts(rep: RepSnapshot, kind: str, aggregates: dict, teammates: list[RepSnapshot]) -> list[Chart]:
    """The seeds' charts for one rep, in the order of the conversation."""
    charts = [goals_chart(rep), funnel_chart(rep, kind), efficiency_chart(rep),
              talk_chart(rep, teammates)]
    roster = [r for r in (aggregates.get("roster") or {}).get(rep.team, []) if r.get("role") == rep.role]
    m = rep.metrics or {}
    if kind == "closing":
        charts.append(roster_chart("chart-winrate", "Win rate against the team", roster, "win_rate", "win_rate",
                                   bench(m, "team", "win_rate"), rep.rep_id,
                                   "Opportunities closed in the last 12 months"))
        charts += [losses_chart(rep), pipeline_chart(rep)]
    else:
        charts.insert(3, output_chart(rep))
        charts.append(roster_chart("chart-talk-team", "Talk time against the team", roster, "talk_minutes",
                                   "talk_minutes", bench(m, "team", "talk_minutes"), rep.rep_id,
                                   "Minutes on the phone this month"))
    return charts


def goals_chart(rep: RepSnapshot) -> Chart:
    """Activities (and results) against the rep's goals: progress bars, the goal at 100%."""
    m = rep.metrics or {}
    goals = m.get("goals") or {}
    order = goal_metrics(goals)
    acts = [f"activity.{a}" for a in catalog().pipeline.activity_type_ids]
    chart = Chart("chart-goals", "Activities against the goals set", "This month, against the goals set in goals.csv "
                  "(not the success plan's computed need)",
                  columns=[("Activity", False), ("This month", True), ("Goal", True), ("Progress", True),
                           ("Status", False)])
    for mid in order + [a for a in acts if a not in goals]:
        g = goals.get(mid)
        chart.rows.append([metric_title(mid), fmt(g["value"] if g else stat(m, mid), mid),
                           fmt(g["target"], mid) if g else "no goal",
                           percent(g.get("progress")) if g else "",
                           rag_badge(g.get("rag")) if g else ""])
    if not goals:
        chart.empty = "No goals are set for this rep this month."
        return chart
    chart.spec = {"type": "goals", "labels": [metric_title(x) for x in order],
                  "progress": [goals[x].get("progress") for x in order], "rag": [goals[x].get("rag") for x in order],
                  "values": [fmt(goals[x].get("value"), x) for x in order],
                  "targets": [fmt(goals[x].get("target"), x) for x in order]}
    return chart


def funnel_chart(rep: RepSnapshot, kind: str) -> Chart:
    """Conversion to the next step against the team and company medians, and the funnel table."""
    m = rep.metrics or {}
    steps = conversion_steps(m, kind)
    if kind == "closing":
        chart = Chart("chart-funnel", "The funnel: conversion to the next stage",
                      "Opportunities closed in the last 12 months",
                      columns=[("Stage", False), ("Count", True), ("% conversion to next", True),
                               ("Conversion % from top", True), ("Team median", True), ("Company median", True)])
        by_stage = {s["label"]: s for s in steps}
        for row in m.get("funnel", []):
            s = by_stage.get(stage_title(row["stage"]), {})
            chart.rows.append([stage_title(row["stage"]), _num(row["count"]),
                               percent(row.get("conversion_to_next")), percent(row.get("conversion_from_top")),
                               percent(s.get("team")), percent(s.get("company"))])
    else:
        chart = Chart("chart-funnel", "The prospecting funnel: conversion to the next step",
                      "Ratios over the last 3 months; counts this month",
                      columns=[("Step", False), ("Count this month", True), ("Conversion to next", True),
                               ("Team median", True), ("Company median", True)])
        chain = catalog().pipeline.prospecting_funnel
        for i, a in enumerate(chain):
            s = steps[i] if i < len(steps) else {}
            chart.rows.append([activity_title(a), fmt(stat(m, f"activity.{a}"), f"activity.{a}"),
                               percent(s.get("rep")), percent(s.get("team")), percent(s.get("company"))])
    if not any(s["rep"] is not None for s in steps):
        chart.empty = "No conversions to show yet."
        return chart
    chart.spec = {"type": "funnel", "format": "share", "labels": [s["label"] for s in steps],
                  "series": [{"label": rep.name, "values": [s["rep"] for s in steps]},
                             {"label": "Team median", "values": [s["team"] for s in steps]},
                             {"label": "Company median", "values": [s["company"] for s in steps]}]}
    return chart


def efficiency_chart(rep: RepSnapshot) -> Chart:
    """Calls per connect and connects per meeting scheduled, month by month."""
    ch = rep.charts or {}
    months = ch.get("months", [])
    chain = catalog().pipeline.prospecting_funnel
    names = {"calls_per_connect": metric_title(f"efficiency.{chain[0]}.{chain[1]}")}
    if len(chain) > 2:
        names["connects_per_meeting"] = metric_title(f"efficiency.{chain[1]}.{chain[2]}")
    series = [{"key": k, "label": names[k], "values": v} for k, v in (ch.get("ratios") or {}).items() if k in names]
    drawn = [s for s in series if any(x is not None for x in s["values"])]
    trends = ch.get("trends") or {}
    chart = Chart("chart-efficiency", "Efficiency ratios over the months",
                  "Lower is better; a gap is a month where the ratio is undefined (nothing to divide by)",
                  columns=[("Month", False)] + [(s["label"], True) for s in series])
    chart.rows = [[month_label(mo)] + [_num(s["values"][i], 1) if i < len(s["values"]) else "n/a"
                                       for s in series] for i, mo in enumerate(months)]
    notes = [f"{s['label']}: {trend_words(trends.get(s['key']))}" for s in drawn]
    notes += [f"{s['label']}: undefined every month" for s in series if s not in drawn]
    chart.note = "; ".join(notes)
    if not drawn:
        chart.empty = "No ratio is defined in these months."
        return chart
    chart.spec = {"type": "lines", "format": "ratio", "labels": [month_label(x) for x in months],
                  "series": [{"label": s["label"], "values": s["values"]} for s in drawn]}
    return chart


def output_chart(rep: RepSnapshot) -> Chart:
    """What prospecting produces, month by month: meetings scheduled and held, opportunities created."""
    ch = rep.charts or {}
    months = ch.get("months", [])
    acts = ch.get("activity_month") or {}
    chain = catalog().pipeline.prospecting_funnel
    series = [{"label": activity_title(a), "values": acts[a]} for a in chain[2:] if a in acts]
    if "created" in (ch.get("results_month") or {}):
        series.append({"label": metric_title("opportunities_created"), "values": ch["results_month"]["created"]})
    chart = Chart("chart-output", "Meetings and opportunities over the months", "Counts per calendar month",
                  columns=[("Month", False)] + [(s["label"], True) for s in series])
    chart.rows = [[month_label(mo)] + [_num(s["values"][i]) if i < len(s["values"]) else "n/a" for s in series]
                  for i, mo in enumerate(months)]
    if not series or not any(any(s["values"]) for s in series):
        chart.empty = "Nothing booked or created in these months."
        return chart
    chart.spec = {"type": "lines", "format": "count", "labels": [month_label(x) for x in months],
                  "series": series}
    return chart


def trend_words(trend: dict | None) -> str:
    if not trend or trend.get("direction", "flat") == "flat":
        return "no significant trend over the last months"
    return f"{'rising' if trend['direction'] == 'up' else 'falling'} (Mann-Kendall p={trend['p_value']:.3f})"


def month_label(month: str) -> str:
    """'2026-10' as 'Oct 2026'."""
    try:
        return date.fromisoformat(f"{month}-01").strftime("%b %Y")
    except ValueError:
        return month


def talk_chart(rep: RepSnapshot, teammates: list[RepSnapshot]) -> Chart:
    """Talk time month by month, with the median of the rep's role peers in the team."""
    months = (rep.charts or {}).get("months", [])
    mine = (rep.charts or {}).get("talk_minutes", [])
    team = []
    for i in range(len(months)):
        vals = [t.charts["talk_minutes"][i] for t in teammates
                if t.charts and i < len(t.charts.get("talk_minutes", [])) and t.charts["talk_minutes"][i] is not None]
        team.append(round(median(vals), 1) if vals else None)
    chart = Chart("chart-talk", "Talk time over the months", "Minutes on the phone per month",
                  columns=[("Month", False), (rep.name, True), ("Team median", True)])
    chart.rows = [[month_label(mo), _num(mine[i] if i < len(mine) else None), _num(team[i])]
                  for i, mo in enumerate(months)]
    if not any(mine):
        chart.empty = "No phone time logged in these months."
        return chart
    chart.spec = {"type": "talk", "format": "minutes", "labels": [month_label(x) for x in months],
                  "values": mine, "team": team, "rep": rep.name}
    return chart


def losses_chart(rep: RepSnapshot) -> Chart:
    """Lost opportunities by reason, most frequent first, with the share against the team."""
    m = rep.metrics or {}
    losses = sorted(((rep.charts or {}).get("losses") or {}).items(), key=lambda kv: -kv[1])
    label = lambda r: r.replace("_", " ").capitalize()   # noqa: E731
    chart = Chart("chart-losses", "Losses by reason", "Opportunities lost in the last 12 months",
                  columns=[("Reason", False), ("Lost deals", True), ("Share of losses", True),
                           ("Team median share", True)])
    chart.rows = [[label(r), _num(n), percent(stat(m, f"loss_share.{r}")),
                   percent(bench(m, "team", f"loss_share.{r}"))] for r, n in losses]
    if not losses:
        chart.empty = "No lost opportunities in the window."
        return chart
    chart.spec = {"type": "losses", "format": "count", "labels": [label(r) for r, _ in losses],
                  "values": [n for _, n in losses]}
    return chart


def risk_reasons(o: dict) -> list[str]:
    out = []
    if o.get("stalled"):
        out.append(f"stalled: {o.get('days_in_stage')} days in stage, longer than most won deals")
    if o.get("oversize"):
        out.append("larger than most won deals")
    if o.get("overage"):
        out.append(f"{o.get('age_days')} days old, older than most won deals at close")
    return out


def pipeline_chart(rep: RepSnapshot) -> Chart:
    """Open opportunities by expected close date and amount; size is effort, red is at risk."""
    m = rep.metrics or {}
    opps = sorted((rep.charts or {}).get("open_pipeline") or [], key=lambda o: o.get("expected_close") or "9999")
    horizon = catalog().pipeline.windows.pipeline_horizon_days
    at_risk = sum(1 for o in opps if o.get("at_risk"))
    chart = Chart("chart-pipeline", "Open pipeline",
                  f"{fmt(stat(m, 'pipeline_value'), 'pipeline_value')} of value with close dates in the next "
                  f"{horizon} days · {len(opps)} open, {at_risk} at risk",
                  columns=[("Opportunity", False), ("Stage", False), ("Amount", True), ("Expected close", False),
                           ("Days in stage", True), ("Activities", True), ("Status", False)])
    chart.rows = [[o["id"], stage_title(o["stage"]), money(o.get("amount")), nice_date(o.get("expected_close")),
                   _num(o.get("days_in_stage")), _num(o.get("activities")),
                   ("At risk: " + "; ".join(risk_reasons(o))) if o.get("at_risk") else "On track"] for o in opps]
    chart.note = "Bubble size: activities logged on the deal. Red: at risk (stalled, or larger or older than " \
                 "most won deals); green: in line with won deals."
    points = [o for o in opps if o.get("expected_close")]
    if not points:
        chart.empty = "No open opportunities."
        return chart
    chart.spec = {"type": "pipeline", "points": [
        {"id": o["id"], "stage": stage_title(o["stage"]), "x": o["expected_close"], "y": o.get("amount") or 0,
         "activities": o.get("activities") or 0, "at_risk": bool(o.get("at_risk")),
         "days_in_stage": o.get("days_in_stage"), "why": risk_reasons(o)} for o in points]}
    return chart
