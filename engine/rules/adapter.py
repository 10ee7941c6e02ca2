"""The one module that touches durable_rules.

Its traps (../shared/design/durable-rules-notes.md) are handled here:

- one Host per process, behind one lock; its timer threads are never started, so
  every action runs synchronously in the caller's thread, before the call returns;
- rulesets are registered once under a versioned name (a reloaded catalog gets a
  new name: a name can be registered only once per host);
- one state per rep evaluation, deleted when done (1,024 live states at most);
- a `sink` rule (see engine.rules) makes every fact "handled"; a fact that is still
  refused, or observed twice, fails the run;
- every action is wrapped: an exception inside one fails the diagnosis loudly
  instead of vanishing into the state;
- every fact is checked against a typed schema before it reaches the engine, which
  would otherwise compare '7' with 5 silently;
- deleting a state crashes the process (SIGSEGV) until some action of the ruleset has
  run once: each ruleset is registered with a `__prime__` rule that is fired, and its
  state deleted, right after registration.

Each state costs the engine a JSON round trip per fact and per action, about a millisecond
a rep. A batch whose facts the rules cannot tell apart from an earlier batch's (`pattern_of`:
the same text, and the same match of every condition that compares numbers) fires the same
rules on the same text, so with `memo` it is not evaluated again: its record names the batch
it is the same as (`same_as`), whose conclusions the caller reuses. That holds only for
actions that read nothing but the text properties of the facts they match; the caller says so.
"""
from __future__ import annotations

import copy
import math
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable

from durable.engine import Host, MessageNotHandledException, MessageObservedException

from ..errors import RulesEngineError

Action = Callable[["Record", dict], list[dict]]


@dataclass
class Record:
    """What the actions of one rep evaluation produced."""

    sid: str
    key: str = ""
    errors: list[str] = field(default_factory=list)
    same_as: str | None = None     # memo: the key of an earlier batch the rules cannot tell apart


# ----------------------------------------------------------------------------- fact schema

NUMBER = "number"
TEXT = "text"
SCHEMA = {
    "cmp": {"gap": TEXT, "q": NUMBER, "rel": NUMBER, "sample": NUMBER, "value": NUMBER, "bench": NUMBER,
            "sig": NUMBER, "big": NUMBER, "enough": NUMBER, "short": NUMBER},   # margins over the thresholds
    "finding": {"level": TEXT, "gap": TEXT, "explains": TEXT},
}
OPEN_SCHEMA = {"metrics": {"flow": TEXT}}     # any other property of a metrics fact is a number


def check_fact(fact: dict) -> dict:
    """The fact, if every value has the declared type; RulesEngineError otherwise."""
    kind = fact.get("t")
    if kind not in ("cmp", "metrics", "finding"):
        raise RulesEngineError(f"fact of unknown type {kind!r}: {fact!r}")
    declared = SCHEMA.get(kind)
    for key, value in fact.items():
        if key in ("t", "sid"):
            continue
        expected = declared.get(key) if declared is not None else OPEN_SCHEMA.get(kind, {}).get(key, NUMBER)
        if expected is None:
            raise RulesEngineError(f"{kind} fact has an undeclared property {key!r}")
        if expected == NUMBER:
            if type(value) is float and value - value == 0.0:      # the common case: a finite float
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise RulesEngineError(
                    f"{kind} fact property {key!r} must be a finite number, got {value!r} "
                    f"({type(value).__name__}); the rules engine would compare it loosely")
        elif not isinstance(value, str):
            raise RulesEngineError(f"{kind} fact property {key!r} must be text, got {value!r}")
    if declared is not None:
        missing = set(declared) - set(fact) - ({"explains"} if kind == "finding" else set())
        if missing:
            raise RulesEngineError(f"{kind} fact lacks {sorted(missing)}: {fact!r}")
    return fact


# ----------------------------------------------------------------------------- patterns

_COMPARE = {"$gt": float.__gt__, "$gte": float.__ge__, "$lt": float.__lt__, "$lte": float.__le__}
Pattern = Callable[[list[dict]], tuple]


