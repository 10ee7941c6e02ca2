"""The team page and the rep page: scope, focus, charts with their numbers, escaping."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from web.extensions import db
from web.models import Dataset, RepSnapshot, User

CLOSER_CHARTS = ("chart-goals", "chart-funnel", "chart-efficiency", "chart-talk", "chart-winrate",
                 "chart-losses", "chart-pipeline")
PROSPECTOR_CHARTS = ("chart-goals", "chart-funnel", "chart-efficiency", "chart-output", "chart-talk",
                     "chart-talk-team")


def reps_where(app, **by) -> list[RepSnapshot]:
    """Rep snapshots of the current dataset, filtered by column values (lists mean 'in')."""
    with app.app_context():
        q = db.select(RepSnapshot).join(Dataset).where(Dataset.is_current.is_(True))
        for col, value in by.items():
            c = getattr(RepSnapshot, col)
            q = q.where(c.in_(value) if isinstance(value, (list, tuple, set)) else c == value)
        rows = db.session.execute(q.order_by(RepSnapshot.rep_id)).scalars().all()
        db.session.expunge_all()
        return rows


def user(app, username: str) -> User:
    with app.app_context():
        u = db.session.execute(db.select(User).where(User.username == username)).scalar_one()
        db.session.expunge(u)
        return u


def rep_links(html: str) -> set[str]:
    return set(re.findall(r'href="/reps/([^"/?#]+)"', html))


class Numbers(HTMLParser):
    """Collects, per chart, the rows of the table inside its <details> "Numbers" block."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, int] = {}
        self.canvases: list[str] = []
        self._in: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "canvas":
            self.canvases.append(a.get("id"))
        if tag == "div" and "numbers-table" in (a.get("class") or ""):
            self._in, self._depth = a.get("data-for"), 0
            self.tables.setdefault(self._in, 0)
        elif self._in and tag == "div":
            self._depth += 1
        elif self._in and tag == "tr":
            self.tables[self._in] += 1

    def handle_endtag(self, tag):
        if self._in and tag == "div":
            if self._depth == 0:
                self._in = None
            else:
                self._depth -= 1


def numbers(html: str) -> Numbers:
    p = Numbers()
    p.feed(html)
    return p


def chart_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert m, "no chart data on the page"
    return json.loads(m.group(1))


def fetched_chart_data(client, html: str) -> dict:
    """The rep page names where its charts' data is (fetched by charts.js): fetch it."""
    assert '<script type="application/json" id="chart-data">' not in html, "the rep page inlines its chart data"
    m = re.search(r'<div id="chart-data" hidden data-src="([^"]+)"></div>', html)
    assert m, "the rep page does not say where its chart data is"
    r = client.get(m.group(1))
    assert r.status_code == 200 and r.is_json
    return r.get_json()


def assert_csp_clean(html: str) -> None:
    """No inline style attribute, no inline script code (the CSP would block both)."""
    assert 'style="' not in html
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
        if "src=" in attrs:
            assert not body.strip()
            assert "//" not in re.search(r'src="([^"]+)"', attrs).group(1), "scripts come from this site"


# --------------------------------------------------------------------------- the team page

