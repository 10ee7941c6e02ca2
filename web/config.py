"""Configuration: defaults, the instance's config.py, then FAIRWAY_* environment variables.

FAIRWAY_ENV says what kind of instance this is:
- production (default): SECRET_KEY must be set (instance config.py or FAIRWAY_SECRET_KEY);
  the session cookie is Secure (HTTPS only);
- development, demo: a random SECRET_KEY is made for the process when none is set;
- testing: the test suite's factory sets everything.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

ENVS = ("production", "development", "demo", "testing")
MIB = 1024 * 1024
SIZE_LIMITS = ("FAIRWAY_MAX_UPLOAD_FILE_BYTES", "FAIRWAY_MAX_UPLOAD_TOTAL_BYTES")


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
        # dataset uploads: what a file or a whole upload may unpack to, counted while writing
        # (larger datasets are imported from a server folder); MAX_CONTENT_LENGTH, the request
        # body, follows the total unless it is set
        "FAIRWAY_MAX_UPLOAD_FILE_BYTES": 256 * MIB,
        "FAIRWAY_MAX_UPLOAD_TOTAL_BYTES": 512 * MIB,
        "MAX_CONTENT_LENGTH": None,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "FAIRWAY_CATALOG": None,                        # a catalog folder; None: the shipped one
        "FAIRWAY_IMPORT_ROOT": str(Path(instance_path) / "imports"),   # server folders admins may import
        "FAIRWAY_DATASETS": str(Path(instance_path) / "datasets"),     # accepted datasets are kept here
        "FAIRWAY_CATALOG_STORE": str(Path(instance_path) / "catalog"),  # published versions, as folders
    }


def from_instance_file(app) -> None:
    """The instance's config.py, if there is one; any error in it is a ConfigError naming it."""
    path = Path(app.instance_path) / "config.py"
    try:
        app.config.from_pyfile("config.py", silent=True)
    except Exception as exc:         # the file is Python: anything can go wrong in it
        raise ConfigError(f"{path}: {type(exc).__name__}: {exc}") from exc


def make_instance_folder(path: str) -> None:
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"the instance folder {path} cannot be created ({exc.strerror or exc}): "
                          "set FAIRWAY_INSTANCE to a folder fairway may write") from exc


def init_database(app, db) -> None:
    """Bind the SQLAlchemy extension; a URL it cannot use is a ConfigError (the URL is not shown:
    it may hold a password)."""
    from sqlalchemy.exc import ArgumentError
    try:
        db.init_app(app)
    except (ArgumentError, ImportError) as exc:      # not a URL; an unknown dialect; no driver
        raise ConfigError(f"the database URL (FAIRWAY_DATABASE_URL or SQLALCHEMY_DATABASE_URI) cannot be "
                          f"used: {exc}") from exc


def from_environment() -> dict:
    """FAIRWAY_SECRET_KEY, FAIRWAY_DATABASE_URL, FAIRWAY_ENV, FAIRWAY_CATALOG, FAIRWAY_IMPORT_ROOT,
    FAIRWAY_MAX_UPLOAD_FILE_BYTES, FAIRWAY_MAX_UPLOAD_TOTAL_BYTES, FAIRWAY_CATALOG_STORE."""
    env = os.environ
    out = {}
    if env.get("FAIRWAY_ENV"):
        out["FAIRWAY_ENV"] = env["FAIRWAY_ENV"]
    if env.get("FAIRWAY_SECRET_KEY"):
        out["SECRET_KEY"] = env["FAIRWAY_SECRET_KEY"]
    if env.get("FAIRWAY_DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = env["FAIRWAY_DATABASE_URL"]
    for key in ("FAIRWAY_CATALOG", "FAIRWAY_IMPORT_ROOT", "FAIRWAY_CATALOG_STORE", *SIZE_LIMITS):
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
    for key in SIZE_LIMITS:
        config[key] = _byte_count(key, config.get(key))
    if config.get("MAX_CONTENT_LENGTH") is None:       # the multipart envelope on top of the files
        config["MAX_CONTENT_LENGTH"] = config["FAIRWAY_MAX_UPLOAD_TOTAL_BYTES"] + MIB
    if kind == "production":        # served over HTTPS: cookies never travel in clear
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True


def _byte_count(key: str, value) -> int:
    """A size limit as a positive whole number of bytes (digits, as in the environment)."""
    text = str(value).strip().replace("_", "")
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+", text) or int(text) <= 0:
        raise ConfigError(f"{key}={value!r}: expected a positive whole number of bytes, "
                          f"e.g. {256 * MIB} for 256 MiB")
    return int(text)
