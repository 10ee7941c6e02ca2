"""Hostile and careless dataset uploads, and what the admin's upload page must say to each.

Each case builds its files from the valid ones of a demo org (`org`: name -> bytes) and
says what the page must show. tests/webapp/test_hostile_uploads.py posts every case through
the upload form and checks, besides: nothing imported (no dataset row, no kept copy), no
file left in the instance's temporary folder, no command-line wording (`--period`...).
The limits are lowered for the test (LIMITS) so that bombs stay small.
"""
from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass, field
from typing import Callable

MIB = 1024 * 1024
LIMITS = {"FAIRWAY_MAX_UPLOAD_FILE_BYTES": 2 * MIB, "FAIRWAY_MAX_UPLOAD_TOTAL_BYTES": 3 * MIB}


@dataclass(frozen=True)
class Upload:
    id: str
    build: Callable[[dict[str, bytes]], dict[str, bytes]]     # the org's files -> the files to upload
    says: tuple[str, ...]
    status: int = 200
    config: dict = field(default_factory=dict)                # on top of LIMITS
    fields: dict = field(default_factory=dict)                # the form's other fields (period...)


def zipped(members: dict[str, bytes | tuple[zipfile.ZipInfo, bytes]], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, content in members.items():
            if isinstance(content, tuple):
                z.writestr(*content)
            else:
                z.writestr(name, content)
    return buf.getvalue()


def special(name: str, mode: int, content: bytes = b"") -> tuple[zipfile.ZipInfo, bytes]:
    """A member that a Unix zip tool marks as a link, a device or a pipe."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (mode | 0o644) << 16
    return info, content


def marked_encrypted(data: bytes, name: str) -> bytes:
    """The zip with `name` flagged as encrypted (bit 0 of its flags), as a password-protected zip has it."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    local = info.header_offset
    raw[local + 6] |= 0x1                                # the local header's flags
    start = 0
    while (central := raw.find(b"PK\x01\x02", start)) >= 0:   # the central directory's entry of `name`
        length = int.from_bytes(raw[central + 28:central + 30], "little")
        if raw[central + 46:central + 46 + length] == name.encode():
            raw[central + 8] |= 0x1
        start = central + 4
    return bytes(raw)


def csv_rows(n_bytes: int, seed: int = 1) -> bytes:
    """A CSV-like text of about n_bytes that compresses like an export (about 4:1), not like a bomb."""
    import random
    rnd = random.Random(seed)
    lines, size = [b"rep_id,date,type,duration_minutes,opportunity_id"], 0
    while size < n_bytes:
        line = f"R{rnd.randint(1, 9999):04d},2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}," \
               f"{rnd.choice(['call', 'connect', 'email'])},{rnd.random() * 30:.2f},O{rnd.randint(1, 99999)}".encode()
        lines.append(line)
        size += len(line) + 1
    return b"\n".join(lines) + b"\n"


def lying_sizes(data: bytes, name: str, declared: int) -> bytes:
    """A zip whose headers declare `declared` bytes for `name`, whatever it holds."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
        real = info.file_size
    old, new = real.to_bytes(4, "little"), declared.to_bytes(4, "little")
    # the local header (offset 22) and the central directory entry (offset 24) carry the size
    local = info.header_offset
    assert raw[local + 22:local + 26] == old
    raw[local + 22:local + 26] = new
    central = raw.rfind(b"PK\x01\x02")
    assert raw[central + 24:central + 28] == old
    raw[central + 24:central + 28] = new
    return bytes(raw)


def with_reps(org, **files) -> dict[str, bytes]:
    return {"reps.csv": org["reps.csv"], "opportunities.csv": org["opportunities.csv"], **files}


def latin1(org) -> bytes:
    lines = org["reps.csv"].decode().splitlines()
    first = lines[1].split(",")
    lines[1] = lines[1].replace(first[1], "José Müller", 1)
    return ("\n".join(lines) + "\n").encode("latin-1")


def header_only(org) -> dict[str, bytes]:
    """Reps, and opportunities without a row: valid, but nothing has a date."""
    return {"reps.csv": org["reps.csv"], "opportunities.csv": org["opportunities.csv"].split(b"\n", 1)[0] + b"\n"}


UPLOADS: list[Upload] = [
    # ---------------------------------------------------------------- bombs: by size, by ratio, by lies
    Upload("zip-over-the-file-limit-below-the-ratio",
           lambda org: {"big.zip": zipped({**with_reps(org), "activities.csv": csv_rows(5 * MIB)})},
           ("activities.csv", "declares", "over the limit of one file (2.0 MiB)")),
    Upload("zip-over-the-total-limit",
           lambda org: {"big.zip": zipped({**with_reps(org), "activities.csv": csv_rows(int(1.6 * MIB)),
                                           "stage_history.csv": csv_rows(int(1.6 * MIB), seed=2)})},
           ("expands to more than 3.0 MiB in all, the limit of one upload", "import a server folder")),
    Upload("zip-lying-about-its-size",
           lambda org: {"lie.zip": lying_sizes(zipped({**with_reps(org), "activities.csv": csv_rows(5 * MIB)}),
                                               "activities.csv", 1000)},
           ("activities.csv", "damaged")),
    Upload("zip-bomb-by-ratio",
           lambda org: {"bomb.zip": zipped({"reps.csv": b"0" * (20 * MIB)})},
           ("reps.csv", "zip bomb"), config={"FAIRWAY_MAX_UPLOAD_FILE_BYTES": 64 * MIB,
                                            "FAIRWAY_MAX_UPLOAD_TOTAL_BYTES": 64 * MIB}),
    Upload("plain-file-over-the-file-limit",
           lambda org: with_reps(org, **{"activities.csv": csv_rows(int(2.5 * MIB))}),
           ("activities.csv", "expands to more than 2.0 MiB, the limit of one file")),
    Upload("plain-files-over-the-total-limit",
           lambda org: with_reps(org, **{"activities.csv": csv_rows(int(1.6 * MIB)),
                                         "stage_history.csv": csv_rows(int(1.6 * MIB), seed=3)}),
           ("the limit of one upload",)),
    Upload("request-over-the-body-limit",
           lambda org: with_reps(org, **{"activities.csv": csv_rows(int(1.5 * MIB))}),
           ("larger than 1.0 MiB", "server folder"), status=413, config={"MAX_CONTENT_LENGTH": MIB}),
    # ---------------------------------------------------------------- names and kinds of members
    Upload("zip-traversal", lambda org: {"t.zip": zipped({"../reps.csv": org["reps.csv"],
                                                          "opportunities.csv": org["opportunities.csv"]})},
           ("../reps.csv", "unsafe path in the zip")),
    Upload("zip-absolute-path", lambda org: {"t.zip": zipped({"/etc/reps.csv": org["reps.csv"]})},
           ("unsafe path in the zip",)),
    Upload("zip-windows-traversal", lambda org: {"t.zip": zipped({"..\\reps.csv": org["reps.csv"]})},
           ("unsafe path in the zip",)),
    Upload("zip-drive-letter", lambda org: {"t.zip": zipped({"C:/data/reps.csv": org["reps.csv"]})},
           ("unsafe path in the zip",)),
    Upload("zip-symlink-member", lambda org: {"l.zip": zipped({
        "reps.csv": special("reps.csv", stat.S_IFLNK, b"/etc/passwd"),
        "opportunities.csv": org["opportunities.csv"]})},
        ("reps.csv", "a symbolic link in the zip")),
    Upload("zip-device-member", lambda org: {"d.zip": zipped({
        "reps.csv": special("reps.csv", stat.S_IFCHR), "opportunities.csv": org["opportunities.csv"]})},
        ("a device, pipe or socket in the zip",)),
    Upload("zip-pipe-member", lambda org: {"p.zip": zipped({
        "reps.csv": special("reps.csv", stat.S_IFIFO), "opportunities.csv": org["opportunities.csv"]})},
        ("a device, pipe or socket in the zip",)),
    Upload("zip-folder-posing-as-a-file", lambda org: {"f.zip": zipped({
        "reps.csv": special("reps.csv", stat.S_IFDIR), "opportunities.csv": org["opportunities.csv"]})},
        ("a folder in the zip",)),
    Upload("zip-empty-member", lambda org: {"e.zip": zipped({**with_reps(org), "goals.csv": b""})},
           ("goals.csv", "an empty file (0 bytes)")),
    Upload("zip-nested", lambda org: {"outer.zip": zipped({"inner.zip": zipped(with_reps(org))})},
           ("inner.zip", "a zip inside the zip")),
    Upload("zip-encrypted-member", lambda org: {"x.zip": marked_encrypted(zipped(with_reps(org)), "reps.csv")},
           ("reps.csv", "password-protected")),
    Upload("zip-too-many-members", lambda org: {"many.zip": zipped({f"notes/{i}.txt": b"x" for i in range(60)})},
           ("60 files in the zip", "at most 50")),
    Upload("zip-twice-the-same-file", lambda org: {"twice.zip": zipped({"a/reps.csv": org["reps.csv"],
                                                                     "b/reps.csv": org["reps.csv"]})},
           ("a second reps file",)),
    Upload("not-a-zip", lambda org: {"data.zip": b"this is not a zip at all\n" * 10},
           ("data.zip", "not a zip file")),
    Upload("zip-of-nothing-useful", lambda org: {"n.zip": zipped({"README.txt": b"hello"})},
           ("no dataset file in the upload",)),
    # ---------------------------------------------------------------- files of the wrong kind
    Upload("workbook-named-csv", lambda org: with_reps(org, **{"reps.csv": zipped({"xl/workbook.xml": b"<x/>"})}),
           ("reps.csv", "an Excel workbook", "saved as CSV")),
    Upload("pdf-named-csv", lambda org: with_reps(org, **{"opportunities.csv": b"%PDF-1.7\n%binary"}),
           ("opportunities.csv", "a PDF document")),
    Upload("csv-named-parquet", lambda org: {"reps.parquet": org["reps.csv"],
                                             "opportunities.csv": org["opportunities.csv"]},
           ("reps.parquet", "not a Parquet file")),
    Upload("only-a-pdf", lambda org: {"report.pdf": b"%PDF-1.7"}, ("no dataset file in the upload",)),
    Upload("empty-csv", lambda org: with_reps(org, **{"goals.csv": b""}), ("goals.csv", "an empty file")),
    Upload("misnamed-csv", lambda org: {"reps.csv": org["reps.csv"], "opportunity.csv": org["opportunities.csv"]},
           ("not a dataset file name", "opportunities.csv")),
    Upload("csv-not-utf8", lambda org: with_reps(org, **{"reps.csv": latin1(org)}), ("reps.csv", "utf-8")),
    # ---------------------------------------------------------------- valid files the analysis cannot use
    Upload("nothing-dated", header_only, ("no dated events", "opportunities or activities with their dates")),
    Upload("month-outside-the-data", lambda org: with_reps(org), ("no data in 2019-01", "Month to review"),
           fields={"period": "2019-01"}),
]
