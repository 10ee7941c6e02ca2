"""A catalog as files, `{relative path: text}`: the form versions and drafts are kept in.

The files on disk and a published version are the same thing: a folder reads into a
bundle (every file under engine.files' path policy), a bundle writes back to a folder or a
zip, and two bundles compare file by file as unified diffs (difflib). Only the places the
loader reads are part of a catalog (`CATALOG_FILE`); anything else found in a folder or a
zip is listed as left out, never silently taken.
"""
from __future__ import annotations

import difflib
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator, Mapping

from ..errors import CatalogError, Problem
from ..files import MIB, decode, human_size, limits, read_text

Bundle = dict[str, str]

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}"
CATALOG_FILE = re.compile(
    r"^(rules/(pipeline|thresholds|skills)\.yaml"
    rf"|rules/(gaps|flows|tests)/{_NAME}\.yaml"
    rf"|learning_library/{_NAME}\.yaml"
    rf"|learning_library/({_NAME}/){{1,4}}{_NAME}\.md)$")
MAX_FILES = 2000              # files in one catalog
MAX_TOTAL_BYTES = 64 * MIB    # all of its text


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str                # added, removed, changed
    diff: str                  # unified diff, a b
    added: int                 # lines
    removed: int


def path_problem(path: str) -> Problem | None:
    """None if `path` is a place the catalog loader reads; else why not."""
    if not CATALOG_FILE.match(path) or ".." in PurePosixPath(path).parts:
        return Problem(file=path, message="not a file the catalog reads",
                       expected="rules/pipeline.yaml, thresholds.yaml or skills.yaml; rules/gaps/, rules/flows/ "
                                "or rules/tests/ NAME.yaml; learning_library/NAME.yaml or a Markdown asset "
                                "learning_library/FOLDER/NAME.md (names of letters, digits, _ - .)")
    return None


def _limit(path: str) -> int:
    return limits().markdown_file if path.endswith(".md") else limits().yaml_file


def read_folder(root: Path | str) -> tuple[Bundle, list[Problem], list[str]]:
    """(files, problems, left out) of the catalog folder `root` (rules/ and learning_library/)."""
    root = Path(root)
    files: Bundle = {}
    problems: list[Problem] = []
    left_out: list[str] = []
    for top in ("rules", "learning_library"):
        if not (root / top).is_dir() or (root / top).is_symlink():
            problems.append(Problem(file=top, message="folder is missing",
                                    expected="a catalog folder holding rules/ and learning_library/"))
            continue
        for folder, dirs, names in os.walk(root / top):          # links are not followed
            here = Path(folder)
            for d in list(dirs):
                if (here / d).is_symlink():
                    left_out.append((here / d).relative_to(root).as_posix() + "/")
                    dirs.remove(d)
            for n in sorted(names):
                rel = (here / n).relative_to(root).as_posix()
                if path_problem(rel) is not None:
                    left_out.append(rel)
                    continue
                text, found = read_text(here / n, rel, max_bytes=_limit(rel))
                if text is None:
                    problems += found
                else:
                    files[rel] = text
    problems += size_problems(files)
    return dict(sorted(files.items())), problems, sorted(left_out)


def size_problems(files: Mapping[str, str]) -> list[Problem]:
    total = sum(len(t.encode("utf-8", "surrogatepass")) for t in files.values())
    out = []
    if len(files) > MAX_FILES:
        out.append(Problem(file="catalog", message=f"{len(files):,} files", expected=f"at most {MAX_FILES:,}"))
    if total > MAX_TOTAL_BYTES:
        out.append(Problem(file="catalog", message=f"{human_size(total)} of text",
                           expected=f"at most {human_size(MAX_TOTAL_BYTES)}"))
    for path, text in files.items():
        if len(text.encode("utf-8", "surrogatepass")) > _limit(path):
            out.append(Problem(file=path, message="file too large", expected=f"at most {human_size(_limit(path))}"))
    return out


