"""What a change of the catalog would do to this month's diagnosis: `fairway catalog whatif`.

Two catalogs (the live one and a changed one: `--set` overrides, or a draft of the app)
diagnose the same dataset and period; the result lists every rep whose focus appears,
disappears or changes, and how many reps each behaviour gap is the focus of, before and
after. The metrics and benchmarks are computed once and used for both diagnoses where the
change does not touch what they read (the pipeline, the at-risk quantiles; the top
quantile and the industry figures for the benchmarks). A change of thresholds compiles to
the same ruleset (engine.rules.compile), so it registers nothing new in the rules engine.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..catalog.loader import load_catalog
from ..catalog.model import Catalog
from ..catalog.overrides import Override, apply_overrides
from ..dataset.model import Dataset
from ..metrics.benchmarks import compute_benchmarks
from ..metrics.compute import compute_metrics
from ..metrics.table import MetricTable
from .analysis import compiled_rules
from .diagnose import Diagnosis, RepDiagnosis, diagnose


@dataclass(frozen=True)
class FocusChange:
    rep_id: str
    name: str
    role: str
    team: str
    before: str | None          # the focus metric id, or None
    after: str | None
    before_gap: str | None      # the focus behaviour gap, or None
    after_gap: str | None


@dataclass(frozen=True)
class WhatIf:
    period: str
    changed: tuple[FocusChange, ...]
    unchanged: int
    focus: dict[str, tuple[int, int]] = field(default_factory=dict)      # behaviour gap -> reps (before, after)
    findings: dict[str, tuple[int, int]] = field(default_factory=dict)   # gap -> findings (before, after)
    metrics_reused: bool = True

    def to_dict(self) -> dict:
        """The JSON document: {"period", "changed": [{"rep_id", "name", "before", "after"}], "unchanged"}, and
        per behaviour gap the reps it is the focus of, per gap its findings, before and after."""
        return {"period": self.period,
                "changed": [{"rep_id": c.rep_id, "name": c.name, "before": c.before, "after": c.after,
                             "role": c.role, "team": c.team, "before_gap": c.before_gap, "after_gap": c.after_gap}
                            for c in self.changed],
                "unchanged": self.unchanged,
                "focus": {g: {"before": b, "after": a} for g, (b, a) in self.focus.items()},
                "findings": {g: {"before": b, "after": a} for g, (b, a) in self.findings.items()}}

    def transitions(self) -> list[tuple[str | None, str | None, int]]:
        """(gap before, gap after, reps) of the changes, most reps first: the preview without names."""
        counts = Counter((c.before_gap, c.after_gap) for c in self.changed)
        return sorted(((b, a, n) for (b, a), n in counts.items()), key=lambda t: (-t[2], str(t[0]), str(t[1])))


def _focus(rep: RepDiagnosis) -> tuple[str | None, str | None]:
    return (rep.focus.metric, rep.focus.behaviour_gap) if rep.focus else (None, None)


def compare_diagnoses(before: Diagnosis, after: Diagnosis, metrics_reused: bool = True) -> WhatIf:
    """The difference of two diagnoses of the same reps and period."""
    after_by_id = {r.rep_id: r for r in after.reps}
    changed, unchanged = [], 0
    focus: dict[str, list[int]] = {}
    findings: dict[str, list[int]] = {}
    for side, diag in ((0, before), (1, after)):
        for r in diag.reps:
            if r.left:
                continue
            if r.focus:
                focus.setdefault(r.focus.behaviour_gap, [0, 0])[side] += 1
            for f in r.findings:
                if f.level in ("performance", "behaviour"):
                    findings.setdefault(f.id, [0, 0])[side] += 1
    for r in before.reps:
        other = after_by_id.get(r.rep_id)
        if r.left or other is None:
            continue
        (m0, g0), (m1, g1) = _focus(r), _focus(other)
        if g0 == g1 and m0 == m1:
            unchanged += 1
            continue
        changed.append(FocusChange(rep_id=r.rep_id, name=r.name, role=r.role, team=r.team,
                                   before=m0, after=m1, before_gap=g0, after_gap=g1))
    return WhatIf(period=before.period, changed=tuple(changed), unchanged=unchanged,
                  focus={g: (v[0], v[1]) for g, v in sorted(focus.items())},
                  findings={g: (v[0], v[1]) for g, v in sorted(findings.items())}, metrics_reused=metrics_reused)


def reads_same_metrics(a: Catalog, b: Catalog) -> bool:
    """Whether two catalogs compute the same metric table from a dataset."""
    return a.pipeline == b.pipeline and a.thresholds.at_risk == b.thresholds.at_risk


def reads_same_benchmarks(a: Catalog, b: Catalog) -> bool:
    return (a.thresholds.top_quantile == b.thresholds.top_quantile
            and dict(a.thresholds.industry) == dict(b.thresholds.industry))


def compare_catalogs(ds: Dataset, before: Catalog, after: Catalog, period: str | None = None,
                     ds_after: Dataset | None = None, table: MetricTable | None = None,
                     diagnosis: Diagnosis | None = None) -> WhatIf:
    """Diagnose the dataset with both catalogs; what changes.

    `ds_after` is the dataset read against the changed catalog's pipeline, needed when the
    pipelines differ; `table` and `diagnosis`, the live catalog's, when the caller has them.
    """
    table = table or compute_metrics(ds, before.pipeline, before.thresholds, period)
    bench = compute_benchmarks(table, before.thresholds)
    diag_before = diagnosis or diagnose(table, bench, before, compiled_rules(before))
    reused = reads_same_metrics(before, after)
    if reused:
        table_after = table
    else:
        if before.pipeline != after.pipeline and ds_after is None:
            raise ValueError("the catalogs' pipelines differ: give the dataset read against the changed one")
        table_after = compute_metrics(ds_after or ds, after.pipeline, after.thresholds, table.period)
    bench_after = bench if reused and reads_same_benchmarks(before, after) else \
        compute_benchmarks(table_after, after.thresholds)
    diag_after = diagnose(table_after, bench_after, after, compiled_rules(after))
    return compare_diagnoses(diag_before, diag_after, metrics_reused=reused)


def whatif(ds: Dataset, catalog: Catalog, overrides: Iterable[Override], period: str | None = None) -> WhatIf:
    """The diagnosis with and without the overrides (`min_gap=0.2`, `gaps.demo_dropoff.min_gap=0.25`).

    OverrideError for a key that names no setting; CatalogError for a value the catalog refuses.
    """
    changed = apply_overrides(catalog, overrides)
    return compare_catalogs(ds, catalog, changed, period)


def compare_folders(dataset: str, before: str, after: str, period: str | None = None) -> WhatIf:
    """compare_catalogs on folders: for a child process (engine.isolation), which loads everything itself."""
    from ..dataset import load_dataset
    cat_before, cat_after = load_catalog(Path(before)), load_catalog(Path(after))
    ds = load_dataset(Path(dataset), cat_before.pipeline)
    ds_after = ds if cat_after.pipeline == cat_before.pipeline else load_dataset(Path(dataset), cat_after.pipeline)
    return compare_catalogs(ds, cat_before, cat_after, period, ds_after=ds_after)
