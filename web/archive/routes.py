"""The archive of coaching plans: which plans worked for which skill gap, and who overcame it
most recently (seed 000); each plan closed with its outcome."""
from __future__ import annotations

from collections import Counter, defaultdict

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..coach import wizard
from ..coach.routes import asset_url
from ..extensions import db
from ..filters import metric_value
from ..models import CoachingPlan, PlanStatus, RepSnapshot
from ..rhythm.followup import close_plan, followup, next_focus
from ..security import current_dataset, plan_or_404, rep_data_required, scoped
from ..store import catalog
from ..coach.forms import label_of, options
from .forms import ArchiveFilter, CloseForm

bp = Blueprint("archive", __name__, url_prefix="/archive")


def latest_values(plans) -> dict[str, RepSnapshot]:
    """The current dataset's snapshot of each rep with a plan: where the baseline KPI stands now."""
    dataset = current_dataset()
    reps = {p.rep_id for p in plans}
    if dataset is None or not reps:
        return {}
    rows = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == dataset.id,
                                                           RepSnapshot.rep_id.in_(reps))).scalars()
    return {r.rep_id: r for r in rows}


def plan_row(plan: CoachingPlan, snapshots: dict) -> dict:
    """A plan with the latest value of its baseline KPI and whether it moved towards the target."""
    latest = wizard.metric_value(snapshots.get(plan.rep_id), plan.baseline_metric)
    trend = ""
    same = latest is not None and plan.baseline_value is not None and \
        metric_value(latest, plan.baseline_metric) == metric_value(plan.baseline_value, plan.baseline_metric)
    if None not in (latest, plan.baseline_value, plan.target_value) and not same:
        towards = (latest - plan.baseline_value) * (1 if plan.target_value >= plan.baseline_value else -1)
        trend = "better" if towards > 0 else "worse"
    reached = latest is not None and plan.target_value is not None and plan.baseline_value is not None and (
        latest >= plan.target_value if plan.target_value >= plan.baseline_value else latest <= plan.target_value)
    return {"plan": plan, "latest": latest, "trend": trend, "reached": reached}


def filtered_plans(form: ArchiveFilter) -> list[CoachingPlan]:
    q = scoped(CoachingPlan)
    if form.rep.data:
        q = q.where(CoachingPlan.rep_id == form.rep.data)
    if form.skill.data:
        q = q.where(CoachingPlan.skill_id == form.skill.data)
    return list(db.session.execute(q.order_by(CoachingPlan.month.desc(), CoachingPlan.created_at.desc())
                                   ).scalars())


def summary(plans, key: str) -> list[dict]:
    """Per skill (or rep): how many plans, closed, achieved; the latest month and skill."""
    out: dict = {}
    for p in sorted(plans, key=lambda p: p.month):
        s = out.setdefault(getattr(p, key), {"id": getattr(p, key), "name": p.rep_name, "plans": 0, "closed": 0,
                                             "achieved": 0})
        s["plans"] += 1
        s["closed"] += bool(p.closed_on_data)                 # success counts only plans closed on data
        s["achieved"] += bool(p.closed_on_data) and p.status == PlanStatus.achieved.value
        s["latest_skill"], s["latest_month"] = p.skill_id, p.month
    return sorted(out.values(), key=lambda s: (-s["plans"], s["name"] if key == "rep_id" else s["id"]))


@bp.get("/")
@rep_data_required
def index():
    everything = db.session.execute(scoped(CoachingPlan)).scalars().all()
    form = ArchiveFilter(request.args)
    form.rep.choices = options([("", "All reps")] + sorted({(p.rep_id, p.rep_name) for p in everything},
                                                           key=lambda c: c[1]))
    form.skill.choices = options([("", "All skills")] + [(s, catalog().skills[s].title if s in catalog().skills else s)
                                                         for s in sorted({p.skill_id for p in everything})])
    plans = filtered_plans(form)
    snapshots = latest_values(plans)
    by_month = defaultdict(list)
    for p in plans:
        by_month[p.month].append(plan_row(p, snapshots))
    return render_template("archive/index.html", form=form, by_month=by_month, count=len(plans),
                           skills=summary(everything, "skill_id"), reps=summary(everything, "rep_id"),
                           open_sessions=wizard.open_sessions(current_user),
                           rep_name=label_of(form.rep, form.rep.data) if form.rep.data else None)


@bp.get("/plan/<int:plan_id>")
@rep_data_required
def plan(plan_id: int):
    p = plan_or_404(plan_id)
    return plan_page(p, CloseForm())


def plan_page(p: CoachingPlan, form: CloseForm, status: int = 200):
    f = followup(p)
    return render_template("archive/plan.html", row=plan_row(p, latest_values([p])), p=p, form=form, f=f,
                           asset_url=asset_url, unit=wizard.unit_hint(catalog(), p.baseline_metric),
                           next_focus=next_focus(p) if p.status == PlanStatus.achieved.value or f.now.reached
                           else None), status


@bp.post("/plan/<int:plan_id>/close")
@rep_data_required
def close(plan_id: int):
    p = plan_or_404(plan_id)
    form = CloseForm()
    if p.status != PlanStatus.active.value:
        flash("This plan is already closed.", "info")
        return redirect(url_for("archive.plan", plan_id=p.id))
    if not form.validate_on_submit():
        return plan_page(p, form, 400)
    problems = close_plan(p, form.status.data, form.outcome.data, form.override_reason.data, current_user)
    if problems:
        form.override_reason.errors = problems
        return plan_page(p, form, 400)
    how = "on data" if p.closed_on_data else ("on your word, reason recorded" if p.override_reason else "")
    flash(f"{p.rep_name}’s plan closed: {label_of(form.status, p.status).lower()}{f' ({how})' if how else ''}.",
          "success")
    return redirect(url_for("archive.plan", plan_id=p.id))


@bp.get("/skill/<skill_id>")
@rep_data_required
def skill(skill_id: str):
    plans = db.session.execute(scoped(CoachingPlan).where(CoachingPlan.skill_id == skill_id)
                               .order_by(CoachingPlan.month.desc(), CoachingPlan.created_at.desc())).scalars().all()
    if skill_id not in catalog().skills and not plans:
        abort(404)
    snapshots = latest_values(plans)
    on_data = [p for p in plans if p.closed_on_data]          # the only evidence of what works
    achieved = [p for p in on_data if p.status == PlanStatus.achieved.value]
    overcame = sorted(achieved, key=lambda p: p.closed_at or p.created_at, reverse=True)
    return render_template("archive/skill.html", skill_id=skill_id, sk=catalog().skills.get(skill_id),
                           rows=[plan_row(p, snapshots) for p in plans], achieved=achieved, closed=on_data,
                           overridden=[p for p in plans if p.override_reason],
                           overcame=overcame[:3], worked=what_worked(on_data), asset_url=asset_url)


def what_worked(plans) -> list[dict]:
    """Each assignment used for the skill in plans closed on data: in how many, and how many achieved."""
    used, won, titles, kinds = Counter(), Counter(), {}, {}
    for p in plans:
        for a in p.assignments:
            key = (a.kind, a.ref_id if a.ref_id != wizard.CUSTOM else a.title)
            used[key] += 1
            won[key] += p.status == PlanStatus.achieved.value
            titles.setdefault(key, a.title)
            kinds[key] = a
    return sorted(({"kind": k[0], "ref_id": kinds[k].ref_id, "title": titles[k], "used": n, "achieved": won[k]}
                   for k, n in used.items()), key=lambda r: (-r["achieved"], -r["used"], r["title"]))