def read_zip(data: bytes) -> tuple[Bundle, list[Problem], list[str]]:
    """(files, problems, left out) of a zip of a catalog; its files may sit in one top folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        return {}, [Problem(file="upload", message=f"not a zip file: {exc}")], []
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        if len(entries) > MAX_FILES * 2:
            return {}, [Problem(file="upload", message=f"{len(entries):,} entries in the zip",
                                expected=f"at most {MAX_FILES * 2:,}")], []
        names = [i.filename for i in entries]
        prefix = _common_prefix(names)
        files: Bundle = {}
        problems: list[Problem] = []
        left_out: list[str] = []
        total = 0
        for info in entries:
            rel = info.filename[len(prefix):]
            if path_problem(rel) is not None or info.flag_bits & 0x1:     # encrypted entries are not read
                left_out.append(info.filename)
                continue
            if info.file_size > _limit(rel):
                problems.append(Problem(file=rel, message=f"file too large ({human_size(info.file_size)})",
                                        expected=f"at most {human_size(_limit(rel))}"))
                continue
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                problems.append(Problem(file="upload", message="more text than a catalog holds",
                                        expected=f"at most {human_size(MAX_TOTAL_BYTES)} unpacked"))
                break
            with archive.open(info) as fh:
                raw = fh.read(_limit(rel) + 1)        # never more than the limit, whatever the header says
            if len(raw) > _limit(rel):
                problems.append(Problem(file=rel, message="file too large", expected=f"at most {human_size(_limit(rel))}"))
                continue
            text, problem = decode(raw, rel)
            if problem is not None:
                problems.append(problem)
            else:
                files[rel] = text.replace("\r\n", "\n")
    if not files and not problems:
        problems.append(Problem(file="upload", message="no catalog file in the zip",
                                expected="rules/... and learning_library/... (at its top, or in one folder)"))
    return dict(sorted(files.items())), problems, sorted(left_out)


def _common_prefix(names: list[str]) -> str:
    """The one top folder every entry sits in (a zip of a folder), when rules/ is inside it."""
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(tops) == 1 and all("/" in n for n in names):
        top = next(iter(tops))
        if top not in ("rules", "learning_library"):
            return top + "/"
    return ""


def to_zip(files: Mapping[str, str], folder: str = "") -> bytes:
    """The files as a zip (deterministic: same files, same bytes), optionally in a top folder."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{folder}/{path}" if folder else path, date_time=(2000, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[path].encode("utf-8"))
    return out.getvalue()


def write_folder(files: Mapping[str, str], folder: Path | str) -> Path:
    """Write the files under `folder` (created; it must not hold a catalog already)."""
    folder = Path(folder)
    bad = [p for p in (path_problem(f) for f in files) if p is not None]
    if bad:
        raise CatalogError(bad)
    folder.mkdir(parents=True, exist_ok=True)
    for top in ("rules", "learning_library"):
        if (folder / top).exists():
            raise CatalogError([Problem(file=str(folder / top), message="exists already",
                                        expected="a new or empty folder")])
        (folder / top).mkdir()
    for path, text in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")
    return folder


@contextmanager
def materialised(files: Mapping[str, str], parent: Path | str | None = None) -> Iterator[Path]:
    """The files written to a fresh temporary folder, removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix="fairway-catalog-", dir=parent))
    try:
        yield write_folder(files, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def digest(files: Mapping[str, str]) -> str:
    """A content hash of the files (names and texts)."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode() + b"\0" + files[path].encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


def changes(a: Mapping[str, str], b: Mapping[str, str], a_label: str = "a", b_label: str = "b") -> list[FileChange]:
    """What changed from `a` to `b`, file by file (unified diffs with 3 lines of context)."""
    out = []
    for path in sorted(set(a) | set(b)):
        old, new = a.get(path), b.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        lines = list(difflib.unified_diff((old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
                                          f"{a_label}/{path}" if old is not None else "/dev/null",
                                          f"{b_label}/{path}" if new is not None else "/dev/null"))
        text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
        added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
        out.append(FileChange(path=path, status=status, diff=text, added=added, removed=removed))
    return out


def diff_text(a: Mapping[str, str], b: Mapping[str, str], a_label: str = "a", b_label: str = "b") -> str:
    """The unified diff of two catalogs, every changed file."""
    return "".join(c.diff for c in changes(a, b, a_label, b_label))
