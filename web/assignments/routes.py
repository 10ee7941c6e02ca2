"""Assignments: open ones by when they are due, recently completed ones, marked complete by
the manager; and the coaching metrics of seed 002 for the manager's scope."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func

from ..coach import wizard
from ..coach.routes import asset_url
from ..extensions import db
from ..models import Assignment, AssignmentKind, CoachingSession, utcnow
from ..security import assignment_or_404, rep_data_required, scoped, visible_reps
from ..coach.forms import label_of, options
from .forms import AssignmentFilter, CompleteForm

bp = Blueprint("assignments", __name__, url_prefix="/assignments")

RECENT_DAYS = 30
SESSIONS_PER_REP = 2     # seed 002's rule of thumb: two coaching conversations per seller per month


def grouped(items: list[Assignment], today: date) -> dict[str, list[Assignment]]:
    """Open assignments as overdue, due this week (the next seven days) and later."""
    week = today + timedelta(days=7)
    groups = {"overdue": [], "week": [], "later": []}
    for a in items:
        groups["overdue" if a.due_on < today else "week" if a.due_on <= week else "later"].append(a)
    return groups


def coaching_metrics(today: date) -> dict:
    """Sessions held this month, learning and selling assignments given, completion rate (seed 002)."""
    first = today.replace(day=1)
    start = datetime(first.year, first.month, 1)
    held = db.session.execute(scoped(CoachingSession).where(
        CoachingSession.status == "completed", CoachingSession.held_on >= first,
        CoachingSession.held_on <= today)).scalars().all()
    given = db.session.execute(scoped(Assignment).where(Assignment.created_at >= start)
                               .with_only_columns(Assignment.kind, func.count()).group_by(Assignment.kind)).all()
    done = db.session.execute(scoped(Assignment).where(Assignment.status == "completed")
                              .with_only_columns(func.count())).scalar_one()
    late = db.session.execute(scoped(Assignment).where(Assignment.status == "open", Assignment.due_on < today)
                              .with_only_columns(func.count())).scalar_one()
    reps = db.session.execute(visible_reps(current_user).with_only_columns(func.count())).scalar_one()
    kinds = dict(given)
    by_type = {k: sum(1 for s in held if s.kind == k) for k in wizard.SESSION_TYPES}
    return {"sessions": len(held), "by_type": {k: v for k, v in by_type.items() if v},
            "learning": kinds.get(AssignmentKind.learning.value, 0),
            "selling": kinds.get(AssignmentKind.selling.value, 0),
            "completed": done, "due": done + late,
            "rate": (done / (done + late)) if done + late else None,
            "target": SESSIONS_PER_REP * reps, "reps": reps, "month": first}


@bp.get("/")
@rep_data_required
def index():
    today = date.today()
    everything = db.session.execute(scoped(Assignment).where(Assignment.status != "cancelled")).scalars().all()
    form = AssignmentFilter(request.args)
    form.rep.choices = options([("", "All reps")] + sorted({(a.rep_id, a.rep_name) for a in everything},
                                                           key=lambda c: c[1]))
    chosen = [a for a in everything if not form.rep.data or a.rep_id == form.rep.data]
    open_items = sorted((a for a in chosen if a.status == "open"), key=lambda a: (a.due_on, a.rep_name))
    since = utcnow() - timedelta(days=RECENT_DAYS)
    completed = sorted((a for a in chosen if a.status == "completed" and a.completed_at and a.completed_at >= since),
                       key=lambda a: a.completed_at, reverse=True)
    return render_template("assignments/index.html", form=form, groups=grouped(open_items, today),
                           completed=completed, metrics=coaching_metrics(today), complete_form=CompleteForm(),
                           open_sessions=wizard.open_sessions(current_user), asset_url=asset_url,
                           rep_name=label_of(form.rep, form.rep.data) if form.rep.data else None)


@bp.post("/<int:assignment_id>/complete")
@rep_data_required
def complete(assignment_id: int):
    a = assignment_or_404(assignment_id)
    form = CompleteForm()
    if form.validate_on_submit():
        if a.status == "open":
            a.status, a.completed_at, a.completed_by = "completed", utcnow(), current_user.id
            db.session.commit()
            flash(f"“{a.title}” marked complete for {a.rep_name}.", "success")
        else:
            flash(f"“{a.title}” is already {a.status}.", "info")
    return redirect(url_for("assignments.index", rep=form.rep.data or None))
