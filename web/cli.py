"""The `fairway` command: a Flask group whose data commands are thin wrappers
over engine functions (they need no app), plus the app's own `run` and `demo`.

Exit codes: 0 success, 1 the input was refused (every reason on stderr), 2 usage.
"""
from __future__ import annotations

import sys
from enum import IntEnum
from pathlib import Path

import click
from flask.cli import FlaskGroup

from engine import __version__
from engine.catalog import Catalog, load_catalog
from engine.errors import FairwayError, ProblemsError
from engine.progress import terminal_progress


class Exit(IntEnum):
    OK = 0
    REFUSED = 1
    USAGE = 2


def _create_app():
    from web import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             help="fairway: find the one thing to coach each rep this month.")
@click.version_option(__version__, prog_name="fairway")
def cli():
    pass


def refuse(err: ProblemsError) -> None:
    """Print every problem on stderr and exit 1."""
    click.echo(err.summary(), err=True)
    sys.exit(Exit.REFUSED)


def usage(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(Exit.USAGE)


def catalog_option(f):
    return click.option("--catalog", "catalog_dir", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help="A catalog folder (rules/ and learning_library/) "
                        "to use in place of the shipped one.")(f)


def get_catalog(catalog_dir: Path | None) -> Catalog:
    try:
        return load_catalog(catalog_dir)
    except ProblemsError as err:
        refuse(err)
        raise  # unreachable


dataset_arg = click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))


def load_or_refuse(dataset: Path, catalog: Catalog):
    from engine.dataset import load_dataset
    try:
        return load_dataset(dataset, catalog.pipeline, progress=terminal_progress())
    except ProblemsError as err:
        refuse(err)


def warn(messages) -> None:
    for m in messages:
        click.echo(f"warning: {m}", err=True)


# --------------------------------------------------------------------------- validate

@cli.command("validate", with_appcontext=False)
@dataset_arg
@catalog_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def validate_cmd(dataset: Path, catalog_dir: Path | None, as_json: bool):
    """Check DATASET against the data contract; list every problem."""
    from engine.diagnosis.documents import dumps
    catalog = get_catalog(catalog_dir)
    ds = load_or_refuse(dataset, catalog)
    warn(ds.warnings)
    s = ds.summary()
    if as_json:
        click.echo(dumps({"valid": True, **s}, indent=2))
        return
    roles = ", ".join(f"{n} {r}" for r, n in s["roles"].items())
    click.echo(f"{dataset}: valid")
    click.echo(f"  {s['reps']} reps ({roles}) in {s['teams']} teams, {s['divisions']} divisions")
    click.echo(f"  dates {s['first_date']} to {s['last_date']}")
    for stem, rows in s["rows"].items():
        click.echo(f"  {stem}: {rows:,} rows")


# --------------------------------------------------------------------------- metrics

def _check_rep(ds, rep):
    """A usage error for a rep id the dataset does not have."""
    if rep is not None and rep not in set(ds.reps["rep_id"]):
        usage(f"no rep {rep!r} in the dataset")


@cli.command("metrics", with_appcontext=False)
@dataset_arg
@click.option("--period", metavar="YYYY-MM", help="The month to review (default: the latest month with data).")
@click.option("--rep", metavar="ID", help="Only this rep.")
@click.option("--json", "as_json", is_flag=True, help="Print the contract's JSON document.")
@click.option("--series", is_flag=True, help="With --json: each rep's month, week and day series too.")
@catalog_option
def metrics_cmd(dataset: Path, period: str | None, rep: str | None, as_json: bool, series: bool,
                catalog_dir: Path | None):
    """Metrics of every rep, with team, division and company benchmarks."""
    from engine.metrics.benchmarks import compute_benchmarks
    from engine.metrics.compute import compute_metrics
    from engine.diagnosis.documents import dumps, metrics_document, metrics_text
    catalog = get_catalog(catalog_dir)
    ds = load_or_refuse(dataset, catalog)
    _check_rep(ds, rep)
    try:
        table = compute_metrics(ds, catalog.pipeline, catalog.thresholds, period)
    except FairwayError as err:
        usage(str(err))
    bench = compute_benchmarks(table, catalog.thresholds)
    if as_json:
        click.echo(dumps(metrics_document(table, bench, catalog.pipeline, catalog.thresholds, rep, series=series)))
    else:
        click.echo(metrics_text(table, bench, catalog.pipeline, rep))


