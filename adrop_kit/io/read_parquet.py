"""Parquet files → a canonical `Frame`.

Parquet columns are typed; `io.frames.normalise_native` judges them. What is done here first:
binary columns (`Binary`, also inside lists and structs) hold bytes, and an event holds text, so
they are decoded as UTF-8. Where a value is not valid UTF-8 its row is an E001 row (the event
cannot be written as JSON at all; sending it in some other form would send a different event),
naming the column. Columns named with a leading `_` are metadata, never checked or sent: a
binary one that does not decode is left as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.io.columns import unique_columns
from adrop_kit.io.frames import ERROR, RAW, Frame, normalise_native, short, without_reserved
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import MAX_DEPTH
from adrop_kit.support.labels import escape


def read_parquet(p: Path, catalog: Catalog) -> Frame:
    try:
        df = pl.read_parquet(p)
    except pl.exceptions.PolarsError as exc:
        if isinstance(exc, pl.exceptions.DuplicateError) or "more than one occurrence" in str(exc):
            import pyarrow.parquet as pq

            unique_columns(pq.read_schema(p).names, str(p))
        raise DataReadError(f"{escape(p)}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    return parquet_frame(without_reserved(df), str(p), catalog)


def parquet_frame(df: pl.DataFrame, source: str, catalog: Catalog) -> Frame:
    """Parquet's rows, as polars read them, → the canonical frame (also for a part of a file read
    elsewhere, e.g. one row group in a Spark partition, its `__row` column already set)."""
    df, problems = decode_binary(df)
    if problems:
        messages: list[str | None] = [None] * df.height
        raws: list[str | None] = [None] * df.height
        for i, (message, raw) in problems.items():
            messages[i], raws[i] = message, short(raw)
        df = df.with_columns(pl.Series(ERROR, messages, dtype=pl.String), pl.Series(RAW, raws, dtype=pl.String))
    return Frame(normalise_native(df, catalog), source)


def _shape(dtype: pl.DataType) -> tuple[bool, int]:
    """(holds Binary somewhere, levels of nesting); iterative."""
    binary, depth = False, 0
    stack = [(dtype, 0)]
    while stack:
        d, level = stack.pop()
        depth = max(depth, level)
        if d == pl.Binary:
            binary = True
        elif isinstance(d, (pl.List, pl.Array)):
            stack.append((d.inner, level + 1))
        elif isinstance(d, pl.Struct):
            stack.extend((f.dtype, level + 1) for f in d.fields)
    return binary, depth


def _as_text(dtype: pl.DataType) -> pl.DataType:
    """The dtype with every Binary made String (called only for shallow dtypes)."""
    if dtype == pl.Binary:
        return pl.String
    if isinstance(dtype, pl.List):
        return pl.List(_as_text(dtype.inner))
    if isinstance(dtype, pl.Array):
        return pl.Array(_as_text(dtype.inner), dtype.shape)
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _as_text(f.dtype) for f in dtype.fields})
    return dtype


def _decoded(value: Any) -> Any:
    """A cell's value with its bytes decoded as UTF-8 (UnicodeDecodeError when some do not)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    return value


def decode_binary(df: pl.DataFrame) -> tuple[pl.DataFrame, dict[int, tuple[str, str]]]:
    """Binary columns as text; rows with bytes that are not UTF-8 → {row position: (message, raw)}."""
    problems: dict[int, tuple[str, str]] = {}
    for name, dtype in df.schema.items():
        binary, depth = _shape(dtype)
        if not binary or depth > MAX_DEPTH:  # deeper than an event may be: normalise_native makes it E001
            continue
        target = _as_text(dtype)
        try:
            df = df.with_columns(df.get_column(name).cast(target))
            continue
        except pl.exceptions.PolarsError:  # some value is not UTF-8
            if name.startswith("_"):
                continue
        values: list[Any] = []
        for i, v in enumerate(df.get_column(name).to_list()):
            try:
                values.append(_decoded(v))
            except UnicodeDecodeError as exc:
                values.append(None)
                problems.setdefault(i, (f"{name} holds bytes that are not valid UTF-8 text ({exc.reason} at byte "
                                        f"{exc.start})", repr(v)))
        df = df.with_columns(pl.Series(name, values, dtype=target))
    return df, problems


__all__ = ["decode_binary", "parquet_frame", "read_parquet"]
