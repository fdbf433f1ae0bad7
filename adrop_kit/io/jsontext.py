"""JSON text in and out, keeping what orjson alone would lose.

orjson writes NaN/Infinity as null and refuses 1e400 or a lone surrogate escape; those
values must survive (they are type errors to report, not data to silently change).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson


def _has_nonfinite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_nonfinite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_nonfinite(v) for v in value)
    return False


def to_json_text(value: Any) -> str:
    """JSON text of a value, keeping NaN/Infinity visible, also nested (orjson would write null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (list, dict)) and _has_nonfinite(value):
        return json.dumps(value, allow_nan=True, default=str, ensure_ascii=False)
    try:
        return orjson.dumps(value, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):  # ints beyond 64 bits, odd objects
        return repr(value)


def _no_constants(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def parse_json_text(text: str | bytes, *, allow_nan: bool = True) -> Any:
    """Parse JSON text (str or bytes), also where orjson is stricter than JSON: 1e400 (→ inf), lone
    surrogate escapes, and — with `allow_nan` — the NaN/Infinity tokens `to_json_text` writes.
    Raises ValueError when it is not JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8")  # UnicodeDecodeError is a ValueError too
        if allow_nan:
            return json.loads(text)
        return json.loads(text, parse_constant=_no_constants)




def dumps_lenient(value: Any) -> bytes:
    """orjson.dumps, falling back to the json module for what orjson refuses (lone surrogates)."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, allow_nan=True, default=str).encode()


def dumps_payload(payload: Any) -> bytes:
    """The request body for a payload, byte for byte what gets sent. Unlike orjson alone it never
    turns NaN/Infinity into null (that would send a different event): they go out as tokens, and
    an Adrop-like server rejects the body, as it should."""
    if _has_nonfinite(payload):
        return json.dumps(payload, allow_nan=True, default=str, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(payload, default=_plain, ensure_ascii=False, separators=(",", ":")).encode()


def _plain(value: Any) -> Any:
    """For json.dumps: numpy scalars as their Python value, anything else as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) and type(value).__module__ == "numpy" else str(value)


def utf8_ok(value: Any) -> bool:
    """False when some text inside (keys too) holds a lone surrogate, which UTF-8 cannot encode."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(utf8_ok(k) and utf8_ok(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(utf8_ok(v) for v in value)
    return True
