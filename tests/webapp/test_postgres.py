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


def test_migrations_import_and_pages_on_postgresql(tmp_path):
    app = create_app({**web_config(tmp_path), "SQLALCHEMY_DATABASE_URI": URL})
    with app.app_context():
        db.drop_all()
        db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    init_db(app)
    seed_demo(app, tmp_path / "org", reps=20, months=12, seed=3, end="2026-10", passwords=PASSWORDS)
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
