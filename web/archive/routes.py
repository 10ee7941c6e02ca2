"""The archive of coaching plans."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..extensions import db
from ..models import CoachingPlan
from ..security import rep_data_required, scoped

bp = Blueprint("archive", __name__, url_prefix="/archive")


@bp.get("/")
@rep_data_required
def index():
    plans = db.session.execute(scoped(CoachingPlan, current_user).order_by(CoachingPlan.month.desc())).scalars().all()
    return render_template("archive/index.html", plans=plans)
