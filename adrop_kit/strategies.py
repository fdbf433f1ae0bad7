"""Hypothesis strategies drawn from the catalog: valid events, and invalid ones that say which rule they break.

Everything is derived from the catalog (standard or extended by a tracking plan),
so custom events are generated too. Arguments are checked when a strategy is
built, not when it is drawn: `events("nope")` raises `UnknownEvent` at once.

    from hypothesis import given
    from adrop_kit import validate_event
    from adrop_kit.strategies import events, invalid_events

    @given(events("purchase"))
    def test_purchases_are_accepted(payload):
        assert validate_event(payload).ok

    @given(invalid_events(rules=["E005", "E008"]))
    def test_bad_payloads_are_reported(case):
        payload, rule = case
        assert rule in validate_event(payload).rules

`events()` payloads validate with no violation at all (not even a warning).
Each `invalid_events()` payload is a valid one with one mutation, chosen so that
the rule it names is the only rule it breaks. W101 is a warning unless the
validator runs with `strict=True`. W107 (a `tx_id` reused across purchases) is a
property of a dataset, not of one payload, so `invalid_events()` does not draw it.
"""

from __future__ import annotations

import json
import math
import string
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from .catalog import ITEMS, PLATFORMS, Catalog, EventSpec, ParamSpec, resolve
from .rules import AT_LEAST_ONE, CURRENCY_PARAM, NON_NEGATIVE, VALUE_TRIPLE, Rule

__all__ = ["INVALID_RULES", "events", "invalid_events", "items"]

INVALID_RULES: tuple[str, ...] = tuple(r.value for r in Rule if r is not Rule.W107)
"""The rules `invalid_events()` can break (every rule but the dataset-level W107)."""

Payload = dict[str, Any]
Edit = Callable[[Payload], Any]

# -- building blocks -------------------------------------------------------------------
_ALPHABET = string.ascii_letters + string.digits + "-_.:/가나다é"  # no space, no '@'
_TEXT = st.text(alphabet=_ALPHABET, min_size=1, max_size=12)
_UIDS = st.one_of(
    st.sampled_from(("USER_ID", "user-1001", "anon-7f3a9c", "u_42")),
    st.builds("{}{}".format, st.sampled_from(("u", "user-", "anon_", "id")), _TEXT),
)  # a letter first: never an e-mail address (no '@') nor a phone number
_CURRENCIES = st.sampled_from(("KRW", "USD", "EUR", "JPY", "GBP", "CNY"))
_NON_NEGATIVE = st.one_of(st.integers(0, 1_000_000),
                          st.floats(0, 1_000_000, allow_nan=False, allow_infinity=False))
_NUMBERS = st.one_of(st.integers(-1_000_000, 1_000_000),
                     st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))
_QUANTITIES = st.one_of(st.integers(1, 20), st.integers(1, 20).map(float))  # 3.0 is an integer too
_INTEGERS = st.integers(-1_000_000, 1_000_000)

_DELETE = object()  # an edit value meaning "remove the key"

# wrong values per parameter type (E006, and E008 inside items)
_WRONG: dict[str, tuple[Any, ...]] = {
    "string": (123, 4.5, True, ["x"], {"x": 1}),
    "number": ("29900", "", True, False, math.nan, math.inf, -math.inf, [1]),
    "integer": (2.5, "3", True, math.nan, math.inf, [1]),
    "boolean": ("true", 1, 0, "yes"),
}
_BODIES: tuple[Edit, ...] = (  # E001: not a JSON object
    lambda p: [p], json.dumps, lambda p: None, lambda p: 42, lambda p: 1.5, lambda p: "", lambda p: True,
)
_BAD_UIDS = (_DELETE, None, "", "   ", "\t", 123, True, ["u1"], {"id": "u1"})  # E002
_BAD_NAMES = (_DELETE, None, "", 7, False, ["view_item"])  # E003
_BAD_PLATFORMS = ("Web", "windows", "iOS", "", "android ", 1, True, ["web"])  # E004
_BAD_ITEMS = (_DELETE, None, [], "SKU-1", {"item_id": "SKU-1"}, 3)  # E007
_BAD_ELEMENTS = ("SKU-1", 1, None, ["SKU-1"], True)  # E008: an item that is not an object
_CUSTOM_NAMES = ("level_up", "viewItem", "Purchase", "add-to-cart", "custom_event", "purchase ")  # W101
_TYPO_KEYS = ("itemId", "ItemID", "user_id", "event_name", "Price", "txId")  # W102
_BAD_CURRENCIES = ("krw", "KRWX", "usd", "Won", "₩", "KR", "US$", "")  # W104
_PERSONAL_UIDS = ("jane@example.com", "kim.minji@mail.co.kr", "+82 10-1234-5678",
                  "010-1234-5678", "821012345678", "+1 (555) 010-9999")  # W106
