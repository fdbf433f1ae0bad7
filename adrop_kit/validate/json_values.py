"""A violation's `value` as the JSON value it was, for JSON output (`DatasetReport.to_dict`).

The violations table holds text: the JSON text of a wrongly typed value (a `__bad__` cell, an
item's type error), the digits of a number, a string as it is. Which one a value is comes from the
frame it was found in and the rule, never from the text (a tx_id written "123" stays a string).
A streamed run decides it per batch, while the batch's rows are at hand (`JSON_FLAG`), and the
report keeps the flags beside its violations.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import polars as pl

from adrop_kit.io.frames import BAD, ROW
from adrop_kit.io.numbers import NumberToken
from adrop_kit.io.values import loads_exact

JSON_FLAG = "__json"
"""A Boolean column riding along a batch's violations: is `value` JSON text (True) or a plain string."""
_SHORT = 80  # values shortened for the report end with "…" at this length: they stay text


def json_flags(v: pl.DataFrame, frame: pl.DataFrame | None) -> pl.Series:
    """For each violation of `v` (found in `frame`): whether its `value` is JSON text."""
    frame = frame if isinstance(frame, pl.DataFrame) else pl.DataFrame()  # a report without its rows
    bad: dict[str, dict[int, str]] = {}  # per field, the JSON text of each row's wrongly typed value
    for name in v.get_column("field").unique().to_list():
        if name is not None and BAD + name in frame.columns and ROW in frame.columns:  # "" is a key too
            rows = frame.filter(pl.col(BAD + name).is_not_null()).select(ROW, BAD + name)
            bad[name] = dict(rows.iter_rows())
    schema = frame.schema
    out: list[bool] = []
    for row, rule, fld, text, message in v.select("row", "rule", "field", "value", "message").iter_rows():
        if text is None or rule == "E001" or (text.endswith("…") and len(text) >= _SHORT):
            out.append(False)  # a whole raw line, or a value shortened for the report: text
        elif bad.get(fld, {}).get(row) == text or (rule in ("E007", "E008") and ", got " in message):
            out.append(True)
        elif rule in ("W102", "W109"):  # JSON text, as validate_event shows it
            out.append(True)
        else:  # a number (or boolean) column: its digits
            out.append(rule in ("W103", "W105") or (fld in schema and (schema[fld].is_numeric()
                                                                       or schema[fld] == pl.Boolean)))
    return pl.Series(JSON_FLAG, out, dtype=pl.Boolean)


def json_values(v: pl.DataFrame, flags: pl.Series) -> list[Any]:
    """The `value` of each violation as plain data: JSON text parsed where `flags` says so."""
    return [_parsed(text) if flag else text
            for text, flag in zip(v.get_column("value").to_list(), flags.to_list(), strict=True)]


def _parsed(text: str) -> Any:
    """JSON text as its value (integers exact); the text itself when it is not JSON or not finite
    (NaN and Infinity have no JSON form), or a number no float holds exactly (`1e400`, 40 digits)."""
    try:
        value = loads_exact(text)
    except ValueError:
        return text
    if isinstance(value, NumberToken):  # as a float where it is that float's value exactly (`1E2`), else its text
        return float.__float__(value) if Decimal(value.json_token) == Decimal(float.__float__(value)) else text
    return text if isinstance(value, float) and not math.isfinite(value) else value


__all__ = ["JSON_FLAG", "json_flags", "json_values"]
