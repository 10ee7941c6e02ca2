"""Typed, frozen specs of the coaching catalog (rules/ and learning_library/).

Each model is the schema of one kind of YAML block. Unknown keys are refused;
cross-references (metric, gap, skill, question, asset ids) are checked by the
loader once every file is parsed. See docs/catalog.md for the authors' guide.
"""
from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from ..yamlspec.spec import Finite, Spec, refusal
from ..yamlspec.template import SAYS

ID_PATTERN = r"^[a-z][a-z0-9_\-]*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=80)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
# every number of the catalog is finite: .nan and .inf are refused where they are written
Number = Finite


# --------------------------------------------------------------------------- pipeline

class RoleKind(str, Enum):
    prospecting = "prospecting"
    closing = "closing"


class Role(Spec):
    id: Id
    title: Title
    kind: RoleKind
    description: str = ""


class Stage(Spec):
    id: Id
    title: Title


class ActivityType(Spec):
    id: Id
    title: Title
    subset_of: Id | None = None   # e.g. a connect is a call that reached someone
    phone: bool = False           # its duration_minutes count as talk time


class Windows(Spec):
    """How many calendar months each metric family looks back, ending with the period."""

    activity_months: int = Field(1, ge=1, le=24)
    ratio_months: int = Field(3, ge=1, le=24)       # efficiency ratios need more events than a month
    results_months: int = Field(1, ge=1, le=24)
    closed_months: int = Field(3, ge=1, le=24)
    velocity_months: int = Field(6, ge=1, le=36)
    series_months: int = Field(12, ge=2, le=36)
    pipeline_horizon_days: int = Field(90, ge=1, le=730)


class Pipeline(Spec):
    roles: list[Role] = Field(min_length=1)
    stages: list[Stage] = Field(min_length=1)
    won_stage: Id = "won"
    activity_types: list[ActivityType] = Field(min_length=1)
    prospecting_funnel: list[Id] = Field(min_length=2)
    loss_reasons: list[Id] = []
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    windows: Windows = Windows()

    @property
    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]

    @property
    def all_stages(self) -> list[str]:
        """Stages in order, the terminal won stage last."""
        return self.stage_ids + [self.won_stage]

    @property
    def role_ids(self) -> list[str]:
        return [r.id for r in self.roles]

    @property
    def activity_type_ids(self) -> list[str]:
        return [a.id for a in self.activity_types]

    def role(self, role_id: str) -> Role:
        return next(r for r in self.roles if r.id == role_id)


# --------------------------------------------------------------------------- thresholds

class BenchmarkKind(str, Enum):
    team_median = "team_median"
    team_top_quartile = "team_top_quartile"          # the best quarter: high or low by the metric
    division_median = "division_median"
    company_median = "company_median"
    company_top_quartile = "company_top_quartile"
    team_upper_quartile = "team_upper_quartile"      # by value: 75% of the team is at or below
    team_lower_quartile = "team_lower_quartile"      # by value: 25% of the team is at or below
    company_upper_quartile = "company_upper_quartile"
    company_lower_quartile = "company_lower_quartile"
    industry = "industry"
    plan = "plan"


class MinSample(Spec):
    """The smallest sample on which a gap is tested at all."""

    proportion: int = Field(15, ge=1, le=100_000)   # opportunities, connects... in the denominator
    count: int = Field(0, ge=0, le=100_000)         # expected events under the benchmark
    amount: int = Field(5, ge=1, le=100_000)        # deals behind a revenue or size figure


class Rag(Spec):
    """Progress against a goal: green at or above `green`, yellow at or above `yellow`."""

    green: Number = Field(0.9, gt=0, le=2)
    yellow: Number = Field(0.7, gt=0, le=2)

    @model_validator(mode="after")
    def _ordered(self):
        if self.yellow > self.green:
            raise ValueError("yellow must not be above green")
        return self


class AtRisk(Spec):
    """When an open opportunity counts as at risk, against the org's won deals."""

    stalled_quantile: Number = Field(0.8, gt=0, lt=1)  # longer in stage than this share of won deals
    size_quantile: Number = Field(0.9, gt=0, lt=1)     # larger than this share of won deals
    age_quantile: Number = Field(0.9, gt=0, lt=1)      # older than this share of won deals at close


