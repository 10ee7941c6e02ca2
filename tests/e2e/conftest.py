"""End-to-end fixtures: the app served on a free loopback port, driven by Debian's Chromium.

The browser is the system's (`chromium`), launched by Playwright without downloading
anything. Where it is missing the tests are skipped, unless FAIRWAY_REQUIRE_E2E=1 (CI),
where that is a failure. Screenshots go to test-artifacts/e2e/.
"""
from __future__ import annotations

import os

import pytest

from browser_support import BROWSER_ARGS, browser_tab, chromium_path, serving
from helpers import copy_instance


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("FAIRWAY_REQUIRE_E2E") == "1":
            pytest.fail("FAIRWAY_REQUIRE_E2E=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH: end-to-end tests skipped (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def live_server(seeded_instance, tmp_path_factory):
    """The app on a copy of the seeded demo instance, served by werkzeug in a thread."""
    with serving(copy_instance(seeded_instance, tmp_path_factory.mktemp("e2e"))) as live:
        yield live


@pytest.fixture
def page(browser, live_server, request):
    with browser_tab(browser, live_server["url"], request.node.name) as pg:
        yield pg
