"""Load benchmark: 20 signed-in users at once, no think time, on the 1,000-rep instance served by
`fairway serve` (gunicorn) on loopback.

    python bench/bench_load.py [--users 20] [--seconds 300] [--workers N] [--threads 1] [--out bench/out]

Builds (or reuses) the instance of bench/web_instance.py, starts `fairway serve --no-worker` on a
free loopback port, signs each user in (managers, directors and an admin, each with a session of
their own), then for --seconds every user sends its next request as soon as the last one answered:
managers' pages (team, rep, the rep's chart data), directors' (the teams summary, a team, a rep),
conversation steps (opening a step, saving one: a write), and API calls. Reports per kind the
count, errors, median and 95th percentile; requests per second; and the resident memory of the
gunicorn processes, sampled every 5 s: at the start, the end and its peak. Bounded: loopback only,
at most --seconds (plus the start and stop), then the server is stopped.
Targets (issue 10): p95 under 250 ms, no errors, memory steady over 5 minutes.
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from helpers import wait_until_serving  # noqa: E402
from web_instance import PASSWORD, build, config, environment  # noqa: E402

P95_TARGET_MS = 250.0
MIX = {"manager": 10, "director": 8, "admin": 2}        # of 20 users; scaled to --users


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's master and workers), in MiB."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by a process and its children (the server's workers)."""
    total = 0
    for p in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])          # utime, stime (fields 14 and 15)
        except FileNotFoundError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


class User:
    """One signed-in browser: its own session cookie, its own requests."""

    def __init__(self, base: str, username: str, plan: dict, rng: random.Random):
        self.base, self.username, self.plan, self.rng = base, username, plan, rng
        self.s = requests.Session()
        self.s.headers["User-Agent"] = f"fairway-bench-load/{username}"
        token = self.token("/login")
        r = self.s.post(base + "/login", data={"csrf_token": token, "username": username, "password": PASSWORD},
                        allow_redirects=False, timeout=60)
        assert r.status_code == 302, f"{username} could not sign in: {r.status_code}"
        self.csrf = self.s.get(base + "/api/v1/csrf-token", timeout=60).json()["csrf_token"]
        self.session_id = None
        if username == "manager":
            r = self.s.post(f"{base}/coach/start/{plan['rep']}", data={"csrf_token": self.csrf},
                            allow_redirects=False, timeout=60)
            self.session_id = int(re.search(r"/coach/(\d+)", r.headers["Location"]).group(1))

    def token(self, path: str) -> str:
        html = self.s.get(self.base + path, timeout=60).text
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    def next_request(self) -> tuple[str, str, str, dict | None]:
        """(kind, method, path, form) of the user's next request."""
        p, r = self.plan, self.rng
        if self.username == "manager":
            rep = r.choice(p["manager_reps"])
            sid = self.session_id
            return r.choice([
                ("manager pages", "GET", "/team/", None), ("manager pages", "GET", f"/reps/{rep}", None),
                ("manager pages", "GET", f"/reps/{rep}/charts", None), ("manager pages", "GET", "/coach/", None),
                ("manager pages", "GET", "/assignments/", None),
                ("conversation steps", "GET", f"/coach/{sid}/reflection", None),
                ("conversation steps", "GET", f"/coach/{sid}/goals", None),
                ("conversation steps", "GET", f"/coach/{sid}/gap", None),
                ("conversation steps", "POST", f"/coach/{sid}/goals",
                 {"csrf_token": self.csrf, "goals_note": f"note {r.randrange(10**6)}", "next": "Save & continue"}),
                ("API calls", "GET", "/api/v1/reps", None), ("API calls", "GET", f"/api/v1/reps/{rep}/diagnosis", None),
                ("API calls", "GET", f"/api/v1/reps/{rep}/metrics", None), ("API calls", "GET", "/api/v1/assignments", None)])
        if self.username == "director":
            rep, team = r.choice(p["director_reps"]), r.choice(p["director_teams"])
            return r.choice([
                ("director pages", "GET", "/team/", None), ("director pages", "GET", f"/team/?team={team}", None),
                ("director pages", "GET", f"/reps/{rep}", None), ("director pages", "GET", f"/reps/{rep}/charts", None),
                ("director pages", "GET", f"/coach/?page={r.randint(1, 4)}", None),
                ("API calls", "GET", f"/api/v1/reps?page={r.randint(1, 4)}", None),
                ("API calls", "GET", f"/api/v1/reps/{rep}", None)])
        return r.choice([
            ("admin pages", "GET", "/team/", None), ("admin pages", "GET", "/admin/datasets", None),
            ("admin pages", "GET", f"/team/?team={r.choice(p['all_teams'])}", None),
            ("API calls", "GET", "/api/v1/reps?per_page=200", None), ("API calls", "GET", "/api/v1/datasets/current", None)])


