"""Import mappings: how a folder of CRM exports (or a warehouse schema) becomes a dataset.

A mapping is a YAML file, one per CRM export shape (see docs/import.md). It is parsed
through engine.yamlspec into the frozen models below, checked against the data contract
and the pipeline's vocabulary, and every problem is reported at once with file, line and
key. An org's *overlay* (a small YAML) adds what no shipped mapping can know: which role
names are which role, custom stages, call results, the pipeline, the time zone.

The language, in short (docs/import.md has every key):

- a table (`reps`, `opportunities`, `stage_history`, `activities`, `goals`) is made of
  parts; a part reads the files matching `files` (names matched whatever their case and
  underscores: `OpportunityHistory.csv` finds `opportunity_history.csv`);
- each target column has a rule: a source (`column`, with alternatives; `value`;
  `template`; `flags`; `flag`; `lookup` into another file by key; `first_of` several
  rules), then steps (`when`, `take_first`, `map`/`patterns`, `unmapped`, `rep_by`,
  `date`, `divide_by`, `default`);
- conditions (`where`, `when`, `add_rows`) test a column: `one_of`, `none_of`, `filled`,
  `prefix`, `matches` (a regular expression), combined with `any`, `all`, `not`;
- rows pointing at a parent that is not kept (a deleted deal, a manager's task) follow
  the `orphans` policy: dropped or blanked, and counted, not fatal.
"""
from __future__ import annotations

import re
import string
from datetime import datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Annotated, Iterator, Literal, Union

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationError, field_validator, model_validator

from ..aggregation.backend import regex_checks, regex_error
from ..catalog.specs import Pipeline
from ..errors import MappingError, Problem, did_you_mean
from ..paths import shipped
from ..yamlspec.parse import Located, dotted, load_yaml, parse_yaml
from ..yamlspec.spec import Spec, located_path, pydantic_problems
from ..dataset.contract import FILES, STATUSES, FileSpec, Kind

SHIPPED = shipped("mappings")
UNMAPPED_KEYWORDS = ("error", "keep", "drop", "blank")
REF_COLUMNS = {"rep_id": "rep", "source_rep_id": "rep", "opportunity_id": "opportunity"}
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%p", "%X", "%c", "%T", "%R", "%s")
DATE_KEYWORDS = ("auto", "iso", "epoch_ms", "epoch_s")
SETTING = re.compile(r"^\$([a-z_][a-z0-9_]*)$")


def _as_text(value: object) -> object:
    """YAML reads 30 and 1.5 as numbers; a mapping means the text."""
    if isinstance(value, bool):
        raise ValueError("yes/no/true/false must be quoted here to be read as text")
    if isinstance(value, (int, float)):
        return str(value)
    return "" if value is None else value


def _as_list(value: object) -> object:
    """One item may be written without the list around it."""
    return [value] if isinstance(value, (str, dict)) else value


def _as_rule(value: object) -> object:
    """`Source Column` is short for `{column: Source Column}`."""
    return {"column": value} if isinstance(value, (str, list)) else value


def _as_rules(value: object) -> object:
    if isinstance(value, dict):
        return {k: _as_rule(v) for k, v in value.items()}
    return value


Text = Annotated[str, BeforeValidator(_as_text)]
Name = Annotated[str, Field(min_length=1)]
Names = Annotated[list[Name], BeforeValidator(_as_list), Field(min_length=1)]
Texts = Annotated[list[Text], BeforeValidator(_as_list)]


def _regex_problem(regex: str) -> str | None:
    """Why `regex` cannot be a pattern of a mapping: the engine runs it (RE2, see
    engine.aggregation.backend.regex_error); a `$setting` is checked once resolved."""
    if SETTING.match(regex):
        return None
    return regex_error(regex)


class RepBy(str, Enum):
    """The reps column a source value is matched against to find a rep id."""

    id = "id"
    name = "name"
    email = "email"


