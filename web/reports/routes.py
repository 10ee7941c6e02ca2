"""The progress report (seed 000's daily dashboards) as a page and as CSV: the full funnel
by division, team or rep, by day, week or month, for the user's scope."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from ..extensions import db
from ..security import current_dataset, rep_data_required, visible_reps
from ..team.summary import scope_teams
from .forms import ReportQuery
from .service import metric_titles, scoped_report, stored_months

bp = Blueprint("reports", __name__, url_prefix="/reports")
REP_LIMIT = 60          # a rep-level report of more reps than this asks for one team: aggregate first


def query():
    """(form, dataset, the report asked for or None, why there is none)."""
    dataset = current_dataset()
    months = stored_months(dataset)
    teams = scope_teams(current_user, dataset)
    form = ReportQuery(months, teams, formdata=request.args or None,
                      data={"by": "team", "grain": "day", "month": months[0] if months else None, "team": ""})
    if dataset is None:
        return form, None, None, ""
    if request.args and not form.validate():
        abort(404 if "team" in form.errors else 400)
    month = form.month.data or months[0]
    team = form.team.data or None
    if form.by.data == "rep" and team is None and len(teams) > 1:
        size = db.session.execute(visible_reps(current_user, dataset).with_only_columns(db.func.count())).scalar_one()
        if size > REP_LIMIT:
            return form, dataset, None, f"{size} reps: choose a team to see them one by one."
    return form, dataset, scoped_report(current_user, dataset, form.by.data or "team", form.grain.data or "day",
                                        month, team), ""


@bp.get("/")
@rep_data_required
def index():
    form, dataset, report, why = query()
    return render_template("reports/index.html", form=form, dataset=dataset, report=report, why=why,
                           table=report.table() if report else {}, titles=metric_titles(report) if report else {})


@bp.get("/report.csv")
@rep_data_required
def csv():
    form, dataset, report, why = query()
    if report is None:
        abort(404)
    name = f"fairway-report-{report.month}-{report.by}-{report.grain}.csv"
    return Response(report.to_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
