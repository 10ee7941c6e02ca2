"""The live catalog: the published version every process of the app serves.

- Each published version is kept whole in the store (CatalogVersion: its files) and
  written once under the instance folder (FAIRWAY_CATALOG_STORE/versions/<digest>/, by
  content: immutable, and the same for two versions with the same files), the folder it
  is loaded from; a process that lacks the folder (another machine) writes it from the
  store.
- One row (CatalogState) names the live version. Every request reads it (one query on a
  one-row table); when another process has published or restored since, this process
  loads that version once (a lock keeps two threads from loading it twice) before the
  request goes on. A request keeps the catalog it started with to its end (`g`), so a
  page never mixes two versions. Several gunicorn workers switch at their next request.
- An instance without a version yet makes the configured catalog folder (FAIRWAY_CATALOG,
  or the shipped one) version 1, at its first request.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy.exc import IntegrityError

from engine.catalog import load_catalog
from engine.catalog.bundle import digest, read_folder, write_folder
from engine.catalog.model import Catalog
from engine.errors import CatalogError

from .extensions import db
from .models import CatalogAudit, CatalogState, CatalogVersion

_load_lock = threading.Lock()
SKIP_ENDPOINTS = {"static", "vendor.static"}


def live_catalog() -> Catalog:
    """The catalog this request (or job) is served with (serve_live); else the process's own."""
    if has_app_context() and "fairway_catalog" in g:
        return g.fairway_catalog
    return current_app.extensions["fairway.catalog"]


def store_root() -> Path:
    return Path(current_app.config["FAIRWAY_CATALOG_STORE"])


def live_number() -> int | None:
    return db.session.execute(db.select(CatalogState.live_number).where(CatalogState.id == 1)).scalar_one_or_none()


def live_version() -> CatalogVersion:
    number = live_number()
    if number is None:
        ensure_initial_version()
        number = live_number()
    return version_or_none(number)


def version_or_none(number: int | None) -> CatalogVersion | None:
    if number is None:
        return None
    return db.session.execute(db.select(CatalogVersion).where(CatalogVersion.number == number)).scalar_one_or_none()


def version_folder(version: CatalogVersion) -> Path:
    """The folder holding a version's files, written from the store if this machine lacks it."""
    return files_folder(version.files, version.digest)


def files_folder(files: dict, files_digest: str) -> Path:
    """The content-addressed folder of these files under the store, written if missing."""
    folder = store_root() / "versions" / files_digest[:20]    # by content: immutable, shared by equal versions
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".staging-"))
    try:
        write_folder(files, staging)
        staging.rename(folder)               # atomic: a half-written folder is never loaded
    except OSError:
        if not folder.is_dir():              # another process won the rename: its folder is the same
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def load_version(version: CatalogVersion) -> Catalog:
    return load_catalog(version_folder(version))


def ensure_initial_version() -> None:
    """Make the configured catalog folder version 1 when the instance has no version yet."""
    configured: Catalog = current_app.extensions["fairway.configured_catalog"]
    files, problems, _ = read_folder(configured.root)
    if problems:
        raise CatalogError(problems)
    db.session.add(CatalogVersion(number=1, kind="initial", files=files, digest=digest(files),
                                  catalog_version=configured.version, changes=[], diff="",
                                  message=f"The catalog the instance was configured with ({configured.root})"))
    db.session.add(CatalogState(id=1, live_number=1))
    db.session.add(CatalogAudit(action="initial", version_number=1, detail=str(configured.root)))
    try:
        db.session.commit()
    except IntegrityError:                   # another process made it first
        db.session.rollback()


def switch_to(app: Flask, number: int, catalog: Catalog) -> None:
    """Serve `catalog` (version `number`) in this process from now on."""
    with _load_lock:
        app.extensions["fairway.catalog"] = catalog
        app.extensions["fairway.catalog_number"] = number
    if has_request_context():
        g.fairway_catalog = catalog


def serve_live(app: Flask) -> Catalog:
    """Serve the live version in this app context (a request, or a job a worker runs), loading
    it once per process when another process has published or restored since."""
    number = live_number()
    if number is None:
        ensure_initial_version()
        number = live_number()
    if app.extensions.get("fairway.catalog_number") != number:
        with _load_lock:
            if app.extensions.get("fairway.catalog_number") != number:
                catalog = load_version(version_or_none(number))
                app.extensions["fairway.catalog"] = catalog
                app.extensions["fairway.catalog_number"] = number
    g.fairway_catalog = app.extensions["fairway.catalog"]
    g.fairway_catalog_number = number
    return g.fairway_catalog


def sync() -> None:
    """Before each request: serve the live version."""
    from flask import request
    if request.endpoint in SKIP_ENDPOINTS:
        return
    serve_live(current_app._get_current_object())


def init_app(app: Flask) -> None:
    app.config.setdefault("FAIRWAY_CATALOG_STORE", str(Path(app.instance_path) / "catalog"))
    app.extensions["fairway.configured_catalog"] = app.extensions["fairway.catalog"]
    app.before_request(sync)