class Condition(Spec):
    """A test on one source column (or alternatives), or a combination of conditions."""

    column: Names | None = None
    one_of: Texts | None = None
    none_of: Texts | None = None
    filled: bool | None = None
    prefix: Texts | None = None
    matches: Name | None = None
    same_as: Names | None = None      # the value equals the other column's (OwnerId = CreatedById)
    present: bool | None = None       # the file has the column (or one of its alternatives) at all
    means: dict[str, Texts] | None = None   # {vocabulary: [words]}: the value maps to one of the words
    any: list["Condition"] | None = None
    all: list["Condition"] | None = None
    not_: "Condition | None" = Field(None, alias="not")
    optional: bool = False            # the column may be absent from the file: then it is empty

    model_config = Spec.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _one_test(self):
        tests = [k for k in ("one_of", "none_of", "filled", "prefix", "matches", "same_as", "means", "present")
                 if getattr(self, k) is not None]
        groups = [k for k in ("any", "all", "not_") if getattr(self, k) is not None]
        if groups:
            if tests or self.column is not None or len(groups) > 1:
                raise ValueError("give any, all or not alone")
            return self
        if self.column is None:
            raise ValueError("a condition names a column (or is any, all or not)")
        if len(tests) != 1:
            raise ValueError("give exactly one of one_of, none_of, filled, prefix, matches, same_as, means, present")
        if self.means is not None and len(self.means) != 1:
            raise ValueError("means names one vocabulary: {call_results: [connect]}")
        if self.matches is not None:
            reason = _regex_problem(self.matches)
            if reason:
                raise ValueError(f"matches is not a regular expression: {reason}")
        return self

    def columns(self) -> list[list[str]]:
        """Every column (with its alternatives) the condition reads."""
        if self.column is not None:
            return [self.column] + ([self.same_as] if self.same_as else [])
        out = []
        for c in (self.any or []) + (self.all or []) + ([self.not_] if self.not_ else []):
            out += c.columns()
        return out


Conditions = Annotated[list[Condition], BeforeValidator(_as_list)]


class Flags(Spec):
    """Two yes/no source columns from which `status` follows (Salesforce: IsWon, IsClosed)."""

    won: Names
    closed: Names


class Pick(Spec):
    """Which row of a lookup when several match: the first or last by a column."""

    first_by: Names | None = None
    last_by: Names | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.first_by is None) == (self.last_by is None):
            raise ValueError("give first_by or last_by")
        return self


class Lookup(Spec):
    """A value from another file: the row whose `match` column equals this row's `by` value."""

    files: Names
    match: Names
    by: Annotated["Rule", BeforeValidator(_as_rule)]
    take: Annotated["Rule", BeforeValidator(_as_rule)]
    where: Conditions = []
    deleted: Names | None = None
    pick: Pick | None = None


Patterns = Annotated[dict[str, Text], Field(min_length=1)]


