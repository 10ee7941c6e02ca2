"""Reference figures per rep, computed from the raw export files with plain pandas.

    from exports.reference import figures
    ref = figures("/tmp/sf", "2026-10")      # one row per rep, indexed by the export's user id

Independent of fairway (no mapping, no importer): each shape is read as its files are,
and the rules a correct import follows (README.md) are applied by hand:

- reps are the active users whose role is a sales rep's (REP_ROLES); managers, leaders,
  admins, integration users and people who left are not;
- deleted rows are left out (IsDeleted, is_deleted, _fivetran_deleted, active=false), as
  are HubSpot's other pipelines, child events, and calls that never rang (FAILED);
- dates of UTC date-times are taken in the org's time zone (America/New_York);
- won deals and revenue: deals won with a close date in the month, by owner;
- win rate: won / closed over the deals closed in the 12 months ending with the month;
- calls: calls (TaskSubtype Call, HubSpot CALL) dated in the month, by owner; connects:
  those whose result is Connected, Meeting Set or Meeting Booked (HubSpot: the Connected
  outcome, or the org's own Meeting booked outcome);
- meetings scheduled: meetings a rep booked on someone else's calendar (creator is not
  the owner: an SDR booking an AE), by creator, dated by when they were booked;
- meetings held: meetings completed in the month, credited to the rep who booked them
  for someone else, else to the owner.

Columns: name, won_deals, revenue, won_12m, closed_12m, win_rate, calls, connects,
meetings_scheduled, meetings_held.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

TZ = "America/New_York"
REP_ROLES = ("SDR", "BDR", "Sales Development Representative", "Business Development",
             "Account Executive", "AE - Mid Market", "Inside Sales")
CONNECTED = ("Connected", "Meeting Set", "Meeting Booked")
HUBSPOT_CONNECTED = ("f240bbac-87c9-4f6e-bf70-924b57d47db7",    # Connected (HubSpot default)
                     "6e1b5c0a-3d2f-4a8e-9c71-8f40d2b9e513")    # Meeting booked (the org's own)
HUBSPOT_CONNECTED_LABELS = ("Connected", "Meeting booked")
COLUMNS = ["name", "won_deals", "revenue", "won_12m", "closed_12m", "win_rate", "calls",
           "connects", "meetings_scheduled", "meetings_held"]


# ------------------------------------------------------------------ reading
def detect_shape(folder: Path) -> str:
    folder = Path(folder)
    truth = folder / "truth.json"
    if truth.exists():
        return json.loads(truth.read_text())["shape"]
    names = {p.name for p in folder.iterdir()}
    if "deal.csv" in names:
        return "hubspot-sync"
    if any(n.startswith("hubspot-crm-exports-") for n in names):
        return "hubspot-export"
    if "opportunities.csv" in names:
        return "salesforce-report"
    if "opportunity.csv" in names:
        return "salesforce-sync"
    if "Opportunity.csv" in names:
        header = (folder / "Opportunity.csv").read_text(encoding="utf-8").split("\n", 1)[0]
        return "salesforce-dataloader" if '"STAGENAME"' in header else "salesforce-api"
    raise ValueError(f"{folder} holds no export this module knows")


def read(path: Path, footer: bool = False) -> pd.DataFrame:
    """A CSV file as text columns ('' for empty); a report's footer cut off."""
    raw = Path(path).read_bytes()
    if footer:
        cut = raw.find(b'\n""\n')
        raw = raw[:cut + 1] if cut >= 0 else raw
    header = next(csv.reader([raw[:raw.find(b"\n")].decode("utf-8")]))
    table = pacsv.read_csv(io.BytesIO(raw), convert_options=pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header}, strings_can_be_null=False,
        quoted_strings_can_be_null=False))
    return table.to_pandas()


def _isin(values: pd.Series, allowed) -> pd.Series:
    """values.isin(allowed) for many allowed values (pandas checks those one by one)."""
    hit = pc.is_in(pa.array(values.to_numpy(dtype=object), type=pa.string()),
                   value_set=pa.array(np.asarray(allowed, dtype=object), type=pa.string()))
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=values.index)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().replace("__c", "_c")


