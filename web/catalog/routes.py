"""The catalog, read by enablement, ops, trainers (and managers for the learning library)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("catalog", __name__, url_prefix="/catalog")


@bp.get("/")
@login_required
def index():
    return render_template("catalog/index.html")
