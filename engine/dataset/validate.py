"""Check a dataset against the contract and build its typed tables, all or nothing.

`load_dataset` either returns a `Dataset` or raises `DatasetError` listing every problem
of every file (file, row as in the file, column, value, expected, did you mean). A file
that cannot be used (missing, unreadable, without a required column) does not hide the
problems of the others: each file is checked on its own, and against the others where
they can be read.

Each file is scanned by the analytical engine (engine.aggregation.backend): its checks
are SQL predicates counted in one scan (engine.dataset.checks), located only when they
fail. Activities, the largest file by far, are never held row by row: the same scan that
checks them folds them per rep, day and type.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..aggregation.backend import Backend, CSVReadError, make_backend, quote_text, text_list, trimmed
from ..catalog.specs import Pipeline
from ..errors import DatasetError, Problem, did_you_mean
from ..metrics.registry import MetricRegistry
from . import values as v
from .checks import Check, Scan, count_sql, reject_problems, run_checks
from .contract import ACTIVITIES, FILES, GOALS, OPPORTUNITIES, REPS, STAGE_HISTORY, STATUSES
from .model import Coverage, Dataset
from .reader import Source, find_file, missing_columns, open_source, unreadable

Progress = Callable[[str], None]
MAX_MINUTES = 24 * 60           # one activity longer than a day is a typing error
OUTLIER_GAP_DAYS = 31           # a trailing day this far from the rest may be an outlier...
OUTLIER_SHARE = 0.01            # ...when it holds less than this share of all events
SPARSE_DAY_SHARE = 0.05         # a trailing day with less than this share of a usual day's events


def load_dataset(folder: Path | str, pipeline: Pipeline, progress: Progress | None = None,
                 engine: str | None = None) -> Dataset:
    """Read and validate the dataset in `folder`; raise DatasetError with every problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError([Problem(file=str(folder), message="not a folder",
                                    expected="a folder of CSV or Parquet files")])
    backend = make_backend(engine)
    try:
        return _Loader(backend, folder, pipeline, progress or (lambda _m: None)).load()
    except BaseException:
        backend.close()
        raise


c = v.col


def _required(column: str) -> Check:
    return Check(column, "missing value", f"{c(column)} IS NULL", "a value (the column is required)")


def _visible(column: str) -> Check:
    return Check(column, "an invisible character in the id (a byte order mark U+FEFF from files joined "
                         "together, a zero-width or a no-break space)", v.invisible(c(column)),
                 "an id of visible characters only")


def _enum(column: str, allowed: list[str], what: str) -> Check:
    return Check(column, f"unknown {what}", f"({c(column)} IS NOT NULL AND {c(column)} NOT IN {text_list(allowed)})",
                 f"one of {', '.join(allowed)}" if len(allowed) <= 12 else f"a {what}",
                 suggest=lambda value: did_you_mean(value, allowed))


def _date(scan: Scan, column: str, required: bool = False) -> list[Check]:
    """Parse a date column once (as "__t_<column>"); its checks."""
    parsed = c(f"__t_{column}")
    scan.columns.append(f"{v.timestamp('r.' + c(column))} AS {parsed}")
    out = [Check(column, "not a date", f"({c(column)} IS NOT NULL AND {parsed} IS NULL)", v.DATE_EXPECTED,
                 message_sql=v.bad_date_message(c(column))),
           Check(column, f"implausible date (outside {v.MIN_YEAR}-{v.MAX_YEAR})",
                 f"(year({parsed}) NOT BETWEEN {v.MIN_YEAR} AND {v.MAX_YEAR})",
                 f"a date between {v.MIN_YEAR} and {v.MAX_YEAR}")]
    return ([_required(column)] if required else []) + out


def _number(scan: Scan, column: str, non_negative: bool, limit: float, what: str = "value") -> list[Check]:
    """Parse a number column once (as "__n_<column>"); its checks."""
    parsed = c(f"__n_{column}")
    scan.columns.append(f"{v.number('r.' + c(column))} AS {parsed}")
    out = [Check(column, "not a number", f"({c(column)} IS NOT NULL AND ({parsed} IS NULL OR NOT isfinite({parsed})))",
                 "a finite number such as 12000 or 12.5", message_sql=v.bad_number_message(c(column))),
           Check(column, f"implausibly large {what}", f"(isfinite({parsed}) AND abs({parsed}) > {limit!r})",
                 f"at most {limit:,.0f}")]
    if non_negative:
        out.append(Check(column, "negative value", f"({parsed} < 0)", "0 or more"))
    return out


def _reference(scan: Scan, column: str, keys: str | None, key: str, what: str, file_of: str,
               choices: list[str]) -> list[Check]:
    """Whether the id in `column` is one of `keys` (a table of distinct ids); its check."""
    if keys is None:
        return []
    alias, flag = f"k_{column}", c(f"__no_{column}")
    scan.joins.append(f"LEFT JOIN {keys} AS {alias} ON {alias}.{key} = r.{c(column)}")
    scan.columns.append(f"({alias}.{key} IS NULL) AS {flag}")
    return [Check(column, f"unknown {what}", f"({c(column)} IS NOT NULL AND {flag})", f"an id listed in {file_of}",
                  suggest=lambda value: did_you_mean(value, choices))]


