"""The `adrop-kit` command, driven the way a user drives it: `main([...])`, then stdout, stderr and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from adrop_kit import Rule
from adrop_kit.cli import main

GOOD = {"uid": "u1", "eventName": "sign_up", "method": "email", "platform": "web"}
BAD = [
    {"uid": "u2", "eventName": "sign_up"},                                                     # E005
    {"uid": "   ", "eventName": "app_open"},                                                   # E002
    {"uid": "u3", "eventName": "add_to_cart", "item_id": "x", "price": "12", "quantity": 1},   # E006
    {"uid": "u4", "eventName": "purchase", "tx_id": "t1"},                                     # E007
]
CUSTOM = {"uid": "u5", "eventName": "level_up", "level": 3}                                    # W101 only
WARNED = {"uid": "u6", "eventName": "purchase", "tx_id": "t2", "currency": "krw",              # W104 only
          "items": [{"item_id": "a", "price": 3}]}

PLAN = """
[events.level_up]
group = "game"
description = "Player reached a new level"

[events.level_up.params]
level = { type = "integer", required = true }
character = "string"
"""

SUMMARY_KEYS = {"rows", "valid", "invalid", "warned"}
VIOLATION_KEYS = {"row", "line", "eventName", "rule", "severity", "field", "value", "message"}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """One good row, four invalid ones, one custom event and one valid row with a warning."""
    return write_jsonl(tmp_path / "events.jsonl", [GOOD, *BAD, CUSTOM, WARNED])


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    p = tmp_path / "plan.toml"
    p.write_text(PLAN, encoding="utf-8")
    return p


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *mentions: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("adrop-kit: error: ")
    for m in mentions:
        assert m in lines[0]


# -- validate: json ------------------------------------------------------------------
def test_validate_json_is_exactly_one_object_with_every_violation(capsys, mixed):
    code, out, err = run(capsys, "validate", mixed, "--format", "json")

    assert code == 1
    doc = json.loads(out)  # raises if anything else is on stdout
    assert set(doc) == {"summary", "violations"}
    assert doc["summary"] == {"rows": 7, "valid": 3, "invalid": 4, "warned": 2}
    assert all(set(v) == VIOLATION_KEYS for v in doc["violations"])
    by_row = {v["row"]: v for v in doc["violations"]}
    assert (by_row[1]["rule"], by_row[1]["field"], by_row[1]["eventName"]) == ("E005", "method", "sign_up")
    assert by_row[2]["rule"] == "E002"
    assert by_row[3]["rule"] == "E006" and "12" in by_row[3]["value"]
    assert by_row[4]["rule"] == "E007"
    assert (by_row[5]["rule"], by_row[5]["severity"]) == ("W101", "warning")
    assert by_row[6]["rule"] == "W104"
    assert 0 not in by_row


def test_validate_json_ignores_limit_and_lists_all(capsys, tmp_path):
    path = write_jsonl(tmp_path / "many.jsonl", [{"uid": f"u{i}", "eventName": "sign_up"} for i in range(30)])
    code, out, _ = run(capsys, "validate", path, "--format", "json", "--limit", "2")
    assert code == 1
    doc = json.loads(out)
    assert len(doc["violations"]) == 30
    assert [v["row"] for v in doc["violations"]] == list(range(30))


# -- validate: exit codes ------------------------------------------------------------
def test_all_good_exits_0(capsys, tmp_path):
    path = write_jsonl(tmp_path / "good.jsonl", [GOOD, GOOD])
    code, out, _ = run(capsys, "validate", path)
    assert code == 0
    assert "Every row is valid" in out


def test_warnings_only_exit_0(capsys, tmp_path):
    path = write_jsonl(tmp_path / "warn.jsonl", [GOOD, CUSTOM, WARNED])
    code, out, _ = run(capsys, "validate", path, "--format", "json")
    assert code == 0
    assert json.loads(out)["summary"] == {"rows": 3, "valid": 3, "invalid": 0, "warned": 2}


def test_strict_makes_an_unknown_event_fail(capsys, tmp_path):
    path = write_jsonl(tmp_path / "custom.jsonl", [GOOD, CUSTOM])
    assert run(capsys, "validate", path)[0] == 0

    code, out, _ = run(capsys, "validate", path, "--strict", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["summary"]["invalid"] == 1
    assert [(v["row"], v["rule"], v["severity"]) for v in doc["violations"]] == [(1, "W101", "error")]


def test_plan_makes_a_custom_event_valid(capsys, tmp_path, plan):
    path = write_jsonl(tmp_path / "game.jsonl", [GOOD, CUSTOM, {**CUSTOM, "character": "mage"}])
    code, out, _ = run(capsys, "validate", path, "--plan", plan, "--strict", "--format", "json")
    assert code == 0
    assert json.loads(out) == {"summary": {"rows": 3, "valid": 3, "invalid": 0, "warned": 0}, "violations": []}


def test_plan_requirements_are_enforced(capsys, tmp_path, plan):
    path = write_jsonl(tmp_path / "game.jsonl", [{"uid": "u1", "eventName": "level_up"}])
    code, out, _ = run(capsys, "validate", path, "--plan", plan, "--format", "json")
    assert code == 1
    [v] = json.loads(out)["violations"]
    assert (v["rule"], v["field"]) == ("E005", "level")


def test_missing_file_exits_2_with_one_line(capsys, tmp_path):
    missing = tmp_path / "nope.jsonl"
    code, out, err = run(capsys, "validate", missing)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, str(missing))


def test_unknown_extension_exits_2_with_one_line(capsys, tmp_path):
    path = tmp_path / "events.txt"
    path.write_text(json.dumps(GOOD) + "\n")
    code, out, err = run(capsys, "validate", path, "--format", "json")
    assert code == 2
    assert out == ""
    assert_one_line_error(err, "events.txt")


def test_unparseable_file_exits_2_with_one_line(capsys, tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet")
    code, out, err = run(capsys, "validate", path)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, "broken.parquet")


@pytest.mark.parametrize(
    "text",
    [
        "[events.level_up\n",                                   # not TOML
        '[events.level_up.params]\nlevel = "float"\n',          # unknown type
        '[events.sign_up.params]\nmethod = "string"\n',         # redefines a standard parameter
        "[other]\nx = 1\n",                                     # unknown top-level key
    ],
)
def test_bad_plan_exits_2_with_one_line(capsys, tmp_path, mixed, text):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    for argv in (("validate", mixed, "--plan", bad), ("catalog", "--plan", bad)):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert out == ""
        assert_one_line_error(err, "bad.toml")


def test_missing_plan_exits_2(capsys, mixed, tmp_path):
    code, _, err = run(capsys, "validate", mixed, "--plan", tmp_path / "nope.toml")
    assert code == 2
    assert_one_line_error(err, "nope.toml")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["validate"],
        ["validate", "x.jsonl", "--format", "xml"],
        ["validate", "x.jsonl", "--limit", "-1"],
        ["validate", "x.jsonl", "--limit", "many"],
        ["sample", "10"],
        ["sample", "10", "--out", "x.jsonl", "--error-rate", "2"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert "error:" in err


# -- validate: table -----------------------------------------------------------------
def test_table_shows_summary_rules_and_violations(capsys, mixed):
    code, out, _ = run(capsys, "validate", mixed)
    assert code == 1
    assert "7 rows" in out
    for label, n in (("valid", 3), ("invalid", 4), ("warned", 2)):
        assert any(line.split()[:2] == [label, str(n)] for line in out.splitlines()), out
    for rule in ("E002", "E005", "E006", "E007", "W101", "W104"):
        assert rule in out
    assert Rule.E007.title in out
    assert "method is required for sign_up" in out
    assert "\x1b[" not in out  # not a terminal: no color


def test_table_limits_rows_and_points_to_json(capsys, tmp_path):
    path = write_jsonl(tmp_path / "many.jsonl", [{"uid": f"u{i}", "eventName": "sign_up"} for i in range(1500)])
    code, out, _ = run(capsys, "validate", path, "--limit", "5")
    assert code == 1
    assert "1,500 rows" in out
    assert "… and 1,495 more; use --format json for all" in out
    listed = [line for line in out.splitlines() if "method is required" in line]
    assert len(listed) == 5


def test_table_truncates_long_values(capsys, tmp_path):
    long = {"uid": "u1", "eventName": "add_to_cart", "item_id": "a", "price": "9" * 500, "quantity": 1}
    path = write_jsonl(tmp_path / "long.jsonl", [long])
    code, out, _ = run(capsys, "validate", path)
    assert code == 1
    row = next(line for line in out.splitlines() if "E006" in line and "price" in line)
    assert "9" * 30 not in row  # the value is clipped in the table
    assert "…" in row


def test_color_only_on_a_terminal_without_no_color(capsys, monkeypatch, mixed):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert "\x1b[" in run(capsys, "validate", mixed)[1]

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run(capsys, "validate", mixed)[1]


# -- catalog, rules, sample ----------------------------------------------------------
def test_catalog_table_marks_required_parameters(capsys):
    code, out, _ = run(capsys, "catalog")
    assert code == 0
    purchase = next(line for line in out.splitlines() if " purchase " in f" {line} ")
    assert purchase.split()[0] == "commerce"
    assert "tx_id*" in purchase and "items*" in purchase and "currency*" not in purchase
    assert "items[] parameters: item_id*, item_name" in out


def test_catalog_json_is_the_catalog_dict(capsys, plan):
    code, out, _ = run(capsys, "catalog", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert len(doc["events"]) == 13
    assert {p["name"] for p in doc["item_params"]} >= {"item_id", "price", "quantity"}

    code, out, _ = run(capsys, "catalog", "--plan", plan, "--format", "json")
    assert code == 0
    level_up = next(e for e in json.loads(out)["events"] if e["name"] == "level_up")
    assert level_up["custom"] is True
    assert {"name": "level", "type": "integer", "required": True} in level_up["params"]


def test_catalog_table_with_plan_shows_custom_events(capsys, plan):
    code, out, _ = run(capsys, "catalog", "--plan", plan)
    assert code == 0
    assert "level_up" in out and "level*" in out and "character" in out


def test_rules_lists_every_rule(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    for r in Rule:
        assert any(line.split()[:2] == [r.value, r.severity] for line in out.splitlines())
        assert r.title in out


def test_sample_writes_a_dataset_the_validator_reads(capsys, tmp_path):
    out_file = tmp_path / "sub" / "events.jsonl"
    code, out, _ = run(capsys, "sample", "200", "--out", out_file, "--seed", "3")
    assert code == 0
    assert out_file.exists()
    assert len(out.strip().splitlines()) == 1 and "200" in out and str(out_file) in out

    code, out, _ = run(capsys, "validate", out_file, "--format", "json")
    summary = json.loads(out)["summary"]
    assert summary["rows"] == 200
    assert code == 1 and summary["invalid"] > 0  # the sample plants errors (3% by default)


# -- process-level behaviour ---------------------------------------------------------
def test_python_m_adrop_kit_help():
    proc = subprocess.run([sys.executable, "-m", "adrop_kit", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for command in ("validate", "catalog", "sample", "rules"):
        assert command in proc.stdout


def test_help_does_not_import_polars():
    code = "import sys; from adrop_kit.cli import main; main(['rules']); print('polars' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("False")


class _ClosedPipe:
    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def isatty(self) -> bool:
        return False


def test_broken_pipe_is_quiet(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    code = main(["rules"])
    monkeypatch.undo()
    _, err = capsys.readouterr()
    assert code == 141
    assert err == ""


def test_piping_into_head_is_quiet(tmp_path):
    path = write_jsonl(tmp_path / "many.jsonl", [{"uid": f"u{i}", "eventName": "sign_up"} for i in range(3000)])
    proc = subprocess.Popen([sys.executable, "-m", "adrop_kit", "validate", str(path), "--limit", "3000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err
    assert "BrokenPipe" not in err


def test_ctrl_c_is_one_line_and_exit_130(capsys, monkeypatch):
    def interrupted(_text: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("adrop_kit.cli.validate.out", interrupted)
    code = main(["rules"])
    _, err = capsys.readouterr()
    assert code == 130
    assert err.strip() == "adrop-kit: interrupted"


def test_sample_to_an_unknown_format_exits_2(capsys, tmp_path):
    code, out, err = run(capsys, "sample", "10", "--out", tmp_path / "events.txt")
    assert code == 2
    assert out == ""
    assert_one_line_error(err, "events.txt")


def test_a_mistyped_option_names_its_subcommand_and_the_option_meant(capsys, tmp_path):
    code = main(["validate", str(tmp_path / "x.jsonl"), "--formt", "json"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "usage: adrop-kit validate" in err and "adrop-kit validate: error: unrecognized arguments: --formt" in err
    assert "did you mean --format?" in err
