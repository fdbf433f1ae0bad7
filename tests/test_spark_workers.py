"""Spark from the CLI just works in a venv (issue 18, item 10): without `--master` or `PYSPARK_PYTHON`,
Spark's default master is local and its Python workers run this interpreter, not the system `python3`;
workers that cannot import adrop_kit's engine are one line (exit 2), not a Java stack trace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SPARK_VARS, system_python_without_deps

from adrop_kit.spark.session import default_master, local_worker_problem, worker_problem


def _system_python_without_deps() -> str:
    python = system_python_without_deps()
    if python is None:
        pytest.skip("no system python3, or it has adrop_kit's dependencies: nothing to show")
    return python


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SPARK_VARS:
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


@pytest.mark.slow  # a fresh process
def test_spark_from_the_cli_with_workers_that_cannot_import_it_is_one_line(tmp_path: Path):
    """That a plain `adrop-kit validate --engine spark` (no `--master`, no `PYSPARK_PYTHON`, the system
    `python3` first on PATH) prints the local engine's JSON is tested with its Spark run in
    tests/test_spark_cli.py (one JVM start for both)."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark needs a JVM (Java 17)")
    python = _system_python_without_deps()
    data = tmp_path / "events.jsonl"
    data.write_text('{"uid":"u","eventName":"app_open"}\n{"uid":"","eventName":"app_open","price":1E2}\n')
    env = {k: v for k, v in os.environ.items() if k not in SPARK_VARS}
    env["PATH"] = os.pathsep.join([os.path.dirname(python), env.get("PATH", "")])  # `python3` is the system's
    done = _cli(["--engine", "spark", str(data)], {**env, "PYSPARK_PYTHON": python})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-3000:]
    assert "No module named" in lines[0] and "PYSPARK_PYTHON" in lines[0]
