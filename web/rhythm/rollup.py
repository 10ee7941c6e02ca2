"""Day 2, the roll-up (seed 000's three questions, for directors and a VP): per division,
then team, the month's coaching in figures; each team's reps on demand. Aggregates are
grouped in SQL over the store's light columns: a page never loads every rep's documents."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func

from ..extensions import db
from ..models import (Assignment, CoachingPlan, CoachingSession, Dataset, PlanMeasure, PlanStatus, RepSnapshot,
                      SessionType, User)
from ..security import scope_filter, scoped, visible_reps
from .followup import higher_is_better
from engine.coaching.followup import standing


@dataclass
class GroupRow:
    """One team (or division): the month's coaching, in figures."""

    key: str
    division: str = ""
    managers: list[str] = field(default_factory=list)
    reps: int = 0
    with_focus: int = 0
    progress: float | None = None                  # average progress toward activity goals
    held: int = 0                                  # development conversations held for the month
    in_progress: int = 0
    agreed: int = 0                                # plans agreed for the month
    due: int = 0                                   # assignments due by today
    completed: int = 0                             # of those, completed
    new_focus: int = 0                             # reps whose focus changed since the last import
    kpi_better: int = 0                            # last month's plans whose KPI moved towards the target
    kpi_worse: int = 0
    achieved: int = 0                              # last month's plans closed achieved
    missed: int = 0                                # closed not achieved

    @property
    def not_held(self) -> int:
        return max(self.reps - self.held, 0)

    @property
    def completion(self) -> float | None:
        return self.completed / self.due if self.due else None

    def to_dict(self) -> dict:
        return {"key": self.key, "division": self.division, "managers": self.managers, "reps": self.reps,
                "with_focus": self.with_focus, "goal_progress": self.progress, "held": self.held,
                "in_progress": self.in_progress, "not_held": self.not_held, "plans_agreed": self.agreed,
                "assignments_due": self.due, "assignments_completed": self.completed,
                "completion": self.completion,
                "changed": {"new_focus": self.new_focus, "kpi_better": self.kpi_better, "kpi_worse": self.kpi_worse,
                            "plans_achieved": self.achieved, "plans_missed": self.missed}}


def previous_dataset(dataset: Dataset) -> Dataset | None:
    """The latest import of an earlier month: what "last month" was."""
    return db.session.execute(db.select(Dataset).where(Dataset.period < dataset.period)
                              .order_by(Dataset.period.desc(), Dataset.imported_at.desc()).limit(1)).scalar_one_or_none()


def previous_month(period: str) -> str:
    y, m = int(period[:4]), int(period[5:])
    return f"{y - (m == 1)}-{12 if m == 1 else m - 1:02d}"


def group_rows(user: User, dataset: Dataset | None, by: str = "team", division: str | None = None,
               today: date | None = None) -> list[GroupRow]:
    """One row per team (or division) in the user's scope, optionally within one division."""
    if dataset is None:
        return []
    today = today or date.today()
    col = {"team": "team", "division": "division"}[by]
    snap_key = getattr(RepSnapshot, col)
    base = visible_reps(user, dataset)
    if division:
        base = base.where(RepSnapshot.division == division)
    rows: dict[str, GroupRow] = {}
    for key, div, reps, focus, progress in db.session.execute(base.with_only_columns(
            snap_key, func.min(RepSnapshot.division), func.count(), func.count(RepSnapshot.focus_gap),
            func.avg(RepSnapshot.goal_progress)).group_by(snap_key).order_by(snap_key)).all():
        rows[key] = GroupRow(key=key, division=div, reps=reps, with_focus=focus, progress=progress)
    if not rows:
        return []
    for key, manager in db.session.execute(base.with_only_columns(snap_key, RepSnapshot.manager).distinct()
                                           .order_by(snap_key, RepSnapshot.manager)).all():
        if manager:
            rows[key].managers.append(manager)

    def grouped(model, *conds, value=None):
        """Per group, within the scope (and division): the groups of the snapshots only."""
        key = getattr(model, col)
        q = scoped(model, user).where(*conds).with_only_columns(
            key, value if value is not None else func.count()).group_by(key)
        if division:
            q = q.where(model.division == division)
        return {k: v for k, v in db.session.execute(q).all() if k in rows}

    period = dataset.period
    month_talks = (CoachingSession.month == period, CoachingSession.kind == SessionType.development.value)
    for key, n in grouped(CoachingSession, *month_talks, CoachingSession.status == "completed").items():
        rows[key].held = n
    for key, n in grouped(CoachingSession, *month_talks, CoachingSession.status == "in_progress").items():
        rows[key].in_progress = n
    for key, n in grouped(CoachingPlan, CoachingPlan.month == period).items():
        rows[key].agreed = n
    for key, n in grouped(Assignment, Assignment.status != "cancelled", Assignment.due_on <= today).items():
        rows[key].due = n
    for key, n in grouped(Assignment, Assignment.status == "completed", Assignment.due_on <= today).items():
        rows[key].completed = n
    last = previous_month(period)
    closed = grouped(CoachingPlan, CoachingPlan.month == last, value=func.sum(case(
        (CoachingPlan.status == PlanStatus.achieved.value, 1), else_=0)))
    missed = grouped(CoachingPlan, CoachingPlan.month == last, value=func.sum(case(
        (CoachingPlan.status == PlanStatus.not_achieved.value, 1), else_=0)))
    for key in rows:
        rows[key].achieved, rows[key].missed = int(closed.get(key) or 0), int(missed.get(key) or 0)
    for key, moved in kpi_moves(user, dataset, col, division).items():
        rows[key].kpi_better, rows[key].kpi_worse = moved
    for key, n in new_focus(user, dataset, col, division).items():
        rows[key].new_focus = n
    return list(rows.values())


