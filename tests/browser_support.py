"""Helpers of the end-to-end tests: the system's Chromium, screenshots, signing in."""
from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

from helpers import PASSWORDS

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


@contextmanager
def browser_page(browser, base_url: str, name: str):
    """A page of a fresh browser context on `base_url`, collecting script errors; its last
    screen kept as a test artefact."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.base_url = base_url
    pg.js_errors = errors
    try:
        yield pg
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{name}-last.png"), full_page=True)
        context.close()


def serve(app) -> tuple[str, object]:
    """The app served by werkzeug in a thread on a free loopback port: (its URL, the server)."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server
