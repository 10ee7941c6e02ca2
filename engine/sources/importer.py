"""Import a folder of CRM exports into a dataset folder, as a mapping says: all or nothing.

The exports are read by the analytical engine (engine.aggregation.backend) as text; each
part of the mapping becomes SQL (engine.sources.compile); tables are built in the order
their references need (reps, opportunities, stage history, activities, goals), each row
with its provenance (file and row of the export). What real exports hold and a dataset
may not is repaired or left out, and counted in the import report: rows deleted in the
CRM, rows a `where` leaves out, users who are not reps and the rows that point at them, a
task on an account rather than a deal, history rows of deleted deals, a close date before
creation, stage history after a deal closed.

Every problem of the source (a missing file or column, a value the mapping cannot read)
is collected with the export's file, row, column and value, and raised at once as
MappingError. The result is written into a temporary folder beside `out`, validated by
`load_dataset` (a refusal names the export's rows too) and only then renamed to `out`.
"""
from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..aggregation.backend import Backend, CSVReadError, file_rows, make_backend, quote_ident, quote_text
from ..catalog.specs import Pipeline
from ..dataset.contract import FILES, FileSpec, Kind
from ..dataset.reader import unreadable
from ..dataset.validate import load_dataset
from ..errors import DatasetError, MappingError, Problem, did_you_mean
from .compile import Bad, PartSQL, Value, name_key
from .exports import ExportFile, Exports
from ..yamlspec.parse import dotted as dotted_key
from .mapping import ActivitiesPart, Lookup, Mapping, Part, shipped_mappings
from .report import ImportReport, TableCounts

Progress = Callable[[str], None]
MAX_SHOWN = 10                       # distinct bad values listed per column and file
REF_REASONS = {"rep_id": "its rep is not a kept rep (a manager, another user, or a user not exported)",
               "source_rep_id": "sourced by someone who is not a kept rep",
               "opportunity_id": "its opportunity is not kept (deleted, or left out)"}


def import_dataset(source: Path | str, mapping: Mapping, out: Path | str, pipeline: Pipeline,
                   progress: Progress | None = None, dry_run: bool = False, engine: str | None = None
                   ) -> ImportReport:
    """Import the exports in `source` into a new dataset folder `out`; return the report.

    With `dry_run`, everything is done and checked, and nothing is written.
    """
    source, out = Path(source), Path(out)
    say = progress or (lambda _msg: None)
    _check_paths(source, out, dry_run)
    backend = make_backend(engine)
    try:
        run = Run(source, mapping, pipeline, backend, say)
        try:
            run.build()
        except CSVReadError as err:      # a large export, read as it is queried, that the reader gave up on
            raise MappingError(run.problems + run.exports.problems + [unreadable_export(source, err)]) from None
        if run.problems:
            raise MappingError(run.problems)
        say("validating the result")
        run.report.dataset = _publish(run, out, pipeline, progress, dry_run)
        say("import done")
        return run.report
    finally:
        backend.close()


RESULT = "the imported dataset"     # how problems of the whole result are named


def unreadable_export(source: Path, err: CSVReadError) -> Problem:
    """The problem of an export file the CSV reader gave up on, named as in the folder."""
    path = Path(err.path) if err.path else None
    try:
        name = path.resolve().relative_to(source.resolve()).as_posix() if path else str(source)
    except (OSError, ValueError):
        name = path.name
    return unreadable(name, err, path if path and path.exists() else None)


def _check_paths(source: Path, out: Path, dry_run: bool) -> None:
    """The source must be a folder; `out` must be new or empty, so nothing is overwritten."""
    if not source.is_dir():
        raise MappingError([Problem(file=str(source), message="not a folder",
                                    expected="a folder of export files")])
    if not dry_run and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MappingError([Problem(file=str(out), message="exists and is not an empty folder",
                                    expected="a new or empty folder")])


