"""Who may see what, on every route of the app.

- An authorisation matrix: every route of `app.url_map` x every role x signed out, with
  URL parameters filled with a visible rep (the rep user's own), a teammate of theirs, a rep
  of another team (same division), a rep of another division, and ids that do not exist. Who may use a route is in ONE table,
  EXPECTATIONS: a route missing from it fails the test, so whoever adds a route says who
  may use it.
- CSRF: every POST route refuses a request without a token (400) and changes nothing.
- XSS: a rep and a team named like scripts are shown escaped on every page.
- A refused upload leaves no trace.
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from helpers import job_outcome, upload_files

from web import create_app
from web.extensions import db
from web.models import Assignment, CoachingPlan, CoachingSession, Dataset, RepSnapshot, User

ROLES = ("manager", "director", "enablement", "ops", "trainer", "admin", "rep")
ANON = None
PUBLIC = "public"                                   # signed out too
EVERYONE = frozenset(ROLES)                         # every signed-in user
REP_DATA = frozenset({"manager", "director", "admin"})
CATALOG = frozenset({"enablement", "ops", "trainer", "admin"})
ADMIN = frozenset({"admin"})
OWN = REP_DATA | {"rep"}                            # a rep too, for their own rep only (404 for any other)
REP = frozenset({"rep"})                            # a rep's own place
OPS = frozenset({"ops", "admin"})                   # thresholds
TRAINERS = frozenset({"trainer", "admin"})          # the learning library

# Who may use each route (every method of it). Add a line for every new route.
EXPECTATIONS: dict[str, str | frozenset] = {
    "static": PUBLIC, "vendor.static": PUBLIC, "healthz": PUBLIC, "auth.root": PUBLIC, "auth.login": PUBLIC,
    "auth.logout": EVERYONE,
    # rep data: managers (their teams), directors (their divisions), admins
    "team.index": REP_DATA, "reps.show": OWN, "reps.charts": OWN,
    "coach.index": REP_DATA, "coach.start": REP_DATA, "coach.resume": REP_DATA, "coach.reflection": REP_DATA,
    "coach.goals": REP_DATA, "coach.gap": REP_DATA, "coach.questions": REP_DATA, "coach.causes": REP_DATA,
    "coach.actions": REP_DATA, "coach.plan": REP_DATA, "coach.done": REP_DATA, "coach.discard": REP_DATA,
    "archive.index": REP_DATA, "archive.plan": REP_DATA, "archive.close": REP_DATA, "archive.skill": REP_DATA,
    "assignments.index": REP_DATA, "assignments.complete": REP_DATA,
    # the monthly rhythm: the conversation's drafts, the roll-up, coaching effectiveness, progress reports
    "coach.draft": REP_DATA, "coach.finish": REP_DATA, "rollup.index": REP_DATA, "rollup.team": REP_DATA,
    "effectiveness.index": REP_DATA, "reports.index": REP_DATA, "reports.csv": REP_DATA,
    # the catalog: everyone reads it; coverage and insights for its owners
    "catalog.index": EVERYONE, "catalog.behaviour_gaps": EVERYONE, "catalog.behaviour_gap": EVERYONE,
    "catalog.performance_gaps": EVERYONE, "catalog.root_causes": EVERYONE, "catalog.thresholds": EVERYONE,
    "catalog.library": EVERYONE, "catalog.assignment_templates": EVERYONE, "catalog.asset": EVERYONE,
    "catalog.coverage": CATALOG, "catalog.insights": CATALOG,
    # authoring: drafts for the catalog's owners (each in their part), the history for everyone
    "authoring.draft": CATALOG, "authoring.start_draft": CATALOG, "authoring.discard_draft": CATALOG,
    "authoring.rebase_draft": CATALOG, "authoring.edit_file": CATALOG, "authoring.new_file": CATALOG,
    "authoring.delete_file": CATALOG, "authoring.thresholds": OPS, "authoring.asset": TRAINERS, "authoring.delete_asset": TRAINERS,
    "authoring.walk": CATALOG, "authoring.preview_page": CATALOG, "authoring.tests_page": CATALOG,
    "authoring.publish": CATALOG, "authoring.import_draft": CATALOG, "authoring.export_draft": CATALOG,
    "authoring.versions": EVERYONE, "authoring.compare": EVERYONE, "authoring.version": EVERYONE,
    "authoring.version_file": EVERYONE, "authoring.export_version": EVERYONE, "authoring.restore_version": CATALOG,
    "authoring.audit_page": CATALOG, "authoring.usage": CATALOG,
    # admin: users and data
    "admin.index": ADMIN, "admin.users": ADMIN, "admin.new_user": ADMIN, "admin.edit_user": ADMIN,
    "admin.reset_password": ADMIN, "admin.datasets": ADMIN, "admin.dataset": ADMIN, "admin.upload": ADMIN,
    "admin.import_folder": ADMIN, "admin.set_current": ADMIN, "admin.delete_dataset": ADMIN,
    "admin.jobs": ADMIN, "admin.job": ADMIN, "admin.job_status": ADMIN,
    # the JSON API
    "api.csrf_token": EVERYONE, "api.openapi": EVERYONE, "api.reps": REP_DATA, "api.rep": OWN, "api.rep_metrics": OWN,
    "api.rep_diagnosis": OWN, "api.plans": OWN, "api.plan": OWN, "api.assignments": OWN,
    "api.complete_assignment": REP_DATA, "api.catalog_coverage": CATALOG, "api.current_dataset_summary": EVERYONE,
    "api.cadence": REP_DATA, "api.rollup": REP_DATA, "api.rollup_team": REP_DATA, "api.effectiveness": REP_DATA,
    "api.progress_report": REP_DATA,
    # reps in the loop: a rep's own month, pre-work, shared plan and assignments
    "me.index": REP, "me.prework": REP, "me.plan": REP, "me.acknowledge": REP, "me.complete": REP,
}
SIGNS_OUT = {"auth.logout"}                         # allowed, and answers with the sign-in page

# Parameters naming something in someone's scope: filled with a rep (or its session, plan,
# assignment) of the manager's team, of another team of the director's division, of
# another division, and an id that does not exist.
SCOPED = ("rep_id", "session_id", "plan_id", "assignment_id", "team")
LABELS = ("mine", "teammate", "division", "foreign")
SEES = {"manager": {"mine", "teammate"}, "director": {"mine", "teammate", "division"},
        "admin": {"mine", "teammate", "division", "foreign"}, "rep": {"mine"}}
OK_GET = {200}
OK_POST = {200, 201, 204, 400, 409, 422}          # allowed through; the input itself may be refused
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes() -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) of every route of the app, read from a throw-away app."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"INSTANCE_PATH": tmp, "FAIRWAY_ENV": "testing", "SECRET_KEY": "x",
                          "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        rules = sorted((r.endpoint, r.rule, m) for r in app.url_map.iter_rules()
                       for m in sorted(r.methods & set(METHODS)))
        with app.app_context():
            db.engine.dispose()
    return rules


ROUTES = _routes()
POST_ROUTES = [r for r in ROUTES if r[2] != "GET"]


# --------------------------------------------------------------------------- the world of the tests

@dataclass
class World:
    """The seeded instance, seen from the manager's and the director's scope."""

    reps: dict[str, RepSnapshot]                  # mine, division, foreign
    names: dict[str, str]                         # label -> rep name
    all_names: list[str]
    objects: dict[str, dict[str, int]] = field(default_factory=dict)   # label -> {session_id, plan_id, assignment_id}
    dataset_id: int = 0
    user_id: int = 0
    job_id: int = 0

    def fill(self, arg: str, endpoint: str = "") -> list[tuple[str, object]]:
        """(label, value) variants for a URL parameter of an endpoint."""
        if arg == "filename":      # a real file of that static folder
            return [("real", STATIC_FILES.get(endpoint, "css/app.css"))]
        labels = [k for k in LABELS if k in self.reps]
        if arg == "rep_id":
            return [(k, self.reps[k].rep_id) for k in labels] + [("missing", "NO-SUCH-REP")]
        if arg in SCOPED:
            return [(k, self.objects[k][arg]) for k in labels] + [("missing", 987654)]
        if arg in FIXED:
            return FIXED[arg](self)
        pytest.fail(f"tests/webapp/test_security.py does not know how to fill the URL parameter <{arg}>: "
                    f"add it to SCOPED (it names something in a user's scope) or FIXED")


STATIC_FILES = {"static": "css/app.css", "vendor.static": "chartjs/chart.umd.min.js"}
FIXED = {
    "asset_id": lambda w: [("real", "bant-in-fifteen-minutes"), ("external", "hubspot-bant"), ("missing", "no-such-asset")],
    "gap_id": lambda w: [("real", "demo_dropoff"), ("missing", "no_such_gap")],
    "skill_id": lambda w: [("real", "qualification")],
    "dataset_id": lambda w: [("real", w.dataset_id), ("missing", 987654)],
    "user_id": lambda w: [("real", w.user_id), ("missing", 987654)],
    "job_id": lambda w: [("real", w.job_id), ("missing", 987654)],
    "step": lambda w: [("real", "reflection"), ("missing", "no-such-step")],
    "path": lambda w: [("real", "rules/thresholds.yaml"), ("missing", "rules/gaps/no_such_file.yaml")],
    "number": lambda w: [("real", 1), ("missing", 987654)],
}


def make_objects(app, reps: dict[str, RepSnapshot]) -> dict[str, dict[str, int]]:
    """A coaching session, a plan and an assignment for each rep, as the coaching pages make them."""
    out = {}
    with app.app_context():
        # plain values, read once: a committed object's attributes would each be read again from the
        # database (the POST routes of the matrix make these objects afresh for every role and URL)
        admin_id = db.session.execute(db.select(User.id).where(User.username == "admin")).scalar_one()
        ds_id, period = db.session.execute(db.select(Dataset.id, Dataset.period)
                                           .where(Dataset.is_current.is_(True))).one()
        for label, rep in reps.items():
            # one conversation per rep, month and kind: an earlier call's is set aside first
            db.session.execute(db.update(CoachingSession).where(CoachingSession.rep_id == rep.rep_id,
                                                                CoachingSession.month == period)
                               .values(status="discarded"))
            s = CoachingSession(rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division,
                                manager_id=admin_id, dataset_id=ds_id, held_on=date.today(), month=period,
                                step="reflection", status="in_progress", reflection={}, dialogue={}, actions={})
            db.session.add(s)
            db.session.flush()
            p = CoachingPlan(session_id=s.id, rep_id=rep.rep_id, rep_name=rep.name, team=rep.team,
                             division=rep.division, manager_id=admin_id, month=period, skill_id="qualification",
                             behaviour_gap="demo_dropoff", why="Demo conversion is low", how="BANT before demos",
                             baseline_metric="stage_conversion.demo", baseline_value=0.5, target_value=0.65,
                             follow_up_on=date.today() + timedelta(days=14))
            db.session.add(p)
            db.session.flush()
            a = Assignment(plan_id=p.id, rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division,
                           kind="learning", ref_id="bant-in-fifteen-minutes", title="BANT in fifteen minutes",
                           due_on=date.today() + timedelta(days=7), created_by=admin_id)
            db.session.add(a)
            db.session.flush()
            out[label] = {"session_id": s.id, "plan_id": p.id, "assignment_id": a.id, "team": rep.team}
        db.session.commit()
    return out


def build_world(app) -> World:
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        director = db.session.execute(db.select(User).where(User.username == "director")).scalar_one()
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        reps = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id)
                                  .order_by(RepSnapshot.rep_id)).scalars().all()
        all_names = [r.name for r in reps]

        def unique(r):          # a name no other rep's name contains, nor is contained in
            return sum(1 for n in all_names if r.name in n or n in r.name) == 1
        mine = next(r for r in reps if r.team in manager.teams and unique(r))
        teammate = next(r for r in reps if r.team == mine.team and r.rep_id != mine.rep_id and unique(r))
        division = next(r for r in reps if r.team not in manager.teams and r.division in director.divisions
                        and unique(r))
        foreign = next(r for r in reps if r.division not in director.divisions and unique(r))
        picked = {"mine": mine, "teammate": teammate, "division": division, "foreign": foreign}
        rep_user = db.session.execute(db.select(User).where(User.username == "rep")).scalar_one()
        rep_user.rep_id = mine.rep_id              # the rep user is "mine": every other rep is hidden from them
        db.session.commit()
        for r in picked.values():
            db.session.refresh(r)
            db.session.expunge(r)
        world = World(reps=picked, names={k: r.name for k, r in picked.items()}, all_names=all_names,
                      dataset_id=ds.id, user_id=manager.id)
    world.objects = make_objects(app, world.reps)
    world.job_id = make_job(app)
    return world


def make_job(app) -> int:
    """An import job that was refused, with a problem naming a rep (shown to admins only)."""
    from web.models import Job
    with app.app_context():
        job = Job(kind="import", title="Import of October", status="refused", progress="refused: 1 problem",
                  params={}, result={"problems": [{"file": "reps.csv", "message": "unknown role", "row": 2}]})
        db.session.add(job)
        db.session.commit()
        return job.id


@pytest.fixture
def world(app) -> World:
    return build_world(app)


def token_of(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def signed_in(app, role: str | None):
    """A test client signed in as `role` (None: signed out), and a CSRF token of its session."""
    client = app.test_client()
    token = token_of(client.get("/login").get_data(as_text=True))
    if role is not None:
        r = client.post("/login", data={"username": role, "password": f"{role}-secret-pw", "csrf_token": token})
        assert r.status_code == 302, f"{role} could not sign in"
    return client, token


# --------------------------------------------------------------------------- the matrix

def expectation(endpoint: str, rule: str):
    if endpoint not in EXPECTATIONS:
        pytest.fail(f"route {rule} (endpoint {endpoint!r}) is not in EXPECTATIONS of tests/webapp/test_security.py: "
                    f"add who may use it (PUBLIC, EVERYONE, REP_DATA, CATALOG, ADMIN)")
    return EXPECTATIONS[endpoint]


def url_variants(app, world: World, endpoint: str, rule: str) -> list[tuple[dict[str, str], str]]:
    """({parameter: label}, url) for every combination of parameter values."""
    args = sorted(next(r for r in app.url_map.iter_rules() if r.rule == rule and r.endpoint == endpoint).arguments)
    choices = [world.fill(a, endpoint) for a in args]
    out = []
    with app.test_request_context():
        from flask import url_for
        for combo in itertools.product(*choices) if args else [()]:
            labels = {a: label for a, (label, _) in zip(args, combo)}
            out.append((labels, url_for(endpoint, **{a: v for a, (_, v) in zip(args, combo)})))
    return out


def expected(access, role, labels: dict[str, str]) -> str:
    """ok, login (signed out: the login page or 401), forbidden (403/404), hidden (404/403), missing (404)."""
    if access == PUBLIC:
        return "ok"
    if role is ANON:
        return "login"
    if role not in access:
        return "forbidden"
    if "missing" in labels.values():
        return "missing"
    scoped = [labels[a] for a in labels if a in SCOPED]
    if any(label not in SEES.get(role, set()) for label in scoped):
        return "hidden"
    return "ok"


def check(response, outcome: str, method: str, url: str, role, world: World, labels,
          endpoint: str = "") -> str | None:
    """None if the response is what the outcome says, else what went wrong."""
    code, api = response.status_code, url.startswith("/api/")
    where = f"{method} {url} as {role or 'signed out'}: {code}"
    location = response.headers.get("Location", "")
    if outcome == "ok":
        to_login = "/login" in location and role is not ANON and endpoint not in SIGNS_OUT
        if code in (302, 303) and not to_login:
            return None
        if code in (OK_GET if method == "GET" else OK_POST):
            return None
        return f"{where}, expected to be allowed"
    if outcome == "login":
        if api:
            return None if code == 401 and response.is_json else f"{where}, expected 401 JSON"
        return None if code == 302 and "/login" in location else f"{where}, expected a redirect to sign in"
    if code not in (403, 404):
        return f"{where}, expected 403 or 404 ({outcome})"
    if api and not response.is_json:
        return f"{where}, expected a JSON error"
    body = response.get_data(as_text=True)
    for label, name in world.names.items():
        if label in labels.values() and name in body:
            return f"{where}, shows the name of a rep it hides ({name})"
    return None


def text_of(response) -> str:
    """A page or a JSON document as text; a download (a zip of catalog files) as its files' text."""
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as z:
            return "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
    return response.get_data(as_text=True)


