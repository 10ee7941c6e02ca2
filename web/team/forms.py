"""The team page's filter: a GET form, its choices the teams the user may see."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional


class TeamFilterForm(FlaskForm):
    """Show one team (or all): read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    team = SelectField("Team", choices=[], default="", validate_choice=True)
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])

    def __init__(self, teams: list[str], **kwargs):
        super().__init__(**kwargs)
        self.team.choices = [SelectChoice("", "All teams")] + [SelectChoice(t) for t in teams]

    def page_number(self) -> int:
        """The page asked for; 1 when none, or one that does not fit."""
        return self.page.data if not self.page.errors and self.page.data else 1
