"""An admin imports a dataset in a real browser: the form answers at once with the import's
page, whose script follows the job in the queue and shows the outcome when it is there."""
from __future__ import annotations

import re
import shutil

from browser_support import shot, sign_in


def test_an_import_is_followed_to_its_outcome_without_reloading_by_hand(page, live_server):
    instance = live_server["instance"]
    target = instance / "imports" / "e2e-october"
    target.mkdir(parents=True, exist_ok=True)
    for p in (instance / "org").glob("*.csv"):
        if p.name != "ground_truth.csv":
            shutil.copy(p, target / p.name)
    sign_in(page, "admin")
    page.goto(page.base_url + "/admin/datasets/folder")
    page.select_option("select[name=folder]", "e2e-october")
    page.fill("input[name=name]", "Imported in a browser")
    page.uncheck("input[name=make_current]")          # the other browser tests keep the current dataset
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_url(re.compile(r"/admin/jobs/\d+$"))
    shot(page, "10-import-queued")
    page.get_by_text("Dataset accepted: 40 reps").wait_for(timeout=90000)     # the page reloads itself
    assert page.locator(".badge-job-succeeded").is_visible()
    shot(page, "11-import-done")
    page.get_by_role("link", name="Imported in a browser").click()
    page.wait_for_url(re.compile(r"/admin/datasets/\d+$"))
    assert page.get_by_text("Rows per file").is_visible()
    assert [e for e in page.js_errors if "favicon" not in e] == []
