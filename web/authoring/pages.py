"""What the authoring pages show, gathered from drafts, checks and versions (views stay thin)."""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Mapping
from urllib.parse import urlencode

from flask import current_app, url_for

from engine.catalog.bundle import changes, digest, read_folder, read_zip
from engine.catalog.model import Catalog
from engine.dialogue import conversation as dialogue
from engine.diagnosis.diagnose import RepDiagnosis
from engine.errors import DialogueError, Problem

from ..catalog_live import live_catalog, live_version
from ..extensions import db
from ..markdown import render as render_markdown
from ..models import CatalogDraft, CatalogVersion, Role, User
from . import drafts
from .areas import area_of, areas_of, can_edit
from .forms import AssetForm, WalkForm

ALL_ROLES = tuple(Role)
MAX_ZIP = 64 * 1024 * 1024


# --------------------------------------------------------------------------- the draft page

def draft_page(d: CatalogDraft | None, user: User) -> dict:
    live = live_version()
    if d is None:
        return {"draft": None, "live": live, "my_areas": areas_of(user.role)}
    report = drafts.check(d.files)
    problems = drafts.by_file(report)
    changed = {c.path: c for c in drafts.draft_changes(d)}
    groups: dict[str, list[dict]] = defaultdict(list)
    others: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(set(d.files) | set(changed)):
        area = area_of(path)
        p = problems.get(path)
        mine = can_edit(user.role, path)
        (groups if mine or path in changed or p else others)[area.title if area else "Other"].append({
            "path": path, "change": changed.get(path), "editable": can_edit(user.role, path),
            "exists": path in d.files, "errors": len(p.errors) if p else 0, "warnings": len(p.warnings) if p else 0})
    located = {p.file for p in report.errors + report.warnings}
    return {"draft": d, "live": live, "report": report, "groups": dict(groups), "others": dict(others),
            "changes": list(changed.values()),
            "unlocated": [p for p in report.errors if p.file not in d.files],
            "missing": missing_assets(report.catalog) if report.catalog else [],
            "my_areas": areas_of(user.role), "located": located,
            "flows": sorted(report.catalog.flows) if report.catalog else [],
            "thresholds_editable": can_edit(user.role, "rules/thresholds.yaml"),
            "library_editable": can_edit(user.role, "learning_library/assets.yaml")}


def missing_assets(catalog: Catalog) -> list[dict]:
    """Per root cause and role a flow considers it for: what the library lacks (the coverage report)."""
    out: dict[tuple[str, str], dict] = {}
    for gap_id, flow in catalog.flows.items():
        for role in catalog.behaviour_gaps[gap_id].roles:
            for sid in flow.candidates:
                for what, items in (("asset", catalog.assets), ("assignment", catalog.assignments)):
                    if not any(sid in i.addresses and (not i.roles or role in i.roles) for i in items.values()):
                        row = out.setdefault((sid, role), {"skill": sid, "title": catalog.skills[sid].title,
                                                           "role": role, "lacks": [], "flows": []})
                        if what not in row["lacks"]:
                            row["lacks"].append(what)
                        if gap_id not in row["flows"]:
                            row["flows"].append(gap_id)
    return sorted(out.values(), key=lambda r: (r["skill"], r["role"]))


def file_page(d: CatalogDraft, path: str, text: str) -> dict:
    report = drafts.check(d.files)
    problems = drafts.by_file(report).get(path, drafts.FileProblems())
    at = problems.at_line()
    saved = d.files.get(path, "")
    lines = [{"n": n, "text": line, "problems": at.get(n, [])} for n, line in enumerate(saved.split("\n"), 1)]
    if lines and lines[-1]["text"] == "" and not lines[-1]["problems"]:
        lines.pop()
    base = drafts.base_of(d)
    change = next(iter(changes({path: base.files[path]} if base and path in base.files else {},
                               {path: saved}, f"v{d.base_number}", "draft")), None)
    return {"lines": lines, "whole": problems.whole(), "beyond": [(k, p) for n, items in at.items()
                                                                   if n > len(lines) for k, p in items],
            "n_errors": len(problems.errors), "n_warnings": len(problems.warnings), "change": change,
            "rendered": render_markdown(text) if path.endswith(".md") else None,
            "draft": d, "catalog_ok": report.catalog is not None}


