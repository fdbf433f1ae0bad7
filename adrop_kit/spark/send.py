"""`adrop_kit.spark.send`: each partition delivered by its own `Sender`, on the executors.

    outcomes = adrop_spark.send("events/", format="jsonl", endpoint="https://…", outcomes_path="runs/1")
    again = adrop_spark.send("events/", format="jsonl", previous=outcomes)   # a resumed run

The outcomes table (source, row, eventName, outcome, status, attempts, error, key) names every row
of the input once; it is the journal of a distributed run: `previous=` an earlier table. Each
partition runs the local send loop on its chunks (`send.stream.send_batches`: the same checks, the
same per-batch planner, the same outcomes as `Sender.send_all`), and `previous=` is how that
planner learns what earlier runs settled (a `send.plan.Resume`, as the journal is locally): the
earlier outcomes are joined to the rows by (source, row) and compared by event key, the same identity
as the journal's (`send.plan.Identity`: the body's hash and its occurrence, counted per chunk here):
a row it says was delivered under the same key comes back `already_delivered` (not sent again), one
it says was rejected stays `rejected`; a row delivered under another key that is not in the chunk is
`changed` (not sent again: pass no `previous=` for those rows to send them); everything else is sent.
A table without a `key` column (an earlier adrop-kit) is matched by (source, row) alone.

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

OUTCOME_COLUMNS = ("source", "row", "eventName", "outcome", "status", "attempts", "error", "key")
_OUTCOME_DDL = ("source string, row long, eventName string, outcome string, status int, attempts int, "
                "error string, key string")
_DONE = (Outcome.DELIVERED.value, Outcome.ALREADY_DELIVERED.value)
_PREV = "_adrop_prev"        # what an earlier run (`previous=`) settled for the row: delivered, rejected or null
_PREV_N = "_adrop_prev_attempts"
_PREV_KEY = "_adrop_prev_key"


class Previous:
    """`previous=` as the planner's `Resume`, for one partition: the settled (outcome, attempts) of its
    rows by (source, row), gathered from the joined columns as the rows go by."""

    label = "previous"

    def __init__(self) -> None:
        self.settled: dict[tuple[str, int], tuple[str, int, str | None]] = {}
        self.source = ""

    def strip(self, batches: Iterable[Any]) -> Iterator[Any]:
        """The partition's Arrow batches without the joined columns, which are kept here."""
        for b in batches:
            cols = (b.column(c).to_pylist() for c in (SRC, ROW, _PREV, _PREV_N, _PREV_KEY))
            self.settled.update(((src, row), (out, n or 0, key)) for src, row, out, n, key in zip(*cols, strict=True)
                                if out is not None)
            yield b.drop_columns([_PREV, _PREV_N, _PREV_KEY])

    def known(self, jobs: Sequence[Any]) -> dict[str, tuple[str, int]]:
        """The jobs an earlier run settled at their position under their key (any key, for a table without one)."""
        out = {}
        for j in jobs:
            earlier = self.settled.get((self.source, j.row))
            if earlier is not None and earlier[2] in (None, j.key):
                out[j.key] = earlier[:2]
                del self.settled[(self.source, j.row)]
        return out

    def delivered_at(self, jobs: Sequence[Any]) -> dict[str, list[tuple[str, str | None, str | None]]]:
        """The jobs whose position an earlier run delivered under another key (the planner: changed?)."""
        out: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for j in jobs:
            earlier = self.settled.get((self.source, j.row))
            if earlier is not None and earlier[0] == Outcome.DELIVERED.value and earlier[2] not in (None, j.key):
                out[j.key] = [(earlier[2], "", None)]  # no body hash (never an earlier journal's row), no subject
        return out


def _send_partition(batches: Iterable[Any], *, kind: str, catalog: Catalog, key: Any,
                    options: dict[str, Any], resumed: bool = False) -> Iterator[Any]:
    """mapInArrow: one Sender for the partition, the local send loop on each canonical frame (one batch)."""
    import pyarrow as pa

    from adrop_kit.send.sender import Sender
    from adrop_kit.send.stream import checked, send_batches

    schema = pa.schema([("source", pa.string()), ("row", pa.int64()), ("eventName", pa.string()),
                        ("outcome", pa.string()), ("status", pa.int32()), ("attempts", pa.int32()),
                        ("error", pa.string()), ("key", pa.string())])
    app_key = key.value if hasattr(key, "value") else None  # a broadcast variable, or None (ADROP_APP_KEY)
    previous = Previous() if resumed else None
    with Sender(app_key, catalog=catalog, progress=False, journal=False, **options) as sender:  # previous= resumes
        for frame in frames(previous.strip(batches) if previous is not None else batches, kind, catalog):
            if previous is not None:
                previous.source = frame.source
            report = send_batches(sender, checked(sender, [(0, frame)]), label=frame.source,
                                  whole=True, resume=previous)
            cols: dict[str, list[Any]] = {c: [] for c in OUTCOME_COLUMNS}
            for o in report.outcomes:
                for c, v in zip(OUTCOME_COLUMNS, (frame.source, o.row, o.eventName, str(o.outcome), o.status,
                                                  o.attempts, o.error, o.key), strict=True):
                    cols[c].append(v)
            yield pa.RecordBatch.from_pydict(cols, schema=schema)


