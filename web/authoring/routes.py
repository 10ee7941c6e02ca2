"""Catalog authoring: drafts, checks, previews, publishing and restoring, history, audit,
library usage. Editing is for the catalog's owners, each in their own part (web.authoring
.areas); the history is read by everyone; the audit trail and library usage by owners."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from engine.catalog.bundle import changes, read_folder, to_zip
from engine.catalog.edits import delete_asset as remove_asset
from engine.catalog.edits import find_asset, put_asset, read_thresholds, set_thresholds
from engine.errors import ProblemsError

from ..catalog_live import live_catalog, live_version, version_or_none
from ..extensions import db
from ..markdown import render as render_markdown
from ..models import CATALOG_ROLES, CatalogVersion
from ..security import roles_required
from ..store import import_root, server_folder
from . import audit, drafts, pages
from .areas import EDITORS, can_edit
from .forms import (ActionForm, AssetForm, CompareForm, FileForm, ImportForm, MessageForm, NewFileForm,
                    ThresholdsForm, WalkForm)
from .preview import preview
from .publish import Refused, publish_draft, restore
from .usage import library_usage

bp = Blueprint("authoring", __name__, url_prefix="/catalog")
editors = roles_required(*EDITORS)
owners = roles_required(*CATALOG_ROLES)
readers = roles_required(*pages.ALL_ROLES)


@bp.context_processor
def helpers():
    skills = live_catalog().skills
    return {"skill_title": lambda sid: skills[sid].title if sid in skills else sid}


def _draft_or_redirect(path: str | None = None):
    """The user's draft, or None (with a note to start one); 404 for a file neither it nor the live version has."""
    draft = drafts.draft_of(current_user)
    if path is not None and path not in (draft.files if draft else live_version().files):
        abort(404)
    if draft is None:
        flash("Start a draft first: it is your own copy of the catalog.", "info")
    return draft


# --------------------------------------------------------------------------- the draft

@bp.get("/draft")
@editors
def draft():
    d = drafts.draft_of(current_user)
    return render_template("authoring/draft.html", section="draft", **pages.draft_page(d, current_user),
                           publish_form=MessageForm(), action_form=ActionForm(), new_file_form=NewFileForm())


@bp.post("/draft/start")
@editors
def start_draft():
    if ActionForm().validate_on_submit():
        drafts.start(current_user)
    return redirect(url_for(".draft"))


@bp.post("/draft/discard")
@editors
def discard_draft():
    d = drafts.draft_of(current_user)
    if d is not None and ActionForm().validate_on_submit():
        drafts.discard(d, current_user)
        flash("Your draft was discarded; the live catalog is as it was.", "info")
    return redirect(url_for(".draft"))


@bp.post("/draft/rebase")
@editors
def rebase_draft():
    d = drafts.draft_of(current_user)
    if d is not None and ActionForm().validate_on_submit():
        kept = drafts.rebase(d, current_user)
        flash(f"Your draft now starts from version {d.base_number}."
              + (f" Both you and that version changed {', '.join(kept)}: your text was kept; compare before "
                 "publishing." if kept else ""), "warning" if kept else "info")
    return redirect(url_for(".draft"))


@bp.route("/draft/files/<path:path>", methods=["GET", "POST"])
@editors
def edit_file(path: str):
    d = _draft_or_redirect(path)
    if d is None:
        return redirect(url_for(".draft"))
    form = FileForm()
    editable = can_edit(current_user.role, path)
    if form.validate_on_submit() and editable:
        try:
            drafts.save_file(d, current_user, path, form.text.data or "")
            flash(f"Saved {path} in your draft.", "info")
            return redirect(url_for(".edit_file", path=path))
        except ProblemsError as err:
            form.text.errors = [str(p) for p in err.problems]
    elif request.method == "GET":
        form.text.data = d.files[path]
    return render_template("authoring/file.html", section="draft", path=path, form=form, editable=editable,
                           **pages.file_page(d, path, form.text.data or ""), action_form=ActionForm())


@bp.post("/draft/files")
@editors
def new_file():
    d = _draft_or_redirect()
    form = NewFileForm()
    if d is None:
        return redirect(url_for(".draft"))
    if form.validate_on_submit():
        try:
            drafts.create_file(d, current_user, form.path.data, pages.skeleton(form.path.data))
            return redirect(url_for(".edit_file", path=form.path.data))
        except ProblemsError as err:
            for p in err.problems:
                flash(str(p), "error")
    for e in form.path.errors:
        flash(e, "error")
    return redirect(url_for(".draft"))


@bp.post("/draft/files/<path:path>/delete")
@editors
def delete_file(path: str):
    d = _draft_or_redirect(path)
    if d is None:
        return redirect(url_for(".draft"))
    if ActionForm().validate_on_submit():
        try:
            drafts.delete_file(d, current_user, path)
            flash(f"Deleted {path} from your draft.", "info")
        except ProblemsError as err:
            for p in err.problems:
                flash(str(p), "error")
    return redirect(url_for(".draft"))


