"""The progress report's choices: a GET form (no CSRF token), choices from the scope."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from engine.reports import GRAINS, LEVELS


class ReportQuery(FlaskForm):
    class Meta:
        csrf = False

    by = SelectField("By", choices=[SelectChoice(x, x.capitalize()) for x in LEVELS], default="team")
    grain = SelectField("Grain", choices=[SelectChoice(x, f"By {x}") for x in GRAINS], default="day")
    month = SelectField("Month", choices=[])
    team = SelectField("Team", choices=[], default="")

    def __init__(self, months: list[str], teams: list[str], **kwargs):
        super().__init__(**kwargs)
        self.month.choices = [SelectChoice(m) for m in months]
        self.team.choices = [SelectChoice("", "All teams")] + [SelectChoice(t) for t in teams]
