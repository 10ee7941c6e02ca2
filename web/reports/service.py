"""Progress reports in the app: the month's facts kept with each import (engine.reports),
grouped for the user's scope; and the e-mail digest."""
from __future__ import annotations

from pathlib import Path

from engine.reports import Facts, build_report, month_facts
from engine.reports.build import Report

from ..extensions import db
from ..models import Dataset, RepSnapshot, User
from ..security import visible_reps
from ..store import REPORT_FACTS, catalog, dataset_folder


def stored_months(dataset: Dataset | None) -> list[str]:
    """The months whose facts the import kept (the month in progress, and the month reviewed)."""
    if dataset is None:
        return []
    folder = dataset_folder(dataset) / REPORT_FACTS
    months = sorted((p.name for p in folder.iterdir() if p.is_dir()), reverse=True) if folder.is_dir() else []
    return months or [dataset.period]


def facts_for(dataset: Dataset, month: str) -> Facts:
    """The month's facts of an import: kept at import; for an import made before reports were
    kept, read once from its copy and kept then."""
    folder = dataset_folder(dataset) / REPORT_FACTS / month
    if (folder / "meta.parquet").is_file():
        return Facts.load(folder)
    from engine.dataset import load_dataset
    ds = load_dataset(dataset_folder(dataset), catalog().pipeline)
    facts = month_facts(ds, month)
    facts.save(folder)
    return facts


def scope_rep_ids(user: User, dataset: Dataset, team: str | None = None) -> list[str]:
    q = visible_reps(user, dataset).with_only_columns(RepSnapshot.rep_id)
    if team:
        q = q.where(RepSnapshot.team == team)
    return list(db.session.execute(q).scalars())


def scoped_report(user: User, dataset: Dataset, by: str, grain: str, month: str, team: str | None = None) -> Report:
    """The report of what the user may see (the reps of one team, when asked)."""
    facts = facts_for(dataset, month)
    return build_report(facts, by, grain, reps=scope_rep_ids(user, dataset, team))


def metric_titles(report: Report) -> dict[str, str]:
    reg = catalog().registry
    titles = {}
    for m in report.metrics:
        try:
            titles[m] = reg.get(m).title
        except KeyError:
            titles[m] = m
    return titles
