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
from ..filters import metric_title, metric_value, money, nice_date, not_in_data, percent, rag_badge
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


def fmt(value, metric_id: str, missing: dict | None = None) -> str:
    return metric_value(value, metric_id, missing=missing)


def missing_of(rep: RepSnapshot) -> dict[str, str]:
    """Metric id -> why the data cannot give it, for this rep (stored with the snapshot)."""
    return (rep.metrics or {}).get("not_in_data") or {}


def held(rep: RepSnapshot, kind: str) -> bool:
    """Whether the rep's dataset holds this kind of data (Coverage); True for datasets stored before
    fairway recorded it."""
    cov = ((rep.dataset.summary if rep.dataset is not None else None) or {}).get("coverage")
    return True if cov is None else bool(cov.get(kind))


def none_in_data(metric_ids, missing: dict) -> str | None:
    """Why, when every one of these metrics is not in the data; else None."""
    ids = list(metric_ids)
    if ids and all(m in missing for m in ids):
        return missing[ids[0]]
    return None


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
                 median_value, highlight: str | None = None, subtitle: str = "",
                 missing: dict | None = None) -> Chart:
    """Each rep of a team on one metric, with the team median (and one rep highlighted)."""
    roster = sorted(roster, key=lambda r: (r.get(key) is None, -(r.get(key) or 0)))
    people = [r for r in roster if r.get(key) is not None]
    chart = Chart(chart_id, title, subtitle, columns=[("Rep", False), (metric_title(metric_id), True)])
    chart.rows = [[r["name"] + (" (this rep)" if r["rep_id"] == highlight else ""), fmt(r[key], metric_id, missing)]
                  for r in roster]
    chart.rows.append(["Team median", fmt(median_value, metric_id, missing)])
    if missing and metric_id in missing:
        chart.empty = f"{metric_title(metric_id)} is not in the data: {missing[metric_id]}."
        return chart
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


def plan_rows(plan: list[dict], missing: dict | None = None) -> list[dict]:
    """The success plan, top down: what the month needs against the run rate, step by step; a step
    the data cannot count (no activities) has its run rate "not in the data"."""
    rows = []
    missing = missing or {}
    for st in plan:
        show = money if st["metric"] == "revenue" else _plan_count
        needed, run, gap = st.get("needed"), st.get("run_rate"), st.get("gap")
        ratio = ""
        if st.get("ratio") and st.get("ratio_value") is not None:
            value = PLAN_RATIO_FORMAT.get(st["step"], lambda v: _num(v, 2))(st["ratio_value"])
            ratio = f"{st['ratio']}: {value} ({PLAN_SOURCE.get(st.get('source'), 'estimate')})"
        status = progress_rag(run / needed if needed and run is not None else None)
        if st.get("metric") in missing:
            gone = not_in_data(missing[st["metric"]])
            rows.append({"title": st["title"], "needed": gone if needed is None else show(needed),
                         "actual": gone, "run_rate": gone,
                         "gap": gone, "ratio": ratio, "badge": Markup("")})
            continue
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
    m, missing = rep.metrics or {}, missing_of(rep)
    return [{"title": metric_title(i), "value": fmt(stat(m, i), i, missing),
             "team": fmt(bench(m, "team", i), i, missing)} for i in ids]


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
                                   "Opportunities closed in the last 12 months", missing_of(rep)))
        charts += [losses_chart(rep), pipeline_chart(rep)]
    else:
        charts.insert(3, output_chart(rep))
        charts.append(roster_chart("chart-talk-team", "Talk time against the team", roster, "talk_minutes",
                                   "talk_minutes", bench(m, "team", "talk_minutes"), rep.rep_id,
                                   "Minutes on the phone this month", missing_of(rep)))
    return charts


