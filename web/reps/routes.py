"""The rep page: the month's focus, the success plan, and the charts of the seeds."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..coach.wizard import month_session, open_sessions
from ..extensions import db
from ..models import CoachingPlan, PlanStatus, RepSnapshot
from ..rhythm.followup import followup
from ..security import rep_data_required, rep_or_404, scoped, visible_reps
from .charts import (catalog, focus_view, headline_tiles, other_findings, plan_rows, rep_charts,
                     role_kind)

bp = Blueprint("reps", __name__, url_prefix="/reps")


@bp.get("/<rep_id>")
@rep_data_required
def show(rep_id: str):
    rep = rep_or_404(rep_id)
    cat = catalog()
    kind = role_kind(rep.role)
    teammates = db.session.execute(visible_reps(current_user, rep.dataset)
                                   .where(RepSnapshot.team == rep.team, RepSnapshot.role == rep.role)
                                   .order_by(RepSnapshot.name)).scalars().all()
    charts = rep_charts(rep, kind, rep.dataset.aggregates or {}, teammates)
    diagnosis = rep.diagnosis or {}
    return render_template(
        "reps/show.html", rep=rep, dataset=rep.dataset, kind=kind,
        role_title=cat.pipeline.role(rep.role).title,
        focus=focus_view(diagnosis.get("focus"), diagnosis), findings=other_findings(diagnosis),
        plan=plan_rows(rep.plan or []), tiles=headline_tiles(rep, kind), charts=charts,
        chart_data={c.id: c.spec for c in charts if c.spec},
        open_sessions=open_sessions(current_user, rep.rep_id), opening=diagnosis.get("opening"),
        month=month_session(rep.rep_id, rep.dataset.period),
        active=[followup(p) for p in db.session.execute(
            scoped(CoachingPlan).where(CoachingPlan.rep_id == rep.rep_id,
                                       CoachingPlan.status == PlanStatus.active.value)
            .order_by(CoachingPlan.month)).scalars()])
