"""What runs on the executors: Arrow batches of a keyed input → canonical frames → the local engine.

Each partition's rows are gathered into chunks of about `CHUNK_ROWS`, one source at a time, and
turned into the canonical `Frame` exactly as locally: JSONL lines by `read_jsonl` (the same
parser, so `"29900"` in `price` is an E006 and a line that is not an object an E001 row, as in
`validate_events`), other rows by `from_polars`. The frame's row numbers are the keys Spark gave
(`inputs.ROW`). Then the local pipeline's `check_batch` (every rule but W107) or a `Sender` does
the work; W107 is the local `duplicate_tx` on each partition of the purchases hashed by tx_id.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import polars as pl

from adrop_kit.io.frames import ROW, Frame, from_polars
from adrop_kit.io.read_json import read_jsonl
from adrop_kit.io.read_parquet import parquet_frame
from adrop_kit.io.stream import shifted
from adrop_kit.spark.inputs import LINE, SRC
from adrop_kit.spark.inputs import ROW as KEY
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import TX_PARAM
from adrop_kit.validate.batch import check_batch
from adrop_kit.validate.checks import VIOLATION_SCHEMA
from adrop_kit.validate.json_values import JSON_FLAG
from adrop_kit.validate.pipeline import row_counts
from adrop_kit.validate.w107 import PART, duplicate_tx, purchases

CHUNK_ROWS = 50_000
_GAP = 1024  # more lines than this missing between two lines of a chunk: a new read_jsonl run
"""Rows handed to the local engine at once (Spark's Arrow batches are 10,000 rows)."""
SPARK_TYPES = {pl.Int64: "long", pl.Int32: "int", pl.String: "string", pl.Boolean: "boolean", pl.Float64: "double"}
VIOLATION_COLUMNS = ["source", *(c for c in VIOLATION_SCHEMA if c != "source")]
"""The Spark violations table: the local one (`VIOLATION_SCHEMA`), with the `source` column first."""
_POLARS_SCHEMA = {"source": pl.String, **VIOLATION_SCHEMA}
ROW_GROUP_COLUMNS = ("source", "path", "first", "rows")
"""A Parquet row group to check (`check_row_groups`): the file as named, its local path, the group's
first row in the file and its number of rows."""
CHECKED_COLUMNS = ["kind", *VIOLATION_COLUMNS, JSON_FLAG, "n", "bad", "warned"]
"""What a partition's check returns: `v` violations (with `JSON_FLAG`: is the value JSON text,
decided while the rows are here), `t` W107 candidates (tx_id in `value`), `n` the events read,
the invalid ones and the warned ones (in `n`, `bad`, `warned`)."""
_CHECKED_TYPES = {"kind": pl.String, "n": pl.Int64, "bad": pl.Int64, "warned": pl.Int64, JSON_FLAG: pl.Boolean,
                  **_POLARS_SCHEMA}


def spark_schema(columns: Sequence[str], types: dict[str, Any]) -> str:
    return ", ".join(f"`{c}` {SPARK_TYPES[types[c]]}" for c in columns)


def violations_ddl() -> str:
    return spark_schema(VIOLATION_COLUMNS, _POLARS_SCHEMA)


def checked_ddl() -> str:
    return spark_schema(CHECKED_COLUMNS, _CHECKED_TYPES)


def _chunks(batches: Iterable[Any], rows: int = CHUNK_ROWS) -> Iterator[Any]:
    import pyarrow as pa

    held: list[Any] = []
    n = 0
    for b in batches:
        if b.num_rows:
            held.append(b)
            n += b.num_rows
        if n >= rows:
            yield pa.Table.from_batches(held)
            held, n = [], 0
    if held:
        yield pa.Table.from_batches(held)


def frames(batches: Iterable[Any], kind: str, catalog: Catalog) -> Iterator[Frame]:
    """Canonical frames, one source at a time, whose `__row` are the keys Spark gave."""
    import pyarrow.compute as pc

    for table in _chunks(batches):
        sources = table.column(SRC)
        names = pc.unique(sources).to_pylist()
        for source in names:
            part = table.filter(pc.equal(sources, source)) if len(names) > 1 else table
            if kind == "lines":
                yield from _line_frames(part.sort_by(KEY), source, catalog)
            else:
                keys = pl.Series(part.column(KEY).to_numpy(zero_copy_only=False)).cast(pl.Int64)
                df = pl.from_arrow(part.drop_columns([SRC, KEY]))
                yield from_polars(df.with_columns(keys.alias(ROW)), catalog, source=source)


def _line_frames(part: Any, source: str, catalog: Catalog) -> Iterator[Frame]:
    """JSONL lines (sorted by line number) → `read_jsonl` on each run of consecutive lines, told where
    the run starts in its file; short gaps (rows in another partition) are filled with blank lines,
    which are not events."""
    keys = part.column(KEY).to_pylist()
    lines = part.column(LINE).to_pylist()
    if keys[0] == 0 and lines[0] and lines[0].startswith(codecs.BOM_UTF8):
        lines[0] = lines[0][3:]  # the file's byte order mark, skipped as locally
    start, run = keys[0], [lines[0]]
    for k, prev, line in zip(keys[1:], keys, lines[1:], strict=False):
        if k - prev > _GAP:
            yield shifted(read_jsonl(b"\n".join(run), source, catalog), start, start, commas=False)
            start, run = k, []
        else:
            run.extend([b""] * (k - prev - 1))
        run.append(line)
    yield shifted(read_jsonl(b"\n".join(run), source, catalog), start, start, commas=False)


def _to_arrow(df: pl.DataFrame, ddl_columns: Sequence[str], types: dict[str, Any]) -> Any:
    import pyarrow as pa

    arrow = {pl.Int64: pa.int64(), pl.Int32: pa.int32(), pl.Boolean: pa.bool_()}
    schema = pa.schema([(c, arrow.get(types[c], pa.string())) for c in ddl_columns])
    return df.select(ddl_columns).to_arrow().cast(schema)


def check_partition(batches: Iterable[Any], *, kind: str, catalog: Catalog, strict: bool,
                    extra_columns: Sequence[str]) -> Iterator[Any]:
    """mapInArrow: every rule but W107 on each chunk (`check_batch`), plus W107's candidates."""
    for frame in frames(batches, kind, catalog):
        yield from _checked(frame, catalog, strict, extra_columns)


def check_row_groups(batches: Iterable[Any], *, catalog: Catalog, strict: bool,
                     extra_columns: Sequence[str]) -> Iterator[Any]:
    """mapInArrow over Parquet row groups (source, path, first, rows): each read here by polars, as the
    local reader reads the file (`read_parquet`, then `parquet_frame`), rows numbered from `first`;
    then as above."""
    for b in batches:
        for source, path, first, rows in zip(*(b.column(c).to_pylist() for c in ROW_GROUP_COLUMNS), strict=True):
            df = pl.scan_parquet(path, glob=False).slice(first, rows).collect()  # that row group
            df = df.with_columns(pl.int_range(first, first + df.height, dtype=pl.Int64).alias(ROW))
            yield from _checked(parquet_frame(df, source, catalog), catalog, strict, extra_columns)


def _checked(frame: Frame, catalog: Catalog, strict: bool, extra_columns: Sequence[str]) -> Iterator[Any]:
    types = _CHECKED_TYPES
    cb = check_batch(frame, catalog, strict=strict, extra_columns=extra_columns, flags=True)
    found = cb.violations
    parts = [found.select(pl.lit("v").alias("kind"), pl.all())]
    per_row = found.group_by("row").agg((pl.col("severity") == "error").any().alias("e"),
                                        (pl.col("severity") == "warning").any().alias("w"))
    cands = purchases(cb.df, frame.source, 0)
    if cands.height:  # with what the row has already: W107 may make it `warned`
        flags = per_row.select("row", pl.when("e").then(pl.lit("error")).when("w").then(pl.lit("warning"))
                               .alias("severity"))
        parts.append(cands.join(flags, on="row", how="left").select(
            pl.lit("t").alias("kind"), "source", "row", "line", "eventName", "severity",
            pl.col(TX_PARAM).alias("value")))
    bad, warned = row_counts(found)  # as the local pipeline counts a batch; Spark sums them
    parts.append(pl.DataFrame({"kind": ["n"], "source": [frame.source], "n": [cb.df.height], "bad": [bad],
                               "warned": [warned]}))
    out = pl.concat(parts, how="diagonal_relaxed")
    yield from _to_arrow(out.with_columns([pl.lit(None, types[c]).alias(c) for c in CHECKED_COLUMNS
                                           if c not in out.columns]), CHECKED_COLUMNS, types).to_batches()


W107_COLUMNS = [*VIOLATION_COLUMNS, "prior"]
"""What `check_w107` returns: W107 violations, and `prior`, the severity the row had before (null: none)."""
_W107_TYPES = {**_POLARS_SCHEMA, "prior": pl.String}


def w107_ddl() -> str:
    return spark_schema(W107_COLUMNS, _W107_TYPES)


def check_w107(batches: Iterable[Any]) -> Iterator[Any]:
    """mapInArrow over the purchases (source, row, line, eventName, severity, value = tx_id) hashed by
    tx_id, so that a partition holds every use of its tx_ids: the local `duplicate_tx` on the whole
    partition (files ordered by name)."""
    tables = [pl.from_arrow(b) for b in batches if b.num_rows]
    if not tables:
        return
    df = pl.concat(tables, how="vertical_relaxed")
    cands = df.select("source", pl.col("source").alias(PART), pl.col("row").cast(pl.Int64),
                      pl.col("line").cast(pl.Int64), "eventName", pl.col("value").alias(TX_PARAM),
                      pl.col("severity").alias("prior"))
    out = duplicate_tx(cands, keep=("prior",))
    if out.height:
        yield from _to_arrow(out, W107_COLUMNS, _W107_TYPES).to_batches()


__all__ = ["CHECKED_COLUMNS", "ROW_GROUP_COLUMNS", "VIOLATION_COLUMNS", "W107_COLUMNS", "check_partition",
           "check_row_groups", "check_w107", "checked_ddl", "frames", "violations_ddl", "w107_ddl"]
