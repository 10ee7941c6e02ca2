"""The archive of plans and the assignments page: scope, filters, closing, completing, metrics."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from web.extensions import db
from helpers import csrf_from
from web.models import Assignment, CoachingPlan, CoachingSession, Dataset, RepSnapshot, User

TODAY = date.today()


class Org:
    """Plans, sessions and assignments made straight in the database, as a finished conversation leaves them."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            self.manager_id = self._user("manager").id
            self.teams = self._user("manager").teams
            ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
            self.period = ds.period
            reps = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id)
                                      .order_by(RepSnapshot.rep_id)).scalars().all()
            self.mine = [self._rep(r) for r in reps if r.team in self.teams]
            self.closers = [r for r in self.mine if r["role"] == "isr"]
            self.others = [self._rep(r) for r in reps if r.team not in self.teams]

    @staticmethod
    def _user(name: str) -> User:
        return db.session.execute(db.select(User).where(User.username == name)).scalar_one()

    @staticmethod
    def _rep(r: RepSnapshot) -> dict:
        return {"rep_id": r.rep_id, "name": r.name, "team": r.team, "division": r.division, "role": r.role,
                "metrics": r.metrics["metrics"]}

    def plan(self, rep: dict, skill: str = "qualification", month: str | None = None, status: str = "active",
             metric: str = "win_rate", baseline: float = 0.2, target: float = 0.3, closed_days_ago: int | None = None,
             on_data: bool = True,
             assignments: tuple = (("learning", "bant-in-fifteen-minutes", "BANT in fifteen minutes", 3),
                                   ("selling", "requalify-largest-deals", "Re-qualify your three largest", 10))
             ) -> int:
        with self.app.app_context():
            common = dict(rep_id=rep["rep_id"], rep_name=rep["name"], team=rep["team"], division=rep["division"])
            session = CoachingSession(**common, manager_id=self.manager_id, held_on=TODAY, month=month or self.period,
                                      status="completed", step="done", reflection={}, dialogue={}, actions={})
            db.session.add(session)
            db.session.flush()
            plan = CoachingPlan(**common, session_id=session.id, manager_id=self.manager_id,
                                month=month or self.period, skill_id=skill, behaviour_gap=None, why="Because",
                                how="Learn, then apply", baseline_metric=metric, baseline_value=baseline,
                                target_value=target, follow_up_on=TODAY + timedelta(days=14), status=status)
            if closed_days_ago is not None:
                plan.closed_at = datetime.now() - timedelta(days=closed_days_ago)
                plan.closed_on_data = on_data and status != "abandoned"
            for kind, ref, title, due_in in assignments:
                plan.assignments.append(Assignment(**common, kind=kind, ref_id=ref, title=f"{title} ({rep['name']})",
                                                   due_on=TODAY + timedelta(days=due_in), created_by=self.manager_id))
            db.session.add(plan)
            db.session.commit()
            return plan.id

    def assignment_ids(self, plan_id: int) -> list[int]:
        with self.app.app_context():
            return [a.id for a in db.session.get(CoachingPlan, plan_id).assignments]


@pytest.fixture
def org(app, auth):
    auth.login("manager")
    return Org(app)


# --------------------------------------------------------------------------- archive

def test_archive_lists_plans_newest_month_first_with_baseline_now_and_target(app, client, org):
    rep = org.closers[0]
    old = org.plan(rep, month="2026-08", status="achieved", baseline=0.1, target=0.2, closed_days_ago=40)
    new = org.plan(rep, skill="pain_discovery", metric="win_rate", baseline=0.1, target=0.5)
    html = client.get("/archive/").get_data(as_text=True)
    assert html.index("October 2026") < html.index("August 2026")
    assert f"/archive/plan/{new}" in html and f"/archive/plan/{old}" in html
    now = rep["metrics"]["win_rate"]["value"]
    assert f"{now:.0%}" in html and "10%" in html and "50%" in html


def test_archive_filters_by_rep_and_by_skill(app, client, org):
    a, b = org.mine[0], org.mine[1]
    pa = org.plan(a, skill="qualification")
    pb = org.plan(b, skill="pain_discovery")
    by_rep = client.get(f"/archive/?rep={a['rep_id']}").get_data(as_text=True)
    assert f"/archive/plan/{pa}" in by_rep and f"/archive/plan/{pb}" not in by_rep
    assert f"{a['name']}’s plans" in by_rep
    by_skill = client.get("/archive/?skill=pain_discovery").get_data(as_text=True)
    assert f"/archive/plan/{pb}" in by_skill and f"/archive/plan/{pa}" not in by_skill
    assert "No plans match" in client.get("/archive/?skill=negotiation_closing&rep=nobody").get_data(as_text=True)


