"""The heavy aggregates of one period, as SQL over a dataset's typed tables.

Written once, in DuckDB's dialect; any backend runs them (Spark through sqlglot). Each
returns a small pandas frame (per rep, per rep and stage, per open opportunity) that the
metric code turns into arrays. Tables (engine.dataset.model): opps, history, act_daily,
opp_daily. Windows are [start, end) timestamps.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .backend import Backend


def ts(value) -> str:
    """A timestamp literal."""
    return f"TIMESTAMP '{pd.Timestamp(value).strftime('%Y-%m-%d %H:%M:%S')}'"


def day(value) -> str:
    return f"DATE '{pd.Timestamp(value).strftime('%Y-%m-%d')}'"


def between(column: str, window) -> str:
    return f"({column} >= {ts(window[0])} AND {column} < {ts(window[1])})"


def closed_deals(b: Backend, window) -> pd.DataFrame:
    """Deals closed in the window, per rep, furthest stage (-1 unknown), status and loss reason."""
    return b.frame(f"""
        SELECT rep, coalesce(furthest, -1) AS furthest, status, loss_reason, count(*) AS n,
               coalesce(sum(amount), 0) AS amount, count(amount) AS with_amount,
               sum(date_diff('second', created, close)) / 86400.0 AS cycle_days
        FROM opps WHERE status != 0 AND {between('close', window)} AND rep IS NOT NULL
        GROUP BY ALL""")


def won_in(b: Backend, window) -> pd.DataFrame:
    """Won deals closed in the window per rep: count, revenue (known amounts), with an amount."""
    return b.frame(f"""
        SELECT rep, count(*) AS n, coalesce(sum(amount), 0) AS revenue, count(amount) AS with_amount
        FROM opps WHERE status = 1 AND {between('close', window)} GROUP BY rep""")


def created_in(b: Backend, window) -> pd.DataFrame:
    """Opportunities created in the window: per owner, and per prospector who sourced them."""
    return b.frame(f"""
        SELECT rep, count(*) AS n, 'owned' AS how FROM opps WHERE {between('created', window)} GROUP BY rep
        UNION ALL
        SELECT source_rep, count(*), 'sourced' FROM opps
        WHERE {between('created', window)} AND source_rep IS NOT NULL AND source_rep != rep GROUP BY source_rep""")


def stage_entries(b: Backend, window, won_stage: int) -> pd.DataFrame:
    """Opportunities that entered each stage in the window, per rep.

    From the stage history; an opportunity without history enters the first stage when
    created, and the won stage when it closes won.
    """
    return b.frame(f"""
        WITH hist AS (SELECT DISTINCT h.opp, h.stage FROM history h WHERE {between('h.entered', window)}),
             has_h AS (SELECT DISTINCT opp FROM history),
             won_h AS (SELECT DISTINCT opp FROM history WHERE stage = {won_stage})
        SELECT o.rep, hist.stage, count(*) AS n FROM hist JOIN opps o USING (opp) GROUP BY ALL
        UNION ALL
        SELECT rep, 0, count(*) FROM opps WHERE {between('created', window)}
            AND opp NOT IN (SELECT opp FROM has_h) GROUP BY rep
        UNION ALL
        SELECT rep, {won_stage}, count(*) FROM opps WHERE status = 1 AND {between('close', window)}
            AND opp NOT IN (SELECT opp FROM won_h) GROUP BY rep""")


def passages(b: Backend, window, won_stage: int) -> pd.DataFrame:
    """Time spent in each stage by each opportunity, for passages that ended in the window.

    A passage ends when the next stage is entered, or at close for the last stage of a
    closed opportunity. The won stage is an end, not a passage.
    """
    return b.frame(f"""
        WITH p AS (
            SELECT h.opp, h.stage, h.entered, o.rep, o.status,
                   coalesce(lead(h.entered) OVER (PARTITION BY h.opp ORDER BY h.entered, h.stage),
                            CASE WHEN o.status != 0 THEN o.close END) AS exited
            FROM history h JOIN opps o USING (opp))
        SELECT rep, stage, greatest(date_diff('second', entered, exited) / 86400.0, 0.0) AS days, status = 1 AS won
        FROM p WHERE stage != {won_stage} AND exited IS NOT NULL AND {between('exited', window)}
            AND rep IS NOT NULL
        ORDER BY opp, entered""")


def won_profile(b: Backend, as_of, size_q: float, age_q: float) -> tuple[float, float]:
    """(the size_q quantile of won amounts, the age_q quantile of won deals' age at close), before as_of."""
    row = b.rows(f"""
        SELECT quantile_cont(amount, {size_q}), quantile_cont(date_diff('second', created, close) / 86400.0, {age_q})
        FROM opps WHERE status = 1 AND close IS NOT NULL AND close < {ts(as_of)}""")[0]
    return (np.inf if row[0] is None else float(row[0])), (np.inf if row[1] is None else float(row[1]))


def open_at(b: Backend, as_of, won_stage: int) -> pd.DataFrame:
    """Opportunities open at as_of: current stage and since when, age, amount, effort so far."""
    return b.frame(f"""
        WITH o AS (
            SELECT * FROM opps
            WHERE created < {ts(as_of)} AND rep IS NOT NULL
              AND (status = 0 OR (close IS NOT NULL AND close >= {ts(as_of)}))),
        last AS (
            SELECT opp, arg_max(stage, entered) AS stage, max(entered) AS since
            FROM history WHERE entered < {ts(as_of)} AND opp IN (SELECT opp FROM o) GROUP BY opp),
        effort AS (
            SELECT opp, sum(n) AS n FROM opp_daily WHERE day < {day(as_of)} AND opp IN (SELECT opp FROM o)
            GROUP BY opp)
        SELECT o.opp, o.opportunity_id, o.rep,
               CAST(least(greatest(coalesce(last.stage, o.furthest, 0), 0), {won_stage - 1}) AS INTEGER) AS stage,
               last.since IS NOT NULL AS has_history,
               coalesce(last.since, o.created) AS since, o.amount, o.close AS expected_close, o.created,
               coalesce(effort.n, 0) AS activities
        FROM o LEFT JOIN last USING (opp) LEFT JOIN effort USING (opp)
        ORDER BY o.opp""")


def activity_days(b: Backend, start, end) -> pd.DataFrame:
    """Activities per rep, day and type in [start, end), with talk minutes."""
    return b.frame(f"""
        SELECT rep, day, type, n, talk FROM act_daily
        WHERE day >= {day(start)} AND day < {day(end)}""")


def results_by_month(b: Backend, start, end) -> pd.DataFrame:
    """Per rep and calendar month in [start, end): won, lost, revenue (by close), created (by creation)."""
    return b.frame(f"""
        SELECT rep, date_trunc('month', close) AS month,
               count_if(status = 1) AS won, count_if(status = 2) AS lost,
               coalesce(sum(CASE WHEN status = 1 THEN amount END), 0) AS revenue, 0 AS created
        FROM opps WHERE status != 0 AND {between('close', (start, end))} GROUP BY ALL
        UNION ALL
        SELECT rep, date_trunc('month', created), 0, 0, 0, count(*) FROM opps
        WHERE {between('created', (start, end))} GROUP BY ALL
        UNION ALL
        SELECT source_rep, date_trunc('month', created), 0, 0, 0, count(*) FROM opps
        WHERE {between('created', (start, end))} AND source_rep IS NOT NULL AND source_rep != rep GROUP BY ALL""")


def loss_reasons(b: Backend) -> list[str]:
    """Every loss reason some lost deal carries."""
    return sorted(b.frame("SELECT DISTINCT loss_reason FROM opps WHERE loss_reason IS NOT NULL")["loss_reason"])
