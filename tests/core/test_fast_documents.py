"""The documents' fast paths give exactly what the plain ones give."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from engine.dataset import load_dataset
from engine.demo.org import generate_org, write_org
from engine.diagnosis.analysis import analyse
from engine.diagnosis.documents import clean


@pytest.fixture(scope="module")
def analysis(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("org")
    write_org(generate_org(catalog.pipeline, months=12, reps=80, seed=5, end="2026-08", planted_share=0.4), folder)
    return analyse(load_dataset(folder, catalog.pipeline), catalog)


def test_clean_unwraps_numpy_and_nulls_what_json_cannot_hold():
    got = clean({"a": float("nan"), 5: [np.float64(1.5), np.int64(2), np.bool_(True), float("inf"), -float("inf"),
                                       3, True, "x", None, (1, np.float32(0.5)), np.float64("nan")],
                 "t": pd.Timestamp("2026-01-02 10:00"), "n": pd.NaT})
    assert got == {"a": None, "5": [1.5, 2, True, None, None, 3, True, "x", None, [1, 0.5], None],
                   "t": "2026-01-02", "n": None}
    assert type(got["5"][0]) is float and type(got["5"][1]) is int and type(got["5"][2]) is bool


def test_a_rep_diagnosis_as_a_dict_is_dataclasses_asdict(analysis):
    reps = analysis.diagnosis.reps
    assert any(r.focus for r in reps) and any(r.opening for r in reps) and any(r.findings for r in reps)
    for r in reps:
        assert r.to_dict() == dataclasses.asdict(r)


def test_plan_rows_are_read_from_the_frames(analysis, catalog):
    from engine.metrics.plan import success_plans
    plans = success_plans(analysis.table, analysis.benchmarks, catalog.pipeline)
    for i in range(len(analysis.table.reps)):
        kind = catalog.pipeline.role(analysis.table.reps["role"].iloc[i]).kind.value
        for row, st in zip(plans.for_rep(i, kind), plans.steps[kind]):
            needed = plans.needed.at[i, st.id]
            assert row["source"] == plans.source.at[i, st.id]
            assert row["needed"] == (None if not math.isfinite(needed) else round(float(needed), 2))
