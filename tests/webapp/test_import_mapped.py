"""The admin's import of CRM exports: a shipped mapping (and an org overlay) converts the export
in the job, whole or not at all; the job's page shows the engine's import report and the data's
coverage, never "Warnings: None" over missing data."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from exports.make_exports import write_exports
from helpers import job_outcome, post_multipart, upload_files

from web.extensions import db
from web.models import Dataset

EXPORT = {"reps": 10, "months": 3, "seed": 3, "end": "2026-10"}


@pytest.fixture
def admin(auth):
    auth.login("admin")
    return auth


@pytest.fixture(autouse=True)
def consumer(jobs):
    return jobs


@pytest.fixture(scope="module")
def sf_export(tmp_path_factory) -> Path:
    """A small Salesforce export with API names (Opportunity.csv, Task.csv, ...), as Data Loader writes it."""
    out = tmp_path_factory.mktemp("sf") / "export"
    write_exports(out, "salesforce-api", **EXPORT)
    return out


def export_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".csv"}


def stored(app) -> list[int]:
    with app.app_context():
        return list(db.session.execute(db.select(Dataset.id).order_by(Dataset.id)).scalars())


def cli_report(folder: Path, mapping: str, overlay: Path | None = None) -> dict:
    """The report the engine gives `fairway import --dry-run` on the same export."""
    from engine.catalog import load_catalog
    from engine.sources import import_dataset, load_mapping, shipped_mappings
    cat = load_catalog()
    m = load_mapping(shipped_mappings()[mapping], cat.pipeline, overlay=overlay)
    return import_dataset(folder, m, folder.parent / "unused", cat.pipeline, dry_run=True).to_dict(cat)


def text(html: str) -> str:
    """The page's text, tags removed and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def with_bad_stage(files: dict[str, bytes], row: int, value: str) -> dict[str, bytes]:
    """The export with one Opportunity's StageName changed (`row` counts the header as row 1)."""
    rows = list(csv.reader(io.StringIO(files["Opportunity.csv"].decode())))
    col = rows[0].index("StageName")
    rows[row - 1][col] = value
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return {**files, "Opportunity.csv": buf.getvalue().encode()}


def test_the_format_choices_are_the_engines_shipped_mappings(client, admin):
    from engine.sources import shipped_mappings
    for url in ("/admin/datasets/upload", "/admin/datasets/folder"):
        page = client.get(url).get_data(as_text=True)
        if url.endswith("folder") and 'name="format"' not in page:
            continue            # no server folder yet: the folder page shows no form
        options = re.findall(r'<option[^>]*value="([^"]+)"', page.split('name="format"')[1].split("</select>")[0])
        assert options == ["fairway", *shipped_mappings()], url


def test_a_salesforce_export_uploaded_with_its_mapping(app, client, admin, sf_export):
    before = stored(app)
    r = job_outcome(client, upload_files(client, export_files(sf_export), format="salesforce",
                                         name="SF export", make_current="y"))
    page = r.get_data(as_text=True)
    assert "Dataset accepted" in page, text(page)[-3000:]
    assert len(stored(app)) == len(before) + 1
    want = cli_report(sf_export, "salesforce")
    shown = text(page)
    assert "Import report: salesforce mapping" in shown
    # the page's numbers are the engine's report: rows read and kept per part, every reason left out
    for stem, table in want["tables"].items():
        assert f"{stem}.csv" in shown
        for part in table["parts"]:
            assert f"{part['part']} {', '.join(part['files'])} {part['read']:,} {part['kept']:,}" in shown, part
            for reason, n in part["dropped"].items():
                assert f"{n:,}: {reason}" in shown
    assert f"{want['dates']['first']} to {want['dates']['last']}" in shown
    assert ", ".join(f"{n} {role}" for role, n in want["reps_by_role"].items()) in shown
    assert "deleted in the CRM" in shown                              # the export's traps, counted
    # the coverage table: goals are not in a Salesforce export, and that turns the plan off
    cov = page.split('id="data-coverage"')[1]
    goals = re.search(r"<tr class=\"missing\">\s*<td>goals</td>.*?</tr>", cov, re.S)
    assert goals and "plan" in goals.group(0)
    assert "Warnings: None" not in shown and "None: the data follows the contract" not in shown
    assert not any(Path(app.instance_path, "tmp").iterdir())           # the upload and the staging are gone