def kpi_moves(user: User, dataset: Dataset, col: str, division: str | None) -> dict[str, tuple[int, int]]:
    """Per group: plans whose KPI, measured on this import, moved towards (or away from) the target."""
    q = (scoped(CoachingPlan, user).join(PlanMeasure, PlanMeasure.plan_id == CoachingPlan.id)
         .where(PlanMeasure.period == dataset.period)
         .with_only_columns(getattr(CoachingPlan, col), CoachingPlan.baseline_metric, CoachingPlan.baseline_value,
                            CoachingPlan.target_value, PlanMeasure.value))
    if division:
        q = q.where(CoachingPlan.division == division)
    out: dict[str, list[int]] = {}
    for key, metric, baseline, target, value in db.session.execute(q).all():
        s = standing(value, baseline, target, higher_is_better(metric))
        counts = out.setdefault(key, [0, 0])
        if s.moved == "better":
            counts[0] += 1
        elif s.moved == "worse":
            counts[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def new_focus(user: User, dataset: Dataset, col: str, division: str | None) -> dict[str, int]:
    """Per group: reps whose focus is new since the last import (a focus, and not the one before)."""
    prev = previous_dataset(dataset)
    if prev is None:
        return {}
    now = visible_reps(user, dataset).where(RepSnapshot.focus_gap.is_not(None))
    if division:
        now = now.where(RepSnapshot.division == division)
    now_rows = db.session.execute(now.with_only_columns(RepSnapshot.rep_id, getattr(RepSnapshot, col),
                                                        RepSnapshot.focus_gap)).all()
    before = dict(db.session.execute(
        db.select(RepSnapshot.rep_id, RepSnapshot.focus_gap).where(RepSnapshot.dataset_id == prev.id,
                                                                   scope_filter(RepSnapshot, user))).all())
    out: dict[str, int] = {}
    for rep_id, key, gap in now_rows:
        if before.get(rep_id) != gap:
            out[key] = out.get(key, 0) + 1
    return out


def totals(rows: list[GroupRow]) -> GroupRow:
    t = GroupRow(key="all")
    weighted = [(r.progress, r.reps) for r in rows if r.progress is not None]
    for r in rows:
        for f in ("reps", "with_focus", "held", "in_progress", "agreed", "due", "completed", "new_focus",
                  "kpi_better", "kpi_worse", "achieved", "missed"):
            setattr(t, f, getattr(t, f) + getattr(r, f))
    t.progress = sum(p * n for p, n in weighted) / sum(n for _, n in weighted) if weighted else None
    return t


def managers_behind(rows: list[GroupRow]) -> list[dict]:
    """The managers who have not held every one-on-one of the month, with how many are left."""
    out = []
    for r in rows:
        if r.not_held:
            out.append({"team": r.key, "division": r.division, "managers": r.managers, "held": r.held,
                        "reps": r.reps, "in_progress": r.in_progress})
    return sorted(out, key=lambda x: (-(x["reps"] - x["held"]), x["team"]))
