"""The forms of the diagnostic conversation, one per step."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, FieldList, FloatField, Form, FormField, HiddenField, IntegerField,
                     RadioField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from .wizard import SESSION_TYPES

TEXT = 4000


def options(pairs, optgroup: str | None = None) -> list[SelectChoice]:
    """(value, label) pairs as the choices of a select or radio field."""
    return [SelectChoice(value, label, optgroup=optgroup) for value, label in pairs]


def values_of(field) -> set[str]:
    return {c.value for c in field.choices or []}


def label_of(field, value: str) -> str:
    return next((c.label for c in field.choices or [] if c.value == value), value or "")


class NumberField(FloatField):
    """A number as people type it: "55", "55%", "1,200", "$41,000"."""

    def process_formdata(self, valuelist):
        if valuelist:
            text = (valuelist[0] or "").strip().replace(",", "").replace("%", "").replace("$", "").strip()
            if not text:
                self.data = None
                return
            try:
                self.data = float(text)
            except ValueError:
                self.data = None
                raise ValueError("Enter a number, like 55 or 1200.") from None


def not_in_past(form, field):
    if field.data is not None and field.data < date.today():
        raise ValidationError("Pick today or a later date.")


class StepForm(FlaskForm):
    """Every step saves and moves on, or saves and goes back."""

    next = SubmitField("Save & continue")
    back = SubmitField("Back")

    @property
    def going_back(self) -> bool:
        return bool(self.back.data)


class ReflectionForm(StepForm):
    how_it_went = TextAreaField("How do you feel you did last month?", [Optional(), Length(max=TEXT)])
    went_well = TextAreaField("What did you do well?", [Optional(), Length(max=TEXT)])
    to_improve = TextAreaField("What would you like to improve?", [Optional(), Length(max=TEXT)])
    kind = SelectField("Session type", choices=options(SESSION_TYPES.items()), validators=[DataRequired()])
    held_on = DateField("Date of the session", validators=[InputRequired(message="Give the session's date.")])


class GoalsForm(StepForm):
    goals_note = TextAreaField("Notes: what the rep wants to achieve, and why it matters to them",
                               [Optional(), Length(max=TEXT)])


class GapForm(StepForm):
    behaviour_gap = SelectField("Behaviour gap to discuss", choices=[],
                                validators=[DataRequired(message="Choose the behaviour gap to discuss.")])


class QuestionForm(FlaskForm):
    question_id = HiddenField()
    answer = RadioField("What the rep says", choices=[], validate_choice=False)
    next = SubmitField("Save & continue")
    none = SubmitField("None of these")
    skip = SubmitField("Skip")
    back = SubmitField("Back")

    @property
    def action(self) -> str:
        for name in ("back", "skip", "none"):
            if getattr(self, name).data:
                return name
        return "answer"

    def validate_answer(self, field):
        if self.action == "answer":
            if not field.data:
                raise ValidationError("Pick the answer closest to what the rep said, or None of these, or Skip.")
            if field.data not in values_of(field):
                raise ValidationError("That answer is not one of this question's.")


class CauseForm(StepForm):
    skill = RadioField("The root cause you agree on", choices=[], validate_choice=False)

    def validate_skill(self, field):
        if self.going_back:
            return
        if not field.data or field.data not in values_of(field):
            raise ValidationError("Confirm one root cause.")


class ActionRow(Form):
    """One learning asset or selling assignment: chosen or not, its title and due date."""

    selected = BooleanField("Assign")
    title = StringField("Title", [Optional(), Length(max=300)])
    due_on = DateField("Due", validators=[Optional()])


class ActionsForm(StepForm):
    items = FieldList(FormField(ActionRow))

    def check(self, rows: list[dict], chosen) -> bool:
        """Chosen rows need a title and a due date not in the past; one learning and one selling."""
        ok = True
        kinds = set()
        for row, entry in zip(rows, self.items):
            e = entry.form
            if not chosen(row, e):
                continue
            kinds.add(row["kind"])
            if not (e.title.data or "").strip():
                e.title.errors = [*e.title.errors, "Give it a title."]
                ok = False
            if e.due_on.data is None:
                if not e.due_on.errors:
                    e.due_on.errors = [*e.due_on.errors, "Give a due date."]
                ok = False
            elif e.due_on.data < date.today():
                e.due_on.errors = [*e.due_on.errors, "Pick today or a later date."]
                ok = False
        available = {row["kind"] for row in rows}
        for kind in ("learning", "selling"):
            if kind in available and kind not in kinds:
                self.form_errors.append(f"Choose at least one {kind} assignment.")
                ok = False
        return ok


class PlanForm(StepForm):
    why = TextAreaField("Why this skill", [DataRequired(message="Say why this skill, this month."),
                                           Length(max=TEXT)])
    how = TextAreaField("How the rep will develop it", [DataRequired(message="Say how."), Length(max=TEXT)])
    baseline_metric = SelectField("Baseline KPI", choices=[], validators=[DataRequired()])
    baseline_value = NumberField("Its value last month", validators=[Optional()])
    target_value = NumberField("Target", validators=[InputRequired(message="Give the target as a number.")])
    follow_up_on = DateField("Follow-up", validators=[InputRequired(message="Give the follow-up date."),
                                                      not_in_past])
    second_follow_up_on = DateField("Second follow-up (optional)", validators=[Optional(), not_in_past])
    prefilled_metric = HiddenField()
    next = SubmitField("Save the plan")

    def validate_second_follow_up_on(self, field):
        if field.data and self.follow_up_on.data and field.data <= self.follow_up_on.data:
            raise ValidationError("Make it later than the first follow-up.")


class PageForm(Form):
    """?page= of the list of reps (a GET: no CSRF token)."""

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])

    def page_number(self) -> int:
        return self.page.data if self.validate() and self.page.data else 1
