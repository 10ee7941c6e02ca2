"""The one place where YAML is parsed: plain data plus the line of every key.

Everything else receives typed specs built from what this module returns; the
`Located` document lets those builders report `file:line key` for any path.

The document is composed here from the parser's events, not by PyYAML's composer, so
that hostile input is refused while it is read, with its line, before anything is
built from it: unknown tags (`!!python/object`, `!name`), aliases beyond `MAX_ALIASES`
or expanding the document beyond `MAX_NODES` values (a "billion laughs" is refused
after a few thousand events, never expanded), an alias inside the anchor it names,
nesting deeper than `MAX_DEPTH`, and more than one document in a file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem
from ..files import read_text

PathKey = tuple[str | int, ...]

MAX_ALIASES = 100        # alias uses (*name) in one document
MAX_NODES = 100_000      # values in one document, every alias expanded (keys count too)
MAX_DEPTH = 50           # mappings and sequences inside one another

_CORE = "tag:yaml.org,2002:"
SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_SEQ, _MAP, _MERGE, _STR = _CORE + "seq", _CORE + "map", _CORE + "merge", _CORE + "str"
_KIND = {_CORE + "int": "whole number", _CORE + "float": "number", _CORE + "timestamp": "date",
         _CORE + "bool": "true or false", _CORE + "null": "null"}
_READS_AS = {t: {t} for t in SCALAR_TAGS} | {_CORE + "float": {_CORE + "float", _CORE + "int"}}


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


# --------------------------------------------------------------------------- composing, with limits

class _Refused(Exception):
    """A limit crossed while composing: the rest of the document is not read."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class _Open:
    """A mapping or sequence being read: its node, anchor, key path and expanded size."""

    node: yaml.Node
    anchor: str | None
    path: PathKey
    size: int = 1
    key: yaml.Node | None = None     # a mapping's key waiting for its value