def plan_of(instance: Path) -> dict:
    """Reps and teams each user may see (read from the instance's store)."""
    from web import create_app
    from web.extensions import db
    from web.models import Dataset, RepSnapshot, User as Account
    app = create_app(config(instance))
    with app.app_context():
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        manager = db.session.execute(db.select(Account).where(Account.username == "manager")).scalar_one()
        director = db.session.execute(db.select(Account).where(Account.username == "director")).scalar_one()
        rows = db.session.execute(db.select(RepSnapshot.rep_id, RepSnapshot.team, RepSnapshot.division,
                                            RepSnapshot.focus_gap).where(RepSnapshot.dataset_id == ds.id)).all()
        plan = {"manager_reps": [r.rep_id for r in rows if r.team in manager.teams],
                "rep": next(r.rep_id for r in rows if r.team in manager.teams and r.focus_gap),
                "director_reps": [r.rep_id for r in rows if r.division in director.divisions],
                "director_teams": sorted({r.team for r in rows if r.division in director.divisions}),
                "all_teams": sorted({r.team for r in rows}), "reps": len(rows)}
        db.session.remove()
        db.engine.dispose()
    return plan


def run_user(user: User, until: float, results: dict, lock: threading.Lock) -> None:
    mine = defaultdict(list)
    errors = defaultdict(list)
    while time.monotonic() < until:
        kind, method, path, form = user.next_request()
        start = time.perf_counter()
        try:
            r = user.s.request(method, user.base + path, data=form, allow_redirects=False, timeout=30)
            r.content
            ok = r.status_code == 200 or (method == "POST" and r.status_code == 302)
            what = f"{method} {path}: {r.status_code}"
        except requests.RequestException as exc:
            ok, what = False, f"{method} {path}: {type(exc).__name__}"
        mine[kind].append((time.perf_counter() - start) * 1000)
        if not ok:
            errors[kind].append(what)
    with lock:
        for kind, times in mine.items():
            results["times"][kind] += times
        for kind, items in errors.items():
            results["errors"][kind] += items


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--workers", type=int, default=None, help="default: fairway serve's (cores + 1)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--reps", type=int, default=1000)
    a = ap.parse_args()
    from web.serve import default_workers
    a.workers = a.workers or default_workers()
    if not 1 <= a.users <= 100 or not 10 <= a.seconds <= 1800:
        sys.exit("--users from 1 to 100, --seconds from 10 to 1800: this benchmark stays bounded")
    instance = build(a.out, a.reps)
    plan = plan_of(instance)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = a.out / "bench_load_server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--workers", str(a.workers), "--threads", str(a.threads), "--no-worker"],
                                  env=environment(instance), stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_until_serving(base, server, log, timeout=180)
        scale = a.users / sum(MIX.values())
        roles = list(itertools.chain.from_iterable([role] * max(1, round(n * scale)) for role, n in MIX.items()))[:a.users]
        users = [User(base, role, plan, random.Random(i)) for i, role in enumerate(roles)]
        for u in users:                                   # one round each: every page compiled and cached once
            for _ in range(5):
                kind, method, path, form = u.next_request()
                u.s.request(method, base + path, data=form, allow_redirects=False, timeout=60)
        results = {"times": defaultdict(list), "errors": defaultdict(list)}
        lock = threading.Lock()
        memory = [(0.0, rss_mib(server.pid))]
        load_before = os.getloadavg()
        cpu_before = cpu_seconds(server.pid)
        own_before = time.process_time()            # the load generator's own CPU, on the same cores
        started = time.monotonic()
        until = started + a.seconds
        threads = [threading.Thread(target=run_user, args=(u, until, results, lock)) for u in users]
        for t in threads:
            t.start()
        while time.monotonic() < until:
            time.sleep(min(5.0, max(0.0, until - time.monotonic())))
            memory.append((time.monotonic() - started, rss_mib(server.pid)))
        for t in threads:
            t.join(60)
        elapsed = time.monotonic() - started
        load_after = os.getloadavg()
        results["server_cpu"] = cpu_seconds(server.pid) - cpu_before
        results["client_cpu"] = time.process_time() - own_before
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
    report(a, plan, results, memory, elapsed, load_before, load_after)


