"""A coaching history for the demo org: three past months of one-on-ones, plans and
assignments, as a manager would have held them, so that an instance shows the archive,
what works, follow-ups, the cadence and the roll-up at first launch.

For each past month reviewed, the diagnosis of that month (engine.diagnosis.analysis) gives
each rep's focus: most reps with a focus get their development conversation and a plan on
it (baseline: the month's value; target: a step towards the benchmark), with a learning and a
selling assignment; some reps without a focus get a conversation without a plan; some get
an opportunity or funnel conversation too; one team's manager falls behind in the latest
month. Deterministic: the same dataset, catalog, months and seed give the same history.
Outcomes are not decided here: the instance measures each plan at the next month's import,
and a plan closes as achieved only where the data shows its target reached.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..catalog.model import Catalog
from ..dataset.model import Dataset
from ..diagnosis.analysis import analyse

HELD_SHARE = 0.85         # reps with a focus whose one-on-one was held
RHYTHM_SHARE = 0.5        # reps without a focus who still had their monthly conversation
OTHER_SHARE = 0.4         # reps who also had an opportunity or funnel conversation
COMPLETED_SHARE = 0.7     # assignments done by their due date
TARGET_STEP = 0.2         # the target: a first step, this share of the way from the baseline to the benchmark


@dataclass(frozen=True)
class Talk:
    """One conversation with a rep (and, for a development one with a focus, its plan)."""

    month: str                      # the month reviewed
    rep_id: str
    kind: str                       # development, opportunity, funnel
    held_on: str                    # ISO date
    plan: dict | None = None        # skill_id, behaviour_gap, why, how, baseline_metric/value, target_value
    assignments: list[dict] = field(default_factory=list)   # kind, ref_id, title, due_on, completed_on

    def to_dict(self) -> dict:
        return asdict(self)


def business_day(first: date, n: int) -> date:
    """The n-th business day (0 = the first) of the month starting at `first`."""
    d, seen = first, -1
    while True:
        if d.weekday() < 5:
            seen += 1
            if seen == n:
                return d
        d += timedelta(days=1)


def coaching_history(ds: Dataset, catalog: Catalog, months: list[str], seed: int = 7) -> list[Talk]:
    """The conversations held about each month in `months` (oldest first), deterministically."""
    talks: list[Talk] = []
    for i, month in enumerate(months):
        rng = np.random.default_rng([seed, i])
        analysis = analyse(ds, catalog, month)
        table, diagnosis = analysis.table, analysis.diagnosis
        reps = table.reps
        teams = sorted(reps["team"].unique())
        behind = teams[int(rng.integers(len(teams)))] if i == len(months) - 1 else None
        first = (pd.Period(month, freq="M") + 1).start_time.date()
        for code, rd in enumerate(diagnosis.reps):
            if bool(reps.at[code, "left"]) or rd.left:
                continue
            draw = rng.random(5)
            held_on = business_day(first, int(draw[0] * 4))
            team = reps.at[code, "team"]
            skip = team == behind and draw[1] < 0.6
            if rd.focus is not None and not skip and draw[2] < HELD_SHARE:
                talks.append(_planned(catalog, table, rd, code, month, held_on, rng))
            elif rd.focus is None and not skip and draw[2] < RHYTHM_SHARE:
                talks.append(Talk(month, rd.rep_id, "development", held_on.isoformat()))
            if draw[3] < OTHER_SHARE:
                kind = "opportunity" if draw[4] < 0.6 else "funnel"
                talks.append(Talk(month, rd.rep_id, kind, (held_on + timedelta(days=9)).isoformat()))
    return talks


def _planned(catalog: Catalog, table, rd, code: int, month: str, held_on: date, rng) -> Talk:
    focus = rd.focus
    skill = focus.skill_gap or next(iter(sorted(rd.candidates.get(focus.behaviour_gap, {}).items(),
                                                key=lambda kv: -kv[1])), (None,))[0]
    if skill is None or skill not in catalog.skills:
        flow = catalog.flows.get(focus.behaviour_gap)
        skill = max(flow.candidates, key=flow.candidates.get) if flow else sorted(catalog.skills)[0]
    finding = rd.finding("behaviour", focus.behaviour_gap)
    metric = focus.metric
    baseline = float(table.value.at[code, metric]) if pd.notna(table.value.at[code, metric]) else None
    bench = finding.benchmark if finding is not None else None
    target = None
    if baseline is not None and bench is not None:
        target = round(baseline + TARGET_STEP * (bench - baseline), 4)
    assets = [a for a in focus.learning_assets if a in catalog.assets][:1] or \
        [a.id for a in catalog.assets.values() if skill in a.addresses][:1]
    selling = [a for a in focus.assignments if a in catalog.assignments][:1] or \
        [a.id for a in catalog.assignments.values() if skill in a.addresses][:1]
    items = []
    for kind, ids, days in (("learning", assets, 7), ("selling", selling, 14)):
        for ref in ids:
            spec = catalog.assets[ref] if kind == "learning" else catalog.assignments[ref]
            due = held_on + timedelta(days=days)
            done = rng.random() < COMPLETED_SHARE
            items.append({"kind": kind, "ref_id": ref, "title": spec.title, "due_on": due.isoformat(),
                          "completed_on": (due - timedelta(days=int(rng.integers(0, 4)))).isoformat() if done
                          else None})
    how = "\n".join(("Learn: " if i["kind"] == "learning" else "Apply: ") + f"{i['title']}, by {i['due_on']}."
                    for i in items) or "Practise with the manager weekly."
    plan = {"skill_id": skill, "behaviour_gap": focus.behaviour_gap, "why": focus.why, "how": how,
            "baseline_metric": metric, "baseline_value": baseline,
            "target_value": target if target is not None else baseline}
    return Talk(month, rd.rep_id, "development", held_on.isoformat(), plan, items)


HISTORY_FILE = "coaching_history.json"


def history_months(end: str, months: int, available: int) -> list[str]:
    """The `months` months before `end` (oldest first), within the `available` months of data."""
    n = max(0, min(months, available - 1))
    last = pd.Period(end, freq="M")
    return [str(last - k) for k in range(n, 0, -1)]


def write_history(ds: Dataset, catalog: Catalog, folder, end: str, months: int, available: int,
                  seed: int = 7) -> int:
    """Write the demo's coaching history beside a dataset (coaching_history.json); the talks written."""
    import json
    from pathlib import Path
    past = history_months(end, months, available)
    talks = coaching_history(ds, catalog, past, seed) if past else []
    doc = {"imports": past + [end], "seed": seed, "talks": [t.to_dict() for t in talks]}
    (Path(folder) / HISTORY_FILE).write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")
    return len(talks)


def read_history(folder) -> tuple[list[str], list[Talk]]:
    import json
    from pathlib import Path
    doc = json.loads((Path(folder) / HISTORY_FILE).read_text(encoding="utf-8"))
    return doc["imports"], [Talk(**t) for t in doc["talks"]]
