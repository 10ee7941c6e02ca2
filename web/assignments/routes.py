"""Assignments: open, due and overdue; marked complete by the manager."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..extensions import db
from ..models import Assignment
from ..security import rep_data_required, scoped

bp = Blueprint("assignments", __name__, url_prefix="/assignments")


@bp.get("/")
@rep_data_required
def index():
    items = db.session.execute(scoped(Assignment, current_user).order_by(Assignment.due_on)).scalars().all()
    return render_template("assignments/index.html", items=items)
