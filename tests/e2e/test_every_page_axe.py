"""Every page each role can reach, in a real browser at phone width: found by following the
links of the app from the role's landing page (one page per kind of address: the first rep,
plan or version of each list stands for the others), each answered 200, no wider than the
screen, and with no serious or critical WCAG 2.1 AA violation found by axe-core."""
from __future__ import annotations

import json
import re
from urllib.parse import urldefrag, urlparse

import pytest

from browser_support import ARTIFACTS, browser_tab, serving, sign_in
from helpers import PASSWORDS, copy_instance

pytestmark = pytest.mark.e2e

PHONE = 390
MAX_PAGES = 80                     # a bound: no role has that many kinds of page
# never followed: signing out, files and JSON to download, the API, what only a form should post
SKIP = re.compile(r"^/(logout|static/|vendor/|api/)|\.(csv|zip|json|md)$|/(export|download)\b|/charts$")
# parts of an address that name one item of a list: /reps/R0001, /coach/12/goals, /catalog/versions/3, and
# below two levels any name with a separator: /catalog/behaviour/demo_dropoff, /catalog/assets/objections-laer
ITEM = re.compile(r"^(R\d+|\d+|[0-9a-f]{12,})$")
NAME = re.compile(r"[-_.]")


def kind_of(path: str) -> str:
    return "/".join(":id" if ITEM.match(part) or (i >= 3 and NAME.search(part)) else part
                    for i, part in enumerate(path.split("/")))


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page).response
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]][:5]}
            for v in results["violations"]]


def settle(page) -> None:
    """Wait for what the page still loads once its load event has fired (goto waits for it): the charts'
    data (charts.js fetches it at DOMContentLoaded, and draws when it comes), the only request a page
    makes by itself before its first second (jobs.js polls after one). Waiting for the network to be idle
    costs half a second on every page; only a page with charts to fetch needs it."""
    if page.locator("#chart-data[data-src]").count():
        page.wait_for_load_state("networkidle")


@pytest.fixture(scope="module")
def crawl_server(seeded_instance, tmp_path_factory):
    with serving(copy_instance(seeded_instance, tmp_path_factory.mktemp("every-page"))) as live:
        yield live


@pytest.mark.parametrize("role", sorted(PASSWORDS))
def test_every_page_of_a_role_fits_a_phone_and_passes_axe(browser, crawl_server, role):
    with browser_tab(browser, crawl_server["url"]) as pg:
        pg.set_viewport_size({"width": PHONE, "height": 900})
        sign_in(pg, role)
        origin = urlparse(crawl_server["url"]).netloc
        todo, seen_kinds, visited, failures = [urlparse(pg.url).path], set(), [], []
        while todo and len(visited) < MAX_PAGES:
            path = todo.pop(0)
            kind = kind_of(path)
            if kind in seen_kinds or SKIP.search(path):
                continue
            seen_kinds.add(kind)
            response = pg.goto(crawl_server["url"] + path)
            if response is None or response.status != 200:
                failures.append({"page": path, "status": response and response.status})
                continue
            settle(pg)
            visited.append(path)
            width = pg.evaluate("document.documentElement.scrollWidth")
            if width > PHONE:
                failures.append({"page": path, "wider_than_the_screen": width})
            bad = [v for v in axe_violations(pg) if v["impact"] in ("serious", "critical")]
            if bad:
                failures.append({"page": path, "axe": bad})
            for href in pg.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                url = urlparse(urldefrag(href)[0])
                if url.netloc == origin and url.path not in visited and kind_of(url.path) not in seen_kinds:
                    todo.append(url.path)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"axe-crawl-{role}.json").write_text(json.dumps({"visited": visited, "failures": failures},
                                                                     indent=1))
        assert len(visited) >= 2, f"{role}: the crawl found only {visited}"
        assert not todo or len(visited) < MAX_PAGES, f"{role}: more than {MAX_PAGES} kinds of page: {visited}"
        assert failures == [], f"{role}: {json.dumps(failures, indent=1)[:6000]}"
