"""Configuration: defaults, the instance's config.py, then FAIRWAY_* environment variables.

FAIRWAY_ENV says what kind of instance this is:
- production (default): SECRET_KEY must be set (instance config.py or FAIRWAY_SECRET_KEY);
  the session cookie is Secure (HTTPS only);
- development, demo: when no SECRET_KEY is set, the key kept in the instance folder
  (`secret_key`, written once by `fairway demo`), else a random one for the process;
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
JOB_SETTINGS = ("FAIRWAY_REDIS_URL", "FAIRWAY_JOBS_DB", "FAIRWAY_JOB_CONSUMER", "FAIRWAY_JOB_HEARTBEAT",
                "FAIRWAY_PROXY_COUNT")
CONSUMERS = ("thread", "none")
# the SMTP server progress reports and the reps' notifications are sent through (web/reports/mail.py);
# the app's address, for links in the notifications
SMTP = ("FAIRWAY_SMTP_HOST", "FAIRWAY_SMTP_PORT", "FAIRWAY_SMTP_USER", "FAIRWAY_SMTP_PASSWORD", "FAIRWAY_SMTP_FROM",
        "FAIRWAY_SMTP_SECURITY", "FAIRWAY_BASE_URL")
SECRET_FILE = "secret_key"          # a development or demo instance's own key, made once


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
        # background jobs (web/jobs): an SQLite queue in the instance unless a Redis URL is set
        "FAIRWAY_REDIS_URL": None,
        "FAIRWAY_JOBS_DB": str(Path(instance_path) / "jobs.sqlite"),
        "FAIRWAY_JOB_CONSUMER": None,          # "thread": run jobs in this process; "none": `fairway worker` does
        "FAIRWAY_JOB_HEARTBEAT": 10,           # seconds; a running job silent for 3 beats was interrupted
        "FAIRWAY_PROXY_COUNT": 0,              # reverse proxies in front whose X-Forwarded-* headers to trust
        # the team page lists every rep of a scope up to this many; beyond, its teams first
        "FAIRWAY_TEAM_PAGE_REPS": 60,
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
    FAIRWAY_MAX_UPLOAD_FILE_BYTES, FAIRWAY_MAX_UPLOAD_TOTAL_BYTES, FAIRWAY_CATALOG_STORE, and the job
    queue's and the proxy's settings (JOB_SETTINGS)."""
    env = os.environ
    out = {}
    if env.get("FAIRWAY_ENV"):
        out["FAIRWAY_ENV"] = env["FAIRWAY_ENV"]
    if env.get("FAIRWAY_SECRET_KEY"):
        out["SECRET_KEY"] = env["FAIRWAY_SECRET_KEY"]
    if env.get("FAIRWAY_DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = env["FAIRWAY_DATABASE_URL"]
    for key in ("FAIRWAY_CATALOG", "FAIRWAY_IMPORT_ROOT", "FAIRWAY_CATALOG_STORE", *SIZE_LIMITS, *JOB_SETTINGS,
                *SMTP):
        if env.get(key):
            out[key] = env[key]
    return out


def instance_secret(instance_path: str | None) -> str:
    """The key a development or demo instance keeps in its folder (`fairway demo` writes it
    once), so that a restart signs nobody out and loses no posted form; else one for the process."""
    path = Path(instance_path) / SECRET_FILE if instance_path else None
    try:
        key = path.read_text(encoding="ascii").strip() if path is not None and path.is_file() else ""
    except OSError as exc:
        raise ConfigError(f"the instance's key {path} cannot be read ({exc.strerror or exc})") from exc
    return key if len(key) >= 32 else secrets.token_hex(32)


def keep_secret(instance_path: Path) -> None:
    """Write a new instance's own key into its folder, readable by its owner only (the demo)."""
    fd = os.open(Path(instance_path) / SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")


def finalise(config: dict, instance_path: str | None = None) -> None:
    """Check the configuration and fill what the kind of instance allows to be filled."""
    kind = config.get("FAIRWAY_ENV")
    if kind not in ENVS:
        raise ConfigError(f"FAIRWAY_ENV={kind!r}: expected one of {', '.join(ENVS)}")
    if not config.get("SECRET_KEY"):
        if kind in ("development", "demo"):
            config["SECRET_KEY"] = instance_secret(instance_path)
        elif kind == "testing":
            config["SECRET_KEY"] = secrets.token_hex(32)
        else:
            raise ConfigError("SECRET_KEY is not set: set FAIRWAY_SECRET_KEY or SECRET_KEY in the "
                              "instance's config.py (FAIRWAY_ENV=development or demo makes a random one)")
    for key in SIZE_LIMITS:
        config[key] = _byte_count(key, config.get(key))
    _finalise_jobs(config, kind)
    if config.get("MAX_CONTENT_LENGTH") is None:       # the multipart envelope on top of the files
        config["MAX_CONTENT_LENGTH"] = config["FAIRWAY_MAX_UPLOAD_TOTAL_BYTES"] + MIB
    if kind == "production":        # served over HTTPS: cookies never travel in clear
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True


def _finalise_jobs(config: dict, kind: str) -> None:
    """The job consumer (a thread in the development server, `fairway worker` elsewhere), the heartbeat
    and the number of trusted proxies, checked."""
    consumer = config.get("FAIRWAY_JOB_CONSUMER") or ("thread" if kind == "development" else "none")
    if consumer not in CONSUMERS:
        raise ConfigError(f"FAIRWAY_JOB_CONSUMER={consumer!r}: expected one of {', '.join(CONSUMERS)} "
                          "(thread: jobs run inside the app's process; none: `fairway worker` runs them)")
    config["FAIRWAY_JOB_CONSUMER"] = consumer
    config["FAIRWAY_JOB_HEARTBEAT"] = _whole("FAIRWAY_JOB_HEARTBEAT", config.get("FAIRWAY_JOB_HEARTBEAT"), 1,
                                             "seconds between a running job's signs of life, e.g. 10")
    config["FAIRWAY_PROXY_COUNT"] = _whole("FAIRWAY_PROXY_COUNT", config.get("FAIRWAY_PROXY_COUNT"), 0,
                                           "how many reverse proxies stand in front of the app, e.g. 1")
    url = config.get("FAIRWAY_REDIS_URL")
    if url and not str(url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("FAIRWAY_REDIS_URL: expected a Redis URL such as redis://localhost:6379/0 "
                          "(the URL is not shown: it may hold a password)")


def _whole(key: str, value, least: int, example: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+", text) or int(text) < least:
        raise ConfigError(f"{key}={value!r}: expected a whole number of at least {least}: {example}")
    return int(text)


def _byte_count(key: str, value) -> int:
    """A size limit as a positive whole number of bytes (digits, as in the environment)."""
    text = str(value).strip().replace("_", "")
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+", text) or int(text) <= 0:
        raise ConfigError(f"{key}={value!r}: expected a positive whole number of bytes, "
                          f"e.g. {256 * MIB} for 256 MiB")
    return int(text)
