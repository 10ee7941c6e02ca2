"""Value formats of the exports, vectorised with pyarrow: each takes numpy arrays (or
lists) and returns a pyarrow array of text, null where the value is missing (NaT, NaN,
None). `write_csv` writes such columns; `as_text` turns typed numpy columns into them.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def text(values) -> pa.Array:
    """Strings as they are; None and NaN are null."""
    if isinstance(values, pa.Array):
        return values
    if np.ndim(values) == 0:
        raise TypeError("text() takes an array")
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)


@lru_cache(maxsize=None)
def _table(kind: str) -> pa.Array:
    """Every text of a small domain, to be taken by index: clocks, fractions."""
    if kind == "hms":
        h, m, sec = np.divmod(np.arange(86400), 3600)[0], np.arange(86400) // 60 % 60, np.arange(86400) % 60
        values = [f"{a:02d}:{b:02d}:{c:02d}" for a, b, c in zip(h, m, sec)]
    elif kind == "hm":
        values = [f"{a:02d}:{b:02d}" for a, b in divmod_range(1440, 60)]
    elif kind == "h12":
        values = [f"{(a % 12) or 12}:{b:02d} {'AM' if a < 12 else 'PM'}" for a, b in divmod_range(1440, 60)]
    elif kind == "ms":
        values = [f".{i:03d}" for i in range(1000)]
    else:   # "us6": a millisecond fraction as six digits, none when it is zero
        values = [""] + [f".{i:03d}000" for i in range(1, 1000)]
    return pa.array(values, type=pa.string())


def divmod_range(n: int, d: int):
    return (divmod(i, d) for i in range(n))


def _split(values, unit: str):
    """Days (text, by distinct day) and the position in the day, in `unit`; NaT as a mask."""
    a = np.asarray(values).astype(f"datetime64[{unit}]")
    nat = np.isnat(a)
    a = np.where(nat, np.datetime64(0, unit), a)
    day = a.astype("datetime64[D]")
    uniq, inverse = np.unique(day, return_inverse=True)
    days = pa.array(np.datetime_as_string(uniq, unit="D").astype(object)).take(pa.array(inverse.ravel()))
    within = (a - day.astype(f"datetime64[{unit}]")).astype(np.int64)
    return days, within, nat


def _null(out: pa.Array, nat: np.ndarray) -> pa.Array:
    if nat.any():
        return pc.if_else(pa.array(nat), pa.scalar(None, pa.string()), out)
    return out


def _pick(kind: str, index: np.ndarray) -> pa.Array:
    return _table(kind).take(pa.array(index))


def iso_ms_z(utc) -> pa.Array:
    """Salesforce date-times: 2026-03-14T14:05:09.000Z (UTC)."""
    days, ms, nat = _split(utc, "ms")
    out = pc.binary_join_element_wise(days, "T", _pick("hms", ms // 1000), _pick("ms", ms % 1000), "Z", "")
    return _null(out, nat)


def iso_date(day) -> pa.Array:
    """2026-03-14."""
    days, _, nat = _split(day, "D")
    return _null(days, nat)


def warehouse_ts(utc) -> pa.Array:
    """A warehouse's timestamps: 2026-03-14 14:05:09 UTC, with .ffffff when the fraction is
    not zero (BigQuery prints them so; fractions here are whole milliseconds)."""
    days, ms, nat = _split(utc, "ms")
    out = pc.binary_join_element_wise(days, " ", _pick("hms", ms // 1000), _pick("us6", ms % 1000),
                                      " UTC", "")
    return _null(out, nat)


def local_minutes(local) -> pa.Array:
    """HubSpot's export view: 2026-03-14 14:05 (the account's time zone)."""
    days, sec, nat = _split(local, "s")
    return _null(pc.binary_join_element_wise(days, _pick("hm", sec // 60), " "), nat)


def epoch_ms(utc) -> pa.Array:
    """HubSpot API timestamps: milliseconds since 1970 (UTC), as integers."""
    a = np.asarray(utc).astype("datetime64[ms]")
    return pa.array(a.astype(np.int64), mask=np.isnat(a))


def _num(values) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def us_date(day) -> pa.Array:
    """Salesforce reports in the English (US) locale: 3/14/2026."""
    d = np.asarray(day).astype("datetime64[D]")
    nat = np.isnat(d)
    d = np.where(nat, np.datetime64("1970-01-01"), d)
    uniq, inverse = np.unique(d, return_inverse=True)
    text_ = [f"{x.month}/{x.day}/{x.year}" for x in uniq.astype(object)]
    return _null(pa.array(text_, type=pa.string()).take(pa.array(inverse.ravel())), nat)


def us_datetime(local) -> pa.Array:
    """Salesforce reports: 3/14/2026 2:05 PM (the user's time zone)."""
    a = np.asarray(local).astype("datetime64[m]")
    nat = np.isnat(a)
    a = np.where(nat, np.datetime64("1970-01-01T00:00"), a)
    minutes = (a - a.astype("datetime64[D]")).astype(np.int64)
    out = pc.binary_join_element_wise(us_date(a), _pick("h12", minutes), " ")
    return _null(out, nat)


def money_usd(amount) -> pa.Array:
    """Salesforce reports' currency: $12,000.00."""
    return pa.array([None if x != x else f"${x:,.2f}" for x in np.asarray(amount, dtype=float)],
                    type=pa.string())


def decimal1(values) -> pa.Array:
    """Doubles as Salesforce's APIs write them: 12000.0, 12.5."""
    a = np.asarray(values, dtype=float)
    nan = np.isnan(a)
    whole = np.where(nan, 0, a)
    if np.all(whole == np.round(whole)):
        out = pc.binary_join_element_wise(_num(whole), "0", ".")
    else:
        out = pa.array([repr(float(x)) for x in whole], type=pa.string())
    return pc.if_else(pa.array(nan), pa.scalar(None, pa.string()), out)


def integer(values) -> pa.Array:
    a = np.asarray(values, dtype=float)
    nan = np.isnan(a)
    return pc.cast(pa.array(np.where(nan, 0, a).astype(np.int64), mask=nan), pa.string())


def flag(values, true="true", false="false") -> pa.Array:
    return pc.if_else(pa.array(np.asarray(values, dtype=bool)), true, false)


def typed_number(values, integral: bool = False) -> pa.Array:
    """A number column kept numeric (a warehouse CSV writes it bare)."""
    a = np.asarray(values, dtype=float)
    nan = np.isnan(a)
    if integral:
        return pa.array(np.where(nan, 0, a).astype(np.int64), mask=nan)
    return pa.array(a, mask=nan)


def sf_ids(prefix: str, keys, pod: str = "8d", start: int = 0) -> np.ndarray:
    """18-character Salesforce ids: key prefix, pod, a reserved 0, nine base-62 digits of the
    record number, and the three-character case checksum; '' for keys below 0."""
    keys = np.asarray(keys, dtype=np.int64)
    out = np.full(len(keys), "", dtype=object)
    ok = keys >= 0
    if not ok.any():
        return out
    number = keys[ok] + start
    digits = np.empty((len(number), 9), dtype=np.int64)
    for i in range(8, -1, -1):
        number, digits[:, i] = np.divmod(number, 62)
    head = prefix + pod + "0"
    head_upper = np.array([c.isupper() for c in head])
    upper = np.concatenate([np.broadcast_to(head_upper, (len(digits), 6)),
                            (digits >= 10) & (digits < 36)], axis=1)
    check = (upper.reshape(-1, 3, 5) * (1 << np.arange(5))).sum(axis=2)
    codes = np.concatenate([np.broadcast_to(np.array([ord(c) for c in head]), (len(digits), 6)),
                            np.frombuffer(BASE62.encode(), dtype=np.uint8)[digits],
                            np.frombuffer(SUFFIX.encode(), dtype=np.uint8)[check]], axis=1)
    data = np.ascontiguousarray(codes, dtype=np.uint8)
    offsets = (np.arange(len(data) + 1, dtype=np.int32) * 18)
    strings = pa.StringArray.from_buffers(len(data), pa.py_buffer(offsets.tobytes()),
                                          pa.py_buffer(data.tobytes()))
    out[ok] = strings.to_numpy(zero_copy_only=False)
    return out


def write_csv(columns: dict, path: Path, quoting: str = "needed",
              footer: list[str] | None = None) -> int:
    """Write columns (pyarrow arrays or numpy arrays of text) as a CSV file, LF line ends.

    quoting: 'all' quotes every field, empty ones as "" (Salesforce's exports); 'needed'
    quotes text, writes numbers and booleans bare and nulls as nothing (a warehouse's
    CSV); 'minimal' quotes only what must be (a spreadsheet's, or HubSpot's, CSV).
    A report's footer follows a blank quoted line. Returns the data rows written.
    """
    arrays = {name: col if isinstance(col, pa.Array) else text(col) for name, col in columns.items()}
    table = pa.table(arrays)
    if quoting == "all":
        table = pa.table({n: pc.fill_null(c, "") if pa.types.is_string(c.type) else c
                          for n, c in zip(table.column_names, table.columns)})
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="all_valid"))
    elif quoting == "needed":
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    else:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerow(table.column_names)
        special = [pc.any(pc.match_substring_regex(c, r'[,"\r\n]')).as_py()
                   for c in table.columns if pa.types.is_string(c.type)]
        if not any(special):    # nothing to quote: the fast writer, unquoted
            with open(path, "ab") as fh:
                pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        else:
            with open(path, "a", encoding="utf-8", newline="") as fh:
                cols = [["" if v is None else v for v in c.to_pylist()] for c in table.columns]
                csv.writer(fh, lineterminator="\n").writerows(zip(*cols))
    if footer:
        with open(path, "a", encoding="utf-8", newline="") as fh:
            fh.write('""\n')
            for line in footer:
                fh.write('"' + line.replace('"', '""') + '"\n')
    return table.num_rows


def synced_at(modified, as_of, rng: np.random.Generator, first_sync_days: int = 420) -> np.ndarray:
    """When a sync last wrote each row (UTC, milliseconds): some minutes to hours after the
    row last changed, or after the connector's first sync; never after the export."""
    as_of = np.datetime64(as_of, "ms")
    first = as_of - np.timedelta64(first_sync_days, "D")
    n = len(modified)
    base = np.maximum(np.asarray(modified).astype("datetime64[ms]"), first)
    late = base + rng.integers(60_000, 6 * 3_600_000, n).astype("timedelta64[ms]")
    return np.minimum(late, as_of - rng.integers(1_000, 600_000, n).astype("timedelta64[ms]"))
