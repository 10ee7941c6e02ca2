"""Configuration: defaults, the instance's config.py, then FAIRWAY_* environment variables.

FAIRWAY_ENV says what kind of instance this is:
- production (default): SECRET_KEY must be set (instance config.py or FAIRWAY_SECRET_KEY);
  the session cookie is Secure (HTTPS only);
- development, demo: a random SECRET_KEY is made for the process when none is set;
- testing: the test suite's factory sets everything.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ENVS = ("production", "development", "demo", "testing")


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


def defaults(instance_path: str) -> dict:
    return {
        "FAIRWAY_ENV": "production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(instance_path) / 'fairway.sqlite'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "MAX_CONTENT_LENGTH": 1024 * 1024 * 1024,      # dataset uploads
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "FAIRWAY_CATALOG": None,                        # a catalog folder; None: the shipped one
        "FAIRWAY_IMPORT_ROOT": str(Path(instance_path) / "imports"),   # server folders admins may import
        "FAIRWAY_DATASETS": str(Path(instance_path) / "datasets"),     # accepted datasets are kept here
    }


def from_environment() -> dict:
    """FAIRWAY_SECRET_KEY, FAIRWAY_DATABASE_URL, FAIRWAY_ENV, FAIRWAY_CATALOG, FAIRWAY_IMPORT_ROOT."""
    env = os.environ
    out = {}
    if env.get("FAIRWAY_ENV"):
        out["FAIRWAY_ENV"] = env["FAIRWAY_ENV"]
    if env.get("FAIRWAY_SECRET_KEY"):
        out["SECRET_KEY"] = env["FAIRWAY_SECRET_KEY"]
    if env.get("FAIRWAY_DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = env["FAIRWAY_DATABASE_URL"]
    for key in ("FAIRWAY_CATALOG", "FAIRWAY_IMPORT_ROOT"):
        if env.get(key):
            out[key] = env[key]
    return out


def finalise(config: dict) -> None:
    """Check the configuration and fill what the kind of instance allows to be filled."""
    kind = config.get("FAIRWAY_ENV")
    if kind not in ENVS:
        raise ConfigError(f"FAIRWAY_ENV={kind!r}: expected one of {', '.join(ENVS)}")
    if not config.get("SECRET_KEY"):
        if kind in ("development", "demo", "testing"):
            config["SECRET_KEY"] = secrets.token_hex(32)
        else:
            raise ConfigError("SECRET_KEY is not set: set FAIRWAY_SECRET_KEY or SECRET_KEY in the "
                              "instance's config.py (FAIRWAY_ENV=development or demo makes a random one)")
    if kind == "production":        # served over HTTPS: cookies never travel in clear
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
