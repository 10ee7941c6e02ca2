"""Hostile and careless command lines, and what `fairway` must answer to each.

Each case: the arguments, the environment, the exit code (0 ok, 1 input refused, 2 usage),
and fragments of what it must say. tests/test_hostile_commands.py runs every case and
checks, besides: no traceback, nothing written (a new path stays absent, no temporary
folder left beside it, the instance's database unchanged).

Placeholders in arguments and environment values, filled by the test:
  {org}      a valid dataset folder          {broken}  a dataset with an unknown role
  {latin1}   a dataset saved as Latin-1      {linked}  a dataset whose reps.csv is a symbolic link
  {file}     a regular file                  {dir}     an empty folder
  {missing}  a path that does not exist      {new}     a path that must not exist afterwards
  {source}   a Salesforce export folder      {instance} an instance with its tables and the user ada
  {fresh}    an instance folder that must not be created   {badconfig} an instance whose config.py is broken
"""
from __future__ import annotations

from dataclasses import dataclass, field

NO_KEY = "SECRET_KEY is not set: set FAIRWAY_SECRET_KEY"


@dataclass(frozen=True)
class Command:
    id: str
    args: tuple[str, ...]
    exit: int
    says: tuple[str, ...] = ()
    env: dict[str, str | None] = field(default_factory=dict)     # on top of a clean environment
    stdin: str | None = None
    json_refusal: bool = False          # stdout is {"valid": false, "problems": [...]}


def cmd(ident: str, line: str, exit: int, *says: str, **kw) -> Command:
    return Command(ident, tuple(line.split()), exit, says, **kw)


DEV = {"FAIRWAY_ENV": "development", "FAIRWAY_INSTANCE": "{instance}"}
USER = "create-user newbie --name Newbie --role ops"