class _Loader:
    def __init__(self, backend: Backend, folder: Path, pipeline: Pipeline, say: Progress):
        self.b = backend
        self.folder = folder
        self.p = pipeline
        self.say = say
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.sources: dict[str, Source] = {}
        self.rows: dict[str, int] = {}
        self.choices: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ the whole load
    def load(self) -> Dataset:
        for spec in FILES:
            path, found = find_file(self.folder, spec)
            self.problems += found
            if path is None:
                continue
            self.say(f"reading {path.name}")
            source, problems = open_source(self.b, path, spec)
            self.problems += problems
            if source is None:
                continue
            missing = missing_columns(source)
            self.problems += missing
            if not missing:
                self.sources[spec.stem] = source
        keys = self._keys()
        self.say("checking values")
        for stem, check in (("reps", self._check_reps), ("opportunities", self._check_opportunities),
                            ("stage_history", self._check_history), ("activities", self._check_activities),
                            ("goals", self._check_goals)):
            if stem in self.sources:
                try:
                    check(self.sources[stem], keys)
                except CSVReadError as err:
                    self._unreadable(err, self.sources[stem])
        if not self.problems and "reps" in self.sources and self.rows.get("reps", 0) == 0:
            self.problems.append(Problem(file=self.sources["reps"].name, message="no reps: the file has "
                                         "a header and no rows", expected="one row per rep"))
        if self.problems:
            self.say(f"refused: {len(self.problems)} problems, done")
            raise DatasetError(self.problems)
        try:
            dataset = self._build()
        except CSVReadError as err:      # every file was scanned whole by its checks: not expected
            self._unreadable(err, None)
            raise DatasetError(self.problems) from None
        if dataset.as_of is None:
            raise DatasetError([Problem(file=str(self.folder), message="no dated events in any file: "
                                        "nothing happened that could be measured",
                                        expected="opportunities or activities with their dates")])
        self.say(f"{dataset.n_reps:,} reps, {sum(dataset.rows.values()):,} rows loaded: done")
        return dataset

    def _keys(self) -> dict[str, str | None]:
        """Tables of the ids other files may refer to (None where the file is unusable)."""
        keys: dict[str, str | None] = {"rep": None, "opp": None}
        for stem, name, key in (("reps", "rep", "rep_id"), ("opportunities", "opp", "opportunity_id")):
            if stem in self.sources:
                try:
                    self.b.table(f"{name}_keys", f"SELECT DISTINCT {key} FROM {self.sources[stem].view} "
                                                 f"WHERE {key} IS NOT NULL")
                except CSVReadError as err:
                    self._unreadable(err, self.sources[stem])
                    continue
                keys[name] = f"{name}_keys"
                self.choices[name] = [r[0] for r in self.b.rows(f"SELECT {key} FROM {name}_keys LIMIT 5000")]
        return keys

    def _unreadable(self, err: CSVReadError, current: Source | None) -> None:
        """A file the reader gave up on while a query scanned it (a large file is read as it is
        queried): one problem for it, and it is checked no further. The file is the one the
        error names, else the one being checked."""
        named = [s for s in self.sources.values() if err.path and _same_file(s.path, err.path)]
        source = named[0] if named else current
        name = source.name if source is not None else (Path(err.path).name if err.path else str(self.folder))
        self.problems.append(unreadable(name, err, source.path if source is not None else None))
        if source is not None:
            self.sources.pop(source.spec.stem, None)

    def _run(self, source: Source, scan: Scan, checks: list[Check], counts: list[int] | None = None) -> None:
        scan.parts = source.parts
        rejects = self.b.rejects(source.view) if counts is not None else None
        problems, warnings = run_checks(self.b, scan, source.name, checks, counts, rejects=rejects)
        if rejects is None:
            rejects = self.b.rejects(source.view)
        hint = "it looks like latin-1 or windows-1252: save the file as UTF-8" \
            if any(r.kind == "encoding" for r in rejects) else None
        self.problems += problems + reject_problems(source.name, rejects, len(source.columns), hint)
        self.warnings += warnings

    def _duplicates(self, source: Source, key_sql: str, name: str) -> str:
        """A table of the records (by _i) whose key appeared on an earlier record; the predicate."""
        self.b.table(name, f"SELECT _i FROM (SELECT _i, row_number() OVER (PARTITION BY {key_sql} ORDER BY _i) AS k "
                           f"FROM {self.b.numbered(source.view)} WHERE {key_sql} IS NOT NULL) WHERE k > 1")
        return f"(_i IN (SELECT _i FROM {name}))"

    def _file_name(self, stem: str) -> str:
        s = self.sources.get(stem)
        return s.name if s else f"{stem}.csv"

    def _ref(self, scan: Scan, column: str, keys: dict, what: str) -> list[Check]:
        name, key, stem = ("rep", "rep_id", "reps") if what == "rep" else ("opp", "opportunity_id", "opportunities")
        return _reference(scan, column, keys[name], key, what, self._file_name(stem), self.choices.get(name, []))

    # ------------------------------------------------------------------ reps
    def _check_reps(self, s: Source, keys) -> None:
        scan = Scan(s.view)
        checks = [_required(col) for col in REPS.required_columns]
        checks.append(_visible("rep_id"))
        checks.append(_enum("role", self.p.role_ids, "role"))
        checks.append(Check("rep_id", "duplicate id", self._duplicates(s, c("rep_id"), "dup_reps"),
                            "each rep_id once", numbered=True))
        self.b.table("case_reps", f"SELECT _i FROM (SELECT _i, rep_id, first_value(rep_id) OVER "
                                  f"(PARTITION BY lower(rep_id) ORDER BY _i) AS first FROM {self.b.numbered(s.view)} "
                                  f"WHERE rep_id IS NOT NULL) WHERE rep_id != first")
        checks.append(Check("rep_id", "a rep id that differs from another only by case",
                            "(_i IN (SELECT _i FROM case_reps))",
                            "one id per rep, written the same way everywhere (R0002 and r0002 are one rep)",
                            numbered=True))
        for col in ("start_date", "end_date"):
            if s.has(col):
                checks += _date(scan, col)
        if s.has("active"):
            checks.append(Check("active", "not a yes/no value", f"(active IS NOT NULL AND {v.flag(c('active'))} IS NULL)",
                                "true or false (1/0, yes/no)"))
        self._run(s, scan, checks)
        self.rows["reps"] = int(self.b.scalar(f"SELECT count(*) FROM {s.view}"))

    # ------------------------------------------------------------------ opportunities
    def _check_opportunities(self, s: Source, keys) -> None:
        scan = Scan(s.view)
        checks = [_required(col) for col in ("opportunity_id", "rep_id", "status")]
        checks.append(_visible("opportunity_id"))
        checks.append(Check("stage", "missing value", "(stage IS NULL AND coalesce(status, '') != 'lost')",
                            "a stage (only a lost opportunity may leave it empty: its furthest stage unknown)"))
        checks.append(Check("opportunity_id", "duplicate id",
                            self._duplicates(s, c("opportunity_id"), "dup_opps"), "each opportunity_id once",
                            numbered=True))
        checks += self._ref(scan, "rep_id", keys, "rep")
        if s.has("source_rep_id"):
            checks += self._ref(scan, "source_rep_id", keys, "rep")
        checks += _date(scan, "created_date", required=True)
        if s.has("close_date"):
            checks += _date(scan, "close_date")
            checks.append(Check("close_date", "closes before it was created",
                                '("__t_close_date" < "__t_created_date")', "a close_date on or after created_date"))
        checks.append(_enum("status", list(STATUSES), "status"))
        checks.append(_enum("stage", self.p.all_stages, "stage"))
        won = quote_text(self.p.won_stage)
        checks.append(Check("stage", "stage and status disagree",
                            f"((status = 'won' AND stage IS NOT NULL AND stage != {won}) OR "
                            f"(status IN ('open', 'lost') AND stage = {won}))",
                            f"stage {self.p.won_stage} exactly when status is won"))
        if s.has("amount"):
            checks += _number(scan, "amount", True, v.MAX_VALUE, "amount")
        checks.append(Check(None, "won with no amount: they add nothing to revenue",
                            "(status = 'won' AND " + ("amount IS NULL)" if s.has("amount") else "true)"),
                            warning=True))
        checks.append(Check(None, "won or lost with no close_date: they count in no time window",
                            "(status IN ('won', 'lost') AND " +
                            ("close_date IS NULL)" if s.has("close_date") else "true)"), warning=True))
        self._run(s, scan, checks)
        self.rows["opportunities"] = int(self.b.scalar(f"SELECT count(*) FROM {s.view}"))
        if s.has("loss_reason"):
            known = set(self.p.loss_reasons)
            reasons = self.b.frame(f"SELECT DISTINCT {_reason_sql('loss_reason')} AS r FROM {s.view} "
                                   f"WHERE status = 'lost' AND loss_reason IS NOT NULL")["r"].tolist()
            unknown = sorted(set(reasons) - known)
            if unknown:
                self.warnings.append(f"{s.name}: loss reasons not known to the catalog (measured, but no "
                                     f"coaching flow reads them): {', '.join(unknown[:20])}"
                                     + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""))

    # ------------------------------------------------------------------ stage history
    def _check_history(self, s: Source, keys) -> None:
        scan = Scan(s.view)
        checks = [_required("opportunity_id"), _required("stage"), _enum("stage", self.p.all_stages, "stage")]
        checks += self._ref(scan, "opportunity_id", keys, "opportunity")
        checks += _date(scan, "entered_date", required=True)
        opps = self.sources.get("opportunities")
        if opps is not None:
            won = quote_text(self.p.won_stage)
            closed = f"max(CAST({v.timestamp('close_date')} AS DATE))" if opps.has("close_date") else "CAST(NULL AS DATE)"
            self.b.table("opp_dates", f"SELECT opportunity_id, any_value(status) AS status, "
                                      f"min(CAST({v.timestamp('created_date')} AS DATE)) AS created, "
                                      f"{closed} AS closed FROM {opps.view} GROUP BY opportunity_id")
            self.b.table("won_entries", f"SELECT opportunity_id, min({v.timestamp('entered_date')}) AS won_at "
                                        f"FROM {s.view} WHERE stage = {won} GROUP BY 1")
            scan.joins += ["LEFT JOIN opp_dates d ON d.opportunity_id = r.opportunity_id",
                           "LEFT JOIN won_entries w ON w.opportunity_id = r.opportunity_id"]
            scan.columns += ["d.created AS __created", "d.closed AS __closed", "d.status AS __status",
                             "w.won_at AS __won_at"]
            day = 'CAST("__t_entered_date" AS DATE)'
            checks += [
                Check("entered_date", "entered before the opportunity was created", f"({day} < __created)",
                      "an entered_date on or after the opportunity's created_date"),
                Check("entered_date", "entered after the opportunity closed",
                      f"({day} > __closed AND __status != 'open')",
                      "an entered_date on or before the opportunity's close_date"),
                Check("stage", f"a {self.p.won_stage} stage for an opportunity that is not won",
                      f"(stage = {won} AND __status != 'won')",
                      "the won stage only in the history of won opportunities"),
                Check("entered_date", f"entered after the opportunity reached {self.p.won_stage}",
                      f'(stage != {won} AND "__t_entered_date" > __won_at)',
                      f"the {self.p.won_stage} stage last in the history of a won opportunity"),
            ]
        self._run(s, scan, checks)
        self.rows["stage_history"] = int(self.b.scalar(f"SELECT count(*) FROM {s.view}"))

    # ------------------------------------------------------------------ activities
    def _check_activities(self, s: Source, keys) -> None:
        """One scan of the records as read (not trimmed: a large file is scanned, never
        copied) parses each date and duration once, flags every row whose values may be bad,
        and folds the rows per rep, type, deal and day; keys are trimmed on the folded groups
        (a million groups for six million rows). Ids and types are checked on the folded keys.
        The flag is cheap and errs on the side of caution (a duration of spaces only is
        flagged): only when a row is flagged are the value checks counted exactly (a second
        scan, of the trimmed records) and their rows located."""
        scan = Scan(s.view)
        value_checks = _date(scan, "date", required=True)
        if s.has("duration_minutes"):
            value_checks += _number(scan, "duration_minutes", True, MAX_MINUTES, "duration (more than a day)")
        minutes = "TRY_CAST(duration_minutes AS DOUBLE)" if s.has("duration_minutes") else "CAST(NULL AS DOUBLE)"
        bad_minutes = (f"(duration_minutes IS NOT NULL AND (m IS NULL OR NOT isfinite(m) OR m < 0 "
                       f"OR m > {MAX_MINUTES!r}))")
        opp = "opportunity_id" if s.has("opportunity_id") else "CAST(NULL AS VARCHAR)"
        dur = "duration_minutes" if s.has("duration_minutes") else "CAST(NULL AS VARCHAR)"
        self.b.table("act_groups", f"""
            SELECT rep_id, type, opp_id, day, count(*) AS n, sum(CASE WHEN isfinite(m) THEN m END) AS talk,
                   count_if(isfinite(m)) AS timed, count_if(day IS NULL OR {bad_minutes}) AS bad
            FROM (SELECT rep_id, type, {opp} AS opp_id, {minutes} AS m, {dur} AS duration_minutes,
                         __day AS day
                  FROM ({v.days('date', self.b.untrimmed(s.view), untrimmed=True)}) AS r)
            GROUP BY ALL""")
        keys_sql = ("rep_id", "type", "opp_id")
        untidy = " OR ".join(f"{k} = '' OR {k} LIKE ' %' OR {k} LIKE '% '" for k in keys_sql)
        if self.b.scalar(f"SELECT count(*) FROM act_groups WHERE {untidy}"):
            self.b.table("act_groups", f"""
                SELECT rep_id, type, opp_id, day, sum(n) AS n, sum(talk) AS talk, sum(timed) AS timed,
                       sum(bad) AS bad
                FROM (SELECT {', '.join(f'{trimmed(k)} AS {k}' for k in keys_sql)}, day, n, talk, timed, bad
                      FROM act_groups)
                GROUP BY ALL""")
        rows, bad = self.b.rows("SELECT sum(n), sum(bad) FROM act_groups")[0]
        self.rows["activities"] = int(rows or 0)
        counts: list[int] | None = [0] * len(value_checks) if not bad else None
        # the keys' checks, counted on the folded rows; located (if they fail) with joins
        key_checks = [_required("rep_id"), _required("type"), _enum("type", self.p.activity_type_ids, "activity type")]
        key_checks += self._ref(scan, "rep_id", keys, "rep")
        if s.has("opportunity_id"):
            key_checks += self._ref(scan, "opportunity_id", keys, "opportunity")
        key_counts = []
        for check in key_checks:
            column = "opp_id" if check.column == "opportunity_id" else check.column
            bad_key = check.bad.replace(f'"{check.column}"', column)
            if check.message.startswith("unknown") and check.column != "type":
                keys_table = keys["rep" if check.column == "rep_id" else "opp"]
                key = "rep_id" if check.column == "rep_id" else "opportunity_id"
                bad_key = f"({column} IS NOT NULL AND {column} NOT IN (SELECT {key} FROM {keys_table}))"
            key_counts.append(int(self.b.scalar(f"SELECT coalesce(sum(n), 0) FROM act_groups WHERE {bad_key}")))
        if counts is None:          # a bad value somewhere: count each check (one more scan)
            counts = list(self.b.rows(f"SELECT {count_sql(value_checks)} FROM {scan.sql(self.b)} AS s")[0])
        checks, counts = value_checks + key_checks, counts + key_counts
        if s.has("activity_id"):
            checks.append(Check("activity_id", "duplicate id", self._duplicates(s, c("activity_id"), "dup_acts"),
                                "each activity_id once", numbered=True))
            counts.append(int(self.b.scalar("SELECT count(*) FROM dup_acts")))
        self._run(s, scan, checks, counts)

    # ------------------------------------------------------------------ goals
    def _check_goals(self, s: Source, keys) -> None:
        scan = Scan(s.view)
        registry = MetricRegistry(self.p)
        ids = registry.ids()
        checks = [_required(col) for col in GOALS.required_columns]
        checks += self._ref(scan, "rep_id", keys, "rep")
        checks.append(Check("period", "not a month", v.not_a_period(c("period")), "YYYY-MM"))
        checks.append(Check("metric", "unknown metric id",
                            f"(metric IS NOT NULL AND metric NOT IN {text_list(ids)} AND NOT regexp_full_match(metric, "
                            f"'loss_share\\.[a-z0-9_]+'))", "a metric id of the data contract",
                            suggest=lambda value: did_you_mean(value, ids)))
        checks += _number(scan, "target", False, v.MAX_VALUE, "target")
        checks.append(Check("metric", "a second goal for the same rep, period and metric",
                            self._duplicates(s, "rep_id || '\x1f' || period || '\x1f' || metric", "dup_goals"),
                            "one target per rep, period and metric", numbered=True))
        self._run(s, scan, checks)
        self.rows["goals"] = int(self.b.scalar(f"SELECT count(*) FROM {s.view}"))

    # ------------------------------------------------------------------ typed tables
    def _build(self) -> Dataset:
        b, p = self.b, self.p
        reps_src = self.sources["reps"]
        reps = self._reps_frame(reps_src)
        b.register("rep_codes", pd.DataFrame({"rep_id": reps["rep_id"], "rep": np.arange(len(reps), dtype=np.int32)}))
        stage_case = _index_case(p.all_stages)
        o = self.sources.get("opportunities")
        cols = set(o.columns) if o else set()

        def opt(name: str, expr: str, null_type: str) -> str:
            return expr if name in cols else f"CAST(NULL AS {null_type})"
        reason = f"CASE WHEN status = 'lost' THEN {_reason_sql('loss_reason')} END" if "loss_reason" in cols else "CAST(NULL AS VARCHAR)"
        b.table("opps_raw", f"""
            SELECT CAST(r._i AS INTEGER) AS opp, r.opportunity_id, rc.rep,
                   {opt('source_rep_id', 'sc.rep', 'INTEGER')} AS source_rep,
                   {v.plausible(v.timestamp('r.created_date'))} AS created,
                   {opt('close_date', v.plausible(v.timestamp('r.close_date')), 'TIMESTAMP')} AS close,
                   CAST(CASE r.status WHEN 'open' THEN 0 WHEN 'won' THEN 1 ELSE 2 END AS TINYINT) AS status,
                   CAST({stage_case.format(x='r.stage')} AS TINYINT) AS stage,
                   {opt('amount', v.number('r.amount'), 'DOUBLE')} AS amount,
                   {reason} AS loss_reason, {opt('account', 'r.account', 'VARCHAR')} AS account
            FROM {b.numbered(o.view)} AS r
            LEFT JOIN rep_codes rc ON rc.rep_id = r.rep_id
            {'LEFT JOIN rep_codes sc ON sc.rep_id = r.source_rep_id' if 'source_rep_id' in cols else ''}""")
        h = self.sources.get("stage_history")
        if h is not None:
            b.table("history", f"""
                WITH e AS (SELECT o.opp, CAST({stage_case.format(x='r.stage')} AS TINYINT) AS stage,
                                  {v.plausible(v.timestamp('r.entered_date'))} AS entered
                           FROM {h.view} AS r JOIN opps_raw o ON o.opportunity_id = r.opportunity_id),
                     s AS (SELECT *, lag(stage) OVER (PARTITION BY opp ORDER BY entered, stage) AS prev FROM e)
                SELECT opp, stage, entered FROM s WHERE prev IS NULL OR prev != stage""")
        else:
            b.table("history", "SELECT CAST(NULL AS INTEGER) AS opp, CAST(NULL AS TINYINT) AS stage, "
                               "CAST(NULL AS TIMESTAMP) AS entered WHERE false")
        b.table("opps", """
            SELECT o.*, CAST(CASE WHEN hm.top IS NULL THEN o.stage
                                  WHEN o.stage IS NULL THEN hm.top ELSE greatest(o.stage, hm.top) END AS TINYINT) AS furthest
            FROM opps_raw o LEFT JOIN (SELECT opp, max(stage) AS top FROM history GROUP BY opp) hm USING (opp)
            ORDER BY o.opp""")
        b.drop("opps_raw")
        if "activities" in self.sources:
            type_case = _index_case(p.activity_type_ids)
            phone = text_list([t.id for t in p.activity_types if t.phone])
            b.table("act_daily", f"""
                SELECT rc.rep, g.day, CAST({type_case.format(x='g.type')} AS TINYINT) AS type, sum(g.n) AS n,
                       CASE WHEN g.type IN {phone} THEN coalesce(sum(g.talk), 0) ELSE 0 END AS talk,
                       CASE WHEN g.type IN {phone} THEN sum(g.timed) ELSE 0 END AS timed
                FROM act_groups g JOIN rep_codes rc ON rc.rep_id = g.rep_id
                WHERE g.day IS NOT NULL GROUP BY rc.rep, g.day, g.type""")
            b.table("opp_daily", "SELECT o.opp, g.day, sum(g.n) AS n FROM act_groups g "
                                 "JOIN opps o ON o.opportunity_id = g.opp_id "
                                 "WHERE g.day IS NOT NULL AND g.opp_id IS NOT NULL GROUP BY o.opp, g.day")
            b.drop("act_groups")
        else:
            b.table("act_daily", "SELECT CAST(NULL AS INTEGER) AS rep, CAST(NULL AS DATE) AS day, "
                                 "CAST(NULL AS TINYINT) AS type, CAST(0 AS BIGINT) AS n, CAST(0 AS DOUBLE) AS talk, "
                                 "CAST(0 AS BIGINT) AS timed WHERE false")
            b.table("opp_daily", "SELECT CAST(NULL AS INTEGER) AS opp, CAST(NULL AS DATE) AS day, "
                                 "CAST(0 AS BIGINT) AS n WHERE false")
        o = self.sources["opportunities"]
        goals = self._goals_frame()
        self._drop_checked()
        return finish(b, p, reps, goals, rows=self.rows, warnings=self.warnings,
                      source=str(self.folder), has_amount=o.has("amount"),
                      has_activities=self.rows.get("activities", 0) > 0)

    # what the checks and the build read, and nothing after them: the records as read and the
    # lookups of ids (on a large org tens of megabytes the analysis would hold for nothing)
    CHECKED = ("rep_keys", "opp_keys", "dup_reps", "case_reps", "dup_opps", "dup_acts", "dup_goals",
               "opp_dates", "won_entries", "rep_codes")

    def _drop_checked(self) -> None:
        """Drop what only the checks and the build read; the typed tables stay (opps, history,
        act_daily, opp_daily)."""
        for name in (*self.CHECKED, *(s.view for s in self.sources.values())):
            self.b.drop(name)

    def _reps_frame(self, s: Source) -> pd.DataFrame:
        extras = [x for x in s.columns if REPS.column(x) is None]
        select = ["rep_id", "name", "role", "team", "division",
                  "manager" if s.has("manager") else "CAST(NULL AS VARCHAR) AS manager",
                  (v.plausible(v.timestamp(c("start_date"))) if s.has("start_date") else "CAST(NULL AS TIMESTAMP)")
                  + " AS start_date",
                  (v.plausible(v.timestamp(c("end_date"))) if s.has("end_date") else "CAST(NULL AS TIMESTAMP)")
                  + " AS end_date",
                  (v.flag(c("active")) if s.has("active") else "CAST(NULL AS BOOLEAN)") + " AS active",
                  "email" if s.has("email") else "CAST(NULL AS VARCHAR) AS email"]
        select += [c(x) for x in extras]
        frame = self.b.frame(f"SELECT {', '.join(select)} FROM {self.b.numbered(s.view)} AS r ORDER BY _i")
        for col in ("start_date", "end_date"):
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[s]")
        frame["active"] = frame["active"].astype(object).where(frame["active"].notna(), None)
        for col in ("rep_id", "name", "role", "team", "division", "manager", "email", *extras):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame.reset_index(drop=True)

    def _goals_frame(self) -> pd.DataFrame:
        s = self.sources.get("goals")
        if s is None:
            return pd.DataFrame({"rep": np.array([], np.int32), "period": np.array([], object),
                                 "metric": np.array([], object), "target": np.array([], float)})
        frame = self.b.frame(f"SELECT rc.rep, g.period, g.metric, {v.number('g.target')} AS target "
                             f"FROM {self.b.numbered(s.view)} AS g JOIN rep_codes rc ON rc.rep_id = g.rep_id ORDER BY _i")
        frame["rep"] = frame["rep"].astype(np.int32)
        frame["period"] = frame["period"].astype(object)
        frame["metric"] = frame["metric"].astype(object)
        return frame

