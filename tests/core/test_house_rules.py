"""The rules of the house that code review alone would let slip."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("flask", "wtforms", "flask_wtf", "flask_sqlalchemy", "web")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_engine_never_imports_the_web_layer():
    bad = [(p.relative_to(ROOT), m) for p in (ROOT / "engine").rglob("*.py") for m in _imports(p)
           if m.split(".")[0] in FORBIDDEN]
    assert not bad, bad


def test_importing_the_whole_engine_loads_no_flask():
    code = ("import sys, pkgutil, importlib, engine\n"
            "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
            "    importlib.import_module(m.name)\n"
            "assert 'flask' not in sys.modules, 'flask imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_yaml_is_parsed_in_one_place():
    users = [p.relative_to(ROOT).as_posix() for p in (ROOT / "engine").rglob("*.py")
             if "yaml" in {m.split(".")[0] for m in _imports(p)}]
    assert set(users) <= {"engine/yamlspec/parse.py"}, users


def test_durable_rules_lives_in_one_adapter():
    users = [p.relative_to(ROOT).as_posix() for d in ("engine", "web") for p in (ROOT / d).rglob("*.py")
             if "durable" in {m.split(".")[0] for m in _imports(p)}]
    assert set(users) <= {"engine/rules/adapter.py"}, users


def test_test_modules_have_unique_names():
    """pytest imports test modules by their base name (the test folders are not packages): two
    modules of the same name in two folders stop the whole suite at collection."""
    seen: dict[str, Path] = {}
    twice = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.name in seen:
            twice.append(f"{seen[path.name].relative_to(ROOT)} and {path.relative_to(ROOT)}")
        seen.setdefault(path.name, path)
    assert twice == []