def names_leaked(body: str, role, world: World) -> list[str]:
    """Rep names a role should never see on any page."""
    if role in ("enablement", "ops", "trainer"):
        return [n for n in world.all_names if n in body]          # aggregates only
    hidden = {"manager": ("division", "foreign"), "director": ("foreign",),
              "rep": ("teammate", "division", "foreign")}.get(role, ())
    return [world.names[k] for k in hidden if world.names[k] in body]


@pytest.mark.parametrize("endpoint,rule,method", ROUTES, ids=[f"{m} {r}" for _, r, m in ROUTES])
def test_authorisation_matrix(app, world, endpoint, rule, method):
    access = expectation(endpoint, rule)
    variants = url_variants(app, world, endpoint, rule)
    problems = []
    for role in (ANON, *ROLES):
        client, token = signed_in(app, role)
        for labels, url in variants:
            if method != "GET":              # every POST on fresh objects: an earlier one may have used them
                world.objects = make_objects(app, world.reps)
                labels, url = next((lb, u) for lb, u in url_variants(app, world, endpoint, rule) if lb == labels)
                r = client.open(url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            else:
                r = client.get(url)
            outcome = expected(access, role, labels)
            problem = check(r, outcome, method, url, role, world, labels, endpoint)
            if problem:
                problems.append(problem)
            leaked = names_leaked(text_of(r), role, world) if r.status_code == 200 else []
            r.close()
            if leaked:
                problems.append(f"{method} {url} as {role} shows reps outside their scope: {', '.join(leaked)}")
    assert not problems, "\n".join(problems)


def test_the_matrix_covers_every_route_and_role():
    """The size of the matrix, and no stale line in EXPECTATIONS."""
    endpoints = {e for e, _, _ in ROUTES}
    stale = set(EXPECTATIONS) - endpoints
    assert not stale, f"EXPECTATIONS names routes that no longer exist: {sorted(stale)}"
    assert {"api.rep", "reps.show", "admin.upload", "catalog.asset"} <= endpoints
    assert len(ROUTES) >= 50


def test_a_manager_never_sees_another_teams_objects_by_id(app, world, auth):
    """The plan, session, assignment and rep of another team answer 404, without the rep's name."""
    auth.login("manager")
    client = auth.client
    for label in ("division", "foreign"):
        o, rep = world.objects[label], world.reps[label]
        for url in (f"/reps/{rep.rep_id}", f"/archive/plan/{o['plan_id']}", f"/coach/{o['session_id']}",
                    f"/api/v1/reps/{rep.rep_id}", f"/api/v1/reps/{rep.rep_id}/diagnosis",
                    f"/api/v1/plans/{o['plan_id']}"):
            r = client.get(url)
            assert r.status_code in (403, 404), url
            assert rep.name not in r.get_data(as_text=True), url
        for url in ("/team/", "/assignments/", "/archive/", "/api/v1/reps", "/api/v1/plans", "/api/v1/assignments"):
            assert rep.name not in client.get(url).get_data(as_text=True), url


# --------------------------------------------------------------------------- CSRF

def db_state(app) -> str:
    """A digest of every row of every table, and of the datasets folder."""
    h = hashlib.sha256()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(db.select(table).order_by(*table.primary_key.columns)).all():
                h.update(repr(tuple(row)).encode())
        db.session.remove()
    for p in sorted(Path(app.config["FAIRWAY_DATASETS"]).rglob("*")):
        h.update(str(p).encode())
    return h.hexdigest()


@pytest.mark.parametrize("endpoint,rule,method", POST_ROUTES, ids=[f"{m} {r}" for _, r, m in POST_ROUTES])
def test_every_post_refuses_a_request_without_csrf_token(app, world, endpoint, rule, method):
    access = expectation(endpoint, rule)
    role = "admin" if access == PUBLIC or "admin" in access else sorted(access)[0]
    client, _ = signed_in(app, None if endpoint == "auth.login" else role)
    for labels, url in url_variants(app, world, endpoint, rule):
        if "missing" in labels.values():
            continue
        before = db_state(app)
        r = client.open(url, method=method, data={"username": "admin", "password": "admin-secret-pw",
                                                  "name": "Changed", "role": "ops", "password2": "x"})
        assert r.status_code == 400, f"{method} {url} without a CSRF token: {r.status_code}"
        assert db_state(app) == before, f"{method} {url} without a CSRF token changed something"
        if url.startswith("/api/"):
            assert r.get_json()["error"]["status"] == 400
    if endpoint == "auth.logout":
        assert client.get("/catalog/").status_code == 200, "still signed in after a refused sign-out"


# --------------------------------------------------------------------------- XSS

REP_XSS = "<script>alert(1)</script>"
TEAM_XSS = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def xss_world(app, tmp_path):
    """A current dataset in which a rep and a team are named like scripts; the manager leads that team."""
    from engine.demo.org import generate_org, write_org
    from web.store import catalog, ingest
    folder = tmp_path / "xss-org"
    with app.app_context():
        org = generate_org(catalog().pipeline, reps=10, months=4, seed=3, end="2026-10")
        write_org(org, folder)
        reps = pd.read_csv(folder / "reps.csv", dtype=str, keep_default_na=False)
        team = reps.loc[reps["role"] == "isr", "team"].iloc[0]
        victim = reps.index[(reps["team"] == team)][0]
        reps.loc[reps["team"] == team, "team"] = TEAM_XSS
        reps.loc[victim, "name"] = REP_XSS
        reps.to_csv(folder / "reps.csv", index=False)
        ds = ingest(folder, name=f"XSS {REP_XSS}", source=str(folder), user=None, make_current=True)
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        manager.teams = [TEAM_XSS]
        manager.name = f"Manager {TEAM_XSS}"
        db.session.commit()
        rep = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id,
                                                              RepSnapshot.name == REP_XSS)).scalar_one()
        db.session.expunge(rep)
        ids = {"dataset": ds.id, "manager": manager.id}
    objects = make_objects(app, {"mine": rep})
    return World(reps={"mine": rep, "division": rep, "foreign": rep}, names={}, all_names=[],
                 objects={k: objects["mine"] for k in ("mine", "division", "foreign")},
                 dataset_id=ids["dataset"], user_id=ids["manager"])


