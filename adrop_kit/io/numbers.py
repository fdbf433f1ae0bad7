"""Numbers as written: a JSON number token goes out as the same token (SPEC.md, "Limits").

orjson and the json module read `1E2`, `200.00`, `-0`, `1e400` or a 40-digit decimal as a float and
would write it back as `100.0`, `200.0`, `0`, `Infinity` or a 17-digit float. `NumberToken` is a
float that keeps its token: its value is the nearest float (for the checks: beyond the float range
the largest float of its sign, and a non-zero token below the smallest float that float of its
sign), `json_token` the text, written back as is by every encoder of `adrop_kit` (`token_default`
with orjson). Only a token orjson would not write back as it was becomes a `NumberToken`: the
common `29900` or `14.99` stays a plain int or float, read at orjson's speed.

`SUSPECT` finds text that may hold such a token: a number (first, or after `:`, `,` or `[`) with an
exponent, a fraction ending in 0 (`1.50`; `1.0` is orjson's own writing), `-0`, 16 digits or more,
or `0.0000…`. A token it does not find is written back by orjson as it was (tested over random
tokens); text it finds is read by `loads_tokens`, which still makes a token of only what needs one.
"""

from __future__ import annotations

import json
import math
import re
import sys
from decimal import Decimal
from typing import Any

import orjson

FLOAT_MAX = sys.float_info.max
_TINY = math.ulp(0.0)  # the smallest float above 0
_AT = r"(?:^|[:,\[])[ \t\n\r]*"  # where a JSON number token starts: the text, a value, an array element
_START = _AT + "-?"
SUSPECT_PATTERN = (rf"{_START}[0-9.]*[eE]|{_START}[0-9]+\.[0-9]*[0-9]0(?:[^0-9]|$)|{_AT}-0(?:[^.0-9eE]|$)"
                   rf"|{_START}[0-9.]{{17}}|{_START}0\.0000")
"""A regex (Python's and polars' syntax) for JSON text that may hold a token orjson would write otherwise."""
_SUSPECT = re.compile(SUSPECT_PATTERN.encode())
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
CELL_PATTERN = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$"
"""A whole (CSV) cell that is one JSON number."""


class NumberToken(float):
    """A JSON number token kept as written (see the module docstring): a float for every check,
    `json_token` for every writer. `repr` and `str` give the token."""

    __slots__ = ("json_token",)
    json_token: str

    def __new__(cls, text: str) -> NumberToken:
        value = float(text)
        if math.isinf(value):
            value = math.copysign(FLOAT_MAX, value)
        elif value == 0.0 and text.lstrip("-").split("e")[0].split("E")[0].strip("0.") != "":
            value = math.copysign(_TINY, -1.0 if text.startswith("-") else 1.0)  # below the float range, not 0
        token = float.__new__(cls, value)
        token.json_token = text
        return token

    def __repr__(self) -> str:
        return self.json_token

    __str__ = __repr__

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return NumberToken, (self.json_token,)

    def is_integer(self) -> bool:
        """Whether the token's own value is a whole number (`1E2` is, `1.0000000000000000000000001` is not)."""
        return token_integral(self.json_token)


def token_integral(text: str) -> bool:
    """Whether a JSON number token's exact value is whole, whatever its size (no big arithmetic)."""
    _, digits, exponent = Decimal(text).as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return True
    return not any(digits[exponent:])


def written(value: float) -> bytes:
    """How orjson writes a float (the writing a token is compared with)."""
    return orjson.dumps(value)


def float_token(text: str) -> float:
    """A float token as read: a plain float when orjson writes it back as `text`, else a `NumberToken`."""
    value = float(text)
    if math.isfinite(value) and written(value) == text.encode():
        return value
    return NumberToken(text)


def int_token(text: str) -> int | float:
    """An integer token as read: an int (exact at any size), but `-0` a `NumberToken`."""
    return NumberToken(text) if text == "-0" else int(text)


def may_hold_tokens(data: bytes | str) -> bool:
    """Whether JSON text may hold a number orjson would not write back as it is (`SUSPECT`)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return _SUSPECT.search(data) is not None


def token_offsets(data: bytes) -> list[int]:
    """Where text may hold a number orjson would write otherwise (`SUSPECT`): one offset a match."""
    return [m.start() for m in _SUSPECT.finditer(data)]


def loads_tokens(text: str | bytes) -> Any:
    """Parse JSON text keeping every number token orjson would write otherwise (a `NumberToken`),
    integers exact and NaN/Infinity tokens (as floats). Raises ValueError when it is not JSON."""
    return json.loads(text, parse_float=float_token, parse_int=int_token)


def cell_token(text: str) -> NumberToken | None:
    """A CSV cell's number kept as written when it is a JSON number orjson would write otherwise."""
    if _NUMBER.fullmatch(text) is None:
        return None
    value = int_token(text) if ("." not in text and "e" not in text and "E" not in text) else float_token(text)
    return value if isinstance(value, NumberToken) else None


def token_default(value: Any) -> Any:
    """orjson's `default=` for tokens: their text as they were; anything else refused (TypeError)."""
    if isinstance(value, NumberToken):
        return orjson.Fragment(value.json_token)
    raise TypeError


def has_tokens(value: Any) -> bool:
    """Whether a `NumberToken` sits anywhere in a value (iterative)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, NumberToken):
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return False


__all__ = ["CELL_PATTERN", "FLOAT_MAX", "SUSPECT_PATTERN", "NumberToken", "cell_token", "float_token", "has_tokens",
           "int_token", "loads_tokens", "may_hold_tokens", "token_default", "token_integral",
           "token_offsets"]
