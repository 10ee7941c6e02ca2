"""The DuckDB backend's own settings."""
from __future__ import annotations

from engine.aggregation.backend import DuckDBBackend


def test_no_progress_bar_on_standard_output():
    """DuckDB draws a progress bar on stdout for a query over two seconds: on a large org it
    landed inside the JSON that `fairway diagnose --json` prints there."""
    backend = DuckDBBackend(threads=1)
    try:
        assert backend.scalar("SELECT current_setting('enable_progress_bar')") is False
    finally:
        backend.close()
