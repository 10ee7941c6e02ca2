"""An upload into a folder: the dataset's files, or one zip of them, within limits.

Sizes are counted while writing, never taken from what a zip declares: extraction stops at
the first byte over the limit of one file or of the whole upload, and at a compression
ratio no CSV export reaches. Only regular members are read: no links, devices, folders
posing as files, nested zips, absolute or '..' paths. Every problem is said in the admin
page's words; the caller removes the folder whatever happens.
"""
from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.errors import DatasetError, Problem, did_you_mean
from engine.files import human_size

DATASET_FILES = ("reps", "opportunities", "stage_history", "activities", "goals")
EXPECTED_NAMES = ", ".join(f"{s}.csv" for s in DATASET_FILES) + " (or .parquet)"
TABLE_EXTENSIONS = ("csv", "parquet", "txt", "tsv", "")     # names worth a "did you mean"
EXPORT_EXTENSIONS = ("csv", "parquet", "txt", "tsv")          # what an import with a mapping reads
CHUNK = 1024 * 1024
RATIO_FLOOR = CHUNK          # tiny files may compress very well: the ratio counts beyond 1 MiB
SERVER_FOLDER = "import larger datasets from a server folder (Datasets, Import a server folder)"

# the first bytes of files that are often saved under a .csv name by mistake
NOT_CSV = {b"PK\x03\x04": "a zip or an Excel workbook (.xlsx), not a CSV file",
           b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls), not a CSV file",
           b"%PDF": "a PDF document, not a CSV file",
           b"PAR1": "a Parquet file named .csv"}


class UploadRefused(DatasetError):
    """An upload refused before its files were read as a dataset."""

    what = "upload"


@dataclass(frozen=True)
class UploadLimits:
    file_bytes: int               # what one file may unpack to
    total_bytes: int              # what the whole upload may unpack to
    members: int = 50             # files in a zip
    ratio: int = 500              # unpacked / packed: beyond it, a zip bomb rather than an export

    @classmethod
    def from_config(cls, config) -> "UploadLimits":
        return cls(file_bytes=config["FAIRWAY_MAX_UPLOAD_FILE_BYTES"],
                   total_bytes=config["FAIRWAY_MAX_UPLOAD_TOTAL_BYTES"])


