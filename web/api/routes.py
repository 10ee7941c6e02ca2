"""The JSON API under /api/v1, with the same authorisation as the pages.

Signed in with the web app's session cookie; signed out answers 401 (never a redirect).
Errors are {"error": {"status", "message"}}. POST needs the X-CSRFToken header
(GET /api/v1/csrf-token gives one), checked after the sign-in (signed out is 401, with a
token or without). The shape of it all: web/api/openapi.py. See docs/api.md.
"""
from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import load_only

from ..extensions import csrf, db
from ..fragments import kept
from ..models import CATALOG_ROLES, Assignment, CoachingPlan, RepSnapshot, Role, utcnow
from ..security import (assignment_or_404, current_dataset, own_rep_required, plan_or_404, rep_data_required, rep_or_404,
                        roles_required, scope_key, scoped, visible_reps)
from ..team.summary import scope_teams
from .documents import (SUMMARY_COLUMNS, assignment_doc, dataset_doc, diagnosis_entry, json_error, json_response,
                        metrics_entry, page_links, plan_doc, rep_detail, rep_summary)
from .forms import (MAX_PER_PAGE, AssignmentQuery, DivisionQuery, MonthQuery, PageQuery, PlanQuery, ReportQuery,
                    RepQuery, CadenceQuery)
from .openapi import spec

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)            # not unprotected: checked below, once the caller is known to be signed in


@bp.before_request
def signed_in():
    """The API answers 401 JSON to a signed-out caller, where a page would redirect to sign in;
    then every POST needs its CSRF token (400 without)."""
    if not current_user.is_authenticated:
        return json_error(401, "Sign in first: the API uses the web app's session cookie.")
    csrf.protect()
    return None


