"""Reps in the loop: a rep signs in to their own month, does the pre-work the manager's
conversation opens with, reads and acknowledges the agreed plan, completes assignments with
evidence the manager sees; e-mail to the rep through a real local SMTP server."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest

from helpers import SMTP_SENDER, AuthActions, csrf_from
from test_coaching import Conversation
from web.cli import cli
from web.extensions import db
from web.filters import evidence
from web.models import Assignment, CoachingPlan, CoachingSession, Dataset, Prework, RepSnapshot, User


def the_rep(app) -> RepSnapshot:
    """The demo rep user's rep, in the current dataset."""
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == "rep")).scalar_one()
        rep = db.session.execute(db.select(RepSnapshot).join(Dataset).where(
            Dataset.is_current.is_(True), RepSnapshot.rep_id == user.rep_id)).scalar_one()
        db.session.expunge(rep)
        return rep


def teammate_of(app, rep: RepSnapshot) -> RepSnapshot:
    with app.app_context():
        other = db.session.execute(db.select(RepSnapshot).where(
            RepSnapshot.dataset_id == rep.dataset_id, RepSnapshot.team == rep.team,
            RepSnapshot.rep_id != rep.rep_id).order_by(RepSnapshot.rep_id)).scalars().first()
        db.session.expunge(other)
        return other


def signed_in(app, username: str):
    client = app.test_client()
    AuthActions(client).login(username)
    return client


def post(client, page: str, action: str, data: dict):
    return client.post(action, data={**data, "csrf_token": csrf_from(client.get(page).get_data(as_text=True))})


def plan_for(app, rep: RepSnapshot, kind: str = "selling", due: date | None = None) -> tuple[int, int]:
    """A plan with one assignment for the rep, as the conversation makes them: (plan id, assignment id)."""
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        common = dict(rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division)
        p = CoachingPlan(**common, manager_id=manager.id, month="2026-10", skill_id="qualification",
                         behaviour_gap="demo_dropoff", why="Demos convert poorly", how="Qualify before the demo",
                         baseline_metric="stage_conversion.demo", baseline_value=0.4, target_value=0.55,
                         follow_up_on=date.today() + timedelta(days=14))
        a = Assignment(**common, kind=kind, ref_id="requalify-largest-deals", title="Requalify your largest deals",
                       due_on=due or date.today() + timedelta(days=7), created_by=manager.id)
        p.assignments.append(a)
        db.session.add(p)
        db.session.commit()
        return p.id, a.id


# --------------------------------------------------------------------------- the rep's own page, only

def test_a_rep_lands_on_their_own_month_and_reaches_no_other_rep(app):
    rep = the_rep(app)
    mate = teammate_of(app, rep)
    client = signed_in(app, "rep")
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/me/")
    r = client.get("/me/")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/reps/{rep.rep_id}")
    page = client.get(f"/reps/{rep.rep_id}").get_data(as_text=True)
    assert rep.name in page and "Do my pre-work" in page
    assert "Start the monthly conversation" not in page          # the manager's button
    assert mate.name not in page                                  # no roster of teammates by name
    charts = client.get(f"/reps/{rep.rep_id}/charts").get_json()
    assert "chart-funnel" in charts and "chart-winrate" not in charts and "chart-talk-team" not in charts
    for url in (f"/reps/{mate.rep_id}", f"/reps/{mate.rep_id}/charts", f"/api/v1/reps/{mate.rep_id}",
                f"/api/v1/reps/{mate.rep_id}/metrics", f"/api/v1/reps/{mate.rep_id}/diagnosis"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert mate.name not in r.get_data(as_text=True), url
    for url in ("/team/", "/coach/", "/assignments/", "/archive/", "/rollup/", "/api/v1/reps", "/api/v1/cadence"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/api/v1/reps/{rep.rep_id}").get_json()["rep_id"] == rep.rep_id


def test_the_manager_still_sees_the_roster_the_rep_does_not(app):
    """The other side of the test above: the team roster is there for the manager."""
    rep = the_rep(app)
    client = signed_in(app, "manager")
    assert "chart-winrate" in client.get(f"/reps/{rep.rep_id}/charts").get_json()


def test_a_rep_sees_only_their_own_plans_and_assignments(app):
    rep = the_rep(app)
    mate = teammate_of(app, rep)
    mine, _ = plan_for(app, rep)
    theirs, their_task = plan_for(app, mate)
    client = signed_in(app, "rep")
    assert client.get(f"/me/plans/{mine}").status_code == 200
    assert client.get(f"/me/plans/{theirs}").status_code == 404
    assert client.get(f"/api/v1/plans/{theirs}").status_code == 404
    assert {p["rep_id"] for p in client.get("/api/v1/plans").get_json()["plans"]} == {rep.rep_id}
    assert {a["rep_id"] for a in client.get("/api/v1/assignments").get_json()["assignments"]} == {rep.rep_id}
    r = post(client, f"/me/plans/{mine}", f"/me/assignments/{their_task}/complete", {"evidence": "x"})
    assert r.status_code == 404
    r = post(client, f"/me/plans/{mine}", f"/me/plans/{theirs}/acknowledge", {})
    assert r.status_code == 404
    with app.app_context():
        assert db.session.get(Assignment, their_task).status == "open"
        assert db.session.get(CoachingPlan, theirs).acknowledged_at is None


def test_a_rep_user_without_a_rep_in_the_data_sees_no_rep(app):
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == "rep")).scalar_one()
        user.rep_id = "NOBODY"
        db.session.commit()
    client = signed_in(app, "rep")
    assert "not in the current data" in client.get("/me/").get_data(as_text=True)
    assert client.get("/me/prework").status_code == 302
    assert client.get("/api/v1/plans").get_json()["plans"] == []


