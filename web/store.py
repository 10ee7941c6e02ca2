"""Datasets into the app: validate whole, analyse once, store every page's data at once.

An import either stores the dataset, its copy and all its snapshots in one
transaction, or stores nothing (the validator's problems are raised unchanged).
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Callable

from flask import current_app

from engine.diagnosis.analysis import analyse
from engine.catalog.model import Catalog
from engine.dataset import load_dataset
from engine.errors import DatasetError, Problem
from engine.diagnosis.snapshot import rep_documents
from engine.reports import month_facts, report_window

from .extensions import db
from .models import Dataset, RepSnapshot, User
from .reps.charts import activity_progress


def catalog() -> Catalog:
    """The catalog loaded once by the app factory."""
    return current_app.extensions["fairway.catalog"]


def import_root() -> Path:
    return Path(current_app.config["FAIRWAY_IMPORT_ROOT"]).resolve()


def server_folder(relative: str) -> Path:
    """A folder under the configured import root; refuses paths that leave it."""
    root = import_root()
    path = (root / relative).resolve()
    if root != path and root not in path.parents:
        raise DatasetError([Problem(file=relative, message="outside the import folder",
                                    expected=f"a folder under {root}")])
    if not path.is_dir():
        raise DatasetError([Problem(file=relative, message="not a folder under the import folder",
                                    expected=f"a folder under {root}")])
    return path


def ingest(folder: Path, name: str, source: str, user: User | None, make_current: bool = True,
           period: str | None = None, progress: Callable[[str], None] | None = None,
           before_commit: Callable[[Dataset], None] | None = None) -> Dataset:
    """Validate, analyse and store a dataset folder; DatasetError (nothing stored) if refused.

    `progress` hears what is being done (the engine's messages, then the analysis and the storing);
    `before_commit` runs inside the transaction that stores the dataset (a job writes its outcome
    there, so that both land or neither does; whatever it raises stores nothing).
    """
    say = progress or (lambda _m: None)
    cat = catalog()
    ds = load_dataset(folder, cat.pipeline, progress=progress)     # raises DatasetError with every problem
    say("analysing: metrics, benchmarks, significance, the rules")
    analysis = analyse(ds, cat, period)
    docs, aggregates = rep_documents(analysis, cat)
    say(f"storing {len(docs):,} reps")
    keep = Path(current_app.config["FAIRWAY_DATASETS"])
    keep.mkdir(parents=True, exist_ok=True)
    target = keep / uuid.uuid4().hex
    staging = Path(tempfile.mkdtemp(dir=keep, prefix=".import-"))
    try:
        for f in folder.iterdir():
            if f.is_file() and f.suffix in (".csv", ".parquet"):
                shutil.copy2(f, staging / f.name)
        save_report_facts(ds, analysis.table.period.label, staging)
        dataset = Dataset(name=name, source=source, folder=target.name, period=analysis.table.period.label,
                          as_of=analysis.table.period.as_of.date(), catalog_version=cat.version,
                          summary=ds.summary() | {"warnings": list(ds.warnings)}, aggregates=aggregates,
                          imported_by=user.id if user else None)
        db.session.add(dataset)
        db.session.flush()
        db.session.add_all(RepSnapshot(
            dataset_id=dataset.id, rep_id=d["rep_id"], name=d["name"], role=d["role"], team=d["team"],
            division=d["division"], manager=d["manager"],
            focus_gap=(d["diagnosis"] or {}).get("focus", {}) and d["diagnosis"]["focus"]["behaviour_gap"],
            focus_skill=(d["diagnosis"] or {}).get("focus", {}) and d["diagnosis"]["focus"]["skill_gap"],
            goal_progress=activity_progress((d["metrics"] or {}).get("goals") or {}),
            metrics=d["metrics"], diagnosis=d["diagnosis"], charts=d["charts"], plan=d["plan"]) for d in docs)
        db.session.flush()
        from .rhythm.followup import measure_plans
        measure_plans(dataset)                    # each open plan's KPI on the new data
        if make_current:
            db.session.execute(db.update(Dataset).where(Dataset.id != dataset.id).values(is_current=False))
            dataset.is_current = True
        staging.rename(target)                    # the copy is in place before the commit
        if before_commit is not None:
            before_commit(dataset)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        raise
    return dataset


_AGGREGATES: dict[str, dict] = {}
_AGGREGATES_KEPT = 4


def dataset_aggregates(dataset: Dataset) -> dict:
    """The dataset's team, division and company figures, read once per process: a dataset never
    changes after its import (keyed by its folder's name, unique to each import)."""
    found = _AGGREGATES.get(dataset.folder)
    if found is None:
        found = dataset.aggregates or {}          # a deferred column: read here only
        if len(_AGGREGATES) >= _AGGREGATES_KEPT:
            _AGGREGATES.pop(next(iter(_AGGREGATES)))
        _AGGREGATES[dataset.folder] = found
    return found


REPORT_FACTS = "report"          # beside the dataset's copy: the month's events for progress reports


def save_report_facts(ds, period: str, folder: Path) -> None:
    """The events of the month in progress (and of the month reviewed, where it differs) for the
    progress reports, kept with the import so that no page reads the dataset again."""
    months = {report_window(ds, None)[0], period}
    for month in sorted(months):
        facts = month_facts(ds, month)
        facts.save(folder / REPORT_FACTS / facts.month)


def dataset_folder(dataset: Dataset) -> Path:
    """Where the app keeps the dataset's validated copy (inside FAIRWAY_DATASETS)."""
    return Path(current_app.config["FAIRWAY_DATASETS"]) / dataset.folder


def make_current(dataset: Dataset) -> None:
    db.session.execute(db.update(Dataset).values(is_current=False))
    dataset.is_current = True
    db.session.commit()
