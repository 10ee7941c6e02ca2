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


# ----------------------------------------------------------------------------- fact schema

NUMBER = "number"
TEXT = "text"
SCHEMA = {
    "cmp": {"gap": TEXT, "q": NUMBER, "rel": NUMBER, "sample": NUMBER, "value": NUMBER, "bench": NUMBER,
            "sig": NUMBER, "big": NUMBER, "enough": NUMBER, "short": NUMBER},   # margins over the thresholds
    "finding": {"level": TEXT, "gap": TEXT, "explains": TEXT},
}


def check_fact(fact: dict) -> dict:
    """The fact, if every value has the declared type; RulesEngineError otherwise."""
    kind = fact.get("t")
    if kind not in ("cmp", "metrics", "finding"):
        raise RulesEngineError(f"fact of unknown type {kind!r}: {fact!r}")
    declared = SCHEMA.get(kind)
    for key, value in fact.items():
        if key in ("t", "sid"):
            continue
        expected = declared.get(key) if declared is not None else NUMBER
        if expected is None:
            raise RulesEngineError(f"{kind} fact has an undeclared property {key!r}")
        if expected == NUMBER:
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
             batches: Iterable[tuple[str, list[dict]]]) -> dict[str, Record]:
    """Run each batch of facts in a state of its own; return the records by key.

    `batches` yields (key, facts). Raises RulesEngineError if a fact is malformed or
    refused, or if an action failed, naming the key.
    """
    out: dict[str, Record] = {}
    with _lock:
        host = _get_host()
        host.actions.update(actions)
        if name not in _registered:
            _register(host, name, definition)
        for n, (key, facts) in enumerate(batches):
            sid = f"s{n}"
            record = Record(sid=sid, key=key)
            host.records[sid] = record
            try:
                checked = [check_fact(dict(f, sid=sid)) for f in facts]
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