_NEGATIVE = (-1, -0.5, -29900)
_BELOW_ONE = (0, -1)
_FALLBACK_ITEM = {"item_id": "SKU-1", "price": 1000, "quantity": 1}  # for events whose items are optional
_MAX_ITEMS = 4


def _string_values(p: ParamSpec) -> st.SearchStrategy[str]:
    if p.name == CURRENCY_PARAM:
        return _CURRENCIES
    if p.name.endswith("_id"):
        stem = p.name.removesuffix("_id").upper() or "ID"
        return st.one_of(st.builds(f"{stem}-{{}}".format, st.integers(0, 99_999)), _TEXT)
    if p.name.endswith("_url"):
        return st.one_of(st.sampled_from(("/", "/thank-you", "https://example.com/")),
                         st.builds("https://example.com/{}".format, _TEXT))
    return _TEXT


def _values(p: ParamSpec, item_strategy: st.SearchStrategy[list]) -> st.SearchStrategy[Any]:
    """Valid, warning-free values for one parameter."""
    if p.type == "string":
        return _string_values(p)
    if p.type == "items":
        return item_strategy
    if p.type == "boolean":
        return st.booleans()
    if p.name in AT_LEAST_ONE:
        return _QUANTITIES
    if p.name in NON_NEGATIVE:
        return _NON_NEGATIVE
    return _NUMBERS if p.type == "number" else _INTEGERS


