"""Numbers as written: a JSON number token goes out as the same token (SPEC.md, "Limits").

orjson and the json module read `1E2`, `200.00`, `-0`, `1e400` or a 40-digit decimal as a float and
would write it back as `100.0`, `200.0`, `0`, `Infinity` or a 17-digit float. `NumberToken` is a
float that keeps its token: its value is the nearest float (for the checks: beyond the float range
the largest float of its sign, and a non-zero token below the smallest float that float of its
sign), `json_token` the text, written back as is by every encoder of `adrop_kit` (`token_default`
with orjson). Only a token orjson would not write back as it was becomes a `NumberToken`: the
common `29900` or `14.99` stays a plain int or float, read at orjson's speed.

`may_hold_tokens` finds text that may hold such a token, at C speed and erring on the side of yes: a
digit before `e`/`E` (an exponent), a fraction ending in 0 (`1.50`; `1.0` is orjson's own writing),
`-0`, 17 digits and points in a row (16 digits or more), or `0.0000` (below 0.0001). A token it does
not find is written back by orjson as it was (tested over random tokens); text it finds is read by
`loads_tokens`, which still makes a token of only what needs one. `CELL_SUSPECT` is the same
test for a whole CSV cell, as a regex polars runs on a column.
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
_SHAPE = bytes(48 if 48 <= i <= 57 else 101 if i in (69, 101) else i if i in (45, 46) else 58 if i in b":,[ \t\r\n"
               else 120 for i in range(256))  # digits "0", e/E "e", "-" and "." kept, where a number may start ":"
_DIGITS_POINTS = bytes(48 if (48 <= i <= 57 or i == 46) else 32 for i in range(256))  # 16 digits or more: "0" * 17
_ZERO_END = re.compile(rb"\.[0-9]*[0-9]0(?![0-9])")  # a fraction ending in 0 after 2 digits or more
_NEG_ZERO = re.compile(rb"-0(?![.0-9eE])")
_TINY_TEXT = b"0.0000"
_EXPONENT, _LONG = b"0e", b"0" * 17
_NUMBER_CHARS = frozenset(b"0.-")
CELL_SUSPECT = r"[0-9][eE]|\.[0-9]*[0-9]0$|^-0$|[0-9.]{17}|0\.0000"
"""For a whole (stripped) CSV cell: a number orjson may write otherwise (polars' regex syntax)."""
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
    """Whether JSON text may hold a number orjson would not write back as it is (see the module docstring)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if _TINY_TEXT in data or _ZERO_END.search(data) is not None or _LONG in data.translate(_DIGITS_POINTS):
        return True
    shape = data.translate(_SHAPE)
    if _EXPONENT not in shape and b"-0" not in data:
        return False
    return bool(_numbers_at(data, shape))


def _numbers_at(data: bytes, shape: bytes) -> list[int]:
    """Where an exponent or `-0` starts a number (first, or after `:`, `,`, `[` or a space): a digit
    before `e` inside a string (`"3e4f"`) is not one. `shape`: `data.translate(_SHAPE)`."""
    found = []
    for m in _NEG_ZERO.finditer(data):
        if m.start() == 0 or shape[m.start() - 1] == 58:
            found.append(m.start())
    at = shape.find(_EXPONENT)
    while at >= 0:
        start = at
        while start > 0 and shape[start - 1] in _NUMBER_CHARS:
            start -= 1
        if start == 0 or shape[start - 1] == 58:
            found.append(start)
        at = shape.find(_EXPONENT, at + 2)
    return found


def token_offsets(data: bytes) -> list[int]:
    """Where text may hold a number orjson would write otherwise (`may_hold_tokens`): an offset a place,
    sorted (they name the lines to read with `loads_tokens`)."""
    found = [m.start() for m in _ZERO_END.finditer(data)]
    found += _numbers_at(data, data.translate(_SHAPE))
    for needle, text in ((_LONG, data.translate(_DIGITS_POINTS)), (_TINY_TEXT, data)):
        at = text.find(needle)
        while at >= 0:
            found.append(at)
            at = text.find(needle, at + len(needle))
    return sorted(found)


LONG_DIGITS = re.compile(rb"[0-9]{19}")  # an integer orjson may read as a float (beyond 64 bits)
_DIGIT_MAP = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_VECTOR_BYTES = 1 << 24  # from 16 MiB on, the digit sample is taken with numpy


def token_lines(data: bytes) -> set[int]:
    """The 0-based lines of JSON text that may hold an integer beyond 64 bits or a number orjson
    would write otherwise: the lines to read with `loads_tokens` (found at once over the text)."""
    lines: set[int] = set()
    line = prev = 0
    for pos in sorted(long_digit_runs(data) + token_offsets(data)):
        line += data.count(b"\n", prev, pos)
        prev = pos
        lines.add(line)
    return lines


def long_digit_runs(data: bytes) -> list[int]:
    """Offsets inside runs of 19 or more digits: where orjson may read an integer beyond 64 bits as
    a float. Such a run covers 4 multiples of 4 in a row, so a sample of every 4th byte finds the
    few places worth a regex (vectorised for big files: about 0.07 s for 184 MB)."""
    found: list[int] = []
    last_end = -1
    for i in _four_digit_samples(data):
        if 4 * i < last_end:
            continue  # inside the run just found
        m = LONG_DIGITS.search(data, max(0, 4 * i - 3), 4 * i + 22)
        if m is not None:
            found.append(m.start())
            last_end = m.end()
    return found


def _four_digit_samples(data: bytes) -> list[int]:
    """Indices i where the bytes at 4i, 4i+4, 4i+8 and 4i+12 are all digits."""
    if len(data) < _VECTOR_BYTES:
        sample = data[::4].translate(_DIGIT_MAP)
        out, i = [], sample.find(b"0000")
        while i >= 0:
            out.append(i)
            i = sample.find(b"0000", i + 1)
        return out
    import numpy as np  # a dependency of pandas, which adrop_kit requires

    digit = (np.frombuffer(data, np.uint8)[::4] - 48) < 10
    return np.flatnonzero(digit[:-3] & digit[1:-2] & digit[2:-1] & digit[3:]).tolist()


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


__all__ = ["CELL_PATTERN", "CELL_SUSPECT", "FLOAT_MAX", "LONG_DIGITS", "NumberToken", "cell_token", "float_token",
           "int_token", "loads_tokens", "long_digit_runs", "may_hold_tokens", "token_default", "token_integral",
           "token_lines", "token_offsets"]
