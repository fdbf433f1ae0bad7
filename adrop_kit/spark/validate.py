"""`adrop_kit.spark.validate`: a dataset past one machine, checked by the local engine on every partition.

    from adrop_kit import spark as adrop_spark
    report = adrop_spark.validate("s3a://lake/events/dt=2026-11-01/", format="jsonl")
    report.summary()          # {'rows': …, 'valid': …, 'invalid': …, 'warned': …}, exact
    report.violations         # a Spark DataFrame: source, row, eventName, rule, severity, field, value, message
    report.valid_rows         # a Spark DataFrame: source, row and the row as it came

Where things run: each partition's rows go through `DataFrame.mapInArrow` to `check_batch`, the
per-batch check of the local pipeline (every rule but W107), on the executors; W107 (a `tx_id`
reused across purchases; the first purchase by (source, row) keeps it) is the local pipeline's
`duplicate_tx` on the purchases hashed by tx_id (one shuffle); counts are Spark aggregations.
The data is read and checked once: the partitions' output and W107's result are cached
(`SparkReport.unpersist`). Only the small tables (one count per split, the summary) come back to
the driver.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from adrop_kit.spark.batches import (
    ROW_GROUP_COLUMNS,
    VIOLATION_COLUMNS,
    check_partition,
    check_row_groups,
    check_w107,
    checked_ddl,
    w107_ddl,
)
from adrop_kit.spark.inputs import LINE, ROW, SRC, Keyed, keyed, local_row_groups
from adrop_kit.spark.session import get_session, quiet, require_pyspark
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS
from adrop_kit.validate.json_values import JSON_FLAG
from adrop_kit.validate.report import DatasetReport

_W107_PARTITION_ROWS = 1_000_000  # W107 candidates (a purchase's source, row, line, eventName, tx_id) a partition
_BLANK = r"^[ \t\n\x0B\f\r]*$"  # bytes.isspace(): a blank JSONL line is not an event


@dataclass
class SparkReport:
    """The verdict on a Spark dataset. `summary()` is exact and computed once (in `validate`);
    `violations` and `valid_rows` are lazy Spark DataFrames (the checks' output is cached)."""

    rows: int
    invalid: int
    warned: int
    violations: Any = field(repr=False)
    keyed: Keyed = field(repr=False)
    strict: bool = False
    elapsed_s: float = 0.0
    checked: tuple[Any, ...] = field(default=(), repr=False)
    """What is cached: the partitions' output (violations, W107 candidates, counts) and the purchases
    that reuse a tx_id; `unpersist()` frees them."""
    flagged: Any = field(default=None, repr=False)
    """`violations` with `JSON_FLAG` (is each value JSON text?), for `collect`'s JSON output."""

    def unpersist(self) -> None:
        """Free the cached output of the checks (`violations` is then recomputed if used again)."""
        for cached in self.checked:
            cached.unpersist()

    @property
    def source(self) -> str:
        return self.keyed.name

    @property
    def valid(self) -> int:
        return self.rows - self.invalid

    @property
    def ok(self) -> bool:
        return self.invalid == 0

    def summary(self) -> dict[str, int]:
        """rows = valid + invalid; `warned`: valid rows with at least one warning (as `DatasetReport`)."""
        return {"rows": self.rows, "valid": self.valid, "invalid": self.invalid, "warned": self.warned}

    @property
    def errors(self) -> Any:
        return self.violations.where("severity = 'error'")

    @property
    def warnings(self) -> Any:
        return self.violations.where("severity = 'warning'")

    @property
    def valid_rows(self) -> Any:
        """The rows without an error (warnings allowed): `source`, `row`, then the row as it came
        (JSONL: the line, as text, in `json`; otherwise the input's columns). Lazy."""
        from pyspark.sql import functions as F

        bad = self.errors.select(F.col("source").alias(SRC), F.col("row").alias(ROW)).distinct()
        rows = self.keyed.sdf.join(bad, [SRC, ROW], "left_anti")
        if self.keyed.kind == "lines":
            text = F.col(LINE).cast("string")
            return rows.where(~text.rlike(_BLANK)).select(F.col(SRC).alias("source"), F.col(ROW).alias("row"),
                                                          text.alias("json"))
        return rows.select(F.col(SRC).alias("source"), F.col(ROW).alias("row"), *self.keyed.payload)

    def violations_polars(self, *, limit: int | None = None, flags: bool = False) -> Any:
        """The violations on the driver, as a polars frame in report order (source, row, rule, field);
        `flags`: with `JSON_FLAG` beside them (what `DatasetReport` needs to give values as JSON)."""
        import polars as pl

        v = self.flagged if flags and self.flagged is not None else self.violations
        v = v if limit is None else v.limit(limit)
        table = v.toArrow() if hasattr(v, "toArrow") else pl.from_pandas(v.toPandas()).to_arrow()
        return pl.from_arrow(table).cast({"row": pl.Int64})

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<SparkReport {self.source}: {s['rows']} rows, {s['valid']} valid, {s['invalid']} invalid, "
                f"{s['warned']} warned>")


