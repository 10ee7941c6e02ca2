"""Day 1, the manager's month: every rep in scope with the month's conversation (not
started, in progress and by whom, plan agreed, held, or nothing to coach), the focus and
root cause (or the opening), the active plan's KPI, assignments due and follow-ups due.

Each rep's status and the scope's counts are computed in SQL over the snapshots' light columns
(the scope index), so that a page of a large scope reads in full only the reps it shows."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, case, func, tuple_
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (Assignment, CoachingPlan, CoachingSession, Dataset, PlanMeasure, PlanStatus, RepSnapshot,
                      SessionType, User)
from ..security import scoped, visible_reps
from ..team.summary import ListPage
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


def _scope(user: User, dataset: Dataset, team: str | None) -> Select:
    q = visible_reps(user, dataset)
    return q.where(RepSnapshot.team == team) if team else q


def _with_status(q: Select, user: User, period: str) -> Select:
    """`q` (over rep snapshots) with each rep's status for the month, labelled `status`: the month's
    development conversation in scope (at most one a rep), and for a rep without one, whether
    there is something to coach (a focus or an opening: columns of the scope index)."""
    s = _month_sessions(user, period).with_only_columns(
        CoachingSession.id, CoachingSession.rep_id, CoachingSession.status).subquery()
    # the month's plans in scope as one set: an EXISTS per rep had SQLite scan them all for each rep
    agreed = tuple_(s.c.id, RepSnapshot.rep_id).in_(scoped(CoachingPlan, user).where(
        CoachingPlan.month == period).with_only_columns(CoachingPlan.session_id, CoachingPlan.rep_id))
    to_coach = RepSnapshot.focus_gap.is_not(None) | RepSnapshot.opening_gap.is_not(None)
    status = case((s.c.id.is_(None) & to_coach, "not_started"),
                  (s.c.id.is_(None), "keep_rhythm"),
                  (s.c.status == "in_progress", "in_progress"),
                  (agreed, "agreed"), else_="held")
    return q.outerjoin(s, s.c.rep_id == RepSnapshot.rep_id).add_columns(status.label("status"))


def month_of(user: User, dataset: Dataset | None, today: date | None = None, team: str | None = None
             ) -> list[RepMonth]:
    """Every rep in the user's scope with the month under review (the dataset's period)."""
    if dataset is None:
        return []
    return _months(user, dataset, today or date.today(), _scope(user, dataset, team))


def month_page(user: User, dataset: Dataset | None, today: date, team: str | None, page: int, per_page: int
               ) -> tuple[ListPage, dict]:
    """One page of the month (in the order of `month_of`) and the counts of the whole scope: only
    the page's reps are read in full."""
    c = month_counts(user, dataset, today, team)

    def fetch(offset: int, limit: int) -> list[RepMonth]:        # called with reps in scope only
        return month_slice(user, dataset, today, team, offset, limit)
    return ListPage.fetched(c["reps"], page, per_page, fetch), c


def month_slice(user: User, dataset: Dataset | None, today: date, team: str | None, offset: int, limit: int
                ) -> list[RepMonth]:
    """The reps `offset` to `offset + limit` of the month (in the order of `month_of`), read in full."""
    if dataset is None:
        return []
    scope = _scope(user, dataset, team)
    ids = _ordered(scope.with_only_columns(RepSnapshot.rep_id)).offset(offset).limit(limit)
    return _months(user, dataset, today, scope.where(RepSnapshot.rep_id.in_(ids.scalar_subquery())))


def _ordered(q: Select) -> Select:
    return q.order_by(RepSnapshot.team, RepSnapshot.name, RepSnapshot.rep_id)


def _months(user: User, dataset: Dataset, today: date, reps_q: Select) -> list[RepMonth]:
    """The reps of `reps_q` (snapshots in scope), in order, with their month in full: the focus or
    opening, the conversation and who holds it, the plans with their KPI, the assignments due."""
    reps = db.session.execute(_ordered(_with_status(reps_q.with_only_columns(
        RepSnapshot.rep_id, RepSnapshot.name, RepSnapshot.team, RepSnapshot.division, RepSnapshot.manager,
        RepSnapshot.diagnosis), user, dataset.period))).all()
    ids = [r.rep_id for r in reps]
    sessions = {s.rep_id: s for s in db.session.execute(
        _month_sessions(user, dataset.period).where(CoachingSession.rep_id.in_(ids))).scalars()}
    names = dict(db.session.execute(db.select(User.id, User.name).where(
        User.id.in_({s.manager_id for s in sessions.values()}))).all()) if sessions else {}
    plans = db.session.execute(scoped(CoachingPlan, user).where(CoachingPlan.rep_id.in_(ids)).where(
        (CoachingPlan.status == PlanStatus.active.value) | (CoachingPlan.month == dataset.period))
        .order_by(CoachingPlan.month).options(selectinload(CoachingPlan.measures))).scalars().all()
    open_items = db.session.execute(_open_items(user, today).where(Assignment.rep_id.in_(ids))
                                    .order_by(Assignment.due_on)).scalars().all()
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
        out.append(RepMonth(
            r.rep_id, r.name, r.team, r.division, r.manager, diagnosis.get("focus"), diagnosis.get("opening"),
            r.status, s, names.get(s.manager_id) if s else None, agreed,
            [followup(p, today) for p in mine if p.status == PlanStatus.active.value],
            [a for a in items if a.due_on >= today],
            [a for a in items if a.due_on < today]))
    return out


def _month_sessions(user: User, period: str) -> Select:
    """The month's development conversations in scope (a discarded one aside): one a rep at most."""
    return scoped(CoachingSession, user).where(
        CoachingSession.month == period, CoachingSession.kind == SessionType.development.value,
        CoachingSession.status != "discarded")


def _open_items(user: User, today: date) -> Select:
    """Open assignments in scope due within DUE_SOON_DAYS, or overdue."""
    return scoped(Assignment, user).where(Assignment.status == "open",
                                          Assignment.due_on <= today + timedelta(days=DUE_SOON_DAYS))


def month_counts(user: User, dataset: Dataset | None, today: date | None = None, team: str | None = None) -> dict:
    """The scope's reps by status, its follow-ups due and its assignments overdue and due this week,
    counted in SQL."""
    c = {k: 0 for k in STATUS_TITLES}
    c.update(reps=0, followups_due=0, overdue=0, due=0)
    if dataset is None:
        return c
    today = today or date.today()
    scope = _scope(user, dataset, team)
    by_status = _with_status(scope.with_only_columns(RepSnapshot.rep_id), user, dataset.period).subquery()
    for status, n in db.session.execute(db.select(by_status.c.status, func.count())
                                        .group_by(by_status.c.status)).all():
        c[status] = n
    c["reps"] = sum(c[k] for k in STATUS_TITLES)
    ids = scope.with_only_columns(RepSnapshot.rep_id).scalar_subquery()
    measured = db.select(PlanMeasure.id).where(PlanMeasure.plan_id == CoachingPlan.id,
                                               PlanMeasure.period > CoachingPlan.month).exists()
    c["followups_due"] = db.session.execute(scoped(CoachingPlan, user).where(   # as followup(): by date, or new data
        CoachingPlan.rep_id.in_(ids), CoachingPlan.status == PlanStatus.active.value,
        (CoachingPlan.follow_up_on <= today) | measured).with_only_columns(func.count())).scalar_one()
    n, overdue = db.session.execute(_open_items(user, today).where(Assignment.rep_id.in_(ids)).with_only_columns(
        func.count(), func.count(case((Assignment.due_on < today, 1))))).one()
    c["overdue"], c["due"] = overdue, n - overdue
    return c
