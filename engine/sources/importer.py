"""Import a folder of CRM exports into a dataset folder, as a mapping says: all or nothing.

Every problem of the source (a missing file or column, a value with no entry in a map,
a date that does not match its format, a number that is not one) is collected with
file, row, column, value and what was expected, and raised at once as MappingError.
The result is written into a temporary folder beside `out`, validated by
`load_dataset` (its DatasetError passes through unchanged) and only then renamed to
`out`. Columns are transformed whole; lookups run once per distinct value.
"""
from __future__ import annotations

import csv
import re
import secrets
import shutil
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..catalog.specs import Pipeline
from ..errors import MappingError, Problem, did_you_mean
from ..dataset.contract import FILES, FileSpec, Kind
from .mapping import ActivitiesPart, Condition, Mapping, Part, RepBy, Rule, template_columns
from ..dataset.validate import load_dataset

Progress = Callable[[str], None]
MAX_SHOWN = 10                       # distinct bad values listed per column and file
_TRUE = {"1", "true", "yes", "y", "x", "checked"}
_FALSE = {"0", "false", "no", "n", "unchecked"}
# "$12,000.00", "USD 12,000.00", "12 000 €": currency signs and codes, spaces
_CURRENCY = re.compile(r"^[A-Z]{3}\s*|\s*[A-Z]{3}$|[$€£¥\s\u00a0]")
# commas are dropped only where they group thousands, so "12,5" is refused, not read as 125
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$")
_HIDDEN = ["_file", "_row", "_derive"]   # where each output row came from; not written


def import_dataset(source: Path | str, mapping: Mapping, out: Path | str, pipeline: Pipeline,
                   progress: Progress | None = None) -> dict:
    """Import the exports in `source` into a new dataset folder `out`; return a summary."""
    source, out = Path(source), Path(out)
    say = progress or (lambda _msg: None)
    _check_paths(source, out)
    run = _Run(source, mapping, pipeline, say)
    tables = run.tables()
    if run.problems:
        raise MappingError(run.problems)
    say("validating the result")
    warnings = _publish(tables, out, pipeline, progress)
    say("import done")
    return {"out": str(out), "rows": {stem: len(frame) for stem, frame in tables.items()},
            "added": dict(run.added), "left_out": dict(run.left_out), "skipped": run.skipped,
            "warnings": warnings}


def _check_paths(source: Path, out: Path) -> None:
    """The source must be a folder; `out` must be new or empty, so nothing is overwritten."""
    if not source.is_dir():
        raise MappingError([Problem(file=str(source), message="not a folder",
                                    expected="a folder of export files")])
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MappingError([Problem(file=str(out), message="exists and is not an empty folder",
                                    expected="a new or empty folder")])


