"""The month's events a progress report counts, read from a dataset's tables by SQL.

Tables (engine.dataset.model): `act_daily` (rep, day, type, n), `opps`, `history`.
The frames are small: activities per rep, day and type; one row per opportunity created,
per stage entry and per won deal. Dates are days (the report's finest grain).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..aggregation.period import parse_month
from ..aggregation.queries import day, ts
from ..dataset.model import Dataset

FRAMES = ("activities", "created", "entries", "won", "reps", "goals")


@dataclass(frozen=True)
class Facts:
    """One month's events, by rep code (0..R-1, as in reps)."""

    month: str                    # YYYY-MM
    start: pd.Timestamp           # the month's first day
    end: pd.Timestamp             # exclusive: the month's end, or the day after the data's as-of day
    activity_types: tuple[str, ...]
    stages: tuple[str, ...]       # every stage, the won stage last
    activities: pd.DataFrame      # rep, day, type (code), n
    created: pd.DataFrame         # opp, rep (owner), source (prospector or NA), day
    entries: pd.DataFrame         # opp, rep, stage (code), day
    won: pd.DataFrame             # opp, rep, day, amount (NaN where unknown)
    reps: pd.DataFrame            # rep (code), rep_id, name, team, division
    goals: pd.DataFrame           # rep (code), metric, target: the month's goals

    def save(self, folder: Path) -> None:
        """Write the facts as Parquet files (the web app keeps them beside an import)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in FRAMES:
            getattr(self, name).to_parquet(folder / f"{name}.parquet", index=False)
        meta = pd.DataFrame({"key": ["month", "start", "end", "activity_types", "stages"],
                             "value": [self.month, self.start.isoformat(), self.end.isoformat(),
                                       ",".join(self.activity_types), ",".join(self.stages)]})
        meta.to_parquet(folder / "meta.parquet", index=False)

    @classmethod
    def load(cls, folder: Path) -> "Facts":
        meta = dict(pd.read_parquet(folder / "meta.parquet").itertuples(index=False, name=None))
        frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in FRAMES}
        return cls(month=meta["month"], start=pd.Timestamp(meta["start"]), end=pd.Timestamp(meta["end"]),
                   activity_types=tuple(meta["activity_types"].split(",")), stages=tuple(meta["stages"].split(",")),
                   **frames)


def report_window(ds: Dataset, month: str | None) -> tuple[str, pd.Timestamp, pd.Timestamp]:
    """(month, first day, exclusive end): the month given, else the month of the data's as-of day
    (the month in progress); never past the as-of day (work dated after it is not counted)."""
    if month is None:
        if ds.as_of is None:
            from ..aggregation.period import PeriodError
            raise PeriodError("the dataset holds no dated events: there is no month to report")
        period = pd.Period(ds.as_of, freq="M")
    else:
        period = parse_month(month)
    start, end = period.start_time, (period + 1).start_time
    if ds.as_of is not None:
        end = min(end, max(start, ds.as_of.normalize() + pd.Timedelta(days=1)))
    return str(period), start, end


def month_facts(ds: Dataset, month: str | None = None) -> Facts:
    """The events of `month` (default: the month of the data's as-of day), by SQL over ds.backend."""
    label, start, end = report_window(ds, month)
    b = ds.backend
    won_stage = len(ds.stages) - 1
    window = f"{{col}} >= {ts(start)} AND {{col}} < {ts(end)}"
    activities = b.frame(f"""
        SELECT rep, day, CAST(type AS INTEGER) AS type, CAST(sum(n) AS BIGINT) AS n FROM act_daily
        WHERE day >= {day(start)} AND day < {day(end)} GROUP BY ALL ORDER BY rep, day, type""")
    created = b.frame(f"""
        SELECT opp, rep, source_rep AS source, CAST(created AS DATE) AS day FROM opps
        WHERE {window.format(col='created')} ORDER BY opp""")
    # entries as the metrics count them (queries.stage_entries): the stage history; without
    # one, the first stage at creation and the won stage at a won close
    entries = b.frame(f"""
        WITH has_h AS (SELECT DISTINCT opp FROM history),
             won_h AS (SELECT DISTINCT opp FROM history WHERE stage = {won_stage})
        SELECT h.opp, o.rep, CAST(h.stage AS INTEGER) AS stage, CAST(h.entered AS DATE) AS day
        FROM history h JOIN opps o USING (opp) WHERE {window.format(col='h.entered')}
        UNION ALL
        SELECT opp, rep, 0, CAST(created AS DATE) FROM opps
        WHERE {window.format(col='created')} AND opp NOT IN (SELECT opp FROM has_h)
        UNION ALL
        SELECT opp, rep, {won_stage}, CAST(close AS DATE) FROM opps
        WHERE status = 1 AND {window.format(col='close')} AND opp NOT IN (SELECT opp FROM won_h)
        ORDER BY 1, 3, 4""")
    won = b.frame(f"""
        SELECT opp, rep, CAST(close AS DATE) AS day, amount FROM opps
        WHERE status = 1 AND {window.format(col='close')} ORDER BY opp""")
    for f in (activities, created, entries, won):
        f["day"] = pd.to_datetime(f["day"])
    created["source"] = created["source"].astype("Int64")
    reps = ds.reps[["rep_id", "name", "team", "division"]].copy()
    reps.insert(0, "rep", range(len(reps)))
    goals = ds.goals
    goals = goals.loc[goals["period"].astype(str) == label, ["rep", "metric", "target"]].reset_index(drop=True) \
        if len(goals) else pd.DataFrame({"rep": pd.Series(dtype="int64"), "metric": pd.Series(dtype=str),
                                         "target": pd.Series(dtype=float)})
    return Facts(month=label, start=start, end=end, activity_types=tuple(ds.activity_types),
                 stages=tuple(ds.stages), activities=activities, created=created, entries=entries, won=won,
                 reps=reps.reset_index(drop=True), goals=goals)
