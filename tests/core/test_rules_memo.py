"""The diagnosis evaluates each pattern of facts once (engine.rules.adapter memo): every rep
concludes exactly as its own evaluation would."""
from __future__ import annotations

import importlib

import pytest

from engine.dataset import load_dataset
from engine.demo.org import generate_org, write_org
from engine.diagnosis.analysis import compiled_rules
from engine.metrics.benchmarks import compute_benchmarks
from engine.metrics.compute import compute_metrics
from engine.rules import adapter as rules_adapter
from engine.statistics.gaps import compare_gaps

diagnose_module = importlib.import_module("engine.diagnosis.diagnose")


@pytest.fixture(scope="module")
def org(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("org")
    write_org(generate_org(catalog.pipeline, months=12, reps=240, seed=3, end="2026-09", planted_share=0.4),
              folder)
    return load_dataset(folder, catalog.pipeline)


def test_every_rep_concludes_as_alone(org, catalog):
    demo_dataset = org
    compiled = compiled_rules(catalog)
    table = compute_metrics(demo_dataset, catalog.pipeline, catalog.thresholds, None)
    bench = compute_benchmarks(table, catalog.thresholds)
    facts = diagnose_module.rep_facts(table, bench, compiled, compare_gaps(table, bench, catalog), catalog)
    batches = [(str(i), f) for i, f in enumerate(facts)]
    memo = diagnose_module.run_rules(catalog, compiled, batches)
    calls = []
    real = rules_adapter.evaluate

    def one_by_one(*args, memo=False, **kwargs):
        calls.append(memo)
        return real(*args, memo=False, **kwargs)
    diagnose_module.rules_adapter.evaluate = one_by_one
    try:
        alone = diagnose_module.run_rules(catalog, compiled, batches)
    finally:
        diagnose_module.rules_adapter.evaluate = real
    assert calls == [True]
    assert set(memo) == set(alone) and len(alone) == len(facts)
    for key in alone:
        a, m = alone[key], memo[key]
        assert (m.performance, m.shortfalls, m.behaviour, m.masked, m.flows) == \
            (a.performance, a.shortfalls, a.behaviour, a.masked, a.flows), key
        assert {b: sorted(e) for b, e in m.evidence.items()} == {b: sorted(e) for b, e in a.evidence.items()}, key
    assert any(o.behaviour for o in alone.values()) and any(o.evidence for o in alone.values())


def test_no_rule_joins_a_metrics_fact_with_another(catalog):
    """What lets the findings and each flow's evidence be evaluated apart."""
    compiled = compiled_rules(catalog)
    for name, rule in compiled.definition.items():
        reads_metrics = ['"metrics"' in str(p).replace("'", '"') for p in rule["all"]]
        if any(reads_metrics) and name != "sink":
            assert len(rule["all"]) == 1 and name.startswith("ev__"), name
