"""A believable demo sales org with planted deficiencies and the answer key.

`generate_org` simulates a company of BDRs (prospectors), who call, connect, book and
hold meetings that become opportunities, and ISRs (closers), who work those and their
own opportunities down the pipeline. A share of reps carries exactly one planted
deficiency (a stage conversion, a connect or booking rate, or call volume) for the whole
history; `DemoOrg.truth` records it, so a diagnosis can be checked against a known answer.
`write_org` writes the dataset folder of the data contract, plus ground_truth.csv.

The org is deterministic: the same pipeline, seed, size (reps, months), end month and
planted share give equal frames and byte-identical files. Leave `end` unset and it is
the last complete month before today, so pass `end` to reproduce an org later.

Everything is vectorised over rep-days, meetings, opportunities and activity rows;
Python only loops over divisions and teams when the org chart is drawn.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..catalog.specs import Pipeline, RoleKind

# ------------------------------------------------------------------ how the org behaves
WARMUP_MONTHS = 3        # simulated before the window, so pipelines are full on its first day
HORIZON_DAYS = 800       # calendar days after the window: room for expected close dates
MAX_STAGE_DAYS = 100     # business days; four stages stay inside the horizon
SEASON = np.array([0.95, 1.0, 1.05, 1.0, 1.0, 0.95, 0.9, 0.75, 1.05, 1.05, 0.95, 0.75])  # Jan..Dec
PRESENCE = 0.92          # share of weekdays a rep works (public holidays, leave, sickness)
RECENT_HIRES = 0.05      # share of reps who join during the first third of the window
REP_SPREAD = 0.07        # healthy reps' natural variation (relative sd) in volumes and rates
TEAM_SPREAD = 0.04       # teams' variation in volume, which their goals follow

BDR_CALLS, BDR_EMAILS = 38.0, 3.0    # per working day, at a season level of 1
BDR_CONNECT_RATE = 1 / 9             # connects per call
BOOK_RATE = 1 / 6                    # meetings scheduled per connect
HELD_RATE = 0.8                      # meetings held per meeting scheduled
OPP_RATE = 0.55                      # opportunities per meeting held
MEETING_LAG = (1, 8)                 # business days from booking to the meeting, [low, high)
ISR_CALLS, ISR_EMAILS = 11.0, 2.0
ISR_CONNECT_RATE = 0.25
ISR_OPPS = 0.66                      # opportunities an ISR takes on per working day, sourced or own
MIN_OWN_SHARE = 0.3                  # every ISR sources at least this share of their opportunities
EXTRA_MEETINGS = 0.4                 # meetings held in a stage besides the one that opens it
UNANSWERED_MINUTES = (0.3, 1.5)
TALK_MINUTES = (5.0, 0.5, 2.0, 12.0)  # connected call: lognormal median, sigma, clipped to [lo, hi]

DEFAULT_CONVERSION, DEFAULT_STAGE_DAYS = 0.75, 8   # for stages the tables below do not name
CONVERSION = {"discovery": 0.70, "demo": 0.80, "technical_fit": 0.80, "proposal": 0.70}
STAGE_DAYS = {"discovery": 6, "demo": 8, "technical_fit": 10, "proposal": 12}  # median workdays
STAGE_SIGMA = 0.6
CONVERSION_SPREAD = 0.025            # absolute sd of a healthy rep's stage conversion
DEAL_MEDIAN, DEAL_SIGMA, MIN_DEAL = 20_000.0, 0.7, 500
LOSS_MIX = {
    "discovery": {"need": 0.35, "timing": 0.3, "budget": 0.25, "no_decision": 0.1},
    "demo": {"poor_qualification": 0.2, "timing": 0.2, "need": 0.2, "competitor": 0.25,
             "product_fit": 0.15},
    "technical_fit": {"product_fit": 0.5, "competitor": 0.35, "budget": 0.15},
    "proposal": {"price": 0.4, "competitor": 0.3, "no_decision": 0.3},
}
# a rep who demos to the unqualified loses there for qualification reasons
PLANTED_LOSS_MIX = {
    "demo": {"poor_qualification": 0.4, "timing": 0.25, "need": 0.25, "competitor": 0.06,
             "product_fit": 0.04},
}

STAGE_SEVERITY = (0.45, 0.55)        # multiplier of the planted stage's conversion
PROSPECTING_PLANTS = {               # metric id -> range of the multiplier applied
    "efficiency.call.connect": (0.45, 0.55),                # to the connect rate
    "efficiency.connect.meeting_scheduled": (0.25, 1 / 3),  # to meetings booked per connect
    "activity.call": (0.5, 0.6),                            # to call volume
}
ACTIVITY_TYPES = ("call", "connect", "email", "meeting_scheduled", "meeting_held")

# ------------------------------------------------------------------ names
DIVISIONS = ("north", "south", "east", "west", "central")
FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
    "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
    "Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Andrea "
    "Jacob Amy Gary Angela Nicholas Shirley Eric Anna Jonathan Brenda Priya Wei Carlos Sofia "
    "Diego Aisha Omar Mei Ravi Elena").split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Olson Teegardin Patel Kim Chen Singh Murphy Cook Rogers Morgan Peterson Cooper "
    "Reed Bailey Bell Gomez Kelly Howard Ward Cox Diaz Richardson Wood Watson Brooks Bennett "
    "Gray Reyes Cruz Hughes").split()
ACCOUNT_NAMES = (
    "Acme,Apex,Beacon,Blue Harbor,Brightline,Cedar,Summit,Northwind,Ironwood,Keystone,"
    "Lakeshore,Meridian,Oakridge,Pinnacle,Redwood,Silverline,Stonebridge,Sunrise,Trident,"
    "Vanguard,Willow,Zenith,Atlas,Cobalt,Evergreen,Falcon,Granite,Harbor Point,Juniper,"
    "Lighthouse,Maple,Nova,Orion,Pioneer,Quarry,Riverbend,Sterling,Tidewater,Union,"
    "Westfield").split(",")
ACCOUNT_TRADES = (
    "Logistics,Health,Foods,Manufacturing,Software,Energy,Retail,Insurance,Bank,Labs,Media,"
    "Construction,Hotels,Motors,Pharma,Telecom,Analytics,Freight,Dental,Credit Union,Realty,"
    "Robotics,Textiles,Airlines,Farms").split(",")
ACCOUNT_FORMS = ("Inc", "LLC", "Group", "Ltd", "Co")
EMAIL_DOMAIN = "demo.example.com"

FILE_COLUMNS = {
    "reps": ["rep_id", "name", "role", "team", "division", "manager", "start_date", "email"],
    "opportunities": ["opportunity_id", "rep_id", "created_date", "status", "stage", "amount",
                      "close_date", "loss_reason", "account", "source_rep_id"],
    "stage_history": ["opportunity_id", "stage", "entered_date"],
    "activities": ["rep_id", "date", "type", "duration_minutes", "opportunity_id"],
    "goals": ["rep_id", "period", "metric", "target"],
}
TRUTH_COLUMNS = ["rep_id", "role", "team", "planted_metric", "severity"]
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class DemoOrg:
    """A generated org: the five dataset frames, the planted answer key and the last month."""

    reps: pd.DataFrame            # rep_id, name, role, team, division, manager, start_date, email
    opportunities: pd.DataFrame   # opportunity_id, rep_id, created_date, status, stage, amount, ...
    stage_history: pd.DataFrame   # opportunity_id, stage, entered_date
    activities: pd.DataFrame      # rep_id, date, type, duration_minutes, opportunity_id
    goals: pd.DataFrame           # rep_id, period, metric, target
    truth: pd.DataFrame           # rep_id, role, team, planted_metric ('' if healthy), severity
    end: str                      # 'YYYY-MM', the last full month generated
    # every meeting a prospector booked (warm-up included): rep_id (the booker), booked_date,
    # meeting_date, held, opportunity_id (the deal it made, if kept). Not a dataset file: the
    # activities hold its meeting_scheduled and meeting_held rows; CRM-shaped exports need the
    # meeting itself (booked one day, on the calendar another, perhaps after the window).
    meetings: pd.DataFrame | None = None


# ------------------------------------------------------------------ internal shapes
@dataclass(frozen=True)
class _Calendar:
    days: np.ndarray              # business days (datetime64[D]), warm-up to past the horizon
    start: int                    # index of the window's first business day
    stop: int                     # index one past the window's last business day
    first_month: np.datetime64    # the window's first month (datetime64[M])

    @property
    def season(self) -> np.ndarray:
        """Seasonal activity level of each business day."""
        return SEASON[self.days.astype("datetime64[M]").astype(np.int64) % 12]


@dataclass(frozen=True)
class _People:
    frame: pd.DataFrame      # reps.csv
    closer: np.ndarray       # per rep: closes (isr) rather than prospects (bdr)
    team: np.ndarray         # per rep: team number
    start: np.ndarray        # per rep: index of the first business day worked
    recent: np.ndarray       # per rep: joined during the window
    team_level: np.ndarray   # per team: volume level, which its goals follow
    served_by: np.ndarray    # per ISR team: the BDR team whose meetings it takes (BDR teams: -1)


@dataclass(frozen=True)
class _Rates:
    calls: np.ndarray        # per rep and working day, at a season level of 1
    emails: np.ndarray
    connect: np.ndarray      # connects per call
    book: np.ndarray         # meetings scheduled per connect (0 for closers)
    held: np.ndarray         # meetings held per meeting scheduled
    opp: np.ndarray          # opportunities per meeting held
    own_opps: np.ndarray     # opportunities a closer sources per working day
    conversion: np.ndarray   # reps x stages: share that goes on to the next stage
    deal: np.ndarray         # deal-size level


@dataclass(frozen=True)
class _Deals:
    owner: np.ndarray        # rep number
    source: np.ndarray       # the prospector's rep number, -1 for a closer's own
    entered: np.ndarray      # deals x (stages + won): day each stage is, or would be, entered
    furthest: np.ndarray     # furthest stage the deal will reach (number of stages = won)
    close: np.ndarray        # business day of the decision, in the future for open deals
    amount: np.ndarray       # deal value, whole hundreds
    created_by_meeting: np.ndarray  # for the first deals: the meeting that created them


# ------------------------------------------------------------------ public API
def generate_org(pipeline: Pipeline, reps: int = 40, months: int = 12, seed: int = 7,
                 end: str | None = None, planted_share: float = 0.3) -> DemoOrg:
    """Generate an org of `reps` reps over `months` months ending with the month `end`."""
    end = end or _last_complete_month()
    _check_args(pipeline, reps, months, end, planted_share)
    rng = np.random.default_rng(seed)
    cal = _calendar(end, months)
    people = _people(rng, pipeline, reps, cal, months)
    metric, severity = _plant(rng, pipeline, people, planted_share)
    rates = _rates(rng, pipeline, people, metric, severity)
    counts = _daily_counts(rng, rates, people, cal)
    meetings = _meetings(rng, counts["booked"], rates, cal)
    deals = _deals(rng, pipeline, people, rates, counts["own_opps"], meetings)
    opps, history, code, visits = _opportunity_frames(rng, pipeline, people, deals, metric, cal)
    meeting_opp = np.full(len(meetings["rep"]), -1)
    meeting_opp[deals.created_by_meeting] = code[:len(deals.created_by_meeting)]
    activities = _activities(rng, pipeline, people, counts, meetings, meeting_opp, deals, visits,
                             code, opps["opportunity_id"], cal)
    truth = pd.DataFrame({"rep_id": people.frame["rep_id"], "role": people.frame["role"],
                          "team": people.frame["team"], "planted_metric": metric,
                          "severity": severity})
    return DemoOrg(reps=people.frame, opportunities=opps, stage_history=history,
                   activities=activities, goals=_goals(pipeline, people, cal), truth=truth,
                   end=end, meetings=_meeting_frame(people, meetings, meeting_opp,
                                                    opps["opportunity_id"], cal))


def write_org(org: DemoOrg, out: Path | str, fmt: str = "csv") -> dict[str, int]:
    """Write the dataset folder (CSV or Parquet) and ground_truth.csv; rows per file."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} exists and is not an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for stem in FILE_COLUMNS:
        rows[f"{stem}.{fmt}"] = _write_table(getattr(org, stem), out / f"{stem}.{fmt}")
    rows["ground_truth.csv"] = _write_table(org.truth, out / "ground_truth.csv")
    return rows