def finish(b: Backend, p: Pipeline, reps: pd.DataFrame, goals: pd.DataFrame, rows: dict[str, int],
           warnings: list[str], source: str, has_amount: bool, has_activities: bool) -> Dataset:
    """The Dataset of typed tables already in the engine: its coverage and dates."""
    warnings = list(warnings)
    row = b.rows("""SELECT count_if(status = 2 AND loss_reason IS NOT NULL), count_if(status = 1 AND amount IS NOT NULL),
                           count_if(status = 0 AND close IS NOT NULL), count_if(status = 2 AND furthest IS NOT NULL),
                           count_if(source_rep IS NOT NULL) FROM opps""")[0]
    types = b.frame("SELECT DISTINCT type FROM act_daily")["type"].dropna().astype(int).tolist()
    coverage = Coverage(
        stage_history=bool(b.scalar("SELECT count(*) FROM history")), activities=has_activities,
        activity_types=frozenset(p.activity_type_ids[t] for t in types),
        talk_time=bool(b.scalar("SELECT coalesce(sum(timed), 0) FROM act_daily")),
        loss_reasons=bool(row[0]), amounts=bool(row[1]) and has_amount, expected_close=bool(row[2]),
        lost_stages=bool(row[3]), sourced_by=bool(row[4]), goals=frozenset(goals["metric"].dropna().unique()))
    first, last, as_of = _dates(b, warnings)
    return Dataset(backend=b, reps=reps, goals=goals, stages=tuple(p.all_stages),
                   activity_types=tuple(p.activity_type_ids),
                   n_opportunities=int(b.scalar("SELECT count(*) FROM opps")), coverage=coverage,
                   as_of=as_of, first_date=first, last_date=last, source=source, rows=dict(rows),
                   warnings=tuple(warnings))


