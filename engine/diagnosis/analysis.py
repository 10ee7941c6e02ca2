"""One analysis of a dataset for a period: metrics, benchmarks, trends, plans, diagnosis.

The CLI and the web app call this; the web app computes it once per import and keeps it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..metrics.benchmarks import compute_benchmarks
from ..catalog.model import Catalog
from ..catalog.specs import BenchmarkKind
from ..dataset.model import Dataset
from .diagnose import Diagnosis, diagnose
from ..metrics.compute import compute_metrics
from ..metrics.table import MetricTable
from ..rules.compile import Compiled, compile_catalog

_compiled: dict[str, Compiled] = {}
_KEEP_COMPILED = 8      # a long-running app sees many catalog versions (drafts, what-ifs)


def compiled_rules(catalog: Catalog) -> Compiled:
    """The catalog's ruleset, compiled once per catalog version (the last few kept)."""
    if catalog.version not in _compiled:
        while len(_compiled) >= _KEEP_COMPILED:
            _compiled.pop(next(iter(_compiled)))
        _compiled[catalog.version] = compile_catalog(catalog)
    return _compiled[catalog.version]


def evaluable_here(catalog: Catalog, may_register: bool) -> bool:
    """Whether this process may evaluate the catalog's rules: their ruleset is registered
    already, or (`may_register`: the catalog is or becomes the live one) there is room for it.
    A long-running process evaluates other catalogs in a child (engine.isolation)."""
    from ..rules import adapter
    name = compiled_rules(catalog).name
    return adapter.is_registered(name) or (may_register and adapter.can_evaluate(name))


@dataclass(frozen=True)
class Analysis:
    table: MetricTable
    benchmarks: dict[BenchmarkKind, pd.DataFrame]
    diagnosis: Diagnosis | None


def analyse(ds: Dataset, catalog: Catalog, period: str | None = None, with_diagnosis: bool = True) -> Analysis:
    table = compute_metrics(ds, catalog.pipeline, catalog.thresholds, period)
    bench = compute_benchmarks(table, catalog.thresholds)
    diagnosis = diagnose(table, bench, catalog, compiled_rules(catalog)) if with_diagnosis else None
    return Analysis(table=table, benchmarks=bench, diagnosis=diagnosis)
