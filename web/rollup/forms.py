"""The roll-up's filters: read from the query string (no CSRF token), choices from the scope."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice


class RollupFilter(FlaskForm):
    class Meta:
        csrf = False

    division = SelectField("Division", choices=[], default="", validate_choice=True)

    def __init__(self, divisions: list[str], **kwargs):
        super().__init__(**kwargs)
        self.division.choices = [SelectChoice("", "All divisions")] + [SelectChoice(d) for d in divisions]
