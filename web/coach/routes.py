"""The diagnostic conversation, one step at a time."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coach", __name__, url_prefix="/coach")
