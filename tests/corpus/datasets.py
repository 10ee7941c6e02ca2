"""A corpus of broken datasets (issue 11): each case is a small valid org broken in one way.

The promise under test: a bad dataset is refused whole, every problem named (file, row,
column), exit 1, never a traceback; a valid one is accepted. Each case is a dataset
folder derived from one base org (`fairway demo-data BASE --reps 12 --months 4 --seed 1
--end 2026-10`), plus an `Expect`: the exit code of `fairway validate`, the (file, row,
column) of every planted defect, and what else the user must (or must not) read.

    python tests/corpus/datasets.py OUT [--slow]     # writes OUT/<case>/ and OUT/expectations.json

Nothing here is committed as data: the folders are generated (tests build them into
tmp_path). Rows are numbered as in the file, the header being row 1.
"""
from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import sys
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

BASE_ARGS = ("--reps", "12", "--months", "4", "--seed", "1", "--end", "2026-10")
PERIOD = "2026-10"              # the last month of the base org
SECRET = "TOPSECRET-7f3a9c"     # text that lives only outside a dataset, and must never be echoed
STEMS = ("reps", "opportunities", "stage_history", "activities", "goals")


# --------------------------------------------------------------------------- expectations

@dataclass(frozen=True)
class Loc:
    """A place that the refusal must name: a file, and where given a row and a column.

    `line_ok`: a line number (`line N`, `file:N`) names it as well as `row N` (for
    defects of the CSV syntax or the encoding, where the two are the same here).
    `suggestion`: a did-you-mean that the same problem must offer.
    """

    file: str
    row: int | None = None
    column: str | None = None
    suggestion: str | None = None
    line_ok: bool = False


@dataclass(frozen=True)
class Expect:
    """What `fairway validate CASE` must do (and `fairway metrics` with it)."""

    exit: int                                        # 0 accepted, 1 refused
    locs: tuple[Loc, ...] = ()                       # each must be named on stderr
    mentions: tuple[tuple[str, ...], ...] = ()       # regexes: one of each group must match stderr
    absent: tuple[str, ...] = ()                     # text that must not appear in any output
    warnings: tuple[tuple[str, ...], ...] = ()       # each: fragments that one `warning:` line holds
    or_metrics_refuses: bool = False                 # validate may accept if metrics then refuses cleanly
    rows: dict[str, int] = field(default_factory=dict)   # rows an accepted dataset must report per file


@dataclass(frozen=True)
class Case:
    name: str
    defect: str                          # the class of issue 11 the case belongs to
    make: Callable[["Folder"], Expect]   # breaks a copy of the base in place, says what to expect
    slow: bool = False                   # kept out of the normal run
    isolate: bool = False                # run the commands in a child process (devices, pipes, huge files)
    seconds: float = 20.0                # each command must finish within this (2 shared cores)


# --------------------------------------------------------------------------- editing a dataset folder

