"""Issue 9, "one verdict everywhere" for values: each reported defect, done exactly as reported, and
its class. What is read is what is sent (big integers, -0.0, 1.0 vs 1, unicode), str subclasses
are strings, limits are E001 rows everywhere, messages never crash on the text they quote.

The property tests over every entry point are in test_parity.py.
"""

from __future__ import annotations

import json
import math
import threading
import time
import tracemalloc
from enum import StrEnum

import numpy as np
import pandas as pd
import polars as pl
import pytest
from conftest import same_json

import adrop_kit as ak
from adrop_kit.io.frames import to_payloads
from adrop_kit.spec.rules import DEPTH_MESSAGE, KEYS_MESSAGE, MAX_KEYS
from adrop_kit.validate import schemas


def _rules(report: ak.DatasetReport) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for row, rule in report.violations.select("row", "rule").iter_rows():
        out.setdefault(row, set()).add(rule)
    return out


def _sent(report: ak.DatasetReport) -> list[dict]:
    return [p for _, p in to_payloads(report.canonical_rows(), ak.STANDARD)]


# -- integers at or beyond ±2**63 ------------------------------------------------------------------
def test_a_price_beyond_int64_is_sent_with_its_exact_price():
    payload = {"uid": "u1", "eventName": "view_item", "item_id": "a", "price": 2**63 + 5}
    report = ak.validate_events([payload])
    assert report.ok and report.violations.height == 0
    (sent,) = _sent(report)
    assert same_json(sent, payload)
    sender = ak.Sender(dry_run=True)
    try:
        dry = sender.send_all([payload])
    finally:
        sender.close()
    body = json.loads(dry.requests[0].split("\n\n", 1)[1])
    assert body["price"] == 2**63 + 5 and type(body["price"]) is int


def test_a_quantity_of_2_pow_63_is_present_not_missing():
    payload = {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 1, "quantity": 2**63,
               "value": 2**63}
    assert ak.validate_event(payload).violations == []
    report = ak.validate_events([payload])
    assert report.violations.height == 0
    assert same_json(_sent(report)[0], payload)


def test_w103_on_a_price_below_minus_2_pow_63_is_reported_with_the_exact_value():
    payload = {"uid": "u", "eventName": "view_item", "item_id": "a", "price": -2**63 - 1}
    (v,) = ak.validate_event(payload).violations
    assert (v.rule, v.field, v.value) == ("W103", "price", str(-2**63 - 1))
    report = ak.validate_events([payload])
    assert report.violations.select("rule", "field", "value").rows() == [("W103", "price", str(-2**63 - 1))]
    assert same_json(_sent(report)[0], payload)


@pytest.mark.parametrize("dtype,value", [(pl.Int128, 2**63 + 5), (pl.Int128, -2**100), (pl.UInt64, 2**64 - 1),
                                         (pl.Int128, 2**63)])
@pytest.mark.parametrize("param", ["price", "quantity"])
def test_int128_and_uint64_columns_of_a_polars_frame_are_judged_and_sent_exactly(dtype, value, param):
    df = pl.DataFrame({"uid": ["u"], "eventName": ["add_to_cart"], "item_id": ["a"], "price": [1], "quantity": [1]})
    df = df.with_columns(pl.Series(param, [value], dtype))
    payload = df.to_dicts()[0]
    report = ak.validate_events(df)
    assert set(report.violations["rule"]) == ak.validate_event(payload).rules
    if report.ok:
        assert same_json(_sent(report)[0], payload)
    assert _rules(report) == _rules(ak.validate_events(df, engine="pandera"))


