"""Coaching effectiveness per team and manager for a calendar month (seed 002): the counts
are grouped in SQL per rep, the figures and their red, yellow, green are engine.coaching's."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import func

from engine.coaching.effectiveness import effectiveness

from ..coach.wizard import SESSION_TYPES
from ..extensions import db
from ..models import Assignment, CoachingSession, Dataset, RepSnapshot, User
from ..security import scoped, visible_reps
from ..store import catalog


def month_bounds(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    nxt = date(first.year + (first.month == 12), 1 if first.month == 12 else first.month + 1, 1)
    return first, nxt


def per_rep(user: User, dataset: Dataset | None, month: str, today: date) -> pd.DataFrame:
    """One row per rep in scope: conversations held by kind, assignments given, due, completed, overdue."""
    if dataset is None:
        return pd.DataFrame()
    reps = pd.DataFrame(db.session.execute(visible_reps(user, dataset).with_only_columns(
        RepSnapshot.rep_id, RepSnapshot.team, RepSnapshot.manager)).all(), columns=["rep_id", "team", "manager"])
    if reps.empty:
        return reps
    reps["manager"] = reps["manager"].fillna("(no manager in the data)")
    first, nxt = month_bounds(month)
    start, end = datetime(first.year, first.month, 1), datetime(nxt.year, nxt.month, 1)
    ids = list(reps["rep_id"])

    def counts(q) -> dict:
        return {tuple(r[:-1]): r[-1] for r in db.session.execute(q).all()}

    talks = counts(scoped(CoachingSession, user).where(
        CoachingSession.status == "completed", CoachingSession.held_on >= first, CoachingSession.held_on < nxt,
        CoachingSession.rep_id.in_(ids)).with_only_columns(CoachingSession.rep_id, CoachingSession.kind, func.count())
        .group_by(CoachingSession.rep_id, CoachingSession.kind))
    given = counts(scoped(Assignment, user).where(
        Assignment.created_at >= start, Assignment.created_at < end, Assignment.rep_id.in_(ids))
        .with_only_columns(Assignment.rep_id, Assignment.kind, func.count()).group_by(Assignment.rep_id, Assignment.kind))
    due = scoped(Assignment, user).where(Assignment.status != "cancelled", Assignment.due_on >= first,
                                         Assignment.due_on < nxt, Assignment.rep_id.in_(ids))
    due_n = counts(due.with_only_columns(Assignment.rep_id, func.count()).group_by(Assignment.rep_id))
    done_n = counts(due.where(Assignment.status == "completed").with_only_columns(Assignment.rep_id, func.count())
                    .group_by(Assignment.rep_id))
    late_n = counts(due.where(Assignment.status == "open", Assignment.due_on < today)
                    .with_only_columns(Assignment.rep_id, func.count()).group_by(Assignment.rep_id))
    for kind in SESSION_TYPES:
        reps[f"conv.{kind}"] = [talks.get((r, kind), 0) for r in ids]
    reps["learning"] = [given.get((r, "learning"), 0) for r in ids]
    reps["selling"] = [given.get((r, "selling"), 0) for r in ids]
    reps["due"] = [due_n.get((r,), 0) for r in ids]
    reps["completed"] = [done_n.get((r,), 0) for r in ids]
    reps["overdue"] = [late_n.get((r,), 0) for r in ids]
    return reps


def report(user: User, dataset: Dataset | None, month: str, today: date | None = None) -> dict:
    """The month's coaching effectiveness by team and by manager, with the targets."""
    today = today or date.today()
    frame = per_rep(user, dataset, month, today)
    targets = catalog().thresholds.coaching
    kinds = list(SESSION_TYPES)
    return {"month": month, "kinds": kinds,
            "targets": targets.model_dump(mode="json"),
            "teams": effectiveness(frame, "team", kinds, targets) if len(frame) else [],
            "managers": effectiveness(frame, "manager", kinds, targets) if len(frame) else [],
            "total": (effectiveness(frame.assign(all="all"), "all", kinds, targets) or [None])[0]
            if len(frame) else None}
