"""The catalog compiled to a durable_rules ruleset (the dict form), and the facts it reads.

Facts, one state per rep evaluation:

- `{"t": "cmp", "gap": <gap id>, "q", "rel", "sample", "value", "bench", "sig", "big",
  "enough", "short"}`: the comparison of the rep with the benchmark of one gap (from
  engine.statistics.gaps), with its margins over the thresholds (`cmp_fact`):
  `sig` = significance - q, `big` = rel - the gap's min_gap, `enough` = sample - the
  minimum sample, `short` = rel - min_shortfall;
- `{"t": "metrics", "flow": <behaviour gap id>, "v__<metric>": value,
  "d__<metric>__<benchmark>__<factor>": value - factor x benchmark}`: one per flow with
  evidence, the metric values that flow's evidence reads (absent where the rep has no data,
  so a condition on them never holds).

Rules, all derived from the catalog:

- `perf__<P>`: a comparison of a performance gap that is significant (q below the
  significance level: sig > 0), large enough (relative gap of at least min_gap: big >= 0)
  and on enough data (sample of at least the minimum: enough >= 0) asserts a performance
  finding;
- `short__<P>`: a result at least `min_shortfall` short of its benchmark (short >= 0,
  significant or not) asserts a shortfall: a behaviour gap under it is worth coaching;
- `behav__<B>__<P>`: a comparison of a behaviour gap B that is significant, large enough
  and on enough data, joined with a shortfall of a result P that B explains, asserts a
  behaviour finding. Significance is asked of the behaviour, which is what gets coached;
  the result it explains only has to be short;
- `mask__<B>__<M>`: a behaviour finding B with a finding M that masks it marks B masked;
- `cand__<B>`: a behaviour finding B brings the root-cause candidates of its flow;
- `ev__<B>__<E>`: the metric evidence E of the flow of B holds for the rep, on the metrics
  fact of that flow (whether or not B is a finding: the manager may choose to discuss B
  anyway);
- `sink`: accepts every fact without firing, so that no fact is "unhandled".

No rule joins a metrics fact with another fact: only the single-fact `ev__` rules of its
flow (and the sink, which never fires) read it, so the findings and each flow's evidence
are evaluated apart (engine.diagnosis.diagnose.run_rules), each in few patterns.

The thresholds enter as the margins of the facts, not as constants of the rules: the
ruleset is the catalog's structure only (gaps, what explains and masks what, flows and
their evidence), named by a hash of its definition. A catalog that differs in its
thresholds (a what-if, an ops draft) or its learning library compiles to the same
ruleset, so it is evaluated without registering another one in the rules engine, which
is not safe with many per process (engine.rules.adapter.MAX_RULESETS). The margins
decide exactly as the comparisons would: for finite doubles, a - b >= 0 exactly when
a >= b.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from ..catalog.model import Catalog
from ..catalog.specs import AllOf, AnyOf, BenchmarkKind, Comparison
from ..errors import CatalogError, Problem
from ..statistics.gaps import min_sample

MAX_PROPERTIES = 255   # durable_rules refuses messages with more properties
MAX_ACTIONS = 4096     # and rulesets with more actions
FACT_TYPES = ("cmp", "metrics", "finding")
_OPS = {"above": "$gt", "below": "$lt", "at_least": "$gte", "at_most": "$lte"}


def prop(metric: str) -> str:
    """The fact property holding a metric's value."""
    return "v__" + re.sub(r"[^A-Za-z0-9_]", "_", metric)


def diff_prop(metric: str, kind: BenchmarkKind, factor: float = 1.0) -> str:
    """The fact property holding value minus `factor` times a benchmark."""
    return ("d__" + re.sub(r"[^A-Za-z0-9_]", "_", metric) + "__" + kind.value
            + f"__x{round(factor * 1000):d}")


@dataclass(frozen=True)
class Compiled:
    name: str                       # versioned ruleset name
    definition: dict                # {rule name: {"all": [...], "run": action name}}
    metric_properties: dict         # property -> metric id, for the metrics facts
    difference_properties: dict     # property -> (metric id, benchmark kind, factor)
    flow_properties: dict = field(default_factory=dict)   # flow -> the properties its evidence reads


@dataclass(frozen=True)
class Limits:
    """The thresholds a comparison of one gap is held to (they enter the facts as margins)."""

    significance: float
    min_gap: float
    min_sample: float
    min_shortfall: float


def limits(catalog: Catalog, gap_id: str) -> Limits:
    """What a comparison of `gap_id` must reach under the catalog's thresholds."""
    th = catalog.thresholds
    gap = catalog.gap(gap_id)
    d = catalog.registry.get(gap.metric)
    return Limits(significance=float(th.significance), min_gap=float(catalog.min_gap_of(gap)),
                  min_sample=float(min_sample(catalog, d.test, d.averaged)),
                  min_shortfall=float(th.min_shortfall))


