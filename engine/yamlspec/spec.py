"""Typed specs from located YAML: pydantic validation with every error at its file:line.

The catalog and the import mappings both parse YAML with engine.yamlspec.parse and validate it
against frozen pydantic models here; errors come back as Problems naming file, line and
key, with a "did you mean" for unknown keys and enum values.
"""
from __future__ import annotations

import types
import typing
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from ..errors import Problem, did_you_mean
from .parse import Located

M = TypeVar("M", bound=BaseModel)


class Spec(BaseModel):
    """A block of YAML: frozen once built, and unknown keys refused (so typos are caught)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# A number written in YAML: finite (.nan and .inf refused), and a number (not yes/no, not "0.5")
Finite = Annotated[float, Field(allow_inf_nan=False, strict=True)]


def refusal(message: str, expected: str | None = None, suggestion: str | None = None) -> PydanticCustomError:
    """An error for a validator to raise: it becomes a Problem with `expected` and `suggestion`."""
    return PydanticCustomError("fairway", "{message}", {"message": message, "expected": expected,
                                                        "suggestion": suggestion})


def validate_located(doc: Located, model: type[M]) -> tuple[M | None, list[Problem]]:
    """The spec built from `doc`, or None and every problem of it."""
    if not isinstance(doc.data, dict):
        shape = {list: "a list", type(None): "nothing"}.get(type(doc.data), "a single value")
        return None, [doc.problem((), f"the file holds {shape}, not a mapping of keys",
                                  expected="key: value lines, with the keys " + ", ".join(model.model_fields))]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, pydantic_problems(exc, doc, model)


def located_path(data: Any, loc: tuple) -> tuple:
    """Keep the parts of a pydantic location that are real keys or indexes of `data`."""
    path: list = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
    return tuple(path)


def _fields_at(model: type[BaseModel], data: Any, path: tuple) -> list[str]:
    """The field names allowed in the mapping at `path` (best effort, for suggestions)."""
    current: Any = model
    node = data
    for part in path:
        node = node[part] if isinstance(node, (dict, list)) else None
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = _unwrap(current.model_fields[part].annotation, node)
        elif current is dict or typing.get_origin(current) is dict:
            args = typing.get_args(current)
            current = _unwrap(args[1], node) if len(args) == 2 else None
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any, node: Any) -> Any:
    """The model inside list[...], X | None, Annotated[...] and unions (chosen by keys)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrap(args[0], node)
    if origin in (list, tuple):
        return _unwrap(args[0], node[0] if isinstance(node, list) and node else None)
    if origin in (typing.Union, types.UnionType):
        models = [_unwrap(a, node) for a in args if a is not type(None)]
        models = [m for m in models if isinstance(m, type) and issubclass(m, BaseModel)]
        if isinstance(node, dict):
            for m in models:
                if set(node) & set(m.model_fields):
                    return m
        return models[0] if models else annotation
    return annotation


def pydantic_problems(exc: ValidationError, doc: Located, model: type[BaseModel]) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        path = located_path(doc.data, err["loc"])
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            allowed = _fields_at(model, doc.data, path[:-1])
            out.append(doc.problem(path, "unknown key", value=None,
                                   expected="one of " + ", ".join(allowed) if allowed else None,
                                   suggestion=did_you_mean(path[-1], allowed) if allowed else None))
            continue
        if kind == "missing":
            key = err["loc"][-1]
            out.append(doc.problem(path + (key,) if isinstance(key, str) else path,
                                   "required key is missing"))
            continue
        if kind == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",") if c.strip()]
            out.append(doc.problem(path, "not an allowed value", value=value,
                                   expected=expected, suggestion=did_you_mean(value, choices)))
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if isinstance(value, (dict, list)):
            value = None
        ctx = err.get("ctx") or {}
        out.append(doc.problem(path, msg, value=value, expected=ctx.get("expected") if kind == "fairway" else None,
                               suggestion=ctx.get("suggestion") if kind == "fairway" else None))
    return out
