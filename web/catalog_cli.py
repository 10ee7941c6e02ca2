"""`fairway catalog whatif | diff | export | versions`: thin wrappers over the engine's
what-if and catalog files, and over an instance's published versions."""
from __future__ import annotations

from pathlib import Path

import click

from engine.errors import FairwayError, ProblemsError

from .cli import catalog_group, catalog_option, dataset_arg, engine_option, get_catalog, load_or_refuse, refuse, usage


@catalog_group.command("whatif", with_appcontext=False)
@dataset_arg
@click.option("--set", "settings", multiple=True, required=True, metavar="KEY=VALUE",
              help="A threshold (min_gap=0.2, rag.green=0.95, min_sample.proportion=20) or a gap's own key "
                   "(gaps.demo_dropoff.min_gap=0.25); repeat for several.")
@click.option("--period", metavar="YYYY-MM", help="The month to review (default: the latest month with data).")
@click.option("--json", "as_json", is_flag=True, help="Print {period, changed, unchanged, focus, findings} as JSON.")
@catalog_option
@engine_option
def whatif_cmd(dataset: Path, settings: tuple[str, ...], period: str | None, as_json: bool,
               catalog_dir: Path | None, engine: str | None):
    """Diagnose DATASET with and without the changes; list every rep whose focus changes."""
    from engine.catalog.overrides import OverrideError, parse_override
    from engine.diagnosis.documents import dumps
    from engine.diagnosis.whatif import whatif
    catalog = get_catalog(catalog_dir)
    try:
        overrides = [parse_override(s) for s in settings]
    except OverrideError as err:
        usage(err.summary())
    ds = load_or_refuse(dataset, catalog, engine=engine)
    try:
        result = whatif(ds, catalog, overrides, period)
    except OverrideError as err:                 # a key that names no setting: a usage error
        usage(err.summary())
    except ProblemsError as err:                 # a value the catalog refuses, located
        refuse(err)
    except FairwayError as err:                  # a period outside the data
        usage(str(err))
    if as_json:
        click.echo(dumps(result.to_dict(), indent=2))
        return
    changes = ", ".join(f"{o.key}={o.text}" for o in overrides)
    n = len(result.changed)
    click.echo(f"{result.period}: with {changes}, {n} {'rep changes' if n == 1 else 'reps change'} focus, "
               f"{result.unchanged} unchanged")
    for c in result.changed:
        click.echo(f"  {c.rep_id:<8} {c.name:<24} {c.team:<16} {c.before or 'no focus'} -> {c.after or 'no focus'}")
    moved = [(g, b, a) for g, (b, a) in result.focus.items() if a != b]
    if moved:
        click.echo("\nFocus per behaviour gap (reps, before -> after)")
        for g, b, a in moved:
            click.echo(f"  {g:<28} {b:>3} -> {a}")


@catalog_group.command("diff", with_appcontext=False)
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--stat", is_flag=True, help="Only the files changed, with lines added and removed.")
def diff_cmd(a: str, b: str, stat: bool):
    """What changed from catalog A to B: folders, or version numbers of the configured instance."""
    from engine.catalog.bundle import changes
    files_a, label_a = _catalog_files(a)
    files_b, label_b = _catalog_files(b)
    found = changes(files_a, files_b, label_a, label_b)
    for c in found:
        if stat:
            click.echo(f"{c.status:<8} {c.path}  +{c.added} -{c.removed}")
        else:
            click.echo(c.diff, nl=False)
    if stat or not found:
        click.echo(f"{len(found)} file{'s' if len(found) != 1 else ''} differ", err=True)


@catalog_group.command("export")
@click.argument("version", type=int)
@click.argument("out", type=click.Path(path_type=Path))
def export_cmd(version: int, out: Path):
    """Write version VERSION of the configured instance to OUT: a new folder, or a .zip file."""
    from engine.catalog.bundle import to_zip, write_folder
    files = _version_files(version)
    if out.exists() and (out.is_file() or any(out.iterdir())):
        usage(f"{out} exists and is not an empty folder")
    if out.suffix == ".zip":
        out.write_bytes(to_zip(files, folder=f"catalog-v{version}"))
    else:
        write_folder(files, out)
    click.echo(f"{out}: version {version}, {len(files)} files")


@catalog_group.command("versions")
def versions_cmd():
    """The published versions of the configured instance, the live one marked."""
    from .catalog_live import live_version
    from .cligroup import require_tables
    from .extensions import db
    from .models import CatalogState, CatalogVersion
    require_tables(CatalogVersion.__tablename__, CatalogState.__tablename__)
    live = live_version()
    for v in db.session.execute(db.select(CatalogVersion).order_by(CatalogVersion.number)).scalars():
        who = v.author.username if v.author else "-"
        mark = "*" if v.number == live.number else " "
        click.echo(f"{mark} {v.number:>4}  {v.created_at:%Y-%m-%d %H:%M}  {v.kind:<8} {who:<12} {v.message}")


def _catalog_files(ref: str) -> tuple[dict[str, str], str]:
    """The files of a catalog folder, or of a version number of the configured instance."""
    from engine.catalog.bundle import read_folder
    path = Path(ref)
    if path.is_dir():
        files, problems, _ = read_folder(path)
        if problems:
            refuse(ProblemsError(problems))
        return files, ref.rstrip("/") or ref
    if ref.isdigit():
        return _version_files(int(ref)), f"v{ref}"
    usage(f"{ref!r} is neither a catalog folder nor a version number")
    raise AssertionError("unreachable")


def _version_files(number: int) -> dict[str, str]:
    """A version's files, read from the configured instance (its app made here if need be)."""
    from flask import current_app
    from flask.cli import ScriptInfo

    from .catalog_live import live_version, version_or_none
    from .cligroup import require_tables
    from .models import CatalogState, CatalogVersion
    if current_app:
        require_tables(CatalogVersion.__tablename__, CatalogState.__tablename__)
        live_version()                           # an instance without a version makes its catalog version 1
        v = version_or_none(number)
        if v is None:
            usage(f"the instance has no catalog version {number}")
        return dict(v.files)
    with click.get_current_context().ensure_object(ScriptInfo).load_app().app_context():
        return _version_files(number)

