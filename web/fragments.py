"""Rendered pieces of pages that depend only on an imported dataset, kept per process.

A dataset never changes after its import, so what a piece of a page shows of it (a team's
rows and charts, a rep's charts) is the same until another dataset is current: such pieces
are rendered once and kept (a bounded number, least recently used first out). The key names
the database, the dataset's folder (unique to each import) and the catalog's version, plus
whatever else the piece depends on (the reps shown, the user's scope): nothing of a user's
own (no CSRF token, no name) goes into a piece.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, TypeVar

from flask import current_app

from .extensions import db

T = TypeVar("T")
KEPT = 512
_pieces: OrderedDict = OrderedDict()
_lock = threading.Lock()


def kept(folder: str, key: tuple, render: Callable[[], T]) -> T:
    """The piece `key` of the dataset in `folder`, rendered by `render()` the first time."""
    full = (str(db.engine.url), folder, current_app.extensions["fairway.catalog"].version, *key)
    with _lock:
        if full in _pieces:
            _pieces.move_to_end(full)
            return _pieces[full]
    piece = render()                      # outside the lock: two threads may render the same piece once each
    with _lock:
        _pieces[full] = piece
        while len(_pieces) > KEPT:
            _pieces.popitem(last=False)
    return piece
