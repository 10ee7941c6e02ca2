"""CRM-shaped exports of the demo org (tests/exports): deterministic, shaped as the CRMs
write them, carrying the traps README.md lists, and true to the demo org's figures."""
from __future__ import annotations

import csv
import os
import uuid
from functools import lru_cache

import pandas as pd
import pytest
import sqlalchemy as sa

from exports import load_warehouse, reference
from exports.make_exports import SHAPES, crm_for, main, write_exports
from exports.reference import REP_ROLES, figures_from, read

ARGS = {"reps": 30, "months": 6, "seed": 5, "end": "2026-04"}
TINY = {"reps": 10, "months": 2, "seed": 3, "end": "2025-12"}
MONTH, EARLIER = "2026-04", "2026-02"
AS_OF = "2026-05-01T14:00:00Z"
BDR_ROLES, ISR_ROLES = REP_ROLES[:4], REP_ROLES[4:]
SF_PREFIX = {"Opportunity": "006", "User": "005", "UserRole": "00E", "Task": "00T",
             "Event": "00U", "Account": "001", "OpportunityHistory": "008"}
SF_STAGE = {"Prospecting": 0, "Qualification": 0, "Needs Analysis": 0, "Value Proposition": 1,
            "Id. Decision Makers": 2, "Perception Analysis": 2, "Proposal/Price Quote": 3,
            "Negotiation/Review": 3, "Closed Won": 4}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Every shape of one small org: shape -> (folder, truth)."""
    root = tmp_path_factory.mktemp("crm")
    return {shape: (root / shape, write_exports(root / shape, shape, **ARGS)) for shape in SHAPES}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Every shape of a tiny org, for determinism and the warehouse."""
    root = tmp_path_factory.mktemp("tiny")
    crm_for.cache_clear()
    for shape in SHAPES:
        write_exports(root / shape, shape, **TINY)
    return root


@pytest.fixture(scope="module")
def org(exports):
    return crm_for(**ARGS).org


@pytest.fixture(scope="module")
def facts(exports):
    return {shape: reference.facts(folder) for shape, (folder, _) in exports.items()}


