"""Who edits which part of the catalog: ops the thresholds and pipeline, enablement the
gaps, flows and root causes, trainers the learning library; everyone who edits, the
catalog tests; admins everything. Managers and directors read."""
from __future__ import annotations

from dataclasses import dataclass

from ..models import Role


@dataclass(frozen=True)
class Area:
    id: str
    title: str
    roles: tuple[Role, ...]
    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()

    def holds(self, path: str) -> bool:
        return path in self.files or path.startswith(self.folders)


AREAS = (
    Area("thresholds", "Thresholds and pipeline", (Role.ops,), files=("rules/thresholds.yaml", "rules/pipeline.yaml")),
    Area("diagnosis", "Gaps, flows and root causes", (Role.enablement,), files=("rules/skills.yaml",),
         folders=("rules/gaps/", "rules/flows/")),
    Area("library", "Learning library", (Role.trainer,), folders=("learning_library/",)),
    Area("tests", "Catalog tests", (Role.ops, Role.enablement, Role.trainer), folders=("rules/tests/",)),
)
EDITORS = (Role.enablement, Role.ops, Role.trainer, Role.admin)


def area_of(path: str) -> Area | None:
    return next((a for a in AREAS if a.holds(path)), None)


def can_edit(role: str, path: str) -> bool:
    """Whether a user of `role` may change the file at `path`."""
    if role == Role.admin.value:
        return True
    area = area_of(path)
    return area is not None and role in {r.value for r in area.roles}


def areas_of(role: str) -> list[Area]:
    return list(AREAS) if role == Role.admin.value else [a for a in AREAS if role in {r.value for r in a.roles}]
