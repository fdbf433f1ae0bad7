"""Nothing is altered from file to server: what the local server stores (uid hashed) is what the
file held, value for value and type for type — big integers, -0.0, floats written as integers,
astral unicode — through every file format that can carry the value."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest
from conftest import write_jsonl

from adrop_kit import Sender
from adrop_kit.server import hash_uid

EVENTS = [
    {"uid": "u1", "eventName": "view_item", "item_id": "a", "price": 2**63 + 5},
    {"uid": "u2", "eventName": "view_item", "item_id": "b", "price": -(2**70)},
    {"uid": "u3", "eventName": "view_item", "item_id": "c", "price": -0.0},
    {"uid": "u4", "eventName": "view_item", "item_id": "d", "price": 15900.0},
    {"uid": "u5", "eventName": "view_item", "item_id": "e", "price": 15900},
    {"uid": "u6", "eventName": "view_item", "item_id": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 한글", "item_name": "e\u0301"},
    {"uid": "u7", "eventName": "purchase", "tx_id": "T1", "currency": "KRW",
     "items": [{"item_id": "x", "price": 10**30, "quantity": 2}, {"item_id": "y", "price": 0.1}]},
]


def _same(a, b) -> bool:
    """Equal and of the same JSON type, all the way down (1 is not 1.0, -0.0 is not 0.0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


@pytest.mark.parametrize("fmt", ["jsonl", "json", "list"])
def test_what_the_server_stores_is_what_was_read(adrop_server, tmp_path, fmt):
    if fmt == "jsonl":
        data = write_jsonl(tmp_path / "events.jsonl", EVENTS)
    elif fmt == "json":
        data = tmp_path / "events.json"
        data.write_text(json.dumps(EVENTS, ensure_ascii=False), encoding="utf-8")
    else:
        data = EVENTS
    with Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, progress=False) as sender:
        report = sender.send_all(data)
    assert report.delivered == len(EVENTS), report.problems()
    stored = {e["uid_sha256"]: e for e in adrop_server.events("good", limit=100)}
    for event in EVENTS:
        row = stored[hash_uid(event["uid"])]
        body = row["payload"]
        assert _same(body, {**event, "uid": hash_uid(event["uid"])}), (fmt, event, body)


def test_a_polars_frame_round_trips_what_it_can_hold(adrop_server):
    frame = pl.DataFrame({"uid": ["u1", "u2"], "eventName": ["view_item", "view_item"], "item_id": ["a", "b"],
                          "price": [-0.0, 15900.0]})
    with Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, progress=False) as sender:
        assert sender.send_all(frame).delivered == 2
    stored = {e["uid_sha256"]: e["payload"]["price"] for e in adrop_server.events("good")}
    assert _same(stored[hash_uid("u1")], -0.0) and _same(stored[hash_uid("u2")], 15900.0)
