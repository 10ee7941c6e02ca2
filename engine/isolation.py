"""Work run in a fresh child process, and its result (or its refusal) handed back.

The rules engine is not safe with many rulesets in one process (engine.rules.adapter,
MAX_RULESETS), and a ruleset cannot be unregistered. A long-running process (the web app)
evaluates the rules of a catalog it has not registered (an author's draft, a what-if of
gaps and flows, a catalog published when the process has no room left) in a child process
of its own: the child registers what it needs and exits, and the parent's count stays as
it was. The child is started fresh ("spawn"), never forked from a threaded server.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

TIMEOUT = 900      # seconds: a re-diagnosis of a large org


def run_isolated(fn: Callable[..., Any], *args: Any, timeout: float = TIMEOUT) -> Any:
    """`fn(*args)` in a new process; its result, or the exception it raised (re-raised here).

    `fn` must be a module-level function, its arguments and result picklable.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result(timeout=timeout)
