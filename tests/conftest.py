"""Fixtures shared by every layer: the shipped catalog and a small hand-made org."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine.catalog import load_catalog  # noqa: E402


@pytest.fixture(scope="session")
def catalog():
    """The shipped catalog, loaded and cross-checked once."""
    return load_catalog()


@pytest.fixture(scope="session")
def pipeline(catalog):
    return catalog.pipeline
