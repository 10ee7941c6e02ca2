"""The rep's pre-work: their answers to the reflection and goals questions before the month's
one-on-one, one per rep and month. The conversation opens with them, and whoever saves them
(the rep before or during the meeting, the manager in the conversation) saves them in both places."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import CoachingSession, Prework, User

REFLECTION_FIELDS = ("how_it_went", "went_well", "to_improve")


def prework_for(rep_id: str, month: str) -> Prework | None:
    return db.session.execute(db.select(Prework).where(Prework.rep_id == rep_id, Prework.month == month)
                              ).scalar_one_or_none()


def open_sessions_of(rep_id: str, month: str) -> list[CoachingSession]:
    """The rep's conversations of the month still being held (their reflection and goals still editable)."""
    return db.session.execute(db.select(CoachingSession).where(
        CoachingSession.rep_id == rep_id, CoachingSession.month == month,
        CoachingSession.status == "in_progress")).scalars().all()


def _clean(reflection: dict) -> dict:
    return {k: (reflection.get(k) or "").strip() for k in REFLECTION_FIELDS}


def save_prework(rep, month: str, reflection: dict, goals_note: str, user: User,
                 into_sessions: bool = True) -> Prework:
    """Upsert the rep's answers for the month (`rep` has rep_id, name or rep_name, team, division);
    with `into_sessions`, the month's conversations in progress get them too. One transaction."""
    answers, note = _clean(reflection), (goals_note or "").strip()
    for _ in range(2):             # a second writer at the same moment: the unique index decides, then update
        p = prework_for(rep.rep_id, month)
        if p is None:
            p = Prework(rep_id=rep.rep_id, rep_name=getattr(rep, "rep_name", None) or rep.name, team=rep.team,
                        division=rep.division, month=month)
            db.session.add(p)
        p.reflection, p.goals_note, p.updated_by = answers, note, user.id
        if into_sessions:
            for s in open_sessions_of(rep.rep_id, month):
                s.reflection = {**(s.reflection or {}), **answers}
                s.goals_note = note
                drafts = dict(s.drafts or {})
                stale = [drafts.pop(step, None) for step in ("reflection", "goals")]
                if any(d is not None for d in stale):
                    s.drafts = drafts      # what was typed before is older than these answers
        try:
            db.session.commit()
            return p
        except IntegrityError:
            db.session.rollback()
    raise RuntimeError("the pre-work could not be saved")     # pragma: no cover - two collisions in a row


def prefill(session: CoachingSession) -> bool:
    """A conversation opening with the rep's pre-work: its empty reflection and goals take the answers."""
    p = prework_for(session.rep_id, session.month)
    if p is None:
        return False
    changed = False
    if not any((session.reflection or {}).get(k) for k in REFLECTION_FIELDS) and any(p.reflection.values()):
        session.reflection = {**(session.reflection or {}), **_clean(p.reflection)}
        changed = True
    if not (session.goals_note or "").strip() and p.goals_note:
        session.goals_note = p.goals_note
        changed = True
    return changed


def from_session(session: CoachingSession, user: User) -> None:
    """The manager saved the reflection or the goals in the conversation: the rep's pre-work follows."""
    save_prework(session, session.month, session.reflection or {}, session.goals_note or "", user,
                 into_sessions=False)
