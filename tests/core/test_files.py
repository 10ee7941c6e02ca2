"""The path policy: only regular files, no links, bounded sizes, decoding errors with lines."""
from __future__ import annotations

import os

from engine.files import Limits, case_variants, check_input_file, read_text, sniff_encoding


def test_a_regular_file_passes(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("a: 1\n")
    assert check_input_file(f) is None


def test_links_folders_and_devices_are_refused(tmp_path):
    target = tmp_path / "outside.txt"
    target.write_text("secret\n")
    (tmp_path / "d").mkdir()
    link = tmp_path / "d" / "reps.csv"
    os.symlink(target, link)
    assert "symbolic link" in check_input_file(link).message
    assert "folder where a file belongs" in check_input_file(tmp_path / "d").message
    assert "not a regular file" in check_input_file("/dev/zero").message
    assert check_input_file(tmp_path / "nope.csv").message == "file is missing"


def test_the_size_limit_is_checked_before_reading(tmp_path, monkeypatch):
    f = tmp_path / "big.yaml"
    f.write_bytes(b"x" * 2048)
    problem = check_input_file(f, "big.yaml", max_bytes=1024)
    assert "over the limit of 1.0 KiB" in problem.message
    monkeypatch.setenv("FAIRWAY_MAX_YAML_FILE_BYTES", "100")
    assert Limits.from_environment().yaml_file == 100
    text, problems = read_text(f, "big.yaml")
    assert text is None and "FAIRWAY_MAX_YAML_FILE_BYTES" in problems[0].expected


def test_bad_bytes_are_reported_with_their_line(tmp_path):
    f = tmp_path / "latin.yaml"
    f.write_bytes("a: 1\nb: 2\nc: caf\u00e9\n".encode("latin-1"))
    text, problems = read_text(f, "latin.yaml")
    assert text is None and problems[0].line == 3 and "latin-1" in problems[0].message


def test_encodings_are_sniffed():
    assert sniff_encoding("rep_id,name\n".encode("utf-16")) == "utf-16"
    assert sniff_encoding("caf\u00e9".encode()) == "utf-8"
    assert sniff_encoding("caf\u00e9 ok".encode("latin-1")).startswith("latin-1")


def test_names_that_differ_by_case_are_found(tmp_path):
    (tmp_path / "Reps.CSV").write_text("x\n")
    assert case_variants(tmp_path, "reps.csv") == ["Reps.CSV"]
