"""The JSON API under /api/v1: the same authorisation as the pages, strict JSON, the contract's shapes."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from helpers import csrf_from

from engine.diagnosis.analysis import analyse
from engine.dataset import load_dataset
from engine.diagnosis.documents import diagnosis_document, dumps
from web.extensions import db
from web.models import Assignment, CoachingPlan, Dataset, RepSnapshot, User

GETS = ["/api/v1/reps", "/api/v1/reps/R0001", "/api/v1/reps/R0001/metrics", "/api/v1/reps/R0001/diagnosis",
        "/api/v1/plans", "/api/v1/plans/1", "/api/v1/assignments", "/api/v1/catalog/coverage",
        "/api/v1/datasets/current", "/api/v1/csrf-token"]


def strict(response) -> dict:
    """The body as strict JSON: NaN or Infinity would raise."""
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


def scope(app):
    """(a rep of the manager's team, a rep of another team of the division, a rep of the other division)."""
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        reps = db.session.execute(db.select(RepSnapshot).order_by(RepSnapshot.rep_id)).scalars().all()
        mine = next(r for r in reps if r.team in manager.teams and r.focus_gap)
        division = next(r for r in reps if r.team not in manager.teams and r.division == mine.division)
        foreign = next(r for r in reps if r.division != mine.division)
        for r in (mine, division, foreign):
            db.session.expunge(r)
        return mine, division, foreign


def add_plan(app, rep, status="active", assignment_status="open") -> tuple[int, int]:
    with app.app_context():
        p = CoachingPlan(rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division, manager_id=1,
                         month="2026-10", skill_id="qualification", behaviour_gap="demo_dropoff", why="why",
                         how="how", baseline_metric="stage_conversion.demo", baseline_value=float("nan"),
                         target_value=0.7, follow_up_on=date.today() + timedelta(days=14), status=status)
        db.session.add(p)
        db.session.flush()
        a = Assignment(plan_id=p.id, rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division,
                       kind="learning", ref_id="bant-in-fifteen-minutes", title="BANT in fifteen minutes",
                       due_on=date.today() + timedelta(days=7), status=assignment_status, created_by=1)
        db.session.add(a)
        db.session.commit()
        return p.id, a.id


def assignment_status(app, assignment_id: int) -> str:
    with app.app_context():
        return db.session.get(Assignment, assignment_id).status


def api_token(client) -> str:
    return strict(client.get("/api/v1/csrf-token"))["csrf_token"]


# --------------------------------------------------------------------------- signed out, roles

@pytest.mark.parametrize("url", GETS)
def test_signed_out_gets_401_json_not_a_redirect(client, url):
    r = client.get(url)
    assert r.status_code == 401
    assert strict(r) == {"error": {"status": 401, "message": "Sign in first: the API uses the web app's session cookie."}}


def test_signed_out_post_is_refused(client):
    """Signed out is 401, with a CSRF token or without: the sign-in is checked first."""
    r = client.post("/api/v1/assignments/1/complete")
    assert r.status_code == 401 and strict(r)["error"]["status"] == 401
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/api/v1/assignments/1/complete", headers={"X-CSRFToken": token})
    assert r.status_code == 401 and strict(r)["error"]["status"] == 401


def test_a_forged_csrf_token_is_refused(app, client, auth):
    mine, _, _ = scope(app)
    _, assignment = add_plan(app, mine)
    auth.login("manager")
    r = client.post(f"/api/v1/assignments/{assignment}/complete", headers={"X-CSRFToken": "forged"})
    assert r.status_code == 400 and strict(r)["error"]["status"] == 400
    assert assignment_status(app, assignment) == "open"


def test_unknown_paths_and_methods_answer_json(client, auth):
    auth.login("manager")
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and strict(r)["error"]["status"] == 404
    r = client.delete("/api/v1/reps", headers={"X-CSRFToken": api_token(client)})
    assert r.status_code == 405 and strict(r)["error"]["status"] == 405


@pytest.mark.parametrize("role", ["enablement", "ops", "trainer"])
def test_catalog_roles_get_no_rep_data(app, client, auth, role):
    mine, _, _ = scope(app)
    auth.login(role)
    for url in ("/api/v1/reps", f"/api/v1/reps/{mine.rep_id}", f"/api/v1/reps/{mine.rep_id}/metrics",
                f"/api/v1/reps/{mine.rep_id}/diagnosis", "/api/v1/plans", "/api/v1/assignments"):
        r = client.get(url)
        assert r.status_code == 403 and strict(r)["error"]["status"] == 403, url
        assert mine.name not in r.get_data(as_text=True)


# --------------------------------------------------------------------------- reps

def test_reps_are_the_visible_ones_with_their_focus(app, client, auth):
    mine, division, foreign = scope(app)
    auth.login("manager")
    doc = strict(client.get("/api/v1/reps"))
    assert doc["period"] == "2026-10"
    ids = {r["rep_id"] for r in doc["reps"]}
    assert mine.rep_id in ids and division.rep_id not in ids and foreign.rep_id not in ids
    entry = next(r for r in doc["reps"] if r["rep_id"] == mine.rep_id)
    assert entry["focus"]["behaviour_gap"] == mine.focus_gap and entry["focus"]["why"]
    assert entry["url"] == f"/api/v1/reps/{mine.rep_id}"
    auth.logout()
    auth.login("director")
    ids = {r["rep_id"] for r in strict(client.get("/api/v1/reps"))["reps"]}
    assert {mine.rep_id, division.rep_id} <= ids and foreign.rep_id not in ids
    auth.logout()
    auth.login("admin")
    assert len(strict(client.get("/api/v1/reps"))["reps"]) == 40


def test_a_rep_of_another_team_is_404(app, client, auth):
    _, division, foreign = scope(app)
    auth.login("manager")
    for rep in (division, foreign):
        for suffix in ("", "/metrics", "/diagnosis"):
            r = client.get(f"/api/v1/reps/{rep.rep_id}{suffix}")
            assert r.status_code == 404 and strict(r)["error"]["status"] == 404
            assert rep.name not in r.get_data(as_text=True)
    assert client.get("/api/v1/reps/NO-SUCH-REP").status_code == 404


def test_a_rep(app, client, auth):
    mine, _, _ = scope(app)
    auth.login("manager")
    doc = strict(client.get(f"/api/v1/reps/{mine.rep_id}"))
    assert doc["rep_id"] == mine.rep_id and doc["name"] == mine.name and doc["period"] == "2026-10"
    assert doc["focus"]["skill_gap"] == mine.focus_skill and "learning_assets" in doc["focus"]
    assert doc["links"] == {"metrics": f"/api/v1/reps/{mine.rep_id}/metrics",
                            "diagnosis": f"/api/v1/reps/{mine.rep_id}/diagnosis"}
    assert isinstance(doc["success_plan"], list)


def test_metrics_are_the_contracts_entry(app, client, auth):
    mine, _, _ = scope(app)
    auth.login("manager")
    doc = strict(client.get(f"/api/v1/reps/{mine.rep_id}/metrics"))
    assert doc["period"] == "2026-10" and doc["rep_id"] == mine.rep_id
    assert {"name", "role", "team", "division", "metrics", "funnel", "benchmarks"} <= set(doc)
    assert set(doc["metrics"]["win_rate"]) >= {"value", "n"}
    assert {"team", "division", "company"} <= set(doc["benchmarks"])
    assert doc["funnel"][0]["stage"] == "discovery" and "conversion_to_next" in doc["funnel"][0]
    with app.app_context():
        stored = db.session.execute(db.select(RepSnapshot.metrics).where(RepSnapshot.rep_id == mine.rep_id)).scalar_one()
    assert {k: v for k, v in doc.items() if k not in ("period", "as_of")} == json.loads(dumps(stored))


def test_the_diagnosis_is_what_fairway_diagnose_says(app, client, auth, catalog, seeded_instance):
    mine, _, _ = scope(app)
    auth.login("director")
    doc = strict(client.get(f"/api/v1/reps/{mine.rep_id}/diagnosis"))
    assert doc["period"] == "2026-10"
    assert {"rep_id", "name", "role", "team", "focus", "findings"} <= set(doc)
    assert doc["focus"]["behaviour_gap"] == mine.focus_gap
    assert {"level", "id", "metric", "value", "benchmark", "p_value", "impact", "evidence"} <= set(doc["findings"][0])
    result = analyse(load_dataset(seeded_instance / "org", catalog.pipeline), catalog, None)
    cli = json.loads(dumps(diagnosis_document(result.diagnosis, mine.rep_id)))
    assert cli["period"] == doc["period"]
    assert {k: v for k, v in doc.items() if k != "period"} == cli["reps"][0]


# --------------------------------------------------------------------------- plans and assignments

def test_plans_in_scope_with_their_assignments(app, client, auth):
    mine, division, foreign = scope(app)
    own_plan, own_assignment = add_plan(app, mine)
    other_plan, _ = add_plan(app, division, status="achieved")
    far_plan, _ = add_plan(app, foreign)
    auth.login("manager")
    plans = strict(client.get("/api/v1/plans"))["plans"]
    assert [p["id"] for p in plans] == [own_plan]
    assert plans[0]["baseline_value"] is None                        # NaN stored: null in strict JSON
    doc = strict(client.get(f"/api/v1/plans/{own_plan}"))
    assert doc["why"] == "why" and [a["id"] for a in doc["assignments"]] == [own_assignment]
    for pid in (other_plan, far_plan, 987654):
        r = client.get(f"/api/v1/plans/{pid}")
        assert r.status_code == 404 and division.name not in r.get_data(as_text=True)
    auth.logout()
    auth.login("director")
    ids = [p["id"] for p in strict(client.get("/api/v1/plans"))["plans"]]
    assert set(ids) == {own_plan, other_plan}
    assert [p["id"] for p in strict(client.get("/api/v1/plans?status=achieved"))["plans"]] == [other_plan]
    assert [p["id"] for p in strict(client.get(f"/api/v1/plans?rep_id={mine.rep_id}"))["plans"]] == [own_plan]


def test_invalid_query_parameters_are_400_with_every_problem(client, auth):
    auth.login("manager")
    r = client.get("/api/v1/plans?status=won&month=October")
    doc = strict(r)
    assert r.status_code == 400 and set(doc["error"]["fields"]) == {"status", "month"}
    assert client.get("/api/v1/assignments?kind=reading").status_code == 400


def test_assignments_in_scope(app, client, auth):
    mine, division, _ = scope(app)
    _, own = add_plan(app, mine)
    _, other = add_plan(app, division)
    auth.login("manager")
    items = strict(client.get("/api/v1/assignments"))["assignments"]
    assert [a["id"] for a in items] == [own]
    assert items[0]["complete_url"] == f"/api/v1/assignments/{own}/complete"
    assert strict(client.get("/api/v1/assignments?status=completed"))["assignments"] == []


def test_completing_an_assignment_needs_the_csrf_header(app, client, auth):
    mine, division, _ = scope(app)
    _, own = add_plan(app, mine)
    _, other = add_plan(app, division)
    _, cancelled = add_plan(app, mine, assignment_status="cancelled")
    auth.login("manager")
    r = client.post(f"/api/v1/assignments/{own}/complete")
    assert r.status_code == 400 and strict(r)["error"]["status"] == 400
    assert assignment_status(app, own) == "open"
    headers = {"X-CSRFToken": api_token(client)}
    r = client.post(f"/api/v1/assignments/{other}/complete", headers=headers)
    assert r.status_code == 404 and assignment_status(app, other) == "open"
    r = client.post(f"/api/v1/assignments/{cancelled}/complete", headers=headers)
    assert r.status_code == 409 and assignment_status(app, cancelled) == "cancelled"
    r = client.post(f"/api/v1/assignments/{own}/complete", headers=headers)
    doc = strict(r)
    assert r.status_code == 200 and doc["status"] == "completed" and doc["completed_at"]
    assert assignment_status(app, own) == "completed"
    assert client.post(f"/api/v1/assignments/{own}/complete", headers=headers).status_code == 200   # idempotent


# --------------------------------------------------------------------------- catalog and datasets

@pytest.mark.parametrize("role,status", [("enablement", 200), ("ops", 200), ("trainer", 200), ("admin", 200),
                                         ("manager", 403), ("director", 403)])
def test_catalog_coverage(client, auth, catalog, role, status):
    auth.login(role)
    r = client.get("/api/v1/catalog/coverage")
    assert r.status_code == status
    if status == 200:
        doc = strict(r)
        assert doc["catalog_version"] == catalog.version and doc["errors"] == []
        assert {c["skill"] for c in doc["coverage"]} == set(catalog.skills)
        assert {"assets", "assignments", "minutes", "flows", "title", "kind"} <= set(doc["coverage"][0])


def test_the_current_dataset_admin_sees_every_field(client, auth):
    auth.login("admin")
    doc = strict(client.get("/api/v1/datasets/current"))
    assert doc["period"] == "2026-10" and doc["counts"]["reps"] == 40
    assert {"id", "name", "source", "catalog_version", "imported_at", "rows", "warnings"} <= set(doc)


@pytest.mark.parametrize("role", ["manager", "director", "enablement", "ops", "trainer"])
def test_the_current_dataset_others_see_period_and_counts(client, auth, role):
    auth.login(role)
    doc = strict(client.get("/api/v1/datasets/current"))
    assert set(doc) == {"period", "as_of", "counts"} and doc["counts"]["teams"] == 6


def test_no_current_dataset_is_404(app, client, auth):
    with app.app_context():
        db.session.execute(db.update(Dataset).values(is_current=False))
        db.session.commit()
    auth.login("manager")
    r = client.get("/api/v1/datasets/current")
    assert r.status_code == 404 and "No current dataset" in strict(r)["error"]["message"]
    assert strict(client.get("/api/v1/reps")) == {"period": None, "reps": [], "page": 1, "per_page": 50, "total": 0,
                                                  "pages": 0, "next": None, "previous": None}


# --------------------------------------------------------------------------- pages of a list

def test_the_reps_come_a_page_at_a_time_following_next(client, auth):
    auth.login("admin")
    everyone = strict(client.get("/api/v1/reps?per_page=200"))
    assert everyone["total"] == 40 and len(everyone["reps"]) == 40 and everyone["next"] is None
    seen, url, pages = [], "/api/v1/reps?per_page=7", 0
    while url:
        doc = strict(client.get(url))
        pages += 1
        assert doc["per_page"] == 7 and doc["total"] == 40 and doc["pages"] == 6 and doc["page"] == pages
        assert len(doc["reps"]) == (7 if pages < 6 else 5)
        assert (doc["previous"] is None) == (pages == 1)
        seen += [r["rep_id"] for r in doc["reps"]]
        url = doc["next"]
    assert seen == [r["rep_id"] for r in everyone["reps"]]              # the same order, each once
    beyond = strict(client.get("/api/v1/reps?page=99"))
    assert beyond["reps"] == [] and beyond["next"] is None and beyond["total"] == 40


def test_next_keeps_the_filters(app, client, auth):
    mine = scope(app)[0]
    ids = [add_plan(app, mine) for _ in range(3)]
    add_plan(app, mine, assignment_status="completed")
    auth.login("manager")
    first = strict(client.get("/api/v1/assignments?status=open&per_page=2"))
    assert first["total"] == 3 and "status=open" in first["next"] and "per_page=2" in first["next"]
    second = strict(client.get(first["next"]))
    assert second["next"] is None and second["page"] == 2 and "status=open" in second["previous"]
    assert sorted(a["id"] for a in first["assignments"] + second["assignments"]) == sorted(a for _, a in ids)
    plans = strict(client.get("/api/v1/plans?per_page=3&status=active"))
    assert plans["total"] == 4 and "status=active" in plans["next"]


@pytest.mark.parametrize("url,field", [("/api/v1/reps?per_page=201", "per_page"), ("/api/v1/reps?page=0", "page"),
                                       ("/api/v1/plans?page=x", "page"), ("/api/v1/assignments?per_page=-1",
                                                                          "per_page")])
def test_pages_that_do_not_fit_are_refused_by_parameter(client, auth, url, field):
    auth.login("manager")
    r = client.get(url)
    assert r.status_code == 400 and field in strict(r)["error"]["fields"]