def _dates(b: Backend, warnings: list[str]) -> tuple[pd.Timestamp | None, pd.Timestamp | None, pd.Timestamp | None]:
    """(first date, last date, as-of day) of the data; warns of done work dated after the as-of."""
    days = b.frame("""
        SELECT day, sum(n) AS n FROM (
            SELECT day, n FROM act_daily
            UNION ALL SELECT CAST(created AS DATE), 1 FROM opps WHERE created IS NOT NULL
            UNION ALL SELECT CAST(close AS DATE), 1 FROM opps WHERE status != 0 AND close IS NOT NULL
            UNION ALL SELECT CAST(entered AS DATE), 1 FROM history WHERE entered IS NOT NULL)
        GROUP BY day ORDER BY day""")
    if days.empty:
        return None, None, None
    day = pd.to_datetime(days["day"]).to_numpy(dtype="datetime64[D]")
    as_of = robust_last_day(day, days["n"].to_numpy(dtype=float))
    expected = b.scalar("SELECT max(close) FROM opps WHERE status = 0")
    last = max(pd.Timestamp(day[-1]), pd.Timestamp(expected)) if expected is not None else pd.Timestamp(day[-1])
    after = b.rows(f"""SELECT 'activities', sum(n), max(day) FROM act_daily WHERE day > DATE '{as_of}'
                       UNION ALL SELECT 'opportunities created', count(*), max(CAST(created AS DATE)) FROM opps
                           WHERE CAST(created AS DATE) > DATE '{as_of}'
                       UNION ALL SELECT 'deals closed', count(*), max(CAST(close AS DATE)) FROM opps
                           WHERE status != 0 AND CAST(close AS DATE) > DATE '{as_of}'
                       UNION ALL SELECT 'stage changes', count(*), max(CAST(entered AS DATE)) FROM history
                           WHERE CAST(entered AS DATE) > DATE '{as_of}'""")
    for what, n, latest in after:
        if n:
            warnings.append(
                f"{int(n):,} {what} dated after the data's last day of work ({pd.Timestamp(as_of).date()}), "
                f"the latest on {pd.Timestamp(latest).date()}: not counted in any month")
    return pd.Timestamp(day[0]), last, pd.Timestamp(as_of)




