"""Checks of a dataset file as SQL predicates, counted in one scan and located on failure.

A `Scan` is a file's text view with the columns parsed once per row (dates, numbers,
whether a referenced id exists). A `Check` is a predicate over it, true where a row is
bad. All checks of a file are counted in one scan; only those that fail are located (a
second scan numbering the rows, stopped after the first few hits). A million bad rows
stay readable: the first rows are listed, the rest counted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..aggregation.backend import Backend, Reject, file_rows
from ..errors import Problem

MAX_ROWS_SHOWN = 10      # rows listed per check; the rest are counted


@dataclass
class Scan:
    """A text view with parsed columns (`expr AS "__name"`) and the joins they need."""

    view: str
    columns: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    parts: bool = False           # the view is a partitioned folder: rows are located in its part files

    def sql(self, backend: Backend, numbered: bool = False) -> str:
        base = backend.numbered(self.view) if numbered else self.view
        extras = "".join(f", {c}" for c in self.columns)
        return f"(SELECT r.*{extras} FROM {base} AS r {' '.join(self.joins)})"


@dataclass(frozen=True)
class Check:
    column: str | None                    # the column named in problems
    message: str
    bad: str                              # SQL over the scan: true where the row is bad
    expected: str | None = None
    value: str | None = None              # SQL of the value shown (default: the column)
    suggest: Callable[[str], str | None] | None = None
    warning: bool = False                 # reported as a warning; the dataset is still accepted
    message_sql: str | None = None        # SQL of a message that depends on the value
    numbered: bool = False                # the predicate reads `_i` (the record's index)


def count_sql(checks: list[Check]) -> str:
    """The SELECT list that counts the bad rows of each check."""
    return ", ".join(f"count_if(coalesce({c.bad}, false)) AS c{i}" for i, c in enumerate(checks))


def run_checks(backend: Backend, scan: Scan, file: str, checks: list[Check],
               counts: list[int] | None = None, rejects: list[Reject] | None = None
               ) -> tuple[list[Problem], list[str]]:
    """(problems, warnings) of `checks` on `scan` of `file`.

    `counts` may be given when an earlier scan already counted them (see count_sql).
    """
    if not checks:
        return [], []
    if counts is None:
        numbered = any(c.numbered for c in checks)
        counts = list(backend.rows(f"SELECT {count_sql(checks)} FROM {scan.sql(backend, numbered)} AS s")[0])
    problems: list[Problem] = []
    warnings: list[str] = []
    for check, n in zip(checks, counts):
        n = int(n or 0)
        if n == 0:
            continue
        if check.warning:
            warnings.append(f"{file}: {n:,} row{'s' * (n != 1)} {check.message}")
            continue
        problems += locate(backend, scan, file, check, n, rejects or [])
    return problems, warnings


def locate(backend: Backend, scan: Scan, file: str, check: Check, count: int,
           rejects: list[Reject]) -> list[Problem]:
    """The first rows where `check` fails, as problems, and a count of the others."""
    value = check.value or (f'"{check.column}"' if check.column else "NULL")
    message = check.message_sql or "NULL"
    part = ", __part, __part_row" if scan.parts else ""
    rows = backend.rows(f"SELECT _i, CAST({value} AS VARCHAR), {message}{part} FROM {scan.sql(backend, True)} AS s "
                        f"WHERE coalesce({check.bad}, false) ORDER BY _i LIMIT {MAX_ROWS_SHOWN}")
    if scan.parts:          # a part of a partitioned folder, its rows numbered as a single Parquet file's
        places = [(f"{file}{r[3]}", int(r[4]) + 2) for r in rows]
    else:
        places = [(file, int(n)) for n in file_rows(np.array([r[0] for r in rows], dtype=np.int64), rejects)]
    out = [Problem(file=name, row=row, column=check.column, message=r[2] or check.message, value=r[1],
                   expected=check.expected, suggestion=check.suggest(r[1]) if check.suggest and r[1] else None)
           for (name, row), r in zip(places, rows)]
    if count > len(rows):
        out.append(Problem(file=file, column=check.column,
                           message=f"... and {count - len(rows):,} more rows with the same problem"))
    return out


def reject_problems(file: str, rejects: list[Reject], columns: int, hint: str | None = None) -> list[Problem]:
    """Malformed records as problems: every one named by its row (the first few listed)."""
    out = []
    for r in rejects[:MAX_ROWS_SHOWN]:
        if r.kind in ("too_many_columns", "too_few_columns"):
            found = r.message.rsplit("Found:", 1)[-1].strip() if "Found:" in r.message else "another number of"
            message = f"a row of {found} values where the header has {columns} columns"
            expected = "one value per column (quote values that hold the delimiter)"
        elif r.kind == "unterminated_quote":
            message = "a quote that is never closed: the rest of the file reads as one value"
            expected = 'values quoted as "..." with the closing quote; a quote inside a value doubled ("")'
        elif r.kind == "encoding":
            message = "bytes that are not valid UTF-8" + (f" ({hint})" if hint else "")
            expected = "a file saved as UTF-8"
        elif r.kind == "too_long":
            message = "a row longer than the reader takes (1 MiB)"
            expected = "rows of ordinary length"
        else:
            message = f"a row that cannot be read: {r.message}"
            expected = None
        out.append(Problem(file=file, row=r.row, message=message, value=r.text[:80], expected=expected))
    if len(rejects) > MAX_ROWS_SHOWN:
        out.append(Problem(file=file, row=rejects[MAX_ROWS_SHOWN].row,
                           message=f"... and {len(rejects) - MAX_ROWS_SHOWN:,} more rows that cannot be read"))
    return out
