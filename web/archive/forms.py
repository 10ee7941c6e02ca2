"""The archive's forms: the filter (GET) and closing a plan with its outcome."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..coach.forms import options
from ..models import PlanStatus

OUTCOMES = [(PlanStatus.achieved.value, "Achieved"), (PlanStatus.not_achieved.value, "Not achieved"),
            (PlanStatus.abandoned.value, "Abandoned")]


class ArchiveFilter(FlaskForm):
    """Filter plans by rep and by skill; read from the query string."""

    class Meta:
        csrf = False

    rep = SelectField("Rep", choices=[], validators=[Optional()], validate_choice=False)
    skill = SelectField("Skill", choices=[], validators=[Optional()], validate_choice=False)


class CloseForm(FlaskForm):
    status = RadioField("How did it end?", choices=options(OUTCOMES),
                        validators=[DataRequired(message="Say how the plan ended.")])
    outcome = TextAreaField("Note", [Optional(), Length(max=4000)],
                            render_kw={"placeholder": "What changed, what worked, what did not…"})
    override_reason = TextAreaField("Why close it as achieved when the data does not show the target reached?",
                                    [Optional(), Length(max=4000)],
                                    render_kw={"placeholder": "Only if the data misses something: say what."})
    submit = SubmitField("Close the plan")
