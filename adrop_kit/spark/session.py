"""Getting pyspark and a SparkSession: pyspark is optional (`pip install 'adrop-kit[spark]'`).

Nothing in `adrop_kit` imports pyspark at import time; the functions of `adrop_kit.spark` ask
for it here, when called, and say how to install it when it is missing.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
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
    `PYSPARK_PYTHON` does). A master left to Spark is the one spark-submit would pick (`default_master`:
    `local[*]` unless configured), so a plain `adrop-kit validate --engine spark` in a venv works too."""
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    remote = os.environ.get("SPARK_REMOTE", "") if master is None else ""
    chosen = master or remote or default_master() or ""
    if chosen.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers: this interpreter, not `python3`
    if chosen.startswith("local") and (problem := local_worker_problem()) is not None:
        raise AdropError(problem)  # before a JVM starts: one line, not a task's stack trace
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


def default_master() -> str | None:
    """The master Spark picks when none is given, as spark-submit picks it: `--master` in
    `PYSPARK_SUBMIT_ARGS`, `spark.master` in spark-defaults.conf, the `MASTER` variable, else
    `local[*]`. None when spark-submit already started this driver (its JVM holds its own choice)."""
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        return None
    args = os.environ.get("PYSPARK_SUBMIT_ARGS", "").split()
    for i, arg in enumerate(args):
        if arg == "--master" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--master="):
            return arg.partition("=")[2]
    conf = os.environ.get("SPARK_CONF_DIR") or (os.path.join(os.environ["SPARK_HOME"], "conf")
                                                if os.environ.get("SPARK_HOME") else None)
    if conf:
        try:
            with open(os.path.join(conf, "spark-defaults.conf"), encoding="utf-8") as f:
                for line in f:
                    key, _, value = line.strip().partition(" ")
                    if key == "spark.master" and value.strip():
                        return value.strip()
        except OSError:
            pass
    return os.environ.get("MASTER") or "local[*]"


def worker_problem(exc: BaseException) -> str | None:
    """One line for a Spark job whose Python workers cannot import adrop_kit or what it needs (they
    run another interpreter than this one: `PYSPARK_PYTHON`, else Spark's `python3`), or None."""
    text = str(exc)
    found = _MISSING.search(text)
    if found is None:
        return None
    python = os.environ.get("PYSPARK_PYTHON") or "python3"
    return (f"Spark's Python workers ({python}) cannot import what adrop_kit needs ({found.group(0)}): set "
            f"PYSPARK_PYTHON to a Python where adrop-kit is installed, such as this one ({sys.executable})")


_MISSING = re.compile(r"No module named '[^'\n]{1,200}'")


def local_worker_problem() -> str | None:
    """Whether the Python a local master's workers run (`PYSPARK_PYTHON`, when it is another
    interpreter than this one) can import adrop_kit's Spark engine, as Spark starts it (pyspark on
    its path); one line saying why not, or None. Asked before the session starts."""
    python = os.environ.get("PYSPARK_PYTHON")
    if not python:
        return None
    found = shutil.which(python) or python
    if os.path.realpath(found) == os.path.realpath(sys.executable):
        return None
    import pyspark

    home = os.environ.get("SPARK_HOME") or os.path.dirname(os.path.abspath(pyspark.__file__))
    shipped = sorted(glob.glob(os.path.join(home, "python", "lib", "*.zip")))  # pyspark.zip, py4j: what Spark adds
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*shipped, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        done = subprocess.run([found, "-c", "import adrop_kit.spark.batches"], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"Spark's Python workers cannot start: PYSPARK_PYTHON is {python!r} ({exc.__class__.__name__})"
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    missing = _MISSING.search(done.stderr)
    why = missing.group(0) if missing else (lines[-1] if lines else f"exit status {done.returncode}")
    return (f"Spark's Python workers ({python}) cannot import what adrop_kit needs ({why}): set "
            f"PYSPARK_PYTHON to a Python where adrop-kit is installed, such as this one ({sys.executable})")


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


__all__ = ["INSTALL_HINT", "default_master", "get_session", "is_connect", "local_worker_problem", "quiet",
           "require_pyspark", "worker_problem"]
