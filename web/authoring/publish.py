"""Publishing: a draft (or a restored version) becomes the live catalog, or nothing changes.

In order, each step able to refuse with what it found, before anything is stored:
1. the draft is brought onto the live version (files both changed differently refuse);
2. `catalog check` on its files (every error located: file, line, key);
3. `catalog test` (the catalog's own tests, each failure with expected and got);
4. the current dataset re-diagnosed with it (its stored copy, its period): a dataset the
   new pipeline does not read refuses.
Then, in one transaction: the version (files, author, time, message, diff), the live
pointer moved only if it still names the version the checks ran against (else another
publish came first, and this one is refused), the current dataset's snapshots replaced,
the audit line, the draft gone. Every process serves the new version from its next
request (web.catalog_live). A broken draft never replaces a working catalog.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask import current_app
from sqlalchemy.exc import IntegrityError

from engine.catalog.bundle import changes, diff_text, digest, materialised
from engine.catalog.check import check_catalog
from engine.catalog.model import Catalog
from engine.catalog.testing import TestOutcome, run_catalog_tests, run_folder_tests
from engine.diagnosis.analysis import compiled_rules, evaluable_here
from engine.errors import Problem, ProblemsError
from engine.isolation import run_isolated

from ..catalog_live import files_folder, live_catalog, live_version, switch_to
from ..extensions import db
from ..models import CatalogDraft, CatalogState, CatalogVersion, User, utcnow
from ..security import current_dataset
from ..store import rediagnose, replace_snapshots
from . import audit
from .areas import can_edit
from .drafts import merged_with_live, tmp_root


@dataclass
class Refused:
    """Why nothing was published, with everything the steps found."""

    reason: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    failed_tests: list[TestOutcome] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def publish_draft(user: User, draft: CatalogDraft, message: str) -> CatalogVersion | Refused:
    files, conflicts, live = merged_with_live(draft)
    if conflicts:
        result: CatalogVersion | Refused = Refused(
            f"Version {live.number} was published after your draft started, and changed the same files: "
            "bring your draft up to date first, then check what you keep.", conflicts=conflicts)
    elif digest(files) == live.digest:
        result = Refused("Your draft changes nothing in the live catalog.")
    else:
        result = publish_files(files, user, message, kind="publish", live=live, base=draft.base_number)
    if isinstance(result, CatalogVersion):
        db.session.delete(draft)
        db.session.commit()
    else:
        audit.record(user, "publish_refused", version=live.number, detail=_refusal_detail(result))
        db.session.commit()
    return result


def restore_files(user: User, target: CatalogVersion, live: CatalogVersion) -> dict[str, str]:
    """The live files with the user's part as it was in `target` (an admin's: all of it)."""
    out = {}
    for path in sorted(set(live.files) | set(target.files)):
        source = target.files if can_edit(user.role, path) else live.files
        if path in source:
            out[path] = source[path]
    return out


def restore(user: User, target: CatalogVersion, message: str) -> CatalogVersion | Refused:
    live = live_version()
    files = restore_files(user, target, live)
    if digest(files) == live.digest:
        result: CatalogVersion | Refused = Refused(
            f"Your part of version {target.number} is what is live already: nothing to restore.")
    else:
        result = publish_files(files, user, message, kind="restore", live=live, base=target.number,
                               restored_from=target.number)
    if isinstance(result, Refused):
        audit.record(user, "restore_refused", version=target.number, detail=_refusal_detail(result))
        db.session.commit()
    return result


def _refusal_detail(r: Refused) -> str:
    parts = [r.reason] + [str(p) for p in r.problems[:20]] + [f"test failed: {t.file}: {t.name}"
                                                              for t in r.failed_tests[:20]]
    if r.conflicts:
        parts.append("conflicts: " + ", ".join(r.conflicts))
    return "\n".join(parts)


def run_tests(catalog: Catalog, folder, live: Catalog) -> list[TestOutcome]:
    """The catalog's tests: here if its ruleset is the live one's (or registered), else in a child."""
    same_rules = compiled_rules(catalog).name == compiled_rules(live).name
    if evaluable_here(catalog, may_register=same_rules):
        return run_catalog_tests(catalog)
    return run_isolated(run_folder_tests, str(folder))


def publish_files(files: dict[str, str], user: User, message: str, kind: str, live: CatalogVersion,
                  base: int | None, restored_from: int | None = None) -> CatalogVersion | Refused:
    """Check, test, re-diagnose, then store and switch; or refuse, storing nothing."""
    with materialised(files, parent=tmp_root()) as folder:
        report = check_catalog(folder)
        if report.errors:
            return Refused("catalog check found errors: nothing was published.", problems=report.errors,
                           warnings=report.warnings)
        outcomes = run_tests(report.catalog, folder, live_catalog())
    failed = [o for o in outcomes if not o.passed]
    if not outcomes:
        return Refused("The catalog has no tests (rules/tests/*.yaml): nothing was published.")
    if failed:
        return Refused(f"{len(failed)} of {len(outcomes)} catalog tests failed: nothing was published.",
                       failed_tests=failed, warnings=report.warnings)
    files_digest = digest(files)
    catalog = replace(report.catalog, root=files_folder(files, files_digest))
    dataset = current_dataset()
    if dataset is not None:
        try:
            docs, aggregates = rediagnose(dataset, catalog)
        except ProblemsError as err:
            return Refused(f"The current dataset ({dataset.name}) cannot be diagnosed with this catalog: "
                           "nothing was published.", problems=err.problems)
    number = (db.session.execute(db.select(db.func.max(CatalogVersion.number))).scalar_one() or 0) + 1
    previous = live
    version = CatalogVersion(number=number, kind=kind, files=files, digest=files_digest,
                             catalog_version=catalog.version, message=message.strip(), author_id=user.id,
                             base_number=base, previous_number=live.number, restored_from=restored_from,
                             changes=[{"path": c.path, "status": c.status, "added": c.added, "removed": c.removed}
                                      for c in changes(previous.files, files)],
                             diff=diff_text(previous.files, files, f"v{live.number}", f"v{number}"))
    try:
        db.session.add(version)
        moved = db.session.execute(db.update(CatalogState).where(CatalogState.id == 1,
                                                                 CatalogState.live_number == live.number)
                                   .values(live_number=number, changed_at=utcnow()))
        if moved.rowcount != 1:
            raise IntegrityError("live version moved", None, Exception("concurrent publish"))
        if dataset is not None:
            replace_snapshots(dataset, docs, aggregates, catalog.version)
        audit.record(user, "restored" if kind == "restore" else "published", version=number,
                     detail=message.strip() + (f" (version {restored_from})" if restored_from else ""))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return Refused("Another version was published at the same moment: nothing was published. "
                       "Bring your draft up to date and publish again.")
    switch_to(current_app._get_current_object(), number, catalog)
    return version
