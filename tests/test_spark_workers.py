"""Spark from the CLI just works in a venv (issue 18, item 10): without `--master` or `PYSPARK_PYTHON`,
Spark's default master is local and its Python workers run this interpreter, not the system `python3`;
workers that cannot import adrop_kit's engine are one line (exit 2), not a Java stack trace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from adrop_kit.spark.session import default_master, local_worker_problem, worker_problem

_SPARK_VARS = ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_REMOTE", "PYSPARK_SUBMIT_ARGS", "MASTER",
               "SPARK_CONF_DIR", "SPARK_HOME", "PYSPARK_GATEWAY_PORT")


def _system_python_without_deps() -> str:
    """The system `python3` (on a PATH without the venv), when it cannot import adrop_kit's dependencies."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if not p.startswith(os.path.dirname(sys.executable)))
    python = shutil.which("python3", path=path)
    if python is None:
        pytest.skip("no system python3")
    if subprocess.run([python, "-c", "import polars, orjson"], capture_output=True, check=False).returncode == 0:
        pytest.skip("the system python3 has adrop_kit's dependencies: nothing to show")
    return python


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SPARK_VARS:
        monkeypatch.delenv(name, raising=False)


def test_the_default_master_is_the_one_spark_submit_picks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    _clean_env(monkeypatch)
    assert default_master() == "local[*]"
    monkeypatch.setenv("MASTER", "spark://h:7077")
    assert default_master() == "spark://h:7077"
    (tmp_path / "spark-defaults.conf").write_text("# comment\nspark.master   yarn\n")
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    assert default_master() == "yarn"
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--master local[3] pyspark-shell")
    assert default_master() == "local[3]"
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "4040")  # spark-submit started this driver: its JVM decides
    assert default_master() is None


def test_workers_that_cannot_import_the_package_are_one_line(monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("pyspark")
    python = _system_python_without_deps()
    _clean_env(monkeypatch)
    monkeypatch.setenv("PYSPARK_PYTHON", python)
    problem = local_worker_problem()
    assert problem is not None and "\n" not in problem
    assert "No module named" in problem and "PYSPARK_PYTHON" in problem and sys.executable in problem
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    assert local_worker_problem() is None  # this interpreter: nothing to ask
    stack = RuntimeError("An exception was thrown from the Python worker:\nTraceback …\n"
                         "ModuleNotFoundError: No module named 'h11'\n\tat org.apache.spark…")
    assert "No module named 'h11'" in (worker_problem(stack) or "")
    assert worker_problem(RuntimeError("Connection refused")) is None


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "adrop_kit", "validate", *args], capture_output=True, text=True,
                          timeout=900, env=env, check=False)


@pytest.mark.slow
def test_spark_from_the_cli_in_a_venv(tmp_path: Path):
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark needs a JVM (Java 17)")
    python = _system_python_without_deps()
    data = tmp_path / "events.jsonl"
    data.write_text('{"uid":"u","eventName":"app_open"}\n{"uid":"","eventName":"app_open","price":1E2}\n')
    from adrop_kit.cli import main

    out = StringIO()
    with redirect_stdout(out):
        assert main(["validate", str(data), "--format", "json"]) == 1
    env = {k: v for k, v in os.environ.items() if k not in _SPARK_VARS}
    env["PATH"] = os.pathsep.join([os.path.dirname(python), env.get("PATH", "")])  # `python3` is the system's
    done = _cli(["--engine", "spark", str(data), "--format", "json"], env)
    assert done.returncode == 1, done.stderr[-3000:]
    assert json.loads(done.stdout) == json.loads(out.getvalue())
    assert "Traceback" not in done.stderr
    done = _cli(["--engine", "spark", str(data)], {**env, "PYSPARK_PYTHON": python})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert "No module named" in lines[0] and "PYSPARK_PYTHON" in lines[0]
