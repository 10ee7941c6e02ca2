"""Coaching effectiveness (seed 002), per team and manager for a month: conversations by
type, conversations per seller, learning and selling assignments given, completed and
overdue, red, yellow, green against the targets ops sets in thresholds.yaml."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..coach.wizard import SESSION_TYPES
from ..rhythm.effectiveness import report
from ..security import current_dataset, rep_data_required
from .forms import MonthQuery

bp = Blueprint("effectiveness", __name__, url_prefix="/coaching")


def chosen_month(form: MonthQuery) -> str:
    return form.month.data if form.validate() and form.month.data else date.today().strftime("%Y-%m")


@bp.get("/effectiveness")
@rep_data_required
def index():
    form = MonthQuery(request.args)
    month = chosen_month(form)
    return render_template("effectiveness/index.html", form=form, month=month, kinds=SESSION_TYPES,
                           r=report(current_user, current_dataset(), month))
