"""SPEC.md: an event whose JSON encoding exceeds 64 KiB is an E001 row locally (the server: 413)."""

from __future__ import annotations

import json

import adrop_kit as ak

BIG = {"uid": "u", "eventName": "view_item", "item_id": "a" * 70_000}
NEAR = {"uid": "u", "eventName": "view_item", "item_id": "a" * 60_000}


def test_validate_event_refuses_an_event_over_64_kib():
    report = ak.validate_event(BIG)
    assert [(v.rule.value, v.message) for v in report.errors] == [("E001", "the event's JSON is larger than 64 KiB")]
    assert ak.validate_event(NEAR).ok


def test_a_jsonl_file_judges_the_same_row_the_same_way(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in (NEAR, BIG, {"uid": "u", "eventName": "app_open"})) + "\n")
    report = ak.validate_events(path)
    assert report.violations.select("row", "rule").rows() == [(1, "E001")]
    assert report.summary()["valid"] == 2


def test_the_local_server_answers_413_for_it(adrop_server):
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, validate=False, progress=False) as s:
        result = s.send(BIG)
    assert result.outcome == "rejected" and result.status == 413
