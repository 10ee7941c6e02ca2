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
from ..security import rep_data_required, rep_or_404, scoped
from ..store import dataset_aggregates
from .charts import (catalog, focus_view, headline_tiles, missing_of, other_findings, plan_rows, rep_charts,
                     role_kind)

bp = Blueprint("reps", __name__, url_prefix="/reps")


@bp.get("/<rep_id>")
@rep_data_required
def show(rep_id: str):
    rep = rep_or_404(rep_id)
    cat = catalog()
    kind = role_kind(rep.role)
    charts_html = kept(rep.dataset.folder, ("rep charts", rep.rep_id),
                       lambda: Markup(render_template("reps/_charts.html", charts=cached_charts(rep, kind))))
    diagnosis = rep.diagnosis or {}
    return render_template(
        "reps/show.html", rep=rep, dataset=rep.dataset, kind=kind,
        role_title=cat.pipeline.role(rep.role).title,
        focus=focus_view(diagnosis.get("focus"), diagnosis), findings=other_findings(diagnosis),
        plan=plan_rows(rep.plan or [], missing_of(rep)), tiles=headline_tiles(rep, kind), charts_html=charts_html,
        open_sessions=open_sessions(current_user, rep.rep_id), opening=diagnosis.get("opening"),
        month=month_session(rep.rep_id, rep.dataset.period),
        active=[followup(p) for p in db.session.execute(
            scoped(CoachingPlan).where(CoachingPlan.rep_id == rep.rep_id,
                                       CoachingPlan.status == PlanStatus.active.value)
            .order_by(CoachingPlan.month)).scalars()])


@bp.get("/<rep_id>/charts")
@rep_data_required
def charts(rep_id: str):
    """What static/js/charts.js draws on the rep's page, {canvas id: spec}: fetched with the charts,
    not inlined in the page (the numbers behind them are in the page as tables)."""
    rep = rep_or_404(rep_id)
    return {c.id: c.spec for c in cached_charts(rep, role_kind(rep.role)) if c.spec}


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
