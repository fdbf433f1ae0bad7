"""SPEC.md: an event whose JSON encoding exceeds 64 KiB is an E001 row locally (the server: 413).

The size is the request body the sender would post: compact JSON, UTF-8, non-ASCII as is. Exactly
65,536 bytes is fine, 65,537 is not, whatever the entry point: every file format, frames, lists of
dicts, a streamed input, the CLI; and the local server agrees (413 for the same event).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import polars as pl
import pytest

import adrop_kit as ak
from adrop_kit.cli import main
from adrop_kit.io.jsontext import dumps_payload
from adrop_kit.spec.rules import DEPTH_MESSAGE, KEYS_MESSAGE, MAX_DEPTH, MAX_EVENT_BYTES, MAX_KEYS, SIZE_MESSAGE

BIG = {"uid": "u", "eventName": "view_item", "item_id": "a" * 70_000}
NEAR = {"uid": "u", "eventName": "view_item", "item_id": "a" * 60_000}

# filler units for item_name: (text, bytes of its JSON string content)
UNITS = {
    "ascii": ("a", 1),
    "non_ascii": ("한", 3),  # 3 bytes of UTF-8, not escaped
    "escaped": ('"\\\x01\t', 12),  # \" \\ \u0001 \t: 4 characters, 12 bytes once escaped
}


def _shaped(shape: str, name: str) -> dict[str, Any]:
    if shape == "top":
        return {"uid": "u1", "eventName": "view_item", "item_id": "i1", "item_name": name}
    # "many": near 64 KiB by its numbers and keys (720 items), its text is short
    few = [] if shape == "items" else [{"item_id": f"i{j}", "item_name": "n", "price": -1234.5678901234567,
                                        "quantity": 10**12} for j in range(720)]
    return {"uid": "u1", "eventName": "purchase", "tx_id": "t1",
            "items": [*few, {"item_id": "i1", "item_name": name, "price": 9.5, "quantity": 2}]}


def sized(shape: str, unit: str, size: int) -> dict[str, Any]:
    """An event whose body, as the sender writes it, is exactly `size` bytes."""
    text, cost = UNITS[unit]
    need = size - len(dumps_payload(_shaped(shape, "")))
    event = _shaped(shape, text * (need // cost) + "a" * (need % cost))
    assert len(dumps_payload(event)) == size
    return event


CASES = [*((shape, unit) for shape in ("top", "items") for unit in UNITS), ("many", "ascii")]
PAIR_IDS = [f"{s}-{u}" for s, u in CASES]


def _pair(shape: str, unit: str) -> list[dict[str, Any]]:
    """Row 0 exactly at the limit, row 1 one byte over it, row 2 an ordinary event."""
    ordinary = _shaped(shape, "short")
    return [sized(shape, unit, MAX_EVENT_BYTES), sized(shape, unit, MAX_EVENT_BYTES + 1), ordinary]


def _as_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: orjson.dumps(v).decode() if k == "items" else v for k, v in r.items()} for r in rows]


def _write(tmp: Path, kind: str, rows: list[dict[str, Any]]) -> Path:
    if kind == "csv":
        path = tmp / "events.csv"
        pl.DataFrame(_as_text(rows)).write_csv(path)
    elif kind == "json":
        path = tmp / "events.json"
        path.write_bytes(orjson.dumps(rows))
    elif kind == "parquet":
        path = tmp / "events.parquet"
        pl.DataFrame(rows).write_parquet(path)
    else:
        path = tmp / "events.jsonl"
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def _errors(report: ak.DatasetReport) -> list[tuple[int, str, str]]:
    return report.violations.filter(pl.col("severity") == "error").select("row", "rule", "message").rows()


ENTRY_POINTS = ["csv", "json", "jsonl", "parquet", "pandas", "polars", "records", "stream_jsonl", "stream_csv", "cli"]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("shape", "unit"), CASES, ids=PAIR_IDS)
def test_every_entry_point_refuses_exactly_the_event_one_byte_over(tmp_path, capsys, entry, shape, unit):
    rows = _pair(shape, unit)
    if entry in ("csv", "json", "jsonl", "parquet"):
        report = ak.validate_events(_write(tmp_path, entry, rows))
    elif entry == "pandas":
        report = ak.validate_events(pd.DataFrame(rows))
    elif entry == "polars":
        report = ak.validate_events(pl.DataFrame(rows))
    elif entry == "records":
        report = ak.validate_events(rows)
    elif entry.startswith("stream_"):
        report = ak.validate_events(_write(tmp_path, entry.removeprefix("stream_"), rows), batch_bytes=4096)
    else:
        code = main(["validate", str(_write(tmp_path, "jsonl", rows)), "--format", "json"])
        doc = json.loads(capsys.readouterr().out)
        assert code == 1
        assert [(v["row"], v["rule"], v["message"]) for v in doc["violations"] if v["severity"] == "error"] == [
            (1, "E001", SIZE_MESSAGE)]
        return
    assert _errors(report) == [(1, "E001", SIZE_MESSAGE)]
    assert report.summary()["valid"] == 2


@pytest.mark.parametrize(("shape", "unit"), CASES, ids=PAIR_IDS)
def test_validate_event_and_the_local_server_agree(adrop_server, shape, unit):
    at, over, _ = _pair(shape, unit)
    assert ak.validate_event(at).ok
    assert [(v.rule.value, v.message) for v in ak.validate_event(over).errors] == [("E001", SIZE_MESSAGE)]
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, validate=False, progress=False) as s:
        assert s.send(at).outcome == "delivered"
        result = s.send(over)
    assert result.outcome == "rejected" and result.status == 413


@pytest.mark.parametrize("validate", [True, False])
def test_send_all_never_sends_the_event_over_the_limit(adrop_server, tmp_path, validate):
    rows = _pair("top", "escaped")
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, validate=validate, progress=False) as s:
        report = s.send_all(_write(tmp_path, "csv", rows))
    assert [(o.row, str(o.outcome)) for o in sorted(report.outcomes, key=lambda o: o.row)] == [
        (0, "delivered"), (1, "skipped"), (2, "delivered")]
    assert SIZE_MESSAGE in next(o.error for o in report.outcomes if o.row == 1)


OTHER_TYPES = {  # a column outside the catalog, of each type a frame may hold, carrying the long text
    "categorical": (lambda text: text, pl.Categorical),
    "struct": (lambda text: {"a": text, "b": 1}, None),
    "list": (lambda text: ["x", text], None),
    "list_of_structs": (lambda text: [{"a": "x"}, {"a": text}], None),
}


@pytest.mark.parametrize("kind", OTHER_TYPES)
def test_a_column_of_any_type_counts(kind):
    make, dtype = OTHER_TYPES[kind]
    base = {"uid": "u1", "eventName": "app_open"}
    rows = []
    for size in (MAX_EVENT_BYTES, MAX_EVENT_BYTES + 1):
        need = size - len(dumps_payload({**base, "note": make("")}))
        rows.append({**base, "note": make("a" * need)})
        assert len(dumps_payload(rows[-1])) == size
    frame = pl.DataFrame(rows, schema_overrides={"note": dtype} if dtype else None)
    assert _errors(ak.validate_events(frame)) == [(1, "E001", SIZE_MESSAGE)]


@pytest.mark.parametrize("kind", ["text", "list_of_structs"])
def test_a_name_holding_nul_is_measured_not_a_crash(kind):
    """Arrow's C interface cannot carry a name with NUL (polars panicked exporting it): a column or a
    struct field so named is measured all the same, at the limit and one byte over."""
    name = "odd\x00name"
    make = (lambda text: text) if kind == "text" else (lambda text: [{name: text}])
    base = {"uid": "u1", "eventName": "app_open"}
    rows = []
    for size in (MAX_EVENT_BYTES, MAX_EVENT_BYTES + 1):
        need = size - len(dumps_payload({**base, name: make("")}))
        rows.append({**base, name: make("a" * need)})
        assert len(dumps_payload(rows[-1])) == size
    assert _errors(ak.validate_events(pl.DataFrame(rows))) == [(1, "E001", SIZE_MESSAGE)]


def test_a_list_of_128_bit_integers_is_measured_not_a_crash():
    """pyarrow cannot import polars' Int128 ('_pli128'; found by the parity property test): a list of
    integers beyond 64 bits is measured row by row, at the limit and one byte over."""
    big = 2**70
    base = {"uid": "u1", "eventName": "app_open"}
    rows = []
    for size in (MAX_EVENT_BYTES, MAX_EVENT_BYTES + 1):
        pad = size - len(dumps_payload({**base, "big": [big], "pad": ""}))
        rows.append({**base, "big": [big], "pad": "a" * pad})
        assert len(dumps_payload(rows[-1])) == size
    schema = {"uid": pl.String, "eventName": pl.String, "big": pl.List(pl.Int128), "pad": pl.String}
    assert _errors(ak.validate_events(pl.DataFrame(rows, schema=schema))) == [(1, "E001", SIZE_MESSAGE)]


def test_one_long_row_among_many_chunks_is_found():
    """The cheap bounds read a column's Arrow buffers chunk by chunk: the long row sits in a late chunk."""
    ordinary = [_shaped("top", "short")] * 5000
    over = sized("top", "escaped", MAX_EVENT_BYTES + 1)
    at = sized("top", "non_ascii", MAX_EVENT_BYTES)
    parts = [pl.DataFrame(ordinary), pl.DataFrame(ordinary + [at]), pl.DataFrame(ordinary + [over] + ordinary)]
    frame = pl.concat(parts, rechunk=False)
    assert frame.n_chunks() > 1
    assert _errors(ak.validate_events(frame)) == [(10_001 + 5000, "E001", SIZE_MESSAGE)]


