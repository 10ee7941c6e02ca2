"""Fixtures shared by every layer: the shipped catalog; the seeded demo instance of the web and e2e tests."""
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


@pytest.fixture(scope="session")
def seeded_instance(tmp_path_factory) -> Path:
    """A demo instance built once per test session: 40 reps, 12 months to 2026-10, one user per role.
    Never served nor changed: web tests and e2e servers work on copies of it (helpers.copy_instance)."""
    from helpers import seed_web_instance          # the web layer, imported only by the tests that use it
    return seed_web_instance(tmp_path_factory.mktemp("seeded"))
