"""The one reader policy for CSV text (issue 11): encodings, carriage returns, NUL bytes and
the CSV reader's own failures, each refused with the file and, where there is one, the line."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.aggregation import backend as backend_module
from engine.aggregation.backend import CSVReadError, csv_read_error, regex_error
from engine.dataset import load_dataset
from engine.dataset.reader import read_header, stray_carriage_return
from engine.errors import DatasetError
from engine.files import first_record, not_utf8_text

HEADER = "rep_id,name,role,team,division\n"


@pytest.mark.parametrize("data, encoding, how", [
    (HEADER.encode("utf-16"), "UTF-16", "byte order mark"),
    (HEADER.encode("utf-16-be"), "UTF-16", "zero bytes"),
    (HEADER.encode("utf-16-le"), "UTF-16", "zero bytes"),
    (HEADER.encode("utf-32"), "UTF-32", "byte order mark"),
])
def test_utf16_and_utf32_are_refused_naming_the_encoding(data, encoding, how):
    p = not_utf8_text(data, "reps.csv")
    assert (p.file, p.row) == ("reps.csv", 1)
    assert f"{encoding} text (by its {how}), not UTF-8" in p.message and "UTF-8" in p.expected


def test_a_utf8_bom_and_plain_utf8_pass():
    assert not_utf8_text(b"\xef\xbb\xbf" + HEADER.encode(), "reps.csv") is None
    assert not_utf8_text("rep_id,name\nR1,José\n".encode(), "reps.csv") is None


def test_nul_bytes_are_refused_with_their_line():
    p = not_utf8_text(HEADER.encode() + b"R1,Nancy\n" + b"\x00" * 4096, "activities.csv")
    assert (p.file, p.line, p.message) == ("activities.csv", 3, "NUL bytes: not a text file")


def test_the_header_is_the_first_record_whatever_the_line_ending():
    assert first_record("a,b\r\n1,2\r\n", "f.csv") == (["a", "b"], None)
    assert first_record('"a\nb",c\n1,2\n', "f.csv") == (["a\nb", "c"], None)
    assert first_record("a;b\n", "f.csv", delimiter=";") == (["a", "b"], None)
    assert first_record("a,b", "f.csv") == (["a", "b"], None)


def test_a_carriage_return_alone_in_the_header_is_refused_with_its_line():
    names, p = first_record("\r0", "reps.csv")
    assert names is None and (p.file, p.row) == ("reps.csv", 1) and "carriage return" in p.message
    names, p = first_record("rep_id,na\rme\nR1,x\n", "reps.csv")
    assert names is None and "inside the header row" in p.message and "LF or CRLF" in p.expected
    names, p = first_record("rep_id,name\rR1,x\r", "reps.csv")          # old Mac OS line endings
    assert names is None and "carriage return alone" in p.message


def test_read_header_refuses_utf16_and_a_stray_cr(tmp_path):
    (tmp_path / "reps.csv").write_bytes(HEADER.encode("utf-16"))
    names, _, problems = read_header(tmp_path / "reps.csv", "reps.csv")
    assert names is None and "UTF-16" in problems[0].message
    (tmp_path / "reps.csv").write_bytes(b"rep_id\r,name\nR1,x\n")
    names, _, problems = read_header(tmp_path / "reps.csv", "reps.csv")
    assert names is None and problems[0].row == 1


def test_the_line_of_a_stray_carriage_return_is_found_across_chunks(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(b"a,b\r\n" * 3 + b"1,2\r3,4\n")
    assert stray_carriage_return(f) == 4
    f.write_bytes(b"a,b\n" + b"x" * ((1 << 20) - 5) + b"\r" + b"\n1,2\n")   # CRLF across a chunk's end
    assert stray_carriage_return(f) is None
    f.write_bytes(b"a,b\n" + b"x" * ((1 << 20) - 5) + b"\r" + b"y\n")        # CR alone at a chunk's end
    assert stray_carriage_return(f) == 2
    f.write_bytes(b"a,b\n1,2\r")                                            # a CR that ends the file
    assert stray_carriage_return(f) == 2


def test_a_duckdb_csv_error_names_its_file_and_line():
    err = csv_read_error(Exception("Invalid Input Error: CSV Error on Line: 42\nOriginal Line: x\n\n"
                                   "  file = /data/activities.csv\n  delimiter = ,\n"))
    assert isinstance(err, CSVReadError) and (err.path, err.line) == ("/data/activities.csv", 42)
    err = csv_read_error(Exception("Invalid Input Error: The CSV Parser state machine reached an invalid "
                                   "state.\n  file = /data/a.csv\n"))
    assert (err.path, err.line) == ("/data/a.csv", None) and err.reason.startswith("The CSV Parser")
    assert csv_read_error(Exception("Binder Error: column x not found")) is None


def test_regular_expressions_are_checked_as_the_engine_runs_them():
    assert regex_error("^(Closed )?Won$") is None and regex_error("[[:alpha:]]+") is None
    assert "invalid perl operator" in regex_error("(?<=A)E")
    assert regex_error("(a)\\1") and regex_error("a{99999}")


def test_a_large_file_the_reader_gives_up_on_is_a_located_problem(tmp_path, monkeypatch, pipeline):
    """A file over MATERIALISE_BYTES stays a view, read when first queried: DuckDB's strict parser
    stops there on a carriage return alone. The problem names the file and the CR's line, and the
    other files are still checked."""
    from corpus.datasets import make_base
    base = make_base(tmp_path / "base")
    folder = tmp_path / "data"
    shutil.copytree(base, folder)
    lines = (folder / "activities.csv").read_bytes().split(b"\n")
    lines[99] = lines[99].replace(b",2026-", b",20\r26-", 1)      # a carriage return alone, outside quotes
    assert b"\r" in lines[99]
    (folder / "activities.csv").write_bytes(b"\n".join(lines))
    rows = (folder / "goals.csv").read_text().split("\n")
    rows[5] = rows[5].replace(rows[5].split(",")[2], "activity.calls", 1)
    (folder / "goals.csv").write_text("\n".join(rows))
    monkeypatch.setattr(backend_module, "MATERIALISE_BYTES", 0)       # every file a view
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, pipeline)
    found = {(p.file, p.line, p.row) for p in err.value.problems}
    assert ("activities.csv", 100, None) in found, err.value.summary()
    assert ("goals.csv", None, 6) in found, err.value.summary()
    assert "carriage return" in str(err.value)


def small_dataset(folder: Path) -> Path:
    from core.test_dataset_fuzz import BASE, csv_files
    folder.mkdir()
    for name, data in csv_files(BASE).items():
        (folder / name).write_bytes(data)
    return folder


def test_mixed_line_endings_are_read_as_one_file(tmp_path, pipeline):
    """CRLF and LF in one file (files joined, or edited by hand): DuckDB guesses one ending per
    file and misread the others as unterminated quotes or a parser error."""
    folder = small_dataset(tmp_path / "data")
    lines = (folder / "opportunities.csv").read_bytes().split(b"\n")[:-1]
    lines = [b'"' + ln.replace(b",", b'","') + b'"' for ln in lines]          # every value quoted
    (folder / "opportunities.csv").write_bytes(b"".join(ln + (b"\r\n" if i % 2 else b"\n")
                                                        for i, ln in enumerate(lines)))
    ds = load_dataset(folder, pipeline)
    assert ds.rows["opportunities"] == len(lines) - 1


def test_a_header_of_too_many_columns_is_refused_at_once(tmp_path, pipeline):
    folder = small_dataset(tmp_path / "data")
    (folder / "reps.csv").write_text("rep_id," + ",".join(f"x{i}" for i in range(100_000)) + "\nR1\n")
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, pipeline)
    [p] = [p for p in err.value.problems if p.file == "reps.csv"]
    assert p.row == 1 and "100,001 columns, over the limit of 2,000" in p.message


def test_an_export_in_utf16_is_refused_naming_the_encoding(tmp_path, pipeline):
    from engine.errors import MappingError
    from engine.sources.importer import import_dataset
    from engine.sources.mapping import parse_mapping
    src = tmp_path / "src"
    src.mkdir()
    (src / "people.csv").write_bytes("Id,Name\nR1,Nancy Olson\n".encode("utf-16"))
    (src / "deals.csv").write_text("Id,Owner\nD1,R1\n")
    mapping = parse_mapping("""
