"""Follow-up on data: at each import, every open plan's KPI measured against its baseline
and target; a plan's measures, its standing and trend; the follow-ups due."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.coaching.followup import KpiStanding, standing, trend, upward

from ..extensions import db
from ..models import CoachingPlan, Dataset, PlanMeasure, PlanStatus, RepSnapshot, utcnow
from ..security import current_dataset, scoped
from ..store import catalog


def metric_of(snapshot_metrics: dict | None, metric: str) -> float | None:
    entry = ((snapshot_metrics or {}).get("metrics") or {}).get(metric)
    return entry.get("value") if isinstance(entry, dict) else None


def measure_plans(dataset: Dataset) -> int:
    """Measure each open plan's KPI on `dataset` (a month after the plan's): one measure per
    plan and month, the latest import of a month replacing an earlier one. Not committed."""
    plans = db.session.execute(db.select(CoachingPlan).where(CoachingPlan.status == PlanStatus.active.value,
                                                             CoachingPlan.month < dataset.period)).scalars().all()
    if not plans:
        return 0
    snaps = dict(db.session.execute(
        db.select(RepSnapshot.rep_id, RepSnapshot.metrics).where(RepSnapshot.dataset_id == dataset.id,
                                                                 RepSnapshot.rep_id.in_({p.rep_id for p in plans}))
    ).all())
    done = 0
    for p in plans:
        if p.rep_id not in snaps:
            continue
        value = metric_of(snaps[p.rep_id], p.baseline_metric)
        m = db.session.execute(db.select(PlanMeasure).where(PlanMeasure.plan_id == p.id,
                                                            PlanMeasure.period == dataset.period)
                               ).scalar_one_or_none()
        if m is None:
            db.session.add(PlanMeasure(plan_id=p.id, dataset_id=dataset.id, period=dataset.period, value=value))
        else:
            m.dataset_id, m.value, m.measured_at = dataset.id, value, utcnow()
        done += 1
    return done


def higher_is_better(metric: str) -> bool:
    try:
        return catalog().registry.get(metric).higher_is_better
    except KeyError:
        return True


@dataclass
class Followup:
    """A plan with its measures since it was made."""

    plan: CoachingPlan
    measures: list[PlanMeasure]
    now: KpiStanding                 # the latest measure (or nothing yet)
    trend: str                       # better, worse, flat
    due: bool                        # the follow-up date has come, or new data came in

    @property
    def latest(self) -> PlanMeasure | None:
        return self.measures[-1] if self.measures else None

    @property
    def on_data(self) -> bool:
        return self.latest is not None and self.latest.value is not None

    def to_dict(self) -> dict:
        return {"plan_id": self.plan.id, "measures": [{"period": m.period, "value": m.value} for m in self.measures],
                "latest": self.now.to_dict() if self.on_data else None, "trend": self.trend, "due": self.due}


def followup(plan: CoachingPlan, today: date | None = None) -> Followup:
    today = today or date.today()
    measures = [m for m in plan.measures if m.period > plan.month]
    values = [plan.baseline_value] + [m.value for m in measures]
    hib = higher_is_better(plan.baseline_metric)
    latest = measures[-1].value if measures else None
    now = standing(latest, plan.baseline_value, plan.target_value, hib)
    due = plan.status == PlanStatus.active.value and (plan.follow_up_on <= today or bool(measures))
    return Followup(plan, measures, now, trend(values, upward(plan.baseline_value, plan.target_value, hib)), due)


def followups_due(user, today: date | None = None) -> list[Followup]:
    """Open plans in the user's scope whose follow-up has come: by date, or with new data."""
    plans = db.session.execute(scoped(CoachingPlan, user).where(CoachingPlan.status == PlanStatus.active.value)
                               .order_by(CoachingPlan.follow_up_on, CoachingPlan.rep_name)).scalars().all()
    rows = [followup(p, today) for p in plans]
    return [r for r in rows if r.due]


def next_focus(plan: CoachingPlan) -> dict | None:
    """The rep's focus in the current data, when it is another skill than the plan's: what comes next."""
    ds = current_dataset()
    if ds is None:
        return None
    snap = db.session.execute(db.select(RepSnapshot.diagnosis).where(RepSnapshot.dataset_id == ds.id,
                                                                     RepSnapshot.rep_id == plan.rep_id)
                              ).scalar_one_or_none()
    focus = (snap or {}).get("focus")
    if not focus or (focus.get("skill_gap") == plan.skill_id and focus.get("behaviour_gap") == plan.behaviour_gap):
        return None
    return focus


def close_plan(plan: CoachingPlan, status: str, note: str, override: str, user) -> list[str]:
    """Close a plan with its outcome, judged on data: the KPI of the latest import after the
    plan's month. Achieved needs the data to show the target reached, or a reason (recorded
    and shown). Returns the problems; nothing changes when there are any."""
    f = followup(plan)
    override = (override or "").strip()
    if status == PlanStatus.achieved.value and not f.now.reached:
        if not override:
            shown = "no import after the plan's month yet" if not f.on_data else \
                "the latest data does not show the target reached"
            return [f"The data does not show it achieved ({shown}): give the reason to close it as achieved "
                    f"anyway, or close it as not achieved."]
    plan.status, plan.outcome, plan.closed_at, plan.closed_by = status, (note or "").strip(), utcnow(), user.id
    plan.outcome_value = f.now.value if f.on_data else None
    plan.closed_on_data = f.on_data and status != PlanStatus.abandoned.value and \
        (status != PlanStatus.achieved.value or f.now.reached)
    plan.override_reason = override if status == PlanStatus.achieved.value and not f.now.reached else ""
    if status == PlanStatus.abandoned.value:
        for a in plan.assignments:
            if a.status == "open":
                a.status = "cancelled"
    db.session.commit()
    return []
