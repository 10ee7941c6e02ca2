"""Schemathesis against the API as it is served: every operation of the served
openapi.json, called by a real HTTP client as an admin and as a manager.

Checks (all of schemathesis's): no server error, responses that fit their schema, status
codes and content types that the description documents, invalid input refused, signed-out
calls refused. Bounded: a fixed seed and number of examples per operation, and a timeout.
Whatever it finds is a bug of the API or of web/api/openapi.py.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import pytest
import requests
from helpers import PASSWORDS, web_config
from werkzeug.serving import make_server

from web import create_app
from web.extensions import db
from web.models import Assignment, CoachingPlan, RepSnapshot, User

MAX_EXAMPLES = 8             # per operation and phase
SEED = 20261101
TIMEOUT = 150                # seconds for both runs, a safety bound (together they use about 30 s of CPU)
AGENT = "fairway-schemathesis"     # one User-Agent for signing in and for the calls (strong session protection)


def add_coaching(app) -> None:
    """Plans and assignments to find: open, completed and cancelled, in and out of the manager's scope."""
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        reps = db.session.execute(db.select(RepSnapshot).order_by(RepSnapshot.rep_id)).scalars().all()
        mine = next(r for r in reps if r.team in manager.teams)
        foreign = next(r for r in reps if r.division != mine.division)
        for rep, plan_status, statuses in ((mine, "active", ("open", "cancelled")),
                                           (foreign, "achieved", ("completed",))):
            plan = CoachingPlan(rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division,
                                manager_id=manager.id, month="2026-10", skill_id="qualification",
                                behaviour_gap="demo_dropoff", why="why", how="how",
                                baseline_metric="stage_conversion.demo", baseline_value=0.5, target_value=0.7,
                                follow_up_on=date.today() + timedelta(days=14), status=plan_status)
            db.session.add(plan)
            db.session.flush()
            for status in statuses:
                db.session.add(Assignment(plan_id=plan.id, rep_id=rep.rep_id, rep_name=rep.name, team=rep.team,
                                          division=rep.division, kind="learning", ref_id="bant-in-fifteen-minutes",
                                          title="BANT in fifteen minutes", due_on=date.today() + timedelta(days=7),
                                          status=status, created_by=manager.id))
        db.session.commit()


@pytest.fixture(scope="module")
def served(seeded_instance, tmp_path_factory):
    """The app on a copy of the seeded instance, served by werkzeug on a free loopback port."""
    instance = tmp_path_factory.mktemp("schemathesis") / "instance"
    shutil.copytree(seeded_instance, instance)
    app = create_app(web_config(instance))
    add_coaching(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)          # not one line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def sign_in(base: str, username: str) -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = AGENT
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', s.get(f"{base}/login").text).group(1)
    r = s.post(f"{base}/login", data={"csrf_token": token, "username": username,
                                      "password": PASSWORDS[username]}, allow_redirects=False)
    assert r.status_code == 302, f"{username} could not sign in"
    return s


def start_schemathesis(base: str, username: str, workdir) -> subprocess.Popen:
    """Start one schemathesis run as `username` in `workdir` (its report: workdir/report.json)."""
    workdir.mkdir()
    s = sign_in(base, username)
    spec = s.get(f"{base}/api/v1/openapi.json")
    assert spec.status_code == 200
    (workdir / "openapi.json").write_text(spec.text)
    csrf = s.get(f"{base}/api/v1/csrf-token").json()["csrf_token"]
    (workdir / "schemathesis.toml").write_text(
        f'headers = {{ "User-Agent" = "{AGENT}" }}\n'
        f'[auth.openapi.session]\napi_key = "{s.cookies["session"]}"\n'
        f'[auth.openapi.csrf]\napi_key = "{csrf}"\n')
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(workdir / "schemathesis.toml"),
           "--no-color", "run", str(workdir / "openapi.json"), "--url", f"{base}/api/v1",
           "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
           "--generation-database", "none", "--workers", "1", "--request-timeout", "10",
           "--report", "json", "--report-json-path", str(workdir / "report.json")]
    return subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_schemathesis_finds_nothing_as_admin_and_as_manager(served, tmp_path):
    """Both runs at once (two cores): each must pass, call every operation, and stay bounded."""
    started = time.monotonic()
    runs = {u: start_schemathesis(served, u, tmp_path / u) for u in ("admin", "manager")}
    outputs = {}
    try:
        for username, proc in runs.items():
            outputs[username], _ = proc.communicate(timeout=max(TIMEOUT - (time.monotonic() - started), 1))
    finally:
        for proc in runs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    spent = time.monotonic() - started
    for username, proc in runs.items():
        output = outputs[username]
        assert proc.returncode == 0, f"schemathesis as {username} found problems:\n{output[-20000:]}"
        report = json.loads((tmp_path / username / "report.json").read_text())
        tested = re.search(r"Tested: (\d+)", output)
        generated = re.search(r"(\d+) generated", output)
        assert tested and int(tested.group(1)) == len(report_operations(served)), output[-4000:]
        assert generated and int(generated.group(1)) >= 11 * MAX_EXAMPLES, output[-4000:]
        assert report, "schemathesis wrote no report"
        print(f"\nschemathesis as {username}: {tested.group(1)} operations, {generated.group(1)} test cases")
    print(f"both runs in {spent:.1f} s")


def report_operations(base: str) -> list[str]:
    """Every operation of the served description."""
    s = sign_in(base, "admin")
    paths = s.get(f"{base}/api/v1/openapi.json").json()["paths"]
    return [f"{m.upper()} {p}" for p, item in paths.items() for m in item]
