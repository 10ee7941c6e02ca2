"""The durable_rules adapter handles every trap of the engine (see durable-rules-notes.md)."""
from __future__ import annotations

import pytest

from engine.rules import adapter as rules_adapter
from engine.errors import RulesEngineError

# one small ruleset shared by these tests: the engine is not safe with many per process
RULES = {
    "low": {"all": [{"c": {"$and": [{"t": "cmp"}, {"gap": "x"}, {"$lt": {"q": 0.05}}]}}], "run": "low"},
    "joined": {"all": [{"f": {"$and": [{"t": "finding"}, {"level": "performance"}, {"gap": "x"}]}},
                       {"m": {"$and": [{"t": "metrics"}, {"$gt": {"v__a": 5.0}}]}}], "run": "joined"},
    "sink": {"all": [{"x": {"$or": [{"t": "cmp"}, {"t": "metrics"}, {"t": "finding"}]}},
                     {"z": {"t": "__never__"}}], "run": "never"},
}
NAME = "adapter_test_v1"


def _actions(log: dict, fail: bool = False):
    def low(record, m):
        log.setdefault(record.key, []).append("low")
        if fail and record.key == "r7":
            raise ValueError("boom in an action")
        return [{"t": "finding", "level": "performance", "gap": "x"}]

    def joined(record, m):
        log.setdefault(record.key, []).append(("joined", m["m"]["v__a"]))
        return []
    return {"low": low, "joined": joined}


def cmp(q):
    return {"t": "cmp", "gap": "x", "q": q, "rel": 0.5, "sample": 20.0, "value": 1.0, "bench": 2.0,
            "sig": 0.05 - q, "big": 0.35, "enough": 5.0, "short": 0.45}


def test_more_reps_than_the_engine_has_states(tmp_path):
    """2,000 reps in one run: one state each, deleted when done (the engine holds 1,024)."""
    log: dict = {}
    batches = [(f"r{i}", [cmp(0.01 if i % 3 == 0 else 0.5), {"t": "metrics", "v__a": float(i % 10)}])
               for i in range(2000)]
    out = rules_adapter.evaluate(NAME, RULES, _actions(log), batches)
    assert len(out) == 2000
    fired = [k for k, v in log.items() if "low" in v]
    assert len(fired) == len(range(0, 2000, 3))
    # the action's fact joined with the metrics fact of the same rep only
    assert log["r0"] == ["low"] and log["r6"] == ["low", ("joined", 6.0)]


def test_facts_no_rule_accepts_do_not_lose_the_others():
    """A batch mixing matched and unmatched facts still runs the matched rules' actions."""
    log: dict = {}
    rules_adapter.evaluate(NAME, RULES, _actions(log), [("a", [cmp(0.5), cmp(0.01), {"t": "metrics"}])])
    assert log["a"] == ["low"]


def test_a_fact_of_an_unknown_type_is_refused_before_the_engine():
    with pytest.raises(RulesEngineError, match="unknown type"):
        rules_adapter.evaluate(NAME, RULES, _actions({}), [("a", [{"t": "event", "x": 1.0}])])


def test_a_failing_action_fails_the_run_loudly():
    with pytest.raises(RulesEngineError, match="r7: action 'low' failed: ValueError: boom"):
        rules_adapter.evaluate(NAME, RULES, _actions({}, fail=True),
                               [(f"r{i}", [cmp(0.01)]) for i in range(10)])


def test_a_string_where_a_number_belongs_is_refused():
    """The engine would compare '0.01' < 0.05 as true; the adapter refuses the fact."""
    bad = dict(cmp(0.01), q="0.01")
    with pytest.raises(RulesEngineError, match="'q' must be a finite number"):
        rules_adapter.evaluate(NAME, RULES, _actions({}), [("a", [bad])])
    with pytest.raises(RulesEngineError, match="finite number"):
        rules_adapter.evaluate(NAME, RULES, _actions({}), [("a", [dict(cmp(0.01), q=float("nan"))])])
    with pytest.raises(RulesEngineError, match="must be text"):
        rules_adapter.evaluate(NAME, RULES, _actions({}), [("a", [dict(cmp(0.01), gap=3.0)])])