# --------------------------------------------------------------------------- pre-work

def test_pre_work_opens_the_conversation_and_both_edit_the_same_answers(app):
    rep = the_rep(app)
    rep_client = signed_in(app, "rep")
    r = post(rep_client, "/me/prework", "/me/prework",
             {"how_it_went": "A slow month <b>honestly</b>", "went_well": "Discovery calls",
              "to_improve": "Closing proposals", "goals_note": "Hit quota to make the trip"})
    assert r.status_code == 302
    manager = signed_in(app, "manager")
    talk = Conversation(manager)
    talk.start(rep.rep_id)
    page = talk.page("reflection")
    assert "pre-work" in page and "A slow month &lt;b&gt;honestly&lt;/b&gt;" in page
    assert "Hit quota to make the trip" in talk.page("goals")
    # the manager edits during the meeting: the rep sees it
    talk.reflection(how_it_went="Slow, but the pipeline grew")
    assert "Slow, but the pipeline grew" in rep_client.get("/me/prework").get_data(as_text=True)
    # the rep edits during the meeting: the conversation has it
    post(rep_client, "/me/prework", "/me/prework",
         {"how_it_went": "Slow, but the pipeline grew", "went_well": "Discovery calls",
          "to_improve": "Closing proposals", "goals_note": "Quota, and the trip"})
    assert "Quota, and the trip" in talk.page("goals")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Prework.id)).where(Prework.rep_id == rep.rep_id)
                                  ).scalar_one() == 1
        s = db.session.get(CoachingSession, talk.session_id)
        assert s.goals_note == "Quota, and the trip" and s.reflection["how_it_went"] == "Slow, but the pipeline grew"


def test_a_conversation_without_pre_work_opens_empty(app):
    rep = the_rep(app)
    talk = Conversation(signed_in(app, "manager"))
    talk.start(rep.rep_id)
    with app.app_context():
        assert db.session.get(CoachingSession, talk.session_id).reflection == {}
    assert "pre-work</strong>" not in talk.page("reflection")


def test_pre_work_is_read_only_once_the_one_on_one_is_held(app):
    rep = the_rep(app)
    talk = Conversation(signed_in(app, "manager"))
    talk.walk(rep)
    client = signed_in(app, "rep")
    page = client.get("/me/prework").get_data(as_text=True)
    assert "is held" in page and "<textarea" not in page
    page = client.get(f"/reps/{rep.rep_id}").get_data(as_text=True)
    assert "Read the agreed plan" in page


# --------------------------------------------------------------------------- assignments and the plan

