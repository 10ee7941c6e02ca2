"""The team page: before the monthly one-on-ones, each rep with their focus, their
progress against goals, how they compare with the team, and where their funnel leaks.

Everything comes from the stored snapshots of the current dataset; the helpers
below only group reps by team and role and shape their figures for the page.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import defer, load_only

from ..extensions import db
from ..fragments import kept
from ..filters import metric_title, percent
from ..models import RepSnapshot
from ..reps.charts import (Chart, bench, catalog, fmt, funnel_worst, gap_title, goal_metrics, missing_of,
                           none_in_data, role_kind, roster_chart, skill_title, stat)
from ..security import current_dataset, rep_data_required, scope_key, visible_reps
from ..store import dataset_aggregates
from .forms import TeamFilterForm
from .summary import ListPage, scope_teams, summarise

bp = Blueprint("team", __name__, url_prefix="/team")
REPS_PER_PAGE = 50
TEAMS_PER_PAGE = 100


@bp.get("/")
@rep_data_required
def index():
    """A scope small enough: every rep, by team. A larger one: its teams first (summed in SQL),
    each opening on its reps (`?team=`), a page at a time."""
    dataset = current_dataset()
    scope = scope_key(current_user)
    teams = scope_teams(current_user, dataset)
    form = TeamFilterForm(teams, formdata=request.args)
    chosen = form.team.data if form.validate() and form.team.data else None
    if dataset is None:
        return render_template("team/index.html", dataset=None, form=form, teams=teams, chosen=None, shown=0)
    totals = kept(dataset.folder, ("totals", scope, chosen), lambda: summarise(current_user, dataset, chosen))
    if chosen is None and totals.reps > current_app.config["FAIRWAY_TEAM_PAGE_REPS"]:
        page = ListPage(totals.teams, form.page_number(), TEAMS_PER_PAGE)
        table = kept(dataset.folder, ("teams", scope, page.page),
                     lambda: Markup(render_template("team/_teams.html", page=page)))
        return render_template("team/summary.html", dataset=dataset, form=form, totals=totals, page=page,
                               table=table)
    query = (visible_reps(current_user, dataset).options(load_only(RepSnapshot.id))
             .order_by(RepSnapshot.team, RepSnapshot.name))
    if chosen is not None:
        query = query.where(RepSnapshot.team == chosen)
    page = db.paginate(query, page=form.page_number(), per_page=REPS_PER_PAGE, error_out=False)
    ids = tuple(r.id for r in page.items)
    groups_html, chart_data = kept(dataset.folder, ("groups", ids), lambda: render_groups(dataset, ids))
    return render_template("team/index.html", dataset=dataset, form=form, teams=teams, chosen=chosen,
                           groups_html=groups_html, totals=totals, page=page, shown=totals.reps,
                           chart_data=chart_data)


def render_groups(dataset, ids: tuple[int, ...]) -> tuple[Markup, dict]:
    """The reps `ids` by team and role, with their rows and charts, and the charts' data."""
    reps = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.id.in_(ids))
                              .options(defer(RepSnapshot.charts), defer(RepSnapshot.plan))
                              .order_by(RepSnapshot.team, RepSnapshot.name)).scalars().all()
    groups = team_groups(reps, dataset_aggregates(dataset))
    return (Markup(render_template("team/_groups.html", groups=groups)),
            {c.id: c.spec for g in groups for c in g.charts if c.spec})


@dataclass
class Group:
    """The reps of one role in one team."""

    team: str
    role: str
    role_title: str
    kind: str
    goals: list[str]
    rows: list[dict]
    progress: float | None
    charts: list[Chart] = field(default_factory=list)


def average_progress(reps: list[RepSnapshot]) -> float | None:
    """The seed's "average team progress toward goals": the mean of each rep's activity progress
    (stored with the snapshot)."""
    per_rep = [r.goal_progress for r in reps if r.goal_progress is not None]
    return sum(per_rep) / len(per_rep) if per_rep else None


def team_groups(reps: list[RepSnapshot], aggregates: dict) -> list[Group]:
    """The reps by team, then by role in the pipeline's order."""
    by_key: dict[tuple[str, str], list[RepSnapshot]] = {}
    for r in reps:
        by_key.setdefault((r.team, r.role), []).append(r)
    roles = catalog().pipeline.role_ids
    ordered = sorted(by_key.items(), key=lambda kv: (kv[0][0], roles.index(kv[0][1]) if kv[0][1] in roles else 99))
    out = []
    for n, ((team, role), members) in enumerate(ordered):
        kind = role_kind(role)
        goals = goal_metrics({m for r in members for m in ((r.metrics or {}).get("goals") or {})})
        group = Group(team, role, catalog().pipeline.role(role).title, kind, goals,
                      [rep_row(r, kind) for r in members], average_progress(members))
        group.charts = group_charts(n, group, members, aggregates)
        out.append(group)
    return out


