"""A manager's month and a director's roll-up in a real browser: import month 1, hold a
one-on-one (the charts beside it, a draft kept on leaving), import month 2, see the
follow-up due on data, close the plan on data, find it in what works; the director's
roll-up and a team's drill-down; the progress report. Screenshots in test-artifacts/e2e/."""
from __future__ import annotations

import re
import shutil

import pytest

from browser_support import browser_tab, hold_conversation, serving, shot, sign_in
from helpers import copy_instance
from web.coach.wizard import to_input
from web.extensions import db
from web.models import CoachingPlan, Dataset, RepSnapshot, User

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(seeded_instance, tmp_path_factory):
    """An instance of its own (a copy: this test changes the current dataset), served in a thread."""
    instance = copy_instance(seeded_instance, tmp_path_factory.mktemp("rhythm-e2e"))
    shutil.copytree(instance / "org", instance / "imports" / "crm-export")
    with serving(instance) as live:
        yield live


@pytest.fixture
def tab(browser, server):
    with browser_tab(browser, server["url"]) as pg:
        yield pg


def sign_out(tab):
    tab.click("button:has-text('Sign out')")
    tab.wait_for_url(re.compile(r"/login"))


def import_month(tab, month: str):
    tab.goto(tab.base_url + "/admin/datasets/folder")
    tab.select_option("select[name=folder]", "crm-export")
    tab.fill("input[name=period]", month)
    tab.fill("input[name=name]", f"CRM export {month}")
    tab.click("main form button[type=submit]")
    tab.wait_for_url(re.compile(r"/admin/jobs/\d+$"))          # the import runs in the job queue
    tab.locator(".badge-job-succeeded").wait_for(timeout=120000)  # the page follows it by itself
    assert month in tab.inner_text("main")


def the_rep(app):
    """A closer of the manager's with a focus whose KPI has a value in October."""
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        snaps = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id,
                                                                RepSnapshot.team.in_(manager.teams),
                                                                RepSnapshot.focus_gap.is_not(None))
                                   .order_by(RepSnapshot.rep_id)).scalars().all()
        cat = app.extensions["fairway.catalog"]
        for s in snaps:
            metric = cat.behaviour_gaps[s.focus_gap].metric
            value = ((s.metrics["metrics"].get(metric)) or {}).get("value")
            if value is not None:
                return {"rep_id": s.rep_id, "name": s.name, "metric": metric,
                        "october": to_input(cat, metric, value)}
    pytest.fail("no rep of the manager's with a focus and a KPI value")


def test_a_managers_month_then_the_directors_roll_up(tab, server):
    app = server["app"]
    rep = the_rep(app)

    # month 1: the admin imports September
    sign_in(tab, "admin")
    assert tab.url.endswith("/rollup/")
    import_month(tab, "2026-09")
    sign_out(tab)

    # day 1: the manager's month
    sign_in(tab, "manager")
    tab.goto(tab.base_url + "/coach/")
    assert "reviewing september 2026" in tab.inner_text("main").lower()
    row = tab.locator(f"tr[data-rep='{rep['rep_id']}']")
    if "Not started" not in row.inner_text():
        pytest.skip("the rep has no focus in September")
    shot(tab, "rhythm-01-cadence-day1")
    row.get_by_role("button", name="Start one-on-one").click()
    tab.wait_for_url(re.compile(r"/coach/\d+/reflection"))
    session_url = tab.url.rsplit("/", 1)[0]

    def reflection(tab):
        tab.fill("textarea[name=how_it_went]", "A slow month, deals stuck after the demo.")
        tab.click("button[name=leave]")                          # leave: what was typed is kept
        tab.wait_for_url(re.compile(r"/coach/$"))
        assert "In progress" in tab.locator(f"tr[data-rep='{rep['rep_id']}']").inner_text()
        tab.goto(session_url + "/reflection")
        assert tab.input_value("textarea[name=how_it_went]") == "A slow month, deals stuck after the demo."

    def goals(tab):
        tab.click("#rep-charts > summary")                       # the charts beside the conversation
        tab.wait_for_function("() => [...document.querySelectorAll('#rep-charts canvas')]"
                              ".every(c => c.dataset.drawn === '1')", timeout=15000)
        assert tab.locator("#rep-charts canvas").count() >= 4
        shot(tab, "rhythm-02-conversation-charts-panel")
        tab.click("#rep-charts > summary")

    def plan(tab):
        assert tab.input_value("select[name=baseline_metric]") == rep["metric"]
        tab.fill("input[name=target_value]", str(rep["october"]))   # a target the October data reaches
    hold_conversation(tab, "Qualify before every demo.", {"reflection": reflection, "goals": goals, "plan": plan})
    tab.goto(tab.base_url + "/coach/")
    assert "Plan agreed" in tab.locator(f"tr[data-rep='{rep['rep_id']}']").inner_text()
    sign_out(tab)

    # month 2: October comes in; the plan's KPI is measured on it
    sign_in(tab, "admin")
    import_month(tab, "2026-10")
    sign_out(tab)
    sign_in(tab, "manager")
    tab.goto(tab.base_url + "/coach/")
    text = tab.locator(f"tr[data-rep='{rep['rep_id']}']").inner_text()
    assert "follow-up due" in text and "target reached" in text
    shot(tab, "rhythm-03-cadence-followups")
    with app.app_context():
        plan_id = db.session.execute(db.select(CoachingPlan.id).where(CoachingPlan.rep_id == rep["rep_id"],
                                                                      CoachingPlan.month == "2026-09")).scalar_one()
    tab.goto(f"{tab.base_url}/archive/plan/{plan_id}")
    assert "October 2026" in tab.inner_text("main")
    tab.check("input[name=status][value=achieved]")
    tab.click("input[name=submit], button[name=submit]")
    tab.wait_for_load_state("networkidle")
    assert "on data" in tab.inner_text("main")
    with app.app_context():
        p = db.session.get(CoachingPlan, plan_id)
        assert p.status == "achieved" and p.closed_on_data and p.override_reason == ""
        skill = p.skill_id
    tab.goto(f"{tab.base_url}/archive/skill/{skill}")
    main = tab.inner_text("main")
    assert "What works" in main and "n = 1 plan closed on data" in main
    assert rep["name"] in main[main.index("Who overcame it"):]
    shot(tab, "rhythm-04-what-works")
    tab.goto(tab.base_url + "/reports/?by=team&grain=week")
    assert "The full funnel" in tab.inner_text("main")
    shot(tab, "rhythm-06-report")
    assert [e for e in tab.js_errors if "favicon" not in e] == []
    sign_out(tab)

    # day 2: the director's roll-up
    sign_in(tab, "director")
    assert tab.url.endswith("/rollup/")
    assert "Teams compared" in tab.inner_text("main")
    shot(tab, "rhythm-05-rollup")
    tab.locator("#teams a").first.click()
    tab.wait_for_url(re.compile(r"/rollup/teams/"))
    assert "What skill" in tab.inner_text("main")
    shot(tab, "rhythm-05b-rollup-team")
    tab.goto(tab.base_url + "/coaching/effectiveness")
    assert "Are managers coaching?" in tab.inner_text("main")
    shot(tab, "rhythm-07-effectiveness")
    assert [e for e in tab.js_errors if "favicon" not in e] == []