class CoachingTargets(Spec):
    """Coaching effectiveness (seed 002): what ops expects of each manager per seller and month."""

    conversations_per_rep: Number = Field(2, ge=0, le=31)     # coaching conversations per seller
    learning_per_rep: Number = Field(1, ge=0, le=31)          # developmental (learning) assignments given
    selling_per_rep: Number = Field(1, ge=0, le=31)           # selling assignments given
    completion: Number = Field(0.8, ge=0, le=1)               # share of the assignments due that are done
    # share of a target reached for green and for yellow (below: red)
    rag: Rag = Rag(green=1.0, yellow=0.5)


class Thresholds(Spec):
    significance: Number = Field(0.05, gt=0, lt=0.5)     # false-discovery rate (Benjamini-Hochberg)
    min_sample: MinSample = MinSample()
    min_gap: Number = Field(0.15, ge=0, le=1)           # default smallest relative gap worth coaching
    # how far short of its benchmark a result must be for a behaviour gap under it to count
    min_shortfall: Number = Field(0.05, ge=0, le=1)
    # a result at least this far short of its benchmark opens the conversation when no behaviour
    # explains it, even where a month holds too few deals to call the shortfall significant
    opening_gap: Number = Field(0.5, ge=0, le=1)
    benchmark: BenchmarkKind = BenchmarkKind.team_median
    top_quantile: Number = Field(0.75, gt=0.5, lt=1)    # what "top quartile" means
    rag: Rag = Rag()
    at_risk: AtRisk = AtRisk()
    industry: dict[str, Number] = {}                    # metric id -> industry figure
    trend_months: int = Field(6, ge=3, le=36)
    coaching: CoachingTargets = CoachingTargets()


# --------------------------------------------------------------------------- gaps

class Direction(str, Enum):
    below = "below"   # the gap is the rep being below the benchmark
    above = "above"


class PerformanceGap(Spec):
    id: Id
    title: Title
    metric: str
    roles: list[Id] = Field(min_length=1)
    # the benchmark, or benchmarks in order of preference: the first a rep has is used
    # (e.g. [plan, team_median]: the rep's own goal where set, else the team)
    compare_to: list[BenchmarkKind] | None = None
    direction: Direction | None = None
    min_gap: Number | None = Field(None, ge=0, le=1)
    description: str = ""

    @field_validator("compare_to", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, str) else v


class BehaviourGap(PerformanceGap):
    explains: list[Id] = Field(min_length=1)
    # behaviour gaps that, when found too, explain this one away (a symptom, not a cause)
    masked_by: list[Id] = []


class GapsFile(Spec):
    performance: list[PerformanceGap] = []
    behaviour: list[BehaviourGap] = []


# --------------------------------------------------------------------------- skills

class SkillKind(str, Enum):
    skill = "skill"
    knowledge = "knowledge"


class Skill(Spec):
    id: Id
    kind: SkillKind
    title: Title
    description: str = ""
    looks_like: list[str] = []   # what a manager observes when this is the root cause


class SkillsFile(Spec):
    skills: list[Skill] = Field(min_length=1)


# --------------------------------------------------------------------------- flows

Points = dict[Id, Annotated[Number, Field(gt=-10, le=10)]]


class Comparison(Spec):
    """`{metric: loss_share.timing, above: 0.25}` or `{metric: talk_minutes, above: team_median, by: 0.2}`.

    `by` is a relative margin for benchmark bounds: `above: team_median, by: 0.2` holds
    when the value is more than 20% above the team median.
    """

    metric: str
    above: Number | BenchmarkKind | None = None
    below: Number | BenchmarkKind | None = None
    at_least: Number | BenchmarkKind | None = None
    at_most: Number | BenchmarkKind | None = None
    by: Number = Field(0.0, ge=0, le=10)

    @model_validator(mode="after")
    def _one_bound(self):
        bounds = [b for b in ("above", "below", "at_least", "at_most") if getattr(self, b) is not None]
        if not bounds:
            raise ValueError("give one of above, below, at_least, at_most")
        if self.by and not any(isinstance(getattr(self, b), BenchmarkKind) for b in bounds):
            raise ValueError("by is a margin over a benchmark: use it with a benchmark bound")
        return self

    def bounds(self) -> list[tuple[str, float | BenchmarkKind]]:
        return [(b, getattr(self, b)) for b in ("above", "below", "at_least", "at_most")
                if getattr(self, b) is not None]


class AllOf(Spec):
    all: list["Condition"] = Field(min_length=1)


class AnyOf(Spec):
    any: list["Condition"] = Field(min_length=1)


def _condition_kind(value) -> str:
    # tag names that are no key of a condition: errors are located by the keys of their path
    if isinstance(value, dict):
        return "all-of" if "all" in value else "any-of" if "any" in value else "comparison"
    return {AllOf: "all-of", AnyOf: "any-of"}.get(type(value), "comparison")


