"""A catalog as files: read from a folder, written back, zipped, compared; edits of its YAML
that keep every comment and the rest of the layout as written."""
from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings, strategies as st

from engine.catalog import load_catalog
from engine.catalog.bundle import (changes, diff_text, digest, materialised, path_problem, read_folder,
                                   read_zip, to_zip, write_folder)
from engine.catalog.edits import delete_asset, find_asset, put_asset, read_thresholds, set_thresholds
from engine.catalog.loader import DEFAULT_ROOT
from engine.errors import CatalogError
from engine.yamlspec.edit import EditError, append_item, remove_item, replace_item, set_value
from engine.yamlspec.parse import parse_yaml


@pytest.fixture(scope="module")
def shipped():
    files, problems, left_out = read_folder(DEFAULT_ROOT)
    assert not problems
    return files


def test_a_folder_read_and_written_back_is_the_same_catalog(shipped, tmp_path, catalog):
    assert "rules/thresholds.yaml" in shipped and "learning_library/microlearning/bant-in-fifteen-minutes.md" in shipped
    write_folder(shipped, tmp_path / "copy")
    again = load_catalog(tmp_path / "copy")
    assert again.version == catalog.version            # the same content hash: the same catalog
    assert read_folder(tmp_path / "copy")[0] == shipped


def test_a_zip_round_trips_and_may_hold_its_files_in_one_folder(shipped):
    data = to_zip(shipped, folder="catalog-v3")
    assert to_zip(shipped, folder="catalog-v3") == data             # deterministic
    files, problems, left_out = read_zip(data)
    assert files == shipped and not problems and not left_out
    assert read_zip(to_zip(shipped))[0] == shipped                 # or at its top


def test_a_zip_says_what_it_left_out_and_refuses_what_it_cannot_take(shipped):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("rules/thresholds.yaml", shipped["rules/thresholds.yaml"])
        z.writestr("README.txt", "notes")
        z.writestr("rules/gaps/sub/deep.yaml", "performance: []")
        z.writestr("learning_library/../../etc/passwd.md", "x")
        z.writestr("learning_library/microlearning/bad.md", b"\xff\xfe not utf-8")
        z.writestr("learning_library/huge.yaml", "a: " + "x" * (2 * 1024 * 1024))
    files, problems, left_out = read_zip(out.getvalue())
    assert list(files) == ["rules/thresholds.yaml"]
    assert {"README.txt", "rules/gaps/sub/deep.yaml", "learning_library/../../etc/passwd.md"} <= set(left_out)
    messages = {p.file: p.message for p in problems}
    assert "not valid utf-8" in messages["learning_library/microlearning/bad.md"]
    assert "too large" in messages["learning_library/huge.yaml"]
    assert read_zip(b"not a zip")[1][0].message.startswith("not a zip file")


@pytest.mark.parametrize("path,ok", [
    ("rules/thresholds.yaml", True), ("rules/flows/new_gap.yaml", True), ("learning_library/x.yaml", True),
    ("learning_library/role_play/a-b.md", True), ("rules/other.yaml", False), ("rules/flows/x.yml", False),
    ("learning_library/a.md", False), ("/etc/passwd", False), ("rules/flows/../../x.yaml", False),
    ("rules/flows/.hidden.yaml", False), ("learning_library/x/../../y.md", False), ("rules\\flows\\x.yaml", False),
])
def test_only_the_places_the_loader_reads_are_catalog_files(path, ok):
    assert (path_problem(path) is None) is ok


def test_changes_are_unified_diffs_per_file(shipped):
    after = dict(shipped)
    after["rules/thresholds.yaml"] = shipped["rules/thresholds.yaml"].replace("min_gap: 0.15", "min_gap: 0.2")
    after["rules/flows/new.yaml"] = "behaviour_gap: x\n"
    del after["learning_library/role_play/rp-demo-opening.md"]
    found = {c.path: c for c in changes(shipped, after, "v1", "v2")}
    assert set(found) == {"rules/thresholds.yaml", "rules/flows/new.yaml", "learning_library/role_play/rp-demo-opening.md"}
    assert found["rules/thresholds.yaml"].status == "changed" and (found["rules/thresholds.yaml"].added,
                                                                  found["rules/thresholds.yaml"].removed) == (1, 1)
    assert "-min_gap: 0.15\n+min_gap: 0.2\n" in found["rules/thresholds.yaml"].diff
    assert found["rules/flows/new.yaml"].status == "added" and found["learning_library/role_play/rp-demo-opening.md"].status == "removed"
    assert diff_text(shipped, after, "v1", "v2") == "".join(c.diff for c in changes(shipped, after, "v1", "v2"))
    assert digest(shipped) != digest(after) and not changes(shipped, dict(shipped))


def test_write_folder_refuses_paths_the_catalog_does_not_read(tmp_path):
    with pytest.raises(CatalogError):
        write_folder({"../outside.yaml": "x"}, tmp_path / "c")
    with materialised({"rules/thresholds.yaml": "min_gap: 0.2\n"}) as folder:
        assert (folder / "rules/thresholds.yaml").read_text() == "min_gap: 0.2\n"
    assert not folder.exists()


# --------------------------------------------------------------------------- edits keep the rest as written