@pytest.mark.parametrize("big", [2**63, 2**64 + 1, -2**63 - 1, 2**127, 10**30, -10**30, 10**400, -(10**400)])
def test_big_integers_keep_their_verdict_and_value_wherever_they_are(big):
    payloads = [
        {"uid": "u", "eventName": "view_item", "item_id": "a", "price": big},
        {"uid": "u", "eventName": "view_item", "item_id": "a", "price": 1.5, "other": big},   # unknown key
        {"uid": "u", "eventName": "view_item", "item_id": "a", "price": big, "extra": {"n": [big, 1, 1.0]}},
        {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a", "price": big,
                                                                      "quantity": abs(big)}]},
        {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": big, "quantity": 3, "value": 3 * big},
        {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": big, "quantity": 2.0, "value": big},
    ]
    report = ak.validate_events(payloads)
    got = _rules(report)
    for row, payload in enumerate(payloads):
        assert got.get(row, set()) == ak.validate_event(payload).rules, payload
    valid = [p for p in payloads if ak.validate_event(p).ok]
    sent = _sent(report)
    assert len(sent) == len(valid) and all(same_json(a, b) for a, b in zip(sent, valid, strict=True))


def test_numbers_come_back_as_they_were_written():
    rows = [{"uid": "u", "eventName": "view_item", "item_id": "a", "price": 15900.0},
            {"uid": "u", "eventName": "view_item", "item_id": "a", "price": 15900},
            {"uid": "u", "eventName": "view_item", "item_id": "a", "price": -0.0},
            {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 2, "quantity": 3.0, "value": 6},
            {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 2.5, "quantity": 2, "value": 5.0},
            {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 0, "quantity": -0.0, "value": 0},
            {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a", "price": -0.0,
                                                                          "quantity": 2.0}]},
            {"uid": "😀\U0001F600", "eventName": "view_item", "item_id": "가\U00010348", "price": 5e-324}]
    report = ak.validate_events(rows)
    assert report.invalid == 0
    sent = _sent(report)
    assert all(same_json(a, b) for a, b in zip(sent, rows, strict=True)), sent


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_json_files_keep_integers_beyond_64_bits_exact(tmp_path, suffix):  # orjson alone would read floats
    rows = [{"uid": "u", "eventName": "view_item", "item_id": "a", "price": v} for v in (2**64 + 1, -2**63 - 1)]
    path = tmp_path / f"e{suffix}"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) if suffix == ".jsonl" else json.dumps(rows))
    report = ak.validate_events(path)
    assert report.violations.select("rule", "value").rows() == [("W103", str(-2**63 - 1))]
    assert all(same_json(a, b) for a, b in zip(_sent(report), rows, strict=True))


def test_integers_too_long_for_python_to_write_are_e001_not_a_crash():
    huge = 10**5000
    payload = {"uid": "u", "eventName": "view_item", "item_id": "a", "price": huge}
    for p in (payload, {**payload, "price": 1, "extra": [huge]}):
        assert ak.validate_event(p).rules == {"E001"}
        assert _rules(ak.validate_events([p])) == {0: {"E001"}}
    bad = {"uid": "u", "eventName": "view_item", "item_id": "a", "price": -huge}
    assert "digits" in ak.validate_event(bad).errors[0].message


# -- the pandera engine and the public schemas ------------------------------------------------------
@pytest.mark.parametrize("quantity", [2.5, math.nan, math.inf, -math.inf])
def test_the_pandera_engine_reports_the_numeric_e006_checks(quantity):
    payload = {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 1, "quantity": quantity}
    assert ak.validate_event(payload).rules == {"E006"}
    for engine in ("polars", "pandera"):
        report = ak.validate_events([payload], engine=engine)
        assert report.violations.select("rule", "field").rows() == [("E006", "quantity")], engine


def test_the_public_pandera_schemas_check_numeric_values_too():
    import pandera.polars as pa

    df = pl.DataFrame({"uid": ["u"] * 3, "eventName": ["add_to_cart"] * 3, "item_id": ["a"] * 3,
                       "price": [1.0, math.nan, math.inf], "quantity": [2, 1, 3]})
    for schema in (schemas.for_event("add_to_cart"), schemas.dataset_schema()):
        with pytest.raises(pa.errors.SchemaErrors) as exc:
            schema.validate(df, lazy=True)
        fc = exc.value.failure_cases
        assert fc.filter(pl.col("check").str.starts_with("E006")).select("column", "index").rows() == [
            ("price", 1), ("price", 2)]
        # a typed frame's integers are Int64: a Float64 quantity is the wrong dtype, said by pandera itself
        with pytest.raises(pa.errors.SchemaErrors) as exc:
            schema.validate(df.with_columns(pl.col("quantity").cast(pl.Float64)), lazy=True)
        assert "quantity" in exc.value.failure_cases.filter(pl.col("schema_context") == "Column")["column"].to_list()


def test_the_pandera_engine_reports_keys_holding_colons_and_its_separator():  # found by test_parity
    rows = [{"uid": "u", "eventName": "app_open", "0:": 1, "a — b": 2, "W102:x": 3, "E005:method:missing": 4}]
    expected = [("W102", k) for k in ("0:", "E005:method:missing", "W102:x", "a — b")]
    for engine in ("polars", "pandera"):
        got = ak.validate_events(rows, engine=engine).violations.select("rule", "field").rows()
        assert sorted(got) == expected, engine


