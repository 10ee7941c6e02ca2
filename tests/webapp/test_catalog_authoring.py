"""The catalog's owners at work in the app: drafts, checks, previews, publishing, restoring,
exports and imports, the audit trail and the library's usage; and every process of the app
serving the version that is live."""
from __future__ import annotations

import html
import io
import re

import pytest
from markupsafe import escape

from engine.catalog.bundle import read_folder, read_zip, to_zip
from engine.catalog.loader import DEFAULT_ROOT
from engine.catalog.overrides import parse_override
from engine.dataset import load_dataset
from engine.diagnosis.analysis import analyse
from engine.diagnosis.whatif import whatif
from helpers import AuthActions, PASSWORDS, csrf_from, web_config
from web import create_app
from web.extensions import db
from web.models import (Assignment, CatalogAudit, CatalogDraft, CatalogState, CatalogVersion, CoachingPlan, Dataset,
                        RepSnapshot, User)
from web.store import dataset_folder

from test_coaching import Conversation  # noqa: E402  (the one-on-one, clicked through as a manager)

TH = "rules/thresholds.yaml"
GAPS = "rules/gaps/prospecting.yaml"


# --------------------------------------------------------------------------- helpers

def sign_in_as(auth: AuthActions, role: str) -> None:
    page = auth.client.get("/catalog/")
    if page.status_code == 200:
        auth.client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert auth.login(role).status_code == 302


def start_draft(auth: AuthActions, role: str):
    sign_in_as(auth, role)
    r = auth.forms.post("/catalog/draft", action="/catalog/draft/start")
    assert r.status_code == 302


def thresholds_form(catalog, **changes) -> dict:
    t = catalog.thresholds
    data = {"significance": t.significance, "min_gap": t.min_gap, "min_shortfall": t.min_shortfall,
            "min_sample_proportion": t.min_sample.proportion, "min_sample_count": t.min_sample.count,
            "min_sample_amount": t.min_sample.amount, "benchmark": t.benchmark.value, "top_quantile": t.top_quantile,
            "rag_green": t.rag.green, "rag_yellow": t.rag.yellow,
            "at_risk_stalled_quantile": t.at_risk.stalled_quantile, "at_risk_size_quantile": t.at_risk.size_quantile,
            "at_risk_age_quantile": t.at_risk.age_quantile, "trend_months": t.trend_months}
    return {k: str(v) for k, v in {**data, **changes}.items()}


def textarea(page: str) -> str:
    return html.unescape(re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", page, re.S).group(1))


def save_file(auth, path: str, edit) -> None:
    url = f"/catalog/draft/files/{path}"
    text = edit(textarea(auth.client.get(url).get_data(as_text=True)))
    r = auth.forms.post(url, {"text": text})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]


def publish(auth, message: str = "A change"):
    return auth.forms.post("/catalog/draft", {"message": message}, action="/catalog/draft/publish")


def draft_files(app, username: str) -> dict:
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == username)).scalar_one()
        d = db.session.execute(db.select(CatalogDraft).where(CatalogDraft.user_id == user.id)).scalar_one_or_none()
        return dict(d.files) if d else {}


def state(app) -> dict:
    """The live pointer, the versions, and every snapshot of the current dataset (as a request sees them)."""
    app.test_client().get("/healthz")
    with app.app_context():
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        snaps = {s.rep_id: (s.focus_gap, s.focus_skill, s.diagnosis)
                 for s in db.session.execute(db.select(RepSnapshot).where(RepSnapshot.dataset_id == ds.id)).scalars()}
        return {"live": db.session.execute(db.select(CatalogState.live_number)).scalar_one(),
                "versions": db.session.execute(db.select(db.func.count(CatalogVersion.id))).scalar_one(),
                "snapshots": snaps, "catalog_version": ds.catalog_version,
                "served": app.extensions["fairway.catalog"].version}


def current_org(app):
    with app.app_context():
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        return dataset_folder(ds), ds.period


# --------------------------------------------------------------------------- version 1

def test_the_configured_catalog_becomes_version_1(app, client, catalog):
    assert client.get("/login").status_code == 200
    with app.app_context():
        versions = db.session.execute(db.select(CatalogVersion)).scalars().all()
        assert [(v.number, v.kind) for v in versions] == [(1, "initial")]
        assert versions[0].files == read_folder(DEFAULT_ROOT)[0]
        assert versions[0].catalog_version == catalog.version
        assert db.session.execute(db.select(CatalogState.live_number)).scalar_one() == 1
        assert [a.action for a in db.session.execute(db.select(CatalogAudit)).scalars()] == ["initial"]
    assert client.get("/healthz").get_json()["catalog_number"] == 1