def test_an_export_the_mapping_refuses_names_its_file_row_and_column(app, client, admin, sf_export):
    before = stored(app)
    files = with_bad_stage(export_files(sf_export), row=4, value="Needs Analysys")
    r = job_outcome(client, upload_files(client, files, format="salesforce"))
    page = r.get_data(as_text=True)
    assert "Nothing was imported" in page and "Dataset accepted" not in page
    row = next(tr for tr in re.findall(r"<tr>.*?</tr>", page.split("problems-table")[1], re.S) if "StageName" in tr)
    cells = [text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[:4] == ["Opportunity.csv", "4", "StageName", "Needs Analysys"]
    assert "Needs Analysis" in cells[6]                                 # did you mean
    assert "/tmp" not in page and app.instance_path not in page          # never the server's own paths
    assert stored(app) == before
    assert not any(Path(app.instance_path, "tmp").iterdir())


def test_an_overlay_maps_what_the_shipped_mapping_cannot_know(app, client, admin, sf_export):
    files = with_bad_stage(export_files(sf_export), row=4, value="Discovery Call")
    bad = _file("acme.yaml", b"stages:\n  Discovery Call: discovery\nroless:\n  Hunter: bdr\n")
    r = job_outcome(client, post_multipart(client, "/admin/datasets/upload", {
        "files": [_file(n, c) for n, c in files.items()], "format": "salesforce", "overlay": bad}))
    shown = text(r.get_data(as_text=True))
    assert "Nothing was imported" in shown and "acme.yaml" in shown and "roless" in shown
    before = stored(app)
    good = _file("acme.yaml", b"stages:\n  Discovery Call: discovery\n")
    r = job_outcome(client, post_multipart(client, "/admin/datasets/upload", {
        "files": [_file(n, c) for n, c in files.items()], "format": "salesforce", "overlay": good}))
    shown = text(r.get_data(as_text=True))
    assert "Dataset accepted" in shown and "salesforce mapping with acme.yaml" in shown
    assert len(stored(app)) == len(before) + 1


def test_an_overlay_needs_a_mapping(app, client, admin, seeded_instance):
    files = {f"{n}.csv": (seeded_instance / "org" / f"{n}.csv").read_bytes() for n in ("reps", "opportunities")}
    r = post_multipart(client, "/admin/datasets/upload", {
        "files": [_file(n, c) for n, c in files.items()], "format": "fairway",
        "overlay": _file("o.yaml", b"roles: {}\n")})
    assert r.status_code == 200 and "An overlay goes with a mapping" in r.get_data(as_text=True)


def test_an_export_zip_keeps_its_crm_file_names(app, client, admin, sf_export):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in export_files(sf_export).items():
            z.writestr(f"export/{name}", content)
    r = job_outcome(client, upload_files(client, {"sf.zip": buf.getvalue()}, format="salesforce"))
    assert "Dataset accepted" in r.get_data(as_text=True)


def test_a_fairway_dataset_import_shows_its_coverage(app, client, admin, seeded_instance):
    files = {f"{n}.csv": (seeded_instance / "org" / f"{n}.csv").read_bytes()
             for n in ("reps", "opportunities", "activities", "goals")}           # no stage history
    r = job_outcome(client, upload_files(client, files))
    page = r.get_data(as_text=True)
    assert "Dataset accepted" in page and "Import report" not in page
    cov = page.split('id="data-coverage"')[1]
    missing = re.findall(r'<tr class="missing">\s*<td>([^<]+)</td>', cov)
    assert missing == ["stage history"]
    assert "days_in_stage" in cov and "not in the data" in cov
    ds = stored(app)[-1]
    assert "stage history" in text(client.get(f"/admin/datasets/{ds}").get_data(as_text=True))
    listing = client.get("/admin/datasets").get_data(as_text=True)
    row = next(tr for tr in re.findall(r"<tr[^>]*>.*?</tr>", listing, re.S) if f"/admin/datasets/{ds}\"" in tr)
    assert 'title="stage history">not in the data: 1<' in row


def test_a_hubspot_sync_in_a_server_folder(app, client, admin, forms, tmp_path):
    root = Path(app.config["FAIRWAY_IMPORT_ROOT"])
    write_exports(root / "hubspot" / "oct", "hubspot-sync", **EXPORT)
    page = client.get("/admin/datasets/folder").get_data(as_text=True)
    assert 'value="hubspot/oct"' in page
    overlay = tmp_path / "acme.yaml"
    overlay.write_text("timezone: Europe/Berlin\n")
    r = job_outcome(client, post_multipart(client, "/admin/datasets/folder", {
        "folder": "hubspot/oct", "format": "hubspot", "overlay": _file("acme.yaml", overlay.read_bytes())}))
    shown = text(r.get_data(as_text=True))
    assert "Dataset accepted" in shown and "Import report: hubspot mapping with acme.yaml" in shown
    assert "Times read in Europe/Berlin" in shown                       # the overlay's setting was used
    want = cli_report(root / "hubspot" / "oct", "hubspot", overlay)
    assert want["timezone"] == "Europe/Berlin"
    assert f"{want['tables']['opportunities']['kept']:,} rows" in shown
    assert (root / "hubspot" / "oct" / "deal.csv").is_file()          # a server folder is read, not taken
    assert not any(Path(app.instance_path, "tmp").iterdir())           # the overlay and the staging are gone


def _file(name: str, content: bytes):
    from werkzeug.datastructures import FileStorage
    return FileStorage(io.BytesIO(content), filename=name)