# -- a list inside an item ---------------------------------------------------------------------------
def test_a_list_inside_an_item_is_e008_in_a_polars_frame_and_in_parquet(tmp_path):
    payload = {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a",
                                                                             "item_category": ["x", "y"]}]}
    df = pl.DataFrame([payload])
    assert isinstance(df.schema["items"], pl.List)
    path = tmp_path / "e.parquet"
    df.write_parquet(path)
    for data in (df, path, [payload], pd.DataFrame([payload])):
        report = ak.validate_events(data)
        assert report.violations.select("rule", "field").rows() == [("E008", "items[0].item_category")], data
        assert "got an array" in report.violations["message"][0]
        assert report.violations["value"][0] == '["x","y"]'
    assert ak.validate_event(payload).rules == {"E008"}


def test_objects_and_categoricals_inside_native_items():
    df = pl.DataFrame({"uid": ["u"], "eventName": ["purchase"], "tx_id": ["t"],
                       "items": [[{"item_id": "a", "brand": {"name": "x"}, "item_name": "n"}]]})
    report = ak.validate_events(df)
    assert report.violations.select("rule", "field", "value").rows() == [("E008", "items[0].brand", '{"name":"x"}')]
    assert "got an object" in report.violations["message"][0]
    text = df.with_columns(pl.col("items").list.eval(pl.element().struct.with_fields(
        pl.field("item_name").cast(pl.Categorical), pl.field("brand").struct.field("name").alias("brand"))))
    assert ak.validate_events(text).violations.height == 0  # a categorical is text


# -- str subclasses are strings -------------------------------------------------------------------------
class Platform(StrEnum):
    WEB = "web"
    IOS = "ios"


class Text(str):
    """A str subclass of one's own."""


def test_str_subclasses_are_strings_in_every_validator():
    payload = {"uid": np.str_("u1"), "eventName": Text("add_to_cart"), "platform": Platform.WEB,
               "item_id": np.str_("a"), "item_name": Text("n"), "currency": Text("KRW"), "price": 2,
               "quantity": 1, "value": 2}
    assert ak.validate_event(payload).violations == []
    for data in ([payload], pd.DataFrame([payload])):
        report = ak.validate_events(data)
        assert report.violations.height == 0, report.violations.rows()
    purchase = {"uid": Text("u"), "eventName": "purchase", "tx_id": np.str_("t"),
                "items": [{"item_id": Text("a"), "brand": np.str_("b")}], "note": Platform.IOS}
    assert ak.validate_event(purchase).rules == {"W102"}
    assert set(ak.validate_events([purchase]).violations["rule"]) == {"W102"}
    assert _sent(ak.validate_events([payload]))[0] == {k: str(v) if isinstance(v, str) else v
                                                       for k, v in payload.items()}


def test_a_str_subclass_of_the_wrong_value_still_gets_the_right_message():
    v = ak.validate_event({"uid": "u", "eventName": "app_open", "platform": Text("windows")}).errors[0]
    assert v.rule == "E004"
    bad = ak.validate_event({"uid": 1, "eventName": "app_open"}).errors[0]
    assert bad.message == "uid must be a string, got an integer"


