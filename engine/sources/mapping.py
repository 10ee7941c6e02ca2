"""Import mappings: how a folder of CRM export files becomes a dataset folder.

A mapping is a YAML file that ops writes once per CRM (see docs/import.md). It is
parsed through engine.yamlspec.parse into the frozen models below, then checked against the
data contract and, when one is given, the pipeline's vocabulary (stages, roles,
activity types). Every problem is reported at once with file, line and key.
"""
from __future__ import annotations

import string
from datetime import datetime
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Annotated, Iterator

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationError, field_validator, model_validator

from ..catalog.specs import Pipeline
from ..paths import shipped
from ..yamlspec.spec import Spec, located_path, pydantic_problems
from ..errors import MappingError, Problem, did_you_mean
from ..yamlspec.parse import Located, dotted, load_yaml, parse_yaml
from ..dataset.contract import FILES, STATUSES, FileSpec, Kind

SHIPPED = shipped("mappings")
UNMAPPED_KEYWORDS = ("error", "keep", "drop")
REP_ID_COLUMNS = ("rep_id", "source_rep_id")
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%p", "%X", "%c", "%T", "%R")


def _as_text(value: object) -> object:
    """YAML reads 30 and 1.5 as numbers; a mapping means the text."""
    if isinstance(value, bool):
        raise ValueError("yes/no/true/false must be quoted here to be read as text")
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _as_list(value: object) -> object:
    """One item may be written without the list around it."""
    return [value] if isinstance(value, (str, dict)) else value


def _as_rules(value: object) -> object:
    """`target: Source Column` is short for `target: {column: Source Column}`."""
    if isinstance(value, dict):
        return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
    return value


Text = Annotated[str, BeforeValidator(_as_text)]
Name = Annotated[str, Field(min_length=1)]


class RepBy(str, Enum):
    """The reps column a source value is matched against to find a rep id."""

    name = "name"
    email = "email"


class Flags(Spec):
    """Two yes/no source columns from which `status` follows (Salesforce: Won, Closed)."""

    won: Name
    closed: Name