def test_closing_a_plan_with_an_outcome(app, client, org):
    """No import after the plan's month yet: achieved only on the manager's word, with the reason."""
    plan_id = org.plan(org.mine[0])
    page = client.get(f"/archive/plan/{plan_id}").get_data(as_text=True)
    assert "Close the plan" in page
    token = csrf_from(page)
    r = client.post(f"/archive/plan/{plan_id}/close", data={"csrf_token": token})
    assert r.status_code == 400 and "Say how the plan ended." in r.get_data(as_text=True)
    r = client.post(f"/archive/plan/{plan_id}/close", data={"csrf_token": token, "status": "achieved",
                                                            "outcome": "Demos only after BANT"})
    assert r.status_code == 400 and "The data does not show it achieved" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CoachingPlan, plan_id).status == "active"          # refused: nothing changed
    r = client.post(f"/archive/plan/{plan_id}/close", data={
        "csrf_token": token, "status": "achieved", "outcome": "Demos only after BANT",
        "override_reason": "The big deals closed on the 2nd, after the export"})
    assert r.status_code == 302
    with app.app_context():
        plan = db.session.get(CoachingPlan, plan_id)
        assert plan.status == "achieved" and plan.outcome == "Demos only after BANT"
        assert not plan.closed_on_data and plan.override_reason.startswith("The big deals")
        assert plan.outcome_value is None and plan.closed_at is not None
    page = client.get(f"/archive/plan/{plan_id}").get_data(as_text=True)
    assert "Close the plan" not in page and "Demos only after BANT" in page
    assert "on the manager's word" in page and "The big deals closed on the 2nd" in page
    r = client.post(f"/archive/plan/{plan_id}/close", data={"csrf_token": token, "status": "abandoned"},
                    follow_redirects=True)
    assert "already closed" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CoachingPlan, plan_id).status == "achieved"


def test_abandoning_a_plan_cancels_its_open_assignments(app, client, org):
    plan_id = org.plan(org.mine[0])
    token = csrf_from(client.get(f"/archive/plan/{plan_id}").get_data(as_text=True))
    client.post(f"/archive/plan/{plan_id}/close", data={"csrf_token": token, "status": "abandoned"})
    with app.app_context():
        assert {a.status for a in db.session.get(CoachingPlan, plan_id).assignments} == {"cancelled"}


def test_closing_without_a_csrf_token_is_refused(app, client, org):
    plan_id = org.plan(org.mine[0])
    r = client.post(f"/archive/plan/{plan_id}/close", data={"status": "achieved"})
    assert r.status_code == 400
    with app.app_context():
        assert db.session.get(CoachingPlan, plan_id).status == "active"


def test_the_archive_per_skill_shows_what_worked_and_who_overcame_it_lately(app, client, org):
    first, second, third = org.mine[0], org.mine[1], org.mine[2]
    org.plan(first, status="achieved", closed_days_ago=60, month="2026-07")
    org.plan(second, status="achieved", closed_days_ago=5, month="2026-09")
    org.plan(third, status="not_achieved", closed_days_ago=2, month="2026-09",
             assignments=(("selling", "custom", "Shadow a senior rep", 5),))
    org.plan(third, skill="pain_discovery")
    fourth = org.mine[3]              # achieved on the manager's word: not evidence of what works
    org.plan(fourth, status="achieved", closed_days_ago=1, month="2026-09", on_data=False,
             assignments=(("selling", "custom", "Cold-call blitz", 5),))
    html = client.get("/archive/skill/qualification").get_data(as_text=True)
    assert "Qualification" in html
    assert re.search(r'stat-n">4<', html) and "achieved on data of 3 closed on data" in html
    assert "67%" in html and "n = 3 plans closed on data" in html
    recent = html[html.index("Who overcame it most recently"):]
    assert recent.index(second["name"]) < recent.index(first["name"])
    assert third["name"] not in recent and fourth["name"] not in recent
    worked = html[html.index("What works"):]
    assert "BANT in fifteen minutes" in worked and "Shadow a senior rep" in worked
    assert "Cold-call blitz" not in worked
    assert client.get("/archive/skill/no_such_skill").status_code == 404
    # the skills overview links each skill with its counts
    assert "2 of 3 closed on data achieved" in client.get("/archive/").get_data(as_text=True)