def test_the_rep_completes_with_evidence_and_the_manager_sees_it(app):
    rep = the_rep(app)
    plan_id, task = plan_for(app, rep, kind="selling")
    client = signed_in(app, "rep")
    r = post(client, f"/me/plans/{plan_id}", f"/me/assignments/{task}/complete", {"evidence": "  "})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Assignment, task).status == "open"      # a selling assignment needs evidence
    note = 'Recorded 2 discovery calls https://calls.example.com/r/1?a=1&b=2 <script>x</script> javascript:alert(1)'
    post(client, f"/me/plans/{plan_id}", f"/me/assignments/{task}/complete", {"evidence": note})
    with app.app_context():
        a = db.session.get(Assignment, task)
        assert a.status == "completed" and a.evidence == note and a.evidence_at is not None
        assert db.session.get(User, a.completed_by).username == "rep"
    manager = signed_in(app, "manager")
    for url in (f"/archive/plan/{plan_id}", "/assignments/", f"/reps/{rep.rep_id}"):
        page = manager.get(url).get_data(as_text=True)
        assert "Recorded 2 discovery calls" in page, url
        assert '<a href="https://calls.example.com/r/1?a=1&amp;b=2" rel="nofollow noopener noreferrer"' in page, url
        assert "<script>x" not in page and 'href="javascript' not in page, url
    doc = manager.get(f"/api/v1/plans/{plan_id}").get_json()
    assert doc["assignments"][0]["evidence"] == note


def test_a_learning_asset_is_marked_done_without_a_note(app):
    rep = the_rep(app)
    plan_id, task = plan_for(app, rep, kind="learning")
    post(signed_in(app, "rep"), f"/me/plans/{plan_id}", f"/me/assignments/{task}/complete", {})
    with app.app_context():
        a = db.session.get(Assignment, task)
        assert a.status == "completed" and a.evidence == "" and a.evidence_at is None


def test_overdue_is_flagged_to_the_rep_and_the_manager(app):
    rep = the_rep(app)
    plan_for(app, rep, due=date.today() - timedelta(days=3))
    for who in ("rep", "manager"):
        page = signed_in(app, who).get(f"/reps/{rep.rep_id}").get_data(as_text=True)
        assert 'class="pill pill-overdue">overdue' in page, who


def test_the_rep_acknowledges_the_plan_with_the_time(app):
    rep = the_rep(app)
    plan_id, _ = plan_for(app, rep)
    client = signed_in(app, "rep")
    page = client.get(f"/me/plans/{plan_id}").get_data(as_text=True)
    assert "Demos convert poorly" in page and "Qualify before the demo" in page and "I have read the plan" in page
    assert 'media="print"' in page or "print.css" in page
    before = date.today()
    post(client, f"/me/plans/{plan_id}", f"/me/plans/{plan_id}/acknowledge", {})
    with app.app_context():
        p = db.session.get(CoachingPlan, plan_id)
        assert p.acknowledged_at is not None and p.acknowledged_at.date() >= before
        assert db.session.get(User, p.acknowledged_by).username == "rep"
    assert "acknowledged</span> on" in client.get(f"/me/plans/{plan_id}").get_data(as_text=True)
    page = signed_in(app, "manager").get(f"/archive/plan/{plan_id}").get_data(as_text=True)
    assert "acknowledged</span> by the rep on" in page
    assert signed_in(app, "manager").get(f"/api/v1/plans/{plan_id}").get_json()["acknowledged_at"]


def test_evidence_links_only_http_and_https():
    html = str(evidence('see http://a.example/x, and ftp://b.example <i> "q" javascript:alert(1) https://c.example.'))
    assert html.count("<a ") == 2
    assert 'href="http://a.example/x"' in html and 'href="https://c.example"' in html
    assert "&lt;i&gt;" in html and "&#34;q&#34;" in html and 'href="ftp' not in html and 'href="javascript' not in html


# --------------------------------------------------------------------------- linking a user to a rep

def test_an_admin_links_a_user_to_a_rep(app):
    rep = the_rep(app)
    admin = signed_in(app, "admin")
    data = {"username": "jo.rep", "name": "Jo Rep", "email": "jo@example.com", "role": "rep",
            "password": "a-long-enough-pw", "confirm": "a-long-enough-pw"}
    r = post(admin, "/admin/users/new", "/admin/users/new", {**data, "rep_id": "NO-SUCH-REP"})
    assert r.status_code == 200 and "No rep NO-SUCH-REP in the current data" in r.get_data(as_text=True)
    r = post(admin, "/admin/users/new", "/admin/users/new", {**data, "rep_id": rep.rep_id})
    assert r.status_code == 302
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == "jo.rep")).scalar_one()
        assert user.role == "rep" and user.rep_id == rep.rep_id
        user_id = user.id
    # made a manager, the user keeps no rep
    post(admin, f"/admin/users/{user_id}", f"/admin/users/{user_id}",
         {"name": "Jo Rep", "role": "manager", "teams": rep.team, "active": "y"})
    with app.app_context():
        assert db.session.get(User, user_id).rep_id is None


