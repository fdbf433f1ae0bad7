"""`adrop-kit validate --engine spark`: the dataset checked by Spark, shown as the local engine shows it.

pyspark and a session are loaded only here, only when asked. The session: `--master` (`local[2]`,
`spark://host:7077`, …), else Spark Connect when `SPARK_REMOTE` is set, else what `spark-submit`
(or Spark's defaults: `local[*]`, its workers running this interpreter unless `PYSPARK_PYTHON` says
otherwise) configured; workers that cannot import adrop_kit are one line, not a Java stack trace.
The path is read by Spark: a file, a directory of part files or a glob, local or on any filesystem
Spark knows (`s3a://`, `hdfs://`, …).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from typing import Any

from adrop_kit.cli.common import Fail, meta_columns, one_line
from adrop_kit.errors import AdropError
from adrop_kit.io.parts import resolve_inputs
from adrop_kit.spec.catalog import Catalog

_URI = re.compile(r"^([A-Za-z][\w+.-]*):/(?!/)")  # what pathlib leaves of `s3a://bucket/…`
_REMOTE = re.compile(r"^(?!file:)[A-Za-z][\w+.-]+:/", re.IGNORECASE)  # `s3a://…`, `hdfs://…`: not a local file


def spark_path(path: Any) -> str:
    """The path as typed: pathlib folds `s3a://b/k` into `s3a:/b/k`; a `file:/…` URI is left as it is."""
    text = str(path)
    m = _URI.match(text)
    return text if m is None or m.group(1).lower() == "file" or len(m.group(1)) == 1 else _URI.sub(r"\1://", text)


def validate_on_spark(args: argparse.Namespace, catalog: Catalog) -> Any:
    """Run `adrop_kit.spark.validate` on `args.path`; a `DatasetReport` with Spark's exact counts."""
    paths = [spark_path(p) for p in (args.path if isinstance(args.path, list) else [args.path])]
    path: Any = paths[0] if len(paths) == 1 else paths
    name = " ".join(paths)
    for flag in ("--html", "--violations-out", "--valid-out", "--invalid-out", "--delimiter"):
        if getattr(args, flag[2:].replace("-", "_"), None) is not None:
            raise Fail(f"{flag} needs the local engine (drop --engine spark)")
    from adrop_kit.spark import collect, get_session, validate  # pyspark: `pip install 'adrop-kit[spark]'`
    from adrop_kit.spark.session import worker_problem

    try:
        spark = get_session(args.master)
        report = collect(validate(path, catalog=catalog, strict=args.strict, spark=spark,
                                  extra_columns=meta_columns(args)))
    except AdropError as exc:
        raise Fail(one_line(name, exc)) from None
    except Exception as exc:  # noqa: BLE001 - Spark's own errors (a lost cluster, …): their first line
        lines = str(exc).strip().splitlines()
        raise Fail(one_line(name, worker_problem(exc) or (lines[0] if lines else type(exc).__name__))) from None
    return local_labels(report, path)


def local_labels(report: Any, path: Any) -> Any:
    """The report with each file named as the local engine names it (relative to a directory
    given, as typed for a file), and the files skipped beside them (`_SUCCESS`, …) listed as it
    lists them: Spark names files by their full URI. Only for local paths (an
    `s3a://` file keeps Spark's name); the violations are put back in the local engine's order."""
    import polars as pl

    from adrop_kit.spark.inputs import local_path

    items = path if isinstance(path, list) else [path]
    if any(_REMOTE.match(p) for p in items):
        return report
    local = [local_path(p) for p in items]
    try:
        inputs = resolve_inputs(local if len(local) > 1 else local[0])
    except (AdropError, OSError):
        return report
    if not inputs.multi:
        return report
    labels = {os.path.abspath(part.path): part.label for part in inputs.parts if part.path is not None}
    rank = {label: i for i, label in enumerate(labels.values())}
    v = report.violations
    names = {n: labels.get(os.path.abspath(local_path(n)), n) for n in v.get_column("source").unique()}
    v = v.with_columns(pl.col("source").replace_strict(names, return_dtype=pl.String))
    v = v.sort(pl.col("source").replace_strict(rank, default=len(rank), return_dtype=pl.Int64), "row", "rule",
               "field", maintain_order=True)
    return dataclasses.replace(report, violations=v, sources=tuple(labels.values()),
                               skipped=tuple(inputs.skipped))


__all__ = ["local_labels", "spark_path", "validate_on_spark"]