def test_a_tuple_is_an_array():
    payload = {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": ({"item_id": "a"},)}
    assert ak.validate_event(payload).violations == []
    assert ak.validate_events([payload]).violations.height == 0


# -- limits ---------------------------------------------------------------------------------------------
def _nested(levels: int) -> list:
    v: list = []
    for _ in range(levels):
        v = [v]
    return v


def test_nesting_350_levels_deep_is_an_e001_row_not_a_recursion_error(tmp_path):
    payload = {"uid": "u", "eventName": "app_open", "x": _nested(350)}
    (v,) = ak.validate_event(payload).violations
    assert (v.rule, v.message) == ("E001", DEPTH_MESSAGE)
    ok = {"uid": "u", "eventName": "app_open"}
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(ok) + "\n" + json.dumps(payload) + "\n")
    purchase = {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a", "x": _nested(350)}]}
    for data in ([ok, payload], path, [ok, purchase], pd.DataFrame([ok, payload])):
        report = ak.validate_events(data)
        assert _rules(report) == {1: {"E001"}}
        assert report.violations["message"].to_list() == [DEPTH_MESSAGE]
        assert _sent(report) == [ok]
    body = _nested(350)
    assert ak.validate_event(body).errors[0].message == DEPTH_MESSAGE
    assert ak.validate_events([body]).violations["message"].to_list() == [DEPTH_MESSAGE]


def test_the_depth_limit_is_exactly_64_levels():
    def at(levels: int) -> dict:  # the event is level 1, so its value adds levels - 1
        return {"uid": "u", "eventName": "app_open", "x": _nested(levels - 2)}

    assert ak.validate_event(at(64)).rules == {"W102", "W109"}  # x, outside the catalog, holds a list
    assert ak.validate_event(at(65)).rules == {"E001"}
    assert _rules(ak.validate_events([at(64), at(65)])) == {0: {"W102", "W109"}, 1: {"E001"}}
    for levels, rules in ((64, {0: {"W102", "W109"}}), (65, {0: {"E001"}})):  # a native nested column too
        assert _rules(ak.validate_events(pl.DataFrame([at(levels)]))) == rules


def test_more_than_1000_keys_in_an_object_is_an_e001_row_everywhere(tmp_path):
    wide = {"uid": "u", "eventName": "app_open", **{f"k{i}": i for i in range(MAX_KEYS)}}   # 1002 keys
    fits = {"uid": "u", "eventName": "app_open", **{f"k{i}": i for i in range(MAX_KEYS - 2)}}  # 1000
    inner = {"uid": "u", "eventName": "app_open", "meta": {f"k{i}": i for i in range(MAX_KEYS + 1)}}
    assert ak.validate_event(wide).errors[0].message == KEYS_MESSAGE
    assert ak.validate_event(fits).ok and ak.validate_event(inner).rules == {"E001"}
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in (fits, wide, inner)))
    for data in ([fits, wide, inner], path):
        report = ak.validate_events(data)
        assert {r: rules for r, rules in _rules(report).items() if "E001" in rules} == {1: {"E001"}, 2: {"E001"}}
        assert set(report.violations.filter(pl.col("rule") == "E001")["message"]) == {KEYS_MESSAGE}


@pytest.mark.slow  # a 1,002-column frame takes seconds to check (io.frames asks polars for its schema per column)
def test_more_than_1000_keys_in_a_frame_row_is_an_e001_row_and_a_null_cell_is_no_key():
    wide = {"uid": "u", "eventName": "app_open", **{f"k{i}": i for i in range(MAX_KEYS)}}   # 1002 keys
    frames = [pd.DataFrame([wide]), pl.DataFrame([wide])]
    for df in frames:
        assert _rules(ak.validate_events(df)) == {0: {"E001"}}
    # in a frame a null cell is an absent key: a 1,002-column frame whose row has 1,000 values is fine
    holes = pl.DataFrame([wide]).with_columns(pl.lit(None, pl.Int64).alias("k0"), pl.lit(None, pl.Int64).alias("k1"))
    assert "E001" not in set(ak.validate_events(holes).violations["rule"])


def test_a_row_with_thousands_of_keys_builds_no_column_for_them():
    line = {"uid": "u", "eventName": "app_open", **{f"key_{i}": i for i in range(2000)}}
    tracemalloc.start()
    try:
        report = ak.validate_events([line])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert _rules(report) == {0: {"E001"}} and report.frame.width < 10
    assert peak < 50e6


@pytest.mark.slow  # validated twice, once under tracemalloc: seconds
def test_memory_is_linear_in_the_input_with_many_distinct_unknown_keys():
    rows = [{"uid": f"u{r}", "eventName": "app_open", **{f"r{r}_k{i}": i for i in range(900)}} for r in range(50)]
    peak_rss = _peak_rss_growth(lambda: ak.validate_events(rows))
    start = time.perf_counter()
    tracemalloc.start()
    try:
        report = ak.validate_events(rows)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    assert peak < 100e6 and peak_rss < 500, (peak, peak_rss)
    assert elapsed < 30
    assert report.summary() == {"rows": 50, "valid": 50, "invalid": 0, "warned": 50}
    w102 = report.violations.filter(pl.col("rule") == "W102")
    assert w102.height == 45_000 and w102.filter(pl.col("row") == 7)["field"].to_list()[:2] == ["r7_k0", "r7_k1"]
    assert _sent(report) == rows


