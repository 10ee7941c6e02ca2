"""The rep page: the charts of the seeds, each with its numbers."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..security import rep_data_required, rep_or_404

bp = Blueprint("reps", __name__, url_prefix="/reps")


@bp.get("/<rep_id>")
@rep_data_required
def show(rep_id: str):
    rep = rep_or_404(rep_id)
    return render_template("reps/show.html", rep=rep)
