"""Benchmark: the engine end to end against a plain DuckDB read-and-aggregate of the same files.

    python bench/bench_engine.py [--reps 1000 3000 10000] [--months 12] [--runs 3] [--engine duckdb]
                                 [--out bench/out]

For each org size (generated once with `fairway demo-data`, kept in --out), in the same run:

- the baseline: a fresh Python process that reads the dataset's CSV files with DuckDB and
  computes the per-rep activity aggregates (count and talk time per rep and type) and the
  funnel aggregates (opportunities per rep, status and stage; stage entries per deal):
  the least any engine must do to read the data;
- `fairway diagnose ORG --json` as a user runs it (a new process: imports, loading and
  validating every file, every metric, the rules, strict JSON to /dev/null).

It prints wall time (best of --runs) and peak resident memory of each, the ratio, how time
grows with the org, and what importing the libraries alone takes (a new process that only
imports what `diagnose` imports: the floor under any run of it). Targets (issue 10): at 1,000 reps diagnose within 1.5 times the
baseline and under 600 MB; at 10,000 reps (about 65 M activity rows) under 4 GB, and
time growing linearly from 1,000 to 3,000 to 10,000 reps.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAIRWAY = [sys.executable, "-c", "from web.cli import main; main()"]
BASELINE = r'''
import sys, duckdb
org = sys.argv[1]
con = duckdb.connect()
con.execute(f"""SELECT rep_id, type, count(*), sum(duration_minutes)
                FROM read_csv('{org}/activities.csv') GROUP BY ALL""").fetchall()
con.execute(f"""SELECT rep_id, status, stage, count(*), sum(amount)
                FROM read_csv('{org}/opportunities.csv') GROUP BY ALL""").fetchall()
con.execute(f"""SELECT opportunity_id, stage, min(entered_date)
                FROM read_csv('{org}/stage_history.csv') GROUP BY ALL""").fetchall()
'''
# what `diagnose` imports before it reads a byte (the command line, pandas, scipy, DuckDB, the
# rules): the floor under any run of it, printed beside the baseline
IMPORTS = "import web.cli, engine.diagnosis.analysis, engine.dataset.validate, engine.catalog.loader"
TARGET_RATIO, TARGET_MB_1K, TARGET_MB_10K = 1.5, 600, 4096


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one run of the command."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(args, stdout=sink, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(args[2:])[:80]} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024       # ru_maxrss is in KiB on Linux


def org_options(ap: argparse.ArgumentParser, reps: list[int] | int, runs: int) -> None:
    """The generated org's options (and how many runs, where it is kept), shared by the benchmarks."""
    if isinstance(reps, list):
        ap.add_argument("--reps", type=int, nargs="+", default=reps)
    else:
        ap.add_argument("--reps", type=int, default=reps)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--end", default="2026-10")
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")


def org_for(out: Path, reps: int, months: int, seed: int, end: str) -> Path:
    org = out / f"org-{reps}r-{months}m-s{seed}-{end}"
    if not (org / "ground_truth.csv").exists():
        print(f"generating {org} ...", flush=True)
        t = time.perf_counter()
        subprocess.run(FAIRWAY + ["demo-data", str(org), "--reps", str(reps), "--months", str(months),
                                  "--seed", str(seed), "--end", end], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        print(f"  generated in {time.perf_counter() - t:.0f}s", flush=True)
    return org


def rows(org: Path) -> int:
    with open(org / "activities.csv", "rb") as fh:
        return sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 24), b"")) - 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    org_options(ap, [1000], runs=3)
    ap.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"])
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores; figures are only fair when it is low)")
    floor = min(timed([sys.executable, "-c", IMPORTS])[0] for _ in range(3))
    print(f"importing what diagnose imports, alone: {floor:.2f}s")
    results = []
    for reps in a.reps:
        org = org_for(a.out, reps, a.months, a.seed, a.end)
        n = rows(org)
        base = [timed([sys.executable, "-c", BASELINE, str(org)]) for _ in range(a.runs)]
        diag = [timed(FAIRWAY + ["diagnose", str(org), "--json", "--engine", a.engine]) for _ in range(a.runs)]
        b_wall, b_mem = min(w for w, _ in base), max(m for _, m in base)
        d_wall, d_mem = min(w for w, _ in diag), max(m for _, m in diag)
        results.append((reps, n, b_wall, b_mem, d_wall, d_mem))
        print(f"{reps:>6} reps, {n:>11,} activities: baseline {b_wall:6.2f}s {b_mem:6.0f} MiB | "
              f"diagnose {d_wall:6.2f}s ({', '.join(f'{w:.2f}' for w, _ in diag)}) {d_mem:6.0f} MiB | "
              f"ratio {d_wall / b_wall:.2f} (the imports alone {floor / b_wall:.2f})", flush=True)
    checks: list[tuple[str, bool]] = []        # each target, and whether it holds
    for reps, n, b_wall, _, d_wall, d_mem in results:
        if reps == 1000:
            checks.append((f"at 1,000 reps diagnose <= {TARGET_RATIO} x baseline "
                           f"({d_wall / b_wall:.2f})", d_wall <= TARGET_RATIO * b_wall))
            checks.append((f"at 1,000 reps peak < {TARGET_MB_1K} MiB ({d_mem:.0f})", d_mem < TARGET_MB_1K))
        if reps >= 10000:
            checks.append((f"at {reps:,} reps peak < {TARGET_MB_10K} MiB ({d_mem:.0f})", d_mem < TARGET_MB_10K))
    if len(results) > 1:
        first = results[0]
        for reps, n, _, _, d_wall, _ in results[1:]:
            print(f"growth {first[0]} -> {reps} reps: rows x{n / first[1]:.1f}, time x{d_wall / first[4]:.1f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    for what, holds in checks:
        print(f"  target {'met' if holds else 'NOT met'}: {what}")
    if not checks:
        print("no target applies to these sizes (1,000 and 10,000 reps have targets)")
    ok = all(holds for _, holds in checks)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
