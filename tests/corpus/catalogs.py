"""A corpus of broken catalogs: each case copies the shipped catalog and breaks it.

Each case writes one defect (or, for the multi-defect cases, several across files) into
a fresh copy of the shipped catalog and returns what a refusal must say about it: the
file, the line, the key and a part of the message (`Expect`), and sometimes what it
must not say (`Absent`: the false alarms a broken file must not cause elsewhere).
Lines are found in the written files, never counted by hand.

    build_case(CASES["says_dunder"], tmp_path / "cat")   # -> list of Expect / Absent
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.paths import shipped_root


@dataclass(frozen=True)
class Expect:
    """A problem the refusal must list: `file:line, key KEY...: ...TEXT...`."""

    file: str
    line: int | None
    key: str | None
    text: str

    @property
    def where(self) -> str:
        out = self.file + (f":{self.line}" if self.line is not None else "")
        return out + (f", key {self.key}" if self.key else "")

    def found_in(self, output: str) -> bool:
        return any(self.where in line and self.text in line for line in output.splitlines())


@dataclass(frozen=True)
class Absent:
    """Text the refusal must not contain (a false alarm caused by another broken file)."""

    text: str


@dataclass(frozen=True)
class Case:
    name: str
    kind: str                 # the class of defect, as the report tables them
    build: Callable[["Cat"], list]


class Cat:
    """A copy of the shipped catalog, with edits that say on which line they landed."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).write_text(text, encoding="utf-8")

    def replace(self, rel: str, old: str, new: str, nth: int = 0) -> int:
        """Replace the `nth` occurrence of `old`; the line on which `new` starts."""
        text = self.read(rel)
        at = -1
        for _ in range(nth + 1):
            at = text.index(old, at + 1)
        self.write(rel, text[:at] + new + text[at + len(old):])
        return text.count("\n", 0, at) + 1

    def line(self, rel: str, needle: str, nth: int = 0) -> int:
        """The line of the `nth` occurrence of `needle`."""
        text = self.read(rel)
        at = -1
        for _ in range(nth + 1):
            at = text.index(needle, at + 1)
        return text.count("\n", 0, at) + 1

    def append(self, rel: str, text: str) -> int:
        """Append `text`; the line on which it starts."""
        old = self.read(rel)
        if not old.endswith("\n"):
            old += "\n"
        self.write(rel, old + text)
        return old.count("\n") + 1

    def remove(self, rel: str) -> None:
        p = self.path(rel)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()

    def make_dir(self, rel: str) -> None:
        self.remove(rel)
        self.path(rel).mkdir()

    def make_link(self, rel: str, target: Path | str) -> None:
        if os.path.lexists(self.path(rel)):
            self.remove(rel)
        os.symlink(target, self.path(rel))

    def make_fifo(self, rel: str) -> None:
        self.remove(rel)
        os.mkfifo(self.path(rel))

    def outside(self, name: str) -> Path:
        """A place next to the catalog (not inside it) for link targets."""
        out = self.root.parent / f"{self.root.name}-outside" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        return out


def copy_shipped(root: Path) -> Cat:
    shipped = shipped_root()
    shutil.copytree(shipped / "rules", root / "rules")
    shutil.copytree(shipped / "learning_library", root / "learning_library")
    return Cat(root)


def build_case(case: Case, root: Path) -> list:
    return case.build(copy_shipped(root))


CASES: dict[str, Case] = {}


def case(kind: str):
    def register(fn: Callable[[Cat], list]) -> Callable[[Cat], list]:
        CASES[fn.__name__] = Case(fn.__name__, kind, fn)
        return fn
    return register


