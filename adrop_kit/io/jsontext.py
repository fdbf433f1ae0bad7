"""JSON text in and out, keeping what orjson alone would lose.

orjson writes NaN/Infinity as null and refuses 1e400 or a lone surrogate escape; those
values must survive (they are type errors to report, not data to silently change). Nothing
here recurses on a value or a text: hostile nesting (`too_deep`, `limits_problem`) is judged
iteratively before the recursive `json` module may see it. `sent_body` is the event a payload
stands for (null keys absent), `dumps_payload` its request body.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Mapping
from typing import Any

import orjson

from adrop_kit.io.numbers import NumberToken, token_default
from adrop_kit.spec.catalog import ITEMS
from adrop_kit.spec.rules import DEPTH_MESSAGE, KEYS_MESSAGE, MAX_DEPTH, MAX_KEYS

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)  # strings (skipped whole) and brackets


def too_deep(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """True when JSON text nests arrays/objects more than `limit` levels (brackets inside strings do
    not count; for text that is not JSON, as far as it can be told). Linear and iterative: safe
    before any parser sees the text; most texts are settled by counting brackets alone."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    depth = 0
    for m in _TOKENS.finditer(text):
        c = m.group()[0]
        if c in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif c in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def has_nonfinite(value: Any) -> bool:
    """True when a NaN or an Infinity sits anywhere in the value (iterative). A number token such as
    `1e400` is a number, not Infinity (`io.numbers`)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float):
            if not math.isfinite(v) and not isinstance(v, NumberToken):
                return True
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return False


def to_json_text(value: Any) -> str:
    """JSON text of a value, keeping NaN/Infinity visible, also nested (orjson would write null),
    and number tokens as written."""
    if isinstance(value, NumberToken):
        return value.json_token
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    try:
        if isinstance(value, (list, dict)) and has_nonfinite(value):
            return lenient_json(value, ensure_ascii=False, separators=None)
        try:
            return orjson.dumps(value, default=_token_or_str).decode()
        except (TypeError, orjson.JSONEncodeError):  # ints beyond 64 bits, odd objects
            return repr(value)
    except RecursionError:  # nested past what Python can write (such a row is E001 by the limits)
        return f"<{type(value).__name__} nested too deep to show>"


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def parse_json_text(text: str | bytes, *, allow_nan: bool = True) -> Any:
    """Parse JSON text (str or bytes), also where orjson is stricter than JSON: 1e400 (→ inf), lone
    surrogate escapes, and — with `allow_nan` — the NaN/Infinity tokens `to_json_text` writes.
    Raises ValueError when it is not JSON, and for text orjson refuses that nests more than
    MAX_DEPTH levels (message: DEPTH_MESSAGE), never RecursionError."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("utf-8")  # UnicodeDecodeError is a ValueError too
        if too_deep(text):  # orjson stops at 1,024 levels; the json module would recurse
            raise ValueError(DEPTH_MESSAGE) from None
        try:
            if allow_nan:
                return json.loads(text)
            return json.loads(text, parse_constant=_no_constants)
        except RecursionError:
            raise ValueError(DEPTH_MESSAGE) from None


