"""Items held as JSON text (CSV cells, JSONL lines) are checked natively when they are plain.

The native pass is only a filter: rows it proves clean are skipped, every other row is judged by
`check_items` one by one. So a report must be the same with the filter and without it, whatever
the items text holds: near-plain texts (negative prices, quantity 0, `-0`, empty ids, `{}`, a key
twice, spaces, escapes, unknown keys, nulls, exponents, long digit runs) are drawn here on purpose.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adrop_kit as ak
from adrop_kit.validate import nested

KEYS = ["item_id", "item_name", "price", "quantity", "brand", "Item_ID", "extra"]
NUMBERS = ["0", "-0", "1", "-1", "15900", "-500", "0.5", "-0.0", "13300.0", "72.99", "1e3", "1.5E-2",
           "12345678901234567890", "0.99999999999999999999", "2.0"]
STRINGS = ['"A"', '""', '" "', '"a\\"b"', '"\\u00e9"', '"SKU-1"', '"x:y"', '"\\":"', '"a\\\\"', '"\\\\\\":"',
           '"\\n\\t\\/"', '"\\ud83d\\ude00"', '"\\u0000"', '"\\u001f"', '"\\ud800"', '"\\":null,\\"item_id\\":"']
VALUES = st.sampled_from(NUMBERS + STRINGS + ["true", "false", "null", "[]", "{}", '[1]'])
WS = st.sampled_from(["", " ", "\n", "\t "])


@st.composite
def item_text(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=5))
    w = draw(WS)
    return "{" + w + ("," + w).join(f'"{k}"{w}:{w}{v}' for k, v in pairs) + w + "}"


@st.composite
def items_text(draw: st.DrawFn) -> str:
    objects = draw(st.lists(st.one_of(item_text(), st.sampled_from(["null", "1", '"x"', "[]"])), max_size=4))
    w = draw(WS)
    return w + "[" + w + ("," + w).join(objects) + w + "]" + w


def _report(path, *, native: bool) -> dict:
    if native:
        return ak.validate_events(path).to_dict()
    original = nested._clean_plain_items
    nested._clean_plain_items = lambda sub, catalog: pl.Series([False] * sub.height, dtype=pl.Boolean)
    try:
        return ak.validate_events(path).to_dict()
    finally:
        nested._clean_plain_items = original


@settings(max_examples=examples(80), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(items_text(), min_size=1, max_size=12))
def test_a_report_is_the_same_with_and_without_the_native_items_filter(tmp_path_factory, texts: list[str]) -> None:
    path = tmp_path_factory.mktemp("items") / "e.jsonl"
    lines = [f'{{"uid": "u{i}", "eventName": "purchase", "tx_id": "t{i}", "currency": "KRW", "items": {t}}}'
             for i, t in enumerate(texts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _report(path, native=True) == _report(path, native=False)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(items_text(), min_size=1, max_size=12))
def test_a_csv_report_is_the_same_with_and_without_the_native_items_filter(tmp_path_factory, texts: list[str]) -> None:
    """A CSV cell reaches the checks as written (a JSON source's items are written again by orjson):
    spacing, `\\u` escapes, `\\/` and a key hidden behind an escaped quote meet the filter as they are."""
    path = tmp_path_factory.mktemp("items") / "e.csv"
    cells = ['"' + t.replace('"', '""') + '"' for t in texts]
    path.write_text("uid,eventName,tx_id,currency,items\n" + "".join(
        f"u{i},purchase,t{i},KRW,{cell}\n" for i, cell in enumerate(cells)), encoding="utf-8")
    assert _report(path, native=True) == _report(path, native=False)


def test_plain_items_with_problems_are_still_reported_as_check_items_reports_them(tmp_path) -> None:
    rows = [{"uid": "u1", "eventName": "purchase", "tx_id": "t1", "currency": "KRW",
             "items": [{"item_id": "A", "price": -500, "quantity": 0}, {"price": 3}]},
            {"uid": "u2", "eventName": "purchase", "tx_id": "t2", "currency": "KRW",
             "items": [{"item_id": "B", "price": 13300.0, "quantity": 1}]}]
    path = tmp_path / "e.csv"
    cells = [json.dumps(r["items"]).replace('"', '""') for r in rows]
    path.write_text("uid,eventName,tx_id,currency,items\n" + "".join(
        f'{r["uid"]},{r["eventName"]},{r["tx_id"]},{r["currency"]},"{cell}"\n'
        for r, cell in zip(rows, cells, strict=True)),
        encoding="utf-8")
    got = {(v["row"], v["rule"], v["field"], v["value"]) for v in ak.validate_events(path).to_dict()["violations"]}
    assert got == {(0, "W103", "items[0].price", -500), (0, "W103", "items[0].quantity", 0),
                   (0, "E008", "items[1].item_id", None)}


NULL_OR_TWICE = [  # a null optional parameter reads natively; a key twice around a null is judged as orjson reads it
    '[{"item_id":"S","brand":null,"price":null,"quantity":null}]',
    '[{"item_id":"S","brand":"x","brand":null}]', '[{"item_id":"S","brand":null,"brand":"x"}]',
    '[{"item_id":"S","price":-5,"price":null}]', '[{"item_id":"S","price":null,"price":-5}]',
    '[{"item_id":"S","quantity":0,"quantity":null}]', '[{"item_id":"S","quantity":null,"quantity":0}]',
    '[{"item_id":"S","item_id":null}]', '[{"item_id":null,"item_id":"S"}]', '[{"item_id":"S","item_id":""}]',
    '[{"item_id":"S","item_name":"a\\":null"}]', '[{"item_id":"S", "brand" : null ,"price":1}]',
]


@pytest.mark.parametrize("text", NULL_OR_TWICE)
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_nulls_and_keys_given_twice_in_items_report_as_check_items_reports_them(tmp_path, text: str,
                                                                                suffix: str) -> None:
    path = tmp_path / f"e{suffix}"
    if suffix == ".csv":
        path.write_text("uid,eventName,tx_id,currency,items\n" + "".join(
            f'u{i},purchase,t{i},KRW,"{text.replace(chr(34), chr(34) * 2)}"\n' for i in range(3)), encoding="utf-8")
    else:
        path.write_text("".join(f'{{"uid":"u{i}","eventName":"purchase","tx_id":"t{i}","currency":"KRW",'
                                f'"items":{text}}}\n' for i in range(3)), encoding="utf-8")
    assert _report(path, native=True) == _report(path, native=False)
