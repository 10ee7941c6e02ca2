"""The Spark path gives the metrics and the diagnosis the DuckDB path gives, on the demo org.

Spark runs in local mode on Debian's OpenJDK (installed by .ci/run). Where Spark or Java
is missing the test is skipped, unless FAIRWAY_REQUIRE_SPARK=1 (CI), where that fails.
"""
from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from engine.dataset import load_dataset
from engine.demo.org import generate_org, write_org
from engine.diagnosis.analysis import analyse
from engine.errors import DatasetError


def _spark_or_skip():
    missing = []
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing.append("pyspark")
    if shutil.which("java") is None:
        missing.append("java")
    if missing:
        if os.environ.get("FAIRWAY_REQUIRE_SPARK") == "1":
            pytest.fail(f"FAIRWAY_REQUIRE_SPARK=1 but {' and '.join(missing)} missing")
        pytest.skip(f"{' and '.join(missing)} not installed: the Spark path is not tested here")


@pytest.fixture(scope="module")
def org(tmp_path_factory, catalog):
    _spark_or_skip()
    folder = tmp_path_factory.mktemp("spark") / "org"
    write_org(generate_org(catalog.pipeline, reps=30, months=6, seed=7, end="2026-04", planted_share=0.3), folder)
    return folder


@pytest.fixture(scope="module")
def both(org, catalog):
    duck = analyse(load_dataset(org, catalog.pipeline, engine="duckdb"), catalog)
    spark = analyse(load_dataset(org, catalog.pipeline, engine="spark"), catalog)
    return duck, spark


def test_spark_and_duckdb_give_the_same_metrics(both):
    duck, spark = both
    a, b = duck.table, spark.table
    assert a.period == b.period
    pd.testing.assert_frame_equal(a.reps, b.reps)
    for frame in ("value", "num", "den", "n"):
        x, y = getattr(a, frame), getattr(b, frame)
        assert list(x.columns) == list(y.columns)
        assert np.allclose(x.to_numpy(dtype=float), y.to_numpy(dtype=float), equal_nan=True, rtol=1e-9), frame
    assert (a.funnel == b.funnel).all()
    for name in a.series:
        assert np.allclose(a.series[name].to_numpy(dtype=float), b.series[name].to_numpy(dtype=float))
    pd.testing.assert_frame_equal(a.open_opps.reset_index(drop=True), b.open_opps.reset_index(drop=True),
                                  check_dtype=False)


def test_spark_and_duckdb_give_the_same_diagnosis(both):
    duck, spark = both
    assert [(r.rep_id, r.focus) for r in duck.diagnosis.reps] == [(r.rep_id, r.focus) for r in spark.diagnosis.reps]


def test_spark_refuses_what_duckdb_refuses(org, tmp_path, catalog):
    broken = tmp_path / "broken"
    shutil.copytree(org, broken)
    reps = pd.read_csv(broken / "reps.csv", dtype=str, keep_default_na=False)
    reps.loc[2, "role"] = "closer"
    reps.to_csv(broken / "reps.csv", index=False)
    problems = {}
    for engine in ("duckdb", "spark"):
        with pytest.raises(DatasetError) as err:
            load_dataset(broken, catalog.pipeline, engine=engine)
        problems[engine] = [(p.file, p.row, p.column, p.message) for p in err.value.problems]
    assert problems["spark"] == problems["duckdb"] == [("reps.csv", 4, "role", "unknown role")]


def test_spark_reads_a_partitioned_folder_as_duckdb_does(org, tmp_path, catalog):
    """Activities as a folder of Parquet parts in month=... folders, as a data lake holds them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    lake = tmp_path / "lake"
    shutil.copytree(org, lake)
    acts = pacsv.read_csv(lake / "activities.csv", convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in ("rep_id", "date", "type", "opportunity_id")}))
    (lake / "activities.csv").unlink()
    pq.write_to_dataset(acts.append_column("month", pc.utf8_slice_codeunits(acts["date"], 0, 7)),
                        lake / "activities", partition_cols=["month"])
    duck = load_dataset(lake, catalog.pipeline, engine="duckdb")
    spark = load_dataset(lake, catalog.pipeline, engine="spark")
    assert duck.rows == spark.rows
    a, b = (ds.activity_daily.assign(day=lambda f: pd.to_datetime(f["day"])) for ds in (duck, spark))
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