def send(data: Any, *, app_key: str | None = None, endpoint: str = DEFAULT_ENDPOINT, previous: Any = None,
         outcomes_path: str | None = None, catalog: Catalog | str | None = None, strict: bool = False,
         extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS, concurrency: int = 8, rate: float | None = None,
         retry: Any = None, dry_run: bool = False, transport: str = "http.client", key: str | None = None,
         name: str | None = None, format: str | None = None, spark: Any = None,  # noqa: A002
         hold_warnings: bool | str | Sequence[str] | None = None) -> Any:
    """Send a Spark DataFrame or a path (as `validate` reads them); returns the outcomes DataFrame,
    one row per input event. Each partition validates its rows (rows with an error are `skipped`,
    never sent; rows with a warning `hold_warnings=` names are `held`, by default W110's near misses)
    and sends the rest with `concurrency` connections (`rate` events/s is per partition)."""
    extra_columns = resolve(catalog).metadata(extra_columns)  # MetaColumnError, before a session starts
    require_pyspark()

    spark = spark or (data.sparkSession if hasattr(data, "sparkSession") else get_session())
    if not dry_run and app_key is not None and is_connect(spark):
        raise AdropError("with Spark Connect the app key cannot be handed to the executors safely: set "
                         "ADROP_APP_KEY on them (spark.executorEnv.ADROP_APP_KEY) and pass no app_key")
    with quiet():
        k = keyed(spark, data, key=key, name=name, fmt=format)
    shared = spark.sparkContext.broadcast(app_key) if app_key is not None else None
    options = {"endpoint": endpoint, "strict": strict, "extra_columns": tuple(extra_columns),
               "concurrency": concurrency, "rate": rate, "retry": retry, "dry_run": dry_run, "transport": transport,
               "hold_warnings": hold_warnings}
    try:
        with quiet():
            result = _materialise(spark, plan(k, resolve(catalog), shared, options, previous), outcomes_path)
    finally:
        if shared is not None:
            shared.destroy()
    return result


def plan(k: Keyed, catalog: Catalog, shared_key: Any, options: dict[str, Any], previous: Any = None) -> Any:
    """The send as a lazy Spark plan (what `send` runs once): every row's outcome. With `previous`, the
    rows it settled (delivered, already delivered, rejected) carry that outcome into the partitions,
    where the planner reads it (`Previous`)."""
    from pyspark.sql import functions as F

    rows = k.sdf
    if previous is not None:
        key = F.col("key") if "key" in previous.columns else F.lit(None).cast("string")
        final = previous.where(F.col("outcome").isin(*_DONE, Outcome.REJECTED.value)).select(
            F.col("source").alias(SRC), F.col("row").alias(ROW),
            F.when(F.col("outcome").isin(*_DONE), F.lit(Outcome.DELIVERED.value)).otherwise(F.col("outcome"))
            .alias(_PREV), F.col("attempts").cast("int").alias(_PREV_N), key.alias(_PREV_KEY))
        # one settled outcome per row, so the join never repeats a row ("delivered" < "rejected": delivered wins)
        final = final.groupBy(SRC, ROW).agg(F.min(_PREV).alias(_PREV), F.max(_PREV_N).alias(_PREV_N),
                                            F.min_by(_PREV_KEY, _PREV).alias(_PREV_KEY))
        rows = rows.join(final, [SRC, ROW], "left")
    fn = partial(_send_partition, kind=k.kind, catalog=catalog, key=shared_key, options=options,
                 resumed=previous is not None)
    fn.__name__ = "adrop_send"  # type: ignore[attr-defined]  # how the plan and the UI name the step
    return rows.mapInArrow(fn, _OUTCOME_DDL)


def _materialise(spark: Any, out: Any, path: str | None) -> Any:
    """Run the send once: to Parquet at `path` (read back), or collected to the driver."""
    if path is not None:
        out.write.mode("errorifexists").parquet(path)
        return spark.read.parquet(path)
    table = out.toArrow()
    if not table.num_rows:
        return spark.createDataFrame([], _OUTCOME_DDL)
    return spark.createDataFrame(table, _OUTCOME_DDL)


__all__ = ["OUTCOME_COLUMNS", "Previous", "plan", "send"]