def _plain(cond) -> bool:
    """Whether a condition uses only `$and`, `$or`, comparisons and equalities with constants."""
    if not isinstance(cond, dict) or len(cond) != 1:
        return False
    (key, value), = cond.items()
    if key in ("$and", "$or"):
        return isinstance(value, list) and all(_plain(c) for c in value)
    if key in _COMPARE:
        return (isinstance(value, dict) and len(value) == 1
                and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in value.values()))
    return not key.startswith("$") and (isinstance(value, str) or (
        isinstance(value, (int, float)) and not isinstance(value, bool)))


def _test(cond: dict) -> Callable[[dict], bool]:
    """Whether a fact matches a plain condition, as durable_rules decides: a comparison of a
    property the fact lacks (or holds as text) is false, and `$or` goes on to its other terms."""
    (key, value), = cond.items()
    if key in ("$and", "$or"):
        terms = tuple(_test(c) for c in value)
        if len(terms) == 1:
            return terms[0]
        if len(terms) == 2:
            a, b = terms
            return (lambda fact: a(fact) and b(fact)) if key == "$and" else (lambda fact: a(fact) or b(fact))
        if key == "$and":
            return lambda fact: all(t(fact) for t in terms)
        return lambda fact: any(t(fact) for t in terms)
    if key in _COMPARE:
        (prop, bound), = value.items()
        op, bound = _COMPARE[key], float(bound)

        def compare(fact):
            x = fact.get(prop)
            return x is not None and not isinstance(x, str) and op(float(x), bound)
        return compare
    if isinstance(value, str):
        return lambda fact: fact.get(key) == value
    number = float(value)

    def equal(fact):
        x = fact.get(key)
        return x is not None and not isinstance(x, str) and float(x) == number
    return equal


def pattern_of(definition: dict) -> Pattern | None:
    """A function giving, for a batch of facts, all the ruleset can tell of it: each fact's
    text properties (its sid aside), and whether it matches each condition of the rules that
    compares numbers (each rule's condition on one fact). Numbers no rule reads are left out.

    Two batches of the same pattern enter the same conditions with the same text, in the same
    order, so the rules fire alike on them. None if a rule uses anything else (a join on a
    value of another fact, a regular expression, another operator): every batch is evaluated.
    """
    by_text: dict[tuple, list[dict]] = {}     # conditions, by the text equalities they require
    for rule in definition.values():
        if set(rule) - {"all", "any", "run"}:
            return None
        for element in rule.get("all", []) + rule.get("any", []):
            if not isinstance(element, dict) or len(element) != 1:
                return None
            (_alias, cond), = element.items()
            if not _plain(cond):
                return None
            terms = cond["$and"] if "$and" in cond else [cond]
            text = tuple(sorted((k, v) for t in terms for k, v in t.items()
                                if not k.startswith("$") and isinstance(v, str)))
            rest = [t for t in terms if not any(not k.startswith("$") and isinstance(v, str)
                                                for k, v in t.items())]
            if rest and rest not in by_text.setdefault(text, []):
                by_text[text].append(rest)
    wanted = [(dict(text), [_test({"$and": rest}) for rest in conds]) for text, conds in by_text.items()]
    applying: dict[tuple, list[Callable]] = {}     # a fact's text -> the tests of conditions it may meet

    def pattern(facts: list[dict]) -> tuple:
        out = []
        for fact in facts:
            text = tuple((k, v) for k, v in fact.items() if k != "sid" and isinstance(v, str))
            conds = applying.get(text)
            if conds is None:
                has = dict(text)
                conds = applying[text] = [rest for need, found in wanted
                                          if all(has.get(k) == v for k, v in need.items()) for rest in found]
            out.append((text, tuple(test(fact) for test in conds)))
        return tuple(out)
    return pattern


# ----------------------------------------------------------------------------- host

