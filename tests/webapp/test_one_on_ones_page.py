"""The month's one-on-ones for a scope larger than a page: each rep's status and the scope's
counts are computed in SQL and only the page's reps are read in full, so these tests check the
page against a plain recount of the store (every status on several pages, a team filter,
sessions outside the scope), and the full month (API, roll-up) against the same counts."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape
from urllib.parse import quote

import pytest

from web.extensions import db
from web.models import (Assignment, CoachingPlan, CoachingSession, Dataset, PlanMeasure, RepSnapshot, Role,
                        SessionType, User)

PER_PAGE = 6              # the director's 20 reps on 4 pages, the admin's 40 on 7
TILES = ("agreed", "in_progress", "not_started", "keep_rhythm+held", "followups_due", "overdue")


def _session(snap: RepSnapshot, manager: User, month: str, status: str, kind: str = SessionType.development.value,
             team: str | None = None, division: str | None = None) -> CoachingSession:
    s = CoachingSession(rep_id=snap.rep_id, rep_name=snap.name, team=team or snap.team,
                        division=division or snap.division, manager_id=manager.id, held_on=date.today(), month=month,
                        kind=kind, status=status, step="gap", reflection={}, dialogue={}, actions={}, drafts={})
    db.session.add(s)
    db.session.flush()
    return s


def _plan(snap: RepSnapshot, manager: User, month: str, session_id: int | None = None, status: str = "active",
          follow_up_in: int = 14) -> CoachingPlan:
    p = CoachingPlan(rep_id=snap.rep_id, rep_name=snap.name, team=snap.team, division=snap.division,
                     session_id=session_id, manager_id=manager.id, month=month, skill_id="qualification",
                     behaviour_gap="demo_dropoff", why="w", how="h", baseline_metric="stage_conversion.demo",
                     baseline_value=0.5, target_value=0.65, status=status,
                     follow_up_on=date.today() + timedelta(days=follow_up_in))
    db.session.add(p)
    db.session.flush()
    return p


def _assignment(snap: RepSnapshot, manager: User, due_in: int, status: str = "open") -> None:
    db.session.add(Assignment(rep_id=snap.rep_id, rep_name=snap.name, team=snap.team, division=snap.division,
                              kind="learning", ref_id="x", title="t", due_on=date.today() + timedelta(days=due_in),
                              status=status, created_by=manager.id))


@pytest.fixture
def month(app):
    """The current month with every kind of rep and conversation, spread over the teams' pages."""
    with app.app_context():
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        snaps = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id)
                                   .order_by(RepSnapshot.rep_id)).scalars().all()
        period, last = ds.period, f"{ds.period[:4]}-{int(ds.period[5:]) - 1:02d}"
        for i, snap in enumerate(snaps):
            case = i % 9
            if case == 1:
                _session(snap, manager, period, "in_progress")
            elif case == 2:                              # held, and the plan agreed in it
                _plan(snap, manager, period, _session(snap, manager, period, "completed").id)
            elif case == 3:                              # held, no plan
                _session(snap, manager, period, "completed")
            elif case == 4:                              # discarded: as if none
                _session(snap, manager, period, "discarded")
            elif case == 5:                              # another kind of talk, and last month's: not this one
                _session(snap, manager, period, "completed", kind=SessionType.opportunity.value)
                _session(snap, manager, last, "completed")
            elif case == 6:                              # held, with a plan of the month made elsewhere
                _session(snap, manager, period, "completed")
                _plan(snap, manager, period)
            elif case == 7:                              # recorded under another division: outside a director's
                _session(snap, manager, period, "in_progress", team="elsewhere", division="elsewhere")
            elif case == 8:                              # discarded, then held again
                _session(snap, manager, period, "discarded")
                _plan(snap, manager, period, _session(snap, manager, period, "completed").id)
            if i % 4 == 0:                               # last month's plan: follow-up due by date (or today)
                _plan(snap, manager, last, follow_up_in=-2 if i % 8 else 0)
            elif i % 4 == 1:                             # due as new data came in
                p = _plan(snap, manager, last, follow_up_in=10)
                db.session.add(PlanMeasure(plan_id=p.id, dataset_id=ds.id, period=period, value=0.55))
            elif i % 4 == 2:                             # not due yet; and one closed
                _plan(snap, manager, last, follow_up_in=10)
                _plan(snap, manager, last, status="achieved", follow_up_in=-5)
            _assignment(snap, manager, (-3, 0, 2, 7, 8, 20)[i % 6])     # overdue, due this week (to 7 days), later
            if i % 5 == 0:
                _assignment(snap, manager, -1, status="completed")
                _assignment(snap, manager, 0, status="cancelled")
        db.session.commit()
    return app


@dataclass
class Expected:
    rows: list[tuple[str, str]]          # (rep_id, status) in the page's order
    counts: dict


