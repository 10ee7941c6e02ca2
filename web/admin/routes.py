"""Admin: users and datasets."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..extensions import db
from ..models import Dataset, Role
from ..security import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/datasets")
@roles_required(Role.admin)
def datasets():
    items = db.session.execute(db.select(Dataset).order_by(Dataset.imported_at.desc())).scalars().all()
    return render_template("admin/datasets.html", items=items)
