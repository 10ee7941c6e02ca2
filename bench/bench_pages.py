"""Benchmark: the server time of every page on a 1,000-rep org, one user at a time.

    python bench/bench_pages.py [--runs 30] [--out bench/out] [--reps 1000] [--user U ...] [--page TEXT ...]

Builds (once, kept in --out) an instance with a 1,000-rep org imported through the app's own
ingest (bench/web_instance.py), signs in as a manager, a director, an admin and an
enablement lead, and times each of their pages and API calls with the app's test client
(in process: the server's own time, from the request to the last byte of the answer, no
network): median and 95th percentile over --runs requests, after one warm-up request.
--user and --page time only some of them: the pages of those users, whose label contains one of
those texts (`--user director admin --page one-on-ones`).
Target (issue 10): every page under 50 ms at the median.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from web_instance import PASSWORD, USERS, build, config  # noqa: E402

TARGET_MS = 50.0


def sign_in(app, username: str):
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    r = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert r.status_code == 302, f"{username} could not sign in"
    return client


def token_of(client, url: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


def targets(app) -> dict:
    """What each user visits: the rep, team, session and dataset ids of this instance."""
    from web.extensions import db
    from web.models import Dataset, RepSnapshot, User
    with app.app_context():
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        director = db.session.execute(db.select(User).where(User.username == "director")).scalar_one()
        isr_team = manager.teams[0]
        rep = db.session.execute(db.select(RepSnapshot.rep_id, RepSnapshot.focus_gap).where(
            RepSnapshot.dataset_id == ds.id, RepSnapshot.team == isr_team, RepSnapshot.focus_gap.is_not(None))
            .order_by(RepSnapshot.rep_id)).first()
        division_teams = db.session.execute(db.select(RepSnapshot.team).distinct().where(
            RepSnapshot.dataset_id == ds.id, RepSnapshot.division.in_(director.divisions))
            .order_by(RepSnapshot.team)).scalars().all()
        division_rep = db.session.execute(db.select(RepSnapshot.rep_id).where(
            RepSnapshot.dataset_id == ds.id, RepSnapshot.team == division_teams[-1])).scalars().first()
        reps = db.session.execute(db.select(db.func.count(RepSnapshot.id)).where(
            RepSnapshot.dataset_id == ds.id)).scalar_one()
        db.session.remove()
    return {"dataset": ds.id, "rep": rep.rep_id, "gap": rep.focus_gap, "team": isr_team,
            "division_team": division_teams[-1], "division_rep": division_rep, "reps": reps}


def start_session(client, t: dict) -> int:
    """A conversation with the manager's rep, moved to the questions (the gap chosen)."""
    r = client.post(f"/coach/start/{t['rep']}", data={"csrf_token": token_of(client, f"/reps/{t['rep']}")})
    sid = int(re.search(r"/coach/(\d+)", r.headers["Location"]).group(1))
    gap_url = f"/coach/{sid}/gap"
    client.post(gap_url, data={"csrf_token": token_of(client, gap_url), "behaviour_gap": t["gap"],
                               "next": "Save & continue"})
    return sid


