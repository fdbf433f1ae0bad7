"""`adrop_kit.spark.send`: each partition delivered by its own `Sender`, on the executors.

    outcomes = adrop_spark.send("events/", format="jsonl", endpoint="https://…", outcomes_path="runs/1")
    again = adrop_spark.send("events/", format="jsonl", previous=outcomes)   # a resumed run

The outcomes table (source, row, eventName, outcome, status, attempts, error) names every row
of the input once; it is the journal of a distributed run: `previous=` an earlier table, rows it
says were delivered come back as `already_delivered` (not sent again), rows it says were
rejected stay `rejected`; everything else is sent. Rows are keyed as by `validate`.

The send runs once, when `send` is called: its outcomes are written to `outcomes_path` (Parquet,
read back) or, without one, collected to the driver; a returned table never re-sends when used.

The app key goes to the executors in a broadcast variable (classic Spark), never in the plan,
the UI or the table; with Spark Connect (no broadcasts on the client) pass no key here and set
`ADROP_APP_KEY` on the executors (`spark.executorEnv.ADROP_APP_KEY`, or the cluster's secrets).
A task that Spark retries sends its partition again (at least once); set `spark.task.maxFailures`
to 1 where a repeat must not happen, and resume with `previous=` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import Any

from adrop_kit.errors import AdropError
from adrop_kit.send.report import Outcome
from adrop_kit.send.transport import DEFAULT_ENDPOINT
from adrop_kit.spark.batches import frames
from adrop_kit.spark.inputs import ROW, SRC, Keyed, keyed
from adrop_kit.spark.session import get_session, is_connect, quiet, require_pyspark
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS

OUTCOME_COLUMNS = ("source", "row", "eventName", "outcome", "status", "attempts", "error")
_OUTCOME_DDL = ("source string, row long, eventName string, outcome string, status int, attempts int, "
                "error string")
_DONE = (Outcome.DELIVERED.value, Outcome.ALREADY_DELIVERED.value)


def _send_partition(batches: Iterable[Any], *, kind: str, catalog: Catalog, key: Any,
                    options: dict[str, Any]) -> Iterator[Any]:
    """mapInArrow: one Sender for the partition, `send_all` on each canonical frame."""
    import pyarrow as pa

    from adrop_kit.send.sender import Sender

    schema = pa.schema([("source", pa.string()), ("row", pa.int64()), ("eventName", pa.string()),
                        ("outcome", pa.string()), ("status", pa.int32()), ("attempts", pa.int32()),
                        ("error", pa.string())])
    app_key = key.value if hasattr(key, "value") else None  # a broadcast variable, or None (ADROP_APP_KEY)
    with Sender(app_key, catalog=catalog, progress=False, **options) as sender:
        for frame in frames(batches, kind, catalog):
            report = sender.send_all(frame)
            cols: dict[str, list[Any]] = {c: [] for c in OUTCOME_COLUMNS}
            for o in report.outcomes:
                for c, v in zip(OUTCOME_COLUMNS, (frame.source, o.row, o.eventName, str(o.outcome), o.status,
                                                  o.attempts, o.error), strict=True):
                    cols[c].append(v)
            yield pa.RecordBatch.from_pydict(cols, schema=schema)


def send(data: Any, *, app_key: str | None = None, endpoint: str = DEFAULT_ENDPOINT, previous: Any = None,
         outcomes_path: str | None = None, catalog: Catalog | str | None = None, strict: bool = False,
         extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS, concurrency: int = 8, rate: float | None = None,
         retry: Any = None, dry_run: bool = False, transport: str = "http.client", key: str | None = None,
         name: str | None = None, format: str | None = None, spark: Any = None) -> Any:  # noqa: A002
    """Send a Spark DataFrame or a path (as `validate` reads them); returns the outcomes DataFrame,
    one row per input event. Each partition validates its rows (rows with an error are `skipped`,
    never sent) and sends the rest with `concurrency` connections (`rate` events/s is per partition)."""
    require_pyspark()

    spark = spark or (data.sparkSession if hasattr(data, "sparkSession") else get_session())
    if not dry_run and app_key is not None and is_connect(spark):
        raise AdropError("with Spark Connect the app key cannot be handed to the executors safely: set "
                         "ADROP_APP_KEY on them (spark.executorEnv.ADROP_APP_KEY) and pass no app_key")
    with quiet():
        k = keyed(spark, data, key=key, name=name, fmt=format)
    shared = spark.sparkContext.broadcast(app_key) if app_key is not None else None
    options = {"endpoint": endpoint, "strict": strict, "extra_columns": tuple(extra_columns),
               "concurrency": concurrency, "rate": rate, "retry": retry, "dry_run": dry_run, "transport": transport}
    try:
        with quiet():
            out, carried = plan(k, resolve(catalog), shared, options, previous)
            result = _materialise(spark, out, outcomes_path)
    finally:
        if shared is not None:
            shared.destroy()
    return result.unionByName(carried) if carried is not None else result


def plan(k: Keyed, catalog: Catalog, shared_key: Any, options: dict[str, Any], previous: Any = None
         ) -> tuple[Any, Any]:
    """The send as a lazy Spark plan (what `send` runs once): the outcomes of the rows to send, and
    the rows an earlier run settled (`previous`) with their carried-over outcome, or None."""
    from pyspark.sql import functions as F

    todo = k.sdf
    carried = None
    if previous is not None:
        prev = previous.select(F.col("source").alias(SRC), F.col("row").alias(ROW), "eventName", "outcome",
                               "attempts")
        final = prev.where(F.col("outcome").isin(*_DONE, Outcome.REJECTED.value))
        todo = todo.join(final.select(SRC, ROW), [SRC, ROW], "left_anti")
        carried = final.select(
            F.col(SRC).alias("source"), F.col(ROW).alias("row"), "eventName",
            F.when(F.col("outcome").isin(*_DONE), F.lit(Outcome.ALREADY_DELIVERED.value))
            .otherwise(F.col("outcome")).alias("outcome"),
            F.lit(None).cast("int").alias("status"), F.col("attempts").cast("int").alias("attempts"),
            F.when(F.col("outcome") == Outcome.REJECTED.value, F.lit("rejected in an earlier run (previous)"))
            .otherwise(F.lit(None).cast("string")).alias("error"))
    fn = partial(_send_partition, kind=k.kind, catalog=catalog, key=shared_key, options=options)
    fn.__name__ = "adrop_send"  # type: ignore[attr-defined]  # how the plan and the UI name the step
    return todo.mapInArrow(fn, _OUTCOME_DDL), carried


def _materialise(spark: Any, out: Any, path: str | None) -> Any:
    """Run the send once: to Parquet at `path` (read back), or collected to the driver."""
    if path is not None:
        out.write.mode("errorifexists").parquet(path)
        return spark.read.parquet(path)
    table = out.toArrow()
    if not table.num_rows:
        return spark.createDataFrame([], _OUTCOME_DDL)
    return spark.createDataFrame(table, _OUTCOME_DDL)


__all__ = ["OUTCOME_COLUMNS", "plan", "send"]
