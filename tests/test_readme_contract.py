"""The contract guide (docs/guide/contract.md) is true: its code blocks run, its output is what `fuzz` prints."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest

from adrop_kit.cli import main

pytest_plugins = ["pytester"]

# Imported here, not first inside an in-process pytester run: pytester drops the modules a run
# imported, and a second copy of adrop_kit's modules would not share classes with the first.
_PRELOAD = [importlib.import_module(m) for m in (
    "polars", "pandas", "hypothesis", "adrop_kit.validate.schemas", "adrop_kit.io.frames", "adrop_kit.send.sender",
    "adrop_kit.server", "adrop_kit.testing.strategies", "adrop_kit.testing.contract")]

README = Path(__file__).resolve().parent.parent / "docs" / "guide" / "contract.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- contract -->"), text.index("<!-- /contract -->")
    return text[start:end]


def _blocks(lang: str) -> list[str]:
    return [m.group(1) for m in re.finditer(rf"```{lang}\n(.*?)```", _section(), re.S)]


def _test_files() -> dict[str, str]:
    """The python blocks that are files: `# name.py` on the first line, or tests by their `def test_`."""
    files = {}
    for i, block in enumerate(_blocks("python")):
        first = block.splitlines()[0]
        if re.fullmatch(r"# [\w.]+\.py", first):
            files[first[2:]] = block
        elif "def test_" in block:
            files[f"test_readme_block_{i}.py"] = block
    return files


def test_the_section_has_the_examples_it_promises() -> None:
    files = _test_files()
    assert {"test_tracking.py", "conftest.py"} <= set(files)
    assert "adrop_server" in files["test_tracking.py"] and "adrop_sender" in files["test_tracking.py"]
    assert any("run_contract" in b for b in _blocks("python"))
    assert any(line.startswith("adrop-kit fuzz ") for b in _blocks("sh") for line in b.splitlines())


@pytest.mark.parametrize("index", [i for i, b in enumerate(_blocks("python"))
                                   if "def test_" not in b and not b.startswith("# conftest.py")])
def test_the_plain_python_blocks_run(index: int) -> None:
    from hypothesis import settings

    profile = settings.get_current_profile_name()
    try:
        exec(compile(_blocks("python")[index], f"README.md:contract:{index}", "exec"), {"__name__": "readme"})
    finally:
        settings.load_profile(profile)


@pytest.mark.slow  # the README's hypothesis tests, CI profile
def test_the_example_test_files_pass_with_the_plugin_and_the_ci_profile(pytester: pytest.Pytester,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis import settings

    files = _test_files()
    pytester.makepyfile(**{name.removesuffix(".py"): body for name, body in files.items()})
    monkeypatch.setenv("CI", "1")  # the README's conftest loads the profile on CI
    profile = settings.get_current_profile_name()
    try:
        result = pytester.runpytest("-q", "-p", "no:cacheprovider")
        loaded = settings.get_current_profile_name()
    finally:  # in-process: hypothesis' settings are global
        settings.load_profile(profile)
    tests = sum(body.count("\ndef test_") for name, body in files.items() if name.startswith("test_"))
    result.assert_outcomes(passed=tests)
    assert loaded == "adrop-ci"


def test_the_ini_options_shown_configure_the_fixtures(pytester: pytest.Pytester) -> None:
    [toml] = _blocks("toml")
    plan = re.search(r'adrop_plan = "([^"]+)"', toml).group(1)
    pytester.makefile(".toml", pyproject=toml)
    pytester.makefile(".toml", **{plan.removesuffix(".toml"): '[events.level_up.params]\nlevel = "integer"\n'})
    pytester.makepyfile(test_ini="""
        def test_options(adrop_catalog, adrop_server, adrop_sender):
            assert "level_up" in adrop_catalog and "level_up" in adrop_server.catalog
            assert adrop_server.strict
            assert adrop_sender.send({"uid": "u1", "eventName": "boss_fight"}).outcome == "skipped"
    """)
    pytester.runpytest("-q", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def _normalise(text: str) -> str:
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"lo…[0-9a-f]{2}", "lo…KEY", text)
    return re.sub(r"in \d+\.\d s", "in T s", text)


def test_the_fuzz_output_shown_is_what_fuzz_prints(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    [command] = [line for b in _blocks("sh") for line in b.splitlines()
                 if line.startswith("adrop-kit fuzz --server-strict")]
    shown = next(b for b in _blocks("text") if "disagrees" in b)
    code = main(shlex.split(command)[1:])
    assert code == 1
    assert _normalise(capsys.readouterr().out) == _normalise(shown)
