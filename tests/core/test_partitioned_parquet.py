"""A table as a partitioned folder of Parquet files (as Spark, warehouse unloads and data-lake
syncs write them) reads as the one table it is; its bad values are located in their part file."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from engine.dataset import load_dataset
from engine.demo.org import generate_org, write_org
from engine.diagnosis.analysis import analyse
from engine.errors import DatasetError


@pytest.fixture(scope="module")
def orgs(tmp_path_factory, catalog):
    """The same org as CSV files, and as Parquet with activities partitioned by month (key=value
    folders, the month a column of the folder only) and opportunities in two plain parts."""
    root = tmp_path_factory.mktemp("partitioned")
    org = generate_org(catalog.pipeline, reps=12, months=3, seed=3, end="2026-04")
    write_org(org, root / "csv")
    write_org(org, root / "pq", fmt="parquet")
    acts = pq.read_table(root / "pq" / "activities.parquet")
    (root / "pq" / "activities.parquet").unlink()
    month = pc.utf8_slice_codeunits(pc.cast(acts["date"], pa.string()), 0, 7)
    pq.write_to_dataset(acts.append_column("month", month), root / "pq" / "activities", partition_cols=["month"])
    opps = pq.read_table(root / "pq" / "opportunities.parquet")
    (root / "pq" / "opportunities.parquet").unlink()
    (root / "pq" / "opportunities.parquet").mkdir()
    half = opps.num_rows // 2
    pq.write_table(opps.slice(0, half), root / "pq" / "opportunities.parquet" / "part-00000.parquet")
    pq.write_table(opps.slice(half), root / "pq" / "opportunities.parquet" / "part-00001.parquet")
    return root


def _copy(src, dst):
    import shutil
    shutil.copytree(src, dst)
    return dst


def test_a_partitioned_folder_reads_as_the_table_it_is(orgs, catalog):
    read = [load_dataset(orgs / kind, catalog.pipeline) for kind in ("csv", "pq")]
    assert read[0].rows == read[1].rows
    a, b = (analyse(ds, catalog) for ds in read)
    x, y = a.table.value, b.table.value
    assert list(x.columns) == list(y.columns)
    assert np.allclose(x.to_numpy(dtype=float), y.to_numpy(dtype=float), equal_nan=True)
    assert [(r.rep_id, r.focus) for r in a.diagnosis.reps] == [(r.rep_id, r.focus) for r in b.diagnosis.reps]


def test_a_bad_value_is_located_in_its_part_file(orgs, tmp_path, catalog):
    folder = _copy(orgs / "pq", tmp_path / "bad")
    part = sorted((folder / "activities").rglob("*.parquet"))[1]
    table = pq.read_table(part)
    minutes = table["duration_minutes"].to_pylist()
    minutes[3] = -5.0
    pq.write_table(table.set_column(table.schema.get_field_index("duration_minutes"), "duration_minutes",
                                    pa.array(minutes, pa.float64())), part)
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, catalog.pipeline)
    where = [(p.file, p.row, p.column, p.message) for p in err.value.problems]
    assert where == [(f"activities/{part.relative_to(folder / 'activities').as_posix()}", 5, "duration_minutes",
                      "negative value")]


def test_a_table_as_a_file_and_a_folder_is_ambiguous(orgs, tmp_path, catalog):
    folder = _copy(orgs / "pq", tmp_path / "both")
    pd.DataFrame({"rep_id": ["R0001"]}).to_csv(folder / "activities.csv", index=False)
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, catalog.pipeline)
    assert [(p.file, p.message) for p in err.value.problems] == [
        ("activities.*", "more than one file or folder for the table: activities.csv, activities/")]


def test_a_link_in_a_partitioned_folder_is_refused(orgs, tmp_path, catalog):
    folder = _copy(orgs / "pq", tmp_path / "link")
    os.symlink(folder / "reps.parquet", folder / "opportunities.parquet" / "part-00002.parquet")
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, catalog.pipeline)
    assert [(p.file, p.message.split(":")[0]) for p in err.value.problems] == [
        ("opportunities.parquet/part-00002.parquet", "a symbolic link")]


def test_a_folder_of_csv_parts_is_still_a_folder_where_a_file_belongs(orgs, tmp_path, catalog):
    folder = _copy(orgs / "csv", tmp_path / "csvdir")
    (folder / "goals.csv").rename(folder / "g.csv")
    (folder / "goals.csv").mkdir()
    (folder / "g.csv").rename(folder / "goals.csv" / "part-0.csv")
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, catalog.pipeline)
    assert [p.file for p in err.value.problems] == ["goals.csv"]
    assert "folder" in err.value.problems[0].message


def test_an_unreadable_part_is_named_as_the_user_knows_it(orgs, tmp_path, catalog):
    folder = _copy(orgs / "pq", tmp_path / "corrupt")
    (folder / "opportunities.parquet" / "part-00009.parquet").write_bytes(b"PAR1 not parquet at all")
    with pytest.raises(DatasetError) as err:
        load_dataset(folder, catalog.pipeline)
    [problem] = err.value.problems
    assert problem.file == "opportunities.parquet/part-00009.parquet"
    assert problem.message.startswith("not a readable Parquet file") and str(tmp_path) not in problem.message


def test_parts_whose_columns_drifted_are_read_by_name(orgs, tmp_path, catalog):
    """Schema drift across partitions, as syncs produce it: a column's type changed in one part
    (numbers written as text), a column missing from another (its values there are missing)."""
    folder = _copy(orgs / "pq", tmp_path / "drift")
    parts = folder / "opportunities.parquet"
    first = pq.read_table(parts / "part-00000.parquet")
    amount = first.schema.get_field_index("amount")
    pq.write_table(first.set_column(amount, "amount", pa.array(
        [None if x is None else repr(x) for x in first["amount"].to_pylist()], pa.string())), parts / "part-00000.parquet")
    second = pq.read_table(parts / "part-00001.parquet")
    pq.write_table(second.drop(["loss_reason"]), parts / "part-00001.parquet")
    drifted = load_dataset(folder, catalog.pipeline).opportunities
    plain = load_dataset(orgs / "csv", catalog.pipeline).opportunities
    assert np.allclose(drifted["amount"].to_numpy(dtype=float), plain["amount"].to_numpy(dtype=float), equal_nan=True)
    half = len(first)
    assert drifted["loss_reason"].iloc[half:].isna().all()
    assert drifted["loss_reason"].iloc[:half].tolist() == plain["loss_reason"].iloc[:half].tolist()


def test_a_part_named_in_capitals_is_read_not_skipped(orgs, tmp_path, catalog):
    """The engine reads the parts the reader found: a glob of its own would skip PART.PARQUET."""
    folder = _copy(orgs / "pq", tmp_path / "caps")
    parts = folder / "opportunities.parquet"
    (parts / "part-00001.parquet").rename(parts / "PART-00001.PARQUET")
    assert load_dataset(folder, catalog.pipeline).rows == load_dataset(orgs / "csv", catalog.pipeline).rows
