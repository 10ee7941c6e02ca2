"""Salesforce shapes of a Crm: API exports (Data Loader, Bulk API, weekly Data Export), the
same objects synced into a warehouse (Fivetran), and report exports (UI labels).

Stages are Salesforce's default Opportunity stages; a coarse pipeline stage passes one,
two or three of them in turn (Prospecting, Qualification, Needs Analysis are discovery).
"""
from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import formats as F
from .model import LOSS_LABELS, LOST, WON, Crm, to_utc

STAGE_NAMES = {0: ("Prospecting", "Qualification", "Needs Analysis"), 1: ("Value Proposition",),
               2: ("Id. Decision Makers", "Perception Analysis"),
               3: ("Proposal/Price Quote", "Negotiation/Review"), WON: ("Closed Won",),
               LOST: ("Closed Lost",)}
PROBABILITY = {"Prospecting": 10, "Qualification": 10, "Needs Analysis": 20,
               "Value Proposition": 50, "Id. Decision Makers": 60, "Perception Analysis": 70,
               "Proposal/Price Quote": 75, "Negotiation/Review": 90, "Closed Won": 100,
               "Closed Lost": 0}
FORECAST = {"Closed Won": ("Closed", "Closed"), "Closed Lost": ("Omitted", "Omitted")}
PREFIX = {"Opportunity": "006", "User": "005", "UserRole": "00E", "Task": "00T", "Event": "00U",
          "Account": "001", "OpportunityHistory": "008", "OpportunityFieldHistory": "017",
          "Lead": "00Q", "Contact": "003"}
START = {"Opportunity": 62**5 * 7, "User": 62**5 * 2, "UserRole": 62**5 * 1, "Task": 62**6 * 3,
         "Event": 62**6 * 2, "Account": 62**5 * 5, "OpportunityHistory": 62**6 * 1,
         "OpportunityFieldHistory": 62**6 * 4, "Lead": 62**6 * 5, "Contact": 62**6 * 6}
ORG_NAME = "Demo Org Inc."


def stage_name(stage, sub) -> np.ndarray:
    """Salesforce stage names of coarse stages and sub-stages (9 = the stage's last)."""
    stage, sub = np.asarray(stage), np.asarray(sub)
    out = np.empty(len(stage), dtype=object)
    for k, names in STAGE_NAMES.items():
        m = stage == k
        out[m] = np.array(names, dtype=object)[np.minimum(sub[m], len(names) - 1)]
    return out


def ids(obj: str, keys) -> np.ndarray:
    return F.sf_ids(PREFIX[obj], keys, start=START[obj])


