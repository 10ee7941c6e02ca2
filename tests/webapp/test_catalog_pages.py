"""The catalog pages: gaps, flows, root causes, thresholds, the learning library, coverage, insights."""
from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import ROLES, web_config as make_config

from engine.catalog import default_root
from web import create_app
from web.extensions import db
from web.models import Assignment, CoachingPlan, Dataset, RepSnapshot

EVERY_PAGE = ["/catalog/", "/catalog/behaviour", "/catalog/behaviour/demo_dropoff", "/catalog/performance",
              "/catalog/root-causes", "/catalog/thresholds", "/catalog/library", "/catalog/assignments",
              "/catalog/assets/bant-in-fifteen-minutes"]


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_user_reads_the_catalog(client, auth, role):
    auth.login(role)
    for url in EVERY_PAGE:
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert "<style" not in r.get_data(as_text=True) and 'style="' not in r.get_data(as_text=True), url


def test_signed_out_is_sent_to_sign_in(client):
    for url in EVERY_PAGE + ["/catalog/coverage", "/catalog/insights"]:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_the_index_counts_the_catalog(client, auth, catalog):
    auth.login("trainer")
    page = client.get("/catalog/").get_data(as_text=True)
    for n, label in ((len(catalog.performance_gaps), "Performance gaps"), (len(catalog.behaviour_gaps), "Behaviour gaps"),
                     (len(catalog.skills), "Root causes"), (len(catalog.assets), "Learning assets"),
                     (len(catalog.assignments), "Selling assignments")):
        assert re.search(rf'<span class="tile-n">{n}</span><span class="tile-t">{label}</span>', page), label


def test_behaviour_gaps_by_role_link_to_their_flows(client, auth, catalog):
    auth.login("enablement")
    page = client.get("/catalog/behaviour").get_data(as_text=True)
    for gap in catalog.behaviour_gaps.values():
        assert f'/catalog/behaviour/{gap.id}"' in page and gap.title in page
    assert "Inside sales reps" in page and "Business development reps" in page


def test_a_flow_reads_like_a_conversation(client, auth, catalog):
    auth.login("manager")
    page = client.get("/catalog/behaviour/demo_dropoff").get_data(as_text=True)
    flow = catalog.flows["demo_dropoff"]
    for q in flow.questions:
        assert q.ask in page or q.ask.replace("'", "&#39;") in page
        for a in q.answers:
            assert a.say.replace("'", "&#39;") in page
    # the evidence, in words rather than YAML
    assert "Losses: poor qualification is above 20%" in page
    assert "all of:" in page and "Losses: timing is above the team median" in page
    assert "[value] of lost deals were lost to poor qualification" in page
    # the points, titles of the root causes, the conditional question, what the gap explains
    assert "Qualification (budget, authority, need, timing) <b>+2</b>" in page
    assert "Asked only when the answer to" in page
    assert "Win rate below the team" in page and "the company median" in page
    assert "rules/flows/demo_dropoff.yaml:" in page and "rules/gaps/closing.yaml:" in page


def test_an_unknown_gap_is_404(client, auth):
    auth.login("ops")
    assert client.get("/catalog/behaviour/no_such_gap").status_code == 404
    assert client.get("/catalog/behaviour/low_win_rate").status_code == 404     # a performance gap


def test_performance_gaps_and_what_explains_them(client, auth, catalog):
    auth.login("ops")
    page = client.get("/catalog/performance").get_data(as_text=True)
    for g in catalog.performance_gaps.values():
        assert g.title in page
    assert "/catalog/behaviour/demo_dropoff" in page


def test_root_causes_with_what_to_learn_and_do(client, auth, catalog):
    auth.login("trainer")
    page = client.get("/catalog/root-causes").get_data(as_text=True)
    for sid, skill in catalog.skills.items():
        assert f'id="{sid}"' in page
    assert "/catalog/assets/bant-in-fifteen-minutes" in page
    assert 'href="https://blog.hubspot.com/sales/bant" target="_blank" rel="noopener noreferrer"' in page


def test_thresholds_and_pipeline_say_where_they_come_from(client, auth):
    auth.login("ops")
    page = client.get("/catalog/thresholds").get_data(as_text=True)
    for text in ("rules/thresholds.yaml", "rules/pipeline.yaml", "Significance", "5%", "min_sample.proportion",
                 "Minimum gap", "15%", "rag.green", "90%", "at_risk.stalled_quantile", "80%", "industry.win_rate",
                 "22%", "activity_months", "Discovery", "Technical fit", "prospecting_funnel",
                 "rules/gaps/closing.yaml:"):
        assert text in page, text