def billion_laughs(levels: int = 9, width: int = 10, prefix: str = "lol") -> str:
    lines = [f"{prefix}0: &{prefix}0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"{prefix}{i}: &{prefix}{i} [" + ", ".join([f"*{prefix}{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


SKILLS, THRESHOLDS, PIPELINE = "rules/skills.yaml", "rules/thresholds.yaml", "rules/pipeline.yaml"
CLOSING, PROSPECTING = "rules/gaps/closing.yaml", "rules/gaps/prospecting.yaml"
DEMO_FLOW, TALK_FLOW = "rules/flows/demo_dropoff.yaml", "rules/flows/low_talk_time.yaml"
CALL_FLOW = "rules/flows/low_call_volume.yaml"
TESTS = "rules/tests/closing.yaml"
ASSETS, ASSIGNMENTS = "learning_library/assets.yaml", "learning_library/assignments.yaml"
BANT = "microlearning/bant-in-fifteen-minutes.md"
BANT_LINE = f"file: {BANT}"
FIRST_SAYS = 'says: "{value:.0%} of lost deals were lost to poor qualification (more than {benchmark:.0%})"'
TAG = "a YAML tag fairway does not read"
FINITE = "Input should be a finite number"


# --------------------------------------------------------------------------- one edit, one problem

def replaced(rel: str, old: str, new: str, key: str | None, *texts: str) -> Callable[[Cat], list]:
    """A case that replaces `old` by `new` in `rel`: each text expected on that line, at `key`."""
    def build(c: Cat) -> list:
        line = c.replace(rel, old, new)
        return [Expect(rel, line, key, t) for t in texts]
    return build


ONE_EDIT = [
    # kind, name, file, old, new, key, what the problem says...
    ("YAML tag", "tag_python_object", SKILLS, "skills:\n", "skills: !!python/object:os.system\n", "skills",
     TAG, "'!!python/object:os.system'"),
    ("YAML tag", "tag_python_apply", DEMO_FLOW, FIRST_SAYS, 'says: !!python/object/apply:os.system ["echo pwned"]',
     "evidence[0].says", TAG),
    ("YAML tag", "tag_local", CLOSING, "title: Win rate below the team", "title: !shout Win rate below the team",
     "performance[1].title", TAG, "'!shout'"),
    ("YAML tag", "tag_binary", THRESHOLDS, "significance: 0.05", "significance: !!binary MC4wNQ==", "significance", TAG),
    ("YAML tag", "tag_wrong_type", PIPELINE, "activity_months: 1 ", "activity_months: !!int one ",
     "windows.activity_months", "not a valid whole number for !!int"),
    ("YAML recursive alias", "recursive_alias_sequence", PROSPECTING, "masked_by: [low_call_volume, low_connect_rate]",
     "masked_by: &loop [low_call_volume, *loop]", "behaviour[3].masked_by[1]",
     "a recursive alias: *loop is used inside &loop"),
    ("YAML aliases", "undefined_alias", SKILLS, "    kind: skill\n", "    kind: *skill_kind\n", "skills[0].kind",
     "the alias *skill_kind names no anchor defined before it"),
    ("YAML syntax", "tab_indentation", SKILLS, "    kind: skill", "\tkind: skill", None,
     "not valid YAML: found a tab character that violates indentation"),
    ("YAML syntax", "control_character", ASSETS, "title: BANT in fifteen minutes", "title: BANT in\x00 fifteen minutes",
     None, "not valid YAML: control characters are not allowed"),
    ("YAML values", "impossible_date", SKILLS, "title: Qualification (budget, authority, need, timing)",
     "title: 2026-13-45", "skills[0].title", "not a valid date: month must be in 1..12"),
    ("YAML values", "huge_integer", PIPELINE, "activity_months: 1 ", "activity_months: " + "1" * 5000 + " ",
     "windows.activity_months", "not a valid whole number"),
    ("Markdown asset", "markdown_path_escapes", ASSETS, BANT_LINE, "file: ../../rules/pipeline.md", "assets[0].file",
     "file must be a relative path to a .md file"),
    ("Markdown asset", "markdown_path_with_nul", ASSETS, BANT_LINE, 'file: "microlearning/\\0bant.md"',
     "assets[0].file", "file must be a relative path to a .md file"),
    ("unknown key", "unknown_key", CLOSING, "    metric: win_rate", "    metrc: win_rate", "performance[1].metrc",
     "unknown key; expected one of id, title, metric", "did you mean 'metric'?"),
    ("wrong type", "roles_not_a_list", CLOSING, "roles: [isr]", "roles: isr", "performance[0].roles",
     "Input should be a valid list"),
    ("wrong type", "mapping_instead_of_list", PIPELINE, "prospecting_funnel: [call",
     "prospecting_funnel: {call: 1}\nx_funnel: [call", "prospecting_funnel", "Input should be a valid list"),
    ("wrong type", "boolean_as_a_number", THRESHOLDS, "min_gap: 0.15", "min_gap: yes", "min_gap",
     "Input should be a valid number"),
    ("wrong value", "enum_typo", SKILLS, "    kind: skill\n", "    kind: skil\n", "skills[0].kind",
     "not an allowed value", "did you mean 'skill'?"),
    ("wrong value", "significance_out_of_range", THRESHOLDS, "significance: 0.05", "significance: 0.7", "significance",
     "less than 0.5"),
    ("wrong value", "bad_id", ASSIGNMENTS, "id: requalify-largest-deals", "id: Requalify Largest Deals",
     "assignments[0].id", "String should match pattern"),
    ("wrong value", "title_too_long", SKILLS, "title: Qualification (budget, authority, need, timing)",
     "title: " + "x" * 250, "skills[0].title", "at most 200 characters"),
    ("unknown reference", "unknown_metric", CLOSING, "    metric: win_rate", "    metric: win_rat",
     "performance[1].metric", "unknown metric id (got 'win_rat')", "did you mean 'win_rate'?"),
    ("unknown reference", "unknown_role", CLOSING, "roles: [isr]", "roles: [isrr]", "performance[0].roles[0]",
     "unknown role (got 'isrr')"),
    ("unknown reference", "unknown_explained_gap", CLOSING, "explains: [low_win_rate, revenue_below_plan]",
     "explains: [low_win_rat, revenue_below_plan]", "behaviour[0].explains[0]", "did you mean 'low_win_rate'?"),
    ("unknown reference", "unknown_candidate", DEMO_FLOW, "  demo_delivery: 1.0", "  demo_delivry: 1.0",
     "candidates.demo_delivry", "unknown skill or knowledge gap"),
    ("unknown reference", "unknown_masking_gap", CLOSING, "masked_by: [stalled_deals]", "masked_by: [stalled_deal]",
     "behaviour[5].masked_by[0]", "did you mean 'stalled_deals'?"),
    ("unknown reference", "funnel_names_an_unknown_activity", PIPELINE, "prospecting_funnel: [call, connect,",
     "prospecting_funnel: [call, conect,", "prospecting_funnel[1]", "unknown activity type (got 'conect')"),
    ("unknown reference", "industry_unknown_metric", THRESHOLDS, "  win_rate: 0.22", "  win_rat: 0.22",
     "industry.win_rat", "unknown metric id"),
    ("unknown reference", "asset_addresses_unknown_skill", ASSETS, "addresses: [qualification]",
     "addresses: [qualificaton]", "assets[0].addresses[0]", "did you mean 'qualification'?"),
    ("unknown reference", "test_unknown_role", TESTS, "role: isr", "role: isrr", "tests[0].role", "unknown role"),
    ("unknown reference", "test_unknown_answer", TESTS, "demo_selection: anyone_asks", "demo_selection: everyone_asks",
     "tests[0].answers.demo_selection", "unknown answer of demo_selection"),
    ("duplicate id", "duplicate_evidence_id", DEMO_FLOW, "- id: demo_losses_to_timing",
     "- id: demo_losses_to_poor_qualification", "evidence[1].id", "duplicate evidence id"),
    ("masking cycle", "masking_itself", CLOSING, "masked_by: [stalled_deals]", "masked_by: [effort_on_at_risk_deals]",
     "behaviour[5].masked_by[0]", "a gap cannot mask itself"),
]

# says: evidence sentences under the template policy
ONE_EDIT += [("says template", name, DEMO_FLOW, FIRST_SAYS, "says: " + template, "evidence[0].says", reason)
             for name, template, reason in [
    ("says_dunder", '"{value.__class__} of lost deals"', "the placeholder {value.__class__} reaches into a value"),
    ("says_missing_attribute", '"{value.nosuchattr} lost"', "the placeholder {value.nosuchattr} reaches into a value"),
    ("says_index", '"{value[0]} lost"', "the placeholder {value[0]} reaches into a value"),
    ("says_huge_width", '"{value:>99999999} lost"', "the format '>99999999' is wider than 40"),
    ("says_huge_precision", '"{value:.99999999f} lost"', "more than 6 digits of precision"),
    ("says_unknown_field", '"{valu:.0%} lost"', "did you mean 'value'?"),
    ("says_conversion", '"{value!r} lost"', "a conversion (!r) is not allowed"),
    ("says_positional", '"{0} lost"', "a placeholder must name its field"),
    ("says_unbalanced", '"{value lost"', "not a valid template"),
    ("says_nested_format", '"{value:{benchmark}} lost"', "the format '{benchmark}' is not a number format"),
    ("says_integer_format", '"{value:,d} lost"', "the format ',d' is not a number format"),
]]

# numbers: NaN and infinities, wherever a number is written
ONE_EDIT += [("NaN / infinity", name, rel, old, new, key, FINITE) for name, rel, old, new, key in [
    ("significance_nan", THRESHOLDS, "significance: 0.05", "significance: .nan", "significance"),
    ("min_gap_inf", THRESHOLDS, "min_gap: 0.15", "min_gap: .inf", "min_gap"),
    ("rag_green_nan", THRESHOLDS, "  green: 0.9", "  green: .NaN", "rag.green"),
    ("industry_inf", THRESHOLDS, "  win_rate: 0.22", "  win_rate: .inf", "industry.win_rate"),
    ("at_risk_quantile_nan", THRESHOLDS, "  stalled_quantile: 0.8", "  stalled_quantile: .nan",
     "at_risk.stalled_quantile"),
    ("top_quantile_inf", THRESHOLDS, "top_quantile: 0.75", "top_quantile: -.inf", "top_quantile"),
    ("gap_min_gap_nan", CLOSING, "min_gap: 0.25", "min_gap: .nan", "performance[2].min_gap"),
    ("evidence_bound_inf", DEMO_FLOW, "above: 0.2}", "above: .inf}", "evidence[0].when.above"),
    ("evidence_margin_nan", DEMO_FLOW, "{metric: at_risk.effort_share, above: team_median}",
     "{metric: at_risk.effort_share, above: team_median, by: .nan}", "evidence[3].when.by"),
    ("points_nan", DEMO_FLOW, "points_to: {qualification: 1.5}", "points_to: {qualification: .nan}",
     "evidence[0].points_to.qualification"),
    ("candidate_weight_minus_inf", DEMO_FLOW, "  demo_delivery: 1.0", "  demo_delivery: -.inf",
     "candidates.demo_delivery"),
    ("test_gap_value_nan", TESTS, "low_win_rate: {value: 0.31,", "low_win_rate: {value: .nan,",
     "tests[0].gaps.low_win_rate.value"),
    ("test_metric_inf", TESTS, "loss_share.poor_qualification: 0.28", "loss_share.poor_qualification: .inf",
     "tests[0].metrics.loss_share.poor_qualification"),
]]

for _kind, _name, _rel, _old, _new, _key, *_texts in ONE_EDIT:
    CASES[_name] = Case(_name, _kind, replaced(_rel, _old, _new, _key, *_texts))


# --------------------------------------------------------------------------- files that are not files

def replaced_file(rel: str, how: str, text: str, at: tuple[str, str, str] | None = None) -> Callable[[Cat], list]:
    """A case where the file `rel` is a folder, a link to /dev/zero or elsewhere, a pipe or gone.

    The problem is named on the file itself, or, for a Markdown asset, at the line of
    `at` = (YAML file, text on the line, key) that names it.
    """
    def build(c: Cat) -> list:
        if how == "folder":
            c.make_dir(rel)
        elif how == "fifo":
            c.make_fifo(rel)
        elif how == "missing":
            c.remove(rel)
        elif how == "copy-link":
            target = c.outside(Path(rel).name)
            shutil.copy(c.path(rel), target)
            c.make_link(rel, target)
        else:
            c.make_link(rel, how)
        if at is None:
            return [Expect(rel, None, None, text)]
        return [Expect(at[0], c.line(at[0], at[1]), at[2], text)]
    return build


MARKDOWN = (ASSETS, BANT_LINE, "assets[0].file")
for _kind, _name, _rel, _how, _text, _at in [
    ("file missing", "missing_skills", SKILLS, "missing", "file is missing", None),
    ("file not regular", "skills_is_a_folder", SKILLS, "folder", "a folder where a file belongs", None),
    ("file not regular", "pipeline_links_to_dev_zero", PIPELINE, "/dev/zero", "a symbolic link", None),
    ("file not regular", "thresholds_is_a_fifo", THRESHOLDS, "fifo", "not a regular file (a device, pipe or socket)",
     None),
    ("file not regular", "gap_file_is_a_link", CLOSING, "copy-link", "a symbolic link", None),
    ("Markdown asset", "markdown_missing", f"learning_library/{BANT}", "missing", "file not found in learning_library/",
     MARKDOWN),
    ("Markdown asset", "markdown_is_a_folder", f"learning_library/{BANT}", "folder", "a folder where a file belongs",
     MARKDOWN),
    ("Markdown asset", "markdown_links_to_passwd", f"learning_library/{BANT}", "/etc/passwd", "a symbolic link",
     MARKDOWN),
    ("Markdown asset", "markdown_links_to_dev_zero", f"learning_library/{BANT}", "/dev/zero", "a symbolic link",
     MARKDOWN),
    ("Markdown asset", "markdown_is_a_fifo", f"learning_library/{BANT}", "fifo", "not a regular file", MARKDOWN),
]:
    CASES[_name] = Case(_name, _kind, replaced_file(_rel, _how, _text, _at))


# --------------------------------------------------------------------------- appended: one problem

def appended(rel: str, text: str, offset: int, key: str | None, message: str) -> Callable[[Cat], list]:
    """A case that appends `text` to `rel`: the problem expected `offset` lines into it."""
    def build(c: Cat) -> list:
        return [Expect(rel, c.append(rel, text) + offset, key, message)]
    return build


for _kind, _name, _rel, _text, _offset, _key, _message in [
    ("YAML alias bomb", "alias_bomb_thresholds", THRESHOLDS, billion_laughs(), 4, "lol4[",
     "more than 100,000 values once its aliases are expanded"),
    ("YAML alias bomb", "alias_bomb_flow", TALK_FLOW, billion_laughs(levels=12, width=8, prefix="ha"), 5, "ha5[",
     "more than 100,000 values"),
    ("YAML alias bomb", "alias_fanout", ASSETS, "big: &big [" + ", ".join(str(i) for i in range(2000)) + "]\n"
     "wide: [" + ", ".join(["*big"] * 60) + "]\n", 1, "wide[", "more than 100,000 values"),
    ("YAML aliases", "too_many_aliases", ASSIGNMENTS, "x: &x 1\ny: [" + ", ".join(["*x"] * 101) + "]\n", 1, "y[100]",
     "more than 100 aliases in one document"),
    ("YAML shape", "deep_nesting", THRESHOLDS, "deep: " + "[" * 60 + "]" * 60 + "\n", 0, "deep[0]",
     "nested deeper than 50 levels"),
    ("YAML shape", "second_document", ASSIGNMENTS, "---\nassignments: []\n", 0, None,
     "a second YAML document (---) in the file"),
    ("YAML keys", "duplicate_key", CALL_FLOW, "behaviour_gap: low_call_volume\n", 0, "behaviour_gap", "duplicate key"),
    ("YAML keys", "complex_key", SKILLS, "? [a, b]\n: c\n", 0, None, "a key must be a plain word or number"),
    ("YAML keys", "boolean_key", THRESHOLDS, "yes: 1\n", 0, None, "a key must be a plain word or number"),
]:
    CASES[_name] = Case(_name, _kind, appended(_rel, _text, _offset, _key, _message))


def rewritten(rel: str, text: str, message: str, *absent: str) -> Callable[[Cat], list]:
    """A case that replaces the whole of `rel` by `text`: the problem is named on its line 1."""
    def build(c: Cat) -> list:
        c.write(rel, text)
        return [Expect(rel, 1, None, message), *map(Absent, absent)]
    return build


for _kind, _name, _rel, _text, _message, *_absent in [
    ("YAML shape", "file_is_a_list", SKILLS, "- qualification\n- demo_delivery\n",
     "the file holds a list, not a mapping of keys"),
    ("YAML shape", "flow_is_a_scalar", DEMO_FLOW, "demo_dropoff\n",
     "the file holds a single value, not a mapping of keys", "unknown question"),   # its tests are not blamed
    ("file empty", "empty_thresholds", THRESHOLDS, "", "file is empty"),
    ("file empty", "comments_only_gap_file", CLOSING, "# nothing here yet\n", "file is empty",
     "unknown behaviour gap"),
]:
    CASES[_name] = Case(_name, _kind, rewritten(_rel, _text, _message, *_absent))


# --------------------------------------------------------------------------- YAML: aliases, shape, syntax, keys

@case("YAML recursive alias")
def recursive_alias_mapping(c: Cat):
    c.replace(PIPELINE, "windows:\n", "windows: &w\n  again: *w\n")
    return [Expect(PIPELINE, c.line(PIPELINE, "again: *w"), "windows.again", "a recursive alias")]


@case("YAML aliases")
def small_aliases_reach_the_schema(c: Cat):
    start = c.append(SKILLS, "x: &x [[[[[[[[[[lol]]]]]]]]]]\ny: [" + ", ".join(["*x"] * 10) + "]\n")
    return [Expect(SKILLS, start, "x", "unknown key"), Expect(SKILLS, start + 1, "y", "unknown key")]


@case("YAML aliases")
def duplicate_anchor(c: Cat):
    c.replace(PIPELINE, "- {id: discovery, title: Discovery}", "- &s {id: discovery, title: Discovery}")
    line = c.replace(PIPELINE, "- {id: demo, title: Demo}", "- &s {id: demo, title: Demo}")
    return [Expect(PIPELINE, line, "stages[1]", "the anchor &s is defined twice")]


@case("YAML aliases")
def merge_key(c: Cat):
    line = c.replace(CLOSING, "  - id: revenue_below_plan\n", "  - <<: {roles: [isr]}\n    id: revenue_below_plan\n")
    return [Expect(CLOSING, line, "performance[0]", "merge keys (<<) are not supported")]


@case("YAML syntax")
def unclosed_bracket(c: Cat):
    line = c.replace(THRESHOLDS, "min_gap: 0.15", "min_gap: [0.15")
    return [Expect(THRESHOLDS, line + 3, None, "not valid YAML: did not find expected ',' or ']'")]


@case("YAML syntax")
def not_utf8(c: Cat):
    line = c.line(PROSPECTING, "title:")
    raw = c.path(PROSPECTING).read_bytes().replace(b"title:", "title: caf\u00e9".encode("latin-1"), 1)
    c.path(PROSPECTING).write_bytes(raw)
    return [Expect(PROSPECTING, line, None, "not valid utf-8 text")]


# --------------------------------------------------------------------------- files and folders

@case("file missing")
def missing_pipeline(c: Cat):
    c.remove(PIPELINE)
    return [Expect(PIPELINE, None, None, "file is missing"), Absent("unknown role"), Absent("unknown metric")]


@case("file missing")
def no_gap_files(c: Cat):
    c.remove(CLOSING)
    c.remove(PROSPECTING)
    return [Expect("rules/gaps", None, None, "no gap files"),
            Expect(DEMO_FLOW, 5, "behaviour_gap", "unknown behaviour gap")]


@case("file missing")
def no_learning_library(c: Cat):
    c.remove("learning_library")
    return [Expect("learning_library", None, None, "folder is missing")]


@case("file not regular")
def flow_is_a_folder(c: Cat):
    c.path("rules/flows/extra.yaml").mkdir()
    return [Expect("rules/flows/extra.yaml", None, None, "a folder where a file belongs")]


@case("file too large")
def oversized_flow(c: Cat):
    c.append(TALK_FLOW, ("# " + "x" * 1000 + "\n") * 1100)
    return [Expect(TALK_FLOW, None, None, "over the limit of 1.0 MiB")]


@case("Markdown asset")
def markdown_not_utf8(c: Cat):
    c.path(f"learning_library/{BANT}").write_bytes(b"# BANT\n\nLine two\n" + "Caf\u00e9\n".encode("latin-1"))
    return [Expect(ASSETS, c.line(ASSETS, BANT_LINE), "assets[0].file",
                   "not valid utf-8 text (it looks like latin-1 or windows-1252) (line 4 of the file)")]


@case("Markdown asset")
def markdown_too_large(c: Cat):
    c.path(f"learning_library/{BANT}").write_text("word " * 300_000, encoding="utf-8")
    return [Expect(ASSETS, c.line(ASSETS, BANT_LINE), "assets[0].file", "over the limit of 1.0 MiB")]


@case("Markdown asset")
def markdown_folder_linked_outside(c: Cat):
    target = c.outside("microlearning")
    shutil.copytree(c.path("learning_library/microlearning"), target)
    c.make_link("learning_library/microlearning", target)
    return [Expect(ASSETS, c.line(ASSETS, BANT_LINE), "assets[0].file", "outside learning_library/")]


# --------------------------------------------------------------------------- schema and references, in context

def edited(rel: str, old: str, new: str, needle: str, key: str, message: str) -> Callable[[Cat], list]:
    """A case that replaces `old` by `new`: the problem expected on the line of `needle`."""
    def build(c: Cat) -> list:
        c.replace(rel, old, new)
        return [Expect(rel, c.line(rel, needle), key, message)]
    return build


for _kind, _name, _rel, _old, _new, _needle, _key, _message in [
    ("missing key", "missing_title", CLOSING, "    title: Revenue below plan\n", "", "- id: revenue_below_plan",
     "performance[0].title", "required key is missing"),
    ("wrong value", "rag_out_of_order", THRESHOLDS, "  yellow: 0.7", "  yellow: 0.95", "rag:", "rag",
     "yellow must not be above green"),
    ("unknown reference", "industry_figure_missing", CLOSING, "compare_to: [team_median]\n    min_gap: 0.25",
     "compare_to: [industry]\n    min_gap: 0.25", "compare_to: [industry]", "performance[2].compare_to",
     "thresholds.yaml gives none"),
    ("flow structure", "next_jumps_back", DEMO_FLOW, "points_to: {pain_discovery: 1.5, qualification: 1}",
     "points_to: {pain_discovery: 1.5, qualification: 1}\n        next: demo_last_story", "next: demo_last_story",
     "questions[0].answers[0].next", "jumps back"),
]:
    CASES[_name] = Case(_name, _kind, edited(_rel, _old, _new, _needle, _key, _message))


@case("wrong value")
def no_candidates(c: Cat):
    c.write(DEMO_FLOW, re.sub(r"candidates:\n(  .*\n)+", "candidates: {}\n", c.read(DEMO_FLOW), count=1))
    return [Expect(DEMO_FLOW, c.line(DEMO_FLOW, "candidates: {}"), "candidates", "at least 1 item")]


@case("duplicate id")
def duplicate_gap_across_files(c: Cat):
    c.write("rules/gaps/extra.yaml", "performance:\n  - id: low_win_rate\n    title: Again\n"
                                     "    metric: win_rate\n    roles: [isr]\n")
    return [Expect("rules/gaps/extra.yaml", 2, "performance[0].id", "duplicate gap id")]


@case("duplicate id")
def duplicate_question_across_flows(c: Cat):
    flow = "rules/flows/discovery_dropoff.yaml"
    first = re.search(r"questions:\n  - id: (\w+)", c.read(flow))[1]
    line = c.replace(flow, f"  - id: {first}\n", "  - id: demo_last_story\n")
    return [Expect(flow, line, "questions[0].id", "duplicate question id")]


@case("duplicate id")
def two_flows_for_one_gap(c: Cat):
    c.write("rules/flows/demo_dropoff_again.yaml", c.read(DEMO_FLOW))
    return [Expect("rules/flows/demo_dropoff_again.yaml", c.line(DEMO_FLOW, "behaviour_gap:"), "behaviour_gap",
                   "a second flow for this behaviour gap")]


@case("masking cycle")
def masking_cycle_of_two(c: Cat):
    line = c.replace(CLOSING, "  - id: stalled_deals\n", "  - id: stalled_deals\n    masked_by: [effort_on_at_risk_deals]\n") + 1
    return [Expect(CLOSING, line, "behaviour[4].masked_by", "a masking cycle: stalled_deals -> "
                   "effort_on_at_risk_deals -> stalled_deals")]


@case("masking cycle")
def masking_cycle_of_three(c: Cat):
    line = c.replace(PROSPECTING, "  - id: low_call_volume\n",
                     "  - id: low_call_volume\n    masked_by: [meeting_no_shows]\n") + 1
    c.replace(PROSPECTING, "  - id: meeting_no_shows\n", "  - id: meeting_no_shows\n    masked_by: [low_talk_time]\n")
    return [Expect(PROSPECTING, line, "behaviour[0].masked_by", "a masking cycle: low_call_volume -> "
                   "meeting_no_shows -> low_talk_time -> low_call_volume")]


# --------------------------------------------------------------------------- several defects across files

@case("several files")
def thresholds_schema_hides_nothing(c: Cat):
    t = c.replace(THRESHOLDS, "significance: 0.05", "significance: .nan")
    g = c.replace(CLOSING, "    metric: win_rate", "    metric: win_rat")
    s = c.replace(DEMO_FLOW, FIRST_SAYS, 'says: "{value.__class__}"')
    c.remove(f"learning_library/{BANT}")
    return [Expect(THRESHOLDS, t, "significance", FINITE),
            Expect(CLOSING, g, "performance[1].metric", "unknown metric id"),
            Expect(DEMO_FLOW, s, "evidence[0].says", "reaches into a value"),
            Expect(ASSETS, c.line(ASSETS, BANT_LINE), "assets[0].file", "file not found")]


@case("several files")
def pipeline_schema_hides_nothing(c: Cat):
    p = c.replace(PIPELINE, "    kind: prospecting\n", "")
    f = c.replace(DEMO_FLOW, "  demo_delivery: 1.0", "  demo_delivry: 1.0")
    e = c.replace(CLOSING, "explains: [low_win_rate, revenue_below_plan]", "explains: [low_win_rat]")
    m = c.replace(CLOSING, "  - id: stalled_deals\n", "  - id: stalled_deals\n    masked_by: [effort_on_at_risk_deals]\n") + 1
    return [Expect(PIPELINE, p - 2, "roles[0].kind", "required key is missing"),
            Expect(DEMO_FLOW, f, "candidates.demo_delivry", "unknown skill or knowledge gap"),
            Expect(CLOSING, e, "behaviour[0].explains[0]", "unknown performance gap"),
            Expect(CLOSING, m, "behaviour[4].masked_by", "a masking cycle"),
            Absent("unknown metric id"), Absent("unknown role")]


@case("several files")
def broken_gap_file_blames_no_flow(c: Cat):
    g = c.replace(CLOSING, "    metric: win_rate", "    metric: [win_rate")
    f = c.replace(CALL_FLOW, "candidates:\n", "candidates:\n  cold_calling_nerves: 1\n") + 1
    return [Expect(CLOSING, None, None, "not valid YAML"),
            Expect(CALL_FLOW, f, "candidates.cold_calling_nerves", "unknown skill or knowledge gap"),
            Absent("unknown behaviour gap"), Absent("unknown gap")]


@case("several files")
def bomb_tag_markdown_and_template(c: Cat):
    b = c.append(THRESHOLDS, billion_laughs())
    t = c.replace(SKILLS, "skills:\n", "skills: !!python/object:os.system\n")
    c.make_fifo(f"learning_library/{BANT}")
    s = c.replace(DEMO_FLOW, FIRST_SAYS, 'says: "{value:>99999999}"')
    return [Expect(THRESHOLDS, b + 4, "lol4[", "more than 100,000 values"), Expect(SKILLS, t, "skills", TAG),
            Expect(ASSETS, c.line(ASSETS, BANT_LINE), "assets[0].file", "not a regular file"),
            Expect(DEMO_FLOW, s, "evidence[0].says", "wider than 40")]


@case("several files")
def schema_error_in_skills_blames_no_flow(c: Cat):
    k = c.replace(SKILLS, "    kind: skill\n", "    kind: skil\n")
    f = c.replace(CALL_FLOW, "candidates:\n", "candidates:\n  cold_calling_nerves: 1\n") + 1
    return [Expect(SKILLS, k, "skills[0].kind", "not an allowed value"),
            Expect(CALL_FLOW, f, "candidates.cold_calling_nerves", "unknown skill or knowledge gap"),
            Absent("'qualification'")]
