"""The analytical engine that reads datasets and computes the heavy aggregates.

SQL is written once, in DuckDB's dialect. DuckDB, embedded, runs it by default; Spark
(engine.aggregation.spark) runs the same statements, translated by sqlglot, for orgs that
outgrow one machine. A backend knows how to:

- register an input file as a *text view*: every column as the text the file holds,
  trimmed, empty as NULL, in file order; malformed records (ragged rows, unterminated
  quotes, bytes that are not UTF-8) are set aside as `Reject`s with their row;
- number a view's records in file order (`numbered`), to name the rows of bad values;
- make tables from SQL, register small pandas frames, and return results as frames.

Rows are numbered as in the file: the header is row 1, the first record row 2. A
record holding a quoted newline is still one row.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import FairwayError
from engine.files import parquet_parts

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
MAX_LINE_BYTES = 1 << 20          # a record longer than this is malformed, not read (it sizes the read buffers)
MATERIALISE_BYTES = 64 << 20      # files up to this size are read once into a table (with `_i`)


@dataclass(frozen=True)
class Reject:
    """A record the CSV reader could not split into the header's columns."""

    row: int | None          # as in the file: the header is row 1
    kind: str                # too_many_columns, too_few_columns, unterminated_quote, encoding, too_long, other
    text: str                # the start of the record as read
    message: str


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_text(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def trimmed(x: str) -> str:
    """Text without surrounding spaces, NULL where empty (trimmed only where needed: cheaper)."""
    return (f"(CASE WHEN {x} = '' THEN NULL WHEN {x} LIKE ' %' OR {x} LIKE '% ' "
            f"THEN nullif(trim({x}), '') ELSE {x} END)")


def text_list(values) -> str:
    """`('a', 'b')` for an IN list; `(NULL)` when empty (matches nothing)."""
    values = list(values)
    return "(" + ", ".join(quote_text(v) for v in values) + ")" if values else "(NULL)"


class Backend:
    """What every engine offers the dataset reader and the aggregation queries."""

    name = "?"
    # whether a Parquet view of a partitioned folder carries each record's part file and row
    # there (`__part`, the file's path in the folder, and `__part_row`, 0-based)
    locates_parts = False

    # ----------------------------------------------------------------- running SQL
    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def frame(self, sql: str) -> pd.DataFrame:
        raise NotImplementedError

    def rows(self, sql: str) -> list[tuple]:
        return list(self.frame(sql).itertuples(index=False, name=None))

    def scalar(self, sql: str):
        rows = self.rows(sql)
        return rows[0][0] if rows else None

    def table(self, name: str, sql: str) -> None:
        """Make (or replace) table `name` from a query."""
        raise NotImplementedError

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """A pandas frame as a table (small frames: reps, goals)."""
        raise NotImplementedError

    def drop(self, name: str) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- reading files
    def text_view(self, name: str, path: Path, columns: list[str], delimiter: str = ",",
                  encoding: str = "utf-8") -> None:
        """Register a CSV file as a view of text columns named `columns` (the header's order)."""
        raise NotImplementedError

    def parquet_view(self, name: str, path: Path, columns: list[str]) -> None:
        """Register a Parquet file, or a partitioned folder of them, as a view of its columns
        cast to text."""
        raise NotImplementedError

    def parquet_schema(self, path: Path) -> list[tuple[str, str]]:
        """(column, type) of a Parquet file, or of a partitioned folder of them (the union of its
        parts' columns and its `key=value` folders' keys), without reading its data."""
        raise NotImplementedError

    def rejects(self, name: str) -> list[Reject]:
        """The malformed records of the text view `name` (after it has been scanned)."""
        return []

    def numbered(self, name: str) -> str:
        """SQL of the view `name` with `_i`, the 0-based index of each record kept, in file order."""
        raise NotImplementedError

    def untrimmed(self, name: str) -> str:
        """SQL of the records of view `name` as the file holds them: values not yet trimmed
        (an empty value may be '' or NULL). A query that folds millions of rows into a few
        groups trims the groups' keys instead of every row's. Default: the view itself."""
        return quote_ident(name)

    def close(self) -> None:
        pass


def mixed_line_endings(path: Path, head_bytes: int = 1 << 20) -> bool:
    """Whether the first MiB of a text file ends some lines in CRLF and others in LF alone."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(head_bytes)
    except OSError:
        return False
    crlf = head.count(b"\r\n")
    return 0 < crlf < head.count(b"\n")


def file_rows(indexes: np.ndarray, rejects: list[Reject]) -> np.ndarray:
    """Rows as in the file (header = row 1) of kept records, by their 0-based index `_i`.

    Malformed records are not kept: each one shifts the rows of the records after it.
    """
    idx = np.asarray(indexes, dtype=np.int64)
    skipped = np.sort(np.array([r.row for r in rejects if r.row is not None], dtype=np.int64))
    # the number of kept records before each skipped one
    before = skipped - 2 - np.arange(len(skipped))
    return idx + 2 + np.searchsorted(before, idx, side="right")


# --------------------------------------------------------------------------- DuckDB

_REJECT_KINDS = {"TOO MANY COLUMNS": "too_many_columns", "MISSING COLUMNS": "too_few_columns",
                 "UNQUOTED VALUE": "unterminated_quote", "INVALID ENCODING": "encoding",
                 "INVALID UNICODE": "encoding", "LINE SIZE OVER MAXIMUM": "too_long",
                 "CAST": "other"}


_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def memory_limit() -> str:
    """DuckDB's memory limit: FAIRWAY_DUCKDB_MEMORY (e.g. 2GB), else 1GB; beyond it DuckDB spills to disk."""
    value = os.environ.get("FAIRWAY_DUCKDB_MEMORY", "").strip() or "1GB"
    if not _MEMORY.match(value):
        raise FairwayError(f"FAIRWAY_DUCKDB_MEMORY={value!r} is not an amount of memory: "
                           f"write a number and a unit, e.g. 2GB or 512MB")
    return value.replace(" ", "")


class EngineMemoryError(FairwayError):
    """The analytical engine needed more memory than its limit, even spilling to disk."""


def out_of_memory(error: Exception) -> EngineMemoryError:
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return EngineMemoryError(
        f"the analytical engine ran out of memory at its limit of {memory_limit()} "
        f"({first.removeprefix('Out of Memory Error: ')}). Raise FAIRWAY_DUCKDB_MEMORY "
        f"(e.g. FAIRWAY_DUCKDB_MEMORY=4GB), give it fewer threads (FAIRWAY_DUCKDB_THREADS=1), "
        f"or use the Spark engine (--engine spark) for an org this size")


class CSVReadError(FairwayError):
    """DuckDB's CSV reader gave up on a file (beyond the records it sets aside as rejects):
    the file, and its line when the reader says it."""

    def __init__(self, path: str | None, line: int | None, message: str):
        self.path, self.line, self.reason = path, line, message
        super().__init__(f"{path or 'a CSV file'}{f':{line}' if line else ''}: {message}")

    def __reduce__(self):
        return self.__class__, (self.path, self.line, self.reason)


_CSV_FILE = re.compile(r"^\s*file\s*=\s*(.+?)\s*$", re.MULTILINE)
_CSV_LINE = re.compile(r"\b(?:CSV Error on Line|line)\s*:?\s*(\d+)", re.IGNORECASE)


def csv_read_error(error: Exception) -> CSVReadError | None:
    """The CSVReadError of a DuckDB error raised while reading a CSV file (its message names
    the file and the reader's options); None for any other error."""
    text = str(error)
    found = _CSV_FILE.search(text)
    if found is None or "CSV" not in text:
        return None
    line = _CSV_LINE.search(text)
    first = text.strip().splitlines()[0].removeprefix("Invalid Input Error: ")
    return CSVReadError(found.group(1), int(line.group(1)) if line else None, first[:300])


_REGEX_LOCK = threading.Lock()
_regex_connection = None      # open only inside `regex_checks()`: never kept (nor inherited by a fork)


@contextlib.contextmanager
def regex_checks():
    """One engine connection for the regex_error calls inside the block (a mapping's
    patterns, checked as it is read), closed after it."""
    global _regex_connection
    import duckdb
    with _REGEX_LOCK:
        outer = _regex_connection is not None
        if not outer:
            _regex_connection = duckdb.connect(config={"threads": 1})
    try:
        yield
    finally:
        if not outer:
            with _REGEX_LOCK:
                _regex_connection.close()
                _regex_connection = None


@functools.lru_cache(maxsize=4096)
def regex_error(pattern: str) -> str | None:
    """Why the engine cannot run `pattern` as a regular expression (DuckDB uses RE2: no
    look-around, no back-references, repetitions up to 1000), or None when it can.

    Inputs (mappings) are checked with this when they are read, not when a query first
    runs the pattern: Python's `re` accepts what RE2 refuses.
    """
    import duckdb
    with _REGEX_LOCK:
        con = _regex_connection or duckdb.connect(config={"threads": 1})
        try:
            con.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return first.removeprefix("Invalid Input Error: ")[:200]
        finally:
            if con is not _regex_connection:
                con.close()
    return None


def threads_setting() -> int:
    """DuckDB's threads: FAIRWAY_DUCKDB_THREADS, else one per core."""
    value = os.environ.get("FAIRWAY_DUCKDB_THREADS", "").strip()
    if not value:
        return max(os.cpu_count() or 1, 1)
    if not value.isdigit() or int(value) < 1:
        raise FairwayError(f"FAIRWAY_DUCKDB_THREADS={value!r} is not a number of threads (1 or more)")
    return int(value)


def _memory_guarded(cls):
    """Every method of `cls` that runs SQL turns DuckDB's out-of-memory error into an
    EngineMemoryError that says which setting to change, and an error of its CSV reader
    (whichever query scans the file: a large file is a view, read when first queried) into
    a CSVReadError naming the file: no traceback for the user."""
    def guard(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except self._duckdb.OutOfMemoryException as exc:
                raise out_of_memory(exc) from None
            except self._duckdb.Error as exc:
                unreadable = csv_read_error(exc)
                if unreadable is None:
                    raise
                raise unreadable from exc
        return run
    for name in ("execute", "frame", "rows", "scalar", "table", "register", "text_view",
                 "parquet_view", "parquet_schema", "rejects", "numbered"):
        setattr(cls, name, guard(getattr(cls, name)))
    return cls


@_memory_guarded
class DuckDBBackend(Backend):
    """DuckDB, embedded, in memory, spilling to a temporary folder beyond its memory limit."""

    name = "duckdb"
    locates_parts = True

    def __init__(self, threads: int | None = None):
        import duckdb
        self._duckdb = duckdb
        config = {"memory_limit": memory_limit(), "preserve_insertion_order": True,
                  "threads": threads or threads_setting()}      # settings checked before anything is made
        self._tmp = tempfile.TemporaryDirectory(prefix="fairway-duckdb-")
        try:
            self.con = duckdb.connect(config={**config, "temp_directory": self._tmp.name})
        except BaseException:
            self._tmp.cleanup()
            raise
        self.con.execute("SET TimeZone = 'UTC'")
        # DuckDB draws a bar on the standard output of a query that runs over two seconds, into
        # the JSON a command prints there: fairway reports its progress itself, on stderr
        self.con.execute("SET enable_progress_bar = false")
        # memory DuckDB frees (the fold of the activities: hundreds of megabytes on a large org) goes
        # back to the system while the analysis runs, not when the process ends
        self.con.execute("SET allocator_background_threads = true")
        # a hash join builds its table on the side the SQL puts on the right: the ids' lookups, the
        # typed tables. DuckDB would otherwise choose by its estimate of each side's rows, and it
        # knows nothing of a CSV file read as a view (it guesses a few dozen rows): it built
        # the whole of a 1.6 M-row Salesforce Task export into a hash table to probe it with
        # 28,000 deal ids, and ran out of memory at its limit where the lookup needs megabytes
        self.con.execute("SET disabled_optimizers = 'build_side_probe_side'")
        self._scans: dict[str, str] = {}
        self._numbered: set[str] = set()             # tables read once, each record with its `_i`
        self._untrimmed: dict[str, str] = {}         # large text views: their records as read

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def scalar(self, sql: str):
        row = self.con.execute(sql).fetchone()
        return row[0] if row else None

    def table(self, name: str, sql: str) -> None:
        # built aside then renamed: the query may read the table it replaces
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE __building AS {sql}")
        self.con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")
        self.con.execute(f"ALTER TABLE __building RENAME TO {quote_ident(name)}")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(f"_frame_{name}", frame)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS SELECT * FROM _frame_{name}")
        self.con.unregister(f"_frame_{name}")

    def drop(self, name: str) -> None:
        self._untrimmed.pop(name, None)
        self._numbered.discard(name)
        found = self.con.execute("SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND NOT internal "
                                 "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ?",
                                 [name, name]).fetchone()
        if found:                 # DuckDB refuses DROP TABLE of a view, and DROP VIEW of a table
            self.con.execute(f"DROP {found[0]} {quote_ident(name)}")

    def text_view(self, name: str, path: Path, columns: list[str], delimiter: str = ",",
                  encoding: str = "utf-8") -> None:
        types = "{" + ", ".join(f"{quote_text(c)}: 'VARCHAR'" for c in columns) + "}"
        rejects = f"rej_{name}"
        self._scans[name] = rejects
        encoding = {"utf8": "utf-8", "utf-8-sig": "utf-8", "latin1": "latin-1",
                    "iso-8859-1": "latin-1", "utf16": "utf-16"}.get(encoding.lower(), encoding.lower())
        if encoding not in ("utf-8", "utf-16", "latin-1"):
            path, encoding = self._transcoded(path, encoding), "utf-8"
        if encoding != "utf-16" and mixed_line_endings(path):
            path = self._lf_copy(path)
        source = (f"read_csv({quote_text(str(path))}, columns={types}, header=true, auto_detect=false, "
                  f"delim={quote_text(delimiter)}, quote='\"', escape='\"', encoding={quote_text(encoding)}, "
                  f"strict_mode=true, max_line_size={MAX_LINE_BYTES}, store_rejects=true, "
                  f"rejects_table={quote_text(rejects)}, rejects_scan={quote_text('scan_' + name)})")
        cols = ", ".join(f"{trimmed(quote_ident(c))} AS {quote_ident(c)}" for c in columns)
        self._view_or_table(name, path, f"SELECT {cols} FROM {source}")
        self._untrimmed.pop(name, None)
        if name not in self._numbered:               # a large file: its records, not trimmed
            self._untrimmed[name] = f"(SELECT {', '.join(quote_ident(c) for c in columns)} FROM {source})"

    def _view_or_table(self, name: str, path: Path, select: str) -> None:
        """A large file stays a view (scanned as needed); a small one is read once into a table,
        with `_i` numbering its records: the checks, lookups and typed tables read it again and
        again."""
        try:
            size = (sum(p.stat().st_size for p in parquet_parts(path)) if Path(path).is_dir()
                    else Path(path).stat().st_size)
            small = size <= MATERIALISE_BYTES
        except OSError:
            small = False
        if small:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS "
                             f"SELECT row_number() OVER () - 1 AS _i, * FROM ({select})")
            self._numbered.add(name)
        else:
            self._numbered.discard(name)
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS {select}")

    def _transcoded(self, path: Path, encoding: str) -> Path:
        """A UTF-8 copy of a file in another encoding (cp1252, ...), in the engine's temporary folder."""
        import codecs
        codecs.lookup(encoding)                      # LookupError: an unknown encoding
        out = Path(self._tmp.name) / f"utf8-{len(self._scans)}-{Path(path).name}"
        with open(path, encoding=encoding, errors="replace", newline="") as src, \
                open(out, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        return out

    def _lf_copy(self, path: Path) -> Path:
        """A copy of a file whose CRLF line endings are LF (line numbers unchanged), in the
        engine's temporary folder: DuckDB guesses one line ending per file and misreads the
        lines that end otherwise (as unterminated quotes, or a parser error)."""
        out = Path(self._tmp.name) / f"lf-{len(self._scans)}-{Path(path).name}"
        with open(path, "rb") as src, open(out, "wb") as dst:
            carry = b""
            while chunk := src.read(1 << 20):
                data = carry + chunk
                carry = b"\r" if data.endswith(b"\r") else b""
                dst.write(data[:len(data) - len(carry)].replace(b"\r\n", b"\n"))
            dst.write(carry)
        return out

    @staticmethod
    def _parquet(path: Path, located: bool = False) -> str:
        """read_parquet of a file, or of every Parquet file under a partitioned folder (the parts'
        columns united by name, `key=value` folders as columns), with each record's part file and
        row in it where `located`."""
        if not Path(path).is_dir():
            return f"read_parquet({quote_text(str(path))})"
        parts = "[" + ", ".join(quote_text(str(p)) for p in parquet_parts(path)) + "]"
        return f"read_parquet({parts}, union_by_name=true" + (", filename='__part_file', file_row_number=true)"
                                                               if located else ")")

    def parquet_schema(self, path: Path) -> list[tuple[str, str]]:
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {self._parquet(path)}").fetchall()
        return [(r[0], r[1]) for r in rows]

    def parquet_view(self, name: str, path: Path, columns: list[str]) -> None:
        cols = ", ".join(f"{trimmed(f'CAST({quote_ident(c)} AS VARCHAR)')} AS {quote_ident(c)}" for c in columns)
        if Path(path).is_dir():
            prefix = len(str(Path(path))) + 2          # the part's path within the folder
            cols += f", substr(__part_file, {prefix}) AS __part, file_row_number AS __part_row"
        self._view_or_table(name, path, f"SELECT {cols} FROM {self._parquet(path, located=True)}")

    def rejects(self, name: str) -> list[Reject]:
        table = self._scans.get(name)
        if table is None:
            return []
        try:
            rows = self.con.execute(
                f"SELECT line, error_type, csv_line, error_message FROM {quote_ident(table)} "
                f"WHERE scan_id = (SELECT max(scan_id) FROM {quote_ident(table)}) ORDER BY line").fetchall()
        except self._duckdb.CatalogException:
            return []             # the view was never scanned, or nothing was rejected
        out, seen = [], set()
        for line, kind, text, message in rows:
            if line in seen:
                continue          # one record, one problem (a record can break several rules)
            seen.add(line)
            out.append(Reject(row=int(line) if line is not None else None,
                              kind=_REJECT_KINDS.get(str(kind), "other"),
                              text=(text or "")[:200], message=str(message or "").splitlines()[0]))
        return out

    def untrimmed(self, name: str) -> str:
        return self._untrimmed.get(name, quote_ident(name))

    def numbered(self, name: str) -> str:
        if name in self._numbered:
            return quote_ident(name)
        return f"(SELECT row_number() OVER () - 1 AS _i, * FROM {quote_ident(name)})"

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._tmp.cleanup()


def make_backend(engine: str | None = None) -> Backend:
    """A new backend of the engine named (default: FAIRWAY_ENGINE, else duckdb)."""
    engine = (engine or os.environ.get("FAIRWAY_ENGINE") or DEFAULT_ENGINE).lower()
    if engine == "duckdb":
        return DuckDBBackend()
    if engine == "spark":
        from .spark import SparkBackend
        return SparkBackend()
    raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
