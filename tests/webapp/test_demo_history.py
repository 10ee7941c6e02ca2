"""The demo with history: three past months of imports, one-on-ones, plans closed on the next
month's data and assignments, so that the archive, what works, follow-ups, the month and the
roll-up have content at first launch; deterministic in demo-data."""
from __future__ import annotations

from collections import Counter

import pytest
from click.testing import CliRunner

from helpers import PASSWORDS, csrf_from, web_config
from web import create_app
from web.cli import cli
from web.demo import init_db, seed_demo
from web.extensions import db
from web.models import Assignment, CoachingPlan, CoachingSession, Dataset, PlanMeasure


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    instance = tmp_path_factory.mktemp("demo-history")
    app = create_app(web_config(instance))
    init_db(app)
    seed_demo(app, instance / "org", reps=24, months=8, seed=7, end="2026-10", passwords=PASSWORDS, history=3)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_three_past_months_are_imported_held_and_followed_up_on_data(demo):
    with demo.app_context():
        datasets = db.session.execute(db.select(Dataset).order_by(Dataset.period)).scalars().all()
        assert [(d.period, d.is_current) for d in datasets] == [
            ("2026-07", False), ("2026-08", False), ("2026-09", False), ("2026-10", True)]
        plans = db.session.execute(db.select(CoachingPlan)).scalars().all()
        by_month = Counter((p.month, p.status) for p in plans)
        assert sum(n for (m, s), n in by_month.items() if m == "2026-09" and s == "active") > 0
        closed = [p for p in plans if p.status != "active"]
        assert closed and all(p.closed_on_data and p.outcome_value is not None for p in closed)
        assert {p.month for p in closed} == {"2026-07", "2026-08"}
        assert any(p.status == "not_achieved" for p in closed)
        # every plan of the latest past month is measured on the current import
        active = [p for p in plans if p.status == "active"]
        assert all(any(m.period == "2026-10" for m in p.measures) for p in active)
        kinds = Counter(s.kind for s in db.session.execute(db.select(CoachingSession)).scalars())
        assert kinds["development"] > 0 and kinds["opportunity"] + kinds["funnel"] > 0
        states = Counter(a.status for a in db.session.execute(db.select(Assignment)).scalars())
        assert states["completed"] > 0 and states["open"] > 0
        assert db.session.execute(db.select(db.func.count(PlanMeasure.id))).scalar_one() >= len(plans) - len(active)


def test_the_first_launch_shows_follow_ups_the_archive_and_the_roll_up(demo):
    client = demo.test_client()

    def sign_in(name):
        token = csrf_from(client.get("/login").get_data(as_text=True))
        return client.post("/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": token})

    assert sign_in("director").headers["Location"].endswith("/rollup/")
    rollup = client.get("/api/v1/rollup").get_json()
    changed = [t["changed"] for t in rollup["teams"]]
    assert sum(c["kpi_better"] + c["kpi_worse"] for c in changed) > 0
    assert sum(c["plans_achieved"] + c["plans_missed"] for c in changed) == 0     # last month's plans: open
    cadence = client.get("/api/v1/cadence").get_json()
    assert cadence["counts"]["followups_due"] > 0
    archive = client.get("/archive/").get_data(as_text=True)
    assert "closed on data achieved" in archive
    effectiveness = client.get("/api/v1/effectiveness?month=2026-09").get_json()
    assert effectiveness["total"]["conversations"] > 0


def test_demo_data_writes_the_same_history_every_time(tmp_path):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        r = CliRunner().invoke(cli, ["demo-data", str(out), "--reps", "12", "--months", "4", "--seed", "5",
                                     "--end", "2026-10", "--history", "2"])
        assert r.exit_code == 0, r.output
        assert "coaching_history.json" in r.output
        runs.append((out / "coaching_history.json").read_bytes())
    assert runs[0] == runs[1]
    import json
    doc = json.loads(runs[0])
    assert doc["imports"] == ["2026-08", "2026-09", "2026-10"] and doc["talks"]
    r = CliRunner().invoke(cli, ["validate", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output                      # the history file is not part of the dataset
