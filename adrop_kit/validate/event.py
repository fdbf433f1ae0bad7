"""`validate_event`: the contract for one payload, in pure Python (no DataFrame).

The dataset validator (`validate.dataset`) implements the same rules vectorised; property tests
(tests/test_parity.py) hold the two, and every way of reading a dataset, to the same verdicts.
Null counts as absent everywhere: `{"price": null}` is the same as no `price`. A string is any
`str` (subclasses such as `numpy.str_` or a `StrEnum` member included), an array a list or a
tuple. Numbers are compared exactly, whatever their size (`rules.value_mismatch`); a number read
from JSON text as written (`io.numbers.NumberToken`: `1e400`) is judged by its value, never as
Infinity. Before anything
recursive looks at a payload, `io.values.event_problem` (iterative) decides whether it is an
E001: nested past the limits, too many keys, text UTF-8 cannot hold.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from adrop_kit.io.jsontext import sent_body
from adrop_kit.io.numbers import NumberToken
from adrop_kit.io.values import event_problem, exact_json
from adrop_kit.spec.catalog import ENVELOPE, ITEMS, PLATFORMS, Catalog, EventSpec, ParamSpec, resolve
from adrop_kit.spec.near import currency_meant, near_miss
from adrop_kit.spec.rules import (
    AT_LEAST_ONE,
    CURRENCY_PARAM,
    MAX_EVENT_NAME,
    MAX_PARAMS,
    MESSAGES,
    NON_NEGATIVE,
    UNICODE_MESSAGE,
    VALUE_TRIPLE,
    Rule,
    Violation,
    is_bool,
    is_currency,
    json_kind,
    looks_personal,
    msg_empty,
    msg_long_name,
    msg_missing,
    msg_too_many,
    msg_wrong_type,
    nonfinite_message,
    printable,
    safe_repr,
    short_value,
    value_mismatch,
)
from adrop_kit.validate.report import EventReport
from adrop_kit.validate.untyped import untyped_nonfinite

_M = MESSAGES




def type_ok(value: Any, ptype: str) -> bool:
    """Whether a (non-null) value has the JSON type a parameter of `ptype` needs (E006/E008).
    Exact built-in types first (the fast path); numpy scalars and other numbers by their ABC."""
    t = type(value)
    if ptype == "string":
        return t is str or isinstance(value, str)
    if t is NumberToken:  # a number as written (`1e400` is a number, `1.0000000000000000000000001` no integer)
        return ptype == "number" or (ptype == "integer" and value.is_integer())
    if ptype == "number":
        return (t is int) or (t is float and math.isfinite(value)) or _other_number_ok(value, integral=False)
    if ptype == "integer":
        return ((t is int) or (t is float and math.isfinite(value) and value.is_integer())
                or _other_number_ok(value, integral=True))
    if ptype == "boolean":
        return t is bool or is_bool(value)
    return True


def _other_number_ok(value: Any, *, integral: bool) -> bool:
    if is_bool(value) or not isinstance(value, numbers.Real):
        return False
    if isinstance(value, numbers.Integral):
        return True
    try:
        f = float(value)
    except OverflowError:  # a huge fraction: finite
        return not integral or value == math.floor(value)
    return math.isfinite(f) and (f.is_integer() or not integral)


def as_json(value: Any) -> str:
    """A wrongly typed value as JSON text (`"12"` for a string), as the dataset report shows it."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return safe_repr(value)


def json_text(value: Any) -> str:
    """A value as the JSON text the dataset report shows for it (`"x"`, `1.5`, `true`)."""
    try:
        return exact_json(value)
    except ValueError:  # an integer longer than Python writes
        return safe_repr(value)


def _v(rule: Rule, field: str, message: str, value: Any = None, *, severity: str | None = None) -> Violation:
    return Violation(rule, field, message, severity or rule.severity, short_value(value))


def msg_unknown_key(field: str, event: str, catalog: Catalog) -> str:
    """W102's message for a key `event` does not list, naming the key it was probably meant to be."""
    suggestion = catalog.suggest_key(event, field)
    if suggestion is None:
        return _M["W102"].format(field=printable(field), event=event)
    return _M["W102.suggest"].format(field=printable(field), event=event, suggestion=printable(suggestion))


