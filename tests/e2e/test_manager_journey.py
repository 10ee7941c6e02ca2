"""A manager in a real browser: sign in, open a rep, check the charts drew, walk the whole
conversation to a saved plan with assignments, and find it in the archive."""
from __future__ import annotations

import re

import pytest

from browser_support import shot, sign_in
from web.extensions import db
from web.models import RepSnapshot, User

pytestmark = pytest.mark.e2e


def rep_with_focus(app) -> RepSnapshot:
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        rep = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.team.in_(manager.teams),
                                                             RepSnapshot.focus_gap.is_not(None))
                                 .order_by(RepSnapshot.rep_id)).scalars().first()
        assert rep is not None, "the seeded demo gives the manager a rep to coach"
        return rep


def wait_for_charts(page) -> int:
    canvases = page.locator("canvas")
    n = canvases.count()
    assert n >= 4
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every(c => c.dataset.drawn === '1')", timeout=15000)
    return n


def real_errors(page) -> list[str]:
    return [e for e in page.js_errors if "favicon" not in e]


def test_manager_coaches_a_rep_from_the_charts_to_a_saved_plan(page, live_server):
    rep = rep_with_focus(live_server["app"])
    sign_in(page, "manager")
    assert page.url.endswith("/team/")
    assert page.get_by_role("link", name=rep.name).first.is_visible()
    wait_for_charts(page)
    shot(page, "01-team")

    page.get_by_role("link", name=rep.name).first.click()
    page.wait_for_url(re.compile(rf"/reps/{rep.rep_id}$"))
    drawn = wait_for_charts(page)
    assert drawn >= 6
    page.locator("details.numbers summary").first.click()
    assert page.locator("details.numbers[open] table").first.is_visible()
    shot(page, "02-rep")

    page.get_by_role("button", name=re.compile("Start the monthly conversation")).click()
    page.wait_for_url(re.compile(r"/coach/\d+/reflection"))
    page.fill("textarea[name=how_it_went]", "A slow month: many demos, few deals moving on.")
    page.fill("textarea[name=went_well]", "Discovery calls booked early in the month.")
    page.fill("textarea[name=to_improve]", "Getting deals past the demo.")
    shot(page, "03-reflection")
    page.click("[name=next]")

    page.wait_for_url(re.compile(r"/goals$"))
    page.fill("textarea[name=goals_note]", "Wants to reach the revenue goal for the first time this quarter.")
    shot(page, "04-goals")
    page.click("[name=next]")

    page.wait_for_url(re.compile(r"/gap$"))
    shot(page, "05-gap")
    page.click("[name=next]")

    asked = 0
    while "/questions" in page.url:
        asked += 1
        page.locator("input[name=answer]").first.check()
        if asked == 1:
            shot(page, "06-question")
        page.click("[name=next]")
        page.wait_for_load_state("networkidle")
        assert asked < 12
    assert asked >= 2

    assert page.url.endswith("/causes")
    assert page.locator("input[name=skill]:checked").count() == 1     # the top cause, preselected
    shot(page, "07-causes")
    page.click("[name=next]")

    page.wait_for_url(re.compile(r"/actions$"))
    shot(page, "08-actions")
    page.click("[name=next]")

    page.wait_for_url(re.compile(r"/plan$"))
    if not page.input_value("textarea[name=how]"):
        page.fill("textarea[name=how]", "Qualify before every demo; review two recorded demos together.")
    shot(page, "09-plan")
    page.click("[name=next]")

    page.wait_for_url(re.compile(r"/done$"))
    body = page.inner_text("main")
    assert rep.name in body
    shot(page, "10-done")

    page.goto(page.base_url + "/archive/")
    assert rep.name in page.inner_text("main")
    shot(page, "11-archive")
    page.goto(page.base_url + "/assignments/")
    text = page.inner_text("main")
    assert rep.name in text
    shot(page, "12-assignments")
    assert real_errors(page) == []


def test_a_manager_cannot_open_another_teams_rep(page, live_server):
    app = live_server["app"]
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        other = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.team.not_in(manager.teams))).scalars().first()
        other_id, other_name = other.rep_id, other.name
    sign_in(page, "manager")
    response = page.goto(f"{page.base_url}/reps/{other_id}")     # typed in the address bar
    assert response.status == 404
    assert other_name not in page.content()


def test_a_trainer_reads_a_learning_asset_in_the_app(page, live_server):
    sign_in(page, "trainer")
    catalog = live_server["app"].extensions["fairway.catalog"]
    asset = next(a for a in catalog.assets.values() if a.file)
    page.goto(f"{page.base_url}/catalog/assets/{asset.id}")
    assert page.locator("main h1").first.inner_text().strip() != ""
    assert asset.title.split(":")[0] in page.inner_text("main")
    shot(page, "20-asset")
    assert real_errors(page) == []
    assert page.goto(page.base_url + "/team/").status == 403      # no rep data for trainers
