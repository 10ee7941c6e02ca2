"""Find a dataset's files and register them with the backend as text views.

A table is one file, `<stem>.csv` or `<stem>.parquet`, or a partitioned folder of Parquet
files (`<stem>/` or `<stem>.parquet/`, as Spark, warehouse unloads and data-lake syncs
write them: part files, in `key=value/` subfolders or not), read as one table by the
backend without loading it whole.

Before a byte of data is read, each file passes the path policy (engine.files: a
regular file, no link, within the size limit) and its header is read and checked
(encoding, delimiter, names twice). Data is then read by the backend as text, every
value as the file holds it, so that validation can name each bad value with its row
(in a partitioned folder, its part file and its row there).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..aggregation.backend import Backend, CSVReadError, EngineMemoryError
from ..errors import Problem, did_you_mean
from ..files import case_variants, check_input_file, first_record, not_utf8_text, nul_bytes_at_the_end, parquet_parts
from .contract import FILES, FileSpec

HEADER_BYTES = 1 << 20          # the header must end within the first MiB
NESTED = ("[]", "STRUCT", "MAP", "UNION", "LIST")


@dataclass
class Source:
    """One file of the dataset, registered as the text view `view`."""

    spec: FileSpec
    path: Path
    name: str                     # as named in problems
    columns: list[str]            # the header, stripped
    view: str
    encoding: str = "utf-8"
    parquet: bool = False
    parts: bool = False           # a partitioned folder whose rows are located in its part files

    def has(self, column: str) -> bool:
        return column in self.columns


def table_of_folder(name: str) -> str | None:
    """The table a folder of this name holds when it is a partitioned folder (`activities/`,
    `activities.parquet/`): the contract's stem, or None."""
    stem = name[:-len(".parquet")] if name.endswith(".parquet") else name
    return stem if stem in {spec.stem for spec in FILES} else None


def is_partitioned(path: Path) -> bool:
    """Whether `path` is a partitioned folder of Parquet files (a real folder, not a link)."""
    return path.is_dir() and not path.is_symlink() and bool(parquet_parts(path))


def check_parts(folder: Path, name: str) -> list[Problem]:
    """Each part file of a partitioned folder passes the path policy (a regular file, no link,
    within the size limit); a link anywhere in the folder is refused (never followed)."""
    problems = []
    for entry in sorted(folder.rglob("*")):
        shown = f"{name}{entry.relative_to(folder).as_posix()}"
        if entry.is_symlink() or (entry.suffix.lower() == ".parquet" and not entry.is_dir()):
            problem = check_input_file(entry, shown)
            if problem is not None:
                problems.append(problem)
    return problems


def find_file(folder: Path, spec: FileSpec) -> tuple[Path | None, list[Problem]]:
    """The CSV or Parquet file of `spec` in `folder` (or its partitioned folder of Parquet
    files), or None; problems say why not."""
    names = [f"{spec.stem}.csv", f"{spec.stem}.parquet"]
    present = [folder / n for n in names if (folder / n).exists() or (folder / n).is_symlink()]
    present = [p for p in present if not (p.suffix == ".parquet" and p.is_dir() and not is_partitioned(p))]
    present += [p for p in (folder / spec.stem,) if is_partitioned(p)]
    if len(present) > 1:
        if not any(p.is_dir() for p in present):
            return None, [Problem(file=f"{spec.stem}.*", message="both a CSV and a Parquet file",
                                  expected="one file per table")]
        return None, [Problem(file=f"{spec.stem}.*", message="more than one file or folder for the table: "
                              + ", ".join(f"{p.name}/" if p.is_dir() else p.name for p in present),
                              expected="one file per table (or one folder of Parquet files)")]
    if present and is_partitioned(present[0]):
        problems = check_parts(present[0], f"{present[0].name}/")
        return (None, problems) if problems else (present[0], [])
    if present:
        problem = check_input_file(present[0], present[0].name)
        return (None, [problem]) if problem else (present[0], [])
    variants = [v for n in names for v in case_variants(folder, n)]
    if variants:
        return None, [Problem(file=variants[0], message="a file name that differs from the contract's only by case",
                              expected=f"{spec.stem}.csv or {spec.stem}.parquet (rename the file)",
                              suggestion=f"{spec.stem}{Path(variants[0]).suffix.lower()}")]
    if spec.required:
        return None, [Problem(file=f"{spec.stem}.csv", message="required file is missing",
                              expected=f"{spec.stem}.csv or {spec.stem}.parquet")]
    return None, []