def _salesforce(folder: Path, obj: str, shape: str) -> pd.DataFrame:
    """An object's rows with API field names, whichever of the three files holds them."""
    if shape == "salesforce-sync":
        frame = read(folder / f"{_snake(obj)}.csv")
        deleted = frame["_fivetran_deleted"].eq("true")
        if "is_deleted" in frame:
            deleted |= frame["is_deleted"].eq("true")
        return frame[~deleted]                  # columns in snake_case: see _col
    frame = read(folder / f"{obj}.csv")
    frame.columns = [c.lower() for c in frame.columns]
    if "isdeleted" in frame:
        frame = frame[~frame["isdeleted"].eq("true")]
    return frame


def _col(frame: pd.DataFrame, api: str) -> pd.Series:
    """A column by its API name, in any of the shapes' spellings."""
    for name in (api.lower(), _snake(api)):
        if name in frame:
            return frame[name]
    raise KeyError(api)


def _local_day(utc: pd.Series) -> pd.Series:
    """Days (in TZ) of UTC date-times written as 2026-03-14T14:05:09.000Z or
    2026-03-14 14:05:09[.ffffff] UTC."""
    text = utc.str.replace(" UTC", "", regex=False).str.replace("Z", "", regex=False) \
        .str.replace("T", " ", regex=False)
    when = pd.to_datetime(text, format="ISO8601").dt.tz_localize("UTC").dt.tz_convert(TZ)
    return when.dt.tz_localize(None).dt.normalize()


def _epoch_day(ms: pd.Series) -> pd.Series:
    when = pd.to_datetime(ms.astype("int64"), unit="ms").dt.tz_localize("UTC").dt.tz_convert(TZ)
    return when.dt.tz_localize(None).dt.normalize()


def _day(text: pd.Series, fmt: str = "ISO8601") -> pd.Series:
    return pd.to_datetime(text, format=fmt).dt.normalize()


# ------------------------------------------------------------------ per shape: the facts
# Each reader returns: reps (id -> name), deals (owner, won, closed, day, amount),
# calls (owner, day, connected), booked (rep, day), held (rep, day).
def _facts_salesforce(folder: Path, shape: str) -> dict:
    users = _salesforce(folder, "User", shape)
    roles = _salesforce(folder, "UserRole", shape)
    role_name = dict(zip(_col(roles, "Id"), _col(roles, "Name")))
    is_rep = _col(users, "UserRoleId").map(role_name).isin(REP_ROLES) & _col(users, "IsActive").eq("true")
    reps = pd.Series(_col(users, "Name")[is_rep].to_numpy(), index=_col(users, "Id")[is_rep].to_numpy())
    o = _salesforce(folder, "Opportunity", shape)
    deals = pd.DataFrame({"owner": _col(o, "OwnerId"), "won": _col(o, "IsWon").eq("true"),
                          "closed": _col(o, "IsClosed").eq("true"), "day": _day(_col(o, "CloseDate")),
                          "amount": pd.to_numeric(_col(o, "Amount"))})
    t = _salesforce(folder, "Task", shape)
    t = t[_col(t, "TaskSubtype").eq("Call")]
    calls = pd.DataFrame({"owner": _col(t, "OwnerId"), "day": _day(_col(t, "ActivityDate")),
                          "connected": _col(t, "CallDisposition").isin(CONNECTED)})
    e = _salesforce(folder, "Event", shape)
    e = e[~_col(e, "IsChild").eq("true")]
    creator, owner = _col(e, "CreatedById"), _col(e, "OwnerId")
    for_other = creator != owner
    booked = pd.DataFrame({"rep": creator[for_other], "day": _local_day(_col(e, "CreatedDate")[for_other])})
    done = _col(e, "Meeting_Status__c").eq("Completed")
    held = pd.DataFrame({"rep": np.where(for_other, creator, owner)[done.to_numpy()],
                         "day": _day(_col(e, "ActivityDate")[done])})
    return {"reps": reps, "deals": deals, "calls": calls, "booked": booked, "held": held}


