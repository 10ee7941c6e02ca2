"""End-to-end fixtures: the app served on a free loopback port, driven by Debian's Chromium.

The browser is the system's (`chromium`), launched by Playwright without downloading
anything. Where it is missing the tests are skipped, unless FAIRWAY_REQUIRE_E2E=1 (CI),
where that is a failure. Screenshots go to test-artifacts/e2e/.
"""
from __future__ import annotations

import os
import threading

import pytest

from browser_support import ARTIFACTS, BROWSER_ARGS, chromium_path
from helpers import seed_web_instance, web_config


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
def live_server(tmp_path_factory):
    """The app on a seeded demo instance, served by werkzeug in a thread."""
    from werkzeug.serving import make_server

    from web import create_app
    instance = seed_web_instance(tmp_path_factory.mktemp("e2e"))
    (instance / "imports").mkdir(exist_ok=True)
    app = create_app(web_config(instance))
    from web.jobs import start_consumer
    consumer = start_consumer(app)                 # imports run in the job queue, as served
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, "instance": instance}
    server.shutdown()
    consumer.stop()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.base_url = live_server["url"]
    pg.js_errors = errors
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"), full_page=True)
    context.close()
