"""Helpers of the end-to-end tests: the system's Chromium, screenshots, signing in."""
from __future__ import annotations

import os
import shutil
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
