"""Every hostile or careless command line of tests/corpus/commands.py: the exit code, a
message that names what is wrong, no traceback, and nothing written."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus.commands import COMMANDS, Command
from web.cli import Exit, cli

REPO = Path(__file__).resolve().parents[1]
# every variable fairway reads: a case sees only what it sets
FAIRWAY_VARS = ("FAIRWAY_ENV", "FAIRWAY_SECRET_KEY", "FAIRWAY_INSTANCE", "FAIRWAY_DATABASE_URL", "FAIRWAY_CATALOG",
                "FAIRWAY_IMPORT_ROOT", "FAIRWAY_MAX_UPLOAD_FILE_BYTES", "FAIRWAY_MAX_UPLOAD_TOTAL_BYTES",
                "FLASK_APP", "FLASK_DEBUG")


def invoke(args, env: dict | None = None, stdin: str | None = None):
    clean = {k: None for k in FAIRWAY_VARS}
    return CliRunner().invoke(cli, [str(a) for a in args], env={**clean, **(env or {})}, input=stdin,
                              prog_name="fairway")


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> dict[str, Path]:
    """What the placeholders of the corpus stand for (built once; every case leaves them as they are)."""
    root = tmp_path_factory.mktemp("hostile")
    org = root / "org"
    r = invoke(["demo-data", org, "--reps", 10, "--months", 3, "--seed", 5, "--end", "2026-10"])
    assert r.exit_code == 0, r.output
    broken = root / "broken"
    shutil.copytree(org, broken)
    reps = broken / "reps.csv"
    reps.write_text(reps.read_text().replace("isr", "closer", 1))
    latin1 = root / "latin1"
    shutil.copytree(org, latin1)
    lines = (latin1 / "reps.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(lines[1].split(",")[1], "José Müller")
    (latin1 / "reps.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    linked = root / "linked"
    shutil.copytree(org, linked)
    (linked / "reps.csv").unlink()
    (linked / "reps.csv").symlink_to(org / "reps.csv")
    (root / "file.txt").write_text("not a folder\n")
    (root / "empty").mkdir()
    instance = root / "instance"
    env = {"FAIRWAY_ENV": "development", "FAIRWAY_INSTANCE": str(instance)}
    assert invoke(["db", "upgrade"], env).exit_code == 0
    r = invoke(["create-user", "ada", "--name", "Ada", "--role", "admin", "--password", "a-long-enough-pw"], env)
    assert r.exit_code == 0, r.output
    badconfig = root / "badconfig"
    badconfig.mkdir()
    (badconfig / "config.py").write_text("SECRET_KEY = 'x\n")
    return {"org": org, "broken": broken, "latin1": latin1, "linked": linked, "file": root / "file.txt",
            "dir": root / "empty", "missing": root / "no-such-folder", "source": REPO / "tests/data/import/salesforce",
            "instance": instance, "badconfig": badconfig}


def fill(text: str, places: dict, case_dir: Path) -> str:
    return text.format(**{k: str(v) for k, v in places.items()}, new=case_dir / "new", fresh=case_dir / "fresh")


def state(places: dict, case_dir: Path) -> dict:
    """What a refused command must leave as it was: the folders' entries, the instance's tables."""
    out = {}
    for key in ("org", "dir", "instance", "badconfig"):
        out[key] = sorted(p.name for p in places[key].iterdir() if not p.name.startswith("fairway.sqlite-"))
    out["case"] = sorted(p.name for p in case_dir.iterdir())
    out["root"] = sorted(p.name for p in places["file"].parent.iterdir())
    con = sqlite3.connect(f"file:{places['instance'] / 'fairway.sqlite'}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        for (table,) in con.execute("select name from sqlite_master where type='table' order by name"):
            digest.update(repr(con.execute(f'select * from "{table}" order by 1').fetchall()).encode())
        out["database"] = digest.hexdigest()
    finally:
        con.close()
    return out


@pytest.mark.parametrize("case", COMMANDS, ids=[c.id for c in COMMANDS])
def test_hostile_command(case: Command, places, tmp_path):
    args = [fill(a, places, tmp_path) for a in case.args]
    env = {k: (fill(v, places, tmp_path) if v is not None else None) for k, v in case.env.items()}
    env.setdefault("FAIRWAY_INSTANCE", str(tmp_path / "fresh"))
    before = state(places, tmp_path)
    r = invoke(args, env, case.stdin)
    shown = r.output                     # stdout and stderr, as a terminal shows them
    assert r.exit_code == case.exit, f"{case.id}: exit {r.exit_code}, expected {case.exit}\n{shown}"
    assert r.exception is None or isinstance(r.exception, SystemExit), f"{case.id}: {r.exception!r}"
    assert "Traceback" not in shown
    where = shown if case.exit == 0 else r.stderr
    for fragment in case.says:
        assert fragment.lower() in where.lower(), f"{case.id}: {fragment!r} not said in\n{where}"
    if case.exit == Exit.USAGE:
        assert "Usage:" in r.stderr or "Error:" in r.stderr
    if case.json_refusal:
        doc = json.loads(r.stdout)
        assert doc["valid"] is False and doc["problems"], r.stdout
        assert all({"file", "message"} <= set(p) for p in doc["problems"])
    assert not (tmp_path / "new").exists(), f"{case.id} wrote {tmp_path / 'new'}"
    assert not (tmp_path / "fresh").exists(), f"{case.id} created an instance folder"
    assert state(places, tmp_path) == before, f"{case.id} changed something"


def test_the_corpus_covers_every_command():
    """A new command gets its hostile lines too."""
    names = (set(cli.list_commands(None)) - {"catalog"}) | {"catalog check", "catalog test"}
    tried = {c.args[0] for c in COMMANDS if c.args} | {" ".join(c.args[:2]) for c in COMMANDS}
    assert sorted(names - tried) == []


def test_help_lists_every_command_without_the_app():
    """Flask would load the app to list its commands; fairway knows them: every app command is listed."""
    from web import create_app
    listed = set(cli.list_commands(None))
    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(prefix="fairway-cli-"), "FAIRWAY_ENV": "testing",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert set(app.cli.list_commands(None)) <= listed
    shutil.rmtree(app.instance_path)


def test_validate_json_on_refusal_keeps_the_human_list_on_stderr(places):
    r = invoke(["validate", places["broken"], "--json"])
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and "dataset refused" in r.stderr
    assert [p["message"] for p in doc["problems"]] and all(p["message"] in r.stderr for p in doc["problems"])


def test_create_user_after_db_upgrade_creates_the_user(places, tmp_path):
    env = {"FAIRWAY_ENV": "development", "FAIRWAY_INSTANCE": str(places["instance"])}
    r = invoke(["create-user", "zed.z", "--name", "Zed", "--role", "manager", "--team", "north-isr-1"], env,
               stdin="a-long-enough-pw\na-long-enough-pw\n")
    assert r.exit_code == 0 and "created manager zed.z" in r.output
    con = sqlite3.connect(places["instance"] / "fairway.sqlite")
    try:
        assert con.execute("select role, teams from users where username='zed.z'").fetchone() == \
            ("manager", '["north-isr-1"]')
        con.execute("delete from users where username='zed.z'")
        con.commit()
    finally:
        con.close()
