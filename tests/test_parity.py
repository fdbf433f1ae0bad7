"""One verdict everywhere: a property test over the entry points (issue 9).

For any payload `p` (the catalog strategies' valid and broken events, then made hostile: integers
beyond 64 bits and beyond the float range, -0.0, integral floats, NaN/Infinity, unicode with astral
and control characters, str subclasses such as `numpy.str_`, a `StrEnum` member and one of our own,
in parameters, in items, in keys and values of unknown keys):

- `validate_event(p).rules` == the rules of `validate_events([p])` (a list of dicts)
  == from a JSONL file holding `p` == through a pandas DataFrame == through a polars DataFrame
  == with `engine="pandera"` (pandera is slow per call, so it is held to the same verdicts row by
  row over lists of such payloads);
- the fields and severities agree too (not only the rule ids);
- what `to_payloads(validate_events([p]).canonical_rows())` sends back (from the list, and from the
  JSONL file) is exactly `p`: `1` is not `1.0`,
  `-0.0` keeps its sign, big integers all their digits (a str subclass comes back as the `str`
  it is sent as, a tuple as the list it is sent as).

Deliberate, documented exceptions (README, "How inputs are read"):

- pandas: a top-level NaN (or None) in a frame cell means "absent", pandas' own convention for a
  missing value, so the expected verdict there is that of `p` without its top-level NaN keys;
- polars: compared only where the frame holds `p` as it is (`pl.DataFrame([p])` builds, and reads
  back the same values, nulls inside items aside): polars has no type for an integer beyond 128
  bits, and unifies the types of a column (an int beside a float in items becomes a float);
- frames of any kind hold objects only: a payload that is not an object (E001) is checked as a
  list of dicts only;
- metadata keys (starting with `_`, or `ts`) are not parameters: never checked, never sent, so
  the strategy here does not draw them as unknown keys (validate_event, a pure payload check,
  would report them as W102);
- integers longer than Python writes as text (4,300 digits) are an E001 row in every entry point
  (tested in test_values.py); here integers stay below that.
"""

from __future__ import annotations

import json
import math
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from conftest import examples, same_json
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import adrop_kit as ak
from adrop_kit.io.frames import to_payloads
from adrop_kit.io.jsontext import sent_body
from adrop_kit.spec.rules import VALUE_TRIPLE
from adrop_kit.testing.strategies import events, invalid_events

CATALOG = ak.STANDARD
PARAMS = sorted(CATALOG.param_types)
NUMERIC = [k for k, t in CATALOG.param_types.items() if t in ("number", "integer")]
ITEM_PARAMS = [p.name for p in CATALOG.item_params]
RESERVED = set(CATALOG.param_types) | {"uid", "eventName", "platform", "ts"}


class Text(str):
    """A str subclass of our own."""


class Platform(StrEnum):
    WEB = "web"
    ANDROID = "android"
    IOS = "ios"


class Name(StrEnum):
    ADD_TO_CART = "add_to_cart"
    VIEW_ITEM = "view_item"
    PURCHASE = "purchase"


# -- hostile values -------------------------------------------------------------------------------
BIG_INTS = st.one_of(
    st.sampled_from([2**63 - 1, 2**63, 2**63 + 5, -2**63, -2**63 - 1, 2**64 - 1, 2**64, 2**64 + 1, 2**127,
                     -2**127 - 1, 2**128 + 1, 10**30, -10**30, 10**308, 10**309, 10**400, -10**400, 0, 1, -1]),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-(10**600), max_value=10**600),
)
FLOATS = st.one_of(
    st.sampled_from([-0.0, 0.0, 1.0, 3.0, 15900.0, -1.0, 2.5, 1e16, 2.0**63, 2.0**64, 1e308, -1e308, 5e-324,
                     math.nan, math.inf, -math.inf, 1e154, 1e200]),
    st.integers(-(2**60), 2**60).map(float),
    st.floats(allow_nan=True, allow_infinity=True),
)
CHARS = st.characters(exclude_categories=("Cs",))  # lone surrogates are E001 (tested elsewhere)
TEXT = st.one_of(
    st.text(CHARS, max_size=6),
    st.sampled_from(["", " ", "web", "KRW", "ITEM-1", "a\x00b", "x\x00k\x00y", "\u2028", "😀", "\U0001F600x",
                     "\x1f", "가나다", "tab\t", "a@b.co", "+82 10-1234-5678"]),
)
STR_SUBCLASSES = st.builds(lambda t, kind: kind(t), TEXT, st.sampled_from([np.str_, Text])) | st.sampled_from(
    [*Platform, *Name])
