"""Admin forms: users (create, edit, reset a password) and datasets (upload, server folder)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, MultipleFileField
from wtforms import (BooleanField, PasswordField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (DataRequired, EqualTo, Length, Optional, Regexp, ValidationError)

from ..extensions import db
from ..models import Role, User

MIN_PASSWORD = 12
USERNAME = r"^[a-z0-9][a-z0-9._-]{2,79}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"
ROLE_CHOICES = [SelectChoice(r.value, r.title) for r in Role]


def lines(text: str | None) -> list[str]:
    """Non-blank lines of a text area, stripped, in order, without repeats."""
    out: list[str] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line and line not in out:
            out.append(line)
    return out


def rep_id_problem(rep_id: str) -> str | None:
    """Why a rep user cannot be linked to `rep_id` (None if it can): it must name a rep of the current data."""
    from ..models import RepSnapshot
    from ..security import current_dataset
    if not rep_id:
        return "A sales rep needs their rep id."
    ds = current_dataset()
    if ds is not None and db.session.execute(db.select(RepSnapshot.id).where(
            RepSnapshot.dataset_id == ds.id, RepSnapshot.rep_id == rep_id)).first() is None:
        return f"No rep {rep_id} in the current data ({ds.name})."
    return None


class ScopeForm(FlaskForm):
    """A manager's teams and a director's divisions: chosen from the current dataset, or typed."""

    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    teams = SelectMultipleField("Teams (managers)", choices=[], validate_choice=True)
    other_teams = TextAreaField("Other teams, one per line", validators=[Length(max=4000)])
    divisions = SelectMultipleField("Divisions (directors)", choices=[], validate_choice=True)
    other_divisions = TextAreaField("Other divisions, one per line", validators=[Length(max=4000)])
    rep_id = StringField("Rep id (sales reps)", validators=[Optional(), Length(max=120)])

    def teams_value(self) -> list[str]:
        return list(dict.fromkeys([*(self.teams.data or []), *lines(self.other_teams.data)]))

    def divisions_value(self) -> list[str]:
        return list(dict.fromkeys([*(self.divisions.data or []), *lines(self.other_divisions.data)]))

    def set_scope_choices(self, teams: list[str], divisions: list[str]) -> None:
        self.teams.choices = [SelectChoice(t) for t in teams]
        self.divisions.choices = [SelectChoice(d) for d in divisions]

    def check_scope(self) -> bool:
        if self.role.data == Role.manager.value and not self.teams_value():
            self.teams.errors = [*self.teams.errors, "A manager needs at least one team."]
            return False
        if self.role.data == Role.director.value and not self.divisions_value():
            self.divisions.errors = [*self.divisions.errors, "A director needs at least one division."]
            return False
        if self.role.data == Role.rep.value:
            problem = rep_id_problem((self.rep_id.data or "").strip())
            if problem:
                self.rep_id.errors = [*self.rep_id.errors, problem]
                return False
        return True

    def rep_id_value(self) -> str | None:
        return (self.rep_id.data or "").strip() or None if self.role.data == Role.rep.value else None


class UserCreateForm(ScopeForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80), Regexp(
        USERNAME, message="3 to 80 characters: lower-case letters, digits, dot, dash or underscore.")])
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = StringField("Email", validators=[Optional(), Length(max=254),
                                             Regexp(EMAIL, message="Not an email address.")])
    password = PasswordField("Initial password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD, max=200,
                               message=f"At least {MIN_PASSWORD} characters.")])
    confirm = PasswordField("Repeat the password", validators=[
        DataRequired(), EqualTo("password", message="The two passwords differ.")])

    def validate_username(self, field):
        taken = db.session.execute(db.select(User.id).where(
            db.func.lower(User.username) == field.data.strip().lower())).first()
        if taken:
            raise ValidationError("This username is taken.")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.check_scope() and ok


class UserEditForm(ScopeForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = StringField("Email", validators=[Optional(), Length(max=254),
                                             Regexp(EMAIL, message="Not an email address.")])
    active = BooleanField("Active (may sign in)")

    def __init__(self, *args, user: User, acting: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.acting = user, acting

    def validate_role(self, field):
        if self.user.id == self.acting.id and field.data != Role.admin.value:
            raise ValidationError("You cannot take the admin role from yourself.")
        if self.user.role == Role.admin.value and field.data != Role.admin.value and self._last_admin():
            raise ValidationError("This is the last active admin.")

    def validate_active(self, field):
        if self.user.id == self.acting.id and not field.data:
            raise ValidationError("You cannot deactivate yourself.")
        if self.user.role == Role.admin.value and not field.data and self._last_admin():
            raise ValidationError("This is the last active admin.")

    def _last_admin(self) -> bool:
        others = db.session.execute(db.select(db.func.count(User.id)).where(
            User.role == Role.admin.value, User.active.is_(True), User.id != self.user.id)).scalar_one()
        return others == 0

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.check_scope() and ok


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD, max=200, message=f"At least {MIN_PASSWORD} characters.")])
    confirm = PasswordField("Repeat the new password", validators=[
        DataRequired(), EqualTo("password", message="The two passwords differ.")])


FAIRWAY_FORMAT = "fairway"
MAX_OVERLAY_BYTES = 1024 * 1024          # an overlay is a few lines: the limit of any YAML file read


def format_choices() -> list[SelectChoice]:
    """Fairway's own dataset format, then each mapping shipped with the engine."""
    from engine.sources import shipped_mapping_choices
    return [SelectChoice(FAIRWAY_FORMAT, "fairway dataset (reps.csv, opportunities.csv, ...)"),
            *(SelectChoice(name, f"{name}: {description}") for name, description in shipped_mapping_choices())]


