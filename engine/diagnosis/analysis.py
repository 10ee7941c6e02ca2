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


def compiled_rules(catalog: Catalog) -> Compiled:
    """The catalog's ruleset, compiled once per catalog version."""
    if catalog.version not in _compiled:
        _compiled[catalog.version] = compile_catalog(catalog)
    return _compiled[catalog.version]


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