class Rule(Spec):
    """How one target column is made: a source, then optional steps."""

    column: Names | None = None           # sources: exactly one of these seven
    template: Name | None = None
    value: Text | None = None
    flags: Flags | None = None
    flag: Names | None = None
    lookup: Lookup | None = None
    first_of: Annotated[list[Annotated["Rule", BeforeValidator(_as_rule)]], Field(min_length=1)] | None = None
    optional: bool = False                # the source columns may be absent: the value is then empty
    when: Condition | None = None         # the value only where the condition holds, else empty
    take_first: Name | None = None        # keep what comes before this separator ("123;456")
    map: dict[str, Text] | Name | None = None    # a map, or the name of a vocabulary of the mapping
    patterns: Patterns | None = None      # regular expression -> value, for values the map lacks
    unmapped: Text = "error"              # error | keep | drop | a constant
    if_empty: Literal["keep", "drop"] = "keep"   # a row whose value ends up empty: kept, or dropped
    rep_by: RepBy | None = None           # rep columns: the rep found by id, name or email
    rep_roles: Names | None = None        # rep columns: only reps of these roles
    orphans: Literal["drop", "blank", "error"] | None = None   # reference columns: when no kept parent
    date: Annotated[list[Name], BeforeValidator(_as_list)] | None = None
    divide_by: float | None = Field(None, gt=0, allow_inf_nan=False)
    default: Text | None = None           # the value where the rule gives none
    derive_closed: bool = False

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("column", "template", "value", "flags", "flag", "lookup", "first_of")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one source: column, value, template, flags, flag, lookup or first_of")
        if self.patterns is not None:
            for regex in self.patterns:
                reason = _regex_problem(regex)
                if reason:
                    raise ValueError(f"patterns: {regex!r} is not a regular expression: {reason}")
        return self

    @field_validator("template")
    @classmethod
    def _template_fields(cls, text: str) -> str:
        if not template_columns(text):
            raise ValueError('a template names source columns in braces: "{First Name} {Last Name}"')
        for _, field, spec, conversion in string.Formatter().parse(text):
            if field and (spec or conversion or not re.fullmatch(r"[^.\[\]{}!:]+", field)):
                raise ValueError(f"{{{field}}}: a template names columns only (no format, no attribute)")
        return text

    @field_validator("date")
    @classmethod
    def _formats(cls, formats: list[str]) -> list[str]:
        sample = datetime(2026, 3, 14, 14, 5, 9)
        for fmt in formats:
            if fmt in DATE_KEYWORDS:
                continue
            if "%" not in fmt:
                raise ValueError(f"{fmt!r} has no % directive: write a date format such as %m/%d/%Y, "
                                 f"or one of {', '.join(DATE_KEYWORDS)}")
            try:
                datetime.strptime(sample.strftime(fmt), fmt)
            except ValueError as exc:
                raise ValueError(f"{fmt!r} is not a date format such as %m/%d/%Y") from exc
        return formats

    def sources(self) -> list[list[str]]:
        """The source columns (with alternatives) this rule reads from its own file."""
        if self.column is not None:
            out = [self.column]
        elif self.template is not None:
            out = [[c] for c in template_columns(self.template)]
        elif self.flags is not None:
            out = [self.flags.won, self.flags.closed]
        elif self.flag is not None:
            out = [self.flag]
        elif self.lookup is not None:
            out = self.lookup.by.sources()
        elif self.first_of is not None:
            out = [c for r in self.first_of for c in r.sources()]
        else:
            out = []
        if self.when is not None:
            out += self.when.columns()
        return out

    @property
    def has_time(self) -> bool:
        """Whether a date format carries a time of day (then the time is kept)."""
        return any(d in fmt for fmt in self.date or () for d in _TIME_DIRECTIVES)


Lookup.model_rebuild()
Condition.model_rebuild()
Rule.model_rebuild()


class AddRow(Spec):
    """An extra activity of `type` beside each row that meets `when` (a connect beside its call)."""

    type: Text
    when: Condition


class Part(Spec):
    """One or more source files that give rows of one target table."""

    files: Names
    only_without: Names | None = None     # skip this part when files of these names exist
    requires: Names | None = None         # skip this part unless files of these names exist
    columns: Annotated[dict[str, Rule], BeforeValidator(_as_rules)]
    fields: Annotated[dict[str, Rule], BeforeValidator(_as_rules)] = {}   # helper values for conditions
    where: Conditions = []
    deleted: Names | None = None          # yes/no columns: rows deleted in the CRM are left out
    optional: bool = False
    skip_footer: bool = False
    encoding: Name = "utf-8"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","

    @field_validator("files", "only_without", "requires")
    @classmethod
    def _inside_source(cls, patterns: list[str] | None) -> list[str] | None:
        for p in patterns or ():
            if PurePosixPath(p).is_absolute() or ".." in PurePosixPath(p).parts or "/" in p:
                raise ValueError(f"{p!r}: name files inside the export folder (no / or ..)")
        return patterns


class ActivitiesPart(Part):
    add_rows: Annotated[list[AddRow], BeforeValidator(_as_list)] = []


Parts = Annotated[list[Part], BeforeValidator(_as_list)]
ActivitiesParts = Annotated[list[ActivitiesPart], BeforeValidator(_as_list)]


class Vocabulary(Spec):
    """Values of the CRM and the words they mean here: exact (any case) and by pattern."""

    map: dict[str, Text] = {}
    patterns: dict[str, Text] = {}

    @field_validator("patterns")
    @classmethod
    def _regexes(cls, patterns: dict[str, str]) -> dict[str, str]:
        for regex in patterns:
            reason = _regex_problem(regex)
            if reason:
                raise ValueError(f"{regex!r} is not a regular expression: {reason}")
        return patterns


class Detect(Spec):
    """A setting read from the export when no overlay gives it: the most common value of a column."""

    files: Names
    column: Names