class ImportForm(FlaskForm):
    """What both imports share: the format (or mapping), an overlay, a name, the month, make it current."""

    format = SelectField("Format", choices=[], validate_choice=True, default=FAIRWAY_FORMAT,
                         validators=[DataRequired(message="Choose the format of the files.")])
    overlay = FileField("Org overlay (optional)", validators=[
        Optional(), FileAllowed(["yaml", "yml"], "An overlay is a .yaml file.")])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    period = StringField("Month to review", validators=[Optional(), Regexp(
        PERIOD, message="A month as YYYY-MM, or leave empty for the latest month with data.")])
    make_current = BooleanField("Make it the current dataset", default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.format.choices = format_choices()

    @property
    def mapping(self) -> str | None:
        """The shipped mapping to convert the files with; None for fairway's own format."""
        return None if self.format.data == FAIRWAY_FORMAT else self.format.data

    def validate_overlay(self, field):
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            field.data = None
            return
        if self.mapping is None:
            raise ValidationError("An overlay goes with a mapping: choose one as the Format, or no overlay.")
        head = upload.stream.read(MAX_OVERLAY_BYTES + 1)
        upload.stream.seek(0)
        if len(head) > MAX_OVERLAY_BYTES:
            raise ValidationError("An overlay is a small YAML file: at most 1 MiB.")


class UploadForm(ImportForm):
    files = MultipleFileField("Files")

    def validate_files(self, field):
        chosen = [f for f in (field.data or []) if f and f.filename]
        if not chosen:
            raise ValidationError("Choose the dataset's (or the export's) CSV or Parquet files, or one .zip of "
                                  "them.")
        zips = [f for f in chosen if f.filename.lower().endswith(".zip")]
        if zips and len(chosen) > 1:
            raise ValidationError("Upload either one .zip, or the CSV/Parquet files themselves, not both.")
        field.data = chosen


class ServerFolderForm(ImportForm):
    folder = SelectField("Folder", choices=[], validate_choice=True,
                         validators=[DataRequired(message="Choose a folder.")])


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
