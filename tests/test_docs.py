"""Every code block of the README and the docs works when pasted alone.

A ```python block runs as a script of its own, in a fresh folder holding the files of `docs/data/`
(the data the docs ship), with no hypothesis profile loaded and no app key set; a ```sh block's
`adrop-kit …` lines run in that folder too (exit 0, or 1 where the data is meant to be invalid);
a ```toml block parses. A block may opt out with `<!-- docs-test: skip (why) -->` on the line before
its fence (only what needs Adrop's real API and a key, or installs software), and a sh block may
expect another exit code with `<!-- docs-test: exit N -->`.

The site itself is built with `mkdocs build --strict` (the rules and CLI references are generated
from the code by `docs/hooks.py`; a broken link or a page missing from the nav fails the build).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "data"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?:<!-- docs-test: (?P<directive>[^>]*?) -->\n)?^```(?P<lang>\w*)[^\n]*\n(?P<code>.*?)^```",
                   re.S | re.M)


def blocks(lang: str) -> list:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m["lang"] != lang:
                continue
            line = text.count("\n", 0, m.start("code"))
            directive = m["directive"] or ""
            marks = [pytest.mark.skip(reason=directive)] if directive.startswith("skip") else []
            found.append(pytest.param(m["code"], directive, id=f"{page.relative_to(ROOT)}:{line}", marks=marks))
    return found


def _folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(DATA, work)
    return work


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADROP_", "HYPOTHESIS", "PYTEST"))}
    env["PYTHONPATH"] = str(ROOT)
    env["ADROP_KIT_STATE_DIR"] = str(tmp_path / "state")  # a journal by default: never the real home
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    return env


def test_the_docs_have_code_to_check():
    assert len(blocks("python")) >= 10 and len(blocks("sh")) >= 5


@pytest.mark.parametrize(("code", "directive"), blocks("python"))
def test_python_blocks_compile(code, directive):
    compile(code, "<docs>", "exec")


@pytest.mark.parametrize(("code", "directive"), blocks("toml"))
def test_toml_blocks_parse(code, directive):
    tomllib.loads(code)


TEST_FILE = re.compile(r"# ((?:test_\w+|conftest)\.py)\n")


@pytest.mark.slow
@pytest.mark.parametrize(("code", "directive"), blocks("python"))
def test_python_blocks_run(code, directive, tmp_path):
    """A block is a script, or a test file when its first line names one (`# test_tracking.py`): then
    pytest runs it, with the plugin and the default hypothesis settings."""
    work = _folder(tmp_path)
    named = TEST_FILE.match(code)
    (work / (named[1] if named else "snippet.py")).write_text(code, encoding="utf-8")
    if named and named[1] == "conftest.py":
        (work / "test_empty.py").write_text("def test_nothing():\n    pass\n")
    command = ([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"] if named
               else [sys.executable, "snippet.py"])
    done = subprocess.run(command, cwd=work, env=_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (f"the block fails when pasted alone:\n{code}\n--- output ---\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def commands(code: str) -> list[str]:
    """The `adrop-kit …` command lines of a shell block (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    lines = [re.sub(r"\s+#.*$", "", ln.strip().removeprefix("$ ")) for ln in joined.splitlines()]
    return [ln for ln in lines if ln.startswith("adrop-kit ")]


@pytest.mark.slow
@pytest.mark.parametrize(("code", "directive"), blocks("sh"))
def test_shell_blocks_run(code, directive, tmp_path):
    wanted = {int(n) for n in re.findall(r"\d+", directive.removeprefix("exit"))} if directive.startswith("exit") \
        else {0, 1}
    work = _folder(tmp_path)
    for command in commands(code):
        if command.split()[1] in SERVES:
            _serves(command, work, _env(tmp_path))
            continue
        done = subprocess.run(["bash", "-c", command], cwd=work, env=_env(tmp_path), capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert done.returncode in wanted, (f"`{command}` exits {done.returncode}:\n{done.stdout[-1500:]}\n"
                                           f"{done.stderr[-1500:]}")
        assert "Traceback" not in done.stderr, f"`{command}`:\n{done.stderr[-3000:]}"


SERVES = {"serve", "lab"}
"""Commands that run until stopped: they pass when they are still up after a few seconds."""


def _serves(command: str, work: Path, env: dict[str, str]) -> None:
    if command.split()[1] == "lab":
        command += " --no-browser"
    proc = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        code = proc.wait(timeout=8)
    except subprocess.TimeoutExpired:
        return  # up and serving
    finally:
        proc.kill()
        out, err = proc.communicate()
    raise AssertionError(f"`{command}` stopped at once (exit {code}):\n{out[-1500:]}\n{err[-1500:]}")


def test_commands_are_found():
    assert commands("$ adrop-kit validate a.csv \\\n   --strict  # why\nmake demo\n") == [
        "adrop-kit validate a.csv --strict"]
    assert shlex.split("adrop-kit rules")[0] == "adrop-kit"


@pytest.mark.slow
def test_the_site_builds_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    rules = (tmp_path / "site" / "reference" / "rules" / "index.html").read_text(encoding="utf-8")
    from adrop_kit import Rule

    assert all(f'id="{r.value.lower()}"' in rules for r in Rule)
