"""Benchmark: importing an org in the app against the engine alone, on the same files in the same run.

    python bench/bench_import.py [--reps 1000] [--runs 2] [--out bench/out]

For the org of bench_engine.py (generated once with `fairway demo-data`, kept in --out):

- the engine: `fairway diagnose ORG --json` in a new process (imports, reading and validating
  every file, every metric, the rules, the JSON), best of --runs;
- the app's import, as the job queue's worker runs it (`web.store.ingest`, in a process that has
  the app loaded, as a worker has): reading and validating, the analysis, then what only the
  app does: every rep's page documents (metrics, diagnosis, charts, plan), the progress
  reports' month facts, the copy of the files, and one transaction storing it all (SQLite in
  a fresh instance). Each phase is timed from the engine's progress messages.

Target (issue 10): import time in the app is what the engine takes, not more: the reading and
the analysis take the engine's time, and what is added is the storing of what every page shows.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import FAIRWAY, org_for, org_options, timed  # noqa: E402


def app_import(org: Path) -> tuple[float, list[tuple[float, str]]]:
    """(seconds, [(seconds since start, message)]) of one ingest into a fresh instance."""
    from web import create_app
    from web.demo import init_db
    from web.store import ingest
    instance = Path(tempfile.mkdtemp(prefix="fairway-bench-import-"))
    app = create_app({"INSTANCE_PATH": str(instance), "FAIRWAY_ENV": "testing", "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'fairway.sqlite'}",
                      "FAIRWAY_DATASETS": str(instance / "datasets"), "FAIRWAY_IMPORT_ROOT": str(instance)})
    init_db(app)
    heard: list[tuple[float, str]] = []
    with app.app_context():
        start = time.perf_counter()
        ingest(org, name="bench", source=str(org), user=None,
               progress=lambda m: heard.append((time.perf_counter() - start, m)))
        total = time.perf_counter() - start
    heard.append((total, "stored: done"))
    return total, heard


def phases(heard: list[tuple[float, str]]) -> dict[str, float]:
    """Seconds of reading and validating, analysing, and storing, from the progress messages."""
    analysing = next(t for t, m in heard if m.startswith("analysing"))
    storing = next(t for t, m in heard if m.startswith("storing"))
    return {"read and validate": analysing, "analyse (and each rep's documents)": storing - analysing,
            "store": heard[-1][0] - storing}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    org_options(ap, 1000, runs=2)
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores; figures are only fair when it is low)")
    org = org_for(a.out, a.reps, a.months, a.seed, a.end)
    engine = min(timed(FAIRWAY + ["diagnose", str(org), "--json"])[0] for _ in range(a.runs))
    best = None
    for _ in range(a.runs):
        total, heard = app_import(org)
        if best is None or total < best[0]:
            best = (total, heard)
    total, heard = best
    print(f"{a.reps} reps: fairway diagnose {engine:.2f} s; the app's import {total:.2f} s "
          f"(ratio {total / engine:.2f})")
    for name, seconds in phases(heard).items():
        print(f"  {name:<36} {seconds:6.2f} s")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
