"""The import report: what an import read, kept, left out and why, what it could not map,
and what the data holds (or lacks), so that nobody reads missing data as zero.

Printed by `fairway import` (and `--dry-run`), shown by the web import, and as JSON.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..aggregation.backend import quote_ident

if TYPE_CHECKING:
    from ..catalog.model import Catalog
    from ..dataset.model import Coverage, Dataset

MAX_UNMAPPED = 25           # distinct unmapped values listed per column


@dataclass
class PartCounts:
    """One part of a mapping over its files: rows read, rows it gave, rows left out and why."""

    label: str                                      # the part's key in the mapping: activities[1]
    files: list[str] = field(default_factory=list)
    read: int = 0
    dropped: Counter = field(default_factory=Counter)

    @property
    def kept(self) -> int:
        return self.read - sum(self.dropped.values())

    def drop(self, reason: str, n: int) -> None:
        self.dropped[reason] += n

    def to_dict(self) -> dict:
        return {"part": self.label, "files": list(self.files), "read": self.read, "kept": self.kept,
                "dropped": dict(self.dropped.most_common())}


@dataclass
class TableCounts:
    kept: int = 0                                   # rows of the dataset table
    parts: list[PartCounts] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)    # left out once the parts are joined (duplicates...)
    repaired: Counter = field(default_factory=Counter)   # what was changed -> rows

    def part(self, label: str) -> PartCounts:
        for p in self.parts:
            if p.label == label:
                return p
        self.parts.append(PartCounts(label))
        return self.parts[-1]

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(f for p in self.parts for f in p.files))

    @property
    def read(self) -> int:
        return sum(p.read for p in self.parts)

    def drop(self, reason: str, n: int) -> None:
        self.dropped[reason] += n

    def repair(self, what: str, n: int) -> None:
        self.repaired[what] += n

    def to_dict(self) -> dict:
        return {"kept": self.kept, "parts": [p.to_dict() for p in self.parts],
                "dropped": dict(self.dropped.most_common()), "repaired": dict(self.repaired)}


@dataclass
class Unmapped:
    table: str
    column: str
    source: str
    value: str
    rows: int
    became: str                 # error, kept as is, dropped, or the constant used

    def to_dict(self) -> dict:
        return {"table": self.table, "column": self.column, "source": self.source, "value": self.value,
                "rows": self.rows, "became": self.became}


# what each kind of data feeds, to say what its absence disables
COVERAGE = (
    ("stage_history", "stage history", ("days_in_stage", "at_risk.stalled_share")),
    ("activities", "activities", ("activity", "efficiency", "talk_minutes", "at_risk.effort_share")),
    ("talk_time", "call durations (talk time)", ("talk_minutes",)),
    ("loss_reasons", "loss reasons", ("loss_share",)),
    ("amounts", "amounts of won deals", ("revenue", "avg_deal_size", "pipeline_value", "pipeline_coverage")),
    ("expected_close", "expected close dates of open deals", ("pipeline_value", "pipeline_coverage")),
    ("lost_stages", "the stage lost deals reached", ("stage_conversion",)),
    ("sourced_by", "who sourced each opportunity (sourced-by)", ("opportunities_created",)),
)


@dataclass
class ImportReport:
    mapping: str = ""
    timezone: str = "UTC"
    tables: dict[str, TableCounts] = field(default_factory=dict)
    unmapped: list[Unmapped] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dataset: "Dataset | None" = None

    def table(self, stem: str) -> TableCounts:
        return self.tables.setdefault(stem, TableCounts())

    def note_unmapped(self, backend, stem: str, table: str, values: dict, part) -> None:
        """Every value a map had no entry for, with its count, whatever became of it."""
        for target, v in values.items():
            if v.unmapped is None:
                continue
            rule = part.columns[target]
            how = rule.unmapped
            became = {"error": "refused", "keep": "kept as is", "drop": "row left out",
                      "blank": "left empty"}.get(how, f"read as {how!r}")
            rows = backend.rows(f"SELECT {quote_ident('__raw_' + target)}, count(*) FROM {table} "
                                f"WHERE {quote_ident('__unm_' + target)} AND _skip IS NULL "
                                f"AND (_drop IS NULL OR _drop LIKE 'unmapped %') GROUP BY 1 "
                                f"ORDER BY 2 DESC, 1 LIMIT {MAX_UNMAPPED}")
            for value, n in rows:
                self.unmapped.append(Unmapped(stem, target, v.source, str(value), int(n), became))

    def note_unknown_words(self, backend, stem: str, table: str, means: list) -> None:
        """Values a condition looked up in a vocabulary (`means`) that it does not know: a call
        outcome no vocabulary names counts as no connect, and is listed here."""
        for j, (vocabulary, _, column) in enumerate(means):
            rows = backend.rows(f"SELECT {quote_ident(f'__means_{j}')}, count(*) FROM {table} "
                                f"WHERE {quote_ident(f'__means_{j}')} IS NOT NULL AND _skip IS NULL AND _drop IS NULL "
                                f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {MAX_UNMAPPED}")
            for value, n in rows:
                self.unmapped.append(Unmapped(stem, f"({vocabulary})", column, str(value), int(n),
                                              f"not in the {vocabulary} vocabulary: counts as none"))

    # ------------------------------------------------------------------ coverage
    def coverage(self, catalog: "Catalog | None" = None) -> list[dict]:
        """Per kind of data: present or not, and the metrics (and gaps) its absence disables."""
        if self.dataset is None:
            return []
        return coverage_rows(self.dataset.coverage, self.dataset.activity_types, catalog)

    def summary(self) -> dict:
        ds = self.dataset
        out = {"rows": {stem: c.kept for stem, c in self.tables.items()}}
        if ds is not None:
            out["dates"] = {"first": _day(ds.first_date), "last": _day(ds.last_date), "as_of": _day(ds.as_of)}
            out["reps_by_role"] = {str(k): int(v) for k, v in ds.reps["role"].value_counts().sort_index().items()}
            out["warnings"] = list(ds.warnings)
        return out

    def to_dict(self, catalog: "Catalog | None" = None) -> dict:
        return {"mapping": self.mapping, "timezone": self.timezone,
                "tables": {stem: c.to_dict() for stem, c in self.tables.items()},
                "added": dict(self.added), "skipped": list(self.skipped), "notes": list(self.notes),
                "unmapped": [u.to_dict() for u in self.unmapped],
                "coverage": self.coverage(catalog), **self.summary()}

    def text(self, catalog: "Catalog | None" = None) -> str:
        """The report as a person reads it."""
        s = self.summary()
        lines = []
        lines.append("Tables: rows read from the exports -> rows kept, by part of the mapping")
        for stem, c in self.tables.items():
            lines.append(f"  {stem}: {c.kept:,} rows")
            for p in c.parts:
                lines.append(f"    {p.label:<18} {p.read:>9,} -> {p.kept:>9,}  from {', '.join(p.files)}")
                for reason, n in p.dropped.most_common():
                    lines.append(f"    {'':<18} {n:>9,} left out: {reason}")
            for reason, n in c.dropped.most_common():
                lines.append(f"    {'':<18} {n:>9,} left out: {reason}")
            for what, n in c.repaired.items():
                lines.append(f"    {'':<18} {n:>9,} repaired: {what}")
        for kind, n in self.added.items():
            lines.append(f"  added {n:,} {kind} rows beside their source rows")
        for note in self.skipped:
            lines.append(f"  skipped: {note}")
        if "dates" in s:
            d = s["dates"]
            lines.append(f"Dates: {d['first']} to {d['last']}; the last day of done work (as of): {d['as_of']}")
            lines.append("Reps by role: " + ", ".join(f"{n} {r}" for r, n in s["reps_by_role"].items()))
        if self.unmapped:
            lines.append("Values with no entry in a map (add them to an overlay, or to the mapping):")
            for u in self.unmapped:
                lines.append(f"  {u.table}.{u.column} <- {u.source}: {u.value!r} ({u.rows:,} rows, {u.became})")
        cov = self.coverage(catalog)
        if cov:
            lines.append("Data coverage (missing data is 'not in the data', never zero):")
            for row in cov:
                mark = "yes" if row["present"] else "NO "
                what = ""
                if not row["present"] and row["disables"]:
                    what = " -> not measured: " + ", ".join(row["disables"][:8]) + \
                        (" ..." if len(row["disables"]) > 8 else "")
                    if row["gaps"]:
                        what += "; gaps off: " + ", ".join(row["gaps"])
                lines.append(f"  {mark} {row['data']}{what}")
        for note in self.notes:
            lines.append(f"Note: {note}")
        for w in s.get("warnings", []):
            lines.append(f"Warning: {w}")
        return "\n".join(lines)


def coverage_rows(cov: "Coverage", activity_types, catalog: "Catalog | None" = None) -> list[dict]:
    """What a dataset holds, kind by kind, and the metrics and gaps each missing kind disables:
    the import report's coverage table, and the web's for a dataset in fairway's own format."""
    registry = catalog.registry if catalog is not None else None
    rows = []
    for key, title, families in COVERAGE:
        present = bool(getattr(cov, key))
        disabled: list[str] = []
        gaps: list[str] = []
        if not present and registry is not None:
            disabled = [d.id for d in registry if d.id in families or d.family in families]
            gaps = sorted(g.id for g in catalog.gaps.values() if g.metric in disabled)
        rows.append({"data": title, "present": present, "disables": disabled, "gaps": gaps})
    for t in sorted(set(activity_types) - set(cov.activity_types)) if cov.activities else []:
        metrics = [d.id for d in registry if t in d.params] if registry is not None else []
        gaps = sorted(g.id for g in catalog.gaps.values() if g.metric in metrics) if catalog else []
        rows.append({"data": f"{t.replace('_', ' ')} activities", "present": False, "disables": metrics,
                     "gaps": gaps})
    rows.append({"data": "goals", "present": bool(cov.goals), "disables": [] if cov.goals else ["plan"],
                 "gaps": []})
    return rows


def _day(ts) -> str | None:
    return None if ts is None else ts.date().isoformat()
