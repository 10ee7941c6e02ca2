"""A rep's own place: their page (the rep page, scoped to them), the month's pre-work, the
agreed plan to read, print and acknowledge, and their assignments to complete with evidence."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..coach import wizard
from ..coach.prework import REFLECTION_FIELDS, prework_for, save_prework
from ..coach.routes import asset_url
from ..extensions import db
from ..models import Role, utcnow
from ..rhythm.followup import followup
from ..security import assignment_or_404, current_dataset, plan_or_404, roles_required, visible_reps
from .forms import AcknowledgeForm, CompleteForm, PreworkForm

bp = Blueprint("me", __name__, url_prefix="/me")
rep_required = roles_required(Role.rep)


def own_snapshot():
    """The signed-in rep's snapshot in the current dataset, or None (not linked, or not in the data)."""
    return db.session.execute(visible_reps(current_user)).scalar_one_or_none()


@bp.get("/")
@rep_required
def index():
    rep = own_snapshot()
    if rep is None:
        return render_template("me/unlinked.html", dataset=current_dataset()), 200
    return redirect(url_for("reps.show", rep_id=rep.rep_id))


@bp.route("/prework", methods=["GET", "POST"])
@rep_required
def prework():
    """Before the month's one-on-one: the reflection and goals questions, in the rep's words."""
    rep = own_snapshot()
    if rep is None:
        return redirect(url_for("me.index"))
    month = rep.dataset.period
    saved = prework_for(rep.rep_id, month)
    session = wizard.month_session(rep.rep_id, month)
    held = session is not None and session.status == "completed"
    form = PreworkForm(data={**((saved.reflection if saved else {}) or {}),
                             "goals_note": saved.goals_note if saved else ""})
    if not held and form.validate_on_submit():
        save_prework(rep, month, {k: getattr(form, k).data for k in REFLECTION_FIELDS}, form.goals_note.data,
                     current_user)
        flash("Your pre-work is saved: your manager will see it in the conversation.", "success")
        return redirect(url_for("reps.show", rep_id=rep.rep_id))
    return render_template("me/prework.html", form=form, rep=rep, month=month, saved=saved, session=session,
                           held=held, questions=wizard.EVERY_SESSION_QUESTIONS[:2])


@bp.get("/plans/<int:plan_id>")
@rep_required
def plan(plan_id: int):
    """The agreed plan, shared: to read, print and acknowledge."""
    p = plan_or_404(plan_id)
    return render_template("me/plan.html", p=p, f=followup(p), ack=AcknowledgeForm(), complete_form=CompleteForm(),
                           asset_url=asset_url)


@bp.post("/plans/<int:plan_id>/acknowledge")
@rep_required
def acknowledge(plan_id: int):
    p = plan_or_404(plan_id)
    if AcknowledgeForm().validate_on_submit() and p.acknowledged_at is None:
        p.acknowledged_at, p.acknowledged_by = utcnow(), current_user.id
        db.session.commit()
        flash("Thank you: the plan is acknowledged.", "success")
    return redirect(url_for("me.plan", plan_id=p.id))


@bp.post("/assignments/<int:assignment_id>/complete")
@rep_required
def complete(assignment_id: int):
    """Done, with what was done: a selling assignment needs its evidence, a learning asset may have a note."""
    a = assignment_or_404(assignment_id)
    form = CompleteForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errors in form.errors.values() for e in errors) or "That could not be saved.", "error")
    elif a.status != "open":
        flash(f"“{a.title}” is already {a.status}.", "info")
    elif a.kind == "selling" and not (form.evidence.data or "").strip():
        flash(f"“{a.title}” is a selling assignment: say what you did (a note or a link) to mark it done.", "error")
    else:
        a.status, a.completed_at, a.completed_by = "completed", utcnow(), current_user.id
        a.evidence, a.evidence_at = (form.evidence.data or "").strip(), utcnow() if form.evidence.data else None
        db.session.commit()
        flash(f"“{a.title}” marked done.", "success")
    return redirect(url_for("me.plan", plan_id=a.plan_id) if a.plan_id else url_for("me.index"))