def test_names_like_scripts_are_shown_escaped_everywhere(app, xss_world):
    shown_escaped = set()
    for role in ("manager", "admin"):
        client, _ = signed_in(app, role)
        for endpoint, rule, method in ROUTES:
            if method != "GET" or endpoint in ("static", "vendor.static"):
                continue
            for labels, url in url_variants(app, xss_world, endpoint, rule):
                r = client.get(url)
                body = text_of(r)
                if r.is_json:
                    json.loads(body)                 # JSON is fine as JSON: a string in a document
                    continue
                if r.mimetype == "text/csv":         # data to download, never a page: no formula in it
                    assert r.headers["Content-Disposition"].startswith("attachment")
                    assert not [c for row in csv.reader(io.StringIO(body)) for c in row
                                if c[:1] in ("=", "+", "@")], f"{url}: a formula in the CSV"
                    continue
                assert REP_XSS not in body and TEAM_XSS not in body, f"{url} as {role} shows a raw script"
                assert "<img src=x" not in body and "<script>alert" not in body, f"{url} as {role}"
                if "&lt;script&gt;alert(1)&lt;/script&gt;" in body:
                    shown_escaped.add(endpoint)
    assert "reps.show" in shown_escaped and "api.rep" not in shown_escaped
    assert len(shown_escaped) >= 3, f"the names were shown (escaped) on too few pages to mean anything: {shown_escaped}"