def skeleton(path: str) -> str:
    """The text a new file starts with: the shape of what belongs there."""
    name = Path(path).stem
    if path.startswith("rules/gaps/"):
        return ("# Gaps. performance: results a rep is measured on; behaviour: what explains them.\n"
                "performance: []\nbehaviour: []\n")
    if path.startswith("rules/flows/"):
        return (f"behaviour_gap: {name}\ncandidates: {{}}        # root cause: prior weight\nevidence: []\n"
                "questions:\n  - id: first_question\n    ask: What would you ask the rep first?\n    answers:\n"
                "      - {id: one, say: One answer, points_to: {}}\n      - {id: other, say: Another, points_to: {}}\n")
    if path.startswith("rules/tests/"):
        return "tests: []\n"
    if path.endswith(".md"):
        return f"# {name.replace('-', ' ').capitalize()}\n\n"
    return "assets: []\nassignments: []\n"


# --------------------------------------------------------------------------- learning assets

def _catalog_for_choices(d: CatalogDraft) -> Catalog:
    report = drafts.check(d.files)
    return report.catalog or live_catalog()


def asset_choices(form: AssetForm, d: CatalogDraft) -> None:
    cat = _catalog_for_choices(d)
    form.set_choices(cat.skills, cat.pipeline.roles)


def fill_asset(form: AssetForm, d: CatalogDraft, entry, args: Mapping) -> None:
    if entry is None:
        skills, roles = {c.value for c in form.addresses.choices}, {c.value for c in form.roles.choices}
        form.addresses.data = [args["skill"]] if args.get("skill") in skills else []
        form.roles.data = [args["role"]] if args.get("role") in roles else []
        form.minutes.data = 15
        form.source.data = "file"
        return
    _, _, item = entry
    form.id.data, form.title.data = item.get("id"), item.get("title")
    form.kind.data, form.minutes.data = item.get("kind"), item.get("minutes")
    form.addresses.data, form.roles.data = list(item.get("addresses") or []), list(item.get("roles") or [])
    form.summary.data = item.get("summary", "")
    form.original_id.data = item.get("id")
    if isinstance(item.get("file"), str):
        form.source.data = "file"
        form.body.data = d.files.get(f"learning_library/{item['file']}", "")
    else:
        form.source.data, form.url.data = "url", item.get("url", "")


def asset_entry(form: AssetForm) -> dict:
    item = {"id": form.id.data, "title": form.title.data.strip(), "kind": form.kind.data,
            "minutes": form.minutes.data, "addresses": list(form.addresses.data)}
    if form.roles.data:
        item["roles"] = list(form.roles.data)
    if form.source.data == "url":
        item["url"] = form.url.data.strip()
    if (form.summary.data or "").strip():
        item["summary"] = " ".join(form.summary.data.split())
    return item


def asset_body(form: AssetForm) -> str | None:
    return drafts.normalise(form.body.data or "") if form.source.data == "file" else None


def save_files(d: CatalogDraft, user: User, files: dict[str, str]) -> None:
    """Save every file that changed (each one the user's to change), then the removals."""
    for path in sorted(files):
        if d.files.get(path) != files[path]:
            if path in d.files:
                drafts.save_file(d, user, path, files[path])
            else:
                drafts.create_file(d, user, path, files[path])
    for path in sorted(set(d.files) - set(files)):
        drafts.delete_file(d, user, path)


def asset_problems(d: CatalogDraft, entry) -> list:
    """The check's problems of an asset's entry and of its Markdown file."""
    if entry is None:
        return []
    path, index, item = entry
    report = drafts.check(d.files)
    prefix = f"assets[{index}]"
    md = f"learning_library/{item['file']}" if isinstance(item.get("file"), str) else None
    return [(kind, p) for kind, items in (("error", report.errors), ("warning", report.warnings)) for p in items
            if (p.file == path and (p.column or "").startswith(prefix)) or (md and p.file == md)
            or (p.column or "").startswith(f"{item.get('id')}.")]


# --------------------------------------------------------------------------- walking a flow

