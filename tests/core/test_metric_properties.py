"""Properties that hold for any data: funnels never widen, rates stay in [0, 1]."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.catalog.specs import Thresholds
from engine.dataset.validate import dataset_from_frames
from engine.metrics.compute import compute_metrics
from engine.metrics.registry import SampleKind
from engine.diagnosis.documents import dumps, funnel_rows

START = np.datetime64("2026-05-01", "s")


@st.composite
def orgs(draw):
    n_reps = draw(st.integers(1, 4))
    n_opps = draw(st.integers(0, 40))
    rows = draw(st.lists(st.tuples(
        st.integers(0, n_reps - 1),          # owner
        st.integers(0, 4),                   # furthest stage (4 = won)
        st.sampled_from(["open", "lost", "won"]),
        st.integers(0, 170),                 # created, days after START
        st.integers(0, 60),                  # days to close
        st.floats(0, 1e6, allow_nan=False),
        st.integers(-1, 7),                  # loss reason code
    ), min_size=n_opps, max_size=n_opps))
    n_acts = draw(st.integers(0, 60))
    acts = draw(st.lists(st.tuples(st.integers(0, n_reps - 1), st.integers(0, 4), st.integers(0, 180),
                                   st.floats(0, 30, allow_nan=False)), min_size=n_acts, max_size=n_acts))
    return n_reps, rows, acts


def build(catalog, n_reps, rows, acts) -> Dataset:
    reasons = catalog.pipeline.loss_reasons
    status = [("won" if r[2] == "won" or r[1] == 4 else ("open" if r[2] == "open" else "lost")) for r in rows]
    furthest = [4 if s == "won" else min(r[1], 3) for r, s in zip(rows, status)]
    created = np.array([START + np.timedelta64(r[3], "D") for r in rows], dtype="datetime64[s]")
    close = created + np.array([np.timedelta64(r[4], "D") for r in rows], dtype="timedelta64[s]")
    opps = pd.DataFrame({
        "opp": np.arange(len(rows), dtype=np.int32),
        "rep": np.array([r[0] for r in rows], dtype=np.int32),
        "source_rep": np.full(len(rows), -1, np.int32), "created": created, "close": close,
        "status": pd.Categorical(status, categories=["open", "won", "lost"]),
        "furthest": np.array(furthest, dtype=np.int8), "amount": np.array([r[5] for r in rows]),
        "loss_reason": pd.Categorical([reasons[r[6]] if r[6] >= 0 and s == "lost" else None
                                       for r, s in zip(rows, status)], categories=reasons),
        "account": pd.Series([None] * len(rows), dtype=object),
    })
    activities = pd.DataFrame({
        "rep": np.array([a[0] for a in acts], dtype=np.int32),
        "date": np.array([START + np.timedelta64(a[2], "D") for a in acts], dtype="datetime64[s]"),
        "type": np.array([a[1] for a in acts], dtype=np.int8),
        "duration": np.array([a[3] for a in acts], dtype=np.float32),
        "opp": np.full(len(acts), -1, np.int32)})
    reps = pd.DataFrame({"rep_id": [f"R{i}" for i in range(n_reps)], "name": "x", "role": "isr",
                         "team": "T", "division": "D", "manager": "M",
                         "start_date": np.full(n_reps, np.datetime64("NaT", "s")), "email": None})
    history = pd.DataFrame({"opp": np.array([], np.int32), "stage": np.array([], np.int8),
                            "entered": np.array([], "datetime64[s]")})
    goals = pd.DataFrame({"rep": np.array([], np.int32), "period": [], "metric": [], "target": []})
    p = catalog.pipeline
    return dataset_from_frames(p, reps, opps, activities, history, goals)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(org=orgs())
def test_funnels_never_widen_and_rates_stay_in_unit_interval(catalog, org):
    ds = build(catalog, *org)
    table = compute_metrics(ds, catalog.pipeline, Thresholds(), "2026-10")
    assert (np.diff(table.funnel, axis=1) <= 0).all()
    for m in table.metric_ids:
        if table.registry.get(m).test == SampleKind.proportion:
            v = table.value[m].dropna()
            assert ((v >= 0) & (v <= 1)).all(), m
    values = table.value.to_numpy()
    assert not np.isinf(values).any()
    for i in range(len(table.reps)):
        rows = funnel_rows(table.funnel[i], catalog.pipeline.all_stages)
        for r in rows:
            for k in ("conversion_to_next", "conversion_from_top"):
                assert r[k] is None or 0 <= r[k] <= 1
        dumps(rows)
