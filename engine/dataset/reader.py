"""Find a dataset's files and register them with the backend as text views.

Before a byte of data is read, each file passes the path policy (engine.files: a
regular file, no link, within the size limit) and its header is read and checked
(encoding, delimiter, names twice). Data is then read by the backend as text, every
value as the file holds it, so that validation can name each bad value with its row.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ..aggregation.backend import Backend, EngineMemoryError
from ..errors import Problem, did_you_mean
from ..files import case_variants, check_input_file, sniff_encoding
from .contract import FileSpec

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

    def has(self, column: str) -> bool:
        return column in self.columns


def find_file(folder: Path, spec: FileSpec) -> tuple[Path | None, list[Problem]]:
    """The CSV or Parquet file of `spec` in `folder`, or None; problems say why not."""
    names = [f"{spec.stem}.csv", f"{spec.stem}.parquet"]
    present = [folder / n for n in names if (folder / n).exists() or (folder / n).is_symlink()]
    if len(present) > 1:
        return None, [Problem(file=f"{spec.stem}.*", message="both a CSV and a Parquet file",
                              expected="one file per table")]
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
    """(the header's names, the encoding to read with, problems) of a CSV file."""
    with open(path, "rb") as fh:
        head = fh.read(HEADER_BYTES)
    if not head.strip():
        return None, "utf-8", [Problem(file=name, message="the file is empty", expected="a header row")]
    encoding = sniff_encoding(head) or "utf-8"
    if encoding not in ("utf-8", "utf-16"):
        encoding = "utf-8"              # bytes that are not UTF-8 are reported with their rows
    text = head.decode("utf-16" if encoding == "utf-16" else "utf-8-sig", errors="replace")
    end = _header_end(text)
    if end is None:
        return None, encoding, [Problem(file=name, row=1, message="no end of the header row in the first "
                                                                  "MiB: not a CSV file",
                                        expected="a CSV file: a header row, then one row per record")]
    header = next(csv.reader(io.StringIO(text[:end])), [])
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


def _header_end(text: str) -> int | None:
    """Where the first record ends (a newline outside quotes)."""
    inside = False
    for i, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        elif ch == "\n" and not inside:
            return i
    return len(text) if len(text) < HEADER_BYTES // 2 else None


def open_source(backend: Backend, path: Path, spec: FileSpec) -> tuple[Source | None, list[Problem]]:
    """Register the file with the backend; problems if it cannot be read at all."""
    name = path.name
    view = f"raw_{spec.stem}"
    if path.suffix.lower() == ".parquet":
        try:
            schema = backend.parquet_schema(path)
        except EngineMemoryError:
            raise                     # the engine's limit, not the file's fault
        except Exception as exc:      # noqa: BLE001 - any reader failure is this file's problem
            return None, [Problem(file=name, message=f"not a readable Parquet file: {_first_line(exc)}")]
        nested = [(c, t) for c, t in schema if any(n in t.upper() for n in NESTED)]
        problems = [Problem(file=name, column=c, message=f"a nested column ({t}) where values belong",
                            expected="a column of plain values (text, numbers, dates)") for c, t in nested]
        names = [c for c, _ in schema]
        twice = sorted({c for c in names if [n.strip().casefold() for n in names].count(c.strip().casefold()) > 1})
        problems += [Problem(file=name, column=c, message="column appears twice") for c in twice]
        if problems:
            return None, problems
        backend.parquet_view(view, path, names)
        return Source(spec, path, name, [c.strip() for c in names], view, parquet=True), []
    names, encoding, problems = read_header(path, name)
    if names is None:
        return None, problems
    try:
        backend.text_view(view, path, names, encoding=encoding)
    except EngineMemoryError:
        raise
    except Exception as exc:          # noqa: BLE001 - any reader failure is this file's problem
        return None, [Problem(file=name, message=f"not a readable CSV file: {_first_line(exc)}")]
    return Source(spec, path, name, names, view, encoding=encoding), []


def missing_columns(source: Source) -> list[Problem]:
    return [Problem(file=source.name, row=1, column=c, message="required column is missing",
                    suggestion=did_you_mean(c, source.columns))
            for c in source.spec.required_columns if c not in source.columns]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
