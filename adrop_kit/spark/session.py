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
LOOPBACK = "127.0.0.1"


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
    server of its own, on a free port of 127.0.0.1), else Spark's default. A session started here
    keeps Spark's own logs at WARN and its UI off unless asked for (not through a remote Connect
    server: it keeps its own settings); on a `local` master its driver listens on 127.0.0.1 only
    (unless `SPARK_LOCAL_IP` says otherwise) and its Python workers run this interpreter (unless
    `PYSPARK_PYTHON` does)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    remote = os.environ.get("SPARK_REMOTE", "") if master is None else ""
    if (master or remote).startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers: this interpreter, not `python3`
    own = {"spark.app.name": app_name, "spark.ui.showConsoleProgress": "false",
           "spark.ui.enabled": os.environ.get("ADROP_SPARK_UI", "false")}
    if (master or remote).startswith("local") and not os.environ.get("SPARK_LOCAL_IP"):
        own |= {"spark.driver.bindAddress": LOOPBACK, "spark.driver.host": LOOPBACK}  # all in this machine
    with quiet():  # pyspark's FutureWarning about pandas 3, printed when a Connect session starts
        if remote.startswith("local"):
            return _local_connect(remote, own)
        builder = SparkSession.builder.appName(app_name)
        if not remote:  # a remote Connect server keeps its own settings
            builder = builder.config(map=own)
        if master is not None:
            builder = builder.master(master)
        spark = builder.getOrCreate()
    context = getattr(spark, "sparkContext", None) if not is_connect(spark) else None
    if context is not None:
        context.setLogLevel("WARN")
    return spark


def _local_connect(master: str, settings: dict[str, str]) -> Any:
    """A Spark Connect session with a server of its own (`SPARK_REMOTE=local[2]`) in this process's
    JVM, on a free port of 127.0.0.1. pyspark's own start binds 15002 on every interface: a second
    run at the same time (another shell, CI jobs side by side) fails on the busy port, and the server
    listens on the network. The start is pyspark's (its token, its artifact settings); only where the
    server listens differs."""
    from pyspark.sql import SparkSession as ClassicSession
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    ConnectSession._start_connect_server(master, {**settings, "spark.connect.grpc.binding.address": LOOPBACK,
                                                  "spark.connect.grpc.binding.port": "0"})
    server = ClassicSession._instantiatedSession
    server.sparkContext.setLogLevel("WARN")
    service = getattr(server._jvm, "org.apache.spark.sql.connect.service.SparkConnectService$")
    port = getattr(service, "MODULE$").localPort()
    os.environ["SPARK_LOCAL_REMOTE"] = "1"  # as pyspark's own start: stop() stops the server's session too
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    # "localhost", not the address: pyspark sends the token over local channel credentials only to it
    return ConnectSession.builder.remote(f"sc://localhost:{port}").getOrCreate()


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
