"""Benchmark: `fairway metrics` and `fairway diagnose` end to end on a large generated org.

    python bench/bench_metrics.py [--reps 1000] [--months 12] [--seed 7] [--runs 3] [--out bench/out]

Generates the org once (kept in --out for later runs), then times each command as a
user runs it (a new process: imports, loading and validating every file, all metrics,
strict JSON written to /dev/null), and reports wall time and peak memory of each run.
Targets (the foundation issue): 1,000 reps, ~6.5M activity rows, `metrics` under 5 s
and 2 GiB; `diagnose` within twice the time of `metrics`.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAIRWAY = [sys.executable, "-c", "from web.cli import main; main()"]
METRICS_TARGET_S, MEMORY_TARGET_GIB = 5.0, 2.0


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak resident GiB) of one run of the command."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(args, stdout=sink, stderr=subprocess.PIPE, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args[3:])} failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024 / 1024     # ru_maxrss is in KiB on Linux


def rows(folder: Path) -> dict[str, int]:
    out = {}
    for f in sorted(folder.glob("*.csv")):
        with open(f, "rb") as fh:
            out[f.stem] = sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 24), b"")) - 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--end", default="2026-10")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    a = ap.parse_args()
    org = a.out / f"org-{a.reps}r-{a.months}m-s{a.seed}-{a.end}"
    if not (org / "ground_truth.csv").exists():
        shutil.rmtree(org, ignore_errors=True)
        print(f"generating {org} ...", flush=True)
        t = time.perf_counter()
        subprocess.run(FAIRWAY + ["demo-data", str(org), "--reps", str(a.reps), "--months", str(a.months),
                                  "--seed", str(a.seed), "--end", a.end], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        print(f"  generated in {time.perf_counter() - t:.1f}s")
    counts = rows(org)
    print(f"org: {a.reps} reps; " + ", ".join(f"{k} {v:,}" for k, v in counts.items() if k != "ground_truth"))
    results = {}
    for name in ("metrics", "diagnose"):
        runs = [timed(FAIRWAY + [name, str(org), "--json"]) for _ in range(a.runs)]
        best = min(w for w, _ in runs)
        peak = max(m for _, m in runs)
        results[name] = (best, peak)
        print(f"fairway {name:<8} --json: best {best:.2f}s of {a.runs} "
              f"({', '.join(f'{w:.2f}' for w, _ in runs)}), peak memory {peak:.2f} GiB")
    m, d = results["metrics"][0], results["diagnose"][0]
    ok = m < METRICS_TARGET_S and results["metrics"][1] < MEMORY_TARGET_GIB and d <= 2 * m
    print(f"diagnose / metrics = {d / m:.2f} (target <= 2); metrics target {METRICS_TARGET_S}s, "
          f"{MEMORY_TARGET_GIB} GiB: {'met' if ok else 'NOT met'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