def _facts_report(folder: Path) -> dict:
    users = read(folder / "users.csv")
    is_rep = users["Role"].isin(REP_ROLES) & users["Active"].eq("1")
    reps = pd.Series(users.loc[is_rep, "Full Name"].to_numpy(), index=users.loc[is_rep, "User ID"].to_numpy())
    by_name = dict(zip(users["Full Name"], users["User ID"]))
    o = read(folder / "opportunities.csv", footer=True)
    deals = pd.DataFrame({
        "owner": o["Opportunity Owner"].map(by_name), "won": o["Won"].eq("1"), "closed": o["Closed"].eq("1"),
        "day": _day(o["Close Date"], "%m/%d/%Y"),
        "amount": pd.to_numeric(o["Amount"].str.replace(r"[$,]", "", regex=True))})
    a = read(folder / "activities.csv", footer=True)
    t = a[a["Task"].eq("1") & a["Task Subtype"].eq("Call")]
    calls = pd.DataFrame({"owner": t["Assigned"].map(by_name), "day": _day(t["Date"], "%m/%d/%Y"),
                          "connected": t["Call Result"].isin(CONNECTED)})
    e = a[a["Task"].eq("0")]
    for_other = e["Created By"] != e["Assigned"]
    booked = pd.DataFrame({"rep": e.loc[for_other, "Created By"].map(by_name),
                           "day": _day(e.loc[for_other, "Created Date"], "%m/%d/%Y %I:%M %p")})
    done = e["Meeting Status"].eq("Completed")
    held = pd.DataFrame({"rep": np.where(for_other, e["Created By"], e["Assigned"])[done.to_numpy()],
                         "day": _day(e.loc[done, "Date"], "%m/%d/%Y")})
    held["rep"] = held["rep"].map(by_name)
    return {"reps": reps, "deals": deals, "calls": calls, "booked": booked, "held": held}


def _facts_hubspot_sync(folder: Path) -> dict:
    owners = read(folder / "owner.csv")
    users = read(folder / "users.csv")
    users = users[~users["_fivetran_deleted"].eq("true")]
    roles = dict(zip(read(folder / "role.csv")["id"], read(folder / "role.csv")["name"]))
    user_role = dict(zip(users["email"], users["role_id"].map(roles)))
    active = owners["is_active"].eq("true")
    is_rep = owners["email"].map(user_role).isin(REP_ROLES) & active
    names = owners["first_name"] + " " + owners["last_name"]
    reps = pd.Series(names[is_rep].to_numpy(), index=owners.loc[is_rep, "owner_id"].to_numpy())
    owner_of_user = dict(zip(owners["active_user_id"], owners["owner_id"]))
    all_users = read(folder / "users.csv")
    owner_by_email = dict(zip(owners["email"], owners["owner_id"]))
    owner_of_user.update({uid: owner_by_email.get(mail, "") for uid, mail in
                          zip(all_users["id"], all_users["email"]) if uid not in owner_of_user})
    d = read(folder / "deal.csv")
    d = d[d["deal_pipeline_id"].eq("default") & ~d["is_deleted"].eq("true") & ~d["_fivetran_deleted"].eq("true")]
    deals = pd.DataFrame({"owner": d["property_hubspot_owner_id"], "won": d["property_hs_is_closed_won"].eq("true"),
                          "closed": d["property_hs_is_closed"].eq("true"),
                          "day": _local_day(d["property_closedate"]),
                          "amount": pd.to_numeric(d["property_amount"])})
    eng = read(folder / "engagement.csv")
    live = eng.loc[eng["active"].eq("true") & ~eng["_fivetran_deleted"].eq("true"), "id"].to_numpy()
    c = read(folder / "engagement_call.csv")
    c = c[_isin(c["engagement_id"], live) & ~c["property_hs_call_status"].isin(["FAILED", "CANCELED"])]
    calls = pd.DataFrame({"owner": c["property_hubspot_owner_id"], "day": _epoch_day(c["property_hs_timestamp"]),
                          "connected": c["property_hs_call_disposition"].isin(HUBSPOT_CONNECTED)})
    m = read(folder / "engagement_meeting.csv")
    m = m[_isin(m["engagement_id"], live)]
    creator = m["property_hs_created_by_user_id"].map(owner_of_user).fillna("")
    owner = m["property_hubspot_owner_id"]
    for_other = (creator != owner) & creator.ne("")
    booked = pd.DataFrame({"rep": creator[for_other], "day": _local_day(m.loc[for_other, "property_hs_createdate"])})
    done = m["property_hs_meeting_outcome"].eq("COMPLETED")
    held = pd.DataFrame({"rep": np.where(for_other, creator, owner)[done.to_numpy()],
                         "day": _epoch_day(m.loc[done, "property_hs_timestamp"])})
    return {"reps": reps, "deals": deals, "calls": calls, "booked": booked, "held": held}