@bp.get("/csrf-token")
def csrf_token():
    return json_response({"csrf_token": generate_csrf(), "header": "X-CSRFToken"})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API (web/api/openapi.py), for every signed-in user."""
    return json_response(spec())


@bp.get("/reps")
@rep_data_required
def reps():
    q = _query(RepQuery)
    ds = current_dataset()

    def listed() -> dict:
        page = _page(visible_reps(current_user, ds).options(load_only(*SUMMARY_COLUMNS))
                     .order_by(RepSnapshot.team, RepSnapshot.name, RepSnapshot.rep_id), q)
        return {"period": ds.period if ds else None, "reps": [rep_summary(r) for r in page.items],
                **page_links(page, "api.reps", q)}
    if ds is None:
        return json_response(listed())
    return json_response(kept(ds.folder, ("api reps", scope_key(current_user), q.page_number(), q.page_size()), listed))


@bp.get("/reps/<rep_id>")
@own_rep_required
def rep(rep_id: str):
    return json_response(rep_detail(rep_or_404(rep_id), current_dataset()))


@bp.get("/reps/<rep_id>/metrics")
@own_rep_required
def rep_metrics(rep_id: str):
    return json_response(metrics_entry(rep_or_404(rep_id), current_dataset()))


@bp.get("/reps/<rep_id>/diagnosis")
@own_rep_required
def rep_diagnosis(rep_id: str):
    return json_response(diagnosis_entry(rep_or_404(rep_id), current_dataset()))


@bp.get("/plans")
@own_rep_required
def plans():
    q = _query(PlanQuery)
    stmt = scoped(CoachingPlan).order_by(CoachingPlan.month.desc(), CoachingPlan.id.desc())
    for column in ("status", "rep_id", "month"):
        if q.data[column]:
            stmt = stmt.where(getattr(CoachingPlan, column) == q.data[column])
    page = _page(stmt, q)
    return json_response({"plans": [plan_doc(p) for p in page.items], **page_links(page, "api.plans", q)})


@bp.get("/plans/<int:plan_id>")
@own_rep_required
def plan(plan_id: int):
    return json_response(plan_doc(plan_or_404(plan_id), full=True))


@bp.get("/assignments")
@own_rep_required
def assignments():
    q = _query(AssignmentQuery)
    stmt = scoped(Assignment).order_by(Assignment.due_on, Assignment.id)
    for column in ("status", "rep_id", "kind"):
        if q.data[column]:
            stmt = stmt.where(getattr(Assignment, column) == q.data[column])
    page = _page(stmt, q)
    return json_response({"assignments": [assignment_doc(a) for a in page.items],
                          **page_links(page, "api.assignments", q)})


@bp.post("/assignments/<int:assignment_id>/complete")
@rep_data_required
def complete_assignment(assignment_id: int):
    a = assignment_or_404(assignment_id)
    if a.status == "cancelled":
        return json_error(409, "This assignment was cancelled: it cannot be completed.")
    if a.status != "completed":
        a.status, a.completed_at, a.completed_by = "completed", utcnow(), current_user.id
        db.session.commit()
    return json_response(assignment_doc(a))


@bp.get("/catalog/coverage")
@roles_required(*CATALOG_ROLES)
def catalog_coverage():
    from ..catalog.routes import check_report
    report = check_report()
    return json_response({"catalog_version": report.catalog.version if report.catalog else None,
                          "coverage": report.coverage,
                          "errors": [p.to_dict() for p in report.errors],
                          "warnings": [p.to_dict() for p in report.warnings]})


@bp.get("/datasets/current")
def current_dataset_summary():
    ds = current_dataset()
    if ds is None:
        return json_error(404, "No current dataset: an admin imports one.")
    return json_response(dataset_doc(ds, full=current_user.role == Role.admin.value))


def _page(stmt, q: PageQuery):
    return db.paginate(stmt, page=q.page_number(), per_page=q.page_size(), max_per_page=MAX_PER_PAGE,
                       error_out=False)


# --------------------------------------------------------------------------- the monthly rhythm

@bp.get("/cadence")
@rep_data_required
def cadence():
    """Day 1: every rep in scope with the month's conversation, focus, open plans, assignments due;
    a page at a time, with the whole scope's counts (only the page's reps are read in full)."""
    from datetime import date

    from ..rhythm.cadence import month_counts, month_slice
    q = _query(CadenceQuery)
    ds, today, team = current_dataset(), date.today(), q.data["team"] or None
    counts = month_counts(current_user, ds, today, team)
    page = CountedPage(q.page_number(), q.page_size(), counts["reps"])
    rows = month_slice(current_user, ds, today, team, page.offset, page.per_page) if page.offset < page.total else []
    return json_response({"period": ds.period if ds else None, "counts": counts,
                          "reps": [r.to_dict() for r in rows], **page_links(page, "api.cadence", q)})


class CountedPage:
    """Where a page of a list of `total` items stands (as Flask-SQLAlchemy's pages: a page beyond
    the last is empty), for a list that is counted and sliced rather than selected as one query."""

    def __init__(self, page: int, per_page: int, total: int):
        self.page, self.per_page, self.total = page, per_page, total
        self.pages = -(-total // per_page)
        self.offset = (page - 1) * per_page
        self.has_next, self.has_prev = page < self.pages, page > 1
        self.next_num, self.prev_num = page + 1, page - 1


@bp.get("/rollup")
@rep_data_required
def rollup():
    """Day 2: per division, and the teams of one division (or of the only one in scope)."""
    from datetime import date

    from ..rhythm.rollup import group_rows, managers_behind, totals
    q = _query(DivisionQuery)
    ds = current_dataset()
    division = q.data["division"] or None
    today = date.today()
    divisions = group_rows(current_user, ds, "division", today=today)
    if division is not None and division not in {d.key for d in divisions}:
        return json_error(404, "No such division in your scope.")
    if division is None and len(divisions) == 1:
        division = divisions[0].key
    teams = group_rows(current_user, ds, "team", division, today) if division else []
    return json_response({"period": ds.period if ds else None, "division": division,
                          "total": totals(teams or divisions).to_dict(),
                          "divisions": [d.to_dict() for d in divisions], "teams": [t.to_dict() for t in teams],
                          "managers_behind": managers_behind(teams)})


@bp.get("/rollup/teams/<path:team>")
@rep_data_required
def rollup_team(team: str):
    """One team's reps: what skill, why, how (the plan's how and assignments), the conversation."""
    from datetime import date

    from ..rhythm.cadence import month_of
    ds = current_dataset()
    rows = month_of(current_user, ds, date.today(), team)
    if not rows:
        return json_error(404, "No such team in your scope.")
    return json_response({"period": ds.period, "team": team, "reps": [
        {**r.to_dict(), "plan": None if r.plan is None else {
            "id": r.plan.id, "skill_id": r.plan.skill_id, "why": r.plan.why, "how": r.plan.how,
            "assignments": [assignment_doc(a) for a in r.plan.assignments]}} for r in rows]})


@bp.get("/effectiveness")
@rep_data_required
def effectiveness():
    """Coaching effectiveness per team and manager for a month (default: this month)."""
    from datetime import date

    from ..rhythm.effectiveness import report
    q = _query(MonthQuery)
    month = q.data["month"] or date.today().strftime("%Y-%m")
    return json_response(report(current_user, current_dataset(), month))


@bp.get("/report")
@rep_data_required
def progress_report():
    """The progress report of your scope: by division, team or rep, by day, week or month."""
    from ..reports.service import scoped_report, stored_months
    q = _query(ReportQuery)
    ds = current_dataset()
    if ds is None:
        return json_error(404, "No current dataset: an admin imports one.")
    months = stored_months(ds)
    month = q.data["month"] or months[0]
    if month not in months:
        return json_error(404, f"No report for {month}: this import holds {', '.join(months)}.")
    team = q.data["team"] or None
    if team is not None and team not in scope_teams(current_user, ds):
        return json_error(404, "No such team in your scope.")
    r = scoped_report(current_user, ds, q.data["by"] or "team", q.data["grain"] or "day", month, team)
    return json_response(r.to_dict())


def _query(form_class):
    """The query string through its form; 400 with every problem when it does not fit."""
    form = form_class(request.args)
    if not form.validate():
        abort(json_error(400, "Invalid query parameters.", fields=form.errors))
    return form
