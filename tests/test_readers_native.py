"""The JSONL reader's native lane never changes a value or a verdict (issue 10, item 2).

Big JSONL inputs read their plain lines with polars (`io.jsonl_fast`) and the rest line by line;
the merged frame must be exactly the frame the line-by-line path alone builds. Each test reads the
same bytes both ways (`NATIVE_FROM` set to 0, and out of reach) and compares the frames column by
column, on adversarial lines placed among plain ones: type mismatches, big integers, -0.0, 1.0 vs 1,
escapes and lone surrogates, duplicate keys, null vs missing, nested items, keys outside the
catalog (common and rare), lines that are not objects, invalid UTF-8, blank lines.
"""

from __future__ import annotations

import json
import random

import orjson
import polars as pl
import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import adrop_kit as ak
from adrop_kit.io import jsonl_fast, read_json
from adrop_kit.io.frames import Frame
from adrop_kit.io.jsonl_fast import native_lane
from adrop_kit.io.lines import Lines, invalid_utf8_lines
from adrop_kit.testing.strategies import events, invalid_events

CATALOG = ak.STANDARD

PLAIN = [
    b'{"uid":"u1","eventName":"purchase","platform":"web","currency":"KRW","tx_id":"T1","ts":"2026-11-01",'
    b'"items":[{"item_id":"S1","price":13300.0,"quantity":1}],"value":13300.0}',
    b'{"uid":"u2","eventName":"add_to_cart","platform":"ios","item_id":"S2","price":14.99,"quantity":2,'
    b'"value":29.98,"currency":"USD","ts":"2026-11-02"}',
    b'{"uid": "u3", "eventName": "page_view", "platform": "android", "page_id": "home", "ts": "2026-11-03"}',
    b'{"uid":"u4","eventName":"app_open","platform":"web","ts":"2026-11-04","seq":7,"beta":true}',
]

HOSTILE = [
    b'{"uid":"u5","eventName":"add_to_cart","item_id":"S","price":"29900","quantity":1,"ts":"x"}',  # E006
    b'{"uid":"u6","eventName":"add_to_cart","item_id":"S","price":NaN,"quantity":1}',
    b'{"uid":"u7","eventName":"add_to_cart","item_id":"S","price":Infinity,"quantity":-Infinity}',
    b'{"uid":"u8","eventName":"purchase","value":123456789012345678901234567890,"currency":"KRW","tx_id":"T"}',
    b'{"uid":"u9","eventName":"add_to_cart","item_id":"S","price":-0.0,"quantity":-0.0}',
    b'{"uid":"u10","eventName":"add_to_cart","item_id":"S","price":15900,"quantity":3.0}',
    b'{"uid":"u11","eventName":"add_to_cart","item_id":"S","price":1e5,"quantity":1E0}',
    b'{"uid":"u12","eventName":"page_view","page_id":"caf\\u00e9 \\"q\\" \\n","ts":"2026"}',
    b'{"uid":"u13","eventName":"page_view","page_id":"\\ud800","ts":"2026"}',
    b'{"uid":"u14","eventName":"page_view","uid":"u14b","page_id":"p"}',  # duplicate key: the last wins
    b'{"uid":"u15","eventName":"page_view","page_id":null,"platform":null}',
    b'{"uid":"u16","eventName":"purchase","items":[{"item_id":"S","price":"1"}],"tx_id":"T","currency":"KRW"}',
    b'{"uid":"u17","eventName":"purchase","items":[{"item_id":"S","price":1,"quantity":1.0,"x":[1,{"y":2}]}]}',
    b'{"uid":"u18","eventName":"purchase","items":{"item_id":"S"}}',
    b'{"uid":"u19","eventName":"sign_up","method":123,"ts":456}',
    b'{"uid":"u20","eventName":"sign_up","method":true,"seq":"seven","beta":1}',
    b'{"uid":"u21","eventName":"sign_up","rare_key":{"a":[1,2]},"seq":8.5}',
    b'[1,2,3]',
    b'"just a string"',
    b'42',
    b'{"uid":"u22","eventName":"sign_up"',
    b'{"uid":"u23","eventName":"sign_up"} trailing',
    b'{"uid":"u24\xff\xfe","eventName":"sign_up"}',
    b'{}',
    b'{"__row":5,"uid":"u25","eventName":"sign_up"}',
    b'{"uid":"u26","eventName":"sign_up","method":"a\tb"}',
    b'{"uid":"u27","eventName":"add_to_cart","item_id":"S","price":12345678901234567,"quantity":9007199254740993}',
    b'{"uid":"u28","eventName":"add_to_cart","item_id":"S","price":0.1000000000000000055511151231257827}',
    b'{"uid":"u29","eventName":"add_to_cart","item_id":"S","price":-0.5,"quantity":-1}',
    b'{"uid":"u30","eventName":"purchase","items":[' + b",".join(b'{"k%d":1}' % i for i in range(1001)) + b'],'
    b'"tx_id":"T","currency":"KRW"}',
    b'{"uid":"u31","eventName":"page_view","page_id":"' + b"[" * 70 + b'"}',
    b'{"a":' * 70 + b"1" + b"}" * 70,
    b'{"uid":"u32","eventName":"sign_up","method":"\xf0\x9f\x98\x80 emoji","ts":"2026"}\r',
    b'  {"uid":"u33","eventName":"sign_up"}  ',
    b'{"uid":"u34","eventName":"purchase","items":[],"tx_id":"T","currency":"KRW","value":0}',
    b'{"uid":"u35","eventName":"add_to_cart","item_id":"S","price":007}',
    b'{"uid": "u36", "eventName": "purchase", "items": [ {"item_id": "S", "price": 1.50, "quantity": 1, '
    b'"quantity": 2}, {"price": 0.10, "brand": "\xc3\xa9/x"} ], "tx_id": "T", "currency": "KRW"}',
]


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[pl.DataFrame, pl.DataFrame]:
    monkeypatch.setattr(read_json, "NATIVE_FROM", 0)
    monkeypatch.setattr(read_json, "MOSTLY_SLOW", 1.0)  # two lanes however few lines are plain
    two = read_json.read_jsonl(data, "f.jsonl", CATALOG).df
    monkeypatch.setattr(read_json, "NATIVE_FROM", 1 << 62)
    one = read_json.read_jsonl(data, "f.jsonl", CATALOG).df
    return two, one


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert sorted(a.columns) == sorted(b.columns)
    assert_frame_equal(a.select(sorted(a.columns)), b.select(sorted(b.columns)))


