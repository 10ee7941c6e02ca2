"""Spark as the analytical engine, for orgs that outgrow one machine.

The same SQL the DuckDB backend runs (written in DuckDB's dialect, engine.aggregation) is
translated by sqlglot into Spark SQL, with the few functions the two spell differently
rewritten here. Tables are cached Spark DataFrames registered as temporary views; small
results come back to pandas through Arrow.

`FAIRWAY_SPARK_MASTER` chooses the cluster (default `local[*]`: Spark in this process's
machine, the way CI tests it). Input files are read by Spark's own readers: Parquet (the
usual form of a data lake) and CSV (quoted newlines included). Spark's CSV reader does
not tell ragged rows apart (a short row is read with empty values): check the structure
of CSV files with the DuckDB engine, or keep the data in Parquet.
"""
from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .backend import Backend, Reject

_SESSION = None


@contextmanager
def _quiet():
    """PySpark warns of every pandas release newer than it was tested with; what it converts
    here (flat frames of numbers, text and timestamps) is checked against DuckDB by the tests."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pyspark")
        yield


def session():
    """The process's Spark session (one per process: Spark allows no more)."""
    global _SESSION
    if _SESSION is None:
        with _quiet():
            from pyspark.sql import SparkSession
        builder = (SparkSession.builder
                   .master(os.environ.get("FAIRWAY_SPARK_MASTER", "local[*]"))
                   .appName("fairway")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .config("spark.sql.ansi.enabled", "false")
                   .config("spark.sql.shuffle.partitions", os.environ.get("FAIRWAY_SPARK_PARTITIONS", "8"))
                   .config("spark.driver.memory", os.environ.get("FAIRWAY_SPARK_DRIVER_MEMORY", "2g")))
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("OFF")      # failures come back as exceptions, not log lines
    return _SESSION


def to_spark(sql: str) -> str:
    """DuckDB SQL as Spark SQL."""
    import sqlglot
    from sqlglot import exp

    def fix(node):
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            args = node.expressions
            if name == "timezone" and len(args) == 2 and isinstance(args[0], exp.Literal) \
                    and args[0].this.upper() == "UTC":
                return args[1]          # the session's time zone is UTC: an instant is already UTC
            if name == "isfinite" and len(args) == 1:
                x = args[0]
                return sqlglot.parse_one(f"({x.sql('spark')} IS NOT NULL AND NOT isnan({x.sql('spark')}) "
                                         f"AND abs({x.sql('spark')}) != double('infinity'))", read="spark")
        if type(node).__name__ == "RegexpFullMatch" and isinstance(node.expression, exp.Literal):
            return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{node.expression.this})$"))
        if isinstance(node, exp.Literal) and not node.is_string and any(c in node.this for c in ".eE"):
            return exp.Cast(this=node, to=exp.DataType.build("DOUBLE"))   # Spark reads 86400.0 as a decimal
        if isinstance(node, exp.PercentileCont) and node.args.get("expression") is not None:
            return exp.Anonymous(this="percentile", expressions=[node.this, node.args["expression"]])
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMPTZ:
            return exp.DataType.build("TIMESTAMP")
        return node

    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(fix).sql(dialect="spark")


class SparkBackend(Backend):
    name = "spark"

    def __init__(self):
        self.spark = session().newSession()      # its own temporary views, the cluster shared
        self._views: set[str] = set()
        self._rejects: dict[str, list[Reject]] = {}

    def _df(self, sql: str):
        return self.spark.sql(to_spark(sql))

    def execute(self, sql: str) -> None:
        self._df(sql).collect()

    def frame(self, sql: str) -> pd.DataFrame:
        from decimal import Decimal
        with _quiet():
            frame = self._df(sql).toPandas()
        for c in frame.columns:       # decimals (sums of integers, say) as floats, as DuckDB gives them
            if frame[c].dtype == object and frame[c].map(lambda v: isinstance(v, Decimal)).any():
                frame[c] = frame[c].astype(float)
        return frame

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self._df(sql).collect()]

    def table(self, name: str, sql: str) -> None:
        df = self._df(sql).localCheckpoint(eager=True)     # materialised: the query may read `name` itself
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        for c in frame.columns:
            if frame[c].dtype == object:
                frame[c] = frame[c].astype("string")
        with _quiet():
            self.spark.createDataFrame(frame).createOrReplaceTempView(name)
        self._views.add(name)

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    # ------------------------------------------------------------------ reading files
    def _numbered_view(self, name: str, df, columns: list[str]) -> None:
        """The records of `df` with `_i`, their index in file order, as the view `name`."""
        from pyspark.sql import types as T
        schema = T.StructType([T.StructField("_i", T.LongType(), False)]
                              + [T.StructField(c, T.StringType(), True) for c in columns])
        rdd = df.rdd.zipWithIndex().map(lambda r: (r[1], *r[0]))
        self.spark.createDataFrame(rdd, schema).localCheckpoint(eager=True).createOrReplaceTempView(name)
        self._views.add(name)

    def text_view(self, name: str, path: Path, columns: list[str], delimiter: str = ",",
                  encoding: str = "utf-8") -> None:
        from pyspark.sql import functions as F
        from pyspark.sql import types as T
        schema = T.StructType([T.StructField(c, T.StringType(), True) for c in columns]
                              + [T.StructField("_corrupt", T.StringType(), True)])
        raw = (self.spark.read.option("header", True).option("multiLine", True).option("sep", delimiter)
               .option("quote", '"').option("escape", '"').option("encoding", encoding)
               .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt")
               .option("ignoreLeadingWhiteSpace", True).option("ignoreTrailingWhiteSpace", True)
               .schema(schema).csv(str(path)))
        numbered = raw.rdd.zipWithIndex().map(lambda r: (r[1], *r[0]))
        all_schema = T.StructType([T.StructField("_n", T.LongType(), False)] + list(schema.fields))
        every = self.spark.createDataFrame(numbered, all_schema).localCheckpoint(eager=True)
        bad = every.where(F.col("_corrupt").isNotNull()).select("_n", "_corrupt").collect()
        self._rejects[name] = [Reject(row=int(r[0]) + 2, kind="other", text=(r[1] or "")[:200],
                                      message="a record the CSV reader could not read") for r in bad]
        kept = every.where(F.col("_corrupt").isNull()).select(
            *[F.when(F.col(c) == "", None).otherwise(F.col(c)).alias(c) for c in columns])
        self._numbered_view(name, kept, columns)

    def parquet_schema(self, path: Path) -> list[tuple[str, str]]:
        return [(f.name, f.dataType.simpleString().upper()) for f in self.spark.read.parquet(str(path)).schema.fields]

    def parquet_view(self, name: str, path: Path, columns: list[str]) -> None:
        from pyspark.sql import functions as F
        df = self.spark.read.parquet(str(path))
        text = df.select(*[F.trim(F.col(c).cast("string")).alias(c) for c in columns])
        text = text.select(*[F.when(F.col(c) == "", None).otherwise(F.col(c)).alias(c) for c in columns])
        self._numbered_view(name, text, columns)

    def rejects(self, name: str) -> list[Reject]:
        return list(self._rejects.get(name, []))

    def numbered(self, name: str) -> str:
        return name           # every view is numbered when read

    def close(self) -> None:
        for name in list(self._views):
            try:
                self.spark.catalog.dropTempView(name)
            except Exception:     # noqa: BLE001 - a session already stopped has nothing to drop
                pass
        self._views.clear()
