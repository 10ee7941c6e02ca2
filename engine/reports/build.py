"""A progress report from a month's facts: counts per group (division, team or rep) and
bucket (day, week or month), vectorised with pandas; long-form rows
`level, key, name, start, metric, value` with metric ids of the data contract.

- `activity.<type>`: activities of each type, by their date;
- `opportunities_created`: opportunities created, for a rep owned or sourced (as the
  metric), for a team or division each once where its owner or its prospector belongs;
- `stage_entries.<stage>`: opportunities that entered each stage (`stage_entries.won`: won
  deals), each counted once per bucket, for the owner's group;
- `revenue`: amounts of the deals won (closed) in the bucket;
- `goal.<metric>` (month grain only): the sum of the group's goals for the month, for the
  metrics that add up (activities, opportunities created, stage entries, revenue).

Weeks run Monday to Sunday, cut at the month's edges: the buckets partition the month, and
`start` is a bucket's first day inside it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .facts import Facts

LEVELS = ("division", "team", "rep")
GRAINS = ("day", "week", "month")
COLUMNS = ["level", "key", "name", "start", "metric", "value"]


def report_metrics(facts: Facts) -> list[str]:
    """The report's metric ids, in funnel order."""
    return ([f"activity.{t}" for t in facts.activity_types] + ["opportunities_created"]
            + [f"stage_entries.{s}" for s in facts.stages] + ["revenue"])


@dataclass(frozen=True)
class Report:
    month: str
    by: str
    grain: str
    buckets: list[pd.Timestamp]
    metrics: list[str]              # counted metrics (goals are `goal.<metric>`)
    groups: pd.DataFrame            # key, name: the groups reported, in order
    rows: pd.DataFrame              # level, key, name, start, metric, value (long form)

    @property
    def goal_metrics(self) -> list[str]:
        return sorted(set(self.rows["metric"]) - set(self.metrics), key=lambda m: self.metrics.index(m[5:])
                      if m[5:] in self.metrics else 999)

    def to_csv(self) -> str:
        out = self.rows.copy()
        out["start"] = out["start"].dt.strftime("%Y-%m-%d")
        out["value"] = [_text(v) for v in out["value"]]
        for col in ("key", "name"):                # names come from the CRM: never a formula in a spreadsheet
            out[col] = [_inert(v) for v in out[col]]
        return out.to_csv(index=False, lineterminator="\n")

    def to_dict(self) -> dict:
        """The JSON document: the report's frame, and one entry per group with its series."""
        starts = [b.strftime("%Y-%m-%d") for b in self.buckets]
        table = self.table()
        groups = []
        for key, name in self.groups.itertuples(index=False, name=None):
            g = table.get(key, {})
            groups.append({"key": key, "name": name,
                           "values": {m: g.get(m, [0] * len(starts)) for m in self.metrics},
                           "goals": {m[5:]: g[m][0] for m in self.goal_metrics if m in g}})
        return {"month": self.month, "by": self.by, "grain": self.grain, "buckets": starts,
                "metrics": list(self.metrics), "groups": groups}

    def table(self) -> dict[str, dict[str, list]]:
        """key -> metric -> values in bucket order."""
        idx = {b: i for i, b in enumerate(self.buckets)}
        out: dict[str, dict[str, list]] = {}
        n = len(self.buckets)
        for key, start, metric, value in self.rows[["key", "start", "metric", "value"]].itertuples(index=False,
                                                                                                      name=None):
            series = out.setdefault(key, {}).setdefault(metric, [0] * n if not metric.startswith("goal.") else [None])
            if metric.startswith("goal."):
                series[0] = _num(value)
            else:
                series[idx[start]] = _num(value)
        return out


