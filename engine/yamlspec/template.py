"""The one template policy: sentences with `{field:format}` placeholders written in YAML.

Authors write templates such as an evidence sentence, `"{value:.0%} of lost deals..."`.
They are filled with Python's format mini-language, which can do much more than fill a
number: `{value.__class__}` prints internals, `{value.x}` raises, `{value:>99999999}`
allocates gigabytes. A template may therefore only:

- name one of the fields documented for it (`{value}`, `{benchmark}` for evidence), with
  no attribute or index access (`{value.real}`, `{value[0]}`), no conversion (`!r`, `!s`)
  and no positional field (`{}`, `{0}`);
- format it as a number: `[[fill]align][sign][#][0][width][grouping][.precision][type]`,
  type one of `e E f F g G %`, width at most `MAX_WIDTH`, precision at most
  `MAX_PRECISION`;
- write a brace of the text doubled: `{{` and `}}`.

`TemplatePolicy.issues` says what is wrong with a template (checked when YAML loads);
`TemplatePolicy.render` fills one and never raises: a template that breaks the policy is
returned as written, and a value that is not a number is shown as nan.
"""
from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from ..errors import did_you_mean

MAX_WIDTH = 40
MAX_PRECISION = 6
NUMBER_TYPES = "eEfFgG%"

_SPEC = re.compile(r"(?:(?P<fill>[^{}])?[<>=^])?[-+ ]?#?0?(?P<width>[0-9]*)[,_]?"
                   r"(?:\.(?P<precision>[0-9]+))?[eEfFgG%]?", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SPEC_EXPECTED = (f"a number format such as .0%, ,.0f or .1f (width up to {MAX_WIDTH}, "
                 f"precision up to {MAX_PRECISION}, type one of {' '.join(NUMBER_TYPES)})")


@dataclass(frozen=True)
class Issue:
    """One thing wrong with a template."""

    message: str
    expected: str | None = None
    suggestion: str | None = None


def _small(digits: str | None) -> int:
    """A run of digits as a number, saturated (a width of a million digits is just large)."""
    digits = (digits or "").lstrip("0")
    return int(digits or "0") if len(digits) <= 6 else 10 ** 6


def spec_issue(spec: str) -> Issue | None:
    """None if `spec` is a safe number format; else what is wrong with it."""
    m = _SPEC.fullmatch(spec)
    if m is None:
        return Issue(f"the format {spec!r} is not a number format", SPEC_EXPECTED)
    if _small(m["width"]) > MAX_WIDTH:
        return Issue(f"the format {spec!r} is wider than {MAX_WIDTH}", SPEC_EXPECTED)
    if _small(m["precision"]) > MAX_PRECISION:
        return Issue(f"the format {spec!r} has more than {MAX_PRECISION} digits of precision",
                     SPEC_EXPECTED)
    return None


@dataclass(frozen=True)
class TemplatePolicy:
    """The fields a kind of template may name."""

    fields: tuple[str, ...]

    @property
    def expected(self) -> str:
        return "a placeholder naming one of " + ", ".join("{" + f + "}" for f in self.fields)

    def issues(self, text: str) -> list[Issue]:
        """Everything wrong with `text` as a template (empty when it is safe to render)."""
        try:
            pieces = list(string.Formatter().parse(text))
        except ValueError as exc:
            return [Issue(f"not a valid template: {exc}", "braces of the text doubled: {{ and }}")]
        out = []
        for _, field, spec, conversion in pieces:
            if field is None:
                continue
            out += self._field_issues(field, spec or "", conversion)
        return out

    def _field_issues(self, field: str, spec: str, conversion: str | None) -> list[Issue]:
        out = []
        name = _NAME.match(field)
        if field == "" or field.isdigit():
            out.append(Issue("a placeholder must name its field: {} and {0} are not allowed", self.expected))
        elif name is None or name.end() != len(field):
            out.append(Issue(f"the placeholder {{{field}}} reaches into a value: a placeholder names a "
                             "field, with no attribute or index", self.expected,
                             name[0] if name and name[0] in self.fields else None))
        elif field not in self.fields:
            out.append(Issue(f"unknown placeholder {{{field}}}", self.expected, did_you_mean(field, self.fields)))
        if conversion is not None:
            out.append(Issue(f"a conversion (!{conversion}) is not allowed in a placeholder",
                             "{" + (field or self.fields[0]) + "} with a number format at most"))
        problem = spec_issue(spec) if spec else None
        if problem is not None:
            out.append(problem)
        return out

    def render(self, text: str, values: Mapping[str, object]) -> str:
        """`text` with its placeholders filled; `text` as written if it breaks the policy."""
        if not isinstance(text, str):
            return ""
        pieces = self._pieces(text)
        if pieces is None:
            return text
        out = []
        for literal, field, spec in pieces:
            out.append(literal)
            if field is not None:
                out.append(format(_number(values.get(field)), spec))
        return "".join(out)

    @lru_cache(maxsize=4096)                 # a catalog's sentences, parsed and checked once each
    def _pieces(self, text: str) -> tuple[tuple[str, str | None, str], ...] | None:
        if self.issues(text):
            return None
        return tuple((literal, field, spec or "") for literal, field, spec, _ in string.Formatter().parse(text))


def _number(value: object) -> float:
    """A value as a float for formatting; nan when it is none (or not a number)."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)          # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return math.nan


SAYS = TemplatePolicy(fields=("value", "benchmark"))   # an evidence sentence (rules/flows)