def snake(name: str) -> str:
    """Fivetran's column names: StageName -> stage_name, Loss_Reason__c -> loss_reason_c."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return s.replace("__c", "_c")


# ------------------------------------------------------------------ the objects, typed
class _Objects:
    """Each object's rows as typed columns (before formatting), one frame per object.

    Column values: str (text), bool, float/int numbers, ('ts', UTC datetime64) for
    date-times, ('date', datetime64[D]) for dates; `_deleted` (IsDeleted, in the recycle
    bin), `_purged` (gone from Salesforce, a sync still holds the row), `_modified` (UTC).
    """

    def __init__(self, crm: Crm):
        self.crm = crm
        u = crm.users
        self.user_ids = pa.array(ids("User", u["uid"]), type=pa.string())
        self.names = u["name"].to_numpy(dtype=object)
        self.as_of = np.datetime64(crm.as_of, "ms")
        self._memo: dict = {}

    def user_id(self, uid) -> pa.Array:
        """User ids of an array of users (uid)."""
        return self.user_ids.take(pa.array(np.asarray(uid, dtype=np.int64)))

    def columns(self, method: str) -> dict:
        """An object's typed columns, made once per Crm."""
        if method not in self._memo:
            self._memo[method] = getattr(self, method)()
        return self._memo[method]

    def deletion(self, obj: str, deleted, purged, created_utc):
        """When a deleted row was deleted: lately if still in the recycle bin (15 days),
        soon after it was made if purged since. Each object draws from its own stream."""
        rng = np.random.default_rng([int(self.crm.args["seed"]), 0x5F, zlib.crc32(obj.encode())])
        n = len(deleted)
        recent = self.as_of - (rng.integers(3600, 14 * 86400, n) * 1000).astype("timedelta64[ms]")
        soon = created_utc + (rng.integers(600, 3 * 86400, n) * 1000).astype("timedelta64[ms]")
        when = np.where(purged, np.minimum(soon, self.as_of), np.maximum(recent, created_utc))
        return np.where(deleted, when, np.datetime64("NaT"))

    def user(self) -> dict:
        crm, u = self.crm, self.crm.users
        created = to_utc(u["created"])
        modified = np.where(u["deactivated"].notna(), to_utc(u["deactivated"].fillna(u["created"])), created)
        return {
            "Id": self.user_ids, "Username": u["email"].to_numpy(dtype=object),
            "LastName": u["last"].to_numpy(dtype=object), "FirstName": u["first"].to_numpy(dtype=object),
            "Name": self.names, "Alias": (u["first"].str[:1] + u["last"].str[:4]).str.lower().to_numpy(dtype=object),
            "Email": u["email"].to_numpy(dtype=object), "IsActive": u["active"].to_numpy(),
            "UserRoleId": ids("UserRole", u["role_key"]),
            "ManagerId": ids("User", u["manager_uid"]),
            "Department": u["department"].to_numpy(dtype=object), "Division": u["division"].to_numpy(dtype=object),
            "Title": u["title"].to_numpy(dtype=object), "UserType": np.full(len(u), "Standard", dtype=object),
            "TimeZoneSidKey": np.full(len(u), "America/New_York", dtype=object),
            "CreatedDate": ("ts", created), "CreatedById": self.user_id(np.zeros(len(u))),
            "LastModifiedDate": ("ts", modified),
            "_deleted": np.zeros(len(u), bool), "_purged": np.zeros(len(u), bool), "_modified": modified,
        }

    def user_role(self) -> dict:
        r = self.crm.roles
        modified = np.full(len(r), np.datetime64("2019-06-03T15:20:00.000"), dtype="datetime64[ms]")
        rollup = np.where(r["kind"].isin(["bdr", "isr"]), r["name"] + " (" + r["developer_name"].str.rsplit("_", n=2).str[-2] + ")", r["name"])
        return {
            "Id": ids("UserRole", r["role_key"]), "Name": r["name"].to_numpy(dtype=object),
            "ParentRoleId": ids("UserRole", r["parent_key"]),
            "DeveloperName": r["developer_name"].to_numpy(dtype=object),
            "RollupDescription": np.asarray(rollup, dtype=object),
            "OpportunityAccessForAccountOwner": np.full(len(r), "Edit", dtype=object),
            "LastModifiedDate": ("ts", modified), "LastModifiedById": self.user_id(np.zeros(len(r))),
            "SystemModstamp": ("ts", modified),
            "_deleted": np.zeros(len(r), bool), "_purged": np.zeros(len(r), bool), "_modified": modified,
        }

    def account(self) -> dict:
        a = self.crm.accounts
        created = to_utc(a["created"])
        return {
            "Id": ids("Account", a["aid"]), "IsDeleted": np.zeros(len(a), bool),
            "Name": a["name"].to_numpy(dtype=object), "Type": a["type"].to_numpy(dtype=object),
            "Industry": a["industry"].to_numpy(dtype=object), "OwnerId": self.user_id(a["owner"].to_numpy()),
            "CreatedDate": ("ts", created), "CreatedById": self.user_id(a["owner"].to_numpy()),
            "LastModifiedDate": ("ts", created), "SystemModstamp": ("ts", created),
            "_deleted": np.zeros(len(a), bool), "_purged": np.zeros(len(a), bool), "_modified": created,
        }

    def opportunity(self) -> dict:
        o = self.crm.opps
        created = to_utc(o["created"])
        modified = to_utc(o["last_modified"])
        deleted, purged = o["deleted"].to_numpy(), o["purged"].to_numpy()
        gone = self.deletion("Opportunity", deleted, purged, created)
        modified = np.where(deleted, gone, modified)
        stage = stage_name(o["stage"], o["sub"])
        prob = np.array([PROBABILITY[s] for s in stage], dtype=float)
        fc = np.array([FORECAST.get(s, ("Pipeline", "Pipeline")) for s in stage], dtype=object).reshape(-1, 2)
        close = o["close_day"].to_numpy().astype("datetime64[D]")
        year = close.astype("datetime64[Y]").astype(int) + 1970
        quarter = (close.astype("datetime64[M]").astype(int) % 12) // 3 + 1
        amount = o["amount"].to_numpy()
        loss = o["loss_reason"].map(LOSS_LABELS).to_numpy(dtype=object)
        return {
            "Id": ids("Opportunity", o["oid"]), "IsDeleted": deleted,
            "AccountId": ids("Account", o["account"]), "Name": o["name"].to_numpy(dtype=object),
            "Type": np.full(len(o), "New Business", dtype=object), "StageName": stage,
            "Amount": amount, "Probability": prob, "ExpectedRevenue": amount * prob / 100,
            "CloseDate": ("date", close), "LeadSource": o["lead_source"].to_numpy(dtype=object),
            "IsClosed": o["status"].ne("open").to_numpy(), "IsWon": o["status"].eq("won").to_numpy(),
            "ForecastCategory": fc[:, 0], "ForecastCategoryName": fc[:, 1],
            "OwnerId": self.user_id(o["owner"].to_numpy()), "CreatedDate": ("ts", created),
            "CreatedById": self.user_id(o["creator"].to_numpy()), "LastModifiedDate": ("ts", modified),
            "LastModifiedById": self.user_id(o["owner"].to_numpy()), "SystemModstamp": ("ts", modified),
            "FiscalYear": ("int", year), "FiscalQuarter": ("int", quarter),
            "Loss_Reason__c": loss, "Sourced_By__c": ids("User", o["source"]),
            "_deleted": deleted & ~purged, "_purged": purged, "_modified": modified,
        }

    def opportunity_history(self) -> dict:
        h = self.crm.history
        at = to_utc(h["at"])
        stage = stage_name(h["stage"], h["sub"])
        prob = np.array([PROBABILITY[s] for s in stage], dtype=float)
        fc = np.array([FORECAST.get(s, ("Pipeline", "Pipeline"))[0] for s in stage], dtype=object)
        oid = h["oid"].to_numpy()
        deleted = h["deleted"].to_numpy()
        purged = h["purged"].to_numpy()
        amount = h["amount"].to_numpy()
        return {
            "Id": ids("OpportunityHistory", np.arange(len(h))), "OpportunityId": ids("Opportunity", oid),
            "CreatedById": self.user_id(h["by"].to_numpy()), "CreatedDate": ("ts", at),
            "StageName": stage, "Amount": amount, "ExpectedRevenue": amount * prob / 100,
            "CloseDate": ("date", h["close_day"].to_numpy().astype("datetime64[D]")),
            "Probability": prob, "ForecastCategory": fc, "SystemModstamp": ("ts", at),
            "IsDeleted": deleted,
            "_deleted": deleted & ~purged, "_purged": purged, "_modified": at,
            "_kind": h["kind"].to_numpy(dtype=object),
        }

    def _who_what(self, frame: pd.DataFrame) -> dict:
        who_kind, who_n = frame["who_kind"].to_numpy(), frame["who_n"].to_numpy()
        who = np.full(len(frame), "", dtype=object)
        lead, contact = who_kind == "lead", who_kind == "contact"
        who[lead] = ids("Lead", who_n[lead])
        who[contact] = ids("Contact", who_n[contact])
        what_kind, key = frame["what_kind"].to_numpy(), frame["what_key"].to_numpy()
        what = np.full(len(frame), "", dtype=object)
        on_opp, on_acc = what_kind == "opp", what_kind == "account"
        what[on_opp] = ids("Opportunity", key[on_opp])
        what[on_acc] = ids("Account", key[on_acc])
        return {"WhoId": who, "WhatId": what, "AccountId": ids("Account", frame["account"])}

    def task(self) -> dict:
        t = self.crm.tasks
        created = to_utc(t["created"])
        deleted, purged = t["deleted"].to_numpy(), t["purged"].to_numpy()
        gone = self.deletion("Task", deleted, purged, created)
        modified = np.where(deleted, gone, created)
        completed = t["status"].eq("Completed").to_numpy()
        call = t["subtype"].eq("Call").to_numpy()
        ww = self._who_what(t)
        dialer_id = np.where(call & t["type_field"].eq("").to_numpy(),
                             "dlr-" + pd.Series(t["tid"].to_numpy() * 7919 % 10**9).astype(str).to_numpy(dtype=object), "")
        return {
            "Id": ids("Task", t["tid"]), "WhoId": ww["WhoId"], "WhatId": ww["WhatId"],
            "Subject": t["subject"].to_numpy(dtype=object),
            "ActivityDate": ("date", t["start"].to_numpy().astype("datetime64[D]")),
            "Status": t["status"].to_numpy(dtype=object), "Priority": np.full(len(t), "Normal", dtype=object),
            "OwnerId": self.user_id(t["owner"].to_numpy()), "Type": t["type_field"].to_numpy(dtype=object),
            "IsDeleted": deleted, "AccountId": ww["AccountId"], "IsClosed": completed,
            "CreatedDate": ("ts", created), "CreatedById": self.user_id(t["creator"].to_numpy()),
            "LastModifiedDate": ("ts", created, None, (deleted, gone)),
            "LastModifiedById": self.user_id(t["creator"].to_numpy()),
            "SystemModstamp": ("ts", created, None, (deleted, gone)), "CallDurationInSeconds": ("int", t["duration_s"].to_numpy()),
            "CallType": t["call_type"].to_numpy(dtype=object), "CallDisposition": t["disposition"].to_numpy(dtype=object),
            "CallObject": np.asarray(dialer_id, dtype=object), "TaskSubtype": t["subtype"].to_numpy(dtype=object),
            "CompletedDateTime": ("ts", created, completed),
            "_deleted": deleted & ~purged, "_purged": purged, "_modified": modified,
        }

    def event(self) -> dict:
        e = self.crm.events
        created = to_utc(e["booked"])
        start = to_utc(e["start"])
        end = start + (e["duration_min"].to_numpy() * 60000).astype("timedelta64[ms]")
        deleted, purged = e["deleted"].to_numpy(), e["purged"].to_numpy()
        gone = self.deletion("Event", deleted, purged, created)
        status = e["status"].to_numpy(dtype=object)
        # a meeting's outcome is recorded after it ends
        updated = np.where(status != "", np.maximum(end, created), created)
        modified = np.where(deleted, gone, np.minimum(updated, self.as_of))
        ww = self._who_what(e)
        return {
            "Id": ids("Event", e["eid"]), "WhoId": ww["WhoId"], "WhatId": ww["WhatId"],
            "Subject": e["subject"].to_numpy(dtype=object), "IsAllDayEvent": np.zeros(len(e), bool),
            "ActivityDateTime": ("ts", start),
            "ActivityDate": ("date", e["start"].to_numpy().astype("datetime64[D]")),
            "DurationInMinutes": ("int", e["duration_min"].to_numpy()),
            "StartDateTime": ("ts", start), "EndDateTime": ("ts", end), "AccountId": ww["AccountId"],
            "OwnerId": self.user_id(e["owner"].to_numpy()), "Type": np.full(len(e), "Meeting", dtype=object),
            "IsChild": e["is_child"].to_numpy(), "CreatedDate": ("ts", created),
            "CreatedById": self.user_id(e["creator"].to_numpy()), "LastModifiedDate": ("ts", modified),
            "LastModifiedById": self.user_id(e["owner"].to_numpy()), "SystemModstamp": ("ts", modified),
            "IsDeleted": deleted, "ShowAs": np.full(len(e), "Busy", dtype=object),
            "EventSubtype": np.full(len(e), "Event", dtype=object), "Meeting_Status__c": status,
            "_deleted": deleted & ~purged, "_purged": purged, "_modified": modified,
        }

    def opportunity_field_history(self) -> dict:
        """Field history (StageName, Amount, CloseDate tracked): a row per changed field,
        and a 'created' row; the first stage is no field change, so it is not there."""
        h = self.crm.history
        oid = h["oid"].to_numpy()
        at = to_utc(h["at"])
        stage = stage_name(h["stage"], h["sub"])
        amount = h["amount"].to_numpy()
        close = h["close_day"].to_numpy().astype("datetime64[D]")
        order = np.lexsort((at, oid))
        oid, at, stage, amount, close = oid[order], at[order], stage[order], amount[order], close[order]
        by = h["by"].to_numpy()[order]
        deleted, purged = h["deleted"].to_numpy()[order], h["purged"].to_numpy()[order]
        first = np.append(True, oid[1:] != oid[:-1])
        prev = np.append(0, np.arange(len(oid) - 1))
        parts = []
        for field, new, old, dtype in (("created", None, None, "Text"),
                                       ("StageName", stage, stage[prev], "DynamicEnum"),
                                       ("Amount", amount, amount[prev], "Currency"),
                                       ("CloseDate", close, close[prev], "Date")):
            if field == "created":
                m = first
                old_v = new_v = np.full(int(m.sum()), "", dtype=object)
            else:
                m = ~first & (new != old)
                if field == "Amount":
                    old_v = F.integer(old[m])
                    new_v = F.integer(new[m])
                elif field == "CloseDate":
                    old_v, new_v = F.iso_date(old[m]), F.iso_date(new[m])
                else:
                    old_v, new_v = old[m], new[m]
            rows = np.flatnonzero(m)
            parts.append(pd.DataFrame({"row": rows, "order": ["created", "StageName", "Amount", "CloseDate"].index(field),
                                       "Field": field, "OldValue": old_v, "NewValue": new_v, "DataType": dtype}))
        fh = pd.concat(parts, ignore_index=True).sort_values(["row", "order"], kind="stable")
        r = fh["row"].to_numpy()
        return {
            "Id": ids("OpportunityFieldHistory", np.arange(len(fh))), "IsDeleted": deleted[r],
            "OpportunityId": ids("Opportunity", oid[r]), "CreatedById": self.user_id(by[r]),
            "CreatedDate": ("ts", at[r]), "Field": fh["Field"].to_numpy(dtype=object),
            "DataType": fh["DataType"].to_numpy(dtype=object),
            "OldValue": fh["OldValue"].to_numpy(dtype=object), "NewValue": fh["NewValue"].to_numpy(dtype=object),
            "_deleted": deleted[r] & ~purged[r], "_purged": purged[r], "_modified": at[r],
        }


