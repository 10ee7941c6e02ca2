"""Datasets into the app: validate whole, analyse once, store every page's data at once.

An import either stores the dataset, its copy and all its snapshots in one
transaction, or stores nothing (the validator's problems are raised unchanged).
"""
from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import Callable

from flask import current_app

from engine.diagnosis.analysis import analyse, evaluable_here
from engine.catalog.model import Catalog
from engine.dataset import load_dataset
from engine.dataset.model import Dataset as EngineDataset
from engine.dataset.reader import is_partitioned, table_of_folder
from engine.errors import DatasetError, Problem
from engine.diagnosis.snapshot import folder_documents, rep_documents
from engine.isolation import run_isolated
from engine.reports import month_facts, report_window

from .catalog_live import live_catalog
from .extensions import db
from .models import Dataset, RepSnapshot, User
from .security import forget_current_dataset

def _not_parquet(folder: str, names: list[str]) -> list[str]:
    """What a copy of a partitioned table leaves out: anything but its Parquet parts and their folders."""
    return [n for n in names if not n.lower().endswith(".parquet") and not (Path(folder) / n).is_dir()]
from .reps.charts import activity_progress


def catalog() -> Catalog:
    """The live catalog, as this request is served with it (web.catalog_live)."""
    return live_catalog()


def work_tmp() -> Path:
    """Where uploads are unpacked and exports converted while they are checked: inside the instance,
    each job's part removed when it ends."""
    folder = Path(current_app.instance_path) / "tmp"
    folder.mkdir(exist_ok=True)
    return folder


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
    docs, aggregates = documents(ds, folder, cat, period)
    say(f"storing {len(docs):,} reps")
    keep = Path(current_app.config["FAIRWAY_DATASETS"])
    keep.mkdir(parents=True, exist_ok=True)
    target = keep / uuid.uuid4().hex
    staging = Path(tempfile.mkdtemp(dir=keep, prefix=".import-"))
    try:
        for f in folder.iterdir():
            if f.is_file() and f.suffix in (".csv", ".parquet"):
                shutil.copy2(f, staging / f.name)
            elif table_of_folder(f.name) and is_partitioned(f):   # a table as a folder of parts
                shutil.copytree(f, staging / f.name, ignore=_not_parquet)
        save_report_facts(ds, aggregates["period"], staging)
        dataset = Dataset(name=name, source=source, folder=target.name, period=aggregates["period"],
                          as_of=date.fromisoformat(aggregates["as_of"]), catalog_version=cat.version,
                          summary=ds.summary() | {"warnings": list(ds.warnings)}, aggregates=aggregates,
                          imported_by=user.id if user else None)
        db.session.add(dataset)
        db.session.flush()
        db.session.add_all(_snapshot(dataset.id, d) for d in docs)
        db.session.flush()
        from .rhythm.followup import measure_plans
        measure_plans(dataset)                    # each open plan's KPI on the new data
        if make_current:
            db.session.execute(db.update(Dataset).where(Dataset.id != dataset.id).values(is_current=False))
            dataset.is_current = True
            forget_current_dataset()
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


def _snapshot(dataset_id: int, d: dict) -> RepSnapshot:
    focus = (d["diagnosis"] or {}).get("focus") or {}
    opening = (d["diagnosis"] or {}).get("opening") or {}
    return RepSnapshot(dataset_id=dataset_id, rep_id=d["rep_id"], name=d["name"], role=d["role"], team=d["team"],
                       division=d["division"], manager=d["manager"], focus_gap=focus.get("behaviour_gap"),
                       focus_skill=focus.get("skill_gap"), opening_gap=opening.get("performance_gap"),
                       goal_progress=activity_progress((d["metrics"] or {}).get("goals") or {}),
                       metrics=d["metrics"], diagnosis=d["diagnosis"],
                       charts=d["charts"], plan=d["plan"])


def documents(ds: EngineDataset, folder: Path, cat: Catalog, period: str | None) -> tuple[list[dict], dict]:
    """Every rep's documents and the aggregates of a loaded dataset under a catalog.

    The rules run in this process when it may register the catalog's ruleset (it is, or
    becomes, the live one), else in a child process (engine.isolation), which reads the
    dataset folder and the catalog's folder again.
    """
    if evaluable_here(cat, may_register=True):
        return rep_documents(analyse(ds, cat, period), cat)
    return run_isolated(folder_documents, str(folder), str(cat.root), period)


def rediagnose(dataset: Dataset, cat: Catalog) -> tuple[list[dict], dict]:
    """The documents of a stored dataset (its copy, its period) under another catalog;
    DatasetError if the copy does not fit the catalog's pipeline."""
    folder = dataset_folder(dataset)
    return documents(load_dataset(folder, cat.pipeline), folder, cat, dataset.period)


def replace_snapshots(dataset: Dataset, docs: list[dict], aggregates: dict, catalog_version: str) -> None:
    """The dataset's snapshots replaced by `docs`, in the caller's transaction (not committed)."""
    db.session.execute(db.delete(RepSnapshot).where(RepSnapshot.dataset_id == dataset.id))
    db.session.add_all(_snapshot(dataset.id, d) for d in docs)
    dataset.aggregates = aggregates
    dataset.catalog_version = catalog_version


def dataset_folder(dataset: Dataset) -> Path:
    """Where the app keeps the dataset's validated copy (inside FAIRWAY_DATASETS)."""
    return Path(current_app.config["FAIRWAY_DATASETS"]) / dataset.folder


def make_current(dataset: Dataset) -> None:
    db.session.execute(db.update(Dataset).values(is_current=False))
    dataset.is_current = True
    db.session.commit()
    forget_current_dataset()