SCALARS = st.one_of(BIG_INTS, FLOATS, TEXT, STR_SUBCLASSES, st.booleans(), st.none(), st.integers(-3, 3))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=5)
NUMBERS = st.one_of(BIG_INTS, FLOATS, st.integers(-3, 30))
UNKNOWN_KEYS = st.text(CHARS, min_size=0, max_size=6).filter(lambda k: not k.startswith("_") and k not in RESERVED)


@st.composite
def hostile(draw: st.DrawFn) -> Any:
    """A valid or broken event from the catalog strategies, with hostile values put in."""
    p = draw(st.one_of(events(catalog=CATALOG), invalid_events(catalog=CATALOG).map(lambda case: case[0])))
    if not isinstance(p, dict):
        return p
    p = dict(p)
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["numeric", "param", "unknown", "item", "envelope", "triple"]))
        if where == "numeric":
            p[draw(st.sampled_from(NUMERIC))] = draw(NUMBERS)
        elif where == "param":
            p[draw(st.sampled_from(PARAMS))] = draw(VALUES)
        elif where == "unknown":
            p[draw(UNKNOWN_KEYS)] = draw(VALUES)
        elif where == "item" and isinstance(p.get("items"), list) and p["items"]:
            items = list(p["items"])
            i = draw(st.integers(0, len(items) - 1))
            if isinstance(items[i], dict):
                name = draw(st.sampled_from(ITEM_PARAMS))
                items[i] = {**items[i], name: draw(NUMBERS if name in ("price", "quantity") else VALUES)}
            p["items"] = items
        elif where == "envelope":
            key = draw(st.sampled_from(["uid", "eventName", "platform"]))
            if isinstance(p.get(key), str):
                p[key] = draw(st.sampled_from([np.str_, Text]))(p[key])
            elif key == "platform":
                p[key] = draw(st.sampled_from(list(Platform)))
        elif where == "triple":  # W105, value == price * quantity, with numbers of any size
            price, quantity = draw(NUMBERS), draw(st.one_of(BIG_INTS, st.integers(1, 5), st.integers(1, 5).map(float)))
            p.update(eventName=draw(st.sampled_from(["add_to_cart", Name.ADD_TO_CART])), item_id="a", price=price,
                     quantity=quantity)
            consistent = draw(st.booleans())
            try:
                p["value"] = price * quantity if consistent else draw(NUMBERS)
            except OverflowError:
                p["value"] = draw(NUMBERS)
    return p


# -- comparing values as JSON values ---------------------------------------------------------------
def _plain(v: Any) -> Any:
    """A value as the JSON it is sent as: str subclasses are text, tuples arrays, numpy scalars numbers."""
    if isinstance(v, np.generic):
        return _plain(v.item())
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {_plain(k): _plain(x) for k, x in v.items()}
    return v


def same(a: Any, b: Any) -> bool:
    """Equal as the JSON they are sent as (`_plain`), type for type (`same_json`)."""
    return same_json(_plain(a), _plain(b))


def _drop_nulls(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _drop_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, (list, tuple)):
        return [_drop_nulls(x) for x in v]
    return v


# -- the verdicts ------------------------------------------------------------------------------------
def _verdict(report: ak.DatasetReport) -> set[tuple[str, str, str]]:
    assert report.rows == 1
    return set(report.violations.select("rule", "field", "severity").rows())


def _single(payload: Any, strict: bool) -> set[tuple[str, str, str]]:
    return {(v.rule.value, v.field, v.severity) for v in ak.validate_event(payload, strict=strict).violations}


def _polars_frame(p: dict) -> pl.DataFrame | None:
    """`p` as a one-row polars frame, when polars holds it as it is (else None)."""
    try:
        df = pl.DataFrame([p])
        back = df.to_dicts()[0]
    except Exception:  # noqa: BLE001 - whatever polars refuses is not representable there
        return None
    return df if same(_drop_nulls(back), _drop_nulls(p)) and list(back) == list(p) else None