def expected(app, username: str, team: str | None = None) -> Expected:
    """The month recounted from the store, row by row, as the page defines it."""
    today = date.today()
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == username)).scalar_one()
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()

        def sees(row) -> bool:
            role = user.role_enum
            return role == Role.admin or (role == Role.director and row.division in user.divisions) or \
                (role == Role.manager and row.team in user.teams)
        snaps = [s for s in db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id)).scalars()
                 if sees(s) and team in (None, s.team)]
        snaps.sort(key=lambda s: (s.team, s.name, s.rep_id))
        ids = {s.rep_id for s in snaps}
        sessions = [s for s in db.session.execute(db.select(CoachingSession)).scalars() if sees(s)]
        plans = [p for p in db.session.execute(db.select(CoachingPlan)).scalars() if sees(p) and p.rep_id in ids]
        items = [a for a in db.session.execute(db.select(Assignment)).scalars()
                 if sees(a) and a.rep_id in ids and a.status == "open"]
        rows = []
        for snap in snaps:
            talk = next((s for s in sessions if s.rep_id == snap.rep_id and s.month == ds.period
                         and s.kind == "development" and s.status != "discarded"), None)
            if talk is None:
                status = "not_started" if snap.diagnosis.get("focus") or snap.diagnosis.get("opening") else \
                    "keep_rhythm"
            elif talk.status == "in_progress":
                status = "in_progress"
            else:
                status = "agreed" if any(p.session_id == talk.id and p.month == ds.period and p.rep_id == snap.rep_id
                                         for p in plans) else "held"
            rows.append((snap.rep_id, status))
        counts = {k: sum(1 for _, s in rows if s == k)
                  for k in ("agreed", "held", "in_progress", "not_started", "keep_rhythm")}
        counts.update(reps=len(rows), followups_due=sum(
            1 for p in plans if p.status == "active" and (p.follow_up_on <= today or any(
                m.period > p.month for m in p.measures))),
            overdue=sum(1 for a in items if a.due_on < today),
            due=sum(1 for a in items if today <= a.due_on <= today + timedelta(days=7)))
    return Expected(rows, counts)


def tiles(html: str) -> dict:
    block = html[html.index('aria-label="The month"'):]
    return dict(zip(TILES, map(int, re.findall(r'class="stat-n">(\d+)<', block)[:len(TILES)])))


def shown(c: dict) -> dict:
    return {"agreed": c["agreed"], "in_progress": c["in_progress"], "not_started": c["not_started"],
            "keep_rhythm+held": c["keep_rhythm"] + c["held"], "followups_due": c["followups_due"],
            "overdue": c["overdue"]}


def rows_of(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-rep="([^"]+)" class="cadence-([a-z_]+)">', html)


@pytest.fixture
def small_pages(monkeypatch):
    import web.coach.routes as coach_routes
    monkeypatch.setattr(coach_routes, "REPS_PER_PAGE", PER_PAGE)