def walk_page(catalog: Catalog, gap_id: str, form: WalkForm) -> dict:
    """The flow's conversation as a manager walks it: the next question, or the ranked causes."""
    flow = catalog.flows[gap_id]
    gap = catalog.behaviour_gaps[gap_id]
    chosen = set(form.evidence.data or []) if form.validate() else set()
    answers = [tuple(a.split(":", 1)) for a in (form.answers.data or "").split(",") if ":" in a] \
        if not form.answers.errors else []
    rep = RepDiagnosis(rep_id="preview", name="Preview", role=gap.roles[0], team="", focus=None, findings=(),
                       evidence={gap_id: [[ev.id, re.sub(r"\{(\w+)(:[^}]*)?\}", r"[\1]", ev.says)]
                                          for ev in flow.evidence if ev.id in chosen]})
    state = dialogue.DialogueState(rep_id="preview", behaviour_gap=gap_id, proposed_gap=gap_id)
    error = None
    try:
        for q, a in answers:
            state = dialogue.answer(catalog, state, q, a)
    except DialogueError as err:
        error, state = str(err), dialogue.DialogueState(rep_id="preview", behaviour_gap=gap_id, proposed_gap=gap_id)
    step = dialogue.step(catalog, state, rep)
    given = [f"{q}:{a}" for q, a in state.answers]

    def link(extra: list[str]) -> str:
        query = [("answers", ",".join(extra))] + [("evidence", e) for e in sorted(chosen)]
        return url_for("authoring.walk", gap_id=gap_id) + "?" + urlencode(query)
    options = []
    if step.question is not None:
        q = step.question
        options = [{"say": a.say, "points_to": a.points_to, "url": link(given + [f"{q.id}:{a.id}"])} for a in q.answers]
        options += [{"say": "None of these", "points_to": {}, "url": link(given + [f"{q.id}:{dialogue.NONE}"])},
                    {"say": "Skip this question", "points_to": {}, "url": link(given + [f"{q.id}:{dialogue.SKIP}"])}]
    top = step.result.top if step.result else None
    return {"gap": gap, "step": step, "options": options, "error": error, "chosen": chosen,
            "back": link(given[:-1]) if given else None, "restart": link([]),
            "history": _history(flow, state.answers),
            "assets": catalog.assets_for(top.skill, gap.roles[0]) if top else [],
            "assignments": catalog.assignments_for(top.skill, gap.roles[0]) if top else []}


def _history(flow, answers) -> list[dict]:
    questions = {q.id: q for q in flow.questions}
    out = []
    for qid, aid in answers:
        q = questions[qid]
        say = {dialogue.SKIP: "skipped", dialogue.NONE: "none of these"}.get(aid) or next(
            a.say for a in q.answers if a.id == aid)
        out.append({"ask": q.ask, "say": say})
    return out


# --------------------------------------------------------------------------- tests, imports, versions

def tests_page(d: CatalogDraft) -> dict:
    from engine.catalog.bundle import materialised

    from .publish import run_tests
    report = drafts.check(d.files)
    if report.catalog is None:
        return {"report": report, "outcomes": None}
    with materialised(d.files, parent=drafts.tmp_root()) as folder:
        outcomes = run_tests(report.catalog, folder, live_catalog())
    return {"report": report, "outcomes": outcomes}


def read_upload(storage) -> tuple[dict, list, list]:
    """(files, problems, left out) of an uploaded zip, refused whole beyond MAX_ZIP bytes."""
    data = storage.read(MAX_ZIP + 1)
    if len(data) > MAX_ZIP:
        return {}, [Problem(file=storage.filename or "upload", message="the zip is too large",
                            expected=f"at most {MAX_ZIP // (1024 * 1024)} MiB")], []
    return read_zip(data)


def catalog_folders(root: Path, depth: int = 3) -> list[str]:
    """Folders under the import root that hold a catalog (rules/ inside)."""
    out = []
    if not root.is_dir():
        return out
    for path in sorted(root.rglob("rules")):
        rel = path.parent.relative_to(root)
        if path.is_dir() and not path.is_symlink() and len(rel.parts) <= depth:
            out.append(rel.as_posix() if rel.parts else ".")
    return out


def configured_differs() -> str | None:
    """The configured catalog folder, when it holds files no version has had (a new release from git)."""
    configured = current_app.extensions["fairway.configured_catalog"]
    files, problems, _ = read_folder(configured.root)
    published = set(db.session.execute(db.select(CatalogVersion.digest)).scalars())
    return None if problems or digest(files) in published else str(configured.root)


def restorable(user: User, v: CatalogVersion) -> list[str]:
    """The files restoring `v` would change for this user (an admin: all of them; others: their part)."""
    from .publish import restore_files
    live = live_version()
    return [c.path for c in changes(live.files, restore_files(user, v, live))]