def sanity_warnings(name: str, value: Any, field: str) -> list[Violation]:
    """W103/W104 for one well-typed parameter value (top level or inside an item)."""
    out = []
    if name in NON_NEGATIVE and value < 0:
        out.append(_v(Rule.W103, field, _M["W103.negative"].format(field=field), value))
    elif name in AT_LEAST_ONE and value < 1:
        out.append(_v(Rule.W103, field, _M["W103.quantity"].format(field=field), value))
    elif name == CURRENCY_PARAM and not is_currency(value):
        meant = currency_meant(value)
        message = _M["W104"] if meant is None else _M["W104.suggest"].format(suggestion=meant)
        out.append(_v(Rule.W104, field, message, value))
    return out


def check_items(items: Any, event: str, item_params: Sequence[ParamSpec]) -> list[Violation]:
    """E007/E008 (and W103 inside items) for the `items` value of an event that requires it.
    `item_params` is the catalog's: which item fields exist, their types, which are required."""
    if items is None:
        return [_v(Rule.E007, ITEMS, _M["E007.missing"].format(event=event))]
    if not isinstance(items, (list, tuple)):
        return [_v(Rule.E007, ITEMS, _M["E007.type"].format(event=event, got=json_kind(items)), as_json(items))]
    if not items:
        return [_v(Rule.E007, ITEMS, _M["E007.empty"].format(event=event))]
    out: list[Violation] = []
    for i, item in enumerate(items):
        base = f"{ITEMS}[{i}]"
        if not isinstance(item, dict):
            out.append(_v(Rule.E008, base, _M["E008.type"].format(field=base, got=json_kind(item)), as_json(item)))
            continue
        for param in item_params:
            name, ptype = param.name, param.type
            value = item.get(name)
            field = f"{base}.{name}"
            if value is None:
                if param.required:
                    out.append(_v(Rule.E008, field, _M["E008.missing"].format(field=field)))
                continue
            if not type_ok(value, ptype):
                out.append(_v(Rule.E008, field, msg_wrong_type(field, ptype, json_kind(value)), as_json(value)))
            elif param.required and ptype == "string" and value == "":
                out.append(_v(Rule.E008, field, _M["E008.empty"].format(field=field)))
            else:
                out.extend(sanity_warnings(name, value, field))
    return out


def _check_envelope(payload: Mapping[str, Any], catalog: Catalog,
                    strict: bool) -> tuple[list[Violation], EventSpec | None]:
    out: list[Violation] = []
    uid = payload.get("uid")
    if uid is None:
        out.append(_v(Rule.E002, "uid", _M["E002.missing"]))
    elif not isinstance(uid, str):
        out.append(_v(Rule.E002, "uid", msg_wrong_type("uid", "string", json_kind(uid)), as_json(uid)))
    elif not uid.strip():
        out.append(_v(Rule.E002, "uid", _M["E002.empty"], uid))
    elif what := looks_personal(uid):
        out.append(_v(Rule.W106, "uid", _M["W106"].format(what=what), uid))

    spec = None
    name = payload.get("eventName")
    if name is None:
        out.append(_v(Rule.E003, "eventName", _M["E003.missing"]))
    elif not isinstance(name, str):
        out.append(_v(Rule.E003, "eventName", msg_wrong_type("eventName", "string", json_kind(name)), as_json(name)))
    elif name == "":
        out.append(_v(Rule.E003, "eventName", _M["E003.empty"]))
    elif len(name) > MAX_EVENT_NAME:
        out.append(_v(Rule.E003, "eventName", msg_long_name(len(name)), name))
    elif name in catalog:
        spec = catalog.events[name]
    else:
        key = ".strict" if strict else ""
        meant = catalog.suggest_event(name)  # SPEC's near miss: W110 instead of W101
        rule, message = ((Rule.W101, _M["W101" + key].format(event=printable(name))) if meant is None else
                         (Rule.W110, _M["W110" + key].format(event=printable(name), suggestion=printable(meant))))
        out.append(_v(rule, "eventName", message, name, severity="error" if strict else None))

    platform = payload.get("platform")
    if platform is not None and (not isinstance(platform, str) or platform not in PLATFORMS):
        meant = near_miss(platform, PLATFORMS) if isinstance(platform, str) else None
        out.append(_v(Rule.E004, "platform", _M["E004"] if meant is None else
                      _M["E004.suggest"].format(suggestion=meant), platform))
    return out, spec