TEXT = """# a comment that stays
significance: 0.05   # and this one

min_sample:
  proportion: 15   # closed opportunities
  amount: 5
rag: {green: 0.9, yellow: 0.7}
items:
  - id: a
    title: First
  # between items
  - id: b
    title: Second
"""


def test_set_value_changes_the_value_and_nothing_else():
    out = set_value(TEXT, "t.yaml", ("significance",), 0.01)
    assert out == TEXT.replace("significance: 0.05", "significance: 0.01")
    out = set_value(TEXT, "t.yaml", ("min_sample", "proportion"), 20)
    assert "  proportion: 20   # closed opportunities\n" in out and out.count("\n") == TEXT.count("\n")


def test_set_value_adds_a_key_where_it_is_missing():
    out = set_value(TEXT, "t.yaml", ("min_sample", "count"), 3)
    assert "  amount: 5\n  count: 3\n" in out
    out = set_value(TEXT, "t.yaml", ("rag", "red"), 0.1)
    assert "rag: {green: 0.9, yellow: 0.7, red: 0.1}" in out
    out = set_value(TEXT, "t.yaml", ("at_risk", "size_quantile"), 0.8)
    assert parse_yaml(out, "t.yaml")[0].data["at_risk"] == {"size_quantile": 0.8}
    assert set_value("", "t.yaml", ("a", "b"), 1) == "a: {b: 1}\n"


def test_list_items_are_replaced_added_and_removed_in_place():
    out = replace_item(TEXT, "t.yaml", ("items",), 1, {"id": "b", "title": "Second: revised", "tags": ["x", "y"]})
    data = parse_yaml(out, "t.yaml")[0].data
    assert data["items"][1] == {"id": "b", "title": "Second: revised", "tags": ["x", "y"]}
    assert "  # between items\n" in out and out.startswith("# a comment that stays\n")
    out = append_item(TEXT, "t.yaml", ("items",), {"id": "c", "title": "Third"})
    assert parse_yaml(out, "t.yaml")[0].data["items"][-1] == {"id": "c", "title": "Third"}
    out = remove_item(TEXT, "t.yaml", ("items",), 0)
    assert [i["id"] for i in parse_yaml(out, "t.yaml")[0].data["items"]] == ["b"]
    out = remove_item(out, "t.yaml", ("items",), 0)
    assert parse_yaml(out, "t.yaml")[0].data["items"] == []


def test_an_edit_that_cannot_be_made_is_refused():
    with pytest.raises(EditError):
        set_value("a: [1, 2\n", "t.yaml", ("a",), 1)                 # not YAML
    with pytest.raises(EditError):
        set_value(TEXT, "t.yaml", ("significance", "deeper"), 1)     # a number has no keys
    with pytest.raises(EditError):
        replace_item(TEXT, "t.yaml", ("items",), 5, {"id": "z"})


KEYS = st.sampled_from([("significance",), ("min_gap",), ("rag", "green"), ("min_sample", "count"),
                        ("at_risk", "age_quantile"), ("industry", "win_rate"), ("industry", "talk_minutes")])
VALUES = st.one_of(st.floats(min_value=0, max_value=1, allow_nan=False), st.integers(0, 1000),
                   st.sampled_from(["team_median", "yes", "a: b", "#x", "[1]", "' quoted"]))


@settings(max_examples=60, deadline=None)
@given(key=KEYS, value=VALUES)
def test_any_value_set_reads_back_and_leaves_the_others_alone(key, value):
    text = (DEFAULT_ROOT / "rules/thresholds.yaml").read_text()
    expected = parse_yaml(text, "t")[0].data
    expected.setdefault(key[0], {}) if len(key) > 1 else None
    node = expected
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = value
    out = set_value(text, "t", key, value)
    assert parse_yaml(out, "t")[0].data == expected
    assert out.count("#") >= text.count("#")              # every comment is still there


def test_the_thresholds_form_writes_only_what_changed(shipped):
    files = set_thresholds(shipped, {("min_gap",): 0.2, ("rag", "green"): 0.9, ("min_sample", "count"): 0})
    assert [c.path for c in changes(shipped, files)] == ["rules/thresholds.yaml"]
    assert changes(shipped, files)[0].added == 1
    thresholds, problems = read_thresholds(files)
    assert thresholds.min_gap == 0.2 and not problems


def test_an_asset_is_added_edited_and_removed_with_its_markdown(shipped):
    asset = {"id": "handle-silence", "title": "Handle silence", "kind": "microlearning", "minutes": 10,
             "addresses": ["objection_handling"], "roles": ["isr"]}
    files = put_asset(shipped, asset, "# Handle silence\n")
    assert files["learning_library/microlearning/handle-silence.md"] == "# Handle silence\n"
    path, index, item = find_asset(files, "handle-silence")
    assert item["file"] == "microlearning/handle-silence.md" and item["roles"] == ["isr"]
    with materialised(files) as folder:
        cat = load_catalog(folder)
        assert "handle-silence" in [a.id for a in cat.assets_for("objection_handling", "isr")]
    linked = put_asset(files, {**asset, "title": "Handle silence well", "url": "https://example.org/x"}, None,
                       "handle-silence")
    assert find_asset(linked, "handle-silence")[2]["url"] == "https://example.org/x"
    assert "learning_library/microlearning/handle-silence.md" not in linked          # its text went with it
    removed = delete_asset(files, "handle-silence")
    assert find_asset(removed, "handle-silence") is None and removed == {**shipped}
