"""The catalog's owners at work, in a real browser: ops raises min_gap, sees what it would
change, is stopped by the catalog's own tests, fixes them, publishes, and the manager's team
page changes; a trainer writes a learning asset for a root cause, and the manager's
one-on-one offers it. Screenshots of the draft, the preview and the history go to
test-artifacts/e2e/."""
from __future__ import annotations

import re

import pytest

from browser_support import browser_tab, serving, shot, sign_in
from engine.catalog.overrides import parse_override
from engine.dataset import load_dataset
from engine.diagnosis.whatif import whatif
from helpers import PASSWORDS, web_config
from web.extensions import db
from web.models import Dataset, RepSnapshot, User
from web.store import dataset_folder

pytestmark = pytest.mark.e2e

# An org whose manager leads a rep with a proposal drop-off of 39.9%: a min_gap of 40% is
# what it takes to stop coaching it, and two of the catalog's tests assume smaller gaps.
SEED, REPS, MIN_GAP = 4, 40, 0.4


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A demo instance of its own (the catalog changes here), served on a free loopback port."""
    from web import create_app
    from web.demo import init_db, seed_demo
    instance = tmp_path_factory.mktemp("e2e-authoring")
    app = create_app(web_config(instance))
    init_db(app)
    seed_demo(app, instance / "org", reps=REPS, months=12, seed=SEED, end="2026-10", passwords=PASSWORDS)
    with serving(instance, app) as live:
        yield live


@pytest.fixture
def page(browser, server, request):
    with browser_tab(browser, server["url"], request.node.name) as pg:
        yield pg


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))


def managers_reps(app):
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        reps = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id,
                                                               RepSnapshot.team.in_(manager.teams))
                                  .order_by(RepSnapshot.rep_id)).scalars().all()
        for r in reps:
            db.session.expunge(r)
        return reps, dataset_folder(ds), ds.period


def focus_count(page) -> int:
    """Reps of the team page with a focus this month."""
    return page.locator("td.fw-focus-cell .fw-focus-gap").count()


def test_ops_raises_min_gap_previews_publishes_and_the_team_page_changes(page, server):
    app = server["app"]
    reps, folder, period = managers_reps(app)
    catalog = app.extensions["fairway.catalog"]
    expected = whatif(load_dataset(folder, catalog.pipeline), catalog, [parse_override(f"min_gap={MIN_GAP}")], period)
    mine = [c for c in expected.changed if c.rep_id in {r.rep_id for r in reps}]
    assert mine, "the change reaches a rep of the manager's teams"

    sign_in(page, "manager")
    page.goto(page.base_url + "/team/")
    before = focus_count(page)
    row = page.locator("tr", has=page.get_by_role("link", name=mine[0].name)).first
    assert row.locator(".fw-focus-gap").count() == 1
    sign_out(page)

    sign_in(page, "ops")
    page.goto(page.base_url + "/catalog/draft")
    page.get_by_role("button", name=re.compile("Start a draft from version 1")).click()
    page.get_by_role("link", name="Thresholds (form)").click()
    page.fill("input[name=min_gap]", str(MIN_GAP))
    page.get_by_role("button", name="Save in my draft").click()
    page.wait_for_url(re.compile(r"/catalog/draft/thresholds$"))
    assert "Saved the thresholds in your draft" in page.inner_text("main")
    page.goto(page.base_url + "/catalog/draft")
    assert "+min_gap: 0.4" in page.inner_text("main")
    shot(page, "catalog-draft")

    page.get_by_role("link", name="Preview on this month's data").click()
    page.wait_for_url(re.compile(r"/catalog/draft/preview$"))
    stat = page.locator(".stat", has_text="reps whose focus changes").locator(".stat-value").inner_text()
    assert int(stat) == len(expected.changed)
    assert mine[0].name not in page.inner_text("main")          # ops sees counts, not reps
    shot(page, "catalog-preview")

    page.goto(page.base_url + "/catalog/draft")
    page.fill("textarea[name=message]", "Raise min_gap to 40%: coach only gaps worth a month")
    page.get_by_role("button", name="Check, test and publish").click()
    body = page.inner_text("main")
    assert "Not published" in body and "catalog tests failed" in body and "Nancy converts demos" in body
    shot(page, "catalog-publish-refused")

    # the tests assumed gaps smaller than the new minimum: ops makes them state larger ones
    page.goto(page.base_url + "/catalog/draft/files/rules/tests/closing.yaml")
    text = page.input_value("textarea[name=text]")
    text = text.replace("demo_dropoff: {value: 0.53,", "demo_dropoff: {value: 0.45,", 1)
    text = text.replace("proposal_dropoff: {value: 0.45, benchmark: 0.75", "proposal_dropoff: {value: 0.40, benchmark: 0.75", 1)
    page.fill("textarea[name=text]", text)
    page.get_by_role("button", name="Save in my draft").click()
    page.wait_for_url(re.compile(r"/files/rules/tests/closing.yaml$"))

    page.goto(page.base_url + "/catalog/draft")
    page.fill("textarea[name=message]", "Raise min_gap to 40%: coach only gaps worth a month")
    page.get_by_role("button", name="Check, test and publish").click()
    page.wait_for_url(re.compile(r"/catalog/versions/2$"))
    assert "Published version 2" in page.inner_text("main")
    page.get_by_role("navigation", name="Catalog").get_by_role("link", name="History").click()
    page.wait_for_url(re.compile(r"/catalog/versions$"))
    assert "Raise min_gap to 40%" in page.inner_text("main")
    shot(page, "catalog-history")
    sign_out(page)

    sign_in(page, "manager")
    page.goto(page.base_url + "/team/")
    assert focus_count(page) == before - len(mine)
    row = page.locator("tr", has=page.get_by_role("link", name=mine[0].name)).first
    assert row.locator(".fw-focus-gap").count() == 0
    shot(page, "catalog-team-after")
    # the one refused publish answered 422 (Chromium logs it); nothing else went wrong
    assert [e for e in page.js_errors if "favicon" not in e and "422" not in e] == []
    assert sum("422" in e for e in page.js_errors) == 1


def test_a_trainer_adds_an_asset_links_it_and_a_managers_plan_offers_it(page, server):
    reps, _, _ = managers_reps(server["app"])
    rep = next(r for r in reps if r.focus_skill)
    sign_in(page, "trainer")
    page.goto(page.base_url + "/catalog/draft")
    start = page.get_by_role("button", name=re.compile("Start a draft"))
    if start.count():
        start.click()
    page.get_by_role("link", name="New learning asset").click()
    page.fill("input[name=id]", "call-the-decision-maker")
    page.fill("input[name=title]", "Call the decision maker first")
    page.select_option("select[name=kind]", "microlearning")
    page.fill("input[name=minutes]", "12")
    page.select_option("select[name=addresses]", [rep.focus_skill])
    page.select_option("select[name=roles]", [rep.role])
    page.fill("textarea[name=summary]", "Who signs, and how to reach them before the proposal.")
    page.fill("textarea[name=body]", "# Call the decision maker first\n\n1. Ask who signs.\n2. Ask to meet them.\n")
    page.get_by_role("button", name="Save in my draft").click()
    page.wait_for_url(re.compile(r"/catalog/draft/assets/call-the-decision-maker$"))
    assert page.locator(".markdown.preview h1").inner_text() == "Call the decision maker first"
    shot(page, "catalog-asset")
    page.goto(page.base_url + "/catalog/draft")
    page.fill("textarea[name=message]", f"A microlearning for {rep.focus_skill}")
    page.get_by_role("button", name="Check, test and publish").click()
    page.wait_for_url(re.compile(r"/catalog/versions/\d+$"))
    sign_out(page)

    sign_in(page, "manager")
    page.goto(f"{page.base_url}/reps/{rep.rep_id}")
    assert "Call the decision maker first" in page.inner_text("main")
    page.get_by_role("button", name=re.compile("Start the monthly conversation")).click()
    page.wait_for_url(re.compile(r"/reflection$"))
    page.fill("textarea[name=how_it_went]", "Proposals go quiet.")
    page.click("[name=next]")
    page.wait_for_url(re.compile(r"/goals$"))
    page.click("[name=next]")
    page.wait_for_url(re.compile(r"/gap$"))
    page.click("[name=next]")
    for _ in range(12):
        if "/questions" not in page.url:
            break
        page.locator("input[name=answer]").first.check()
        page.click("[name=next]")
        page.wait_for_load_state("networkidle")
    assert page.url.endswith("/causes")
    page.check(f"input[name=skill][value={rep.focus_skill}]")
    page.click("[name=next]")
    page.wait_for_url(re.compile(r"/actions$"))
    offered = [page.input_value(f"#{i.get_attribute('id')}") for i in page.locator("input[name$='-title']").all()]
    assert "Call the decision maker first" in offered
    shot(page, "catalog-asset-offered")
    assert [e for e in page.js_errors if "favicon" not in e] == []