API_OBJECTS = ("Account", "Opportunity", "OpportunityHistory", "User", "UserRole", "Task", "Event")
DATALOADER_OBJECTS = ("Account", "Opportunity", "OpportunityFieldHistory", "User", "UserRole",
                      "Task", "Event")
METHOD = {"Account": "account", "Opportunity": "opportunity",
          "OpportunityHistory": "opportunity_history",
          "OpportunityFieldHistory": "opportunity_field_history", "User": "user",
          "UserRole": "user_role", "Task": "task", "Event": "event"}


def _formatted(col, fmt, cache: dict):
    """Format a typed column with fmt(kind, values), once per distinct array; a third
    item of a typed column is a mask: null where it is False."""
    if isinstance(col, tuple):
        kind, values, *extra = col
        key = (kind, id(values))
        if key not in cache:
            cache[key] = (fmt(kind, values), values)   # the array is kept alive with its text
        out = cache[key][0]
        if extra and extra[0] is not None:
            out = pc.if_else(pa.array(np.asarray(extra[0], dtype=bool)), out,
                             pa.scalar(None, out.type))
        if len(extra) > 1:   # (mask, values): other values where mask is True
            where, other = extra[1]
            if where.any():
                out = pc.replace_with_mask(out, pa.array(where), fmt(kind, other[where]))
        return out
    return fmt(None, col)


