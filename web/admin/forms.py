"""Admin forms: users (create, edit, reset a password) and datasets (upload, server folder)."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (BooleanField, PasswordField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (DataRequired, EqualTo, Length, Optional, Regexp, ValidationError)

from engine.errors import DatasetError, Problem, did_you_mean

from ..extensions import db
from ..models import Role, User

MIN_PASSWORD = 12
USERNAME = r"^[a-z0-9][a-z0-9._-]{2,79}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"
DATASET_FILE = re.compile(r"^(reps|opportunities|stage_history|activities|goals)\.(csv|parquet)$")
DATASET_FILES = ("reps", "opportunities", "stage_history", "activities", "goals")
ROLE_CHOICES = [SelectChoice(r.value, r.title) for r in Role]


def lines(text: str | None) -> list[str]:
    """Non-blank lines of a text area, stripped, in order, without repeats."""
    out: list[str] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line and line not in out:
            out.append(line)
    return out


class ScopeForm(FlaskForm):
    """A manager's teams and a director's divisions: chosen from the current dataset, or typed."""

    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    teams = SelectMultipleField("Teams (managers)", choices=[], validate_choice=True)
    other_teams = TextAreaField("Other teams, one per line", validators=[Length(max=4000)])
    divisions = SelectMultipleField("Divisions (directors)", choices=[], validate_choice=True)
    other_divisions = TextAreaField("Other divisions, one per line", validators=[Length(max=4000)])

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
        return True


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


class ImportForm(FlaskForm):
    """What both imports share: a name, the month to review, make it current."""

    name = StringField("Name", validators=[Optional(), Length(max=200)])
    period = StringField("Month to review", validators=[Optional(), Regexp(
        PERIOD, message="A month as YYYY-MM, or leave empty for the latest month with data.")])
    make_current = BooleanField("Make it the current dataset", default=True)


class UploadForm(ImportForm):
    files = MultipleFileField("Files")

    def validate_files(self, field):
        chosen = [f for f in (field.data or []) if f and f.filename]
        if not chosen:
            raise ValidationError("Choose the dataset's CSV or Parquet files, or one .zip of them.")
        zips = [f for f in chosen if f.filename.lower().endswith(".zip")]
        if zips and len(chosen) > 1:
            raise ValidationError("Upload either one .zip, or the CSV/Parquet files themselves, not both.")
        field.data = chosen


class ServerFolderForm(ImportForm):
    folder = SelectField("Folder", choices=[], validate_choice=True,
                         validators=[DataRequired(message="Choose a folder.")])


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


# --------------------------------------------------------------------------- unpacking an upload

MAX_ZIP_MEMBERS = 50
MAX_RATIO = 500          # uncompressed / compressed: beyond it, a zip bomb rather than a CSV
CHUNK = 1024 * 1024


def unpack_upload(files: list, dest: Path, max_bytes: int) -> list[str]:
    """Write the uploaded dataset files (or the one zip's) into `dest`, flat.

    Returns the names ignored (not dataset files); raises DatasetError listing every
    problem: unsafe or duplicate names, names close to a dataset file, sizes over the limit.
    """
    problems: list[Problem] = []
    ignored: list[str] = []
    budget = [max_bytes]
    if len(files) == 1 and files[0].filename.lower().endswith(".zip"):
        _unzip(files[0], dest, budget, problems, ignored)
    else:
        for f in files:
            name = _accept(f.filename, PurePosixPath(f.filename.replace("\\", "/")).name, dest,
                           problems, ignored)
            if name:
                _copy(f.stream, dest / name, budget, f.filename, problems)
    if problems:
        raise DatasetError(problems)
    return ignored


def _accept(label: str, name: str, dest: Path, problems: list, ignored: list) -> str | None:
    """The file name to write, or None (a problem or an ignored file is noted)."""
    if DATASET_FILE.match(name):
        if (dest / name).exists():
            problems.append(Problem(file=label, message="the same file twice", expected="each file once"))
            return None
        return name
    stem = name.rsplit(".", 1)[0]
    close = did_you_mean(stem, DATASET_FILES)
    if close:
        problems.append(Problem(file=label, message="not a dataset file name", value=name,
                                expected=", ".join(f"{s}.csv" for s in DATASET_FILES) + " (or .parquet)",
                                suggestion=f"{close}.{name.rsplit('.', 1)[-1] if '.' in name else 'csv'}"))
    else:
        ignored.append(label)
    return None


def _unzip(upload, dest: Path, budget: list, problems: list, ignored: list) -> None:
    label = PurePosixPath(upload.filename.replace("\\", "/")).name
    try:
        archive = zipfile.ZipFile(upload.stream)
    except (zipfile.BadZipFile, OSError) as exc:
        problems.append(Problem(file=label, message=f"not a readable zip file ({exc})"))
        return
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ZIP_MEMBERS:
            problems.append(Problem(file=label, message=f"{len(members)} files in the zip",
                                    expected=f"at most {MAX_ZIP_MEMBERS}"))
            return
        for m in members:
            parts = PurePosixPath(m.filename.replace("\\", "/")).parts
            where = f"{label}: {m.filename}"
            if (not parts or m.filename.startswith(("/", "\\")) or ".." in parts
                    or ":" in parts[0] or (m.external_attr >> 16) & 0o170000 == 0o120000):
                problems.append(Problem(file=where, message="unsafe path in the zip (absolute, '..' or a link)",
                                        expected="plain file names, at most inside one folder"))
                continue
            if parts[0] == "__MACOSX" or parts[-1].startswith("."):
                continue
            name = _accept(where, parts[-1], dest, problems, ignored)
            if name is None:
                continue
            if m.compress_size and m.file_size / m.compress_size > MAX_RATIO:
                problems.append(Problem(file=where, message="compressed suspiciously well (a zip bomb?)",
                                        value=f"{m.file_size:,} bytes from {m.compress_size:,}"))
                continue
            if m.file_size > budget[0]:
                problems.append(Problem(file=where, message="too large", value=f"{m.file_size:,} bytes",
                                        expected=f"at most {budget[0]:,} bytes in all"))
                continue
            try:
                with archive.open(m) as src:
                    _copy(src, dest / name, budget, where, problems)
            except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError) as exc:
                problems.append(Problem(file=where, message=f"cannot be extracted ({exc})"))


def _copy(src, target: Path, budget: list, label: str, problems: list) -> None:
    """Copy a stream, never writing more than the remaining byte budget."""
    with open(target, "wb") as out:
        while chunk := src.read(CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                problems.append(Problem(file=label, message="the upload unpacks to more than the size limit"))
                break
            out.write(chunk)
