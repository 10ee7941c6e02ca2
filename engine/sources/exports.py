"""A folder of export files, as an import sees it: names matched whatever their case and
underscores, headers read once, each file registered with the engine as a text view.

`OpportunityHistory.csv` finds `opportunity_history.csv`, `OPPORTUNITYHISTORY.CSV` and
`opportunity_history.parquet` (a warehouse dump); `StageName` finds `stage_name` and
`STAGENAME`. Every file passes the path policy (engine.files) before it is read.
A table may be a partitioned folder of Parquet files (`Opportunity/part-00000.parquet`, in
`key=value` folders or not, as a warehouse unload or a data-lake sync writes it): the folder
is matched by its name and read as one table.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..aggregation.backend import Backend, EngineMemoryError, Reject
from ..dataset.reader import check_parts, is_partitioned
from ..errors import Problem, did_you_mean
from ..files import check_input_file, decode, first_record, not_utf8_text, nul_bytes_at_the_end

HEADER_BYTES = 1 << 20
SUFFIXES = (".csv", ".parquet", ".txt", ".tsv")


def norm(name: str) -> str:
    """A file or column name as matched: lower case, without underscores, spaces and dashes."""
    return re.sub(r"[_\s\-]+", "", name.strip().lower())


def stem_of(name: str) -> str:
    p = Path(name)
    return p.stem if p.suffix.lower() in SUFFIXES else p.name


@dataclass
class ExportFile:
    path: Path
    name: str                       # as named in problems (relative to the folder)
    columns: list[str]              # the header, stripped
    view: str
    encoding: str
    delimiter: str
    parquet: bool = False
    by_norm: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self):
        for c in self.columns:
            self.by_norm.setdefault(norm(c), []).append(c)

    def column(self, names: list[str]) -> str | None:
        """The first of `names` (alternatives) the file has, as written in its header."""
        for n in names:
            if n in self.columns:
                return n
            hits = self.by_norm.get(norm(n), [])
            if len(hits) == 1:
                return hits[0]
            if hits:
                exact = [h for h in hits if h.lower() == n.lower()]
                return (exact or hits)[0]
        return None

    def suggest(self, names: list[str]) -> str | None:
        return did_you_mean(names[0], self.columns)


class Exports:
    """The export files of one import, registered lazily with the engine."""

    def __init__(self, root: Path, backend: Backend):
        self.root = root
        self.b = backend
        self.files: dict[tuple[str, str, str], ExportFile] = {}
        self.problems: list[Problem] = []
        # every entry but folders, and folders named as files: a link, a pipe, a device or a
        # folder where an export belongs is matched by its name, then refused by the path
        # policy when opened (never skipped without a word)
        entries = sorted(root.rglob("*"))
        self._tables = [p for p in entries if is_partitioned(p)]
        self._tables = [p for p in self._tables if not any(t in p.parents for t in self._tables)]
        self._names = sorted(p for p in entries
                             if not any(t in p.parents for t in self._tables)
                             and (p.is_symlink() or not p.is_dir() or p.suffix.lower() in SUFFIXES
                                  or p in self._tables))

    def match(self, patterns: list[str]) -> list[Path]:
        """Files whose name (without its extension) matches a pattern, case and underscores aside."""
        out = []
        for pattern in patterns:
            want = norm(stem_of(pattern))
            for p in self._names:
                if p.suffix.lower() not in SUFFIXES and p not in self._tables:
                    continue
                if fnmatch.fnmatchcase(norm(stem_of(p.name)), want) and p not in out:
                    out.append(p)
        return out

    def listing(self, limit: int = 8) -> str:
        names = [p.relative_to(self.root).as_posix() for p in self._names]
        return (", ".join(names[:limit]) + (", ..." if len(names) > limit else "")) if names else "no files"

    def open(self, path: Path, encoding: str = "utf-8", delimiter: str = ",") -> ExportFile | None:
        """The file registered as a text view (once per encoding and delimiter); None if unusable."""
        key = (str(path), encoding, delimiter)
        if key in self.files:
            return self.files[key]
        name = path.relative_to(self.root).as_posix()
        parts = path in self._tables
        if parts:
            name += "/"
        found = check_parts(path, name) if parts else [p for p in [check_input_file(path, name)] if p]
        if found:
            self.problems += found
            self.files[key] = None
            return None
        view = f"x{len(self.files)}"
        try:
            if parts or path.suffix.lower() == ".parquet":
                columns = [c for c, _ in self.b.parquet_schema(path)]
                self.b.parquet_view(view, path, columns)
                f = ExportFile(path, name, [c.strip() for c in columns], view, encoding, delimiter, parquet=True)
            else:
                columns = self._header(path, name, encoding, delimiter)
                if columns is None:
                    self.files[key] = None
                    return None
                self.b.text_view(view, path, columns, delimiter=delimiter, encoding=encoding)
                f = ExportFile(path, name, columns, view, encoding, delimiter)
        except EngineMemoryError:
            raise                    # the engine's limit, not the file's fault
        except Exception as exc:     # noqa: BLE001 - whatever the reader says, it is this file's problem
            text = str(exc).strip().splitlines()
            self.problems.append(Problem(file=name, message=f"cannot read the file: {text[0][:300] if text else exc}"))
            self.files[key] = None
            return None
        self.files[key] = f
        return f

    def _header(self, path: Path, name: str, encoding: str, delimiter: str) -> list[str] | None:
        with open(path, "rb") as fh:
            head = fh.read(HEADER_BYTES)
        if not head.strip():
            self.problems.append(Problem(file=name, message="the file is empty", expected="a header row"))
            return None
        enc = "utf-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        if enc == "utf-8":
            problem = not_utf8_text(head, name) or nul_bytes_at_the_end(path, name, len(head))
            if problem is not None:
                self.problems.append(replace(problem, expected=f"{problem.expected}, or `encoding:` in the "
                                                               f"mapping's part"))
                return None
        text, problem = decode(head, name, enc)
        if text is None:
            # a character cut at the end of the first MiB is not a problem of the header
            text = head.decode(enc if enc != "utf-8" else "utf-8-sig", errors="ignore")
        header, problem = first_record(text, name, delimiter, limit=HEADER_BYTES // 2)
        if problem is not None:
            self.problems.append(problem)
            return None
        names = [h.strip() for h in header]
        if len(names) == 1 and delimiter == ",":
            for sep, word in ((";", "semicolons"), ("\t", "tabs")):
                if sep in names[0]:
                    self.problems.append(Problem(
                        file=name, row=1, message=f"the header has no commas but {word}", value=names[0][:80],
                        expected=f"a comma-separated file, or `delimiter: \"{sep}\"` in the mapping's part"))
                    return None
        seen: dict[str, str] = {}
        for h in names:
            if h.lower() in seen:
                self.problems.append(Problem(file=name, row=1, column=h, message="column appears twice in the header",
                                             expected="each column once"))
                return None
            seen[h.lower()] = h
        return names

    def rejects(self, f: ExportFile) -> list[Reject]:
        return self.b.rejects(f.view)
