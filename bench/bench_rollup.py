"""Benchmark: the roll-up's server time and size on a generated 1,000-rep org.

    python bench/bench_rollup.py [--reps 1000] [--divisions 2] [--runs 7] [--out bench/out-rollup]

Generates an org of `--reps` reps in `--divisions` divisions (two: ~500 reps each), imports
it into a fresh instance, records a month of coaching (a development conversation and a
plan with two assignments for half the reps, conversations in progress for a tenth), then
asks the app (its test client: the server's own time, no network) for a director's roll-up
of one division, one team's drill-down, the roll-up API and an admin's roll-up of every
division, and prints the median server time and the size of each answer.
Target (issue 8): the roll-up of a 500-rep division well under a second and a few hundred KB.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--divisions", type=int, default=2)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out-rollup")
    ap.add_argument("--profile", action="store_true", help="keep the instance in --out and reuse it; profile "
                                                           "the director's roll-up")
    args = ap.parse_args()

    from engine.demo.org import generate_org, write_org
    from web import create_app
    from web.demo import create_user, init_db
    from web.extensions import db
    from web.models import Assignment, CoachingPlan, CoachingSession, Dataset, RepSnapshot, Role
    from web.store import catalog, ingest

    org_dir = args.out / f"org-{args.reps}-{args.divisions}"
    instance = Path(tempfile.mkdtemp(prefix="fairway-bench-rollup-"))
    if args.profile:
        instance = args.out / "instance"
        instance.mkdir(parents=True, exist_ok=True)
    app = create_app({"INSTANCE_PATH": str(instance), "FAIRWAY_ENV": "testing", "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'fairway.sqlite'}",
                      "FAIRWAY_DATASETS": str(instance / "datasets"), "FAIRWAY_IMPORT_ROOT": str(instance)})
    init_db(app)
    fresh = True
    with app.app_context():
        fresh = db.session.execute(db.select(db.func.count(Dataset.id))).scalar_one() == 0
    with app.app_context():
        if not org_dir.exists():
            t = time.perf_counter()
            org = generate_org(catalog().pipeline, reps=args.reps, months=12, seed=args.seed, end="2026-10")
            teams = sorted(org.reps["team"].unique())
            division = {team: f"division-{i * args.divisions // len(teams) + 1}" for i, team in enumerate(teams)}
            org.reps["division"] = org.reps["team"].map(division)
            write_org(org, org_dir)
            print(f"generated {args.reps} reps in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        ds = ingest(org_dir, name="bench", source=str(org_dir), user=None) if fresh else \
            db.session.execute(db.select(Dataset)).scalars().first()
        print(f"imported in {time.perf_counter() - t:.0f} s")
        reps = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id)
                                  .with_only_columns(RepSnapshot.rep_id, RepSnapshot.name, RepSnapshot.team,
                                                     RepSnapshot.division)).all()
        divisions = sorted({r.division for r in reps})
        today = date.today()
        if fresh:
            create_user("director", "Dana Director", Role.director, "director-bench-pw", divisions=[divisions[0]])
            admin = create_user("admin", "Ada Admin", Role.admin, "admin-bench-pw")
        for i, r in enumerate(reps if fresh else []):
            common = dict(rep_id=r.rep_id, rep_name=r.name, team=r.team, division=r.division)
            if i % 2 == 0 or i % 10 == 1:
                s = CoachingSession(**common, manager_id=admin.id, dataset_id=ds.id, held_on=today, month=ds.period,
                                    status="completed" if i % 2 == 0 else "in_progress",
                                    step="done" if i % 2 == 0 else "questions",
                                    reflection={}, dialogue={}, actions={}, drafts={})
                db.session.add(s)
                if i % 2 == 0:
                    db.session.flush()
                    p = CoachingPlan(**common, session_id=s.id, manager_id=admin.id, month=ds.period,
                                     skill_id="qualification", behaviour_gap="demo_dropoff", why="why", how="how",
                                     baseline_metric="win_rate", baseline_value=0.3, target_value=0.4,
                                     follow_up_on=today + timedelta(days=14))
                    for kind, days in (("learning", -3), ("selling", 10)):
                        p.assignments.append(Assignment(**common, kind=kind, ref_id="x", title=f"{kind} work",
                                                        due_on=today + timedelta(days=days), created_by=admin.id,
                                                        status="completed" if i % 4 == 0 else "open"))
                    db.session.add(p)
        db.session.commit()
        size = {d: sum(1 for r in reps if r.division == d) for d in divisions}
        team = next(r.team for r in reps if r.division == divisions[0])
    print(f"divisions: {', '.join(f'{d} ({n} reps)' for d, n in size.items())}")

    def client_for(user: str, password: str):
        c = app.test_client()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', c.get("/login").get_data(as_text=True)).group(1)
        assert c.post("/login", data={"username": user, "password": password, "csrf_token": token}).status_code == 302
        return c

    director, admin_client = client_for("director", "director-bench-pw"), client_for("admin", "admin-bench-pw")
    pages = [("director: roll-up of one division (teams compared)", director, "/rollup/"),
             ("director: one team's reps", director, f"/rollup/teams/{team}"),
             ("director: the roll-up API", director, "/api/v1/rollup"),
             ("admin: every division", admin_client, "/rollup/"),
             ("admin: one division's teams", admin_client, f"/rollup/?division={divisions[0]}"),
             ("director: the old team page (every rep, every chart)", director, "/team/")]
    if args.profile:
        import cProfile
        import pstats
        director.get("/rollup/")
        prof = cProfile.Profile()
        prof.enable()
        director.get("/rollup/")
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    print(f"\n{'page':<56} {'median ms':>10} {'KB':>8}")
    for title, c, url in pages:
        times, body = [], b""
        for _ in range(args.runs):
            t = time.perf_counter()
            r = c.get(url)
            times.append((time.perf_counter() - t) * 1000)
            body = r.data
            assert r.status_code == 200, (url, r.status_code)
        print(f"{title:<56} {statistics.median(times):>10.0f} {len(body) / 1024:>8.0f}")


if __name__ == "__main__":
    main()
