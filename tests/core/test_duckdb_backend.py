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


def test_only_the_typed_tables_outlive_the_load(tmp_path, catalog):
    """The records as read and the ids' lookups serve the checks and the build only: the analysis
    does not carry them (tens of megabytes on a large org)."""
    from engine.dataset import load_dataset
    from engine.demo.org import generate_org, write_org
    write_org(generate_org(catalog.pipeline, reps=12, months=3, seed=3, end="2026-04"), tmp_path / "org")
    ds = load_dataset(tmp_path / "org", catalog.pipeline, engine="duckdb")
    left = {r[0] for r in ds.backend.rows(
        "SELECT table_name FROM duckdb_tables() WHERE NOT (table_name LIKE 'rej\\_%' ESCAPE '\\' "
        "OR table_name LIKE 'scan\\_%' ESCAPE '\\') UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert left == {"opps", "history", "act_daily", "opp_daily"}


def test_drop_takes_a_view_or_a_table_and_nothing_is_no_error():
    backend = DuckDBBackend(threads=1)
    try:
        backend.execute("CREATE TEMP VIEW v AS SELECT 1 AS x")
        backend.table("t", "SELECT 1 AS x")
        for name in ("v", "t", "never_made"):
            backend.drop(name)
        assert backend.scalar("SELECT count(*) FROM duckdb_views() WHERE view_name = 'v'") == 0
        assert backend.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 't'") == 0
    finally:
        backend.close()
