"""Day 1, the manager's month: every rep in scope with the month's conversation (not
started, in progress and by whom, plan agreed, held, or nothing to coach), the focus and
root cause (or the opening), the active plan's KPI, assignments due and follow-ups due."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..extensions import db
from ..models import (Assignment, CoachingPlan, CoachingSession, Dataset, PlanStatus, RepSnapshot, SessionType,
                      User)
from ..security import scoped, visible_reps
from .followup import Followup, followup

STATUS_TITLES = {"agreed": "Plan agreed", "held": "Held, no plan", "in_progress": "In progress",
                 "not_started": "Not started", "keep_rhythm": "No focus: keep the rhythm"}
DUE_SOON_DAYS = 7


@dataclass
class RepMonth:
    rep_id: str
    name: str
    team: str
    division: str
    manager: str | None
    focus: dict | None
    opening: dict | None
    status: str
    session: CoachingSession | None = None
    held_by: str | None = None
    plan: CoachingPlan | None = None                 # the plan agreed this month
    active: list[Followup] = field(default_factory=list)     # open plans, with their KPI
    due: list[Assignment] = field(default_factory=list)      # open assignments due within a week
    overdue: list[Assignment] = field(default_factory=list)

    @property
    def status_title(self) -> str:
        return STATUS_TITLES[self.status]

    @property
    def followups_due(self) -> list[Followup]:
        return [f for f in self.active if f.due]

    def to_dict(self) -> dict:
        return {"rep_id": self.rep_id, "name": self.name, "team": self.team, "division": self.division,
                "manager": self.manager, "status": self.status, "held_by": self.held_by,
                "session_id": self.session.id if self.session else None,
                "step": self.session.step if self.session else None,
                "focus": {k: self.focus.get(k) for k in ("performance_gap", "behaviour_gap", "skill_gap", "metric",
                                                         "why")} if self.focus else None,
                "opening": self.opening,
                "plan_id": self.plan.id if self.plan else None,
                "active_plans": [{"id": f.plan.id, "month": f.plan.month, "skill_id": f.plan.skill_id,
                                  "baseline_metric": f.plan.baseline_metric, "baseline_value": f.plan.baseline_value,
                                  "target_value": f.plan.target_value, "follow_up_on": f.plan.follow_up_on.isoformat(),
                                  **f.to_dict()} for f in self.active],
                "assignments_due": [a.id for a in self.due], "assignments_overdue": [a.id for a in self.overdue]}


def month_of(user: User, dataset: Dataset | None, today: date | None = None, team: str | None = None
             ) -> list[RepMonth]:
    """Every rep in the user's scope with the month under review (the dataset's period)."""
    if dataset is None:
        return []
    today = today or date.today()
    q = visible_reps(user, dataset).with_only_columns(
        RepSnapshot.rep_id, RepSnapshot.name, RepSnapshot.team, RepSnapshot.division, RepSnapshot.manager,
        RepSnapshot.diagnosis).order_by(RepSnapshot.team, RepSnapshot.name)
    if team:
        q = q.where(RepSnapshot.team == team)
    reps = db.session.execute(q).all()
    ids = [r.rep_id for r in reps]
    sessions = {s.rep_id: s for s in db.session.execute(
        scoped(CoachingSession, user).where(CoachingSession.month == dataset.period,
                                            CoachingSession.kind == SessionType.development.value,
                                            CoachingSession.status != "discarded",
                                            CoachingSession.rep_id.in_(ids))).scalars()}
    names = dict(db.session.execute(db.select(User.id, User.name).where(
        User.id.in_({s.manager_id for s in sessions.values()}))).all()) if sessions else {}
    plans = db.session.execute(scoped(CoachingPlan, user).where(CoachingPlan.rep_id.in_(ids)).where(
        (CoachingPlan.status == PlanStatus.active.value) | (CoachingPlan.month == dataset.period))
        .order_by(CoachingPlan.month)).scalars().all()
    open_items = db.session.execute(scoped(Assignment, user).where(
        Assignment.status == "open", Assignment.rep_id.in_(ids),
        Assignment.due_on <= today + timedelta(days=DUE_SOON_DAYS)).order_by(Assignment.due_on)).scalars().all()
    plans_of: dict[str, list[CoachingPlan]] = {}
    for p in plans:
        plans_of.setdefault(p.rep_id, []).append(p)
    items_of: dict[str, list[Assignment]] = {}
    for a in open_items:
        items_of.setdefault(a.rep_id, []).append(a)
    out = []
    for r in reps:
        diagnosis = r.diagnosis or {}
        s = sessions.get(r.rep_id)
        mine, items = plans_of.get(r.rep_id, []), items_of.get(r.rep_id, [])
        agreed = next((p for p in mine if p.month == dataset.period and s is not None and p.session_id == s.id),
                      None)
        focus, opening = diagnosis.get("focus"), diagnosis.get("opening")
        if s is None:
            status = "not_started" if focus or opening else "keep_rhythm"
        elif s.status == "in_progress":
            status = "in_progress"
        else:
            status = "agreed" if agreed is not None else "held"
        out.append(RepMonth(
            r.rep_id, r.name, r.team, r.division, r.manager, focus, opening, status, s,
            names.get(s.manager_id) if s else None, agreed,
            [followup(p, today) for p in mine if p.status == PlanStatus.active.value],
            [a for a in items if a.due_on >= today],
            [a for a in items if a.due_on < today]))
    return out


def counts(rows: list[RepMonth]) -> dict:
    c = {k: 0 for k in STATUS_TITLES}
    for r in rows:
        c[r.status] += 1
    c["reps"] = len(rows)
    c["followups_due"] = sum(len(r.followups_due) for r in rows)
    c["overdue"] = sum(len(r.overdue) for r in rows)
    c["due"] = sum(len(r.due) for r in rows)
    return c
