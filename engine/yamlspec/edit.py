"""Edits of a YAML text that keep everything else as written: comments, order, layout.

The app's forms (thresholds, learning assets) and `fairway catalog whatif` change catalog
files through these: a value set (a key added where it is missing), a list item replaced,
added or removed. Each edit is parsed again before it is returned, and checked to hold
what was asked: an edit never yields a text that parse_yaml refuses.
"""
from __future__ import annotations

from typing import Any

from ..errors import Problem, ProblemsError
from .parse import PathKey, Span, dotted, dump_block, dump_inline, parse_yaml, spans


class EditError(ProblemsError):
    """A YAML text that cannot be edited as asked (it does not parse, or has no such place)."""

    what = "edit"


def _root(text: str, name: str) -> Span | None:
    root, problems = spans(text, name)
    if problems:
        raise EditError(problems)
    return root


def _refuse(name: str, path: PathKey, message: str) -> EditError:
    return EditError([Problem(file=name, column=dotted(path) or None, message=message)])


def _nest(path: PathKey, value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _indented(block: str, column: int) -> str:
    """A dumped block placed at `column`: its first line follows what precedes it."""
    lines = block.rstrip("\n").split("\n")
    return "\n".join([lines[0]] + [" " * column + line if line else line for line in lines[1:]])


def value_at(data: Any, path: PathKey) -> Any:
    for key in path:
        data = data[key]
    return data


def _checked(text: str, name: str, path: PathKey, expected: Any, present: bool = True) -> str:
    doc, problems = parse_yaml(text, name)
    if doc is None or problems:
        raise EditError(problems or [Problem(file=name, message="the edit did not leave valid YAML")])
    try:
        got = value_at(doc.data, path)
    except (KeyError, IndexError, TypeError):
        raise _refuse(name, path, "the edit did not reach this key") from None
    if present and got != expected:
        raise _refuse(name, path, "the edit could not be written here")
    return text


def _insert_key(text: str, node: Span, key: str, value: Any) -> str:
    line = f"{dump_inline(key)}: {dump_inline(value)}"
    if node.flow:
        close = node.end - 1                     # the closing brace
        sep = ", " if node.entries else ""
        return text[:close] + sep + line + text[close:]
    pos = _line_end(text, node.end)              # after the last entry's line, its comment kept
    return text[:pos] + "\n" + " " * node.column + line + text[pos:]


def set_value(text: str, name: str, path: PathKey, value: Any) -> str:
    """`text` with the value at `path` set to `value` (added, with its parents, where missing)."""
    root = _root(text, name)
    if root is None or (root.kind == "scalar" and not (root.value or "").strip()):
        return _checked(dump_block(_nest(path, value)), name, path, value)
    node, key_span = root, None
    for i, key in enumerate(path):
        if node.kind == "map" and str(key) in node.entries:
            key_span, node = node.entries[str(key)]
        elif node.kind == "seq" and isinstance(key, int) and 0 <= key < len(node.items):
            key_span, node = None, node.items[key]
        elif node.kind == "map" and isinstance(key, str):
            return _checked(_insert_key(text, node, key, _nest(path[i + 1:], value)), name, path, value)
        else:
            raise _refuse(name, path[:i + 1], "no such place to set a value: the value above is not a mapping")
    start = node.start
    if node.kind != "scalar" and not node.flow and key_span is not None:
        start = text.index(":", key_span.end) + 1        # a block under its key: the value goes on the key's line
        return _checked(text[:start] + " " + dump_inline(value) + text[node.end:], name, path, value)
    return _checked(text[:start] + dump_inline(value) + text[node.end:], name, path, value)


def _sequence(text: str, name: str, path: PathKey) -> tuple[Span | None, Any]:
    doc, problems = parse_yaml(text, name)
    if doc is None or problems:
        raise EditError(problems or [Problem(file=name, message="not valid YAML")])
    node = _root(text, name)
    for key in path:
        if node is not None and node.kind == "map" and str(key) in node.entries:
            node = node.entries[str(key)][1]
        elif node is not None and node.kind == "seq" and isinstance(key, int) and 0 <= key < len(node.items):
            node = node.items[key]
        else:
            node = None
    try:
        data = value_at(doc.data, path)
    except (KeyError, IndexError, TypeError):
        data = None
    return node, data


def replace_item(text: str, name: str, path: PathKey, index: int, item: dict) -> str:
    """`text` with item `index` of the list at `path` replaced by `item`."""
    seq, data = _sequence(text, name, path)
    if seq is None or seq.kind != "seq" or not 0 <= index < len(seq.items):
        raise _refuse(name, path + (index,), "no such list item")
    if seq.flow:
        return set_value(text, name, path, data[:index] + [item] + data[index + 1:])
    node = seq.items[index]
    new = text[:node.start] + _indented(dump_block(item), node.column) + text[node.end:]
    return _checked(new, name, path + (index,), item)


def append_item(text: str, name: str, path: PathKey, item: dict) -> str:
    """`text` with `item` added at the end of the list at `path` (the list made where missing)."""
    seq, data = _sequence(text, name, path)
    if seq is None or seq.kind != "seq" or seq.flow or not seq.items:
        items = list(data) if isinstance(data, list) else []
        new = set_value(text, name, path, items + [item]) if not items else None
        if new is None:
            return set_value(text, name, path, items + [item])
        return _block_list(new, name, path, items + [item])
    pos = _line_end(text, seq.end)
    block = _indented(dump_block(item), seq.column + 2)
    new = text[:pos] + "\n" + " " * seq.column + "- " + block + text[pos:]
    return _checked(new, name, path + (len(seq.items),), item)


def _block_list(text: str, name: str, path: PathKey, items: list) -> str:
    """A list just written inline (`assets: [{...}]`) rewritten as a block under its key."""
    root = _root(text, name)
    node, parent_key = root, None
    for key in path:
        parent_key = node.entries[str(key)][0]
        node = node.entries[str(key)][1]
    column = (parent_key.column if parent_key is not None else 0) + 2
    body = "\n".join(" " * column + "- " + _indented(dump_block(i), column + 2) for i in items)
    new = text[:node.start].rstrip(" ") + "\n" + body + text[node.end:]
    return _checked(new, name, path, items)


def remove_item(text: str, name: str, path: PathKey, index: int) -> str:
    """`text` without item `index` of the list at `path`."""
    seq, data = _sequence(text, name, path)
    if seq is None or seq.kind != "seq" or not 0 <= index < len(seq.items):
        raise _refuse(name, path + (index,), "no such list item")
    rest = data[:index] + data[index + 1:]
    if seq.flow or not rest:
        return set_value(text, name, path, rest)
    node = seq.items[index]
    start = text.rfind("\n", 0, node.start) + 1          # the line of its dash
    end = _line_end(text, node.end)
    new = text[:start] + text[min(end + 1, len(text)):]
    return _checked(new, name, path, rest)