# --------------------------------------------------------------------------- diagnose

@cli.command("diagnose", with_appcontext=False)
@dataset_arg
@click.option("--period", metavar="YYYY-MM", help="The month to review (default: the latest month with data).")
@click.option("--rep", metavar="ID", help="Only this rep.")
@click.option("--json", "as_json", is_flag=True, help="Print the contract's JSON document.")
@catalog_option
def diagnose_cmd(dataset: Path, period: str | None, rep: str | None, as_json: bool,
                 catalog_dir: Path | None):
    """The one thing to coach each rep this month, with the evidence."""
    from engine.diagnosis.analysis import analyse
    from engine.diagnosis.documents import diagnosis_document, diagnosis_text, dumps
    catalog = get_catalog(catalog_dir)
    ds = load_or_refuse(dataset, catalog)
    _check_rep(ds, rep)
    try:
        result = analyse(ds, catalog, period)
    except ProblemsError as err:      # a catalog whose rules do not compile: refused, like any input
        refuse(err)
    except FairwayError as err:
        usage(str(err))
    if as_json:
        click.echo(dumps(diagnosis_document(result.diagnosis, rep)))
    else:
        click.echo(diagnosis_text(result.diagnosis, catalog, rep))


# --------------------------------------------------------------------------- catalog

@cli.group("catalog")
def catalog_group():
    """Check and test a coaching catalog (rules/ and learning_library/)."""


catalog_dir_arg = click.argument("directory", required=False,
                                 type=click.Path(exists=True, file_okay=False, path_type=Path))


@catalog_group.command("check", with_appcontext=False)
@catalog_dir_arg
@click.option("--strict", is_flag=True, help="Fail on warnings too (coverage gaps, dead answers...).")
def catalog_check_cmd(directory: Path | None, strict: bool):
    """Validate the catalog and report what static analysis finds."""
    from engine.catalog.check import check_catalog
    report = check_catalog(directory)
    for p in report.errors:
        click.echo(f"error: {p}", err=True)
    for p in report.warnings:
        click.echo(f"warning: {p}", err=True)
    if report.catalog is not None:
        c = report.catalog
        click.echo(f"{c.root}: {len(c.performance_gaps)} performance gaps, {len(c.behaviour_gaps)} behaviour "
                   f"gaps, {len(c.flows)} flows, {len(c.skills)} root causes, {len(c.assets)} learning assets, "
                   f"{len(c.assignments)} selling assignments, {len(c.tests)} tests")
        click.echo("\nCoverage (root cause: learning assets / selling assignments / flows)")
        for row in report.coverage:
            click.echo(f"  {row['skill']:<24} {len(row['assets'])} assets ({row['minutes']} min) / "
                       f"{len(row['assignments'])} assignments / {len(row['flows'])} flows")
    if not report.ok(strict):
        click.echo(f"catalog refused: {len(report.errors)} errors, {len(report.warnings)} warnings", err=True)
        sys.exit(Exit.REFUSED)
    click.echo(f"catalog ok ({len(report.warnings)} warnings)")