def goals_chart(rep: RepSnapshot) -> Chart:
    """Activities (and results) against the rep's goals: progress bars, the goal at 100%."""
    m, missing = rep.metrics or {}, missing_of(rep)
    goals = {g: v for g, v in (m.get("goals") or {}).items() if g not in missing}   # nothing to measure against
    order = goal_metrics(goals)
    acts = [f"activity.{a}" for a in catalog().pipeline.activity_type_ids]
    chart = Chart("chart-goals", "Activities against the goals set", "This month, against the goals set in goals.csv "
                  "(not the success plan's computed need)",
                  columns=[("Activity", False), ("This month", True), ("Goal", True), ("Progress", True),
                           ("Status", False)])
    for mid in order + [a for a in acts if a not in goals]:
        g = goals.get(mid)
        target = (m.get("goals") or {}).get(mid)
        chart.rows.append([metric_title(mid), fmt(g["value"] if g else stat(m, mid), mid, missing),
                           fmt(target["target"], mid) if target else "no goal",
                           percent(g.get("progress")) if g else "",
                           rag_badge(g.get("rag")) if g else ""])
    if not goals:
        chart.empty = ("The goals set are on figures that are not in the data." if m.get("goals") else
                       "No goals are set for this rep this month.")
        return chart
    chart.spec = {"type": "goals", "labels": [metric_title(x) for x in order],
                  "progress": [goals[x].get("progress") for x in order], "rag": [goals[x].get("rag") for x in order],
                  "values": [fmt(goals[x].get("value"), x) for x in order],
                  "targets": [fmt(goals[x].get("target"), x) for x in order]}
    return chart


