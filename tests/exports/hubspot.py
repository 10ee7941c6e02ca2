"""HubSpot shapes of a Crm: the CRM tables as Fivetran's HubSpot connector lands them in a
warehouse (exported as CSV), and the UI's "Export view" files with property labels.

Stages are HubSpot's default pipeline ("Sales Pipeline", id `default`): discovery passes
Appointment Scheduled then Qualified To Buy. A second pipeline (Renewals, numeric ids)
holds renewal deals. Engagements carry HubSpot's call outcome GUIDs and meeting outcomes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import formats as F
from .model import LOST, WON, Crm, to_utc

STAGE_IDS = {0: ("appointmentscheduled", "qualifiedtobuy"), 1: ("presentationscheduled",),
             2: ("decisionmakerboughtin",), 3: ("contractsent",), WON: ("closedwon",),
             LOST: ("closedlost",)}
STAGES = [  # stage_id, label, probability, closed, won
    ("appointmentscheduled", "Appointment Scheduled", 0.2, False, False),
    ("qualifiedtobuy", "Qualified To Buy", 0.4, False, False),
    ("presentationscheduled", "Presentation Scheduled", 0.6, False, False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False, False),
    ("contractsent", "Contract Sent", 0.9, False, False),
    ("closedwon", "Closed Won", 1.0, True, True),
    ("closedlost", "Closed Lost", 0.0, True, False),
]
RENEWAL_PIPELINE = "31254876"
RENEWAL_STAGES = [
    ("31254877", "Renewal due", 0.5, False, False),
    ("31254878", "Renewal quote sent", 0.8, False, False),
    ("31254879", "Renewed", 1.0, True, True),
    ("31254880", "Churned", 0.0, True, False),
]
OUTCOMES = {  # call outcome GUIDs: HubSpot's defaults, and one an org added
    "Connected": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
    "No answer": "73a0d17f-1163-4015-bdd5-ec830791da20",
    "Left voicemail": "b2cf5968-551e-4856-9783-52b3da59a7d0",
    "Left live message": "a4c4c377-d246-4b32-a13b-75a56a4cd0ff",
    "Busy": "9d9162e7-6cf3-4944-bf63-4dff82258764",
    "Wrong number": "17b47fee-58de-441e-a44c-c6300d46f273",
    "Meeting booked": "6e1b5c0a-3d2f-4a8e-9c71-8f40d2b9e513",   # custom: an org's own
}
MEETING_OUTCOMES = {"SCHEDULED": "Scheduled", "COMPLETED": "Completed", "RESCHEDULED": "Rescheduled",
                    "NO_SHOW": "No show", "CANCELED": "Canceled"}
LOSS_TEXT = {"budget": "No budget", "competitor": "Went with a competitor", "timing": "Bad timing",
             "no_decision": "Went dark", "price": "Too expensive", "need": "No need",
             "product_fit": "Not a fit", "poor_qualification": "Not qualified"}
FAILED_CALLS = 0.004     # calls that never rang (status FAILED), HubSpot's calling tool
NOTE_SHARE = 0.2         # completed deal meetings followed by a note
FAR_FUTURE = np.datetime64("9999-12-31T23:59:59.999")


class _Ids:
    """HubSpot's numeric ids, increasing with creation where HubSpot's do."""

    def __init__(self, crm: Crm):
        rng = np.random.default_rng([int(crm.args["seed"]), 0x4B5])
        self.rng = rng
        self.portal = 21456789
        n = len(crm.users)
        pool = rng.permutation(np.arange(30_000_000, 30_000_000 + 40 * n, 7))[:n]
        self.owner = pool.astype(np.int64) + 10_000_000      # 8 digits
        self.user = rng.permutation(np.arange(5_100_000, 5_100_000 + 40 * n, 11))[:n].astype(np.int64)
        # deals and renewals in one id sequence, by creation
        created = np.concatenate([crm.opps["created"].to_numpy(), crm.renewals["created"].to_numpy()])
        order = np.argsort(created, kind="stable")
        ids = 10_000_000_000 + np.cumsum(rng.integers(1, 3000, len(created)))
        deal = np.empty(len(created), dtype=np.int64)
        deal[order] = ids
        self.deal = deal[:len(crm.opps)]          # by oid (opps are in oid order)
        self.renewal = deal[len(crm.opps):]
        self.company = 9_000_000_000 + np.cumsum(rng.integers(1, 500, len(crm.accounts)))


def _cached(crm: Crm, key: str, make):
    """Work shared by the two HubSpot shapes of one Crm (each has its own random stream,
    so the order shapes are written in changes nothing)."""
    if key not in crm.cache:
        crm.cache[key] = make()
    return crm.cache[key]


def _stage_id(stage, sub) -> np.ndarray:
    stage, sub = np.asarray(stage), np.asarray(sub)
    out = np.empty(len(stage), dtype=object)
    for k, names in STAGE_IDS.items():
        m = stage == k
        out[m] = np.array(names, dtype=object)[np.minimum(sub[m], len(names) - 1)]
    return out


class _Engagements:
    """Every engagement, one frame: the tasks (calls, emails, to-dos), meetings (parent
    events only: HubSpot has no copies per invitee), notes, inbound replies, failed calls."""

    def __init__(self, crm: Crm, ids: _Ids):
        rng = np.random.default_rng([int(crm.args["seed"]), 0xE6])
        t = crm.tasks
        ttype = np.select([t["kind"].eq("call"), t["kind"].isin(["email", "list_email"])],
                          ["CALL", "EMAIL"], "TASK").astype(object)
        tasks = pd.DataFrame({
            "type": ttype, "owner": t["owner"].to_numpy(), "creator": t["creator"].to_numpy(),
            "at": t["start"].to_numpy(), "created": t["created"].to_numpy(),
            "subject": t["subject"].to_numpy(dtype=object), "duration_s": t["duration_s"].to_numpy(),
            "disposition": t["disposition"].to_numpy(dtype=object), "status": t["status"].to_numpy(dtype=object),
            "what_kind": t["what_kind"].to_numpy(dtype=object), "what_key": t["what_key"].to_numpy(),
            "account": t["account"].to_numpy(), "deleted": t["deleted"].to_numpy(),
            "purged": t["purged"].to_numpy(), "trap": t["trap"].to_numpy(dtype=object),
            "direction": np.where(ttype == "EMAIL", "EMAIL", ""), "outcome": "",
            "end": t["start"].to_numpy()})
        # calls that failed to connect at all: a copy with no duration, status FAILED
        calls = np.flatnonzero((ttype == "CALL") & ~tasks["deleted"].to_numpy())
        failed = tasks.iloc[np.sort(rng.choice(calls, max(3, int(FAILED_CALLS * len(calls))), replace=False))].copy()
        failed["at"] = failed["at"] - np.timedelta64(90, "s")
        failed["created"] = failed["at"]
        failed["duration_s"] = 0.0
        failed["disposition"] = ""
        failed["status"] = "FAILED"
        failed["trap"] = "failed"
        self.n_failed = len(failed)
        e = crm.events[~crm.events["is_child"].to_numpy()]
        status = e["status"].to_numpy(dtype=object)
        outcome = np.select([status == "Completed", status == "No Show", status == "Cancelled"],
                            ["COMPLETED", "NO_SHOW", "CANCELED"], "SCHEDULED").astype(object)
        resched = (outcome == "CANCELED") & (rng.random(len(e)) < 0.3)
        outcome[resched] = "RESCHEDULED"
        start = e["start"].to_numpy()
        meetings = pd.DataFrame({
            "type": "MEETING", "owner": e["owner"].to_numpy(), "creator": e["creator"].to_numpy(),
            "at": start, "created": e["booked"].to_numpy(), "subject": e["subject"].to_numpy(dtype=object),
            "duration_s": np.nan, "disposition": "", "status": "",
            "what_kind": e["what_kind"].to_numpy(dtype=object), "what_key": e["what_key"].to_numpy(),
            "account": e["account"].to_numpy(), "deleted": e["deleted"].to_numpy(),
            "purged": e["purged"].to_numpy(), "trap": e["trap"].to_numpy(dtype=object),
            "direction": "", "outcome": outcome,
            "end": start + (e["duration_min"].to_numpy() * 60).astype("timedelta64[s]")})
        deal_done = meetings[(meetings["what_kind"] == "opp") & (meetings["outcome"] == "COMPLETED")
                             & (meetings["creator"] == meetings["owner"])]
        notes = deal_done.iloc[np.flatnonzero(rng.random(len(deal_done)) < NOTE_SHARE)].copy()
        notes["type"] = "NOTE"
        notes["at"] = notes["created"] = notes["end"] + np.timedelta64(600, "s")
        notes["subject"] = "Meeting notes"
        notes["outcome"] = ""
        notes["trap"] = "note"
        r = crm.inbound_emails
        inbound = pd.DataFrame({
            "type": "INCOMING_EMAIL", "owner": r["owner"].to_numpy(), "creator": r["owner"].to_numpy(),
            "at": r["start"].to_numpy(), "created": r["start"].to_numpy(),
            "subject": "Re: " + r["subject"].str.replace("Email: ", "", regex=False).to_numpy(dtype=object),
            "duration_s": np.nan, "disposition": "", "status": "", "what_kind": r["what_kind"].to_numpy(dtype=object),
            "what_key": r["what_key"].to_numpy(), "account": r["account"].to_numpy(), "deleted": False,
            "purged": False, "trap": "inbound", "direction": "INCOMING_EMAIL", "outcome": "",
            "end": r["start"].to_numpy()})
        eng = pd.concat([tasks, failed, meetings, notes, inbound], ignore_index=True)
        eng = eng.sort_values("created", kind="stable").reset_index(drop=True)
        eng["id"] = 40_000_000_000 + np.cumsum(rng.integers(1, 40, len(eng)))
        self.frame = eng
        # outcomes of calls as HubSpot names them
        disp = eng["disposition"].to_numpy(dtype=object)
        label = np.select(
            [disp == "Connected", np.isin(disp, ["Meeting Set", "Meeting Booked"]), disp == "Left Voicemail",
             disp == "No Answer", disp == "Busy", disp == "Wrong Number"],
            ["Connected", "Meeting booked", "Left voicemail", "No answer", "Busy", "Wrong number"], "").astype(object)
        live = (label == "Left voicemail") & (rng.random(len(eng)) < 0.2)
        label[live] = "Left live message"
        call_status = np.where(eng["status"].eq("FAILED"), "FAILED", "COMPLETED").astype(object)
        quiet = (label == "No answer") & (rng.random(len(eng)) < 0.5)
        call_status[quiet] = "NO_ANSWER"
        busy = (label == "Busy") & (rng.random(len(eng)) < 0.5)
        call_status[busy] = "BUSY"
        self.outcome_label = label
        self.call_status = call_status


def owner_ids(crm: Crm) -> np.ndarray:
    """Each user's HubSpot owner id (by uid)."""
    return _cached(crm, "hs_ids", lambda: _Ids(crm)).owner


