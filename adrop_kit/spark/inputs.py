"""What the Spark engine reads, and how it names every row: a *keyed* Spark DataFrame.

Every input row gets a key `(source, row)`, computed by Spark before any check runs, so that
violations, valid rows, W107 and send outcomes all name the same row the same way, on any
number of partitions:

- files (JSONL, read as text lines; Parquet; a directory is read recursively, as the local engine
  reads it: Hive-style `key=value` folders are folders, their keys are not columns, and `_`/`.`
  files are skipped): `source` is the file's path as Spark names it (a `file:` URI shown as a
  plain path; the CLI shows the local engine's names), `row` the 0-based line (JSONL: blank lines keep their
  number, as locally) or record (Parquet) in that file. It is exact whatever the splits: each
  split (`_metadata.file_block_start`) is counted once, and a row's number is the lines of the
  earlier splits of its file plus its position in its own split.
- a Spark DataFrame with `key="col"`: `row` is that integer column (unique, stable: the user's
  own id), `source` the `name=` given (default `<spark>`).
- a Spark DataFrame without a key: `row` is the 0-based position in the DataFrame's order
  (partition by partition), exact only while that order is deterministic: a DataFrame read from
  files is; one after a shuffle without an `orderBy` is not: pass `key=`.

Counting the splits (or partitions) is one small aggregation, run by the JVM when the keyed rows
are first needed. Parquet files that the executors can open as paths are checked row group by row
group instead (`local_row_groups`), numbered from each file's row-group sizes: the same numbers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from adrop_kit.errors import DataReadError
from adrop_kit.io.parts import PARQUET_FORMATS

SRC = "_adrop_source"
ROW = "_adrop_row"
LINE = "_adrop_line"
_BLK = "_adrop_block"
_MID = "_adrop_mid"
LINE_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = PARQUET_FORMATS
COMPRESSED = (".gz", ".bz2", ".deflate")  # decompressed by Spark's text reader (one split a file)
DEFAULT_NAME = "<spark>"


@dataclass
class Keyed:
    """An input, keyed: `sdf` has SRC, ROW and the payload (LINE for text lines, else the columns).
    Numbering the rows costs a pass over the splits, so it is done when `sdf` is first used."""

    build: Callable[[], Any] = field(repr=False)
    kind: str  # "lines" | "rows"
    name: str
    paths: tuple[str, ...] = ()
    """The paths read (empty for a DataFrame)."""
    files: Any = field(default=None, repr=False)
    """The files as Spark read them (`spark.read.parquet(*paths)`; None for text and DataFrames)."""

    @cached_property
    def sdf(self) -> Any:
        return self.build()

    @property
    def payload(self) -> list[str]:
        return [c for c in self.sdf.columns if c not in (SRC, ROW)]


FILE_SCHEME = "^file:(//)?"
"""A `file:` URI's prefix, which `source` does not show (a regular expression for Python and Spark)."""


def local_path(uri: str) -> str:
    """A `file:` URI (or a plain path) as a local path: the scheme dropped, %-escapes decoded."""
    return unquote(re.sub(FILE_SCHEME, "", uri))


def kind_of(path: str, fmt: str | None) -> str:
    """'lines' (JSONL) or 'rows' (Parquet) from `format=` or the path's suffix (a directory or glob:
    the suffix of its files, so pass `format=` for a directory)."""
    if fmt is not None:
        f = fmt.lower().lstrip(".")
        if f in ("jsonl", "ndjson", "json-lines"):
            return "lines"
        if f in ("parquet", "pq"):
            return "rows"
        raise DataReadError(f"format must be 'jsonl' or 'parquet' for the Spark engine, not {fmt!r}")
    name = path.rstrip("/").lower()
    for c in COMPRESSED:
        name = name.removesuffix(c)
    if name.endswith(LINE_SUFFIXES):
        return "lines"
    if name.endswith(PARQUET_SUFFIXES):
        return "rows"
    if Path(path).is_dir():  # a local directory of part files (Hive layouts too): the kind of its files
        known = (*LINE_SUFFIXES, *PARQUET_SUFFIXES, *(s + c for s in LINE_SUFFIXES for c in COMPRESSED))
        kinds = set()
        for top, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]  # as Spark lists files
            kinds |= {kind_of(os.path.join(top, f), None) for f in files
                      if not f.startswith(("_", ".")) and f.lower().endswith(known)}
        if len(kinds) == 1:
            return kinds.pop()
    raise DataReadError(f"{path}: the Spark engine reads JSONL (.jsonl, .ndjson, also .gz) and Parquet; pass "
                        "format='jsonl' or 'parquet' for a directory or another name (CSV and JSON arrays: "
                        "convert them, or use the local engine)")