def cmp_fact(gap: str, q: float, rel: float, sample: float, value: float, bench: float, lim: Limits) -> dict:
    """The comparison fact of one gap for one rep, with its margins over the thresholds."""
    q, rel, sample = float(q), float(rel), float(sample)
    return {"t": "cmp", "gap": gap, "q": q, "rel": rel, "sample": sample, "value": float(value),
            "bench": float(bench), "sig": lim.significance - q, "big": rel - lim.min_gap,
            "enough": sample - lim.min_sample, "short": rel - lim.min_shortfall}


def compile_catalog(catalog: Catalog) -> Compiled:
    """The ruleset of a catalog; CatalogError if it exceeds durable_rules' limits."""
    rules: dict[str, dict] = {}

    def cmp_pattern(gap):
        return {"$and": [{"t": "cmp"}, {"gap": gap.id}, {"$gt": {"sig": 0.0}}, {"$gte": {"big": 0.0}},
                         {"$gte": {"enough": 0.0}}]}

    for g in catalog.performance_gaps.values():
        rules[f"perf__{g.id}"] = {"all": [{"c": cmp_pattern(g)}], "run": "performance"}
        rules[f"short__{g.id}"] = {
            "all": [{"c": {"$and": [{"t": "cmp"}, {"gap": g.id}, {"$gte": {"short": 0.0}}]}}],
            "run": "shortfall"}
    for b in catalog.behaviour_gaps.values():
        for p in b.explains:
            rules[f"behav__{b.id}__{p}"] = {
                "all": [{"p": {"$and": [{"t": "finding"}, {"level": "shortfall"}, {"gap": p}]}},
                        {"c": cmp_pattern(b)}],
                "run": "behaviour"}
        for mk in b.masked_by:
            rules[f"mask__{b.id}__{mk}"] = {
                "all": [{"a": {"$and": [{"t": "finding"}, {"level": "behaviour"}, {"gap": b.id}]}},
                        {"b": {"$and": [{"t": "finding"}, {"level": "behaviour"}, {"gap": mk}]}}],
                "run": "masked"}
    metric_props: dict[str, str] = {}
    diff_props: dict[str, tuple[str, BenchmarkKind]] = {}
    flow_props: dict[str, tuple[str, ...]] = {}
    for b_id, flow in catalog.flows.items():
        finding = {"f": {"$and": [{"t": "finding"}, {"level": "behaviour"}, {"gap": b_id}]}}
        rules[f"cand__{b_id}"] = {"all": [finding], "run": "candidates"}
        read_m: dict[str, str] = {}
        read_d: dict[str, tuple] = {}
        for ev in flow.evidence:
            cond = _condition(ev.when, read_m, read_d)
            rules[f"ev__{b_id}__{ev.id}"] = {
                "all": [{"m": {"$and": [{"t": "metrics"}, {"flow": b_id}, cond]}}], "run": "evidence"}
        if flow.evidence:
            flow_props[b_id] = tuple(dict.fromkeys([*read_m, *read_d]))
        metric_props.update(read_m)
        diff_props.update(read_d)
    rules["sink"] = {"all": [{"x": {"$or": [{"t": t} for t in FACT_TYPES]}},
                             {"z": {"t": "__never__"}}], "run": "never"}
    problems = []
    for b_id, props in flow_props.items():
        if len(props) + 3 > MAX_PROPERTIES:
            problems.append(Problem(file="rules/flows", column=b_id, message=(
                f"the evidence of this flow reads {len(props)} metric values; the rules engine "
                f"takes at most {MAX_PROPERTIES - 3} in one fact"), expected="fewer distinct "
                "metric and benchmark pairs in the flow's evidence conditions"))
    if len(rules) > MAX_ACTIONS:
        problems.append(Problem(file="rules/", message=f"{len(rules)} rules; the rules engine takes "
                                f"at most {MAX_ACTIONS} in one ruleset"))
    if problems:
        raise CatalogError(problems)
    digest = hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:16]
    return Compiled(name=f"fairway_{digest}", definition=rules,
                    metric_properties=metric_props, difference_properties=diff_props,
                    flow_properties=flow_props)


def _condition(cond, metric_props: dict, diff_props: dict) -> dict:
    if isinstance(cond, AllOf):
        return {"$and": [_condition(c, metric_props, diff_props) for c in cond.all]}
    if isinstance(cond, AnyOf):
        return {"$or": [_condition(c, metric_props, diff_props) for c in cond.any]}
    assert isinstance(cond, Comparison)
    parts = []
    for op, bound in cond.bounds():
        if isinstance(bound, BenchmarkKind):
            factor = 1 + cond.by if op in ("above", "at_least") else 1 - cond.by
            name = diff_prop(cond.metric, bound, factor)
            diff_props[name] = (cond.metric, bound, factor)
            parts.append({_OPS[op]: {name: 0.0}})
        else:
            name = prop(cond.metric)
            metric_props[name] = cond.metric
            parts.append({_OPS[op]: {name: float(bound)}})
    return parts[0] if len(parts) == 1 else {"$and": parts}
