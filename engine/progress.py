"""Progress messages for long loads, shown on stderr only when a person is watching."""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def terminal_progress(stream: TextIO | None = None) -> Callable[[str], None] | None:
    """A progress callback writing timed lines to `stream` if it is a terminal, else None."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None
    start = time.perf_counter()

    def say(message: str) -> None:
        stream.write(f"\r\033[K[{time.perf_counter() - start:6.1f}s] {message}")
        stream.flush()
        if message.endswith("done"):
            stream.write("\n")
    return say