def rep_row(rep: RepSnapshot, kind: str) -> dict:
    """One line of the team table."""
    focus = (rep.diagnosis or {}).get("focus")
    m, missing = rep.metrics or {}, missing_of(rep)
    ids = ["win_rate"] if kind == "closing" else ["activity.meeting_scheduled", "efficiency.connect.meeting_scheduled"]
    compare = [comparison(m, i, missing) for i in ids if i in catalog().registry]
    funnel = funnel_worst(m, kind)
    steps = [s["metric"] for s in funnel["steps"]] if funnel else []
    return {"rep": rep, "goals": m.get("goals") or {}, "compare": compare, "funnel": funnel, "missing": missing,
            "funnel_missing": none_in_data(steps or [s_["metric"] for s_ in _steps(m, kind)], missing),
            "bars": mini_funnel(funnel) if funnel else [],
            "focus": {"gap": gap_title(focus["behaviour_gap"]),
                      "skill": skill_title(focus.get("skill_gap")) or "root cause to find in the conversation",
                      "why": focus.get("why", "")} if focus else None}


def _steps(metrics: dict, kind: str) -> list[dict]:
    from ..reps.charts import conversion_steps
    return conversion_steps(metrics, kind)


def comparison(metrics: dict, metric_id: str, missing: dict | None = None) -> dict:
    """The rep's figure against the team median, and whether that is ahead or behind."""
    value, team = stat(metrics, metric_id), bench(metrics, "team", metric_id)
    state = ""
    if value is not None and team is not None and value != team:
        better = value > team if catalog().registry.get(metric_id).higher_is_better else value < team
        state = "ahead" if better else "behind"
    return {"title": metric_title(metric_id), "value": fmt(value, metric_id, missing),
            "team": fmt(team, metric_id, missing), "state": state}


def mini_funnel(funnel: dict) -> list[dict]:
    """SVG bars: each step's conversion relative to the team median (the tick at mid height)."""
    bars = []
    for i, s in enumerate(funnel["steps"]):
        ratio = (s["rep"] / s["team"]) if s["rep"] is not None and s["team"] else None
        h = 0 if ratio is None else max(2, min(26, round(14 * ratio)))
        bars.append({"x": 2 + i * 14, "y": 28 - h, "h": h, "label": s["label"],
                     "cls": "worst" if s.get("worst") and ratio is not None and ratio < 1 else
                            ("behind" if ratio is not None and ratio < 1 else "ok"),
                     "text": f"{s['label']}: {percent(s['rep'], 0)} vs team {percent(s['team'], 0)}"})
    return bars


def group_charts(n: int, group: Group, members: list[RepSnapshot], aggregates: dict) -> list[Chart]:
    """Activities against goals per rep, and win rates (closers) or talk time (prospectors) compared."""
    charts = [team_goals_chart(f"chart-goals-{n}", group)]
    roster = [r for r in (aggregates.get("roster") or {}).get(group.team, []) if r.get("role") == group.role]
    m = members[0].metrics or {}
    missing = aggregates.get("not_in_data") or {}
    if group.kind == "closing":
        charts.append(roster_chart(f"chart-winrate-{n}", "Win rates compared", roster, "win_rate", "win_rate",
                                   bench(m, "team", "win_rate"), subtitle="Opportunities closed in the last 12 months",
                                   missing=missing))
    else:
        charts.append(roster_chart(f"chart-talk-{n}", "Talk time by rep", roster, "talk_minutes", "talk_minutes",
                                   bench(m, "team", "talk_minutes"), subtitle="Minutes on the phone this month",
                                   missing=missing))
    return charts


def team_goals_chart(chart_id: str, group: Group) -> Chart:
    """Each rep's progress toward each goal, grouped by rep, with the goal at 100%."""
    chart = Chart(chart_id, "Activities against goals", "Progress toward each goal this month",
                  columns=[("Rep", False)] + [(metric_title(g), True) for g in group.goals])
    for row in group.rows:
        cells = [row["rep"].name]
        for g in group.goals:
            e = row["goals"].get(g)
            gone = g in row["missing"]
            cells.append((f"not in the data (goal {fmt(e.get('target'), g)})" if gone else
                          f"{fmt(e.get('value'), g)} of {fmt(e.get('target'), g)} ({percent(e.get('progress'))})")
                         if e else "no goal")
        chart.rows.append(cells)
    if not group.goals:
        chart.empty = "No goals are set for these reps this month."
        return chart
    chart.spec = {"type": "team_goals", "labels": [r["rep"].name for r in group.rows], "series": [
        {"label": metric_title(g),
         "values": [None if g in r["missing"] else (r["goals"].get(g) or {}).get("progress") for r in group.rows],
         "text": [("not in the data" if g in r["missing"] else
                   f"{fmt(r['goals'][g].get('value'), g)} of {fmt(r['goals'][g].get('target'), g)}")
                  if g in r["goals"] else "no goal" for r in group.rows]} for g in group.goals]}
    return chart
