"""pandas frames → the canonical `Frame`: pandas' ways of saying a cell is empty (None, NaN,
`pd.NA`, `NaT`) mean absent; text columns of text parameters go over in native code; every other
object column is converted cell by cell by `io.columns.series`, as lists of dicts are."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from adrop_kit.io.columns import series, unique_columns
from adrop_kit.io.frames import (
    ERROR,
    LINE,
    RAW,
    ROW,
    Frame,
    frame_of,
    key_name,
    key_types,
    normalise_native,
    without_reserved,
)
from adrop_kit.io.values import event_problem, plain, value_problem
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import UNICODE_MESSAGE


def from_pandas(pdf: Any, catalog: Catalog, *, source: str = "<pandas.DataFrame>") -> Frame:
    """pandas: NaN/None/NA in a column mean absent (pandas' own convention for missing)."""
    import pandas as pd

    unique_columns(pdf.columns, source)  # pdf[name] would be a frame: which one is the event's value?
    pdf = pdf.reset_index(drop=True)
    types = key_types(catalog)
    problems: dict[int, str] = {}
    cols: list[pl.Series] = []
    for name in [n for n in pdf.columns if key_name(n) not in (ROW, LINE, ERROR, RAW)]:  # as `without_reserved`
        s = pdf[name]
        key = key_name(name)
        if isinstance(s.dtype, pd.StringDtype) and types.get(key, "string") == "string" and (
                (col := _string_column(s, key)) is not None):
            cols.append(col)  # text where text belongs: converted in native code
        elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            vals = s.tolist()
            for i in s.isna().to_numpy().nonzero()[0].tolist():  # None, NaN, pd.NA, NaT: absent
                vals[i] = None
            cols.extend(_pandas_series(key, vals, types.get(key), problems))
        else:
            cols.append(pl.from_pandas(s, nan_to_null=True).rename(key))
    df = frame_of(cols) if cols else pl.DataFrame({ROW: pl.Series([], dtype=pl.Int64)})
    if df.height != len(pdf):  # empty columns list
        df = pl.DataFrame({ROW: range(len(pdf))})
    messages = {i: _row_problem(pdf, i) or m for i, m in problems.items()}
    return Frame(normalise_native(without_reserved(df), catalog, problems=messages), source)


def _string_column(s: Any, key: str) -> pl.Series | None:
    """A pandas string column as a String column, its missing cells null; None when native code
    cannot take it (a lone surrogate: the cell-by-cell path makes that row E001)."""
    try:
        return pl.from_pandas(s, nan_to_null=True).cast(pl.String).rename(key)
    except Exception:  # noqa: BLE001 (pyarrow/polars refuse text UTF-8 cannot hold in several ways)
        return None


def _pandas_series(key: str, vals: list[Any], ptype: str | None, problems: dict[int, str]) -> list[pl.Series]:
    """`series` for an object column; text UTF-8 cannot hold (a lone surrogate) makes its row E001."""
    try:
        return series(key, vals, ptype, problems)
    except UnicodeEncodeError:
        pass
    bad_key = value_problem(key) is not None
    for i, v in enumerate(vals):
        if v is not None and (bad_key or (type(v) in (str, list, dict) and event_problem(v) == UNICODE_MESSAGE)):
            problems[i] = UNICODE_MESSAGE
            vals[i] = None
    return [] if bad_key else series(key, vals, ptype, problems)


def _row_problem(pdf: Any, i: int) -> str | None:
    """The E001 message of a pandas row, judged as the event it stands for (its non-missing cells)."""
    cells = ((k, pdf[k].iat[i]) for k in pdf.columns)  # (not `iloc[i]`: a row of one dtype may not hold them)
    return value_problem({key_name(k): plain(v) for k, v in cells if not _missing(v)})


def _missing(v: Any) -> bool:
    """None, pandas.NA, NaN: pandas' ways of saying a cell is empty."""
    return v is None or type(v).__name__ in ("NAType", "NaTType") or (isinstance(v, float) and math.isnan(v))


__all__ = ["from_pandas"]