@bp.route("/draft/thresholds", methods=["GET", "POST"])
@roles_required(*[r for r in EDITORS if can_edit(r.value, "rules/thresholds.yaml")])
def thresholds():
    d = _draft_or_redirect()
    if d is None:
        return redirect(url_for(".draft"))
    current, problems = read_thresholds(d.files)
    form = ThresholdsForm()
    if current is not None and form.validate_on_submit():
        try:
            d_files = set_thresholds(d.files, form.values())
            drafts.save_file(d, current_user, "rules/thresholds.yaml", d_files["rules/thresholds.yaml"])
            flash("Saved the thresholds in your draft: see what they would change before publishing.", "info")
            return redirect(url_for(".thresholds"))
        except ProblemsError as err:
            problems = err.problems
    elif request.method == "GET" and current is not None:
        form.fill(current)
    return render_template("authoring/thresholds.html", section="draft", form=form, problems=problems,
                           **pages.file_page(d, "rules/thresholds.yaml", d.files.get("rules/thresholds.yaml", "")))


@bp.route("/draft/assets/new", methods=["GET", "POST"])
@bp.route("/draft/assets/<asset_id>", methods=["GET", "POST"])
@roles_required(*[r for r in EDITORS if can_edit(r.value, "learning_library/assets.yaml")])
def asset(asset_id: str | None = None):
    d = drafts.draft_of(current_user)
    entry = find_asset(d.files if d else live_version().files, asset_id) if asset_id else None
    if asset_id and entry is None:
        abort(404)
    if _draft_or_redirect() is None:
        return redirect(url_for(".draft"))
    form = AssetForm()
    pages.asset_choices(form, d)
    if form.validate_on_submit():
        try:
            files = put_asset(d.files, pages.asset_entry(form), pages.asset_body(form), asset_id)
            pages.save_files(d, current_user, files)
            flash(f"Saved the learning asset {form.id.data} in your draft.", "info")
            return redirect(url_for(".asset", asset_id=form.id.data))
        except ProblemsError as err:
            form.id.errors = [*form.id.errors, *(str(p) for p in err.problems)]
    elif request.method == "GET":
        pages.fill_asset(form, d, entry, request.args)
    return render_template("authoring/asset.html", section="draft", form=form, asset_id=asset_id,
                           action_form=ActionForm(),
                           rendered=render_markdown(form.body.data or "") if form.source.data == "file" else None,
                           problems=pages.asset_problems(d, entry))


@bp.post("/draft/assets/<asset_id>/delete")
@roles_required(*[r for r in EDITORS if can_edit(r.value, "learning_library/assets.yaml")])
def delete_asset(asset_id: str):
    d = drafts.draft_of(current_user)
    if find_asset(d.files if d else live_version().files, asset_id) is None:
        abort(404)
    if d is not None and ActionForm().validate_on_submit():
        try:
            pages.save_files(d, current_user, remove_asset(d.files, asset_id))
            flash(f"Removed the learning asset {asset_id} from your draft.", "info")
        except ProblemsError as err:
            for p in err.problems:
                flash(str(p), "error")
    return redirect(url_for(".draft"))


@bp.get("/draft/flows/<gap_id>/walk")
@editors
def walk(gap_id: str):
    d = drafts.draft_of(current_user)
    if d is None and gap_id not in live_catalog().flows:
        abort(404)
    if _draft_or_redirect() is None:
        return redirect(url_for(".draft"))
    report = drafts.check(d.files)
    if report.catalog is None:
        return render_template("authoring/walk.html", section="draft", gap_id=gap_id, broken=report.errors)
    flow = report.catalog.flows.get(gap_id) or abort(404)
    form = WalkForm(request.args)
    form.evidence.choices = [SelectChoice(ev.id, ev.id) for ev in flow.evidence]
    return render_template("authoring/walk.html", section="draft", gap_id=gap_id, flow=flow, form=form,
                           **pages.walk_page(report.catalog, gap_id, form))


@bp.get("/draft/preview")
@editors
def preview_page():
    d = _draft_or_redirect()
    if d is None:
        return redirect(url_for(".draft"))
    return render_template("authoring/preview.html", section="draft", result=preview(d),
                           names=current_user.sees_rep_data(), draft=d)


@bp.get("/draft/tests")
@editors
def tests_page():
    d = _draft_or_redirect()
    if d is None:
        return redirect(url_for(".draft"))
    return render_template("authoring/tests.html", section="draft", **pages.tests_page(d))