def pages(t: dict, sid: int) -> dict[str, list[tuple[str, str]]]:
    rep, team, dteam, drep = t["rep"], t["team"], t["division_team"], t["division_rep"]
    return {
        "manager": [("team page", "/team/"), ("team page, one team", f"/team/?team={team}"),
                    ("rep page", f"/reps/{rep}"), ("rep charts (JSON)", f"/reps/{rep}/charts"),
                    ("one-on-ones", "/coach/"), ("step: reflection", f"/coach/{sid}/reflection"),
                    ("step: goals", f"/coach/{sid}/goals"), ("step: gap", f"/coach/{sid}/gap"),
                    ("step: questions", f"/coach/{sid}/questions"), ("assignments", "/assignments/"),
                    ("archive", "/archive/"), ("API reps", "/api/v1/reps"), ("API rep", f"/api/v1/reps/{rep}"),
                    ("API metrics", f"/api/v1/reps/{rep}/metrics"), ("API diagnosis", f"/api/v1/reps/{rep}/diagnosis"),
                    ("API plans", "/api/v1/plans"), ("API assignments", "/api/v1/assignments")],
        "director": [("team page (teams)", "/team/"), ("team page, one team", f"/team/?team={dteam}"),
                     ("rep page", f"/reps/{drep}"), ("rep charts (JSON)", f"/reps/{drep}/charts"),
                     ("one-on-ones", "/coach/"), ("one-on-ones, page 3", "/coach/?page=3"),
                     ("API reps", "/api/v1/reps"), ("API reps, page 3", "/api/v1/reps?page=3"),
                     ("API reps, 200", "/api/v1/reps?per_page=200")],
        "admin": [("team page (teams)", "/team/"), ("team page, page 2", "/team/?page=2"),
                  ("rep page", f"/reps/{rep}"), ("one-on-ones", "/coach/"), ("datasets", "/admin/datasets"),
                  ("dataset", f"/admin/datasets/{t['dataset']}"), ("imports", "/admin/jobs"),
                  ("users", "/admin/users"), ("API reps, 200", "/api/v1/reps?per_page=200"),
                  ("API dataset", "/api/v1/datasets/current")],
        "enablement": [("catalog", "/catalog/"), ("coverage", "/catalog/coverage"), ("insights", "/catalog/insights"),
                       ("thresholds", "/catalog/thresholds")],
    }


def time_page(client, url: str, runs: int) -> tuple[int, int, list[float], list[float]]:
    """Status, size, and the wall and CPU milliseconds of each request (on a shared machine the CPU
    time is what the request itself costs; the wall time adds the wait for a core)."""
    r = client.get(url)                      # warm-up: templates compiled, caches filled
    status, size = r.status_code, len(r.get_data())
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        r = client.get(url)
        r.get_data()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if r.status_code != status:
            sys.exit(f"{url}: {r.status_code} after {status}")
    return status, size, wall, cpu


def chosen(user: str, label: str, users: list[str] | None, texts: list[str] | None) -> bool:
    """Whether --user and --page (none: every one) select this page."""
    return (not users or user in users) and (not texts or any(t.lower() in label.lower() for t in texts))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--user", nargs="+", choices=USERS, help="only these users' pages")
    ap.add_argument("--page", nargs="+", metavar="TEXT", help="only the pages whose label contains one of these")
    a = ap.parse_args()
    instance = build(a.out, a.reps)
    from web import create_app
    app = create_app(config(instance))
    t = targets(app)
    clients = {u: sign_in(app, u) for u in ("manager", "director", "admin", "enablement")}
    sid = start_session(clients["manager"], t)
    load = os.getloadavg()
    print(f"fairway pages on {t['reps']:,} reps, {a.runs} requests each (test client, in process); "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(f"{'user':<11} {'page':<22} {'status':>6} {'KiB':>7} {'median ms':>10} {'p95 ms':>8} "
          f"{'CPU median':>11} {'CPU p95':>8}")
    worst, worst_cpu = 0.0, 0.0
    for user, items in pages(t, sid).items():
        for label, url in items:
            if not chosen(user, label, a.user, a.page):
                continue
            status, size, wall, cpu = time_page(clients[user], url, a.runs)
            med, med_cpu = statistics.median(wall), statistics.median(cpu)
            worst, worst_cpu = max(worst, med), max(worst_cpu, med_cpu)
            flag = "" if med < TARGET_MS else "  over target"
            print(f"{user:<11} {label:<22} {status:>6} {size / 1024:>7.1f} {med:>10.1f} {p95(wall):>8.1f} "
                  f"{med_cpu:>11.1f} {p95(cpu):>8.1f}{flag}")
    load = os.getloadavg()
    print(f"slowest median {worst:.1f} ms wall, {worst_cpu:.1f} ms CPU (target: under {TARGET_MS:.0f} ms); "
          f"load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
