"""The team page's filter: a GET form, its choices the teams the user may see."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice


class TeamFilterForm(FlaskForm):
    """Show one team (or all): read from the query string, so no CSRF token."""

    class Meta:
        csrf = False

    team = SelectField("Team", choices=[], default="", validate_choice=True)

    def __init__(self, teams: list[str], **kwargs):
        super().__init__(**kwargs)
        self.team.choices = [SelectChoice("", "All teams")] + [SelectChoice(t) for t in teams]