def test_plain_lines_take_the_native_lane() -> None:
    data = b"\n".join(PLAIN * 50) + b"\n"
    split = native_lane(Lines.of(data), CATALOG)
    assert split.frame.height == 200 and split.slow == []


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_each_hostile_line_among_plain_ones_reads_as_the_precise_path_reads_it(hostile: bytes, monkeypatch) -> None:
    data = b"\n".join([*PLAIN * 600, hostile, *PLAIN * 5, b"", b"   ", hostile]) + b"\n"  # after the sample
    two, one = _both(data, monkeypatch)
    _same(two, one)
    split = native_lane(Lines.of(data), CATALOG)
    assert split.frame.height >= 2400  # the plain lines were read natively


def test_every_hostile_line_at_once(monkeypatch) -> None:
    body = []
    for i, h in enumerate(HOSTILE):
        body += [*PLAIN * 5, h] + ([b""] if i % 3 == 0 else [])
    two, one = _both(b"\n".join(body), monkeypatch)
    _same(two, one)
    report_two, report_one = ak.validate_events(Frame(two)), ak.validate_events(Frame(one))
    assert_frame_equal(report_two.violations, report_one.violations)
    assert report_two.invalid == report_one.invalid > len(HOSTILE) // 2


def test_lines_cut_into_parts_read_in_threads_read_the_same(monkeypatch) -> None:
    """Big inputs are cut into parts (one per core) read side by side: the cut changes nothing."""
    body = []
    for h in HOSTILE:
        body += [*PLAIN * 7, h, b""]
    data = b"\n".join(body)
    monkeypatch.setattr(jsonl_fast, "PART_BYTES", 64)
    monkeypatch.setattr(jsonl_fast, "MAX_PARTS", 5)
    monkeypatch.setattr(jsonl_fast.os, "sched_getaffinity", lambda _pid: set(range(5)), raising=False)
    assert len(jsonl_fast._parts(Lines.of(data))) == 5
    two, one = _both(data, monkeypatch)
    _same(two, one)


def test_a_number_key_whose_class_changes_mid_file(monkeypatch) -> None:
    """The sample says price is a fraction; later lines hold integers (and quantity the other way)."""
    first = [b'{"uid":"u","eventName":"add_to_cart","item_id":"S","price":1.5,"quantity":2}'] * 2500
    later = [b'{"uid":"u","eventName":"add_to_cart","item_id":"S","price":%d,"quantity":2.0}' % i for i in range(50)]
    two, one = _both(b"\n".join(first + later), monkeypatch)
    _same(two, one)
    assert two.schema["price"] == pl.Float64 and "__exact__price" in two.columns and "__exact__quantity" in two.columns


