"""`adrop-kit validate --engine spark` on a directory of parts, on a classic master and through
Spark Connect (`SPARK_REMOTE`): the JSON printed is the local engine's, file names included.

Each Spark run is a fresh `adrop-kit` process (a session of its own: a Spark Connect server and a
classic SparkContext cannot share one JVM with the other Spark tests); the local engine's JSON is
computed once, in this process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout, suppress
from io import StringIO
from pathlib import Path

import pytest
from conftest import SPARK_VARS, system_python_without_deps

from adrop_kit.explore.synth import sample_events

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")]


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two JSONL parts in a Hive-style layout; the second sorts first by Spark's full path but not
    by its name relative to the directory, and a third part has no violation at all."""
    root = tmp_path_factory.mktemp("spark-cli") / "export"
    events = sample_events(400, seed=5, error_rate=0.1)
    (root / "dt=2026-11-02").mkdir(parents=True)
    (root / "dt=2026-11-01").mkdir()
    (root / "dt=2026-11-02" / "part-0.jsonl").write_text("\n".join(json.dumps(e) for e in events[:200]) + "\n")
    (root / "dt=2026-11-01" / "part-1.jsonl").write_text(
        "\n".join(json.dumps(e) for e in events[200:]) + '\n{"uid": "a", "eventName": "add_to_cart", "price": "9"}\n'
        + '{"uid":"","eventName":"app_open","price":1E2}\n'
        + "not json\n")
    clean = {"uid": "u", "eventName": "app_open", "platform": "web"}
    (root / "dt=2026-11-01" / "part-2.jsonl").write_text(json.dumps(clean) + "\n")
    (root / "_SUCCESS").write_text("")
    return root


CONNECT_PORT = 15002
"""Spark Connect's default port: pyspark's own local start binds it on every interface, so two runs
at once (or anything else on it) failed."""


@contextmanager
def holding(port: int) -> Iterator[None]:
    """`port` of 127.0.0.1 taken while the block runs (if someone else has it, it is taken all the same)."""
    with socket.socket() as s:
        with suppress(OSError):
            s.bind(("127.0.0.1", port))
            s.listen()
        yield


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark needs a JVM (Java 17)")
    return subprocess.run([sys.executable, "-m", "adrop_kit", "validate", *args, "--format", "json"],
                          capture_output=True, text=True, timeout=900,
                          env=env if env is not None else {**os.environ, "PYSPARK_PYTHON": sys.executable})


def plain_venv_env() -> dict[str, str]:
    """A venv user's shell: no Spark setting at all (no master, no `PYSPARK_PYTHON`), and the system
    `python3`, which cannot import adrop_kit's dependencies, first on PATH when there is one (Spark's
    own default for its workers): `adrop-kit validate --engine spark` must still just work."""
    env = {k: v for k, v in os.environ.items() if k not in SPARK_VARS}
    if (python := system_python_without_deps()) is not None:
        env["PATH"] = os.pathsep.join([os.path.dirname(python), env.get("PATH", "")])
    return env


@pytest.fixture(scope="module")
def local_json(parts: Path) -> dict:
    """What the local engine prints for `parts` (in this process: only Spark needs a fresh one)."""
    from adrop_kit.cli import main

    out = StringIO()
    with redirect_stdout(out):
        assert main(["validate", str(parts), "--format", "json"]) == 1
    want = json.loads(out.getvalue())
    assert want["sources"] == ["dt=2026-11-01/part-1.jsonl", "dt=2026-11-01/part-2.jsonl",
                               "dt=2026-11-02/part-0.jsonl"]
    return want


@pytest.mark.parametrize("how", ["default", "connect"])
def test_a_directory_prints_the_local_json_on_spark(parts: Path, local_json: dict, how: str) -> None:
    """`default`: Spark's default master from a plain venv (issue 18, item 10; `--master` itself runs in
    the docs' own example, tests/test_docs.py); `connect`: a Spark Connect server of its own."""
    want = local_json
    if how == "default":
        done = run(["--engine", "spark", str(parts)], plain_venv_env())
    else:
        with holding(CONNECT_PORT):  # its server listens on a free port of 127.0.0.1, not on 15002
            done = run(["--engine", "spark", str(parts)], {**os.environ, "PYSPARK_PYTHON": sys.executable,
                                                          "SPARK_REMOTE": "local[2]"})
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == want
    assert "Traceback" not in done.stderr and "CANNOT_MODIFY_CONFIG" not in done.stderr
    assert "FutureWarning" not in done.stderr