def report(a, plan, results, memory, elapsed, load_before, load_after) -> None:
    times, errors = results["times"], results["errors"]
    total = sum(len(v) for v in times.values())
    print(f"fairway under load: {a.users} users, no think time, {elapsed:.0f} s, {plan['reps']:,} reps; "
          f"fairway serve --workers {a.workers} --threads {a.threads} on {os.cpu_count()} cores")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"{'kind':<20} {'requests':>9} {'errors':>7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for kind in sorted(times):
        v = times[kind]
        p95 = statistics.quantiles(v, n=20, method="inclusive")[-1] if len(v) > 1 else v[0]
        worst = max(worst, p95)
        print(f"{kind:<20} {len(v):>9} {len(errors.get(kind, [])):>7} {statistics.median(v):>10.1f} {p95:>8.1f} "
              f"{max(v):>8.1f}")
    n_errors = sum(len(v) for v in errors.values())
    print(f"{total:,} requests, {total / elapsed:.1f} requests/s, {n_errors} errors; worst p95 {worst:.0f} ms "
          f"(target: under {P95_TARGET_MS:.0f} ms)")
    for kind, items in errors.items():
        for what in items[:5]:
            print(f"  error ({kind}): {what}")
    cpu_ms = 1000 * results["server_cpu"] / max(total, 1)
    print(f"server CPU: {results['server_cpu']:.0f} s in {elapsed:.0f} s ({results['server_cpu'] / elapsed:.2f} cores), "
          f"{cpu_ms:.1f} ms a request: {os.cpu_count()} free cores would serve about "
          f"{1000 * os.cpu_count() / cpu_ms:.0f} requests/s")
    print(f"load generator CPU: {results['client_cpu']:.0f} s ({results['client_cpu'] / elapsed:.2f} cores), "
          f"{1000 * results['client_cpu'] / max(total, 1):.1f} ms a request, on the same cores as the server")
    rss = [m for _, m in memory]
    first = [m for t, m in memory if t <= 60] or rss[:1]
    last = [m for t, m in memory if t >= memory[-1][0] - 60] or rss[-1:]
    print(f"gunicorn resident memory (master and workers), every 5 s: start {rss[0]:.0f} MiB, peak {max(rss):.0f} MiB, "
          f"end {rss[-1]:.0f} MiB; first minute mean {statistics.mean(first):.0f} MiB, last minute mean "
          f"{statistics.mean(last):.0f} MiB")
    print("samples (s: MiB): " + ", ".join(f"{t:.0f}: {m:.0f}" for t, m in memory[::6]))


if __name__ == "__main__":
    main()
