"""The CRM behind the exports: a demo org as a CRM would hold it, before any file format.

`build_crm` turns a deterministic demo org into users, roles, accounts, opportunities with
their change history, tasks and events, the way a sales org's CRM holds them: records
have creators and owners, times of day (in the org's time zone, America/New_York),
sub-stages, edits, deletions, managers' and admins' rows. Every row of the demo dataset
is there exactly once; everything added is a trap a correct import leaves out or reads
through (README.md lists them). The renderers (salesforce.py, hubspot.py) only format
this model, so every shape carries the same org.

Keys are integers in creation order (uid, aid, oid, tid, eid); renderers turn them into
each CRM's ids. Local times are naive datetime64 in TZ; `to_utc` converts them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.demo.org import ACCOUNT_FORMS, ACCOUNT_NAMES, ACCOUNT_TRADES, EMAIL_DOMAIN, DemoOrg

TZ = "America/New_York"
WORK_START, WORK_END = 8 * 3600, 17 * 3600 + 1800   # activities' local times of day
AS_OF_HOUR_UTC = 14                                  # the export runs at 14:00 UTC on the 1st
TYPO_YEAR = 2062                                     # one activity's year, mistyped

STAGES = ("discovery", "demo", "technical_fit", "proposal", "won")   # the default catalog's
# Coarse stages are the demo pipeline's (0..3), then won (4) and lost (5). Sub-stages let a
# CRM with finer stages pass two or three of its stages within one pipeline stage.
WON, LOST = 4, 5
SUB_STEPS = {0: (0.7, 0.45), 2: (0.6,), 3: (0.5,)}   # chance of each further sub-stage
MOVE_BACK = 0.06          # a visit of stage >= 1 goes back one stage and returns
LOST_BACK = 0.15          # a lost deal goes back one stage before it is lost
AMOUNT_EDIT = 0.3
PUSHES = (0.55, 0.3, 0.15)   # chance of 0, 1, 2 close date pushes

BDR_ROLE_LABELS = ("SDR", "BDR", "Sales Development Representative", "Business Development")
ISR_ROLE_LABELS = ("Account Executive", "AE - Mid Market", "Inside Sales")
LOSS_LABELS = {   # Salesforce picklist values of Loss_Reason__c
    "budget": "No Budget", "price": "Price", "competitor": "Lost to Competitor",
    "timing": "Timing", "no_decision": "No Decision", "need": "No Need",
    "product_fit": "Not a Fit", "poor_qualification": "Poor Qualification"}
OWN_LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Other")
NOT_CONNECTED = ("Left Voicemail", "No Answer", "Busy", "Wrong Number", "")
NOT_CONNECTED_P = (0.42, 0.38, 0.07, 0.05, 0.08)
CONNECT_RESULTS = ("Connected", "Meeting Set", "Meeting Booked")

EXTRA_FIRST = ("Harriet Desmond Ingrid Rafael Yusuf Beatrix Lorenzo Nadia Tobias Greta Casimir "
               "Odile Magnus Ilse Bartholomew").split()
EXTRA_LAST = ("Okafor Lindqvist Castellano Brennan Haddad Novak Fairbanks Moreau Takahashi Ibsen "
              "Villanueva Drummond Kowalczyk Ashdown Quinlan").split()


@dataclass
class Crm:
    """The org as a CRM holds it. Frames are documented where they are built."""

    org: DemoOrg
    args: dict
    first_day: np.datetime64          # the window's first day
    end_day: np.datetime64            # the day after the month under review
    as_of: pd.Timestamp               # the export's moment (naive UTC)
    users: pd.DataFrame
    roles: pd.DataFrame
    teams: pd.DataFrame
    accounts: pd.DataFrame
    opps: pd.DataFrame
    history: pd.DataFrame
    tasks: pd.DataFrame
    events: pd.DataFrame
    renewals: pd.DataFrame            # HubSpot's second pipeline
    inbound_emails: pd.DataFrame      # replies HubSpot logs on the rep
    n_leads: int
    traps: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False)   # renderers' work, shared by shapes

    @property
    def month(self) -> str:
        return self.args["end"]


# ------------------------------------------------------------------ helpers
def to_utc(local) -> np.ndarray:
    """Naive local times (TZ) as naive UTC datetime64[ms]."""
    idx = pd.DatetimeIndex(np.asarray(local, dtype="datetime64[s]"))
    utc = idx.tz_localize(TZ, ambiguous=np.zeros(len(idx), dtype=bool), nonexistent="shift_forward")
    return utc.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[ms]")


def _at(day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Local datetimes from days and seconds after midnight."""
    return day.astype("datetime64[D]").astype("datetime64[s]") + seconds.astype("timedelta64[s]")


def _work_seconds(rng: np.random.Generator, n: int, start: int = WORK_START,
                  end: int = WORK_END) -> np.ndarray:
    return rng.integers(start, end, n)


def _slots(rng: np.random.Generator, n: int) -> np.ndarray:
    """Meeting starts on the half hour, 9:00 to 16:30."""
    return 9 * 3600 + 1800 * rng.integers(0, 16, n)


def _frame(columns: dict) -> pd.DataFrame:
    """A frame whose text columns stay numpy objects (arrow strings make takes slow)."""
    n = next(len(v) for v in columns.values() if np.ndim(v) == 1)
    out = {}
    for name, v in columns.items():
        if isinstance(v, str) or (isinstance(v, np.ndarray) and v.dtype.kind in "UO"):
            v = np.broadcast_to(np.asarray(v, dtype=object), (n,))
            out[name] = pd.Series(v, dtype=object, copy=True)
        else:
            out[name] = v if np.ndim(v) else np.full(n, v)
    return pd.DataFrame(out)


def _pick(rng: np.random.Generator, n: int, values, p=None) -> np.ndarray:
    values = np.array(values, dtype=object)
    return values[rng.choice(len(values), n, p=p)]


# ------------------------------------------------------------------ public
def build_crm(org: DemoOrg, args: dict) -> Crm:
    """The CRM of a demo org generated with `args` (reps, months, seed, end)."""
    if org.meetings is None:
        raise ValueError("the demo org carries no meetings: regenerate it with generate_org")
    rng = np.random.default_rng([int(args["seed"]), 0xC12])
    end_month = np.datetime64(args["end"], "M")
    first_month = end_month - (int(args["months"]) - 1)
    first_day = first_month.astype("datetime64[D]")
    end_day = (end_month + 1).astype("datetime64[D]")
    as_of = pd.Timestamp(end_day) + pd.Timedelta(hours=AS_OF_HOUR_UTC)
    b = _Builder(org, rng, first_day, end_day)
    b.people(first_month, end_month)
    b.accounts_and_opps()
    b.history_rows()
    b.task_rows()
    b.event_rows()
    b.leavers()
    b.deleted()
    b.extras()
    return b.finish(args, as_of)


