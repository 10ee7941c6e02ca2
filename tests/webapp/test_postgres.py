"""The same app on PostgreSQL, when a server is given (CI starts one; set
FAIRWAY_TEST_POSTGRES_URL=postgresql+psycopg://user@/db?host=/tmp&port=5432 locally)."""
from __future__ import annotations

import os
import re

import pytest

from helpers import PASSWORDS, web_config
from web import create_app
from web.demo import init_db, seed_demo
from web.extensions import db
from web.models import RepSnapshot

URL = os.environ.get("FAIRWAY_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="FAIRWAY_TEST_POSTGRES_URL not set: no PostgreSQL to test on")


def seeded_app(tmp_path):
    """An app on an emptied PostgreSQL database, migrated, with a 20-rep demo org imported."""
    app = create_app({**web_config(tmp_path), "SQLALCHEMY_DATABASE_URI": URL})
    with app.app_context():
        db.drop_all()
        db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    init_db(app)
    seed_demo(app, tmp_path / "org", reps=20, months=12, seed=3, end="2026-10", passwords=PASSWORDS)
    return app


def test_migrations_import_and_pages_on_postgresql(tmp_path):
    app = seeded_app(tmp_path)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "manager", "password": PASSWORDS["manager"], "csrf_token": token})
    assert client.get("/team/").status_code == 200
    with app.app_context():
        assert db.engine.url.get_backend_name() == "postgresql"
        rep = db.session.execute(db.select(RepSnapshot)).scalars().first()
        assert rep.metrics["metrics"]["win_rate"].keys() >= {"value", "n"}
        db.session.remove()
        db.engine.dispose()


def test_the_months_statuses_counts_and_pages_on_postgresql(tmp_path):
    """The month's statuses and counts in SQL (a CASE over an outer join, a row-value IN), paged,
    agree with the full month; the opening_gap migration fills the column from the diagnoses."""
    from datetime import date

    from flask_migrate import downgrade, upgrade

    from web.models import CoachingPlan, CoachingSession, Dataset, User
    from web.rhythm.cadence import month_counts, month_of, month_page
    app = seeded_app(tmp_path)
    with app.app_context():
        downgrade(directory=app.extensions["migrate"].directory, revision="14d25e03ae6f")
        upgrade(directory=app.extensions["migrate"].directory)
        snaps = db.session.execute(db.select(RepSnapshot)).scalars().all()
        assert any(s.opening_gap for s in snaps)
        assert all(s.opening_gap == ((s.diagnosis or {}).get("opening") or {}).get("performance_gap") for s in snaps)
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        for i, snap in enumerate(sorted((s for s in snaps if s.dataset_id == ds.id), key=lambda s: s.rep_id)[:8]):
            talk = CoachingSession(rep_id=snap.rep_id, rep_name=snap.name, team=snap.team, division=snap.division,
                                   manager_id=manager.id, held_on=date.today(), month=ds.period,
                                   status=("in_progress", "completed")[i % 2], reflection={}, dialogue={},
                                   actions={}, drafts={})
            db.session.add(talk)
            db.session.flush()
            if i % 4 == 1:
                db.session.add(CoachingPlan(rep_id=snap.rep_id, rep_name=snap.name, team=snap.team,
                                            division=snap.division, session_id=talk.id, manager_id=manager.id,
                                            month=ds.period, skill_id="qualification", why="w", how="h",
                                            baseline_metric="win_rate", follow_up_on=date.today()))
        db.session.commit()
        seen = set()
        for username in ("admin", "director", "manager"):
            user = db.session.execute(db.select(User).where(User.username == username)).scalar_one()
            rows = month_of(user, ds, date.today())
            counts = month_counts(user, ds, date.today())
            assert counts["reps"] == len(rows) > 0
            for status in ("agreed", "held", "in_progress", "not_started", "keep_rhythm"):
                assert counts[status] == sum(1 for r in rows if r.status == status)
            paged = [month_page(user, ds, date.today(), None, n, 3)[0].items for n in range(1, len(rows) // 3 + 2)]
            assert [(r.rep_id, r.status) for p in paged for r in p] == [(r.rep_id, r.status) for r in rows]
            seen |= {r.status for r in rows}
        assert {"agreed", "held", "in_progress"} <= seen
        db.session.remove()
        db.engine.dispose()
