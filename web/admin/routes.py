"""Admin: users (create, edit, reset a password) and datasets (import, pick the current one, delete)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.utils import secure_filename
from wtforms.fields.choices import SelectChoice

from engine.dataset.reader import table_of_folder
from engine.errors import Problem, ProblemsError

from ..catalog_live import live_catalog
from ..extensions import db
from ..jobs import submit
from ..models import Dataset, Job, JobStatus, RepSnapshot, Role, User
from ..security import current_dataset, roles_required
from ..store import dataset_folder, import_root, make_current, server_folder, work_tmp
from .forms import (ActionForm, PasswordResetForm, ServerFolderForm, UploadForm, UserCreateForm,
                    UserEditForm)
from .uploads import UploadLimits, unpack_upload

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required(Role.admin)
JOBS_PER_PAGE = 50


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
    pending = db.session.execute(db.select(Job).where(Job.status.in_([JobStatus.queued.value,
                                                                      JobStatus.running.value]))
                                 .order_by(Job.id)).scalars().all()
    missing = {d.id: [row["data"] for row in _coverage(d) if not row["present"]] for d in items}
    return render_template("admin/datasets.html", items=items, action=ActionForm(), pending=pending,
                           missing=missing)


@bp.get("/datasets/<int:dataset_id>")
@admin_only
def dataset(dataset_id: int):
    ds = db.get_or_404(Dataset, dataset_id)
    focus = db.session.execute(
        db.select(RepSnapshot.role, RepSnapshot.focus_gap, db.func.count(RepSnapshot.id))
        .where(RepSnapshot.dataset_id == ds.id).group_by(RepSnapshot.role, RepSnapshot.focus_gap)
        .order_by(RepSnapshot.role, db.func.count(RepSnapshot.id).desc())).all()
    return render_template("admin/dataset.html", ds=ds, focus=focus, action=ActionForm(),
                           coverage=_coverage(ds))


@bp.route("/datasets/upload", methods=["GET", "POST"])
@admin_only
def upload():
    form = UploadForm()
    problems, ignored = [], []
    limits = UploadLimits.from_config(current_app.config)
    if form.validate_on_submit():
        work = Path(tempfile.mkdtemp(prefix="upload-", dir=upload_tmp()))   # the job removes it when done
        folder = work / "files"
        folder.mkdir()
        try:
            ignored = unpack_upload(form.files.data, folder, limits, exports=form.mapping is not None)
        except ProblemsError as err:
            shutil.rmtree(work, ignore_errors=True)
            problems = err.problems
        else:
            names = ", ".join(sorted(p.name for p in folder.iterdir()))
            return _queue_import(form, folder, f"upload: {names}", f"Upload of {names}", ignored, work)
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
        except ProblemsError as err:
            problems = err.problems
        else:
            work = Path(tempfile.mkdtemp(prefix="folder-", dir=upload_tmp())) if form.overlay.data else None
            return _queue_import(form, folder, f"server: {form.folder.data}", form.folder.data, [], work)
    return render_template("admin/folder.html", form=form, problems=problems, root=str(import_root()))


# --------------------------------------------------------------------------- jobs

@bp.get("/jobs")
@admin_only
def jobs():
    page = db.paginate(db.select(Job).order_by(Job.id.desc()), per_page=JOBS_PER_PAGE, max_per_page=JOBS_PER_PAGE)
    return render_template("admin/jobs.html", page=page)


@bp.get("/jobs/<int:job_id>")
@admin_only
def job(job_id: int):
    j = db.get_or_404(Job, job_id)
    dataset = db.session.get(Dataset, j.result["dataset_id"]) if j.result.get("dataset_id") else None
    problems = [Problem(**p) for p in j.result.get("problems", [])]
    return render_template("admin/job.html", job=j, dataset=dataset, problems=problems)


@bp.get("/jobs/<int:job_id>/status")
@admin_only
def job_status(job_id: int):
    """The job's state for the page's script, which reloads the page once the job has ended."""
    j = db.get_or_404(Job, job_id)
    return {"id": j.id, "status": j.status, "finished": j.status_enum.finished, "progress": j.progress,
            "attempts": j.attempts}


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

def _coverage(ds: Dataset) -> list[dict]:
    """What the stored dataset holds and what each missing kind of data turns off (engine's table)."""
    from engine.dataset.model import Coverage
    from engine.sources import coverage_rows
    held = (ds.summary or {}).get("coverage")
    if not held:
        return []
    cat = live_catalog()
    return coverage_rows(Coverage.from_dict(held), cat.pipeline.activity_type_ids, cat)


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
    user.rep_id = form.rep_id_value()


def upload_tmp() -> Path:
    """Where uploads are unpacked while they are checked: inside the instance, emptied after each."""
    return work_tmp()


TABLE_SUFFIXES = (".csv", ".parquet", ".txt", ".tsv")


def _table_home(rel: Path) -> Path:
    """The folder a table file belongs to: its own, or for a part of a partitioned table
    (activities/month=2026-10/part-0.parquet) the folder that holds the table's folder."""
    for i, part in enumerate(rel.parts):
        if table_of_folder(part):
            return Path(*rel.parts[:i])
    return rel


def _server_folders(depth: int = 3) -> list[str]:
    """Folders under the import root that hold a table file (a dataset's, or a CRM export's), as
    paths relative to the root."""
    root = import_root()
    if not root.is_dir():
        return []
    found = set()
    for f in root.rglob("*"):
        if f.suffix.lower() not in TABLE_SUFFIXES or not f.is_file():
            continue
        rel = f.parent.relative_to(root)
        if f.suffix.lower() == ".parquet":
            rel = _table_home(rel)
        if len(rel.parts) <= depth and not any(p.startswith(".") for p in rel.parts):
            found.add(rel.as_posix() or ".")
    return sorted(found)


def _queue_import(form, folder: Path, source: str, default_name: str, ignored: list[str], work: Path | None):
    """Put the import on the job queue and show its page, which follows it to its outcome.

    `work` is the job's own folder (an unpacked upload, the overlay): the job removes it when done."""
    name = (form.name.data or "").strip() or default_name[:200]
    params = {"folder": str(folder), "name": name, "source": source[:500], "make_current": form.make_current.data,
              "period": form.period.data or None, "ignored": ignored, "mapping": form.mapping}
    if work is not None:
        params["owned_folder"] = str(work)
        if form.overlay.data:
            overlay = work / (secure_filename(form.overlay.data.filename) or "overlay.yaml")
            form.overlay.data.save(overlay)
            params["overlay"] = str(overlay)
    job = submit("import", f"Import of {name}", params, current_user)
    return redirect(url_for("admin.job", job_id=job.id))


def _remove_copy(folder: Path) -> None:
    """Delete the kept copy of a dataset, only ever inside the datasets folder."""
    keep = Path(current_app.config["FAIRWAY_DATASETS"]).resolve()
    target = folder.resolve()
    if keep in target.parents:
        shutil.rmtree(target, ignore_errors=True)
