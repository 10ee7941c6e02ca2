"""The one path policy: which input files fairway opens, and how much of them it reads.

Every file read as input (dataset tables, export files, catalog YAML and Markdown,
mappings) goes through `check_input_file` first:

- only regular files: a folder, a device (/dev/zero), a pipe or a socket where a file
  belongs is refused, never read;
- no symbolic links: a link could point anywhere on the machine (and a line of that
  file would be quoted back in a message);
- a size limit, checked before a byte is read (configurable, see `Limits`).

Text is decoded strictly: a byte that is not valid in the encoding is reported with its
line, not as a byte offset.
"""
from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, did_you_mean

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class Limits:
    """Size limits of input files, in bytes. Each can be set by an environment variable."""

    dataset_file: int = 16 * GIB       # one table of a dataset or one export file
    yaml_file: int = 1 * MIB           # one catalog or mapping YAML file
    markdown_file: int = 1 * MIB       # one learning asset

    @classmethod
    def from_environment(cls) -> "Limits":
        out = {}
        for name, var in ENV.items():
            raw = os.environ.get(var)
            if raw:
                try:
                    out[name] = int(float(raw))
                except ValueError:
                    pass          # a bad setting keeps the default rather than failing every read
        return cls(**out)


ENV = {"dataset_file": "FAIRWAY_MAX_DATASET_FILE_BYTES", "yaml_file": "FAIRWAY_MAX_YAML_FILE_BYTES",
       "markdown_file": "FAIRWAY_MAX_MARKDOWN_FILE_BYTES"}


def limits() -> Limits:
    """The limits in force (defaults, or the environment's)."""
    return Limits.from_environment()


def human_size(n: int) -> str:
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} bytes"


def check_input_file(path: Path, display: str | None = None, max_bytes: int | None = None,
                     limit_name: str = "dataset_file") -> Problem | None:
    """None if `path` may be read as an input file; else the Problem saying why not.

    `max_bytes` defaults to the limit `limit_name` of `limits()`.
    """
    name = display or str(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Problem(file=name, message="file is missing")
    except OSError as exc:
        return Problem(file=name, message=f"cannot read the file: {exc.strerror or exc}")
    except ValueError:           # a NUL character in the name
        return Problem(file=name, message="not a valid file name", expected="a name without control characters")
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return Problem(file=name, message="a symbolic link: fairway reads only regular files, "
                                          "not links to files elsewhere",
                       expected="the file itself, copied into the folder")
    if stat.S_ISDIR(mode):
        return Problem(file=name, message="a folder where a file belongs", expected="a regular file")
    if not stat.S_ISREG(mode):
        return Problem(file=name, message="not a regular file (a device, pipe or socket)",
                       expected="a regular file")
    cap = max_bytes if max_bytes is not None else getattr(limits(), limit_name)
    if st.st_size > cap:
        return Problem(file=name, message=f"the file is {human_size(st.st_size)}, over the limit of "
                                          f"{human_size(cap)}",
                       expected=f"a smaller file (the limit is set by {ENV.get(limit_name, limit_name)})")
    return None


def read_text(path: Path, display: str | None = None, max_bytes: int | None = None,
              limit_name: str = "yaml_file", encoding: str = "utf-8") -> tuple[str | None, list[Problem]]:
    """The text of a small input file (YAML, Markdown), or None and the problems."""
    name = display or str(path)
    problem = check_input_file(path, name, max_bytes, limit_name)
    if problem is not None:
        return None, [problem]
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, [Problem(file=name, message=f"cannot read the file: {exc.strerror or exc}")]
    text, problem = decode(data, name, encoding)
    return text, [] if problem is None else [problem]


def decode(data: bytes, name: str, encoding: str = "utf-8") -> tuple[str | None, Problem | None]:
    """Bytes as text, or None and a problem naming the line of the first bad byte."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"          # a byte order mark is not content
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        found = sniff_encoding(data)
        hint = f" (it looks like {found})" if found and found != "utf-8" else ""
        return None, Problem(file=name, line=line, message=f"not valid {encoding.removesuffix('-sig')} "
                                                           f"text{hint}",
                             value=data[max(exc.start - 20, 0):exc.start + 20].decode(encoding, "replace"),
                             expected="a file saved as UTF-8")
    except LookupError:
        return None, Problem(file=name, message=f"unknown encoding {encoding!r}")


BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),   # UTF-32 before UTF-16:
         (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"))                     # their marks overlap


def sniff_encoding(head: bytes) -> str | None:
    """A guess of the encoding of a file from its first bytes: utf-16 (or utf-32) by its BOM
    or zero bytes, utf-8 when it decodes, else latin-1 (any byte decodes; often cp1252)."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding.lower()
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    sample = head[:4096]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if len(head) > len(sample) and exc.start >= len(sample) - 3:   # a character cut by the sample's end
            return "utf-8"
        return "latin-1 or windows-1252"


def parquet_parts(folder: Path) -> list[Path]:
    """The Parquet files of a partitioned folder (any depth; `.parquet` in any case), in name
    order: what the reader checks is what the engine reads (a glob of DuckDB's would skip
    `PART-0.PARQUET`)."""
    try:
        return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() == ".parquet" and not p.is_dir())
    except OSError:
        return []


