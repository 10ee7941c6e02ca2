"""Admin: users (create, edit, reset a password) and datasets (import, pick the current one, delete)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from engine.aggregation.period import PeriodError
from engine.errors import FairwayError, Problem, ProblemsError

from ..extensions import db
from ..models import Dataset, RepSnapshot, Role, User
from ..security import current_dataset, roles_required
from ..store import dataset_folder, import_root, ingest, make_current, server_folder
from .forms import (ActionForm, PasswordResetForm, ServerFolderForm, UploadForm, UserCreateForm,
                    UserEditForm)
from .uploads import UploadLimits, unpack_upload

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required(Role.admin)


# --------------------------------------------------------------------------- users

@bp.get("/")
@admin_only
def index():
    return redirect(url_for("admin.datasets"))


@bp.get("/users")
@admin_only
def users():
    items = db.session.execute(db.select(User).order_by(User.active.desc(), User.role, User.username)).scalars()
    return render_template("admin/users.html", users=list(items))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user():
    form = UserCreateForm()
    form.set_scope_choices(*_scope_choices())
    if form.validate_on_submit():
        user = User(username=form.username.data.strip().lower(), name=form.name.data.strip(),
                    email=(form.email.data or "").strip() or None, role=form.role.data)
        _apply_scope(user, form)
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        flash(f"User {user.username} created.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_only
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user, user=user, acting=current_user)
    form.set_scope_choices(*_scope_choices(user))
    if form.validate_on_submit():
        user.name, user.role, user.active = form.name.data.strip(), form.role.data, form.active.data
        user.email = (form.email.data or "").strip() or None
        _apply_scope(user, form)
        db.session.commit()
        flash(f"User {user.username} saved.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/user_edit.html", user=user, form=form, reset=PasswordResetForm())


@bp.post("/users/<int:user_id>/password")
@admin_only
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    reset = PasswordResetForm()
    if reset.validate_on_submit():
        user.set_password(reset.password.data)
        db.session.commit()
        flash(f"Password of {user.username} reset: tell them in person, not by email.", "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    form = UserEditForm(formdata=None, obj=user, user=user, acting=current_user)
    form.set_scope_choices(*_scope_choices(user))
    return render_template("admin/user_edit.html", user=user, form=form, reset=reset)


# --------------------------------------------------------------------------- datasets

@bp.get("/datasets")
@admin_only
def datasets():
    items = db.session.execute(db.select(Dataset).order_by(Dataset.imported_at.desc())).scalars().all()
    return render_template("admin/datasets.html", items=items, action=ActionForm())


@bp.get("/datasets/<int:dataset_id>")
@admin_only
def dataset(dataset_id: int):
    ds = db.get_or_404(Dataset, dataset_id)
    focus = db.session.execute(
        db.select(RepSnapshot.role, RepSnapshot.focus_gap, db.func.count(RepSnapshot.id))
        .where(RepSnapshot.dataset_id == ds.id).group_by(RepSnapshot.role, RepSnapshot.focus_gap)
        .order_by(RepSnapshot.role, db.func.count(RepSnapshot.id).desc())).all()
    return render_template("admin/dataset.html", ds=ds, focus=focus, action=ActionForm())


@bp.route("/datasets/upload", methods=["GET", "POST"])
@admin_only
def upload():
    form = UploadForm()
    problems, ignored = [], []
    limits = UploadLimits.from_config(current_app.config)
    if form.validate_on_submit():
        with tempfile.TemporaryDirectory(prefix="upload-", dir=upload_tmp()) as tmp:
            try:
                ignored = unpack_upload(form.files.data, Path(tmp), limits)
                names = ", ".join(sorted(p.name for p in Path(tmp).iterdir()))
                ds = _ingest(form, Path(tmp), f"upload: {names}", default_name=f"Upload of {names}")
                return _imported(ds, ignored)
            except ProblemsError as err:
                problems = err.problems
    return render_template("admin/upload.html", form=form, problems=problems, ignored=ignored,
                           limits=limits)


@bp.route("/datasets/folder", methods=["GET", "POST"])
@admin_only
def import_folder():
    form = ServerFolderForm()
    form.folder.choices = [SelectChoice(f) for f in _server_folders()]
    problems = []
    if form.validate_on_submit():
        try:
            folder = server_folder(form.folder.data)
            ds = _ingest(form, folder, f"server: {form.folder.data}", default_name=form.folder.data)
            return _imported(ds, [])
        except ProblemsError as err:
            problems = err.problems
    return render_template("admin/folder.html", form=form, problems=problems, root=str(import_root()))


@bp.post("/datasets/<int:dataset_id>/current")
@admin_only
def set_current(dataset_id: int):
    ds = db.get_or_404(Dataset, dataset_id)
    if ActionForm().validate_on_submit():
        make_current(ds)
        flash(f"{ds.name} ({ds.period}) is now the current dataset: every page shows it.", "success")
    return redirect(url_for("admin.datasets"))


@bp.post("/datasets/<int:dataset_id>/delete")
@admin_only
def delete_dataset(dataset_id: int):
    ds = db.get_or_404(Dataset, dataset_id)
    if ds.is_current:
        flash("The current dataset cannot be deleted: make another one current first.", "error")
    elif ActionForm().validate_on_submit():
        folder, name = dataset_folder(ds), ds.name
        db.session.execute(db.delete(RepSnapshot).where(RepSnapshot.dataset_id == ds.id))
        db.session.execute(db.delete(Dataset).where(Dataset.id == ds.id))
        db.session.commit()
        _remove_copy(folder)
        flash(f"Dataset {name} deleted.", "success")
    return redirect(url_for("admin.datasets"))


# --------------------------------------------------------------------------- helpers

def _scope_choices(user: User | None = None) -> tuple[list[str], list[str]]:
    """Teams and divisions to choose from: the current dataset's, and the user's own."""
    ds = current_dataset()
    teams, divisions = set(user.teams or []) if user else set(), set(user.divisions or []) if user else set()
    if ds is not None:
        rows = db.session.execute(db.select(RepSnapshot.team, RepSnapshot.division).distinct()
                                  .where(RepSnapshot.dataset_id == ds.id)).all()
        teams |= {r.team for r in rows}
        divisions |= {r.division for r in rows}
    return sorted(teams), sorted(divisions)


def _apply_scope(user: User, form) -> None:
    """Teams only for a manager, divisions only for a director: nobody keeps a stale scope."""
    user.teams = form.teams_value() if form.role.data == Role.manager.value else []
    user.divisions = form.divisions_value() if form.role.data == Role.director.value else []


def upload_tmp() -> Path:
    """Where uploads are unpacked while they are checked: inside the instance, emptied after each."""
    folder = Path(current_app.instance_path) / "tmp"
    folder.mkdir(exist_ok=True)
    return folder


def _server_folders(depth: int = 3) -> list[str]:
    """Folders under the import root that hold a reps file, as paths relative to the root."""
    root = import_root()
    if not root.is_dir():
        return []
    found = []
    for reps in sorted([*root.rglob("reps.csv"), *root.rglob("reps.parquet")]):
        rel = reps.parent.relative_to(root)
        if len(rel.parts) <= depth and not any(p.startswith(".") for p in rel.parts):
            found.append(rel.as_posix() or ".")
    return sorted(set(found))


def _ingest(form, folder: Path, source: str, default_name: str) -> Dataset:
    """ingest(), with the analysis' own refusals (a month without data...) as problems."""
    name = (form.name.data or "").strip() or default_name[:200]
    try:
        return ingest(folder, name=name, source=source[:500], user=current_user,
                      make_current=form.make_current.data, period=form.period.data or None)
    except ProblemsError:
        raise
    except PeriodError as err:         # no month to review in the data, or not the one asked for
        raise ProblemsError([Problem(file=source, message=str(err), value=form.period.data or None,
                                     expected="a Month to review (YYYY-MM) that the data covers, or empty "
                                              "for the latest month with data")]) from err
    except FairwayError as err:
        # other refusals of the analysis speak to the command line: the page says what to do here
        current_app.logger.warning("import of %s: the analysis refused it: %s", source, err)
        month = form.period.data or "the latest month with data"
        raise ProblemsError([Problem(file=source, message=f"the dataset was read, but {month} could not be "
                                                          "analysed", expected="another Month to review, or "
                                                          "data that covers it")]) from err


def _imported(ds: Dataset, ignored: list[str]):
    note = f" Ignored (not dataset files): {', '.join(ignored)}." if ignored else ""
    state = "It is now the current dataset." if ds.is_current else "The current dataset is unchanged."
    flash(f"Dataset accepted: {ds.summary.get('reps', 0)} reps, period {ds.period}. {state}{note}", "success")
    return redirect(url_for("admin.dataset", dataset_id=ds.id))


def _remove_copy(folder: Path) -> None:
    """Delete the kept copy of a dataset, only ever inside the datasets folder."""
    keep = Path(current_app.config["FAIRWAY_DATASETS"]).resolve()
    target = folder.resolve()
    if keep in target.parents:
        shutil.rmtree(target, ignore_errors=True)
