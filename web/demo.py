"""A demo instance: a generated org imported into a fresh database, one user per role."""
from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade

from engine.demo.org import generate_org, write_org

from .extensions import db
from .models import Role, User
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


def create_user(username: str, name: str, role: Role, password: str, teams=(), divisions=()) -> User:
    user = User(username=username, name=name, role=role.value, teams=list(teams), divisions=list(divisions))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def seed_demo(app: Flask, data_dir: Path, reps: int = DEMO_REPS, months: int = DEMO_MONTHS,
              seed: int = DEMO_SEED, end: str | None = None, passwords: dict[str, str] | None = None
              ) -> list[DemoUser]:
    """Generate an org into `data_dir`, import it, and create one user per role."""
    with app.app_context():
        org = generate_org(catalog().pipeline, reps=reps, months=months, seed=seed, end=end)
        write_org(org, data_dir)
        ingest(data_dir, name=f"Demo org ({reps} reps, to {org.end})", source=str(data_dir), user=None)
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
        specs = [
            ("manager", manager_name, Role.manager, {"teams": teams}, f"teams {', '.join(teams)}"),
            ("director", "Dana Director", Role.director, {"divisions": [division]}, f"division {division}"),
            ("enablement", "Erin Enablement", Role.enablement, {}, "the catalog"),
            ("ops", "Omar Ops", Role.ops, {}, "the catalog and thresholds"),
            ("trainer", "Tara Trainer", Role.trainer, {}, "the learning library"),
            ("admin", "Ada Admin", Role.admin, {}, "users and data"),
        ]
        out = []
        for username, name, role, scope, text in specs:
            password = passwords.get(username) or secrets.token_urlsafe(9)
            create_user(username, name, role, password, **scope)
            out.append(DemoUser(username, password, role.value, text))
        return out
