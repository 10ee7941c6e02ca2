"""Load an export folder into a SQL database, one typed table per file, as a warehouse holds it.

    from exports.load_warehouse import load
    load("/tmp/sf-sync", "postgresql+psycopg://postgres@/db?host=/tmp&port=55439", schema="salesforce")

    python tests/exports/load_warehouse.py FOLDER URL [--schema SCHEMA]

Table names are the files' stems as a sync names tables (`opportunity`, `deal_stage`;
`Opportunity.csv` becomes `opportunity`, `OpportunityHistory.csv` `opportunity_history`),
column names likewise in snake_case (`StageName` -> `stage_name`, `Loss_Reason__c` ->
`loss_reason_c`, `Opportunity ID` -> `opportunity_id`). Each column is typed from its
values: booleans, integers (BIGINT), decimals (DOUBLE PRECISION), money ($12,000.00 as
NUMERIC(14,2)), UTC timestamps (TIMESTAMP WITH TIME ZONE), local date-times (TIMESTAMP),
dates (DATE; US dates too), else TEXT; empty fields are NULL. Report footers are cut off.
Tables are replaced. On PostgreSQL (psycopg) rows go in with COPY; elsewhere by INSERT.
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from datetime import timezone
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

PATTERNS = {   # a column's kind when every non-empty value matches
    "boolean": r"(?i:true|false)",
    "integer": r"-?\d{1,18}",
    "decimal": r"-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)",
    "money": r"-?\$-?[\d,]+(\.\d+)?",
    "utc": r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z| UTC|[+-]\d\d:?\d\d)",
    "local": r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?",
    "us_local": r"\d{1,2}/\d{1,2}/\d{4},? \d{1,2}:\d\d( [AP]M)?",
    "date": r"\d{4}-\d\d-\d\d",
    "us_date": r"\d{1,2}/\d{1,2}/\d{4}",
}
SQL_TYPES = {
    "boolean": sa.Boolean(), "integer": sa.BigInteger(), "decimal": sa.Float(precision=53),
    "money": sa.Numeric(14, 2), "utc": sa.DateTime(timezone=True), "local": sa.DateTime(),
    "us_local": sa.DateTime(), "date": sa.Date(), "us_date": sa.Date(), "text": sa.Text(),
}


def table_name(stem: str) -> str:
    return snake(stem)


def snake(name: str) -> str:
    """A table or column name as a sync writes it."""
    if re.fullmatch(r"[a-z0-9_]+", name):
        return name
    s = name.replace("__c", "_c") if not name.isupper() else name.lower().replace("__c", "_c")
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", s)
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s).strip("_").lower()
    return re.sub(r"_+", "_", s) or "column"


def read_file(path: Path) -> pd.DataFrame:
    """A CSV file as text columns, '' for empty, with a report's footer cut off."""
    raw = path.read_text(encoding="utf-8")
    cut = raw.find('\n""\n')
    if cut >= 0:
        raw = raw[:cut + 1]
    return pd.read_csv(io.StringIO(raw), dtype=str, keep_default_na=False)


def kind_of(values: pd.Series) -> str:
    """The kind of a text column, from its non-empty values."""
    v = values[values != ""]
    if v.empty:
        return "text"
    sample = v.drop_duplicates()
    if len(sample) > 5000:
        sample = pd.concat([sample.iloc[:2500], sample.iloc[-2500:]])

    def every(pattern: str, s=sample) -> bool:
        return bool(s.str.fullmatch(pattern).all())

    for kind in ("boolean", "integer"):
        if every(PATTERNS[kind]):
            return kind
    if every(f"({PATTERNS['integer']})|({PATTERNS['decimal']})"):
        return "decimal"
    for kind in ("money", "utc", "date", "us_date", "us_local"):
        if every(PATTERNS[kind]):
            return kind
    if every(f"({PATTERNS['local']})|({PATTERNS['date']})"):
        return "local"
    return "text"


