"""The monthly rhythm in the app: the month's one-on-ones (one per rep, month and kind, in
the store), follow-up on data at each import, the roll-up, coaching effectiveness, progress
reports, drafts in the conversation, and a demo instance that keeps its key."""
from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from helpers import csrf_from
from web.extensions import db
from web.models import (Assignment, CoachingPlan, CoachingSession, Dataset, PlanMeasure, RepSnapshot, User)
from web.store import ingest


def user(name: str) -> User:
    return db.session.execute(db.select(User).where(User.username == name)).scalar_one()


def reps_of(app, username: str = "manager", mine: bool = True, focus: bool | None = None) -> list[RepSnapshot]:
    with app.app_context():
        u = user(username)
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        q = db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id)
        q = q.where(RepSnapshot.team.in_(u.teams) if mine else RepSnapshot.team.not_in(u.teams))
        if focus is not None:
            q = q.where(RepSnapshot.focus_gap.is_not(None) if focus else RepSnapshot.focus_gap.is_(None))
        out = db.session.execute(q.order_by(RepSnapshot.rep_id)).scalars().all()
        for r in out:
            db.session.expunge(r)
        return out


def start(client, rep_id: str) -> int:
    token = csrf_from(client.get("/coach/").get_data(as_text=True))
    r = client.post(f"/coach/start/{rep_id}", data={"csrf_token": token})
    assert r.status_code == 302
    return int(r.headers["Location"].rstrip("/").split("/")[-1])


def sign_in(app, name: str):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": name, "password": f"{name}-secret-pw", "csrf_token": token})
    assert r.status_code == 302
    return client, r


# --------------------------------------------------------------------------- day 1

def test_one_conversation_per_rep_month_and_kind_whoever_starts_it(app):
    rep = reps_of(app, focus=True)[0]
    manager, _ = sign_in(app, "manager")
    director, _ = sign_in(app, "director")
    first = start(manager, rep.rep_id)
    assert start(manager, rep.rep_id) == first            # resume, never a second
    assert start(director, rep.rep_id) == first           # the director resumes the manager's
    with app.app_context():
        s = db.session.get(CoachingSession, first)
        db.session.add(CoachingSession(rep_id=s.rep_id, rep_name=s.rep_name, team=s.team, division=s.division,
                                       manager_id=s.manager_id, held_on=date.today(), month=s.month,
                                       kind=s.kind, reflection={}, dialogue={}, actions={}, drafts={}))
        with pytest.raises(IntegrityError):               # the store refuses a duplicate, not only the UI
            db.session.commit()
        db.session.rollback()
        name = user("manager").name
    html = director.get("/coach/").get_data(as_text=True)
    row = html[html.index(f'data-rep="{rep.rep_id}"'):]
    row = row[:row.index("</tr>")]
    assert "In progress" in row and f"by {name}" in row and f"/coach/{first}" in row


def test_the_month_shows_each_reps_status_focus_and_keep_the_rhythm(app):
    client, r = sign_in(app, "manager")
    assert r.headers["Location"].endswith("/team/")
    quiet = [x for x in reps_of(app, focus=False) if not (x.diagnosis or {}).get("opening")]
    busy = reps_of(app, focus=True)
    html = client.get("/coach/").get_data(as_text=True)
    assert "Your reps this month" in html and "plans agreed" in html and "follow-ups due" in html
    for rep in busy:
        row = html[html.index(f'data-rep="{rep.rep_id}"'):]
        assert "Not started" in row[:row.index("</tr>")]
    for rep in quiet:
        row = html[html.index(f'data-rep="{rep.rep_id}"'):]
        assert "No focus: keep the rhythm" in row[:row.index("</tr>")]
    # a rep with nothing to coach: the conversation held without a plan
    if quiet:
        sid = start(client, quiet[0].rep_id)
        token = csrf_from(client.get(f"/coach/{sid}/reflection").get_data(as_text=True))
        assert client.post(f"/coach/{sid}/finish", data={"csrf_token": token}).status_code == 302
        html = client.get("/coach/").get_data(as_text=True)
        row = html[html.index(f'data-rep="{quiet[0].rep_id}"'):]
        assert "Held, no plan" in row[:row.index("</tr>")]


