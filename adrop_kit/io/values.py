"""Event values between Python, JSON text and the canonical frame, exactly (no polars here).

What is sent must be what was read, so every conversion here is exact: `exact_json` writes JSON
text that `loads_exact` reads back as the same value (integers of any size, `-0.0`, `15900.0`
as a float and `15900` as an integer, NaN/Infinity as tokens), and `plain` turns str/int/float
subclasses (`numpy.str_`, a `StrEnum` member) and numpy scalars into the plain JSON type they
are sent as. `event_problem` says why an event is an E001 row before anything recursive looks
at it: past the limits of SPEC.md (`jsontext.limits_problem`, iterative), text that UTF-8
cannot hold, or an integer too long for Python to write as text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import orjson

from adrop_kit.io.jsontext import has_nonfinite, limits_problem
from adrop_kit.spec.rules import MAX_EVENT_BYTES, SIZE_MESSAGE, UNICODE_MESSAGE, digits_message

PLAIN_TYPES = frozenset({str, int, float, bool, list, dict, type(None)})
"""Python types that are already what JSON sends (no conversion needed)."""
FLOAT_MAX = sys.float_info.max
# 19 digits in a row: perhaps an integer orjson would read as a float (beyond 64 bits). Found with
# bytes.translate (every digit → "0", the rest → " ") and a substring search: 3x a regex's speed.
_DIGITS_AS_ZEROS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_RUN = b"0" * 19


def plain(value: Any) -> Any:
    """`value` as the plain Python type JSON sends it as: str/int/float subclasses and numpy scalars
    become str/int/float/bool (a `StrEnum` member is its text), tuples lists, mappings dicts."""
    t = type(value)
    if t in PLAIN_TYPES:
        return value
    if t.__module__ == "numpy" and hasattr(value, "tolist"):  # numpy scalars → Python scalars, arrays → lists
        return value.tolist()
    if isinstance(value, str):
        return str.__str__(value)  # the text itself, whatever the subclass's __str__ says
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def as_float(value: int) -> float:
    """The nearest float to an integer; beyond the float range the largest float of its sign (the
    checks only need its sign and size; the exact text travels in a side column)."""
    try:
        return float(value)
    except OverflowError:
        return FLOAT_MAX if value > 0 else -FLOAT_MAX


def _default(value: Any) -> Any:
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def exact_json(value: Any) -> str:
    """JSON text that `loads_exact` reads back as exactly `value` (see the module docstring).
    Raises ValueError only for an integer longer than Python writes as text. Call it on values
    within the limits (`event_problem`): the fallback encoder is recursive."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, lone surrogates, odd objects
        return json.dumps(value, allow_nan=True, ensure_ascii=False, separators=(",", ":"), default=_default)
    if b"null" in text and has_nonfinite(value):  # orjson writes NaN/Infinity as null: keep them visible
        return json.dumps(value, allow_nan=True, ensure_ascii=False, separators=(",", ":"), default=_default)
    return text.decode()


LONG_RUN_PATTERN = r"[0-9]{19}"
"""The same test as a regex, for a whole column at once (`str.contains`): then `long_run=` says."""


def long_digit_run(data: bytes) -> bool:
    """Whether JSON text holds 19 digits in a row: only then can an integer be beyond what orjson
    reads exactly (a cheap test, so the common text is parsed once, by orjson)."""
    return _LONG_RUN in data.translate(_DIGITS_AS_ZEROS)


def loads_exact(text: str | bytes, *, long_run: bool | None = None) -> Any:
    """Parse JSON text keeping integers exact (orjson reads those beyond 64 bits as floats) and
    NaN/Infinity tokens. Raises ValueError when it is not JSON. `long_run`: whether the text has 19
    digits in a row, when the caller already knows (None: looked for here)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if long_run is None:
        long_run = long_digit_run(data)
    if not long_run:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:  # also text that holds a lone surrogate: the json module keeps it
            pass
    return json.loads(text)


def number_text(value: int | float) -> str:
    """The JSON text of an int or a float (`3` vs `3.0`, `-0.0`). Raises ValueError for an integer
    longer than Python writes as text."""
    return str(value) if type(value) is int else repr(value)


def _too_long(value: int) -> bool:
    limit = sys.get_int_max_str_digits()
    if not limit or value.bit_length() <= 3 * limit:  # fewer bits cannot make more digits than the limit
        return False
    try:
        str(value)
    except ValueError:
        return True
    return False


def text_problem(value: Any, *, size: bool = True) -> str | None:
    """Why an event (within the limits) cannot be written as JSON text: a lone surrogate in some text
    (keys too), or an integer too long for Python to write; or (`size`) why its JSON text is too large
    to send (over MAX_EVENT_BYTES, SPEC.md: the server would answer 413). Iterative."""
    try:  # the common case, in C: orjson writes it, so it holds neither (only 64-bit integers, valid UTF-8)
        text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
        return SIZE_MESSAGE if size and len(text) > MAX_EVENT_BYTES else None
    except (TypeError, orjson.JSONEncodeError):
        pass
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if not v.isascii():
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    return UNICODE_MESSAGE
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
        elif type(v) is int or (isinstance(v, int) and not isinstance(v, bool)):
            if _too_long(v):
                return digits_message(sys.get_int_max_str_digits())
    if size and len(exact_json(value).encode("utf-8")) > MAX_EVENT_BYTES:  # writable now: big integers, NaN
        return SIZE_MESSAGE
    return None


def event_problem(value: Any) -> str | None:
    """Why a value is an E001 row however it is read (limits first, then text), or None."""
    return limits_problem(value) or text_problem(value)


def value_problem(value: Any) -> str | None:
    """What a dataset reader judges of a row (an object): whether its values nest or widen past the
    limits and whether its text can be written, or None. Not the limits on the body it would send
    (its keys, its 64 KiB): metadata and null keys are no part of that body, and which columns are
    metadata is the batch check's to say (`validate.size`). Anything else: `event_problem`."""
    if not isinstance(value, dict):
        return event_problem(value)
    return limits_problem(list(value.values())) or text_problem(value, size=False)


__all__ = ["FLOAT_MAX", "LONG_RUN_PATTERN", "PLAIN_TYPES", "as_float", "event_problem", "exact_json", "loads_exact",
           "number_text", "plain", "text_problem", "value_problem"]
