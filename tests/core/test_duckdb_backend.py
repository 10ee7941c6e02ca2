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


def test_a_join_builds_on_the_lookup_the_sql_names_not_on_a_file_of_unknown_size(tmp_path):
    """DuckDB guesses a few dozen rows for a CSV file read as a view and would build its hash
    table on the file (1.6 M Salesforce tasks: out of memory at the limit) to probe it with the
    lookup; the join keeps the side the SQL gives it."""
    with open(tmp_path / "big.csv", "w") as fh:
        fh.write("id,k\n")
        fh.writelines(f"{i},K{i % 30000}\n" for i in range(100_000))
    backend = DuckDBBackend(threads=1)
    try:
        backend.execute(f"CREATE TEMP VIEW big AS SELECT * FROM read_csv('{tmp_path / 'big.csv'}', "
                        "columns={'id': 'VARCHAR', 'k': 'VARCHAR'}, header=true, auto_detect=false)")
        backend.table("keys", "SELECT 'K' || range AS k FROM range(30000)")

        def join_type() -> str:
            plan = backend.rows("EXPLAIN SELECT * FROM big AS s LEFT JOIN keys AS r ON r.k = s.k")[0][1]
            return next(line for line in plan.splitlines() if "Join Type" in line).strip("│ ").split()[-1]
        assert join_type() == "LEFT"
        backend.execute("SET disabled_optimizers = ''")       # DuckDB's own choice, for contrast
        assert join_type() == "RIGHT"
    finally:
        backend.close()