# ------------------------------------------------------------------ arguments and calendar
def _last_complete_month() -> str:
    """The calendar month before the current one, as YYYY-MM."""
    return (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _check_args(pipeline: Pipeline, reps: int, months: int, end: str, share: float):
    """Refuse arguments and pipelines the simulation cannot honour."""
    if reps < 10:
        raise ValueError("reps must be at least 10 (a BDR team and an ISR team of five)")
    if not 2 <= months <= 36:
        raise ValueError("months must be between 2 and 36")
    if not _MONTH.match(end):
        raise ValueError(f"end must be a month as YYYY-MM, not {end!r}")
    if not 0 <= share <= 0.5:
        raise ValueError("planted_share must be between 0 and 0.5 (at most half of a team)")
    missing = [t for t in ACTIVITY_TYPES if t not in pipeline.activity_type_ids]
    if missing:
        raise ValueError(f"the pipeline lacks activity types the demo needs: {', '.join(missing)}")
    if not {RoleKind.prospecting, RoleKind.closing} <= {r.kind for r in pipeline.roles}:
        raise ValueError("the pipeline needs a prospecting and a closing role")


def _calendar(end: str, months: int) -> _Calendar:
    """Business days from the warm-up to the horizon, and where the window lies in them."""
    last = np.datetime64(end, "M")
    first = last - (months - 1)
    window_end = (last + 1).astype("datetime64[D]")
    days = np.arange((first - WARMUP_MONTHS).astype("datetime64[D]"),
                     window_end + HORIZON_DAYS, dtype="datetime64[D]")
    years = np.arange(days[0].astype("datetime64[Y]"), days[-1].astype("datetime64[Y]") + 1)
    new_year = years.astype("datetime64[D]")
    christmas = (years.astype("datetime64[M]") + 11).astype("datetime64[D]") + 24
    days = days[np.is_busday(days, holidays=np.concatenate([new_year, christmas]))]
    return _Calendar(days=days, start=int(np.searchsorted(days, first.astype("datetime64[D]"))),
                     stop=int(np.searchsorted(days, window_end)), first_month=first)


# ------------------------------------------------------------------ the org chart
def _team_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Split n >= 5 reps into teams of 5 to 10, about 7 or 8 on average."""
    k = int(np.clip(round(n / 7.5), -(-n // 10), n // 5))
    # five seats per team are filled; the rest take random free seats of five more per team
    extra = rng.choice(5 * k, n - 5 * k, replace=False) // 5
    return 5 + np.bincount(extra, minlength=k)


def _people(rng: np.random.Generator, pipeline: Pipeline, n: int, cal: _Calendar,
            months: int) -> _People:
    """Divisions of BDR and ISR teams, with names, managers, start dates and meeting routes."""
    # every division needs ten reps: a BDR team and an ISR team
    n_div = min(int(np.clip(1 + n // 50, 2, len(DIVISIONS))), n // 10)
    div_sizes = np.full(n_div, n // n_div) + (np.arange(n_div) < n % n_div)
    team_div, team_closer, team_size, team_name, served_by = [], [], [], [], []
    for d, size in enumerate(div_sizes):
        n_bdr = max(5, round(0.4 * size))
        first_team = len(team_size)
        bdr_sizes = _team_sizes(rng, n_bdr)
        # team counts grow with size, so BDR teams never outnumber ISR teams; each serves 1+
        for closer, sizes in ((False, bdr_sizes), (True, _team_sizes(rng, size - n_bdr))):
            for j, s in enumerate(sizes):
                team_div.append(d)
                team_closer.append(closer)
                team_size.append(int(s))
                team_name.append(f"{DIVISIONS[d]}-{'isr' if closer else 'bdr'}-{j + 1}")
                served_by.append(first_team + j % len(bdr_sizes) if closer else -1)
    team = np.repeat(np.arange(len(team_size)), team_size)
    closer = np.array(team_closer)[team]
    start_date, recent = _start_dates(rng, n, cal, months)
    role = {k: next(r.id for r in pipeline.roles if r.kind == k) for k in RoleKind}
    names, managers = _names(rng, n, len(team_size))
    frame = pd.DataFrame({
        "rep_id": _ids("R", n, 4),
        "name": names,
        "role": np.where(closer, role[RoleKind.closing], role[RoleKind.prospecting]),
        "team": np.array(team_name)[team],
        "division": np.array(DIVISIONS)[np.array(team_div)[team]],
        "manager": managers[team],
        "start_date": start_date.astype("datetime64[s]"),
        "email": _emails(names),
    })
    level = np.clip(rng.normal(1, TEAM_SPREAD, len(team_size)), 1 - 2 * TEAM_SPREAD,
                    1 + 2 * TEAM_SPREAD)
    return _People(frame=frame, closer=closer, team=team,
                   start=np.searchsorted(cal.days, start_date), recent=recent,
                   team_level=level, served_by=np.array(served_by))


def _start_dates(rng: np.random.Generator, n: int, cal: _Calendar,
                 months: int) -> tuple[np.ndarray, np.ndarray]:
    """Start dates (weekdays): most reps years before the window, a few during its first third."""
    tenure = rng.integers(60, 2500, n).astype("timedelta64[D]")
    start = cal.first_month.astype("datetime64[D]") - tenure
    recent = np.zeros(n, dtype=bool)
    recent[rng.choice(n, round(RECENT_HIRES * n), replace=False)] = True
    joined = (cal.first_month + rng.integers(1, max(2, months // 3 + 1), n)).astype("datetime64[D]")
    return np.busday_offset(np.where(recent, joined, start), 0, roll="forward"), recent


def _names(rng: np.random.Generator, n: int, n_managers: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct full names for reps and managers (names repeat only past 6,000 people)."""
    pick = np.resize(rng.permutation(len(FIRST_NAMES) * len(LAST_NAMES)), n + n_managers)
    first = np.array(FIRST_NAMES)[pick // len(LAST_NAMES)]
    last = np.array(LAST_NAMES)[pick % len(LAST_NAMES)]
    full = np.char.add(np.char.add(first, " "), last).astype(object)
    return full[:n], full[n:]


def _emails(names: np.ndarray) -> np.ndarray:
    """first.last@domain, numbered from the second person of the same name."""
    base = pd.Series(names).str.lower().str.replace(" ", ".", regex=False)
    nth = base.groupby(base).cumcount().to_numpy()
    suffix = np.where(nth > 0, (nth + 1).astype(str), "")
    return (base + suffix + "@" + EMAIL_DOMAIN).to_numpy(dtype=object)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """Ids prefix0001..prefixN, zero-padded so that they sort in order."""
    digits = np.char.zfill(np.arange(1, n + 1).astype(str), max(width, len(str(n))))
    return np.char.add(prefix, digits).astype(object)


# ------------------------------------------------------------------ who is planted, and how
def _plant(rng: np.random.Generator, pipeline: Pipeline, people: _People,
           share: float) -> tuple[np.ndarray, np.ndarray]:
    """One deficiency for `share` of the reps, spread over teams, at most half of any team."""
    n = len(people.team)
    want = round(share * n)
    order = rng.permutation(n)
    order = order[~people.recent[order]]   # recent hires stay healthy: their history is short
    team = people.team[order]
    rank = pd.Series(team).groupby(team).cumcount().to_numpy()
    cap = np.bincount(people.team)[team] // 2
    team_turn = rng.permutation(people.team.max() + 1)[team]
    pick = np.lexsort((team_turn, rank))   # one rep per team, round after round
    pick = pick[rank[pick] < cap[pick]]
    if len(pick) < want:
        raise ValueError(f"planted_share {share} is more than the teams allow "
                         f"({len(pick)} of {n} reps at most)")
    chosen = order[pick[:want]]
    metric = np.full(n, "", dtype=object)
    ranges = {**{m: STAGE_SEVERITY for m in _stage_metrics(pipeline)}, **PROSPECTING_PLANTS}
    for is_closer, ids in ((True, _stage_metrics(pipeline)), (False, list(PROSPECTING_PLANTS))):
        planted = chosen[people.closer[chosen] == is_closer]
        ids = np.array(ids, dtype=object)[rng.permutation(len(ids))]
        metric[planted] = ids[np.arange(len(planted)) % len(ids)]   # each deficiency as often
    low, high = np.array([ranges[m] for m in metric[chosen]]).reshape(-1, 2).T
    severity = np.ones(n)
    severity[chosen] = np.round(rng.uniform(low, high), 3)
    return metric, severity


def _stage_metrics(pipeline: Pipeline) -> list[str]:
    return [f"stage_conversion.{s}" for s in pipeline.stage_ids]


def _spread(rng: np.random.Generator, n: int) -> np.ndarray:
    """Healthy reps' natural variation: a multiplier near 1, never outlandish."""
    return np.clip(rng.normal(1, REP_SPREAD, n), 1 - 2 * REP_SPREAD, 1 + 2 * REP_SPREAD)


def _rates(rng: np.random.Generator, pipeline: Pipeline, people: _People, metric: np.ndarray,
           severity: np.ndarray) -> _Rates:
    """Each rep's volumes and rates: role baseline, team level, own variation, planted flaw."""
    n, closer = len(people.team), people.closer

    def flaw(metric_id: str) -> np.ndarray:
        return np.where(metric == metric_id, severity, 1.0)

    level = people.team_level[people.team] * _spread(rng, n)
    base = np.array([CONVERSION.get(s, DEFAULT_CONVERSION) for s in pipeline.stage_ids])
    noise = np.clip(rng.normal(0, CONVERSION_SPREAD, (n, len(base))), -2 * CONVERSION_SPREAD,
                    2 * CONVERSION_SPREAD)
    conversion = (base + noise) * np.stack([flaw(m) for m in _stage_metrics(pipeline)], axis=1)
    return _Rates(
        calls=np.where(closer, ISR_CALLS, BDR_CALLS) * level * flaw("activity.call"),
        emails=np.where(closer, ISR_EMAILS, BDR_EMAILS) * level,
        connect=np.where(closer, ISR_CONNECT_RATE, BDR_CONNECT_RATE) * _spread(rng, n)
        * flaw("efficiency.call.connect"),
        book=np.where(closer, 0.0, BOOK_RATE) * _spread(rng, n)
        * flaw("efficiency.connect.meeting_scheduled"),
        held=np.clip(rng.normal(HELD_RATE, 0.03, n), 0, 1),
        opp=np.clip(rng.normal(OPP_RATE, 0.03, n), 0, 1),
        own_opps=np.where(closer, _own_opportunity_rate(people), 0.0),
        conversion=conversion,
        deal=_spread(rng, n),
    )


def _own_opportunity_rate(people: _People) -> np.ndarray:
    """Per rep: what an ISR sources, so that with the BDRs' meetings each takes ~ISR_OPPS a day."""
    n_teams = len(people.team_level)
    size = np.bincount(people.team, minlength=n_teams)
    closers = np.flatnonzero(people.closer)
    pool = np.bincount(people.served_by[people.team[closers]], minlength=n_teams)
    per_bdr = BDR_CALLS * BDR_CONNECT_RATE * BOOK_RATE * HELD_RATE * OPP_RATE
    sourced = per_bdr * people.team_level * size / np.maximum(pool, 1)
    received = sourced[people.served_by[people.team]]   # meaningful for closers only
    return np.maximum(ISR_OPPS - received, MIN_OWN_SHARE * ISR_OPPS)


# ------------------------------------------------------------------ simulation
def _daily_counts(rng: np.random.Generator, rates: _Rates, people: _People,
                  cal: _Calendar) -> dict[str, np.ndarray]:
    """Reps x business days (warm-up and window): calls, connects, emails, bookings, own deals."""
    n_days = cal.stop
    at_work = (np.arange(n_days) >= people.start[:, None]) \
        & (rng.random((len(people.team), n_days)) < PRESENCE)
    load = np.where(at_work, cal.season[:n_days], 0.0)
    calls = rng.poisson(rates.calls[:, None] * load)
    connects = rng.binomial(calls, rates.connect[:, None])
    return {
        "calls": calls, "connects": connects,
        "emails": rng.poisson(rates.emails[:, None] * load),
        "booked": rng.binomial(connects, rates.book[:, None]),
        "own_opps": rng.poisson(rates.own_opps[:, None] * load),
    }


def _meetings(rng: np.random.Generator, booked: np.ndarray, rates: _Rates,
              cal: _Calendar) -> dict[str, np.ndarray]:
    """Every meeting booked: when, whether and when it is held, whether it makes a deal."""
    cell = np.repeat(np.arange(booked.size), booked.ravel())
    rep, day = np.divmod(cell, booked.shape[1])
    held_day = day + rng.integers(*MEETING_LAG, len(cell))
    held = (rng.random(len(cell)) < rates.held[rep]) & (held_day < cal.stop)
    return {"rep": rep, "day": day, "held": held, "held_day": held_day,
            "opp": held & (rng.random(len(cell)) < rates.opp[rep])}


def _route(rng: np.random.Generator, people: _People, source: np.ndarray,
           day: np.ndarray) -> np.ndarray:
    """An ISR of a team the BDR's team serves, at work by then, for each sourced deal."""
    n_teams = len(people.team_level)
    closers = np.flatnonzero(people.closer)
    serving = people.served_by[people.team[closers]]
    order = np.lexsort((people.start[closers], serving))   # longest-serving first in each pool
    closers, serving = closers[order], serving[order]
    size = np.bincount(serving, minlength=n_teams)
    pool = np.full((n_teams, size.max()), -1)
    pool[serving, np.arange(len(closers)) - (np.cumsum(size) - size)[serving]] = closers
    team = people.team[source]
    pick = pool[team, (rng.random(len(source)) * size[team]).astype(np.int64)]
    return np.where(people.start[pick] <= day, pick, pool[team, 0])


def _deals(rng: np.random.Generator, pipeline: Pipeline, people: _People, rates: _Rates,
           own_opps: np.ndarray, meetings: dict[str, np.ndarray]) -> _Deals:
    """All deals of the warm-up and the window, each walked down the pipeline to its fate."""
    from_meeting = np.flatnonzero(meetings["opp"])
    source = meetings["rep"][from_meeting]
    created_sourced = meetings["held_day"][from_meeting]
    own_rep, own_day = np.divmod(np.repeat(np.arange(own_opps.size), own_opps.ravel()),
                                 own_opps.shape[1])
    owner = np.concatenate([_route(rng, people, source, created_sourced), own_rep])
    created = np.concatenate([created_sourced, own_day])
    conversion = rates.conversion[owner]
    n, n_stages = conversion.shape
    furthest = np.cumprod(rng.random((n, n_stages)) < conversion, axis=1).sum(axis=1)
    medians = np.array([STAGE_DAYS.get(s, DEFAULT_STAGE_DAYS) for s in pipeline.stage_ids])
    days = np.clip(np.rint(rng.lognormal(np.log(medians), STAGE_SIGMA, (n, n_stages))), 1,
                   MAX_STAGE_DAYS).astype(np.int64)
    entered = created[:, None] + np.concatenate([np.zeros((n, 1), np.int64),
                                                 np.cumsum(days, axis=1)], axis=1)
    # a lost deal is decided when the stage it fails in would have ended
    close = entered[np.arange(n), np.minimum(furthest + 1, n_stages)]
    amount = np.round(DEAL_MEDIAN * rng.lognormal(0, DEAL_SIGMA, n) * rates.deal[owner], -2)
    return _Deals(owner=owner, source=np.concatenate([source, np.full(len(own_rep), -1)]),
                  entered=entered, furthest=furthest, close=close,
                  amount=np.maximum(amount, MIN_DEAL).astype(np.int64),
                  created_by_meeting=from_meeting)


# ------------------------------------------------------------------ frames
def _opportunity_frames(rng: np.random.Generator, pipeline: Pipeline, people: _People,
                        deals: _Deals, metric: np.ndarray, cal: _Calendar
                        ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray,
                                   tuple[np.ndarray, np.ndarray]]:
    """opportunities and stage_history as seen at the end of the window.

    Returns both frames, each deal's row in opportunities (-1 if it closed before the
    window) and the deal and stage of each stage_history row.
    """
    last = cal.stop - 1
    n_stages = len(pipeline.stage_ids)
    kept = np.flatnonzero(deals.close >= cal.start)   # closed in the window, or still open
    kept = kept[np.lexsort((deals.owner[kept], deals.entered[kept, 0]))]
    code = np.full(len(deals.owner), -1)
    code[kept] = np.arange(len(kept))
    owner, furthest, close = deals.owner[kept], deals.furthest[kept], deals.close[kept]
    entered = deals.entered[kept]
    is_open = close > last
    # an open deal has entered only the stages it reached by the window's end
    n_entered = np.minimum(furthest + 1, (entered <= last).sum(axis=1))
    stage = n_entered - 1
    status = np.where(is_open, "open", np.where(furthest == n_stages, "won", "lost"))
    ids = _ids("O", len(kept), 6)
    rep_ids = people.frame["rep_id"].to_numpy(dtype=object)
    source = deals.source[kept]
    opps = pd.DataFrame({
        "opportunity_id": ids,
        "rep_id": rep_ids[owner],
        "created_date": _dates(cal, entered[:, 0]),
        "status": status,
        "stage": np.array(pipeline.all_stages, dtype=object)[stage],
        "amount": deals.amount[kept],
        "close_date": _dates(cal, close),
        "loss_reason": _loss_reasons(rng, pipeline, metric[owner], stage, status == "lost"),
        "account": _accounts(rng, len(kept)),
        "source_rep_id": np.where(source >= 0, rep_ids[source], None),
    })
    visit_opp = np.repeat(np.arange(len(kept)), n_entered)
    visit_stage = np.arange(len(visit_opp)) - np.repeat(np.cumsum(n_entered) - n_entered, n_entered)
    history = pd.DataFrame({
        "opportunity_id": ids[visit_opp],
        "stage": np.array(pipeline.all_stages, dtype=object)[visit_stage],
        "entered_date": _dates(cal, entered[visit_opp, visit_stage]),
    })
    return opps, history, code, (kept[visit_opp], visit_stage)


def _dates(cal: _Calendar, day: np.ndarray) -> np.ndarray:
    """Business-day indices as dates (datetime64[s], midnight)."""
    return cal.days[day].astype("datetime64[s]")


def _loss_table(pipeline: Pipeline) -> np.ndarray:
    """Cumulative loss-reason shares by [planted at that stage?, stage, reason]."""
    reasons, stages = pipeline.loss_reasons, pipeline.stage_ids
    table = np.ones((2, len(stages), len(reasons)))
    for planted, mixes in enumerate((LOSS_MIX, {**LOSS_MIX, **PLANTED_LOSS_MIX})):
        for i, stage in enumerate(stages):
            weights = np.array([mixes.get(stage, {}).get(r, 0.0) for r in reasons])
            if weights.sum() > 0:   # a stage the mixes do not know loses for any reason alike
                table[planted, i] = weights
    return np.cumsum(table / table.sum(axis=-1, keepdims=True), axis=-1)


def _loss_reasons(rng: np.random.Generator, pipeline: Pipeline, owner_metric: np.ndarray,
                  stage: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """A reason for each lost deal, drawn by the stage it was lost in; None for the others."""
    if not pipeline.loss_reasons:
        return np.full(len(stage), None, dtype=object)
    at = np.minimum(stage, len(pipeline.stage_ids) - 1)
    planted_here = owner_metric == np.array(_stage_metrics(pipeline), dtype=object)[at]
    cumulative = _loss_table(pipeline)[planted_here.astype(np.int64), at]
    pick = np.minimum((rng.random(len(stage))[:, None] > cumulative).sum(axis=1),
                      len(pipeline.loss_reasons) - 1)
    return np.where(lost, np.array(pipeline.loss_reasons, dtype=object)[pick], None)


def _accounts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Company names such as 'Beacon Freight LLC', drawn from a pool of 5,000."""
    name, trade, form = np.meshgrid(ACCOUNT_NAMES, ACCOUNT_TRADES, ACCOUNT_FORMS, indexing="ij")
    pool = np.char.add(np.char.add(np.char.add(np.char.add(name.ravel(), " "), trade.ravel()),
                                   " "), form.ravel()).astype(object)
    return pool[rng.integers(0, len(pool), n)]


# ------------------------------------------------------------------ activities
_Part = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
CALL, CONNECT, EMAIL, BOOKED, HELD = range(len(ACTIVITY_TYPES))
_BLOCK = np.array([0, 0, 1, 2, 3])   # order within a rep's day: calls with their connects first


def _activities(rng: np.random.Generator, pipeline: Pipeline, people: _People,
                counts: dict[str, np.ndarray], meetings: dict[str, np.ndarray],
                meeting_opp: np.ndarray, deals: _Deals, visits: tuple[np.ndarray, np.ndarray],
                code: np.ndarray, opp_ids: pd.Series, cal: _Calendar) -> pd.DataFrame:
    """activities.csv: every call, connect, email and meeting of the window, by day and rep."""
    parts = [*_call_rows(rng, counts, cal), _email_rows(counts, cal),
             *_meeting_rows(meetings, meeting_opp, cal),
             _deal_meeting_rows(rng, deals, visits, code, len(pipeline.stage_ids), cal)]
    rep, day, kind, seq, minutes, opp = (np.concatenate(column) for column in zip(*parts))
    key = (((day.astype(np.int64) - cal.start) * len(people.team) + rep) << 22) \
        | (_BLOCK[kind] << 20) | seq
    order = np.argsort(key, kind="stable")
    type_code = np.array([pipeline.activity_type_ids.index(t) for t in ACTIVITY_TYPES])[kind]
    return pd.DataFrame({
        "rep_id": pd.Categorical.from_codes(rep[order], categories=people.frame["rep_id"]),
        "date": _dates(cal, day[order]),
        "type": pd.Categorical.from_codes(type_code[order], categories=pipeline.activity_type_ids),
        "duration_minutes": minutes[order],
        "opportunity_id": pd.Categorical.from_codes(opp[order], categories=opp_ids.to_numpy()),
    })


def _part(rep, day, kind: int, seq=None, minutes=None, opp=None) -> _Part:
    """Columns of some activity rows, defaults filled: no sequence, duration or deal."""
    n = len(rep)
    return (rep.astype(np.int32), day.astype(np.int32), np.full(n, kind, np.int8),
            np.zeros(n, np.int32) if seq is None else seq.astype(np.int32),
            np.full(n, np.nan) if minutes is None else minutes,
            np.full(n, -1, np.int32) if opp is None else opp.astype(np.int32))


def _expand(grid: np.ndarray, cal: _Calendar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per event counted in a reps x days grid, within the window: rep, day, position."""
    window = grid[:, cal.start:cal.stop]
    flat = window.ravel()
    cell = np.repeat(np.arange(flat.size), flat)
    position = np.arange(len(cell)) - np.repeat(np.cumsum(flat) - flat, flat)
    rep, day = np.divmod(cell, window.shape[1])
    return rep, day + cal.start, position


def _call_rows(rng: np.random.Generator, counts: dict[str, np.ndarray],
               cal: _Calendar) -> list[_Part]:
    """Calls, the first of each day's calls being the connected ones, and a connect beside each."""
    rep, day, position = _expand(counts["calls"], cal)
    talked = position < counts["connects"][rep, day]
    minutes = rng.uniform(*UNANSWERED_MINUTES, len(rep))
    median, sigma, low, high = TALK_MINUTES
    minutes[talked] = np.clip(rng.lognormal(np.log(median), sigma, int(talked.sum())), low, high)
    return [_part(rep, day, CALL, seq=2 * position, minutes=np.round(minutes, 1)),
            _part(rep[talked], day[talked], CONNECT, seq=2 * position[talked] + 1)]


def _email_rows(counts: dict[str, np.ndarray], cal: _Calendar) -> _Part:
    """Emails, nothing more to them than the day they were sent."""
    rep, day, _ = _expand(counts["emails"], cal)
    return _part(rep, day, EMAIL)


def _meeting_rows(meetings: dict[str, np.ndarray], meeting_opp: np.ndarray,
                  cal: _Calendar) -> list[_Part]:
    """BDRs' meetings booked in the window, and those held in it (linked to the deal they made)."""
    booked = (meetings["day"] >= cal.start) & (meetings["day"] < cal.stop)
    held = meetings["held"] & (meetings["held_day"] >= cal.start)
    return [_part(meetings["rep"][booked], meetings["day"][booked], BOOKED),
            _part(meetings["rep"][held], meetings["held_day"][held], HELD, opp=meeting_opp[held])]


def _meeting_frame(people: _People, meetings: dict[str, np.ndarray], meeting_opp: np.ndarray,
                   opp_ids: pd.Series, cal: _Calendar) -> pd.DataFrame:
    """Each meeting booked, one row: who booked it, when, for when, held, the deal it made.

    Draws nothing from the generator, so the dataset frames stay what they were. A meeting
    whose day falls past the window is still to come: it is not held (yet).
    """
    return pd.DataFrame({
        "rep_id": people.frame["rep_id"].to_numpy(dtype=object)[meetings["rep"]],
        "booked_date": _dates(cal, meetings["day"]),
        "meeting_date": _dates(cal, meetings["held_day"]),
        "held": meetings["held"],
        "opportunity_id": np.where(meeting_opp >= 0, opp_ids.to_numpy(dtype=object)[meeting_opp],
                                   None),
    })


def _deal_meeting_rows(rng: np.random.Generator, deals: _Deals,
                       visits: tuple[np.ndarray, np.ndarray], code: np.ndarray, n_stages: int,
                       cal: _Calendar) -> _Part:
    """ISRs' meetings on their deals: one opens each stage, a few more happen during it."""
    deal, stage = visits
    deal, stage = deal[stage < n_stages], stage[stage < n_stages]
    n = 1 + rng.poisson(EXTRA_MEETINGS, len(deal))
    visit = np.repeat(np.arange(len(deal)), n)
    later = np.arange(len(visit)) != np.repeat(np.cumsum(n) - n, n)
    opened = deals.entered[deal, stage][visit]
    length = deals.entered[deal, stage + 1][visit] - opened
    day = opened + later * np.floor(rng.random(len(visit)) * length).astype(np.int64)
    seen = (day >= cal.start) & (day < cal.stop)
    deal = deal[visit][seen]
    return _part(deals.owner[deal], day[seen], HELD, opp=code[deal])


# ------------------------------------------------------------------ goals
def _goals(pipeline: Pipeline, people: _People, cal: _Calendar) -> pd.DataFrame:
    """goals.csv: each rep's monthly plan, at the healthy level of their team."""
    month_of_day = (cal.days[cal.start:cal.stop].astype("datetime64[M]") - cal.first_month) \
        .astype(np.int64)
    # expected working days of each month, weighed by the season and by days off
    load = np.bincount(month_of_day, weights=cal.season[cal.start:cal.stop]) * PRESENCE
    n_months = len(load)
    level = people.team_level[people.team][:, None] * load[None, :]
    closer = np.broadcast_to(people.closer[:, None], level.shape)
    win = float(np.prod([CONVERSION.get(s, DEFAULT_CONVERSION) for s in pipeline.stage_ids]))
    mean_deal = DEAL_MEDIAN * np.exp(DEAL_SIGMA ** 2 / 2)
    calls = np.round(np.where(closer, ISR_CALLS, BDR_CALLS) * level, -1)
    connects = np.round(calls * BDR_CONNECT_RATE)
    booked = np.round(connects * BOOK_RATE)
    plans = {   # metric -> (whose plan it is, reps x months targets)
        "revenue": (closer, np.broadcast_to(np.round(ISR_OPPS * load * win * mean_deal, -3),
                                            level.shape)),
        "win_rate": (closer, np.full(level.shape, round(win, 2))),
        "activity.call": (np.full(level.shape, True), calls),
        "activity.connect": (~closer, connects),
        "activity.meeting_scheduled": (~closer, booked),
        "opportunities_created": (~closer, np.round(booked * HELD_RATE * OPP_RATE)),
    }
    joined = (people.frame["start_date"].to_numpy().astype("datetime64[M]") - cal.first_month) \
        .astype(np.int64)
    employed = np.arange(n_months)[None, :] >= joined[:, None]
    rep, month, metric, target = [], [], [], []
    for name, (whose, values) in plans.items():
        r, m = np.nonzero(whose & employed)
        rep.append(r)
        month.append(m)
        metric.append(np.full(len(r), name, dtype=object))
        target.append(values[r, m])
    rep, month, metric, target = map(np.concatenate, (rep, month, metric, target))
    order = np.lexsort((month, rep))   # stable: a rep's month keeps the metrics in plan order
    periods = (cal.first_month + np.arange(n_months)).astype(str).astype(object)
    return pd.DataFrame({"rep_id": people.frame["rep_id"].to_numpy(dtype=object)[rep[order]],
                         "period": periods[month[order]], "metric": metric[order],
                         "target": target[order].astype(float)})


# ------------------------------------------------------------------ writing
def _write_table(frame: pd.DataFrame, path: Path) -> int:
    """Write a frame as CSV or Parquet by the file's suffix, dates as YYYY-MM-DD; rows written."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.date32()))
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    return table.num_rows