def failed_calls(crm: Crm) -> int:
    """How many calls HubSpot logged that never rang (status FAILED)."""
    ids = _cached(crm, "hs_ids", lambda: _Ids(crm))
    return _cached(crm, "hs_engagements", lambda: _Engagements(crm, ids)).n_failed


def _owner_ids(crm: Crm, ids: _Ids, uid) -> pa.Array:
    """Owner ids of users; integration users own nothing in HubSpot (null)."""
    uid = np.asarray(uid)
    kind = crm.users["kind"].to_numpy()[uid]
    return pa.array(ids.owner[uid], mask=(kind == "integration"))


def _warehouse(crm: Crm, out: Path, name: str, columns: dict, rng, modified=None) -> int:
    n = len(next(iter(columns.values())))
    as_of = np.datetime64(crm.as_of, "ms")
    base = np.full(n, as_of - np.timedelta64(6, "h")) if modified is None else modified
    synced = F.synced_at(base, as_of, rng)
    columns = {k: (_null_empty(v) if not isinstance(v, pa.Array) else v) for k, v in columns.items()}
    columns["_fivetran_synced"] = F.warehouse_ts(synced)
    return F.write_csv(columns, out / f"{name}.csv", quoting="needed")


def _null_empty(values) -> pa.Array:
    a = np.asarray(values)
    if a.dtype == bool:
        return pa.array(a)
    if a.dtype.kind in "iuf":
        return pa.array(a)
    arr = F.text(a)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def write_sync(crm: Crm, out: Path) -> dict:
    """HubSpot tables as Fivetran lands them, exported as CSV (text quoted, numbers and
    booleans bare, NULL empty). Timestamps: epoch milliseconds in property_hs_*timestamp
    and *_time columns (as HubSpot's API gives them), warehouse timestamps elsewhere."""
    ids = _cached(crm, "hs_ids", lambda: _Ids(crm))
    rng = np.random.default_rng([int(crm.args["seed"]), 0x5C])
    u = crm.users
    rows = {}
    ts = lambda local: F.warehouse_ts(to_utc(local))            # noqa: E731
    ms = lambda local: F.epoch_ms(to_utc(local))                # noqa: E731
    people = ~u["kind"].eq("integration").to_numpy()

    # owners, users, roles, teams
    ou = u[people]
    rows["owner.csv"] = _warehouse(crm, out, "owner", {
        "owner_id": ids.owner[ou["uid"]], "portal_id": np.full(len(ou), ids.portal),
        "type": np.full(len(ou), "PERSON", dtype=object), "email": ou["email"].to_numpy(dtype=object),
        "first_name": ou["first"].to_numpy(dtype=object), "last_name": ou["last"].to_numpy(dtype=object),
        "is_active": ou["active"].to_numpy(),
        "active_user_id": pa.array(ids.user[ou["uid"]], mask=~ou["active"].to_numpy()),
        "created_at": ts(ou["created"]), "updated_at": ts(ou["deactivated"].fillna(ou["created"])),
    }, rng)
    role_names = list(dict.fromkeys(crm.roles["name"]))
    role_names.insert(0, "Super Admin")
    role_id = {name: 800_000 + 17 * i for i, name in enumerate(role_names)}
    roles = crm.roles["name"].to_numpy(dtype=object)
    user_role = np.array([role_id["Super Admin"] if k == "admin" else
                          (role_id[roles[r]] if r >= 0 else -1)
                          for k, r in zip(ou["kind"], ou["role_key"])])
    teams = _cached(crm, "hs_teams", lambda: _teams(crm))
    team_of = teams["primary"]
    rows["users.csv"] = _warehouse(crm, out, "users", {
        "id": ids.user[ou["uid"]], "email": ou["email"].to_numpy(dtype=object),
        "first_name": ou["first"].to_numpy(dtype=object), "last_name": ou["last"].to_numpy(dtype=object),
        "role_id": pa.array(user_role, mask=user_role < 0),
        "primary_team_id": pa.array(team_of[ou["uid"]], mask=team_of[ou["uid"]] < 0),
        "_fivetran_deleted": ~ou["active"].to_numpy(),
    }, rng)
    rows["role.csv"] = _warehouse(crm, out, "role", {
        "id": np.array(list(role_id.values())), "name": np.array(list(role_id), dtype=object),
        "requires_billing_write": np.array([n == "Super Admin" for n in role_id]),
        "_fivetran_deleted": np.zeros(len(role_id), bool)}, rng)
    rows["team.csv"] = _warehouse(crm, out, "team", {
        "id": teams["ids"], "name": np.array(teams["names"], dtype=object)}, rng)
    rows["owner_team.csv"] = _warehouse(crm, out, "owner_team", {
        "owner_id": ids.owner[teams["member_uid"]], "team_id": teams["member_team"],
        "is_team_primary": teams["member_primary"]}, rng)

    # pipelines and stages
    rows["deal_pipeline.csv"] = _warehouse(crm, out, "deal_pipeline", {
        "pipeline_id": np.array(["default", RENEWAL_PIPELINE], dtype=object),
        "label": np.array(["Sales Pipeline", "Renewals"], dtype=object), "active": np.array([True, True]),
        "display_order": np.array([0, 1]), "_fivetran_deleted": np.array([False, False]),
        "created_at": F.warehouse_ts(np.array(["2018-03-05T15:00:00", "2022-01-10T16:00:00"], dtype="datetime64[s]")),
        "updated_at": F.warehouse_ts(np.array(["2021-06-01T14:00:00", "2022-01-10T16:00:00"], dtype="datetime64[s]")),
    }, rng)
    all_stages = [(s, "default", i) for i, s in enumerate(STAGES)] + \
                 [(s, RENEWAL_PIPELINE, i) for i, s in enumerate(RENEWAL_STAGES)]
    rows["deal_pipeline_stage.csv"] = _warehouse(crm, out, "deal_pipeline_stage", {
        "stage_id": np.array([s[0][0] for s in all_stages], dtype=object),
        "pipeline_id": np.array([s[1] for s in all_stages], dtype=object),
        "label": np.array([s[0][1] for s in all_stages], dtype=object),
        "display_order": np.array([s[2] for s in all_stages]),
        "probability": np.array([s[0][2] for s in all_stages]),
        "active": np.ones(len(all_stages), bool), "closed_won": np.array([s[0][4] for s in all_stages]),
        "is_closed": np.array([s[0][3] for s in all_stages]),
        "_fivetran_deleted": np.zeros(len(all_stages), bool)}, rng)

    # companies
    a = crm.accounts
    rows["company.csv"] = _warehouse(crm, out, "company", {
        "id": ids.company[a["aid"]], "portal_id": np.full(len(a), ids.portal),
        "is_deleted": np.zeros(len(a), bool), "property_name": a["name"].to_numpy(dtype=object),
        "property_industry": a["industry"].str.upper().to_numpy(dtype=object),
        "property_createdate": ts(a["created"]), "property_hubspot_owner_id": _owner_ids(crm, ids, a["owner"]),
        "_fivetran_deleted": np.zeros(len(a), bool)}, rng, to_utc(a["created"]))

    # deals: the sales pipeline's and the renewals'
    deals = _cached(crm, "hs_deals", lambda: _deal_frame(crm, ids))
    owner = _owner_ids(crm, ids, deals["owner"])
    sdr = deals["source"].to_numpy()
    rows["deal.csv"] = _warehouse(crm, out, "deal", {
        "deal_id": deals["deal_id"].to_numpy(), "portal_id": np.full(len(deals), ids.portal),
        "is_deleted": deals["deleted"].to_numpy() & ~deals["purged"].to_numpy(),
        "deal_pipeline_id": deals["pipeline"].to_numpy(dtype=object),
        "deal_pipeline_stage_id": deals["stage_id"].to_numpy(dtype=object), "owner_id": owner,
        "property_dealname": deals["name"].to_numpy(dtype=object),
        "property_amount": deals["amount"].to_numpy(), "property_dealtype": deals["dealtype"].to_numpy(dtype=object),
        "property_createdate": ts(deals["created"]), "property_closedate": ts(deals["close"]),
        "property_hs_is_closed": deals["closed"].to_numpy(), "property_hs_is_closed_won": deals["won"].to_numpy(),
        "property_closed_lost_reason": deals["loss"].to_numpy(dtype=object),
        "property_hubspot_owner_id": owner, "property_pipeline": deals["pipeline"].to_numpy(dtype=object),
        "property_dealstage": deals["stage_id"].to_numpy(dtype=object),
        "property_sdr_owner": pa.array(ids.owner[np.maximum(sdr, 0)], mask=sdr < 0),
        "property_hs_lastmodifieddate": ts(deals["modified"]),
        "_fivetran_deleted": deals["purged"].to_numpy()}, rng, to_utc(deals["modified"]))

    # stage history: every change of the deal stage (Fivetran's history mode)
    hist = _cached(crm, "hs_stage_history", lambda: _stage_history(crm, ids))
    rows["deal_stage.csv"] = _warehouse(crm, out, "deal_stage", {
        "deal_id": hist["deal_id"].to_numpy(), "value": hist["value"].to_numpy(dtype=object),
        "date_entered": ts(hist["at"]), "source": hist["source"].to_numpy(dtype=object),
        "source_id": hist["source_id"].to_numpy(dtype=object),
        "_fivetran_start": ts(hist["at"]),
        "_fivetran_end": F.warehouse_ts(np.where(hist["active"].to_numpy(), FAR_FUTURE,
                                                 to_utc(hist["end"].fillna(hist["at"])))),
        "_fivetran_active": hist["active"].to_numpy()}, rng, to_utc(hist["at"]))

    # engagements
    eng = _cached(crm, "hs_engagements", lambda: _Engagements(crm, ids))
    e = eng.frame
    gone = e["deleted"].to_numpy()
    purged = e["purged"].to_numpy()
    modified = to_utc(e["created"])
    rows["engagement.csv"] = _warehouse(crm, out, "engagement", {
        "id": e["id"].to_numpy(), "portal_id": np.full(len(e), ids.portal), "type": e["type"].to_numpy(dtype=object),
        "owner_id": _owner_ids(crm, ids, e["owner"]), "timestamp": ts(e["at"]), "created_at": ts(e["created"]),
        "last_updated": ts(e["created"]), "active": ~(gone & ~purged),
        "_fivetran_deleted": purged}, rng, modified)
    detail = ~(gone & purged)      # purged engagements lost their detail rows too
    calls = e[(e["type"] == "CALL").to_numpy() & detail]
    ci = calls.index.to_numpy()
    rows["engagement_call.csv"] = _warehouse(crm, out, "engagement_call", {
        "engagement_id": calls["id"].to_numpy(),
        "property_hs_call_disposition": np.array([OUTCOMES.get(x, "") for x in eng.outcome_label[ci]], dtype=object),
        "property_hs_call_duration": F.typed_number(calls["duration_s"].to_numpy() * 1000, integral=True),
        "property_hs_call_status": eng.call_status[ci],
        "property_hs_call_direction": np.full(len(calls), "OUTBOUND", dtype=object),
        "property_hs_call_title": calls["subject"].to_numpy(dtype=object),
        "property_hs_timestamp": ms(calls["at"]),
        "property_hubspot_owner_id": _owner_ids(crm, ids, calls["owner"]),
        "property_hs_createdate": ts(calls["created"])}, rng, to_utc(calls["created"]))
    meet = e[(e["type"] == "MEETING").to_numpy() & detail]
    creator_user = pa.array(ids.user[meet["creator"].to_numpy()],
                            mask=u["kind"].to_numpy()[meet["creator"].to_numpy()] == "integration")
    rows["engagement_meeting.csv"] = _warehouse(crm, out, "engagement_meeting", {
        "engagement_id": meet["id"].to_numpy(), "property_hs_meeting_outcome": meet["outcome"].to_numpy(dtype=object),
        "property_hs_meeting_title": meet["subject"].to_numpy(dtype=object),
        "property_hs_meeting_start_time": ms(meet["at"]), "property_hs_meeting_end_time": ms(meet["end"]),
        "property_hs_timestamp": ms(meet["at"]),
        "property_hubspot_owner_id": _owner_ids(crm, ids, meet["owner"]),
        "property_hs_created_by_user_id": creator_user,
        "property_hs_createdate": ts(meet["created"])}, rng, to_utc(meet["created"]))
    mail = e[e["type"].isin(["EMAIL", "INCOMING_EMAIL"]).to_numpy() & detail]
    rows["engagement_email.csv"] = _warehouse(crm, out, "engagement_email", {
        "engagement_id": mail["id"].to_numpy(), "property_hs_email_direction": mail["direction"].to_numpy(dtype=object),
        "property_hs_email_status": np.where(mail["direction"] == "EMAIL", "SENT", "").astype(object),
        "property_hs_email_subject": mail["subject"].to_numpy(dtype=object),
        "property_hs_timestamp": ms(mail["at"]),
        "property_hubspot_owner_id": _owner_ids(crm, ids, mail["owner"])}, rng, to_utc(mail["created"]))
    on_deal = e[(e["what_kind"] == "opp").to_numpy() & detail]
    rows["engagement_deal.csv"] = _warehouse(crm, out, "engagement_deal", {
        "engagement_id": on_deal["id"].to_numpy(), "deal_id": ids.deal[on_deal["what_key"].to_numpy()]}, rng)
    on_acc = e[(e["account"] >= 0).to_numpy() & detail]
    rows["engagement_company.csv"] = _warehouse(crm, out, "engagement_company", {
        "engagement_id": on_acc["id"].to_numpy(), "company_id": ids.company[on_acc["account"].to_numpy()]}, rng)
    return rows


