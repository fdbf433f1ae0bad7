"""Numbers go out as written (SPEC.md, "Limits"): read from JSON text, a number is sent, and stored by
the local server, as the same token (`1E2`, `200.00`, `-0`, a 40-digit decimal, `1e400`); read from a
CSV cell, as the cell's text; given as a Python float, as its shortest round-trip writing (orjson's). The verdict
uses the number's value: `1e400` is a number, not Infinity."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

import adrop_kit as ak
from adrop_kit import Sender
from adrop_kit.io.numbers import NumberToken, may_hold_tokens
from adrop_kit.io.values import exact_json, loads_exact
from adrop_kit.send.transport import Endpoint, Request
from adrop_kit.server import hash_uid
from adrop_kit.testing.local import local_server, local_transport

TOKENS = ["1E2", "200.00", "-0", "0.1000000000000000055511151231257827", "1.0000000000000000000000001",
          "0.1e-400", "1.5e-7", "1e309", "1E400", "-0.0", "29900", "14.99", "29900.0", "12345678901234567890123"]
"""Each token, in every place a number can be: a catalog number (price, value), a custom parameter, an
element of `items`, a value nested in an object and a list."""


def _line(i: int, token: str) -> str:
    return (f'{{"uid":"u{i}","eventName":"purchase","tx_id":"t{i}","value":{token},"score":{token},'
            f'"items":[{{"item_id":"a","price":{token},"quantity":1}}],"extra":{{"deep":[{token}]}}}}')


def _stored_bodies(server) -> dict[str, bytes]:
    rows = server.store._db.execute("SELECT uid_sha256, body FROM events").fetchall()
    return {uid: bytes(body) for uid, body in rows}


def _numbers_in(body: bytes) -> list[str]:
    """The number tokens of the keys `value`, `score`, `price` and `deep` in a stored body, in order."""
    return re.findall(rb'"(?:value|score|price|deep)":\[?(-?[0-9][0-9.eE+-]*)', body)


def _send(data, server, **kw) -> ak.SendReport:
    with Sender(server.app_key, transport=local_transport(server), progress=False, **kw) as sender:
        return sender.send_all(data)


@pytest.fixture
def server():
    srv = local_server()
    yield srv
    srv.close()


@pytest.mark.parametrize("fmt", ["jsonl", "json", "jsonl-big"])
def test_the_server_stores_each_number_as_the_file_wrote_it(server, tmp_path: Path, fmt: str):
    lines = [_line(i, t) for i, t in enumerate(TOKENS)]
    if fmt == "jsonl-big":  # past NATIVE_FROM: the native lane reads the plain lines, the precise lane the rest
        plain = [_line(1000 + i, "14.99") for i in range(12_000)]
        lines = plain[:6000] + lines + plain[6000:]
    path = tmp_path / f"e.{fmt.split('-')[0]}"
    path.write_text("\n".join(lines) + "\n" if fmt != "json" else "[" + ",\n".join(lines) + "]")
    report = _send(path, server)
    assert report.delivered == len(lines), report.problems()
    stored = _stored_bodies(server)
    for i, token in enumerate(TOKENS):
        body = stored[hash_uid(f"u{i}")]
        assert [t.decode() for t in _numbers_in(body)] == [token] * 4, (token, body)
        json.loads(body)  # valid JSON (no Infinity, no NaN)


def test_a_catalog_number_of_any_size_is_a_number():
    for token in ("1e309", "1E400", "-1e400", "0.1e-400", "1.0000000000000000000000001"):
        payload = loads_exact('{"uid":"u","eventName":"view_item","item_id":"a","price":' + token + "}")
        assert ak.validate_event(payload).ok, token
    negative = loads_exact('{"uid":"u","eventName":"view_item","item_id":"a","price":-1e400}')
    assert [v.rule.value for v in ak.validate_event(negative).violations] == ["W103"]
    tiny = loads_exact('{"uid":"u","eventName":"view_item","item_id":"a","price":-0.1e-400}')
    assert [v.rule.value for v in ak.validate_event(tiny).violations] == ["W103"]  # below 0, however little


def test_a_quantity_is_judged_by_its_written_value(tmp_path: Path):
    base = '{"uid":"u","eventName":"add_to_cart","item_id":"a","price":1,"quantity":%s}'
    cases = {"1E2": [], "1.0000000000000000000000001": ["E006"], "-0": ["W103"], "3.0": [], "1e400": [],
             "1.5e-7": ["E006"]}
    (tmp_path / "q.jsonl").write_text("\n".join(base % t for t in cases) + "\n")
    report = ak.validate_events(tmp_path / "q.jsonl")
    by_row = report.violations.group_by("row").agg(pl.col("rule")).rows()
    rules = {row: sorted(r) for row, r in by_row}
    for row, (token, want) in enumerate(cases.items()):
        single = sorted(v.rule.value for v in ak.validate_event(loads_exact(base % token)).violations)
        assert single == want, token
        assert rules.get(row, []) == want, token


def test_python_floats_go_out_as_their_shortest_writing(server):
    """A float has no token: it goes out as its shortest round-trip digits, as orjson writes them (1.5e-7)."""
    events = [{"uid": "p1", "eventName": "view_item", "item_id": "a", "price": 1.5e-7, "note": [100.0, -0.0]},
              {"uid": "p2", "eventName": "view_item", "item_id": "a", "price": 0.1, "big": 10**30}]
    with Sender(server.app_key, transport=local_transport(server), progress=False) as sender:
        assert sender.send(events[0]).outcome.value == "delivered"
    assert _send(events[1:], server).delivered == 1
    stored = _stored_bodies(server)
    assert b'"price":1.5e-7' in stored[hash_uid("p1")] and b'"note":[100.0,-0.0]' in stored[hash_uid("p1")]
    assert b'"price":0.1' in stored[hash_uid("p2")] and b'"big":1000000000000000000000000000000' in stored[
        hash_uid("p2")]


def test_the_server_never_stores_infinity_or_nan(server):
    transport = local_transport(server)
    bodies = [b'{"uid":"u","eventName":"view_item","item_id":"a","price":1e400,"x":NaN}',
              b'{"uid":"u","eventName":"view_item","item_id":"a","price":"1e400","c":1.5e-7,"big":%d}' % 10**30,
              b'{"uid":"u","eventName":"view_item","item_id":7,"price":-1E400}']
    headers = {"Authorization": server.app_key, "Content-Type": "application/json"}
    for body in bodies:
        transport.handle(Request(Endpoint.parse(transport.endpoint), body, headers))
    stored = [bytes(b) for (b,) in server.store._db.execute("SELECT body FROM events ORDER BY id").fetchall()]
    assert len(stored) == 3
    for body in stored:
        assert b"Infinity" not in body or b"NaN" in body  # the not-JSON body is kept as received
    assert b"1.5e-7" in stored[1] and b"-1E400" in stored[2]
    json.loads(stored[1]), json.loads(stored[2])


def test_views_give_values_as_they_came_in(tmp_path: Path):
    (tmp_path / "e.jsonl").write_text("\n".join(_line(i, t) for i, t in enumerate(TOKENS)) + "\n")
    report = ak.validate_events(tmp_path / "e.jsonl")
    as_json = report.rows_of("valid", form="json")
    assert as_json.get_column("value").to_list() == TOKENS
    lines = [json.loads(line, parse_float=str, parse_int=str) for line in
             (tmp_path / "e.jsonl").read_text().splitlines()]
    assert [json.loads(t, parse_float=str, parse_int=str) for t in as_json.get_column("items").to_list()] == [
        x["items"] for x in lines]


def test_csv_cells_go_out_as_their_text(server, tmp_path: Path):
    (tmp_path / "e.csv").write_text("uid,eventName,item_id,price\n"
                                    + "".join(f"c{i},view_item,a,{t}\n" for i, t in enumerate(TOKENS)))
    report = _send(tmp_path / "e.csv", server)
    assert report.delivered == len(TOKENS), report.problems()
    stored = _stored_bodies(server)
    for i, token in enumerate(TOKENS):
        assert re.search(rb'"price":(-?[0-9][0-9.eE+-]*)', stored[hash_uid(f"c{i}")]).group(1).decode() == token


def test_tokens_survive_every_writer():
    big = str(10**30)
    value = loads_exact('{"a":[1E2,{"b":200.00}],"c":-0,"d":1.5e-7,"e":' + big + ',"f":"\\ud800"}')
    assert isinstance(value["a"][0], NumberToken) and float(value["a"][0]) == 100.0
    assert exact_json(value) == '{"a":[1E2,{"b":200.00}],"c":-0,"d":1.5e-7,"e":' + big + ',"f":"\ud800"}'
    assert loads_exact(exact_json(value))["a"][1]["b"].json_token == "200.00"
    assert not may_hold_tokens(b'{"p":14.99,"q":29900,"r":29900.0,"s":"3e4f-01","t":0.0001}')  # a string is no number


def test_a_report_shows_a_number_no_float_holds_as_its_text(tmp_path: Path):
    (tmp_path / "w.jsonl").write_text('{"uid":"u","eventName":"view_item","item_id":"a","price":-1E400}\n'
                                      '{"uid":"u","eventName":"view_item","item_id":"a","price":-1.50}\n')
    report = ak.validate_events(tmp_path / "w.jsonl")
    shown = [(v["row"], v["rule"], v["value"]) for v in report.to_dict()["violations"]]
    assert shown == [(0, "W103", "-1E400"), (1, "W103", -1.5)]