def _check_params(payload: Mapping[str, Any], spec: EventSpec, catalog: Catalog) -> list[Violation]:
    out: list[Violation] = []
    good: dict[str, Any] = {}
    for p in spec.params:
        value = payload.get(p.name)
        if p.type == "items":
            if p.required or value is not None:
                out.extend(check_items(value, spec.name, catalog.item_params))
            continue
        if value is None:
            if p.required:
                out.append(_v(Rule.E005, p.name, msg_missing(p.name, spec.name)))
            continue
        if not type_ok(value, p.type):
            out.append(_v(Rule.E006, p.name, msg_wrong_type(p.name, p.type, json_kind(value)), as_json(value)))
            continue
        if p.required and value == "":
            out.append(_v(Rule.E005, p.name, msg_empty(p.name, spec.name), value))
            continue
        good[p.name] = value
        out.extend(sanity_warnings(p.name, value, p.name))
    value, price, quantity = (good.get(k) for k in VALUE_TRIPLE)
    if (value is not None and price is not None and quantity is not None
            and value_mismatch(value, price, quantity)):
        out.append(_v(Rule.W105, "value", _M["W105"], value))
    allowed = spec.allowed_keys
    for key, val in payload.items():
        if key not in allowed and val is not None:
            field = key if isinstance(key, str) else str(key)
            out.append(_v(Rule.W102, field, msg_unknown_key(field, spec.name, catalog), json_text(val)))
    return out


def _dropped_by_sdks(payload: Mapping[str, Any], spec: EventSpec | None) -> list[Violation]:
    """W109: the parameters outside the catalog (all of a custom event's) holding an object or a list."""
    out = []
    for key, value in payload.items():
        if (isinstance(value, (dict, list, tuple)) and key not in ENVELOPE and key != ITEMS
                and (spec is None or key not in spec.param_names)):
            field = key if isinstance(key, str) else str(key)
            message = _M["W109"].format(field=printable(field), kind=json_kind(value))
            out.append(_v(Rule.W109, field, message, as_json(value)))
    return out


def validate_event(payload: Any, *, catalog: Catalog | str | None = None, strict: bool = False) -> EventReport:
    """Check one event payload against the contract; never raises for bad data.

    >>> validate_event({"uid": "u1", "eventName": "sign_up"}).errors[0].rule
    <Rule.E005: 'E005'>
    """
    cat = resolve(catalog)
    problem = event_problem(sent_body(payload))  # on the body sent (no null keys); iterative, before anything
    # recursive touches the payload
    if problem is not None:
        return EventReport([_v(Rule.E001, "", problem, _escaped(payload, problem))])
    if not isinstance(payload, Mapping):
        return EventReport([_v(Rule.E001, "", f"the event must be a JSON object, got {json_kind(payload)}",
                               as_json(payload))])
    name = payload.get("eventName")
    spec = cat.events[name] if isinstance(name, str) and name in cat else None
    if nonfinite := untyped_nonfinite(payload, spec, cat):  # the body is not JSON: the server cannot read it
        return EventReport([_v(Rule.E001, "", nonfinite_message(nonfinite))])
    violations, spec = _check_envelope(payload, cat, strict)
    if spec is not None:
        violations.extend(_check_params(payload, spec, cat))
    if isinstance(name, str) and 0 < len(name) <= MAX_EVENT_NAME:  # a catalog or a custom event
        violations.extend(_dropped_by_sdks(payload, spec))
    count = sum(1 for key, value in payload.items() if value is not None and key not in ENVELOPE)
    if count > MAX_PARAMS:
        violations.append(_v(Rule.W108, "", msg_too_many(count)))
    return EventReport(violations)


def _escaped(payload: Any, problem: str) -> str | None:
    """What an E001 row shows of an event that cannot be written as JSON: nothing past the limits
    (it may be huge), else its JSON with every non-ASCII character escaped."""
    if problem == UNICODE_MESSAGE:
        return json.dumps(payload, ensure_ascii=True, default=str)
    return None


__all__ = ["ENVELOPE", "check_items", "type_ok", "validate_event"]
