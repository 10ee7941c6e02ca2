"""Who may see what: roles on routes, and the reps a user's scope covers.

A manager sees the reps of their teams, a director those of their divisions, an
admin every rep; a rep sees their own rep (User.rep_id) and nothing else with rep data;
enablement, ops and trainers see the catalog and aggregates only.
A rep outside the scope answers 404, exactly like a rep that does not exist.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, g, has_app_context
from flask_login import current_user, login_required
from sqlalchemy import false

from .extensions import db
from .models import Assignment, CoachingPlan, CoachingSession, Dataset, Prework, RepSnapshot, Role, User


def roles_required(*roles: Role):
    """Signed in, with one of `roles` (403 otherwise)."""
    allowed = {r.value for r in roles}

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def rep_data_required(view):
    """Signed in as a manager, director or admin."""
    return roles_required(Role.manager, Role.director, Role.admin)(view)


def own_rep_required(view):
    """Signed in as someone who sees rep data, or as a rep (who sees their own rep only: the
    view's lookups go through rep_or_404, scoped and visible_reps, which scope a rep to themselves)."""
    return roles_required(Role.manager, Role.director, Role.admin, Role.rep)(view)


def scope_filter(model, user: User):
    """A SQL condition limiting rows of `model` (with rep_id, team and division columns) to the user's scope."""
    role = user.role_enum
    if role == Role.admin:
        return True
    if role == Role.rep:
        return model.rep_id == user.rep_id if user.rep_id else false()
    if role == Role.manager:
        return model.team.in_(user.teams or [])
    if role == Role.director:
        return model.division.in_(user.divisions or [])
    return false()


_NONE = object()


def scope_key(user: User) -> tuple:
    """What a user's scope depends on (not who they are): the key of what is kept per scope."""
    return (user.role, tuple(user.teams or ()), tuple(user.divisions or ()), user.rep_id)


def current_dataset() -> Dataset | None:
    """The current dataset, read once per request (or job) and kept in it: the object stays in the
    session's identity map, so a snapshot's `.dataset` is that object, not another query."""
    kept = g.get("fairway_current_dataset") if has_app_context() else None
    if kept is not None:
        return None if kept is _NONE else kept
    dataset = db.session.execute(db.select(Dataset).where(Dataset.is_current.is_(True))).scalar_one_or_none()
    if has_app_context():
        g.fairway_current_dataset = _NONE if dataset is None else dataset
    return dataset


def forget_current_dataset() -> None:
    """After another dataset was made current in this request or job."""
    if has_app_context():
        g.pop("fairway_current_dataset", None)


def visible_reps(user: User, dataset: Dataset | None = None):
    """A query of the rep snapshots of the current dataset the user may see."""
    dataset = dataset or current_dataset()
    if dataset is None:
        return db.select(RepSnapshot).where(false())
    return (db.select(RepSnapshot).where(RepSnapshot.dataset_id == dataset.id)
            .where(scope_filter(RepSnapshot, user)))


def rep_or_404(rep_id: str, user: User | None = None) -> RepSnapshot:
    """The rep's snapshot in the current dataset, if the user may see it; 404 otherwise."""
    user = user or current_user
    rep = db.session.execute(visible_reps(user).where(RepSnapshot.rep_id == rep_id)).scalar_one_or_none()
    if rep is None:
        abort(404)
    return rep


def scoped(model, user: User | None = None):
    """A query of sessions, plans or assignments within the user's scope."""
    user = user or current_user
    return db.select(model).where(scope_filter(model, user))


def plan_or_404(plan_id: int) -> CoachingPlan:
    plan = db.session.execute(scoped(CoachingPlan).where(CoachingPlan.id == plan_id)).scalar_one_or_none()
    if plan is None:
        abort(404)
    return plan


def assignment_or_404(assignment_id: int) -> Assignment:
    a = db.session.execute(scoped(Assignment).where(Assignment.id == assignment_id)).scalar_one_or_none()
    if a is None:
        abort(404)
    return a


def session_or_404(session_id: int) -> CoachingSession:
    s = db.session.execute(scoped(CoachingSession).where(CoachingSession.id == session_id)).scalar_one_or_none()
    if s is None:
        abort(404)
    return s




def prework_or_404(prework_id: int) -> Prework:
    p = db.session.execute(scoped(Prework).where(Prework.id == prework_id)).scalar_one_or_none()
    if p is None:
        abort(404)
    return p
