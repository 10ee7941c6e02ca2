"""`catalog whatif`: the diagnosis with and without changed settings, against a plain
re-run of the diagnosis with an edited copy of the catalog's files."""
from __future__ import annotations

import re
import shutil

import pytest

from engine.catalog import load_catalog
from engine.catalog.loader import DEFAULT_ROOT
from engine.catalog.overrides import OverrideError, apply_overrides, parse_override
from engine.dataset import load_dataset
from engine.demo.org import generate_org, write_org
from engine.diagnosis import whatif as whatif_module
from engine.diagnosis.analysis import analyse, compiled_rules
from engine.diagnosis.whatif import whatif
from engine.errors import CatalogError


@pytest.fixture(scope="module")
def org(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("whatif") / "org"
    write_org(generate_org(catalog.pipeline, reps=40, months=12, seed=7, end="2026-10"), folder)
    return folder


@pytest.fixture(scope="module")
def dataset(org, catalog):
    return load_dataset(org, catalog.pipeline)


def edited_copy(tmp_path, edits: list[tuple[str, str, str]]):
    """The shipped catalog copied, with plain text substitutions in its files: (file, pattern, replacement)."""
    root = tmp_path / "catalog"
    shutil.copytree(DEFAULT_ROOT / "rules", root / "rules")
    shutil.copytree(DEFAULT_ROOT / "learning_library", root / "learning_library")
    for file, pattern, replacement in edits:
        path = root / file
        text, n = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.M)
        assert n == 1, f"{pattern!r} not in {file}"
        path.write_text(text)
    return load_catalog(root)


def focus_of(diagnosis) -> dict[str, str | None]:
    return {r.rep_id: (r.focus.metric if r.focus else None) for r in diagnosis.reps if not r.left}


TH = "rules/thresholds.yaml"
CASES = [
    (["min_gap=0.4"], [(TH, r"^min_gap: 0.15", "min_gap: 0.4")]),
    (["significance=0.2"], [(TH, r"^significance: 0.05", "significance: 0.2")]),
    (["min_shortfall=0.3"], [(TH, r"\Z", "min_shortfall: 0.3\n")]),
    (["gaps.low_call_volume.min_gap=0.36"], [("rules/gaps/prospecting.yaml", r"^    min_gap: 0.2 ", "    min_gap: 0.36 ")]),
    (["at_risk.stalled_quantile=0.5", "top_quantile=0.6"],
     [(TH, r"stalled_quantile: 0.8", "stalled_quantile: 0.5"), (TH, r"^top_quantile: 0.75", "top_quantile: 0.6")]),
]


@pytest.mark.parametrize("settings,edits", CASES, ids=[" ".join(s) for s, _ in CASES])
def test_whatif_is_a_plain_rerun_with_an_edited_copy(tmp_path, catalog, dataset, settings, edits):
    edited = edited_copy(tmp_path, edits)
    result = whatif(dataset, catalog, [parse_override(s) for s in settings])
    before = focus_of(analyse(dataset, catalog).diagnosis)
    after = focus_of(analyse(dataset, edited).diagnosis)
    changed = {c.rep_id: (c.before, c.after) for c in result.changed}
    assert changed == {r: (before[r], after[r]) for r in before if before[r] != after[r]}
    assert result.unchanged == sum(1 for r in before if before[r] == after[r])
    assert result.period == "2026-10"
    for gap, (b, a) in result.focus.items():
        metric = edited.behaviour_gaps[gap].metric
        assert b == sum(1 for m in before.values() if m == metric) and a == sum(1 for m in after.values() if m == metric)


def test_a_change_that_matters_changes_someone(catalog, dataset):
    """The cases above are not all vacuous: raising a gap's own min_gap past a rep's gap moves their focus."""
    result = whatif(dataset, catalog, [parse_override("gaps.low_call_volume.min_gap=0.36")])
    assert [(c.before, c.after) for c in result.changed] == [("activity.call", "talk_minutes")]
    doc = result.to_dict()
    assert set(doc) >= {"period", "changed", "unchanged"}
    assert set(doc["changed"][0]) >= {"rep_id", "name", "before", "after"}


def test_the_metrics_are_computed_once_when_the_change_does_not_touch_them(catalog, dataset, monkeypatch):
    calls = []
    real = whatif_module.compute_metrics
    monkeypatch.setattr(whatif_module, "compute_metrics", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert whatif(dataset, catalog, [parse_override("min_gap=0.3")]).metrics_reused
    assert len(calls) == 1
    calls.clear()
    assert not whatif(dataset, catalog, [parse_override("at_risk.size_quantile=0.7")]).metrics_reused
    assert len(calls) == 2        # the at-risk quantiles decide which open deals are at risk: a metric


def test_a_thresholds_change_compiles_to_the_same_ruleset(catalog):
    """Thresholds enter the facts as margins: a what-if registers no ruleset of its own."""
    changed = apply_overrides(catalog, [parse_override("min_gap=0.3"), parse_override("significance=0.01")])
    assert changed.version != catalog.version
    assert compiled_rules(changed).name == compiled_rules(catalog).name
    structural = apply_overrides(catalog, [parse_override("gaps.demo_dropoff.explains=[low_win_rate]")])
    assert compiled_rules(structural).name != compiled_rules(catalog).name


@pytest.mark.parametrize("item,message", [
    ("min_gapp=0.2", "did you mean 'min_gap'"),
    ("rag.greenn=0.9", "did you mean 'rag.green'"),
    ("gaps.demo_dropof.min_gap=0.2", "did you mean 'gaps.demo_dropoff.min_gap'"),
    ("gaps.demo_dropoff.minimum=0.2", "a gap has no key 'minimum'"),
    ("min_gap", "not KEY=VALUE"),
    ("=0.2", "not KEY=VALUE"),
])
def test_a_key_that_names_nothing_is_refused(catalog, item, message):
    with pytest.raises(OverrideError, match=re.escape(message)):
        apply_overrides(catalog, [parse_override(item)])


@pytest.mark.parametrize("item,where", [
    ("min_gap=2", "rules/thresholds.yaml:15, key min_gap"),
    ("min_gap=abc", "rules/thresholds.yaml:15, key min_gap"),
    ("rag.green=0.5", "rules/thresholds.yaml:24, key rag: yellow must not be above green"),
    ("gaps.demo_dropoff.compare_to=[industri]", "did you mean 'industry'"),
    ("industry.talk_minutes=.nan", "industry.talk_minutes"),
])
def test_a_value_the_catalog_refuses_is_located(catalog, item, where):
    with pytest.raises(CatalogError) as err:
        apply_overrides(catalog, [parse_override(item)])
    assert where in str(err.value)
    assert item.split("=")[0] in str(err.value)        # the message says which --set it came from


def test_the_changed_catalog_reads_its_assets_where_the_original_does(catalog):
    changed = apply_overrides(catalog, [parse_override("min_gap=0.2")])
    assert changed.root == catalog.root and changed.thresholds.min_gap == 0.2
    assert catalog.thresholds.min_gap == 0.15                      # the original is untouched
