"""What a draft would do to this month's diagnosis, on the current dataset, before it is
published: the focus of each behaviour gap before and after, and the reps whose focus
changes (by name for those who see rep data; as counts of changes for catalog owners,
who see aggregates only).

The live catalog's metrics and diagnosis of the current dataset are computed once per
process and kept (one dataset, one version), so that each preview only diagnoses again.
A draft whose rules differ from the live ones (gaps, flows, evidence) is previewed in a
child process (engine.isolation): the web process registers no ruleset for a draft.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app

from engine.catalog.bundle import materialised
from engine.catalog.loader import inspect_catalog
from engine.dataset import load_dataset
from engine.diagnosis.analysis import analyse, compiled_rules, evaluable_here
from engine.diagnosis.whatif import WhatIf, compare_catalogs, compare_folders
from engine.errors import Problem, ProblemsError
from engine.isolation import run_isolated

from ..catalog_live import live_catalog
from ..models import CatalogDraft, Dataset
from ..security import current_dataset
from ..store import dataset_folder
from .drafts import tmp_root

_lock = threading.Lock()


@dataclass
class Preview:
    dataset: Dataset | None
    whatif: WhatIf | None = None
    problems: list[Problem] = field(default_factory=list)
    in_child: bool = False


def _live_analysis(dataset: Dataset):
    """(engine dataset, metric table, diagnosis) of the current dataset under the live catalog, kept."""
    live = live_catalog()
    key = (dataset.id, live.version)
    cache = current_app.extensions.setdefault("fairway.preview_base", {})
    with _lock:
        if key not in cache:
            ds = load_dataset(dataset_folder(dataset), live.pipeline)
            analysis = analyse(ds, live, dataset.period)
            cache.clear()                         # one dataset and version at a time: it can be large
            cache[key] = (ds, analysis.table, analysis.diagnosis)
        return cache[key]


def preview(draft: CatalogDraft) -> Preview:
    dataset = current_dataset()
    if dataset is None:
        return Preview(dataset=None)
    live = live_catalog()
    folder = dataset_folder(dataset)
    try:
        with materialised(draft.files, parent=tmp_root()) as draft_folder:
            changed, problems, _ = inspect_catalog(draft_folder)
            if problems:
                return Preview(dataset=dataset, problems=problems)
            same_rules = compiled_rules(changed).name == compiled_rules(live).name
            if evaluable_here(live, may_register=True) and evaluable_here(changed, may_register=same_rules):
                ds, table, diagnosis = _live_analysis(dataset)
                ds_after = ds if changed.pipeline == live.pipeline else load_dataset(folder, changed.pipeline)
                result = compare_catalogs(ds, live, changed, dataset.period, ds_after=ds_after, table=table,
                                          diagnosis=diagnosis)
                return Preview(dataset=dataset, whatif=result)
            result = run_isolated(compare_folders, str(folder), str(live.root), str(draft_folder), dataset.period)
            return Preview(dataset=dataset, whatif=result, in_child=True)
    except ProblemsError as err:                   # the dataset does not fit the draft's pipeline
        return Preview(dataset=dataset, problems=err.problems)