def header(path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


@lru_cache(maxsize=48)
def _parsed(path, footer: bool) -> pd.DataFrame:
    return read(path, footer)


def _read(path, footer: bool = False) -> pd.DataFrame:
    """A file's rows (parsed once per test session)."""
    return _parsed(path, footer).copy()


def sf(exports, obj: str) -> pd.DataFrame:
    return _read(exports["salesforce-api"][0] / f"{obj}.csv")


def checksum_ok(sfid: str) -> bool:
    """An 18-character id's last three characters encode the case of the first fifteen."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = "".join(alphabet[sum(1 << j for j, c in enumerate(sfid[i:i + 5]) if c.isupper())]
                     for i in (0, 5, 10))
    return len(sfid) == 18 and sfid[15:] == suffix


def demo_figures(org, month: str) -> pd.DataFrame:
    """The demo dataset's own figures for a month, per demo rep."""
    p = pd.Period(month, freq="M")
    start, end, year = p.start_time, (p + 1).start_time, (p - 11).start_time
    o, a = org.opportunities, org.activities
    out = pd.DataFrame(index=org.reps["rep_id"])

    def per_rep(frame):
        return frame["rep_id"].astype(str).value_counts().reindex(out.index).fillna(0).astype(int)

    won = o["status"].eq("won") & (o["close_date"] >= start) & (o["close_date"] < end)
    out["won_deals"] = per_rep(o[won])
    out["revenue"] = o[won].groupby("rep_id")["amount"].sum().reindex(out.index).fillna(0).astype(float)
    closed = o["status"].ne("open") & (o["close_date"] >= year) & (o["close_date"] < end)
    out["won_12m"] = per_rep(o[closed & o["status"].eq("won")])
    out["closed_12m"] = per_rep(o[closed])
    in_month = (a["date"] >= start) & (a["date"] < end)
    for column, kind in (("calls", "call"), ("connects", "connect"),
                         ("meetings_scheduled", "meeting_scheduled"), ("meetings_held", "meeting_held")):
        out[column] = per_rep(a[in_month & a["type"].eq(kind)])
    return out


# ------------------------------------------------------------------ determinism
def test_every_shape_is_byte_identical_with_the_same_arguments(tiny, tmp_path):
    crm_for.cache_clear()     # the org and its CRM are made again, not reused
    for shape in reversed(SHAPES):     # shapes share work: the order must not matter
        write_exports(tmp_path / shape, shape, **TINY)
    files = sorted(p.relative_to(tiny) for p in tiny.rglob("*") if p.is_file())
    assert len(files) > 40
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for f in files:
        assert (tiny / f).read_bytes() == (tmp_path / f).read_bytes(), f
    assert (tiny / "salesforce-api" / "Task.csv").read_bytes() != \
        (tiny / "salesforce-dataloader" / "Task.csv").read_bytes()     # headers differ


def test_the_command_writes_an_export_and_refuses_a_full_folder(tmp_path, capsys):
    args = [str(tmp_path / "out"), "--shape", "hubspot-export", "--reps", "10", "--months", "2",
            "--seed", "3", "--end", "2025-12"]
    assert main(args) == 0
    assert "hubspot-crm-exports-all-calls-2026-01-01.csv" in capsys.readouterr().out
    assert main(args) == 1
    assert "not an empty folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="shape must be one of"):
        write_exports(tmp_path / "x", "pipedrive", **TINY)


# ------------------------------------------------------------------ files and columns
API = {
    "Opportunity": ["Id", "IsDeleted", "OwnerId", "StageName", "Amount", "CloseDate", "IsClosed", "IsWon",
                    "CreatedDate", "AccountId", "Name", "Type", "LeadSource", "Probability",
                    "ForecastCategoryName", "Loss_Reason__c", "Sourced_By__c"],
    "OpportunityHistory": ["Id", "OpportunityId", "StageName", "Amount", "CloseDate", "Probability",
                           "CreatedDate", "CreatedById", "IsDeleted"],
    "User": ["Id", "Username", "FirstName", "LastName", "Name", "Email", "IsActive", "UserRoleId",
             "ManagerId", "Department", "Division", "Title", "UserType"],
    "UserRole": ["Id", "Name", "ParentRoleId", "DeveloperName"],
    "Task": ["Id", "WhoId", "WhatId", "Subject", "ActivityDate", "Status", "OwnerId", "Type", "TaskSubtype",
             "CallDurationInSeconds", "CallType", "CallDisposition", "CreatedDate", "CreatedById",
             "IsDeleted", "IsClosed", "AccountId"],
    "Event": ["Id", "Subject", "StartDateTime", "EndDateTime", "ActivityDate", "ActivityDateTime",
              "DurationInMinutes", "OwnerId", "CreatedById", "CreatedDate", "WhatId", "WhoId", "Type",
              "EventSubtype", "IsDeleted", "IsChild", "Meeting_Status__c"],
    "Account": ["Id", "IsDeleted", "Name", "OwnerId", "CreatedDate"],
}
FIELD_HISTORY = ["ID", "OPPORTUNITYID", "FIELD", "OLDVALUE", "NEWVALUE", "CREATEDDATE", "DATATYPE",
                 "ISDELETED"]
REPORT = {
    "users.csv": ["User ID", "Full Name", "Role", "Team", "Division", "Manager", "Email"],
    "opportunities.csv": ["Opportunity ID", "Opportunity Owner", "Stage", "Amount", "Created Date",
                          "Close Date", "Won", "Closed", "Loss Reason", "Account Name", "Sourced By"],
    "opportunity_history.csv": ["Opportunity ID", "From Stage", "To Stage", "Amount", "Close Date",
                                "Last Modified Date"],
    "activities.csv": ["Activity ID", "Assigned", "Subject", "Type", "Task Subtype", "Date", "Call Duration",
                       "Call Result", "Opportunity ID", "Created By", "Created Date", "Meeting Status"],
}
HUBSPOT_SYNC = {
    "deal.csv": ["deal_id", "portal_id", "is_deleted", "deal_pipeline_id", "deal_pipeline_stage_id", "owner_id",
                 "property_dealname", "property_amount", "property_createdate", "property_closedate",
                 "property_hs_is_closed", "property_hs_is_closed_won", "property_closed_lost_reason",
                 "property_hubspot_owner_id", "_fivetran_synced", "_fivetran_deleted"],
    "deal_pipeline.csv": ["pipeline_id", "label", "active", "display_order"],
    "deal_pipeline_stage.csv": ["stage_id", "pipeline_id", "label", "display_order", "probability", "active",
                                "closed_won", "is_closed"],
    "deal_stage.csv": ["deal_id", "value", "date_entered", "source", "_fivetran_start", "_fivetran_end",
                       "_fivetran_active"],
    "owner.csv": ["owner_id", "email", "first_name", "last_name", "is_active", "type", "active_user_id"],
    "owner_team.csv": ["owner_id", "team_id", "is_team_primary"],
    "team.csv": ["id", "name"],
    "users.csv": ["id", "email", "role_id", "primary_team_id", "_fivetran_deleted"],
    "role.csv": ["id", "name"],
    "engagement.csv": ["id", "type", "owner_id", "timestamp", "created_at", "active", "_fivetran_deleted"],
    "engagement_call.csv": ["engagement_id", "property_hs_call_disposition", "property_hs_call_duration",
                            "property_hs_timestamp", "property_hubspot_owner_id", "property_hs_call_status"],
    "engagement_meeting.csv": ["engagement_id", "property_hs_meeting_outcome", "property_hs_meeting_start_time",
                               "property_hs_timestamp", "property_hubspot_owner_id",
                               "property_hs_created_by_user_id", "property_hs_createdate"],
    "engagement_email.csv": ["engagement_id", "property_hs_email_direction", "property_hs_timestamp",
                             "property_hubspot_owner_id"],
    "engagement_deal.csv": ["engagement_id", "deal_id"],
}
HUBSPOT_EXPORT = {
    "users.csv": ["First Name", "Last Name", "Email", "Role", "Team", "Division", "Manager"],
    "deals": ["Record ID", "Deal Name", "Pipeline", "Deal Stage", "Amount", "Create Date", "Close Date",
              "Deal owner", "Closed lost reason", "Associated Company",
              'Date entered "Appointment Scheduled (Sales Pipeline)"',
              'Date entered "Closed Won (Sales Pipeline)"'],
    "calls": ["Record ID", "Activity date", "Activity assigned to", "Call outcome", "Call duration",
              "Associated Deal IDs"],
    "meetings": ["Record ID", "Activity date", "Activity assigned to", "Meeting outcome", "Created by",
                 "Create date", "Associated Deal IDs"],
    "emails": ["Record ID", "Activity date", "Activity assigned to", "Associated Deal IDs"],
}


def test_each_shape_has_its_files_and_columns(exports):
    for obj, columns in API.items():
        assert set(columns) <= set(header(exports["salesforce-api"][0] / f"{obj}.csv")), obj
        dl = exports["salesforce-dataloader"][0]
        if obj == "OpportunityHistory":
            assert not (dl / f"{obj}.csv").exists()
            assert set(FIELD_HISTORY) <= set(header(dl / "OpportunityFieldHistory.csv"))
        else:
            assert {c.upper() for c in columns} <= set(header(dl / f"{obj}.csv")), obj
        table = load_warehouse.snake(obj)
        synced = header(exports["salesforce-sync"][0] / f"{table}.csv")
        assert {load_warehouse.snake(c) for c in columns} | {"_fivetran_synced", "_fivetran_deleted"} <= set(synced)
    sync = exports["salesforce-sync"][0]
    assert {p.name for p in sync.glob("*.csv")} == {"opportunity.csv", "opportunity_history.csv", "user.csv",
                                                   "user_role.csv", "task.csv", "event.csv", "account.csv"}
    for name in ("stage_name", "is_won", "loss_reason_c", "call_duration_in_seconds", "task_subtype",
                 "start_date_time", "meeting_status_c", "what_id", "created_by_id"):
        assert any(name in header(p) for p in sync.glob("*.csv")), name
    for name, columns in REPORT.items():
        assert set(columns) <= set(header(exports["salesforce-report"][0] / name)), name
    for name, columns in HUBSPOT_SYNC.items():
        assert set(columns) <= set(header(exports["hubspot-sync"][0] / name)), name
    hx = exports["hubspot-export"][0]
    for kind, columns in HUBSPOT_EXPORT.items():
        name = kind if kind.endswith(".csv") else f"hubspot-crm-exports-all-{kind}-2026-05-01.csv"
        assert set(columns) <= set(header(hx / name)), name


def test_values_are_written_as_each_crm_writes_them(exports):
    api = exports["salesforce-api"][0]
    for obj, prefix in SF_PREFIX.items():
        ids = _read(api / f"{obj}.csv")["Id"]
        sample = pd.concat([ids.iloc[:500], ids.iloc[-500:]])
        assert ids.str.startswith(prefix).all() and ids.str.len().eq(18).all(), obj
        assert sample.map(checksum_ok).all() and ids.is_unique, obj
    first = (api / "Opportunity.csv").read_text().splitlines()[1]
    assert first.startswith('"006') and first.count('"') == 2 * len(API["Opportunity"]) + 16
    o = sf(exports, "Opportunity")
    assert o["CreatedDate"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z").all()
    assert o["CloseDate"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert o["IsWon"].isin(["true", "false"]).all() and o["Amount"].str.fullmatch(r"\d+\.0").all()
    assert o["Sourced_By__c"].str.fullmatch(r"(005\w{15})?").all()
    dl = _read(exports["salesforce-dataloader"][0] / "Task.csv")
    assert dl["CREATEDDATE"].str.endswith("Z").all()
    synced = _read(exports["salesforce-sync"][0] / "opportunity.csv")
    assert synced["created_date"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC").all()
    assert synced["_fivetran_synced"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})? UTC").all()
    assert ",true," in (exports["salesforce-sync"][0] / "opportunity.csv").read_text()   # bare booleans
    rep = exports["salesforce-report"][0]
    ro = _read(rep / "opportunities.csv", footer=True)
    assert ro["Amount"].str.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d\d").all()
    assert ro["Close Date"].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").all()
    assert ro["Won"].isin(["0", "1"]).all()
    rh = _read(rep / "opportunity_history.csv", footer=True)
    assert rh["Last Modified Date"].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d [AP]M").all()
    for name in ("opportunities.csv", "opportunity_history.csv", "activities.csv"):
        tail = (rep / name).read_text().splitlines()[-6:]
        assert tail[0] == '""' and tail[2].startswith('"Copyright (c) 2000-2026 salesforce.com'), name
    hs = exports["hubspot-sync"][0]
    calls = _read(hs / "engagement_call.csv")
    assert calls["property_hs_timestamp"].str.fullmatch(r"\d{13}").all()      # milliseconds
    assert set(calls["property_hs_call_disposition"]) == set(reference.HUBSPOT_CONNECTED) | {
        "", "73a0d17f-1163-4015-bdd5-ec830791da20", "b2cf5968-551e-4856-9783-52b3da59a7d0",
        "a4c4c377-d246-4b32-a13b-75a56a4cd0ff", "9d9162e7-6cf3-4944-bf63-4dff82258764",
        "17b47fee-58de-441e-a44c-c6300d46f273"}
    assert calls["property_hs_call_duration"].str.fullmatch(r"\d+").all()    # milliseconds
    meetings = _read(hs / "engagement_meeting.csv")
    assert set(meetings["property_hs_meeting_outcome"]) == {"SCHEDULED", "COMPLETED", "NO_SHOW", "CANCELED",
                                                            "RESCHEDULED"}
    stages = _read(hs / "deal_pipeline_stage.csv")
    assert {"appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
            "contractsent", "closedwon", "closedlost"} <= set(stages["stage_id"])
    pipelines = _read(hs / "deal_pipeline.csv")
    assert pipelines.set_index("pipeline_id").at["default", "label"] == "Sales Pipeline"
    hx = exports["hubspot-export"][0]
    hc = _read(hx / "hubspot-crm-exports-all-calls-2026-05-01.csv")
    assert hc["Activity date"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()


# ------------------------------------------------------------------ realism
def roles_of(exports) -> pd.Series:
    users, roles = sf(exports, "User"), sf(exports, "UserRole")
    return users.set_index("Id")["UserRoleId"].map(roles.set_index("Id")["Name"]).fillna("")


def test_salesforce_carries_the_traps(exports):
    o, h, t, e, u = (sf(exports, x) for x in ("Opportunity", "OpportunityHistory", "Task", "Event", "User"))
    role = roles_of(exports)
    gone = set(o.loc[o["IsDeleted"].eq("true"), "Id"])
    assert gone and set(h.loc[h["IsDeleted"].eq("true"), "OpportunityId"]) == gone
    assert t.loc[t["IsDeleted"].eq("true"), "WhatId"].isin(gone).any()
    assert (o["IsDeleted"].eq("true") & o["IsWon"].eq("true") & o["CloseDate"].str.startswith(MONTH)).any()
    assert t["WhatId"].str.startswith("001").any()
    assert t["WhoId"].str.startswith("00Q").any() and t["WhoId"].str.startswith("003").any()
    assert (t["WhatId"].eq("") & t["WhoId"].str.startswith("00Q")).any()
    owner_role = t["OwnerId"].map(role)
    assert owner_role.isin(["Sales Manager", "Director", "VP Sales"]).any()
    assert (owner_role.eq("") | owner_role.eq("Sales Operations")).any()   # integration users, admin
    assert e["OwnerId"].map(role).isin(["Sales Manager", "Director", "VP Sales"]).any()
    assert e["OwnerId"].map(role).eq("Sales Operations").any()
    # amount and close date edits: history rows that keep the stage
    h = h.sort_values(["OpportunityId", "CreatedDate"], kind="stable")
    same = h["OpportunityId"].eq(h["OpportunityId"].shift()) & h["StageName"].eq(h["StageName"].shift())
    assert (same & h["Amount"].ne(h["Amount"].shift())).any()
    assert (same & h["CloseDate"].ne(h["CloseDate"].shift())).any()
    pairs = set(zip(h["StageName"].shift()[~same], h["StageName"][~same]))
    assert ("Prospecting", "Qualification") in pairs and ("Id. Decision Makers", "Perception Analysis") in pairs
    order = h["StageName"].map({**SF_STAGE, "Closed Lost": 9})
    back = h["OpportunityId"].eq(h["OpportunityId"].shift()) & (order < order.shift())
    assert back.any()
    # SDRs' bookings on AEs' calendars; invitees' copies; meetings after the export
    assert (e["CreatedById"].map(role).isin(BDR_ROLES) & e["OwnerId"].map(role).isin(ISR_ROLES)).any()
    assert e["IsChild"].eq("true").any()
    later = e["StartDateTime"] > AS_OF
    assert later.any() and e.loc[later, "Meeting_Status__c"].eq("").all()
    assert set(e["Meeting_Status__c"]) == {"Completed", "No Show", "Cancelled", ""}
    assert t["ActivityDate"].str.startswith("2062").sum() == 1
    calls = t[t["TaskSubtype"].eq("Call")]
    assert {"Connected", "Meeting Set", "Meeting Booked", "Left Voicemail", "No Answer", "Busy",
            "Wrong Number", ""} <= set(calls["CallDisposition"])
    assert calls["Type"].eq("").any() and calls["Type"].eq("Call").any()
    assert (t["TaskSubtype"].eq("Task") & t["Type"].eq("Call") & t["Status"].eq("Not Started")).any()
    assert t["TaskSubtype"].eq("ListEmail").any()
    assert (t["CreatedById"] != t["OwnerId"]).any()
    left = u["IsActive"].eq("false") & u["Id"].map(role).isin(REP_ROLES)
    assert left.any() and t["OwnerId"].isin(u.loc[left, "Id"]).any()
    rep_roles = set(role[u.loc[u["IsActive"].eq("true"), "Id"]]) & set(REP_ROLES)
    assert len(rep_roles & set(BDR_ROLES)) >= 2 and len(rep_roles & set(ISR_ROLES)) >= 2
    field = _read(exports["salesforce-dataloader"][0] / "OpportunityFieldHistory.csv")
    assert set(field["FIELD"]) == {"created", "StageName", "Amount", "CloseDate"}
    sync_o = _read(exports["salesforce-sync"][0] / "opportunity.csv")
    assert sync_o["_fivetran_deleted"].eq("true").any() and sync_o["is_deleted"].eq("true").any()
    assert len(sync_o) > len(o)     # purged rows: gone from Salesforce, still in the warehouse


def test_naive_readings_of_salesforce_go_wrong(exports, org):
    """Each trap changes a figure: counting deleted deals, events by owner, tasks by Type."""
    o, t, e = sf(exports, "Opportunity"), sf(exports, "Task"), sf(exports, "Event")
    won = o["IsWon"].eq("true") & o["CloseDate"].str.startswith(MONTH)
    assert (o.loc[won, "Amount"].astype(float).sum()
            > o.loc[won & o["IsDeleted"].eq("false"), "Amount"].astype(float).sum())
    role = roles_of(exports)
    this_month = e["CreatedDate"].str.startswith(MONTH) & e["IsDeleted"].eq("false")
    by_owner = this_month & e["OwnerId"].map(role).isin(BDR_ROLES)
    by_booker = this_month & e["IsChild"].eq("false") & (e["CreatedById"] != e["OwnerId"])
    assert by_owner.sum() < 0.2 * by_booker.sum()
    typed_calls = t["Type"].eq("Call") & t["ActivityDate"].str.startswith(MONTH)
    real_calls = t["TaskSubtype"].eq("Call") & t["IsDeleted"].eq("false") & t["ActivityDate"].str.startswith(MONTH)
    assert typed_calls.sum() != real_calls.sum()


def test_reports_and_hubspot_carry_the_traps(exports):
    rep = exports["salesforce-report"][0]
    users = _read(rep / "users.csv")
    assert (users["Active"].eq("0") & users["Role"].isin(REP_ROLES)).any()
    assert {"Sales Manager", "Director", "VP Sales", "Sales Operations"} <= set(users["Role"])
    hist = _read(rep / "opportunity_history.csv", footer=True)
    assert (hist["From Stage"] == hist["To Stage"]).any()
    acts = _read(rep / "activities.csv", footer=True)
    assert (acts["Task"].eq("0") & (acts["Created By"] != acts["Assigned"])).any()
    api_gone = set(sf(exports, "Opportunity").query("IsDeleted == 'true'")["Id"])
    assert not set(_read(rep / "opportunities.csv", footer=True)["Opportunity ID"]) & api_gone

    hs = exports["hubspot-sync"][0]
    deal = _read(hs / "deal.csv")
    other = deal["deal_pipeline_id"].ne("default")
    assert other.any() and (other & deal["property_hs_is_closed_won"].eq("true")
                            & deal["property_closedate"].str.startswith(MONTH)).any()
    assert deal.loc[other, "deal_pipeline_stage_id"].str.fullmatch(r"\d+").all()
    assert deal["is_deleted"].eq("true").any() and deal["_fivetran_deleted"].eq("true").any()
    eng = _read(hs / "engagement.csv")
    assert eng["active"].eq("false").any() and eng["_fivetran_deleted"].eq("true").any()
    assert {"CALL", "EMAIL", "INCOMING_EMAIL", "MEETING", "NOTE", "TASK"} <= set(eng["type"])
    assert eng["owner_id"].eq("").any()          # the integration's engagements: no owner
    calls = _read(hs / "engagement_call.csv")
    assert {"COMPLETED", "NO_ANSWER", "BUSY", "FAILED"} == set(calls["property_hs_call_status"])
    meetings = _read(hs / "engagement_meeting.csv")
    owners = _read(hs / "owner.csv")
    by_user = dict(zip(owners["active_user_id"], owners["owner_id"]))
    booked = meetings["property_hs_created_by_user_id"].map(by_user)
    assert (booked.notna() & (booked != meetings["property_hubspot_owner_id"])).any()
    assert owners["is_active"].eq("false").any()
    assert _read(hs / "owner_team.csv")["is_team_primary"].eq("false").any()
    stages = _read(hs / "deal_stage.csv")
    rank = stages["value"].map({"appointmentscheduled": 0, "qualifiedtobuy": 0, "presentationscheduled": 1,
                                "decisionmakerboughtin": 2, "contractsent": 3, "closedwon": 4})
    assert (stages["deal_id"].eq(stages["deal_id"].shift()) & (rank < rank.shift())).any()
    assert stages.groupby("deal_id")["_fivetran_active"].apply(lambda s: (s == "true").sum() == 1).all()

    hx = exports["hubspot-export"][0]
    deals = _read(hx / "hubspot-crm-exports-all-deals-2026-05-01.csv")
    assert deals["Pipeline"].eq("Renewals").any()
    assert deals["Deal owner"].str.endswith("(Deactivated User)").any()
    calls = _read(hx / "hubspot-crm-exports-all-calls-2026-05-01.csv")
    assert calls["Call status"].eq("Failed").any() and calls["Call outcome"].eq("Meeting booked").any()
    assert calls["Activity date"].str.startswith("2062").sum() == 1
    emails = _read(hx / "hubspot-crm-exports-all-emails-2026-05-01.csv")
    assert emails["Email direction"].eq("Incoming email").any()
    meetings = _read(hx / "hubspot-crm-exports-all-meetings-2026-05-01.csv")
    assert (meetings["Created by"] != meetings["Activity assigned to"]).any()
    assert (meetings["Activity date"] > "2026-05-01").any()


# ------------------------------------------------------------------ truth and reference
def test_truth_names_the_planted_reps_in_the_exports_own_ids(exports, org):
    planted = org.truth[org.truth["planted_metric"] != ""].set_index("rep_id")["planted_metric"]
    keys = {"salesforce-api": ("User.csv", "Id", "Name"),
            "salesforce-dataloader": ("User.csv", "ID", "NAME"),
            "salesforce-sync": ("user.csv", "id", "name"),
            "salesforce-report": ("users.csv", "User ID", "Full Name"),
            "hubspot-sync": ("owner.csv", "owner_id", None),
            "hubspot-export": ("users.csv", "Email", None)}
    for shape, (folder, truth) in exports.items():
        assert truth["month"] == MONTH and truth["as_of"] == AS_OF and truth["shape"] == shape
        assert {r["demo_rep_id"]: r["planted_metric"] for r in truth["planted"]} == planted.to_dict()
        assert len(truth["reps"]) == ARGS["reps"]
        name, key, label = keys[shape]
        users = _read(folder / name)
        if label is None:
            users["label"] = users[[c for c in users if c.lower().replace(" ", "_") == "first_name"][0]] + " " + \
                users[[c for c in users if c.lower().replace(" ", "_") == "last_name"][0]]
            label = "label"
        names = dict(zip(users[key], users[label]))
        for r in truth["planted"]:
            assert names[r["export_id"]] == r["name"], (shape, r)
        deleted = truth["traps"].get("deleted opportunities (duplicates; some won this month)", 0)
        assert (deleted > 0) == (shape not in ("salesforce-report", "hubspot-export")), shape
        assert truth["traps"]["SDR-booked meetings on an AE's calendar (CreatedById = SDR, OwnerId = AE)"] > 0


@pytest.mark.parametrize("shape", SHAPES)
def test_reference_figures_equal_the_demo_orgs(shape, exports, facts, org):
    truth = exports[shape][1]
    to_demo = {r["export_id"]: r["demo_rep_id"] for r in truth["reps"]}
    for month in (MONTH, EARLIER):
        ref = figures_from(facts[shape], month)
        assert sorted(ref.index.map(to_demo)) == sorted(org.reps["rep_id"])
        ref = ref.rename(index=to_demo)
        want = demo_figures(org, month)
        got = ref.loc[want.index, want.columns]
        pd.testing.assert_frame_equal(got, want, check_names=False, check_dtype=False)
        assert ref["calls"].sum() > 0 and ref["won_deals"].sum() > 0 and ref["meetings_scheduled"].sum() > 0


def test_planted_deficiencies_show_in_the_export(exports, facts, org):
    """Over the window, each planted rep stands out from their role's median on their metric."""
    f = facts["salesforce-api"]
    truth = exports["salesforce-api"][1]
    who = pd.DataFrame(truth["reps"]).set_index("export_id")
    calls = f["calls"].groupby("owner").agg(calls=("connected", "size"), connects=("connected", "sum"))
    booked = f["booked"]["rep"].value_counts()
    stats = who.join(calls).assign(booked=booked.reindex(who.index).fillna(0))
    stats["connect_rate"] = stats["connects"] / stats["calls"]
    stats["book_rate"] = stats["booked"] / stats["connects"]
    conversion = _stage_conversion(exports)
    stats = stats.join(conversion)
    column = {"activity.call": "calls", "efficiency.call.connect": "connect_rate",
              "efficiency.connect.meeting_scheduled": "book_rate"}
    start_in_window = pd.to_datetime(org.reps.set_index("rep_id")["start_date"]) < pd.Timestamp("2025-11-01")
    for export_id, r in stats[stats["planted_metric"].notna()].iterrows():
        metric = r["planted_metric"]
        col = column.get(metric, metric.replace("stage_conversion.", "conv_"))
        peers = stats[(stats["role"] == r["role"]) & stats.index.map(lambda i: start_in_window[who.at[i, "demo_rep_id"]])]
        assert r[col] < 0.8 * peers[col].median(), (r["name"], metric, r[col], peers[col].median())


def _stage_conversion(exports) -> pd.DataFrame:
    """Per owner, the share of closed deals that went on from each stage (furthest stage
    from the history, whatever moves back and forth it made)."""
    o, h = sf(exports, "Opportunity"), sf(exports, "OpportunityHistory")
    o = o[o["IsDeleted"].eq("false") & o["IsClosed"].eq("true")]
    h = h[h["IsDeleted"].eq("false")]
    furthest = h["StageName"].map(SF_STAGE).groupby(h["OpportunityId"]).max()
    o = o.assign(furthest=o["Id"].map(furthest))
    out = {}
    for i, stage in enumerate(("discovery", "demo", "technical_fit", "proposal")):
        reached = (o["furthest"] >= i).groupby(o["OwnerId"]).sum()
        went_on = (o["furthest"] >= i + 1).groupby(o["OwnerId"]).sum()
        out[f"conv_{stage}"] = went_on / reached.where(reached > 0)
    return pd.DataFrame(out)


# ------------------------------------------------------------------ warehouse
def _check_warehouse(url: str, root, schema: str | None):
    tables = ["opportunity", "user", "user_role", "event"]
    loaded = load_warehouse.load(root / "salesforce-sync", url, schema, tables=tables)
    assert sorted(loaded) == sorted(tables)
    assert loaded["event"] == len(_read(root / "salesforce-sync" / "event.csv"))
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        types = {c["name"]: c["type"] for c in inspector.get_columns("opportunity", schema=schema)}
        assert isinstance(types["is_won"], sa.Boolean) and isinstance(types["close_date"], sa.Date)
        assert isinstance(types["created_date"], sa.DateTime)
        assert isinstance(types["amount"], (sa.Float, sa.Integer))   # whole amounts print as integers
        assert isinstance(types["stage_name"], sa.Text)
        prefix = f'"{schema}".' if schema else ""
        month = pd.Period(TINY["end"], freq="M")
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                f"SELECT owner_id, SUM(amount) FROM {prefix}opportunity WHERE is_won AND NOT is_deleted "
                "AND NOT _fivetran_deleted AND close_date >= :s AND close_date < :e GROUP BY owner_id"),
                {"s": month.start_time.date(), "e": (month + 1).start_time.date()}).all()
        ref = reference.figures(root / "salesforce-sync")
        assert {k: float(v) for k, v in rows if k in ref.index} == \
            {k: v for k, v in ref["revenue"].items() if v > 0}
        load_warehouse.load(root / "hubspot-sync", url, schema, tables=["engagement_meeting", "deal_stage"])
        types = {c["name"]: c["type"] for c in inspector.get_columns("engagement_meeting", schema=schema)}
        assert isinstance(types["property_hs_timestamp"], sa.BigInteger)
        assert isinstance(types["property_hs_createdate"], sa.DateTime)
        with engine.connect() as conn:
            far = conn.execute(sa.text(f"SELECT MAX(_fivetran_end) FROM {prefix}deal_stage")).scalar()
        assert str(far).startswith("9999-12-31")
        # UI exports: report footers cut, $ amounts, US dates, local date-times
        load_warehouse.load(root / "salesforce-report", url, schema, tables=["opportunities", "opportunity_history"])
        types = {c["name"]: c["type"] for c in inspector.get_columns("opportunities", schema=schema)}
        assert isinstance(types["amount"], sa.Numeric) and isinstance(types["close_date"], sa.Date)
        types = {c["name"]: c["type"] for c in inspector.get_columns("opportunity_history", schema=schema)}
        assert isinstance(types["last_modified_date"], sa.DateTime)
        deals = "hubspot_crm_exports_all_deals_2026_01_01"
        assert load_warehouse.load(root / "hubspot-export", url, schema, tables=[deals])[deals] == \
            len(_read(root / "hubspot-export" / "hubspot-crm-exports-all-deals-2026-01-01.csv"))
        types = {c["name"]: c["type"] for c in inspector.get_columns(deals, schema=schema)}
        assert isinstance(types["close_date"], sa.DateTime) and isinstance(types["record_id"], sa.BigInteger)
    finally:
        engine.dispose()


def test_an_export_loads_into_a_sql_database_typed(tiny, tmp_path):
    _check_warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}", tiny, None)


def test_an_export_loads_into_postgresql(tiny):
    url = os.environ.get("FAIRWAY_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("FAIRWAY_TEST_POSTGRES_URL is not set")
    schema = f"crm_{uuid.uuid4().hex[:8]}"
    try:
        _check_warehouse(url, tiny, schema)
    finally:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
