"""The factory, configuration, sign-in and the health check."""
from __future__ import annotations

import pytest

from web import create_app
from web.config import ConfigError


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["status"] == "ok"


def test_secret_key_required_in_production(tmp_path, monkeypatch):
    monkeypatch.delenv("FAIRWAY_SECRET_KEY", raising=False)
    monkeypatch.setenv("FAIRWAY_ENV", "production")
    monkeypatch.setenv("FAIRWAY_INSTANCE", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRWAY_ENV", "production")
    monkeypatch.setenv("FAIRWAY_SECRET_KEY", "x" * 32)
    monkeypatch.setenv("FAIRWAY_INSTANCE", str(tmp_path))
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]


def test_login_and_logout(client, auth):
    assert client.get("/team/").status_code == 302
    r = auth.login("manager")
    assert r.status_code == 302 and r.headers["Location"].endswith("/team/")
    assert client.get("/team/").status_code == 200
    auth.logout()
    assert client.get("/team/").status_code == 302


def test_wrong_password_is_refused(client, auth):
    r = auth.login("manager", "nope")
    assert r.status_code == 200 and b"wrong password" in r.data
    assert client.get("/team/").status_code == 302


def test_login_never_redirects_off_site(client, forms):
    token_page = "/login?next=https://evil.example/"
    r = forms.post(token_page, {"username": "manager", "password": "manager-secret-pw"})
    assert r.status_code == 302 and "evil.example" not in r.headers["Location"]


def test_login_without_csrf_token_is_refused(client):
    r = client.post("/login", data={"username": "manager", "password": "manager-secret-pw"})
    assert r.status_code == 400
    assert client.get("/team/").status_code == 302


def test_migrations_match_the_models(app):
    """A model changed without its migration would make `fairway db upgrade` lie."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from web.extensions import db
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), db.metadata)
    assert diff == []


def test_a_demo_instance_from_the_command(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from web.cli import cli
    for var in ("FAIRWAY_INSTANCE", "FAIRWAY_ENV", "FAIRWAY_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    r = CliRunner().invoke(cli, ["demo", "--instance", str(tmp_path / "inst"), "--reps", "20", "--no-serve"])
    assert r.exit_code == 0, r.output
    for role in ("manager", "director", "enablement", "ops", "trainer", "admin", "rep"):
        assert f"  {role}" in r.output
    assert (tmp_path / "inst" / "fairway.sqlite").exists()
    assert (tmp_path / "inst" / "secret_key").exists()       # kept: a restart signs nobody out
    assert CliRunner().invoke(cli, ["demo", "--instance", str(tmp_path / "inst"), "--no-serve"]).exit_code == 2


def test_fairway_demo_serves_the_app(tmp_path):
    """The README's main command: prepare the instance, then answer on loopback with gunicorn (and its
    job worker), and stop cleanly on SIGTERM."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", "demo", "--port", str(port),
                             "--reps", "20", "--instance", str(tmp_path / "inst")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.time() < deadline, "the demo did not start serving"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
            assert b"Sign in" in r.read()
            assert r.headers["Server"].startswith("gunicorn"), "the demo runs on the production server"
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0
        proc.stdout.close()