def read_header(path: Path, name: str) -> tuple[list[str] | None, str, list[Problem]]:
    """(the header's names, the encoding to read with, problems) of a CSV file.

    The file must be UTF-8 (a byte order mark aside): UTF-16, UTF-32 and NUL bytes in the
    header are refused here, naming the encoding; so is a carriage return alone in the
    header (engine.files.first_record). Bytes that are not UTF-8 further on are reported
    with their rows by the reader.
    """
    with open(path, "rb") as fh:
        head = fh.read(HEADER_BYTES)
    if not head.strip():
        return None, "utf-8", [Problem(file=name, message="the file is empty", expected="a header row")]
    problem = not_utf8_text(head, name) or nul_bytes_at_the_end(path, name, len(head))
    if problem is not None:
        return None, "utf-8", [problem]
    text = head.decode("utf-8-sig", errors="replace")
    header, problem = first_record(text, name, limit=HEADER_BYTES // 2)
    if problem is not None:
        return None, "utf-8", [problem]
    encoding = "utf-8"
    names = [h.strip() for h in header]
    problems = []
    if len(names) == 1:
        for sep, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if sep in names[0]:
                problems.append(Problem(file=name, row=1, message=f"the header has no commas but {word}",
                                        value=names[0], expected="a comma-separated file (save it as CSV "
                                                                 "with commas)"))
                return None, encoding, problems
    folded: dict[str, str] = {}
    for h in names:
        key = h.casefold()
        if key in folded:
            problems.append(Problem(file=name, row=1, column=h, message="column appears twice in the header"
                                    + (f" (as {folded[key]!r} too)" if folded[key] != h else ""),
                                    expected="each column once"))
        folded.setdefault(key, h)
    if any(not h for h in names):
        problems.append(Problem(file=name, row=1, message="a column without a name in the header",
                                expected="a name for every column"))
    return (None if problems else names), encoding, problems


def open_source(backend: Backend, path: Path, spec: FileSpec) -> tuple[Source | None, list[Problem]]:
    """Register the file with the backend; problems if it cannot be read at all."""
    name = path.name
    view = f"raw_{spec.stem}"
    parts = is_partitioned(path)
    if parts:
        name = f"{path.name}/"           # problems name the part file after it: activities/month=1/part-0.parquet
    if parts or path.suffix.lower() == ".parquet":
        try:
            schema = backend.parquet_schema(path)
        except EngineMemoryError:
            raise                     # the engine's limit, not the file's fault
        except Exception as exc:      # noqa: BLE001 - any reader failure is this file's problem
            return None, [_unreadable_parquet(backend, path, name, exc)]
        nested = [(c, t) for c, t in schema if any(n in t.upper() for n in NESTED)]
        problems = [Problem(file=name, column=c, message=f"a nested column ({t}) where values belong",
                            expected="a column of plain values (text, numbers, dates)") for c, t in nested]
        names = [c for c, _ in schema]
        twice = sorted({c for c in names if [n.strip().casefold() for n in names].count(c.strip().casefold()) > 1})
        problems += [Problem(file=name, column=c, message="column appears twice") for c in twice]
        if problems:
            return None, problems
        backend.parquet_view(view, path, names)
        return Source(spec, path, name, [c.strip() for c in names], view, parquet=True,
                      parts=parts and backend.locates_parts), []
    names, encoding, problems = read_header(path, name)
    if names is None:
        return None, problems
    try:
        backend.text_view(view, path, names, encoding=encoding)
    except EngineMemoryError:
        raise
    except Exception as exc:          # noqa: BLE001 - any reader failure is this file's problem
        return None, [unreadable(name, exc, path)]
    return Source(spec, path, name, names, view, encoding=encoding), []


def _unreadable_parquet(backend: Backend, path: Path, name: str, exc: Exception) -> Problem:
    """The Problem of a Parquet file the reader refused; in a partitioned folder, of the first
    part it refuses (the reader's message names the server's path, not the part as the user knows it)."""
    if is_partitioned(path):
        for part in parquet_parts(path):
            try:
                backend.parquet_schema(part)
            except EngineMemoryError:
                raise
            except Exception as err:  # noqa: BLE001 - this part's problem
                shown = f"{name}{part.relative_to(path).as_posix()}"
                why = _first_line(err).replace(str(part), shown)
                return Problem(file=shown, message=f"not a readable Parquet file: {why}")
    return Problem(file=name, message=f"not a readable Parquet file: {_first_line(exc).replace(str(path), name)}")


def unreadable(name: str, exc: Exception, path: Path | None = None) -> Problem:
    """The Problem of a CSV file the reader gave up on: its line when the reader says it."""
    if isinstance(exc, CSVReadError):
        line = exc.line
        if line is None and "invalid state" in exc.reason and path is not None:
            # DuckDB's strict parser stops on a carriage return alone, without saying where
            line = stray_carriage_return(path)
            if line is not None:
                return Problem(file=name, line=line, message="a carriage return (CR) not followed by a line "
                                                             "feed: the reader cannot go on",
                               expected="lines ending in LF or CRLF (a CSV file saved as UTF-8)")
        return Problem(file=name, row=exc.line, message=f"not a readable CSV file: {exc.reason}",
                       expected="a CSV file saved as UTF-8, lines ending in LF or CRLF")
    return Problem(file=name, message=f"not a readable CSV file: {_first_line(exc)}")


def stray_carriage_return(path: Path, max_bytes: int = 256 << 20) -> int | None:
    """The line of the first carriage return not followed by a line feed in the first
    `max_bytes` of the file (quotes not considered: a hint for a refused file), or None."""
    line, chunk_size, done, tail = 1, 1 << 20, 0, b""
    try:
        with open(path, "rb") as fh:
            while done < max_bytes:
                chunk = fh.read(chunk_size)
                if not chunk:
                    return line if tail else None          # a CR that ends the file, or none
                data = tail + chunk
                at = _bare_cr(data)
                if at is not None:
                    return line + data.count(b"\n", 0, at)
                tail = data[-1:] if data.endswith(b"\r") else b""
                line += data.count(b"\n", 0, len(data) - len(tail))
                done += len(chunk)
    except OSError:
        return None
    return None


def _bare_cr(data: bytes) -> int | None:
    """The index of the first CR in `data` followed by a byte other than LF (not its last byte)."""
    start = 0
    while (i := data.find(b"\r", start, len(data) - 1)) != -1:
        if data[i + 1] != 0x0A:
            return i
        start = i + 1
    return None


def missing_columns(source: Source) -> list[Problem]:
    return [Problem(file=source.name, row=1, column=c, message="required column is missing",
                    suggestion=did_you_mean(c, source.columns))
            for c in source.spec.required_columns if c not in source.columns]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
