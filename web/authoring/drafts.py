"""Drafts: each editor's own copy of the whole catalog, changed file by file, on top of
the version it started from.

A draft only ever differs from its base in the files its author may edit (web.authoring
.areas): saving elsewhere is refused, an import takes the author's files only. Saving
never refuses a broken file (a draft is work in progress); the check shows its problems
at their line, and publishing refuses them.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from engine.catalog.bundle import FileChange, changes, digest, materialised, path_problem, size_problems
from engine.catalog.check import CheckReport, check_catalog
from engine.errors import Problem, ProblemsError

from ..catalog_live import live_version, store_root, version_or_none
from ..extensions import db
from ..models import CatalogDraft, CatalogVersion, User
from . import audit
from .areas import can_edit


class DraftError(ProblemsError):
    """An edit of a draft that cannot be made (a file not yours, a name the catalog does not read)."""

    what = "edit"


def draft_of(user: User) -> CatalogDraft | None:
    return db.session.execute(db.select(CatalogDraft).where(CatalogDraft.user_id == user.id)).scalar_one_or_none()


def start(user: User) -> CatalogDraft:
    """The user's draft, started from the live version if they have none."""
    draft = draft_of(user)
    if draft is None:
        live = live_version()
        draft = CatalogDraft(user_id=user.id, base_number=live.number, files=dict(live.files))
        db.session.add(draft)
        audit.record(user, "draft_started", version=live.number)
        db.session.commit()
    return draft


def base_of(draft: CatalogDraft) -> CatalogVersion:
    return version_or_none(draft.base_number)


def normalise(text: str) -> str:
    """Text from a browser: line ends as \\n, one final line end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") or not text else text + "\n"


def _may(user: User, path: str) -> None:
    problem = path_problem(path)
    if problem is not None:
        raise DraftError([problem])
    if not can_edit(user.role, path):
        raise DraftError([Problem(file=path, message="this part of the catalog is not yours to change",
                                  expected="a file of your own part (see the draft page)")])


def save_file(draft: CatalogDraft, user: User, path: str, text: str, action: str = "file_saved") -> None:
    _may(user, path)
    if path not in draft.files and action == "file_saved":
        raise DraftError([Problem(file=path, message="no such file in the draft")])
    text = normalise(text)
    files = {**draft.files, path: text}
    too_big = size_problems({path: text}) + size_problems(files)[:1]
    if too_big:
        raise DraftError(too_big)
    if draft.files.get(path) == text:
        return
    draft.files = files
    audit.record(user, action, version=draft.base_number, path=path)
    db.session.commit()


def create_file(draft: CatalogDraft, user: User, path: str, text: str) -> None:
    if path in draft.files:
        raise DraftError([Problem(file=path, message="the draft has this file already")])
    save_file(draft, user, path, text, action="file_created")


def delete_file(draft: CatalogDraft, user: User, path: str) -> None:
    _may(user, path)
    if path not in draft.files:
        raise DraftError([Problem(file=path, message="no such file in the draft")])
    draft.files = {k: v for k, v in draft.files.items() if k != path}
    audit.record(user, "file_deleted", version=draft.base_number, path=path)
    db.session.commit()


def discard(draft: CatalogDraft, user: User) -> None:
    audit.record(user, "draft_discarded", version=draft.base_number)
    db.session.delete(draft)
    db.session.commit()


def draft_changes(draft: CatalogDraft) -> list[FileChange]:
    base = base_of(draft)
    return changes(base.files if base else {}, draft.files, f"v{draft.base_number}", "draft")


def merged_with_live(draft: CatalogDraft) -> tuple[dict[str, str], list[str], CatalogVersion]:
    """(the draft's changes made on the live version, files both changed differently, live).

    A file the draft left as its base takes the live version's text; a file the live
    version left as the draft's base keeps the draft's; a file both changed alike is that;
    a file both changed differently is a conflict (the draft's text is kept).
    """
    live = live_version()
    base = base_of(draft)
    if base is None or base.number == live.number:
        return dict(draft.files), [], live
    b, d, lv = base.files, draft.files, live.files
    out, conflicts = {}, []
    for path in sorted(set(b) | set(d) | set(lv)):
        old, mine, theirs = b.get(path), d.get(path), lv.get(path)
        if mine == old:
            chosen = theirs
        elif theirs == old or mine == theirs:
            chosen = mine
        else:
            chosen = mine
            conflicts.append(path)
        if chosen is not None:
            out[path] = chosen
    return out, conflicts, live


def rebase(draft: CatalogDraft, user: User) -> list[str]:
    """Bring the draft onto the live version; the files both changed keep the draft's text."""
    files, conflicts, live = merged_with_live(draft)
    draft.files, previous, draft.base_number = files, draft.base_number, live.number
    audit.record(user, "draft_rebased", version=live.number,
                 detail=f"from version {previous}" + (f"; kept the draft's {', '.join(conflicts)}" if conflicts else ""))
    db.session.commit()
    return conflicts


def import_files(user: User, files: dict[str, str], source: str) -> tuple[CatalogDraft, list[str], list[str]]:
    """Take the user's part of imported files into their draft (started if needed).

    (draft, paths taken, paths left as they were: not the user's part). A file of the
    user's part that the import lacks is removed from the draft, as in the files given.
    """
    draft = start(user)
    taken, not_yours = [], []
    out = dict(draft.files)
    for path in sorted(set(out) | set(files)):
        new = normalise(files[path]) if path in files else None
        if out.get(path) == new:
            continue
        if not can_edit(user.role, path):
            not_yours.append(path)
            continue
        taken.append(path)
        if new is None:
            out.pop(path, None)
        else:
            out[path] = new
    draft.files = out
    audit.record(user, "draft_imported", version=draft.base_number,
                 detail=f"{source}: {len(taken)} files taken" + (f", {len(not_yours)} not yours left as they were"
                                                                 if not_yours else ""))
    db.session.commit()
    return draft, taken, not_yours


# --------------------------------------------------------------------------- checking a draft

_reports: OrderedDict[str, CheckReport] = OrderedDict()
_reports_lock = threading.Lock()
KEEP_REPORTS = 16


def check(files: dict[str, str]) -> CheckReport:
    """`catalog check` of the files (kept for the few last drafts seen: pages ask often)."""
    key = digest(files)
    with _reports_lock:
        if key in _reports:
            _reports.move_to_end(key)
            return _reports[key]
    with materialised(files, parent=tmp_root()) as folder:
        report = check_catalog(folder)
    with _reports_lock:
        _reports[key] = report
        while len(_reports) > KEEP_REPORTS:
            _reports.popitem(last=False)
    return report


@dataclass
class FileProblems:
    """A file's problems: at their line, and those of the file as a whole."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def at_line(self) -> dict[int, list[tuple[str, Problem]]]:
        out: dict[int, list[tuple[str, Problem]]] = {}
        for kind, items in (("error", self.errors), ("warning", self.warnings)):
            for p in items:
                if p.line is not None:
                    out.setdefault(p.line, []).append((kind, p))
        return out

    def whole(self) -> list[tuple[str, Problem]]:
        return [(k, p) for k, items in (("error", self.errors), ("warning", self.warnings))
                for p in items if p.line is None]


def by_file(report: CheckReport) -> dict[str, FileProblems]:
    out: dict[str, FileProblems] = {}
    for p in report.errors:
        out.setdefault(p.file, FileProblems()).errors.append(p)
    for p in report.warnings:
        out.setdefault(p.file, FileProblems()).warnings.append(p)
    return out


def tmp_root() -> Path:
    """Where drafts are written out to be checked (inside the instance's catalog store)."""
    path = store_root() / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path