class Mapping(Spec):
    """A whole mapping file: for each dataset table, the parts it is made from."""

    description: str = ""
    vocabularies_from: Name | None = None     # a shipped mapping whose vocabularies this one starts from
    settings: dict[str, Text] = {}            # $name in values and conditions; an overlay may set them
    detect: dict[str, Detect] = {}            # settings read from the export unless an overlay sets them
    vocabularies: dict[str, Vocabulary] = {}  # named maps; an overlay adds to them
    reps: Parts
    opportunities: Parts
    stage_history: Parts = []
    activities: ActivitiesParts = []
    goals: Parts = []

    _doc: Located | None = PrivateAttr(None)
    _overlay: str | None = PrivateAttr(None)
    _overlaid: set = PrivateAttr(default_factory=set)     # settings an overlay gave

    def parts(self) -> Iterator[tuple[FileSpec, int, Part]]:
        """(table spec, index, part) in the order tables must be built."""
        for spec in FILES:
            for i, part in enumerate(getattr(self, spec.stem)):
                yield spec, i, part

    @property
    def timezone(self) -> str:
        return self.settings.get("timezone", "UTC")

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

    def problem(self, stem: str, index: int, *rest: str | int, message: str, **kw) -> Problem:
        """A Problem located at a part's key: the mapping file, its line, the key."""
        path = self.key(stem, index, *rest)
        if self._doc is None:
            return Problem(file="mapping", column=dotted(path), message=message, **kw)
        return self._doc.problem(path, message, **kw)

    def vocabulary(self, name: str) -> Vocabulary:
        return self.vocabularies.get(name, Vocabulary())

    def resolve(self, text: str) -> str:
        """A `$setting` (the whole text) or `${setting}` (inside it) replaced by its value."""
        m = SETTING.match(text)
        if m:
            return self.settings.get(m.group(1), text)
        return re.sub(r"\$\{([a-z_][a-z0-9_]*)\}", lambda x: self.settings.get(x.group(1), x.group(0)), text)


def template_columns(text: str) -> list[str]:
    """The source columns named in braces in a template."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(text) if f]
    except ValueError:
        return []


# --------------------------------------------------------------------------- loading

def load_mapping(path: Path | str, pipeline: Pipeline | None = None, overlay: Path | str | None = None) -> Mapping:
    """Parse and check a mapping file (and an org overlay over it); MappingError lists every problem."""
    path = Path(path)
    doc, problems = load_yaml(path, path.name)
    over = None
    if overlay is not None:
        over, more = load_yaml(Path(overlay), Path(overlay).name)
        problems = problems + more
    return _build(doc, problems, pipeline, over)


def parse_mapping(text: str, name: str = "mapping.yaml", pipeline: Pipeline | None = None,
                  overlay: str | None = None, overlay_name: str = "overlay.yaml") -> Mapping:
    """Parse and check mapping YAML given as text (`name` is used in messages)."""
    doc, problems = parse_yaml(text, name)
    over = None
    if overlay is not None:
        over, more = parse_yaml(overlay, overlay_name)
        problems = problems + more
    return _build(doc, problems, pipeline, over)


def shipped_mappings() -> dict[str, Path]:
    """The mappings shipped with fairway, by name (`salesforce`, `hubspot`, ...)."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.yaml"))}


def shipped_mapping_choices() -> list[tuple[str, str]]:
    """(name, description) of each shipped mapping, for a face to offer (the web's import form)."""
    return [(name, description) for name, description in _shipped_descriptions()]


@lru_cache(maxsize=1)
def _shipped_descriptions() -> tuple[tuple[str, str], ...]:
    # read once per process: the shipped mappings are part of the installed code
    return tuple((name, load_mapping(path).description) for name, path in shipped_mappings().items())


def _build(doc: Located | None, problems: list[Problem], pipeline: Pipeline | None,
           overlay: Located | None = None) -> Mapping:
    if doc is None or problems:
        raise MappingError(problems)
    if not isinstance(doc.data, dict):
        raise MappingError([doc.problem((), "a mapping file holds a mapping of tables",
                                        expected="keys reps, opportunities, stage_history, "
                                                 "activities, goals")])
    with regex_checks():          # one engine connection for every pattern, closed after
        try:
            mapping = Mapping.model_validate(doc.data)
        except ValidationError as exc:
            raise MappingError(pydantic_problems(exc, doc, Mapping)) from None
        mapping._doc = doc
        if mapping.vocabularies_from is not None:
            mapping = _inherit(mapping, doc)
        if overlay is not None:
            mapping = apply_overlay(mapping, overlay)
    problems = list(_Check(mapping, doc, pipeline).problems())
    if problems:
        raise MappingError(problems)
    return mapping


