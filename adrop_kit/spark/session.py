"""Getting pyspark and a SparkSession: pyspark is optional (`pip install 'adrop-kit[spark]'`).

Nothing in `adrop_kit` imports pyspark at import time; the functions of `adrop_kit.spark` ask
for it here, when called, and say how to install it when it is missing.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adrop_kit.errors import AdropError

INSTALL_HINT = "pip install 'adrop-kit[spark]'"


def require_pyspark() -> Any:
    """The pyspark module, or an AdropError naming the extra to install."""
    try:
        import pyspark
    except ImportError:
        raise AdropError(f"the Spark engine needs pyspark: {INSTALL_HINT}") from None
    return pyspark


def get_session(master: str | None = None, *, app_name: str = "adrop-kit") -> Any:
    """The active SparkSession, else a new one: on `master` (`local[2]`, `spark://host:7077`, …), or
    through Spark Connect when `SPARK_REMOTE` is set (`sc://host:15002`, or `local[2]` for a Connect
    server of its own), else Spark's default. A session started here keeps Spark's own logs at WARN
    and its UI off unless asked for (not a Connect session: its server keeps its own settings); on a
    `local` master its Python workers run this interpreter (unless `PYSPARK_PYTHON` says otherwise)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName(app_name)
    if master is not None or not os.environ.get("SPARK_REMOTE"):  # a Connect server keeps its own settings
        builder = builder.config("spark.ui.showConsoleProgress", "false") \
            .config("spark.ui.enabled", os.environ.get("ADROP_SPARK_UI", "false"))
    if master is not None:
        builder = builder.master(master)
    if (master or os.environ.get("SPARK_REMOTE", "")).startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers: this interpreter, not `python3`
    with quiet():  # pyspark's FutureWarning about pandas 3, printed when a Connect session starts
        spark = builder.getOrCreate()
    context = getattr(spark, "sparkContext", None) if not is_connect(spark) else None
    if context is not None:
        context.setLogLevel("WARN")
    return spark


@contextmanager
def quiet() -> Iterator[None]:
    """Without pyspark's FutureWarning about pandas 3 (mapInArrow does not use pandas)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        yield


def is_connect(spark: Any) -> bool:
    """A Spark Connect session (no SparkContext, no broadcast variables on the client)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


__all__ = ["INSTALL_HINT", "get_session", "is_connect", "quiet", "require_pyspark"]
