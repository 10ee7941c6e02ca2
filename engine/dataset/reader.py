"""Read dataset files (CSV or Parquet) into Arrow tables, fast and untyped.

Every column arrives as text (dictionary-encoded where values repeat), so that
validation sees exactly what the file holds and can name each bad row. Typing
happens in `validate`, vectorised, over the distinct values of each column.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import Problem
from .contract import FileSpec, Kind

# columns whose values repeat a lot: dictionary-encode them while reading
_DICT_KINDS = {Kind.id, Kind.role, Kind.stage, Kind.status, Kind.activity_type, Kind.date,
               Kind.period, Kind.metric}
_UNIQUE_ID_COLUMNS = {"activity_id"}


def find_file(folder: Path, spec: FileSpec) -> tuple[Path | None, list[Problem]]:
    """The CSV or Parquet file of `spec` in `folder`, or None; problems if ambiguous."""
    found = [p for p in (folder / f"{spec.stem}.csv", folder / f"{spec.stem}.parquet") if p.is_file()]
    if len(found) > 1:
        return None, [Problem(file=f"{spec.stem}.*", message="both a CSV and a Parquet file",
                              expected="one file per table")]
    return (found[0] if found else None), []


def read_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh), [])


def read_table(path: Path, spec: FileSpec, typed: bool = True) -> tuple[pa.Table | None, list[Problem]]:
    """Read one file; problems if it cannot be read at all.

    `typed` first tries to read dates and numbers as such (fast, for clean data); if any
    value does not parse, the file is read again as text so that validation can name
    every bad value with its row.
    """
    name = path.name
    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            return _parquet_as_text(table, spec), []
        header = read_header(path)
    except (OSError, UnicodeDecodeError, pa.ArrowException, csv.Error) as exc:
        return None, [Problem(file=name, message=f"cannot read the file: {exc}")]
    if not header:
        return None, [Problem(file=name, message="the file is empty", expected="a header row")]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        return None, [Problem(file=name, row=1, column=d, message="column appears twice in the header")
                      for d in dupes]
    types = {}
    for h in header:
        col = spec.column(h.strip())
        dict_enc = col is not None and col.kind in _DICT_KINDS and col.name not in _UNIQUE_ID_COLUMNS
        types[h] = pa.dictionary(pa.int32(), pa.string()) if dict_enc else pa.string()
        if typed and col is not None and col.kind == Kind.date:
            types[h] = pa.timestamp("s")
        elif typed and col is not None and col.kind == Kind.number:
            types[h] = pa.float64()
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                 null_values=[""], quoted_strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if typed and isinstance(exc, pa.ArrowInvalid):
            return read_table(path, spec, typed=False)   # a value did not parse: find it
        return None, [Problem(file=name, message=f"not a readable CSV file: {_arrow_message(exc)}")]
    return table.rename_columns([c.strip() for c in table.column_names]), []


def _arrow_message(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.replace("CSV parse error: ", "")


def _parquet_as_text(table: pa.Table, spec: FileSpec) -> pa.Table:
    """Parquet columns of any type, as the text the CSV path would have read.

    Typed values (timestamps, numbers) are kept typed: `validate` accepts both.
    """
    cols = []
    for name in table.column_names:
        arr = table[name]
        t = arr.type
        if pa.types.is_dictionary(t):
            arr = arr.cast(pa.dictionary(pa.int32(), pa.string())) if pa.types.is_string(t.value_type) \
                or pa.types.is_large_string(t.value_type) else arr.cast(pa.string())
        elif pa.types.is_large_string(t):
            arr = arr.cast(pa.string())
        elif not (pa.types.is_string(t) or pa.types.is_timestamp(t) or pa.types.is_date(t)
                  or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
            arr = arr.cast(pa.string())
        col = spec.column(name)
        if col is not None and col.kind in (Kind.id, Kind.text, Kind.role, Kind.stage, Kind.status,
                                            Kind.activity_type, Kind.period, Kind.metric) \
                and (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
            arr = arr.cast(pa.string())   # numeric ids in Parquet are still ids
        if pa.types.is_string(arr.type):
            arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)  # empty = missing, as in CSV
        cols.append(arr)
    return pa.table(cols, names=table.column_names)