Condition = Annotated[Union[Annotated[Comparison, Tag("comparison")], Annotated[AllOf, Tag("all-of")],
                            Annotated[AnyOf, Tag("any-of")]], Discriminator(_condition_kind)]
AllOf.model_rebuild()
AnyOf.model_rebuild()


class Evidence(Spec):
    id: Id
    when: Condition
    points_to: Points = Field(min_length=1)
    says: Title   # a sentence for the manager; {value} and {benchmark} are filled in (see SAYS)

    @field_validator("says")
    @classmethod
    def _safe_template(cls, text: str) -> str:
        issues = SAYS.issues(text)
        if issues:
            hint = next((i.suggestion for i in issues if i.suggestion), None)
            raise refusal("; ".join(i.message for i in issues), issues[0].expected, hint)
        return text


class Answer(Spec):
    id: Id
    say: Title
    points_to: Points = {}
    next: Id | None = None        # jump to this question instead of the next in order
    ends: bool = False            # no further questions after this answer


class AskIf(Spec):
    question: Id
    answer_in: list[Id] = Field(min_length=1)


class Question(Spec):
    id: Id
    ask: Title
    why: str = ""                  # for the manager: what the question tells apart
    ask_if: AskIf | None = None
    answers: list[Answer] = Field(min_length=2)


class Flow(Spec):
    behaviour_gap: Id
    candidates: Points = Field(min_length=1)   # root causes this flow considers, with prior weight
    evidence: list[Evidence] = []
    questions: list[Question] = Field(min_length=1)


# --------------------------------------------------------------------------- learning library

class AssetKind(str, Enum):
    microlearning = "microlearning"
    video = "video"
    reading = "reading"
    role_play = "role_play"
    exercise = "exercise"


class Asset(Spec):
    id: Id
    title: Title
    kind: AssetKind
    minutes: int = Field(ge=1, le=120)
    addresses: list[Id] = Field(min_length=1)
    file: str | None = None     # a Markdown file shipped in learning_library/
    url: str | None = None      # an external resource
    summary: str = ""
    roles: list[Id] = []        # the roles it is written for (empty: every role)

    @field_validator("url")
    @classmethod
    def _url(cls, v):
        if v is not None and not re.match(r"^https?://[^\s]+$", v):
            raise ValueError("url must start with http:// or https://")
        return v

    @field_validator("file")
    @classmethod
    def _file(cls, v):
        if v is not None and (v.startswith("/") or ".." in v.split("/") or not v.endswith(".md")
                              or any(ord(ch) < 32 or ch == "\\" for ch in v)):
            raise ValueError("file must be a relative path to a .md file inside learning_library/")
        return v

    @model_validator(mode="after")
    def _where(self):
        if (self.file is None) == (self.url is None):
            raise ValueError("give exactly one of file (shipped Markdown) or url (external)")
        return self


class AssignmentTemplate(Spec):
    id: Id
    title: Title
    addresses: list[Id] = Field(min_length=1)
    due_days: int = Field(14, ge=1, le=90)
    instructions: str = ""
    measure: str = ""     # what the manager checks at follow-up
    roles: list[Id] = []  # the roles it suits (empty: every role)


class LibraryFile(Spec):
    assets: list[Asset] = []
    assignments: list[AssignmentTemplate] = []


# --------------------------------------------------------------------------- catalog tests

class GapInput(Spec):
    value: Number
    benchmark: Number
    p: Number = Field(ge=0, le=1)
    n: Number = Field(1000, ge=0)
    impact: Number | None = None   # what closing it is worth; findings rank by it (default: the relative gap)


class TestExpect(Spec):
    findings: list[Id] | None = None           # exactly these performance and behaviour findings
    findings_include: list[Id] = []
    findings_exclude: list[Id] = []
    focus: Id | None | Literal[False] = False  # False: not checked; None (null): no focus expected
    root_cause: Id | None = None
    ranking: list[Id] | None = None            # the first root causes, in order


class CatalogTest(Spec):
    name: Title
    role: Id
    gaps: dict[Id, GapInput] = {}
    metrics: dict[str, Number] = {}
    benchmarks: dict[str, dict[BenchmarkKind, Number]] = {}   # metric -> {benchmark: value}
    answers: dict[Id, Id] = {}
    expect: TestExpect


class TestsFile(Spec):
    tests: list[CatalogTest] = Field(min_length=1)
