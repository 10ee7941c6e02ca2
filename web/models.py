"""What the app stores: users and their scope, imported datasets and their analysis,
coaching sessions (with the dialogue state), plans and assignments."""
from __future__ import annotations

from datetime import date, datetime, timezone
from enum import Enum

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Role(str, Enum):
    manager = "manager"          # their teams' reps
    director = "director"        # their division's reps
    enablement = "enablement"    # the catalog; aggregates only
    ops = "ops"
    trainer = "trainer"
    admin = "admin"              # users and data
    rep = "rep"                  # their own page only (User.rep_id)

    @property
    def title(self) -> str:
        return {"ops": "Sales operations", "rep": "Sales rep"}.get(self.value, self.value.capitalize())


REP_DATA_ROLES = (Role.manager, Role.director, Role.admin)
CATALOG_ROLES = (Role.enablement, Role.ops, Role.trainer, Role.admin)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    teams: Mapped[list] = mapped_column(JSON, default=list)        # a manager's teams
    divisions: Mapped[list] = mapped_column(JSON, default=list)    # a director's divisions
    rep_id: Mapped[str | None] = mapped_column(String(120), index=True)   # a rep's own rep of the dataset
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:          # Flask-Login refuses inactive users
        return bool(self.active)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def sees_rep_data(self) -> bool:
        return self.role_enum in REP_DATA_ROLES

    @property
    def is_rep(self) -> bool:
        return self.role == Role.rep.value


class Dataset(db.Model):
    """An imported dataset, accepted whole, with its analysis for one period."""

    __tablename__ = "datasets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500))          # where it was imported from
    folder: Mapped[str] = mapped_column(String(500))          # its validated copy, inside FAIRWAY_DATASETS
    period: Mapped[str] = mapped_column(String(7))            # YYYY-MM
    as_of: Mapped[date] = mapped_column(Date)
    catalog_version: Mapped[str] = mapped_column(String(40))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    # team, division and company figures: large for a large org, read only where shown (store.dataset_aggregates)
    aggregates: Mapped[dict] = mapped_column(JSON, default=dict, deferred=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reps = relationship("RepSnapshot", back_populates="dataset", cascade="all, delete-orphan",
                        lazy="dynamic")


class RepSnapshot(db.Model):
    """One rep in one dataset: everything the pages show, computed once at import."""

    __tablename__ = "rep_snapshots"
    # the scope index covers what lists, counts and team summaries read, so that they never touch the
    # rows' large JSON (on SQLite a row spans several pages): a page of reps in team order, a scope's count
    __table_args__ = (UniqueConstraint("dataset_id", "rep_id"),
                      Index("ix_rep_snapshots_scope", "dataset_id", "team", "name", "division", "role", "focus_gap",
                            "focus_skill", "goal_progress", "opening_gap", "rep_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    rep_id: Mapped[str] = mapped_column(String(120), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    team: Mapped[str] = mapped_column(String(200), index=True)
    division: Mapped[str] = mapped_column(String(200), index=True)
    manager: Mapped[str | None] = mapped_column(String(200))
    focus_gap: Mapped[str | None] = mapped_column(String(80))
    focus_skill: Mapped[str | None] = mapped_column(String(80))
    goal_progress: Mapped[float | None] = mapped_column(Float)   # mean progress toward activity goals
    opening_gap: Mapped[str | None] = mapped_column(String(80))  # without a focus: the opening's performance gap
    metrics: Mapped[dict] = mapped_column(JSON)        # the rep's entry of `fairway metrics --json`
    diagnosis: Mapped[dict] = mapped_column(JSON)      # RepDiagnosis.to_dict()
    charts: Mapped[dict] = mapped_column(JSON)         # series and open pipeline for the charts
    plan: Mapped[list] = mapped_column(JSON)           # the success plan rows

    dataset = relationship("Dataset", back_populates="reps")


class RepScoped:
    """The rep a row is about, and the team and division that decide who may see it."""

    rep_id: Mapped[str] = mapped_column(String(120), index=True)
    rep_name: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), index=True)
    division: Mapped[str] = mapped_column(String(200))


class SessionType(str, Enum):
    development = "development"
    opportunity = "opportunity"
    funnel = "funnel"
    account = "account"
    joint_call = "joint_call"


class CoachingSession(RepScoped, db.Model):
    """A coaching conversation with a rep; the diagnostic one saves its state as it goes.

    One per rep, month and kind (a discarded one aside): the store refuses a second, so a
    second start resumes the first, whoever started it.
    """

    __tablename__ = "coaching_sessions"
    __table_args__ = (Index("uq_coaching_sessions_rep_month_kind", "rep_id", "month", "kind", unique=True,
                            sqlite_where=text("status != 'discarded'"),
                            postgresql_where=text("status != 'discarded'")),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default=SessionType.development.value)
    held_on: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))                  # the period discussed
    step: Mapped[str] = mapped_column(String(20), default="reflection")
    status: Mapped[str] = mapped_column(String(20), default="in_progress")   # in_progress, completed
    notes: Mapped[str] = mapped_column(Text, default="")
    reflection: Mapped[dict] = mapped_column(JSON, default=dict)   # how it went, went well, to improve
    goals_note: Mapped[str] = mapped_column(Text, default="")
    dialogue: Mapped[dict] = mapped_column(JSON, default=dict)     # engine.dialogue.DialogueState
    actions: Mapped[dict] = mapped_column(JSON, default=dict)      # chosen assets and assignment, due dates
    drafts: Mapped[dict] = mapped_column(JSON, default=dict)       # step -> {field: text} typed, not yet saved
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    plan = relationship("CoachingPlan", back_populates="session", uselist=False)


