"""The one place where YAML is parsed: plain data plus the line of every key.

Everything else receives typed specs built from what this module returns; the
`Located` document lets those builders report `file:line key` for any path.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

PathKey = tuple[str | int, ...]


@dataclass
class Located:
    """A parsed YAML document and the line of each key path in it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line(self, path: PathKey) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: PathKey, message: str, **kw) -> Problem:
        return Problem(file=self.file, line=self.line(path), column=dotted(path) or None,
                       message=message, **kw)


def dotted(path: PathKey) -> str:
    """`('questions', 0, 'ask')` as `questions[0].ask`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _build(node: yaml.Node, path: PathKey, doc: Located, problems: list[Problem]) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if isinstance(key, bool) or not isinstance(key, (str, int, float)):
                problems.append(Problem(file=doc.file, line=key_node.start_mark.line + 1,
                                        message="a key must be a plain word or number "
                                                "(quote words such as yes, no, on, off)",
                                        value=key_node.value if isinstance(key_node, yaml.ScalarNode) else key))
                continue
            key = str(key)
            child = path + (key,)
            if key in out:
                problems.append(Problem(file=doc.file, line=key_node.start_mark.line + 1,
                                        column=dotted(child), message="duplicate key",
                                        expected="each key once per mapping"))
                continue
            doc.lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, doc, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            doc.lines[path + (i,)] = item.start_mark.line + 1
            items.append(_build(item, path + (i,), doc, problems))
        return items
    return _scalar(node)


_constructor = yaml.SafeLoader("")
# libyaml's parser where PyYAML was built with it: the same nodes and marks, ten times faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scalar(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return _constructor.construct_object(node, deep=True)
    return None


def load_yaml(path: Path, display: str | None = None) -> tuple[Located | None, list[Problem]]:
    """Parse one YAML file; return the document (None if unparseable) and problems."""
    name = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file=name, message=f"cannot read the file: {exc}")]
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[Located | None, list[Problem]]:
    """Parse YAML text named `name` (used in messages)."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return None, [Problem(file=name, line=line, message=f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem(file=name, message=f"not valid YAML: {exc}")]
    doc = Located(file=name, data=None)
    if node is None:
        doc.data = None
        doc.lines[()] = 1
        return doc, []
    problems: list[Problem] = []
    doc.data = _build(node, (), doc, problems)
    return doc, problems