def _peak_rss_growth(fn) -> float:
    """Peak resident memory (MB) above the start while `fn` runs, sampled from /proc/self/status."""
    def rss() -> float:
        try:
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024
        except OSError:
            return 0.0

    base, peak, done = rss(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)

    t = threading.Thread(target=sample)
    t.start()
    try:
        fn()
    finally:
        done.set()
        t.join()
    return max(0.0, max(peak[0], rss()) - base)


def test_rare_unknown_keys_share_one_column_and_common_ones_keep_theirs():
    rows = [{"uid": "u", "eventName": "app_open", "ts": "2026-01-01", "level": i, **({"rare": i} if i == 3 else {})}
            for i in range(100)]
    report = ak.validate_events(rows)
    assert "level" in report.frame.columns and "rare" not in report.frame.columns  # held in `__more`
    assert report.valid_rows.columns == ["uid", "eventName", "ts", "level", "rare"]  # your columns again
    assert report.valid_rows.get_column("rare").to_list() == [None] * 3 + [3] + [None] * 96
    rare = report.violations.filter(pl.col("field") == "rare")
    assert rare.select("row", "rule", "value").rows() == [(3, "W102", "3")]
    assert [p for _, p in to_payloads(report.canonical_rows(), ak.STANDARD, extra_columns=("ts",))] == [
        {k: v for k, v in r.items() if k != "ts"} for r in rows]


# -- messages that quote user text ------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["a\x00b", "x\x00k\x00y", "x\x00e\x00y", "\x1b[31mred", "line\u2028sep", "tab\t"])
def test_a_key_with_control_characters_is_quoted_escaped_never_a_crash(key):
    payload = {"uid": "u", "eventName": "app_open", key: 1}
    (v,) = ak.validate_event(payload).violations
    assert v.rule == "W102" and v.field == key
    assert v.message.isprintable() and repr(key)[1:-1] in v.message
    report = ak.validate_events([payload])
    assert report.violations.select("rule", "field", "message").rows() == [("W102", key, v.message)]


def test_event_names_and_tx_ids_with_control_characters_are_quoted_escaped():
    payload = {"uid": "u", "eventName": "lvl\x00up\x07"}
    (v,) = ak.validate_event(payload).violations
    assert v.rule == "W101" and "lvl\\x00up\\x07" in v.message and v.message.isprintable()
    assert ak.validate_events([payload]).violations["message"].to_list() == [v.message]
    item = [{"item_id": "a"}]
    rows = [{"uid": "u", "eventName": "purchase", "tx_id": "T\x00\u2028", "items": item}] * 2
    msg = ak.validate_events(rows).violations.filter(pl.col("rule") == "W107")["message"][0]
    assert "T\\x00\\u2028" in msg and msg.isprintable()


# -- W105 with numbers beyond the float range ---------------------------------------------------------------
@pytest.mark.parametrize("value,price,quantity,warned", [
    (1, 10**400, 1, True),                 # the report: OverflowError before
    (10**400, 10**400, 1, False),
    (2 * 10**400, 10**400, 2, False),
    (10**400, 10**400, 2, True),
    (10**400 + 1, 10**400, 1, False),      # within the tolerance, exactly
    (1.0, 1e200, 10**200, True),           # a float product that overflows
    (1e308, 1e154, 10**154, False),
    (10**310, 1e300, 10**10, False),       # overflows in floats, equal within the tolerance exactly
    (2**63 + 5, 2**63 + 5, 1, False),
])
def test_w105_compares_exactly_beyond_the_float_range(value, price, quantity, warned):
    payload = {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": price, "quantity": quantity,
               "value": value}
    assert ak.validate_event(payload).rules == ({"W105"} if warned else set())
    for engine in ("polars", "pandera"):
        assert _rules(ak.validate_events([payload], engine=engine)) == ({0: {"W105"}} if warned else {}), engine


def test_the_local_server_judges_numbers_beyond_the_float_range_without_crashing(adrop_server):
    import http.client

    def post(payload: dict) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", adrop_server.port, timeout=10)
        try:
            conn.request("POST", "/event", body=json.dumps(payload).encode(),
                         headers={"Authorization": adrop_server.app_key, "Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    w105 = {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 10**400, "quantity": 1, "value": 1}
    assert post(w105) == (200, b'{"message":"ok"}')  # a warning: accepted
    assert post({**w105, "quantity": 2.5})[0] == 400