def _publish(tables: dict[str, pd.DataFrame], out: Path, pipeline: Pipeline,
             progress: Progress | None) -> list[str]:
    """Write into a temporary folder beside `out`, validate it, then rename it to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # beside `out`, so the final rename stays on one file system; mkdir keeps the umask's mode
    tmp = out.parent / f".{out.name}-{secrets.token_hex(4)}.importing"
    tmp.mkdir()
    try:
        for stem, frame in tables.items():
            frame.to_csv(tmp / f"{stem}.csv", index=False)
        dataset = load_dataset(tmp, pipeline, progress)
        if out.exists():
            out.rmdir()          # empty (checked first): a folder cannot be renamed onto it
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return list(dataset.warnings)


@dataclass(frozen=True)
class _At:
    """Where a value comes from: the source file, and the mapping rule that reads it."""

    file: str
    stem: str
    index: int
    target: str
    rule: Rule

    @property
    def column(self) -> str:
        """The source column(s) named in problems."""
        return ", ".join(self.rule.sources) or self.target


class _Run:
    """One import: builds each table from its parts, collecting every problem."""

    def __init__(self, source: Path, mapping: Mapping, pipeline: Pipeline, say: Progress):
        self.source = source
        self.m = mapping
        self.p = pipeline
        self.say = say
        self.problems: list[Problem] = []
        self.added: Counter = Counter()       # activity type -> rows added beside others
        self.left_out: Counter = Counter()    # table -> rows left out by `where` or `unmapped: drop`
        self.skipped: list[str] = []          # optional parts that found no file
        self.unmatched: set[str] = set()      # file patterns already reported
        self.reps: pd.DataFrame | None = None

    # ------------------------------------------------------------------ tables
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every mapped table, in the contract's order, with the contract's columns."""
        built: dict[str, pd.DataFrame] = {}
        for spec in FILES:
            parts = getattr(self.m, spec.stem)
            if not parts:
                continue
            before = len(self.problems)
            frames = [f for i, part in enumerate(parts) for f in self.part(spec, i, part)]
            if frames:
                built[spec.stem] = pd.concat(frames, ignore_index=True)
            if spec.stem == "reps" and frames:
                self.reps = built["reps"]
            if spec.stem == "stage_history" and "opportunities" in built:
                built["opportunities"] = self.derive_closed(
                    built["opportunities"], built.get("stage_history"), len(self.problems) > before)
        return {stem: frame.drop(columns=_HIDDEN, errors="ignore") for stem, frame in built.items()}

    def part(self, spec: FileSpec, index: int, part: Part) -> list[pd.DataFrame]:
        """The rows of every file of one part."""
        paths = self.files(spec.stem, index, part)
        frames = []
        for path in paths:
            self.say(f"reading {path.name}")
            src = self.read(path, part)
            if src is not None:
                frames.append(self.convert(spec, index, part, path.relative_to(self.source).as_posix(), src))
        return frames

    def files(self, stem: str, index: int, part: Part) -> list[Path]:
        """The files matching a part's patterns, each once, in name order."""
        found = dict.fromkeys(p for pattern in part.files for p in sorted(self.source.glob(pattern))
                              if p.is_file())
        patterns = ", ".join(part.files)
        if found or patterns in self.unmatched:     # several parts may read one missing file
            return list(found)
        self.unmatched.add(patterns)
        where = self.m.locate(stem, index, "files")
        if part.optional:
            self.skipped.append(f"{where}: no file matches {patterns}")
            return []
        present = sorted(p.name for p in self.source.iterdir() if p.is_file())
        holds = ", ".join(present[:8]) + (", ..." if len(present) > 8 else "") if present else "no files"
        self.problems.append(Problem(file=patterns, message=f"no file in {self.source} matches",
                                     expected=f"an export file named as {where} says; the folder holds {holds}"))
        return []

    # ------------------------------------------------------------------ reading
    def read(self, path: Path, part: Part) -> pd.DataFrame | None:
        """The source columns a part needs that the file has, as stripped text (None when
        empty), indexed by row number; None when the file cannot be used at all."""
        name = path.relative_to(self.source).as_posix()
        try:
            header = _header(path, part)
        except (OSError, UnicodeDecodeError, LookupError, csv.Error) as exc:
            self.problems.append(Problem(file=name, message=f"cannot read the file: {exc}"))
            return None
        if not header:
            self.problems.append(Problem(file=name, message="the file is empty", expected="a header row"))
            return None
        raw = {h.strip(): h for h in header}
        counts = Counter(h.strip() for h in header)
        unusable = set()
        for c in part.sources:
            if counts[c] != 1:
                unusable.add(c)
                self.problems.append(Problem(
                    file=name, row=1, column=c, expected="a column of the export's header row",
                    message="source column is missing" if not counts[c] else "column appears twice in the header",
                    suggestion=did_you_mean(c, list(raw)) if not counts[c] else None))
        if unusable & set(_condition_columns(part)):
            return None          # which rows to read is unknown: the rules' problems would mislead
        columns = [c for c in part.sources if c not in unusable]
        table, bad = self.parse(path, name, part, [raw[c] for c in columns])
        if table is None:
            return None
        rows = _row_numbers(table.num_rows, self.malformed(name, table.num_rows, bad, part))
        return pd.DataFrame({c: _text(table[raw[c]]) for c in columns}, index=pd.Index(rows, name="row"))

    def parse(self, path: Path, name: str, part: Part, columns: list[str]) -> tuple[pa.Table | None, list]:
        """Read with Arrow, all text; malformed rows (with their numbers) returned aside."""
        bad: list = []

        def keep_aside(row) -> str:
            bad.append((row.number, row.actual_columns, row.expected_columns, row.text))
            return "skip"
        try:
            table = _read_csv(path, part, columns, keep_aside, threads=True)
            if bad:             # row numbers are known only when read on one thread
                bad.clear()
                table = _read_csv(path, part, columns, keep_aside, threads=False)
        except (pa.ArrowInvalid, UnicodeDecodeError, LookupError) as exc:
            self.problems.append(Problem(file=name, message=f"not a readable CSV file: {exc}"))
            return None, []
        return table, bad

    def malformed(self, name: str, n_good: int, bad: list, part: Part) -> list[int]:
        """Report malformed rows, unless they are a report footer the part skips; their numbers."""
        numbers = sorted(b[0] for b in bad if b[0] is not None)
        footer = part.skip_footer and bool(numbers) and numbers[0] > n_good + 1
        if not footer:
            for number, actual, expected, text in bad[:MAX_SHOWN]:
                self.problems.append(Problem(
                    file=name, row=number, message=f"a row of {actual} value{'s' * (actual != 1)} "
                                                   f"where the header has {expected} columns",
                    value=text[:80], expected="one value per column (skip_footer: true ignores a "
                                              "report footer after the last row)"))
        return numbers

    # ------------------------------------------------------------------ converting
    def convert(self, spec: FileSpec, index: int, part: Part, name: str, src: pd.DataFrame) -> pd.DataFrame:
        """The target rows of one source file."""
        kept = pd.Series(True, index=src.index)
        for cond in part.where:
            kept &= _condition(src[cond.column], cond)
        src = src[kept]
        out, drop = {}, pd.Series(False, index=src.index)
        for target, rule in part.columns.items():
            if not set(rule.sources) <= set(src.columns):
                continue         # a missing source column, reported already
            at = _At(name, spec.stem, index, target, rule)
            values, dropped = self.column(at, spec.column(target).kind, src)
            out[target] = _blank_empty(values)
            drop |= dropped
        frame = pd.DataFrame(out, index=src.index)[~drop]
        self.left_out[spec.stem] += int((~kept).sum() + drop.sum())
        if isinstance(part, ActivitiesPart) and part.add_rows:
            frame = self.add_rows(frame, src[~drop], part)
        frame = frame.reindex(columns=[c.name for c in spec.columns if c.name in frame.columns])
        derive = any(r.derive_closed for r in part.columns.values())
        return frame.assign(_file=name, _row=frame.index, _derive=derive).reset_index(drop=True)

    def column(self, at: _At, kind: Kind, src: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """One target column: its source, then take_first, map, rep_by, date or number."""
        rule = at.rule
        values = self.base(at, src)
        drop = pd.Series(False, index=src.index)
        if rule.take_first is not None:
            values = values.str.split(rule.take_first, n=1, regex=False).str[0].str.strip()
        if rule.map is not None:
            values, drop = self.mapped(at, values, last=rule.rep_by is None)
        if rule.rep_by is not None:
            values, dropped = self.rep_ids(at, values)
            drop |= dropped
        if rule.date is not None:
            values = self.dates(at, values, kind)
        elif kind == Kind.number:
            values = self.numbers(at, values)
        return values, drop

    def base(self, at: _At, src: pd.DataFrame) -> pd.Series:
        """The raw values of a rule's source: a column, a constant, a template or two flags."""
        rule = at.rule
        if rule.column is not None:
            return src[rule.column].astype(object)
        if rule.value is not None:
            return pd.Series(rule.value, index=src.index, dtype=object)
        if rule.template is not None:
            return _fill_template(rule.template, src)
        return self.status(at, src)

    def status(self, at: _At, src: pd.DataFrame) -> pd.Series:
        """open / won / lost from a won and a closed yes/no column."""
        flags = {}
        for key, col in (("won", at.rule.flags.won), ("closed", at.rule.flags.closed)):
            folded = src[col].str.casefold()
            bad = src[col].notna() & ~folded.isin(_TRUE | _FALSE)
            self.report(at, src[col], bad, "not a yes/no value", "1/0, true/false or yes/no", column=col)
            flags[key] = folded.isin(_TRUE).to_numpy()
        status = np.where(flags["won"], "won", np.where(flags["closed"], "lost", "open"))
        return pd.Series(status, index=src.index, dtype=object)

    def mapped(self, at: _At, values: pd.Series, last: bool) -> tuple[pd.Series, pd.Series]:
        """Values through the rule's map; `unmapped` decides the rest (when nothing follows)."""
        rule = at.rule
        table = {k.casefold(): v for k, v in rule.map.items()}
        out = _per_distinct(values, lambda v: table.get(v.casefold()))
        absent = values.notna() & out.isna()
        if not last:             # rep_by follows: names not in the map go on unchanged
            return out.where(~absent, values), pd.Series(False, index=values.index)
        keys = list(rule.map)
        return self.fallback(at, values, out, absent, "value not in the map",
                             f"a key of the map at {self.m.locate(at.stem, at.index, 'columns', at.target, 'map')}",
                             lambda v: did_you_mean(v, keys))

    def rep_ids(self, at: _At, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Rep ids looked up from names or emails in the imported reps table."""
        by = at.rule.rep_by.value
        if self.reps is None or by not in self.reps:
            return pd.Series(None, index=values.index, dtype=object), pd.Series(False, index=values.index)
        keys = _normalise(self.reps[by])
        counts = keys.value_counts()
        lookup = dict(zip(keys, self.reps["rep_id"]))
        twice = set(counts.index[counts > 1])
        out = _per_distinct(values, lambda v: None if _key(v) in twice else lookup.get(_key(v)))
        shared = values.notna() & _normalise(values).isin(twice)
        self.report(at, values, shared, f"two or more reps have this {by}",
                    f"a {by} given to one rep only in the reps table" +
                    (", or rep_by: email" if at.rule.rep_by == RepBy.name else ""))
        absent = values.notna() & out.isna() & ~shared
        choices = list(self.reps[by].dropna())
        return self.fallback(at, values, out, absent, f"no rep with this {by} in the reps table",
                             f"the {by} of a rep in the reps table",
                             lambda v: did_you_mean(v, choices))

    def fallback(self, at: _At, values: pd.Series, out: pd.Series, absent: pd.Series, message: str,
                 expected: str, suggest) -> tuple[pd.Series, pd.Series]:
        """Apply `unmapped` to the values a lookup did not find: error, keep, drop or a constant."""
        no_drop = pd.Series(False, index=values.index)
        how = at.rule.unmapped
        if how == "error":
            self.report(at, values, absent, message, expected + " (or set unmapped)", suggest)
            return out, no_drop
        if how == "keep":
            return out.where(~absent, values), no_drop
        if how == "drop":
            return out, absent
        return out.where(~absent, how), no_drop

    def dates(self, at: _At, values: pd.Series, kind: Kind) -> pd.Series:
        """Dates parsed with the rule's formats (the first that fits), written as ISO 8601."""
        formats = at.rule.date
        codes, uniques = pd.factorize(values)
        distinct = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
        parsed = pd.to_datetime(distinct, format=formats[0], errors="coerce")
        for fmt in formats[1:]:
            parsed = parsed.fillna(pd.to_datetime(distinct, format=fmt, errors="coerce"))
        out = "%Y-%m" if kind == Kind.period else "%Y-%m-%dT%H:%M:%S" if at.rule.has_time else "%Y-%m-%d"
        iso = np.append(parsed.dt.strftime(out).to_numpy(dtype=object), None)[codes]
        result = pd.Series(iso, index=values.index, dtype=object)
        example = pd.Timestamp(2026, 3, 14, 14, 5)
        self.report(at, values, values.notna() & result.isna(), "date does not match the format",
                    " or ".join(f"{f} (such as {example.strftime(f)})" for f in formats))
        return result

    def numbers(self, at: _At, values: pd.Series) -> pd.Series:
        """Numbers freed of currency signs and thousands separators, divided as the rule says."""
        codes, uniques = pd.factorize(values)
        text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str)
        text = text.str.replace(_CURRENCY, "", regex=True)
        text = text.where(~text.str.match(_GROUPED), text.str.replace(",", "", regex=False))
        number = pd.to_numeric(text, errors="coerce")
        if at.rule.divide_by is not None:
            number = (number / at.rule.divide_by).round(6)
        formatted = np.append(_number_text(number).to_numpy(dtype=object), None)[codes]
        result = pd.Series(formatted, index=values.index, dtype=object)
        self.report(at, values, values.notna() & result.isna(), "not a number",
                    "a number such as 12000, 12,000.00 or $12,000.00")
        return result

    def add_rows(self, frame: pd.DataFrame, src: pd.DataFrame, part: ActivitiesPart) -> pd.DataFrame:
        """Rows of another type beside the rows that meet a condition, each after its source row."""
        extra = []
        for add in part.add_rows:
            hit = _condition(src[add.when.column], add.when)
            rows = frame[hit.to_numpy()].assign(type=add.type)
            if "duration_minutes" in rows:
                rows = rows.assign(duration_minutes=None)   # the time is counted once, on the call
            if "activity_id" in rows:
                rows = rows.assign(activity_id=rows["activity_id"].where(
                    rows["activity_id"].isna(), rows["activity_id"] + f"-{add.type}"))
            self.added[add.type] += len(rows)
            extra.append(rows)
        return pd.concat([frame, *extra]).sort_index(kind="stable")

    # ------------------------------------------------------------------ derived stages
    def derive_closed(self, opps: pd.DataFrame, history: pd.DataFrame | None,
                      history_refused: bool) -> pd.DataFrame:
        """Won deals take the won stage; lost ones with no stage the furthest in their history."""
        derive = opps["_derive"].to_numpy(dtype=bool)
        if not derive.any() or "status" not in opps or "stage" not in opps:
            return opps
        won, lost = (opps["status"] == "won").to_numpy(), (opps["status"] == "lost").to_numpy()
        stage = opps["stage"].where(~(derive & won), self.p.won_stage)
        order = {s: k for k, s in enumerate(self.p.stage_ids)}      # the won stage left out
        furthest = pd.Series(dtype=object)
        if history is not None and len(history):
            k = history["stage"].map(order)
            best = k.groupby(history["opportunity_id"]).max().dropna().astype(int)
            furthest = best.map(dict(enumerate(self.p.stage_ids)))
        empty = derive & lost & stage.isna().to_numpy()
        stage = stage.where(~empty, opps["opportunity_id"].map(furthest))
        still = empty & stage.isna().to_numpy()
        if still.any() and not history_refused:
            self.unstaged(opps[still])
        return opps.assign(stage=stage)

    def unstaged(self, opps: pd.DataFrame) -> None:
        """Report lost opportunities whose furthest stage cannot be known."""
        for _, row in opps.head(MAX_SHOWN).iterrows():     # problems only, a handful
            self.problems.append(Problem(
                file=row["_file"], row=int(row["_row"]), column="stage", value=row["opportunity_id"],
                message="lost opportunity with no stage: its stage maps to empty and the stage "
                        "history has no row for it",
                expected="a stage in the map for this value, or stage history rows for the opportunity"))
        if len(opps) > MAX_SHOWN:
            self.problems.append(Problem(file=opps["_file"].iloc[MAX_SHOWN], column="stage",
                                         message=f"... and {len(opps) - MAX_SHOWN:,} more such "
                                                 "lost opportunities"))

    # ------------------------------------------------------------------ problems
    def report(self, at: _At, values: pd.Series, bad: pd.Series, message: str, expected: str,
               suggest=None, column: str | None = None) -> None:
        """One problem per distinct bad value: its first row, and how many rows have it."""
        if not bad.any():
            return
        rows = pd.DataFrame({"value": values[bad].astype(str).to_numpy(), "row": values.index[bad.to_numpy()]})
        seen = rows.groupby("value", sort=False)["row"].agg(["min", "size"])
        for value, (first, n) in seen.head(MAX_SHOWN).iterrows():   # distinct bad values only
            self.problems.append(Problem(
                file=at.file, row=int(first), column=column or at.column, value=value,
                message=message + (f" ({n:,} rows; the first is shown)" if n > 1 else ""),
                expected=expected, suggestion=suggest(value) if suggest else None))
        if len(seen) > MAX_SHOWN:
            self.problems.append(Problem(file=at.file, column=column or at.column,
                                         message=f"... and {len(seen) - MAX_SHOWN:,} more distinct "
                                                 "values with the same problem"))


# --------------------------------------------------------------------------- helpers

def _header(path: Path, part: Part) -> list[str]:
    """The header row, read as the part says (encoding, delimiter); a UTF-8 BOM is dropped."""
    encoding = "utf-8-sig" if part.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else part.encoding
    with open(path, newline="", encoding=encoding) as fh:
        return next(csv.reader(fh, delimiter=part.delimiter), [])


def _read_csv(path: Path, part: Part, columns: list[str], on_bad, threads: bool) -> pa.Table:
    """Only `columns`, all as text; malformed rows go to `on_bad`."""
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=part.encoding, use_threads=threads, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=part.delimiter, newlines_in_values=True,
                                         invalid_row_handler=on_bad),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in columns},
                                             include_columns=columns, strings_can_be_null=True,
                                             quoted_strings_can_be_null=True, null_values=[""]))


