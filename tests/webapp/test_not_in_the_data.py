"""Missing data is "not in the data" in the app, never 0, 0%, $0 or "No lost opportunities": a
dataset without activities (or without stage history, or loss reasons) imported through the web,
then its rep page, team page and conversation steps read as a manager reads them."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import csrf_from, job_outcome, upload_files

from web.extensions import db
from web.models import Dataset, RepSnapshot, User

NOT_IN_DATA = "not in the data"


@pytest.fixture(autouse=True)
def consumer(jobs):
    return jobs


def org(seeded_instance: Path, *names: str, without_loss_reasons: bool = False) -> dict[str, bytes]:
    files = {f"{n}.csv": (seeded_instance / "org" / f"{n}.csv").read_bytes() for n in names}
    if without_loss_reasons:
        opps = pd.read_csv(io.BytesIO(files["opportunities.csv"]), dtype=str, keep_default_na=False)
        files["opportunities.csv"] = opps.drop(columns=["loss_reason"]).to_csv(index=False).encode()
    return files


def import_as_admin(client, auth, files: dict[str, bytes]) -> str:
    auth.login("admin")
    page = job_outcome(client, upload_files(client, files, make_current="y")).get_data(as_text=True)
    assert "Dataset accepted" in page, page[-2000:]
    auth.logout()
    auth.login("manager")
    return page


def managers_reps(app, role_kind: str) -> list[RepSnapshot]:
    """Reps of the current dataset in the manager's teams, of a closing or prospecting role."""
    from web.store import catalog
    with app.app_context():
        manager = db.session.execute(db.select(User).where(User.username == "manager")).scalar_one()
        ds = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one()
        reps = db.session.execute(db.select(RepSnapshot).where(
            RepSnapshot.dataset_id == ds.id, RepSnapshot.team.in_(manager.teams))
            .order_by(RepSnapshot.rep_id)).scalars().all()
        kinds = {r.id: r.kind.value for r in catalog().pipeline.roles}
        out = [r for r in reps if kinds[r.role] == role_kind]
        for r in out:
            db.session.expunge(r)
        return out


def tiles(html: str) -> dict[str, str]:
    """The headline figures of a rep page: label -> value as shown."""
    return {re.sub(r"<[^>]+>", "", label).split("·")[0].strip(): re.sub(r"<[^>]+>", "", value).strip()
            for value, label in re.findall(r'<span class="fw-kpi-value">(.*?)</span>\s*'
                                           r'<span class="fw-kpi-label">(.*?)</span>\s*</div>', html, re.S)}


def chart(html: str, chart_id: str) -> str:
    return html.split(f'data-chart="{chart_id}"')[1].split("</figure>")[0]


def test_without_activities_the_rep_pages_say_not_in_the_data(app, client, auth, seeded_instance):
    import_as_admin(client, auth, org(seeded_instance, "reps", "opportunities", "stage_history", "goals",
                                      without_loss_reasons=True))
    prospector = managers_reps(app, "prospecting")[0]
    page = client.get(f"/reps/{prospector.rep_id}").get_data(as_text=True)
    shown = tiles(page)
    assert shown["Meetings scheduled"] == NOT_IN_DATA
    assert shown["Talk time"] == NOT_IN_DATA
    assert all(v == NOT_IN_DATA for k, v in shown.items() if k != "Opportunities created"), shown
    talk = chart(page, "chart-talk")
    assert "Talk time is not in the data" in talk and "<canvas" not in talk and "No phone time logged" not in talk
    eff = chart(page, "chart-efficiency")
    assert "not in the data" in eff and "<canvas" not in eff
    funnel = chart(page, "chart-funnel")
    assert "Conversions are not in the data" in funnel and re.search(r">0<|>0%<", funnel) is None
    goals = chart(page, "chart-goals")
    assert NOT_IN_DATA in goals and ">0<" not in goals                # a calls goal, and no calls in the data
    plan = page.split('class="fw-plan"')[1].split("</table>")[0]
    calls = next(tr for tr in re.findall(r"<tr>(.*?)</tr>", plan, re.S) if "Calls" in tr)
    assert calls.count(NOT_IN_DATA) >= 2 and "n/a" not in calls      # run rate and shortfall (and the need)

    closer = managers_reps(app, "closing")[0]
    page = client.get(f"/reps/{closer.rep_id}").get_data(as_text=True)
    losses = chart(page, "chart-losses")
    assert "Loss reasons are not in the data" in losses and "No lost opportunities" not in losses
    pipeline = chart(page, "chart-pipeline")
    assert "Not in the data: activities" in pipeline
    rows = re.findall(r"<tr>(.*?)</tr>", pipeline.split("<tbody>")[1], re.S)
    assert rows and all(NOT_IN_DATA in r for r in rows)            # the activities column of each open deal
    assert client.get(f"/reps/{closer.rep_id}/charts").status_code == 200

    team = client.get("/team/").get_data(as_text=True)
    assert NOT_IN_DATA in team
    talk_team = next(c for c in re.findall(r'data-chart="(chart-talk-\d+)"', team))
    assert "Talk time is not in the data" in chart(team, talk_team)
    assert re.search(r'fw-cmp-value">0<', team) is None


def test_the_conversation_says_not_in_the_data(app, client, auth, seeded_instance):
    import_as_admin(client, auth, org(seeded_instance, "reps", "opportunities", "stage_history", "goals"))
    rep = managers_reps(app, "prospecting")[0]
    token = csrf_from(client.get("/coach/").get_data(as_text=True))
    r = client.post(f"/coach/start/{rep.rep_id}", data={"csrf_token": token})
    session = r.headers["Location"].rstrip("/").split("/")[-1]
    goals_page = client.get(f"/coach/{session}/goals")
    if goals_page.status_code == 302:                       # the reflection comes first
        from datetime import date
        page = client.get(f"/coach/{session}/reflection").get_data(as_text=True)
        client.post(f"/coach/{session}/reflection", data={
            "csrf_token": csrf_from(page), "how_it_went": "ok", "went_well": "x", "to_improve": "y",
            "kind": "development", "held_on": date.today().isoformat(), "next": "1"})
        goals_page = client.get(f"/coach/{session}/goals")
    html = goals_page.get_data(as_text=True)
    assert goals_page.status_code == 200
    table = html.split("The goals set this month")[1].split("</table>")[0]
    activity_goals = [tr for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S) if "Calls" in tr or "Connects" in tr]
    assert activity_goals and all(NOT_IN_DATA in tr for tr in activity_goals)
    plan = html.split("The success plan")[1].split("</table>")[0]
    calls = next(tr for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", plan, re.S) if "Calls" in tr)
    assert NOT_IN_DATA in calls
    panel = html.split('data-chart="chart-talk"')[1].split("</figure>")[0]
    assert "Talk time is not in the data" in panel


def test_without_stage_history_days_in_stage_are_not_in_the_data(app, client, auth, seeded_instance):
    import_as_admin(client, auth, org(seeded_instance, "reps", "opportunities", "activities", "goals"))
    closer = managers_reps(app, "closing")[0]
    page = client.get(f"/reps/{closer.rep_id}").get_data(as_text=True)
    pipeline = chart(page, "chart-pipeline")
    assert "Not in the data: stage history" in pipeline
    rows = re.findall(r"<tr>(.*?)</tr>", pipeline.split("<tbody>")[1], re.S)
    assert rows and all(NOT_IN_DATA in r for r in rows)
    # activities are there: the talk chart is drawn
    assert "<canvas" in chart(page, "chart-talk") or "No phone time" in chart(page, "chart-talk")