class _Builder:
    """Builds the CRM frames step by step (each step documents what it adds)."""

    def __init__(self, org: DemoOrg, rng: np.random.Generator, first_day, end_day):
        self.org, self.rng = org, rng
        self.first_day, self.end_day = first_day, end_day
        self.last_day = end_day - 1
        self.traps: dict[str, int] = {}

    # -------------------------------------------------------------- people
    def people(self, first_month, end_month):
        """users, roles and teams: the org chart with managers, leaders, admins and leavers.

        users: uid, first, last, name, email, kind (rep, leaver, manager, director, vp,
        admin, integration), role_key, manager_uid, department, division, title, active,
        created (local), deactivated (local or NaT), rep_id (demo), fairway_role,
        team_key, twin_uid (a leaver's healthy twin).
        """
        rng, reps = self.rng, self.org.reps
        truth = self.org.truth.set_index("rep_id")
        teams = reps.drop_duplicates("team")[["team", "division", "manager", "role"]].reset_index(drop=True)
        teams["ordinal"] = teams.groupby("role").cumcount()
        teams["number"] = teams["team"].str.rsplit("-", n=1).str[1].astype(int)
        teams["division_label"] = teams["division"].str.title()
        closer = teams["role"].eq("isr")
        teams["label"] = teams["division_label"] + np.where(closer, " AE ", " SDR ") + teams["number"].astype(str)
        teams["role_label"] = np.where(
            closer, np.array(ISR_ROLE_LABELS, dtype=object)[teams["ordinal"] % len(ISR_ROLE_LABELS)],
            np.array(BDR_ROLE_LABELS, dtype=object)[teams["ordinal"] % len(BDR_ROLE_LABELS)])
        teams["dialer"] = teams["ordinal"] % 3 == 1          # calls logged with Type blank
        teams["synced"] = teams["division"] != teams["division"].iloc[0]   # tasks created by a sync user
        teams["booking_result"] = np.where(teams["ordinal"] % 2 == 0, "Meeting Set", "Meeting Booked")
        divisions = list(dict.fromkeys(teams["division"]))

        # roles: VP Sales > Sales Operations; VP > Director (division) > Sales Manager (team) > reps' role
        role_rows = [("VP Sales", "VP_Sales", -1, "vp"), ("Sales Operations", "Sales_Operations", 0, "admin")]
        director_role = {}
        for d in divisions:
            director_role[d] = len(role_rows)
            role_rows.append(("Director", f"Director_{d.title()}", 0, "director"))
        manager_role, rep_role = [], []
        for t in teams.itertuples():
            kind = "ISR" if t.role == "isr" else "SDR"
            manager_role.append(len(role_rows))
            role_rows.append(("Sales Manager", f"Sales_Manager_{t.division_label}_{kind}_{t.number}",
                              director_role[t.division], "manager"))
            rep_role.append(len(role_rows))
            slug = "".join(c if c.isalnum() else "_" for c in t.role_label).strip("_")
            role_rows.append((t.role_label, f"{slug}_{t.division_label}_{t.number}",
                              manager_role[-1], t.role))
        roles = pd.DataFrame(role_rows, columns=["name", "developer_name", "parent_key", "kind"])
        roles.insert(0, "role_key", np.arange(len(roles)))
        teams["manager_role"], teams["rep_role"] = manager_role, rep_role

        names = [(f, la) for la in EXTRA_LAST for f in EXTRA_FIRST]
        names = [names[i] for i in rng.permutation(len(names))]
        org_start = np.datetime64("2018-03-05T10:00:00")
        rows = []

        def add(first, last, kind, role_key=-1, manager_uid=-1, department="", division="", title="",
                created=org_start, rep_id=None, fairway_role=None, team_key=-1, email=None):
            rows.append(dict(first=first, last=last, kind=kind, role_key=role_key,
                             manager_uid=manager_uid, department=department, division=division,
                             title=title, created=created, rep_id=rep_id, fairway_role=fairway_role,
                             team_key=team_key,
                             email=email or f"{first}.{last}@{EMAIL_DOMAIN}".lower().replace(" ", "")))
            return len(rows) - 1

        first, last = names.pop()
        self.admin = add(first, last, "admin", 1, department="Revenue Operations",
                         title="Salesforce Administrator")
        self.integration = add("Integration", "User", "integration", title="API Integration",
                               email=f"integration.user@{EMAIL_DOMAIN}", created=org_start + 3600)
        self.sync_user = add("Outreach", "Sync", "integration", title="Sales Engagement Sync",
                             email=f"outreach.sync@{EMAIL_DOMAIN}",
                             created=np.datetime64("2021-02-01T11:00:00"))
        first, last = names.pop()
        self.vp = add(first, last, "vp", 0, department="Sales", title="VP of Sales",
                      created=org_start + 86400)
        director_uid = {}
        for i, d in enumerate(divisions):
            first, last = names.pop()
            director_uid[d] = add(first, last, "director", director_role[d], self.vp, "Sales",
                                  d.title(), "Regional Sales Director",
                                  created=org_start + (30 + 40 * i) * 86400)
        manager_uid = []
        for t in teams.itertuples():
            first, last = t.manager.split(" ", 1)
            manager_uid.append(add(first, last, "manager", t.manager_role, director_uid[t.division],
                                   "Sales Development" if t.role == "bdr" else "Sales",
                                   t.division_label,
                                   "SDR Manager" if t.role == "bdr" else "Sales Manager",
                                   created=org_start + (200 + 30 * t.Index) * 86400))
        teams["manager_uid"] = manager_uid
        team_key = pd.Series(np.arange(len(teams)), index=teams["team"])
        starts = reps["start_date"].to_numpy().astype("datetime64[D]")
        self.rep_uid = {}
        for i, r in enumerate(reps.itertuples()):
            t = team_key[r.team]
            first, last = r.name.split(" ", 1)
            self.rep_uid[r.rep_id] = add(
                first, last, "rep", teams.at[t, "rep_role"], teams.at[t, "manager_uid"],
                "Sales Development" if r.role == "bdr" else "Sales", r.division.title(),
                "Sales Development Representative" if r.role == "bdr" else "Account Executive",
                created=_at(np.array([starts[i] - 3]), np.array([14 * 3600]))[0],
                rep_id=r.rep_id, fairway_role=r.role, team_key=int(t), email=r.email)

        # leavers: healthy reps' twins who left some months before the end
        n_leavers = int(np.clip(round(0.05 * len(reps)), 1, 10))
        healthy = truth["planted_metric"].eq("") & (starts < self.first_day)
        pools = {role: list(reps.loc[healthy.to_numpy() & reps["role"].eq(role).to_numpy(), "rep_id"])
                 for role in ("bdr", "isr")}
        leavers = []
        for i in range(n_leavers):
            role = "bdr" if i % 2 == 0 else "isr"
            pool = pools[role] or pools["bdr"] or pools["isr"]
            twin = pool.pop(int(rng.integers(len(pool))))
            twin_uid = self.rep_uid[twin]
            tw = rows[twin_uid]
            month = max(first_month, end_month - 3 - i % 3)
            leave = np.busday_offset((month + 1).astype("datetime64[D]"), -1, roll="backward")
            first, last = names.pop()
            uid = add(first, last, "leaver", tw["role_key"], tw["manager_uid"], tw["department"],
                      tw["division"], tw["title"], created=tw["created"] - 86400 * int(rng.integers(30, 400)),
                      fairway_role=tw["fairway_role"], team_key=tw["team_key"])
            leavers.append((uid, twin_uid, leave))
        self.leaver_rows = leavers

        users = pd.DataFrame(rows)
        users.insert(0, "uid", np.arange(len(users)))
        users["name"] = users["first"] + " " + users["last"]
        users["active"] = ~users["kind"].eq("leaver")
        users["deactivated"] = pd.Series(pd.NaT, index=users.index, dtype="datetime64[s]")
        users["twin_uid"] = -1
        for uid, twin_uid, leave in leavers:
            users.loc[uid, "deactivated"] = _at(np.array([leave]), np.array([18 * 3600]))[0]
            users.loc[uid, "twin_uid"] = twin_uid
        users["created"] = users["created"].astype("datetime64[s]")
        self.users, self.roles, self.teams = users, roles, teams
        self.rep_index = pd.Series(np.arange(len(reps)), index=reps["rep_id"])
        self.rep_uids = np.array([self.rep_uid[r] for r in reps["rep_id"]])
        self.traps["leavers (inactive reps with history)"] = n_leavers
        self.traps["managers, directors, VP"] = int(users["kind"].isin(["manager", "director", "vp"]).sum())
        self.traps["admin and integration users"] = int(users["kind"].isin(["admin", "integration"]).sum())

    # -------------------------------------------------------------- accounts and opportunities
    def accounts_and_opps(self):
        """accounts (aid, name, industry, owner, created, type) and opps (see below).

        opps: oid, demo_id, owner, creator, account, name, amount, created (local), close_day,
        status, loss_reason, source (uid or -1), lead_source, deleted, purged, trap.
        `created` and the current stage come with the history (history_rows).
        """
        rng, o = self.rng, self.org.opportunities
        n = len(o)
        owner = self.rep_uids[self.rep_index[o["rep_id"]].to_numpy()]
        src = o["source_rep_id"].to_numpy(dtype=object)
        has_src = pd.notna(src)
        source = np.full(n, -1)
        source[has_src] = self.rep_uids[self.rep_index[src[has_src]].to_numpy()]
        created_day = o["created_date"].to_numpy().astype("datetime64[D]")

        # accounts: those of the deals, and prospects the SDRs call
        deal_accounts = list(dict.fromkeys(o["account"]))
        industry = {f"{a} {b} {c}": b for a in ACCOUNT_NAMES for b in ACCOUNT_TRADES
                    for c in ACCOUNT_FORMS}
        pool = list(industry)
        used = set(deal_accounts)
        free = [p for p in pool if p not in used]
        n_prospects = max(150, 8 * len(self.org.reps))
        if len(free) < n_prospects:        # a large org's deals use up the names: numbered branches
            extra = (f"{p} {k}" for k in range(2, 10_000) for p in pool)
            free += [e for e, _ in zip((e for e in extra if e not in used), range(n_prospects - len(free)))]
            industry.update({e: industry[e.rsplit(" ", 1)[0]] for e in free if e not in industry})
        prospects = [free[i] for i in np.sort(rng.choice(len(free), n_prospects, replace=False))]
        first_use = o.groupby("account", sort=False)["created_date"].min()
        first_owner = pd.Series(owner, index=o.index).groupby(o["account"], sort=False).first()
        won_any = o["status"].eq("won").groupby(o["account"], sort=False).any()
        acc = _frame({"name": np.array(deal_accounts + prospects, dtype=object)})
        acc["industry"] = acc["name"].map(industry)
        bdrs = self.rep_uids[self.org.reps["role"].eq("bdr").to_numpy()]
        acc["owner"] = np.concatenate([first_owner[deal_accounts].to_numpy(),
                                       _pick(rng, n_prospects, bdrs)]).astype(int)
        deal_created = first_use[deal_accounts].to_numpy().astype("datetime64[D]")
        acc_day = np.concatenate([deal_created - rng.integers(20, 400, len(deal_accounts)),
                                  self.first_day - rng.integers(30, 900, n_prospects)])
        acc["created"] = _at(acc_day, _work_seconds(rng, len(acc)))
        acc["type"] = np.concatenate([np.where(won_any[deal_accounts].to_numpy(), "Customer", "Prospect"),
                                      np.full(n_prospects, "Prospect")])
        order = np.argsort(acc["created"].to_numpy(), kind="stable")
        acc = acc.iloc[order].reset_index(drop=True)
        acc.insert(0, "aid", np.arange(len(acc)))
        self.accounts = acc
        aid_of = pd.Series(acc["aid"].to_numpy(), index=acc["name"])
        self.prospect_aids = aid_of[prospects].to_numpy()

        creator = np.where(has_src & (rng.random(n) < 0.5), source, owner)
        lead_source = np.where(has_src, "Outbound", _pick(rng, n, OWN_LEAD_SOURCES))
        self.opps = _frame({
            "demo_id": o["opportunity_id"].to_numpy(dtype=object),
            "owner": owner, "creator": creator,
            "account": aid_of[o["account"]].to_numpy(),
            "account_name": o["account"].to_numpy(dtype=object),
            "amount": o["amount"].to_numpy().astype(float),
            "created_day": created_day,
            "close_day": o["close_date"].to_numpy().astype("datetime64[D]"),
            "status": o["status"].to_numpy(dtype=object),
            "loss_reason": o["loss_reason"].to_numpy(dtype=object),
            "source": source, "lead_source": lead_source,
            "deleted": False, "purged": False, "trap": "",
        })
        self.opps["name"] = self.opps["account_name"] + " - New Business"

    # -------------------------------------------------------------- history
    def history_rows(self):
        """history: every change of a deal (OpportunityHistory's rows).

        Columns: opp (row of opps), at (local), stage (0..3, WON, LOST), sub, amount,
        close_day (the expected close at that moment), by (uid), kind (created, stage,
        back, amount, close_date, closed). The first entry into each coarse stage is the
        demo's entered date; sub-stage steps and moves back fall on business days strictly
        inside a stage's days, so they never change when a stage was first entered.
        """
        rng, org, opps = self.rng, self.org, self.opps
        n_opps = len(opps)
        h = org.stage_history
        code = h["stage"].astype(str).map({s: i for i, s in enumerate(STAGES)})
        if code.isna().any():
            raise ValueError(f"the exports know the default pipeline only: {', '.join(STAGES)}")
        row_of = pd.Series(np.arange(n_opps), index=opps["demo_id"])
        v_opp = row_of[h["opportunity_id"].astype(str)].to_numpy()
        v_day = h["entered_date"].to_numpy().astype("datetime64[D]")
        v_k = code.to_numpy(dtype=np.int64)
        order = np.lexsort((v_k, v_opp))
        v_opp, v_day, v_k = v_opp[order], v_day[order], v_k[order]
        status = opps["status"].to_numpy()
        close_day = opps["close_day"].to_numpy().astype("datetime64[D]")
        last_visit = np.append(v_opp[1:] != v_opp[:-1], True)
        # a visit lasts until the next visit, the loss, or (still open) the end of the window
        nxt = np.append(v_day[1:], v_day[-1])
        bound = np.where(~last_visit, nxt, np.where(status[v_opp] == "lost", close_day[v_opp],
                                                    self.last_day + 1))
        won_visit = v_k == WON
        room = np.where(won_visit | (bound <= v_day + 1), 0,
                        np.busday_count(v_day + 1, np.maximum(bound, v_day + 1)))
        # steps inside a visit: sub-stages, then a round trip back, or (lost) a last step back
        nv = len(v_opp)
        subs = np.zeros(nv, dtype=np.int64)
        go_on = np.ones(nv, dtype=bool)
        for j in range(2):
            p = np.array([SUB_STEPS.get(k, ())[j] if j < len(SUB_STEPS.get(k, ())) else 0.0
                          for k in range(WON + 1)])[v_k]
            go_on &= rng.random(nv) < p
            subs += go_on
        final_back = (status[v_opp] == "lost") & last_visit & (v_k >= 1) & (rng.random(nv) < LOST_BACK)
        round_trip = (v_k >= 1) & ~final_back & ~won_visit & (rng.random(nv) < MOVE_BACK)
        subs = np.minimum(subs, room)
        final_back &= subs + 1 <= room
        round_trip &= subs + 2 <= room
        n_steps = subs + final_back + 2 * round_trip
        # step j of m sits in the j-th of m equal slices of the room: distinct, in order
        s_visit = np.repeat(np.arange(nv), n_steps)
        s_pos = np.arange(len(s_visit)) - np.repeat(np.cumsum(n_steps) - n_steps, n_steps)
        m, r = n_steps[s_visit], room[s_visit]
        lo, hi = s_pos * r // np.maximum(m, 1), (s_pos + 1) * r // np.maximum(m, 1)
        s_off = lo + (rng.random(len(s_visit)) * (hi - lo)).astype(np.int64)
        s_day = np.busday_offset(v_day[s_visit] + 1, s_off, roll="forward")
        k = v_k[s_visit]
        sub_step = s_pos < subs[s_visit]
        after = s_pos - subs[s_visit]        # 0, 1 for the round trip; 0 for the last step back
        s_stage = np.where(sub_step, k, np.where(round_trip[s_visit] & (after == 1), k, k - 1))
        s_sub = np.where(sub_step, s_pos + 1, np.where(round_trip[s_visit] & (after == 1),
                                                       subs[s_visit], 9))
        s_kind = np.where(sub_step | (round_trip[s_visit] & (after == 1)), "stage", "back")
        self.traps["sub-stage steps within one pipeline stage"] = int(subs.sum())
        self.traps["moves back a stage and forward again"] = int(round_trip.sum())
        self.traps["lost deals that moved back before Closed Lost"] = int(final_back.sum())

        first_visit = np.append(True, v_opp[1:] != v_opp[:-1])
        lost = np.flatnonzero(status == "lost")
        parts = {
            "opp": [v_opp, v_opp[s_visit], lost],
            "day": [v_day, s_day, close_day[lost]],
            "stage": [v_k, s_stage, np.full(len(lost), LOST)],
            "sub": [np.zeros(nv, np.int64), s_sub, np.zeros(len(lost), np.int64)],
            "kind": [np.where(first_visit, "created", np.where(won_visit, "closed", "stage")),
                     s_kind, np.full(len(lost), "closed")],
        }
        st = {c: np.concatenate(v) for c, v in parts.items()}
        st["at"] = _at(st["day"], _work_seconds(rng, len(st["opp"])))
        order = np.lexsort((st["at"], st["opp"]))
        st = {c: v[order] for c, v in st.items()}
        del st["day"]
        first_row = np.searchsorted(st["opp"], np.arange(n_opps))
        created_at = st["at"][first_row]
        last_row = np.searchsorted(st["opp"], np.arange(n_opps), side="right") - 1
        end_at = np.where(status == "open", _at(np.full(n_opps, self.last_day), np.full(n_opps, WORK_END)),
                          st["at"][last_row])

        # edits inside a deal's life: an amount change, close date pushes
        amount = opps["amount"].to_numpy()
        edit_amount = rng.random(n_opps) < AMOUNT_EDIT
        old_amount = np.maximum(500.0, np.round(amount * rng.uniform(0.6, 1.4, n_opps), -2))
        edit_amount &= old_amount != amount
        pushes = rng.choice(3, n_opps, p=PUSHES)
        e_opp = np.concatenate([np.flatnonzero(edit_amount), np.repeat(np.arange(n_opps), pushes)])
        e_kind = np.concatenate([np.full(int(edit_amount.sum()), "amount"),
                                 np.full(int(pushes.sum()), "close_date")])
        # on a working day of the deal's life, in working hours
        first_d = created_at.astype("datetime64[D]")[e_opp]
        n_days = np.maximum(np.busday_count(first_d, end_at.astype("datetime64[D]")[e_opp]), 0)
        e_day = np.busday_offset(first_d, (rng.random(len(e_opp)) * (n_days + 1)).astype(np.int64),
                                 roll="forward")
        e_at = np.clip(_at(e_day, _work_seconds(rng, len(e_opp))), created_at[e_opp] + np.timedelta64(60, "s"),
                       end_at[e_opp] - np.timedelta64(60, "s"))
        # the stage at the moment of an edit
        key = st["opp"].astype(np.int64) * 10**11 + (st["at"] - created_at.min()).astype(np.int64)
        e_key = e_opp.astype(np.int64) * 10**11 + (e_at - created_at.min()).astype(np.int64)
        at_row = np.searchsorted(key, e_key, side="right") - 1
        rows = {
            "opp": np.concatenate([st["opp"], e_opp]),
            "at": np.concatenate([st["at"], e_at]),
            "stage": np.concatenate([st["stage"], st["stage"][at_row]]),
            "sub": np.concatenate([st["sub"], st["sub"][at_row]]),
            "kind": np.concatenate([st["kind"], e_kind]),
        }
        order = np.lexsort((rows["at"], rows["opp"]))
        hist = _frame({c: v[order] for c, v in rows.items()})
        o_ = hist["opp"].to_numpy()
        kind = hist["kind"].to_numpy()
        at = hist["at"].to_numpy()
        # amount: the old one until the edit
        edit_at = np.full(n_opps, np.datetime64("NaT"), dtype="datetime64[s]")
        am = np.flatnonzero(edit_amount)
        edit_at[am] = e_at[:len(am)]
        before = edit_amount[o_] & (at < edit_at[o_])
        hist["amount"] = np.where(before, old_amount[o_], amount[o_])
        # expected close: a guess, each push later (the last one, for open deals, the date
        # the demo expects), the actual date when the deal closes
        guess = created_at.astype("datetime64[D]") + rng.integers(30, 75, n_opps)
        is_open = status == "open"
        guess = np.where(is_open & (pushes == 0), close_day, guess)
        push_no = pd.Series(kind == "close_date").groupby(o_).cumsum().to_numpy()
        step = rng.integers(10, 40, len(hist))
        pushed = guess[o_] + pd.Series(np.where(kind == "close_date", step, 0)).groupby(o_).cumsum().to_numpy()
        pushed = np.where(is_open[o_] & (push_no == pushes[o_]) & (push_no > 0), close_day[o_], pushed)
        closed_yet = pd.Series(kind == "closed").groupby(o_).cumsum().to_numpy() > 0
        hist["close_day"] = np.where(closed_yet, close_day[o_], pushed).astype("datetime64[s]")
        owner, creator = opps["owner"].to_numpy(), opps["creator"].to_numpy()
        manager = self.users["manager_uid"].to_numpy()[owner]
        by_manager = (kind == "close_date") & (manager[o_] >= 0) & (rng.random(len(hist)) < 0.3)
        hist["by"] = np.where(kind == "created", creator[o_], np.where(by_manager, manager[o_], owner[o_]))
        hist["deleted"] = False
        hist["purged"] = False
        self.history = hist
        self.traps["amount edits (history rows, same stage)"] = int(edit_amount.sum())
        self.traps["close date pushes (history rows, same stage)"] = int(pushes.sum())

        stage_rows = hist[hist["kind"].isin(["created", "stage", "back", "closed"])]
        last = stage_rows.groupby("opp").tail(1).set_index("opp")
        self.opps["created"] = created_at
        self.opps["stage"] = last["stage"].reindex(range(n_opps)).to_numpy()
        self.opps["sub"] = last["sub"].reindex(range(n_opps)).to_numpy()
        self.opps["last_modified"] = hist.groupby("opp")["at"].max().reindex(range(n_opps)).to_numpy()

    # -------------------------------------------------------------- tasks
    def task_rows(self):
        """tasks: calls and emails of the demo (one task each), on leads, contacts or accounts.

        Columns: owner, creator, start (local), created (local), kind (call, email,
        list_email, todo, call_reminder, admin_task), type_field, subtype, subject, status,
        duration_s, disposition, call_type, who_kind (lead, contact, ''), who_n, what_kind
        (opp, account, ''), what_key (opp row or aid), account, deleted, purged, demo, trap.
        """
        rng, org = self.rng, self.org
        a = org.activities
        kind = a["type"].astype(str).to_numpy()
        rep = a["rep_id"].cat.codes.to_numpy()
        day = a["date"].to_numpy().astype("datetime64[D]")
        is_call, is_email = kind == "call", kind == "email"
        nxt = np.append(kind[1:], "")
        connected = is_call & (nxt == "connect")
        # meetings booked that day: the first connected calls of the day booked them
        booked = _frame({"rep": rep[kind == "meeting_scheduled"], "day": day[kind == "meeting_scheduled"]})
        per_day = booked.groupby(["rep", "day"]).size()
        ci = np.flatnonzero(connected)
        rank = _frame({"rep": rep[ci], "day": day[ci]}).groupby(["rep", "day"]).cumcount().to_numpy()
        limit = per_day.reindex(pd.MultiIndex.from_arrays([rep[ci], day[ci]])).fillna(0).to_numpy()
        booking = np.zeros(len(a), dtype=bool)
        booking[ci[rank < limit]] = True
        self.traps["calls that booked a meeting (Meeting Set / Meeting Booked)"] = int(booking.sum())

        reps = org.reps
        team_of_rep = self.teams.set_index("team").loc[reps["team"]].reset_index()
        closer_rep = reps["role"].eq("isr").to_numpy()
        rows = np.flatnonzero(is_call | is_email)
        n = len(rows)
        r = rep[rows]
        uid = self.rep_uids[r]
        t_dialer = team_of_rep["dialer"].to_numpy()[r]
        t_synced = team_of_rep["synced"].to_numpy()[r]
        book_label = team_of_rep["booking_result"].to_numpy()[r]
        call = is_call[rows]
        dur_s = np.where(call, np.round(a["duration_minutes"].to_numpy()[rows] * 60), np.nan)
        start_sec = _work_seconds(rng, n)
        start_sec = np.minimum(start_sec, WORK_END - np.nan_to_num(dur_s).astype(np.int64) - 60)
        start = _at(day[rows], start_sec)
        created = start + (np.nan_to_num(dur_s).astype(np.int64) + rng.integers(5, 120, n)).astype("timedelta64[s]")
        disposition = np.where(connected[rows], "Connected",
                               _pick(rng, n, NOT_CONNECTED, NOT_CONNECTED_P)).astype(object)
        disposition[booking[rows]] = book_label[booking[rows]]
        disposition[~call] = ""
        list_email = ~call & ~closer_rep[r] & (rng.random(n) < 0.3)
        tkind = np.where(call, "call", np.where(list_email, "list_email", "email")).astype(object)
        subtype = np.where(call, "Call", np.where(list_email, "ListEmail", "Email")).astype(object)
        type_field = np.where(call, np.where(t_dialer, "", "Call"), "Email").astype(object)
        subject = np.where(call, np.where(t_dialer, "Outbound call", "Call"),
                           np.where(list_email, "List Email: " + _pick(rng, n, ["Q-start outreach", "Webinar follow-up", "Case study"]),
                                    "Email: " + _pick(rng, n, ["Intro", "Following up", "Next steps", "Quick question"]))).astype(object)
        subject = np.where(t_synced, "[Outreach] " + subject, subject).astype(object)
        creator = np.where(t_synced, self.sync_user, uid)
        # what the task is about: SDRs on leads or contacts, AEs on their accounts
        closer = closer_rep[r]
        on_lead = ~closer & (rng.random(n) < 0.55)
        who_kind = np.where(on_lead, "lead", "contact").astype(object)
        n_leads = 40 * len(reps)
        who_n = np.where(on_lead, rng.integers(0, n_leads, n), 0)
        account = np.full(n, -1)
        prospects = self.prospect_aids
        account[~closer & ~on_lead] = prospects[rng.integers(0, len(prospects), int((~closer & ~on_lead).sum()))]
        # an AE's task is on the account of one of their deals
        deals_of = pd.Series(self.opps["account"].to_numpy()).groupby(self.opps["owner"].to_numpy()).agg(list)
        for u in np.unique(uid[closer]):
            m = closer & (uid == u)
            accs = np.array(deals_of.get(u, list(prospects[:5])))
            account[m] = accs[rng.integers(0, len(accs), int(m.sum()))]
        n_acc = len(self.accounts)
        who_n = np.where(on_lead, who_n, account + n_acc * rng.integers(0, 3, n))
        self.n_leads = n_leads
        self.tasks = _frame({
            "owner": uid, "creator": creator, "start": start, "created": created,
            "kind": tkind, "type_field": type_field, "subtype": subtype, "subject": subject,
            "status": "Completed", "duration_s": dur_s, "disposition": disposition,
            "call_type": np.where(call, "Outbound", ""), "who_kind": who_kind, "who_n": who_n,
            "what_kind": np.where(account >= 0, "account", ""), "what_key": account,
            "account": account, "deleted": False, "purged": False, "demo": True, "trap": "",
        })
        self.traps["tasks on a lead (WhoId 00Q, no WhatId)"] = int(on_lead.sum())
        self.traps["tasks on an account (WhatId 001)"] = int((account >= 0).sum())
        self.traps["calls logged with Type blank (dialer; TaskSubtype Call)"] = int((call & t_dialer).sum())
        self.traps["tasks created by the sync user for the rep (CreatedById != OwnerId)"] = int(t_synced.sum())
        self.traps["list emails (TaskSubtype ListEmail)"] = int(list_email.sum())
        self._booking_calls = _frame({"rep": rep[rows][booking[rows]], "day": day[rows][booking[rows]],
                                      "at": created[booking[rows]]})

    # -------------------------------------------------------------- events
    def event_rows(self):
        """events: meetings. SDR-booked ones on the AE's calendar; AEs' deal meetings.

        Columns: owner, creator, booked (local creation time), start (local), duration_min,
        subject, status (Completed, No Show, Cancelled, '' = still scheduled), is_child,
        who_kind, who_n, what_kind, what_key, account, deleted, purged, demo
        (booked, deal, ''), trap.
        """
        rng, org = self.rng, self.org
        m = org.meetings
        m_day = m["meeting_date"].to_numpy().astype("datetime64[D]")
        b_day = m["booked_date"].to_numpy().astype("datetime64[D]")
        keep = (b_day >= self.first_day) | (m_day >= self.first_day)
        m = m.loc[keep].reset_index(drop=True)
        m_day, b_day = m_day[keep], b_day[keep]
        n = len(m)
        sdr = self.rep_uids[self.rep_index[m["rep_id"]].to_numpy()]
        opp_row = pd.Series(np.arange(len(self.opps)), index=self.opps["demo_id"])
        has_opp = m["opportunity_id"].notna().to_numpy()
        what_opp = np.full(n, -1)
        what_opp[has_opp] = opp_row[m["opportunity_id"][has_opp]].to_numpy()
        # the AE: the deal's owner, else one of the AEs this SDR's deals go to
        ae = np.full(n, -1)
        ae[has_opp] = self.opps["owner"].to_numpy()[what_opp[has_opp]]
        o = self.opps
        sourced = o[o["source"] >= 0]
        ae_start = self.users.set_index("uid")["created"]
        isr_uids = self.rep_uids[org.reps["role"].eq("isr").to_numpy()]
        for s in np.unique(sdr[~has_opp]):
            sel = np.flatnonzero(~has_opp & (sdr == s))
            cands = sourced.loc[sourced["source"] == s, "owner"]
            cands = cands.to_numpy() if len(cands) else isr_uids
            pick = cands[rng.integers(0, len(cands), len(sel))]
            started = ae_start[pick].to_numpy() <= m_day[sel].astype("datetime64[s]")
            pick[~started] = cands[0]
            ae[sel] = pick
        held = m["held"].to_numpy()
        future = m_day > self.last_day
        past_missed = ~held & ~future
        missed_label = _pick(rng, n, ["No Show", "Cancelled"], [0.55, 0.45])
        never_updated = past_missed & (rng.random(n) < 0.15)
        status = np.where(held, "Completed", np.where(future | never_updated, "", missed_label)).astype(object)
        # booked: a few minutes after the call that set it, if it was set in the window
        booked_at = _at(b_day, _work_seconds(rng, n))
        calls = self._booking_calls.copy()
        calls["k"] = calls.groupby(["rep", "day"]).cumcount()
        mm = _frame({"rep": self.rep_index[m["rep_id"]].to_numpy(), "day": b_day, "i": np.arange(n)})
        mm["k"] = mm.groupby(["rep", "day"]).cumcount()
        j = mm.merge(calls, on=["rep", "day", "k"], how="inner")
        booked_at[j["i"].to_numpy()] = j["at"].to_numpy() + rng.integers(60, 600, len(j)).astype("timedelta64[s]")
        start = _at(m_day, _slots(rng, n))
        on_lead = ~has_opp & (rng.random(n) < 0.5)
        prospects = self.prospect_aids
        account = np.where(has_opp, o["account"].to_numpy()[np.maximum(what_opp, 0)],
                           prospects[rng.integers(0, len(prospects), n)])
        account = np.where(on_lead, -1, account)
        booked_ev = _frame({
            "owner": ae, "creator": sdr, "booked": booked_at, "start": start, "duration_min": 30,
            "subject": np.where(rng.random(n) < 0.5, "Intro meeting", "Discovery call"),
            "status": status, "is_child": False,
            "who_kind": np.where(on_lead, "lead", "contact"),
            "who_n": np.where(on_lead, rng.integers(0, self.n_leads, n),
                              np.maximum(account, 0) + len(self.accounts) * rng.integers(0, 3, n)),
            "what_kind": np.where(has_opp, "opp", np.where(on_lead, "", "account")),
            "what_key": np.where(has_opp, what_opp, account),
            "account": account, "deleted": False, "purged": False, "demo": "booked", "trap": "",
        })
        self.traps["SDR-booked meetings on an AE's calendar (CreatedById = SDR, OwnerId = AE)"] = n
        self.traps["meetings still scheduled after the export date (status blank / SCHEDULED)"] = int(future.sum())
        self.traps["past meetings never updated (status blank / SCHEDULED: not held)"] = int(never_updated.sum())

        # AEs' meetings on their deals
        a = org.activities
        isr = a["rep_id"].isin(set(org.reps.loc[org.reps["role"].eq("isr"), "rep_id"])).to_numpy()
        sel = np.flatnonzero(isr & (a["type"].astype(str).to_numpy() == "meeting_held"))
        k = len(sel)
        owner = self.rep_uids[a["rep_id"].cat.codes.to_numpy()[sel]]
        day = a["date"].to_numpy()[sel].astype("datetime64[D]")
        opp = opp_row[a["opportunity_id"].astype(str).to_numpy()[sel]].to_numpy()
        start = _at(day, _slots(rng, k))
        booked = _at(np.busday_offset(day, -rng.integers(1, 8, k), roll="backward"), _work_seconds(rng, k))
        deal_ev = _frame({
            "owner": owner, "creator": owner, "booked": booked, "start": start,
            "duration_min": _pick(rng, k, [30, 45, 60], [0.4, 0.2, 0.4]).astype(int),
            "subject": _pick(rng, k, ["Discovery call", "Demo", "Technical review", "Proposal review", "Follow-up"]),
            "status": "Completed", "is_child": False, "who_kind": "contact",
            "who_n": o["account"].to_numpy()[opp] + len(self.accounts) * rng.integers(0, 3, k),
            "what_kind": "opp", "what_key": opp, "account": o["account"].to_numpy()[opp],
            "deleted": False, "purged": False, "demo": "deal", "trap": "",
        })
        self.events = pd.concat([booked_ev, deal_ev], ignore_index=True)

    # -------------------------------------------------------------- leavers
    def leavers(self):
        """Leavers' history: a twin's calls, emails, bookings and closed deals before leaving."""
        o, h, t, e = self.opps, self.history, self.tasks, self.events
        new_o, new_h, new_t, new_e = [], [], [], []
        for uid, twin, leave in self.leaver_rows:
            leave_s = leave.astype("datetime64[s]") + np.timedelta64(18 * 3600, "s")
            deals = np.flatnonzero((o["owner"].to_numpy() == twin) & (o["status"].to_numpy() != "open")
                                   & (o["close_day"].to_numpy() <= leave) & (o["deleted"].to_numpy() == 0)
                                   & (o["close_day"].to_numpy() >= self.first_day))
            base = len(o) + sum(len(x) for x in new_o)
            remap = pd.Series(base + np.arange(len(deals)), index=deals)
            if len(deals):
                od = o.iloc[deals].copy()
                od["owner"] = uid
                od["creator"] = np.where(od["creator"].to_numpy() == twin, uid, od["creator"].to_numpy())
                od["demo_id"] = None
                od["source"] = -1
                od["trap"] = "leaver"
                new_o.append(od)
                hd = h[h["opp"].isin(deals)].copy()
                hd["by"] = np.where(hd["by"].to_numpy() == twin, uid, hd["by"].to_numpy())
                hd["opp"] = remap[hd["opp"]].to_numpy()
                new_h.append(hd)
            td = t[(t["owner"] == twin) & (t["start"] < leave_s)].copy()
            td["owner"] = uid
            td["creator"] = np.where(td["creator"].to_numpy() == twin, uid, td["creator"].to_numpy())
            td["demo"], td["trap"] = False, "leaver"
            new_t.append(td)
            # what the twin put on a calendar: their bookings for AEs, their own deal meetings
            mine = (e["creator"] == twin) & (e["booked"] < leave_s) & (e["start"] < leave_s)
            keep = (e["what_kind"] != "opp") | (e["owner"] != twin) | e["what_key"].isin(deals)
            ed = e[mine & keep].copy()
            on_deal = (ed["what_kind"] == "opp") & ed["what_key"].isin(deals)
            ed.loc[on_deal, "what_key"] = remap[ed.loc[on_deal, "what_key"]].to_numpy()
            ed["owner"] = np.where(ed["owner"].to_numpy() == twin, uid, ed["owner"].to_numpy())
            ed["creator"] = np.where(ed["creator"].to_numpy() == twin, uid, ed["creator"].to_numpy())
            ed["demo"], ed["trap"] = "", "leaver"
            new_e.append(ed)
        if new_o:
            self.opps = pd.concat([o, *new_o], ignore_index=True)
            self.history = pd.concat([h, *new_h], ignore_index=True)
        self.tasks = pd.concat([t, *new_t], ignore_index=True)
        self.events = pd.concat([e, *new_e], ignore_index=True)
        self.traps["leavers' rows (tasks, events, closed deals)"] = \
            sum(len(x) for x in (*new_o, *new_t, *new_e))

    # -------------------------------------------------------------- deleted
    def deleted(self):
        """Deleted rows: duplicate deals (some won this month) with their history and tasks,
        duplicate calls and double-booked meetings. Half of them are still in the recycle
        bin (IsDeleted), half purged (a sync marks them _fivetran_deleted)."""
        rng = self.rng
        o, h = self.opps, self.history
        demo = o["demo_id"].notna().to_numpy()
        month_won = np.flatnonzero(demo & (o["status"].to_numpy() == "won")
                                   & (o["close_day"].to_numpy() >= np.datetime64(self.last_day, "M").astype("datetime64[D]")))
        others = np.flatnonzero(demo)
        n_dup = max(3, round(0.015 * demo.sum()))
        picks = np.concatenate([rng.choice(month_won, min(len(month_won), max(2, n_dup // 3)), replace=False),
                                rng.choice(others, n_dup, replace=False)])
        picks = np.unique(picks)
        base = len(o)
        dup = o.iloc[picks].copy()
        dup["demo_id"] = None
        dup["trap"] = "deleted"
        dup["deleted"] = True
        dup["purged"] = rng.random(len(dup)) < 0.5
        later = rng.integers(60, 900, len(dup)).astype("timedelta64[s]")   # made twice, a little later
        dup["created"] = dup["created"].to_numpy() + later
        remap = pd.Series(base + np.arange(len(picks)), index=picks)
        hd = h[h["opp"].isin(picks)].copy()
        hd["at"] = hd["at"].to_numpy() + pd.Series(later, index=picks)[hd["opp"]].to_numpy()
        hd["opp"] = remap[hd["opp"]].to_numpy()
        hd["deleted"] = True
        hd["purged"] = dup.set_index(remap[picks].to_numpy())["purged"][hd["opp"]].to_numpy()
        self.opps = pd.concat([o, dup], ignore_index=True)
        self.history = pd.concat([h, hd], ignore_index=True)
        self.traps["deleted opportunities (duplicates; some won this month)"] = len(dup)
        self.traps["history rows of deleted opportunities"] = len(hd)

        # tasks on the deleted deals: a call or two each, deleted with them
        k = len(dup) * 2
        dd = np.repeat(np.arange(len(dup)), 2)
        day = np.minimum(dup["close_day"].to_numpy()[dd], self.last_day)
        t = self.tasks
        tmpl = t[(t["kind"] == "call") & t["demo"]].iloc[:1]
        calls = pd.concat([tmpl] * k, ignore_index=True)
        calls["owner"] = calls["creator"] = dup["owner"].to_numpy()[dd]
        calls["start"] = _at(day, _work_seconds(rng, k))
        calls["created"] = calls["start"] + np.timedelta64(400, "s")
        calls["type_field"], calls["subtype"], calls["subject"] = "Call", "Call", "Call"
        calls["duration_s"] = 300.0
        calls["disposition"] = "Connected"
        calls["what_kind"] = "opp"
        calls["what_key"] = base + dd
        calls["account"] = dup["account"].to_numpy()[dd]
        calls["who_kind"], calls["who_n"] = "contact", calls["account"]
        calls["deleted"], calls["purged"] = True, dup["purged"].to_numpy()[dd]
        calls["demo"], calls["trap"] = False, "deleted"
        # duplicate calls logged twice, one deleted
        demo_calls = np.flatnonzero((t["kind"] == "call").to_numpy() & t["demo"].to_numpy())
        twice = rng.choice(demo_calls, max(5, len(demo_calls) // 300), replace=False)
        recent = demo_calls[t["start"].to_numpy()[demo_calls] >= np.datetime64(self.last_day, "M").astype("datetime64[s]")]
        twice = np.unique(np.concatenate([twice, rng.choice(recent, min(len(recent), 10), replace=False)]))
        again = t.iloc[twice].copy()
        again["created"] = again["created"] + np.timedelta64(45, "s")
        again["deleted"] = True
        again["purged"] = rng.random(len(again)) < 0.5
        again["demo"], again["trap"] = False, "deleted"
        self.tasks = pd.concat([t, calls, again], ignore_index=True)
        self.traps["deleted tasks (calls of deleted deals, calls logged twice)"] = len(calls) + len(again)

        e = self.events
        booked = np.flatnonzero((e["demo"] == "booked").to_numpy())
        twice = rng.choice(booked, max(3, len(booked) // 100), replace=False)
        ev = e.iloc[twice].copy()
        ev["booked"] = ev["booked"] + np.timedelta64(90, "s")
        ev["deleted"], ev["purged"] = True, rng.random(len(ev)) < 0.5
        ev["demo"], ev["trap"] = "", "deleted"
        self.events = pd.concat([e, ev], ignore_index=True)
        self.traps["deleted events (double-booked meetings)"] = len(ev)

    # -------------------------------------------------------------- extras
    def extras(self):
        """Rows no import should count: to-dos, planned calls, managers', admins' and the
        integration's tasks, managers' meetings, invitees' child events, AEs' next meetings
        after the export, and one activity mistyped in TYPO_YEAR. Plus HubSpot-only rows:
        a renewals pipeline and inbound email replies."""
        rng, users = self.rng, self.users
        t, e, o = self.tasks, self.events, self.opps
        window_days = np.arange(self.first_day, self.end_day)
        window_days = window_days[np.is_busday(window_days)]
        reps = users[users["kind"] == "rep"]
        managers = users[users["kind"].isin(["manager", "director", "vp"])]

        def task_frame(owner, day, kind, type_field, subtype, subject, status="Completed",
                       duration=np.nan, disposition="", what_kind="", what_key=-1,
                       account=-1, trap=""):
            k = len(owner)
            start = _at(day, _work_seconds(rng, k))
            subtype = np.broadcast_to(np.asarray(subtype, dtype=object), (k,))
            return _frame({
                "owner": owner, "creator": owner, "start": start,
                "created": start + np.timedelta64(30, "s"), "kind": kind,
                "type_field": type_field, "subtype": subtype, "subject": subject, "status": status,
                "duration_s": duration, "disposition": disposition,
                "call_type": np.where(subtype == "Call", "Outbound", ""),
                "who_kind": "", "who_n": 0, "what_kind": what_kind, "what_key": what_key,
                "account": account, "deleted": False, "purged": False, "demo": False, "trap": trap})

        # to-dos and planned calls of reps: ~3 a month each, on their deals or accounts
        n_months = len(np.unique(window_days.astype("datetime64[M]")))
        k = 3 * n_months * len(reps)
        owner = _pick(rng, k, reps["uid"].to_numpy()).astype(int)
        day = window_days[rng.integers(0, len(window_days), k)]
        reminder = rng.random(k) < 0.35
        deals_of = pd.Series(np.arange(len(o))).groupby(o["owner"].to_numpy()).agg(list)
        what = np.array([(lambda d: d[rng.integers(len(d))] if d else -1)(deals_of.get(u, [])) for u in owner])
        todo = task_frame(owner, day, np.where(reminder, "call_reminder", "todo"),
                          np.where(reminder, "Call", _pick(rng, k, ["To Do", "Other", ""])), "Task",
                          np.where(reminder, "Call back re: pricing", _pick(rng, k, ["Send proposal", "Follow up", "Update opportunity", "Prepare demo"])),
                          status=np.where(reminder | (rng.random(k) < 0.4), "Not Started", "Completed"),
                          what_kind=np.where(what >= 0, "opp", ""), what_key=what,
                          account=np.where(what >= 0, o["account"].to_numpy()[np.maximum(what, 0)], -1), trap="to-do")
        # a planned call is due on a later day, some after the export
        todo.loc[reminder, "start"] = todo.loc[reminder, "start"] + \
            (rng.integers(1, 20, int(reminder.sum())) * 86400).astype("timedelta64[s]")
        self.traps["to-dos and planned calls (TaskSubtype Task; some Type Call, Not Started)"] = k

        # managers' calls and emails
        per = 12 * n_months
        mo = np.repeat(managers["uid"].to_numpy(), per)
        mk = len(mo)
        mcall = rng.random(mk) < 0.7
        mday = window_days[rng.integers(0, len(window_days), mk)]
        mgr = task_frame(mo, mday, np.where(mcall, "call", "email"), np.where(mcall, "Call", "Email"),
                         np.where(mcall, "Call", "Email"), np.where(mcall, "Call", "Email: Escalation"),
                         duration=np.where(mcall, rng.integers(60, 900, mk), np.nan).astype(float),
                         disposition=np.where(mcall, _pick(rng, mk, ["Connected", "Left Voicemail", "No Answer"]), ""),
                         trap="manager")
        self.traps["managers' calls and emails (tasks owned by a manager, director or VP)"] = mk

        # admin's and integration's tasks
        ak = 4 * n_months
        adm = task_frame(np.full(ak, self.admin), window_days[rng.integers(0, len(window_days), ak)],
                         "admin_task", "Other", "Task", "Review duplicate accounts", trap="admin")
        ik = 20 * n_months
        integ_call = rng.random(ik) < 0.3
        integ = task_frame(np.full(ik, self.integration), window_days[rng.integers(0, len(window_days), ik)],
                           np.where(integ_call, "call", "admin_task"), np.where(integ_call, "Call", "Other"),
                           np.where(integ_call, "Call", "Task"),
                           np.where(integ_call, "Call (dialer: no matching user)", "Lead routed"),
                           duration=np.where(integ_call, rng.integers(10, 400, ik), np.nan).astype(float),
                           disposition=np.where(integ_call, "Connected", ""), trap="integration")
        self.traps["admin's and integration user's tasks (some calls)"] = ak + ik

        # one call mistyped far in the future
        demo_calls = t[(t["kind"] == "call") & t["demo"]]
        late = demo_calls[demo_calls["start"] >= np.datetime64(self.last_day, "M").astype("datetime64[s]")]
        typo = late.iloc[[int(rng.integers(len(late)))]].copy()
        typo_day = typo["start"].to_numpy().astype("datetime64[D]")[0]
        typo["start"] = typo["start"] + (np.datetime64(f"{TYPO_YEAR}{str(typo_day)[4:]}") - typo_day)
        typo["demo"], typo["trap"] = False, "typo"
        self.traps[f"activities mistyped in {TYPO_YEAR}"] = 1
        self.tasks = pd.concat([t, todo, mgr, adm, integ, typo], ignore_index=True)

        # managers' 1:1s, the admin's office hours; invitees' copies of meetings they join
        mgr_of = users.set_index("uid")["manager_uid"]
        ones = []
        for month in np.unique(window_days.astype("datetime64[M]")):
            mdays = window_days[window_days.astype("datetime64[M]") == month]
            k = len(reps)
            d = mdays[rng.integers(0, len(mdays), k)]
            ones.append(_frame({
                "owner": mgr_of[reps["uid"]].to_numpy(), "creator": mgr_of[reps["uid"]].to_numpy(),
                "booked": _at(d - 7, _work_seconds(rng, k)), "start": _at(d, _slots(rng, k)),
                "duration_min": 30, "subject": "1:1 " + reps["first"].to_numpy(dtype=object),
                "status": np.where(d <= self.last_day, "Completed", ""), "is_child": False,
                "who_kind": "", "who_n": 0, "what_kind": "", "what_key": -1, "account": -1,
                "deleted": False, "purged": False, "demo": "", "trap": "manager"}))
        # the admin's office hours, twice a month
        k = 2 * n_months
        d = window_days[np.linspace(0, len(window_days) - 1, k).astype(int)]
        ones.append(_frame({
            "owner": np.full(k, self.admin), "creator": np.full(k, self.admin),
            "booked": _at(d - 14, _work_seconds(rng, k)), "start": _at(d, np.full(k, 15 * 3600)),
            "duration_min": 60, "subject": "CRM office hours", "status": "Completed",
            "is_child": False, "who_kind": "", "who_n": 0, "what_kind": "", "what_key": -1,
            "account": -1, "deleted": False, "purged": False, "demo": "", "trap": "admin"}))
        one_on_ones = pd.concat(ones, ignore_index=True)
        self.traps["managers' and the admin's meetings (1:1s, office hours)"] = len(one_on_ones)
        deal = e[(e["demo"] == "deal")]
        join = deal.iloc[np.flatnonzero(rng.random(len(deal)) < 0.03)].copy()
        join["owner"] = mgr_of[join["owner"]].to_numpy()
        join["is_child"] = True
        join["demo"], join["trap"] = "", "child"
        intro = e[(e["demo"] == "booked") & (e["status"] == "Completed")]
        sdr_join = intro.iloc[np.flatnonzero(rng.random(len(intro)) < 0.1)].copy()
        sdr_join["owner"] = sdr_join["creator"]
        sdr_join["is_child"] = True
        sdr_join["demo"], sdr_join["trap"] = "", "child"
        self.traps["invitees' child events (IsChild: a manager or the SDR on the same meeting)"] = len(join) + len(sdr_join)
        # AEs' next meetings on open deals, booked late in the month, held after the export
        open_deals = np.flatnonzero((o["status"].to_numpy() == "open") & o["demo_id"].notna().to_numpy())
        nxt = open_deals[rng.random(len(open_deals)) < 0.3]
        k = len(nxt)
        last_week = window_days[-5:]
        after = np.busday_offset(self.end_day, rng.integers(0, 15, k), roll="forward")
        future = _frame({
            "owner": o["owner"].to_numpy()[nxt], "creator": o["owner"].to_numpy()[nxt],
            "booked": _at(last_week[rng.integers(0, len(last_week), k)], _work_seconds(rng, k)),
            "start": _at(after, _slots(rng, k)), "duration_min": 30, "subject": "Next steps",
            "status": "", "is_child": False, "who_kind": "contact",
            "who_n": o["account"].to_numpy()[nxt], "what_kind": "opp", "what_key": nxt,
            "account": o["account"].to_numpy()[nxt], "deleted": False, "purged": False,
            "demo": "", "trap": "future"})
        self.traps["AEs' meetings booked this month for after the export"] = k
        self.events = pd.concat([e, one_on_ones, join, sdr_join, future], ignore_index=True)

        # HubSpot only: a renewals pipeline and inbound replies
        isr = reps[reps["fairway_role"] == "isr"]["uid"].to_numpy()
        k = max(6, round(0.03 * len(o)))
        created = window_days[rng.integers(0, len(window_days), k)]
        status = _pick(rng, k, ["won", "lost", "open"], [0.5, 0.2, 0.3])
        close = np.minimum(np.busday_offset(created, rng.integers(5, 60, k), roll="forward"), self.last_day)
        this_month = np.datetime64(self.last_day, "M").astype("datetime64[D]")
        status[:3] = "won"
        close[:3] = np.busday_offset(this_month, rng.integers(0, 15, 3), roll="forward")
        created[:3] = np.minimum(created[:3], close[:3] - 10)
        close = np.where(status == "open", self.end_day + rng.integers(10, 90, k), close)
        self.renewals = _frame({
            "owner": _pick(rng, k, isr).astype(int), "created": _at(created, _work_seconds(rng, k)),
            "close": _at(close, _work_seconds(rng, k)), "status": status,
            "amount": np.round(rng.lognormal(np.log(8000), 0.5, k), -2),
            "account": _pick(rng, k, o.loc[o["status"] == "won", "account"].to_numpy()).astype(int)})
        self.traps["HubSpot: renewal deals in a second pipeline"] = k
        emails = self.tasks[(self.tasks["kind"] == "email") & self.tasks["demo"]]
        replies = emails.iloc[np.flatnonzero(rng.random(len(emails)) < 0.1)].copy()
        replies["start"] = replies["start"] + (rng.integers(600, 20000, len(replies))).astype("timedelta64[s]")
        replies["trap"] = "inbound"
        self.inbound_emails = replies.reset_index(drop=True)
        self.traps["HubSpot: inbound email replies logged on the rep"] = len(replies)

    # -------------------------------------------------------------- finish
    def finish(self, args: dict, as_of: pd.Timestamp) -> Crm:
        """Keys in creation order, and the Crm."""
        t = self.tasks.sort_values("created", kind="stable").reset_index(drop=True)
        t.insert(0, "tid", np.arange(len(t)))
        e = self.events.sort_values("booked", kind="stable").reset_index(drop=True)
        e.insert(0, "eid", np.arange(len(e)))
        o = self.opps
        order = np.argsort(o["created"].to_numpy(), kind="stable")
        oid = np.empty(len(o), dtype=np.int64)
        oid[order] = np.arange(len(o))
        o = o.assign(oid=oid).iloc[order].reset_index(drop=True)
        h = self.history.assign(oid=oid[self.history["opp"].to_numpy()]).drop(columns="opp")
        h = h.sort_values(["at", "oid"], kind="stable").reset_index(drop=True)
        for frame in (t, e):
            on_opp = frame["what_kind"] == "opp"
            frame.loc[on_opp, "what_key"] = oid[frame.loc[on_opp, "what_key"].to_numpy()]
        return Crm(org=self.org, args=dict(args), first_day=self.first_day, end_day=self.end_day,
                   as_of=as_of, users=self.users, roles=self.roles, teams=self.teams,
                   accounts=self.accounts, opps=o, history=h, tasks=t, events=e,
                   renewals=self.renewals, inbound_emails=self.inbound_emails,
                   n_leads=self.n_leads, traps=dict(self.traps))