def test_the_library_by_root_cause_and_its_links(client, auth, catalog):
    auth.login("manager")
    page = client.get("/catalog/library").get_data(as_text=True)
    for a in catalog.assets.values():
        if a.url:
            assert f'href="{a.url}" target="_blank" rel="noopener noreferrer"' in page
        else:
            assert f'href="/catalog/assets/{a.id}"' in page
    assert f'<p class="muted">{len(catalog.assets)} assets' in page


def test_the_library_filter(client, auth, catalog):
    auth.login("manager")
    page = client.get("/catalog/library?skill=qualification&kind=microlearning").get_data(as_text=True)
    expected = [a for a in catalog.assets.values() if "qualification" in a.addresses and a.kind.value == "microlearning"]
    assert f'<p class="muted">{len(expected)} asset' in page
    assert "hubspot-bant" not in page and "bant-in-fifteen-minutes" in page
    page = client.get("/catalog/library?role=bdr").get_data(as_text=True)
    for_bdr = [a for a in catalog.assets.values() if not a.roles or "bdr" in a.roles]
    assert f'<p class="muted">{len(for_bdr)} asset' in page
    page = client.get("/catalog/library?minutes=10").get_data(as_text=True)
    assert f'<p class="muted">{sum(1 for a in catalog.assets.values() if a.minutes <= 10)} asset' in page
    r = client.get("/catalog/library?skill=no_such_skill&minutes=abc")
    assert r.status_code == 200 and '<p class="muted">0 assets' in r.get_data(as_text=True)


def test_selling_assignment_templates(client, auth, catalog):
    auth.login("manager")
    page = client.get("/catalog/assignments").get_data(as_text=True)
    for t in catalog.assignments.values():
        assert f'id="{t.id}"' in page and f"due in {t.due_days} days" in page
    assert "What the manager checks" in page


def test_a_markdown_asset_opens_in_the_app(client, auth):
    auth.login("manager")
    page = client.get("/catalog/assets/bant-in-fifteen-minutes").get_data(as_text=True)
    assert "<h1>BANT in fifteen minutes</h1>" in page
    assert "<table>" in page and "<strong>Budget</strong>" in page          # Markdown tables are rendered
    assert "learning_library/assets.yaml:" in page


def test_an_external_asset_redirects_to_its_url(client, auth, catalog):
    auth.login("manager")
    r = client.get("/catalog/assets/hubspot-bant")
    assert r.status_code == 302 and r.headers["Location"] == catalog.assets["hubspot-bant"].url
    assert client.get("/catalog/assets/no-such-asset").status_code == 404


# --------------------------------------------------------------------------- a catalog of one's own

@pytest.fixture
def own_catalog(tmp_path) -> Path:
    """A copy of the shipped catalog with raw HTML in an asset and a root cause nothing addresses."""
    root = tmp_path / "catalog"
    shutil.copytree(default_root() / "rules", root / "rules")
    shutil.copytree(default_root() / "learning_library", root / "learning_library")
    md = root / "learning_library" / "microlearning" / "bant-in-fifteen-minutes.md"
    md.write_text(md.read_text(encoding="utf-8") + "\n\n<script>alert(1)</script>\n\n"
                  "<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3)) and "
                  "[a guide](https://example.com/guide)\n", encoding="utf-8")
    skills = root / "rules" / "skills.yaml"
    skills.write_text(skills.read_text(encoding="utf-8") + "\n  - id: cold_email_writing\n    kind: skill\n"
                      "    title: Cold email writing\n", encoding="utf-8")
    return root


@pytest.fixture
def own_app(seeded_instance, tmp_path, own_catalog):
    instance = tmp_path / "own-instance"
    shutil.copytree(seeded_instance, instance)
    app = create_app({**make_config(instance), "FAIRWAY_CATALOG": str(own_catalog)})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def login(client, role: str):
    from helpers import AuthActions
    return AuthActions(client).login(role)


def test_raw_html_in_markdown_is_escaped(own_app):
    client = own_app.test_client()
    login(client, "trainer")
    page = client.get("/catalog/assets/bant-in-fifteen-minutes").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert 'href="javascript:' not in page
    assert '<a href="https://example.com/guide" target="_blank" rel="noopener noreferrer">a guide</a>' in page


