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
    """For each violation of `v` (found in `frame`): whether its `value` is JSON text. One polars
    plan for the whole table: a violation's value is JSON text when it is the `__bad__` cell of its
    row and field, an item's or a key's value shown as JSON, or a number (or boolean) column's digits;
    never a whole raw line (E001) or a value shortened for the report."""
    frame = frame if isinstance(frame, pl.DataFrame) else pl.DataFrame()  # a report without its rows
    schema = frame.schema
    names = [n for n in v.get_column("field").unique().to_list() if n is not None]  # "" is a key too
    typed = [n for n in names if n in schema and (schema[n].is_numeric() or schema[n] == pl.Boolean)]
    text, rule = pl.col("value"), pl.col("rule")
    plain = text.is_null() | (rule == "E001") | (text.str.ends_with("…") & (text.str.len_chars() >= _SHORT))
    json = rule.is_in(["W102", "W109"]) | (rule.is_in(["E007", "E008"])
                                          & pl.col("message").str.contains(", got ", literal=True))
    digits = rule.is_in(["W103", "W105"]) | pl.col("field").is_in(typed)
    found = v.lazy().select("row", "rule", "field", "value", "message")
    bad = [n for n in names if BAD + n in schema] if ROW in schema else []
    if bad:  # the JSON text of each row's wrongly typed value, per field
        cells = pl.concat([frame.lazy().filter(pl.col(BAD + n).is_not_null()).select(
            pl.col(ROW).cast(pl.Int64).alias("row"), pl.lit(n, pl.String).alias("field"),
            pl.col(BAD + n).cast(pl.String).alias(_CELL)) for n in bad])
        cells = cells.unique(["row", "field"], keep="last", maintain_order=True)
        found = found.with_columns(pl.col("row").cast(pl.Int64)).join(cells, on=["row", "field"], how="left",
                                                                      maintain_order="left")
        json = json | (pl.col(_CELL) == text).fill_null(False)
    flag = pl.when(plain).then(False).when(json).then(True).otherwise(digits.fill_null(False))
    return found.select(flag.fill_null(False).alias(JSON_FLAG)).collect().to_series()


_CELL = "__cell"


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