# --------------------------------------------------------------------------- thresholds: a draft and its preview

def test_ops_changes_thresholds_in_a_draft_and_previews_what_whatif_says(app, auth, catalog):
    start_draft(auth, "ops")
    r = auth.forms.post("/catalog/draft/thresholds", thresholds_form(catalog, significance=0.2))
    assert r.status_code == 302
    files = draft_files(app, "ops")
    shipped = (DEFAULT_ROOT / TH).read_text()
    assert files[TH] == shipped.replace("significance: 0.05", "significance: 0.2")    # comments and all kept
    assert state(app)["live"] == 1                                                      # nothing published
    page = auth.client.get("/catalog/draft/preview").get_data(as_text=True)

    folder, period = current_org(app)
    expected = whatif(load_dataset(folder, catalog.pipeline), catalog, [parse_override("significance=0.2")], period)
    assert expected.changed, "the change moves some rep's focus on the seeded org"
    shown = re.search(r'stat-value[^"]*">(\d+)</span><span class="stat-label">reps whose focus changes', page)
    assert int(shown.group(1)) == len(expected.changed)
    for before, after, n in expected.transitions():
        assert re.search(rf"<td>{before or 'none'}</td><td>{after or 'none'}</td><td class=\"num\">{n}</td>", page)
    for c in expected.changed:
        assert c.name not in page, "catalog owners see aggregates, not reps"
    for gap, (b, a) in expected.focus.items():
        assert re.search(rf"<code>{gap}</code></td>\s*<td class=\"num\">{b}</td><td class=\"num\">{a}</td>", page)

    start_draft(auth, "admin")                                                          # who sees reps, sees names
    auth.forms.post("/catalog/draft/thresholds", thresholds_form(catalog, significance=0.2))
    page = auth.client.get("/catalog/draft/preview").get_data(as_text=True)
    assert all(c.name in page for c in expected.changed)


# --------------------------------------------------------------------------- a broken draft is refused

def test_a_broken_draft_is_refused_at_publish_with_located_problems(app, auth):
    before = state(app)
    start_draft(auth, "enablement")
    save_file(auth, "rules/flows/demo_dropoff.yaml", lambda t: t.replace("  qualification: 1.2 ", "  qualificaton: 1.2 "))
    page = auth.client.get("/catalog/draft/files/rules/flows/demo_dropoff.yaml").get_data(as_text=True)
    line = next(n for n, text in enumerate(draft_files(app, "enablement")["rules/flows/demo_dropoff.yaml"].split("\n"), 1)
                if "qualificaton" in text)
    # the problem sits under its line in the listing, with its key and a suggestion
    listed = re.search(rf'<li id="L{line}" class="has-problem">(.*?)</li>', page, re.S)
    assert listed and "qualificaton" in listed.group(1) and "did you mean <code>qualification</code>" in listed.group(1)
    assert int(re.search(r"(\d+) errors?,", page).group(1)) >= 1

    r = publish(auth, "Rename a root cause")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "catalog check found errors" in body
    assert f"rules/flows/demo_dropoff.yaml:{line}" in body and "qualificaton" in body
    after = state(app)
    assert after == before, "the live catalog, the versions and the diagnosis are as they were"
    with app.app_context():
        refused = db.session.execute(db.select(CatalogAudit).where(CatalogAudit.action == "publish_refused")).scalar_one()
        assert "qualificaton" in refused.detail
    assert draft_files(app, "enablement"), "the draft is kept, to be fixed"


def test_a_draft_whose_catalog_tests_fail_is_refused(app, auth, catalog):
    before = state(app)
    start_draft(auth, "ops")
    auth.forms.post("/catalog/draft/thresholds", thresholds_form(catalog, min_gap=0.4))
    r = publish(auth, "Raise min_gap")
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "catalog tests failed" in body
    assert "Nancy converts demos far below the team" in body and "expected: demo_dropoff" in body
    assert state(app) == before


