"""Coaching effectiveness (seed 002): conversations held, assignments given and completed,
per seller, against the targets ops sets in thresholds.yaml (`coaching`), with red,
yellow, green. Vectorised over the sellers of a group (a team, or a manager's reps)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..catalog.specs import CoachingTargets

COUNTS = ("learning", "selling", "due", "completed", "overdue")


def rag_of(ratio: float | None, targets: CoachingTargets) -> str | None:
    """green, yellow or red for the share of a target reached (None: no target to judge)."""
    if ratio is None or not np.isfinite(ratio):
        return None
    return "green" if ratio >= targets.rag.green else "yellow" if ratio >= targets.rag.yellow else "red"


def _ratio(actual: float, target: float) -> float | None:
    return None if target <= 0 else float(actual) / float(target)


def effectiveness(per_rep: pd.DataFrame, by: str, kinds: list[str], targets: CoachingTargets) -> list[dict]:
    """One row per value of `by`, from one row per seller.

    `per_rep` columns: `by`; `conv.<kind>` for each conversation kind (held in the month);
    `learning`, `selling` (assignments given in the month); `due` (assignments due in the
    month), `completed` (of those, completed), `overdue` (open and past due now).
    """
    if per_rep.empty:
        return []
    frame = per_rep.copy()
    conv_cols = [f"conv.{k}" for k in kinds]
    for c in [*conv_cols, *COUNTS]:
        if c not in frame:
            frame[c] = 0
    frame["conversations"] = frame[conv_cols].sum(axis=1)
    frame["on_rule"] = ((frame["conversations"] >= targets.conversations_per_rep)
                        & (frame["learning"] >= targets.learning_per_rep)
                        & (frame["selling"] >= targets.selling_per_rep))
    frame["reps"] = 1
    sums = frame.groupby(by, sort=True)[["reps", "conversations", "on_rule", *conv_cols, *COUNTS]].sum()
    out = []
    for key, row in sums.iterrows():
        reps = int(row["reps"])
        per = {"conversations": row["conversations"] / reps, "learning": row["learning"] / reps,
               "selling": row["selling"] / reps}
        completion = row["completed"] / row["due"] if row["due"] else None
        ratios = {"conversations": _ratio(per["conversations"], targets.conversations_per_rep),
                  "learning": _ratio(per["learning"], targets.learning_per_rep),
                  "selling": _ratio(per["selling"], targets.selling_per_rep),
                  "completion": None if completion is None else _ratio(completion, targets.completion),
                  "on_rule": row["on_rule"] / reps}
        out.append({
            "key": key, "reps": reps,
            "conversations": int(row["conversations"]),
            "by_kind": {k: int(row[f"conv.{k}"]) for k in kinds},
            "conversations_per_rep": round(per["conversations"], 2),
            "learning": int(row["learning"]), "selling": int(row["selling"]),
            "due": int(row["due"]), "completed": int(row["completed"]), "overdue": int(row["overdue"]),
            "completion": None if completion is None else round(float(completion), 4),
            "on_rule": int(row["on_rule"]),
            "rag": {k: rag_of(v, targets) for k, v in ratios.items()},
        })
    return out
