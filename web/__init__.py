"""fairway's web app: an application factory; nothing runs at import."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from . import config as cfg

MIGRATIONS = str(Path(__file__).parent / "migrations")
MAX_ID = 2 ** 31 - 1          # the largest id of an integer column (32 bits on PostgreSQL)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, the catalog (loaded and checked once), extensions, blueprints."""
    # imported here, not at the top: the `fairway` data commands import this package and
    # should not pay for the database layer they do not use
    from engine.catalog import load_catalog

    from . import catalog_live
    from .extensions import csrf, db, login_manager, migrate
    _listen_for_sqlite()
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("FAIRWAY_INSTANCE") or None
    app = Flask(__name__, instance_relative_config=True,
                instance_path=str(Path(instance).resolve()) if instance else None)
    app.config.from_mapping(cfg.defaults(app.instance_path))
    if test_config is None:
        cfg.from_instance_file(app)
        app.config.update(cfg.from_environment())
    else:
        app.config.update(test_config)
    cfg.finalise(app.config, app.instance_path)
    cfg.make_instance_folder(app.instance_path)

    app.extensions["fairway.catalog"] = load_catalog(app.config["FAIRWAY_CATALOG"])
    cfg.init_database(app, db)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    csrf.init_app(app)
    catalog_live.init_app(app)          # after CSRF: a refused request loads nothing
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"

    from . import filters, errors
    from .admin.routes import bp as admin_bp
    from .api.routes import bp as api_bp
    from .archive.routes import bp as archive_bp
    from .assignments.routes import bp as assignments_bp
    from .authoring.routes import bp as authoring_bp
    from .auth.routes import bp as auth_bp
    from .catalog.routes import bp as catalog_bp
    from .me.routes import bp as me_bp
    from .coach.routes import bp as coach_bp
    from .effectiveness.routes import bp as effectiveness_bp
    from .reports.routes import bp as reports_bp
    from .rollup.routes import bp as rollup_bp
    from .reps.routes import bp as reps_bp
    from .team.routes import bp as team_bp

    app.url_map.converters["int"] = DatabaseId
    filters.register(app)
    errors.register(app)
    app.register_blueprint(vendor_blueprint())
    for bp in (auth_bp, team_bp, reps_bp, coach_bp, archive_bp, assignments_bp, catalog_bp, authoring_bp, admin_bp,
               api_bp):
        app.register_blueprint(bp)
    from . import jobs
    jobs.init_app(app)
    trust_proxies(app)
    for bp in (rollup_bp, effectiveness_bp, reports_bp):        # the monthly rhythm
        app.register_blueprint(bp)
    app.register_blueprint(me_bp)                               # reps in the loop

    @app.get("/healthz")
    def healthz():
        db.session.execute(db.text("select 1"))
        return {"status": "ok", "catalog": catalog_live.live_catalog().version,
                "catalog_number": app.extensions.get("fairway.catalog_number")}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                    "script-src 'self'; frame-ancestors 'none'; form-action 'self'")
        return response

    return app


def trust_proxies(app: Flask) -> None:
    """Behind FAIRWAY_PROXY_COUNT reverse proxies (nginx...), take the client's address, scheme, host,
    port and prefix from their X-Forwarded-* headers; with none, such headers are ignored (anyone can
    send them)."""
    n = app.config["FAIRWAY_PROXY_COUNT"]
    if n:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)


class DatabaseId(IntegerConverter):
    """<int:...> in every route: an id a database integer column can hold (larger: 404, not 500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def vendor_blueprint():
    """Third-party browser code (Chart.js), served by the app itself: no CDN, works offline.

    Kept outside web/ in vendor/, untouched, with its licence.
    """
    from flask import Blueprint

    from engine.paths import shipped
    return Blueprint("vendor", __name__, static_folder=str(shipped("vendor")), static_url_path="/vendor")


def _sqlite_durability(dbapi_connection, _record):
    """SQLite: foreign keys on; WAL with full sync, so an acknowledged save survives a crash."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()


def _listen_for_sqlite() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    if not event.contains(Engine, "connect", _sqlite_durability):
        event.listen(Engine, "connect", _sqlite_durability)