def test_a_draft_the_current_dataset_does_not_fit_is_refused(app, auth):
    before = state(app)
    start_draft(auth, "ops")
    save_file(auth, "rules/pipeline.yaml", lambda t: t.replace("won_stage: won", "won_stage: closed_won"))
    r = publish(auth, "Won deals are closed_won in the CRM")
    body = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 422 and "cannot be diagnosed with this catalog" in body
    assert "opportunities.csv" in body and "unknown stage" in body and "closed_won" in body
    assert state(app) == before


# --------------------------------------------------------------------------- publishing, every process, restoring

def test_publishing_switches_every_process_and_diagnoses_again(app, auth, catalog):
    other = create_app(web_config(app.instance_path and __import__("pathlib").Path(app.instance_path)))
    other_client = other.test_client()
    assert other_client.get("/healthz").get_json()["catalog_number"] == 1
    start_draft(auth, "ops")
    auth.forms.post("/catalog/draft/thresholds", thresholds_form(catalog, significance=0.2))
    folder, period = current_org(app)
    expected = whatif(load_dataset(folder, catalog.pipeline), catalog, [parse_override("significance=0.2")], period)

    r = publish(auth, "Looser significance: more reps get a focus")
    assert r.status_code == 302 and r.headers["Location"].endswith("/catalog/versions/2")
    now = state(app)
    assert now["live"] == 2 and now["versions"] == 2 and now["catalog_version"] == now["served"]
    for c in expected.changed:
        assert now["snapshots"][c.rep_id][0] == c.after_gap, c.rep_id
    with app.app_context():
        v = db.session.execute(db.select(CatalogVersion).where(CatalogVersion.number == 2)).scalar_one()
        assert v.author.username == "ops" and v.message.startswith("Looser significance") and v.kind == "publish"
        assert v.changes == [{"path": TH, "status": "changed", "added": 1, "removed": 1}]
        assert "-significance: 0.05" in v.diff and "+significance: 0.2" in v.diff
        assert db.session.execute(db.select(CatalogDraft)).scalars().all() == [
            d for d in db.session.execute(db.select(CatalogDraft)).scalars() if d.user.username != "ops"]
    # the other process serves version 2 from its next request on
    health = other_client.get("/healthz").get_json()
    assert health["catalog_number"] == 2 and health["catalog"] == now["served"]
    AuthActions(other_client).login("manager")
    assert "20%" in other_client.get("/catalog/thresholds").get_data(as_text=True)
    page = auth.client.get("/catalog/versions/2").get_data(as_text=True)
    assert "Looser significance" in page and "+significance: 0.2" in page
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_an_import_run_by_a_worker_diagnoses_with_the_live_version(app, auth, catalog):
    """A worker is another process: its own app, started before the publish, still imports with
    the version live when the job runs, never with the folder it was configured with."""
    from pathlib import Path

    from helpers import job_outcome, upload_files
    from web.jobs import start_consumer
    worker_app = create_app(web_config(Path(app.instance_path)))
    worker = start_consumer(worker_app)
    try:
        start_draft(auth, "ops")
        auth.forms.post("/catalog/draft/thresholds", thresholds_form(catalog, significance=0.2))
        assert publish(auth, "Looser significance").status_code == 302
        live = state(app)["served"]
        assert live != catalog.version and worker_app.extensions["fairway.catalog"].version == catalog.version
        folder, _ = current_org(app)
        sign_in_as(auth, "admin")
        files = {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}
        page = job_outcome(auth.client, upload_files(auth.client, files, make_current="y")).get_data(as_text=True)
        assert "Nothing was imported" not in page, page[:3000]
        with app.app_context():
            newest = db.session.execute(db.select(Dataset).order_by(Dataset.id.desc())).scalars().first()
            assert newest.is_current and newest.catalog_version == live
    finally:
        worker.stop()
        with worker_app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_restoring_a_version_restores_the_previous_diagnosis(app, auth):
    before = state(app)
    start_draft(auth, "enablement")
    save_file(auth, GAPS, lambda t: t.replace("    min_gap: 0.2          # holidays", "    min_gap: 0.36         # holidays"))
    assert publish(auth, "Calls: coach only large gaps").status_code == 302
    changed = state(app)
    assert changed["live"] == 2
    moved = {r for r in before["snapshots"] if before["snapshots"][r] != changed["snapshots"][r]}
    assert moved, "the change moved some rep's diagnosis"
    assert changed["snapshots"]["R0007"][0] == "low_talk_time" and before["snapshots"]["R0007"][0] == "low_call_volume"

    r = auth.forms.post("/catalog/versions/1", {"message": "Back to version 1"}, action="/catalog/versions/1/restore")
    assert r.status_code == 302 and r.headers["Location"].endswith("/catalog/versions/3")
    restored = state(app)
    assert restored["live"] == 3
    assert restored["snapshots"] == before["snapshots"], "the diagnosis is the one before the change"
    with app.app_context():
        v1, v3 = (db.session.execute(db.select(CatalogVersion).where(CatalogVersion.number == n)).scalar_one()
                  for n in (1, 3))
        assert v3.files == v1.files and v3.kind == "restore" and v3.restored_from == 1
        assert [a.action for a in db.session.execute(db.select(CatalogAudit).order_by(CatalogAudit.id)).scalars()][-2:] \
            == ["published", "restored"]
    # ops's part of version 1 is the live one: nothing for ops to restore
    start_draft(auth, "ops")
    r = auth.forms.post("/catalog/versions/2", {"message": "Undo"}, action="/catalog/versions/2/restore")
    assert r.status_code == 422 and "nothing to restore" in r.get_data(as_text=True)
    assert state(app)["live"] == 3