reps:
  files: people.csv
  columns: {rep_id: Id, name: Name, role: {value: isr}, team: {value: T}, division: {value: D}}
opportunities:
  files: deals.csv
  columns: {opportunity_id: Id, rep_id: Owner, created_date: {value: "2026-01-05"}, status: {value: open},
            stage: {value: discovery}}
""", "m.yaml", pipeline)
    with pytest.raises(MappingError) as err:
        import_dataset(src, mapping, tmp_path / "out", pipeline)
    [p] = [p for p in err.value.problems if p.file == "people.csv"]
    assert "UTF-16 text" in p.message and "encoding:" in p.expected


@pytest.mark.parametrize("shape, message", [("fifo", "not a regular file"), ("folder", "a folder where a file belongs")])
def test_an_export_that_is_a_pipe_or_a_folder_is_refused_not_skipped(tmp_path, pipeline, shape, message):
    """goals.csv is optional in the mapping: a pipe or a folder of that name was skipped without a word."""
    import os
    from engine.errors import MappingError
    from engine.sources.importer import import_dataset
    from engine.sources.mapping import load_mapping, shipped_mappings
    src = Path(shutil.copytree(Path(__file__).parents[1] / "data" / "import" / "salesforce", tmp_path / "src"))
    (src / "goals.csv").unlink()
    os.mkfifo(src / "goals.csv") if shape == "fifo" else (src / "goals.csv").mkdir()
    mapping = load_mapping(shipped_mappings()["salesforce-report"], pipeline)
    with pytest.raises(MappingError) as err:
        import_dataset(src, mapping, tmp_path / "out", pipeline, dry_run=True)
    assert [(p.file, p.message) for p in err.value.problems] == [("goals.csv", message + (
        " (a device, pipe or socket)" if shape == "fifo" else ""))]


def test_nul_bytes_at_the_end_of_a_long_file_are_refused_with_their_line(tmp_path):
    """A file cut short by a crash, or preallocated, ends in zero bytes: DuckDB read a run of
    them as nothing, and the file was accepted."""
    from engine.files import nul_bytes_at_the_end
    f = tmp_path / "activities.csv"
    row = b"R1,2026-10-01,call,4\n"
    n = (2 << 20) // len(row)
    with open(f, "wb") as fh:
        fh.write(b"rep_id,date,type,duration_minutes\n" + row * n)
        fh.truncate(fh.tell() + (4 << 20))                       # a hole: zero bytes
    p = nul_bytes_at_the_end(f, "activities.csv", head_bytes=1 << 20)
    assert (p.file, p.line) == ("activities.csv", n + 2) and "NUL bytes near the end" in p.message
    names, _, problems = read_header(f, "activities.csv")
    assert names is None and problems == [p]
    f.write_bytes(b"rep_id,date,type,duration_minutes\n" + row * n)
    assert nul_bytes_at_the_end(f, "activities.csv", head_bytes=1 << 20) is None
