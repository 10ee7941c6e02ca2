"""Day 2, the roll-up: per division, then team, then rep, seed 000's three questions (what
skill, why, how), the managers who have not held their one-on-ones, a team comparison and
what changed since last month. The landing page of directors and admins."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from ..extensions import db
from ..models import RepSnapshot
from ..rhythm.cadence import month_counts, month_of
from ..rhythm.rollup import group_rows, managers_behind, previous_dataset, totals
from ..security import current_dataset, rep_data_required, visible_reps
from .forms import RollupFilter

bp = Blueprint("rollup", __name__, url_prefix="/rollup")


def divisions_in_scope(dataset) -> list[str]:
    if dataset is None:
        return []
    return sorted(db.session.execute(visible_reps(current_user, dataset)
                                     .with_only_columns(RepSnapshot.division).distinct()).scalars())


@bp.get("/")
@rep_data_required
def index():
    """Divisions (several in scope), then the teams of one: aggregates first."""
    dataset = current_dataset()
    divisions = divisions_in_scope(dataset)
    form = RollupFilter(divisions, formdata=request.args)
    division = form.division.data if form.validate() and form.division.data else None
    if division is None and len(divisions) == 1:
        division = divisions[0]
    today = date.today()
    by_division = group_rows(current_user, dataset, "division", today=today) if len(divisions) > 1 else []
    teams = group_rows(current_user, dataset, "team", division, today) if division else []
    rows = teams or by_division
    return render_template("rollup/index.html", dataset=dataset, form=form, division=division, divisions=divisions,
                           by_division=by_division, teams=teams, total=totals(rows), behind=managers_behind(teams),
                           previous=previous_dataset(dataset) if dataset else None)


@bp.get("/teams/<path:team>")
@rep_data_required
def team(team: str):
    """One team's reps: what skill, why (the evidence), how (assignments, the manager's help)."""
    dataset = current_dataset()
    today = date.today()
    rows = month_of(current_user, dataset, today, team)
    if not rows:
        abort(404)                      # a team outside the scope answers like one that does not exist
    return render_template("rollup/team.html", dataset=dataset, team=team, rows=rows,
                           counts=month_counts(current_user, dataset, today, team),
                           division=rows[0].division)