def test_drafts_of_two_owners_merge_and_a_conflict_is_shown(app, auth, catalog):
    start_draft(auth, "enablement")
    save_file(auth, GAPS, lambda t: t.replace("    min_gap: 0.2          # holidays", "    min_gap: 0.3          # holidays"))
    start_draft(auth, "admin")
    save_file(auth, TH, lambda t: t.replace("min_gap: 0.15", "min_gap: 0.2"))
    start_draft(auth, "ops")
    auth.forms.post("/catalog/draft/thresholds", thresholds_form(catalog, significance=0.04))
    assert publish(auth, "ops").status_code == 302                          # version 2
    sign_in_as(auth, "enablement")
    assert "Version 2 was published after your draft started" in auth.client.get("/catalog/draft").get_data(as_text=True)
    assert publish(auth, "enablement").status_code == 302                   # version 3: both changes
    with app.app_context():
        v3 = db.session.execute(db.select(CatalogVersion).where(CatalogVersion.number == 3)).scalar_one()
        assert "significance: 0.04" in v3.files[TH] and "min_gap: 0.3 " in v3.files[GAPS]
    sign_in_as(auth, "admin")
    r = publish(auth, "admin")
    assert r.status_code == 422 and "rules/thresholds.yaml" in r.get_data(as_text=True)      # both changed it
    assert auth.forms.post("/catalog/draft", action="/catalog/draft/rebase").status_code == 302
    assert publish(auth, "admin, after looking").status_code == 302
    with app.app_context():
        v4 = db.session.execute(db.select(CatalogVersion).where(CatalogVersion.number == 4)).scalar_one()
        assert "min_gap: 0.2" in v4.files[TH] and "min_gap: 0.3 " in v4.files[GAPS]


# --------------------------------------------------------------------------- who edits what

def test_each_owner_edits_only_their_part(app, auth, catalog):
    start_draft(auth, "trainer")
    assert auth.client.get("/catalog/draft/thresholds").status_code == 403
    page = auth.client.get(f"/catalog/draft/files/{TH}").get_data(as_text=True)
    assert "Read only" in page and "readonly" in page
    auth.client.post(f"/catalog/draft/files/{TH}", data={"text": "min_gap: 0.9\n", "csrf_token": csrf_from(page)})
    assert draft_files(app, "trainer")[TH] == (DEFAULT_ROOT / TH).read_text()
    start_draft(auth, "ops")
    assert auth.client.get("/catalog/draft/assets/new").status_code == 403
    r = auth.forms.post("/catalog/draft", {"path": "learning_library/microlearning/x.md"}, action="/catalog/draft/files")
    assert "not yours to change" in auth.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "learning_library/microlearning/x.md" not in draft_files(app, "ops")
    start_draft(auth, "enablement")
    assert auth.client.get("/catalog/draft/thresholds").status_code == 403


