"""Check a dataset against the contract and build typed frames, all or nothing.

`load_dataset` either returns a `Dataset` or raises `DatasetError` listing every
problem of every file (file, row as in the file, column, value, expected).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from ..catalog.specs import Pipeline
from ..errors import DatasetError, Problem, did_you_mean
from ..metrics.registry import MetricRegistry
from .columns import Issues, check_enum, encoded, parse_dates, parse_numbers, require
from .contract import FILES, REPS, STATUSES
from .model import Dataset
from .reader import find_file, read_table

Progress = Callable[[str], None]
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def load_dataset(folder: Path | str, pipeline: Pipeline, progress: Progress | None = None) -> Dataset:
    """Read and validate the dataset in `folder`; raise DatasetError with every problem."""
    folder = Path(folder)
    say = progress or (lambda _msg: None)
    if not folder.is_dir():
        raise DatasetError([Problem(file=str(folder), message="not a folder",
                                    expected="a folder of CSV or Parquet files")])
    problems: list[Problem] = []
    tables: dict[str, pa.Table] = {}
    names: dict[str, str] = {}
    for spec in FILES:
        path, found = find_file(folder, spec)
        problems += found
        if path is None:
            if spec.required and not found:
                problems.append(Problem(file=f"{spec.stem}.csv", message="required file is missing",
                                        expected=f"{spec.stem}.csv or {spec.stem}.parquet"))
            continue
        say(f"reading {path.name}")
        table, read_problems = read_table(path, spec)
        problems += read_problems
        if table is None:
            continue
        missing = [c for c in spec.required_columns if c not in table.column_names]
        for c in missing:
            problems.append(Problem(file=path.name, row=1, column=c, message="required column is missing",
                                    suggestion=did_you_mean(c, table.column_names)))
        if missing:
            continue
        tables[spec.stem] = table
        names[spec.stem] = path.name
    if "reps" not in tables or "opportunities" not in tables:
        raise DatasetError(problems or [Problem(file=str(folder), message="no usable files")])
    say("checking values")
    builder = _Builder(pipeline, tables, names)
    dataset = builder.build(str(folder))
    problems += builder.problems
    if problems:
        say(f"refused: {len(problems)} problems, done")
        raise DatasetError(problems)
    say(f"{dataset.n_reps:,} reps, {sum(dataset.rows.values()):,} rows loaded: done")
    return dataset


class _Builder:
    def __init__(self, pipeline: Pipeline, tables: dict[str, pa.Table], names: dict[str, str]):
        self.p = pipeline
        self.tables = tables
        self.names = names
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def issues(self, stem: str) -> Issues:
        issues = Issues(self.names.get(stem, f"{stem}.csv"))
        self.problems_sources.append(issues)
        return issues

    def build(self, source: str) -> Dataset:
        self.problems_sources: list[Issues] = []
        reps = self.reps()
        rep_index = pd.Index(reps["rep_id"])
        opps, opp_ids = self.opportunities(rep_index)
        opp_index = pd.Index(opp_ids)
        history = self.stage_history(opp_index)
        activities = self.activities(rep_index, opp_index)
        goals = self.goals(rep_index)
        self.problems = [p for i in self.problems_sources for p in i.problems]
        if len(opps) and len(history):
            # the furthest stage: from the history where present, never below `stage`
            furthest = history.groupby("opp")["stage"].max()
            cur = opps["furthest"].to_numpy().copy()
            idx = furthest.index.to_numpy()
            cur[idx] = np.maximum(cur[idx], furthest.to_numpy().astype(cur.dtype))
            opps["furthest"] = cur
        return Dataset(
            reps=reps, opportunities=opps, stage_history=history, activities=activities,
            goals=goals, opportunity_ids=opp_ids, stages=tuple(self.p.all_stages),
            activity_types=tuple(self.p.activity_type_ids), source=source,
            rows={stem: t.num_rows for stem, t in self.tables.items()},
            warnings=tuple(self.warnings))

    # ---------------------------------------------------------------- helpers
    def _ids(self, stem: str, table: pa.Table, column: str, issues: Issues, required: bool,
             known: pd.Index | None = None, what: str = "") -> np.ndarray:
        """Codes into `known` (-1 null/unknown) for an id column; unknown ids reported."""
        if column not in table.column_names:
            return np.full(table.num_rows, -1, dtype=np.int32)
        codes, values = encoded(table[column])
        values = np.array([str(v).strip() for v in values], dtype=object)
        if required:
            require(codes, column, issues)
        if known is None:
            return codes
        if not known.is_unique:   # duplicates are reported already: the dataset is refused
            known = known.drop_duplicates()
        pos = known.get_indexer(values)
        if (pos < 0).any():
            choices = list(known[:5000])
            issues.coded(codes, pos < 0, values, column, f"unknown {what}",
                         expected=f"an id listed in {self._file_of(what)}",
                         suggest=lambda v: did_you_mean(v, choices))
        mapping = np.append(pos, -1).astype(np.int32)
        return mapping[codes]

    def _file_of(self, what: str) -> str:
        return self.names.get("reps", "reps.csv") if what == "rep" else \
            self.names.get("opportunities", "opportunities.csv")

    def _text(self, table: pa.Table, column: str) -> pd.Series | None:
        if column not in table.column_names:
            return None
        arr = table[column]
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(pa.string())
        return pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)

    def _enum(self, table, column, allowed, issues, what, required=True) -> np.ndarray:
        codes, values = encoded(table[column])
        if required:
            require(codes, column, issues)
        return check_enum(codes, values, allowed, column, issues, what)

    # ---------------------------------------------------------------- reps
    def reps(self) -> pd.DataFrame:
        t, issues = self.tables["reps"], self.issues("reps")
        out = {}
        for c in ("rep_id", "name", "team", "division"):
            s = self._text(t, c).str.strip()
            require(None, c, issues, is_null=(s.isna() | (s == "")).to_numpy())
            out[c] = s
        dup = out["rep_id"].duplicated(keep="first") & out["rep_id"].notna()
        if dup.any():
            issues.rows(dup.to_numpy(), "rep_id", "duplicate id", values=out["rep_id"].to_numpy(),
                        expected="each rep_id once")
        role = self._enum(t, "role", self.p.role_ids, issues, "role")
        out["role"] = pd.Series(np.array(self.p.role_ids + [None], dtype=object)[role])
        for c in ("manager", "email"):
            s = self._text(t, c)
            out[c] = s if s is not None else pd.Series([None] * t.num_rows, dtype=object)
        if "start_date" in t.column_names:
            out["start_date"] = parse_dates(t["start_date"], "start_date", issues)
        else:
            out["start_date"] = np.full(t.num_rows, np.datetime64("NaT", "s"))
        frame = pd.DataFrame(out)
        for extra in t.column_names:
            if extra not in frame.columns and REPS.column(extra) is None:
                frame[extra] = self._text(t, extra)
        return frame.drop_duplicates("rep_id").reset_index(drop=True) if dup.any() else frame

    # ---------------------------------------------------------------- opportunities
    def opportunities(self, reps: pd.Index) -> tuple[pd.DataFrame, np.ndarray]:
        t, issues = self.tables["opportunities"], self.issues("opportunities")
        n = t.num_rows
        ids = self._text(t, "opportunity_id").str.strip()
        require(None, "opportunity_id", issues, is_null=(ids.isna() | (ids == "")).to_numpy())
        dup = ids.duplicated(keep="first") & ids.notna()
        if dup.any():
            issues.rows(dup.to_numpy(), "opportunity_id", "duplicate id", values=ids.to_numpy(),
                        expected="each opportunity_id once")
        rep = self._ids("opportunities", t, "rep_id", issues, True, reps, "rep")
        source = self._ids("opportunities", t, "source_rep_id", issues, False, reps, "rep")
        created = parse_dates(t["created_date"], "created_date", issues)
        require(None, "created_date", issues, is_null=_null_raw(t, "created_date"))
        close = parse_dates(t["close_date"], "close_date", issues) if "close_date" in t.column_names \
            else np.full(n, np.datetime64("NaT", "s"))
        status = self._enum(t, "status", list(STATUSES), issues, "status")
        stage = self._enum(t, "stage", self.p.all_stages, issues, "stage")
        amount = parse_numbers(t["amount"], "amount", issues, non_negative=True) \
            if "amount" in t.column_names else np.zeros(n)
        won_idx = len(self.p.all_stages) - 1
        bad = (close < created) & ~np.isnat(close) & ~np.isnat(created)
        if bad.any():
            issues.rows(bad, "close_date", "closes before it was created",
                        values=np.datetime_as_string(close, unit="D"),
                        expected="a close_date on or after created_date")
        s_won, s_lost = status == 1, status == 2
        mismatch = (s_won & (stage >= 0) & (stage != won_idx)) | (~s_won & (status >= 0) & (stage == won_idx))
        if mismatch.any():
            issues.rows(mismatch, "stage", "stage and status disagree", values=_col_values(t, "stage"),
                        expected=f"stage {self.p.won_stage} exactly when status is won")
        closed_no_date = (s_won | s_lost) & _null_raw(t, "close_date", default=True)
        if closed_no_date.any():
            self.warnings.append(f"{issues.file}: {int(closed_no_date.sum()):,} won or lost "
                                 "opportunities have no close_date; they count in no time window")
        loss = self._text(t, "loss_reason")
        if loss is not None:
            loss = loss.str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True)
            loss = loss.where(s_lost, None)
            unknown = sorted(set(loss.dropna().unique()) - set(self.p.loss_reasons))
            if unknown:
                self.warnings.append(f"{issues.file}: loss reasons not known to the catalog "
                                     f"(measured, but no coaching flow reads them): {', '.join(unknown)}")
        else:
            loss = pd.Series([None] * n, dtype=object)
        frame = pd.DataFrame({
            "opp": np.arange(n, dtype=np.int32), "rep": rep, "source_rep": source,
            "created": created, "close": close,
            "status": pd.Categorical.from_codes(status.clip(-1), categories=list(STATUSES)),
            "furthest": stage.astype(np.int8), "amount": np.nan_to_num(amount, nan=0.0),
            "loss_reason": pd.Categorical(loss), "account": self._text(t, "account"),
        })
        return frame, ids.to_numpy(dtype=object)

    # ---------------------------------------------------------------- stage history
    def stage_history(self, opps: pd.Index) -> pd.DataFrame:
        if "stage_history" not in self.tables:
            return pd.DataFrame({"opp": np.array([], np.int32), "stage": np.array([], np.int8),
                                 "entered": np.array([], "datetime64[s]")})
        t, issues = self.tables["stage_history"], self.issues("stage_history")
        opp = self._ids("stage_history", t, "opportunity_id", issues, True, opps, "opportunity")
        stage = self._enum(t, "stage", self.p.all_stages, issues, "stage")
        entered = parse_dates(t["entered_date"], "entered_date", issues)
        require(None, "entered_date", issues, is_null=_null_raw(t, "entered_date"))
        keep = (opp >= 0) & (stage >= 0) & ~np.isnat(entered)
        return pd.DataFrame({"opp": opp[keep], "stage": stage[keep].astype(np.int8),
                             "entered": entered[keep]})

    # ---------------------------------------------------------------- activities
    def activities(self, reps: pd.Index, opps: pd.Index) -> pd.DataFrame:
        if "activities" not in self.tables:
            return pd.DataFrame({"rep": np.array([], np.int32), "date": np.array([], "datetime64[s]"),
                                 "type": np.array([], np.int8), "duration": np.array([], np.float32),
                                 "opp": np.array([], np.int32)})
        t, issues = self.tables["activities"], self.issues("activities")
        rep = self._ids("activities", t, "rep_id", issues, True, reps, "rep")
        date = parse_dates(t["date"], "date", issues)
        require(None, "date", issues, is_null=_null_raw(t, "date"))
        kind = self._enum(t, "type", self.p.activity_type_ids, issues, "activity type")
        duration = parse_numbers(t["duration_minutes"], "duration_minutes", issues, non_negative=True) \
            if "duration_minutes" in t.column_names else np.zeros(t.num_rows)
        opp = self._ids("activities", t, "opportunity_id", issues, False, opps, "opportunity")
        if "activity_id" in t.column_names:
            ids = pd.Series(t["activity_id"].to_pandas(types_mapper=pd.ArrowDtype))
            dup = (ids.duplicated(keep="first") & ids.notna()).to_numpy()
            if dup.any():
                issues.rows(dup, "activity_id", "duplicate id", values=ids.to_numpy(dtype=object),
                            expected="each activity_id once")
        return pd.DataFrame({"rep": rep, "date": date, "type": kind.astype(np.int8),
                             "duration": np.nan_to_num(duration, nan=0.0).astype(np.float32),
                             "opp": opp})

    # ---------------------------------------------------------------- goals
    def goals(self, reps: pd.Index) -> pd.DataFrame:
        if "goals" not in self.tables:
            return pd.DataFrame({"rep": np.array([], np.int32), "period": np.array([], object),
                                 "metric": np.array([], object), "target": np.array([], float)})
        t, issues = self.tables["goals"], self.issues("goals")
        rep = self._ids("goals", t, "rep_id", issues, True, reps, "rep")
        pcodes, pvalues = encoded(t["period"])
        require(pcodes, "period", issues)
        pvalues = np.array([str(v).strip() for v in pvalues], dtype=object)
        issues.coded(pcodes, np.array([not _PERIOD.match(v) for v in pvalues], dtype=bool), pvalues,
                     "period", "not a month", expected="YYYY-MM")
        mcodes, mvalues = encoded(t["metric"])
        require(mcodes, "metric", issues)
        registry = MetricRegistry(self.p)
        issues.coded(mcodes, np.array([v not in registry for v in mvalues], dtype=bool), mvalues,
                     "metric", "unknown metric id", expected="a metric id of the data contract",
                     suggest=lambda v: did_you_mean(v, registry.ids()))
        target = parse_numbers(t["target"], "target", issues, non_negative=False)
        require(None, "target", issues, is_null=np.isnan(target) & _null_raw(t, "target"))
        frame = pd.DataFrame({
            "rep": rep, "period": np.append(pvalues, None)[pcodes],
            "metric": np.append(np.asarray(mvalues, dtype=object), None)[mcodes], "target": target})
        dup = frame.duplicated(["rep", "period", "metric"], keep="first") & (frame["rep"] >= 0)
        if dup.any():
            issues.rows(dup.to_numpy(), "metric", "a second goal for the same rep, period and metric",
                        values=frame["metric"].to_numpy(), expected="one target per rep, period and metric")
        return frame


def _null_raw(t: pa.Table, column: str, default: bool = False) -> np.ndarray:
    if column not in t.column_names:
        return np.full(t.num_rows, default)
    return t[column].is_null().to_numpy(zero_copy_only=False)


def _col_values(t: pa.Table, column: str) -> np.ndarray:
    arr = t[column]
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(pa.string())
    return arr.to_numpy(zero_copy_only=False)