class _Host(Host):
    """A Host whose actions are ours and whose background dispatch threads never start."""

    def __init__(self):
        self.actions: dict[str, Action] = {}
        self.records: dict[str, Record] = {}
        super().__init__()

    def _run(self):          # the timer threads would run actions behind our back
        pass

    def get_action(self, action_name: str):
        if action_name == "never":
            return _never
        if action_name == PRIME:
            return _prime
        if action_name not in self.actions:
            raise RulesEngineError(f"the ruleset names an unknown action {action_name!r}")

        def run(c):
            sid = c.s.sid
            record = self.records.get(sid)
            if record is None:
                return
            try:
                matched = {k: dict(v._d) if hasattr(v, "_d") else v for k, v in c._m.items()}
                for fact in self.actions[action_name](record, matched) or []:
                    fact = check_fact(dict(fact, sid=sid))
                    try:
                        c.assert_fact(fact)
                    except MessageObservedException:
                        pass    # the same conclusion reached by a second path
            except Exception as exc:   # noqa: BLE001 - recorded and raised by evaluate()
                record.errors.append(f"action {action_name!r} failed: {type(exc).__name__}: {exc}")
        return run


def _never(c):  # the sink rule's join never completes
    raise AssertionError("the sink rule fired")


def _prime(c):  # fired once at registration; see the module docstring
    pass


PRIME = "__prime__"
MAX_RULESETS = 16   # the engine's heap over-read has crashed processes holding 20 to 40


_lock = threading.Lock()
_host: _Host | None = None
_registered: set[str] = set()


def _get_host() -> _Host:
    global _host
    if _host is None:
        _host = _Host()
    return _host


def _register(host: _Host, name: str, definition: dict) -> None:
    if len(_registered) >= MAX_RULESETS:
        raise RulesEngineError(
            f"{len(_registered)} rulesets are loaded in this process already; the rules engine "
            "is not safe with more: restart the process to load another catalog")
    rules = copy.deepcopy(definition)                  # registration mutates its input
    rules[PRIME] = {"all": [{"p": {"t": PRIME}}], "run": PRIME}
    host.register_rulesets({name: rules})
    _registered.add(name)
    host.assert_fact(name, {"sid": PRIME, "t": PRIME})
    host.delete_state(name, PRIME)


def is_registered(name: str) -> bool:
    """Whether the ruleset `name` is registered in this process already."""
    with _lock:
        return name in _registered


def can_evaluate(name: str) -> bool:
    """Whether the ruleset `name` is registered in this process, or can still be (MAX_RULESETS)."""
    with _lock:
        return name in _registered or len(_registered) < MAX_RULESETS


def evaluate(name: str, definition: dict, actions: dict[str, Action],
             batches: Iterable[tuple[str, list[dict]]], memo: bool = False) -> dict[str, Record]:
    """Run each batch of facts in a state of its own; return the records by key.

    `batches` yields (key, facts). Raises RulesEngineError if a fact is malformed or
    refused, or if an action failed, naming the key. With `memo` (the actions read only
    the text of the facts they match), a batch the rules cannot tell apart from an earlier
    one is not evaluated: its record's `same_as` names that batch's key.
    """
    out: dict[str, Record] = {}
    pattern = pattern_of(definition) if memo else None
    first_of: dict[tuple, str] = {}
    with _lock:
        host = _get_host()
        host.actions.update(actions)
        if name not in _registered:
            _register(host, name, definition)
        for n, (key, facts) in enumerate(batches):
            sid = f"s{n}"
            record = Record(sid=sid, key=key)
            try:
                checked = [check_fact(dict(f, sid=sid)) for f in facts]
            except RulesEngineError as exc:
                raise RulesEngineError(f"{key}: {exc}") from exc
            if pattern is not None:
                seen = pattern(checked)
                if seen in first_of:
                    record.same_as = first_of[seen]
                    out[key] = record
                    continue
                first_of[seen] = key
            host.records[sid] = record
            try:
                if checked:
                    host.assert_facts(name, checked)
            except MessageNotHandledException as exc:
                raise RulesEngineError(f"{key}: a fact no rule accepts: {exc}") from exc
            except MessageObservedException as exc:
                raise RulesEngineError(f"{key}: the same fact asserted twice: {exc}") from exc
            except RulesEngineError as exc:
                raise RulesEngineError(f"{key}: {exc}") from exc
            finally:
                host.records.pop(sid, None)
                try:
                    host.delete_state(name, sid)
                except Exception:   # noqa: BLE001 - a state never created has nothing to delete
                    pass
            if record.errors:
                raise RulesEngineError(f"{key}: " + "; ".join(record.errors))
            out[key] = record
    return out
