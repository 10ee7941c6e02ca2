"""The `fairway` command: a Flask group whose data commands are thin wrappers
over engine functions (they need no app), plus the app's own `run`, `db` and `demo`.

Exit codes: 0 success, 1 the input was refused (every reason on stderr), 2 usage.
Help, a bare `fairway` and a mistyped command never load the app (see web.cligroup).
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from enum import IntEnum
from pathlib import Path

import click

from engine import __version__
from engine.catalog import Catalog, load_catalog
from engine.errors import FairwayError, Problem, ProblemsError
from engine.progress import terminal_progress

from flask.cli import AppGroup

from .cligroup import FairwayGroup, load_app, require_tables


class Exit(IntEnum):
    OK = 0
    REFUSED = 1
    USAGE = 2


@click.group(cls=FairwayGroup, create_app=load_app, add_version_option=False,
             help="fairway: find the one thing to coach each rep this month.")
@click.version_option(__version__, prog_name="fairway")
def cli():
    pass


def refuse(err: ProblemsError, as_json: bool = False) -> None:
    """Print every problem on stderr and exit 1; with `as_json`, the problems as JSON on stdout too."""
    if as_json:
        click.echo(json.dumps({"valid": False, "problems": [p.to_dict() for p in err.problems]}, indent=2))
    click.echo(err.summary(), err=True)
    sys.exit(Exit.REFUSED)


def usage(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(Exit.USAGE)


def catalog_option(f):
    return click.option("--catalog", "catalog_dir", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help="A catalog folder (rules/ and learning_library/) "
                        "to use in place of the shipped one.")(f)


def get_catalog(catalog_dir: Path | None, as_json: bool = False) -> Catalog:
    try:
        return load_catalog(catalog_dir)
    except ProblemsError as err:
        refuse(err, as_json)
        raise  # unreachable


dataset_arg = click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))


def engine_option(f):
    return click.option("--engine", type=click.Choice(["duckdb", "spark"]), default=None,
                        help="The analytical engine that reads the data and computes the aggregates: "
                             "duckdb (embedded, the default; FAIRWAY_ENGINE) or spark (local or a "
                             "cluster: FAIRWAY_SPARK_MASTER).")(f)


def load_or_refuse(dataset: Path, catalog: Catalog, as_json: bool = False, engine: str | None = None):
    from engine.dataset import load_dataset
    try:
        return load_dataset(dataset, catalog.pipeline, progress=terminal_progress(), engine=engine)
    except ProblemsError as err:
        refuse(err, as_json)


def warn(messages) -> None:
    for m in messages:
        click.echo(f"warning: {m}", err=True)


# --------------------------------------------------------------------------- validate

@cli.command("validate", with_appcontext=False)
@dataset_arg
@catalog_option
@engine_option
@click.option("--json", "as_json", is_flag=True,
              help='Print the summary as JSON; a refusal as {"valid": false, "problems": [...]}.')
def validate_cmd(dataset: Path, catalog_dir: Path | None, engine: str | None, as_json: bool):
    """Check DATASET against the data contract; list every problem."""
    from engine.diagnosis.documents import dumps
    catalog = get_catalog(catalog_dir, as_json)
    ds = load_or_refuse(dataset, catalog, as_json, engine)
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
@engine_option
def metrics_cmd(dataset: Path, period: str | None, rep: str | None, as_json: bool, series: bool,
                catalog_dir: Path | None, engine: str | None):
    """Metrics of every rep, with team, division and company benchmarks."""
    from engine.metrics.benchmarks import compute_benchmarks
    from engine.metrics.compute import compute_metrics
    from engine.diagnosis.documents import dumps, metrics_document, metrics_text
    catalog = get_catalog(catalog_dir)
    ds = load_or_refuse(dataset, catalog, engine=engine)
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
@engine_option
def diagnose_cmd(dataset: Path, period: str | None, rep: str | None, as_json: bool,
                 catalog_dir: Path | None, engine: str | None):
    """The one thing to coach each rep this month, with the evidence."""
    from engine.diagnosis.analysis import analyse
    from engine.diagnosis.documents import diagnosis_document, diagnosis_text, dumps
    catalog = get_catalog(catalog_dir)
    ds = load_or_refuse(dataset, catalog, engine=engine)
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
@click.option("--history", "history", default=3, show_default=True, type=click.IntRange(0, 12),
              help="Past months of one-on-ones, plans and assignments to write (coaching_history.json).")
@catalog_option
def demo_data_cmd(out: Path, reps: int, months: int, seed: int, end: str | None, planted: float,
                  fmt: str, history: int, catalog_dir: Path | None):
    """Generate a realistic demo org into OUT, with a ground-truth file of planted gaps and a
    coaching history (the past months' one-on-ones, plans and assignments)."""
    from engine.demo.org import generate_org, write_org
    catalog = get_catalog(catalog_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        usage(f"{out} exists and is not an empty folder")
    try:
        org = generate_org(catalog.pipeline, reps=reps, months=months, seed=seed, end=end,
                           planted_share=planted)
    except ValueError as err:
        usage(str(err))

    def write(tmp: Path) -> dict:
        rows = write_org(org, tmp, fmt=fmt)
        if history:
            from engine.dataset import load_dataset
            from engine.demo.history import HISTORY_FILE, write_history
            ds = load_dataset(tmp, catalog.pipeline)
            rows[HISTORY_FILE] = write_history(ds, catalog, tmp, org.end, history, months, seed)
        return rows
    rows = publish(out, write)
    click.echo(f"{out}: demo org of {reps} reps, {months} months to {org.end} (seed {seed})")
    for name, count in rows.items():
        click.echo(f"  {name}: {count:,} {'conversations' if name.endswith('.json') else 'rows'}")


def publish(out: Path, write):
    """Run `write(folder)` into a new folder beside `out`, then rename it to `out`: a
    failure leaves nothing behind. Refuses (exit 1) where `out` cannot be written."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-", suffix=".writing"))
    except OSError as exc:
        refuse(ProblemsError([write_problem(out, exc)]))
    try:
        result = write(tmp / "out")
        if out.exists():
            out.rmdir()              # empty (checked first): a folder cannot be renamed onto it
        (tmp / "out").rename(out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        refuse(ProblemsError([write_problem(out, exc)]))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rmdir()
    return result


def write_problem(out: Path, exc: OSError) -> Problem:
    """Why the folder `out` cannot be written: a file in the way, or what the system said."""
    for above in [out, *out.parents]:
        if above.exists() or above.is_symlink():
            if above != out and not above.is_dir():
                return Problem(file=str(out), message=f"cannot be created: {above} is not a folder",
                               expected="a path through folders")
            break
    return Problem(file=str(out), message=f"cannot be written: {exc.strerror or exc}",
                   expected="a folder fairway may create")


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
    from engine.files import check_input_file
    from engine.sources import import_dataset, load_mapping, shipped_mappings
    from engine.sources.warehouse import is_url
    shipped = shipped_mappings()
    path = Path(mapping_ref)
    if mapping_ref in shipped and not (path.is_file() or path.is_symlink()):
        path = shipped[mapping_ref]
    elif not path.exists() and not path.is_symlink():
        usage(f"no mapping file {mapping_ref!r}, and no shipped mapping of that name "
              f"(shipped: {', '.join(shipped)})")
    elif problem := check_input_file(path, mapping_ref, limit_name="yaml_file"):
        refuse_import(ProblemsError([problem]), as_json)
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
        refuse_import(err, as_json)
    except OSError as exc:
        refuse_import(ProblemsError([write_problem(out, exc)]), as_json)
    if as_json:
        from engine.diagnosis.documents import dumps
        click.echo(dumps({"imported": not dry_run, "out": None if dry_run else str(out),
                          **report.to_dict(catalog)}, indent=2))
        return
    where = "dry run: nothing written" if dry_run else f"{out}: imported, valid"
    click.echo(f"{where} (from {source} with {path.name}" + (f" and {overlay.name}" if overlay else "") + ")")
    click.echo(report.text(catalog))


def refuse_import(err: ProblemsError, as_json: bool) -> None:
    """An import refused: with --json, {"imported": false, "problems": [...]} on stdout too."""
    if as_json:
        from engine.diagnosis.documents import dumps
        click.echo(dumps({"imported": False, "problems": [p.to_dict() for p in err.problems]}, indent=2))
    refuse(err)


# --------------------------------------------------------------------------- progress reports

class ReportGroup(AppGroup):
    """`fairway report DATASET ...` makes a report; `fairway report send ...` e-mails it."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["make", *args]
        return super().parse_args(ctx, args)


def report_options(f):
    for opt in reversed([
            click.option("--by", type=click.Choice(["division", "team", "rep"]), default="team", show_default=True,
                         help="Group by division, team or rep."),
            click.option("--grain", type=click.Choice(["day", "week", "month"]), default="day", show_default=True,
                         help="Buckets: days, weeks (Monday to Sunday, cut at the month's edges) or the month."),
            click.option("--period", metavar="YYYY-MM", help="The month (default: the month of the data's last "
                                                             "day of work, the month in progress).")]):
        f = opt(f)
    return f


@cli.group("report", cls=ReportGroup)
def report_group():
    """Progress reports: the full funnel by division, team or rep, by day, week or month.

    fairway report DATASET [--by team] [--grain day] [--period YYYY-MM] [--format csv|html|json]

    fairway report send [DATASET] [--to ADDRESS ...]: by e-mail (see `fairway report send --help`).
    """


def make_report(dataset: Path, by: str, grain: str, period: str | None, catalog: Catalog):
    from engine.reports import build_report, month_facts
    ds = load_or_refuse(dataset, catalog)
    try:
        return build_report(month_facts(ds, period), by, grain)
    except FairwayError as err:
        usage(str(err))


def report_titles(catalog: Catalog, report) -> dict[str, str]:
    titles = {}
    for m in report.metrics:
        try:
            titles[m] = catalog.registry.get(m).title
        except KeyError:
            titles[m] = m
    return titles


@report_group.command("make", with_appcontext=False, hidden=True)
@dataset_arg
@report_options
@click.option("--format", "fmt", type=click.Choice(["csv", "html", "json"]), default="csv", show_default=True,
              help="csv: long form level,key,name,start,metric,value; json; html: a document to open or mail.")
@catalog_option
def report_make_cmd(dataset: Path, by: str, grain: str, period: str | None, fmt: str, catalog_dir: Path | None):
    """The progress report of DATASET on stdout."""
    catalog = get_catalog(catalog_dir)
    report = make_report(dataset, by, grain, period, catalog)
    if fmt == "csv":
        click.echo(report.to_csv(), nl=False)
    elif fmt == "json":
        from engine.diagnosis.documents import dumps
        click.echo(dumps(report.to_dict()))
    else:
        from engine.reports.render import render_html
        click.echo(render_html(report, report_titles(catalog, report)))


@report_group.command("send")
@click.argument("dataset", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@report_options
@click.option("--to", "to", multiple=True, metavar="ADDRESS",
              help="Send the whole report to this address (repeat for several). Without it, every active "
                   "manager, director and admin with an e-mail gets the report of their own scope.")
def report_send_cmd(dataset: Path | None, by: str, grain: str, period: str | None, to: tuple[str, ...]):
    """E-mail the progress report through the instance's SMTP server (FAIRWAY_SMTP_*).

    Without DATASET: the instance's current import. Run it daily, e.g. from cron:
    `30 6 * * * FAIRWAY_INSTANCE=/srv/fairway /srv/fairway/.venv/bin/fairway report send`
    """
    from flask import current_app

    from .reports.mail import MailConfigError, Smtp, message, send
    try:
        smtp = Smtp.from_config(current_app.config)
    except MailConfigError as err:
        refuse(ProblemsError([Problem(file="FAIRWAY_SMTP", message=str(err))]))
    bad = [a for a in to if "@" not in a or any(c.isspace() for c in a)]
    if bad:
        usage(f"--to {bad[0]!r} is not an e-mail address")
    catalog = current_app.extensions["fairway.catalog"]
    heading = "fairway progress report · {month} · by {by}, by {grain}"
    messages = []
    if dataset is not None:
        if not to:
            usage("with a DATASET, give --to ADDRESS (the instance's users get the current import's report)")
        report = make_report(dataset, by, grain, period, catalog)
        titles = report_titles(catalog, report)
        head = heading.format(month=report.month, by=by, grain=grain)
        messages = [message(report, titles, smtp.sender, a, head) for a in to]
    else:
        messages = instance_messages(smtp, catalog, heading, by, grain, period, to)
    try:
        sent = send(smtp, messages)
    except (OSError, Exception) as exc:           # smtplib's errors, refused connections, TLS
        refuse(ProblemsError([Problem(file="FAIRWAY_SMTP", message=f"sending failed: {exc}",
                                      expected=f"an SMTP server at {smtp.host}:{smtp.port}")]))
    click.echo(f"sent {sent} progress report{'s' if sent != 1 else ''} ({by}, {grain}) through {smtp.host}:{smtp.port}")


@report_group.command("remind")
@click.option("--within", type=click.IntRange(0, 60), default=2, show_default=True,
              help="Remind of assignments due within this many days (and every overdue one).")
def report_remind_cmd(within: int):
    """E-mail each rep their open assignments due soon or overdue, once a day at most (FAIRWAY_SMTP_*).

    To the e-mail of the rep users linked to the rep. Run it daily, e.g. from cron:
    `0 7 * * * FAIRWAY_INSTANCE=/srv/fairway /srv/fairway/.venv/bin/fairway report remind`
    """
    from datetime import date

    from flask import current_app

    from .me.notify import send_due_reminders
    from .models import Assignment
    from .reports.mail import MailConfigError, Smtp
    try:
        smtp = Smtp.from_config(current_app.config)
    except MailConfigError as err:
        refuse(ProblemsError([Problem(file="FAIRWAY_SMTP", message=str(err))]))
    require_tables(Assignment.__tablename__)
    try:
        sent = send_due_reminders(smtp, date.today(), within)
    except (OSError, Exception) as exc:           # smtplib's errors, refused connections, TLS
        refuse(ProblemsError([Problem(file="FAIRWAY_SMTP", message=f"sending failed: {exc}",
                                      expected=f"an SMTP server at {smtp.host}:{smtp.port}")]))
    click.echo(f"sent {sent} reminder{'s' if sent != 1 else ''} through {smtp.host}:{smtp.port}")


def instance_messages(smtp, catalog: Catalog, heading: str, by: str, grain: str, period: str | None, to) -> list:
    """The current import's report: the whole of it to `to`, else each user's scope to each user."""
    from .extensions import db
    from .models import REP_DATA_ROLES, Role, User
    from .reports.mail import message
    from .reports.service import scoped_report, stored_months
    from .security import current_dataset
    require_tables(User.__tablename__)
    ds = current_dataset()
    if ds is None:
        refuse(ProblemsError([Problem(file="the instance", message="no current import to report on",
                                      expected="an import (the admin's Data page, or a DATASET argument)")]))
    months = stored_months(ds)
    month = period or months[0]
    if month not in months:
        usage(f"--period {month}: the current import holds {', '.join(months)}")
    everyone = User(role=Role.admin.value, teams=[], divisions=[], username="report", name="report")
    if to:
        report = scoped_report(everyone, ds, by, grain, month)
        head = heading.format(month=report.month, by=by, grain=grain)
        return [message(report, report_titles(catalog, report), smtp.sender, a, head) for a in to]
    users = db.session.execute(db.select(User).where(User.active.is_(True), User.email.is_not(None),
                                                     User.role.in_([r.value for r in REP_DATA_ROLES]))
                               .order_by(User.username)).scalars().all()
    out = []
    for u in users:
        if not u.email:
            continue
        report = scoped_report(u, ds, by, grain, month)
        if len(report.groups):
            head = heading.format(month=report.month, by=by, grain=grain)
            out.append(message(report, report_titles(catalog, report), smtp.sender, u.email, head))
    return out


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

    from web.demo import init_db, seed_demo
    if instance_dir is None:
        instance_dir = Path(tempfile.mkdtemp(prefix="fairway-demo-"))
        made = True
    elif instance_dir.exists() and any(instance_dir.iterdir()):
        usage(f"{instance_dir} is not empty: the demo needs a fresh instance folder")
    else:
        made = not instance_dir.exists()
    instance_dir = instance_dir.resolve()
    try:
        instance_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        refuse(ProblemsError([write_problem(instance_dir, exc)]))
    from .config import keep_secret
    try:
        keep_secret(instance_dir)        # restarted (fairway run on it), nobody is signed out
    except OSError as exc:
        refuse(ProblemsError([write_problem(instance_dir, exc)]))
    os.environ["FAIRWAY_INSTANCE"] = str(instance_dir)
    os.environ["FAIRWAY_ENV"] = "demo"
    os.environ["FAIRWAY_JOB_CONSUMER"] = "none"      # the worker beside the server runs the imports
    os.environ.pop("FAIRWAY_DATABASE_URL", None)
    try:
        app = load_app()             # a setting it cannot use (FAIRWAY_CATALOG...) is one line, exit 1
    except click.ClickException:
        if made:
            shutil.rmtree(instance_dir, ignore_errors=True)
        raise
    click.echo(f"Preparing the demo instance in {instance_dir} ...")
    init_db(app)
    users = seed_demo(app, instance_dir / "demo-org", reps=reps, history=3)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    click.echo(f"\nfairway demo: {url}\nSign in as (user / password / sees):")
    click.echo("  (the instance keeps its key in its folder: serve it again with "
               f"FAIRWAY_INSTANCE={instance_dir} FAIRWAY_ENV=demo fairway serve)")
    for u in users:
        click.echo(f"  {u.username:<11} {u.password:<14} {u.scope}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: serving on {host}, not only this computer", err=True)
    if not no_serve:
        from .serve import ServeOptions
        click.echo("Press Ctrl+C to stop.")
        serve_with_worker(app, ServeOptions(host=host, port=port, workers=2, threads=1), worker=True)


@cli.command("serve", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True, envvar="FAIRWAY_HOST",
              help="Address to listen on (FAIRWAY_HOST); behind a reverse proxy, loopback.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), envvar="FAIRWAY_PORT")
@click.option("--workers", default=None, type=click.IntRange(1, 64), envvar="FAIRWAY_WORKERS",
              help="Server processes (FAIRWAY_WORKERS); default: one per core and one more, at most 8.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64), envvar="FAIRWAY_THREADS",
              help="Threads per process (FAIRWAY_THREADS): 1 serves CPU-bound pages best; more where "
                   "requests wait on a remote database.")
@click.option("--timeout", default=120, show_default=True, type=click.IntRange(5, 3600),
              envvar="FAIRWAY_TIMEOUT", help="Seconds a request may take before its process is restarted.")
@click.option("--worker/--no-worker", default=True, show_default=True, envvar="FAIRWAY_SERVE_WORKER",
              help="Run a `fairway worker` beside the server for the job queue (--no-worker: workers run "
                   "elsewhere).")
@click.option("--access-log", is_flag=True, envvar="FAIRWAY_ACCESS_LOG", help="One line per request on stdout.")
def serve_cmd(host, port, workers, threads, timeout, worker, access_log):
    """Serve the configured instance with gunicorn, the production server (`run` is Flask's development server)."""
    import os
    os.environ["FAIRWAY_JOB_CONSUMER"] = "none"      # never a consumer thread in a forking server
    app = load_app()
    from .jobs.queue import queue
    from .models import Job, User
    from .serve import ServeOptions, default_workers
    workers = workers or default_workers()
    with app.app_context():
        require_tables(User.__tablename__, Job.__tablename__)
    click.echo(f"fairway: serving on http://{host}:{port}/ ({workers} processes x {threads} thread{'s' if threads != 1 else ''}); "
               f"jobs: {queue(app).where}" + ("" if worker else " (run `fairway worker` to take them)"), err=True)
    serve_with_worker(app, ServeOptions(host=host, port=port, workers=workers, threads=threads,
                                        timeout=timeout, access_log=access_log), worker=worker)


def serve_with_worker(app, options, worker: bool) -> None:
    """Serve with gunicorn; with `worker`, a `fairway worker` runs beside it until the server stops."""
    from .serve import serve, start_worker, stop_worker
    child = start_worker() if worker else None
    try:
        serve(app, options)
    finally:
        if child is not None:
            stop_worker(child)


@cli.command("worker", with_appcontext=False)
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 16), envvar="FAIRWAY_WORKER_THREADS",
              help="Jobs run at once (an import of a large org takes a core and a gigabyte or two).")
def worker_cmd(threads):
    """Run the job queue's consumer: imports and other long work, until SIGTERM (after the running
    job) or SIGINT (at once; the job is tried again by the next worker)."""
    import logging
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for name in ("huey", "fairway.jobs"):
        logging.getLogger(name).setLevel(logging.INFO)
    app = load_app()
    from .jobs.queue import queue, run_worker
    from .models import Job
    with app.app_context():
        require_tables(Job.__tablename__)
    click.echo(f"fairway worker: {threads} thread{'s' if threads != 1 else ''} on {queue(app).where}", err=True)
    run_worker(app, threads)


@cli.command("create-user")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["manager", "director", "enablement", "ops", "trainer", "admin",
                                                          "rep"]))