class Condition(Spec):
    """A test on one source column: its value is one of, none of, or simply filled."""

    column: Name
    one_of: list[Text] | None = None
    none_of: list[Text] | None = None
    filled: bool | None = None

    @model_validator(mode="after")
    def _one_test(self):
        given = [k for k in ("one_of", "none_of", "filled") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of one_of, none_of, filled")
        return self


class Rule(Spec):
    """How one target column is made: a source, then optional transformations."""

    column: Name | None = None          # sources: exactly one of these four
    template: Name | None = None
    value: Text | None = None
    flags: Flags | None = None
    take_first: Name | None = None      # keep what comes before this separator ("123;456")
    map: dict[str, Text] | None = None
    unmapped: Text = "error"            # error | keep | drop | a constant
    rep_by: RepBy | None = None
    date: Annotated[list[Name], BeforeValidator(_as_list)] | None = None
    divide_by: float | None = Field(None, gt=0)
    derive_closed: bool = False

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("column", "template", "value", "flags") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one source: column, template, value or flags")
        return self

    @field_validator("template")
    @classmethod
    def _template_fields(cls, text: str) -> str:
        if not template_columns(text):
            raise ValueError('a template names source columns in braces: "{First Name} {Last Name}"')
        return text

    @field_validator("date")
    @classmethod
    def _formats(cls, formats: list[str]) -> list[str]:
        sample = datetime(2026, 3, 14, 14, 5, 9)
        for fmt in formats:
            try:
                datetime.strptime(sample.strftime(fmt), fmt)
            except ValueError as exc:
                raise ValueError(f"{fmt!r} is not a date format such as %m/%d/%Y") from exc
        return formats

    @property
    def sources(self) -> list[str]:
        """The source columns this rule reads."""
        if self.column is not None:
            return [self.column]
        if self.template is not None:
            return template_columns(self.template)
        if self.flags is not None:
            return [self.flags.won, self.flags.closed]
        return []

    @property
    def has_time(self) -> bool:
        """Whether a date format carries a time of day (then the time is kept)."""
        return any(d in fmt for fmt in self.date or () for d in _TIME_DIRECTIVES)


class AddRow(Spec):
    """An extra activity of `type` beside each row that meets `when` (a connect beside its call)."""

    type: Text
    when: Condition


class Part(Spec):
    """One or more source files that give rows of one target table."""

    files: Annotated[list[Name], BeforeValidator(_as_list), Field(min_length=1)]
    columns: Annotated[dict[str, Rule], BeforeValidator(_as_rules)]
    where: Annotated[list[Condition], BeforeValidator(_as_list)] = []
    optional: bool = False
    skip_footer: bool = False
    encoding: Name = "utf-8"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","

    @field_validator("files")
    @classmethod
    def _inside_source(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            if PurePosixPath(p).is_absolute() or ".." in PurePosixPath(p).parts:
                raise ValueError(f"{p!r}: name files inside the export folder (no / or .. in front)")
        return patterns

    @property
    def sources(self) -> list[str]:
        """Every source column this part reads, each once."""
        names = [s for rule in self.columns.values() for s in rule.sources]
        return list(dict.fromkeys(names + [c.column for c in self.where]))


class ActivitiesPart(Part):
    add_rows: Annotated[list[AddRow], BeforeValidator(_as_list)] = []

    @property
    def sources(self) -> list[str]:
        """Every source column this part reads, the add_rows conditions' included."""
        return list(dict.fromkeys(super().sources + [a.when.column for a in self.add_rows]))


Parts = Annotated[list[Part], BeforeValidator(_as_list)]
ActivitiesParts = Annotated[list[ActivitiesPart], BeforeValidator(_as_list)]


class Mapping(Spec):
    """A whole mapping file: for each dataset table, the parts it is made from."""

    description: str = ""
    reps: Parts
    opportunities: Parts
    stage_history: Parts = []
    activities: ActivitiesParts = []
    goals: Parts = []

    _doc: Located | None = PrivateAttr(None)

    def parts(self) -> Iterator[tuple[FileSpec, int, Part]]:
        """(table spec, index, part) in the order tables must be built."""
        for spec in FILES:
            for i, part in enumerate(getattr(self, spec.stem)):
                yield spec, i, part

    def key(self, stem: str, index: int, *rest: str | int) -> tuple:
        """The YAML key path of a part (or of something inside it)."""
        doc = self._doc
        listed = doc is not None and isinstance(doc.data, dict) and isinstance(doc.data.get(stem), list)
        return (stem, index, *rest) if listed else (stem, *rest)

    def locate(self, stem: str, index: int, *rest: str | int) -> str:
        """`file:line (key)` of a part's key, for messages about the source data."""
        path = self.key(stem, index, *rest)
        if self._doc is None:
            return dotted(path)
        return f"{self._doc.file}:{self._doc.line(path)} ({dotted(path)})"


def template_columns(text: str) -> list[str]:
    """The source columns named in braces in a template."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(text) if f]
    except ValueError:
        return []


# --------------------------------------------------------------------------- loading

def load_mapping(path: Path | str, pipeline: Pipeline | None = None) -> Mapping:
    """Parse and check a mapping file; raise MappingError listing every problem."""
    path = Path(path)
    doc, problems = load_yaml(path, path.name)
    return _build(doc, problems, pipeline)


def parse_mapping(text: str, name: str = "mapping.yaml", pipeline: Pipeline | None = None) -> Mapping:
    """Parse and check mapping YAML given as text (`name` is used in messages)."""
    doc, problems = parse_yaml(text, name)
    return _build(doc, problems, pipeline)


def shipped_mappings() -> dict[str, Path]:
    """The mappings shipped with fairway, by name (`salesforce`, `hubspot`)."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.yaml"))}


def _build(doc: Located | None, problems: list[Problem], pipeline: Pipeline | None) -> Mapping:
    if doc is None or problems:
        raise MappingError(problems)
    if not isinstance(doc.data, dict):
        raise MappingError([doc.problem((), "a mapping file holds a mapping of tables",
                                        expected="keys reps, opportunities, stage_history, "
                                                 "activities, goals")])
    try:
        mapping = Mapping.model_validate(doc.data)
    except ValidationError as exc:
        raise MappingError(pydantic_problems(exc, doc, Mapping)) from None
    mapping._doc = doc
    problems = list(_Check(mapping, doc, pipeline).problems())
    if problems:
        raise MappingError(problems)
    return mapping


