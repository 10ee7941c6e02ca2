"""The diagnostic conversation in the web app: a manager clicks through it like a browser."""
from __future__ import annotations

import re
from html import unescape
from datetime import date, timedelta

import pytest

from web.extensions import db
from helpers import csrf_from
from web.models import Assignment, CoachingPlan, CoachingSession, Dataset, RepSnapshot, User


STEPS = ("reflection", "goals", "gap", "questions", "causes", "actions", "plan")


def manager(app) -> User:
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        db.session.expunge(user)
        return user


def reps_where(app, mine: bool, focus: bool = True, role: str | None = None) -> list[RepSnapshot]:
    """Reps of the current dataset inside (or outside) the manager's teams, with or without a focus."""
    teams = manager(app).teams
    with app.app_context():
        q = db.select(RepSnapshot).join(Dataset).where(Dataset.is_current.is_(True))
        q = q.where(RepSnapshot.team.in_(teams) if mine else RepSnapshot.team.not_in(teams))
        q = q.where(RepSnapshot.focus_gap.is_not(None) if focus else RepSnapshot.focus_gap.is_(None))
        if role:
            q = q.where(RepSnapshot.role == role)
        reps = db.session.execute(q.order_by(RepSnapshot.rep_id)).scalars().all()
        for r in reps:
            db.session.expunge(r)
        return reps


def field_values(html: str, name: str) -> list[str]:
    """The values of the inputs named `name` (radios, checkboxes)."""
    out = []
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag:
            m = re.search(r'value="([^"]*)"', tag)
            out.append(m.group(1) if m else "")
    return out


def question_id(html: str) -> str:
    return field_values(html, "question_id")[0]


class Conversation:
    """Click through the one-on-one like a manager in a browser (flaskr's AuthActions, for coaching)."""

    def __init__(self, client):
        self.client = client
        self.session_id: int | None = None

    def url(self, step: str) -> str:
        return f"/coach/{self.session_id}/{step}"

    def start(self, rep_id: str):
        token = csrf_from(self.client.get("/coach/").get_data(as_text=True))
        r = self.client.post(f"/coach/start/{rep_id}", data={"csrf_token": token})
        assert r.status_code == 302, r.status_code
        self.session_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
        return r

    def page(self, step: str) -> str:
        r = self.client.get(self.url(step))
        assert r.status_code == 200, (step, r.status_code, r.headers.get("Location"))
        return r.get_data(as_text=True)

    def post(self, step: str, data: dict, button: str = "next"):
        token = csrf_from(self.page(step))
        return self.client.post(self.url(step), data={**data, button: "1", "csrf_token": token})

    def reflection(self, **extra):
        data = {"how_it_went": "Busy month, fewer wins than I wanted", "went_well": "Plenty of calls",
                "to_improve": "Getting past discovery", "kind": "development",
                "held_on": date.today().isoformat(), **extra}
        return self.post("reflection", data)

    def goals(self):
        return self.post("goals", {"goals_note": "Make President's Club; it would pay for the wedding."})

    def gap(self, gap_id: str):
        return self.post("gap", {"behaviour_gap": gap_id})

    def answer_all(self, pick: int = 0) -> list[str]:
        """Answer each question with its `pick`-th answer until the root causes show; the questions asked."""
        asked = []
        for _ in range(30):
            r = self.client.get(self.url("questions"))
            if r.status_code == 302:
                assert r.headers["Location"].endswith("/causes")
                return asked
            html = r.get_data(as_text=True)
            qid = question_id(html)
            asked.append(qid)
            answers = field_values(html, "answer")
            chosen = answers[min(pick, len(answers) - 1)]
            self.client.post(self.url("questions"), data={"question_id": qid, "answer": chosen, "next": "1",
                                                           "csrf_token": csrf_from(html)})
        raise AssertionError("the questions never ended")

    def confirm_top(self):
        html = self.page("causes")
        top = re.search(r'name="skill" value="([^"]+)" checked', html).group(1)
        return top, self.post("causes", {"skill": top})

    def actions(self) -> dict:
        """The actions form as prefilled (the defaults a manager would keep)."""
        html = self.page("actions")
        data = {}
        for tag in re.findall(r"<input[^>]*>", html):
            name = re.search(r'name="(items-\d+-[a-z_]+)"', tag)
            if not name:
                continue
            value = re.search(r'value="([^"]*)"', tag)
            if 'type="checkbox"' in tag:
                if "checked" in tag:
                    data[name.group(1)] = "y"
            else:
                data[name.group(1)] = unescape(value.group(1)) if value else ""
        return data

    def plan_form(self) -> dict:
        html = self.page("plan")
        data = {}
        for name in ("baseline_value", "target_value", "follow_up_on", "second_follow_up_on", "prefilled_metric"):
            m = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
            v = re.search(r'value="([^"]*)"', m.group(0)) if m else None
            data[name] = unescape(v.group(1)) if v else ""
        data["why"] = unescape(re.search(r'<textarea[^>]*name="why"[^>]*>\n?(.*?)</textarea>', html, re.S).group(1))
        data["how"] = unescape(re.search(r'<textarea[^>]*name="how"[^>]*>\n?(.*?)</textarea>', html, re.S).group(1))
        data["baseline_metric"] = re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected',
                                            html).group(1)
        return data

    def to_questions(self, rep: RepSnapshot):
        """Start a conversation and go through reflection, goals and the proposed gap."""
        self.start(rep.rep_id)
        self.reflection()
        self.goals()
        return self.gap(rep.focus_gap)

    def walk(self, rep: RepSnapshot):
        """The whole conversation on the proposed gap, keeping every default: the plan's session id."""
        self.to_questions(rep)
        self.answer_all()
        self.confirm_top()
        r = self.post("actions", self.actions())
        assert r.headers["Location"].endswith("/plan")
        r = self.post("plan", self.plan_form())
        assert r.status_code == 302 and r.headers["Location"].endswith("/done"), r.get_data(as_text=True)[:3000]
        return r


