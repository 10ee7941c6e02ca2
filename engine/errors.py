"""Errors of fairway: one base class, and problems that say where and what."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


class FairwayError(Exception):
    """Base class of every error fairway raises on purpose."""


def did_you_mean(value: object, choices: Iterable[str]) -> str | None:
    """The closest choice to `value`, or None when nothing is close."""
    text = str(value)
    options = [str(c) for c in choices]
    lowered = {o.lower(): o for o in options}
    if text.lower() in lowered:
        return lowered[text.lower()]
    close = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


MAX_VALUE_SHOWN = 200      # characters of a bad value quoted in a message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    file: str
    message: str
    row: int | None = None        # the row number as in the file (header is row 1)
    line: int | None = None       # the line number of a YAML file
    column: str | None = None     # a dataset column, or a YAML key path
    value: object = None
    expected: str | None = None
    suggestion: str | None = None

    def __post_init__(self):
        if hasattr(self.value, "item") and callable(self.value.item):   # numpy scalars
            object.__setattr__(self, "value", self.value.item())
        if isinstance(self.value, str) and len(self.value) > MAX_VALUE_SHOWN:   # never echo a huge value whole
            object.__setattr__(self, "value", f"{self.value[:MAX_VALUE_SHOWN]}… ({len(self.value):,} characters)")

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.line is not None:
            where += f":{self.line}"
        if self.column:
            where += f", {'key' if self.line is not None else 'column'} {self.column}"
        text = f"{where}: {self.message}"
        if self.value is not None and self.value != "":
            text += f" (got {self.value!r})"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.suggestion:
            text += f"; did you mean {self.suggestion!r}?"
        return text

    def to_dict(self) -> dict:
        out = {"file": self.file, "message": self.message}
        for key in ("row", "line", "column", "expected", "suggestion"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.value is not None:
            out["value"] = str(self.value)
        return out


class ProblemsError(FairwayError):
    """An input refused whole, with every problem found in it."""

    what = "input"

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.summary())

    def __reduce__(self):      # pickled whole (a child process's refusal reaches its parent intact)
        return self.__class__, (self.problems,)

    def summary(self) -> str:
        n = len(self.problems)
        head = f"{self.what} refused: {n} problem{'s' if n != 1 else ''}"
        return head + "".join(f"\n  {p}" for p in self.problems)


class DatasetError(ProblemsError):
    """A dataset that does not follow the data contract."""

    what = "dataset"


class CatalogError(ProblemsError):
    """A coaching catalog (rules/ and learning_library/) with errors."""

    what = "catalog"


class MappingError(ProblemsError):
    """An import mapping, or a source export that does not fit it."""

    what = "import"


class RulesEngineError(FairwayError):
    """The rules engine failed: an action raised, or a message was refused."""


class DialogueError(FairwayError):
    """A dialogue step that does not fit the dialogue's state."""