def test_team_page_lists_exactly_the_managers_reps(app, client, auth):
    auth.login("manager")
    r = client.get("/team/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    mine = reps_where(app, team=user(app, "manager").teams)
    assert mine and rep_links(html) == {x.rep_id for x in mine}
    headings = set(re.findall(r'<h2>([^<\s]+) <span class="fw-role">', html))
    assert headings == set(user(app, "manager").teams)            # one section per team, no other team
    assert "average team progress toward activity goals" in html
    assert "2026-10" in html
    assert_csp_clean(html)


def test_team_page_shows_focus_goals_and_comparisons(app, client, auth):
    auth.login("manager")
    html = client.get("/team/").get_data(as_text=True)
    cat = app.extensions["fairway.catalog"]
    mine = reps_where(app, team=user(app, "manager").teams)
    with_focus = [r for r in mine if r.focus_gap]
    assert with_focus, "the demo org gives the manager at least one rep to coach"
    for r in with_focus:
        assert cat.behaviour_gaps[r.focus_gap].title in html
        if r.focus_skill:
            assert cat.skills[r.focus_skill].title in html
    if len(with_focus) < len(mine):
        assert "Nothing to coach this month" in html
    assert 'class="rag rag-' in html                       # progress against goals, red / yellow / green
    assert "vs team median" in html
    assert "weakest step vs team" in html


def test_team_page_charts_have_data_and_numbers(app, client, auth):
    auth.login("manager")
    html = client.get("/team/").get_data(as_text=True)
    data = chart_data(html)
    parsed = numbers(html)
    assert set(parsed.canvases) == set(data)
    assert any(k.startswith("chart-goals-") for k in data)
    assert any(k.startswith("chart-winrate-") for k in data)       # the closing team
    assert any(k.startswith("chart-talk-") for k in data)          # the prospecting team
    for chart_id in data:
        assert parsed.tables.get(chart_id, 0) > 1, chart_id
    assert "/vendor/chartjs/chart.umd.min.js" in html and "js/charts.js" in html
    assert "team.css" in html


def test_director_sees_the_division_and_can_filter_a_team(app, client, auth):
    auth.login("director")
    director = user(app, "director")
    html = client.get("/team/").get_data(as_text=True)
    division = reps_where(app, division=director.divisions)
    assert rep_links(html) == {r.rep_id for r in division}
    teams = sorted({r.team for r in division})
    assert len(teams) > 1
    for t in teams:                                                  # the filter offers every visible team
        assert f'<option value="{t}"' in html
    one = teams[0]
    html = client.get("/team/", query_string={"team": one}).get_data(as_text=True)
    assert rep_links(html) == {r.rep_id for r in division if r.team == one}


def test_team_filter_does_not_reach_outside_the_scope(app, client, auth):
    auth.login("manager")
    manager = user(app, "manager")
    outside = next(r for r in reps_where(app) if r.team not in manager.teams)
    r = client.get("/team/", query_string={"team": outside.team})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert outside.rep_id not in rep_links(html)
    assert rep_links(html) == {x.rep_id for x in reps_where(app, team=manager.teams)}
    assert "Not a valid choice" in html


@pytest.mark.parametrize("role", ["enablement", "ops", "trainer"])
def test_catalog_roles_may_not_see_the_team_or_reps(app, client, auth, role):
    auth.login(role)
    assert client.get("/team/").status_code == 403
    rep = reps_where(app)[0]
    assert client.get(f"/reps/{rep.rep_id}").status_code == 403


def test_team_page_requires_sign_in(client):
    r = client.get("/team/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_admin_sees_every_team(app, client, auth):
    auth.login("admin")
    html = client.get("/team/").get_data(as_text=True)
    assert rep_links(html) == {r.rep_id for r in reps_where(app)}


def test_manager_without_reps_gets_a_helpful_empty_state(app, client, auth):
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "manager").values(teams=["nowhere-team"]))
        db.session.commit()
    auth.login("manager")
    r = client.get("/team/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "No reps to show" in html and "nowhere-team" in html
    assert not rep_links(html)


def test_no_dataset_gets_a_helpful_empty_state(app, client, auth):
    with app.app_context():
        db.session.execute(db.update(Dataset).values(is_current=False))
        db.session.commit()
    auth.login("manager")
    r = client.get("/team/")
    assert r.status_code == 200
    assert "no dataset to look at yet" in r.get_data(as_text=True)


# --------------------------------------------------------------------------- the rep page

def visible_rep(app, with_focus=True, role="isr") -> RepSnapshot:
    mine = reps_where(app, team=user(app, "manager").teams, role=role)
    return next(r for r in mine if bool(r.focus_gap) == with_focus)


def test_rep_page_shows_the_focus_and_the_conversation_button(app, client, auth):
    auth.login("manager")
    rep = visible_rep(app)
    r = client.get(f"/reps/{rep.rep_id}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    cat = app.extensions["fairway.catalog"]
    focus = rep.diagnosis["focus"]
    assert rep.name in html
    assert cat.behaviour_gaps[focus["behaviour_gap"]].title in html
    assert cat.skills[focus["skill_gap"]].title in html
    assert "This month&#39;s focus" in html or "This month's focus" in html
    for asset_id in focus["learning_assets"]:
        assert f'href="/catalog/assets/{asset_id}"' in html
    form = re.search(r'<form method="post" action="([^"]+)" class="fw-start">(.*?)</form>', html, re.S)
    assert form and form.group(1).endswith(f"/{rep.rep_id}")
    assert 'name="csrf_token"' in form.group(2) and "Start the monthly conversation" in form.group(2)
    assert "Success plan" in html
    assert_csp_clean(html)


def test_rep_page_of_a_closer_has_every_chart_with_its_numbers(app, client, auth):
    auth.login("manager")
    rep = visible_rep(app)
    html = client.get(f"/reps/{rep.rep_id}").get_data(as_text=True)
    parsed, data = numbers(html), fetched_chart_data(client, html)
    for chart_id in CLOSER_CHARTS:
        assert parsed.tables.get(chart_id, 0) > 1, f"{chart_id}: no numbers table"
        assert chart_id in data and chart_id in parsed.canvases, chart_id
    assert data["chart-pipeline"]["type"] == "pipeline"
    point = data["chart-pipeline"]["points"][0]
    assert {"id", "stage", "x", "y", "activities", "at_risk", "days_in_stage", "why"} <= set(point)
    assert len(data["chart-pipeline"]["points"]) == sum(1 for o in rep.charts["open_pipeline"] if o["expected_close"])
    # the seed's funnel table: count, % conversion to next, conversion % from top
    assert "% conversion to next" in html and "Conversion % from top" in html
    for row in rep.metrics["funnel"]:
        assert f"<td class=\"num\">{row['count']:,}</td>" in html


def test_rep_page_of_a_prospector_has_its_charts(app, client, auth):
    auth.login("manager")
    rep = reps_where(app, team=user(app, "manager").teams, role="bdr")[0]
    html = client.get(f"/reps/{rep.rep_id}").get_data(as_text=True)
    parsed, data = numbers(html), fetched_chart_data(client, html)
    for chart_id in PROSPECTOR_CHARTS:
        assert parsed.tables.get(chart_id, 0) > 1, chart_id
    assert "chart-pipeline" not in parsed.tables and "chart-pipeline" not in data
    assert set(data) <= set(parsed.canvases) and data


def test_rep_without_focus_says_so(app, client, auth):
    auth.login("manager")
    rep = visible_rep(app, with_focus=False)
    html = client.get(f"/reps/{rep.rep_id}").get_data(as_text=True)
    assert "Nothing to coach this month" in html
    assert "Start the monthly conversation" in html


def test_rep_of_another_team_is_not_found_for_the_manager(app, client, auth):
    auth.login("manager")
    other = next(r for r in reps_where(app) if r.team not in user(app, "manager").teams)
    assert client.get(f"/reps/{other.rep_id}").status_code == 404


def test_director_sees_reps_of_the_division_only(app, client, auth):
    auth.login("director")
    director = user(app, "director")
    inside = reps_where(app, division=director.divisions)[0]
    outside = next(r for r in reps_where(app) if r.division not in director.divisions)
    assert client.get(f"/reps/{inside.rep_id}").status_code == 200
    assert client.get(f"/reps/{outside.rep_id}").status_code == 404


def test_nonexistent_rep_is_not_found(client, auth):
    auth.login("manager")
    assert client.get("/reps/R9999").status_code == 404
    assert client.get("/reps/%3Cscript%3E").status_code == 404


def test_names_from_the_data_are_escaped(app, client, auth):
    hostile = '<script>alert("x")</script>'
    rep = visible_rep(app)
    with app.app_context():
        db.session.execute(db.update(RepSnapshot).where(RepSnapshot.id == rep.id).values(name=hostile))
        db.session.commit()
    auth.login("manager")
    for page in ("/team/", f"/reps/{rep.rep_id}"):
        html = client.get(page).get_data(as_text=True)
        assert hostile not in html, page
        assert "&lt;script&gt;alert" in html, page
        assert_csp_clean(html)


# --------------------------------------------------------------------------- at scale: teams first, then reps a page at a time

def test_a_large_scope_sees_its_teams_first_summed_from_the_snapshots(app, client, auth):
    app.config["FAIRWAY_TEAM_PAGE_REPS"] = 10          # the seeded org's division is "large" here
    auth.login("director")
    html = client.get("/team/").get_data(as_text=True)
    director = user(app, "director")
    inside = reps_where(app, division=director.divisions)
    teams = sorted({r.team for r in inside})
    assert rep_links(html) == set(), "the summary lists teams, not reps"
    listed = re.findall(r'<a href="/team/\?team=([^"]+)">', html)
    assert sorted(listed) == teams
    for team in teams:
        members = [r for r in inside if r.team == team]
        row = re.search(rf'team={re.escape(team)}">.*?</tr>', html, re.S).group(0)
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells[:2] == [str(len(members)), str(sum(1 for r in members if r.focus_gap))], team
        progress = [r.goal_progress for r in members if r.goal_progress is not None]
        expected = f"{round(100 * sum(progress) / len(progress))}%" if progress else "n/a"
        assert cells[2] == expected, team
    assert f">{len(inside)}<" in html and f"reps in {len(teams)} teams" in html
    assert_csp_clean(html)
    one = client.get(f"/team/?team={teams[0]}").get_data(as_text=True)
    assert rep_links(one) == {r.rep_id for r in inside if r.team == teams[0]}
    assert 'href="/team/">All teams</a>' in one


def test_the_stored_progress_is_each_reps_progress_toward_activity_goals(app):
    from web.reps.charts import activity_progress
    reps = reps_where(app)
    assert any(r.goal_progress is not None for r in reps)
    for r in reps:
        assert r.goal_progress == activity_progress((r.metrics or {}).get("goals") or {}), r.rep_id


def test_a_long_team_comes_a_page_at_a_time(app, client, auth, monkeypatch):
    import web.team.routes as team_routes
    monkeypatch.setattr(team_routes, "REPS_PER_PAGE", 4)
    auth.login("admin")
    everyone = reps_where(app)
    seen: list[str] = []
    page = 1
    while True:
        html = client.get(f"/team/?page={page}").get_data(as_text=True)
        links = rep_links(html)
        assert 0 < len(links) <= 4
        seen += sorted(links)
        if 'rel="next"' not in html:
            break
        assert f"Page {page} of" in html
        page += 1
    assert sorted(seen) == sorted(r.rep_id for r in everyone) and len(seen) == len(set(seen))
    assert page == -(-len(everyone) // 4)
    assert client.get("/team/?page=0").status_code == 200          # a page that does not fit: the first
    assert rep_links(client.get("/team/?page=999").get_data(as_text=True)) == set()


def test_the_rep_chart_data_is_the_reps_own_and_in_scope_only(app, client, auth):
    auth.login("manager")
    mine = visible_rep(app)
    other = next(r for r in reps_where(app) if r.team not in user(app, "manager").teams)
    data = client.get(f"/reps/{mine.rep_id}/charts").get_json()
    assert data["chart-goals"]["type"] == "goals"
    assert client.get(f"/reps/{other.rep_id}/charts").status_code == 404


def test_the_one_on_ones_list_its_reps_a_page_at_a_time(app, client, auth, monkeypatch):
    import web.coach.routes as coach_routes
    monkeypatch.setattr(coach_routes, "REPS_PER_PAGE", 15)
    auth.login("admin")
    first = client.get("/coach/").get_data(as_text=True)
    assert len(rep_links(first)) == 15 and "Page 1 of 3" in first and 'rel="next"' in first
    pages = [rep_links(client.get(f"/coach/?page={n}").get_data(as_text=True)) for n in (1, 2, 3)]
    assert set().union(*pages) == {r.rep_id for r in reps_where(app)} and sum(map(len, pages)) == 40
    assert rep_links(client.get("/coach/?page=x").get_data(as_text=True)) == pages[0]


def test_the_current_dataset_is_read_once_a_request_and_forgotten_when_another_is_made_current(app):
    from datetime import date

    from sqlalchemy import event

    from web.security import current_dataset, rep_or_404
    from web.store import make_current
    rep_id = reps_where(app)[0].rep_id
    with app.test_request_context():
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            first = current_dataset()
            assert current_dataset() is first
            snapshot = rep_or_404(rep_id, user=db.session.execute(
                db.select(User).where(User.role == "admin")).scalars().first())
            before = len(statements)
            assert snapshot.dataset is first and len(statements) == before, "the snapshot's dataset: no second query"
            other = Dataset(name="Another", source="test", folder="another", period="2026-01",
                            as_of=date(2026, 1, 31), catalog_version=first.catalog_version, summary={})
            db.session.add(other)
            db.session.flush()
            make_current(other)
            assert current_dataset().id == other.id
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            db.session.rollback()