def test_metadata_columns_are_not_sent_so_they_do_not_count(tmp_path):
    at = sized("top", "ascii", MAX_EVENT_BYTES)
    report = ak.validate_events(pl.DataFrame([{**at, "ts": "2024-01-01T00:00:00Z"}]))
    assert _errors(report) == []


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


# -- the other limits (depth, keys) inside items: the same verdict in every entry point -------------
def _nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


_ITEM = {"item_id": "i", "price": 1.0, "quantity": 1}
LIMIT_CASES = {  # the event is level 1, items 2, an item 3: `x` adds levels below the item
    "depth": ({**_ITEM, "x": _nested(MAX_DEPTH - 3)}, {**_ITEM, "x": _nested(MAX_DEPTH - 2)}, DEPTH_MESSAGE),
    "keys": ({**_ITEM, **{f"k{i}": 1 for i in range(MAX_KEYS - 3)}},
             {**_ITEM, **{f"k{i}": 1 for i in range(MAX_KEYS - 2)}}, KEYS_MESSAGE),
}


@pytest.mark.parametrize("entry", ["csv", "json", "jsonl", "parquet", "pandas", "polars", "records", "stream_jsonl"])
@pytest.mark.parametrize("limit", LIMIT_CASES)
def test_an_item_past_the_depth_or_keys_limit_is_e001_everywhere(tmp_path, entry, limit):
    at, over, message = LIMIT_CASES[limit]
    found = []
    for i, item in enumerate((at, over)):  # one dataset each: polars cannot put both depths in one column
        rows = [{"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [item]}]
        assert [v.message for v in ak.validate_event(rows[0]).errors] == ([message] if i else [])
        if entry in ("csv", "json", "jsonl", "parquet"):
            report = ak.validate_events(_write(tmp_path, entry, rows))
        elif entry == "stream_jsonl":
            report = ak.validate_events(_write(tmp_path, "jsonl", rows), batch_bytes=1024)
        else:
            report = ak.validate_events({"pandas": pd.DataFrame, "polars": pl.DataFrame, "records": list}[entry](rows))
        found.append([rule for _, rule, _ in _errors(report)])
    assert found == [[], ["E001"]]
