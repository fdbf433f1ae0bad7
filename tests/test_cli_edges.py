"""Every CLI failure is one line with exit 2, never a traceback (issue 19): each subcommand run with
hostile arguments (a second path that does not exist, a directory where a file is expected, a
file where a directory is, unwritable outputs, closed standard streams, names with control
characters)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import KEY, app_opens, write_jsonl

from adrop_kit.cli import main


@pytest.fixture
def files(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", app_opens(2))
    (tmp_path / "empty").mkdir()
    (tmp_path / "plan.toml").write_text("not = [valid")
    return {"good": str(good), "dir": str(tmp_path / "empty"), "plan": str(tmp_path / "plan.toml"),
            "missing": str(tmp_path / "typo"), "nowhere": str(good / "x.jsonl"),  # under a file: no directory there
            "evil": str(tmp_path / "ev\nil\x1b[31m.jsonl")}


HOSTILE = [
    ["validate", "{good}", "{missing}"],                  # a second path that does not exist
    ["validate", "{good}", "typo"],
    ["validate", "{missing}"],
    ["validate", ""],                                     # an empty shell variable
    ["validate", "{dir}"],                                # no dataset files
    ["validate", "{evil}"],
    ["validate", "{good}", "--plan", "{missing}"],
    ["validate", "{good}", "--plan", "{dir}"],
    ["validate", "{good}", "--plan", "{plan}"],
    ["validate", "{good}", "--violations-out", "{nowhere}"],
    ["validate", "{good}", "--violations-out", "{dir}"],
    ["validate", "{good}", "--valid-out", "{good}.txt"],
    ["validate", "{good}", "--html", "{nowhere}"],
    ["validate", "/dev/zero"],
    ["validate", "{good}", "--batch-mb", "0"],
    ["validate", "{good}", "--delimiter", "xx"],
    ["catalog", "--plan", "{dir}"],
    ["sample", "10", "--out", "{nowhere}"],
    ["sample", "10", "--out", "{dir}"],
    ["sample", "5", "--parts", "2", "--out", "{good}"],
    ["sample", "-1", "--out", "x.jsonl"],
    ["send", "{good}", "{missing}", "--dry-run"],
    ["send", "{missing}", "--dry-run"],
    ["send", "{evil}", "--dry-run"],
    ["send", "{good}", "--endpoint", "ftp://x/event", "--dry-run"],
    ["send", "{good}", "--endpoint", "http://example.com/event", "--dry-run"],
    ["send", "{good}", "--endpoint", "https://user:pw@example.com/event", "--dry-run"],
    ["send", "{good}", "--journal", "{dir}", "--dry-run"],
    ["send", "{good}", "--journal", "{nowhere}", "--dry-run"],
    ["send", "{good}", "--outcomes-out", "{nowhere}", "--dry-run"],
    ["send", "{good}", "--outcomes-out", "{good}.txt", "--dry-run"],
    ["send", "{good}", "--hold-warnings", "E001", "--dry-run"],
    ["send", "{good}", "--concurrency", "0", "--dry-run"],
    ["fuzz", "--endpoint", "ftp://x"],
    ["fuzz", "--plan", "{dir}"],
    ["export", "jsonschema", "--out", "{nowhere}"],
    ["export", "openapi", "--plan", "{plan}"],
    ["serve", "--db", "{dir}", "--port", "0"],
    ["serve", "--port", "70000"],
    ["demo", "--out", "{dir}"],
    ["lab", "--port", "-1"],
    ["nosuchcommand"],
]


@pytest.mark.parametrize("argv", HOSTILE, ids=lambda a: " ".join(a)[:60])
def test_each_subcommand_fails_with_one_line_and_exit_2(argv, files, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    code = main([a.format(**files) for a in argv])
    captured = capsys.readouterr()
    assert code == 2, captured
    err = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err and "\x1b" not in captured.err + captured.out
    assert err and err[-1].startswith(("adrop-kit: error:", "adrop-kit ")), captured.err  # argparse: usage first
    if "usage:" not in captured.err:
        assert len(err) == 1, captured.err


def test_a_bug_is_still_one_line_and_the_key_is_not_in_it(files, capsys, monkeypatch):
    def broken(plan):
        raise TypeError(f"unexpected {KEY!r}")

    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    monkeypatch.setattr("adrop_kit.cli.validate.load_catalog", broken)
    assert main(["validate", files["good"]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error (TypeError" in err and KEY not in err and "sk…89" in err


def _run(args, **kw):
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "adrop_kit", *args], capture_output=True, text=True,
                          timeout=120, env=env, **kw)


def test_stdin_closed_is_one_line_exit_2(tmp_path):
    for command in (["validate", "-"], ["send", "-", "--dry-run", "--no-progress"]):
        run = subprocess.run(f"{sys.executable} -m adrop_kit {' '.join(command)} <&-", shell=True,
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert run.stderr.strip() == "adrop-kit: error: -: standard input is closed (nothing to read; pipe a " \
                                     "JSONL file in, e.g. `adrop-kit validate - < events.jsonl`)"


def test_stdout_closed_is_one_line_exit_2(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", app_opens(1))
    run = subprocess.run(f"{sys.executable} -m adrop_kit validate {good} >&-", shell=True, capture_output=False,
                         stderr=subprocess.PIPE, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert run.returncode == 2 and run.stderr.strip() == "adrop-kit: error: standard output is closed; nothing " \
                                                         "could be shown"


def test_a_missing_second_path_names_it(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", app_opens(1))
    run = _run(["validate", str(good), "typo"], cwd=tmp_path)
    assert run.returncode == 2 and run.stderr == "adrop-kit: error: typo: no such file\n"
