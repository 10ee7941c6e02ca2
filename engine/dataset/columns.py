"""Vectorised typing of text columns, reporting each bad value with its rows.

A column is handled as (codes, distinct values): checks and parsing run once
per distinct value, and rows are reached through the codes. Nothing loops over
rows in Python.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import Problem, did_you_mean

MAX_ROWS_SHOWN = 10      # rows listed per distinct problem; the rest are counted
_DATE_SHAPE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")
MIN_YEAR, MAX_YEAR = 1970, 2100


class Issues:
    """Problems of one file, grouped so that a million bad rows stay readable."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, message: str, **kw):
        self.problems.append(Problem(file=self.file, message=message, **kw))

    def rows(self, mask: np.ndarray, column: str, message: str, values=None, expected=None,
             suggestion=None, value=None):
        """One problem per bad row (first rows only), and a count of the others.

        `value` is the bad value when all rows share it, else `values` holds them by row.
        """
        idx = np.flatnonzero(mask)
        for i in idx[:MAX_ROWS_SHOWN]:
            if values is not None:
                value = values[i]
            self.problems.append(Problem(file=self.file, row=int(i) + 2, column=column,
                                         message=message, value=value, expected=expected,
                                         suggestion=suggestion))
        if len(idx) > MAX_ROWS_SHOWN:
            self.problems.append(Problem(
                file=self.file, column=column, row=int(idx[MAX_ROWS_SHOWN]) + 2,
                message=f"... and {len(idx) - MAX_ROWS_SHOWN:,} more rows with the same problem"))


    def coded(self, codes: np.ndarray, bad: np.ndarray, values: np.ndarray, column: str,
              message: str | Callable[[int], str], expected: str | None = None,
              suggest: Callable[[str], str | None] | None = None):
        """Rows whose distinct value is bad (`bad[code]`), first rows listed, the rest counted."""
        row_bad = np.append(bad, False)[codes]          # code -1 (empty) is never bad here
        idx = np.flatnonzero(row_bad)
        for i in idx[:MAX_ROWS_SHOWN]:
            j = int(codes[i])
            v = values[j]
            self.problems.append(Problem(
                file=self.file, row=int(i) + 2, column=column, value=v, expected=expected,
                message=message(j) if callable(message) else message,
                suggestion=suggest(v) if suggest else None))
        if len(idx) > MAX_ROWS_SHOWN:
            self.problems.append(Problem(
                file=self.file, column=column, row=int(idx[MAX_ROWS_SHOWN]) + 2,
                message=f"... and {len(idx) - MAX_ROWS_SHOWN:,} more rows with such problems"))


def encoded(arr: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values as str): codes index the values, -1 where null."""
    if isinstance(arr, pa.ChunkedArray):
        if pa.types.is_dictionary(arr.type):
            arr = arr.unify_dictionaries()
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not pa.types.is_dictionary(arr.type):
        if not pa.types.is_string(arr.type):
            arr = arr.cast(pa.string())
        arr = pc.dictionary_encode(arr)
    codes = pc.fill_null(arr.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    values = np.asarray(arr.dictionary.to_pylist(), dtype=object)
    return codes, values


def plain(arr: pa.ChunkedArray) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def parse_dates(arr: pa.ChunkedArray, column: str, issues: Issues) -> np.ndarray:
    """A datetime64[s] array; bad values reported (impossible, or not a date), NaT there."""
    t = arr.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        out = plain(arr).cast(pa.timestamp("s")).to_numpy(zero_copy_only=False)
        return out.astype("datetime64[s]")
    codes, values = encoded(arr)
    parsed, bad = _parse_date_values(values)
    if bad:
        mask = np.zeros(len(values), dtype=bool)
        mask[list(bad)] = True
        issues.coded(codes, mask, values, column, lambda j: bad[j],
                     expected="an ISO 8601 date such as 2026-10-03 or 2026-10-03T14:05:00")
    out = parsed[codes] if len(parsed) else np.full(len(codes), np.datetime64("NaT", "s"))
    out[codes < 0] = np.datetime64("NaT")
    return out


def _parse_date_values(values: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    if len(values) == 0:
        return np.array([], dtype="datetime64[s]"), {}
    try:
        parsed = pc.cast(pa.array(values, pa.string()), pa.timestamp("s")).to_numpy(
            zero_copy_only=False).astype("datetime64[s]")
        bad: dict[int, str] = {}
    except pa.ArrowInvalid:
        parsed = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
        bad = {}
        for j, v in enumerate(values):           # distinct values only, on the failure path
            text = str(v).strip()
            try:
                d = datetime.fromisoformat(text)
            except ValueError:
                bad[j] = "impossible date" if _DATE_SHAPE.match(text) else "not a date"
                continue
            if d.tzinfo is not None:
                d = d.astimezone(timezone.utc).replace(tzinfo=None)
            parsed[j] = np.datetime64(d.replace(microsecond=0), "s")
    years = parsed.astype("datetime64[Y]").astype(float) + 1970
    for j in np.flatnonzero((years < MIN_YEAR) | (years > MAX_YEAR)):
        if j not in bad:
            bad[int(j)] = f"implausible date (outside {MIN_YEAR}-{MAX_YEAR})"
            parsed[j] = np.datetime64("NaT")
    return parsed, bad


def parse_numbers(arr: pa.ChunkedArray, column: str, issues: Issues, non_negative: bool) -> np.ndarray:
    """A float64 array; NaN where empty or bad (bad reported), negatives reported."""
    a = plain(arr)
    if pa.types.is_dictionary(a.type):
        a = a.cast(pa.string())
    if pa.types.is_integer(a.type) or pa.types.is_floating(a.type) or pa.types.is_decimal(a.type):
        out = a.cast(pa.float64()).to_numpy(zero_copy_only=False)
    else:
        try:
            out = pc.cast(a, pa.float64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            text = pd.Series(a.to_numpy(zero_copy_only=False), dtype=object)
            out = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
            bad = np.isnan(out) & text.notna().to_numpy()
            issues.rows(bad, column, "not a number", values=text.to_numpy(), expected="a number")
    out = np.asarray(out, dtype=float)
    if np.isinf(out).any():
        issues.rows(np.isinf(out), column, "not a finite number", values=out, expected="a number")
        out[np.isinf(out)] = np.nan
    if non_negative:
        neg = out < 0
        if neg.any():
            issues.rows(neg, column, "negative value", values=out, expected="0 or more")
    return out


def check_enum(codes: np.ndarray, values: np.ndarray, allowed: list[str], column: str,
               issues: Issues, what: str) -> np.ndarray:
    """Map codes to positions in `allowed` (-1 where null or unknown); report unknowns."""
    pos = {v: i for i, v in enumerate(allowed)}
    mapping = np.array([pos.get(v, -2) for v in values] + [-1], dtype=np.int32)
    out = mapping[codes]              # code -1 picks the trailing -1
    unknown = mapping[:-1] == -2
    if unknown.any():
        issues.coded(codes, unknown, values, column, f"unknown {what}",
                     expected=f"one of {', '.join(allowed)}" if len(allowed) <= 12 else f"a {what}",
                     suggest=lambda v: did_you_mean(v, allowed))
        out[out == -2] = -1
    return out


def require(codes_or_values: np.ndarray, column: str, issues: Issues, is_null: np.ndarray | None = None):
    """Report rows where a required column is empty."""
    null = is_null if is_null is not None else codes_or_values < 0
    if null.any():
        issues.rows(null, column, "missing value", expected="a value (the column is required)")