def test_a_key_rare_over_the_file_but_common_in_the_sample(monkeypatch) -> None:
    first = [b'{"uid":"u","eventName":"sign_up","early":"x"}'] * 100
    later = [b'{"uid":"u","eventName":"sign_up"}'] * 5000
    two, one = _both(b"\n".join(first + later), monkeypatch)
    _same(two, one)
    assert "__more" in two.columns


def _line(payload: object) -> bytes:
    try:
        return orjson.dumps(payload)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(payload, allow_nan=True).encode("utf-8", "surrogatepass")


HOSTILE_VALUES = st.sampled_from([
    "29900", 29900, 29900.0, -0.0, 0.0, 2**64 + 1, -(2**70), 1.5e300, float("nan"), float("inf"), True, False, None,
    "", "\ud800", "caf\u00e9", "a\"b\\c", "\x01", [1, 2], {"a": 1}, [{"item_id": "S", "price": 1}], 10**15, 10**15 - 1,
    0.30000000000000004, 1e-7])
KEYS = st.sampled_from([*sorted(CATALOG.param_types), "uid", "eventName", "platform", "ts", "seq", "__x"])


@st.composite
def hostile(draw: st.DrawFn) -> object:
    p = draw(st.one_of(events(catalog=CATALOG), invalid_events(catalog=CATALOG).map(lambda case: case[0])))
    if isinstance(p, dict):
        for _ in range(draw(st.integers(0, 3))):
            p[draw(KEYS)] = draw(HOSTILE_VALUES)
    return p


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\', min_codepoint=32), max_size=6)
NUMBER = st.one_of(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6).map(lambda i: i / 100))
BY_TYPE = {"string": TEXT, "number": NUMBER, "integer": st.one_of(st.integers(-5, 10**6), NUMBER),
           "boolean": st.booleans(),
           "items": st.lists(st.fixed_dictionaries({"item_id": TEXT}, optional={"price": NUMBER, "quantity": NUMBER,
                                                                             "brand": TEXT}), max_size=3)}


@st.composite
def plainish(draw: st.DrawFn) -> dict:
    """Events the native lane can read (most of the time): plain text, short numbers, flat items;
    now and then one hostile value, so both lanes meet in one file."""
    p = {"uid": draw(TEXT), "eventName": draw(st.sampled_from(CATALOG.names))}
    for key in draw(st.lists(st.sampled_from(sorted(CATALOG.param_types)), max_size=5, unique=True)):
        p[key] = draw(BY_TYPE[CATALOG.param_types[key]])
    if draw(st.booleans()):
        p["items"] = draw(BY_TYPE["items"].filter(bool))
    if draw(st.booleans()):
        p["ts"] = draw(TEXT)
    if draw(st.integers(0, 9)) == 0:
        p[draw(KEYS)] = draw(HOSTILE_VALUES)
    return p


@settings(max_examples=examples(60), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.one_of(plainish(), plainish(), hostile()), min_size=1, max_size=40),
       st.sampled_from([b"\n", b"\r\n"]), st.booleans())
def test_any_mix_of_events_reads_the_same_both_ways(payloads, newline, spaced) -> None:
    lines = [_line(p) for p in payloads]
    if spaced:
        lines = [json.dumps(p, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass") if i % 3 else line
                 for i, (p, line) in enumerate(zip(payloads, lines, strict=True))]
    data = newline.join([*PLAIN * 3, *lines, *PLAIN]) + newline
    with pytest.MonkeyPatch.context() as mp:
        two, one = _both(data, mp)
    _same(two, one)


@pytest.mark.parametrize("block", [1, 3, 1024])
def test_the_lines_that_are_not_utf8_are_found_whatever_the_block(block, monkeypatch):
    import numpy as np

    from adrop_kit.io import lines as lines_module

    monkeypatch.setattr(lines_module, "_UTF8_BLOCK", block)
    rng = random.Random(block)
    pieces = [b"ok", "é".encode(), b"\xff", b"\xc3", "가".encode()[:2], b"\xed\xa0\x80", b"x"]
    lines = [b"".join(rng.choice(pieces) for _ in range(rng.randrange(4))) for _ in range(200)]
    data = b"\n".join(lines) + b"\n"
    truth = [i for i, line in enumerate(lines) if not _is_utf8(line)]
    found = invalid_utf8_lines(Lines.of(data), 0, len(lines))
    assert np.asarray(found).tolist() == truth
    part = invalid_utf8_lines(Lines.of(data), 50, 150)
    assert np.asarray(part).tolist() == [i - 50 for i in truth if 50 <= i < 150]


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