def test_typed_text_is_kept_as_a_draft_when_leaving_a_step(app):
    rep = reps_of(app, focus=True)[0]
    client, _ = sign_in(app, "manager")
    sid = start(client, rep.rep_id)
    page = client.get(f"/coach/{sid}/reflection").get_data(as_text=True)
    token = csrf_from(page)
    assert 'name="leave"' in page and f"/coach/{sid}/draft/reflection" in page
    # in the background (coach.js as the manager types or leaves): kept, the page stays
    r = client.post(f"/coach/{sid}/draft/reflection", data={"csrf_token": token, "how_it_went": "Slow start, <b>",
                                                            "went_well": "", "to_improve": "", "kind": "development",
                                                            "held_on": date.today().isoformat()})
    assert r.status_code == 204
    assert "Slow start, &lt;b&gt;" in client.get(f"/coach/{sid}/reflection").get_data(as_text=True)
    # the Leave button: kept, and back to the month
    r = client.post(f"/coach/{sid}/draft/goals", data={"csrf_token": token, "goals_note": "Reach plan", "leave": "1"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/coach/")
    with app.app_context():
        s = db.session.get(CoachingSession, sid)
        assert s.drafts["goals"]["goals_note"] == "Reach plan" and s.reflection == {}
    # saving the step makes the draft its answer, and the draft goes
    client.post(f"/coach/{sid}/reflection", data={"csrf_token": token, "how_it_went": "Slow start",
                                                  "kind": "development", "held_on": date.today().isoformat(),
                                                  "next": "1"})
    with app.app_context():
        s = db.session.get(CoachingSession, sid)
        assert s.reflection["how_it_went"] == "Slow start" and "reflection" not in s.drafts
    assert client.post(f"/coach/{sid}/draft/nowhere", data={"csrf_token": token}).status_code == 404


def test_the_conversation_opens_the_reps_charts_beside_it(app):
    rep = reps_of(app, focus=True)[0]
    client, _ = sign_in(app, "manager")
    sid = start(client, rep.rep_id)
    html = client.get(f"/coach/{sid}/goals").get_data(as_text=True)
    panel = html[html.index('class="chart-panel'):]
    assert 'id="chart-data"' in html and "<canvas" in panel and "Activities against the goals set" in panel


def test_goals_set_and_the_success_plans_need_are_worded_apart(app):
    rep = next(r for r in reps_of(app) if (r.metrics or {}).get("goals") and r.plan)
    client, _ = sign_in(app, "manager")
    html = client.get(f"/reps/{rep.rep_id}").get_data(as_text=True)
    assert "Activities against the goals set" in html and "Success plan: what the target needs" in html
    assert "Needed (computed)" in html
    assert re.search(r"rag-kind-plan[^>]*>(enough for|short of|far short of) the plan<", html) or "n/a" in html
    goals = client.get(f"/coach/{start(client, rep.rep_id)}/goals").get_data(as_text=True)
    assert "The goals set this month" in goals and "computed, not set" in goals


# --------------------------------------------------------------------------- follow-up on data

def test_each_import_measures_open_plans_and_closing_as_achieved_needs_the_data(app, seeded_instance):
    metric = "win_rate"
    rep = next(r for r in reps_of(app) if r.role == "isr" and (r.metrics["metrics"][metric] or {}).get("value"))
    now = (rep.metrics["metrics"][metric] or {}).get("value")
    with app.app_context():
        manager = user("manager")
        before = ingest(seeded_instance / "org", name="September", source="test", user=None, period="2026-09")
        base = db.session.execute(db.select(RepSnapshot.metrics).where(RepSnapshot.dataset_id == before.id,
                                                                       RepSnapshot.rep_id == rep.rep_id)
                                  ).scalar_one()["metrics"][metric]["value"]
        plan = CoachingPlan(rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division,
                            manager_id=manager.id, month="2026-09", skill_id="qualification",
                            behaviour_gap="demo_dropoff", why="w", how="h", baseline_metric=metric,
                            baseline_value=base, target_value=now, follow_up_on=date.today() + timedelta(days=20))
        db.session.add(plan)
        db.session.commit()
        plan_id = plan.id
        assert db.session.execute(db.select(PlanMeasure).where(PlanMeasure.plan_id == plan_id)).first() is None
        ingest(seeded_instance / "org", name="October", source="test", user=None, period="2026-10")
        m = db.session.execute(db.select(PlanMeasure).where(PlanMeasure.plan_id == plan_id)).scalar_one()
        assert m.period == "2026-10" and m.value == pytest.approx(now)
    client, _ = sign_in(app, "manager")
    html = client.get("/coach/").get_data(as_text=True)
    row = html[html.index(f'data-rep="{rep.rep_id}"'):]
    row = row[:row.index("</tr>")]
    assert "follow-up due" in row and "target reached" in row
    page = client.get(f"/archive/plan/{plan_id}").get_data(as_text=True)
    assert "Follow-up on data" in page and "October 2026" in page
    r = client.post(f"/archive/plan/{plan_id}/close", data={"csrf_token": csrf_from(page), "status": "achieved"})
    assert r.status_code == 302
    with app.app_context():
        p = db.session.get(CoachingPlan, plan_id)
        assert p.status == "achieved" and p.closed_on_data and p.override_reason == ""
        assert p.outcome_value == pytest.approx(now)
    skill = client.get("/archive/skill/qualification").get_data(as_text=True)
    assert "achieved on data of 1 closed on data" in skill and rep.name in skill[skill.index("Who overcame"):]


# --------------------------------------------------------------------------- day 2

def test_a_directors_roll_up_aggregates_first_and_drills_down_on_demand(app):
    client, r = sign_in(app, "director")
    assert r.headers["Location"].endswith("/rollup/")
    with app.app_context():
        d = user("director")
        division = d.divisions[0]
        teams = sorted(db.session.execute(db.select(RepSnapshot.team).join(Dataset).where(
            Dataset.is_current.is_(True), RepSnapshot.division == division).distinct()).scalars())
        foreign = db.session.execute(db.select(RepSnapshot.team).join(Dataset).where(
            Dataset.is_current.is_(True), RepSnapshot.division != division)).scalars().first()
    rep = reps_of(app, focus=True)[0]            # a rep of the manager's team, in the director's division
    sid = start(client, rep.rep_id)
    html = client.get("/rollup/").get_data(as_text=True)
    assert "Teams compared" in html and "Managers who have not held every one-on-one" in html
    table = html[html.index('id="teams"'):html.index("</table>", html.index('id="teams"'))]
    assert all(f">{t}</a>" in table for t in teams) and foreign not in table
    assert "<canvas" not in html and len(html) < 200_000           # aggregates, not every rep
    page = client.get(f"/rollup/teams/{rep.team}").get_data(as_text=True)
    assert rep.name in page and "What skill" in page and "In progress" in page
    assert client.get(f"/rollup/teams/{foreign}").status_code == 404
    doc = client.get("/api/v1/rollup").get_json()
    assert doc["division"] == division and [t["key"] for t in doc["teams"]] == teams
    mine = next(t for t in doc["teams"] if t["key"] == rep.team)
    assert mine["in_progress"] == 1 and mine["not_held"] == mine["reps"]
    assert client.get(f"/api/v1/rollup/teams/{foreign}").status_code == 404
    team = client.get(f"/api/v1/rollup/teams/{rep.team}").get_json()
    assert next(x for x in team["reps"] if x["rep_id"] == rep.rep_id)["session_id"] == sid


# --------------------------------------------------------------------------- effectiveness

def test_coaching_effectiveness_counts_conversations_and_assignments_against_the_targets(app):
    reps = reps_of(app)[:2]
    today = date.today()
    with app.app_context():
        manager = user("manager")
        for kind in ("development", "opportunity"):
            r = reps[0]
            db.session.add(CoachingSession(rep_id=r.rep_id, rep_name=r.name, team=r.team, division=r.division,
                                           manager_id=manager.id, held_on=today, month="2026-10", kind=kind,
                                           status="completed", reflection={}, dialogue={}, actions={}, drafts={}))
        for kind, done in (("learning", True), ("selling", False)):
            db.session.add(Assignment(rep_id=reps[0].rep_id, rep_name=reps[0].name, team=reps[0].team,
                                      division=reps[0].division, kind=kind, ref_id="x", title=f"{kind} one",
                                      due_on=today.replace(day=1), created_by=manager.id,
                                      status="completed" if done else "open",
                                      completed_at=datetime.now() if done else None))
        db.session.commit()
        teams = user("manager").teams
    client, _ = sign_in(app, "manager")
    html = client.get("/coaching/effectiveness").get_data(as_text=True)
    assert "Are managers coaching?" in html and "By team" in html and "By manager" in html
    doc = client.get("/api/v1/effectiveness").get_json()
    assert doc["month"] == today.strftime("%Y-%m") and doc["targets"]["conversations_per_rep"] == 2
    assert {t["key"] for t in doc["teams"]} <= set(teams)
    team = next(t for t in doc["teams"] if t["key"] == reps[0].team)
    assert team["by_kind"]["development"] >= 1 and team["by_kind"]["opportunity"] >= 1
    assert team["learning"] >= 1 and team["selling"] >= 1 and team["on_rule"] >= 1
    total = doc["total"]
    assert total["due"] >= 2 and total["completed"] >= 1
    assert total["overdue"] >= (1 if today.day > 1 else 0)
    assert team["rag"]["conversations"] in ("green", "yellow", "red")
    assert client.get("/api/v1/effectiveness?month=2026-13").status_code == 400


# --------------------------------------------------------------------------- progress reports

def test_the_progress_report_page_and_api_show_only_the_scope(app):
    with app.app_context():
        teams = user("manager").teams
        others = set(db.session.execute(db.select(RepSnapshot.team).where(RepSnapshot.team.not_in(teams))).scalars())
    client, _ = sign_in(app, "manager")
    html = client.get("/reports/?by=team&grain=week").get_data(as_text=True)
    assert all(f"<h2>{t}</h2>" in html for t in teams) and not any(f"<h2>{t}</h2>" in html for t in others)
    csv = client.get("/reports/report.csv?by=team&grain=day").get_data(as_text=True)
    assert csv.splitlines()[0] == "level,key,name,start,metric,value"
    assert {line.split(",")[1] for line in csv.splitlines()[1:]} == set(teams)
    doc = client.get(f"/api/v1/report?by=rep&grain=month&team={teams[0]}").get_json()
    reps = {r.rep_id for r in reps_of(app) if r.team == teams[0]}
    assert {g["key"] for g in doc["groups"]} == reps and doc["grain"] == "month"
    assert any(g["goals"] for g in doc["groups"])
    assert client.get(f"/api/v1/report?team={sorted(others)[0]}").status_code == 404
    assert client.get("/reports/?team=" + sorted(others)[0]).status_code == 404


# --------------------------------------------------------------------------- the demo

def test_a_demo_instance_keeps_its_secret_key_across_restarts(tmp_path, monkeypatch):
    from web import create_app
    from web.config import keep_secret
    instance = tmp_path / "inst"
    instance.mkdir()
    keep_secret(instance)                              # as `fairway demo` does in its new instance
    monkeypatch.setenv("FAIRWAY_INSTANCE", str(instance))
    monkeypatch.setenv("FAIRWAY_ENV", "demo")
    monkeypatch.delenv("FAIRWAY_SECRET_KEY", raising=False)
    first = create_app().config["SECRET_KEY"]
    again = create_app().config["SECRET_KEY"]          # a restart
    assert first == again and len(first) >= 32
    assert (os.stat(instance / "secret_key").st_mode & 0o777) == 0o600
    monkeypatch.setenv("FAIRWAY_INSTANCE", str(tmp_path / "other"))
    assert create_app().config["SECRET_KEY"] != first  # an instance without one: a key of its own
    assert not (tmp_path / "other" / "secret_key").exists()