@click.option("--team", "teams", multiple=True, help="A team the manager leads (repeat for several).")
@click.option("--division", "divisions", multiple=True, help="A division the director leads.")
@click.option("--rep-id", default=None, help="A sales rep's rep_id in the current data (role rep).")
@click.option("--password", default=None, help="The password (asked for when not given: better, it stays "
                                               "out of the shell's history).")
def create_user_cmd(username, name, role, teams, divisions, rep_id, password):
    """Create a user of the configured instance (run `fairway db upgrade` first)."""
    from .admin.forms import MIN_PASSWORD
    from .demo import create_user
    from .models import Role, User
    require_tables(User.__tablename__)
    problems = user_problems(username, name, role, teams, divisions, rep_id)
    if problems:
        refuse(ProblemsError(problems))
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        refuse(ProblemsError([Problem(file="--password", message=f"{len(password)} characters",
                                      expected=f"at least {MIN_PASSWORD}")]))
    create_user(username, name.strip(), Role(role), password, teams=teams, divisions=divisions,
                rep_id=rep_id.strip() if role == "rep" else None)
    click.echo(f"created {role} {username}")


def user_problems(username: str, name: str, role: str, teams, divisions, rep_id: str | None = None) -> list[Problem]:
    """What the admin page's form would refuse in a new user, as problems."""
    import re

    from .admin.forms import USERNAME
    from .extensions import db
    from .models import User
    problems = []
    if not re.fullmatch(USERNAME, username):
        problems.append(Problem(file="USERNAME", message="not a username", value=username,
                                expected="3 to 80 characters: lower-case letters, digits, dot, dash or underscore, "
                                         "starting with a letter or digit"))
    elif db.session.execute(db.select(User.id).where(db.func.lower(User.username) == username.lower())).first():
        problems.append(Problem(file="USERNAME", message="a user of that name exists already", value=username))
    if not name.strip() or len(name) > 200:
        problems.append(Problem(file="--name", message="empty or longer than 200 characters",
                                expected="the user's full name"))
    if role == "manager" and not teams:
        problems.append(Problem(file="--team", message="a manager needs at least one team",
                                expected="--team TEAM (repeat for several)"))
    if role == "director" and not divisions:
        problems.append(Problem(file="--division", message="a director needs at least one division",
                                expected="--division DIVISION"))
    if role == "rep":
        from .admin.forms import rep_id_problem
        problem = rep_id_problem((rep_id or "").strip())
        if problem:
            problems.append(Problem(file="--rep-id", message=problem, value=rep_id or "",
                                    expected="--rep-id ID, a rep_id of the current data"))
    return problems


from . import catalog_cli  # noqa: E402,F401  (catalog whatif, diff, export, versions)


def main():  # pragma: no cover - console entry point
    cli(prog_name="fairway")


if __name__ == "__main__":         # `python -m web.cli`, as `fairway serve` starts its worker
    main()