def _publish(run: "Run", out: Path, pipeline: Pipeline, progress, dry_run: bool):
    """Write into a temporary folder beside `out`, validate it, then rename it to `out`."""
    parent = out.parent if not dry_run else Path(run.b._tmp.name) if hasattr(run.b, "_tmp") else out.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{out.name}-{secrets.token_hex(4)}.importing"
    tmp.mkdir()
    try:
        run.write(tmp)
        try:
            dataset = load_dataset(tmp, pipeline, progress)
        except DatasetError as err:
            raise DatasetError(run.explain(err.problems, folder=tmp)) from None
        if not dry_run:
            if out.exists():
                out.rmdir()          # empty (checked first): a folder cannot be renamed onto it
            tmp.rename(out)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dataset


@dataclass
class Built:
    """A target table in the engine: `imp_<stem>`, with _file, _i (provenance) and _seq (order)."""

    table: str
    columns: list[str]
    sources: dict[str, str] = field(default_factory=dict)   # target column -> source column(s)


class Run:
    """One import: builds each table from its parts, collecting every problem."""

    def __init__(self, source: Path, mapping: Mapping, pipeline: Pipeline, backend: Backend, say: Progress):
        self.source = source
        self.mapping = mapping
        self.p = pipeline
        self.b = backend
        self.say = say
        self.exports = Exports(source, backend)
        self.problems: list[Problem] = []
        self.report = ImportReport(mapping=mapping.description, timezone=mapping.timezone)
        self.rep_keys: str | None = None
        self.opp_keys: str | None = None
        self.built: dict[str, Built] = {}
        self.files: dict[str, ExportFile] = {}        # display name -> file (for provenance)
        self._lookups: dict[tuple, str | None] = {}
        self.reported: set = set()                    # missing columns already reported

    # ------------------------------------------------------------------ the whole import
    def build(self) -> None:
        self.detect()
        for spec in FILES:
            parts = getattr(self.mapping, spec.stem)
            if not parts:
                continue
            self.say(f"building {spec.stem}")
            tables = []
            for i, part in enumerate(parts):
                tables += self.part(spec, i, part)
            counts = self.report.table(spec.stem)
            if not tables:
                continue
            self.union(spec, tables)
            getattr(self, f"_after_{spec.stem}", lambda s: None)(spec)
            counts.kept = int(self.b.scalar(f"SELECT count(*) FROM imp_{spec.stem}"))
        self.problems += self.exports.problems

    def detect(self) -> None:
        """Settings read from the export (the org's time zone, say), unless an overlay gave them."""
        found = {}
        for name, d in self.mapping.detect.items():
            if name in self.mapping._overlaid:
                continue
            for path in self.exports.match(d.files):
                f = self.exports.open(path)
                column = f.column(d.column) if f is not None else None
                if column is None:
                    continue
                value = self.b.scalar(f"SELECT {quote_ident(column)} FROM {f.view} WHERE {quote_ident(column)} "
                                      f"IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
                if value is not None:
                    found[name] = str(value)
                    break
        if found:
            if "timezone" in found:
                try:
                    self.b.scalar(f"SELECT timezone({quote_text(found['timezone'])}, TIMESTAMPTZ '2026-01-01 00:00:00+00')")
                except Exception:       # noqa: BLE001 - a zone the engine does not know is not used
                    self.report.notes.append(f"time zone {found.pop('timezone')!r} of the export is unknown: dates are read in UTC")
            settings = {**self.mapping.settings, **found}
            mapping = self.mapping.model_copy(update={"settings": settings})
            mapping._doc, mapping._overlay, mapping._overlaid = self.mapping._doc, self.mapping._overlay, self.mapping._overlaid
            self.mapping = mapping
            self.report.timezone = mapping.timezone
            for name, value in found.items():
                self.report.notes.append(f"{name} read from the export: {value} (an overlay can set it)")

    def part(self, spec: FileSpec, index: int, part: Part) -> list[str]:
        """The tables (one per file) of one part, each row with its reason to be left out."""
        where = self.mapping.locate(spec.stem, index, "files")
        if part.only_without and self.exports.match(part.only_without):
            self.report.skipped.append(f"{where}: {', '.join(part.files)} not read, as "
                                       f"{', '.join(p.name for p in self.exports.match(part.only_without))} is there")
            return []
        if part.requires and not self.exports.match(part.requires):
            self.report.skipped.append(f"{where}: {', '.join(part.files)} not read, as no "
                                       f"{', '.join(part.requires)} is there")
            return []
        paths = self.exports.match(part.files)
        if not paths:
            if part.optional:
                self.report.skipped.append(f"{where}: no file matches {', '.join(part.files)} (optional)")
            else:
                self.problems.append(self._no_file(part, where))
            return []
        out = []
        for path in paths:
            f = self.exports.open(path, part.encoding, part.delimiter)
            if f is None:
                continue
            self.files[f.name] = f
            self.say(f"reading {f.name}")
            table = self.compile(spec, index, part, f)
            if table is not None:
                out.append(table)
        return out

    def _no_file(self, part: Part, where: str) -> Problem:
        hint = ""
        others = [n for n, p in shipped_mappings().items()
                  if n != self.mapping.description and self._looks_like(p)]
        if others:
            hint = f"; these files look like the shape of the shipped mapping {others[0]!r} (--mapping {others[0]})"
        return Problem(file=", ".join(part.files), message=f"no file in {self.source} matches",
                       expected=f"an export file named as {where} says; the folder holds "
                                f"{self.exports.listing()}{hint}")

    def _looks_like(self, path: Path) -> bool:
        """Whether the required files of another shipped mapping are all here (for a hint)."""
        from .mapping import load_mapping
        try:
            other = load_mapping(path)
        except MappingError:
            return False
        if other.description == self.mapping.description:
            return False
        needed = [part.files for part in other.reps + other.opportunities if not part.optional]
        return bool(needed) and all(self.exports.match(files) for files in needed)

    # ------------------------------------------------------------------ one part over one file
    def compile(self, spec: FileSpec, index: int, part: Part, f: ExportFile) -> str | None:
        path = self.mapping.key(spec.stem, index)
        c = PartSQL(self, spec.stem, index, part, f, path)
        before = len(self.problems)
        for name, rule in part.fields.items():
            v = c.rule(rule, name, Kind.text, path + ("fields", name), resolve_refs=False)
            c.fields[name] = v.sql
        skips: list[tuple[str, str]] = []
        if part.deleted:
            flags = [c.col([n], True, path + ("deleted",)) for n in part.deleted]
            present = [x for x in flags if not x.startswith("CAST(NULL")]
            if present:
                skips.append(("(" + " OR ".join(f"coalesce(lower({x}) IN ('true', '1', 'yes', 't'), false)"
                                                  for x in present) + ")", "deleted in the CRM"))
        for j, cond in enumerate(part.where):
            skips.append((f"NOT coalesce({c.condition(cond, path + ('where', j))}, false)", "left out by where"))
        adds = []
        if isinstance(part, ActivitiesPart):
            for j, add in enumerate(part.add_rows):
                adds.append((add.type, c.condition(add.when, path + ("add_rows", j, "when"))))
        if len(self.problems) > before:
            return None          # which rows to read is unknown: the rules' problems would mislead
        values: dict[str, Value] = {}
        for target, rule in part.columns.items():
            col = spec.column(target)
            if col is None:
                continue
            values[target] = c.rule(rule, target, col.kind, path + ("columns", target))
        label = dotted_key(self.mapping.key(spec.stem, index))
        counts = self.report.table(spec.stem).part(label)
        name = f"p_{spec.stem}_{index}_{len(counts.files)}"
        skip = "CASE " + "".join(f"WHEN {cond} THEN {quote_text(reason)} " for cond, reason in skips) + "END" \
            if skips else "CAST(NULL AS VARCHAR)"
        drops = []
        for target, v in values.items():
            for cond, reason in v.drops:
                drops.append((cond, reason if reason != "unmapped" else f"unmapped {target} ({v.source})"))
            if v.orphan:
                policy = part.columns[target].orphans or ("drop" if spec.column(target).required else "blank")
                if policy == "drop":
                    drops.append((v.orphan, REF_REASONS[target]))
            if target in REF_REASONS and spec.column(target).required and part.columns[target].if_empty != "drop":
                drops.append((f"({v.sql} IS NULL)", f"no {target} ({v.source or 'empty'})"))
        drop = "CASE " + "".join(f"WHEN coalesce({cond}, false) THEN {quote_text(reason)} "
                                 for cond, reason in drops) + "END" if drops else "CAST(NULL AS VARCHAR)"
        select = [f"{quote_text(f.name)} AS _file", "s._i AS _i", f"{skip} AS _skip", f"{drop} AS _drop"]
        for target, v in values.items():
            select.append(f"{v.sql} AS {quote_ident(target)}")
            if v.raw is not None:
                select.append(f"{v.raw} AS {quote_ident('__raw_' + target)}")
            if v.unmapped is not None:
                select.append(f"coalesce({v.unmapped}, false) AS {quote_ident('__unm_' + target)}")
            if v.orphan is not None:
                select.append(f"coalesce({v.orphan}, false) AS {quote_ident('__orph_' + target)}")
            if v.ambiguous is not None:
                select.append(f"coalesce({v.ambiguous}, false) AS {quote_ident('__amb_' + target)}")
            for k, bad in enumerate(v.bad):
                select.append(f"coalesce({bad.flag}, false) AS {quote_ident(f'__bad_{target}_{k}')}")
                select.append(f"CAST({bad.value} AS VARCHAR) AS {quote_ident(f'__badv_{target}_{k}')}")
        for j, (_, cond) in enumerate(adds):
            select.append(f"coalesce({cond}, false) AS {quote_ident(f'__add_{j}')}")
        means = list(dict.fromkeys(c.means))
        for j, (_, sql, _) in enumerate(means):
            select.append(f"{sql} AS {quote_ident(f'__means_{j}')}")
        try:
            self.b.table(name, f"SELECT {', '.join(select)} FROM {self.b.numbered(f.view)} AS s {' '.join(c.joins)}")
        except CSVReadError as err:  # the export, read as it is queried, that the reader gave up on
            self.problems.append(unreadable_export(self.source, err))
            return None
        except Exception as exc:     # noqa: BLE001 - a pattern from a $setting the engine refuses, say
            self.problems.append(self.mapping.problem(spec.stem, index, message=
                                                      f"the part cannot be run over {f.name}: "
                                                      f"{str(exc).splitlines()[0][:300]}"))
            return None
        counts.files.append(f.name)
        rejects = self.exports.rejects(f)
        self._malformed(f, part, rejects)
        self._source_problems(spec, index, part, name, f, values, rejects)
        counts.read += int(self.b.scalar(f"SELECT count(*) FROM {name}"))
        for reason, n in self.b.rows(f"SELECT coalesce(_skip, _drop), count(*) FROM {name} "
                                     f"WHERE _skip IS NOT NULL OR _drop IS NOT NULL GROUP BY 1"):
            counts.drop(reason, int(n))
        self.report.note_unmapped(self.b, spec.stem, name, values, part)
        self.report.note_unknown_words(self.b, spec.stem, name, means)
        for j, (kind, _) in enumerate(adds):
            n = int(self.b.scalar(f"SELECT count(*) FROM {name} WHERE __add_{j} AND _skip IS NULL AND _drop IS NULL"))
            self.report.added[kind] = self.report.added.get(kind, 0) + n
        self._parts_meta.setdefault(spec.stem, []).append((name, values, adds))
        return name

    @property
    def _parts_meta(self) -> dict:
        if not hasattr(self, "_meta"):
            self._meta: dict = {}
        return self._meta

    def _malformed(self, f: ExportFile, part: Part, rejects) -> None:
        """Rows the CSV reader could not split: problems, unless a report footer the part skips."""
        if not rejects:
            return
        last_kept = self.b.scalar(f"SELECT count(*) FROM {f.view}")
        rows = sorted(r.row for r in rejects if r.row is not None)
        footer = part.skip_footer and rows and rows[0] > int(last_kept) + 1
        if footer:
            return
        for r in rejects[:MAX_SHOWN]:
            self.problems.append(Problem(
                file=f.name, row=r.row, value=r.text[:80],
                message="a row that cannot be read: " + (
                    "its number of values differs from the header's" if "columns" in r.kind
                    else "a quote never closed" if r.kind == "unterminated_quote"
                    else f"bytes not valid in {f.encoding} (set `encoding:` in the mapping's part)"
                    if r.kind == "encoding" else r.message),
                expected="one value per column (skip_footer: true ignores a report footer after the last row)"))
        if len(rejects) > MAX_SHOWN:
            self.problems.append(Problem(file=f.name, message=f"... and {len(rejects) - MAX_SHOWN:,} more such rows"))

    def _source_problems(self, spec: FileSpec, index: int, part: Part, table: str, f: ExportFile,
                         values: dict[str, Value], rejects) -> None:
        """Values that cannot be read, maps without an entry (unmapped: error), ambiguous names,
        parents not kept (orphans: error): one problem per distinct value, with its first row."""
        live = "_skip IS NULL"
        for target, v in values.items():
            rule = part.columns[target]
            for k, bad in enumerate(v.bad):
                self._report_values(table, f, rejects, f"__bad_{target}_{k} AND {live}", f"__badv_{target}_{k}",
                                    bad.column or v.source, bad.message, bad.expected)
            if v.unmapped is not None and v.unmapped_policy == "error":
                where = self.mapping.locate(spec.stem, index, "columns", target, "map")
                choices = list(self.mapping.vocabulary(rule.map).map) if isinstance(rule.map, str) else list(rule.map or {})
                self._report_values(table, f, rejects, f"__unm_{target} AND {live}", f"__raw_{target}", v.source,
                                    "value not in the map", f"a key of the map at {where} (or set unmapped)",
                                    choices)
            if v.ambiguous is not None:
                self._report_values(table, f, rejects, f"__amb_{target} AND {live}", f"__raw_{target}", v.source,
                                    f"two or more reps have this {rule.rep_by.value if rule.rep_by else 'id'}",
                                    "a name given to one rep only in the reps table, or rep_by: email")
            if v.orphan is not None and rule.orphans == "error":
                self._report_values(table, f, rejects, f"__orph_{target} AND {live}", f"__raw_{target}", v.source,
                                    f"no kept {'opportunity' if target == 'opportunity_id' else 'rep'} with this id",
                                    "an id of a row the import keeps (or orphans: drop / blank)")

    def _report_values(self, table: str, f: ExportFile, rejects, where: str, value: str, column: str,
                       message: str, expected: str, choices: list[str] | None = None) -> None:
        rows = self.b.rows(f"SELECT {quote_ident(value)}, min(_i), count(*) FROM {table} WHERE {where} "
                           f"GROUP BY 1 ORDER BY 2 LIMIT {MAX_SHOWN + 1}")
        if not rows:
            return
        total = int(self.b.scalar(f"SELECT count(DISTINCT {quote_ident(value)}) FROM {table} WHERE {where}"))
        numbers = file_rows(np.array([r[1] for r in rows], dtype=np.int64), rejects)
        for (val, _, n), row in list(zip(rows, numbers))[:MAX_SHOWN]:
            self.problems.append(Problem(
                file=f.name, row=int(row), column=column, value=val,
                message=message + (f" ({n:,} rows; the first is shown)" if n > 1 else ""), expected=expected,
                suggestion=did_you_mean(val, choices) if choices and val is not None else None))
        if total > MAX_SHOWN:
            self.problems.append(Problem(file=f.name, column=column,
                                         message=f"... and {total - MAX_SHOWN:,} more distinct values with the same problem"))

    # ------------------------------------------------------------------ lookups
    def lookup_table(self, lk: Lookup, path: tuple, stem: str, index: int, optional: bool = False) -> str | None:
        """A table (key, value) for a lookup: one row per key (the first, or as `pick` says)."""
        key = (tuple(lk.files), tuple(lk.match), lk.take.model_dump_json(), tuple(c.model_dump_json() for c in lk.where),
               tuple(lk.deleted or ()), lk.pick.model_dump_json() if lk.pick else "")
        if key in self._lookups:
            return self._lookups[key]
        paths = self.exports.match(lk.files)
        if not paths and optional:
            self._lookups[key] = None
            return None
        if not paths:
            self.problems.append(Problem(file=", ".join(lk.files), message=f"no file in {self.source} matches",
                                         expected=f"the file a lookup reads ({self.mapping.locate(stem, index)}); "
                                                  f"the folder holds {self.exports.listing()}"))
            self._lookups[key] = None
            return None
        selects = []
        for path_ in paths:
            f = self.exports.open(path_)
            if f is None:
                continue
            c = PartSQL(self, stem, index, None, f, path)
            match = c.col(lk.match, False, path + ("match",))
            take = c.rule(lk.take, "lookup", Kind.text, path + ("take",), resolve_refs=False)
            conds = [c.condition(w, path + ("where", j)) for j, w in enumerate(lk.where)]
            for n in lk.deleted or ():
                x = c.col([n], True, path + ("deleted",))
                if not x.startswith("CAST(NULL"):
                    conds.append(f"NOT coalesce(lower({x}) IN ('true', '1', 'yes', 't'), false)")
            by = "CAST(NULL AS VARCHAR)"
            if lk.pick is not None:
                by = c.col(lk.pick.first_by or lk.pick.last_by, False, path + ("pick",))
            selects.append(f"SELECT {match} AS key, {take.sql} AS value, {by} AS _o, s._i AS _i, "
                           f"{len(selects)} AS _f FROM {self.b.numbered(f.view)} AS s {' '.join(c.joins)} "
                           f"WHERE {match} IS NOT NULL" + "".join(f" AND {x}" for x in conds))
        if not selects:
            self._lookups[key] = None
            return None
        name = f"lk_{len(self._lookups)}"
        desc = lk.pick is not None and lk.pick.last_by is not None
        self.b.table(name, f"SELECT key, value FROM (SELECT key, value, row_number() OVER (PARTITION BY key ORDER BY "
                           f"_o {'DESC' if desc else 'ASC'} NULLS LAST, _f, _i) AS k FROM ({' UNION ALL '.join(selects)})) "
                           f"WHERE k = 1")
        self._lookups[key] = name
        return name

    # ------------------------------------------------------------------ tables
    def union(self, spec: FileSpec, tables: list[str]) -> None:
        """imp_<stem>: the kept rows of every part, in order; added activity rows beside their source."""
        columns = [c.name for c in spec.columns if any(c.name in v for _, v, _ in self._parts_meta[spec.stem])]
        selects = []
        for k, (table, values, adds) in enumerate(self._parts_meta[spec.stem]):
            cols = [quote_ident(c) if c in values else f"CAST(NULL AS VARCHAR) AS {quote_ident(c)}" for c in columns]
            base = f"FROM {table} WHERE _skip IS NULL AND _drop IS NULL"
            selects.append(f"SELECT _file, _i, {k} AS _part, 0 AS _add, {', '.join(cols)} {base}")
            for j, (kind, _) in enumerate(adds):
                extra = []
                for c in columns:
                    if c == "type":
                        extra.append(f"{quote_text(kind)} AS type")
                    elif c == "duration_minutes":
                        extra.append("CAST(NULL AS VARCHAR) AS duration_minutes")   # talk time counts once
                    elif c == "activity_id":
                        extra.append(f"activity_id || {quote_text('-' + kind)} AS activity_id")
                    else:
                        extra.append(quote_ident(c) if c in values else f"CAST(NULL AS VARCHAR) AS {quote_ident(c)}")
                selects.append(f"SELECT _file, _i, {k} AS _part, {j + 1} AS _add, {', '.join(extra)} {base} AND __add_{j}")
        self.b.table(f"imp_{spec.stem}", f"SELECT * FROM ({' UNION ALL '.join(selects)}) ORDER BY _part, _file, _i, _add")
        self.built[spec.stem] = Built(f"imp_{spec.stem}", columns)
        key = spec.key if spec.key in columns else None
        if key:
            self._dedupe(spec.stem, [key], "a second row with the same id")

    def _dedupe(self, stem: str, keys: list[str], reason: str) -> None:
        table = f"imp_{stem}"
        cols = ", ".join(quote_ident(k) for k in keys)
        n = int(self.b.scalar(f"SELECT count(*) - count(DISTINCT ({cols})) FROM {table} WHERE "
                              + " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in keys)))
        if n:
            self.b.table(table, f"SELECT * FROM {table} QUALIFY row_number() OVER (PARTITION BY {cols} "
                                f"ORDER BY _part, _file, _i, _add) = 1 OR ({' OR '.join(quote_ident(k) + ' IS NULL' for k in keys)}) "
                                f"ORDER BY _part, _file, _i, _add")
            self.report.table(stem).drop(reason, n)

    def _after_reps(self, spec: FileSpec) -> None:
        """The keys other tables find reps by: id, name and email (a name two reps share is ambiguous)."""
        cols = self.built["reps"].columns
        parts = ["SELECT 'id' AS kind, rep_id AS key, rep_id, role FROM imp_reps WHERE rep_id IS NOT NULL"]
        if "name" in cols:
            parts.append(f"SELECT 'name', {name_key('name')}, rep_id, role FROM imp_reps WHERE name IS NOT NULL")
        if "email" in cols:
            parts.append(f"SELECT 'email', {name_key('email')}, rep_id, role FROM imp_reps WHERE email IS NOT NULL")
        self.b.table("rep_keys", f"SELECT kind, key, any_value(rep_id) AS rep_id, any_value(role) AS role, "
                                 f"count(*) AS n FROM ({' UNION ALL '.join(parts)}) GROUP BY kind, key")
        self.rep_keys = "rep_keys"

    def _after_opportunities(self, spec: FileSpec) -> None:
        """Repairs (a close before creation); the keys of the kept opportunities."""
        cols = self.built["opportunities"].columns
        if "close_date" in cols:
            n = int(self.b.scalar("SELECT count(*) FROM imp_opportunities WHERE close_date < created_date"))
            if n:
                self.b.execute("UPDATE imp_opportunities SET close_date = created_date WHERE close_date < created_date")
                self.report.table("opportunities").repair("close date before creation: set to the creation date", n)
        self.b.table("opp_keys", "SELECT DISTINCT opportunity_id FROM imp_opportunities WHERE opportunity_id IS NOT NULL")
        self.opp_keys = "opp_keys"

    def _after_stage_history(self, spec: FileSpec) -> None:
        """Stage history a dataset can take: dated within the deal's life, the won stage last and
        only for won deals; the furthest stage of lost deals derived where the mapping asks."""
        if "opportunities" not in self.built:
            return               # the opportunities could not be built: their problems say why
        counts = self.report.table("stage_history")
        won = quote_text(self.p.won_stage)
        o = "imp_opportunities"
        has_close = "close_date" in self.built["opportunities"].columns
        close = "o.close_date" if has_close else "CAST(NULL AS VARCHAR)"
        self.b.table("imp_stage_history", f"""
            SELECT h.*, o.created_date AS __created, {close} AS __closed, o.status AS __status,
                   min(CASE WHEN h.stage = {won} THEN h.entered_date END) OVER (PARTITION BY h.opportunity_id) AS __won_at
            FROM imp_stage_history h JOIN {o} o USING (opportunity_id)""")
        rules = [
            ("a won stage in the history of a deal that is not won", f"stage = {won} AND __status != 'won'"),
            ("dated after the deal closed", f"__status != 'open' AND __closed IS NOT NULL AND "
                                            f"substr(entered_date, 1, 10) > substr(__closed, 1, 10)"),
            (f"dated after the deal reached {self.p.won_stage}", f"stage != {won} AND entered_date > __won_at"),
        ]
        for reason, cond in rules:
            n = int(self.b.scalar(f"SELECT count(*) FROM imp_stage_history WHERE {cond}"))
            if n:
                self.b.execute(f"DELETE FROM imp_stage_history WHERE {cond}")
                counts.drop(reason, n)
        n = int(self.b.scalar("SELECT count(*) FROM imp_stage_history WHERE substr(entered_date, 1, 10) < substr(__created, 1, 10)"))
        if n:
            self.b.execute("UPDATE imp_stage_history SET entered_date = __created "
                           "WHERE substr(entered_date, 1, 10) < substr(__created, 1, 10)")
            counts.repair("dated before the deal was created: set to the creation date", n)
        self.b.table("imp_stage_history", "SELECT * EXCLUDE (__created, __closed, __status, __won_at) "
                                          "FROM imp_stage_history ORDER BY _part, _file, _i, _add")
        self._derive_closed()

    def _derive_closed(self) -> None:
        """Won deals take the won stage; lost ones with no stage the furthest in their history."""
        derive = any(r.derive_closed for p in self.mapping.opportunities for r in p.columns.values())
        if not derive or "stage" not in self.built["opportunities"].columns:
            return
        order = " ".join(f"WHEN {quote_text(s)} THEN {i}" for i, s in enumerate(self.p.stage_ids))
        names = " ".join(f"WHEN {i} THEN {quote_text(s)}" for i, s in enumerate(self.p.stage_ids))
        won = quote_text(self.p.won_stage)
        self.b.table("furthest", f"SELECT opportunity_id, CASE max(CASE stage {order} END) {names} END AS top "
                                 f"FROM imp_stage_history GROUP BY 1")
        self.b.execute(f"UPDATE imp_opportunities SET stage = {won} WHERE status = 'won'")
        self.b.execute("UPDATE imp_opportunities SET stage = f.top FROM furthest f "
                       "WHERE imp_opportunities.opportunity_id = f.opportunity_id "
                       "AND imp_opportunities.status = 'lost' AND imp_opportunities.stage IS NULL")
        n = int(self.b.scalar("SELECT count(*) FROM imp_opportunities WHERE status = 'lost' AND stage IS NULL"))
        if n:
            self.report.notes.append(f"{n:,} lost deals have no stage and no stage history: the stage they reached "
                                     "is unknown (they count in win rates, not in stage conversions)")

    def _after_activities(self, spec: FileSpec) -> None:
        pass

    def _after_goals(self, spec: FileSpec) -> None:
        cols = self.built["goals"].columns
        if all(c in cols for c in ("rep_id", "period", "metric")):
            self._dedupe("goals", ["rep_id", "period", "metric"], "a second goal for the same rep, month and metric")

    # ------------------------------------------------------------------ writing
    def write(self, folder: Path) -> None:
        for stem, built in self.built.items():
            cols = ", ".join(quote_ident(c) for c in built.columns)
            target = quote_text(str(folder / f"{stem}.csv"))
            self.b.execute(f"COPY (SELECT {cols} FROM {built.table} ORDER BY _part, _file, _i, _add) TO {target} "
                           f"(HEADER, DELIMITER ',', QUOTE '\"')")

    def explain(self, problems: list[Problem], folder: Path | None = None) -> list[Problem]:
        """Problems of the result rewritten to name the export's file, row and column (an added
        row and its source row are one problem); a problem of the whole result names it as
        RESULT, never the temporary folder it was written to."""
        out: list[Problem] = []
        for p in problems:
            if folder is not None and p.file == str(folder):
                p = replace(p, file=RESULT)
            stem = p.file.rsplit(".", 1)[0]
            built = self.built.get(stem)
            if built is None or p.row is None or p.row < 2:
                out.append(p)
                continue
            row = self.b.rows(f"SELECT _file, _i FROM (SELECT _file, _i, row_number() OVER "
                              f"(ORDER BY _part, _file, _i, _add) AS r FROM {built.table}) WHERE r = {p.row - 1}")
            if not row:
                out.append(p)
                continue
            name, index = row[0]
            f = self.files.get(name)
            src_row = int(file_rows(np.array([index]), self.exports.rejects(f) if f else [])[0])
            out.append(Problem(file=name, row=src_row, column=p.column, message=p.message, value=p.value,
                               expected=(p.expected or "") + f" (imported into {stem}.csv, column {p.column})",
                               suggestion=p.suggestion))
        return list(dict.fromkeys(out))