def test_the_coverage_report(own_app):
    client = own_app.test_client()
    login(client, "trainer")
    page = client.get("/catalog/coverage").get_data(as_text=True)
    assert "Cold email writing" in page
    assert "no learning asset addresses this root cause" in page
    assert "no selling assignment addresses this root cause" in page
    assert "no flow considers this root cause" in page
    assert "rules/skills.yaml:" in page
    assert re.search(r"Qualification \(budget, authority, need, timing\)</a></td>\s*<td>skill</td>\s*"
                     r"<td class=\"num\">\d+</td>\s*<td class=\"num\">4</td>\s*<td class=\"num\">85</td>", page)


@pytest.mark.parametrize("role,status", [("enablement", 200), ("ops", 200), ("trainer", 200), ("admin", 200),
                                         ("manager", 403), ("director", 403)])
def test_coverage_and_insights_are_for_the_catalog_owners(client, auth, role, status):
    auth.login(role)
    assert client.get("/catalog/coverage").status_code == status
    assert client.get("/catalog/insights").status_code == status
    assert ("/catalog/insights" in client.get("/catalog/").get_data(as_text=True)) == (status == 200)


# --------------------------------------------------------------------------- insights

def add_plans_and_assignments(app):
    """Plans of two skills with outcomes, and assignments open, completed, overdue and cancelled."""
    with app.app_context():
        reps = db.session.execute(db.select(RepSnapshot).limit(4)).scalars().all()
        today = date.today()
        statuses = [("qualification", "achieved"), ("qualification", "achieved"), ("qualification", "not_achieved"),
                    ("call_timing", "active")]
        for rep, (skill, status) in zip(reps, statuses):
            p = CoachingPlan(rep_id=rep.rep_id, rep_name=rep.name, team=rep.team, division=rep.division,
                             manager_id=1, month="2026-10", skill_id=skill, why="w", how="h",
                             baseline_metric="win_rate", follow_up_on=today, status=status)
            db.session.add(p)
            db.session.flush()
            for kind, a_status, due in (("learning", "completed", today), ("selling", "open", today - timedelta(days=3)),
                                        ("selling", "cancelled", today)):
                db.session.add(Assignment(plan_id=p.id, rep_id=rep.rep_id, rep_name=rep.name, team=rep.team,
                                          division=rep.division, kind=kind, ref_id="x", title="t", due_on=due,
                                          status=a_status, created_by=1))
        db.session.commit()
        names = [r.name for r in db.session.execute(db.select(RepSnapshot)).scalars()]
    return names


def test_insights_are_aggregates_without_names(app, client, auth, catalog):
    names = add_plans_and_assignments(app)
    auth.login("enablement")
    page = client.get("/catalog/insights").get_data(as_text=True)
    assert not [n for n in names if n in page]
    with app.app_context():
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        focus = db.session.execute(db.select(RepSnapshot.focus_gap, db.func.count())
                                   .where(RepSnapshot.dataset_id == ds.id, RepSnapshot.focus_gap.is_not(None))
                                   .group_by(RepSnapshot.focus_gap)).all()
    for gap, n in focus:
        assert re.search(rf'{re.escape(catalog.behaviour_gaps[gap].title)}</a></td>\s*<td class="bar-cell">'
                         rf'.*?</td><td class="num">{n}</td>', page, re.S), gap
    assert "Inside sales reps" in page and "Business development reps" in page
    # plans per skill: qualification 3 plans, 2 achieved of 3 closed
    assert re.search(r"Qualification \(budget, authority, need, timing\)</td><td class=\"num\">3</td>"
                     r"<td class=\"num\">0</td>\s*<td class=\"num\">2</td><td class=\"num\">1</td>"
                     r"<td class=\"num\">0</td><td class=\"num\">67%</td>", page)
    # assignments: cancelled left out; 4 completed of 8, 4 overdue
    assert re.search(r'<span class="stat-value">50%</span>\s*<span class="stat-label">All assignments:\s*'
                     r'4 of 8 completed, <span class="overdue-text">4 overdue</span>', page)


def test_insights_without_data(app, client, auth):
    with app.app_context():
        db.session.execute(db.update(Dataset).values(is_current=False))
        db.session.commit()
    auth.login("ops")
    page = client.get("/catalog/insights").get_data(as_text=True)
    assert "No current dataset yet." in page and "No coaching plan yet." in page
