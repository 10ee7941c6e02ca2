"""A rep's own forms: the pre-work, an assignment's completion with its evidence, the plan's acknowledgement."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length, Optional

TEXT = 4000
EVIDENCE = 2000


class PreworkForm(FlaskForm):
    how_it_went = TextAreaField("How do you feel you did last month?", [Optional(), Length(max=TEXT)])
    went_well = TextAreaField("What did you do well?", [Optional(), Length(max=TEXT)])
    to_improve = TextAreaField("What would you like to improve?", [Optional(), Length(max=TEXT)])
    goals_note = TextAreaField("What are you trying to achieve, and what would it mean to you personally?",
                               [Optional(), Length(max=TEXT)])
    submit = SubmitField("Save my pre-work")

    def answered(self) -> bool:
        return any((f.data or "").strip() for f in (self.how_it_went, self.went_well, self.to_improve,
                                                     self.goals_note))


class CompleteForm(FlaskForm):
    """Done: a learning asset taken (a note optional), a selling assignment with its evidence (required)."""

    evidence = TextAreaField("What you did (a note, or a link to the recording or the record)",
                             [Optional(), Length(max=EVIDENCE)])
    submit = SubmitField("Mark done")


class AcknowledgeForm(FlaskForm):
    submit = SubmitField("I have read the plan and agree to it")