@catalog_group.command("test", with_appcontext=False)
@catalog_dir_arg
def catalog_test_cmd(directory: Path | None):
    """Run the catalog's tests (rules/tests/*.yaml)."""
    from engine.catalog.testing import run_catalog_tests
    catalog = get_catalog(directory)
    outcomes = run_catalog_tests(catalog)
    failed = [o for o in outcomes if not o.passed]
    for o in outcomes:
        click.echo(f"{'ok  ' if o.passed else 'FAIL'} {o.file}: {o.name}")
        for d in o.diffs:
            click.echo("     " + d.replace("\n", "\n     "))
    click.echo(f"\n{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    if not outcomes:
        click.echo("no catalog tests found in rules/tests/", err=True)
        sys.exit(Exit.REFUSED)
    if failed:
        sys.exit(Exit.REFUSED)


# --------------------------------------------------------------------------- demo data

@cli.command("demo-data", with_appcontext=False)
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--reps", default=40, show_default=True, type=click.IntRange(10, 20000))
@click.option("--months", default=12, show_default=True, type=click.IntRange(2, 36))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--end", metavar="YYYY-MM", help="The last month generated (default: last month).")
@click.option("--planted", default=0.3, show_default=True, type=click.FloatRange(0, 0.4),
              help="Share of reps given one planted deficiency.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@catalog_option
def demo_data_cmd(out: Path, reps: int, months: int, seed: int, end: str | None, planted: float,
                  fmt: str, catalog_dir: Path | None):
    """Generate a realistic demo org into OUT, with a ground-truth file of planted gaps."""
    from engine.demo.org import generate_org, write_org
    catalog = get_catalog(catalog_dir)
    if out.exists() and any(out.iterdir()):
        usage(f"{out} exists and is not empty")
    try:
        org = generate_org(catalog.pipeline, reps=reps, months=months, seed=seed, end=end,
                           planted_share=planted)
    except ValueError as err:
        usage(str(err))
    rows = write_org(org, out, fmt=fmt)
    click.echo(f"{out}: demo org of {reps} reps, {months} months to {org.end} (seed {seed})")
    for name, count in rows.items():
        click.echo(f"  {name}: {count:,} rows")


# --------------------------------------------------------------------------- import

@cli.command("import", with_appcontext=False)
@click.argument("source", metavar="SOURCE")
@click.option("--mapping", "mapping_ref", required=True, metavar="FILE|NAME",
              help="A mapping YAML file, or the name of one shipped in mappings/ "
                   "(salesforce, salesforce-report, hubspot, hubspot-export).")
@click.option("--out", type=click.Path(path_type=Path), help="The dataset folder to create (new or empty).")
@click.option("--overlay", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An org's overlay: role names, stages, call results, pipeline, time zone.")
@click.option("--schema", help="With a database URL: the schema holding the synced tables.")
@click.option("--dry-run", is_flag=True, help="Do everything and report, but write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@catalog_option
def import_cmd(source: str, mapping_ref: str, out: Path | None, overlay: Path | None, schema: str | None,
               dry_run: bool, as_json: bool, catalog_dir: Path | None):
    """Turn CRM exports into a dataset folder, as a mapping says.

    SOURCE is a folder of export files, or a database URL (SQLAlchemy, e.g.
    postgresql://user@host/db) holding a warehouse sync of the CRM's tables.
    """
    from engine.errors import DatasetError
    from engine.sources import import_dataset, load_mapping, shipped_mappings
    from engine.sources.warehouse import is_url
    shipped = shipped_mappings()
    path = Path(mapping_ref)
    if not path.is_file():
        if mapping_ref not in shipped:
            usage(f"no mapping file {mapping_ref!r}, and no shipped mapping of that name "
                  f"(shipped: {', '.join(shipped)})")
        path = shipped[mapping_ref]
    if out is None and not dry_run:
        usage("give --out DATASET (or --dry-run)")
    if out is not None and not dry_run and out.exists() and (not out.is_dir() or any(out.iterdir())):
        usage(f"{out} exists and is not an empty folder")
    url = is_url(source)
    if not url and not Path(source).is_dir():
        usage(f"{source} is not a folder of exports, nor a database URL")
    catalog = get_catalog(catalog_dir)
    out = out or Path(".fairway-dry-run")
    try:
        mapping = load_mapping(path, catalog.pipeline, overlay=overlay)
        if url:
            from engine.sources.warehouse import import_warehouse
            report = import_warehouse(source, schema, mapping, out, catalog.pipeline,
                                      progress=terminal_progress(), dry_run=dry_run)
        else:
            report = import_dataset(Path(source), mapping, out, catalog.pipeline, progress=terminal_progress(),
                                    dry_run=dry_run)
    except ProblemsError as err:
        if isinstance(err, DatasetError):
            click.echo("The mapping ran, but its result breaks the data contract:", err=True)
        if as_json:
            from engine.diagnosis.documents import dumps
            click.echo(dumps({"imported": False, "problems": [p.to_dict() for p in err.problems]}, indent=2))
        refuse(err)
    if as_json:
        from engine.diagnosis.documents import dumps
        click.echo(dumps({"imported": not dry_run, "out": None if dry_run else str(out),
                          **report.to_dict(catalog)}, indent=2))
        return
    where = "dry run: nothing written" if dry_run else f"{out}: imported, valid"
    click.echo(f"{where} (from {source} with {path.name}" + (f" and {overlay.name}" if overlay else "") + ")")
    click.echo(report.text(catalog))


# --------------------------------------------------------------------------- the app

@cli.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on (loopback by default).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--instance", "instance_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Instance folder to create (default: a new temporary folder).")
@click.option("--reps", default=60, show_default=True, type=click.IntRange(10, 2000))
@click.option("--no-serve", is_flag=True, help="Prepare the instance and exit (for scripts and tests).")
def demo_cmd(host: str, port: int, instance_dir: Path | None, reps: int, no_serve: bool):
    """Generate a demo org in a fresh instance, create one user per role, serve the app."""
    import os
    import tempfile

    from web import create_app
    from web.demo import init_db, seed_demo
    if instance_dir is None:
        instance_dir = Path(tempfile.mkdtemp(prefix="fairway-demo-"))
    elif instance_dir.exists() and any(instance_dir.iterdir()):
        usage(f"{instance_dir} is not empty: the demo needs a fresh instance folder")
    instance_dir = instance_dir.resolve()
    instance_dir.mkdir(parents=True, exist_ok=True)
    os.environ["FAIRWAY_INSTANCE"] = str(instance_dir)
    os.environ["FAIRWAY_ENV"] = "demo"
    os.environ.pop("FAIRWAY_DATABASE_URL", None)
    app = create_app()
    click.echo(f"Preparing the demo instance in {instance_dir} ...")
    init_db(app)
    users = seed_demo(app, instance_dir / "demo-org", reps=reps)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    click.echo(f"\nfairway demo: {url}\nSign in as (user / password / sees):")
    for u in users:
        click.echo(f"  {u.username:<11} {u.password:<14} {u.scope}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving on {host}, not only this computer", err=True)
    if not no_serve:
        # not app.run(): Flask ignores it inside its own command line
        from werkzeug.serving import run_simple
        click.echo("Press Ctrl+C to stop.")
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@cli.command("create-user")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["manager", "director", "enablement", "ops", "trainer", "admin"]))
@click.option("--team", "teams", multiple=True, help="A team the manager leads (repeat for several).")
@click.option("--division", "divisions", multiple=True, help="A division the director leads.")
@click.password_option()
def create_user_cmd(username, name, role, teams, divisions, password):
    """Create a user of the configured instance (run `fairway db upgrade` first)."""
    from web.demo import create_user
    from web.extensions import db
    from web.models import Role, User
    if db.session.execute(db.select(User).where(User.username == username)).scalar_one_or_none():
        usage(f"a user {username!r} exists already")
    create_user(username, name, Role(role), password, teams=teams, divisions=divisions)
    click.echo(f"created {role} {username}")


def main():  # pragma: no cover - console entry point
    cli(prog_name="fairway")
