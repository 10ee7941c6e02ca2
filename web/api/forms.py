"""The API's query parameters, validated like any other input (GET: no CSRF token)."""
from __future__ import annotations

from wtforms import Form, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from ..models import PlanStatus

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class PlanQuery(Form):
    status = SelectField(choices=[SelectChoice("")] + [SelectChoice(s.value) for s in PlanStatus], default="")
    rep_id = StringField(validators=[Optional(), Length(max=120)])
    month = StringField(validators=[Optional(), Regexp(MONTH, message="a month as YYYY-MM")])


class AssignmentQuery(Form):
    status = SelectField(choices=[SelectChoice(v) for v in ("", "open", "completed", "cancelled")], default="")
    rep_id = StringField(validators=[Optional(), Length(max=120)])
    kind = SelectField(choices=[SelectChoice(v) for v in ("", "learning", "selling")], default="")


class TeamQuery(Form):
    team = StringField(validators=[Optional(), Length(max=200)])


class DivisionQuery(Form):
    division = StringField(validators=[Optional(), Length(max=200)])


CALENDAR_MONTH = r"^(19[7-9]\d|20\d\d|2100)-(0[1-9]|1[0-2])$"     # a month of 1970-2100, as the data's dates


class MonthQuery(Form):
    month = StringField(validators=[Optional(), Regexp(CALENDAR_MONTH, message="a month of 1970-2100 as YYYY-MM")])


class ReportQuery(Form):
    by = SelectField(choices=[SelectChoice(v) for v in ("", "division", "team", "rep")], default="")
    grain = SelectField(choices=[SelectChoice(v) for v in ("", "day", "week", "month")], default="")
    month = StringField(validators=[Optional(), Regexp(MONTH, message="a month as YYYY-MM")])
    team = StringField(validators=[Optional(), Length(max=200)])