def test_facts_asserted_by_actions_are_checked_too():
    def bad_action(record, m):
        return [{"t": "finding", "level": "performance", "gap": 7}]
    with pytest.raises(RulesEngineError, match="must be text"):
        rules_adapter.evaluate(NAME, RULES, {"low": bad_action, "joined": _actions({})["joined"]},
                               [("a", [cmp(0.01)])])


def test_the_same_fact_twice_is_refused():
    with pytest.raises(RulesEngineError, match="asserted twice"):
        rules_adapter.evaluate(NAME, RULES, _actions({}), [("a", [cmp(0.01), cmp(0.01)])])


def test_a_ruleset_name_is_registered_once_and_reused():
    before = len(rules_adapter._registered)
    rules_adapter.evaluate(NAME, RULES, _actions({}), [("a", [cmp(0.5)])])
    rules_adapter.evaluate(NAME, RULES, _actions({}), [("b", [cmp(0.5)])])
    assert len(rules_adapter._registered) == before


# ----------------------------------------------------------------------------- memo

def _memo_actions(log: dict):
    def low(record, m):
        log.setdefault(record.key, []).append(("low", m["c"]["gap"]))
        return [{"t": "finding", "level": "performance", "gap": m["c"]["gap"]}]

    def joined(record, m):
        log.setdefault(record.key, []).append(("joined", m["f"]["gap"]))
        return []
    return {"low": low, "joined": joined}


def _concluded(out, log, key):
    record = out[key]
    return log.get(record.same_as if record.same_as is not None else key, [])


def test_memo_evaluates_each_pattern_once_and_concludes_as_every_batch_alone():
    """Batches the rules cannot tell apart are evaluated once; every batch gets what it
    would get alone: the same comparisons crossing the same bounds, the same text."""
    batches = []
    for i in range(300):
        facts = [cmp(0.001 * (i % 97))]                         # q below 0.05 or not
        if i % 4:
            facts.append({"t": "metrics", "v__a": float(i % 11)})   # above 5 or not; or absent
        batches.append((f"r{i}", facts))
    alone, memo = {}, {}
    plain = rules_adapter.evaluate(NAME, RULES, _memo_actions(alone), batches)
    out = rules_adapter.evaluate(NAME, RULES, _memo_actions(memo), batches, memo=True)
    assert all(r.same_as is None for r in plain.values())
    evaluated = [k for k, r in out.items() if r.same_as is None]
    assert len(evaluated) == 2 * 3          # q low or not, times v__a above 5, not, or absent
    for key, _ in batches:
        assert _concluded(out, memo, key) == alone.get(key, []), key


def test_memo_tells_apart_what_any_rule_reads():
    pattern = rules_adapter.pattern_of(RULES)
    low, high = cmp(0.01), cmp(0.5)
    assert pattern([low]) != pattern([high])
    assert pattern([low]) == pattern([dict(low, q=0.02, rel=9.0, value=7.0)])   # read by no rule: alike
    assert pattern([dict(low, gap="y")]) != pattern([low])                      # another text
    assert pattern([low, {"t": "metrics"}]) != pattern([{"t": "metrics"}, low])   # order
    assert pattern([{"t": "metrics", "v__a": 6.0}]) != pattern([{"t": "metrics", "v__a": 5.0}])
    assert pattern([{"t": "metrics", "v__a": 6.0}]) == pattern([{"t": "metrics", "v__a": 60.0}])
    assert pattern([{"t": "metrics"}]) == pattern([{"t": "metrics", "v__b": 1.0}])


@pytest.mark.parametrize("rule", [
    {"all": [{"a": {"$and": [{"t": "cmp"}, {"$lt": {"q": {"b": "q"}}}]}}], "run": "low"},   # a join
    {"all": [{"a": {"$mt": {"gap": "x.*"}}}], "run": "low"},                               # a regex
    {"all": [{"a": {"$neq": {"gap": "x"}}}], "run": "low"},                                # another operator
    {"all": [{"a": {"t": "cmp"}}], "run": "low", "pri": 1},                                # another option
])
def test_memo_is_off_for_rules_beyond_plain_comparisons(rule):
    assert rules_adapter.pattern_of({**RULES, "other": rule}) is None
