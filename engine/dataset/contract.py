"""The dataset contract in code: files, columns, their kinds and which are required.

Mirrors section 1 of the data contract (../shared/design/data-contract.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    id = "id"              # an identifier: text, categorical in memory
    text = "text"
    date = "date"          # ISO 8601 date or date-time
    number = "number"      # a real number
    role = "role"          # enumerations checked against the catalog
    stage = "stage"
    status = "status"
    activity_type = "activity_type"
    period = "period"      # YYYY-MM
    metric = "metric"      # a metric id
    flag = "flag"          # yes/no: true/false, 1/0, yes/no


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    non_negative: bool = False

    @property
    def expected(self) -> str:
        return {
            Kind.id: "an identifier", Kind.text: "text",
            Kind.date: "an ISO 8601 date such as 2026-10-03 or 2026-10-03T14:05:00",
            Kind.number: "a number" + (" (0 or more)" if self.non_negative else ""),
            Kind.role: "a role of the catalog", Kind.stage: "a stage of the pipeline",
            Kind.status: "one of open, won, lost", Kind.activity_type: "an activity type",
            Kind.period: "a month as YYYY-MM", Kind.metric: "a metric id",
            Kind.flag: "true or false (or 1/0, yes/no)",
        }[self.kind]


@dataclass(frozen=True)
class FileSpec:
    stem: str
    required: bool
    columns: tuple[Column, ...]
    key: str | None = None   # a column whose values must be unique

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


STATUSES = ("open", "won", "lost")

REPS = FileSpec("reps", True, (
    Column("rep_id", Kind.id, True), Column("name", Kind.text, True),
    Column("role", Kind.role, True), Column("team", Kind.id, True),
    Column("division", Kind.id, True), Column("manager", Kind.text),
    Column("start_date", Kind.date), Column("email", Kind.text),
    Column("end_date", Kind.date), Column("active", Kind.flag),   # reps who left
), key="rep_id")

OPPORTUNITIES = FileSpec("opportunities", True, (
    Column("opportunity_id", Kind.id, True), Column("rep_id", Kind.id, True),
    Column("created_date", Kind.date, True), Column("status", Kind.status, True),
    Column("stage", Kind.stage, True), Column("amount", Kind.number, non_negative=True),
    Column("close_date", Kind.date), Column("loss_reason", Kind.text),
    Column("account", Kind.text), Column("source_rep_id", Kind.id),
), key="opportunity_id")

STAGE_HISTORY = FileSpec("stage_history", False, (
    Column("opportunity_id", Kind.id, True), Column("stage", Kind.stage, True),
    Column("entered_date", Kind.date, True),
))

ACTIVITIES = FileSpec("activities", False, (
    Column("rep_id", Kind.id, True), Column("date", Kind.date, True),
    Column("type", Kind.activity_type, True),
    Column("duration_minutes", Kind.number, non_negative=True),
    Column("opportunity_id", Kind.id), Column("activity_id", Kind.id),
), key="activity_id")

GOALS = FileSpec("goals", False, (
    Column("rep_id", Kind.id, True), Column("period", Kind.period, True),
    Column("metric", Kind.metric, True), Column("target", Kind.number, True),
))

FILES = (REPS, OPPORTUNITIES, STAGE_HISTORY, ACTIVITIES, GOALS)
