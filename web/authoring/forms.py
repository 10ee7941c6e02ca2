"""Forms of catalog authoring: each edit is a YAML text, or a form over a YAML file."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (FloatField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from engine.catalog.bundle import CATALOG_FILE
from engine.catalog.specs import ID_PATTERN, AssetKind, BenchmarkKind
from engine.files import MIB

from ..catalog.forms import KIND_TITLES

MAX_TEXT = 1 * MIB
MAX_MESSAGE = 2000


class ActionForm(FlaskForm):
    """A button that changes something: its CSRF token, nothing more."""


class FileForm(FlaskForm):
    text = TextAreaField("Contents", validators=[Length(max=MAX_TEXT, message="At most 1 MiB of text.")])


class NewFileForm(FlaskForm):
    path = StringField("Path", validators=[DataRequired(), Length(max=300), Regexp(
        CATALOG_FILE, message="A place the catalog reads: rules/gaps/NAME.yaml, rules/flows/NAME.yaml, "
                              "rules/tests/NAME.yaml, learning_library/NAME.yaml or learning_library/FOLDER/NAME.md.")])


class MessageForm(FlaskForm):
    message = TextAreaField("What changed, and why", validators=[
        DataRequired(message="Say what changed and why: it is kept with the version."), Length(max=MAX_MESSAGE)])


class ImportForm(FlaskForm):
    archive = FileField("A zip of catalog files")
    folder = SelectField("Or a folder on the server", choices=[], validate_choice=True)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.archive.data and not self.folder.data:
            self.archive.errors = [*self.archive.errors, "Choose a zip, or a folder on the server."]
            return False
        return ok


class ThresholdsForm(FlaskForm):
    """rules/thresholds.yaml as a form: the values a change writes are those that differ."""

    significance = FloatField("Significance (false-discovery rate)", validators=[InputRequired(), NumberRange(0, 0.5)])
    min_gap = FloatField("Minimum gap", validators=[InputRequired(), NumberRange(0, 1)])
    min_shortfall = FloatField("Minimum shortfall", validators=[InputRequired(), NumberRange(0, 1)])
    min_sample_proportion = IntegerField("Minimum sample: proportions", validators=[InputRequired(), NumberRange(1, 100_000)])
    min_sample_count = IntegerField("Minimum sample: counts", validators=[InputRequired(), NumberRange(0, 100_000)])
    min_sample_amount = IntegerField("Minimum sample: amounts", validators=[InputRequired(), NumberRange(1, 100_000)])
    benchmark = SelectField("Default benchmark", choices=[SelectChoice(k.value, k.value.replace("_", " "))
                                                           for k in BenchmarkKind])
    top_quantile = FloatField("Top quartile at", validators=[InputRequired(), NumberRange(0.5, 1)])
    rag_green = FloatField("Green at (share of the goal)", validators=[InputRequired(), NumberRange(0, 2)])
    rag_yellow = FloatField("Yellow at", validators=[InputRequired(), NumberRange(0, 2)])
    at_risk_stalled_quantile = FloatField("Stalled beyond (quantile)", validators=[InputRequired(), NumberRange(0, 1)])
    at_risk_size_quantile = FloatField("Oversize beyond", validators=[InputRequired(), NumberRange(0, 1)])
    at_risk_age_quantile = FloatField("Overage beyond", validators=[InputRequired(), NumberRange(0, 1)])
    trend_months = IntegerField("Months behind a trend test", validators=[InputRequired(), NumberRange(3, 36)])

    PATHS = {"significance": ("significance",), "min_gap": ("min_gap",), "min_shortfall": ("min_shortfall",),
             "min_sample_proportion": ("min_sample", "proportion"), "min_sample_count": ("min_sample", "count"),
             "min_sample_amount": ("min_sample", "amount"), "benchmark": ("benchmark",),
             "top_quantile": ("top_quantile",), "rag_green": ("rag", "green"), "rag_yellow": ("rag", "yellow"),
             "at_risk_stalled_quantile": ("at_risk", "stalled_quantile"),
             "at_risk_size_quantile": ("at_risk", "size_quantile"),
             "at_risk_age_quantile": ("at_risk", "age_quantile"), "trend_months": ("trend_months",)}

    def fill(self, thresholds) -> None:
        data = thresholds.model_dump(mode="json")
        for name, path in self.PATHS.items():
            value = data
            for key in path:
                value = value[key]
            getattr(self, name).data = value

    def values(self) -> dict[tuple[str, ...], object]:
        return {path: getattr(self, name).data for name, path in self.PATHS.items()}


class AssetForm(FlaskForm):
    """A learning asset: what it is, the root causes it addresses, who it is for, and its text."""

    id = StringField("Id", validators=[DataRequired(), Length(max=80), Regexp(
        ID_PATTERN, message="Lower-case letters, digits, _ and -, starting with a letter.")])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("Kind", choices=[SelectChoice(k.value, KIND_TITLES.get(k.value, k.value)) for k in AssetKind])
    minutes = IntegerField("Minutes", validators=[InputRequired(), NumberRange(1, 120)])
    addresses = SelectMultipleField("Root causes it addresses", choices=[], validate_choice=True,
                                    validators=[DataRequired(message="Choose at least one root cause.")])
    roles = SelectMultipleField("Written for (none: every role)", choices=[], validate_choice=True)
    summary = TextAreaField("Summary", validators=[Length(max=1000)])
    source = RadioField("Where it lives", choices=[SelectChoice("file", "Markdown in the app"),
                                                   SelectChoice("url", "An external link")], default="file")
    url = StringField("Link", validators=[Optional(), Length(max=1000),
                                          Regexp(r"^https?://\S+$", message="A link starting with http:// or https://.")])
    body = TextAreaField("Text (Markdown)", validators=[Length(max=MAX_TEXT)])
    original_id = HiddenField()

    def set_choices(self, skills, roles) -> None:
        self.addresses.choices = [SelectChoice(sid, f"{s.title} ({sid})") for sid, s in skills.items()]
        self.roles.choices = [SelectChoice(r.id, r.title) for r in roles]

    def validate_url(self, field):
        if self.source.data == "url" and not field.data:
            raise ValidationError("Give the link, or choose Markdown in the app.")

    def validate_body(self, field):
        if self.source.data == "file" and not (field.data or "").strip():
            raise ValidationError("Write the asset's text, or give a link instead.")


class WalkForm(FlaskForm):
    """A flow walked as a preview: the answers so far and the evidence taken as holding (GET: changes nothing)."""

    class Meta:
        csrf = False

    answers = StringField(validators=[Optional(), Length(max=4000), Regexp(r"^[a-z0-9_\-:,]*$")])
    evidence = SelectMultipleField(choices=[], validate_choice=True)


class CompareForm(FlaskForm):
    class Meta:
        csrf = False

    a = IntegerField("From version", validators=[InputRequired(), NumberRange(1, 10 ** 9)])
    b = IntegerField("To version", validators=[InputRequired(), NumberRange(1, 10 ** 9)])