def funnel_chart(rep: RepSnapshot, kind: str) -> Chart:
    """Conversion to the next step against the team and company medians, and the funnel table."""
    m, missing = rep.metrics or {}, missing_of(rep)
    steps = conversion_steps(m, kind)

    def shown(step: dict, key: str):
        """A step's conversion (the rep's, or a median), or "not in the data" where the data cannot give it."""
        return not_in_data(missing[step["metric"]]) if step.get("metric") in missing else percent(step.get(key))

    if kind == "closing":
        chart = Chart("chart-funnel", "The funnel: conversion to the next stage",
                      "Opportunities closed in the last 12 months",
                      columns=[("Stage", False), ("Count", True), ("% conversion to next", True),
                               ("Conversion % from top", True), ("Team median", True), ("Company median", True)])
        by_stage = {s["label"]: s for s in steps}
        for row in m.get("funnel", []):
            s = by_stage.get(stage_title(row["stage"]), {})
            gone = s.get("metric") in missing
            chart.rows.append([stage_title(row["stage"]), _num(row["count"]),
                               shown(s, "rep") if gone else percent(row.get("conversion_to_next")),
                               shown(s, "rep") if gone else percent(row.get("conversion_from_top")),
                               shown(s, "team"), shown(s, "company")])
    else:
        chart = Chart("chart-funnel", "The prospecting funnel: conversion to the next step",
                      "Ratios over the last 3 months; counts this month",
                      columns=[("Step", False), ("Count this month", True), ("Conversion to next", True),
                               ("Team median", True), ("Company median", True)])
        chain = catalog().pipeline.prospecting_funnel
        for i, a in enumerate(chain):
            s = steps[i] if i < len(steps) else {}
            chart.rows.append([activity_title(a), fmt(stat(m, f"activity.{a}"), f"activity.{a}", missing),
                               shown(s, "rep") if s else "", shown(s, "team") if s else "",
                               shown(s, "company") if s else ""])
    why = none_in_data([s["metric"] for s in steps], missing)
    if why:
        chart.empty = f"Conversions are not in the data: {why}."
        return chart
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
    missing = missing_of(rep)
    ids = {"calls_per_connect": f"efficiency.{chain[0]}.{chain[1]}",
           "connects_per_meeting": f"efficiency.{chain[1]}.{chain[2]}" if len(chain) > 2 else ""}
    series = [{"key": k, "label": names[k], "values": v} for k, v in (ch.get("ratios") or {}).items() if k in names]
    drawn = [s for s in series if any(x is not None for x in s["values"])]
    trends = ch.get("trends") or {}
    chart = Chart("chart-efficiency", "Efficiency ratios over the months",
                  "Lower is better; a gap is a month where the ratio is undefined (nothing to divide by)",
                  columns=[("Month", False)] + [(s["label"], True) for s in series])
    chart.rows = [[month_label(mo)] + [not_in_data(missing[ids[s["key"]]]) if ids[s["key"]] in missing else
                                       _num(s["values"][i], 1) if i < len(s["values"]) else "n/a"
                                       for s in series] for i, mo in enumerate(months)]
    why = none_in_data([ids[s["key"]] for s in series], missing)
    if why:
        chart.empty = f"The efficiency ratios are not in the data: {why}."
        return chart
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
    missing = missing_of(rep)
    series = [{"label": activity_title(a), "values": acts[a], "metric": f"activity.{a}"}
              for a in chain[2:] if a in acts and f"activity.{a}" not in missing]
    if "created" in (ch.get("results_month") or {}) and "opportunities_created" not in missing:
        series.append({"label": metric_title("opportunities_created"), "values": ch["results_month"]["created"],
                       "metric": "opportunities_created"})
    gone = [f"activity.{a}" for a in chain[2:] if f"activity.{a}" in missing]
    if "opportunities_created" in missing:
        gone.append("opportunities_created")
    chart = Chart("chart-output", "Meetings and opportunities over the months", "Counts per calendar month",
                  columns=[("Month", False)] + [(s["label"], True) for s in series])
    chart.rows = [[month_label(mo)] + [_num(s["values"][i]) if i < len(s["values"]) else "n/a" for s in series]
                  for i, mo in enumerate(months)]
    if gone:
        chart.note = "Not in the data: " + "; ".join(f"{metric_title(g)} ({missing[g]})" for g in gone) + "."
    if not series:
        chart.empty = "Meetings and opportunities created are not in the data."
        return chart
    if not any(any(s["values"]) for s in series):
        chart.empty = "Nothing booked or created in these months."
        return chart
    chart.spec = {"type": "lines", "format": "count", "labels": [month_label(x) for x in months],
                  "series": [{"label": s["label"], "values": s["values"]} for s in series]}
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
    missing = missing_of(rep)
    if "talk_minutes" in missing:
        chart.rows = [[month_label(mo), not_in_data(missing["talk_minutes"]), not_in_data(missing["talk_minutes"])]
                      for mo in months]
        chart.empty = f"Talk time is not in the data: {missing['talk_minutes']}."
        return chart
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
    if not held(rep, "loss_reasons"):
        chart.empty = "Loss reasons are not in the data: lost deals cannot be told apart by reason."
        return chart
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
    m, missing = rep.metrics or {}, missing_of(rep)
    opps = sorted((rep.charts or {}).get("open_pipeline") or [], key=lambda o: o.get("expected_close") or "9999")
    history, activities = held(rep, "stage_history"), held(rep, "activities")
    horizon = catalog().pipeline.windows.pipeline_horizon_days
    at_risk = sum(1 for o in opps if o.get("at_risk"))
    value = "not in the data" if "pipeline_value" in missing else fmt(stat(m, "pipeline_value"), "pipeline_value")
    chart = Chart("chart-pipeline", "Open pipeline",
                  f"{value} of value with close dates in the next "
                  f"{horizon} days · {len(opps)} open, {at_risk} at risk",
                  columns=[("Opportunity", False), ("Stage", False), ("Amount", True), ("Expected close", False),
                           ("Days in stage", True), ("Activities", True), ("Status", False)])
    chart.rows = [[o["id"], stage_title(o["stage"]), money(o.get("amount")), nice_date(o.get("expected_close")),
                   _num(o.get("days_in_stage")) if history else not_in_data("no stage history in the data"),
                   _num(o.get("activities")) if activities else not_in_data("no activities in the data"),
                   ("At risk: " + "; ".join(risk_reasons(o))) if o.get("at_risk") else "On track"] for o in opps]
    chart.note = "Bubble size: activities logged on the deal. Red: at risk (stalled, or larger or older than " \
                 "most won deals); green: in line with won deals."
    if not history or not activities:
        chart.note += " Not in the data: " + " and ".join(
            w for w, ok in (("stage history (days in stage, stalled deals)", history),
                            ("activities (effort on each deal)", activities)) if not ok) + "."
    points = [o for o in opps if o.get("expected_close")]
    if not points:
        chart.empty = "No open opportunities."
        return chart
    chart.spec = {"type": "pipeline", "points": [
        {"id": o["id"], "stage": stage_title(o["stage"]), "x": o["expected_close"], "y": o.get("amount") or 0,
         "activities": o.get("activities") or 0, "at_risk": bool(o.get("at_risk")),
         "days_in_stage": o.get("days_in_stage"), "why": risk_reasons(o)} for o in points]}
    return chart
