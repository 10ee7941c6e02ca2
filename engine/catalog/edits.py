"""The edits the app's forms make to a catalog's files, as an author would make them by hand.

Each takes the files (`{relative path: text}`) and returns them changed; the texts are
changed in place (engine.yamlspec.edit), so comments and layout stay as written. Whether
the result is a sound catalog is for `catalog check` to say, at its line and key.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import Problem
from ..yamlspec.edit import EditError, append_item, remove_item, replace_item, set_value, value_at
from ..yamlspec.parse import PathKey, parse_yaml
from ..yamlspec.spec import validate_located
from .specs import Thresholds

THRESHOLDS = "rules/thresholds.yaml"
ASSETS_FILE = "learning_library/assets.yaml"
ASSET_FOLDERS = {"microlearning": "microlearning", "role_play": "role_play", "exercise": "exercise",
                 "video": "microlearning", "reading": "microlearning"}


def read_thresholds(files: Mapping[str, str]) -> tuple[Thresholds | None, list[Problem]]:
    """The thresholds of the files, or the problems that keep them from being read."""
    if THRESHOLDS not in files:
        return None, [Problem(file=THRESHOLDS, message="file is missing")]
    doc, problems = parse_yaml(files[THRESHOLDS], THRESHOLDS)
    if doc is None or problems:
        return None, problems
    spec, problems = validate_located(doc, Thresholds)
    return (spec if not problems else None), problems


def set_thresholds(files: Mapping[str, str], values: Mapping[PathKey, Any]) -> dict[str, str]:
    """The files with the thresholds that differ from their present value written in."""
    current, problems = read_thresholds(files)
    if current is None:
        raise EditError(problems)
    now = current.model_dump(mode="json")
    text = files[THRESHOLDS]
    for path, value in values.items():
        if value_at(now, path) != value:
            text = set_value(text, THRESHOLDS, path, value)
    return {**files, THRESHOLDS: text}


def library_items(files: Mapping[str, str], key: str) -> list[tuple[str, int, dict]]:
    """(file, index, item) of every learning asset (`assets`) or template (`assignments`) written."""
    out = []
    for path in sorted(files):
        if not (path.startswith("learning_library/") and path.endswith(".yaml") and path.count("/") == 1):
            continue
        doc, problems = parse_yaml(files[path], path)
        if doc is None or not isinstance(doc.data, dict) or not isinstance(doc.data.get(key), list):
            continue
        out += [(path, i, item) for i, item in enumerate(doc.data[key]) if isinstance(item, dict)]
    return out


def find_asset(files: Mapping[str, str], asset_id: str) -> tuple[str, int, dict] | None:
    return next((entry for entry in library_items(files, "assets") if entry[2].get("id") == asset_id), None)


def asset_body_path(asset: Mapping[str, Any]) -> str:
    """Where a new asset's Markdown goes: learning_library/<folder of its kind>/<id>.md."""
    return f"learning_library/{ASSET_FOLDERS.get(asset.get('kind', ''), 'microlearning')}/{asset['id']}.md"


def put_asset(files: Mapping[str, str], asset: dict, body: str | None, original_id: str | None = None
              ) -> dict[str, str]:
    """The files with the asset written (replacing `original_id`'s entry, or added to
    learning_library/assets.yaml), and its Markdown `body` (None: an external link)."""
    out = dict(files)
    entry = find_asset(out, original_id) if original_id else None
    asset = dict(asset)
    old_file = entry[2].get("file") if entry else None
    if body is not None:
        asset["file"] = old_file if isinstance(old_file, str) else asset_body_path(asset)[len("learning_library/"):]
        asset.pop("url", None)
        out[f"learning_library/{asset['file']}"] = body
    if entry is not None:
        path, index, _ = entry
        out[path] = replace_item(out[path], path, ("assets",), index, asset)
    else:
        path = ASSETS_FILE if ASSETS_FILE in out else next(
            (p for p, _, _ in library_items(out, "assets")), ASSETS_FILE)
        out[path] = append_item(out.get(path, ""), path, ("assets",), asset)
    if isinstance(old_file, str) and body is None:
        _drop_unreferenced(out, old_file)
    return out


def delete_asset(files: Mapping[str, str], asset_id: str) -> dict[str, str]:
    out = dict(files)
    entry = find_asset(out, asset_id)
    if entry is None:
        raise EditError([Problem(file="learning_library", column=asset_id, message="no such learning asset")])
    path, index, item = entry
    out[path] = remove_item(out[path], path, ("assets",), index)
    if isinstance(item.get("file"), str):
        _drop_unreferenced(out, item["file"])
    return out


def _drop_unreferenced(files: dict[str, str], file: str) -> None:
    if not any(a.get("file") == file for _, _, a in library_items(files, "assets")):
        files.pop(f"learning_library/{file}", None)