def robust_last_day(days: np.ndarray, counts: np.ndarray) -> np.datetime64:
    """The last day of done work, not moved by a few outlying rows.

    Trailing days are set aside while they are (a) far from the rest (more than
    OUTLIER_GAP_DAYS after the previous day with events) and hold less than OUTLIER_SHARE
    of all events, or (b) sparse: fewer events than SPARSE_DAY_SHARE of a usual day (the
    median of the days with events in the 8 weeks before). A mistyped year, or a few rows
    dated ahead, leave the as-of date where the work stops.
    """
    days = np.asarray(days, dtype="datetime64[D]")
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    i = len(days) - 1
    while i > 0:
        gap = (days[i] - days[i - 1]).astype(int)
        if gap > OUTLIER_GAP_DAYS:
            tail = counts[i:].sum()
            if tail < OUTLIER_SHARE * total:
                i -= 1
                continue
        window = counts[(days >= days[i] - np.timedelta64(56, "D")) & (days < days[i])]
        usual = np.median(window) if len(window) >= 5 else np.median(counts[:i])
        if counts[i] < SPARSE_DAY_SHARE * usual:
            i -= 1
            continue
        break
    return days[i]


def _same_file(path: Path, named: str) -> bool:
    try:
        return Path(named).resolve() == path.resolve()
    except (OSError, ValueError):
        return False


