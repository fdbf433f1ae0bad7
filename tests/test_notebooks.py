"""Every notebook runs top to bottom in a fresh kernel (slow: `-m "not slow"` skips it).

That each committed .ipynb matches its jupytext source (notebooks/*.py) and is clean (no outputs,
no widget state) is checked, without a kernel, in tests/test_notebook_sources.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 180


def run(nb, cwd: Path) -> None:
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()


@pytest.fixture
def clean_env(monkeypatch):
    """No real endpoint: the notebooks use their embedded local server."""
    for name in ("ADROP_ENDPOINT", "ADROP_APP_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_there_are_notebooks():
    assert {p.name for p in ALL} >= {"01_validate.ipynb", "02_explore.ipynb", "03_contract.ipynb", "04_send.ipynb"}


@pytest.mark.slow
@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_notebook_runs_without_error(path, tmp_path, clean_env):
    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    copy = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    nb = nbformat.read(copy / path.name, as_version=4)
    run(nb, copy)  # raises CellExecutionError, naming the cell, on the first error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before  # it wrote nothing next to the notebooks


@pytest.mark.slow
def test_the_kernel_is_this_virtualenvs_python(tmp_path, clean_env):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; print(sys.prefix)")])
    run(nb, tmp_path)
    assert nb.cells[0].outputs[0]["text"].strip() == sys.prefix


def test_adrop_kit_lab_opens_working_copies_bound_to_loopback(monkeypatch, tmp_path):
    from adrop_kit.cli import main

    calls = []
    envs = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, env=None: calls.append(cmd) or envs.append(env) or 0)
    monkeypatch.chdir(tmp_path)  # no ./notebooks here: the repository's folder is found
    assert main(["lab", "--port", "9123", "--no-browser"]) == 0
    (cmd,) = calls
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ip=127.0.0.1" in cmd and "--port=9123" in cmd and "--no-browser" in cmd
    work = tmp_path / ".adrop-lab"
    assert Path(cmd[-1]) == work  # the committed notebooks are never opened (nor autosaved) in place
    assert sorted(p.name for p in work.glob("*.ipynb")) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert ("--allow-root" in cmd) == (os.geteuid() == 0)  # JupyterLab refuses root without it (containers)
    settings = Path(envs[0]["JUPYTERLAB_SETTINGS_DIR"])  # no "Jupyter news?" pop-up over the widgets
    notification = settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    assert json.loads(notification.read_text())["fetchNews"] == "false"

    edited = work / "01_validate.ipynb"
    edited.write_text("{}")
    assert main(["lab", "--no-browser"]) == 0 and edited.read_text() == "{}"  # a re-run keeps your work
    assert main(["lab", "--no-browser", "--fresh"]) == 0 and edited.read_text() != "{}"

    assert main(["lab", "--dir", str(NOTEBOOKS), "--no-browser"]) == 0 and Path(calls[-1][-1]) == NOTEBOOKS
    assert main(["lab", "--dir", str(tmp_path / "nope")]) == 2
