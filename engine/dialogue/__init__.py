"""The diagnostic conversation, as a pure state machine over the catalog's flows."""
from .conversation import (NONE, SKIP, Cause, DialogueState, Result, Step, answer, back, choose_gap,
                           confirm, none_of_these, result, skip, start, step)

__all__ = ["NONE", "SKIP", "Cause", "DialogueState", "Result", "Step", "answer", "back", "choose_gap",
           "confirm", "none_of_these", "result", "skip", "start", "step"]
