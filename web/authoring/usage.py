"""How the learning library is used: per learning asset and selling-assignment template,
how often it was assigned and completed, and how the plans it was part of ended."""
from __future__ import annotations

from dataclasses import dataclass

from engine.catalog.model import Catalog

from ..extensions import db
from ..models import Assignment, AssignmentKind, CoachingPlan, PlanStatus


@dataclass
class Usage:
    ref_id: str
    title: str
    kind: str                  # learning | selling
    assigned: int = 0
    completed: int = 0
    open: int = 0
    cancelled: int = 0
    plans: int = 0             # plans it was part of
    closed: int = 0            # of those, closed as achieved or not
    achieved: int = 0
    in_catalog: bool = True

    @property
    def completion(self) -> float | None:
        done_or_due = self.assigned - self.cancelled
        return self.completed / done_or_due if done_or_due else None

    @property
    def achieved_share(self) -> float | None:
        return self.achieved / self.closed if self.closed else None


def library_usage(catalog: Catalog) -> dict[str, list[Usage]]:
    """{"learning": [...], "selling": [...], "never_used": [...], "retired": [...]} (items no longer in the catalog)."""
    items: dict[tuple[str, str], Usage] = {}
    for a in catalog.assets.values():
        items[(AssignmentKind.learning.value, a.id)] = Usage(a.id, a.title, AssignmentKind.learning.value)
    for t in catalog.assignments.values():
        items[(AssignmentKind.selling.value, t.id)] = Usage(t.id, t.title, AssignmentKind.selling.value)
    rows = db.session.execute(
        db.select(Assignment.kind, Assignment.ref_id, Assignment.title, Assignment.status,
                  db.func.count(Assignment.id))
        .group_by(Assignment.kind, Assignment.ref_id, Assignment.title, Assignment.status)).all()
    for kind, ref, title, status, n in rows:
        u = items.setdefault((kind, ref), Usage(ref, title, kind, in_catalog=False))
        u.assigned += n
        if status in ("completed", "open", "cancelled"):
            setattr(u, status, getattr(u, status) + n)
    plans = db.session.execute(
        db.select(Assignment.kind, Assignment.ref_id, CoachingPlan.status, db.func.count(db.distinct(CoachingPlan.id)))
        .join(CoachingPlan, CoachingPlan.id == Assignment.plan_id)
        .group_by(Assignment.kind, Assignment.ref_id, CoachingPlan.status)).all()
    for kind, ref, status, n in plans:
        u = items[(kind, ref)]
        u.plans += n
        if status in (PlanStatus.achieved.value, PlanStatus.not_achieved.value):
            u.closed += n
        if status == PlanStatus.achieved.value:
            u.achieved += n
    used = sorted((u for u in items.values() if u.assigned and u.in_catalog), key=lambda u: (-u.assigned, u.title))
    return {"learning": [u for u in used if u.kind == AssignmentKind.learning.value],
            "selling": [u for u in used if u.kind == AssignmentKind.selling.value],
            "never_used": sorted((u for u in items.values() if not u.assigned), key=lambda u: (u.kind, u.title)),
            "retired": sorted((u for u in items.values() if not u.in_catalog), key=lambda u: (u.kind, u.title))}
