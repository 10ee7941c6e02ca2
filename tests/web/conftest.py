"""flaskr-style fixtures: an app on a seeded copy of a demo instance, a client, a runner,
and `auth` / `forms` helpers that sign in and post forms with their CSRF token."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from helpers import PASSWORDS, seed_web_instance, web_config
from web import create_app
from web.extensions import db

ROLES = tuple(PASSWORDS)
make_config = web_config


@pytest.fixture(scope="session")
def seeded_instance(tmp_path_factory) -> Path:
    """A demo instance built once per test session: 40 reps, 12 months to 2026-10, one user per role."""
    return seed_web_instance(tmp_path_factory.mktemp("seeded"))


@pytest.fixture
def app(seeded_instance, tmp_path):
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    (instance / "imports").mkdir(exist_ok=True)
    app = create_app(make_config(instance))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


class Forms:
    """Post a form the way a browser does: fetch the page, take its CSRF token, submit."""

    def __init__(self, client):
        self.client = client

    def post(self, page: str, data: dict | None = None, action: str | None = None, **kw):
        token = csrf_from(self.client.get(page).get_data(as_text=True))
        return self.client.post(action or page, data={**(data or {}), "csrf_token": token}, **kw)


class AuthActions:
    def __init__(self, client):
        self.client = client
        self.forms = Forms(client)

    def login(self, username: str = "manager", password: str | None = None):
        return self.forms.post("/login", {"username": username,
                                          "password": password or PASSWORDS.get(username, "")})

    def logout(self):
        token = csrf_from(self.client.get("/catalog/").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def forms(client):
    return Forms(client)
