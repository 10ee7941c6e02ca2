"""Every case of the bad-input corpus (issue 11) through the `fairway` command, as a user meets it.

For each case: `fairway validate CASE`, `fairway validate CASE --json` and `fairway
metrics CASE` (and for an accepted dataset `fairway metrics CASE --period 2026-10 --json`)
exit as expected, name the file, row and column of every planted defect, print no
traceback, finish quickly, and write nothing (the case folder is the same before and after).

Cases that the code fails today are marked xfail (strict) in OPEN below, one by one:
a fix turns them into XPASS failures, and their mark must then go.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus.datasets import CASES, PERIOD, Case, Expect, Loc, build_case, make_base
from web.cli import cli

# The cases the current code fails, by name: the class of issue 11, and what happens today.
OPEN: dict[str, str] = {}

MAX_RSS = 1 << 30           # a child refusing a device, a pipe or a huge file stays under this
CHILD_ADDRESS_SPACE = 6 << 30


@dataclass
class Run:
    args: list[str]
    exit: int | None            # None: killed after the time limit
    stdout: str
    stderr: str
    seconds: float
    crash: str | None = None    # a traceback, in whatever form the command died
    max_rss: int | None = None  # bytes, child processes only

    def __str__(self) -> str:
        return (f"fairway {' '.join(self.args)}: exit {self.exit} in {self.seconds:.1f}s\n"
                f"--- stdout\n{self.stdout[:3000]}\n--- stderr\n{self.stderr[:3000]}"
                + (f"\n--- crash\n{self.crash}" if self.crash else ""))


def run_in_process(args: list[str]) -> Run:
    start = time.perf_counter()
    r = CliRunner().invoke(cli, args)
    took = time.perf_counter() - start
    crash = None
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        crash = "".join(traceback.format_exception(*r.exc_info))
    elif "Traceback (most recent call last)" in r.stdout + r.stderr:
        crash = r.stderr
    return Run(args, r.exit_code, r.stdout, r.stderr, took, crash)


# The peak is VmHWM, this process's own: ru_maxrss would count the parent's memory too
# (Linux keeps it across the exec of a forked process).
_CHILD = """
import os, re, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from web.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="fairway")
finally:
    with open("/proc/self/status") as status:
        peak = int(re.search(r"VmHWM:\\s*(\\d+) kB", status.read()).group(1)) * 1024
    with open(os.environ["CORPUS_RSS_FILE"], "w") as fh:
        fh.write(str(peak))