def _facts_hubspot_export(folder: Path) -> dict:
    users = read(folder / "users.csv")
    names = users["First Name"] + " " + users["Last Name"]
    is_rep = users["Role"].isin(REP_ROLES)
    reps = pd.Series(names[is_rep].to_numpy(), index=users.loc[is_rep, "Email"].to_numpy())
    by_name = dict(zip(names, users["Email"]))

    def one(kind: str) -> pd.DataFrame:
        (path,) = sorted(Path(folder).glob(f"hubspot-crm-exports-all-{kind}-*.csv"))
        return read(path)

    d = one("deals")
    d = d[d["Pipeline"].eq("Sales Pipeline")]
    deals = pd.DataFrame({"owner": d["Deal owner"].map(by_name), "won": d["Deal Stage"].eq("Closed Won"),
                          "closed": d["Deal Stage"].isin(["Closed Won", "Closed Lost"]),
                          "day": _day(d["Close Date"], "ISO8601"), "amount": pd.to_numeric(d["Amount"])})
    c = one("calls")
    c = c[~c["Call status"].isin(["Failed", "Canceled"])]
    calls = pd.DataFrame({"owner": c["Activity assigned to"].map(by_name), "day": _day(c["Activity date"], "ISO8601"),
                          "connected": c["Call outcome"].isin(HUBSPOT_CONNECTED_LABELS)})
    m = one("meetings")
    for_other = m["Created by"] != m["Activity assigned to"]
    booked = pd.DataFrame({"rep": m.loc[for_other, "Created by"].map(by_name),
                           "day": _day(m.loc[for_other, "Create date"], "ISO8601")})
    done = m["Meeting outcome"].eq("Completed")
    held = pd.DataFrame({"rep": pd.Series(np.where(for_other, m["Created by"], m["Activity assigned to"])[done.to_numpy()]).map(by_name).to_numpy(),
                         "day": _day(m.loc[done, "Activity date"], "ISO8601")})
    return {"reps": reps, "deals": deals, "calls": calls, "booked": booked, "held": held}


def facts(folder) -> dict:
    """The shape's facts, before any month: reps, deals, calls, booked and held meetings."""
    folder = Path(folder)
    shape = detect_shape(folder)
    if shape == "salesforce-report":
        return _facts_report(folder)
    if shape == "hubspot-sync":
        return _facts_hubspot_sync(folder)
    if shape == "hubspot-export":
        return _facts_hubspot_export(folder)
    return _facts_salesforce(folder, shape)


# ------------------------------------------------------------------ figures
def figures(folder, month: str | None = None) -> pd.DataFrame:
    """Reference figures per rep for `month` (YYYY-MM; default: truth.json's month)."""
    folder = Path(folder)
    if month is None:
        month = json.loads((folder / "truth.json").read_text())["month"]
    f = facts(folder)
    return figures_from(f, month)


def figures_from(f: dict, month: str) -> pd.DataFrame:
    period = pd.Period(month, freq="M")
    start, end = period.start_time, (period + 1).start_time
    year_start = (period - 11).start_time
    reps = f["reps"]
    out = pd.DataFrame(index=pd.Index(reps.index, name="export_id"))
    out["name"] = reps.to_numpy()

    def count(frame: pd.DataFrame, who: str, mask=None, weights=None) -> pd.Series:
        in_month = (frame["day"] >= start) & (frame["day"] < end)
        m = in_month if mask is None else in_month & mask
        if weights is None:
            s = frame.loc[m, who].value_counts()
        else:
            s = frame.loc[m].groupby(who)[weights].sum()
        return s.reindex(out.index).fillna(0)

    d = f["deals"]
    out["won_deals"] = count(d, "owner", d["won"]).astype(int)
    out["revenue"] = count(d, "owner", d["won"], "amount").astype(float)
    year = d["closed"] & (d["day"] >= year_start) & (d["day"] < end)
    out["won_12m"] = d[year & d["won"]]["owner"].value_counts().reindex(out.index).fillna(0).astype(int)
    out["closed_12m"] = d[year]["owner"].value_counts().reindex(out.index).fillna(0).astype(int)
    out["win_rate"] = (out["won_12m"] / out["closed_12m"].where(out["closed_12m"] > 0)).astype(float)
    c = f["calls"]
    out["calls"] = count(c, "owner").astype(int)
    out["connects"] = count(c, "owner", c["connected"]).astype(int)
    out["meetings_scheduled"] = count(f["booked"], "rep").astype(int)
    out["meetings_held"] = count(f["held"], "rep").astype(int)
    return out[COLUMNS]