@pytest.mark.parametrize("username", ["director", "admin", "manager"])
def test_every_page_shows_its_reps_in_order_with_the_scopes_counts(month, client, auth, small_pages, username):
    want = expected(month, username)
    assert {s for _, s in want.rows} == {"agreed", "held", "in_progress", "not_started", "keep_rhythm"} or \
        username == "manager"
    auth.login(username)
    pages = -(-len(want.rows) // PER_PAGE)
    assert pages > 1
    seen = []
    for n in range(1, pages + 1):
        html = client.get(f"/coach/?page={n}").get_data(as_text=True)
        seen += rows_of(html)
        assert tiles(html) == shown(want.counts)
        assert f"Page {n} of {pages} · {(n - 1) * PER_PAGE + 1}–{min(n * PER_PAGE, len(want.rows))} of " \
               f"{len(want.rows)} reps" in html
        assert ('rel="next"' in html) == (n < pages) and ('rel="prev"' in html) == (n > 1)
    assert seen == want.rows
    last = client.get(f"/coach/?page={pages + 5}").get_data(as_text=True)      # beyond the last: the last
    assert rows_of(last) == want.rows[(pages - 1) * PER_PAGE:] and f"Page {pages} of {pages}" in last
    assert rows_of(client.get("/coach/?page=0").get_data(as_text=True)) == want.rows[:PER_PAGE]


def test_a_team_filter_counts_and_pages_that_team_only(month, client, auth, small_pages):
    auth.login("director")
    team = max(_teams(month, "north"), key=lambda t: len(expected(month, "director", t).rows))
    want = expected(month, "director", team)
    assert len(want.rows) > PER_PAGE
    html = client.get(f"/coach/?team={quote(team)}").get_data(as_text=True)
    assert rows_of(html) == want.rows[:PER_PAGE] and tiles(html) == shown(want.counts)
    assert unescape(f'href="/coach/?page=2&amp;team={quote(team)}"') in unescape(html)
    second = client.get(f"/coach/?team={quote(team)}&page=2").get_data(as_text=True)
    assert rows_of(second) == want.rows[PER_PAGE:2 * PER_PAGE] and tiles(second) == shown(want.counts)
    outside = client.get("/coach/?team=south-isr-1").get_data(as_text=True)   # not the director's: all teams
    assert rows_of(outside) == expected(month, "director").rows[:PER_PAGE]


def test_a_session_outside_the_scope_leaves_the_rep_not_started_for_the_director(month, client, auth):
    director, admin = expected(month, "director"), expected(month, "admin")
    moved = {r for r, s in admin.rows if s == "in_progress"} - {r for r, s in director.rows if s == "in_progress"}
    assert moved & {r for r, _ in director.rows}          # case 7: the admin sees it in progress, the director not


@pytest.mark.parametrize("username", ["director", "admin"])
def test_the_full_month_api_and_roll_up_agree_with_the_page(month, client, auth, username):
    from web.rhythm.cadence import month_counts, month_of
    want = expected(month, username)
    with month.app_context():
        user = db.session.execute(db.select(User).where(User.username == username)).scalar_one()
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        rows = month_of(user, ds, date.today())
        assert [(r.rep_id, r.status) for r in rows] == want.rows
        c = month_counts(user, ds, date.today())
        assert c == {**want.counts}
        assert c["followups_due"] == sum(len(r.followups_due) for r in rows)
        assert (c["overdue"], c["due"]) == (sum(len(r.overdue) for r in rows), sum(len(r.due) for r in rows))
        assert all(bool(r.plan) == (r.status == "agreed") for r in rows)
    auth.login(username)
    api = client.get("/api/v1/cadence").get_json()
    assert api["counts"] == want.counts and [(r["rep_id"], r["status"]) for r in api["reps"]] == want.rows
    assert (api["total"], api["next"]) == (len(want.rows), None)
    url, read = f"/api/v1/cadence?per_page={PER_PAGE}", []     # a page at a time, following `next`
    while url:
        got = client.get(url).get_json()
        assert got["counts"] == want.counts and len(got["reps"]) <= PER_PAGE
        read += [(r["rep_id"], r["status"]) for r in got["reps"]]
        url = got["next"]
    assert read == want.rows
    beyond = client.get(f"/api/v1/cadence?per_page={PER_PAGE}&page=999").get_json()
    assert beyond["reps"] == [] and beyond["total"] == len(want.rows)
    assert client.get("/api/v1/cadence?per_page=500").status_code == 400
    team = _teams(month, "north")[0]
    page = client.get(f"/rollup/teams/{quote(team)}").get_data(as_text=True)
    c = expected(month, username, team).counts
    assert f"{c['agreed']} plan{'s' if c['agreed'] != 1 else ''} agreed · {c['in_progress']} in progress · " \
           f"{c['not_started']} not started · {c['keep_rhythm'] + c['held']} with nothing to coach" in page


def test_the_import_keeps_the_openings_performance_gap_beside_the_diagnosis(app):
    with app.app_context():
        snaps = db.session.execute(db.select(RepSnapshot)).scalars().all()
        assert any(s.opening_gap for s in snaps) and any(s.focus_gap for s in snaps)
        for s in snaps:
            assert s.opening_gap == ((s.diagnosis or {}).get("opening") or {}).get("performance_gap")


def _teams(app, division: str) -> list[str]:
    with app.app_context():
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        return list(db.session.execute(db.select(RepSnapshot.team).distinct().where(
            RepSnapshot.dataset_id == ds.id, RepSnapshot.division == division).order_by(RepSnapshot.team)).scalars())


def test_conversations_in_progress_list_the_latest_and_say_how_many(month, client, auth, monkeypatch):
    """An admin's scope may hold hundreds of conversations in progress: the month's, archive and
    assignments pages list the most recently saved and say how many there are in all."""
    import web.coach.wizard as wizard
    monkeypatch.setattr(wizard, "OPEN_SHOWN", 3)
    with month.app_context():
        admin = db.session.execute(db.select(User).where(User.username == "admin")).scalar_one()
        everyone = db.session.execute(db.select(CoachingSession).where(CoachingSession.status == "in_progress")
                                      .order_by(CoachingSession.updated_at.desc(), CoachingSession.id.desc())
                                      ).scalars().all()
        assert len(everyone) > 3
        shown = wizard.open_sessions(admin, limit=3)
        assert [s.id for s in shown] == [s.id for s in everyone[:3]] and shown.total == len(everyone)
        alone = wizard.open_sessions(admin, rep_id=everyone[0].rep_id, limit=3)
        assert alone.total == len(alone) == sum(s.rep_id == everyone[0].rep_id for s in everyone)
    auth.login("admin")
    for path in ("/coach/", "/archive/", "/assignments/"):
        html = client.get(path).get_data(as_text=True)
        card = html.split("Conversations in progress", 1)[1].split("</div>", 1)[0]
        assert card.count("Resume</a>") == 3, path
        assert f"The 3 most recently saved of {len(everyone)}" in card, path
