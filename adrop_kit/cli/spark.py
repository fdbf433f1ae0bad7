"""`adrop-kit validate --engine spark`: the dataset checked by Spark, shown as the local engine shows it.

pyspark and a session are loaded only here, only when asked. The session: `--master` (`local[2]`,
`spark://host:7077`, …), else Spark Connect when `SPARK_REMOTE` is set, else what `spark-submit`
(or Spark's defaults) configured. The path is read by Spark: a file, a directory of part files
or a glob, local or on any filesystem Spark knows (`s3a://`, `hdfs://`, …).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from adrop_kit.cli.common import Fail, meta_columns, one_line
from adrop_kit.errors import AdropError
from adrop_kit.spec.catalog import Catalog

_URI = re.compile(r"^([A-Za-z][\w+.-]*):/(?!/)")  # what pathlib leaves of `s3a://bucket/…`


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
    for flag in ("--html", "--violations-out", "--delimiter"):
        if getattr(args, flag[2:].replace("-", "_"), None) is not None:
            raise Fail(f"{flag} needs the local engine (drop --engine spark)")
    from adrop_kit.spark import collect, get_session, validate  # pyspark: `pip install 'adrop-kit[spark]'`

    try:
        spark = get_session(args.master)
        return collect(validate(path, catalog=catalog, strict=args.strict, spark=spark,
                                extra_columns=meta_columns(args)))
    except AdropError as exc:
        raise Fail(one_line(name, exc)) from None
    except Exception as exc:  # noqa: BLE001 - Spark's own errors (a lost cluster, …): their first line
        lines = str(exc).strip().splitlines()
        raise Fail(one_line(name, lines[0] if lines else type(exc).__name__)) from None


__all__ = ["spark_path", "validate_on_spark"]