def _teams(crm: Crm) -> dict:
    """HubSpot teams: one per sales team (its manager in it), leadership, revenue
    operations, and a cross-team push some reps belong to besides their own team."""
    u = crm.users
    t = crm.teams
    names = list(t["label"]) + ["Sales Leadership", "Revenue Operations", "Q4 Enterprise Push"]
    team_ids = 6_100_000 + 13 * np.arange(len(names))
    primary = np.full(len(u), -1, dtype=np.int64)
    tk = u["team_key"].to_numpy()
    primary[tk >= 0] = team_ids[tk[tk >= 0]]
    for i, m in enumerate(t["manager_uid"]):
        primary[m] = team_ids[i]
    lead = u["kind"].isin(["vp", "director"]).to_numpy()
    primary[lead] = team_ids[len(t)]
    primary[u["kind"].eq("admin").to_numpy()] = team_ids[len(t) + 1]
    members = np.flatnonzero(primary >= 0)
    reps = u.index[u["kind"].eq("rep")].to_numpy()
    push = reps[:: max(1, len(reps) // 4)][:4]
    return {"ids": team_ids, "names": names, "primary": primary,
            "member_uid": np.concatenate([members, push]),
            "member_team": np.concatenate([primary[members], np.full(len(push), team_ids[-1])]),
            "member_primary": np.concatenate([np.ones(len(members), bool), np.zeros(len(push), bool)])}


def _deal_frame(crm: Crm, ids: _Ids) -> pd.DataFrame:
    """Deals of both pipelines: ids, stage id, closed/won flags, local times."""
    o, r = crm.opps, crm.renewals
    close_local = np.where(o["status"].eq("open").to_numpy(),
                           o["close_day"].to_numpy().astype("datetime64[s]"),
                           o["last_modified"].to_numpy().astype("datetime64[s]"))
    closed_at = crm.history[crm.history["kind"] == "closed"].groupby("oid")["at"].max()
    has = closed_at.reindex(o["oid"]).notna().to_numpy()
    close_local = np.where(has, closed_at.reindex(o["oid"]).to_numpy(), close_local)
    sales = pd.DataFrame({
        "deal_id": ids.deal[o["oid"].to_numpy()], "owner": o["owner"].to_numpy(), "pipeline": "default",
        "stage_id": _stage_id(o["stage"], o["sub"]), "name": o["name"].to_numpy(dtype=object),
        "amount": o["amount"].to_numpy(), "dealtype": "newbusiness",
        "created": o["created"].to_numpy(), "close": close_local,
        "closed": o["status"].ne("open").to_numpy(), "won": o["status"].eq("won").to_numpy(),
        "loss": o["loss_reason"].map(LOSS_TEXT).fillna("").to_numpy(dtype=object),
        "source": o["source"].to_numpy(), "account": o["account"].to_numpy(),
        "modified": o["last_modified"].to_numpy(), "deleted": o["deleted"].to_numpy(),
        "purged": o["purged"].to_numpy(), "oid": o["oid"].to_numpy()})
    status = r["status"].to_numpy()
    stage = np.select([status == "won", status == "lost"], ["31254879", "31254880"], "31254878")
    renew = pd.DataFrame({
        "deal_id": ids.renewal, "owner": r["owner"].to_numpy(), "pipeline": RENEWAL_PIPELINE,
        "stage_id": stage.astype(object),
        "name": crm.accounts.set_index("aid")["name"][r["account"]].to_numpy(dtype=object) + " - Renewal",
        "amount": r["amount"].to_numpy(), "dealtype": "existingbusiness", "created": r["created"].to_numpy(),
        "close": r["close"].to_numpy(), "closed": status != "open", "won": status == "won",
        "loss": np.where(status == "lost", "Churned: budget cuts", ""), "source": -1,
        "account": r["account"].to_numpy(), "modified": np.where(status == "open", r["created"], r["close"]),
        "deleted": False, "purged": False, "oid": -1})
    return pd.concat([sales, renew], ignore_index=True)


def _stage_history(crm: Crm, ids: _Ids) -> pd.DataFrame:
    """deal_stage rows: each new value of dealstage, when it was entered, until when."""
    h = crm.history[crm.history["kind"].isin(["created", "stage", "back", "closed"])]
    h = h.sort_values(["oid", "at"], kind="stable")
    value = _stage_id(h["stage"], h["sub"])
    oid = h["oid"].to_numpy()
    same = np.append(False, (oid[1:] == oid[:-1]) & (value[1:] == value[:-1]))
    emails = crm.users["email"].to_numpy(dtype=object)
    sales = pd.DataFrame({"deal_id": ids.deal[oid], "value": value, "at": h["at"].to_numpy(),
                          "source": np.where(h["kind"].eq("created"), "DEALS", "CRM_UI"),
                          "source_id": emails[h["by"].to_numpy()]})[~same]
    r = crm.renewals
    won, lost = r["status"].eq("won").to_numpy(), r["status"].eq("lost").to_numpy()
    opened = pd.DataFrame({"deal_id": ids.renewal, "value": "31254877", "at": r["created"].to_numpy(),
                           "source": "DEALS", "source_id": emails[r["owner"].to_numpy()]})
    quoted = opened.assign(value="31254878", source="CRM_UI",
                           at=r["created"].to_numpy() + np.timedelta64(2 * 86400, "s"))
    done = pd.DataFrame({"deal_id": ids.renewal, "value": np.where(won, "31254879", "31254880"),
                         "at": r["close"].to_numpy(), "source": "CRM_UI",
                         "source_id": emails[r["owner"].to_numpy()]})[won | lost]
    until = np.where(won | lost, r["close"].to_numpy(), crm.end_day.astype("datetime64[s]"))
    quoted = quoted[quoted["at"].to_numpy() < until]
    hist = pd.concat([sales, opened, quoted, done], ignore_index=True).sort_values(["deal_id", "at"], kind="stable")
    d = hist["deal_id"].to_numpy()
    last = np.append(d[1:] != d[:-1], True)
    hist["active"] = last
    hist["end"] = pd.Series(np.append(hist["at"].to_numpy()[1:], np.datetime64("NaT")), index=hist.index).where(~last)
    return hist.reset_index(drop=True)


# ------------------------------------------------------------------ export view
def export_files(as_of_day: str) -> dict:
    """File names of HubSpot's 'Export view' downloads."""
    return {k: f"hubspot-crm-exports-all-{k}-{as_of_day}.csv" for k in ("deals", "calls", "meetings", "emails")}


def write_export(crm: Crm, out: Path) -> dict:
    """The UI's 'Export view' CSVs (property labels, the account's time zone, owners by
    name) and the users.csv an admin prepares."""
    ids = _cached(crm, "hs_ids", lambda: _Ids(crm))
    u = crm.users
    as_of_day = str(pd.Timestamp(crm.as_of).date())
    files = export_files(as_of_day)
    name = u["name"].to_numpy(dtype=object)
    shown = np.where(u["active"].to_numpy(), name, name + " (Deactivated User)").astype(object)
    shown[u["kind"].eq("integration").to_numpy()] = ""
    rows = {}

    # users.csv: Users & Teams export, completed by the admin (active users only)
    au = u[u["active"].to_numpy() & ~u["kind"].eq("integration").to_numpy()]
    teams = _cached(crm, "hs_teams", lambda: _teams(crm))
    team_names = dict(zip(teams["ids"], teams["names"]))
    roles = crm.roles["name"].to_numpy(dtype=object)
    mgr = au["manager_uid"].to_numpy()
    rows["users.csv"] = F.write_csv({
        "First Name": au["first"].to_numpy(dtype=object), "Last Name": au["last"].to_numpy(dtype=object),
        "Email": au["email"].to_numpy(dtype=object),
        "Role": np.where(au["kind"].eq("admin"), "Super Admin",
                         np.where(au["role_key"] >= 0, roles[np.maximum(au["role_key"].to_numpy(), 0)], "")).astype(object),
        "Team": np.array([team_names.get(t, "") for t in teams["primary"][au["uid"]]], dtype=object),
        "Division": au["division"].to_numpy(dtype=object),
        "Manager": np.where(mgr >= 0, name[np.maximum(mgr, 0)], "").astype(object),
    }, out / "users.csv", quoting="minimal")

    deals = _cached(crm, "hs_deals", lambda: _deal_frame(crm, ids))
    deals = deals[~deals["deleted"].to_numpy()].reset_index(drop=True)
    labels = {s[0]: s[1] for s in STAGES + RENEWAL_STAGES}
    acc = crm.accounts.set_index("aid")["name"]
    is_open = ~deals["closed"].to_numpy()
    close = np.where(is_open, F.iso_date(deals["close"].to_numpy()).to_numpy(zero_copy_only=False),
                     F.local_minutes(deals["close"].to_numpy()).to_numpy(zero_copy_only=False))
    src = deals["source"].to_numpy()
    cols = {
        "Record ID": deals["deal_id"].astype(str).to_numpy(dtype=object),
        "Deal Name": deals["name"].to_numpy(dtype=object),
        "Pipeline": np.where(deals["pipeline"].eq("default"), "Sales Pipeline", "Renewals").astype(object),
        "Deal Stage": deals["stage_id"].map(labels).to_numpy(dtype=object),
        "Amount": F.integer(deals["amount"].to_numpy()),
        "Create Date": F.local_minutes(deals["created"].to_numpy()), "Close Date": close.astype(object),
        "Deal owner": shown[deals["owner"].to_numpy()],
        "Closed lost reason": deals["loss"].to_numpy(dtype=object),
        "Associated Company": acc[deals["account"]].to_numpy(dtype=object),
        "Deal Type": np.where(deals["dealtype"].eq("newbusiness"), "New Business", "Existing Business").astype(object),
        "SDR Owner": np.where(src >= 0, shown[np.maximum(src, 0)], "").astype(object),
    }
    # Date entered "<stage> (Sales Pipeline)": the latest time the deal entered the stage
    hist = _cached(crm, "hs_stage_history", lambda: _stage_history(crm, ids))
    latest = hist.groupby(["deal_id", "value"])["at"].max()
    for stage_id, label, *_ in STAGES:
        when = latest.xs(stage_id, level="value") if stage_id in latest.index.get_level_values(1) else pd.Series(dtype="datetime64[s]")
        at = when.reindex(deals["deal_id"]).to_numpy().astype("datetime64[s]")
        cols[f'Date entered "{label} (Sales Pipeline)"'] = F.local_minutes(at)
    rows[files["deals"]] = F.write_csv(cols, out / files["deals"], quoting="minimal")

    eng = _cached(crm, "hs_engagements", lambda: _Engagements(crm, ids))
    e = eng.frame
    live = ~e["deleted"].to_numpy()
    deal_of = pd.Series(ids.deal, index=np.arange(len(ids.deal)))
    company = ids.company

    def assoc(frame):
        d = np.where(frame["what_kind"].eq("opp"), frame["what_key"], -1)
        deal = np.where(d >= 0, deal_of.reindex(np.maximum(d, 0)).to_numpy(), 0)
        a = frame["account"].to_numpy()
        return (np.where(d >= 0, deal.astype(str), "").astype(object),
                np.where(a >= 0, company[np.maximum(a, 0)].astype(str), "").astype(object))

    calls = e[live & (e["type"] == "CALL").to_numpy()]
    ci = calls.index.to_numpy()
    deal_ids, comp_ids = assoc(calls)
    status_label = {"COMPLETED": "Completed", "NO_ANSWER": "No answer", "BUSY": "Busy", "FAILED": "Failed"}
    rows[files["calls"]] = F.write_csv({
        "Record ID": calls["id"].astype(str).to_numpy(dtype=object),
        "Call Title": calls["subject"].to_numpy(dtype=object),
        "Activity date": F.local_minutes(calls["at"].to_numpy()),
        "Activity assigned to": shown[calls["owner"].to_numpy()],
        "Call outcome": eng.outcome_label[ci], "Call status": np.array([status_label[s] for s in eng.call_status[ci]], dtype=object),
        "Call duration": F.integer(calls["duration_s"].to_numpy() * 1000),
        "Call direction": np.full(len(calls), "Outbound", dtype=object),
        "Associated Deal IDs": deal_ids, "Associated Company IDs": comp_ids,
    }, out / files["calls"], quoting="minimal")

    meet = e[live & (e["type"] == "MEETING").to_numpy()]
    deal_ids, comp_ids = assoc(meet)
    rows[files["meetings"]] = F.write_csv({
        "Record ID": meet["id"].astype(str).to_numpy(dtype=object),
        "Meeting name": meet["subject"].to_numpy(dtype=object),
        "Activity date": F.local_minutes(meet["at"].to_numpy()),
        "Activity assigned to": shown[meet["owner"].to_numpy()],
        "Meeting outcome": meet["outcome"].map(MEETING_OUTCOMES).to_numpy(dtype=object),
        "Created by": shown[meet["creator"].to_numpy()],
        "Create date": F.local_minutes(meet["created"].to_numpy()),
        "Associated Deal IDs": deal_ids, "Associated Company IDs": comp_ids,
    }, out / files["meetings"], quoting="minimal")

    mail = e[live & e["type"].isin(["EMAIL", "INCOMING_EMAIL"]).to_numpy()]
    deal_ids, _ = assoc(mail)
    incoming = mail["direction"].eq("INCOMING_EMAIL").to_numpy()
    rows[files["emails"]] = F.write_csv({
        "Record ID": mail["id"].astype(str).to_numpy(dtype=object),
        "Email subject": mail["subject"].to_numpy(dtype=object),
        "Activity date": F.local_minutes(mail["at"].to_numpy()),
        "Activity assigned to": shown[mail["owner"].to_numpy()],
        "Email direction": np.where(incoming, "Incoming email", "Email").astype(object),
        "Email send status": np.where(incoming, "", "Sent").astype(object),
        "Associated Deal IDs": deal_ids,
    }, out / files["emails"], quoting="minimal")
    return rows