def keyed(spark: Any, data: Any, *, key: str | None = None, name: str | None = None,
          fmt: str | None = None) -> Keyed:
    """A path (file, directory, glob; str or Path), a list of paths, or a Spark DataFrame → `Keyed`."""
    from pyspark.sql import functions as F

    if isinstance(data, (str, Path)) or (isinstance(data, (list, tuple)) and data
                                         and all(isinstance(p, (str, Path)) for p in data)):
        paths = [str(p) for p in (data if isinstance(data, (list, tuple)) else [data])]
        kinds = {kind_of(p, fmt) for p in paths}
        if len(kinds) > 1:
            raise DataReadError("the Spark engine reads one format at a time: pass JSONL files or Parquet files")
        kind = kinds.pop()
        try:
            if kind == "lines":
                raw = spark.read.option("lineSep", "\n").option("recursiveFileLookup", "true").text(paths)
                raw = raw.select(F.col("value").cast("binary").alias(LINE), F.col("_metadata.file_path").alias(SRC),
                                 F.col("_metadata.file_block_start").alias(_BLK))
            else:
                files = raw = spark.read.option("recursiveFileLookup", "true").parquet(*paths)
                raw = raw.select("*", F.col("_metadata.file_path").alias(SRC),
                                 F.col("_metadata.file_block_start").alias(_BLK))
        except Exception as exc:  # AnalysisException: a path that does not exist, …
            raise DataReadError(f"{', '.join(paths)}: cannot read: {_first_line(exc)}") from None
        raw = raw.withColumn(SRC, F.regexp_replace(F.col(SRC), FILE_SCHEME, ""))
        return Keyed(lambda: _numbered(spark, raw), kind, name or ", ".join(paths), tuple(paths),
                     files if kind == "rows" else None)
    if not hasattr(data, "mapInArrow"):
        raise DataReadError(f"cannot read a {type(data).__name__} with the Spark engine: pass a path (JSONL or "
                            "Parquet; a file, a directory or a glob) or a Spark DataFrame")
    label = name or DEFAULT_NAME
    clash = [c for c in (SRC, ROW, LINE) if c in data.columns]
    if clash:
        raise DataReadError(f"{label}: column {clash[0]!r} is reserved by adrop_kit.spark")
    if key is not None:
        if key not in data.columns:
            raise DataReadError(f"{label}: no key column {key!r} (columns: {', '.join(data.columns)})")
        sdf = data.select("*", F.lit(label).alias(SRC), F.col(key).cast("long").alias(ROW))
        return Keyed(lambda: sdf, "rows", label)
    raw = data.select("*", F.lit(label).alias(SRC), F.spark_partition_id().cast("long").alias(_BLK))
    return Keyed(lambda: _numbered(spark, raw), "rows", label)


def local_row_groups(k: Keyed) -> list[tuple[str, str, int, int]] | None:
    """For Parquet files the executors can open as local paths (as the driver does): every row group as
    (source, path, its first row in the file, its rows), so that the executors read the files themselves
    (polars, as the local reader) instead of through the JVM; None when that is not so (s3a://, …)."""
    if k.kind != "rows" or k.files is None:
        return None
    import pyarrow.parquet as pq

    tasks = []
    for uri in k.files.inputFiles():
        if not re.match(r"^(file:|/)", uri):
            return None
        source = re.sub(FILE_SCHEME, "", uri)  # as `keyed` names it (SRC)
        local = local_path(uri)
        if not os.path.isfile(local):
            return None
        meta = pq.ParquetFile(local).metadata
        first = 0
        for i in range(meta.num_row_groups):
            rows = meta.row_group(i).num_rows
            tasks.append((source, local, first, rows))
            first += rows
    return tasks


def _numbered(spark: Any, raw: Any) -> Any:
    """Add ROW: the position in the file (or DataFrame) of each row, from one count per split."""
    from pyspark.sql import functions as F

    raw = raw.withColumn(_MID, F.monotonically_increasing_id())
    blocks = raw.groupBy(SRC, _BLK).agg(F.count(F.lit(1)).alias("n"), F.min(_MID).alias("m0")).collect()
    base: list[tuple[str, int, int]] = []
    done: dict[str, int] = {}
    for b in sorted(blocks, key=lambda b: (b[SRC], b[_BLK])):  # the splits of a file, in file order
        before = done.get(b[SRC], 0)
        base.append((b[SRC], b[_BLK], before - b["m0"]))  # row = mid + base
        done[b[SRC]] = before + b["n"]
    if not base:
        return raw.select(*[c for c in raw.columns if c not in (_BLK, _MID)], F.lit(None).cast("long").alias(ROW))
    offsets = spark.createDataFrame(base, f"{SRC} string, {_BLK} long, _adrop_base long")
    out = raw.join(F.broadcast(offsets), [SRC, _BLK])
    return out.select(*[c for c in raw.columns if c not in (_BLK, _MID)],
                      (F.col(_MID) + F.col("_adrop_base")).alias(ROW))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = ["FILE_SCHEME", "LINE", "ROW", "SRC", "Keyed", "keyed", "kind_of", "local_path", "local_row_groups"]
