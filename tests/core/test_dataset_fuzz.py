"""Fuzzing the dataset reader and validator (issue 11) through `load_dataset`.

Whatever the files hold (arbitrary bytes or text, a valid dataset with cells, rows,
columns or raw characters mutated, Parquet columns of any type), `load_dataset` returns
a Dataset or raises DatasetError whose problems each name a file: never another
exception (warnings are errors here), never a hang (a 30 s alarm, and the Hypothesis
deadline of 10 s an example).

Runs are derandomized and keep no example database, so that CI sees the same examples
every time: 10 examples a test, as a load takes about a second on two busy cores;
FAIRWAY_FUZZ_EXAMPLES=500 fuzzes deeper, locally.
Crashes found in the current code are kept as explicit examples, and in FOUND (one test
each, xfail strict), so that each fix shows as an XPASS to unmark.
"""
from __future__ import annotations

import copy
import os
import re
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.dataset import Dataset, load_dataset
from engine.errors import DatasetError
from helpers import time_limit

FUZZ = settings(max_examples=int(os.environ.get("FAIRWAY_FUZZ_EXAMPLES") or 10),
                deadline=timedelta(seconds=10), derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# a small valid dataset, every column of the contract present
BASE: dict[str, list[list[str]]] = {
    "reps": [
        ["rep_id", "name", "role", "team", "division", "manager", "start_date", "email"],
        ["R1", "Nancy Olson", "isr", "Closers", "East", "Maria", "2024-01-15", "nancy@example.com"],
        ["R2", "Andrea Martin", "isr", "Closers", "East", "Maria", "2025-03-01", "andrea@example.com"],
        ["B1", "Joseph Teegardin", "bdr", "Hunters", "East", "Sam", "2023-06-30", ""],
    ],
    "opportunities": [
        ["opportunity_id", "rep_id", "created_date", "status", "stage", "amount", "close_date",
         "loss_reason", "account", "source_rep_id"],
        ["O1", "R1", "2026-08-01", "won", "won", "12000", "2026-10-03", "", "Acme", "B1"],
        ["O2", "R1", "2026-08-02", "lost", "demo", "8000", "2026-10-05", "timing", "Globex", ""],
        ["O3", "R2", "2026-09-03", "open", "proposal", "7000", "2026-12-01", "", "Initech", ""],
        ["O4", "R2", "2026-07-10", "won", "won", "5500.5", "2026-09-30T16:00:00", "", "Umbrella", "B1"],
    ],
    "stage_history": [
        ["opportunity_id", "stage", "entered_date"],
        ["O1", "discovery", "2026-08-01"], ["O1", "demo", "2026-08-10"], ["O1", "won", "2026-10-03"],
        ["O2", "discovery", "2026-08-02"], ["O4", "proposal", "2026-09-01"],
    ],
    "activities": [
        ["rep_id", "date", "type", "duration_minutes", "opportunity_id", "activity_id"],
        ["B1", "2026-10-01", "call", "4", "", "A1"],
        ["B1", "2026-10-01T09:30:00", "connect", "", "", "A2"],
        ["B1", "2026-10-02", "meeting_scheduled", "", "", "A3"],
        ["R1", "2026-10-02", "meeting_held", "30", "O1", "A4"],
        ["R2", "2026-10-03", "email", "", "O3", "A5"],
    ],
    "goals": [
        ["rep_id", "period", "metric", "target"],
        ["B1", "2026-10", "activity.call", "900"],
        ["R1", "2026-10", "revenue", "40000"],
        ["R2", "2026-10", "win_rate", "0.3"],
    ],
}
STEMS = tuple(BASE)
COLUMNS = sorted({c for rows in BASE.values() for c in rows[0]})


def to_csv(rows: list[list[str]]) -> str:
    """Rows as CSV text: quoted where a value needs it (quotes, separators, newlines, edges)."""
    def cell(v: str) -> str:
        if any(ch in v for ch in ',"\n\r') or v != v.strip():
            return '"' + v.replace('"', '""') + '"'
        return v
    return "".join(",".join(cell(v) for v in row) + "\n" for row in rows)


def check_load(files: dict[str, bytes | pa.Table | None], pipeline) -> None:
    """Write `files` (name -> bytes, an Arrow table for .parquet, None for absent) and load them."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder = Path(tmp)
        sizes = {}
        for name, content in files.items():
            if content is None:
                continue
            if isinstance(content, pa.Table):
                pq.write_table(content, folder / name)
                sizes[name] = content.num_rows + 1
            else:
                (folder / name).write_bytes(content)
                sizes[name] = len(re.split(rb"\r\n|\r|\n", content))
        try:
            with time_limit(30, "load_dataset"):
                ds = load_dataset(folder, pipeline)
        except DatasetError as err:
            assert err.problems, "refused with no problem"
            for p in err.problems:
                assert any(stem in p.file for stem in STEMS) or p.file == str(folder), \
                    f"a problem that names no file: {p}"
                if p.row is not None:
                    assert 1 <= p.row <= sizes.get(p.file, p.row), f"row {p.row} is not in {p.file}: {p}"
                str(p)
            err.summary()
            return
        assert isinstance(ds, Dataset)
        ds.summary()


def csv_files(tables: dict[str, list[list[str]]]) -> dict[str, bytes]:
    return {f"{stem}.csv": to_csv(rows).encode("utf-8") for stem, rows in tables.items()}


def test_the_base_is_valid(pipeline):
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in csv_files(BASE).items():
            (Path(tmp) / name).write_bytes(content)
        ds = load_dataset(tmp, pipeline)
    assert ds.summary()["rows"] == {stem: len(rows) - 1 for stem, rows in BASE.items()}


# --------------------------------------------------------------------------- whole files

@FUZZ
@given(stem=st.sampled_from(STEMS), content=st.binary(max_size=3000))
def test_arbitrary_bytes_in_any_file(pipeline, stem, content):
    check_load({**csv_files(BASE), f"{stem}.csv": content}, pipeline)


@FUZZ
@given(stem=st.sampled_from(STEMS), text=st.text(max_size=1500),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
@example(stem="reps", text="\r0", encoding="utf-8")
def test_arbitrary_text_in_any_file(pipeline, stem, text, encoding):
    check_load({**csv_files(BASE), f"{stem}.csv": text.encode(encoding, "replace")}, pipeline)


@FUZZ
@given(stem=st.sampled_from(STEMS), lines=st.lists(st.text(max_size=60), max_size=12))
@example(stem="reps", lines=["0\r"])
def test_the_right_header_and_arbitrary_lines(pipeline, stem, lines):
    text = to_csv(BASE[stem][:1]) + "\n".join(lines)
    check_load({**csv_files(BASE), f"{stem}.csv": text.encode("utf-8")}, pipeline)


# --------------------------------------------------------------------------- structured mutations

_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
    st.integers(-10**40, 10**40).map(str),
    st.sampled_from(["inf", "-inf", "Infinity", "-Infinity", "NaN", "nan", "1e309", "-1e309", "1e300",
                     "1e-320", "-0", "0x10", "1_000", "1,5", " 12 ", "12 000", "$1,200", "1e", "--1", "+5"]))
_DATES = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                 timezones=st.sampled_from([None, timezone.utc, timezone(timedelta(hours=-11))]))
      .map(datetime.isoformat),
    st.sampled_from(["2026-02-30", "2026-13-01", "2026-00-10", "0000-01-01", "2026-1-5", "20261003",
                     "10/03/2026", "2026-10-03T25:00:00", "2026-10-03 14:05", "2026-10", "1969-12-31",
                     "2101-01-01", "1900-01-01", "2200-06-01", "9999-12-31", "2026-10-03Z", " 2026-10-03 "]))
_WORDS = st.sampled_from(["bdr", "isr", "BDR", " isr", "open", "won", "lost", "Won", "discovery", "demo",
                          "technical_fit", "proposal", "call", "connect", "email", "meeting_held",
                          "meeting_scheduled", "revenue", "win_rate", "activity.call", "stage_conversion.demo",
                          "2026-10", "2026-13", "R1", "r1", "R2", "B1", "O1", "O2", "O3", "O4", "O9", "A1",
                          "null", "None", "NULL", "N/A", "-", "0", "true"])
CELLS = st.one_of(st.just(""), st.sampled_from([" ", '"', '""', "\n", "\r\n", ",", ";", "\x00", "\t"]),
                  _NUMBERS, _DATES, _WORDS, st.text(max_size=20), st.text(min_size=200, max_size=400))
HEADERS = st.one_of(st.sampled_from(COLUMNS), st.sampled_from(COLUMNS).map(lambda c: f" {c} "),
                    st.sampled_from(COLUMNS).map(str.upper), st.text(max_size=12))
INDEX = st.integers(0, 1000)
_NUMBER_COLUMNS = [("opportunities", "amount"), ("activities", "duration_minutes"), ("goals", "target")]
_DATE_COLUMNS = [("reps", "start_date"), ("opportunities", "created_date"), ("opportunities", "close_date"),
                 ("stage_history", "entered_date"), ("activities", "date")]
# a cell of a number or date column, given a number or a date: (kind, stem, row, column, value)
TYPED_CELLS = st.one_of(
    st.tuples(st.sampled_from(_NUMBER_COLUMNS), INDEX, _NUMBERS),
    st.tuples(st.sampled_from(_DATE_COLUMNS), INDEX, _DATES),
).map(lambda t: ("value", t[0][0], t[1], t[0][1], t[2]))
CELL = st.tuples(st.just("cell"), st.sampled_from(STEMS), INDEX, INDEX, CELLS)

# each mutation: (kind, stem, *arguments); indices are taken modulo the table's size
MUTATIONS = st.one_of(
    CELL, TYPED_CELLS,
    st.tuples(st.just("header"), st.sampled_from(STEMS), INDEX, HEADERS),
    st.tuples(st.just("drop_column"), st.sampled_from(STEMS), INDEX),
    st.tuples(st.just("duplicate_column"), st.sampled_from(STEMS), INDEX, st.sampled_from(["", " "])),
    st.tuples(st.just("duplicate_row"), st.sampled_from(STEMS), INDEX),
    st.tuples(st.just("drop_row"), st.sampled_from(STEMS), INDEX),
    st.tuples(st.just("truncate_row"), st.sampled_from(STEMS), INDEX, INDEX),
    st.tuples(st.just("extend_row"), st.sampled_from(STEMS), INDEX, CELLS),
    st.tuples(st.just("header_only"), st.sampled_from(STEMS)),
    st.tuples(st.just("drop_file"), st.sampled_from(STEMS)),
)
RAW = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from(STEMS), INDEX,
              st.sampled_from(['"', '""', "\n", "\r", "\r\n", ",", ";", "\x00", "\ufeff", '"\n"', "\\"])),
    st.tuples(st.just("insert"), st.sampled_from(STEMS), INDEX, st.text(max_size=8)),
    st.tuples(st.just("cut"), st.sampled_from(STEMS), INDEX),
    st.tuples(st.just("delete"), st.sampled_from(STEMS), INDEX, st.integers(1, 40)),
)


def mutate(tables: dict[str, list[list[str]] | None], mutations) -> dict[str, list[list[str]] | None]:
    """A copy of `tables` (stem -> rows, header first) with `mutations` applied in order."""
    t = copy.deepcopy(tables)
    for kind, stem, *args in mutations:
        rows = t.get(stem)
        if rows is None:
            continue
        body = len(rows) - 1
        if kind == "cell" and body:
            row = rows[1 + args[0] % body]
            if row:
                row[args[1] % len(row)] = args[2]
        elif kind == "value" and body and args[1] in rows[0]:
            row = rows[1 + args[0] % body]
            i = rows[0].index(args[1])
            if i < len(row):
                row[i] = args[2]
        elif kind == "header" and rows[0]:
            rows[0][args[0] % len(rows[0])] = args[1]
        elif kind == "drop_column" and rows[0]:
            i = args[0] % len(rows[0])
            t[stem] = [r[:i] + r[i + 1:] for r in rows]
        elif kind == "duplicate_column" and rows[0]:
            i = args[0] % len(rows[0])
            t[stem] = [r + [(args[1] + r[i] + args[1]) if n == 0 else r[i]] if i < len(r) else r
                       for n, r in enumerate(rows)]
        elif kind == "duplicate_row" and body:
            i = 1 + args[0] % body
            rows.insert(i, list(rows[i]))
        elif kind == "drop_row" and body:
            del rows[1 + args[0] % body]
        elif kind == "truncate_row" and body:
            row = rows[1 + args[0] % body]
            del row[args[1] % max(len(row), 1):]
        elif kind == "extend_row" and body:
            rows[1 + args[0] % body].append(args[1])
        elif kind == "header_only":
            del rows[1:]
        elif kind == "drop_file":
            t[stem] = None
    return t


def raw_edit(files: dict[str, bytes | None], edits) -> dict[str, bytes | None]:
    """Files with raw characters inserted, deleted, or the file cut short."""
    out = dict(files)
    for kind, stem, pos, *args in edits:
        data = out.get(f"{stem}.csv")
        if data is None:
            continue
        text = data.decode("utf-8")
        at = pos % (len(text) + 1)
        if kind == "insert":
            text = text[:at] + args[0] + text[at:]
        elif kind == "cut":
            text = text[:at]
        elif kind == "delete":
            text = text[:at] + text[at + args[0]:]
        out[f"{stem}.csv"] = text.encode("utf-8")
    return out


def mutated_files(mutations) -> dict[str, bytes | None]:
    tables = mutate(BASE, mutations)
    return {f"{stem}.csv": None if rows is None else to_csv(rows).encode("utf-8")
            for stem, rows in tables.items()}


@FUZZ
@given(mutations=st.lists(CELL | TYPED_CELLS, min_size=1, max_size=6))
@example(mutations=[("value", "goals", 0, "target", "1e309")])
@example(mutations=[("value", "activities", 0, "duration_minutes", "1e300")])
def test_cells_replaced(pipeline, mutations):
    check_load(mutated_files(mutations), pipeline)


@FUZZ
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=5))
@example(mutations=[("duplicate_column", "reps", 0, " ")])
def test_rows_columns_and_files_mutated(pipeline, mutations):
    check_load(mutated_files(mutations), pipeline)


@FUZZ
@given(mutations=st.lists(MUTATIONS, max_size=2), edits=st.lists(RAW, min_size=1, max_size=4))
@example(mutations=[("duplicate_column", "opportunities", 2, " ")], edits=[("insert", "goals", 0, "\n")])
@example(mutations=[], edits=[("insert", "reps", 30, "\r\n")])
def test_quotes_newlines_and_cuts_injected(pipeline, mutations, edits):
    check_load(raw_edit(mutated_files(mutations), edits), pipeline)


# --------------------------------------------------------------------------- Parquet

# a Parquet column: (kind, values); timestamps are given as integers of their unit
_N = 6
_cells = lambda values: st.lists(st.none() | values, min_size=_N, max_size=_N)  # noqa: E731
PARQUET_COLUMNS = st.one_of(
    st.tuples(st.just("string"), _cells(st.text(max_size=12))),
    st.tuples(st.just("dictionary"), _cells(_WORDS)),
    st.tuples(st.just("int64"), _cells(st.integers(-2**63, 2**63 - 1))),
    st.tuples(st.just("float64"), _cells(st.floats(allow_nan=True, allow_infinity=True))),
    st.tuples(st.just("float32"), _cells(st.floats(width=32))),
    st.tuples(st.just("bool"), _cells(st.booleans())),
    st.tuples(st.just("binary"), _cells(st.binary(max_size=8))),
    st.tuples(st.just("timestamp[ms]"), _cells(st.integers(-2**62, 2**62))),
    st.tuples(st.just("timestamp[s]"), _cells(st.integers(-2**40, 2**40))),
    st.tuples(st.just("date32"), _cells(st.dates())),
    st.tuples(st.just("decimal"), _cells(st.decimals(min_value=-10**6, max_value=10**6, places=2))),
    st.tuples(st.just("list"), _cells(st.lists(st.text(max_size=4), max_size=2))),
    st.tuples(st.just("struct"), _cells(st.fixed_dictionaries({"v": st.integers(0, 9)}))),
    st.tuples(st.just("null"), st.just([None] * _N)),
)
_ARROW = {"string": pa.string(), "dictionary": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
          "float32": pa.float32(), "bool": pa.bool_(), "binary": pa.binary(), "timestamp[ms]": pa.int64(),
          "timestamp[s]": pa.int64(), "date32": pa.date32(), "decimal": pa.decimal128(12, 2),
          "list": pa.list_(pa.string()), "struct": pa.struct([("v", pa.int64())]), "null": pa.null()}


def arrow_column(kind: str, values: list, n: int) -> pa.Array:
    arr = pa.array(values[:n], _ARROW[kind])
    if kind == "dictionary":
        return arr.dictionary_encode()
    if kind.startswith("timestamp"):
        return arr.cast(pa.timestamp(kind[10:-1]))
    return arr


def parquet_files(stem: str, column: int, kind: str, values: list, duplicate: bool) -> dict:
    """The base with STEM as Parquet, text columns but one, of `kind` (maybe twice)."""
    rows = BASE[stem]
    names = list(rows[0])
    arrays = [pa.array([r[i] or None for r in rows[1:]], pa.string()) for i in range(len(names))]
    i = column % len(names)
    arrays[i] = arrow_column(kind, values, len(rows) - 1)
    if duplicate:
        names, arrays = names + [names[i]], arrays + [arrays[i]]
    others = csv_files({s: r for s, r in BASE.items() if s != stem})
    return {**others, f"{stem}.parquet": pa.table(arrays, names=names)}


@FUZZ
@given(stem=st.sampled_from(STEMS), column=INDEX, values=PARQUET_COLUMNS, duplicate=st.booleans())
@example(stem="stage_history", column=2, values=("timestamp[ms]", [1_790_000_000_001] + [None] * 5), duplicate=False)
@example(stem="goals", column=3, values=("timestamp[ms]", [None] * 6), duplicate=False)
@example(stem="reps", column=3, values=("timestamp[ms]", [None] * 6), duplicate=False)
def test_parquet_columns_of_any_type(pipeline, stem, column, values, duplicate):
    check_load(parquet_files(stem, column, *values, duplicate), pipeline)


# --------------------------------------------------------------------------- what fuzzing found

INF = float("inf")
# Minimal examples of the crash classes fuzzing found: (name, (the exception raised today, why),
# or None once fixed and kept as a regression test; the files)
FOUND = [
    # found in the pyarrow reader (before the DuckDB one), fixed there
    ("csv_header_names_equal_after_stripping", None,
     lambda: mutated_files([("duplicate_column", "reps", 0, " ")])),
    ("csv_infinite_goal_target", None, lambda: mutated_files([("value", "goals", 0, "target", "1e309")])),
    ("csv_minus_infinity_amount", None,
     lambda: mutated_files([("value", "opportunities", 0, "amount", "-Infinity")])),
    ("csv_duration_beyond_float32", None,
     lambda: mutated_files([("value", "activities", 0, "duration_minutes", "1e300")])),
    ("parquet_infinite_goal_target", None, lambda: parquet_files("goals", 3, "float64", [INF] * 6, False)),
    ("parquet_millisecond_timestamp_in_date_column", None,
     lambda: parquet_files("stage_history", 2, "timestamp[ms]", [1_790_000_000_001] + [None] * 5, False)),
    ("parquet_timestamp_in_number_column", None,
     lambda: parquet_files("goals", 3, "timestamp[ms]", [None] * 6, False)),
    ("parquet_date_in_number_column", None, lambda: parquet_files("activities", 3, "date32", [None] * 6, False)),
    ("parquet_timestamp_in_text_column", None,
     lambda: parquet_files("reps", 3, "timestamp[ms]", [None] * 6, False)),
    ("parquet_date_in_id_column", None, lambda: parquet_files("opportunities", 0, "date32", [None] * 6, False)),
    # found in the DuckDB reader: its parser's invalid state on carriage returns (fixed there)
    ("csv_carriage_return_ending_a_row", None,
     lambda: {**csv_files(BASE), "reps.csv": to_csv(BASE["reps"][:1]).encode() + b"0\r"}),
    ("csv_one_crlf_among_lf_rows", None, lambda: raw_edit(csv_files(BASE), [("insert", "reps", 30, "\r\n")])),
    # found in the header reader (a carriage return alone), fixed by the one header policy
    ("csv_carriage_return_in_the_header", None, lambda: {**csv_files(BASE), "reps.csv": b"\r0"}),
]


@pytest.mark.parametrize("files", [
    pytest.param(files, id=name, marks=[pytest.mark.xfail(strict=True, raises=open_[0], reason=f"issue 11: {open_[1]}")]
                 if open_ else [])
    for name, open_, files in FOUND])
def test_found_by_fuzzing(pipeline, files):
    check_load(files(), pipeline)
