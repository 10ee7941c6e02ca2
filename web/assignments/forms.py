"""The assignments' forms: the filter (GET) and marking one complete (POST, CSRF)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.validators import Optional


class AssignmentFilter(FlaskForm):
    class Meta:
        csrf = False

    rep = SelectField("Rep", choices=[], validators=[Optional()], validate_choice=False)


class CompleteForm(FlaskForm):
    rep = HiddenField()          # the filter to come back to
    submit = SubmitField("Mark complete")