def _api_text(kind, col):
    """A typed column as Salesforce's APIs write it: all text."""
    if isinstance(col, pa.Array):
        return col
    if kind is not None:
        return {"ts": F.iso_ms_z, "date": F.iso_date, "int": F.integer}[kind](col)
    col = np.asarray(col)
    if col.dtype == bool:
        return F.flag(col)
    if col.dtype.kind in "fiu":
        return F.decimal1(col)
    return F.text(col)


def _sync_value(kind, col):
    """A typed column as a warehouse holds it: numbers and booleans stay typed; empty text
    is NULL."""
    if isinstance(col, pa.Array):
        return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    if kind == "int":
        return F.typed_number(col, integral=True)
    if kind is not None:
        return F.warehouse_ts(col) if kind == "ts" else F.iso_date(col)
    col = np.asarray(col)
    if col.dtype == bool:
        return pa.array(col)
    if col.dtype.kind in "fiu":
        return F.typed_number(col)
    t = F.text(col)
    return pc.if_else(pc.equal(t, ""), pa.scalar(None, pa.string()), t)


def _objects(crm: Crm) -> _Objects:
    if "sf_objects" not in crm.cache:
        crm.cache["sf_objects"] = _Objects(crm)
    return crm.cache["sf_objects"]


def write_api(crm: Crm, out: Path, upper: bool = False, field_history: bool = False) -> dict:
    """One CSV per object as the APIs export it (all fields quoted); deleted rows still in the
    recycle bin come with IsDeleted=true (queryAll, 'Export All', 'Include deleted')."""
    objects = _objects(crm)
    texts = crm.cache.setdefault("sf_api_text", {})
    rows = {}
    for obj in (DATALOADER_OBJECTS if field_history else API_OBJECTS):
        cols = objects.columns(METHOD[obj])
        if obj not in texts:
            keep = pa.array(~cols["_purged"])
            cache: dict = {}
            texts[obj] = {name: _formatted(col, _api_text, cache).filter(keep)
                          for name, col in cols.items() if not name.startswith("_")}
        frame = {(name.upper() if upper else name): col for name, col in texts[obj].items()}
        rows[f"{obj}.csv"] = F.write_csv(frame, out / f"{obj}.csv", quoting="all")
    return rows


