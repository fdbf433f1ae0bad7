"""Reading datasets into one canonical polars frame, losing nothing.

Whatever comes in (CSV, JSONL/NDJSON, a JSON array, Parquet, a pandas or polars
DataFrame, a list of dicts) becomes a `Frame`:

- `__row`   the row's 0-based position in the input (for JSONL: its line number);
- `__error` a message when the row could not be read as a JSON object (rule E001), else null;
- one column per key, typed by the catalog: strings `String`, numbers `Float64`/`Int64`,
  booleans `Boolean`; a value of the wrong JSON type is moved to a side column
  `__bad__<key>` holding its JSON text, so the value column stays typed and the type
  error is still reported (E006) — never coerced away;
- `items` as native `List(Struct)` (polars/parquet sources) or as JSON text per cell
  (CSV, JSON sources), checked item by item.

Null and a missing key are the same: absent. In CSV an empty cell is absent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from adrop_kit.io.jsontext import parse_json_text, to_json_text, utf8_ok
from adrop_kit.spec.catalog import ITEMS, Catalog
from adrop_kit.spec.rules import UNICODE_MESSAGE, json_kind

ROW = "__row"
ERROR = "__error"
RAW = "__raw"  # for E001 rows: what the row held, shortened
BAD = "__bad__"
MAX_REPR = 200  # offending values are kept short in reports

NATIVE_DTYPES = {"string": pl.String, "number": pl.Float64, "integer": pl.Int64, "boolean": pl.Boolean}
"""The column dtype of each parameter type (number columns may also be Int64: whole numbers stay whole)."""
_GOOD_TYPES = {
    "string": (str,),
    "number": (int, float),
    "integer": (int, float),
    "boolean": (bool,),
}


@dataclass
class Frame:
    """A dataset in canonical form (see the module docstring)."""

    df: pl.DataFrame
    source: str = "<data>"


def key_types(catalog: Catalog) -> dict[str, str]:
    """JSON type of every known top-level key: the envelope strings plus every parameter."""
    return {"uid": "string", "eventName": "string", "platform": "string", **catalog.param_types}


# -- values → typed columns ---------------------------------------------------------
def short(text: str) -> str:
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 1] + "…"


def _series(name: str, values: list[Any], ptype: str | None) -> list[pl.Series]:
    """A typed value column (+ a `__bad__` column when some values have the wrong JSON type)."""
    kinds = set(map(type, values))
    if any(k.__module__ == "numpy" for k in kinds):  # numpy scalars (rows of a pandas frame): plain Python
        values = [v.item() if type(v).__module__ == "numpy" and hasattr(v, "item") else v for v in values]
        kinds = set(map(type, values))
    kinds.discard(type(None))
    if ptype == "items":
        return [pl.Series(name, [None if v is None else to_json_text(v) for v in values], pl.String)]
    if ptype is None:  # a key the catalog does not know: typed if uniform, else kept as JSON text aside
        if kinds <= {str} or kinds <= {bool} or kinds <= {float} or kinds <= {int}:
            try:
                return [pl.Series(name, values, strict=True)]
            except (TypeError, OverflowError, pl.exceptions.PolarsError):
                pass
        return [pl.Series(name, [None] * len(values), pl.String),
                pl.Series(BAD + name, [None if v is None else to_json_text(v) for v in values], pl.String)]
    good = _GOOD_TYPES[ptype]
    dtype = NATIVE_DTYPES[ptype]
    if ptype == "number" and kinds & {int, float} == {int}:
        dtype = pl.Int64  # whole numbers stay integers: 29900 is sent back as 29900, not 29900.0
    if ptype == "integer" and float in kinds:
        dtype = pl.Float64
    if kinds <= set(good) and not (ptype != "boolean" and bool in kinds):
        try:
            return [pl.Series(name, values, dtype=dtype, strict=False)]
        except (TypeError, OverflowError, pl.exceptions.PolarsError):
            pass
    ok_vals: list[Any] = []
    bad_vals: list[str | None] = []
    for v in values:
        t = type(v)
        if v is None:
            ok_vals.append(None)
            bad_vals.append(None)
        elif t in good and t is not bool or (ptype == "boolean" and t is bool):
            if ptype in ("number", "integer") and t is int and not -(2**63) <= v < 2**63:
                v = float(v)
            ok_vals.append(v)
            bad_vals.append(None)
        else:
            ok_vals.append(None)
            bad_vals.append(to_json_text(v))  # whole: it may be sent back (reports shorten it)
    return [pl.Series(name, ok_vals, dtype=dtype, strict=False), pl.Series(BAD + name, bad_vals, pl.String)]


def from_records(records: Iterable[Any], catalog: Catalog, *, errors: Mapping[int, tuple[str, str]] | None = None,
                 rows: list[int] | None = None, source: str = "<records>") -> Frame:
    """Rows of Python objects (dicts, ideally) to a canonical frame; non-dicts become E001 rows.
    `errors` maps a position to (message, raw text) for rows that could not even be parsed."""
    records = records if isinstance(records, list) else list(records)
    err: list[str | None] = [None] * len(records)
    raw: list[str | None] = [None] * len(records)
    keys: dict[str, None] = {}
    for i, r in enumerate(records):
        if type(r) is dict:
            keys.update(dict.fromkeys(r))
        elif isinstance(r, Mapping):
            records[i] = r = dict(r)
            keys.update(dict.fromkeys(r))
        else:
            err[i] = f"the event must be a JSON object, got {json_kind(r)}"
            raw[i] = short(to_json_text(r))
    if errors:
        for i, (msg, text) in errors.items():
            err[i], raw[i] = msg, short(text)
    types = key_types(catalog)
    try:
        return _records_frame(records, keys, err, raw, rows, types, source)
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): JSON allows the escape, UTF-8 cannot hold it
        pass
    for i, r in enumerate(records):
        if type(r) is dict and err[i] is None and not utf8_ok(r):
            err[i] = UNICODE_MESSAGE
            raw[i] = short(json.dumps(r, ensure_ascii=True, default=str))
    return _records_frame(records, {k: None for k in keys if utf8_ok(k)}, err, raw, rows, types, source)


def _records_frame(records: list[Any], keys: Mapping[Any, None], err: list[str | None], raw: list[str | None],
                   rows: list[int] | None, types: Mapping[str, str], source: str) -> Frame:
    dicts = [r if type(r) is dict and err[i] is None else {} for i, r in enumerate(records)]
    cols: list[pl.Series] = [
        pl.Series(ROW, rows if rows is not None else range(len(records)), pl.Int64),
        pl.Series(ERROR, err, pl.String),
        pl.Series(RAW, raw, pl.String),
    ]
    for k in keys:
        name = k if isinstance(k, str) else str(k)
        if name.startswith("__"):  # the reserved namespace of this frame; `_` keys are metadata anyway
            continue
        cols.extend(_series(name, [d.get(k) for d in dicts], types.get(name)))
    return Frame(pl.DataFrame(cols), source)


# -- native frames -----------------------------------------------------------------
def normalise_native(df: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    types = key_types(catalog)
    exprs: list[pl.Expr] = []
    for name, dtype in df.schema.items():
        ptype = types.get(name)
        c = pl.col(name)
        if name.startswith("__") or ptype is None:
            continue
        if ptype == "items":
            native = isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)
            if not native and dtype not in (pl.Null, pl.String):  # a String items column holds JSON text
                exprs.append(pl.Series(name, [None if v is None else to_json_text(v) for v in df[name].to_list()],
                                       pl.String))
            continue
        if dtype == pl.Null:
            exprs.append(c.cast(NATIVE_DTYPES[ptype]))
            continue
        if isinstance(dtype, (pl.Categorical, pl.Enum)):
            if ptype == "string":
                exprs.append(c.cast(pl.String))
                continue
            df = df.with_columns(c.cast(pl.String))  # and then judged as text: a type error for this param
            dtype = pl.String
        fits = ((ptype == "string" and dtype == pl.String)
                or (ptype == "boolean" and dtype == pl.Boolean)
                or (ptype in ("number", "integer") and dtype.is_numeric()))
        if fits:
            if ptype == "number" and dtype.is_integer() and dtype != pl.UInt64:
                if dtype != pl.Int64:
                    exprs.append(c.cast(pl.Int64))
            elif ptype == "number" and dtype != pl.Float64:
                exprs.append(c.cast(pl.Float64))
            elif ptype == "integer" and dtype.is_integer() and dtype != pl.Int64:
                exprs.append(c.cast(pl.Float64) if dtype == pl.UInt64 else c.cast(pl.Int64))
            elif ptype == "integer" and dtype.is_decimal():
                exprs.append(c.cast(pl.Float64))
            continue
        # a whole column of the wrong type: every present value is a type error
        texts = [None if v is None else to_json_text(v) for v in df[name].to_list()]
        exprs.append(pl.lit(None, NATIVE_DTYPES[ptype]).alias(name))
        exprs.append(pl.Series(BAD + name, texts, pl.String).alias(BAD + name))
    out = df.with_columns(exprs) if exprs else df
    if ROW not in out.columns:
        out = out.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    if ERROR not in out.columns:
        out = out.with_columns(pl.lit(None, pl.String).alias(ERROR))
    return out


def from_polars(df: pl.DataFrame, catalog: Catalog, *, source: str = "<polars.DataFrame>") -> Frame:
    return Frame(normalise_native(df, catalog), source)


def from_pandas(pdf: Any, catalog: Catalog, *, source: str = "<pandas.DataFrame>") -> Frame:
    """pandas: NaN/None/NA in a column mean absent (pandas' own convention for missing)."""
    import pandas as pd

    pdf = pdf.reset_index(drop=True)
    native: dict[str, pl.Series] = {}
    mixed: dict[str, list[Any]] = {}
    for name in pdf.columns:
        s = pdf[name]
        key = str(name)
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            vals = s.tolist()
            mixed[key] = [None if (v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))) else v
                          for v in vals]
        else:
            native[key] = pl.from_pandas(s, nan_to_null=True).rename(key)
    types = key_types(catalog)
    cols: list[pl.Series] = []
    for key in map(str, pdf.columns):
        if key in native:
            cols.append(native[key])
        else:
            vals = mixed[key]
            if types.get(key) == "items":
                vals = [v.tolist() if hasattr(v, "tolist") else v for v in vals]
            cols.extend(_series(key, vals, types.get(key)))
    df = pl.DataFrame(cols) if cols else pl.DataFrame({ROW: pl.Series([], dtype=pl.Int64)})
    if df.height != len(pdf):  # empty columns list
        df = pl.DataFrame({ROW: range(len(pdf))})
    return Frame(normalise_native(df, catalog), source)


