"""A warehouse as a source: the CRM's tables as a sync (Fivetran, Airbyte, Stitch) lands them
in a SQL database, read through SQLAlchemy.

The tables a mapping names are copied, in chunks, into Parquet files in a temporary
folder (typed: timestamps, booleans and numbers keep their types), and the import then
runs exactly as on a folder of exports: the same mapping, the same report. Table names
match as file names do: `OpportunityHistory` finds `opportunity_history`.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..catalog.specs import Pipeline
from ..errors import MappingError, Problem
from .exports import norm
from .importer import import_dataset
from .mapping import Mapping
from .report import ImportReport

CHUNK_ROWS = 100_000
_URL = re.compile(r"^[a-z][a-z0-9+]*://", re.I)


def is_url(text: str) -> bool:
    return bool(_URL.match(text or ""))


def patterns(mapping: Mapping) -> list[str]:
    """Every file name or pattern the mapping reads (parts, lookups, only_without)."""
    found: list[str] = []

    from pydantic import BaseModel

    def walk(node):
        if isinstance(node, BaseModel):
            for name in type(node).model_fields:
                value = getattr(node, name)
                if name in ("files", "only_without") and isinstance(value, list):
                    found.extend(value)
                else:
                    walk(value)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)
    walk(mapping)
    return list(dict.fromkeys(found))


def dump_tables(url: str, schema: str | None, mapping: Mapping, folder: Path) -> list[str]:
    """Copy the tables the mapping reads into Parquet files in `folder`; their names."""
    import fnmatch

    import pyarrow as pa
    import pyarrow.parquet as pq
    from sqlalchemy import MetaData, Table, create_engine, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from .exports import stem_of
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            names = inspect(conn).get_table_names(schema=schema)
            wanted = [norm(stem_of(p)) for p in patterns(mapping)]
            tables = [t for t in names if any(fnmatch.fnmatchcase(norm(t), w) for w in wanted)]
            for t in tables:
                table = Table(t, MetaData(), schema=schema, autoload_with=conn)
                result = conn.execution_options(stream_results=True).execute(select(table))
                columns = list(result.keys())
                writer = None
                try:
                    while rows := result.fetchmany(CHUNK_ROWS):
                        batch = pa.table({c: pa.array([_plain(r[i]) for r in rows]) for i, c in enumerate(columns)})
                        if writer is None:
                            writer = pq.ParquetWriter(folder / f"{t}.parquet", batch.schema)
                        writer.write_table(batch.cast(writer.schema))
                    if writer is None:      # an empty table still has its columns
                        pq.write_table(pa.table({c: pa.array([], pa.string()) for c in columns}),
                                       folder / f"{t}.parquet")
                finally:
                    if writer is not None:
                        writer.close()
        engine.dispose()
    except SQLAlchemyError as exc:
        raise MappingError([Problem(file=_safe(url), message=f"cannot read the database: "
                                                             f"{str(exc).splitlines()[0][:300]}")]) from None
    return tables


def _plain(value):
    """Values Arrow takes as they are; others (Decimal, UUID) as text or float."""
    from decimal import Decimal
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)) or hasattr(value, "isoformat"):
        return value
    return str(value)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def import_warehouse(url: str, schema: str | None, mapping: Mapping, out: Path, pipeline: Pipeline,
                     progress=None, dry_run: bool = False) -> ImportReport:
    """Import the CRM tables of a database schema into a dataset folder."""
    with tempfile.TemporaryDirectory(prefix="fairway-warehouse-") as tmp:
        folder = Path(tmp)
        if progress:
            progress(f"reading tables of {_safe(url)}")
        tables = dump_tables(url, schema, mapping, folder)
        if not tables:
            raise MappingError([Problem(file=_safe(url) + (f" (schema {schema})" if schema else ""),
                                        message="no table the mapping reads is in the database",
                                        expected="tables such as " + ", ".join(patterns(mapping)[:6]))])
        return import_dataset(folder, mapping, out, pipeline, progress=progress, dry_run=dry_run)
