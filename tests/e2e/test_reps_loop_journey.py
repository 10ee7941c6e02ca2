"""Reps in the loop, in a real browser: a rep signs in on a phone-width screen, does the
pre-work; the manager holds the conversation that opens with it; the rep reads and acknowledges
the plan and completes an assignment with evidence; the manager sees it. Every main page of every
role at 390 px: no page wider than the screen, and axe-core finds no serious or critical violation.
Screenshots at 390 and 1366 px in test-artifacts/e2e/."""
from __future__ import annotations

import json
import re

import pytest

from browser_support import ARTIFACTS, browser_tab, hold_conversation, serving, shot, sign_in
from helpers import copy_instance
from web.extensions import db
from web.models import Assignment, CoachingPlan, RepSnapshot, User

pytestmark = pytest.mark.e2e

PHONE, LAPTOP = 390, 1366
EVIDENCE = "Recorded 2 discovery calls: https://calls.example.com/rec/42"


@pytest.fixture(scope="module")
def loop_server(seeded_instance, tmp_path_factory):
    """A demo instance of its own (a copy): this journey holds the month's conversation with the demo rep."""
    with serving(copy_instance(seeded_instance, tmp_path_factory.mktemp("reps-loop"))) as live:
        yield live


def axe_check(page, name: str) -> None:
    """axe-core (bundled by axe-playwright-python, injected into the page) finds nothing serious."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page).response
    bad = [{"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]]}
           for v in results["violations"] if v["impact"] in ("serious", "critical")]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(
        {"url": page.url, "violations": [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])}
                                         for v in results["violations"]]}, indent=1))
    assert bad == [], f"{name} ({page.url}): {json.dumps(bad, indent=1)}"


def fits(page, width: int) -> None:
    """Nothing wider than the screen: wide tables scroll inside their card, never the page."""
    page.wait_for_load_state("networkidle")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 6).map(e => e.tagName.toLowerCase() + '.' + e.className)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (page.url, wide)


def both_widths(page, name: str) -> None:
    """A screenshot at phone width and at laptop width, and the page as it was."""
    for width in (PHONE, LAPTOP):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        if width == PHONE:
            fits(page, PHONE)
        shot(page, f"reps-loop-{name}-{width}")
    page.set_viewport_size({"width": PHONE, "height": 900})


def the_rep(app) -> RepSnapshot:
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == "rep")).scalar_one()
        rep = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.rep_id == user.rep_id)
                                 .order_by(RepSnapshot.dataset_id.desc())).scalars().first()
        db.session.expunge(rep)
        return rep


def test_a_rep_and_a_manager_prepare_hold_and_follow_up_a_one_on_one(browser, loop_server):
    rep = the_rep(loop_server["app"])
    with browser_tab(browser, loop_server["url"], "reps-loop-rep") as r, \
            browser_tab(browser, loop_server["url"], "reps-loop-manager") as m:
        r.set_viewport_size({"width": PHONE, "height": 900})
        # the rep signs in on a phone: their own month, the navigation behind Menu
        sign_in(r, "rep")
        assert r.url.endswith(f"/reps/{rep.rep_id}")
        assert r.locator("#mainnav").is_hidden()
        r.get_by_role("button", name="Menu").click()
        assert r.get_by_role("link", name="Pre-work", exact=True).is_visible()
        r.get_by_role("button", name="Menu").click()
        fits(r, PHONE)
        axe_check(r, "rep-page")
        both_widths(r, "rep-page")

        # the pre-work
        r.get_by_role("link", name="Do my pre-work").click()
        r.wait_for_url(re.compile(r"/me/prework$"))
        r.fill("textarea[name=how_it_went]", "A slow start, then three proposals in the last week.")
        r.fill("textarea[name=went_well]", "Discovery calls booked early.")
        r.fill("textarea[name=to_improve]", "Getting proposals signed.")
        r.fill("textarea[name=goals_note]", "Reach the revenue goal: it would mean the team lead role.")
        axe_check(r, "prework")
        both_widths(r, "prework")
        r.get_by_role("button", name="Save my pre-work").click()
        r.wait_for_url(re.compile(rf"/reps/{rep.rep_id}$"))
        assert "pre-work is saved" in r.inner_text("main")

        # the manager holds the conversation: it opens with the rep's answers
        m.set_viewport_size({"width": LAPTOP, "height": 900})
        sign_in(m, "manager")
        m.goto(f"{m.base_url}/reps/{rep.rep_id}")
        assert "pre-work is in" in m.inner_text("main")
        m.get_by_role("button", name=re.compile("Start the monthly conversation")).click()
        m.wait_for_url(re.compile(r"/coach/\d+/reflection"))

        def reflection(m):
            assert m.input_value("textarea[name=how_it_went]") == \
                "A slow start, then three proposals in the last week."
            m.fill("textarea[name=to_improve]", "Getting proposals signed, and asking for the close.")
            axe_check(m, "manager-reflection")
            shot(m, f"reps-loop-manager-reflection-{LAPTOP}")

        def goals(m):
            assert "team lead role" in m.input_value("textarea[name=goals_note]")
        hold_conversation(m, "Ask for the close in every proposal meeting.",
                          {"reflection": reflection, "goals": goals})

        # the rep sees the manager's edit, reads the plan, acknowledges it, completes an assignment
        r.goto(f"{r.base_url}/me/prework")
        assert "asking for the close" in r.inner_text("main")
        r.goto(f"{r.base_url}/me/")
        r.get_by_role("link", name="Read the agreed plan").click()
        r.wait_for_url(re.compile(r"/me/plans/\d+$"))
        plan_id = int(r.url.rsplit("/", 1)[1])
        axe_check(r, "shared-plan")
        both_widths(r, "shared-plan")
        r.get_by_role("button", name="I have read the plan and agree to it").click()
        r.wait_for_url(re.compile(r"/me/plans/\d+$"))
        assert "acknowledged" in r.inner_text("main")
        with loop_server["app"].app_context():
            plan = db.session.get(CoachingPlan, plan_id)
            assert plan.acknowledged_at is not None
            task = min(plan.assignments, key=lambda a: (a.kind != "selling", a.id))
            task_id, task_title = task.id, task.title
        r.fill(f"#evidence-{task_id}", EVIDENCE)
        r.locator(f"form[action$='/me/assignments/{task_id}/complete'] button").click()
        r.wait_for_url(re.compile(r"/me/plans/\d+$"))
        assert "marked done" in r.inner_text("main")
        r.emulate_media(media="print")                              # printed (or saved as PDF): the plan only
        forms = r.locator("form")
        assert r.locator(".topbar").is_hidden() and all(forms.nth(i).is_hidden() for i in range(forms.count()))
        assert r.locator("#plan-what").is_visible()
        r.emulate_media(media="screen")
        both_widths(r, "shared-plan-done")

        # the manager sees the acknowledgement, the completion and the evidence
        m.goto(f"{m.base_url}/archive/plan/{plan_id}")
        text = m.inner_text("main")
        assert "acknowledged by the rep on" in text and "Recorded 2 discovery calls" in text
        link = m.get_by_role("link", name="https://calls.example.com/rec/42")
        assert link.get_attribute("href") == "https://calls.example.com/rec/42"
        axe_check(m, "manager-plan")
        shot(m, f"reps-loop-manager-plan-{LAPTOP}")
        m.goto(f"{m.base_url}/assignments/")
        assert task_title in m.inner_text("main") and "Recorded 2 discovery calls" in m.inner_text("main")
        with loop_server["app"].app_context():
            assert db.session.get(Assignment, task_id).status == "completed"
        assert [e for e in r.js_errors + m.js_errors if "favicon" not in e] == []


MAIN_PAGES = {
    "rep": ["/me/", "/me/prework", "/catalog/"],
    "manager": ["/team/", "/coach/", "/assignments/", "/archive/", "/coaching/effectiveness", "/reports/"],
    "director": ["/rollup/", "/team/"],
    "admin": ["/admin/users", "/admin/datasets", "/rollup/"],
    "enablement": ["/catalog/", "/catalog/behaviour"],
    "ops": ["/catalog/thresholds"],
    "trainer": ["/catalog/library"],
}


@pytest.mark.parametrize("role", list(MAIN_PAGES))
def test_main_pages_fit_a_phone_and_pass_axe(browser, loop_server, role):
    with browser_tab(browser, loop_server["url"]) as pg:
        pg.set_viewport_size({"width": PHONE, "height": 900})
        sign_in(pg, role)
        for path in MAIN_PAGES[role]:
            response = pg.goto(pg.base_url + path)
            assert response.status == 200, path
            fits(pg, PHONE)
            axe_check(pg, f"{role}-{path.strip('/').replace('/', '-') or 'home'}")
        shot(pg, f"reps-loop-{role}-{PHONE}")


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took the focus with Tab on {page.url}")


def enter(page) -> None:
    """Enter on the focused button: the form is sent, and the next page loaded."""
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")


def test_the_whole_conversation_by_keyboard_only(browser, loop_server):
    """No mouse: the manager tabs to each field and button of every step, from the rep's page to the plan."""
    app = loop_server["app"]
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        me = db.session.execute(db.select(User.rep_id).where(User.username == "rep")).scalar_one()
        rep = db.session.execute(db.select(RepSnapshot).where(
            RepSnapshot.team.in_(manager.teams), RepSnapshot.focus_gap.is_not(None), RepSnapshot.rep_id != me)
            .order_by(RepSnapshot.rep_id)).scalars().first()
        rep_id = rep.rep_id
    with browser_tab(browser, loop_server["url"], "reps-loop-keyboard") as pg:
        pg.set_viewport_size({"width": LAPTOP, "height": 900})
        sign_in(pg, "manager")
        pg.goto(f"{pg.base_url}/reps/{rep_id}")
        tab_to(pg, "a.skip-link")
        tab_to(pg, "form[action*='/coach/start/'] button")
        enter(pg)
        assert pg.url.endswith("/reflection")
        tab_to(pg, "textarea[name=how_it_went]")
        pg.keyboard.type("Typed without a mouse.")
        for step in ("reflection", "goals", "gap"):
            assert pg.url.endswith(f"/{step}")
            tab_to(pg, "[name=next]")
            enter(pg)
        asked = 0
        while "/questions" in pg.url:
            asked += 1
            tab_to(pg, "input[name=answer]")
            pg.keyboard.press("Space")                      # the focused answer, chosen
            tab_to(pg, "[name=next]")
            enter(pg)
            assert asked < 12
        assert pg.url.endswith("/causes")
        for expected in ("/actions", "/plan", "/done"):
            tab_to(pg, "[name=next]")
            enter(pg)
            assert pg.url.endswith(expected), pg.url
        assert rep.name in pg.inner_text("main")
        with app.app_context():
            assert db.session.execute(db.select(CoachingPlan.id).where(CoachingPlan.rep_id == rep_id)).first()
