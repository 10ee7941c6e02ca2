"""The team page: each rep with their focus, goals, win rate and funnel against the team."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..extensions import db
from ..security import current_dataset, rep_data_required, visible_reps

bp = Blueprint("team", __name__, url_prefix="/team")


@bp.get("/")
@rep_data_required
def index():
    dataset = current_dataset()
    reps = db.session.execute(visible_reps(current_user, dataset)).scalars().all()
    return render_template("team/index.html", dataset=dataset, reps=reps)
