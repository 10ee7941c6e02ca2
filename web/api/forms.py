"""The API's query parameters, validated like any other input (GET: no CSRF token)."""
from __future__ import annotations

from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, Regexp

from ..models import PlanStatus

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
PER_PAGE, MAX_PER_PAGE, MAX_PAGE = 50, 200, 1_000_000


class PageQuery(Form):
    """?page= (from 1) and ?per_page= (at most MAX_PER_PAGE) of a list endpoint."""

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])
    per_page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PER_PAGE)])

    def page_number(self) -> int:
        return self.page.data or 1

    def page_size(self) -> int:
        return self.per_page.data or PER_PAGE


class RepQuery(PageQuery):
    pass


class PlanQuery(PageQuery):
    status = SelectField(choices=[SelectChoice("")] + [SelectChoice(s.value) for s in PlanStatus], default="")
    rep_id = StringField(validators=[Optional(), Length(max=120)])
    month = StringField(validators=[Optional(), Regexp(MONTH, message="a month as YYYY-MM")])


class AssignmentQuery(PageQuery):
    status = SelectField(choices=[SelectChoice(v) for v in ("", "open", "completed", "cancelled")], default="")
    rep_id = StringField(validators=[Optional(), Length(max=120)])
    kind = SelectField(choices=[SelectChoice(v) for v in ("", "learning", "selling")], default="")


class TeamQuery(Form):
    team = StringField(validators=[Optional(), Length(max=200)])


class CadenceQuery(PageQuery):
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