def typed(values: pd.Series, kind: str) -> list:
    """Python values of a text column: bool, int, float, Decimal-ready float, datetime
    (aware in UTC for 'utc'), date, str; None for empty."""
    empty = (values == "").to_numpy()
    filler = {"integer": "0", "decimal": "0", "money": "0", "utc": "1970-01-01 00:00:00",
              "local": "1970-01-01 00:00", "us_local": "1/1/1970 12:00 AM", "date": "1970-01-01",
              "us_date": "1/1/1970"}.get(kind, "")
    v = values.where(~empty, filler) if filler else values
    if kind == "boolean":
        out = v.str.lower().eq("true").tolist()
    elif kind == "integer":
        out = pd.to_numeric(v).astype(np.int64).tolist()
    elif kind in ("decimal", "money"):
        out = pd.to_numeric(v.str.replace(r"[$,]", "", regex=True)).astype(float).tolist()
    elif kind == "utc":
        text = v.str.replace(" UTC", "", regex=False).str.replace("Z", "", regex=False) \
            .str.replace("T", " ", regex=False)
        naive = pd.to_datetime(text, format="ISO8601").to_numpy().astype("datetime64[us]").astype(object)
        out = [t.replace(tzinfo=timezone.utc) for t in naive]
    elif kind in ("local", "us_local"):
        v = v.str.replace(",", "", regex=False)
        fmt = "ISO8601" if kind == "local" else \
            "%m/%d/%Y %I:%M %p" if v.str.endswith("M").all() else "%m/%d/%Y %H:%M"
        when = pd.to_datetime(v, format=fmt)
        out = when.to_numpy().astype("datetime64[us]").astype(object).tolist()
    elif kind in ("date", "us_date"):
        when = pd.to_datetime(v, format="%Y-%m-%d" if kind == "date" else "%m/%d/%Y")
        out = when.to_numpy().astype("datetime64[D]").astype(object).tolist()
    else:
        out = v.tolist()
    return [None if e else x for x, e in zip(out, empty)]


def _columns(frame: pd.DataFrame) -> list[str]:
    names, seen = [], set()
    for c in frame.columns:
        n = snake(c)
        base, i = n, 2
        while n in seen:
            n, i = f"{base}_{i}", i + 1
        seen.add(n)
        names.append(n[:63])
    return names


def load(folder, url: str, schema: str | None = None, tables: list[str] | None = None) -> dict:
    """Load every CSV file of `folder` (or those whose table name is in `tables`) into the
    database at `url`, in `schema`; returns {table: rows}."""
    folder = Path(folder)
    engine = sa.create_engine(url)
    try:
        postgres = engine.dialect.name == "postgresql"
        if schema and engine.dialect.name == "sqlite":
            raise ValueError("SQLite has no schemas here: leave schema unset")
        if schema and postgres:
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        loaded = {}
        for path in sorted(folder.glob("*.csv")):
            name = table_name(path.stem)
            if tables is not None and name not in tables:
                continue
            frame = read_file(path)
            frame.columns = _columns(frame)
            kinds = {c: kind_of(frame[c]) for c in frame.columns}
            meta = sa.MetaData(schema=schema)
            table = sa.Table(name, meta, *[sa.Column(c, SQL_TYPES[k]) for c, k in kinds.items()])
            with engine.begin() as conn:
                table.drop(conn, checkfirst=True)
                table.create(conn)
                if postgres and engine.dialect.driver == "psycopg":
                    _copy(conn, table, frame, kinds)
                else:
                    _insert(conn, table, frame, kinds, naive_utc=not postgres)
            loaded[name] = len(frame)
        return loaded
    finally:
        engine.dispose()


def _insert(conn, table: sa.Table, frame: pd.DataFrame, kinds: dict, naive_utc: bool):
    cols = {c: typed(frame[c], k) for c, k in kinds.items()}
    if naive_utc:   # databases without time zones hold UTC
        for c, k in kinds.items():
            if k == "utc":
                cols[c] = [None if t is None else t.replace(tzinfo=None) for t in cols[c]]
    names = list(cols)
    records = [dict(zip(names, row)) for row in zip(*cols.values())]
    for i in range(0, len(records), 20_000):
        conn.execute(table.insert(), records[i:i + 20_000])


def _copy(conn, table: sa.Table, frame: pd.DataFrame, kinds: dict):
    """COPY ... FROM STDIN (CSV): values in forms PostgreSQL reads, empty for NULL."""
    text = {}
    for c, k in kinds.items():
        if k in ("utc", "local", "us_local", "date", "us_date", "money"):
            t = typed(frame[c], k)
            text[c] = ["" if x is None else (repr(x) if k == "money" else x.isoformat()) for x in t]
        else:
            text[c] = frame[c].tolist()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(zip(*[text[c] for c in kinds]))
    target = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
    cols = ", ".join(f'"{c}"' for c in kinds)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {target} ({cols}) FROM STDIN WITH (FORMAT csv)") as cp:
            data = buf.getvalue()
            for i in range(0, len(data), 1 << 20):
                cp.write(data[i:i + (1 << 20)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Load an export folder into a SQL database.")
    ap.add_argument("folder")
    ap.add_argument("url")
    ap.add_argument("--schema")
    a = ap.parse_args(argv)
    for name, n in load(a.folder, a.url, a.schema).items():
        print(f"{n:9d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