class _Composer:
    """PyYAML's composer, rebuilt on parser events so that every limit holds while reading."""

    def __init__(self, name: str):
        self.name = name
        self.problems: list[Problem] = []       # tags: every one is listed, reading goes on
        self.anchors: dict[str, tuple[yaml.Node, int]] = {}   # anchor -> node, expanded size
        self.open_anchors: set[str] = set()
        self.stack: list[_Open] = []
        self.aliases = 0
        self.nodes = 0
        self.documents = 0
        self.root: yaml.Node | None = None

    def compose(self, text: str) -> yaml.Node | None:
        parser = _LOADER(text)
        try:
            while not isinstance(event := parser.get_event(), yaml.StreamEndEvent):
                self._event(event)
        finally:
            parser.dispose()
        return self.root

    def _event(self, event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Refused(self._problem(event, "a second YAML document (---) in the file",
                                             expected="one document per file"))
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.ScalarEvent):
            self._scalar_event(event)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            self._start(event)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            self._end(event)

    def _scalar_event(self, event) -> None:
        tag = self._tag(event, yaml.ScalarNode)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        self._count(1, event)
        if event.anchor is not None:
            self._new_anchor(event)
            self.anchors[event.anchor] = (node, 1)
        self._attach(node, 1)

    def _end(self, event) -> None:
        done = self.stack.pop()
        done.node.end_mark = event.end_mark
        if done.anchor is not None:
            self.open_anchors.discard(done.anchor)
            self.anchors[done.anchor] = (done.node, done.size)
        self._attach(done.node, done.size)

    def _problem(self, event, message: str, **kw) -> Problem:
        mark = event.start_mark
        where = dotted(self._path()) or None
        return Problem(file=self.name, line=mark.line + 1 if mark else None, column=where,
                       message=message, **kw)

    def _path(self) -> PathKey:
        """The key path of the value about to be read."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.node, yaml.SequenceNode):
            return top.path + (len(top.node.value),)
        if top.key is not None and isinstance(top.key, yaml.ScalarNode):
            return top.path + (top.key.value,)
        return top.path

    def _tag(self, event, kind) -> str:
        scalar = kind is yaml.ScalarNode
        if event.tag is None or event.tag == "!":
            tag = _resolver.resolve(kind, event.value if scalar else None,
                                    event.implicit if scalar else True)
            if tag == _MERGE:
                self.problems.append(self._problem(event, "merge keys (<<) are not supported",
                                                   expected="the keys written out"))
            return tag if not scalar or tag in SCALAR_TAGS else _STR   # `=` is just text
        allowed = SCALAR_TAGS if scalar else {_SEQ} if kind is yaml.SequenceNode else {_MAP}
        if event.tag not in allowed:
            shown = event.tag.replace(_CORE, "!!", 1) if event.tag.startswith(_CORE) else event.tag
            self.problems.append(self._problem(event, "a YAML tag fairway does not read", value=shown,
                                               expected="plain values, without tags such as "
                                                        "!!python/object or !name"))
            return _STR if scalar else next(iter(allowed))
        if scalar and event.tag != _STR:
            # `!!int abc`: the text must read as the type named, as it would untagged
            read_as = _resolver.resolve(kind, event.value, (True, False))
            if read_as not in _READS_AS[event.tag]:
                self.problems.append(self._problem(event, f"not a valid {_KIND.get(event.tag, 'value')} "
                                                          f"for {event.tag.replace(_CORE, '!!')}",
                                                   value=event.value[:80]))
                return _STR
        return event.tag

    def _start(self, event) -> None:
        seq = isinstance(event, yaml.SequenceStartEvent)
        kind = yaml.SequenceNode if seq else yaml.MappingNode
        tag = self._tag(event, kind)
        if len(self.stack) >= MAX_DEPTH:
            raise _Refused(self._problem(event, f"nested deeper than {MAX_DEPTH} levels",
                                         expected="a flatter document"))
        self._count(1, event)
        node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if event.anchor is not None:
            self._new_anchor(event)
            self.open_anchors.add(event.anchor)
        self.stack.append(_Open(node, event.anchor, self._path()))

    def _alias(self, event) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise _Refused(self._problem(event, f"a recursive alias: *{name} is used inside &{name}",
                                         expected="an alias to an anchor defined before it"))
        if name not in self.anchors:
            raise _Refused(self._problem(event, f"the alias *{name} names no anchor defined before it",
                                         value=name))
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise _Refused(self._problem(event, f"more than {MAX_ALIASES} aliases in one document",
                                         expected="the values written out"))
        node, size = self.anchors[name]
        self._count(size, event)
        self._attach(node, size)

    def _new_anchor(self, event) -> None:
        if event.anchor in self.anchors or event.anchor in self.open_anchors:
            raise _Refused(self._problem(event, f"the anchor &{event.anchor} is defined twice",
                                         expected="each anchor name once"))

    def _count(self, size: int, event) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise _Refused(self._problem(event, f"the document holds more than {MAX_NODES:,} values once "
                                                "its aliases are expanded",
                                         expected="fewer aliases, or a smaller file"))

    def _attach(self, node: yaml.Node, size: int) -> None:
        if not self.stack:
            self.root = node
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.node, yaml.SequenceNode):
            top.node.value.append(node)
        elif top.key is None:
            top.key = node
        else:
            top.node.value.append((top.key, node))
            top.key = None


# --------------------------------------------------------------------------- building plain data

def _build(node: yaml.Node, path: PathKey, doc: Located, problems: list[Problem]) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path, doc, problems) if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key, bool) or not isinstance(key, (str, int, float)):
                problems.append(Problem(file=doc.file, line=key_node.start_mark.line + 1,
                                        message="a key must be a plain word or number "
                                                "(quote words such as yes, no, on, off)",
                                        value=key_node.value if isinstance(key_node, yaml.ScalarNode) else None))
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
    return _scalar(node, path, doc, problems)


_constructor = yaml.SafeLoader("")
_resolver = _constructor
# libyaml's parser where PyYAML was built with it: the same events and marks, ten times faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scalar(node: yaml.ScalarNode, path: PathKey, doc: Located, problems: list[Problem]) -> Any:
    """The value of a scalar; its text, and a problem, when it cannot be one (2026-13-45)."""
    construct = _constructor.yaml_constructors[node.tag]
    try:
        return construct(_constructor, node)
    except (ValueError, OverflowError) as exc:
        # a date out of range says why (month must be in 1..12); a number is simply too long
        why = f": {exc}" if node.tag == _CORE + "timestamp" else ""
        problems.append(Problem(file=doc.file, line=node.start_mark.line + 1, column=dotted(path) or None,
                                message=f"not a valid {_KIND.get(node.tag, 'value')}{why}",
                                value=node.value[:80], expected="quotes around it, if it is text"))
        return node.value


# --------------------------------------------------------------------------- entry points

def load_yaml(path: Path, display: str | None = None) -> tuple[Located | None, list[Problem]]:
    """Parse one YAML file, read under the path policy of engine.files; (document or None, problems)."""
    name = display or str(path)
    text, problems = read_text(Path(path), name, limit_name="yaml_file")
    if text is None:
        return None, problems
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[Located | None, list[Problem]]:
    """Parse YAML text named `name` (used in messages)."""
    composer = _Composer(name)
    try:
        node = composer.compose(text)
    except _Refused as refused:
        return None, composer.problems + [refused.problem]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return None, [Problem(file=name, line=line, message=f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        position = getattr(exc, "position", None)     # a reader error: a character YAML does not allow
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        reason = getattr(exc, "reason", None) or exc
        return None, [Problem(file=name, line=line, message=f"not valid YAML: {reason}")]
    if composer.problems:
        return None, composer.problems
    doc = Located(file=name, data=None)
    if node is None:
        doc.lines[()] = 1
        return doc, []
    problems: list[Problem] = []
    doc.data = _build(node, (), doc, problems)
    return doc, problems


# --------------------------------------------------------------------------- where values are written (for edits)

@dataclass
class Span:
    """Where a value is written in a YAML text: character offsets, column, block or flow.

    `end` is just after the value's last character (a block collection ends with its last
    value, before any comment or blank line that follows). engine.yamlspec.edit changes a
    file through these, so that everything else (comments, order, layout) stays as written.
    """

    kind: str                                   # "map", "seq" or "scalar"
    start: int
    end: int
    column: int
    flow: bool = False
    value: str | None = None                    # a scalar's text
    items: list["Span"] = field(default_factory=list)                    # seq
    entries: dict[str, tuple["Span", "Span"]] = field(default_factory=dict)   # map: key -> (key, value)


def spans(text: str, name: str) -> tuple[Span | None, list[Problem]]:
    """The spans of a document's values; (None, problems) for a text parse_yaml refuses."""
    doc, problems = parse_yaml(text, name)
    if doc is None or problems:
        return None, problems or [Problem(file=name, message="not valid YAML")]
    parser = yaml.SafeLoader(text)      # the pure-Python parser: its marks count characters
    stack: list[tuple[Span, list]] = []   # (collection, [pending key span])
    root: Span | None = None
    try:
        while not isinstance(event := parser.get_event(), yaml.StreamEndEvent):
            if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                end = event.end_mark.index
                while end > event.start_mark.index and text[end - 1] in " \t\r\n":   # a block scalar's line breaks
                    end -= 1
                node = Span("scalar", event.start_mark.index, end, event.start_mark.column,
                            value=getattr(event, "value", None))
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
                stack.append((Span(kind, event.start_mark.index, event.start_mark.index, event.start_mark.column,
                                   flow=bool(event.flow_style)), []))
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                node, _ = stack.pop()
                children = node.items + [v for _, v in node.entries.values()]
                node.end = event.end_mark.index if node.flow else max((c.end for c in children), default=node.start)
            else:
                continue
            if not stack:
                root = node
                continue
            parent, pending = stack[-1]
            if parent.kind == "seq":
                parent.items.append(node)
            elif not pending:
                pending.append(node)
            else:
                key = pending.pop()
                parent.entries[str(key.value)] = (key, node)
    finally:
        parser.dispose()
    return root, []


def dump_block(data: Any) -> str:
    """`data` written as block YAML (a mapping or a list), keys in their given order; lists
    and mappings of plain values on one line."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def dump_inline(value: Any) -> str:
    """`value` written on one line, as a flow value: 0.25, text, "yes", [plan, team_median]."""
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=True, width=10 ** 6)
    return text.removesuffix("\n").removesuffix("\n...").strip()