def test_a_trainer_adds_an_asset_and_a_managers_plan_offers_it(app, auth):
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        rep = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.team.in_(manager.teams),
                                                             RepSnapshot.focus_skill.is_not(None))
                                 .order_by(RepSnapshot.rep_id)).scalars().first()
        skill, role, rep_id = rep.focus_skill, rep.role, rep.rep_id
        db.session.expunge(rep)
    start_draft(auth, "trainer")
    page = auth.client.get(f"/catalog/draft/assets/new?skill={skill}&role={role}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{skill}">|<option value="{skill}" selected>', page)
    data = {"id": "five-minute-reset", "title": "The five-minute reset", "kind": "microlearning", "minutes": "5",
            "addresses": [skill], "roles": [role], "summary": "Reset a stalled call in five minutes.",
            "source": "file", "body": "# The five-minute reset\n\nAsk one question.\n\n<script>alert(1)</script>\n"}
    r = auth.forms.post("/catalog/draft/assets/new", data)
    assert r.status_code == 302 and r.headers["Location"].endswith("/catalog/draft/assets/five-minute-reset")
    page = auth.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "<h1>The five-minute reset</h1>" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    files = draft_files(app, "trainer")
    assert "learning_library/microlearning/five-minute-reset.md" in files
    assert "id: five-minute-reset" in files["learning_library/assets.yaml"]
    assert publish(auth, "A five-minute reset").status_code == 302
    with app.app_context():
        snap = db.session.execute(db.select(RepSnapshot).where(RepSnapshot.rep_id == rep_id)
                                  .join(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        assert "five-minute-reset" in snap.diagnosis["focus"]["learning_assets"]
    sign_in_as(auth, "manager")
    assert "The five-minute reset" in auth.client.get(f"/reps/{rep_id}").get_data(as_text=True)
    talk = Conversation(auth.client)                    # the one-on-one, to the corrective actions
    talk.to_questions(rep)
    talk.answer_all()
    assert talk.post("causes", {"skill": skill}).headers["Location"].endswith("/actions")
    offered = talk.actions()
    titles = [v for k, v in offered.items() if k.endswith("-title")]
    assert "The five-minute reset" in titles


def test_a_trainer_removes_an_asset_with_its_markdown(app, auth):
    start_draft(auth, "trainer")
    r = auth.forms.post("/catalog/draft/assets/qualify-out-early", action="/catalog/draft/assets/qualify-out-early/delete")
    assert r.status_code == 302
    files = draft_files(app, "trainer")
    assert "learning_library/microlearning/qualify-out-early.md" not in files
    assert "id: qualify-out-early" not in files["learning_library/assets.yaml"]
    assert "id: bant-in-fifteen-minutes" in files["learning_library/assets.yaml"]      # the others stay
    assert auth.client.get("/catalog/draft/assets/qualify-out-early").status_code == 404
    assert state(app)["live"] == 1


# --------------------------------------------------------------------------- files in and out

def test_versions_export_as_zip_and_files_import_as_a_draft(app, auth, tmp_path):
    auth.login("admin")
    r = auth.client.get("/catalog/versions/1/export.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    files, problems, _ = read_zip(r.get_data())
    assert not problems and files == read_folder(DEFAULT_ROOT)[0]
    files[TH] = files[TH].replace("min_gap: 0.15", "min_gap: 0.2")
    upload = {"archive": (io.BytesIO(to_zip(files, folder="our-catalog")), "our-catalog.zip")}
    token = csrf_from(auth.client.get("/catalog/draft/import").get_data(as_text=True))
    r = auth.client.post("/catalog/draft/import", data={**upload, "csrf_token": token, "folder": ""},
                         content_type="multipart/form-data")
    assert r.status_code == 302
    assert draft_files(app, "admin")[TH].count("min_gap: 0.2") == 1
    page = auth.client.get("/catalog/draft").get_data(as_text=True)
    assert "+min_gap: 0.2" in page
    token = csrf_from(auth.client.get("/catalog/draft/import").get_data(as_text=True))
    r = auth.client.post("/catalog/draft/import", data={"archive": (io.BytesIO(b"no zip"), "x.zip"), "csrf_token": token,
                                                        "folder": ""}, content_type="multipart/form-data")
    assert r.status_code == 200 and "not a zip file" in r.get_data(as_text=True)
    # a folder on the server, as a team that authors in git deploys it
    ours = __import__("pathlib").Path(app.config["FAIRWAY_IMPORT_ROOT"]) / "catalogs" / "ours"
    for top in ("rules", "learning_library"):
        __import__("shutil").copytree(DEFAULT_ROOT / top, ours / top)
    (ours / "README.md").write_text("notes")
    page = auth.client.get("/catalog/draft/import").get_data(as_text=True)
    assert 'value="catalogs/ours"' in page
    r = auth.forms.post("/catalog/draft/import", {"folder": "catalogs/ours"})
    assert r.status_code == 302 and draft_files(app, "admin")[TH] == (DEFAULT_ROOT / TH).read_text()


def test_an_owner_imports_only_their_part(app, auth):
    files = read_folder(DEFAULT_ROOT)[0]
    files[TH] = files[TH].replace("min_gap: 0.15", "min_gap: 0.3")
    files["learning_library/microlearning/new-one.md"] = "# New\n"
    start_draft(auth, "trainer")
    token = csrf_from(auth.client.get("/catalog/draft/import").get_data(as_text=True))
    r = auth.client.post("/catalog/draft/import", data={"archive": (io.BytesIO(to_zip(files)), "c.zip"), "folder": "",
                                                        "csrf_token": token}, content_type="multipart/form-data")
    flashed = auth.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "not your part" in flashed and TH in flashed
    mine = draft_files(app, "trainer")
    assert mine[TH] == (DEFAULT_ROOT / TH).read_text() and mine["learning_library/microlearning/new-one.md"] == "# New\n"


# --------------------------------------------------------------------------- walking a flow, the coverage report

def test_a_flow_is_walked_as_a_preview(app, auth, catalog):
    from engine.dialogue import conversation as dialogue
    from engine.diagnosis.diagnose import RepDiagnosis
    flow = catalog.flows["demo_dropoff"]
    start_draft(auth, "enablement")
    page = auth.client.get("/catalog/draft/flows/demo_dropoff/walk").get_data(as_text=True)
    assert str(escape(flow.questions[0].ask)) in page
    state = dialogue.DialogueState(rep_id="x", behaviour_gap="demo_dropoff", proposed_gap="demo_dropoff")
    rep = RepDiagnosis(rep_id="x", name="x", role="isr", team="", focus=None, findings=())
    while "Root causes, ranked" not in page:                 # always the first answer, as a manager might
        step = dialogue.step(catalog, state, rep)
        first = step.question.answers[0]
        link = re.search(rf'<a href="([^"]+)">{re.escape(str(escape(first.say)))}</a>', page)
        page = auth.client.get(html.unescape(link.group(1))).get_data(as_text=True)
        state = dialogue.answer(catalog, state, step.question.id, first.id)
        assert "Back one answer" in page
    expected = [c.title for c in dialogue.step(catalog, state, rep).result.causes]
    assert re.findall(r"<li><strong>([^<]+)</strong>", page) == [str(escape(t)) for t in expected]
    page = auth.client.get("/catalog/draft/flows/demo_dropoff/walk?answers=demo_selection:nope").get_data(as_text=True)
    assert "do not fit the flow" in page
    assert auth.client.get("/catalog/draft/flows/no_such_gap/walk").status_code == 404


def test_the_draft_leads_trainers_to_what_the_library_lacks(app, auth):
    start_draft(auth, "trainer")
    save_file(auth, "learning_library/assets.yaml", lambda t: re.sub(r"addresses: \[objection_handling\]",
                                                                     "addresses: [negotiation_closing]", t))
    page = auth.client.get("/catalog/draft").get_data(as_text=True)
    assert "What the learning library lacks" in page
    assert "objection_handling" in page and "/catalog/draft/assets/new?skill=objection_handling" in page


# --------------------------------------------------------------------------- usage, audit

def test_library_usage_counts_assignments_and_the_plans_they_were_part_of(app, auth):
    with app.app_context():
        admin = db.session.execute(db.select(User).where(User.username == "admin")).scalar_one()
        rep = db.session.execute(db.select(RepSnapshot)).scalars().first()
        from datetime import date, timedelta
        for status, plan_status in (("completed", "achieved"), ("completed", "not_achieved"), ("open", "active")):
            plan = CoachingPlan(rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division,
                                manager_id=admin.id, month="2026-10", skill_id="qualification", why="w", how="h",
                                baseline_metric="win_rate", follow_up_on=date.today() + timedelta(days=7),
                                status=plan_status)
            db.session.add(plan)
            db.session.flush()
            db.session.add(Assignment(plan_id=plan.id, rep_id=rep.rep_id, rep_name=rep.name, team=rep.team,
                                      division=rep.division, kind="learning", ref_id="bant-in-fifteen-minutes",
                                      title="BANT in fifteen minutes", due_on=date.today(), status=status,
                                      created_by=admin.id))
        db.session.add(Assignment(plan_id=plan.id, rep_id=rep.rep_id, rep_name=rep.name, team=rep.team,
                                  division=rep.division, kind="learning", ref_id="a-retired-asset", title="Old",
                                  due_on=date.today(), created_by=admin.id))
        db.session.commit()
        name = rep.name
    auth.login("trainer")
    page = auth.client.get("/catalog/usage").get_data(as_text=True)
    row = re.search(r"BANT in fifteen minutes <code[^>]*>bant-in-fifteen-minutes</code></td>(.*?)</tr>", page, re.S)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    assert cells == ["3", "2", "1", "67%", "2", "1", "50%"]
    never = page.split("Never assigned")[1]
    assert "Qualify out early" in never and "bant-in-fifteen-minutes" not in never
    assert "a-retired-asset" in page.split("no longer in the catalog")[1]
    assert name not in page
    sign_in_as(auth, "manager")
    assert auth.client.get("/catalog/usage").status_code == 403


def test_the_audit_trail_says_who_did_what(app, auth, catalog):
    start_draft(auth, "ops")
    auth.forms.post("/catalog/draft/thresholds", thresholds_form(catalog, significance=0.04))
    publish(auth, "Slightly stricter")
    auth.forms.post("/catalog/draft", action="/catalog/draft/start")
    auth.forms.post("/catalog/draft", action="/catalog/draft/discard")
    page = auth.client.get("/catalog/audit").get_data(as_text=True)
    for text in ("Omar Ops", "started a draft", "saved", TH, "published", "Slightly stricter", "discarded their draft",
                 "made the configured catalog version 1"):
        assert text in page, text
    with app.app_context():
        actions = [a.action for a in db.session.execute(db.select(CatalogAudit).order_by(CatalogAudit.id)).scalars()]
    assert actions == ["initial", "draft_started", "file_saved", "published", "draft_started", "draft_discarded"]


# --------------------------------------------------------------------------- the rules engine's limit

def test_drafts_with_other_rules_run_in_a_child_when_the_process_has_no_room(app, auth, monkeypatch):
    """A process that cannot register another ruleset previews and publishes through a child process."""
    from engine.rules import adapter
    monkeypatch.setattr(adapter, "MAX_RULESETS", len(adapter._registered))
    registered = set(adapter._registered)
    start_draft(auth, "enablement")
    save_file(auth, GAPS, lambda t: t.replace("    masked_by: [low_call_volume, low_connect_rate]",
                                              "    masked_by: [low_connect_rate]"))
    page = auth.client.get("/catalog/draft/preview").get_data(as_text=True)
    assert "diagnosed in a separate process" in page
    before_total = int(re.search(r'stat-value">(\d+) → (\d+)</span><span class="stat-label">reps with a focus', page)
                       .group(1))
    snapshots = state(app)["snapshots"]
    assert before_total == sum(1 for s in snapshots.values() if s[0])       # the child's "before" is the live diagnosis
    assert publish(auth, "Talk time is its own gap").status_code == 302
    assert set(adapter._registered) == registered, "the web process registered no ruleset"
    after = state(app)
    monkeypatch.undo()
    folder, period = current_org(app)
    with app.app_context():
        live = app.extensions["fairway.catalog"]
    expected = analyse(load_dataset(folder, live.pipeline), live, period).diagnosis
    assert {r.rep_id: r.focus.behaviour_gap if r.focus else None for r in expected.reps if not r.left} == \
        {rep: s[0] for rep, s in after["snapshots"].items()}


@pytest.mark.parametrize("role", ["manager", "director"])
def test_managers_and_directors_read_the_history_but_edit_nothing(app, auth, role):
    auth.login(role)
    assert auth.client.get("/catalog/versions").status_code == 200
    assert auth.client.get("/catalog/versions/1").status_code == 200
    assert "Restore" not in auth.client.get("/catalog/versions/1").get_data(as_text=True)
    for url in ("/catalog/draft", "/catalog/draft/preview", "/catalog/audit"):
        assert auth.client.get(url).status_code == 403
    assert PASSWORDS[role]
