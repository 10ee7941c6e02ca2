"""The progress report by e-mail: `fairway report send` through a real SMTP server on
loopback (aiosmtpd, started by the test), whole to given addresses, or scoped per user."""
from __future__ import annotations

import socket

import pytest

from helpers import SMTP_SENDER
from web.cli import cli
from web.extensions import db
from web.models import RepSnapshot, User


def parts(msg):
    html = msg.get_body(preferencelist=("html",)).get_content()
    csv = next(p for p in msg.iter_attachments() if p.get_filename().endswith(".csv")).get_content()
    return html, csv


def test_the_daily_digest_reaches_a_local_smtp_server(app, runner, smtp):
    r = runner.invoke(cli, ["report", "send", "--to", "vp@example.com", "--to", "ceo@example.com",
                            "--by", "division", "--grain", "day"])
    assert r.exit_code == 0, r.output
    assert "sent 2 progress reports" in r.output
    assert sorted(to for tos, _ in smtp.messages for to in tos) == ["ceo@example.com", "vp@example.com"]
    _, msg = smtp.messages[0]
    assert msg["From"] == SMTP_SENDER and "progress report" in msg["Subject"]
    html, csv = parts(msg)
    with app.app_context():
        divisions = set(db.session.execute(db.select(RepSnapshot.division).distinct()).scalars())
    lines = csv.splitlines()
    assert lines[0] == "level,key,name,start,metric,value"
    assert {line.split(",")[1] for line in lines[1:]} == divisions
    assert all(f"<h2>{d}</h2>" in html for d in divisions)


def test_each_user_gets_the_report_of_their_own_scope(app, runner, smtp):
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        manager.email = "manager@example.com"
        teams = list(manager.teams)
        db.session.commit()
        others = set(db.session.execute(db.select(RepSnapshot.team).where(RepSnapshot.team.not_in(teams))
                                        .distinct()).scalars())
    r = runner.invoke(cli, ["report", "send", "--by", "team", "--grain", "week"])
    assert r.exit_code == 0, r.output
    assert [tos for tos, _ in smtp.messages] == [["manager@example.com"]]      # the only user with an address
    _, csv = parts(smtp.messages[0][1])
    keys = {line.split(",")[1] for line in csv.splitlines()[1:]}
    assert keys == set(teams) and not keys & others


def test_no_smtp_setting_is_one_line_and_nothing_is_sent(app, runner):
    app.config.pop("FAIRWAY_SMTP_HOST", None)
    r = runner.invoke(cli, ["report", "send", "--to", "vp@example.com"])
    assert r.exit_code == 1 and "FAIRWAY_SMTP_HOST" in r.output and "Traceback" not in r.output


def test_a_server_that_does_not_answer_is_refused_in_words(app, runner):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                       # closed again: nobody listens there
    app.config.update(FAIRWAY_SMTP_HOST="127.0.0.1", FAIRWAY_SMTP_PORT=str(port), FAIRWAY_SMTP_SECURITY="none",
                      FAIRWAY_SMTP_FROM="reports@fairway.example")
    r = runner.invoke(cli, ["report", "send", "--to", "vp@example.com"])
    assert r.exit_code == 1 and "sending failed" in r.output
