"""On generated orgs the focus names the planted deficiency, and healthy reps are left alone."""
from __future__ import annotations

import pandas as pd
import pytest

from engine.diagnosis.analysis import analyse
from engine.dataset import load_dataset
from engine.demo.org import generate_org, write_org


def _diagnose(tmp_path, catalog, **kw):
    org = generate_org(catalog.pipeline, months=12, **kw)
    folder = tmp_path / "org"
    write_org(org, folder)
    ds = load_dataset(folder, catalog.pipeline)
    diagnosis = analyse(ds, catalog).diagnosis
    truth = pd.read_csv(folder / "ground_truth.csv", keep_default_na=False).set_index("rep_id")
    got = {r.rep_id: (r.focus.metric if r.focus else None) for r in diagnosis.reps}
    return truth, got


@pytest.mark.parametrize("seed,end", [(5, "2026-08"), (9, "2026-05")])
def test_the_focus_names_the_planted_metric(tmp_path, catalog, seed, end):
    truth, got = _diagnose(tmp_path, catalog, reps=300, seed=seed, end=end, planted_share=0.3)
    planted = truth[truth["planted_metric"] != ""]
    healthy = truth[truth["planted_metric"] == ""]
    hits = sum(got[r] == m for r, m in planted["planted_metric"].items())
    false_alarms = sum(got[r] is not None for r in healthy.index)
    assert hits / len(planted) >= 0.95, f"{hits}/{len(planted)} planted reps found"
    assert false_alarms / len(healthy) <= 0.05, f"{false_alarms}/{len(healthy)} healthy reps given a focus"


def test_an_org_with_nothing_planted_gets_almost_no_focus(tmp_path, catalog):
    truth, got = _diagnose(tmp_path, catalog, reps=200, seed=11, end="2026-10", planted_share=0.0)
    assert (truth["planted_metric"] == "").all()
    assert sum(v is not None for v in got.values()) / len(got) <= 0.03
