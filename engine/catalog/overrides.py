"""Changes of a catalog's settings given as `KEY=VALUE`, applied as edits of its files.

KEY is a dotted path into rules/thresholds.yaml (`min_gap`, `rag.green`,
`min_sample.proportion`, `industry.win_rate`), or a gap's own key,
`gaps.<gap id>.<key>` (`gaps.demo_dropoff.min_gap`, `gaps.low_win_rate.compare_to`).
VALUE is read as YAML reads it (`0.2`, `company_median`, `[plan, team_median]`).

The change is made the way an author would make it: the catalog's files are copied, the
values written into them (comments and layout kept, engine.yamlspec.edit), and the copy
loaded and cross-checked as any catalog is. So a value the catalog refuses is refused
with the file, line and key `catalog check` would name, and a what-if sees exactly the
catalog an edited copy of the files would be.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from ..errors import CatalogError, Problem, ProblemsError, did_you_mean
from ..yamlspec.edit import EditError, set_value
from ..yamlspec.parse import PathKey, parse_yaml
from .bundle import materialised, read_folder
from .loader import inspect_catalog
from .model import Catalog
from .specs import BehaviourGap, Thresholds

THRESHOLDS_FILE = "rules/thresholds.yaml"


class OverrideError(ProblemsError):
    """A `KEY=VALUE` that names no setting, or is not written as one (a usage error)."""

    what = "--set"


@dataclass(frozen=True)
class Override:
    key: str                 # as given: min_gap, gaps.demo_dropoff.min_gap
    text: str                # the value as given
    value: object            # the value as YAML reads it


def parse_override(item: str) -> Override:
    """`KEY=VALUE` read; OverrideError when it is not written so."""
    key, sep, text = item.partition("=")
    key, text = key.strip(), text.strip()
    if not sep or not key or not text:
        raise OverrideError([Problem(file=f"--set {item}", message="not KEY=VALUE",
                                     expected="a setting and its value, e.g. min_gap=0.2 or gaps.demo_dropoff.min_gap=0.25")])
    doc, problems = parse_yaml(f"value: {text}\n", "--set")
    if doc is None or problems or not isinstance(doc.data, dict) or "value" not in doc.data:
        raise OverrideError([Problem(file=f"--set {item}", message="the value is not a YAML value",
                                     expected="a number, a word, or a list such as [plan, team_median]")])
    return Override(key=key, text=text, value=doc.data["value"])


def threshold_keys(catalog: Catalog) -> list[str]:
    """Every dotted key of thresholds.yaml: its settings, their parts, and industry.<metric id>."""
    keys: list[str] = []
    for name, field in Thresholds.model_fields.items():
        keys.append(name)
        sub = field.annotation
        if isinstance(sub, type) and hasattr(sub, "model_fields"):
            keys += [f"{name}.{k}" for k in sub.model_fields]
    keys += [f"industry.{m}" for m in catalog.registry.ids()]
    return keys


def _place(catalog: Catalog, o: Override) -> tuple[str, PathKey]:
    """(file, path in it) of a KEY; OverrideError naming the key when there is none."""
    key, label = o.key, f"--set {o.key}={o.text}"
    if key.startswith("gaps."):
        _, _, rest = key.partition(".")
        gap_id, _, field = rest.partition(".")
        if gap_id not in catalog.gaps:
            raise OverrideError([Problem(file=label, message=f"no gap {gap_id!r} in the catalog",
                                         suggestion=_maybe(did_you_mean(gap_id, catalog.gaps), "gaps.{}." + field))])
        allowed = [f for f in BehaviourGap.model_fields if f != "id"]
        if field not in allowed:
            raise OverrideError([Problem(file=label, message=f"a gap has no key {field!r}",
                                         expected="one of " + ", ".join(allowed),
                                         suggestion=_maybe(did_you_mean(field, allowed), f"gaps.{gap_id}.{{}}"))])
        level = "performance" if gap_id in catalog.performance_gaps else "behaviour"
        source = catalog.sources[f"gap:{gap_id}"]
        return source.file, (level, gap_id, field)          # the index is found in the file
    keys = threshold_keys(catalog)
    if key not in keys:
        raise OverrideError([Problem(file=label, message="no such setting in rules/thresholds.yaml",
                                     expected="a dotted key of thresholds.yaml (min_gap, rag.green...) or "
                                              "gaps.<gap id>.<key>",
                                     suggestion=did_you_mean(key, keys))])
    head, _, rest = key.partition(".")
    return THRESHOLDS_FILE, ((head, rest) if rest else (head,))


def _maybe(found: str | None, pattern: str) -> str | None:
    return pattern.format(found) if found else None


def _gap_path(text: str, file: str, path: PathKey) -> PathKey:
    level, gap_id, field = path
    doc, _ = parse_yaml(text, file)
    items = (doc.data or {}).get(level, []) if doc is not None and isinstance(doc.data, dict) else []
    index = next(i for i, g in enumerate(items) if isinstance(g, dict) and g.get("id") == gap_id)
    return (level, index, field)


def edit_files(catalog: Catalog, files: dict[str, str], overrides: Iterable[Override]) -> dict[str, str]:
    """The files with each override written in; OverrideError for a key that names nothing."""
    out = dict(files)
    for o in overrides:
        file, path = _place(catalog, o)
        if file not in out:
            raise OverrideError([Problem(file=file, column=o.key, message="the catalog has no such file")])
        if path[0] in ("performance", "behaviour") and file != THRESHOLDS_FILE:
            path = _gap_path(out[file], file, path)
        try:
            out[file] = set_value(out[file], file, path, o.value)
        except EditError as err:
            raise CatalogError(err.problems) from err
    return out


def apply_overrides(catalog: Catalog, overrides: Iterable[Override]) -> Catalog:
    """The catalog with the overrides made in a copy of its files, loaded and cross-checked.

    OverrideError for a key that names nothing; CatalogError (every problem located) for a
    value the catalog refuses. The result reads its Markdown assets from `catalog.root`.
    """
    overrides = list(overrides)
    files, problems, _ = read_folder(catalog.root)
    if problems:
        raise CatalogError(problems)
    edited = edit_files(catalog, files, overrides)
    with materialised(edited) as folder:
        changed, problems, _ = inspect_catalog(folder)
    if problems:
        raise CatalogError([replace(p, message=f"{p.message} (with --set {_keys(overrides)})") for p in problems])
    assert changed is not None
    return replace(changed, root=catalog.root)


def _keys(overrides: list[Override]) -> str:
    return ", ".join(f"{o.key}={o.text}" for o in overrides)