def _index_case(values: list[str]) -> str:
    """SQL mapping the text `{x}` to its position in `values` (NULL when not one of them)."""
    whens = " ".join(f"WHEN {quote_text(s)} THEN {i}" for i, s in enumerate(values))
    return "(CASE {x} " + whens.replace("{", "{{").replace("}", "}}") + " END)"


def _reason_sql(column: str) -> str:
    """A loss reason as an id: lower case, spaces and hyphens as underscores."""
    return f"regexp_replace(lower(trim({c(column)})), '[\\s\\-]+', '_', 'g')"


def dataset_from_frames(pipeline: Pipeline, reps: pd.DataFrame, opportunities: pd.DataFrame,
                        activities: pd.DataFrame | None = None, stage_history: pd.DataFrame | None = None,
                        goals: pd.DataFrame | None = None, engine: str | None = None) -> Dataset:
    """A Dataset from frames already typed and coded, without validation (tests, generators).

    reps: the columns of reps.csv, one row per rep code; opportunities: opp, rep, source_rep
    (-1: none), created, close, status (open/won/lost), furthest (stage index, -1 unknown),
    amount, loss_reason; stage_history: opp, stage (index), entered; activities: rep, date,
    type (index), duration (minutes), opp (-1: none); goals: rep, period, metric, target.
    """
    p = pipeline
    b = make_backend(engine)
    try:
        reps = reps.copy()
        for col in ("manager", "email"):
            if col not in reps:
                reps[col] = None
        for col in ("start_date", "end_date"):
            reps[col] = pd.to_datetime(reps[col]).astype("datetime64[s]") if col in reps else \
                pd.Series(np.full(len(reps), np.datetime64("NaT", "s")))
        reps["active"] = reps["active"].astype(object) if "active" in reps else None
        o = opportunities
        status = pd.Series(np.asarray(o["status"], dtype=object)).map({"open": 0, "won": 1, "lost": 2})
        furthest = np.asarray(o["furthest"], dtype=float)
        frame = pd.DataFrame({
            "opp": np.arange(len(o), dtype=np.int32),
            "opportunity_id": o["opportunity_id"].to_numpy(dtype=object) if "opportunity_id" in o
            else np.array([f"O{i}" for i in range(len(o))], dtype=object),
            "rep": np.asarray(o["rep"], dtype=np.int32),
            "source_rep": pd.array(np.where(np.asarray(o.get("source_rep", np.full(len(o), -1))) >= 0,
                                            np.asarray(o.get("source_rep", np.full(len(o), -1))), -1),
                                   dtype="Int32").astype(object),
            "created": pd.to_datetime(o["created"]), "close": pd.to_datetime(o["close"]),
            "status": status.to_numpy(dtype=np.int8),
            "stage": pd.array(np.where(furthest >= 0, furthest, np.nan), dtype="Float64").astype("Int8"),
            "amount": np.asarray(o["amount"], dtype=float),
            "loss_reason": pd.Series(np.asarray(o.get("loss_reason", [None] * len(o)), dtype=object)),
            "account": pd.Series(np.asarray(o.get("account", [None] * len(o)), dtype=object)),
        })
        frame["source_rep"] = frame["source_rep"].where(frame["source_rep"] != -1, None)
        b.register("opps_raw", frame)
        h = stage_history if stage_history is not None else pd.DataFrame({"opp": [], "stage": [], "entered": []})
        b.register("history_raw", pd.DataFrame({"opp": np.asarray(h["opp"], dtype=np.int32),
                                                "stage": np.asarray(h["stage"], dtype=np.int8),
                                                "entered": pd.to_datetime(h["entered"])}))
        b.table("history", """WITH s AS (SELECT *, lag(stage) OVER (PARTITION BY opp ORDER BY entered, stage) AS prev
                                         FROM history_raw)
                              SELECT opp, stage, entered FROM s WHERE prev IS NULL OR prev != stage""")
        b.table("opps", """SELECT o.*, CAST(CASE WHEN hm.top IS NULL THEN o.stage WHEN o.stage IS NULL THEN hm.top
                                               ELSE greatest(o.stage, hm.top) END AS TINYINT) AS furthest
                           FROM opps_raw o LEFT JOIN (SELECT opp, max(stage) AS top FROM history GROUP BY opp) hm
                           USING (opp) ORDER BY o.opp""")
        a = activities if activities is not None else pd.DataFrame({"rep": [], "date": [], "type": [],
                                                                     "duration": [], "opp": []})
        phone = np.array([t.phone for t in p.activity_types])
        types = np.asarray(a["type"], dtype=np.int64)
        b.register("acts_raw", pd.DataFrame({
            "rep": np.asarray(a["rep"], dtype=np.int32), "day": pd.to_datetime(a["date"]).dt.normalize(),
            "type": types.astype(np.int8), "minutes": np.asarray(a["duration"], dtype=float),
            "phone": phone[types] if len(types) else np.array([], bool),
            "opp": np.asarray(a["opp"], dtype=np.int32)}))
        b.table("act_daily", """SELECT rep, CAST(day AS DATE) AS day, type, count(*) AS n,
                                       sum(CASE WHEN phone THEN coalesce(minutes, 0) ELSE 0 END) AS talk,
                                       count_if(phone AND minutes IS NOT NULL) AS timed
                                FROM acts_raw GROUP BY ALL""")
        b.table("opp_daily", "SELECT opp, CAST(day AS DATE) AS day, count(*) AS n FROM acts_raw WHERE opp >= 0 GROUP BY ALL")
        for name in ("opps_raw", "history_raw", "acts_raw"):
            b.drop(name)
        if goals is None:
            goals = pd.DataFrame({"rep": np.array([], np.int32), "period": np.array([], object),
                                  "metric": np.array([], object), "target": np.array([], float)})
        rows = {"reps": len(reps), "opportunities": len(o), "stage_history": len(h), "activities": len(a),
                "goals": len(goals)}
        return finish(b, p, reps.reset_index(drop=True), goals, rows, [], "frames", has_amount=True,
                      has_activities=len(a) > 0)
    except BaseException:
        b.close()
        raise