def _dicts(params: Iterable[ParamSpec], item_strategy: st.SearchStrategy[list], *, optional: bool = True,
           always: dict[str, st.SearchStrategy[Any]] | None = None,
           sometimes: dict[str, st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[Payload]:
    """One fixed_dictionaries: required parameters always, optional ones sometimes."""
    params = tuple(params)
    required = {**(always or {}), **{p.name: _values(p, item_strategy) for p in params if p.required}}
    maybe = dict(sometimes or {})
    if optional:
        maybe.update({p.name: _values(p, item_strategy) for p in params if not p.required})
    return st.fixed_dictionaries(required, optional=maybe)


def _consistent_value(payload: Payload) -> Payload:
    """W105: when value, price and quantity are all given, value is price * quantity."""
    value, price, quantity = VALUE_TRIPLE
    if value in payload and price in payload and quantity in payload:
        payload[value] = payload[price] * payload[quantity]
    return payload


def _has_triple(spec: EventSpec) -> bool:
    return set(VALUE_TRIPLE) <= spec.param_names


# -- edits: one mutation of a valid payload, per rule ------------------------------------
def _set(p: Payload, key: str, value: Any) -> Payload:
    q = dict(p)
    if value is _DELETE:
        q.pop(key, None)
    else:
        q[key] = value
    return q


def _set_number(p: Payload, key: str, value: Any) -> Payload:
    """Set a sanity-checked number, keeping value == price * quantity so only W103 fires."""
    return _consistent_value(_set(p, key, value))


def _set_item(p: Payload, index: int, key: str | None, value: Any) -> Payload:
    """Edit element `index` (modulo the length) of items; `key=None` replaces the element."""
    items = list(p.get(ITEMS) or [_FALLBACK_ITEM])
    i = index % len(items)
    items[i] = value if key is None else _set(items[i], key, value)
    return {**p, ITEMS: items}


def _overcharge(p: Payload, factor: float) -> Payload:
    expected = p.get("price", 10) * p.get("quantity", 1)
    return {**p, "price": p.get("price", 10), "quantity": p.get("quantity", 1),
            "value": expected * factor + 1}


def _edits(rule: Rule, spec: EventSpec, cat: Catalog) -> list[Edit]:
    """Every mutation of a valid `spec` payload that breaks `rule` and nothing else ([] when impossible)."""
    scalar = [p for p in spec.params if p.type != "items"]
    items = spec.param(ITEMS) if spec.has_items else None
    if rule is Rule.E001:
        return list(_BODIES)
    if rule is Rule.E002:
        return [partial(_set, key="uid", value=v) for v in _BAD_UIDS]
    if rule is Rule.E003:
        return [partial(_set, key="eventName", value=v) for v in _BAD_NAMES]
    if rule is Rule.E004:
        return [partial(_set, key="platform", value=v) for v in _BAD_PLATFORMS]
    if rule is Rule.E005:
        return [partial(_set, key=p.name, value=v) for p in scalar if p.required
                for v in (_DELETE, None, *([""] if p.type == "string" else []))]
    if rule is Rule.E006:
        return [partial(_set, key=p.name, value=v) for p in scalar for v in _WRONG[p.type]]
    if rule is Rule.E007:
        return [partial(_set, key=ITEMS, value=v) for v in _BAD_ITEMS] if items and items.required else []
    if rule is Rule.E008:
        if not items:
            return []
        bad = [(None, v) for v in _BAD_ELEMENTS] + [("item_id", v) for v in (_DELETE, None, "")]
        bad += [(p.name, v) for p in cat.item_params for v in _WRONG[p.type]]
        return [partial(_set_item, index=i, key=k, value=v) for i in range(_MAX_ITEMS) for k, v in bad]
    if rule is Rule.W101:
        return [partial(_set, key="eventName", value=n) for n in _CUSTOM_NAMES if n not in cat]
    if rule is Rule.W102:
        other = sorted(set(cat.param_types) - spec.param_names - {ITEMS})[:3]  # another event's parameter
        return [partial(_set, key=k, value=v) for k in (*_TYPO_KEYS, *other)
                if k not in spec.allowed_keys for v in ("x", 1, True)]
    if rule is Rule.W103:
        numeric = [p.name for p in scalar if p.type in ("number", "integer")
                   and not (p.name == "value" and _has_triple(spec))]  # a negative price makes value negative
        out: list[Edit] = [partial(_set_number, key=k, value=v) for k in numeric
                           for v in (_NEGATIVE if k in NON_NEGATIVE else _BELOW_ONE if k in AT_LEAST_ONE else ())]
        if items:
            out += [partial(_set_item, index=i, key=p.name, value=v) for i in range(_MAX_ITEMS)
                    for p in cat.item_params if p.type in ("number", "integer")
                    for v in (_NEGATIVE if p.name in NON_NEGATIVE else _BELOW_ONE if p.name in AT_LEAST_ONE else ())]
        return out
    if rule is Rule.W104:
        if CURRENCY_PARAM not in spec.param_names or spec.param(CURRENCY_PARAM).type != "string":
            return []
        required = spec.param(CURRENCY_PARAM).required
        return [partial(_set, key=CURRENCY_PARAM, value=v) for v in _BAD_CURRENCIES if v or not required]
    if rule is Rule.W105:
        return [partial(_overcharge, factor=f) for f in (2, 1.5)] if _has_triple(spec) else []
    if rule is Rule.W106:
        return [partial(_set, key="uid", value=v) for v in _PERSONAL_UIDS]
    return []  # W107: dataset-level


def _broken(rule: str, case: tuple[Payload, Edit]) -> tuple[Any, str]:
    payload, edit = case
    return edit(payload), rule


@st.composite
def _either(draw: st.DrawFn, choices: tuple[st.SearchStrategy[Any], ...]) -> Any:
    """Pick one strategy uniformly, then draw from it (one_of would flatten and weight by leaves)."""
    return draw(draw(st.sampled_from(choices)))


# -- per-catalog cache -------------------------------------------------------------------
class _Builder:
    """Strategies for one catalog, built on first use. Holds the catalog, so its id stays unique."""

    def __init__(self, cat: Catalog) -> None:
        self.catalog = cat
        self.items: dict[tuple[int, int], st.SearchStrategy[list]] = {}
        self.valid: dict[tuple[str, tuple[str, ...], bool], st.SearchStrategy[Payload]] = {}
        self.invalid: dict[tuple[str, str], st.SearchStrategy[tuple[Any, str]] | None] = {}

    def item_lists(self, min_size: int = 1, max_size: int = _MAX_ITEMS) -> st.SearchStrategy[list]:
        key = (min_size, max_size)
        if key not in self.items:
            item = _dicts(self.catalog.item_params, st.nothing())
            self.items[key] = st.lists(item, min_size=min_size, max_size=max_size)
        return self.items[key]

    def event(self, name: str, platforms: tuple[str, ...], optional: bool) -> st.SearchStrategy[Payload]:
        key = (name, platforms, optional)
        if key not in self.valid:
            spec = self.catalog[name]
            envelope = {"uid": _UIDS, "eventName": st.just(name)}
            platform = {"platform": st.sampled_from(platforms)} if platforms else {}
            s = _dicts(spec.params, self.item_lists(), optional=optional, always=envelope, sometimes=platform)
            self.valid[key] = s.map(_consistent_value) if _has_triple(spec) else s
        return self.valid[key]

    def broken(self, name: str, rule: str) -> st.SearchStrategy[tuple[Any, str]] | None:
        """Payloads of `name` breaking `rule`, or None when no payload of `name` can."""
        key = (name, rule)
        if key not in self.invalid:
            edits = _edits(Rule(rule), self.catalog[name], self.catalog)
            base = self.event(name, PLATFORMS, True)
            self.invalid[key] = (st.tuples(base, st.sampled_from(edits)).map(partial(_broken, rule))
                                 if edits else None)
        return self.invalid[key]


_CACHE: OrderedDict[int, _Builder] = OrderedDict()
_CACHE_SIZE = 32


def _builder(catalog: Catalog | str | Path | None) -> _Builder:
    cat = resolve(catalog)
    b = _CACHE.get(id(cat))
    if b is None or b.catalog is not cat:
        b = _CACHE[id(cat)] = _Builder(cat)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(id(cat))
    return b


# -- public strategies -------------------------------------------------------------------
def items(*, catalog: Catalog | str | Path | None = None, min_size: int = 1,
          max_size: int = _MAX_ITEMS) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Valid `items` arrays: 1–4 item objects with a string `item_id` and some optional fields."""
    if not isinstance(min_size, int) or not isinstance(max_size, int):
        raise TypeError(f"min_size and max_size must be integers, got {min_size!r} and {max_size!r}")
    if min_size < 1:
        raise ValueError(f"min_size={min_size}: an empty items array is invalid (E007); use min_size >= 1")
    if max_size < min_size:
        raise ValueError(f"max_size={max_size} is below min_size={min_size}")
    return _builder(catalog).item_lists(min_size, max_size)


def events(name: str | None = None, *, catalog: Catalog | str | Path | None = None,
           platforms: Sequence[str] | str = PLATFORMS, optional: bool = True) -> st.SearchStrategy[Payload]:
    """Valid payloads of event `name` (any catalog event when None), free of warnings too.

    `platform` is sometimes absent, otherwise one of `platforms` (an empty sequence: never set);
    optional parameters are sometimes present, never when `optional=False`.
    """
    b = _builder(catalog)
    plats = (platforms,) if isinstance(platforms, str) else tuple(platforms)
    bad = [p for p in plats if p not in PLATFORMS]
    if bad:
        raise ValueError(f"platforms {bad!r} would break E004; choose from {', '.join(PLATFORMS)}")
    if not isinstance(optional, bool):
        raise TypeError(f"optional must be True or False, got {optional!r}")
    if name is not None:
        b.catalog[name]  # noqa: B018 -- raises UnknownEvent now, not at draw time
        return b.event(name, plats, optional)
    return st.one_of([b.event(n, plats, optional) for n in b.catalog.names])


def invalid_events(name: str | None = None, *, catalog: Catalog | str | Path | None = None,
                   rules: Iterable[str] | str | None = None) -> st.SearchStrategy[tuple[Any, str]]:
    """`(payload, rule_id)` pairs: a payload of event `name` (any event when None) that breaks `rule_id` only.

    Rules are drawn uniformly from `rules` (default: every rule in `INVALID_RULES`). Asking for a rule
    no payload can break here raises ValueError at once: an unknown id, W107 (dataset-level), or a rule
    the event cannot break (E005 for app_open, which has no required parameter; E007 for view_item).
    With `name=None` and no `rules`, each rule is drawn from the events that can break it.
    """
    b = _builder(catalog)
    wanted = _rule_ids(rules)
    names = b.catalog.names
    if name is not None:
        b.catalog[name]  # noqa: B018 -- raises UnknownEvent now
        names = (name,)
    per_rule = []
    for rule in wanted:
        leaves = [s for n in names if (s := b.broken(n, rule)) is not None]
        if leaves:
            per_rule.append(st.one_of(leaves))
        elif rules is not None:
            where = f"event {name!r}" if name is not None else "any event of this catalog"
            raise ValueError(f"no payload of {where} can break {rule} ({Rule(rule).title})")
    if not per_rule:
        raise ValueError(f"event {name!r} can break none of the rules {', '.join(wanted)}")
    return per_rule[0] if len(per_rule) == 1 else _either(tuple(per_rule))


def _rule_ids(rules: Iterable[str] | str | None) -> tuple[str, ...]:
    if rules is None:
        return INVALID_RULES
    wanted = (rules,) if isinstance(rules, (str, Rule)) else tuple(rules)
    if not wanted:
        raise ValueError("rules is empty: name at least one rule id, or pass None for all")
    out = []
    for r in wanted:
        rid = r.value if isinstance(r, Rule) else r
        if rid == Rule.W107.value:
            raise ValueError("W107 (tx_id reused across purchases) is a dataset rule: one payload cannot break it")
        if rid not in INVALID_RULES:
            raise ValueError(f"unknown rule id {r!r}; expected one of {', '.join(INVALID_RULES)}")
        if rid not in out:
            out.append(rid)
    return tuple(out)
