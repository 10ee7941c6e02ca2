"""flaskr-style fixtures: an app on a seeded copy of a demo instance, a client, a runner,
and `auth` / `forms` helpers that sign in and post forms with their CSRF token."""
from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from helpers import SMTP_SENDER, AuthActions, Forms, copy_instance, web_config
from web import create_app
from web.extensions import db


@pytest.fixture
def app(seeded_instance, tmp_path):
    """The app on a copy of the session's seeded instance (tests/conftest.py)."""
    app = create_app(web_config(copy_instance(seeded_instance, tmp_path)))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def jobs(app):
    """A real huey consumer for the app's job queue, in threads of the test's process."""
    from web.jobs import start_consumer
    consumer = start_consumer(app)
    yield consumer
    consumer.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def forms(client):
    return Forms(client)


# --------------------------------------------------------------------------- a real SMTP server on loopback

class Inbox:
    """An aiosmtpd handler keeping every message received."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(app):
    """An SMTP server (aiosmtpd) on a free loopback port, set as the app's: its Inbox."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(FAIRWAY_SMTP_HOST="127.0.0.1", FAIRWAY_SMTP_PORT=str(port), FAIRWAY_SMTP_SECURITY="none",
                      FAIRWAY_SMTP_FROM=SMTP_SENDER, FAIRWAY_BASE_URL="https://fairway.example")
    yield inbox
    controller.stop()
