"""Fuzzing the import mapping engine (issue 11): the YAML mapping language and its application.

Whatever the mapping says (arbitrary text; documents of the language's own keys with any
values: regular expressions RE2 does not know, date formats, templates, maps, conditions,
lookups, nested to any depth) and whatever the export files hold (any text in any cell,
rows cut short or too long, quotes, carriage returns, NUL bytes), `parse_mapping` returns a
Mapping or raises MappingError, and `import_dataset` returns a report or raises a
ProblemsError whose every problem is located: the mapping file (with its line or key), an
export file (with its row where it names one), or a table of the dataset it makes. Never
another exception (warnings are errors here), never a hang (a 30 s alarm).

Derandomized, no example database: CI sees the same examples every run (about 20 s on two
busy cores, an import taking about a second); FAIRWAY_FUZZ_EXAMPLES=500 fuzzes deeper, with
new examples each run, locally. Crashes found are fixed at their root
and kept below as explicit examples.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.dataset.contract import FILES
from engine.errors import MappingError, Problem, ProblemsError
from engine.sources.importer import RESULT, import_dataset
from engine.sources.mapping import Mapping, parse_mapping
from engine.sources.report import ImportReport
from helpers import time_limit

EXAMPLES = int(os.environ.get("FAIRWAY_FUZZ_EXAMPLES") or 0)


def fuzz(examples: int):
    return settings(max_examples=EXAMPLES or examples, deadline=timedelta(seconds=10), derandomize=not EXAMPLES,
                    database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                          HealthCheck.filter_too_much])


MAPPING_FILE = "m.yaml"
TABLES = {spec.stem for spec in FILES}
DATASET_FILES = {f"{stem}.{ext}" for stem in TABLES for ext in ("csv", "parquet")}

# a small export of three files, every column used by the skeleton mapping below
EXPORTS: dict[str, list[list[str]]] = {
    "people.csv": [
        ["Id", "First", "Last", "Title", "Email", "Start", "Active", "Team"],
        ["R1", "Nancy", "Olson", "AE", "nancy@example.com", "2024-01-15", "true", "Closers"],
        ["R2", "Joe", "Tee", "SDR", "joe@example.com", "03/01/2025", "false", "Hunters"],
        ["M1", "Maria", "Boss", "Manager", "", "", "yes", "Closers"],
    ],
    "deals.csv": [
        ["Id", "Owner", "Created", "Stage", "Amount", "IsWon", "IsClosed", "CloseDate", "Reason"],
        ["D1", "R1", "2026-08-01", "Closed Won", "12000", "true", "true", "2026-10-03", ""],
        ["D2", "R1", "2026-08-02T10:00:00Z", "Demo", "8000.5", "false", "true", "2026-10-05", "Timing"],
        ["D3", "nancy@example.com", "1780000000000", "Proposal", "", "false", "false", "", ""],
    ],
    "tasks.csv": [
        ["Id", "Owner", "Date", "Type", "Minutes", "Deal", "Result"],
        ["T1", "R2", "2026-10-01", "Call", "240", "", "Connected"],
        ["T2", "R1", "2026-10-02", "Email", "", "D1", ""],
        ["T3", "R1", "10/02/2026", "Meeting", "1800", "D9", "Held"],
    ],
}
HEADERS = sorted({c for rows in EXPORTS.values() for c in rows[0]})

# the skeleton: a mapping that imports the export above; a fuzzed rule replaces one of its rules
SKELETON: dict = {
    "reps": {"files": "people.csv", "columns": {
        "rep_id": "Id", "name": {"template": "{First} {Last}"},
        "role": {"column": "Title", "map": {"AE": "isr", "SDR": "bdr"}, "unmapped": "drop"},
        "team": "Team", "division": {"value": "East"}, "email": {"column": "Email", "optional": True},
        "start_date": {"column": "Start", "date": ["iso", "%m/%d/%Y"]}}},
    "opportunities": {"files": "deals.csv", "columns": {
        "opportunity_id": "Id", "rep_id": {"column": "Owner", "rep_by": "id", "orphans": "drop"},
        "created_date": {"column": "Created", "date": ["auto"]},
        "status": {"flags": {"won": "IsWon", "closed": "IsClosed"}},
        "stage": {"column": "Stage", "map": {"Closed Won": "won", "Demo": "demo", "Proposal": "proposal"},
                  "unmapped": "discovery"},
        "amount": {"column": "Amount"}, "close_date": {"column": "CloseDate", "date": "iso"},
        "loss_reason": {"column": "Reason", "map": {"Timing": "timing"}, "unmapped": "keep"}}},
    "activities": {"files": "tasks.csv", "columns": {
        "rep_id": {"column": "Owner", "orphans": "drop"}, "date": {"column": "Date", "date": ["iso", "%m/%d/%Y"]},
        "type": {"column": "Type", "map": {"Call": "call", "Email": "email", "Meeting": "meeting_held"},
                 "unmapped": "drop"},
        "duration_minutes": {"column": "Minutes", "divide_by": 60},
        "opportunity_id": {"column": "Deal", "orphans": "blank"}, "activity_id": "Id"},
        "add_rows": [{"type": "connect", "when": {"column": "Result", "one_of": ["Connected"]}}]},
}


# --------------------------------------------------------------------------- checking an outcome

def check_mapping_problems(err: ProblemsError, text: str) -> None:
    """Every problem of a refused mapping names the mapping file, and a line of it or a key."""
    assert err.problems, "refused with no problem"
    lines = text.count("\n") + 2
    for p in err.problems:
        assert isinstance(p, Problem) and p.file == MAPPING_FILE, f"a problem of another file: {p}"
        assert p.line is None or 1 <= p.line <= lines, f"line {p.line} is not in the mapping: {p}"
        str(p)
        p.to_dict()
    err.summary()


def parsed_or_refused(text: str, pipeline) -> Mapping | None:
    try:
        with time_limit(30):
            mapping = parse_mapping(text, MAPPING_FILE, pipeline)
    except MappingError as err:
        check_mapping_problems(err, text)
        return None
    assert isinstance(mapping, Mapping)
    return mapping


def write_exports(folder: Path, files: dict[str, bytes]) -> dict[str, int]:
    """The export files written; the number of lines of each (rows are at most that)."""
    folder.mkdir()
    lines = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        lines[name] = data.count(b"\n") + data.count(b"\r") + 2
    return lines


def file_names(mapping: Mapping) -> set[str]:
    """Every file name or pattern the mapping gives (a missing file is named as the mapping says)."""
    out: set[str] = set()

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif key in ("files", "only_without", "requires") and isinstance(node, str):
            out.add(node)
    walk(mapping.model_dump())
    return out


def imported_or_refused(mapping: Mapping, files: dict[str, bytes], pipeline) -> None:
    """Import `files` through `mapping` (a dry run): a report, or problems each located."""
    named = file_names(mapping)
    with tempfile.TemporaryDirectory(prefix="mapfuzz-") as tmp:
        src = Path(tmp) / "exports"
        lines = write_exports(src, files)
        try:
            with time_limit(30):
                report = import_dataset(src, mapping, Path(tmp) / "out", pipeline, dry_run=True)
        except ProblemsError as err:
            assert err.problems, "refused with no problem"
            for p in err.problems:
                assert p.file in lines or p.file in named or p.file in (MAPPING_FILE, RESULT) or p.file in DATASET_FILES, \
                    f"a problem that names no export file, no mapping and no table: {p}"
                if p.file in lines and p.row is not None:
                    assert 1 <= p.row <= lines[p.file], f"row {p.row} is not in {p.file}: {p}"
                str(p)
                p.to_dict()
            err.summary()
            return
        assert isinstance(report, ImportReport)
        assert not (Path(tmp) / "out").exists(), "a dry run wrote the dataset"


def to_csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def export_files(tables: dict[str, list[list[str]]] = EXPORTS) -> dict[str, bytes]:
    return {name: to_csv(rows) for name, rows in tables.items()}


def dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def test_the_skeleton_imports(pipeline):
    mapping = parse_mapping(dump(SKELETON), MAPPING_FILE, pipeline)
    with tempfile.TemporaryDirectory() as tmp:
        write_exports(Path(tmp) / "exports", export_files())
        report = import_dataset(Path(tmp) / "exports", mapping, Path(tmp) / "out", pipeline)
        assert (Path(tmp) / "out" / "reps.csv").is_file()
    assert report.dataset is not None


# --------------------------------------------------------------------------- the language's pieces

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
NAMES = st.one_of(st.sampled_from(HEADERS), st.sampled_from(HEADERS).map(str.upper),
                  st.text(max_size=10), st.sampled_from(["", " ", "Id'", 'Ti"tle', "{x}", "%", "\\", "a.b"]))
WORDS = st.one_of(st.sampled_from(["isr", "bdr", "won", "lost", "open", "demo", "discovery", "proposal", "call",
                                   "connect", "email", "meeting_held", "meeting_scheduled", "timing", "keep",
                                   "drop", "blank", "error", "$timezone", "${pipeline}", "$nope", "''", "'"]),
                  st.text(max_size=10))
REGEXES = st.one_of(st.sampled_from(["^A", "(?=A)", "(?<=A)E", "(a)\\1", "a{2,}", "[", "\\d+", ".*", "(a|b)*c",
                                     "(?i)won", "(?P<x>a)", "\\", "a{99999}", "(?s).", "\\p{L}", "[[:alpha:]]",
                                     "^$", "(", "a**"]),
                    st.text(max_size=8))
DATE_FORMATS = st.one_of(st.sampled_from(["auto", "iso", "epoch_ms", "epoch_s", "%Y-%m-%d", "%m/%d/%Y",
                                          "%d.%m.%Y %H:%M", "%Y%m%d", "%Q", "%", "%%", "%s", "%Y-%m-%dT%H:%M:%S%z",
                                          "%b %d, %Y", "%j", "%G-W%V-%u"]),
                         st.text(max_size=8))
NUMBERS = st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5))


def names_or_list(names=NAMES):
    return st.one_of(names, st.lists(names, min_size=0, max_size=3))


CONDITIONS = st.deferred(lambda: st.one_of(
    st.fixed_dictionaries({"column": names_or_list()}, optional={
        "one_of": names_or_list(WORDS), "none_of": names_or_list(WORDS), "filled": st.booleans(),
        "prefix": names_or_list(WORDS), "matches": REGEXES, "same_as": names_or_list(), "present": st.booleans(),
        "means": st.dictionaries(st.sampled_from(["call_results", "roles", "nope"]), names_or_list(WORDS),
                                 max_size=2),
        "optional": st.booleans()}),
    st.fixed_dictionaries({"any": st.lists(CONDITIONS, max_size=2)}),
    st.fixed_dictionaries({"all": st.lists(CONDITIONS, max_size=2)}),
    st.fixed_dictionaries({"not": CONDITIONS}),
    SCALARS,
))

SOURCES = st.deferred(lambda: st.one_of(
    NAMES,                                                     # a bare column name
    st.fixed_dictionaries({"column": names_or_list()}),
    st.fixed_dictionaries({"value": st.one_of(WORDS, SCALARS)}),
    st.fixed_dictionaries({"template": st.one_of(
        st.lists(NAMES, min_size=1, max_size=3).map(lambda ns: " ".join("{" + n + "}" for n in ns)),
        st.text(max_size=12), st.sampled_from(["{}", "{0}", "{a.b}", "{a!r}", "{a:>999}", "{{a}}", "{", "}"]))}),
    st.fixed_dictionaries({"flag": names_or_list()}),
    st.fixed_dictionaries({"flags": st.fixed_dictionaries({"won": names_or_list(), "closed": names_or_list()})}),
    st.fixed_dictionaries({"first_of": st.lists(RULES, min_size=0, max_size=2)}),
    st.fixed_dictionaries({"lookup": st.fixed_dictionaries(
        {"files": names_or_list(st.sampled_from(sorted(EXPORTS)) | st.text(max_size=6)),
         "match": names_or_list(), "by": RULES, "take": RULES},
        optional={"where": st.lists(CONDITIONS, max_size=1),
                  "pick": st.fixed_dictionaries({}, optional={"first_by": NAMES, "last_by": NAMES})})}),
))

STEPS = st.fixed_dictionaries({}, optional={
    "optional": st.booleans(), "when": CONDITIONS, "take_first": st.text(max_size=3),
    "map": st.one_of(st.dictionaries(WORDS | NAMES, WORDS, max_size=4), WORDS),
    "patterns": st.dictionaries(REGEXES, WORDS, max_size=3),
    "unmapped": WORDS, "if_empty": st.sampled_from(["keep", "drop", "nope"]),
    "rep_by": st.sampled_from(["id", "name", "email", "nam"]), "rep_roles": names_or_list(WORDS),
    "orphans": st.sampled_from(["drop", "blank", "error", "keep"]),
    "date": st.one_of(DATE_FORMATS, st.lists(DATE_FORMATS, max_size=3)),
    "divide_by": NUMBERS, "default": st.one_of(WORDS, SCALARS), "derive_closed": st.booleans(),
    "nonsense_key": SCALARS,
})


def _rule(source, steps):
    if isinstance(source, dict):
        return {**steps, **source}
    return source if not steps else {**steps, "column": source}


RULES = st.builds(_rule, SOURCES, STEPS)
TARGETS = [(stem, column) for stem, part in SKELETON.items() for column in part["columns"]]
PART_KEYS = st.fixed_dictionaries({}, optional={
    "where": st.lists(CONDITIONS, max_size=2), "deleted": names_or_list(), "optional": st.booleans(),
    "skip_footer": st.booleans(), "delimiter": st.sampled_from([",", ";", "\t", "", ",,", '"']),
    "encoding": st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252", "nope", ""]),
    "files": names_or_list(st.sampled_from(sorted(EXPORTS)) | st.sampled_from(["*", "../x", "/etc/passwd", ""])),
    "fields": st.dictionaries(st.text(max_size=6), RULES, max_size=2),
    "only_without": names_or_list(), "requires": names_or_list(),
})
# a change to the skeleton: (table, column or None for a new one, rule); or a part's keys
EDITS = st.one_of(
    st.tuples(st.sampled_from(TARGETS), RULES).map(lambda t: ("rule", t[0][0], t[0][1], t[1])),
    st.tuples(st.sampled_from(sorted(SKELETON)), st.text(max_size=10), RULES).map(lambda t: ("rule", *t)),
    st.tuples(st.sampled_from(sorted(SKELETON)), PART_KEYS).map(lambda t: ("part", *t)),
    st.tuples(st.sampled_from(sorted(SKELETON)), SCALARS).map(lambda t: ("replace_part", *t)),
    st.tuples(st.sampled_from(["settings", "vocabularies", "detect", "goals", "stage_history", "nope"]),
              st.one_of(SCALARS, st.dictionaries(st.text(max_size=6), SCALARS, max_size=2)))
      .map(lambda t: ("top", *t)),
)


def edited(edits) -> dict:
    doc = yaml.safe_load(dump(SKELETON))      # a deep copy
    for kind, stem, *args in edits:
        part = doc.get(stem)
        if kind == "rule" and isinstance(part, dict) and isinstance(part.get("columns"), dict):
            part["columns"][args[0]] = args[1]
        elif kind == "part" and isinstance(part, dict):
            part.update(args[0])
        elif kind == "replace_part":
            doc[stem] = args[0]
        elif kind == "top":
            doc[stem] = args[0]
    return doc


# --------------------------------------------------------------------------- the mapping alone

@fuzz(100)
@given(text=st.text(max_size=400))
def test_arbitrary_text_as_a_mapping(pipeline, text):
    parsed_or_refused(text, pipeline)


@fuzz(40)
@given(edits=st.lists(EDITS, min_size=1, max_size=4))
def test_documents_of_the_mapping_language(pipeline, edits):
    parsed_or_refused(dump(edited(edits)), pipeline)


@fuzz(40)
@given(edits=st.lists(EDITS, min_size=1, max_size=3), at=st.integers(0, 10**6),
       junk=st.sampled_from(["\n", ": ", "- ", "{", "}", "[", "&a ", "*a", "!!str ", "'", '"', "\t", "#", "\x00"]))
def test_mapping_text_cut_and_spliced(pipeline, edits, at, junk):
    text = dump(edited(edits))
    at %= len(text) + 1
    parsed_or_refused(text[:at] + junk + text[at:], pipeline)


# --------------------------------------------------------------------------- the mapping applied

CELLS = st.one_of(st.just(""), st.sampled_from([" ", '"', "\n", "\r", "\r\n", ",", ";", "\x00", "\ufeff", "'",
                                               "=1+1", "\\", "NULL", "nan", "inf", "1e309", "-1", "0",
                                               "2026-02-30", "9999-12-31", "1780000000000", "99999999999999999999",
                                               "true", "yes", "Closed Won", "R1", "D1", "r1", "M1"]),
                  st.text(max_size=20), st.integers().map(str), st.floats().map(repr))
ROW_EDITS = st.one_of(
    st.tuples(st.just("cell"), st.sampled_from(sorted(EXPORTS)), st.integers(0, 99), st.integers(0, 99), CELLS),
    st.tuples(st.just("header"), st.sampled_from(sorted(EXPORTS)), st.integers(0, 99), NAMES),
    st.tuples(st.just("cut_row"), st.sampled_from(sorted(EXPORTS)), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.just("extend_row"), st.sampled_from(sorted(EXPORTS)), st.integers(0, 99), CELLS),
    st.tuples(st.just("duplicate_row"), st.sampled_from(sorted(EXPORTS)), st.integers(0, 99)),
    st.tuples(st.just("header_only"), st.sampled_from(sorted(EXPORTS))),
    st.tuples(st.just("drop_file"), st.sampled_from(sorted(EXPORTS))),
)


def edited_exports(edits) -> dict[str, bytes]:
    tables = {name: [list(r) for r in rows] for name, rows in EXPORTS.items()}
    for kind, name, *args in edits:
        rows = tables.get(name)
        if rows is None:
            continue
        body = len(rows) - 1
        if kind == "cell" and body:
            row = rows[1 + args[0] % body]
            if row:
                row[args[1] % len(row)] = args[2]
        elif kind == "header" and rows[0]:
            rows[0][args[0] % len(rows[0])] = args[1]
        elif kind == "cut_row" and body:
            row = rows[1 + args[0] % body]
            del row[args[1] % max(len(row), 1):]
        elif kind == "extend_row" and body:
            rows[1 + args[0] % body].append(args[1])
        elif kind == "duplicate_row" and body:
            rows.append(list(rows[1 + args[0] % body]))
        elif kind == "header_only":
            del rows[1:]
        elif kind == "drop_file":
            tables[name] = None
    return {name: to_csv(rows) for name, rows in tables.items() if rows is not None}


@fuzz(6)
@given(edits=st.lists(ROW_EDITS, min_size=1, max_size=6))
@example(edits=[("cell", "tasks.csv", 0, 1, "\r")])
@example(edits=[("header_only", "deals.csv"), ("header_only", "tasks.csv")])   # found: named the temp folder
@example(edits=[("cell", "deals.csv", 0, 4, "1e309")])
def test_arbitrary_cells_and_rows_in_the_exports(pipeline, edits):
    mapping = parse_mapping(dump(SKELETON), MAPPING_FILE, pipeline)
    imported_or_refused(mapping, edited_exports(edits), pipeline)


@fuzz(15)
@given(edits=st.lists(EDITS, min_size=1, max_size=3), rows=st.lists(ROW_EDITS, max_size=3))
# found: regular expressions Python's re accepts and the engine's RE2 refuses
@example(edits=[("rule", "reps", "role", {"column": "Title", "patterns": {"(?<=A)E": "isr"}})], rows=[])
@example(edits=[("rule", "reps", "role", {"column": "Title", "when": {"column": "Title", "matches": "(?=A)"}})],
         rows=[])
def test_fuzzed_mappings_applied_to_fuzzed_exports(pipeline, edits, rows):
    text = dump(edited(edits))
    mapping = parsed_or_refused(text, pipeline)
    if mapping is not None:
        imported_or_refused(mapping, edited_exports(rows), pipeline)


# rules of the language with sane pieces only: most mappings are accepted, so the rules run
SANE_WORDS = st.sampled_from(["isr", "bdr", "won", "lost", "open", "demo", "discovery", "proposal", "call",
                              "connect", "email", "meeting_held", "timing", "East", "Closers", "R1", "D1", ""])
SANE_CONDITIONS = st.one_of(
    st.fixed_dictionaries({"column": st.sampled_from(HEADERS), "one_of": st.lists(SANE_WORDS | CELLS, max_size=2)}),
    st.fixed_dictionaries({"column": st.sampled_from(HEADERS), "filled": st.booleans()}),
    st.fixed_dictionaries({"column": st.sampled_from(HEADERS), "prefix": st.lists(st.text(max_size=3), max_size=2)}),
    st.fixed_dictionaries({"column": st.sampled_from(HEADERS),
                           "matches": st.sampled_from(["^A", "(?i)won", "\\d+", ".*", "^$", "[[:alpha:]]+"])}),
    st.fixed_dictionaries({"column": st.sampled_from(HEADERS), "same_as": st.sampled_from(HEADERS)}),
)
SANE_RULES = st.builds(
    lambda source, steps: {**steps, **source},
    st.one_of(st.fixed_dictionaries({"column": st.sampled_from(HEADERS)}),
              st.fixed_dictionaries({"column": st.lists(st.sampled_from(HEADERS), min_size=1, max_size=3)}),
              st.fixed_dictionaries({"value": SANE_WORDS}),
              st.fixed_dictionaries({"template": st.lists(st.sampled_from(HEADERS), min_size=1, max_size=3)
                                     .map(lambda hs: "-".join("{" + h + "}" for h in hs))})),
    st.fixed_dictionaries({}, optional={
        "optional": st.booleans(), "when": SANE_CONDITIONS, "take_first": st.sampled_from([";", " ", "-"]),
        "map": st.dictionaries(CELLS | SANE_WORDS, SANE_WORDS, max_size=3),
        "patterns": st.dictionaries(st.sampled_from(["^C", "(?i)demo", "[0-9]+", "won$"]), SANE_WORDS, min_size=1,
                                    max_size=2),
        "unmapped": st.sampled_from(["keep", "drop", "blank", "error", "isr", "discovery"]),
        "if_empty": st.sampled_from(["keep", "drop"]), "default": SANE_WORDS,
        "date": st.lists(st.sampled_from(["auto", "iso", "epoch_ms", "epoch_s", "%m/%d/%Y", "%d.%m.%Y %H:%M"]),
                         min_size=1, max_size=2),
        "divide_by": st.sampled_from([1, 60, 1000, 0.5])}))
SANE_EDITS = st.tuples(st.sampled_from(TARGETS), SANE_RULES).map(lambda t: ("rule", t[0][0], t[0][1], t[1]))


@fuzz(8)
@given(edits=st.lists(SANE_EDITS, min_size=1, max_size=3), rows=st.lists(ROW_EDITS, max_size=3))
def test_plausible_rules_applied_to_fuzzed_exports(pipeline, edits, rows):
    mapping = parsed_or_refused(dump(edited(edits)), pipeline)
    if mapping is not None:
        imported_or_refused(mapping, edited_exports(rows), pipeline)


# --------------------------------------------------------------------------- an org's overlay

# the skeleton with settings and a vocabulary an overlay can change: the role through a named
# vocabulary, held calls by a pattern from a setting, dates in the mapping's time zone
WITH_SETTINGS = edited([("rule", "reps", "role", {"column": "Title", "map": "roles", "unmapped": "drop",
                                                  "if_empty": "drop"}),
                        ("rule", "activities", "date", {"column": "Date", "date": ["auto", "%m/%d/%Y"]})])
WITH_SETTINGS["settings"] = {"timezone": "UTC", "held": "^Held$"}
WITH_SETTINGS["vocabularies"] = {"roles": {"map": {"AE": "isr", "SDR": "bdr"}, "patterns": {"(?i)manager": ""}}}
WITH_SETTINGS["activities"]["where"] = [{"any": [{"column": "Result", "matches": "$held"},
                                                 {"column": "Result", "filled": False},
                                                 {"column": "Result", "filled": True}]}]
OVERLAY_FILE = "overlay.yaml"
OVERLAY_VALUES = st.one_of(SCALARS, WORDS, REGEXES, st.sampled_from(["Europe/Paris", "Mars/Olympus", "UTC+25",
                                                                     "America/New_York", "", "none"]))
OVERLAYS = st.dictionaries(
    st.one_of(st.sampled_from(["timezone", "held", "roles", "roles", "roles", "nope"]), st.text(max_size=6)),
    st.one_of(OVERLAY_VALUES,
              st.dictionaries(WORDS | NAMES, OVERLAY_VALUES, max_size=3),
              st.fixed_dictionaries({}, optional={"map": st.one_of(st.dictionaries(WORDS | NAMES, OVERLAY_VALUES,
                                                                                   max_size=3), SCALARS),
                                                  "patterns": st.one_of(st.dictionaries(REGEXES, OVERLAY_VALUES,
                                                                                        max_size=2), SCALARS)}),
              st.lists(OVERLAY_VALUES, max_size=2)),
    max_size=3)


def test_the_skeleton_with_settings_imports(pipeline):
    mapping = parse_mapping(dump(WITH_SETTINGS), MAPPING_FILE, pipeline)
    with tempfile.TemporaryDirectory() as tmp:
        write_exports(Path(tmp) / "exports", export_files())
        import_dataset(Path(tmp) / "exports", mapping, Path(tmp) / "out", pipeline, dry_run=True)


@fuzz(40)
@given(overlay=OVERLAYS, apply=st.integers(0, 3))
# found: a vocabulary's map or patterns that is not a mapping (a TypeError in apply_overlay)
@example(overlay={"roles": {"map": 3}}, apply=1)
@example(overlay={"roles": {"patterns": ["a"]}}, apply=1)
@example(overlay={"roles": {"map": {"AE": "isr"}, "patterns": 5}}, apply=1)
@example(overlay={"held": "(?=x)", "timezone": "Mars/Olympus"}, apply=0)
def test_an_overlay_of_any_shape(pipeline, overlay, apply):
    text, over = dump(WITH_SETTINGS), dump(overlay)
    try:
        with time_limit(30):
            mapping = parse_mapping(text, MAPPING_FILE, pipeline, overlay=over, overlay_name=OVERLAY_FILE)
    except MappingError as err:
        assert err.problems, "refused with no problem"
        for p in err.problems:
            assert p.file in (MAPPING_FILE, OVERLAY_FILE), f"a problem of another file: {p}"
            str(p)
        return
    if apply == 0:            # an import a quarter of the time: a second each
        imported_or_refused(mapping, export_files(), pipeline)