# --------------------------------------------------------------------------- a refused upload leaves no trace

def test_a_refused_upload_changes_nothing(app, auth, seeded_instance, jobs):
    org = seeded_instance / "org"
    opps = pd.read_csv(org / "opportunities.csv", dtype=str, keep_default_na=False)
    opps.loc[0, "status"] = "wonn"
    opps.loc[1, "stage"] = "demoo"
    reps = pd.read_csv(org / "reps.csv", dtype=str, keep_default_na=False)
    reps.loc[reps.index[reps["role"] == "isr"][0], "role"] = "closer"
    keep = Path(app.config["FAIRWAY_DATASETS"])
    with app.app_context():
        before = ([(d.id, d.is_current) for d in db.session.execute(db.select(Dataset).order_by(Dataset.id)).scalars()],
                  db.session.execute(db.select(db.func.count(RepSnapshot.id))).scalar_one())
        db.session.remove()
    files_before = sorted(p.relative_to(keep) for p in keep.rglob("*"))
    auth.login("admin")
    r = job_outcome(auth.client, upload_files(auth.client, {"reps.csv": reps.to_csv(index=False).encode(),
                                                            "opportunities.csv": opps.to_csv(index=False).encode()},
                                              make_current="y"))
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Nothing was imported" in page
    for expected_text in ("wonn", "demoo", "closer", "opportunities.csv", "reps.csv", "status", "stage"):
        assert expected_text in page, expected_text
    assert page.count('<tr>') - 1 >= 3           # one line per problem, under the header
    with app.app_context():
        after = ([(d.id, d.is_current) for d in db.session.execute(db.select(Dataset).order_by(Dataset.id)).scalars()],
                 db.session.execute(db.select(db.func.count(RepSnapshot.id))).scalar_one())
    assert after == before
    assert sorted(p.relative_to(keep) for p in keep.rglob("*")) == files_before
    unpacked = Path(app.instance_path) / "tmp"          # where uploads are unpacked while checked
    assert unpacked.is_dir() and list(unpacked.iterdir()) == [], "an unpacked upload was left"
