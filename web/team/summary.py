"""The team page's first level for a large scope: one line per team, summed in SQL from the
snapshots' columns (no rep's JSON is read), and the scope's totals."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func

from ..extensions import db
from ..models import Dataset, RepSnapshot, User
from ..reps.charts import catalog, gap_title
from ..fragments import kept
from ..security import scope_filter, scope_key


@dataclass
class TeamLine:
    team: str
    division: str
    reps: int = 0
    with_focus: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    progress_sum: float = 0.0
    progress_n: int = 0
    top_focus: str | None = None           # the behaviour gap most of its reps are to work on
    top_focus_reps: int = 0

    @property
    def progress(self) -> float | None:
        return self.progress_sum / self.progress_n if self.progress_n else None


@dataclass
class Summary:
    teams: list[TeamLine]
    reps: int
    with_focus: int
    progress: float | None


def _in_scope(user: User, dataset: Dataset):
    return (RepSnapshot.dataset_id == dataset.id, scope_filter(RepSnapshot, user))


def team_names(user: User, dataset: Dataset | None) -> list[str]:
    if dataset is None:
        return []
    return list(db.session.execute(db.select(RepSnapshot.team).distinct().where(*_in_scope(user, dataset))
                                   .order_by(RepSnapshot.team)).scalars())


def scope_teams(user: User, dataset: Dataset | None) -> list[str]:
    """The teams of the user's scope (team_names), read once per scope and dataset (fragments.kept)."""
    if dataset is None:
        return []
    return kept(dataset.folder, ("team names", scope_key(user)), lambda: team_names(user, dataset))


def summarise(user: User, dataset: Dataset, team: str | None = None) -> Summary:
    """Every team in the user's scope (or the one `team`) with its reps, roles, focus count, progress
    and most common focus."""
    where = [*_in_scope(user, dataset)] + ([RepSnapshot.team == team] if team is not None else [])
    rows = db.session.execute(
        db.select(RepSnapshot.team, RepSnapshot.division, RepSnapshot.role, func.count(RepSnapshot.id),
                  func.count(RepSnapshot.focus_gap), func.sum(RepSnapshot.goal_progress),
                  func.count(RepSnapshot.goal_progress))
        .where(*where).group_by(RepSnapshot.team, RepSnapshot.division, RepSnapshot.role)).all()
    lines: dict[str, TeamLine] = {}
    for team, division, role, n, focus, p_sum, p_n in rows:
        line = lines.setdefault(team, TeamLine(team, division))
        line.reps += n
        line.with_focus += focus
        line.roles[role] = line.roles.get(role, 0) + n
        line.progress_sum += p_sum or 0.0
        line.progress_n += p_n
    focus_rows = db.session.execute(
        db.select(RepSnapshot.team, RepSnapshot.focus_gap, func.count(RepSnapshot.id))
        .where(*where, RepSnapshot.focus_gap.is_not(None))
        .group_by(RepSnapshot.team, RepSnapshot.focus_gap)).all()
    for team, gap, n in sorted(focus_rows, key=lambda r: (-r[2], r[1])):
        line = lines[team]
        if line.top_focus is None:
            line.top_focus, line.top_focus_reps = gap_title(gap), n
    roles = catalog().pipeline.role_ids
    for line in lines.values():
        line.roles = dict(sorted(line.roles.items(), key=lambda kv: roles.index(kv[0]) if kv[0] in roles else 99))
    teams = sorted(lines.values(), key=lambda t: (t.division, t.team))
    p_n = sum(t.progress_n for t in teams)
    return Summary(teams, sum(t.reps for t in teams), sum(t.with_focus for t in teams),
                   sum(t.progress_sum for t in teams) / p_n if p_n else None)


class ListPage:
    """One page of a list, with the attributes of Flask-SQLAlchemy's Pagination that the `pager`
    macro reads. A page asked for beyond the last is the last; before the first, the first."""

    def __init__(self, items: list, page: int, per_page: int):
        self._fit(len(items), page, per_page)
        self._hold(items[self.offset:self.offset + per_page])

    @classmethod
    def fetched(cls, total: int, page: int, per_page: int, fetch: Callable[[int, int], list]) -> ListPage:
        """A page of a list of `total` items that is not in memory: `fetch(offset, limit)` reads its items."""
        self = cls.__new__(cls)
        self._fit(total, page, per_page)
        self._hold(fetch(self.offset, per_page) if total else [])
        return self

    def _fit(self, total: int, page: int, per_page: int) -> None:
        self.total, self.per_page = total, per_page
        self.pages = max(1, -(-self.total // per_page))
        self.page = min(max(page, 1), self.pages)
        self.offset = (self.page - 1) * per_page

    def _hold(self, items: list) -> None:
        self.items = items
        self.first, self.last = (self.offset + 1 if self.items else 0), self.offset + len(self.items)
        self.has_prev, self.has_next = self.page > 1, self.page < self.pages
        self.prev_num = self.page - 1 if self.has_prev else None
        self.next_num = self.page + 1 if self.has_next else None