def _inherit(mapping: Mapping, doc: Located) -> Mapping:
    """The vocabularies of the shipped mapping named by `vocabularies_from`, under this one's own."""
    shipped = shipped_mappings()
    name = mapping.vocabularies_from
    if name not in shipped:
        raise MappingError([doc.problem(("vocabularies_from",), "no shipped mapping of this name", value=name,
                                        expected="one of " + ", ".join(shipped),
                                        suggestion=did_you_mean(name, list(shipped)))])
    base = load_mapping(shipped[name])
    vocab = dict(base.vocabularies)
    for key, own in mapping.vocabularies.items():
        if key in vocab:
            folded = {k.casefold() for k in own.map}
            own = Vocabulary(map={k: v for k, v in vocab[key].map.items() if k.casefold() not in folded} | own.map,
                             patterns={**own.patterns, **vocab[key].patterns})
        vocab[key] = own
    out = mapping.model_copy(update={"vocabularies": vocab})
    out._doc = mapping._doc
    return out


OVERLAY_HELP = ("an overlay holds settings of the mapping (timezone, pipeline, ...) and its vocabularies "
                "(roles, stages, call_results, ...) as value: word")


def apply_overlay(mapping: Mapping, overlay: Located) -> Mapping:
    """The mapping with an org's overlay: settings replaced, vocabularies extended (the overlay wins).

    In a vocabulary, `none` (or an empty value) means "nothing": a role name that is no
    rep, a call result that is no connect.
    """
    problems: list[Problem] = []
    data = overlay.data if overlay.data is not None else {}
    if not isinstance(data, dict):
        raise MappingError([overlay.problem((), "an overlay is a mapping of keys", expected=OVERLAY_HELP)])
    settings = dict(mapping.settings)
    vocab = {k: v for k, v in mapping.vocabularies.items()}
    known = sorted(set(settings) | set(vocab) | set(mapping.detect) | {"timezone"})
    for key, value in data.items():
        if key in vocab and isinstance(value, dict):
            parts = set(value) <= {"map", "patterns"}
            entries = value.get("map", {}) if parts else value
            patterns = value.get("patterns", {}) if parts else {}
            shapes = [(name, part) for name, part in (("map", entries), ("patterns", patterns))
                      if not isinstance(part, dict)]
            for name, _ in shapes:
                problems.append(overlay.problem((key, name) if parts else (key,),
                                                f"a mapping of {'values' if name == 'map' else 'patterns'} to "
                                                f"words is expected here", expected="{CRM value: word, ...}"))
            if shapes:
                continue
            bad = [((key, "map", k) if parts else (key, k)) for k, v in entries.items()
                   if not isinstance(v, (str, int, float)) and v is not None]
            bad += [(key, "patterns", k) for k, v in patterns.items()
                    if not isinstance(v, (str, int, float)) and v is not None]
            for path in bad:
                problems.append(overlay.problem(path, "a word is expected here", value=None))
            words = {str(k): _word(v) for k, v in entries.items()}
            pats = {str(k): _word(v) for k, v in patterns.items()}
            for regex in pats:
                reason = _regex_problem(regex)
                if reason:
                    problems.append(overlay.problem((key, "patterns", regex), f"not a regular expression: {reason}"))
            base = vocab[key]
            folded = {k.casefold() for k in words}
            merged = {k: v for k, v in base.map.items() if k.casefold() not in folded} | words
            vocab[key] = Vocabulary(map=merged, patterns={**pats, **base.patterns})
        elif key in settings or key in mapping.detect or key == "timezone":
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                problems.append(overlay.problem((key,), "a setting takes one value", expected="text"))
                continue
            settings[key] = str(value)
        else:
            problems.append(overlay.problem((key,), "not a setting or vocabulary of this mapping", value=key,
                                            expected="one of " + ", ".join(known),
                                            suggestion=did_you_mean(key, known)))
    if problems:
        raise MappingError(problems)
    out = mapping.model_copy(update={"settings": settings, "vocabularies": vocab})
    out._doc = mapping._doc
    out._overlay = overlay.file
    out._overlaid = {k for k in data if k not in vocab}
    return out


