"""`fairway import`: CRM exports become a valid dataset, or are refused whole and located."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from engine.dataset import load_dataset
from engine.sources.importer import import_dataset
from engine.sources.mapping import load_mapping, parse_mapping, shipped_mappings
from engine.errors import DatasetError, MappingError
from web.cli import cli

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "import"
NANCY, JOSEPH = "0055g00000A1nOlAAB", "0055g00000B1jTeAAB"   # Salesforce user ids in the sample


SAMPLE_OF = {"salesforce-report": "salesforce", "hubspot-export": "hubspot"}


def run(tmp_path: Path, pipeline, name: str, source: Path | None = None):
    """Import a sample with its shipped mapping; return the report and the output tables."""
    out = tmp_path / "dataset"
    mapping = load_mapping(shipped_mappings()[name], pipeline)
    summary = import_dataset(source or SAMPLES / SAMPLE_OF[name], mapping, out, pipeline)
    tables = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in out.glob("*.csv")}
    return summary, tables


def copy_sample(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(SAMPLES / name, tmp_path / "exports"))


def edit_csv(path: Path, fn) -> None:
    """Rewrite a CSV export (footer lines included) through `fn(rows)`."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    fn(rows)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)


def by_id(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    return frame.loc[frame[column] == value].iloc[0]


def nothing_beside(out: Path) -> bool:
    """Neither `out` nor a temporary folder next to it was left behind."""
    return not out.exists() and not list(out.parent.glob(f".{out.name}*"))


# --------------------------------------------------------------------------- shipped mappings

def test_salesforce_export_imports_into_a_valid_dataset(tmp_path, pipeline):
    summary, t = run(tmp_path, pipeline, "salesforce-report")
    ds = load_dataset(tmp_path / "dataset", pipeline)
    assert summary.summary()["rows"] == ds.rows == {"reps": 6, "opportunities": 20, "stage_history": 75,
                                                    "activities": 98, "goals": 6}
    won = by_id(t["opportunities"], "opportunity_id", "0065g00000Op00XAAR")
    assert (won.status, won.stage) == ("won", "won")            # Won=1, Closed=1; Closed Won
    assert won.amount == "12000"                                 # "$12,000.00"
    assert (won.created_date, won.close_date) == ("2026-02-12", "2026-04-01")   # 2/12/2026
    assert (won.rep_id, won.source_rep_id) == (NANCY, JOSEPH)   # from owner and "Sourced By" names
    assert by_id(t["opportunities"], "opportunity_id", "0065g00000Op01XAAR").amount == "8000"  # USD 8,000.00
    assert by_id(t["reps"], "rep_id", JOSEPH).role == "bdr"


def test_salesforce_lost_deals_take_the_furthest_stage_of_their_history(tmp_path, pipeline):
    _, t = run(tmp_path, pipeline, "salesforce-report")
    opps, history = t["opportunities"], t["stage_history"]
    lost = opps[opps["status"] == "lost"]
    order = {s: i for i, s in enumerate(pipeline.all_stages)}
    furthest = history.assign(k=history["stage"].map(order)).groupby("opportunity_id")["k"].max()
    assert len(lost) == 6
    assert [order[s] for s in lost["stage"]] == list(furthest[lost["opportunity_id"]])
    assert "Closed Lost" not in set(history["stage"])            # left out by `where`


def test_salesforce_calls_connect_and_durations(tmp_path, pipeline):
    summary, t = run(tmp_path, pipeline, "salesforce-report")
    acts = t["activities"]
    call = by_id(acts, "activity_id", "00T5g00000Ac000AAB")       # Call Result: Connected, 140 s
    connect = by_id(acts, "activity_id", "00T5g00000Ac000AAB-connect")
    assert (call.type, call.duration_minutes, call.date) == ("call", "2.333333", "2026-03-02")
    assert (connect.type, connect.rep_id, connect.date, connect.duration_minutes) == \
        ("connect", JOSEPH, "2026-03-02", "")
    assert acts.index[acts["activity_id"] == connect.activity_id][0] == \
        acts.index[acts["activity_id"] == call.activity_id][0] + 1   # right beside its call
    assert "00T5g00000Ac001AAB-connect" not in set(acts["activity_id"])   # Left Voicemail
    assert summary.added == {"connect": 30}      # meetings scheduled come from events booked for others
    tasks = summary.tables["activities"].parts[0]
    assert (tasks.label, tasks.dropped) == ("activities[0]", {"left out by where": 12, "no type (Task Subtype or Type)": 2})
    # 12 events are left to the meeting parts; 2 tasks of Type "Other" are no selling activity
    goal = by_id(t["goals"], "rep_id", NANCY)
    assert (goal.period, goal.metric, goal.target) == ("2026-03", "revenue", "40000")


def test_hubspot_export_imports_into_a_valid_dataset(tmp_path, pipeline):
    summary, t = run(tmp_path, pipeline, "hubspot-export")
    ds = load_dataset(tmp_path / "dataset", pipeline)
    assert ds.n_reps == 6 and summary.tables["opportunities"].kept == 20
    nancy = "nancy.olson@acme.example"
    assert by_id(t["reps"], "rep_id", nancy)["name"] == "Nancy Olson"       # from a template
    won = by_id(t["opportunities"], "opportunity_id", "18345600100")         # closedwon
    assert (won.status, won.stage, won.rep_id, won.amount) == ("won", "won", nancy, "12000")
    assert won.created_date == "2026-02-12T09:14:00"
    assert set(t["opportunities"]["status"]) == {"open", "won", "lost"}
    assert "" not in set(t["opportunities"]["stage"])                       # closedlost derived
    acts = t["activities"]
    call = by_id(acts, "activity_id", "40021000")                 # Connected, 140000 ms
    assert (call.type, call.duration_minutes) == ("call", "2.333333")
    assert by_id(acts, "activity_id", "40021000-connect").type == "connect"
    assert "40021001-connect" not in set(acts["activity_id"])      # Left voicemail
    first_of_two = by_id(acts, "activity_id", "40021045")         # "18345600100;18345600117"
    assert first_of_two.opportunity_id == "18345600100"
    assert summary.added == {"connect": 30}
    assert (acts["type"] == "meeting_held").sum() == 12          # meetings whose outcome is Completed
    assert set(t["stage_history"]["stage"]) <= set(pipeline.all_stages)


# --------------------------------------------------------------------------- refused exports

def test_a_broken_export_is_refused_with_every_problem_located(tmp_path, pipeline):
    src = copy_sample(tmp_path, "salesforce")

    def break_opportunities(rows):
        stage, close = rows[0].index("Stage"), rows[0].index("Close Date")
        rows[2][stage] = "Needs Analysys"                        # row 3 of the file
        rows[4][close] = "2026-03-23"                            # row 5: ISO, not the US format
        rows[0][rows[0].index("Opportunity Owner")] = "Opportunity Ownr"  # the other columns still count
    edit_csv(src / "opportunities.csv", break_opportunities)
    edit_csv(src / "activities.csv", lambda rows: rows[0].__setitem__(rows[0].index("Assigned"), "Assigned To"))
    out = tmp_path / "dataset"
    with pytest.raises(MappingError) as err:
        import_dataset(src, load_mapping(shipped_mappings()["salesforce-report"], pipeline), out, pipeline)
    problems = {(p.file, p.row, p.column): p for p in err.value.problems}
    stage = problems[("opportunities.csv", 3, "Stage")]
    assert (stage.value, stage.suggestion) == ("Needs Analysys", "Needs Analysis")
    assert "salesforce-report.yaml:" in stage.expected and "opportunities.columns.stage.map" in stage.expected
    date = problems[("opportunities.csv", 5, "Close Date")]
    assert date.value == "2026-03-23" and "%m/%d/%Y" in date.expected
    missing = problems[("activities.csv", 1, "Assigned")]
    assert missing.message == "source column is missing" and missing.suggestion == "Assigned To"
    assert problems[("opportunities.csv", 1, "Opportunity Owner")].suggestion == "Opportunity Ownr"
    assert len(err.value.problems) == 4
    assert "did you mean 'Needs Analysis'?" in str(err.value)
    assert nothing_beside(out)


def test_a_missing_export_file_and_a_footer_not_declared(tmp_path, pipeline):
    src = copy_sample(tmp_path, "salesforce")
    (src / "users.csv").unlink()
    text = shipped_mappings()["salesforce-report"].read_text().replace(
        "  - files: activities*\n    skip_footer: true\n    where:\n      - {column: Type, optional: true, none_of",
        "  - files: activities*\n    where:\n      - {column: Type, optional: true, none_of")
    with pytest.raises(MappingError) as err:
        import_dataset(src, parse_mapping(text, "salesforce-report.yaml", pipeline), tmp_path / "out", pipeline)
    messages = [str(p) for p in err.value.problems]
    assert any(p.file == "users" and "no file" in p.message for p in err.value.problems), messages
    footer = [p for p in err.value.problems if p.file == "activities.csv"]
    assert footer and footer[0].row == 72 and "skip_footer" in footer[0].expected, messages


def test_the_contract_refuses_a_result_naming_the_exports_rows(tmp_path, pipeline):
    src = copy_sample(tmp_path, "salesforce")
    edit_csv(src / "opportunities.csv", lambda rows: rows[3].__setitem__(rows[0].index("Amount"), "-$5.00"))
    out = tmp_path / "dataset"
    with pytest.raises(DatasetError) as err:
        import_dataset(src, load_mapping(shipped_mappings()["salesforce-report"], pipeline), out, pipeline)
    assert not isinstance(err.value, MappingError)
    [p] = err.value.problems
    assert (p.file, p.row, p.column, p.message) == ("opportunities.csv", 4, "amount", "negative value")
    assert "imported into opportunities.csv" in p.expected
    assert nothing_beside(out)


def test_out_must_be_new_or_empty(tmp_path, pipeline):
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(MappingError, match="not an empty folder"):
        import_dataset(SAMPLES / "hubspot", load_mapping(shipped_mappings()["hubspot-export"], pipeline), out, pipeline)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    (out / "keep.txt").unlink()
    import_dataset(SAMPLES / "hubspot", load_mapping(shipped_mappings()["hubspot-export"], pipeline), out, pipeline)
    assert (out / "reps.csv").is_file()


# --------------------------------------------------------------------------- the rules, small

def small(tmp_path: Path, rows: list[list[str]], columns_yaml: str, pipeline, extra: str = ""):
    """Import a one-file export of reps (and a fixed opportunity) through inline YAML."""
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    with open(src / "people.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    (src / "deals.csv").write_text("Id,Owner\nD1,R1\n", encoding="utf-8")
    text = f"""
reps:
  files: people.csv
  columns:
{columns_yaml}
opportunities:
  files: deals.csv
  columns:
    opportunity_id: Id
    rep_id: Owner
    created_date: {{value: "2026-01-05"}}
    status: {{value: open}}
    stage: {{value: discovery}}
{extra}"""
    out = tmp_path / "out"
    import_dataset(src, parse_mapping(text, "m.yaml", pipeline), out, pipeline)
    return pd.read_csv(out / "reps.csv", dtype=str, keep_default_na=False)


REP_COLUMNS = """\
    rep_id: Id
    name: {template: "{First} {Last}"}
    team: {value: Closers}
    division: {value: East}
"""


@pytest.mark.parametrize("unmapped, roles", [
    ("keep", None), ("drop", ["isr"]), ("isr", ["isr", "isr"]),
])
def test_unmapped_values_keep_drop_or_take_a_constant(tmp_path, pipeline, unmapped, roles):
    rows = [["Id", "First", "Last", "Title"], ["R1", "Nancy", "Olson", "AE"], ["R2", "Joe", "Tee", "Rep"]]
    rule = f"    role: {{column: Title, map: {{AE: isr}}, unmapped: {unmapped}}}\n"
    if roles is None:       # kept: "Rep" is not a role, so the contract refuses the result
        with pytest.raises(DatasetError, match="unknown role"):
            small(tmp_path, rows, REP_COLUMNS + rule, pipeline)
        return
    reps = small(tmp_path, rows, REP_COLUMNS + rule, pipeline)
    assert list(reps["role"]) == roles and reps["name"].iloc[0] == "Nancy Olson"


def test_dates_are_read_with_the_declared_format(tmp_path, pipeline):
    rows = [["Id", "First", "Last", "Start"], ["R1", "Nancy", "Olson", "14.03.2026"]]
    cols = REP_COLUMNS + "    role: {value: isr}\n    start_date: {column: Start, date: '%d.%m.%Y'}\n"
    reps = small(tmp_path, rows, cols, pipeline)
    assert reps["start_date"].iloc[0] == "2026-03-14"


def test_status_flags_accept_yes_no_words_and_refuse_others(tmp_path, pipeline):
    src = tmp_path / "src"
    src.mkdir()
    (src / "reps.csv").write_text("Id,Name\nR1,Nancy Olson\n", encoding="utf-8")
    (src / "deals.csv").write_text("Id,IsWon,IsClosed,Stage\nD1,true,true,won\nD2,FALSE,TRUE,demo\n"
                                   "D3,false,,demo\nD4,maybe,false,demo\n", encoding="utf-8")
    text = """
reps:
  files: reps.csv
  columns: {rep_id: Id, name: Name, role: {value: isr}, team: {value: T}, division: {value: D}}
opportunities:
  files: deals.csv
  columns:
    opportunity_id: Id
    rep_id: {value: R1}
    created_date: {value: "2026-01-05"}
    status: {flags: {won: IsWon, closed: IsClosed}}
    stage: Stage
"""
    mapping = parse_mapping(text, "m.yaml", pipeline)
    with pytest.raises(MappingError) as err:
        import_dataset(src, mapping, tmp_path / "out", pipeline)
    [bad] = err.value.problems
    assert (bad.row, bad.column, bad.value, bad.message) == (5, "IsWon", "maybe", "not a yes/no value")
    (src / "deals.csv").write_text((src / "deals.csv").read_text().replace("maybe", "no"))
    import_dataset(src, mapping, tmp_path / "out", pipeline)
    opps = pd.read_csv(tmp_path / "out" / "opportunities.csv", dtype=str)
    assert list(opps["status"]) == ["won", "lost", "open", "open"]


def test_amounts_that_are_not_numbers_are_refused(tmp_path, pipeline):
    rows = [["Id", "First", "Last"], ["R1", "Nancy", "Olson"]]
    extra = "    amount: {value: '12,5'}\n"      # a decimal comma is not a thousands separator
    with pytest.raises(MappingError) as err:
        small(tmp_path, rows, REP_COLUMNS + "    role: {value: isr}\n", pipeline, extra)
    assert err.value.problems[0].value == "12,5" and err.value.problems[0].message == "not a number"


# --------------------------------------------------------------------------- refused mappings

BROKEN = """\
reps:
  files: users.csv
  colums:
    rep_id: User ID
opportunities:
  files: opps.csv
  columns:
    oportunity_id: Opportunity ID
    rep_id: {column: Owner, rep_by: nam}
    created_date: {column: Created, date: "%m/%d/%Y"}
    status: {column: Stage, map: {Closed Won: win}}
    stage: {column: Stage, divide_by: 60}
"""


def test_a_broken_mapping_is_refused_with_file_line_and_key(pipeline):
    with pytest.raises(MappingError) as err:
        parse_mapping(BROKEN, "acme.yaml", pipeline)
    problems = {p.column: p for p in err.value.problems}
    colums = problems["reps.colums"]
    assert (colums.file, colums.line, colums.message, colums.suggestion) == \
        ("acme.yaml", 3, "unknown key", "columns")
    assert problems["reps.columns"].message == "required key is missing"
    assert (problems["opportunities.columns.rep_id.rep_by"].line,
            problems["opportunities.columns.rep_id.rep_by"].suggestion) == (9, "name")
    assert "acme.yaml:3, key reps.colums: unknown key" in str(err.value)


def test_mapping_targets_and_words_are_checked_against_contract_and_pipeline(pipeline):
    text = BROKEN.replace("  colums:", "  columns:").replace("rep_by: nam", "rep_by: name")
    text += "    role: {value: isr}\n"
    text = text.replace("    rep_id: User ID\n", "    rep_id: User ID\n    name: Full Name\n"
                        "    role: Role\n    team: Team\n    division: Division\n")
    with pytest.raises(MappingError) as err:
        parse_mapping(text, "acme.yaml", pipeline)
    problems = {(p.column, p.message): p for p in err.value.problems}
    line = {text.splitlines()[i].split(":")[0].strip(): i + 1 for i in range(len(text.splitlines()))}
    target = problems[("opportunities.columns.oportunity_id", "not a column of opportunities.csv")]
    assert (target.line, target.suggestion) == (line["oportunity_id"], "opportunity_id")
    assert problems[("opportunities.columns", "required column opportunity_id is not mapped")]
    word = problems[("opportunities.columns.status.map.Closed Won", "unknown status")]
    assert (word.line, word.value, word.suggestion) == (line["status"], "win", "won")
    assert problems[("opportunities.columns.stage.divide_by", "divide_by applies only to number columns")]
    assert problems[("opportunities.columns.role", "not a column of opportunities.csv")]


def test_the_shipped_mappings_load(pipeline):
    assert set(shipped_mappings()) >= {"salesforce-report", "hubspot-export"}
    for path in shipped_mappings().values():
        load_mapping(path, pipeline)


# --------------------------------------------------------------------------- the command

def test_cli_imports_and_refuses(tmp_path):
    runner = CliRunner()
    out = tmp_path / "dataset"
    ok = runner.invoke(cli, ["import", str(SAMPLES / "hubspot"), "--mapping", "hubspot-export", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "valid" in ok.output and "added 30 connect rows" in ok.output
    assert runner.invoke(cli, ["validate", str(out)]).exit_code == 0

    src = copy_sample(tmp_path, "salesforce")
    edit_csv(src / "opportunities.csv", lambda rows: rows[2].__setitem__(rows[0].index("Stage"), "Needs Analysys"))
    bad_out = tmp_path / "refused"
    refused = runner.invoke(cli, ["import", str(src), "--mapping", str(shipped_mappings()["salesforce-report"]),
                                  "--out", str(bad_out)])
    assert refused.exit_code == 1
    assert "opportunities.csv, row 3, column Stage" in refused.stderr
    assert "did you mean 'Needs Analysis'?" in refused.stderr
    assert nothing_beside(bad_out)

    again = runner.invoke(cli, ["import", str(src), "--mapping", "salesforce-report", "--out", str(out)])
    assert again.exit_code == 2 and "not an empty folder" in again.stderr


def test_an_export_table_as_a_partitioned_folder_of_parquet_imports_as_its_csv_does(tmp_path, pipeline):
    """A warehouse unload writes a table as Parquet parts in a folder named after it."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    source = copy_sample(tmp_path, "salesforce")
    with open(source / "opportunity_history.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, records = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]     # no report footer
    (source / "opportunity_history.csv").unlink()
    folder = source / "OpportunityHistory"
    for i in (0, 1):
        part = records[i * len(records) // 2:(i + 1) * len(records) // 2]
        (folder / f"batch={i}").mkdir(parents=True)
        pq.write_table(pa.table({h: [r[k] for r in part] for k, h in enumerate(header)}),
                       folder / f"batch={i}" / f"part-0000{i}.parquet")
    _, expected = run(tmp_path / "csv", pipeline, "salesforce-report")
    _, got = run(tmp_path / "parquet", pipeline, "salesforce-report", source)
    assert set(got) == set(expected)
    pd.testing.assert_frame_equal(got["stage_history"], expected["stage_history"])
    pd.testing.assert_frame_equal(got["opportunities"], expected["opportunities"])