COMMANDS: list[Command] = [
    # ---------------------------------------------------------------- help never needs the app
    cmd("help", "--help", 0, "Usage: fairway", "validate", "create-user", "db"),
    cmd("run-help", "run --help", 0, "Usage: fairway run"),
    cmd("db-help", "db --help", 0, "upgrade"),
    cmd("create-user-help", "create-user --help", 0, "--role"),
    # ---------------------------------------------------------------- usage errors: exit 2
    Command("bare", (), 2, ("Usage: fairway", "Commands:")),
    cmd("typo", "valdate {org}", 2, "No such command 'valdate'", "Did you mean 'validate'?"),
    cmd("typo-subcommand", "catalog chek", 2, "No such command 'chek'", "Did you mean 'check'?"),
    cmd("unknown-option", "--frobnicate", 2, "No such option '--frobnicate'"),
    cmd("flask-app-option", "--app other:app run", 2, "No such option '--app'"),
    cmd("no-dataset", "validate", 2, "Missing argument 'DATASET'"),
    cmd("dataset-missing", "validate {missing}", 2, "does not exist"),
    cmd("dataset-a-file", "metrics {file}", 2, "is a file"),
    cmd("period-not-a-month", "metrics {org} --period 2026-13", 2, "period '2026-13' is not a month"),
    cmd("period-swallows-an-option", "diagnose {org} --period --json", 2, "period '--json' is not a month"),
    cmd("unknown-rep", "diagnose {org} --rep NOBODY", 2, "no rep 'NOBODY' in the dataset"),
    cmd("demo-data-too-few-reps", "demo-data {new} --reps 5", 2, "--reps", "10<=x<=20000"),
    cmd("demo-data-bad-end", "demo-data {new} --end 2026-99", 2, "end must be a month as YYYY-MM"),
    cmd("report-bad-level", "report {org} --by region", 2, "Invalid value for '--by'"),
    cmd("report-bad-grain", "report {org} --grain hour", 2, "Invalid value for '--grain'"),
    cmd("report-bad-period", "report {org} --period 2026-99", 2, "is not a month"),
    cmd("report-no-dataset", "report {new}", 2, "does not exist"),
    cmd("demo-data-onto-a-file", "demo-data {file}", 2, "exists and is not an empty folder"),
    cmd("demo-data-into-a-full-folder", "demo-data {org}", 2, "exists and is not an empty folder"),
    cmd("import-no-mapping", "import {source} --out {new}", 2, "Missing option '--mapping'"),
    cmd("import-unknown-mapping", "import {source} --mapping nosuch --out {new}", 2,
        "no mapping file 'nosuch'", "no shipped mapping of that name (shipped: "),
    cmd("import-onto-a-dataset", "import {source} --mapping salesforce-report --out {org}", 2,
        "exists and is not an empty folder"),
    cmd("demo-bad-port", "demo --port 70000", 2, "--port", "1<=x<=65535"),
    cmd("create-user-bad-role", "create-user bob --name Bob --role wizard", 2, "Invalid value for '--role'"),
    cmd("create-user-no-name", "create-user bob --role ops", 2, "Missing option '--name'"),
    # ---------------------------------------------------------------- refused input: exit 1
    cmd("invalid-dataset", "validate {broken}", 1, "reps.csv, row", "unknown role"),
    cmd("invalid-dataset-json", "validate {broken} --json", 1, "unknown role", json_refusal=True),
    cmd("broken-catalog-json", "validate {org} --json --catalog {dir}", 1, "folder is missing",
        json_refusal=True),
    cmd("latin1-dataset", "validate {latin1}", 1, "reps.csv", "utf-8"),
    cmd("linked-file", "validate {linked}", 1, "reps.csv", "symbolic link"),
    cmd("device-as-dataset", "validate /dev/null", 1, "/dev/null"),
    cmd("catalog-elsewhere", "metrics {org} --catalog {dir}", 1, "folder is missing"),
    cmd("catalog-check-elsewhere", "catalog check {dir}", 1, "catalog refused"),
    cmd("catalog-test-elsewhere", "catalog test {dir}", 1, "folder is missing"),
    cmd("mapping-is-a-device", "import {source} --mapping /dev/null --out {new}", 1,
        "/dev/null: not a regular file"),
    cmd("mapping-is-a-folder", "import {source} --mapping {dir} --out {new}", 1, "a folder where a file belongs"),
    cmd("import-out-under-a-file", "import {source} --mapping salesforce-report --out {file}/x", 1,
        "is not a folder"),
    cmd("demo-data-out-under-a-file", "demo-data {file}/x --reps 10 --months 2", 1, "is not a folder"),
    cmd("demo-instance-under-a-file", "demo --instance {file}/x --no-serve", 1, "is not a folder"),
    cmd("demo-with-a-broken-setting", "demo --instance {new} --no-serve", 1, "FAIRWAY_MAX_UPLOAD_TOTAL_BYTES='-5'",
        env={"FAIRWAY_MAX_UPLOAD_TOTAL_BYTES": "-5"}),
    # the app's own commands: the configuration, in one line
    cmd("run-no-key", "run", 1, NO_KEY, env={"FAIRWAY_INSTANCE": "{fresh}"}),
    cmd("routes-no-key", "routes", 1, NO_KEY, env={"FAIRWAY_INSTANCE": "{fresh}"}),
    cmd("shell-no-key", "shell", 1, NO_KEY, env={"FAIRWAY_INSTANCE": "{fresh}"}),
    cmd("db-upgrade-no-key", "db upgrade", 1, NO_KEY, env={"FAIRWAY_INSTANCE": "{fresh}"}),
    cmd("create-user-no-key", USER, 1, NO_KEY, env={"FAIRWAY_INSTANCE": "{fresh}"}),
    cmd("unknown-env", "routes", 1, "FAIRWAY_ENV='prod'", "expected one of",
        env={"FAIRWAY_ENV": "prod", "FAIRWAY_INSTANCE": "{fresh}"}),
    cmd("database-url-not-a-url", "db upgrade", 1, "the database URL", "cannot be used",
        env={**DEV, "FAIRWAY_DATABASE_URL": "not a url"}),
    cmd("database-unreachable", "db upgrade", 1, "the database cannot be used",
        env={**DEV, "FAIRWAY_DATABASE_URL": "sqlite:///{file}/x.sqlite"}),
    cmd("upload-limit-not-a-number", "routes", 1, "FAIRWAY_MAX_UPLOAD_FILE_BYTES='12MB'",
        env={**DEV, "FAIRWAY_MAX_UPLOAD_FILE_BYTES": "12MB"}),
    cmd("instance-under-a-file", "routes", 1, "the instance folder", "cannot be created",
        env={"FAIRWAY_ENV": "development", "FAIRWAY_INSTANCE": "{file}/instance"}),
    cmd("broken-config-py", "routes", 1, "config.py", "SyntaxError",
        env={"FAIRWAY_ENV": "development", "FAIRWAY_INSTANCE": "{badconfig}"}),
    cmd("create-user-before-db-upgrade", USER, 1, "the database has no tables: run `fairway db upgrade` first",
        env={"FAIRWAY_ENV": "development", "FAIRWAY_INSTANCE": "{dir}"}),
    cmd("serve-no-key", "serve", 1, NO_KEY, env={"FAIRWAY_INSTANCE": "{fresh}"}),
    cmd("worker-no-key", "worker", 1, NO_KEY, env={"FAIRWAY_INSTANCE": "{fresh}"}),
    cmd("serve-before-db-upgrade", "serve --no-worker", 1, "run `fairway db upgrade` first",
        env={"FAIRWAY_ENV": "development", "FAIRWAY_INSTANCE": "{dir}"}),
    cmd("worker-before-db-upgrade", "worker", 1, "run `fairway db upgrade` first",
        env={"FAIRWAY_ENV": "development", "FAIRWAY_INSTANCE": "{dir}"}),
    cmd("serve-bad-port", "serve --port 70000", 2, "Invalid value for '--port'", env=DEV),
    cmd("serve-bad-workers", "serve --workers 0", 2, "Invalid value for '--workers'", env=DEV),
    cmd("worker-bad-threads", "worker --threads many", 2, "Invalid value for '--threads'", env=DEV),
    cmd("report-send-without-smtp", "report send --to vp@example.com", 1, "FAIRWAY_SMTP_HOST", env=DEV),
    cmd("report-send-dataset-without-to", "report send {org}", 1, "FAIRWAY_SMTP_HOST", env=DEV),
    cmd("report-remind-without-smtp", "report remind", 1, "FAIRWAY_SMTP_HOST", env=DEV),
    cmd("report-remind-bad-within", "report remind --within -3", 2, "Invalid value for '--within'", env=DEV),
    cmd("create-user-taken", "create-user ada --name Ada --role admin --password a-long-enough-pw", 1,
        "a user of that name exists already", env=DEV),
    cmd("create-user-bad-username", "create-user Bad/Name --name X --role ops --password a-long-enough-pw", 1,
        "not a username", env=DEV),
    cmd("create-user-manager-without-team", "create-user mia --name Mia --role manager --password "
        "a-long-enough-pw", 1, "a manager needs at least one team", env=DEV),
    cmd("create-user-short-password", USER + " --password short", 1, "at least 12", env=DEV),
    cmd("create-user-short-prompted-password", USER, 1, "at least 12", env=DEV, stdin="short\nshort\n"),
    cmd("create-user-prompt-mismatch-then-eof", USER, 1, "Aborted", env=DEV,
        stdin="a-long-enough-pw\nsomething-else-12\n"),
]
