"""What several test modules share. The local server and a sender for it are not here: they come
from adrop-kit's own pytest plugin (`adrop_server`, `adrop_sender`, `adrop_catalog`), which the
suite uses the way a user's suite would.

The helpers below are plain names, imported with `from conftest import ...` (tests/ is not a
package, so pytest puts it on sys.path).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

FAST_PROFILE = "fast"
settings.register_profile(FAST_PROFILE, max_examples=20)
"""`make test-fast` (`pytest -m "not slow" --hypothesis-profile=fast`): a fifth of every property
test's examples, through `examples()`. The full suite (`make test`, CI) runs them all."""

KEY = "sk-live-VERYSECRET-0123456789"
"""An app key that looks real, for servers started by hand and for the sender: tests assert that
it never shows (masked it is `sk…89`). Servers from the `adrop_server` fixture have their own key,
`adrop_server.app_key`."""


@pytest.fixture(autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own adrop-kit state directory (`ADROP_KIT_STATE_DIR`: default journals),
    inherited by the processes it starts: nothing is written to the real home, and no test sees
    another's journals."""
    path = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("ADROP_KIT_STATE_DIR", str(path))
    return path


def examples(n: int) -> int:
    """`n` hypothesis examples in the full suite; as many in proportion to the loaded profile's
    `max_examples` (100 by default) otherwise, at least 5: 40 of 200 under the fast profile. For
    `@settings(max_examples=...)`, which a profile alone does not override."""
    return max(5, n * settings.default.max_examples // 100)


def app_opens(n: int, prefix: str = "u") -> list[dict[str, Any]]:
    """`n` valid events, each of a different user: `{"uid": "u0", "eventName": "app_open"}`, …"""
    return [{"uid": f"{prefix}{i}", "eventName": "app_open"} for i in range(n)]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """`rows` as a JSONL file, one JSON value a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path



def exchange(server: Any, data: bytes, *, timeout: float = 3.0) -> bytes:
    """Send raw bytes to `server`, then read until it closes (or stays silent for `timeout`)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(data)
        out = []
        try:
            while chunk := s.recv(65536):
                out.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(out)


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values, type for type: 1 is not 1.0, -0.0 is not 0.0, NaN is NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test`: two workers, `--dist loadgroup`) the tests that share the
    `spark` session below run on one worker: one JVM for them all, not one a worker. Everything else
    is free to run on either: servers listen on free ports of 127.0.0.1, files go to each test's
    tmp_path, journals to its own ADROP_KIT_STATE_DIR."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One SparkSession on `local[2]` for every test that can share it (a JVM start is the slow part
    of a Spark test); a test that changes a runtime setting puts it back. Tests that need a session
    of their own (a fresh `adrop-kit` process, Spark Connect) start a process instead."""
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark needs a JVM (Java 17)")
    from adrop_kit.spark import get_session

    session = get_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


SPARK_VARS = ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_REMOTE", "PYSPARK_SUBMIT_ARGS", "MASTER",
              "SPARK_CONF_DIR", "SPARK_HOME", "PYSPARK_GATEWAY_PORT")
"""What tells Spark where to run and which Python its workers start: a test of the defaults clears them."""


def system_python_without_deps() -> str | None:
    """The system `python3` (on a PATH without the venv) when it cannot import adrop_kit's dependencies,
    else None: Spark's own default for its Python workers, which a venv's `adrop-kit` must not use."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if not p.startswith(os.path.dirname(sys.executable)))
    python = shutil.which("python3", path=path)
    if python is None:
        return None
    if subprocess.run([python, "-c", "import polars, orjson"], capture_output=True, check=False).returncode == 0:
        return None
    return python