def write_sync(crm: Crm, out: Path) -> dict:
    """The objects as Fivetran lands them: snake_case tables and columns, _fivetran_synced,
    _fivetran_deleted for rows gone from Salesforce (purged)."""
    objects = _objects(crm)
    rng = np.random.default_rng([int(crm.args["seed"]), 0xF5])
    as_of = np.datetime64(crm.as_of, "ms")
    rows = {}
    for obj in API_OBJECTS:
        cols = objects.columns(METHOD[obj])
        synced = F.synced_at(cols["_modified"], as_of, rng)
        cache: dict = {}
        data = {snake(name): _formatted(col, _sync_value, cache)
                for name, col in cols.items() if not name.startswith("_")}
        if "is_deleted" in data:   # purged rows were synced before they were deleted
            data["is_deleted"] = pa.array(cols["_deleted"])
        data["_fivetran_deleted"] = pa.array(cols["_purged"])
        data["_fivetran_synced"] = F.warehouse_ts(synced)
        table = snake(obj)
        rows[f"{table}.csv"] = F.write_csv(data, out / f"{table}.csv", quoting="needed")
    return rows


# ------------------------------------------------------------------ reports
def _footer(title: str, crm: Crm) -> list[str]:
    admin = crm.users.loc[crm.users["kind"] == "admin", "name"].iloc[0]
    local = pd.Timestamp(crm.as_of).tz_localize("UTC").tz_convert("America/New_York").tz_localize(None)
    generated = F.us_datetime(np.array([local.to_datetime64()], dtype="datetime64[m]"))[0]
    return [title, f"Copyright (c) 2000-{local.year} salesforce.com, inc. All rights reserved.",
            "Confidential Information - Do Not Distribute",
            f"Generated By:  {admin}  {generated}", ORG_NAME]