class _Check:
    """What the models alone cannot see: the contract's columns and the pipeline's words."""

    def __init__(self, mapping: Mapping, doc: Located, pipeline: Pipeline | None):
        self.m = mapping
        self.doc = doc
        self.vocab = _vocabulary(pipeline) if pipeline is not None else {}

    def problem(self, path: tuple, message: str, **kw) -> Problem:
        """A problem at `path`, kept to the keys the file really has (one item may stand for a list)."""
        return self.doc.problem(located_path(self.doc.data, path), message, **kw)

    def problems(self) -> Iterator[Problem]:
        for spec, i, part in self.m.parts():
            columns = self.m.key(spec.stem, i, "columns")
            for col in spec.required_columns:
                if col not in part.columns:
                    yield self.problem(columns, f"required column {col} is not mapped",
                                           expected=f"a rule for every required column of {spec.stem}.csv")
            for target, rule in part.columns.items():
                yield from self.rule(spec, target, rule, columns + (target,))
            for j, add in enumerate(part.add_rows if isinstance(part, ActivitiesPart) else ()):
                yield from self.word(Kind.activity_type, add.type,
                                     self.m.key(spec.stem, i, "add_rows", j, "type"))
        yield from self.needs()

    def needs(self) -> Iterator[Problem]:
        """Rules that read another table need that table mapped."""
        rules = [(spec.stem, i, t, r) for spec, i, part in self.m.parts() for t, r in part.columns.items()]
        emails = any("email" in p.columns for p in self.m.reps)
        for stem, i, target, rule in rules:
            path = self.m.key(stem, i, "columns", target)
            if rule.derive_closed and not self.m.stage_history:
                yield self.problem(path + ("derive_closed",), "derive_closed reads the stage "
                                       "history, but the mapping has no stage_history table")
            if rule.rep_by == RepBy.email and not emails:
                yield self.problem(path + ("rep_by",), "rep_by: email, but the reps table "
                                       "maps no email column")

    def rule(self, spec: FileSpec, target: str, rule: Rule, path: tuple) -> Iterator[Problem]:
        col = spec.column(target)
        if col is None:
            names = [c.name for c in spec.columns]
            yield self.problem(path, f"not a column of {spec.stem}.csv", value=target,
                                   expected="one of " + ", ".join(names),
                                   suggestion=did_you_mean(target, names))
            return
        yield from self.applies(rule, spec, col.kind, target, path)
        if rule.map is not None:
            folded: dict[str, str] = {}
            for key, value in rule.map.items():
                if key.casefold() in folded:
                    yield self.problem(path + ("map", key), "the same value twice (keys match "
                                           "whatever their case)", value=key,
                                           expected=f"once; see {folded[key.casefold()]!r}")
                folded[key.casefold()] = key
                yield from self.word(col.kind, value, path + ("map", key), rule.derive_closed)
        if rule.value is not None:
            yield from self.word(col.kind, rule.value, path + ("value",))
        if rule.unmapped not in UNMAPPED_KEYWORDS:
            yield from self.word(col.kind, rule.unmapped, path + ("unmapped",))

    def applies(self, rule: Rule, spec: FileSpec, kind: Kind, target: str, path: tuple) -> Iterator[Problem]:
        """Keys that only make sense on some targets: (key, used, allowed here, where allowed)."""
        checks = (
            ("flags", rule.flags is not None, kind == Kind.status, "status"),
            ("derive_closed", rule.derive_closed, spec.stem == "opportunities" and target == "stage",
             "the stage of opportunities"),
            ("rep_by", rule.rep_by is not None, target in REP_ID_COLUMNS, "rep_id and source_rep_id"),
            ("date", rule.date is not None, kind in (Kind.date, Kind.period), "date and period columns"),
            ("divide_by", rule.divide_by is not None, kind == Kind.number, "number columns"),
            ("unmapped", rule.unmapped != "error", rule.map is not None or rule.rep_by is not None,
             "a rule with a map or rep_by"),
        )
        for key, used, allowed, where in checks:
            if used and not allowed:
                yield self.problem(path + (key,), f"{key} applies only to {where}")

    def word(self, kind: Kind, value: str, path: tuple, empty_ok: bool = False) -> Iterator[Problem]:
        """A constant written for an enumerated column must be one of its words."""
        words = self.vocab.get(kind)
        if words is None or value in words or (empty_ok and value == ""):
            return
        yield self.problem(path, f"unknown {kind.value.replace('_', ' ')}",
                               value=value, suggestion=did_you_mean(value, words),
                               expected="one of " + ", ".join(words) if len(words) <= 12 else None)


def _vocabulary(p: Pipeline) -> dict[Kind, list[str]]:
    """The words each enumerated kind of column accepts under this pipeline."""
    return {Kind.role: p.role_ids, Kind.stage: p.all_stages, Kind.status: list(STATUSES),
            Kind.activity_type: p.activity_type_ids}