def limits_problem(value: Any) -> str | None:
    """Why a parsed value is past the event limits (nesting deeper than MAX_DEPTH, an object with
    more than MAX_KEYS keys), or None. Iterative: safe on hostile input whatever its depth, and
    called before anything recursive looks at the value."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DEPTH:
                return DEPTH_MESSAGE
            if len(node) > MAX_KEYS:
                return KEYS_MESSAGE
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list, tuple)))
        elif isinstance(node, (list, tuple)):
            if depth > MAX_DEPTH:
                return DEPTH_MESSAGE
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list, tuple)))
    return None


def _token_or_str(value: Any) -> Any:
    return orjson.Fragment(value.json_token) if isinstance(value, NumberToken) else str(value)


def lenient_json(value: Any, *, ensure_ascii: bool = True, separators: tuple[str, str] | None = (",", ":"),
                 default: Any = str) -> str:
    """The json module's text of what orjson refuses (lone surrogates, integers beyond 64 bits, NaN),
    its numbers as orjson writes them (`1.5e-7`, not `1.5e-07`) and number tokens as written: the
    module writes every float as `repr` does, so such a number is written as a placeholder string
    first, and the placeholder replaced. Call it on values within the limits (it recurses)."""
    marks: dict[str, str] = {}
    value = _marked(value, marks, secrets.token_hex(8))
    text = json.dumps(value, allow_nan=True, default=default, ensure_ascii=ensure_ascii, separators=separators)
    for mark, token in marks.items():
        text = text.replace(f'"{mark}"', token, 1)
    return text


def _marked(value: Any, marks: dict[str, str], nonce: str) -> Any:
    """A copy of a value with each number the json module would write otherwise a unique placeholder."""
    if isinstance(value, float):
        if isinstance(value, NumberToken):
            token = value.json_token
        elif type(value) is float and math.isfinite(value) and (token := orjson.dumps(value).decode()) != repr(value):
            pass
        else:
            return value
        mark = f"@adrop-number-{nonce}-{len(marks)}@"
        marks[mark] = token
        return mark
    if isinstance(value, dict):
        return {k: _marked(v, marks, nonce) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_marked(v, marks, nonce) for v in value]
    return value


def sent_body(payload: Any) -> Any:
    """The event a payload stands for, as it is sent (SPEC.md, "Decisions": null is an absent key):
    its keys holding null dropped, and those of each object in its `items` array. A value nested
    elsewhere is sent as it is (a null inside a custom object or a list is a value). Shallow: safe
    before the limits are judged. Anything but a mapping is returned as it is."""
    if not isinstance(payload, Mapping):
        return payload
    body = {k: v for k, v in payload.items() if v is not None}
    items = body.get(ITEMS)
    if isinstance(items, (list, tuple)):
        body[ITEMS] = sent_items(items)
    return body


def sent_items(items: Any) -> Any:
    """An `items` array as it is sent: the keys holding null of each of its objects dropped."""
    if not any(isinstance(it, Mapping) and any(v is None for v in it.values()) for it in items):
        return items
    return [{k: v for k, v in it.items() if v is not None} if isinstance(it, Mapping) else it for it in items]


def dumps_lenient(value: Any) -> bytes:
    """orjson.dumps, falling back to the json module for what orjson refuses (lone surrogates);
    number tokens as written."""
    try:
        return orjson.dumps(value, default=token_default)
    except (TypeError, orjson.JSONEncodeError):
        return lenient_json(value, separators=None).encode()


def dumps_payload(payload: Any) -> bytes:
    """The request body for a payload, byte for byte what gets sent. Unlike orjson alone it never
    turns NaN/Infinity into null (that would send a different event): they go out as tokens, and
    an Adrop-like server rejects the body, as it should. A number token read from JSON text
    (`io.numbers.NumberToken`: `1E2`, `200.00`, `1e400`) goes out as written.

    The bytes are a compact copy: orjson's own result keeps its whole output buffer allocated
    (4 KiB for a 100-byte event, measured with orjson 3.13), and a send holds one body per event
    of a batch: 175,000 bodies took 700 MB instead of 20 MB."""
    try:
        body = orjson.dumps(payload, default=token_default, option=orjson.OPT_SERIALIZE_NUMPY)
    except (TypeError, orjson.JSONEncodeError):
        return lenient_json(payload, ensure_ascii=False, default=_plain).encode()
    if b"null" in body and has_nonfinite(payload):  # orjson writes NaN/Infinity as null (payloads hold no null)
        return lenient_json(payload, ensure_ascii=False).encode()
    return bytes(memoryview(body))


def _plain(value: Any) -> Any:
    """For json.dumps: numpy scalars as their Python value, anything else as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) and type(value).__module__ == "numpy" else str(value)