class Unpacker:
    """Writes the accepted files of one upload into `dest`, noting every problem."""

    def __init__(self, dest: Path, limits: UploadLimits, exports: bool = False):
        self.dest, self.limits = dest, limits
        self.exports = exports                    # a CRM export, for a mapping: any table file is taken
        self.left = limits.total_bytes           # of the whole upload
        self.problems: list[Problem] = []
        self.ignored: list[str] = []
        self.seen: set[str] = set()               # dataset files named so far (reps, goals...)
        self.written: list[str] = []
        self.full = False                         # the upload's total was reached: read no more

    def refuse(self, where: str, message: str, **kw) -> None:
        self.problems.append(Problem(file=where, message=message, **kw))

    # ----------------------------------------------------------------- names

    def accept(self, label: str, name: str) -> str | None:
        """The dataset file name to write `name` as, or None (a problem or an ignored file is noted)."""
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        if self.exports:
            return self.accept_export(label, name, ext)
        if stem in DATASET_FILES and ext in ("csv", "parquet"):
            if stem in self.seen:
                self.refuse(label, f"a second {stem} file", expected="each dataset file once")
                return None
            self.seen.add(stem)
            return name
        if ext.lower() == "zip":
            self.refuse(label, "a zip inside the zip: zips inside zips are not opened",
                        expected="the CSV or Parquet files themselves in one zip")
            return None
        close = did_you_mean(stem, DATASET_FILES) if ext.lower() in TABLE_EXTENSIONS else None
        if close:           # reps.CSV, opportunity.csv, goals.txt: a dataset file under a wrong name
            self.refuse(label, "not a dataset file name", value=name, expected=EXPECTED_NAMES,
                        suggestion=f"{close}.{ext.lower() if ext.lower() in ('csv', 'parquet') else 'csv'}")
        else:
            self.ignored.append(label)
        return None

    def accept_export(self, label: str, name: str, ext: str) -> str | None:
        """A file of a CRM export: any CSV or Parquet table (the mapping says which it reads), once."""
        if ext.lower() == "zip":
            self.refuse(label, "a zip inside the zip: zips inside zips are not opened",
                        expected="the export's CSV or Parquet files themselves in one zip")
            return None
        if ext.lower() not in EXPORT_EXTENSIONS or not name[:-len(ext) - 1].strip():
            self.ignored.append(label)
            return None
        if name.lower() in self.seen:             # the mapping matches names whatever their case
            self.refuse(label, f"a second file named {name} (names are matched whatever their case)",
                        expected="each export file once")
            return None
        self.seen.add(name.lower())
        return name

    # ----------------------------------------------------------------- bytes

    def copy(self, src, name: str, label: str, packed: int | None = None) -> None:
        """Copy a stream into dest/name, stopping at the first byte over a limit."""
        file_left = self.limits.file_bytes
        written = 0
        head = b""
        with open(self.dest / name, "wb") as out:
            while True:
                chunk = src.read(min(CHUNK, file_left, self.left) + 1)
                if not chunk:
                    break
                if not head:
                    head = chunk[:8]
                written += len(chunk)
                if len(chunk) > file_left:
                    return self.refuse(label, f"expands to more than {human_size(self.limits.file_bytes)}, "
                                              "the limit of one file; nothing was kept",
                                       expected=f"a smaller file, or {SERVER_FOLDER}")
                if len(chunk) > self.left:
                    self.full = True
                    return self.refuse(label, f"the upload expands to more than "
                                              f"{human_size(self.limits.total_bytes)} in all, the limit of "
                                              "one upload; nothing was kept",
                                       expected=f"fewer or smaller files, or {SERVER_FOLDER}")
                if packed is not None and written > RATIO_FLOOR and written > packed * self.limits.ratio:
                    return self.refuse(label, f"compressed more than {self.limits.ratio} to 1: a zip bomb "
                                              "rather than an export; nothing was kept",
                                       value=f"over {written:,} bytes from {packed:,}")
                file_left -= len(chunk)
                self.left -= len(chunk)
                out.write(chunk)
        self.check_content(label, name, head, written)
        self.written.append(name)

    def check_content(self, label: str, name: str, head: bytes, size: int) -> None:
        """Refuse what is plainly not the kind of file its name says."""
        if size == 0:
            return self.refuse(label, "an empty file (0 bytes)", expected="the file with its header row")
        if name.lower().endswith(".parquet"):
            if not head.startswith(b"PAR1"):
                self.refuse(label, "not a Parquet file", expected="a Parquet file, or the table saved as CSV")
            return None
        for magic, what in NOT_CSV.items():
            if head.startswith(magic):
                return self.refuse(label, f"this is {what}", expected="the table saved as CSV (UTF-8)")
        return None

    # ----------------------------------------------------------------- files and zips

    def files(self, uploads: list) -> None:
        for f in uploads:
            label = f.filename
            name = self.accept(label, PurePosixPath(f.filename.replace("\\", "/")).name)
            if name and not self.full:
                self.copy(f.stream, name, label)

    def zip(self, upload) -> None:
        label = PurePosixPath(upload.filename.replace("\\", "/")).name
        try:
            archive = zipfile.ZipFile(upload.stream)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            return self.refuse(label, f"not a zip file, or a damaged one ({exc})",
                               expected="a .zip made by a zip tool, or the CSV files themselves")
        with archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > self.limits.members:
                return self.refuse(label, f"{len(members)} files in the zip",
                                   expected=f"at most {self.limits.members}")
            for m in members:
                self.member(archive, m, f"{label}: {m.filename}")
        return None

    def member(self, archive: zipfile.ZipFile, m: zipfile.ZipInfo, where: str) -> None:
        parts = PurePosixPath(m.filename.replace("\\", "/")).parts
        if (not parts or m.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]
                or "\x00" in m.filename):
            return self.refuse(where, "unsafe path in the zip (absolute, '..' or a drive)",
                               expected="plain file names, at the top of the zip or in one folder")
        if parts[0] == "__MACOSX" or parts[-1].startswith("."):
            return None
        kind = stat.S_IFMT(m.external_attr >> 16) if m.create_system == 3 else 0
        if kind and kind != stat.S_IFREG:
            what = {stat.S_IFLNK: "a symbolic link", stat.S_IFDIR: "a folder"}.get(kind, "a device, pipe or socket")
            return self.refuse(where, f"{what} in the zip: only plain files are read",
                               expected="the file itself in the zip")
        name = self.accept(where, parts[-1])
        if name is None or self.full:
            return None
        if m.flag_bits & 0x1:
            return self.refuse(where, "encrypted: password-protected zips cannot be read",
                               expected="a zip without a password")
        if m.file_size > self.limits.file_bytes:     # what it declares is enough to refuse, never to accept
            return self.refuse(where, f"declares {human_size(m.file_size)}, over the limit of one file "
                                      f"({human_size(self.limits.file_bytes)})",
                               expected=f"a smaller file, or {SERVER_FOLDER}")
        try:
            with archive.open(m) as src:
                self.copy(src, name, where, packed=max(m.compress_size, 1))
        except NotImplementedError:
            self.refuse(where, "compressed with a method that cannot be read",
                        expected="a zip made with the usual compression (deflate)")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, OSError, EOFError, ValueError) as exc:
            self.refuse(where, f"the zip is damaged here and cannot be unpacked ({exc})")
        return None


def unpack_upload(uploads: list, dest: Path, limits: UploadLimits, exports: bool = False) -> list[str]:
    """Write the uploaded dataset files (or the one zip's) into `dest`, flat; with `exports`, the
    files of a CRM export that a mapping will read (any CSV or Parquet name).

    Returns the names ignored (not dataset files); raises UploadRefused listing every
    problem. On a refusal `dest` may hold partial files: the caller removes it.
    """
    unpacker = Unpacker(dest, limits, exports)
    if len(uploads) == 1 and uploads[0].filename.lower().endswith(".zip"):
        unpacker.zip(uploads[0])
    else:
        unpacker.files(uploads)
    if not unpacker.problems and not unpacker.written:
        unpacker.refuse(", ".join(u.filename for u in uploads)[:200] or "the upload",
                        "no export file (CSV or Parquet) in the upload" if exports else "no dataset file in the upload",
                        expected="the export's .csv or .parquet files" if exports else EXPECTED_NAMES)
    if unpacker.problems:
        raise UploadRefused(unpacker.problems)
    return unpacker.ignored
