"""Where the shipped content lives: the source checkout, or share/fairway of an install."""
from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
INSTALLED = Path(sys.prefix) / "share" / "fairway"


def shipped(name: str) -> Path:
    """The folder `name` (rules, learning_library, mappings) as shipped with fairway.

    An editable install or a checkout reads the files in place; a regular install reads
    the copies under share/fairway.
    """
    here = CHECKOUT / name
    return here if here.is_dir() or not (INSTALLED / name).is_dir() else INSTALLED / name


def shipped_root() -> Path:
    """The folder that holds the shipped rules/ and learning_library/."""
    return shipped("rules").parent