def test_create_user_links_a_rep_by_id(app, runner):
    rep = the_rep(app)
    r = runner.invoke(cli, ["create-user", "kim", "--name", "Kim", "--role", "rep", "--rep-id", "NOPE",
                            "--password", "a-long-enough-pw"])
    assert r.exit_code == 1 and "NOPE" in r.output
    r = runner.invoke(cli, ["create-user", "kim", "--name", "Kim", "--role", "rep", "--rep-id", rep.rep_id,
                            "--password", "a-long-enough-pw"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        assert db.session.execute(db.select(User.rep_id).where(User.username == "kim")).scalar_one() == rep.rep_id


# --------------------------------------------------------------------------- e-mail to the rep

def give_the_rep_an_address(app) -> None:
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "rep").values(email="rep@example.com"))
        db.session.commit()


def test_the_agreed_plan_is_e_mailed_to_the_rep(app, smtp):
    give_the_rep_an_address(app)
    rep = the_rep(app)
    Conversation(signed_in(app, "manager")).walk(rep)
    assert [tos for tos, _ in smtp.messages] == [["rep@example.com"]]
    msg = smtp.messages[0][1]
    body = msg.get_content()
    with app.app_context():
        plan = db.session.execute(db.select(CoachingPlan).where(CoachingPlan.rep_id == rep.rep_id)
                                  .order_by(CoachingPlan.id.desc())).scalars().first()
        titles = [a.title for a in plan.assignments]
        assert "Your coaching plan is agreed" in msg["Subject"] and msg["From"] == SMTP_SENDER
        assert plan.why.splitlines()[0] in body and all(t in body for t in titles)
        assert f"https://fairway.example/me/plans/{plan.id}" in body


def test_no_address_no_message_and_a_dead_server_does_not_lose_the_plan(app, smtp):
    rep = the_rep(app)
    Conversation(signed_in(app, "manager")).walk(rep)           # the rep user has no e-mail address
    assert smtp.messages == []
    give_the_rep_an_address(app)
    with app.app_context():
        db.session.execute(db.update(CoachingSession).where(CoachingSession.rep_id == rep.rep_id)
                           .values(status="discarded"))
        db.session.commit()
    app.config["FAIRWAY_SMTP_PORT"] = "1"                        # nothing listens there
    manager = signed_in(app, "manager")
    Conversation(manager).walk(rep)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(CoachingPlan.id)).where(
            CoachingPlan.rep_id == rep.rep_id, CoachingPlan.status == "active")).scalar_one() >= 2
    assert "could not be e-mailed" in manager.get("/coach/").get_data(as_text=True)


def test_assignments_due_are_reminded_once_a_day(app, runner, smtp):
    give_the_rep_an_address(app)
    rep = the_rep(app)
    mate = teammate_of(app, rep)
    _, soon = plan_for(app, rep, due=date.today() + timedelta(days=1))
    _, late = plan_for(app, rep, due=date.today() - timedelta(days=2))
    _, later = plan_for(app, rep, due=date.today() + timedelta(days=20))
    plan_for(app, mate, due=date.today())                          # the teammate has no user: no message
    r = runner.invoke(cli, ["report", "remind"])
    assert r.exit_code == 0 and "sent 1 reminder " in r.output, r.output
    assert [tos for tos, _ in smtp.messages] == [["rep@example.com"]]
    msg = smtp.messages[0][1]
    body = msg.get_content()
    assert "1 assignment overdue" in msg["Subject"]
    assert body.count("Requalify your largest deals") == 2 and "OVERDUE since" in body
    assert (date.today() + timedelta(days=20)).isoformat() not in body
    with app.app_context():
        assert db.session.get(Assignment, soon).reminded_on == date.today()
        assert db.session.get(Assignment, later).reminded_on is None
    r = runner.invoke(cli, ["report", "remind"])
    assert r.exit_code == 0 and "sent 0 reminders" in r.output and len(smtp.messages) == 1
