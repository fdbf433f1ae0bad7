"""How `adrop_kit.testing.strategies.invalid_events()` breaks a valid payload: one mutation per rule.

Each rule has a table of wrong values and a function that applies one to a payload; a
mutation is chosen so that the rule it names is the only rule the payload then breaks, but for
the companions of `COMPANIONS` (W109's key outside the catalog is also a W102 key).
Plain data and functions on dicts: no Hypothesis here (the strategies draw from these).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import partial
from typing import Any

from adrop_kit.spec.catalog import ITEMS, Catalog, EventSpec
from adrop_kit.spec.rules import (
    AT_LEAST_ONE,
    CURRENCY_PARAM,
    MAX_EVENT_NAME,
    MAX_PARAMS,
    NON_NEGATIVE,
    VALUE_TRIPLE,
    Rule,
)

Payload = dict[str, Any]
Edit = Callable[[Payload], Any]
COMPANIONS: dict[str, frozenset[str]] = {"W109": frozenset({"W102"})}
"""Rules a mutation for the rule (the key) cannot help breaking as well."""
MAX_ITEMS = 4
"""The most items a drawn payload carries (and the item positions a mutation may hit)."""


def consistent_value(payload: Payload) -> Payload:
    """W105: when value, price and quantity are all given, value is price * quantity."""
    value, price, quantity = VALUE_TRIPLE
    if value in payload and price in payload and quantity in payload:
        payload[value] = payload[price] * payload[quantity]
    return payload



class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


_DELETE = _Delete()  # an edit value meaning "remove the key"

_WRONG: dict[str, tuple[Any, ...]] = {  # wrong values per parameter type (E006; E008 inside items)
    "string": (123, 4.5, True, ["x"], {"x": 1}),
    "number": ("29900", "", True, False, math.nan, math.inf, -math.inf, [1]),
    "integer": (2.5, "3", True, math.nan, math.inf, [1]),
    "boolean": ("true", 1, 0, "yes"),
}
_BODIES: tuple[Edit, ...] = (  # E001: not a JSON object
    lambda p: [p], json.dumps, lambda p: None, lambda p: 42, lambda p: 1.5, lambda p: "", lambda p: True,
)
_BAD_UIDS = (_DELETE, None, "", "   ", "\t", 123, True, ["u1"], {"id": "u1"})  # E002
_BAD_NAMES = (_DELETE, None, "", 7, False, ["view_item"],  # E003, and names past MAX_EVENT_NAME code points
              "e" * (MAX_EVENT_NAME + 1), "이" * (MAX_EVENT_NAME + 1), "😀" * (MAX_EVENT_NAME + 1),
              "purchase" + "_" * (MAX_EVENT_NAME - 7))
_BAD_PLATFORMS = ("Web", "windows", "iOS", "", "android ", 1, True, ["web"])  # E004
_BAD_ITEMS = (_DELETE, None, [], "SKU-1", {"item_id": "SKU-1"}, 3)  # E007
_BAD_ELEMENTS = ("SKU-1", 1, None, ["SKU-1"], True)  # E008: an item that is not an object
_CUSTOM_NAMES = ("level_up", "viewItem", "Purchase", "add-to-cart", "custom_event", "purchase ")  # W101
_TYPO_KEYS = ("itemId", "ItemID", "user_id", "event_name", "Price", "txId")  # W102
_BAD_CURRENCIES = ("krw", "KRWX", "usd", "Won", "₩", "KR", "US$", "")  # W104
_PERSONAL_UIDS = ("jane@example.com", "kim.minji@mail.co.kr", "+82 10-1234-5678",
                  "010-1234-5678", "01012345678", "+1 (555) 010-9999")  # W106
_SANITY = {**{k: (-1, -0.5, -29900) for k in NON_NEGATIVE}, **{k: (0, -1) for k in AT_LEAST_ONE}}  # W103
_FALLBACK_ITEM = {"item_id": "SKU-1", "price": 1000, "quantity": 1}  # when the event's items are optional


def _set(p: Payload, key: str, value: Any) -> Payload:
    q = dict(p)
    if value is _DELETE:
        q.pop(key, None)
    else:
        q[key] = value
    return q


def _set_number(p: Payload, key: str, value: Any) -> Payload:
    """Set a sanity-checked number, keeping value == price * quantity so that only W103 fires."""
    return consistent_value(_set(p, key, value))


def _set_item(p: Payload, index: int, key: str | None, value: Any) -> Payload:
    """Edit element `index` (modulo the length) of items; `key=None` replaces the whole element."""
    elements = list(p.get(ITEMS) or [_FALLBACK_ITEM])
    i = index % len(elements)
    elements[i] = value if key is None else _set(elements[i], key, value)
    return {**p, ITEMS: elements}


def _overcharge(p: Payload, factor: float) -> Payload:
    """W105: a non-negative value far from price * quantity."""
    price, quantity = p.get("price", 10), p.get("quantity", 1)
    return {**p, "price": price, "quantity": quantity, "value": price * quantity * factor + 1}


_NESTED_KEYS = ("meta", "tags", "cart")  # W109 (with W102: the event does not list them)
_NESTED_VALUES = ({"a": 1}, ["x", "y"], [1, 2], [{"a": "b"}], {"k": {"n": 1}})
_GOOD: dict[str, Any] = {"string": "x", "number": 1, "integer": 1, "boolean": True}  # W108: valid fillers


def _fill(p: Payload, spec: EventSpec) -> Payload:
    """W108: every parameter of `spec` given a valid value (for an event declaring more than MAX_PARAMS)."""
    q = dict(p)
    for param in spec.params:
        if q.get(param.name) is None:
            q[param.name] = ([dict(_FALLBACK_ITEM)] if param.type == "items" else
                             "KRW" if param.name == CURRENCY_PARAM else _GOOD[param.type])
    return consistent_value(q)


def edits(rule: Rule, spec: EventSpec, cat: Catalog) -> list[Edit]:
    """Every mutation of a valid `spec` payload that breaks `rule` and no other ([] when none can)."""
    scalar = [p for p in spec.params if p.type != "items"]
    carried = spec.param(ITEMS) if spec.has_items else None  # the event's items parameter
    triple = set(VALUE_TRIPLE) <= spec.param_names
    if rule is Rule.E001:
        return list(_BODIES)
    if rule in (Rule.E002, Rule.E003, Rule.E004, Rule.W106):
        key, bad = {Rule.E002: ("uid", _BAD_UIDS), Rule.E003: ("eventName", _BAD_NAMES),
                    Rule.E004: ("platform", _BAD_PLATFORMS), Rule.W106: ("uid", _PERSONAL_UIDS)}[rule]
        return [partial(_set, key=key, value=v) for v in bad]
    if rule is Rule.E005:
        return [partial(_set, key=p.name, value=v) for p in scalar if p.required
                for v in (_DELETE, None, *([""] if p.type == "string" else []))]
    if rule is Rule.E006:
        return [partial(_set, key=p.name, value=v) for p in scalar for v in _WRONG[p.type]]
    if rule is Rule.E007:
        return [partial(_set, key=ITEMS, value=v) for v in _BAD_ITEMS] if carried and carried.required else []
    if rule is Rule.E008:
        if not carried:
            return []
        bad = [(None, v) for v in _BAD_ELEMENTS]
        bad += [(p.name, v) for p in cat.item_params if p.required
                for v in (_DELETE, None, *([""] if p.type == "string" else []))]
        bad += [(p.name, v) for p in cat.item_params for v in _WRONG[p.type]]
        return [partial(_set_item, index=i, key=k, value=v) for i in range(MAX_ITEMS) for k, v in bad]
    if rule is Rule.W101:
        return [partial(_set, key="eventName", value=n) for n in _CUSTOM_NAMES if n not in cat]
    if rule is Rule.W102:
        others = sorted(set(cat.param_types) - spec.param_names)[:3]  # another event's parameter
        return [partial(_set, key=k, value=v) for k in (*_TYPO_KEYS, *others)
                if k not in spec.allowed_keys for v in ("x", 1, True)]
    if rule is Rule.W103:
        numeric = [p.name for p in scalar if p.type in ("number", "integer") and p.name in _SANITY
                   and not (triple and p.name == "value")]  # there, a negative price makes value negative
        out: list[Edit] = [partial(_set_number, key=k, value=v) for k in numeric for v in _SANITY[k]]
        if carried:
            out += [partial(_set_item, index=i, key=p.name, value=v) for i in range(MAX_ITEMS)
                    for p in cat.item_params if p.type in ("number", "integer") for v in _SANITY.get(p.name, ())]
        return out
    if rule is Rule.W104:
        currency = spec.param(CURRENCY_PARAM) if CURRENCY_PARAM in spec.param_names else None
        if currency is None or currency.type != "string":
            return []
        return [partial(_set, key=CURRENCY_PARAM, value=v) for v in _BAD_CURRENCIES if v or not currency.required]
    if rule is Rule.W105:
        return [partial(_overcharge, factor=f) for f in (2, 1.5)] if triple else []
    if rule is Rule.W108:  # keys beyond the catalog's would also be W102 (or W101): only a plan's big event
        return [partial(_fill, spec=spec)] if len(spec.params) > MAX_PARAMS else []
    if rule is Rule.W109:  # a key outside the catalog is one the event does not list: W102 comes with it
        return [partial(_set, key=k, value=v) for k in _NESTED_KEYS if k not in spec.allowed_keys
                for v in _NESTED_VALUES]
    return []  # W107: dataset-level


def fits_frame(edit: Edit, frame: str) -> bool:
    """Whether a row of a `frame` ("polars" or "pandas") can hold what `edit` does to a payload.

    pandas reads a top-level NaN as a missing value, so there `{"price": NaN}` (E006) would be
    an absent price: those edits are left out. Polars keeps NaN apart from null, and nested
    values (inside `items`) keep theirs in both.
    """
    if frame != "pandas" or not isinstance(edit, partial) or edit.func not in (_set, _set_number):
        return True
    value = edit.keywords.get("value")
    return not (isinstance(value, float) and math.isnan(value))




def rule_example(rule: Rule, cat: Catalog) -> Any:
    """One deterministic payload that breaks `rule` (the rules reference of the docs shows it), or None
    when no single payload can (W107 needs two purchases; W108 an event declaring more than MAX_PARAMS).

    The first event of the catalog that the rule applies to (purchase first: it has every kind of
    parameter), its required parameters and one item filled with valid values, then the rule's first edit.
    """
    order = sorted(cat, key=lambda spec: spec.name != "purchase")
    for spec in order:
        found = edits(rule, spec, cat)
        if not found:
            continue
        base: Payload = {"uid": "user-1042", "eventName": spec.name, "platform": "ios"}
        for param in spec.params:
            if param.required or param.type == "items":
                base[param.name] = ([dict(_FALLBACK_ITEM)] if param.type == "items" else
                                    "KRW" if param.name == CURRENCY_PARAM else _GOOD[param.type])
        return found[0](consistent_value(base))
    return None