def _num(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    f = float(v)
    return int(f) if f.is_integer() else round(f, 2)


def _text(v) -> str:
    n = _num(v)
    return "" if n is None else str(n)


def buckets(facts: Facts, grain: str) -> list[pd.Timestamp]:
    days = pd.date_range(facts.start, facts.end - pd.Timedelta(days=1), freq="D")
    if grain == "month" or not len(days):
        return [facts.start]
    return sorted(set(bucket_of(pd.Series(days), facts.start, grain)))


def bucket_of(days: pd.Series, start: pd.Timestamp, grain: str) -> pd.Series:
    """Each day's bucket: itself, its week's Monday (not before the month), or the month."""
    if grain == "day":
        return days
    if grain == "week":
        monday = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
        return monday.where(monday >= start, start)
    return pd.Series(start, index=days.index)


def _groups(facts: Facts, by: str, reps: pd.DataFrame) -> pd.DataFrame:
    if by == "rep":
        return reps[["rep", "rep_id", "name"]].rename(columns={"rep_id": "key"})
    return reps[["rep", by]].assign(key=reps[by], name=reps[by])[["rep", "key", "name"]]


def build_report(facts: Facts, by: str = "team", grain: str = "day", reps: list[str] | None = None) -> Report:
    """The report of `facts` by `by` and `grain`; `reps` limits it to these rep ids (a scope)."""
    if by not in LEVELS:
        raise ValueError(f"--by {by!r}: expected one of {', '.join(LEVELS)}")
    if grain not in GRAINS:
        raise ValueError(f"--grain {grain!r}: expected one of {', '.join(GRAINS)}")
    roster = facts.reps if reps is None else facts.reps[facts.reps["rep_id"].isin(set(reps))]
    member = _groups(facts, by, roster)                    # rep code -> group key, name
    key_of = member.set_index("rep")["key"]
    groups = member[["key", "name"]].drop_duplicates("key").sort_values(["name", "key"], kind="stable")
    metrics = report_metrics(facts)
    cols = ["key", "bucket", "metric", "value"]
    parts = []

    def bucketed(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(bucket=bucket_of(frame["day"], facts.start, grain).to_numpy())

    a = facts.activities[facts.activities["rep"].isin(key_of.index)]
    if len(a):
        a = bucketed(a.assign(key=a["rep"].map(key_of)))
        a = a.groupby(["key", "bucket", "type"], as_index=False)["n"].sum()
        a["metric"] = "activity." + pd.Series(np.asarray(facts.activity_types, dtype=object)[a["type"].to_numpy()],
                                              index=a.index)
        parts.append(a.rename(columns={"n": "value"})[cols])

    c = facts.created
    if len(c):                 # once per group where its owner or its prospector belongs
        owner = c[["opp", "rep", "day"]]
        source = c.loc[c["source"].notna() & (c["source"] != c["rep"]), ["opp", "source", "day"]] \
            .rename(columns={"source": "rep"}).astype({"rep": "int64"})
        both = pd.concat([owner, source], ignore_index=True)
        both = both[both["rep"].isin(key_of.index)]
        both = bucketed(both.assign(key=both["rep"].map(key_of))).drop_duplicates(["opp", "key", "bucket"])
        n = both.groupby(["key", "bucket"], as_index=False).size().rename(columns={"size": "value"})
        parts.append(n.assign(metric="opportunities_created")[cols])

    e = facts.entries[facts.entries["rep"].isin(key_of.index)]
    if len(e):
        e = bucketed(e.assign(key=e["rep"].map(key_of))).drop_duplicates(["opp", "stage", "key", "bucket"])
        e = e.groupby(["key", "bucket", "stage"], as_index=False).size().rename(columns={"size": "value"})
        e["metric"] = "stage_entries." + pd.Series(np.asarray(facts.stages, dtype=object)[e["stage"].to_numpy()],
                                                   index=e.index)
        parts.append(e[cols])

    w = facts.won[facts.won["rep"].isin(key_of.index)]
    if len(w):
        w = bucketed(w.assign(key=w["rep"].map(key_of)))
        w = w.groupby(["key", "bucket"], as_index=False)["amount"].sum(min_count=0)
        parts.append(w.rename(columns={"amount": "value"}).assign(metric="revenue")[cols])

    counted = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    bks = buckets(facts, grain)
    grid = pd.MultiIndex.from_product([groups["key"], bks, metrics], names=["key", "bucket", "metric"])
    values = (counted.groupby(["key", "bucket", "metric"])["value"].sum().reindex(grid, fill_value=0)
              .reset_index())
    order = {m: i for i, m in enumerate(metrics)}
    frames = [values]
    if grain == "month":
        frames.append(_goals(facts, key_of, metrics, bks[0]))
    out = pd.concat(frames, ignore_index=True)
    out = out.merge(groups, on="key", how="left")
    out["level"] = by
    out["_g"] = out["key"].map({k: i for i, k in enumerate(groups["key"])})
    out["_m"] = out["metric"].map(lambda m: order.get(m, order.get(m[5:], 0) + 0.5))
    out = out.sort_values(["_g", "bucket", "_m"], kind="stable").rename(columns={"bucket": "start"})
    return Report(month=facts.month, by=by, grain=grain, buckets=bks, metrics=metrics,
                  groups=groups.reset_index(drop=True), rows=out[COLUMNS].reset_index(drop=True))


def _goals(facts: Facts, key_of: pd.Series, metrics: list[str], start: pd.Timestamp) -> pd.DataFrame:
    """The month's goals summed per group, for the metrics that add up."""
    g = facts.goals
    g = g[g["metric"].isin(metrics) & g["rep"].isin(key_of.index)]
    if not len(g):
        return pd.DataFrame(columns=["key", "bucket", "metric", "value"])
    g = g.assign(key=g["rep"].map(key_of)).groupby(["key", "metric"], as_index=False)["target"].sum()
    return pd.DataFrame({"key": g["key"], "bucket": start, "metric": "goal." + g["metric"], "value": g["target"]})


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    """A text cell a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first)
    is kept as text by a leading apostrophe (OWASP's advice for CSV injection)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value
