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


def test_an_admin_imports_a_salesforce_export_with_its_mapping_and_reads_the_report(page, live_server):
    from exports.make_exports import write_exports
    target = live_server["instance"] / "imports" / "salesforce-export"
    write_exports(target, "salesforce-api", reps=10, months=3, seed=3, end="2026-10")
    sign_in(page, "admin")
    page.goto(page.base_url + "/admin/datasets/folder")
    page.select_option("select[name=folder]", "salesforce-export")
    page.select_option("select[name=format]", "salesforce")
    page.fill("input[name=name]", "Salesforce in a browser")
    page.uncheck("input[name=make_current]")
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_url(re.compile(r"/admin/jobs/\d+$"))
    page.get_by_text("Dataset accepted").wait_for(timeout=120000)
    report = page.locator("#import-report")
    assert report.get_by_role("heading", name="Import report: salesforce mapping").is_visible()
    # rows read and kept from the export's own files, with the reasons rows were left out
    opp_row = report.locator("tr", has_text="Opportunity.csv").first
    assert opp_row.is_visible() and "deleted in the CRM" in opp_row.inner_text()
    assert report.get_by_text("Reps by role").is_visible()
    coverage = page.locator("#data-coverage")
    goals = coverage.locator("tr.missing", has_text="goals")
    assert goals.is_visible() and "plan" in goals.inner_text()              # no goals in a CRM export
    assert page.get_by_text("Warnings: None").count() == 0
    shot(page, "12-salesforce-import-report")
    assert [e for e in page.js_errors if "favicon" not in e] == []