def write_reports(crm: Crm, out: Path) -> dict:
    """Report exports ('Details Only', CSV, UTF-8) with UI labels, US dates and currency,
    each ending with the report footer; users.csv as an admin prepares it."""
    u, o, h, t, e = crm.users, crm.opps, crm.history, crm.tasks, crm.events
    user_id = ids("User", u["uid"])
    name = u["name"].to_numpy(dtype=object)
    rows = {}

    # users.csv: a Users report plus Team, filled in by the admin
    team_label = crm.teams["label"].to_numpy(dtype=object)
    team = np.where(u["team_key"].to_numpy() >= 0, team_label[np.maximum(u["team_key"].to_numpy(), 0)], "")
    mgr_team = crm.teams.set_index("manager_uid")["label"]
    is_mgr = u["kind"].eq("manager").to_numpy()
    team[is_mgr] = mgr_team[u.loc[is_mgr, "uid"]].to_numpy()
    role = crm.roles["name"].to_numpy(dtype=object)
    mgr = u["manager_uid"].to_numpy()
    users = {
        "User ID": user_id, "Full Name": name,
        "Role": np.where(u["role_key"] >= 0, role[np.maximum(u["role_key"].to_numpy(), 0)], ""),
        "Team": team, "Division": u["division"].to_numpy(dtype=object),
        "Manager": np.where(mgr >= 0, name[np.maximum(mgr, 0)], ""),
        "Email": u["email"].to_numpy(dtype=object), "Active": F.flag(u["active"], "1", "0"),
    }
    rows["users.csv"] = F.write_csv(users, out / "users.csv", quoting="minimal")

    ov = o[~o["deleted"].to_numpy()]
    acc_name = crm.accounts.set_index("aid")["name"]
    stage = stage_name(ov["stage"], ov["sub"])
    src = ov["source"].to_numpy()
    opps = {
        "Opportunity Owner": name[ov["owner"].to_numpy()],
        "Account Name": acc_name[ov["account"]].to_numpy(dtype=object),
        "Opportunity Name": ov["name"].to_numpy(dtype=object), "Stage": stage,
        "Amount": F.money_usd(ov["amount"]),
        "Probability (%)": np.array([str(PROBABILITY[s]) for s in stage], dtype=object),
        "Created Date": F.us_date(ov["created"].to_numpy()),
        "Close Date": F.us_date(ov["close_day"].to_numpy()),
        "Won": F.flag(ov["status"].eq("won"), "1", "0"),
        "Closed": F.flag(ov["status"].ne("open"), "1", "0"),
        "Loss Reason": ov["loss_reason"].map(LOSS_LABELS).to_numpy(dtype=object),
        "Lead Source": ov["lead_source"].to_numpy(dtype=object),
        "Sourced By": np.where(src >= 0, name[np.maximum(src, 0)], ""),
        "Type": np.full(len(ov), "New Business", dtype=object),
        "Opportunity ID": ids("Opportunity", ov["oid"]),
    }
    rows["opportunities.csv"] = F.write_csv(opps, out / "opportunities.csv", quoting="all",
                                            footer=_footer("Opportunities - New Business", crm))

    hv = h[~h["deleted"].to_numpy()]
    order = np.lexsort((hv["at"].to_numpy(), hv["oid"].to_numpy()))
    hv = hv.iloc[order]
    oid = hv["oid"].to_numpy()
    to_stage = stage_name(hv["stage"], hv["sub"])
    first = np.append(True, oid[1:] != oid[:-1])
    from_stage = np.where(first, "", np.append("", to_stage[:-1])).astype(object)
    o_name = o.set_index("oid")["name"]
    hist = {
        "Opportunity ID": ids("Opportunity", oid), "Opportunity Name": o_name[oid].to_numpy(dtype=object),
        "From Stage": from_stage, "To Stage": to_stage, "Amount": F.money_usd(hv["amount"]),
        "Probability (%)": np.array([str(PROBABILITY[s]) for s in to_stage], dtype=object),
        "Close Date": F.us_date(hv["close_day"].to_numpy()),
        "Last Modified By": name[hv["by"].to_numpy()],
        "Last Modified Date": F.us_datetime(hv["at"].to_numpy()),
    }
    rows["opportunity_history.csv"] = F.write_csv(hist, out / "opportunity_history.csv", quoting="all",
                                                  footer=_footer("Opportunity History", crm))

    # Tasks and Events: tasks and (parent) events, not deleted, by date
    tv = t[~t["deleted"].to_numpy()]
    ev = e[~e["deleted"].to_numpy() & ~e["is_child"].to_numpy()]
    what_name = _related_names(crm)

    def related(frame):
        kind, key = frame["what_kind"].to_numpy(), frame["what_key"].to_numpy()
        names = np.full(len(frame), "", dtype=object)
        for k in ("opp", "account"):
            m = kind == k
            names[m] = what_name[k][key[m]].to_numpy(dtype=object)
        return names, ids("Opportunity", np.where(kind == "opp", key, -1))

    def blank(n):
        return np.full(n, "", dtype=object)

    t_rel, t_opp = related(tv)
    e_rel, e_opp = related(ev)
    nt, ne = len(tv), len(ev)
    parts = [{
        "Activity ID": ids("Task", tv["tid"]), "Assigned": name[tv["owner"].to_numpy()],
        "Subject": tv["subject"].to_numpy(dtype=object), "Type": tv["type_field"].to_numpy(dtype=object),
        "Task Subtype": tv["subtype"].to_numpy(dtype=object), "Date": F.us_date(tv["start"].to_numpy()),
        "Call Duration": F.integer(tv["duration_s"]), "Call Result": tv["disposition"].to_numpy(dtype=object),
        "Status": tv["status"].to_numpy(dtype=object), "Meeting Status": blank(nt),
        "Related To": t_rel, "Opportunity ID": t_opp, "Created By": name[tv["creator"].to_numpy()],
        "Created Date": F.us_datetime(tv["created"].to_numpy()), "Task": np.full(nt, "1", dtype=object),
    }, {
        "Activity ID": ids("Event", ev["eid"]), "Assigned": name[ev["owner"].to_numpy()],
        "Subject": ev["subject"].to_numpy(dtype=object), "Type": np.full(ne, "Meeting", dtype=object),
        "Task Subtype": blank(ne), "Date": F.us_date(ev["start"].to_numpy()),
        "Call Duration": blank(ne), "Call Result": blank(ne), "Status": blank(ne),
        "Meeting Status": ev["status"].to_numpy(dtype=object), "Related To": e_rel,
        "Opportunity ID": e_opp, "Created By": name[ev["creator"].to_numpy()],
        "Created Date": F.us_datetime(ev["booked"].to_numpy()), "Task": np.full(ne, "0", dtype=object),
    }]
    when = np.concatenate([tv["start"].to_numpy(), ev["start"].to_numpy()])
    order = pa.array(np.argsort(when, kind="stable"))
    acts = {c: pa.concat_arrays([F.text(parts[0][c]), F.text(parts[1][c])]).take(order) for c in parts[0]}
    rows["activities.csv"] = F.write_csv(acts, out / "activities.csv", quoting="all",
                                         footer=_footer("Tasks and Events", crm))
    return rows


def _related_names(crm: Crm) -> dict:
    return {"opp": crm.opps.set_index("oid")["name"],
            "account": crm.accounts.set_index("aid")["name"]}
