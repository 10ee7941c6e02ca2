"""Every hostile or careless upload of tests/corpus/uploads.py, through the admin's upload
form: refused with what is wrong in the page's own words, and nothing left behind."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import job_outcome, upload_files

from corpus.uploads import LIMITS, UPLOADS, Upload
from web.extensions import db
from web.models import Dataset, RepSnapshot

# the command line's options: the web never tells an admin to "give --period"
CLI_WORDING = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def org_files(seeded_instance: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((seeded_instance / "org").glob("*.csv"))}


def stored(app) -> tuple:
    """The rows and files an import would add."""
    keep = Path(app.config["FAIRWAY_DATASETS"])
    with app.app_context():
        rows = (db.session.execute(db.select(db.func.count(Dataset.id))).scalar_one(),
                db.session.execute(db.select(db.func.count(RepSnapshot.id))).scalar_one())
        db.session.remove()
    return rows, sorted(p.relative_to(keep) for p in keep.rglob("*"))


@pytest.mark.parametrize("case", UPLOADS, ids=[u.id for u in UPLOADS])
def test_hostile_upload(case: Upload, app, auth, seeded_instance, jobs):
    app.config.update({**LIMITS, "MAX_CONTENT_LENGTH": None, **case.config})
    if app.config["MAX_CONTENT_LENGTH"] is None:         # as the configuration derives it
        app.config["MAX_CONTENT_LENGTH"] = app.config["FAIRWAY_MAX_UPLOAD_TOTAL_BYTES"] + 1024 * 1024
    auth.login("admin")
    before = stored(app)
    r = job_outcome(auth.client, upload_files(auth.client, case.build(org_files(seeded_instance)), make_current="y",
                                              **case.fields))
    page = r.get_data(as_text=True)
    assert r.status_code == case.status, f"{case.id}: {r.status_code}\n{page[:3000]}"
    if case.status == 200:
        assert "Nothing was imported" in page, f"{case.id}:\n{page[:3000]}"
    text = re.sub(r"<[^>]+>", " ", page)
    for fragment in case.says:
        assert fragment.lower() in text.lower(), f"{case.id}: {fragment!r} not on the page\n{text[:4000]}"
    assert not CLI_WORDING.findall(text), f"{case.id}: command-line wording on the page"
    assert "Traceback" not in page
    assert str(seeded_instance) not in page, f"{case.id}: the server's own paths on the page"
    assert stored(app) == before, f"{case.id}: something was stored"
    unpacked = Path(app.instance_path) / "tmp"
    assert not unpacked.exists() or list(unpacked.iterdir()) == [], f"{case.id}: an unpacked upload was left"


def test_the_limits_are_on_the_upload_page(app, auth):
    app.config.update(LIMITS)
    auth.login("admin")
    page = auth.client.get("/admin/datasets/upload").get_data(as_text=True)
    assert "2.0 MiB a file, 3.0 MiB in all" in page and "import a server folder" in page


def test_a_valid_upload_still_goes_through_within_the_limits(app, auth, seeded_instance, jobs):
    """The limits are not a wall: the demo org's files fit under the defaults and are imported."""
    files = {k: v for k, v in org_files(seeded_instance).items() if k != "ground_truth.csv"}
    auth.login("admin")
    before = stored(app)
    r = job_outcome(auth.client, upload_files(auth.client, files, make_current=""))
    assert "Dataset accepted" in r.get_data(as_text=True), r.get_data(as_text=True)[:3000]
    assert stored(app)[0][0] == before[0][0] + 1
    assert list((Path(app.instance_path) / "tmp").iterdir()) == []
