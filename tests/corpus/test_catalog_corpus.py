"""Every broken catalog of the corpus is refused cleanly, by `catalog check` and by `diagnose`.

For each case (tests/corpus/catalogs.py): exit code 1, every expected problem named with
its file, line and key, no traceback, and done fast within bounded memory: each command
runs under a time limit and an address-space limit, so a regression (an alias bomb
expanded, a template allocating gigabytes) fails its case instead of hanging the suite
or the machine.
"""
from __future__ import annotations

import resource
import signal
import sys
import time
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from corpus.catalogs import CASES, Absent, Expect, build_case, copy_shipped
from web.cli import cli

SECONDS = 20               # per command; a refusal takes well under one
EXTRA_MEMORY = 1 << 30     # address space a command may add to the test process


@pytest.fixture(scope="module")
def demo_org(tmp_path_factory):
    """A small demo org, made once: diagnose must refuse the catalog before reading it."""
    out = tmp_path_factory.mktemp("corpus") / "org"
    result = CliRunner().invoke(cli, ["demo-data", str(out), "--reps", "10", "--months", "3", "--seed", "5"])
    assert result.exit_code == 0, result.output
    return out


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout(f"still running after {SECONDS} s")


@contextmanager
def bounded():
    """Run the block with a wall-clock limit and, on Linux, a cap on new address space."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if sys.platform.startswith("linux"):
        with open("/proc/self/statm") as fh:
            in_use = int(fh.read().split()[0]) * resource.getpagesize()
        cap = in_use + EXTRA_MEMORY if hard == resource.RLIM_INFINITY else min(in_use + EXTRA_MEMORY, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run(*args) -> tuple[object, float]:
    start = time.perf_counter()
    with bounded():
        result = CliRunner().invoke(cli, [str(a) for a in args])
    return result, time.perf_counter() - start


def assert_refused(result, elapsed: float, expectations: list) -> None:
    output = result.output
    assert isinstance(result.exception, SystemExit), (result.exception, output)
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    assert elapsed < 10, f"took {elapsed:.1f} s"
    for e in expectations:
        if isinstance(e, Expect):
            assert e.found_in(output), f"missing {e.where}: ...{e.text}...\n{output}"
        else:
            assert isinstance(e, Absent) and e.text not in output, f"unexpected {e.text!r}\n{output}"


def test_the_unbroken_copy_passes_both(tmp_path, demo_org):
    """The harness can tell: a faithful copy is checked and diagnoses (exit 0)."""
    root = copy_shipped(tmp_path / "cat").root
    result, _ = run("catalog", "check", root, "--strict")
    assert result.exit_code == 0, result.output
    result, _ = run("diagnose", demo_org, "--catalog", root)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_broken_catalog_is_refused_cleanly(name, tmp_path, demo_org):
    expectations = build_case(CASES[name], tmp_path / "cat")
    assert any(isinstance(e, Expect) for e in expectations)
    root = tmp_path / "cat"
    assert_refused(*run("catalog", "check", root), expectations)
    assert_refused(*run("diagnose", demo_org, "--catalog", root), expectations)


def test_the_corpus_covers_every_class():
    kinds = {c.kind for c in CASES.values()}
    assert {"YAML tag", "YAML recursive alias", "YAML alias bomb", "file not regular", "Markdown asset",
            "says template", "NaN / infinity", "masking cycle", "several files"} <= kinds
    assert len(CASES) >= 69