def _jsonl_verdict(p: Any, strict: bool) -> set[tuple[str, str, str]]:
    """`p` written as one JSONL line (NaN/Infinity as their tokens), then read back from the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "e.jsonl"
        path.write_text(json.dumps(p, allow_nan=True, ensure_ascii=False) + "\n", encoding="utf-8")
        report = ak.validate_events(path, strict=strict)
        sent = [q for _, q in to_payloads(report.canonical_rows(), CATALOG)]
    if sent:
        assert same(sent[0], sent_body(p)), ("sent from JSONL", p, sent)  # null absent, in items too
    return _verdict(report)


def _check_everywhere(p: Any, strict: bool, *, pandera: bool = False) -> None:
    expected = _single(p, strict)
    records = ak.validate_events([p], strict=strict)
    assert _verdict(records) == expected, ("list of dicts", p)
    assert _jsonl_verdict(p, strict) == expected, ("JSONL file", p)
    if pandera:
        assert _verdict(ak.validate_events([p], strict=strict, engine="pandera")) == expected, ("pandera", p)
    if not isinstance(p, dict):
        return
    if not (records.invalid or any(_plain(k).startswith("_") for k in p)):
        (sent,) = [q for _, q in to_payloads(records.canonical_rows(), CATALOG)]
        assert same(sent, sent_body(p)), ("sent", p, sent)
    absent_in_pandas = {k for k, v in p.items() if isinstance(v, float) and math.isnan(v)}
    pandas_expected = _single({k: v for k, v in p.items() if k not in absent_in_pandas}, strict)
    assert _verdict(ak.validate_events(pd.DataFrame([p]), strict=strict)) == pandas_expected, ("pandas", p)
    df = _polars_frame(p)
    if df is not None:
        assert _verdict(ak.validate_events(df, strict=strict)) == expected, ("polars", p)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile(), st.booleans())
@example({"eventName": "app_open", "uid": "u0", "*": 9223372036854775807}, False)  # polars' "every column"
@example({"eventName": "app_open", "uid": "u0", "^uid$": [1]}, False)  # a polars regex
@example({"eventName": "begin_checkout", "uid": "u0", "items": [{"item_id": "ITEM-0", "item_name": None}],
          "price": 9223372036854775807}, False)  # null in an item: absent, as at the top level
def test_every_entry_point_gives_the_same_verdict_and_sends_what_it_read(payload: Any, strict: bool) -> None:
    _check_everywhere(payload, strict)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(hostile(), min_size=1, max_size=25), st.booleans())
def test_the_pandera_engine_gives_the_same_verdicts_row_by_row(payloads: list, strict: bool) -> None:
    def by_row(report: ak.DatasetReport) -> list[set[tuple[str, str, str]]]:
        rows: list[set[tuple[str, str, str]]] = [set() for _ in payloads]
        for row, rule, field, severity in report.violations.select("row", "rule", "field", "severity").iter_rows():
            if rule != "W107":  # a dataset rule: validate_event never reports it
                rows[row].add((rule, field, severity))
        return rows

    expected = [_single(p, strict) for p in payloads]
    assert by_row(ak.validate_events(payloads, strict=strict, engine="pandera")) == expected
    assert by_row(ak.validate_events(payloads, strict=strict)) == expected


@pytest.mark.parametrize("payload", [
    {"uid": "u1", "eventName": "view_item", "item_id": "a", "price": 2**63 + 5},
    {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 1, "quantity": 2**63, "value": 2**63},
    {"uid": "u", "eventName": "view_item", "item_id": "a", "price": -2**63 - 1},
    {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 10**400, "quantity": 1, "value": 1},
    {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 1, "quantity": 2.5},
    {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": math.nan, "quantity": math.inf},
    {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a", "item_category": ["x", "y"]}]},
    {"uid": np.str_("u"), "eventName": Name.VIEW_ITEM, "platform": Platform.IOS, "item_id": Text("a")},
    {"uid": "u", "eventName": "app_open", "a\x00b": 1, "x\x00k\x00y": -0.0},
    {"uid": "u", "eventName": "view_item", "item_id": "a", "price": 15900.0, "n": 15900, "z": -0.0},
    {"uid": "😀", "eventName": "view_item", "item_id": "\U00010348", "price": 0.1, "d": {"k": [10**30, 1.0]}},
], ids=["big-price", "big-quantity", "w103-big", "w105-10e400", "quantity-2.5", "nan-inf", "list-in-item",
        "str-subclasses", "nul-keys", "integral-floats", "unicode"])
def test_the_reported_cases_agree_everywhere(payload: dict) -> None:
    for strict in (False, True):
        _check_everywhere(payload, strict, pandera=True)


def test_the_triple_is_the_w105_triple() -> None:  # the strategy's "triple" edits the rule's own parameters
    assert VALUE_TRIPLE == ("value", "price", "quantity")