def _word(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "" if text.strip().lower() == "none" else text


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
        for name, voc in self.m.vocabularies.items():
            path = ("vocabularies", name)
            for key in voc.map:
                if key.startswith("$"):
                    yield self.problem(path + ("map", key), "a setting cannot be a map key", value=key)
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
        if isinstance(rule.map, str):
            if rule.map not in self.m.vocabularies:
                yield self.problem(path + ("map",), "unknown vocabulary", value=rule.map,
                                   expected="a vocabulary of the mapping: " + ", ".join(self.m.vocabularies),
                                   suggestion=did_you_mean(rule.map, list(self.m.vocabularies)))
            else:
                voc = self.m.vocabularies[rule.map]
                for key, word in {**voc.map, **voc.patterns}.items():
                    yield from self.word(col.kind, word, ("vocabularies", rule.map, "map", key), empty_ok=True)
        elif rule.map is not None:
            folded: dict[str, str] = {}
            for key, value in rule.map.items():
                if key.casefold() in folded:
                    yield self.problem(path + ("map", key), "the same value twice (keys match "
                                       "whatever their case)", value=key,
                                       expected=f"once; see {folded[key.casefold()]!r}")
                folded[key.casefold()] = key
                yield from self.word(col.kind, value, path + ("map", key), empty_ok=True)
        for key, value in (rule.patterns or {}).items():
            yield from self.word(col.kind, value, path + ("patterns", key), empty_ok=True)
        if rule.value is not None and not SETTING.match(rule.value):
            yield from self.word(col.kind, rule.value, path + ("value",))
        if rule.unmapped not in UNMAPPED_KEYWORDS:
            yield from self.word(col.kind, rule.unmapped, path + ("unmapped",))
        for j, role in enumerate(rule.rep_roles or ()):
            yield from self.word(Kind.role, role, path + ("rep_roles", j))

    def applies(self, rule: Rule, spec: FileSpec, kind: Kind, target: str, path: tuple) -> Iterator[Problem]:
        """Keys that only make sense on some targets: (key, used, allowed here, where allowed)."""
        mapped = rule.map is not None or rule.patterns is not None
        checks = (
            ("flags", rule.flags is not None, kind == Kind.status, "status"),
            ("flag", rule.flag is not None, kind == Kind.flag, "yes/no columns (active)"),
            ("derive_closed", rule.derive_closed, spec.stem == "opportunities" and target == "stage",
             "the stage of opportunities"),
            ("rep_by", rule.rep_by is not None, target in ("rep_id", "source_rep_id"), "rep_id and source_rep_id"),
            ("rep_roles", rule.rep_roles is not None, target in ("rep_id", "source_rep_id"),
             "rep_id and source_rep_id"),
            ("orphans", rule.orphans is not None, target in REF_COLUMNS and spec.stem != "reps",
             "rep_id, source_rep_id and opportunity_id of tables that refer to them"),
            ("date", rule.date is not None, kind in (Kind.date, Kind.period), "date and period columns"),
            ("divide_by", rule.divide_by is not None, kind == Kind.number, "number columns"),
            ("unmapped", rule.unmapped != "error", mapped or rule.rep_by is not None,
             "a rule with a map, patterns or rep_by"),
        )
        for key, used, allowed, where in checks:
            if used and not allowed:
                yield self.problem(path + (key,), f"{key} applies only to {where}")

    def word(self, kind: Kind, value: str, path: tuple, empty_ok: bool = False) -> Iterator[Problem]:
        """A constant written for an enumerated column must be one of its words."""
        words = self.vocab.get(kind)
        if words is None or value in words or (empty_ok and value == "") or SETTING.match(value or ""):
            return
        yield self.problem(path, f"unknown {kind.value.replace('_', ' ')}",
                           value=value, suggestion=did_you_mean(value, words),
                           expected="one of " + ", ".join(words) if len(words) <= 12 else None)


def _vocabulary(p: Pipeline) -> dict[Kind, list[str]]:
    """The words each enumerated kind of column accepts under this pipeline."""
    return {Kind.role: p.role_ids, Kind.stage: p.all_stages, Kind.status: list(STATUSES),
            Kind.activity_type: p.activity_type_ids}
