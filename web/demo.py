"""A demo instance: a generated org imported into a fresh database, one user per role."""
from __future__ import annotations

import re
import secrets
from collections import Counter
from datetime import date, datetime, time, timedelta
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from engine.demo.org import generate_org, write_org

from .extensions import db
from .models import Assignment, CoachingPlan, CoachingSession, PlanStatus, Role, User
from .store import catalog, ingest

DEMO_REPS, DEMO_MONTHS, DEMO_SEED = 60, 12, 7


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    scope: str


def init_db(app: Flask) -> None:
    """Create or upgrade the schema with the migrations."""
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)


def create_user(username: str, name: str, role: Role, password: str, teams=(), divisions=(),
                rep_id: str | None = None) -> User:
    user = User(username=username, name=name, role=role.value, teams=list(teams), divisions=list(divisions),
                rep_id=rep_id)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def seed_demo(app: Flask, data_dir: Path, reps: int = DEMO_REPS, months: int = DEMO_MONTHS,
              seed: int = DEMO_SEED, end: str | None = None, passwords: dict[str, str] | None = None,
              history: int = 0) -> list[DemoUser]:
    """Generate an org into `data_dir`, import it, and create one user per role; with `history`,
    the past months' imports, one-on-ones, plans and assignments first (engine.demo.history)."""
    with app.app_context():
        org = generate_org(catalog().pipeline, reps=reps, months=months, seed=seed, end=end)
        write_org(org, data_dir)
        talks: list = []
        if history:
            from engine.dataset import load_dataset
            from engine.demo.history import read_history, write_history
            write_history(load_dataset(data_dir, catalog().pipeline), catalog(), data_dir, org.end, history,
                          months, seed)
            imports, talks = read_history(data_dir)
        users = _demo_users(org, passwords or {}, team_managers=bool(talks))
        if talks:
            _replay(data_dir, org, imports, talks)
        ingest(data_dir, name=f"Demo org ({reps} reps, to {org.end})", source=str(data_dir), user=None)
        return users


def _demo_users(org, passwords: dict[str, str], team_managers: bool = False) -> list[DemoUser]:
    """One user per role (printed), and a manager account for every other team's manager."""
    reps_frame = org.reps
    # the demo manager leads the busiest closing team and the prospecting team beside it
    isr = reps_frame[reps_frame["role"] == "isr"]
    team = Counter(isr["team"]).most_common(1)[0][0]
    division = isr.loc[isr["team"] == team, "division"].iloc[0]
    manager_name = isr.loc[isr["team"] == team, "manager"].iloc[0]
    bdr_teams = sorted(reps_frame.loc[(reps_frame["role"] == "bdr") & (reps_frame["division"] == division),
                                      "team"].unique())
    teams = [team] + bdr_teams[:1]
    passwords = passwords or {}
    # the demo rep: a closer of the demo manager's team, a planted deficiency first (something to coach)
    planted = set(org.truth.loc[org.truth["planted_metric"].fillna("") != "", "rep_id"])
    closers = isr[isr["team"] == team].assign(planted=lambda f: ~f["rep_id"].isin(planted))
    rep_row = closers.sort_values(["planted", "rep_id"]).iloc[0]
    specs = [
        ("manager", manager_name, Role.manager, {"teams": teams}, f"teams {', '.join(teams)}"),
        ("director", "Dana Director", Role.director, {"divisions": [division]}, f"division {division}"),
        ("enablement", "Erin Enablement", Role.enablement, {}, "the catalog"),
        ("ops", "Omar Ops", Role.ops, {}, "the catalog and thresholds"),
        ("trainer", "Tara Trainer", Role.trainer, {}, "the learning library"),
        ("admin", "Ada Admin", Role.admin, {}, "users and data"),
        ("rep", str(rep_row["name"]), Role.rep, {"rep_id": str(rep_row["rep_id"])},
         f"their own page: {rep_row['name']} ({rep_row['rep_id']}), of {team}"),
    ]
    out = []
    for username, name, role, scope, text in specs:
        password = passwords.get(username) or secrets.token_urlsafe(9)
        create_user(username, name, role, password, **scope)
        out.append(DemoUser(username, password, role.value, text))
    if not team_managers:
        return out
    led = set(teams)
    others = reps_frame[~reps_frame["team"].isin(led) & reps_frame["manager"].notna()]
    for name, group in others.groupby("manager", sort=True):
        slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
        create_user(f"mgr-{slug}"[:80], str(name), Role.manager, secrets.token_urlsafe(12),
                    teams=sorted(group["team"].unique()))
    return out


def _replay(data_dir: Path, org, imports: list[str], talks: list) -> None:
    """The past months as they happened: each month's import, its one-on-ones, plans and
    assignments; the plans of the month before closed on the data of this import."""
    users = db.session.execute(db.select(User).where(User.role == Role.manager.value)).scalars().all()
    by_team = {t: u for u in users for t in (u.teams or [])}
    fallback = db.session.execute(db.select(User).where(User.role == Role.admin.value)).scalars().first()
    reps = org.reps.set_index("rep_id")
    for month in imports[:-1]:
        ds = ingest(data_dir, name=f"Demo org, {month}", source=str(data_dir), user=None, make_current=False,
                    period=month)
        _close_measured(ds, month)
        for t in (t for t in talks if t.month == month):
            rep = reps.loc[t.rep_id]
            manager = by_team.get(rep["team"], fallback)
            held = date.fromisoformat(t.held_on)
            at = datetime.combine(held, time(9, 0))
            common = dict(rep_id=t.rep_id, rep_name=rep["name"], team=rep["team"], division=rep["division"])
            session = CoachingSession(**common, manager_id=manager.id, dataset_id=ds.id, kind=t.kind, held_on=held,
                                      month=month, step="done", status="completed", reflection={}, dialogue={},
                                      actions={}, drafts={}, created_at=at, updated_at=at)
            db.session.add(session)
            db.session.flush()
            if t.plan is None:
                continue
            plan = CoachingPlan(**common, session_id=session.id, manager_id=manager.id, month=month,
                                follow_up_on=held + timedelta(days=14), created_at=at, **t.plan)
            for a in t.assignments:
                done = a["completed_on"]
                plan.assignments.append(Assignment(
                    **common, kind=a["kind"], ref_id=a["ref_id"], title=a["title"],
                    due_on=date.fromisoformat(a["due_on"]), created_by=manager.id, created_at=at,
                    status="completed" if done else "open", completed_by=manager.id if done else None,
                    completed_at=datetime.combine(date.fromisoformat(done), time(17, 0)) if done else None))
            db.session.add(plan)
        db.session.commit()


def _close_measured(ds, month: str) -> None:
    """Close the open plans this import measured: achieved where the data shows the target reached."""
    from engine.coaching.followup import standing

    from .rhythm.followup import higher_is_better
    plans = db.session.execute(db.select(CoachingPlan).where(CoachingPlan.status == PlanStatus.active.value,
                                                             CoachingPlan.month < month)).scalars().all()
    for p in plans:
        m = next((m for m in p.measures if m.period == month), None)
        if m is None or m.value is None:
            continue
        s = standing(m.value, p.baseline_value, p.target_value, higher_is_better(p.baseline_metric))
        p.status = PlanStatus.achieved.value if s.reached else PlanStatus.not_achieved.value
        p.outcome_value, p.closed_on_data = m.value, True
        p.closed_by = p.manager_id
        p.closed_at = datetime.combine(p.follow_up_on + timedelta(days=14), time(10, 0))
        p.outcome = "Target reached on the data." if s.reached else "The data did not show the target reached."
    db.session.commit()