def _text(arr: pa.ChunkedArray) -> np.ndarray:
    """A column as stripped text, None where empty."""
    arr = pc.utf8_trim_whitespace(arr)
    arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return arr.to_numpy(zero_copy_only=False).astype(object)


def _row_numbers(n: int, skipped: list[int]) -> np.ndarray:
    """Row numbers as in the file (header is row 1) of the rows kept, around skipped ones."""
    rows = np.arange(n) + 2
    for number in skipped:                      # malformed rows only: few
        rows[rows >= number] += 1
    return rows


def _condition_columns(part: Part) -> list[str]:
    """The source columns that decide which rows a part reads or adds."""
    columns = [c.column for c in part.where]
    if isinstance(part, ActivitiesPart):
        columns += [a.when.column for a in part.add_rows]
    return columns


def _condition(values: pd.Series, cond: Condition) -> pd.Series:
    """Rows whose value meets the condition (words matched whatever their case)."""
    if cond.filled is not None:
        return values.notna() == cond.filled
    words = {w.casefold() for w in (cond.one_of if cond.one_of is not None else cond.none_of)}
    hit = values.str.casefold().isin(words)
    return hit if cond.one_of is not None else ~hit


def _fill_template(template: str, src: pd.DataFrame) -> pd.Series:
    """A template's text for every row; None where all of its columns are empty."""
    out = pd.Series("", index=src.index, dtype=object)
    for literal, field, _, _ in string.Formatter().parse(template):
        out = out + literal
        if field:
            out = out + src[field].fillna("")
    any_filled = src[template_columns(template)].notna().any(axis=1)
    return out.str.strip().where(any_filled, None)


def _per_distinct(values: pd.Series, fn) -> pd.Series:
    """`fn` applied once per distinct non-empty value, spread back over the rows."""
    codes, uniques = pd.factorize(values)
    looked = np.array([fn(u) for u in uniques] + [None], dtype=object)
    return pd.Series(looked[codes], index=values.index, dtype=object)


def _key(value: str) -> str:
    """A name or email as matched: case and spacing ignored."""
    return " ".join(str(value).casefold().split())


def _normalise(values: pd.Series) -> pd.Series:
    """`_key` of every value, computed once per distinct value."""
    return _per_distinct(values, _key)


def _blank_empty(values: pd.Series) -> pd.Series:
    """Object text with None for missing and for empty strings (a value mapped to "")."""
    values = values.astype(object)
    return values.where(values.notna() & (values != ""), None)


def _number_text(number: pd.Series) -> pd.Series:
    """Numbers as text: 12000 rather than 12000.0; None where missing."""
    integral = number.notna() & (number == number.round()) & (number.abs() < 1e15)
    text = pd.Series(None, index=number.index, dtype=object)
    text[integral] = number[integral].astype("int64").astype(str).astype(object)
    fractional = number.notna() & ~integral
    text[fractional] = number[fractional].astype(str).astype(object)
    return text