def case_variants(folder: Path, name: str) -> list[str]:
    """Entries of `folder` whose name is `name` but for case (Reps.CSV for reps.csv)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    return sorted(e for e in entries if e.lower() == name.lower() and e != name)


def suggest_entry(folder: Path, name: str) -> str | None:
    """The entry of `folder` closest to `name` (case first, then spelling)."""
    variants = case_variants(folder, name)
    if variants:
        return variants[0]
    try:
        entries = os.listdir(folder)
    except OSError:
        return None
    return did_you_mean(name, entries)


# --------------------------------------------------------------------------- CSV text files

def not_utf8_text(head: bytes, name: str) -> Problem | None:
    """A CSV file that must be UTF-8 but is UTF-16 or UTF-32 (by its byte order mark or its
    zero bytes), or holds NUL bytes in `head` (its first bytes): the Problem naming the
    encoding, or the line of the first NUL byte.

    Such a file decodes as UTF-8 without an error (NUL is a character), so it would be read
    as garbage, or worse, accepted; a UTF-8 byte order mark is fine (it is not content).
    """
    found = next((encoding for bom, encoding in BOMS if head.startswith(bom)), None)
    how = "its byte order mark"
    if found is None and _utf16_zeros(head[:4096]):
        found, how = "UTF-16", "its zero bytes"
    if found is not None:
        return Problem(file=name, row=1, message=f"the file is {found} text (by {how}), not UTF-8",
                       expected="a file saved as UTF-8 (in Excel: CSV UTF-8)")
    at = head.find(b"\x00")
    if at != -1:
        return Problem(file=name, line=head.count(b"\n", 0, at) + 1, message="NUL bytes: not a text file",
                       expected="a CSV file saved as UTF-8")
    return None


def nul_bytes_at_the_end(path: Path, name: str, head_bytes: int, tail_bytes: int = MIB) -> Problem | None:
    """NUL bytes in the last MiB of a file longer than its head (a file cut short by a crash,
    or preallocated, ends in zeros: the CSV reader reads a run of them as nothing at all),
    with their line; None if there are none."""
    try:
        size = os.stat(path).st_size
        if size <= head_bytes:
            return None                                  # the head check saw all of it
        with open(path, "rb") as fh:
            fh.seek(max(size - tail_bytes, head_bytes))
            start = fh.tell()
            at = fh.read(tail_bytes).find(b"\x00")
            if at == -1:
                return None
            fh.seek(0)
            line, done, stop = 1, 0, start + at
            while done < stop and (chunk := fh.read(min(8 * MIB, stop - done))):
                line += chunk.count(b"\n")
                done += len(chunk)
    except OSError:
        return None
    return Problem(file=name, line=line, message="NUL bytes near the end of the file: not a text file "
                                                 "(a file cut short, or preallocated, ends in zero bytes)",
                   expected="a CSV file saved as UTF-8, whole")


def _utf16_zeros(sample: bytes) -> bool:
    """Whether `sample` looks like UTF-16 text of Latin letters: every other byte zero."""
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    zero = lambda b: b.count(0) / len(b)        # noqa: E731
    return (zero(odd) > 0.9 and zero(even) < 0.1) or (zero(even) > 0.9 and zero(odd) < 0.1)


MAX_COLUMNS = 2000     # a CRM object with every custom field has a few hundred; beyond, the SQL
                       # that reads each column as text takes minutes to plan


def first_record(text: str, name: str, delimiter: str = ",", limit: int = 1 << 19
                 ) -> tuple[list[str] | None, Problem | None]:
    """The cells of the first record of CSV `text` (its header), or None and the Problem.

    The record ends at the first line feed outside quotes. A carriage return that is not
    part of a CRLF (lines ending in CR alone, or a stray one) is refused here with the
    line, where the CSV readers would fail without one.
    """
    inside, end = False, None
    for i, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        elif ch == "\n" and not inside:
            end = i
            break
    if end is None:
        if len(text) >= limit:
            return None, Problem(file=name, row=1, message="no end of the header row in the first MiB: "
                                                           "not a CSV file",
                                 expected="a CSV file: a header row, then one row per record")
        end = len(text)
    record = text[:end].removesuffix("\r")
    if "\r" in record:
        alone = "\n" not in text
        return None, Problem(file=name, row=1,
                             message="lines that end in a carriage return alone (old Mac OS)" if alone
                             else "a carriage return (CR) inside the header row, not followed by a line feed",
                             expected="lines that end in LF or CRLF: save the file as CSV (UTF-8)")
    if record.count(delimiter) >= MAX_COLUMNS:       # before splitting: the count is cheap
        return None, Problem(file=name, row=1, message=f"the header has about {record.count(delimiter) + 1:,} columns, "
                                                       f"over the limit of {MAX_COLUMNS:,}",
                             expected="a table of ordinary width (leave out the columns that are not needed)")
    try:
        return next(csv.reader(io.StringIO(record, newline=""), delimiter=delimiter), []), None
    except csv.Error as exc:
        return None, Problem(file=name, row=1, message=f"the header row cannot be read: {exc}",
                             expected="a CSV header: names separated by commas")
