"""Admin pages: users (create, edit, reset a password) and datasets (import, current, delete)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from helpers import PASSWORDS, job_outcome, post_multipart, upload_files

from web.extensions import db
from web.models import Dataset, RepSnapshot, User
from web.store import dataset_folder

NEW_PW = "a-long-enough-password"


@pytest.fixture
def admin(auth):
    auth.login("admin")
    return auth


def user(app, username: str) -> User | None:
    with app.app_context():
        u = db.session.execute(db.select(User).where(User.username == username)).scalar_one_or_none()
        if u is not None:
            db.session.expunge(u)
        return u


def datasets(app) -> list[tuple[int, bool, str]]:
    with app.app_context():
        rows = db.session.execute(db.select(Dataset).order_by(Dataset.id)).scalars().all()
        return [(d.id, d.is_current, d.period) for d in rows]


def current_teams(app) -> list[str]:
    with app.app_context():
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        return sorted(db.session.execute(db.select(RepSnapshot.team).distinct()
                                         .where(RepSnapshot.dataset_id == ds.id)).scalars())


def org_files(seeded_instance: Path, names=("reps", "opportunities", "stage_history", "activities", "goals")):
    return {f"{n}.csv": (seeded_instance / "org" / f"{n}.csv").read_bytes() for n in names}


# --------------------------------------------------------------------------- access

@pytest.mark.parametrize("role", ["manager", "director", "enablement", "ops", "trainer"])
def test_only_admins_reach_the_admin_pages(client, auth, role):
    auth.login(role)
    for url in ("/admin/users", "/admin/users/new", "/admin/datasets", "/admin/datasets/upload",
                "/admin/datasets/folder"):
        assert client.get(url).status_code == 403, url


def test_the_admin_link_is_only_in_the_admins_menu(client, auth):
    auth.login("manager")
    assert "/admin/datasets" not in client.get("/catalog/").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert "/admin/datasets" in client.get("/catalog/").get_data(as_text=True)


# --------------------------------------------------------------------------- users

def test_users_are_listed_with_role_and_scope(client, admin):
    page = client.get("/admin/users").get_data(as_text=True)
    for text in ("Dana Director", "Erin Enablement", "Sales operations", "north", "north-isr-2", "active"):
        assert text in page


def test_create_a_manager_with_teams_from_the_dataset_and_typed(app, client, admin, forms):
    teams = current_teams(app)
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert all(f'value="{t}"' in page for t in teams)               # the multi-select of the dataset's teams
    r = forms.post("/admin/users/new", {"username": "mia.m", "name": "Mia Manager", "email": "mia@example.com",
                                        "role": "manager", "teams": [teams[0], teams[1]],
                                        "other_teams": "new-team-9\n\n" + teams[0], "password": NEW_PW,
                                        "confirm": NEW_PW})
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/users")
    u = user(app, "mia.m")
    assert u.role == "manager" and u.teams == [teams[0], teams[1], "new-team-9"] and u.divisions == []
    assert u.check_password(NEW_PW) and u.email == "mia@example.com"
    admin.logout()
    assert admin.login("mia.m", NEW_PW).status_code == 302


@pytest.mark.parametrize("data,message", [
    ({"username": "manager"}, "This username is taken."),
    ({"username": "MANAGER"}, "3 to 80 characters"),
    ({"username": "ab"}, "3 to 80 characters"),
    ({"password": "short", "confirm": "short"}, "At least 12 characters."),
    ({"confirm": "something-else-entirely"}, "The two passwords differ."),
    ({"email": "not-an-email"}, "Not an email address."),
    ({"role": "manager", "teams": []}, "A manager needs at least one team."),
    ({"role": "director"}, "A director needs at least one division."),
    ({"role": "superuser"}, "not a valid choice"),
    ({"role": "rep"}, "A sales rep needs their rep id."),
    ({"role": "rep", "rep_id": "NO-SUCH-REP"}, "No rep NO-SUCH-REP in the current data"),
    ({"role": "manager", "teams": ["no-such-team"]}, "not a valid choice"),
])
def test_create_user_validation(app, client, admin, forms, data, message):
    base = {"username": "newbie", "name": "New Person", "role": "ops", "password": NEW_PW, "confirm": NEW_PW}
    r = forms.post("/admin/users/new", {**base, **data})
    assert r.status_code == 200
    assert message.lower() in r.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar_one() == len(PASSWORDS)   # the demo's


def test_edit_role_scope_and_deactivate(app, client, admin, forms, auth):
    target = user(app, "director")
    r = forms.post(f"/admin/users/{target.id}", {"name": "Dana D.", "role": "manager", "teams": ["north-isr-1"],
                                                  "divisions": ["north"], "other_teams": "", "active": ""})
    assert r.status_code == 302
    u = user(app, "director")
    assert (u.name, u.role, u.teams, u.divisions, u.active) == ("Dana D.", "manager", ["north-isr-1"], [], False)
    admin.logout()
    r = auth.login("director")
    assert r.status_code == 200 and b"wrong password" in r.data            # deactivated: cannot sign in


def test_the_edit_form_shows_the_users_scope(app, client, admin):
    target = user(app, "manager")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    for team in target.teams:
        assert f'selected value="{team}"' in page or f'value="{team}" selected' in page


def test_an_admin_cannot_lock_themselves_out(app, client, admin, forms):
    me = user(app, "admin")
    r = forms.post(f"/admin/users/{me.id}", {"name": "Ada", "role": "ops"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "cannot take the admin role from yourself" in page
    assert "cannot deactivate yourself" in page
    assert user(app, "admin").role == "admin" and user(app, "admin").active


def test_reset_a_password(app, client, admin, forms, auth):
    target = user(app, "trainer")
    page = f"/admin/users/{target.id}"
    r = forms.post(page, {"password": "short", "confirm": "short"}, action=f"{page}/password")
    assert r.status_code == 200 and "At least 12 characters." in r.get_data(as_text=True)
    r = forms.post(page, {"password": NEW_PW, "confirm": NEW_PW}, action=f"{page}/password")
    assert r.status_code == 302
    admin.logout()
    assert b"wrong password" in auth.login("trainer").data                # the old one no longer works
    assert auth.login("trainer", NEW_PW).status_code == 302


def test_unknown_user_is_404(client, admin):
    assert client.get("/admin/users/98765").status_code == 404


# --------------------------------------------------------------------------- datasets

def test_datasets_list(client, admin):
    page = client.get("/admin/datasets").get_data(as_text=True)
    for text in ("Demo org", "2026-10", "current", "40", "Upload files", "Import a server folder"):
        assert text in page


def test_the_import_pages_say_imports_run_in_the_background(client, admin):
    for url in ("/admin/datasets/upload", "/admin/datasets/folder"):
        assert "Imports run in the background" in client.get(url).get_data(as_text=True)


def upload(forms, files: dict[str, bytes], **extra):
    """Upload through the form; the page of the import's job once it has ended (or the form's refusal)."""
    return job_outcome(forms.client, upload_files(forms.client, files, **extra))


@pytest.fixture(autouse=True)
def consumer(jobs):
    """Imports run in the job queue: a real consumer takes them."""
    return jobs


def test_upload_csv_files_makes_a_current_dataset(app, client, admin, forms, seeded_instance):
    before = datasets(app)
    r = upload(forms, org_files(seeded_instance), name="October export", make_current="y")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "succeeded" in page, page[:2000]
    after = datasets(app)
    new = [d for d in after if d not in before and d[0] not in {b[0] for b in before}]
    assert len(new) == 1 and new[0][1] is True and new[0][2] == "2026-10"
    assert [d for d in after if d[1]] == new                           # the only current one
    assert "Dataset accepted: 40 reps, period 2026-10" in page and "It is now the current dataset" in page
    page = client.get(f"/admin/datasets/{new[0][0]}").get_data(as_text=True)
    assert "October export" in page and "Rows per file" in page


def test_upload_without_make_current_keeps_the_current_dataset(app, client, admin, forms, seeded_instance):
    current = [d for d in datasets(app) if d[1]]
    r = upload(forms, org_files(seeded_instance, ("reps", "opportunities")), period="2026-09")
    assert "The current dataset is unchanged" in r.get_data(as_text=True)
    assert [d for d in datasets(app) if d[1]] == current
    assert any(d[2] == "2026-09" for d in datasets(app))


def test_upload_a_zip_with_a_folder_inside(app, client, admin, forms, seeded_instance):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in org_files(seeded_instance, ("reps", "opportunities", "goals")).items():
            z.writestr(f"export/{name}", content)
        z.writestr("export/README.txt", "notes")
        z.writestr("__MACOSX/export/._reps.csv", "junk")
    r = upload(forms, {"october.zip": buf.getvalue()}, make_current="y")
    page = r.get_data(as_text=True)
    assert "Dataset accepted" in page and "Ignored (not dataset files): october.zip: export/README.txt" in page


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


@pytest.mark.parametrize("members,problem", [
    ({"../reps.csv": b"x", "opportunities.csv": b"y"}, "unsafe path in the zip"),
    ({"/etc/reps.csv": b"x"}, "unsafe path in the zip"),
    ({"a/reps.csv": b"x", "b/reps.csv": b"x"}, "a second reps file"),
    ({"rep.csv": b"x"}, "reps.csv"),
])
def test_unsafe_or_confusing_zips_are_refused(app, client, admin, forms, members, problem, tmp_path):
    before = datasets(app)
    r = upload(forms, {"bad.zip": zip_of(members)})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Nothing was imported" in page and problem in page
    assert datasets(app) == before
    assert not (tmp_path.parent / "reps.csv").exists()


def test_a_zip_bomb_is_refused(app, client, admin, forms):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("reps.csv", b"0" * (20 * 1024 * 1024))
    r = upload(forms, {"bomb.zip": buf.getvalue()})
    assert "zip bomb" in r.get_data(as_text=True)


def test_an_upload_over_the_size_limit_is_refused(app, client, admin, forms, seeded_instance):
    app.config["FAIRWAY_MAX_UPLOAD_TOTAL_BYTES"] = 10_000
    r = upload(forms, org_files(seeded_instance, ("reps", "opportunities")))
    assert "the limit of one upload" in r.get_data(as_text=True)


def test_misnamed_files_are_refused_with_a_suggestion(app, client, admin, forms, seeded_instance):
    files = org_files(seeded_instance, ("reps", "opportunities"))
    files["opportunity.csv"] = files.pop("opportunities.csv")
    r = upload(forms, files)
    page = r.get_data(as_text=True)
    assert "not a dataset file name" in page and "opportunities.csv" in page


def test_no_file_chosen(client, admin, forms):
    r = post_multipart(forms.client, "/admin/datasets/upload", {})
    assert "Choose the dataset" in r.get_data(as_text=True)


def test_every_problem_of_a_refused_dataset_is_listed(app, client, admin, forms, seeded_instance):
    files = org_files(seeded_instance, ("reps", "opportunities"))
    reps = pd.read_csv(io.BytesIO(files["reps.csv"]), dtype=str, keep_default_na=False)
    reps.loc[0, "role"] = "BDR "
    reps.loc[1, "rep_id"] = reps.loc[2, "rep_id"]
    files["reps.csv"] = reps.to_csv(index=False).encode()
    r = upload(forms, files)
    page = r.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "reps.csv" in page and "role" in page and "rep_id" in page
    assert 'class="suggest"' in page                                      # a "did you mean"


def test_import_a_server_folder(app, client, admin, forms, seeded_instance):
    root = Path(app.config["FAIRWAY_IMPORT_ROOT"])
    (root / "exports" / "oct").mkdir(parents=True)
    for name, content in org_files(seeded_instance, ("reps", "opportunities")).items():
        (root / "exports" / "oct" / name).write_bytes(content)
    (root / "not-a-dataset").mkdir()
    page = client.get("/admin/datasets/folder").get_data(as_text=True)
    assert 'value="exports/oct"' in page and "not-a-dataset" not in page
    r = job_outcome(client, forms.post("/admin/datasets/folder", {"folder": "exports/oct", "make_current": "y"}))
    assert "Dataset accepted: 40 reps" in r.get_data(as_text=True)
    new = datasets(app)[-1][0]
    assert "server: exports/oct" in client.get(f"/admin/datasets/{new}").get_data(as_text=True)
    assert (root / "exports" / "oct" / "reps.csv").is_file()           # a server folder is copied, not taken


@pytest.mark.parametrize("folder", ["../", "../../etc", "/etc", "exports/../../"])
def test_a_server_folder_outside_the_import_root_is_refused(app, client, admin, forms, folder):
    before = datasets(app)
    r = forms.post("/admin/datasets/folder", {"folder": folder})
    assert r.status_code == 200 and datasets(app) == before


def test_the_server_folder_helper_refuses_escapes(app):
    from engine.errors import DatasetError
    from web.store import server_folder
    with app.test_request_context():
        with pytest.raises(DatasetError, match="outside the import folder"):
            server_folder("../")


def test_make_current_and_delete(app, client, admin, forms, seeded_instance):
    original = datasets(app)[0][0]
    upload(forms, org_files(seeded_instance, ("reps", "opportunities")), make_current="")
    new = datasets(app)[-1][0]
    assert datasets(app)[0][1] and not datasets(app)[-1][1]
    r = forms.post("/admin/datasets", {}, action=f"/admin/datasets/{new}/current")
    assert r.status_code == 302 and [d[0] for d in datasets(app) if d[1]] == [new]
    r = forms.post("/admin/datasets", {}, action=f"/admin/datasets/{new}/delete")    # current: refused
    assert new in [d[0] for d in datasets(app)]
    assert "cannot be deleted" in client.get(r.headers["Location"]).get_data(as_text=True)
    forms.post("/admin/datasets", {}, action=f"/admin/datasets/{original}/current")
    with app.app_context():
        folder = dataset_folder(db.session.get(Dataset, new))
    assert folder.is_dir() and Path(app.config["FAIRWAY_DATASETS"]) in folder.parents
    r = forms.post("/admin/datasets", {}, action=f"/admin/datasets/{new}/delete")
    assert [d[0] for d in datasets(app)] == [original] and not folder.exists()
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(RepSnapshot.id))
                                  .where(RepSnapshot.dataset_id == new)).scalar_one() == 0


def test_deleting_never_removes_files_outside_the_datasets_folder(app, client, admin, forms, tmp_path):
    """Even a record pointing outside (an absolute path, or ..) never deletes there."""
    outside = tmp_path / "precious"
    outside.mkdir()
    with app.app_context():
        ds = db.session.execute(db.select(Dataset)).scalars().first()
        extra = Dataset(name="odd", source="x", folder=str(outside), period="2026-01", as_of=ds.as_of,
                        catalog_version="x", summary={}, aggregates={})
        db.session.add(extra)
        db.session.commit()
        extra_id = extra.id
    forms.post("/admin/datasets", {}, action=f"/admin/datasets/{extra_id}/delete")
    assert extra_id not in [d[0] for d in datasets(app)] and outside.is_dir()


def test_dataset_summary_page(app, client, admin):
    ds_id = datasets(app)[0][0]
    page = client.get(f"/admin/datasets/{ds_id}").get_data(as_text=True)
    for text in ("2026-10", "reps", "Rows per file", "activities", "Focus of the month", "Warnings"):
        assert text in page
    assert client.get("/admin/datasets/98765").status_code == 404


def test_a_deactivated_user_is_signed_out_at_the_next_request(client, auth, app):
    from web.extensions import db
    from web.models import User
    auth.login("manager")
    assert client.get("/team/").status_code == 200
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        user.active = False
        db.session.commit()
    assert client.get("/team/").status_code == 302


def test_a_dataset_with_a_partitioned_table_is_stored_whole_and_read_again_from_its_copy(app, seeded_instance, tmp_path):
    """A table as a folder of Parquet parts (a Spark or warehouse unload) is kept in the dataset's
    copy as that folder, parts only: a re-diagnosis under another catalog reads it again."""
    import shutil

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from web.store import catalog, dataset_folder, ingest, rediagnose
    folder = tmp_path / "org"
    shutil.copytree(seeded_instance / "org", folder)
    acts = pacsv.read_csv(folder / "activities.csv")
    (folder / "activities.csv").unlink()
    (folder / "activities").mkdir()
    half = acts.num_rows // 2
    pq.write_table(acts.slice(0, half), folder / "activities" / "part-0.parquet")
    pq.write_table(acts.slice(half), folder / "activities" / "part-1.parquet")
    (folder / "activities" / "_SUCCESS").write_text("")            # as Spark leaves it
    with app.app_context():
        ds = ingest(folder, name="Partitioned", source=str(folder), user=None, make_current=False)
        kept = dataset_folder(ds)
        assert sorted(p.name for p in (kept / "activities").iterdir()) == ["part-0.parquet", "part-1.parquet"]
        assert not (kept / "activities.csv").exists()
        docs, _ = rediagnose(ds, catalog())
        stored = db.session.execute(db.select(RepSnapshot.rep_id, RepSnapshot.focus_gap).where(
            RepSnapshot.dataset_id == ds.id).order_by(RepSnapshot.rep_id)).all()
        assert len(docs) == len(stored) == 40


def test_the_server_folders_list_a_dataset_not_the_folders_of_its_partitioned_tables(app):
    from web.admin.routes import _server_folders
    root = Path(app.config["FAIRWAY_IMPORT_ROOT"])
    for name in ("lake/reps.csv", "lake/activities/month=2026-10/part-0.parquet",
                 "lake/opportunities.parquet/part-00000.parquet", "exports/Opportunity/Opportunity.parquet"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    with app.app_context():
        assert _server_folders() == ["exports/Opportunity", "lake"]