def validate(data: Any, *, catalog: Catalog | str | None = None, strict: bool = False,
             extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS, key: str | None = None,
             name: str | None = None, format: str | None = None, spark: Any = None) -> SparkReport:  # noqa: A002
    """Validate a Spark DataFrame or a path Spark reads (JSONL as text lines; Parquet; a file, a
    directory or a glob; `format=` for a directory) with the rules of `validate_events`, the same
    verdicts row for row. `key=` names an integer column that identifies a DataFrame's rows (see
    `adrop_kit.spark.inputs` for how rows are named otherwise). Never raises for bad rows."""
    cat = resolve(catalog)
    extra_columns = cat.metadata(extra_columns)  # MetaColumnError, before a session starts
    require_pyspark()
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    start = time.perf_counter()
    spark = spark or (data.sparkSession if hasattr(data, "sparkSession") else get_session())
    with quiet():
        k = keyed(spark, data, key=key, name=name, fmt=format)
        options = {"catalog": cat, "strict": strict, "extra_columns": tuple(extra_columns)}
        groups = local_row_groups(k)
        if groups:  # Parquet the executors can open: each row group read there, not through the JVM
            check = partial(check_row_groups, **options)  # a local table: split among the cores, no shuffle
            todo = spark.createDataFrame(groups, ", ".join(f"{c} {t}" for c, t in zip(
                ROW_GROUP_COLUMNS, ("string", "string", "long", "long"), strict=True)))
        else:
            check, todo = partial(check_partition, kind=k.kind, **options), k.sdf
        check.__name__ = "adrop_check"  # type: ignore[attr-defined]  # how the plan and the UI name the step
        checked = todo.mapInArrow(check, checked_ddl()).persist(StorageLevel.MEMORY_AND_DISK)
        # the one pass over the data (its output cached), then W107's one shuffle (its output cached)
        rows, invalid, warned, n_cands = checked.agg(F.sum("n"), F.sum("bad"), F.sum("warned"),
                                                     F.count(F.when(F.col("kind") == "t", 1))).first()
        cands = checked.where("kind = 't'").select("source", "row", "line", "eventName", "severity", "value")
        # a cached shuffle keeps all its partitions (AQE does not merge them): as many as the candidates need
        cands = cands.repartition(max(1, -(-n_cands // _W107_PARTITION_ROWS)), "value")
        w107 = partial(check_w107)
        w107.__name__ = "adrop_w107"  # type: ignore[attr-defined]
        dup = cands.mapInArrow(w107, w107_ddl()).persist(StorageLevel.MEMORY_AND_DISK)
        warned = (warned or 0) + dup.where(F.col("prior").isNull()).count()  # warned by W107 alone
        found = checked.where("kind = 'v'").select(*VIOLATION_COLUMNS, JSON_FLAG)
        flagged = found.unionByName(dup.drop("prior").withColumn(JSON_FLAG, F.lit(False))) \
            .orderBy("source", "row", "rule", "field")
    return SparkReport(rows=int(rows or 0), invalid=int(invalid or 0), warned=int(warned),
                       violations=flagged.drop(JSON_FLAG), keyed=k, strict=strict,
                       elapsed_s=time.perf_counter() - start, checked=(checked, dup), flagged=flagged)


@dataclass
class CollectedReport(DatasetReport):
    """A `SparkReport` brought to the driver as a `DatasetReport` (violations as a polars frame), for
    the CLI's table and JSON and for notebooks; its counts are Spark's exact ones."""

    exact_invalid: int = 0
    exact_warned: int = 0

    @property
    def invalid(self) -> int:  # rows may repeat across files: Spark counted (source, row) pairs
        return self.exact_invalid

    @property
    def warned(self) -> int:
        return self.exact_warned


def collect(report: SparkReport, *, limit: int | None = None) -> CollectedReport:
    """`report` on the driver: all violations (or the first `limit`), in report order; tables and
    JSON show the `source` column only when the violations come from more than one source."""
    import polars as pl

    v = report.violations_polars(limit=limit, flags=True)
    sources = tuple(v.get_column("source").unique(maintain_order=True).to_list()) or (report.source,)
    return CollectedReport(rows=report.rows, violations=v, frame=pl.DataFrame(), source=report.source,
                           sources=sources, strict=report.strict, elapsed_s=report.elapsed_s,
                           exact_invalid=report.invalid, exact_warned=report.warned)


__all__ = ["CollectedReport", "SparkReport", "collect", "validate"]
