"""The package works outside this repository: `python -m build` gives an sdist and a wheel; the wheel
installs into a fresh virtual environment and its command, its API and its notebooks work there."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("package")]  # under pytest-xdist: one build, not one a worker


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_the_sdist_holds_what_a_build_needs(dist):
    (sdist,) = dist.glob("*.tar.gz")
    names = tarfile.open(sdist).getnames()
    for wanted in ("pyproject.toml", "README.md", "adrop_kit/__init__.py", "notebooks/01_validate.ipynb",
                   "CHANGELOG.md"):
        assert any(n.endswith(wanted) for n in names), wanted


def test_the_wheel_installs_and_works_in_a_fresh_venv(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith("share/adrop-kit/notebooks/02_explore.ipynb") for n in names)
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ADROP_APP_KEY")}
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, timeout=300, env=env)
    # the dependencies come from this environment (no download), after the venv's own site-packages:
    # adrop_kit itself comes from the wheel
    (Path(purelib) / "_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    work = tmp_path / "project"
    work.mkdir()
    (work / "events.jsonl").write_text('{"uid":"u1","eventName":"app_open"}\n{"uid":"u2","eventName":"purchase"}\n')

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=300)

    where = run(str(python), "-c", "import adrop_kit; print(adrop_kit.__file__, adrop_kit.__version__)")
    assert where.returncode == 0 and where.stdout.startswith(str(env_dir)), where.stdout + where.stderr
    checked = run(str(env_dir / "bin" / "adrop-kit"), "validate", "events.jsonl", "--format", "json")
    assert checked.returncode == 1 and '"invalid": 1' in checked.stdout, checked.stdout + checked.stderr
    found = run(str(python), "-c", "from adrop_kit.cli.lab import notebooks_dir; print(notebooks_dir())")
    assert found.stdout.strip().startswith(str(env_dir)), found.stdout + found.stderr
