"""The `fairway` command group: a FlaskGroup that never needs the app to show help.

Flask's group loads the app to list its commands (for `--help`, a bare `fairway`, or a
mistyped command), so a missing SECRET_KEY or database turned every typo into a
traceback. Here the commands are known without the app: ours, Flask's `run`, `shell` and
`routes`, Flask-Migrate's `db` (imported only when asked for), and plugins. The app is
loaded only by the commands that serve or store, and what keeps it from loading, the
database from answering, or the engine from running (a bad FAIRWAY_* setting, memory
exhausted at its limit) is a one-line error with exit 1.
"""
from __future__ import annotations

import importlib
import sys

import click
from flask.cli import FlaskGroup

from engine.errors import FairwayError, ProblemsError

# commands that Flask extensions add to `app.cli`, listed here so that listing them needs no app
APP_COMMANDS = {"db": ("flask_migrate.cli", "db")}


class FairwayGroup(FlaskGroup):
    """FlaskGroup whose command list and usage errors never load the app."""

    def __init__(self, **kwargs):
        # configuration comes from FAIRWAY_* variables and the instance's config.py, never
        # from a .env file that happens to lie in the working folder
        kwargs.setdefault("load_dotenv", False)
        super().__init__(**kwargs)
        # Flask's --app and --env-file name another app or a .env file: fairway has one app
        self.params = [p for p in self.params if p.name not in ("app", "env_file")]

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return sorted(set(click.Group.list_commands(self, ctx)) | set(APP_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load_plugin_commands()
        found = click.Group.get_command(self, ctx, name)
        if found is None and name in APP_COMMANDS:
            module, attr = APP_COMMANDS[name]
            found = getattr(importlib.import_module(module), attr)
        return found          # None: click says "No such command" (with a did-you-mean), exit 2

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ProblemsError as err:          # input refused where a command did not say so itself
            raise click.ClickException(err.summary()) from None
        except FairwayError as err:           # a setting or a limit: one line, never a traceback
            raise click.ClickException(str(err)) from None
        except Exception as exc:
            message = database_problem(exc)
            if message is None:
                raise
            raise click.ClickException(message) from None


def load_app():
    """The configured app, or a one-line ClickException (exit 1) saying what is missing."""
    from web import create_app
    from web.config import ConfigError
    try:
        return create_app()
    except ConfigError as err:
        raise click.ClickException(str(err)) from None
    except ProblemsError as err:                 # FAIRWAY_CATALOG names a catalog with errors
        raise click.ClickException(f"the app's catalog cannot be loaded (FAIRWAY_CATALOG): "
                                   f"{err.summary()}") from None


def database_problem(exc: BaseException) -> str | None:
    """What a database error means to the person at the command line; None if it is not one."""
    if "sqlalchemy" not in sys.modules:           # nothing touched a database
        return None
    from sqlalchemy.exc import DBAPIError
    if not isinstance(exc, DBAPIError):
        return None
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
    if "no such table" in detail or ("relation" in detail and "does not exist" in detail):
        return f"the database has no tables ({detail}): run `fairway db upgrade` first"
    return (f"the database cannot be used: {detail} (check FAIRWAY_DATABASE_URL, or the instance "
            f"folder FAIRWAY_INSTANCE)")


def require_tables(*names: str) -> None:
    """Exit 1 unless the database of the app in context has these tables (an SQLite file that
    is not there yet is not created by asking)."""
    from pathlib import Path

    from sqlalchemy import inspect

    from .extensions import db
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():
        missing = list(names)
    else:
        missing = [n for n in names if not inspect(db.engine).has_table(n)]
    if missing:
        raise click.ClickException("the database has no tables: run `fairway db upgrade` first")