@bp.post("/draft/publish")
@editors
def publish():
    d = drafts.draft_of(current_user)
    if d is None:
        return redirect(url_for(".draft"))
    form = MessageForm()
    if not form.validate_on_submit():
        for e in form.message.errors:
            flash(e, "error")
        return redirect(url_for(".draft"))
    result = publish_draft(current_user, d, form.message.data)
    if isinstance(result, Refused):
        return render_template("authoring/refused.html", section="draft", refused=result, what="publish"), 422
    flash(f"Published version {result.number}: every page now uses it, and the current dataset was "
          "diagnosed again.", "info")
    return redirect(url_for(".version", number=result.number))


@bp.route("/draft/import", methods=["GET", "POST"])
@editors
def import_draft():
    form = ImportForm()
    form.folder.choices = [SelectChoice("", "—")] + [SelectChoice(f) for f in pages.catalog_folders(import_root())]
    problems, left_out = [], []
    if form.validate_on_submit():
        if form.archive.data:
            files, problems, left_out = pages.read_upload(form.archive.data)
            source = f"zip {form.archive.data.filename}"
        else:
            try:
                files, problems, left_out = read_folder(server_folder(form.folder.data))
            except ProblemsError as err:
                files, problems = {}, err.problems
            source = f"server folder {form.folder.data}"
        if not problems:
            d, taken, not_yours = drafts.import_files(current_user, files, source)
            flash(f"Imported {len(taken)} changed files into your draft from the {source}."
                  + (f" Left as they were (not your part): {', '.join(not_yours)}." if not_yours else ""), "info")
            return redirect(url_for(".draft"))
    return render_template("authoring/import.html", section="draft", form=form, problems=problems,
                           left_out=left_out, root=str(import_root()))


@bp.get("/draft/export.zip")
@editors
def export_draft():
    d = _draft_or_redirect()
    if d is None:
        return redirect(url_for(".draft"))
    return _zip(d.files, f"catalog-draft-{current_user.username}")


# --------------------------------------------------------------------------- versions

@bp.get("/versions")
@readers
def versions():
    rows = db.session.execute(db.select(CatalogVersion).order_by(CatalogVersion.number.desc())).scalars().all()
    return render_template("authoring/versions.html", section="history", versions=rows,
                           live=live_version(), compare=CompareForm(request.args, meta={"csrf": False}),
                           configured=pages.configured_differs())


@bp.get("/versions/compare")
@readers
def compare():
    form = CompareForm(request.args)
    if not form.validate():
        flash("Choose two versions to compare.", "info")
        return redirect(url_for(".versions"))
    a, b = version_or_none(form.a.data) or abort(404), version_or_none(form.b.data) or abort(404)
    return render_template("authoring/compare.html", section="history", a=a, b=b,
                           changes=changes(a.files, b.files, f"v{a.number}", f"v{b.number}"))


@bp.get("/versions/<int:number>")
@readers
def version(number: int):
    v = version_or_none(number) or abort(404)
    previous = version_or_none(v.previous_number)
    return render_template("authoring/version.html", section="history", v=v, live=live_version(),
                           changes=changes(previous.files if previous else {}, v.files,
                                           f"v{previous.number}" if previous else "none", f"v{v.number}"),
                           restore_form=MessageForm(formdata=None, data={"message": f"Restore version {number}"}),
                           can_restore=current_user.role in {r.value for r in EDITORS},
                           restorable=pages.restorable(current_user, v))


@bp.get("/versions/<int:number>/files/<path:path>")
@readers
def version_file(number: int, path: str):
    v = version_or_none(number) or abort(404)
    if path not in v.files:
        abort(404)
    return render_template("authoring/version_file.html", section="history", v=v, path=path, text=v.files[path],
                           rendered=render_markdown(v.files[path]) if path.endswith(".md") else None)


@bp.get("/versions/<int:number>/export.zip")
@readers
def export_version(number: int):
    v = version_or_none(number) or abort(404)
    return _zip(v.files, f"catalog-v{v.number}")


@bp.post("/versions/<int:number>/restore")
@editors
def restore_version(number: int):
    v = version_or_none(number) or abort(404)
    form = MessageForm()
    if not form.validate_on_submit():
        for e in form.message.errors:
            flash(e, "error")
        return redirect(url_for(".version", number=number))
    result = restore(current_user, v, form.message.data)
    if isinstance(result, Refused):
        return render_template("authoring/refused.html", section="history", refused=result, what="restore"), 422
    flash(f"Restored: version {result.number} holds {'' if current_user.role == 'admin' else 'your part of '}"
          f"version {number}; every page uses it, and the current dataset was diagnosed again.", "info")
    return redirect(url_for(".version", number=result.number))


# --------------------------------------------------------------------------- audit, usage

@bp.get("/audit")
@owners
def audit_page():
    return render_template("authoring/audit.html", section="audit", trail=audit.trail(), actions=audit.ACTIONS)


@bp.get("/usage")
@owners
def usage():
    return render_template("authoring/usage.html", section="usage", usage=library_usage(live_catalog()))


def _zip(files: dict, name: str) -> Response:
    return Response(to_zip(files, folder=name), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}.zip"'})
