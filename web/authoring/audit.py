"""The catalog's audit trail: who changed, published or restored what, and when."""
from __future__ import annotations

from ..extensions import db
from ..models import CatalogAudit, User

ACTIONS = {
    "initial": "made the configured catalog version 1",
    "draft_started": "started a draft",
    "file_saved": "saved",
    "file_created": "created",
    "file_deleted": "deleted",
    "draft_imported": "imported files into their draft",
    "draft_rebased": "brought their draft up to the live version",
    "draft_discarded": "discarded their draft",
    "publish_refused": "tried to publish; refused",
    "published": "published",
    "restore_refused": "tried to restore; refused",
    "restored": "restored",
}


def record(user: User | None, action: str, version: int | None = None, path: str | None = None,
           detail: str = "") -> None:
    """One line of the trail, added to the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    db.session.add(CatalogAudit(user_id=user.id if user else None, action=action, version_number=version,
                                path=path, detail=detail[:4000]))


def trail(limit: int = 500, offset: int = 0):
    return db.session.execute(db.select(CatalogAudit).order_by(CatalogAudit.at.desc(), CatalogAudit.id.desc())
                              .limit(limit).offset(offset)).scalars().all()