def test_the_archive_stays_in_scope(app, client, org):
    outsider = org.others[0]
    plan_id = org.plan(outsider, skill="negotiation_closing")
    assert client.get(f"/archive/plan/{plan_id}").status_code == 404
    assert outsider["name"] not in client.get("/archive/").get_data(as_text=True)
    assert outsider["name"] not in client.get("/archive/skill/negotiation_closing").get_data(as_text=True)


def test_the_director_sees_the_division_and_other_roles_nothing(app, client, auth, org):
    plan_id = org.plan(org.mine[0])
    auth.logout()
    auth.login("director")
    assert client.get(f"/archive/plan/{plan_id}").status_code == 200
    auth.logout()
    auth.login("trainer")
    assert client.get("/archive/").status_code == 403
    assert client.get("/assignments/").status_code == 403


# --------------------------------------------------------------------------- assignments

def test_assignments_are_grouped_by_when_they_are_due(app, client, org):
    rep = org.mine[0]
    org.plan(rep, assignments=(("learning", "bant-in-fifteen-minutes", "Late one", -2),
                               ("selling", "custom", "This week one", 3),
                               ("selling", "custom", "Later one", 20)))
    html = client.get("/assignments/").get_data(as_text=True)
    overdue = html[html.index(">Overdue"):html.index(">Due this week")]
    week = html[html.index(">Due this week"):html.index(">Later")]
    later = html[html.index(">Later"):html.index("Recently completed")]
    assert "Late one" in overdue and "2 days late" in overdue
    assert "This week one" in week and "Later one" in later


def test_marking_an_assignment_complete(app, client, org):
    rep = org.mine[0]
    plan_id = org.plan(rep)
    first, _ = org.assignment_ids(plan_id)
    page = client.get(f"/assignments/?rep={rep['rep_id']}").get_data(as_text=True)
    assert "Mark complete" in page
    r = client.post(f"/assignments/{first}/complete", data={"csrf_token": csrf_from(page), "rep": rep["rep_id"]})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/assignments/?rep={rep['rep_id']}")
    with app.app_context():
        a = db.session.get(Assignment, first)
        assert a.status == "completed" and a.completed_by == org.manager_id and a.completed_at is not None
    html = client.get("/assignments/").get_data(as_text=True)
    done = html[html.index("Recently completed"):]
    assert "BANT in fifteen minutes" in done
    r = client.post(f"/assignments/{first}/complete", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "already completed" in r.get_data(as_text=True)


def test_completing_without_a_csrf_token_or_out_of_scope_is_refused(app, client, org):
    mine = org.assignment_ids(org.plan(org.mine[0]))[0]
    theirs = org.assignment_ids(org.plan(org.others[0]))[0]
    assert client.post(f"/assignments/{mine}/complete").status_code == 400
    token = csrf_from(client.get("/assignments/").get_data(as_text=True))
    assert client.post(f"/assignments/{theirs}/complete", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(Assignment, mine).status == "open"
        assert db.session.get(Assignment, theirs).status == "open"
    assert org.others[0]["name"] not in client.get("/assignments/").get_data(as_text=True)


def test_assignments_filter_by_rep(app, client, org):
    a, b = org.mine[0], org.mine[1]
    org.plan(a)
    org.plan(b)
    html = client.get(f"/assignments/?rep={a['rep_id']}").get_data(as_text=True)
    assert f"({a['name']})" in html and f"({b['name']})" not in html


def test_the_coaching_metrics_of_the_managers_scope(app, client, org):
    a, b = org.mine[0], org.mine[1]
    done_plan = org.plan(a)
    org.plan(b, assignments=(("learning", "bant-in-fifteen-minutes", "Overdue", -1),))
    org.plan(org.others[0])                           # another team's: not counted
    first = org.assignment_ids(done_plan)[0]
    token = csrf_from(client.get("/assignments/").get_data(as_text=True))
    client.post(f"/assignments/{first}/complete", data={"csrf_token": token})
    html = client.get("/assignments/").get_data(as_text=True)
    stats = re.findall(r'stat-n">([^<]+)</span>\s*<span class="stat-t">([^<]+)<', html)
    by_label = {label.split(" in ")[0].strip(): n for n, label in stats}
    assert by_label["sessions held"] == "2"
    assert by_label["learning assignments given"] == "2"
    assert by_label["selling assignments given"] == "1"
    assert by_label["completion rate"] == "50%"                   # 1 completed, 1 overdue
    assert f"target {2 * len(org.mine)}" in html