class Folder:
    """A case's dataset folder, edited as rows of cells (rows numbered as in the file)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def file(self, stem: str) -> Path:
        return self.path / f"{stem}.csv"

    def read(self, stem: str) -> list[list[str]]:
        """Every row of the CSV file, the header first."""
        with open(self.file(stem), newline="", encoding="utf-8") as fh:
            return [row for row in csv.reader(fh)]

    def write(self, stem: str, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",",
              terminator: str = "\n") -> None:
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator=terminator).writerows(rows)
        self.file(stem).write_bytes(buf.getvalue().encode(encoding))

    def col(self, stem: str, column: str) -> int:
        return self.read(stem)[0].index(column)

    def pick(self, stem: str, k: int = 0, **where: str | Callable[[str], bool]) -> int:
        """The file row (header = 1) of the k-th data row whose cells match `where`."""
        rows = self.read(stem)
        idx = {c: rows[0].index(c) for c in where}
        hits = [i + 1 for i, row in enumerate(rows[1:], start=1)
                if all((w(row[idx[c]]) if callable(w) else row[idx[c]] == w) for c, w in where.items())]
        return hits[k]

    def get(self, stem: str, row: int, column: str) -> str:
        rows = self.read(stem)
        return rows[row - 1][rows[0].index(column)]

    def set(self, stem: str, row: int, column: str, value: str) -> int:
        rows = self.read(stem)
        rows[row - 1][rows[0].index(column)] = value
        self.write(stem, rows)
        return row

    def append(self, stem: str, cells: dict[str, str]) -> int:
        """Add a row at the end; its file row."""
        rows = self.read(stem)
        rows.append([cells.get(h, "") for h in rows[0]])
        self.write(stem, rows)
        return len(rows)

    def row_dict(self, stem: str, row: int) -> dict[str, str]:
        rows = self.read(stem)
        return dict(zip(rows[0], rows[row - 1]))

    def edit_line(self, stem: str, line: int, fn: Callable[[str], str]) -> None:
        """Rewrite one physical line of the file (1 = the header) as raw text."""
        lines = self.file(stem).read_text(encoding="utf-8").split("\n")
        edited = fn(lines[line - 1])
        if edited == lines[line - 1]:
            raise ValueError(f"{stem}.csv line {line} is unchanged: the case would plant nothing")
        lines[line - 1] = edited
        self.file(stem).write_text("\n".join(lines), encoding="utf-8")

    def to_parquet(self, stem: str, change: Callable | None = None) -> Path:
        """Replace STEM.csv by STEM.parquet (types inferred as pyarrow does); `change`
        maps the Arrow table to the one written."""
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
        table = pacsv.read_csv(self.file(stem))
        if change is not None:
            table = change(table)
        out = self.path / f"{stem}.parquet"
        pq.write_table(table, out)
        self.file(stem).unlink()
        return out


def _replace(table, column: str, index: int, value, type_=None):
    """An Arrow table with one value of `column` replaced (the column cast to `type_`)."""
    import pyarrow as pa
    i = table.column_names.index(column)
    values = table[column].to_pylist()
    values[index] = value
    return table.set_column(i, column, pa.array(values, type=type_ or table.schema.field(column).type))


def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day[:10]) + timedelta(days=days)).isoformat()


def _garbage(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


# --------------------------------------------------------------------------- the cases

CASES: list[Case] = []


def case(defect: str, **kw):
    """Register the decorated function as the case named after it."""
    def register(fn: Callable[[Folder], Expect]):
        CASES.append(Case(name=fn.__name__, defect=defect, make=fn, **kw))
        return fn
    return register


def _rows(f: Folder) -> dict[str, int]:
    return {stem: len(f.read(stem)) - 1 for stem in STEMS}


# valid datasets: accepted, every row counted

@case("valid")
def base_valid(f: Folder) -> Expect:
    return Expect(0, rows=_rows(f))


@case("valid")
def parquet_valid(f: Folder) -> Expect:
    rows = _rows(f)
    for stem in STEMS:
        f.to_parquet(stem)
    return Expect(0, rows=rows)


@case("valid")
def utf8_bom_and_crlf_valid(f: Folder) -> Expect:
    rows = _rows(f)
    for stem in ("reps", "goals"):
        f.write(stem, f.read(stem), encoding="utf-8-sig", terminator="\r\n")
    return Expect(0, rows=rows)


@case("valid")
def quoted_newlines_small_valid(f: Folder) -> Expect:
    rows = f.read("opportunities")
    a = rows[0].index("account")
    for r in rows[1:40]:
        r[a] = r[a] + "\nBuilding 4, Floor 2\n\"Attn: Procurement\""
    f.write("opportunities", rows)
    return Expect(0, rows=_rows(f))


# the ordinary classes, already handled: they must stay so

@case("ordinary: unknown role")
def unknown_role(f: Folder) -> Expect:
    row = f.set("reps", 4, "role", "bdrr")
    return Expect(1, (Loc("reps.csv", row, "role", suggestion="bdr"),))


@case("ordinary: unknown stage")
def unknown_stage(f: Folder) -> Expect:
    row = f.set("opportunities", f.pick("opportunities", 2, status="lost", stage="demo"), "stage", "Demo")
    return Expect(1, (Loc("opportunities.csv", row, "stage", suggestion="demo"),))


@case("ordinary: unknown status")
def unknown_status(f: Folder) -> Expect:
    row = f.set("opportunities", f.pick("opportunities", 0, status="open"), "status", "opn")
    return Expect(1, (Loc("opportunities.csv", row, "status", suggestion="open"),))


@case("ordinary: unknown activity type")
def unknown_activity_type(f: Folder) -> Expect:
    row = f.set("activities", 500, "type", "calls")
    return Expect(1, (Loc("activities.csv", row, "type", suggestion="call"),))


@case("ordinary: duplicate id")
def duplicate_opportunity_id(f: Folder) -> Expect:
    row = f.set("opportunities", 30, "opportunity_id", f.get("opportunities", 12, "opportunity_id"))
    return Expect(1, (Loc("opportunities.csv", row, "opportunity_id"),))


@case("ordinary: duplicate id")
def duplicate_rep_id(f: Folder) -> Expect:
    row = f.append("reps", f.row_dict("reps", 5))
    return Expect(1, (Loc("reps.csv", row, "rep_id"),))


@case("ordinary: unknown reference")
def unknown_rep_in_activities(f: Folder) -> Expect:
    row = f.set("activities", 777, "rep_id", "R0O03")
    return Expect(1, (Loc("activities.csv", row, "rep_id", suggestion="R0003"),))


@case("ordinary: unknown reference")
def unknown_source_rep(f: Folder) -> Expect:
    row = f.set("opportunities", 44, "source_rep_id", "X7")
    return Expect(1, (Loc("opportunities.csv", row, "source_rep_id"),))


@case("ordinary: unknown reference")
def unknown_opportunity_in_history(f: Folder) -> Expect:
    row = f.set("stage_history", 60, "opportunity_id", "O999999")
    return Expect(1, (Loc("stage_history.csv", row, "opportunity_id"),))


@case("ordinary: unknown reference")
def unknown_opportunity_in_activities(f: Folder) -> Expect:
    row = f.pick("activities", 3, opportunity_id=lambda v: v != "")
    f.set("activities", row, "opportunity_id", "O999999")
    return Expect(1, (Loc("activities.csv", row, "opportunity_id"),))


@case("ordinary: missing required column")
def missing_required_column(f: Folder) -> Expect:
    rows = f.read("reps")
    i = rows[0].index("team")
    f.write("reps", [r[:i] + r[i + 1:] for r in rows])
    return Expect(1, (Loc("reps.csv", 1, "team"),))


@case("ordinary: missing required column")
def missing_required_column_renamed(f: Folder) -> Expect:
    rows = f.read("activities")
    rows[0][rows[0].index("type")] = "typ"
    f.write("activities", rows)
    return Expect(1, (Loc("activities.csv", 1, "type", suggestion="typ"),))


@case("ordinary: missing required file")
def missing_required_file(f: Folder) -> Expect:
    f.file("opportunities").unlink()
    return Expect(1, (Loc("opportunities.csv"),))


@case("ordinary: missing required file")
def empty_folder(f: Folder) -> Expect:
    for stem in STEMS:
        f.file(stem).unlink()
    return Expect(1, (Loc("reps.csv"), Loc("opportunities.csv")))


@case("ordinary: empty file")
def empty_reps_file(f: Folder) -> Expect:
    f.file("reps").write_bytes(b"")
    return Expect(1, (Loc("reps.csv"),))


@case("ordinary: missing required value")
def missing_required_value(f: Folder) -> Expect:
    row = f.set("reps", 3, "name", "")
    return Expect(1, (Loc("reps.csv", row, "name"),))


@case("ordinary: close before created")
def close_before_created(f: Folder) -> Expect:
    row = f.pick("opportunities", 5, status="won")
    f.set("opportunities", row, "close_date", _shift(f.get("opportunities", row, "created_date"), -3))
    return Expect(1, (Loc("opportunities.csv", row, "close_date"),))


@case("ordinary: negative number")
def negative_amount(f: Folder) -> Expect:
    row = f.set("opportunities", f.pick("opportunities", 1, status="won"), "amount", "-5")
    return Expect(1, (Loc("opportunities.csv", row, "amount"),))


@case("ordinary: negative number")
def negative_duration(f: Folder) -> Expect:
    row = f.set("activities", f.pick("activities", 10, type="call"), "duration_minutes", "-1")
    return Expect(1, (Loc("activities.csv", row, "duration_minutes"),))


@case("ordinary: not a number")
def amount_not_a_number(f: Folder) -> Expect:
    row = f.set("opportunities", 8, "amount", "12k")
    return Expect(1, (Loc("opportunities.csv", row, "amount"),))


@case("ordinary: bad date")
def impossible_date(f: Folder) -> Expect:
    row = f.set("opportunities", 9, "created_date", "2026-02-30")
    return Expect(1, (Loc("opportunities.csv", row, "created_date"),))


@case("ordinary: bad date")
def not_a_date(f: Folder) -> Expect:
    row = f.set("activities", 1234, "date", "yesterday")
    return Expect(1, (Loc("activities.csv", row, "date"),))


@case("ordinary: stage and status disagree")
def won_without_won_stage(f: Folder) -> Expect:
    row = f.set("opportunities", f.pick("opportunities", 2, status="won"), "stage", "proposal")
    return Expect(1, (Loc("opportunities.csv", row, "stage"),))


@case("ordinary: bad period in goals")
def bad_period(f: Folder) -> Expect:
    row = f.set("goals", 7, "period", "2026-13")
    return Expect(1, (Loc("goals.csv", row, "period"),))


@case("ordinary: bad period in goals")
def period_not_a_month(f: Folder) -> Expect:
    row = f.set("goals", 9, "period", "October")
    return Expect(1, (Loc("goals.csv", row, "period"),))


@case("ordinary: unknown metric id in goals")
def unknown_goal_metric(f: Folder) -> Expect:
    row = f.set("goals", f.pick("goals", 1, metric="activity.call"), "metric", "activity.calls")
    return Expect(1, (Loc("goals.csv", row, "metric", suggestion="activity.call"),))


@case("ordinary: duplicate goal")
def duplicate_goal(f: Folder) -> Expect:
    row = f.append("goals", f.row_dict("goals", 4))
    return Expect(1, (Loc("goals.csv", row),))      # the rep, period and metric together: no one column


@case("ordinary: both CSV and Parquet")
def both_csv_and_parquet(f: Folder) -> Expect:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    pq.write_table(pacsv.read_csv(f.file("goals")), f.path / "goals.parquet")
    return Expect(1, (Loc("goals"),))


# tracebacks: infinities and overflowing numbers in every number column (CSV and Parquet)

NUMBER_COLUMNS = (("opportunities", "amount", dict(status="won")), ("activities", "duration_minutes",
                  dict(type="call")), ("goals", "target", {}))


def _number_case(stem: str, column: str, where: dict, text: str, k: int):
    def make(f: Folder) -> Expect:
        row = f.set(stem, f.pick(stem, k, **where), column, text)
        return Expect(1, (Loc(f"{stem}.csv", row, column),))
    return make


for _text, _label in (("inf", "inf"), ("-Infinity", "minus_infinity"), ("1e309", "1e309")):
    for _k, (_stem, _column, _where) in enumerate(NUMBER_COLUMNS):
        CASES.append(Case(f"{_label}_{_column}", "traceback: infinite number",
                          _number_case(_stem, _column, _where, _text, 3 + _k)))


def _parquet_number_case(stem: str, column: str, where: dict, value: float):
    def make(f: Folder) -> Expect:
        import pyarrow as pa
        row = f.pick(stem, 4, **where)
        f.to_parquet(stem, lambda t: _replace(t, column, row - 2, value, pa.float64()))
        return Expect(1, (Loc(f"{stem}.parquet", row, column),))
    return make


for _stem, _column, _where in NUMBER_COLUMNS:
    CASES.append(Case(f"parquet_inf_{_column}", "traceback: infinite number (Parquet float)",
                      _parquet_number_case(_stem, _column, _where, float("inf"))))


@case("traceback: header names collide after stripping spaces")
def header_collision(f: Folder) -> Expect:
    rows = f.read("reps")
    f.write("reps", [r + [r[0] if i else " rep_id "] for i, r in enumerate(rows)])
    return Expect(1, (Loc("reps.csv", 1, "rep_id"),))


@case("traceback: header-only dataset accepted, then metrics crashes")
def header_only(f: Folder) -> Expect:
    for stem in STEMS:
        f.write(stem, f.read(stem)[:1])
    return Expect(1, mentions=((r"reps\.csv", r"opportunities\.csv"),), or_metrics_refuses=True)


# silently accepted: NaN, overflow, implausible years, out-of-order history, ids by case

@case("silent: NaN number")
def nan_won_amount(f: Folder) -> Expect:
    row = f.set("opportunities", f.pick("opportunities", 6, status="won"), "amount", "NaN")
    return Expect(1, (Loc("opportunities.csv", row, "amount"),))


@case("silent: NaN number")
def nan_duration(f: Folder) -> Expect:
    row = f.set("activities", f.pick("activities", 20, type="call"), "duration_minutes", "NaN")
    return Expect(1, (Loc("activities.csv", row, "duration_minutes"),))


@case("silent: NaN number")
def nan_goal_target(f: Folder) -> Expect:
    row = f.set("goals", 11, "target", "NaN")
    return Expect(1, (Loc("goals.csv", row, "target"),))


@case("silent: NaN number (Parquet float)")
def parquet_nan_won_amount(f: Folder) -> Expect:
    import pyarrow as pa
    row = f.pick("opportunities", 6, status="won")
    f.to_parquet("opportunities", lambda t: _replace(t, "amount", row - 2, float("nan"), pa.float64()))
    return Expect(1, (Loc("opportunities.parquet", row, "amount"),))


@case("silent: overflowing duration (1e300)")
def duration_1e300(f: Folder) -> Expect:
    row = f.set("activities", f.pick("activities", 30, type="call"), "duration_minutes", "1e300")
    return Expect(1, (Loc("activities.csv", row, "duration_minutes"),))


DATE_COLUMNS = (("reps", "start_date", {}), ("opportunities", "created_date", {}),
                ("opportunities", "close_date", dict(status="won")),
                ("stage_history", "entered_date", dict(stage="demo")), ("activities", "date", {}))


def _year_case(stem: str, column: str, where: dict, year: int, k: int):
    def make(f: Folder) -> Expect:
        row = f.pick(stem, k, **where)
        f.set(stem, row, column, f"{year}{f.get(stem, row, column)[4:]}")
        return Expect(1, (Loc(f"{stem}.csv", row, column),))
    return make


for _year in (1900, 2200, 9999):
    for _k, (_stem, _column, _where) in enumerate(DATE_COLUMNS):
        CASES.append(Case(f"year_{_year}_{_stem}_{_column}", "silent: implausible year",
                          _year_case(_stem, _column, _where, _year, 2 + _k)))


@case("silent: implausible year (Parquet timestamp)")
def parquet_year_2200_activities_date(f: Folder) -> Expect:
    import pyarrow as pa

    def change(t):
        t = t.set_column(t.column_names.index("date"), "date", t["date"].cast(pa.timestamp("s")))
        first = t["date"][41].as_py()
        return _replace(t, "date", 41, first.replace(year=2200))
    f.to_parquet("activities", change)
    return Expect(1, (Loc("activities.parquet", 43, "date"),))


@case("silent: stage history out of order")
def history_before_created(f: Folder) -> Expect:
    opp = f.row_dict("opportunities", f.pick("opportunities", 10, status="won"))
    row = f.pick("stage_history", 0, opportunity_id=opp["opportunity_id"], stage="demo")
    f.set("stage_history", row, "entered_date", _shift(opp["created_date"], -30))
    return Expect(1, (Loc("stage_history.csv", row, "entered_date"),))


@case("silent: stage history out of order")
def history_after_close(f: Folder) -> Expect:
    opp = f.row_dict("opportunities", f.pick("opportunities", 10, status="lost", stage="proposal"))
    row = f.pick("stage_history", 0, opportunity_id=opp["opportunity_id"], stage="proposal")
    f.set("stage_history", row, "entered_date", _shift(opp["close_date"], 20))
    return Expect(1, (Loc("stage_history.csv", row, "entered_date"),))


@case("silent: stage history out of order")
def lost_with_won_history(f: Folder) -> Expect:
    opp = f.row_dict("opportunities", f.pick("opportunities", 12, status="lost", stage="proposal"))
    row = f.append("stage_history", {"opportunity_id": opp["opportunity_id"], "stage": "won",
                                     "entered_date": opp["close_date"]})
    return Expect(1, (Loc("stage_history.csv", row, "stage"),))


@case("silent: ids that differ only by case")
def rep_ids_differ_by_case(f: Folder) -> Expect:
    cells = f.row_dict("reps", 3)
    row = f.append("reps", {**cells, "rep_id": cells["rep_id"].lower(), "email": "other@demo.example.com"})
    return Expect(1, (Loc("reps.csv", row, "rep_id"),))


@case("silent: not a regular file (device)", isolate=True, seconds=30)
def activities_is_dev_zero(f: Folder) -> Expect:
    f.file("activities").unlink()
    os.symlink("/dev/zero", f.file("activities"))
    return Expect(1, (Loc("activities.csv"),))


@case("silent: not a regular file (FIFO)", isolate=True, seconds=30)
def activities_is_fifo(f: Folder) -> Expect:
    f.file("activities").unlink()
    os.mkfifo(f.file("activities"))
    return Expect(1, (Loc("activities.csv"),))


def _outside(f: Folder, text: str) -> Path:
    """A file beside (not inside) the case folder, and reps.csv a link to it."""
    target = f.path.parent / f"{f.path.name}.outside" / "reps.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    f.file("reps").unlink()
    os.symlink(target, f.file("reps"))
    return target


@case("silent: symlink to a file outside the dataset")
def symlink_outside_valid(f: Folder) -> Expect:
    _outside(f, f.file("reps").read_text(encoding="utf-8"))
    return Expect(1, (Loc("reps.csv"),))


@case("silent: symlink to a file outside the dataset")
def symlink_outside_quoted(f: Folder) -> Expect:
    rows = f.read("reps")
    rows[4][rows[0].index("role")] = SECRET
    rows[5][rows[0].index("name")] = f"{SECRET}-name"
    _outside(f, "\n".join(",".join(r) for r in rows) + "\n")
    return Expect(1, (Loc("reps.csv"),), absent=(SECRET,))


# warned, not silent

@case("warned: won deals with no amount")
def won_without_amount(f: Folder) -> Expect:
    for k in (1, 5, 9):
        f.set("opportunities", f.pick("opportunities", k, status="won"), "amount", "")
    return Expect(0, warnings=(("opportunities.csv", r"\b3\b", "amount"),), rows=_rows(f))


@case("ordinary: closed deals with no close date (warned)")
def closed_without_close_date(f: Folder) -> Expect:
    for k in (2, 4):
        f.set("opportunities", f.pick("opportunities", k, status="won"), "close_date", "")
    return Expect(0, warnings=(("opportunities.csv", r"\b2\b", "close_date"),), rows=_rows(f))


# not every problem listed: an unusable reps.csv or opportunities.csv hides the others

def _others(f: Folder, skip: str) -> tuple[Loc, ...]:
    """Plant one value defect in each table but `skip`; their locations."""
    out = []
    if skip != "reps":
        out.append(Loc("reps.csv", f.set("reps", 6, "role", "closer"), "role"))
    if skip != "opportunities":
        out.append(Loc("opportunities.csv", f.set("opportunities", 25, "stage", "demoo"), "stage"))
    out.append(Loc("activities.csv", f.set("activities", 2000, "type", "dial"), "type"))
    out.append(Loc("goals.csv", f.set("goals", 15, "period", "2026-00"), "period"))
    return tuple(out)


@case("not every problem listed: required file unreadable")
def reps_unreadable_plus_others(f: Folder) -> Expect:
    others = _others(f, "reps")
    f.file("reps").write_bytes(_garbage(4096, 11))
    return Expect(1, (Loc("reps.csv"),) + others)


@case("not every problem listed: required file unreadable")
def opportunities_unreadable_plus_others(f: Folder) -> Expect:
    others = _others(f, "opportunities")
    f.file("opportunities").write_bytes(_garbage(4096, 12))
    return Expect(1, (Loc("opportunities.csv"),) + others)


@case("not every problem listed: required column missing")
def reps_missing_column_plus_others(f: Folder) -> Expect:
    others = _others(f, "reps")
    rows = f.read("reps")
    i = rows[0].index("role")
    f.write("reps", [r[:i] + r[i + 1:] for r in rows])
    return Expect(1, (Loc("reps.csv", 1, "role"),) + others)


@case("not every problem listed: required column missing")
def opportunities_missing_column_plus_others(f: Folder) -> Expect:
    others = _others(f, "opportunities")
    rows = f.read("opportunities")
    i = rows[0].index("created_date")
    f.write("opportunities", [r[:i] + r[i + 1:] for r in rows])
    return Expect(1, (Loc("opportunities.csv", 1, "created_date"),) + others)


@case("not every problem listed: ragged rows")
def ragged_rows(f: Folder) -> Expect:
    f.edit_line("activities", 300, lambda s: s + ",extra")
    f.edit_line("activities", 9000, lambda s: s + ",extra,more")
    f.edit_line("activities", 15000, lambda s: s.rsplit(",", 1)[0])
    return Expect(1, tuple(Loc("activities.csv", n, line_ok=True) for n in (300, 9000, 15000)))


@case("not every problem listed: ragged rows")
def ragged_row_opportunities(f: Folder) -> Expect:
    f.edit_line("opportunities", 50, lambda s: s.rsplit(",", 2)[0])
    return Expect(1, (Loc("opportunities.csv", 50, line_ok=True),))


@case("not every problem listed: unterminated quote")
def unterminated_quote(f: Folder) -> Expect:
    row = 120
    f.write("opportunities", f.read("opportunities"))     # quoted only where needed
    account = f.get("opportunities", row, "account")
    f.edit_line("opportunities", row, lambda s: s.replace(f",{account},", f',"{account},', 1))
    return Expect(1, (Loc("opportunities.csv", row, line_ok=True),))


@case("multi-defect: every file at once")
def multi_every_file(f: Folder) -> Expect:
    return Expect(1, (
        Loc("reps.csv", f.set("reps", 8, "role", "isrr"), "role", suggestion="isr"),
        Loc("opportunities.csv", f.set("opportunities", 33, "amount", "12k"), "amount"),
        Loc("stage_history.csv", f.set("stage_history", 70, "stage", "Demo"), "stage", suggestion="demo"),
        Loc("activities.csv", f.set("activities", 4321, "type", "calls"), "type", suggestion="call"),
        Loc("goals.csv", f.set("goals", 20, "metric", "activity.calls"), "metric", suggestion="activity.call"),
    ))


@case("multi-defect: value, date and ragged row in three files")
def multi_role_date_ragged(f: Folder) -> Expect:
    locs = (Loc("reps.csv", f.set("reps", 4, "role", "closer"), "role"),
            Loc("opportunities.csv", f.set("opportunities", 20, "created_date", "2026-13-45"), "created_date"))
    f.edit_line("activities", 100, lambda s: s + ",extra")
    return Expect(1, locs + (Loc("activities.csv", 100, line_ok=True),))


@case("multi-defect: encoding in one file, values in others")
def multi_latin1_and_values(f: Folder) -> Expect:
    locs = (Loc("opportunities.csv", f.set("opportunities", 40, "amount", "n/a"), "amount"),
            Loc("activities.csv", f.set("activities", 60, "type", "mail"), "type"))
    rows = f.read("reps")
    rows[5][rows[0].index("name")] = "José Núñez"
    f.write("reps", rows, encoding="latin-1")
    return Expect(1, (Loc("reps.csv"),) + locs)


# a valid file refused: a large file with quoted newlines

@case("valid file refused: 25 MB with quoted newlines", seconds=60)
def large_quoted_newlines_valid(f: Folder) -> Expect:
    rows = f.read("opportunities")
    head, body = rows[0] + ["notes"], rows[1:]
    ids, acc = head.index("opportunity_id"), head.index("account")
    note = ("Called the buyer, \"left a voicemail\".\nNext step: send the proposal, then follow up.\n" * 10)
    out = [head] + [r + [""] for r in body]
    n = size = 0
    while size < 26_000_000:
        r = body[n % len(body)]
        n += 1
        extra = list(r) + [f"{note}#{n}"]
        extra[ids] = f"X{n:07d}"
        extra[acc] = f"{r[acc]}\nc/o Accounts Payable, Suite {n % 900}"
        out.append(extra)
        size += sum(len(v) + 1 for v in extra) + 4
    f.write("opportunities", out)
    rows = _rows(f)
    rows["opportunities"] = len(out) - 1
    return Expect(0, rows=rows)


@case("valid file: a located defect after quoted newlines (row is the record, not the line)")
def quoted_newlines_then_bad_amount(f: Folder) -> Expect:
    rows = f.read("opportunities")
    a = rows[0].index("account")
    for r in rows[1:30]:
        r[a] = r[a] + "\nFloor 3\nSuite 5"
    rows[60][rows[0].index("amount")] = "twelve"
    f.write("opportunities", rows)
    return Expect(1, (Loc("opportunities.csv", 61, "amount"),))


# unclear messages

def _encoding_hint(file: str, line: int, encoding: str) -> tuple[str, ...]:
    """The message names the line, or says the encoding and what to do (save as UTF-8)."""
    return (rf"\b(row|line) {line}\b", rf"{file}:{line}\b", rf"(?s)({encoding}).*utf-?8|utf-?8.*({encoding})")


@case("unclear message: Latin-1 file")
def latin1_reps(f: Folder) -> Expect:
    rows = f.read("reps")
    rows[6][rows[0].index("name")] = "José Núñez"
    f.write("reps", rows, encoding="latin-1")
    return Expect(1, (Loc("reps.csv"),), mentions=(_encoding_hint("reps.csv", 7, "latin-1|windows-1252|cp1252"),))


@case("unclear message: Latin-1 file")
def latin1_opportunities_deep(f: Folder) -> Expect:
    rows = f.read("opportunities")
    rows[299][rows[0].index("account")] = "Café Étoile SàRL"
    f.write("opportunities", rows, encoding="latin-1")
    return Expect(1, (Loc("opportunities.csv"),),
                  mentions=(_encoding_hint("opportunities.csv", 300, "latin-1|windows-1252|cp1252"),))


@case("unclear message: UTF-16 file")
def utf16_reps(f: Folder) -> Expect:
    f.write("reps", f.read("reps"), encoding="utf-16")
    return Expect(1, (Loc("reps.csv"),), mentions=(("utf-16",), ("utf-8",)))


@case("valid file refused: mixed line endings")
def mixed_line_endings_valid(f: Folder) -> Expect:
    """CRLF and LF lines in one file (files joined, or edited by hand); text values quoted."""
    rows = _rows(f)
    lines = f.file("opportunities").read_bytes().split(b"\n")[:-1]
    f.file("opportunities").write_bytes(b"".join(ln + (b"\r\n" if i % 3 == 0 else b"\n")
                                                 for i, ln in enumerate(lines)))
    return Expect(0, rows=rows)


@case("unclear message: a byte order mark in the middle (files joined)")
def bom_in_the_middle(f: Folder) -> Expect:
    row = 11
    f.edit_line("opportunities", row, lambda s: "\ufeff" + s)
    return Expect(1, (Loc("opportunities.csv", row, "opportunity_id"),), mentions=(("invisible",),))


@case("unclear message: an id that is a no-break space (pasted from a spreadsheet)")
def no_break_space_id(f: Folder) -> Expect:
    row = 2
    f.edit_line("opportunities", row, lambda s: "\u00a0" + s[s.index(","):])
    return Expect(1, (Loc("opportunities.csv", row, "opportunity_id"),), mentions=(("invisible",),))


@case("unclear message: a header of 100k columns")
def reps_of_100k_columns(f: Folder) -> Expect:
    f.edit_line("reps", 1, lambda s: s + "," + ",".join(f"x{i}" for i in range(100_000)))
    return Expect(1, (Loc("reps.csv", 1),), mentions=(("limit of 2,000",),))


@case("unclear message: semicolon-delimited file")
def semicolon_reps(f: Folder) -> Expect:
    f.write("reps", f.read("reps"), delimiter=";")
    return Expect(1, (Loc("reps.csv"),), mentions=(("semicolon",), ("comma",)))


@case("unclear message: file name in the wrong case")
def reps_named_in_capitals(f: Folder) -> Expect:
    f.file("reps").rename(f.path / "Reps.CSV")
    return Expect(1, (Loc("Reps.CSV", suggestion="reps.csv"),))


@case("unclear message: a folder where a file belongs")
def reps_csv_is_a_folder(f: Folder) -> Expect:
    inner = f.path / "unzipped"
    inner.mkdir()
    f.file("reps").rename(inner / "reps.csv")
    inner.rename(f.file("reps"))
    return Expect(1, (Loc("reps.csv"),), mentions=(("folder", "directory"),))


@case("unclear message: nested Parquet column")
def parquet_list_column(f: Folder) -> Expect:
    import pyarrow as pa

    def change(t):
        teams = [[v] for v in t["team"].to_pylist()]
        return t.set_column(t.column_names.index("team"), "team", pa.array(teams, pa.list_(pa.string())))
    f.to_parquet("reps", change)
    return Expect(1, (Loc("reps.parquet", None, "team"),))


@case("unclear message: nested Parquet column")
def parquet_struct_column(f: Folder) -> Expect:
    import pyarrow as pa

    def change(t):
        money = [{"value": v, "currency": "USD"} for v in t["amount"].to_pylist()]
        return t.set_column(t.column_names.index("amount"), "amount",
                            pa.array(money, pa.struct([("value", pa.float64()), ("currency", pa.string())])))
    f.to_parquet("opportunities", change)
    return Expect(1, (Loc("opportunities.parquet", None, "amount"),))


HUGE = "closer-" + "Z" * 100_000


@case("unclear message: a 100 kB value echoed whole")
def huge_value_role(f: Folder) -> Expect:
    row = f.set("reps", 9, "role", HUGE)
    return Expect(1, (Loc("reps.csv", row, "role"),), absent=("Z" * 1000,))


@case("unclear message: a 100 kB value echoed whole")
def huge_value_amount(f: Folder) -> Expect:
    row = f.set("opportunities", 77, "amount", "12" + "9" * 100_000 + "x")
    return Expect(1, (Loc("opportunities.csv", row, "amount"),), absent=("9" * 1000,))


@case("garbage: binary file")
def garbage_binary_activities(f: Folder) -> Expect:
    f.file("activities").write_bytes(_garbage(64 * 1024, 3))
    return Expect(1, (Loc("activities.csv"),))


@case("garbage: binary file")
def garbage_binary_reps(f: Folder) -> Expect:
    f.file("reps").write_bytes(_garbage(4096, 4))
    return Expect(1, (Loc("reps.csv"),))


@case("garbage: binary file")
def garbage_parquet_magic(f: Folder) -> Expect:
    (f.path / "goals.parquet").write_bytes(b"PAR1" + _garbage(8192, 5) + b"PAR1")
    f.file("goals").unlink()
    return Expect(1, (Loc("goals.parquet"),))


GARBAGE_2GB = 2 << 30


@case("garbage: a 2 GB file refused fast with little memory", slow=True, isolate=True, seconds=60)
def garbage_2gb_activities(f: Folder) -> Expect:
    header = f.read("activities")[0]
    with open(f.file("activities"), "wb") as fh:
        fh.write((",".join(header) + "\n").encode())
        fh.write(_garbage(1 << 20, 6))
        fh.truncate(GARBAGE_2GB)          # a hole: no disk used
        fh.seek(GARBAGE_2GB - 4096)
        fh.write(_garbage(4096, 7))
    return Expect(1, (Loc("activities.csv"),))


@case("garbage: a 2 GB file refused fast with little memory", seconds=40)
def garbage_then_a_64mb_line(f: Folder) -> Expect:
    """The 2 GB case, small enough for every run: garbage, then a 64 MiB line of NUL bytes."""
    header = f.read("activities")[0]
    with open(f.file("activities"), "wb") as fh:
        fh.write((",".join(header) + "\n").encode())
        fh.write(_garbage(1 << 20, 6))
        fh.truncate(fh.tell() + (64 << 20))        # a hole: no disk used
    return Expect(1, (Loc("activities.csv"),))


@case("garbage: a 2 GB file refused fast with little memory", slow=True, isolate=True, seconds=60)
def zeros_2gb_activities(f: Folder) -> Expect:
    header = f.read("activities")[0]
    with open(f.file("activities"), "wb") as fh:
        fh.write((",".join(header) + "\n").encode())
        fh.truncate(GARBAGE_2GB)          # 2 GB of NUL bytes (valid UTF-8, no newline), sparse
    return Expect(1, (Loc("activities.csv"),))


# --------------------------------------------------------------------------- building

def make_base(out: Path) -> Path:
    """The base org: `fairway demo-data OUT` with BASE_ARGS, the contract's files only."""
    from click.testing import CliRunner
    from web.cli import cli
    result = CliRunner().invoke(cli, ["demo-data", str(out), *BASE_ARGS])
    if result.exit_code != 0:
        raise RuntimeError(f"fairway demo-data failed: {result.output}")
    for extra in set(os.listdir(out)) - {f"{s}.csv" for s in STEMS}:
        os.unlink(out / extra)
    return out


