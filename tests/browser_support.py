"""Helpers of the end-to-end tests: the system's Chromium, screenshots, signing in, holding
the month's conversation."""
from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from helpers import PASSWORDS, web_config

ARTIFACTS = Path(os.environ.get("FAIRWAY_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")) / "e2e"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def shot(page, name: str) -> Path:
    """Keep a screenshot of the page as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, role: str = "manager") -> None:
    page.goto(page.base_url + "/login")
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", PASSWORDS[role])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def hold_conversation(page, how: str, on: dict[str, Callable] | None = None) -> int:
    """Click through a conversation from its reflection to its done page as a manager does: Save &
    continue on every step, the first answer to each diagnostic question, the root cause as
    preselected, the actions as proposed, and `how` for the plan if the catalog wrote none.
    `on[step](page)` runs on arriving at that step (reflection, goals, gap, causes, actions, plan),
    before it is saved. Returns how many questions were asked."""
    on = on or {}

    def arrive(step: str) -> None:
        page.wait_for_url(re.compile(rf"/coach/\d+/{step}$"))
        if step in on:
            on[step](page)
    for step in ("reflection", "goals", "gap"):
        arrive(step)
        page.click("[name=next]")
    page.wait_for_url(re.compile(r"/coach/\d+/(questions|causes)"))
    asked = 0
    while "/questions" in page.url:
        asked += 1
        page.locator("input[name=answer]").first.check()
        page.click("[name=next]")
        page.wait_for_load_state("networkidle")
        assert asked < 12, "the questions never came to an end"
    for step in ("causes", "actions"):
        arrive(step)
        page.click("[name=next]")
    arrive("plan")
    if not page.input_value("textarea[name=how]"):
        page.fill("textarea[name=how]", how)
    page.click("[name=next]")
    page.wait_for_url(re.compile(r"/coach/\d+/done$"))
    return asked


@contextmanager
def serving(instance, app=None):
    """The app on an instance folder (or an app already made on it), served by werkzeug in a thread
    with a job consumer: {"url", "app", "instance"}."""
    from werkzeug.serving import make_server

    from web import create_app
    (instance / "imports").mkdir(exist_ok=True)
    app = create_app(web_config(instance)) if app is None else app
    from web.jobs import start_consumer
    consumer = start_consumer(app)                 # imports run in the job queue, as served
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, "instance": instance}
    finally:
        server.shutdown()
        consumer.stop()


@contextmanager
def browser_tab(browser, url: str, name: str | None = None):
    """A fresh browser context and page on `url`, collecting JavaScript errors (page.js_errors);
    with a `name`, its last screen is kept as a test artefact."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.base_url = url
    pg.js_errors = errors
    try:
        yield pg
    finally:
        if name is not None:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(ARTIFACTS / f"{name}-last.png"), full_page=True)
        context.close()
