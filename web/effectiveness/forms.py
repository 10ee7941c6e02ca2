"""The month of the coaching-effectiveness page: a GET parameter, checked."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional, Regexp


class MonthQuery(FlaskForm):
    class Meta:
        csrf = False

    month = StringField("Month", validators=[Optional(), Regexp(
        r"^(19[7-9]\d|20\d\d|2100)-(0[1-9]|1[0-2])$", message="A month of 1970-2100 as YYYY-MM, e.g. 2026-10.")])