@pytest.fixture
def talk(client, auth):
    auth.login("manager")
    return Conversation(client)


def stored(app, session_id: int) -> CoachingSession:
    with app.app_context():
        s = db.session.get(CoachingSession, session_id)
        db.session.expunge(s)
        return s


# --------------------------------------------------------------------------- the whole conversation

def test_a_manager_walks_the_conversation_to_a_plan(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.start(rep.rep_id)
    assert client.get(f"/coach/{talk.session_id}").headers["Location"].endswith("/reflection")
    html = talk.page("reflection")
    assert "How do you feel you did last month?" in html and "What would you like to improve?" in html
    assert talk.reflection().headers["Location"].endswith("/goals")

    html = talk.page("goals")
    assert "What are you trying to achieve" in html and "What would it mean to you personally" in html
    assert "Run rate" in html
    assert talk.goals().headers["Location"].endswith("/gap")

    html = talk.page("gap")
    assert "Behaviour gap" in html and "★ proposed" in html
    assert talk.gap(rep.focus_gap).headers["Location"].endswith("/questions")
    html = talk.page("questions")
    assert "Question 1" in html and "Why ask this" in html and "None of these" in html and "Skip" in html

    asked = talk.answer_all()
    assert asked
    html = talk.page("causes")
    assert "most likely" in html and "You said" in html and "What it looks like" in html
    skill, r = talk.confirm_top()
    assert r.headers["Location"].endswith("/actions")

    html = talk.page("actions")
    assert "Learning" in html and "Selling" in html
    actions = talk.actions()
    due = (date.today() + timedelta(days=7)).isoformat()
    assert actions["items-0-due_on"] == due and actions["items-0-selected"] == "y"
    actions["items-0-title"] = "Pain ladder, fifteen minutes"          # titles are editable
    assert talk.post("actions", actions).headers["Location"].endswith("/plan")

    form = talk.plan_form()
    with app.app_context():
        snap = db.session.execute(db.select(RepSnapshot).join(Dataset).where(
            Dataset.is_current.is_(True), RepSnapshot.rep_id == rep.rep_id)).scalar_one()
        focus = snap.diagnosis["focus"]
    assert form["why"].strip() == focus["why"]
    assert form["baseline_metric"] == focus["metric"]
    assert form["follow_up_on"] == (date.today() + timedelta(days=14)).isoformat()
    assert "Pain ladder, fifteen minutes" in form["how"]
    r = talk.post("plan", form)
    assert r.headers["Location"].endswith(f"/coach/{talk.session_id}/done")
    done = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "the plan is set" in done and "Pain ladder, fifteen minutes" in done

    with app.app_context():
        s = db.session.get(CoachingSession, talk.session_id)
        plan = s.plan
        assert s.status == "completed" and plan is not None
        assert plan.skill_id == skill and plan.behaviour_gap == rep.focus_gap and plan.rep_id == rep.rep_id
        assert plan.baseline_metric == focus["metric"]
        finding = next(f for f in snap.diagnosis["findings"] if f["id"] == rep.focus_gap)
        assert plan.baseline_value == finding["value"]          # kept exact, not as rounded on screen
        assert plan.target_value == finding["benchmark"]
        kinds = sorted(a.kind for a in plan.assignments)
        assert "learning" in kinds and "selling" in kinds
        titles = [a.title for a in plan.assignments]
        plan_id = plan.id

    archive = client.get(f"/archive/?rep={rep.rep_id}").get_data(as_text=True)
    assert f"/archive/plan/{plan_id}" in archive
    assignments = client.get("/assignments/").get_data(as_text=True)
    assert all(t.replace("'", "&#39;").replace('"', "&#34;") in assignments for t in titles)
    # the conversation is finished: its steps lead to the summary, and starting again opens the
    # month's conversation (one per rep, month and kind), never a second one
    assert client.get(talk.url("plan")).headers["Location"].endswith("/done")
    first = talk.session_id
    r = talk.start(rep.rep_id)
    assert talk.session_id == first
    assert client.get(r.headers["Location"]).headers["Location"].endswith(f"/coach/{first}/done")


def test_resume_exactly_where_the_manager_stopped(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.start(rep.rep_id)
    first = talk.session_id
    talk.reflection(how_it_went="Rough one")
    talk.goals()
    talk.gap(rep.focus_gap)
    html = talk.page("questions")
    talk.client.post(talk.url("questions"), data={"question_id": question_id(html),
                                                   "answer": field_values(html, "answer")[0], "next": "1",
                                                   "csrf_token": csrf_from(html)})
    # the manager leaves; the open conversation is listed wherever they look
    for page in ("/coach/", "/assignments/", "/archive/"):
        html = client.get(page).get_data(as_text=True)
        assert "Conversations in progress" in html and rep.name in html and f"/coach/{first}" in html
    # starting again resumes the same session, on the question they stopped at
    talk.start(rep.rep_id)
    assert talk.session_id == first
    assert client.get(f"/coach/{first}").headers["Location"].endswith("/questions")
    assert "Question 2" in talk.page("questions")
    assert "Rough one" in talk.page("reflection")
    s = stored(app, first)
    assert s.step == "questions" and len(s.dialogue["answers"]) == 1 and s.reflection["how_it_went"] == "Rough one"


def test_steps_ahead_cannot_be_skipped_to(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.start(rep.rep_id)
    for step in ("questions", "causes", "actions", "plan"):
        r = client.get(talk.url(step))
        assert r.status_code == 302 and r.headers["Location"].endswith("/reflection")


def test_back_skip_and_none_of_these(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.to_questions(rep)
    html = talk.page("questions")
    q1 = question_id(html)
    talk.post("questions", {"question_id": q1}, button="skip")
    html = talk.page("questions")
    assert "Question 2" in html
    q2 = question_id(html)
    assert q2 != q1
    assert stored(app, talk.session_id).dialogue["answers"] == [[q1, "__skip__"]]

    talk.post("questions", {"question_id": q2}, button="back")
    html = talk.page("questions")
    assert "Question 1" in html and question_id(html) == q1
    assert stored(app, talk.session_id).dialogue["answers"] == []

    talk.post("questions", {"question_id": q1}, button="none")
    assert stored(app, talk.session_id).dialogue["answers"] == [[q1, "__none__"]]
    assert "Question 2" in talk.page("questions")

    # answering requires a choice: the error is shown at the field, nothing is recorded
    r = talk.post("questions", {"question_id": question_id(talk.page("questions"))})
    assert r.status_code == 200 and "Pick the answer closest" in r.get_data(as_text=True)
    assert len(stored(app, talk.session_id).dialogue["answers"]) == 1

    # back on the first question goes back to the gap step
    talk.post("questions", {"question_id": question_id(talk.page("questions"))}, button="back")
    r = talk.post("questions", {"question_id": q1}, button="back")
    assert r.headers["Location"].endswith("/gap")


def test_back_from_the_root_causes_takes_the_last_answer_back(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.to_questions(rep)
    asked = talk.answer_all()
    r = talk.post("causes", {}, button="back")
    assert r.headers["Location"].endswith("/questions")
    assert question_id(talk.page("questions")) == asked[-1]


def test_overriding_the_gap_changes_the_questions(app, client, talk):
    from web.store import catalog
    rep = reps_where(app, mine=True)[0]
    with app.app_context():
        cat = catalog()
        other = next(g.id for g in cat.behaviour_gaps.values()
                     if rep.role in g.roles and g.id in cat.flows and g.id != rep.focus_gap
                     and cat.flows[g.id].questions[0].id != cat.flows[rep.focus_gap].questions[0].id)
    talk.to_questions(rep)
    proposed_q = question_id(talk.page("questions"))
    talk.post("questions", {"question_id": proposed_q}, button="skip")

    talk.gap(other)
    html = talk.page("questions")
    assert "Question 1" in html and question_id(html) != proposed_q
    with app.app_context():
        assert question_id(html) == cat.flows[other].questions[0].id
    s = stored(app, talk.session_id)
    assert s.dialogue["behaviour_gap"] == other and s.dialogue["proposed_gap"] == rep.focus_gap
    assert s.dialogue["answers"] == []
    assert "instead of the proposed gap" in talk.page("gap")


def test_a_rep_with_nothing_significant_picks_a_gap_together(app, client, talk):
    rep = reps_where(app, mine=True, focus=False)[0]
    talk.start(rep.rep_id)
    talk.reflection()
    talk.goals()
    html = talk.page("gap")
    assert "Nothing significant this month" in html
    r = talk.post("gap", {"behaviour_gap": ""})
    assert r.status_code == 200 and "Choose the behaviour gap to discuss." in r.get_data(as_text=True)
    options = re.findall(r'<option value="([a-z_]+)"', html)
    assert options
    assert talk.gap(options[0]).headers["Location"].endswith("/questions")


def test_a_stale_answer_is_a_friendly_message_not_an_error(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.to_questions(rep)
    html = talk.page("questions")
    q1, a1 = question_id(html), field_values(html, "answer")[0]
    talk.post("questions", {"question_id": q1, "answer": a1})
    # the same answer again, as from a second tab still showing question 1
    r = client.post(talk.url("questions"), data={"question_id": q1, "answer": a1, "next": "1",
                                                 "csrf_token": csrf_from(html)}, follow_redirects=True)
    assert r.status_code == 200 and "The conversation had moved on" in r.get_data(as_text=True)
    assert len(stored(app, talk.session_id).dialogue["answers"]) == 1


def test_validation_errors_are_shown_at_the_field(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.start(rep.rep_id)
    r = talk.reflection(held_on="")
    assert r.status_code == 200 and "Give the session&#39;s date." in r.get_data(as_text=True)
    talk.reflection()
    talk.goals()
    talk.gap(rep.focus_gap)
    talk.answer_all()
    talk.confirm_top()

    actions = talk.actions()
    no_learning = {k: v for k, v in actions.items() if not k.endswith("-selected")}
    r = talk.post("actions", no_learning)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Choose at least one learning assignment." in html
    assert "Choose at least one selling assignment." in html
    past = dict(actions, **{"items-0-due_on": (date.today() - timedelta(days=1)).isoformat()})
    r = talk.post("actions", past)
    assert r.status_code == 200 and "Pick today or a later date." in r.get_data(as_text=True)
    talk.post("actions", actions)

    form = talk.plan_form()
    bad = dict(form, target_value="lots", follow_up_on=(date.today() - timedelta(days=3)).isoformat(),
               why="")
    r = talk.post("plan", bad)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Enter a number" in html and "Pick today or a later date." in html and "Say why this skill" in html
    second = dict(form, second_follow_up_on=form["follow_up_on"])
    assert "Make it later than the first follow-up." in talk.post("plan", second).get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(CoachingPlan)).first() is None
        assert db.session.execute(db.select(Assignment)).first() is None
    # what was typed is kept as a draft: leaving and coming back finds it
    talk.post("plan", dict(form, why="Because the demos stall", target_value="lots"))
    client.get("/coach/")
    assert "Because the demos stall" in talk.page("plan")


def test_changing_the_baseline_kpi_without_javascript_refills_its_values(app, client, talk):
    rep = reps_where(app, mine=True, role="isr")[0]
    talk.to_questions(rep)
    talk.answer_all()
    talk.confirm_top()
    talk.post("actions", talk.actions())
    form = talk.plan_form()
    r = talk.post("plan", dict(form, baseline_metric="win_rate"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "The baseline KPI changed" in html
    with app.app_context():
        snap = db.session.execute(db.select(RepSnapshot).join(Dataset).where(
            Dataset.is_current.is_(True), RepSnapshot.rep_id == rep.rep_id)).scalar_one()
        win = snap.metrics["metrics"]["win_rate"]["value"]
    assert f'value="{round(win * 100, 1)}"' in html


# --------------------------------------------------------------------------- scope and CSRF

def other_team_records(app):
    """A session, a plan and an assignment of a rep outside the manager's teams, made by the admin."""
    rep = reps_where(app, mine=False)[0]
    with app.app_context():
        admin = db.session.execute(db.select(User).where(User.username == "admin")).scalar_one()
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        common = dict(rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division)
        s = CoachingSession(**common, manager_id=admin.id, dataset_id=ds.id, held_on=date.today(),
                            month=ds.period, reflection={}, dialogue={}, actions={})
        db.session.add(s)
        db.session.flush()
        plan = CoachingPlan(**common, session_id=s.id, manager_id=admin.id, month=ds.period,
                            skill_id="qualification", why="w", how="h", baseline_metric="win_rate",
                            baseline_value=0.2, target_value=0.3, follow_up_on=date.today())
        plan.assignments.append(Assignment(**common, kind="selling", ref_id="custom", title="Call three",
                                           due_on=date.today(), created_by=admin.id))
        db.session.add(plan)
        db.session.commit()
        return rep, s.id, plan.id, plan.assignments[0].id


def test_another_teams_session_plan_and_assignment_404(app, client, talk):
    rep, session_id, plan_id, assignment_id = other_team_records(app)
    token = csrf_from(client.get("/coach/").get_data(as_text=True))
    for step in (*STEPS, "done"):
        assert client.get(f"/coach/{session_id}/{step}").status_code == 404, step
    assert client.get(f"/coach/{session_id}").status_code == 404
    forged = {"csrf_token": token, "kind": "development", "held_on": "2030-01-01", "next": "1"}
    assert client.post(f"/coach/{session_id}/reflection", data=forged).status_code == 404
    assert client.post(f"/coach/{session_id}/discard", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/coach/start/{rep.rep_id}", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/archive/plan/{plan_id}").status_code == 404
    assert client.post(f"/archive/plan/{plan_id}/close", data={"csrf_token": token, "status": "achieved"}
                       ).status_code == 404
    assert client.post(f"/assignments/{assignment_id}/complete", data={"csrf_token": token}).status_code == 404
    for page in ("/archive/", "/assignments/", "/coach/"):
        assert rep.name not in client.get(page).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CoachingSession, session_id).status == "in_progress"
        assert db.session.get(CoachingPlan, plan_id).status == "active"
        assert db.session.get(Assignment, assignment_id).status == "open"


def test_posting_without_a_csrf_token_is_refused_and_changes_nothing(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    assert client.post(f"/coach/start/{rep.rep_id}").status_code == 400
    with app.app_context():
        assert db.session.execute(db.select(CoachingSession)).first() is None
    talk.start(rep.rep_id)
    r = client.post(talk.url("reflection"), data={"how_it_went": "forged", "kind": "development",
                                                  "held_on": date.today().isoformat(), "next": "1"})
    assert r.status_code == 400
    s = stored(app, talk.session_id)
    assert s.reflection == {} and s.step == "reflection"
    talk.reflection()
    talk.goals()
    talk.gap(rep.focus_gap)
    html = talk.page("questions")
    r = client.post(talk.url("questions"), data={"question_id": question_id(html), "next": "1",
                                                 "answer": field_values(html, "answer")[0]})
    assert r.status_code == 400 and stored(app, talk.session_id).dialogue["answers"] == []


def test_discarding_a_conversation(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.start(rep.rep_id)
    first = talk.session_id
    token = csrf_from(talk.page("reflection"))
    assert client.post(f"/coach/{first}/discard", data={"csrf_token": token}).status_code == 302
    assert stored(app, first).status == "discarded"
    assert "Conversations in progress" not in client.get("/coach/").get_data(as_text=True)
    talk.start(rep.rep_id)
    assert talk.session_id != first


def test_a_dialogue_that_no_longer_fits_the_catalog_starts_the_questions_over(app, client, talk):
    rep = reps_where(app, mine=True)[0]
    talk.to_questions(rep)
    with app.app_context():               # as if enablement had rewritten the flow since
        s = db.session.get(CoachingSession, talk.session_id)
        s.dialogue = {**s.dialogue, "answers": [["a_question_since_removed", "yes"]]}
        db.session.commit()
    r = client.get(talk.url("questions"))
    assert r.status_code == 302 and r.headers["Location"].endswith("/gap")
    assert talk.gap(rep.focus_gap).headers["Location"].endswith("/questions")
    assert "Question 1" in talk.page("questions")
    assert stored(app, talk.session_id).dialogue["answers"] == []


def test_any_step_the_dialogue_refuses_is_a_friendly_message(app, client, talk, monkeypatch):
    from engine.errors import DialogueError
    from web.coach import routes

    def refuse(*args, **kwargs):
        raise DialogueError("unknown skill or knowledge gap 'x'")
    rep = reps_where(app, mine=True)[0]
    talk.to_questions(rep)
    talk.answer_all()
    monkeypatch.setattr(routes.dialogue, "confirm", refuse)
    html = talk.page("causes")
    top = re.search(r'name="skill" value="([^"]+)" checked', html).group(1)
    r = client.post(talk.url("causes"), data={"skill": top, "next": "1", "csrf_token": csrf_from(html)},
                    follow_redirects=True)
    assert r.status_code == 200 and "The conversation had moved on" in r.get_data(as_text=True)
    assert stored(app, talk.session_id).dialogue["confirmed_skill"] is None
