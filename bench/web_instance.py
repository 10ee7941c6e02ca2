"""The web benchmarks' instance: a 1,000-rep org imported through the app's own ingest, with
one user per role and a few coaching plans, built once and kept in bench/out.

    python bench/web_instance.py [--out bench/out] [--reps 1000]

bench_pages.py and bench_load.py call `build()`; a later run reuses what is there (and
applies new migrations to it).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password-1"
USERS = ("manager", "director", "admin", "enablement")


def config(instance: Path) -> dict:
    return {"INSTANCE_PATH": str(instance), "FAIRWAY_ENV": "production", "SECRET_KEY": "bench-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'fairway.sqlite'}",
            "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}


def environment(instance: Path) -> dict:
    """The same instance for a `fairway serve` process (plain HTTP on loopback: cookies not Secure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRWAY_")}
    env.update({"FAIRWAY_INSTANCE": str(instance), "FAIRWAY_SECRET_KEY": "bench-secret", "FAIRWAY_ENV": "demo"})
    return env


def build(out: Path, reps: int = 1000) -> Path:
    """The instance folder (built if it is not there yet)."""
    out = out.resolve()
    instance, org = out / f"web-{reps}", out / f"web-org-{reps}"
    from web import create_app
    from web.demo import init_db
    if (instance / "ready").exists():
        app = create_app(config(instance))
        init_db(app)                          # new migrations, if any
        return instance
    if not org.exists():
        print(f"generating a {reps}-rep org in {org} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-c", "from web.cli import main; main()", "demo-data", str(org),
                        "--reps", str(reps), "--months", "12", "--seed", "7", "--end", "2026-10"], check=True,
                       stdout=subprocess.DEVNULL)
    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(config(instance))
    init_db(app)
    started = time.perf_counter()
    print(f"importing it through the app's ingest into {instance} ...", file=sys.stderr)
    with app.app_context():
        from web.store import ingest
        ds = ingest(org, name=f"Bench org ({reps} reps)", source=str(org), user=None)
        print(f"  imported in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        seed_users_and_plans(ds)
    (instance / "ready").write_text("ok\n")
    return instance


def seed_users_and_plans(ds) -> None:
    """One user per role (the manager: the busiest closing team and a prospecting team; the director:
    the largest division), and a plan with assignments for a few of the manager's reps."""
    from web.demo import create_user
    from web.extensions import db
    from web.models import Assignment, CoachingPlan, RepSnapshot, Role
    reps = db.session.execute(db.select(RepSnapshot.rep_id, RepSnapshot.name, RepSnapshot.role, RepSnapshot.team,
                                        RepSnapshot.division).where(RepSnapshot.dataset_id == ds.id)).all()
    division = Counter(r.division for r in reps).most_common(1)[0][0]
    isr = Counter(r.team for r in reps if r.role == "isr" and r.division == division).most_common(1)[0][0]
    bdr = sorted({r.team for r in reps if r.role == "bdr" and r.division == division})[0]
    manager = create_user("manager", "Mia Manager", Role.manager, PASSWORD, teams=[isr, bdr])
    create_user("director", "Dan Director", Role.director, PASSWORD, divisions=[division])
    create_user("admin", "Ada Admin", Role.admin, PASSWORD)
    create_user("enablement", "Eve Enablement", Role.enablement, PASSWORD)
    for r in [r for r in reps if r.team == isr][:4]:
        plan = CoachingPlan(rep_id=r.rep_id, rep_name=r.name, team=r.team, division=r.division,
                            manager_id=manager.id, month=ds.period, skill_id="qualification",
                            behaviour_gap="demo_dropoff", why="Demo conversion is low", how="BANT before demos",
                            baseline_metric="stage_conversion.demo", baseline_value=0.5, target_value=0.65,
                            follow_up_on=date.today() + timedelta(days=14))
        db.session.add(plan)
        db.session.flush()
        for kind, ref in (("learning", "bant-in-fifteen-minutes"), ("selling", "requalify-largest-deals")):
            db.session.add(Assignment(plan_id=plan.id, rep_id=r.rep_id, rep_name=r.name, team=r.team,
                                      division=r.division, kind=kind, ref_id=ref, title=ref.replace("-", " "),
                                      due_on=date.today() + timedelta(days=7), created_by=manager.id))
    db.session.commit()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--reps", type=int, default=1000)
    a = ap.parse_args()
    print(build(a.out, a.reps))
