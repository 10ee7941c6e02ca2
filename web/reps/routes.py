"""The rep page: the month's focus, the success plan, and the charts of the seeds."""
from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, render_template
from flask_login import current_user
from markupsafe import Markup

from ..coach.wizard import month_session, open_sessions
from ..extensions import db
from ..fragments import kept
from ..models import CoachingPlan, Dataset, PlanStatus, RepSnapshot
from ..rhythm.followup import followup
from ..coach.prework import prework_for
from ..coach.routes import asset_url
from ..me.forms import CompleteForm
from ..security import own_rep_required, rep_or_404, scoped
from ..store import dataset_aggregates
from .charts import (catalog, focus_view, headline_tiles, missing_of, other_findings, plan_rows, rep_charts,
                     role_kind, without_roster)

bp = Blueprint("reps", __name__, url_prefix="/reps")


@bp.get("/<rep_id>")
@own_rep_required
def show(rep_id: str):
    """The rep's month; a rep signed in sees this page of their own and no other (rep_or_404)."""
    rep = rep_or_404(rep_id)
    cat = catalog()
    kind = role_kind(rep.role)
    own = current_user.is_rep
    charts_html = kept(rep.dataset.folder, ("rep charts", rep.rep_id, own),
                       lambda: Markup(render_template("reps/_charts.html", charts=shown_charts(rep, kind, own))))
    diagnosis = rep.diagnosis or {}
    month = month_session(rep.rep_id, rep.dataset.period)
    return render_template(
        "reps/show.html", rep=rep, dataset=rep.dataset, kind=kind,
        role_title=cat.pipeline.role(rep.role).title,
        focus=focus_view(diagnosis.get("focus"), diagnosis), findings=other_findings(diagnosis),
        plan=plan_rows(rep.plan or [], missing_of(rep)), tiles=headline_tiles(rep, kind), charts_html=charts_html,
        open_sessions=open_sessions(current_user, rep.rep_id), opening=diagnosis.get("opening"),
        month=month, prework=prework_for(rep.rep_id, rep.dataset.period), own=own,
        complete_form=CompleteForm() if own else None, asset_url=asset_url,
        active=[followup(p) for p in db.session.execute(
            scoped(CoachingPlan).where(CoachingPlan.rep_id == rep.rep_id,
                                       CoachingPlan.status == PlanStatus.active.value)
            .order_by(CoachingPlan.month)).scalars()])


@bp.get("/<rep_id>/charts")
@own_rep_required
def charts(rep_id: str):
    """What static/js/charts.js draws on the rep's page, {canvas id: spec}: fetched with the charts,
    not inlined in the page (the numbers behind them are in the page as tables)."""
    rep = rep_or_404(rep_id)
    return {c.id: c.spec for c in shown_charts(rep, role_kind(rep.role), current_user.is_rep) if c.spec}


def shown_charts(rep: RepSnapshot, kind: str, own: bool) -> list:
    """Every chart for a manager; for the rep themselves, none that names their teammates."""
    built = cached_charts(rep, kind)
    return without_roster(built) if own else built


def cached_charts(rep: RepSnapshot, kind: str) -> list:
    """The rep's charts, built once per process: a dataset never changes after its import, and the
    charts show the rep, their team median and the team's roster (the same to whoever may see the rep)."""
    return _built_charts(str(db.engine.url), rep.dataset.folder, catalog().version, rep.rep_id, kind)


@lru_cache(maxsize=256)
def _built_charts(database: str, folder: str, catalog_version: str, rep_id: str, kind: str) -> list:
    dataset = db.session.execute(db.select(Dataset).where(Dataset.folder == folder)).scalar_one()
    rep = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == dataset.id,
                                                          RepSnapshot.rep_id == rep_id)).scalar_one()
    teammates = db.session.execute(db.select(RepSnapshot).where(
        RepSnapshot.dataset_id == dataset.id, RepSnapshot.team == rep.team, RepSnapshot.role == rep.role)
        .order_by(RepSnapshot.name)).scalars().all()
    return rep_charts(rep, kind, dataset_aggregates(dataset), teammates)