def build_case(c: Case, base: Path, out: Path) -> Expect:
    """Copy the base into `out` (new) and break it as `c` says."""
    shutil.copytree(base, out, symlinks=True)
    return c.make(Folder(out))


def build_corpus(out: Path, slow: bool = False) -> dict[str, Expect]:
    """Every case into OUT/<name>/, the base into OUT/_base; their expectations."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    base = make_base(out / "_base")
    expectations = {}
    for c in CASES:
        if c.slow and not slow:
            continue
        expectations[c.name] = build_case(c, base, out / c.name)
    doc = {name: {"defect": next(c.defect for c in CASES if c.name == name), **asdict(e)}
           for name, e in expectations.items()}
    (out / "expectations.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return expectations


def main(argv: list[str]) -> int:
    import argparse
    parser = argparse.ArgumentParser(description="Write the bad-input dataset corpus (issue 11).")
    parser.add_argument("out", type=Path, help="a new or empty folder")
    parser.add_argument("--slow", action="store_true", help="also the slow cases (a 2 GB sparse file)")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} exists and is not empty")
    expectations = build_corpus(args.out, slow=args.slow)
    print(f"{args.out}: {len(expectations)} cases, expectations in expectations.json")
    return 0


if len({c.name for c in CASES}) != len(CASES):      # a typo in a name would hide a case
    raise RuntimeError("two corpus cases share a name")

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
