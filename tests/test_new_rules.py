"""SPEC's newer rules (issue 18), entry point by entry point: E003's 64-character cap on eventName.

Each example goes through a payload (`validate_event`), a list of dicts, a JSONL file, a pandas and a
polars DataFrame and the pandera engine; every one reports the same rule, field, value and message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import polars as pl
import pytest

import adrop_kit as ak
from adrop_kit.spec.jsonschema import dispatch_schema

Found = set[tuple[int, str, str, str | None, str]]


def _payload_verdicts(rows: list[dict[str, Any]]) -> Found:
    return {(i, v.rule.value, v.field, v.value, v.message)
            for i, p in enumerate(rows) for v in ak.validate_event(p).violations}


def _dataset_verdicts(report: ak.DatasetReport) -> Found:
    return set(report.violations.select("row", "rule", "field", "value", "message").iter_rows())


def every_entry_point(rows: list[dict[str, Any]], tmp_path: Path) -> dict[str, Found]:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return {
        "payload": _payload_verdicts(rows),
        "list": _dataset_verdicts(ak.validate_events(rows)),
        "jsonl": _dataset_verdicts(ak.validate_events(path)),
        "pandas": _dataset_verdicts(ak.validate_events(pd.DataFrame(rows))),
        "polars": _dataset_verdicts(ak.validate_events(pl.from_dicts(rows, infer_schema_length=None))),
        "pandera": _dataset_verdicts(ak.validate_events(rows, engine="pandera")),
    }


NEW = {"E003", "W108", "W109"}


def assert_all_agree(rows: list[dict[str, Any]], tmp_path: Path) -> Found:
    """Every entry point reports the same rules, fields and messages; and, for the rules of this file,
    the same values (older rules show a non-text value in their own ways: not judged here)."""
    found = every_entry_point(rows, tmp_path)
    for name, verdicts in found.items():
        assert {(r, rule, f, v if rule in NEW else None, m) for r, rule, f, v, m in verdicts} == {
            (r, rule, f, v if rule in NEW else None, m) for r, rule, f, v, m in found["payload"]}, name
    return found["payload"]


# -- E003: eventName of 1 to 64 characters, counted in Unicode code points ------------------------
LONG_NAMES = ["e" * 65, "이" * 65, "😀" * 65, "purchase" + "_" * 57]
EDGE_NAMES = ["e" * 64, "이" * 64, "😀" * 64]


def test_e003_long_names_are_one_e003_in_every_entry_point(tmp_path: Path) -> None:
    rows = [{"uid": "u1", "eventName": n} for n in LONG_NAMES + EDGE_NAMES]
    found = assert_all_agree(rows, tmp_path)
    by_row = {row: (rule, message) for row, rule, _, _, message in found}
    for i in range(len(LONG_NAMES)):
        rule, message = by_row[i]
        assert rule == "E003" and "65 characters" in message and "64" in message
    assert [by_row[i][0] for i in range(len(LONG_NAMES), len(rows))] == ["W101"] * len(EDGE_NAMES)


def test_e003_json_schema_caps_the_name_at_64_code_points() -> None:
    validator = jsonschema.Draft202012Validator(dispatch_schema())
    assert validator.is_valid({"uid": "u1", "eventName": "😀" * 64})
    assert not validator.is_valid({"uid": "u1", "eventName": "😀" * 65})


def test_e003_the_local_servers_judge_rejects_a_long_name() -> None:
    from adrop_kit.server.payload import judge

    body = json.dumps({"uid": "u1", "eventName": "이" * 65}).encode()
    assert judge(body, ak.STANDARD, False).rules == "E003"
    assert judge(json.dumps({"uid": "u1", "eventName": "이" * 64}).encode(), ak.STANDARD, False).rules == ""


def test_e003_a_tracking_plan_cannot_declare_a_name_past_the_cap() -> None:
    with pytest.raises(ak.PlanError, match="64"):
        ak.STANDARD.extend({"events": {"e" * 65: {}}})
    assert "e" * 64 in ak.STANDARD.extend({"events": {"e" * 64: {}}})


def test_e003_invalid_events_can_draw_a_long_name() -> None:
    from adrop_kit.testing.mutations import edits

    names = [e({"uid": "u1", "eventName": "app_open"}).get("eventName") for e in
             edits(ak.Rule.E003, ak.STANDARD["app_open"], ak.STANDARD)]
    assert any(isinstance(n, str) and len(n) > 64 for n in names)


# -- W108: more than 20 parameters besides uid, eventName, platform -------------------------------
def _params(n: int) -> dict[str, str]:
    return {f"p{i:02d}": "x" for i in range(n)}


def test_w108_more_than_20_parameters_in_every_entry_point(tmp_path: Path) -> None:
    rows = [{"uid": "u1", "eventName": "level_up", "platform": "web", **_params(21)},
            {"uid": "u1", "eventName": "level_up", "platform": "web", **_params(20)},
            {"uid": "u1", "eventName": "level_up", **_params(20), "p20": None, "p21": None},  # null is absent
            {"uid": "u1", "eventName": "level_up", **_params(25)}]
    found = assert_all_agree(rows, tmp_path)
    w108 = {row: message for row, rule, field, _, message in found if rule == "W108"}
    assert set(w108) == {0, 3}
    assert "21 parameters" in w108[0] and "25 parameters" in w108[3] and "20" in w108[0]


def test_w108_metadata_never_counts_in_a_dataset() -> None:
    rows = [{"uid": "u1", "eventName": "level_up", "ts": "2026-01-01", "_note": "x", "src": "a", **_params(20)}]
    report = ak.validate_events(rows, extra_columns=("ts", "src"))
    assert "W108" not in set(report.violations.get_column("rule"))
    report = ak.validate_events(rows)  # `src` is a parameter now
    assert "W108" in set(report.violations.get_column("rule"))


def test_w108_invalid_events_draws_it_for_an_event_of_more_than_20_parameters() -> None:
    from hypothesis import given, settings

    from adrop_kit.testing.strategies import breakable_rules, invalid_events

    plan = ak.STANDARD.extend({"events": {"survey": {"params": {f"q{i}": "string" for i in range(22)}}}})
    assert "W108" in breakable_rules("survey", catalog=plan)
    assert "W108" not in breakable_rules("purchase")

    @settings(max_examples=10, database=None)
    @given(invalid_events("survey", catalog=plan, rules=["W108"]))
    def check(case: tuple[dict, str]) -> None:
        assert ak.validate_event(case[0], catalog=plan).rules == {"W108"}

    check()


# -- W109: an object or a list outside the catalog (Adrop's SDKs drop it) -------------------------
def test_w109_objects_and_lists_outside_the_catalog_in_every_entry_point(tmp_path: Path) -> None:
    rows = [{"uid": "u1", "eventName": "level_up", "meta": {"a": 1}},           # a custom event's parameter
            {"uid": "u1", "eventName": "app_open", "tags": ["x", "y"]},         # outside app_open: W102 too
            {"uid": "u1", "eventName": "level_up", "note": "plain", "score": 3},  # scalars go through
            {"uid": "u1", "eventName": "purchase", "tx_id": "T", "items": [{"item_id": "A"}]},  # items is typed
            {"uid": "u1", "eventName": "level_up", "items": [{"item_id": "A"}]},  # only items carries objects
            {"uid": "u1", "eventName": "level_up", "rare": [1, 2]}]             # a rare key (`__more`)
    found = assert_all_agree(rows, tmp_path)
    w109 = {(row, field, value, message) for row, rule, field, value, message in found if rule == "W109"}
    assert {(row, field, value) for row, field, value, _ in w109} == {
        (0, "meta", '{"a":1}'), (1, "tags", '["x","y"]'), (5, "rare", "[1,2]")}
    for _, field, _, message in w109:
        assert f"'{field}'" in message and "Adrop's SDKs drop" in message
    assert {rule for row, rule, *_ in found if row == 1} == {"W102", "W109"}


def test_w109_the_local_servers_judge_accepts_it_as_a_warning() -> None:
    from adrop_kit.server.payload import judge

    assert judge(json.dumps({"uid": "u1", "eventName": "level_up", "meta": {"a": 1}}).encode(),
                 ak.STANDARD, False).rules == ""
    assert "W109" in ak.validate_event({"uid": "u1", "eventName": "level_up", "meta": {"a": 1}}).rules


def test_w109_invalid_events_draws_it_with_its_companion_w102() -> None:
    from hypothesis import given, settings

    from adrop_kit.testing.strategies import COMPANIONS, invalid_events

    @settings(max_examples=10, database=None)
    @given(invalid_events(rules=["W109"]))
    def check(case: tuple[dict, str]) -> None:
        assert ak.validate_event(case[0]).rules == {"W109", *COMPANIONS["W109"]}

    check()
