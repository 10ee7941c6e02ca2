"""The template policy: a placeholder names a documented field and formats a number, nothing more."""
from __future__ import annotations

import itertools
import math
import time

import pytest

from engine.yamlspec.template import MAX_PRECISION, MAX_WIDTH, SAYS, NUMBER_TYPES, TemplatePolicy, spec_issue

VALUES = {"value": 0.5, "benchmark": 0.25}


@pytest.mark.parametrize("text, filled", [
    ("{value:.0%} of lost deals (team {benchmark:.0%})", "50% of lost deals (team 25%)"),
    ("{value:,.0f} calls", "0 calls"),
    ("{value} and {{braces}}", "0.5 and {braces}"),
    ("{value:*>10.2f}|", "******0.50|"),
    ("no placeholder at all", "no placeholder at all"),
])
def test_safe_templates_render(text, filled):
    assert SAYS.issues(text) == []
    assert SAYS.render(text, VALUES) == filled


@pytest.mark.parametrize("text, reason, suggestion", [
    ("{value.__class__}", "reaches into a value", "value"),
    ("{value.nosuchattr}", "reaches into a value", "value"),
    ("{value[0]}", "reaches into a value", "value"),
    ("{value!r}", "a conversion (!r) is not allowed", None),
    ("{benchmark!s}", "a conversion (!s) is not allowed", None),
    ("{valu:.0%}", "unknown placeholder {valu}", "value"),
    ("{__class__}", "unknown placeholder {__class__}", None),
    ("{}", "must name its field", None),
    ("{0}", "must name its field", None),
    ("{value:>99999999}", f"wider than {MAX_WIDTH}", None),
    ("{value:.99f}", f"more than {MAX_PRECISION} digits of precision", None),
    ("{value:d}", "is not a number format", None),
    ("{value:n}", "is not a number format", None),
    ("{value:{benchmark}}", "is not a number format", None),
    ("{value", "not a valid template", None),
    ("a } b", "not a valid template", None),
])
def test_unsafe_templates_are_refused_with_the_reason(text, reason, suggestion):
    issues = SAYS.issues(text)
    assert issues and reason in issues[0].message
    assert issues[0].suggestion == suggestion
    assert SAYS.render(text, VALUES) == text          # rendered as written, never evaluated


def test_rendering_never_raises_nor_allocates_much():
    hostile = ["{value:>99999999}", "{value:.99999999f}", "{value.__class__.__mro__}", "{value.x}",
               "{value:,d}", "{value!r:>{benchmark}}", "{", "}", "{{}", 12, None]
    start = time.perf_counter()
    for text in hostile:
        out = SAYS.render(text, {"value": 1e308, "benchmark": "not a number"})
        assert isinstance(out, str) and len(out) < 100
    assert time.perf_counter() - start < 0.1
    assert SAYS.render("{value:.1f} / {benchmark:.1f}", {"value": None, "benchmark": object()}) == "nan / nan"


def test_every_format_of_the_grammar_formats_every_float_boundedly():
    specs = ("".join(p) for p in itertools.product(["", "*<", ">", "="], ["", "+", " "], ["", "#"], ["", "0"],
                                                  ["", str(MAX_WIDTH)], ["", ",", "_"],
                                                  ["", f".{MAX_PRECISION}"], ["", *NUMBER_TYPES]))
    for spec in specs:
        assert spec_issue(spec) is None, spec
        for v in (0.0, -0.0, -123456.789, 1e308, -5e-324, math.nan, math.inf, -math.inf):
            assert len(format(v, spec)) < 500     # 1e308 written out in full with grouping: 418


def test_a_policy_names_its_own_fields():
    policy = TemplatePolicy(fields=("first", "last"))
    assert policy.issues("{first} {last}") == []
    assert policy.issues("{value}")[0].expected == "a placeholder naming one of {first}, {last}"