class PlanStatus(str, Enum):
    active = "active"
    achieved = "achieved"
    not_achieved = "not_achieved"
    abandoned = "abandoned"


class CoachingPlan(RepScoped, db.Model):
    """The month's plan for one skill: why, how, the baseline KPI, the target, the follow-up."""

    __tablename__ = "coaching_plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("coaching_sessions.id", ondelete="SET NULL"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    month: Mapped[str] = mapped_column(String(7), index=True)
    skill_id: Mapped[str] = mapped_column(String(80), index=True)
    behaviour_gap: Mapped[str | None] = mapped_column(String(80))
    why: Mapped[str] = mapped_column(Text)
    how: Mapped[str] = mapped_column(Text)
    baseline_metric: Mapped[str] = mapped_column(String(120))
    baseline_value: Mapped[float | None] = mapped_column(Float)
    target_value: Mapped[float | None] = mapped_column(Float)
    follow_up_on: Mapped[date] = mapped_column(Date)
    second_follow_up_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=PlanStatus.active.value, index=True)
    outcome: Mapped[str] = mapped_column(Text, default="")
    outcome_value: Mapped[float | None] = mapped_column(Float)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # closed on data: the outcome is the KPI of an import after the plan's month; an achieved
    # plan the data does not show reached is closed on the manager's word, with the reason
    closed_on_data: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)      # the rep read and accepted it
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    session = relationship("CoachingSession", back_populates="plan")
    assignments = relationship("Assignment", back_populates="plan", cascade="all, delete-orphan")
    measures = relationship("PlanMeasure", back_populates="plan", cascade="all, delete-orphan",
                            order_by="PlanMeasure.period")


class PlanMeasure(db.Model):
    """A plan's KPI as one import measured it: one per plan and month of data."""

    __tablename__ = "plan_measures"
    __table_args__ = (UniqueConstraint("plan_id", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("coaching_plans.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"))
    period: Mapped[str] = mapped_column(String(7))
    value: Mapped[float | None] = mapped_column(Float)
    measured_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    plan = relationship("CoachingPlan", back_populates="measures")


class AssignmentKind(str, Enum):
    learning = "learning"
    selling = "selling"


class Assignment(RepScoped, db.Model):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("coaching_plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))                 # learning | selling
    ref_id: Mapped[str] = mapped_column(String(120))              # asset or assignment template id
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)   # open, completed, cancelled
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    evidence: Mapped[str] = mapped_column(Text, default="")       # the rep's note or link: what was done
    evidence_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_on: Mapped[date | None] = mapped_column(Date)        # the last due reminder sent to the rep

    plan = relationship("CoachingPlan", back_populates="assignments")

    def is_overdue(self, today: date) -> bool:
        return self.status == "open" and self.due_on < today


class Prework(RepScoped, db.Model):
    """The rep's answers before the month's one-on-one: the reflection and the goals questions.

    One per rep and month; the conversation of that month opens with them, and both the rep
    and the manager edit the same answers (saved in both places).
    """

    __tablename__ = "preworks"
    __table_args__ = (UniqueConstraint("rep_id", "month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    reflection: Mapped[dict] = mapped_column(JSON, default=dict)   # how_it_went, went_well, to_improve
    goals_note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class JobStatus(str, Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    refused = "refused"              # the input was refused, with every problem (nothing stored)
    failed = "failed"                # an error of ours (logged); nothing stored
    interrupted = "interrupted"      # its worker stopped under it, and it was not retried; nothing stored

    @property
    def finished(self) -> bool:
        return self not in (JobStatus.queued, JobStatus.running)


class Job(db.Model):
    """Long work run by the job queue (web/jobs): its state, progress and outcome, kept in the
    store so that every app server and worker shows the same."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))                  # import, ...
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.queued.value, index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    progress: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[dict] = mapped_column(JSON, default=dict)       # what it made, or its problems
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))        # host:pid of the process running it
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def status_enum(self) -> JobStatus:
        return JobStatus(self.status)
# --------------------------------------------------------------------------- the catalog's versions

class CatalogVersion(db.Model):
    """A published catalog: its files whole, who published it, when, why, and what changed."""

    __tablename__ = "catalog_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(20))                 # initial, publish, restore
    files: Mapped[dict] = mapped_column(JSON)                     # {relative path: text}
    digest: Mapped[str] = mapped_column(String(64))               # engine.catalog.bundle.digest of the files
    catalog_version: Mapped[str] = mapped_column(String(40))      # the loaded catalog's content hash
    message: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    base_number: Mapped[int | None] = mapped_column(Integer)      # the version the draft started from
    previous_number: Mapped[int | None] = mapped_column(Integer)  # the version it replaced
    restored_from: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[list] = mapped_column(JSON, default=list)     # [{path, status, added, removed}]
    diff: Mapped[str] = mapped_column(Text, default="")           # unified diff from the version it replaced

    author = relationship("User")


class CatalogState(db.Model):
    """The one row saying which version is live: every process of the app reads it per request."""

    __tablename__ = "catalog_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)    # always 1
    live_number: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CatalogDraft(db.Model):
    """A user's draft: the whole catalog as they are changing it, on top of a version."""

    __tablename__ = "catalog_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True, index=True)
    base_number: Mapped[int] = mapped_column(Integer)
    files: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User")


class CatalogAudit(db.Model):
    """Who did what to the catalog, and when: drafts edited, versions published and restored."""

    __tablename__ = "catalog_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(30), index=True)
    version_number: Mapped[int | None] = mapped_column(Integer)
    path: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")

    user = relationship("User")