"""


def run_in_child(args: list[str], seconds: float, scratch: Path) -> Run:
    """The command in a child process with bounded memory, killed after `seconds`."""
    rss_file = scratch / f"rss-{time.monotonic_ns()}"
    env = {**os.environ, "CORPUS_RSS_FILE": str(rss_file)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CHILD.format(limit=CHILD_ADDRESS_SPACE), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=seconds)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code = None
    took = time.perf_counter() - start
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    crash = None
    if "Traceback (most recent call last)" in err or re.search(r"\w+Warning: ", err) or (code or 0) < 0:
        crash = err
    rss = int(rss_file.read_text()) if rss_file.exists() else None
    return Run(args, code, out, err, took, crash, rss)


# --------------------------------------------------------------------------- what the user reads

def names(text: str, loc: Loc) -> bool:
    """Whether one line of `text` names the file, the row and the column of `loc`."""
    file = re.escape(loc.file)
    rows = [rf"\brow {loc.row}\b"]
    if loc.line_ok:
        rows += [rf"\bline {loc.row}\b", rf"{file}:{loc.row}\b"]
    for line in text.splitlines():
        if not re.search(rf"(?<![\w.]){file}(?!\w)", line):
            continue
        if loc.row is not None and not any(re.search(p, line) for p in rows):
            continue
        if loc.column is not None and not re.search(rf"\bcolumn {re.escape(loc.column)}\b", line):
            continue
        if loc.suggestion is not None and not re.search(rf"['\"]{re.escape(loc.suggestion)}['\"]", line):
            continue
        return True
    return False


def json_names(problems: list[dict], loc: Loc) -> bool:
    """Whether one problem of a JSON refusal names `loc`."""
    for p in problems:
        if not re.fullmatch(rf"{re.escape(loc.file)}(\.\*|\.csv|\.parquet)?", str(p.get("file", ""))):
            continue
        if loc.row is not None and loc.row not in (p.get("row"), p.get("line") if loc.line_ok else None):
            continue
        if loc.column is not None and p.get("column") != loc.column:
            continue
        if loc.suggestion is not None and p.get("suggestion") != loc.suggestion:
            continue
        return True
    return False


def strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")
    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not JSON ({exc}):\n{text[:2000]}") from None


def check_refusal(run: Run, expect: Expect) -> None:
    assert run.exit == 1, f"expected a refusal (exit 1)\n{run}"
    for loc in expect.locs:
        assert names(run.stderr, loc), f"{loc} is not named\n{run}"
    for group in expect.mentions:
        assert any(re.search(p, run.stderr, re.IGNORECASE) for p in group), \
            f"stderr says none of {group}\n{run}"


def check_clean(run: Run, case: Case, expect: Expect) -> None:
    assert run.exit is not None, f"still running after {case.seconds}s: killed\n{run}"
    assert run.crash is None, f"a traceback\n{run}"
    assert run.seconds <= case.seconds, f"took {run.seconds:.1f}s, over {case.seconds}s\n{run}"
    assert run.max_rss is None or run.max_rss <= MAX_RSS, \
        f"peak memory {run.max_rss / 2**20:,.0f} MiB\n{run}"
    for text in expect.absent:
        assert text not in run.stdout + run.stderr, f"echoes {text[:40]!r}...\n{run}"


def check_validate(run: Run, expect: Expect) -> None:
    if expect.exit == 1 and not (expect.or_metrics_refuses and run.exit == 0):
        check_refusal(run, expect)
        return
    assert run.exit == 0, f"expected the dataset to be accepted\n{run}"
    for stem, n in expect.rows.items():
        assert re.search(rf"\b{stem}: {n:,} rows\b", run.stdout), f"{stem}: {n:,} rows not reported\n{run}"
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    for fragments in expect.warnings:
        assert any(all(re.search(f, w, re.IGNORECASE) for f in fragments) for w in warnings), \
            f"no warning with {fragments}\n{run}"


def check_validate_json(run: Run, expect: Expect) -> None:
    if run.exit == 0:
        doc = strict_json(run.stdout)
        assert doc["valid"] is True
        for stem, n in expect.rows.items():
            assert doc["rows"][stem] == n, run
        return
    check_refusal(run, expect)
    # a JSON refusal ({"valid": false, "problems": [...]}) is on its way (another branch):
    # checked wherever it is printed; the text on stderr stays the promise today
    if run.stdout.strip():
        doc = strict_json(run.stdout)
        assert doc["valid"] is False, run
        for loc in expect.locs:
            assert json_names(doc["problems"], loc), f"{loc} is not in the JSON problems\n{run}"


def check_metrics(run: Run, validated: Run, expect: Expect) -> None:
    if validated.exit == 0:
        if expect.or_metrics_refuses:
            assert run.exit in (1, 2), f"metrics on this dataset must be refused cleanly\n{run}"
            return
        assert run.exit == 0, f"accepted by validate, but metrics fails\n{run}"
        if "--json" in run.args:
            doc = strict_json(run.stdout)
            assert doc["period"] == PERIOD and doc["reps"], run
        return
    check_refusal(run, expect)


# --------------------------------------------------------------------------- nothing written

def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under `root` (links not followed): kind, size, mtime, content hash."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            st = os.lstat(path)
            entry = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns)
            if stat.S_ISREG(st.st_mode) and st.st_size <= 64 << 20:
                entry += (hashlib.sha256(path.read_bytes()).hexdigest(),)
            elif stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(path),)
            out[str(path.relative_to(root))] = entry
    return out


def _contents(snap: dict[str, tuple], under: str | None) -> dict[str, tuple]:
    """The entries of a snapshot below `under`, by name, without their times."""
    prefix = f"{under}{os.sep}" if under else ""
    return {k[len(prefix):]: v[:2] + v[3:] for k, v in snap.items() if k.startswith(prefix)}


# --------------------------------------------------------------------------- the cases

@pytest.fixture(scope="session")
def corpus_base(tmp_path_factory) -> Path:
    return make_base(tmp_path_factory.mktemp("corpus") / "base")


def _param(c: Case):
    marks = []
    if c.name in OPEN:
        # only a failed check is the expected failure: a broken case builder fails for real
        marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"issue 11: {OPEN[c.name]}"))
    if c.slow:
        marks.append(pytest.mark.slow)
    return pytest.param(c, id=c.name, marks=marks)


def slow_selected(config) -> bool:
    """Slow cases run when asked for: FAIRWAY_SLOW_TESTS=1, or `-m slow`."""
    expr = config.getoption("markexpr") or ""
    return bool(os.environ.get("FAIRWAY_SLOW_TESTS")) or ("slow" in expr and "not slow" not in expr)


def test_open_cases_exist():
    assert set(OPEN) <= {c.name for c in CASES}


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_corpus_case(case: Case, corpus_base: Path, tmp_path: Path, request):
    if case.slow and not slow_selected(request.config):
        pytest.skip("slow (a 2 GB file): run with FAIRWAY_SLOW_TESTS=1 or -m slow")
    root = tmp_path / "data"
    root.mkdir()
    folder = root / case.name
    expect = build_case(case, corpus_base, folder)
    before = snapshot(root)
    if case.name != "base_valid" and _contents(before, case.name) == _contents(snapshot(corpus_base), None):
        raise RuntimeError(f"{case.name} plants nothing: the folder is the base")

    def run(*args: str) -> Run:
        out = run_in_child(list(args), case.seconds, tmp_path) if case.isolate else run_in_process(list(args))
        check_clean(out, case, expect)
        return out

    validated = run("validate", str(folder))
    check_validate(validated, expect)
    check_validate_json(run("validate", str(folder), "--json"), expect)
    check_metrics(run("metrics", str(folder)), validated, expect)
    if validated.exit == 0:       # a refused dataset is refused before any period is chosen
        check_metrics(run("metrics", str(folder), "--period", PERIOD, "--json"), validated, expect)
    assert snapshot(root) == before, "a command wrote into or beside the dataset"


# --------------------------------------------------------------------------- the checks themselves

def test_a_location_is_named_on_one_line_with_its_row_and_column():
    text = ("dataset refused: 2 problems\n"
            "  reps.csv, row 14, column role: unknown role (got 'bdrr'); did you mean 'bdr'?\n"
            "  activities.csv:300: expected 5 columns, got 6\n")
    assert names(text, Loc("reps.csv", 14, "role", suggestion="bdr"))
    assert names(text, Loc("reps.csv"))
    assert not names(text, Loc("reps.csv", 4, "role"))            # row 14 is not row 4
    assert not names(text, Loc("reps.csv", 14, "rol"))
    assert not names(text, Loc("reps.csv", 14, "role", suggestion="isr"))
    assert not names(text, Loc("Reps.csv", 14))
    assert not names(text, Loc("eps.csv"))
    assert not names(text, Loc("activities.csv", 14, "role"))     # the row and column of another file
    assert names(text, Loc("activities.csv", 300, line_ok=True))
    assert not names(text, Loc("activities.csv", 300))             # a line is not a row unless allowed


def test_a_location_is_named_by_one_json_problem():
    problems = [{"file": "reps.csv", "row": 14, "column": "role", "message": "unknown role", "suggestion": "bdr"},
                {"file": "activities.csv", "line": 300, "message": "expected 5 columns"},
                {"file": "goals.*", "message": "both a CSV and a Parquet file"}]
    assert json_names(problems, Loc("reps.csv", 14, "role"))
    assert not json_names(problems, Loc("reps.csv", 14, "team"))
    assert json_names(problems, Loc("reps.csv", 14, "role", suggestion="bdr"))
    assert not json_names(problems, Loc("reps.csv", 14, "role", suggestion="isr"))
    assert not json_names(problems, Loc("reps.csv", 15, "role"))
    assert json_names(problems, Loc("activities.csv", 300, line_ok=True))
    assert not json_names(problems, Loc("activities.csv", 300))
    assert json_names(problems, Loc("goals"))
    assert not json_names(problems, Loc("opportunities.csv"))


def test_a_killed_or_crashed_command_fails_the_case():
    c = Case("x", "test", lambda f: Expect(1))
    with pytest.raises(AssertionError, match="killed"):
        check_clean(Run(["validate"], None, "", "", 31.0), c, Expect(1))
    with pytest.raises(AssertionError, match="traceback"):
        check_clean(Run(["validate"], 1, "", "", 0.1, crash="Traceback ..."), c, Expect(1))
    with pytest.raises(AssertionError, match="peak memory"):
        check_clean(Run(["validate"], 1, "", "", 0.1, max_rss=2 << 30), c, Expect(1))
    with pytest.raises(AssertionError, match="echoes"):
        check_clean(Run(["validate"], 1, "", "got 'ZZZZ'", 0.1), c, Expect(1, absent=("ZZZZ",)))