__all__ = ["BAD", "ERROR", "RAW", "ROW", "Frame", "from_pandas", "from_polars", "from_records", "normalise_native",
           "short", "to_payloads"]


def to_payloads(df: pl.DataFrame, catalog: Catalog, *, extra_columns: Iterable[str] = (),
                keep: Iterable[str] = ()) -> list[tuple[int, dict]]:
    """Rows of a canonical frame back to `(row, payload)` pairs, as they would be sent.

    Nulls are dropped (absent), wrong-typed values come back from their `__bad__` column as
    they were, `items` become lists of dicts, integral floats of integer parameters become ints.
    Metadata columns (`extra_columns`, `_`-prefixed) are not part of a payload unless in `keep`.
    Built column by column: only the non-null cells are touched.
    """
    keep = set(keep)
    skip = set(extra_columns) - keep
    cols = [c for c in df.columns if c in keep or not (c.startswith("_") or c in skip)]
    integer = {k for k, t in catalog.param_types.items() if t == "integer"}
    payloads: list[dict] = [{} for _ in range(df.height)]
    for name in cols + [c for c in df.columns if c.startswith(BAD)]:
        col = df.get_column(name)
        where = col.is_not_null().arg_true().to_list()
        if not where:
            continue
        values = col.drop_nulls().to_list()
        key = name[len(BAD):] if name.startswith(BAD) else name
        if name.startswith(BAD) or (key == ITEMS and col.dtype == pl.String):
            values = [_parse_or_keep(v) for v in values]
        elif key == ITEMS:
            values = [[{k: v for k, v in it.items() if v is not None} if isinstance(it, dict) else it for it in v]
                      for v in values]
        elif key in integer and col.dtype.is_float():
            values = [int(v) if v.is_integer() else v for v in values]
        for i, v in zip(where, values, strict=True):
            payloads[i][key] = v
    rows = df.get_column(ROW).to_list() if ROW in df.columns else range(df.height)
    return list(zip(rows, payloads, strict=True))


def _parse_or_keep(text: str) -> Any:
    try:
        return parse_json_text(text)
    except ValueError:
        return text
