"""Typed frames: event records as the frame a model of `adrop_kit.validate.schemas` reads.

`typed_frame(records, Purchase)` gives a polars frame (a pandas one for a `schemas.pandas` model) with
one column per model column, typed (`typed_schema`), then one per other key the records hold;
`holds_typed(record, model)` says whether a record fits such a frame as it is (a wrong JSON type, an
object under a key outside the catalog, an item of the wrong shape do not: they are what a typed
frame cannot hold, and `validate_events` on the records themselves reports them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from adrop_kit.spec.catalog import ITEMS, Catalog
from adrop_kit.validate.schemas.plan import SchemaPlan, typed_schema

_EXACT_FLOAT = 2**53  # integers a Float64 holds exactly
_INT64 = 2**63


def _plan(model: type) -> SchemaPlan:
    plan = getattr(model, "__adrop_plan__", None)
    if not isinstance(plan, SchemaPlan):
        raise TypeError(f"{model!r} is not a model of adrop_kit.validate.schemas (models_for(...) builds them)")
    return plan


def _fits(value: Any, dtype: pl.DataType, catalog: Catalog) -> bool:
    if value is None:
        return True
    if dtype == pl.String:
        return isinstance(value, str)
    if dtype == pl.Boolean:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if dtype == pl.Int64:
        return (isinstance(value, int) and -_INT64 <= value < _INT64) or (
            isinstance(value, float) and value.is_integer() and abs(value) < _EXACT_FLOAT)
    if dtype == pl.Float64:
        return isinstance(value, float) or (isinstance(value, int) and abs(value) < _EXACT_FLOAT)
    if isinstance(dtype, pl.List):  # items
        fields = {f.name: f.dtype for f in dtype.inner.fields}  # type: ignore[union-attr]
        return isinstance(value, list) and all(
            isinstance(item, dict) and all(k in fields and _fits(v, fields[k], catalog) for k, v in item.items())
            for item in value)
    return False


def holds_typed(record: Any, model: type) -> bool:
    """Whether `record` fits a typed frame of `model` as it is (see the module docstring)."""
    plan = _plan(model)
    types = typed_schema(plan.catalog, plan.events)
    if not isinstance(record, Mapping):
        return False
    pandas = getattr(model, "__module__", "").endswith(".pandas")
    for key, value in record.items():
        if pandas and isinstance(value, float) and math.isnan(value):
            return False  # pandas reads NaN as a missing value
        if not isinstance(key, str) or key.startswith("__"):
            return False
        dtype = types.get(key)
        if dtype is None:
            if key in plan.catalog.param_types or key in ("uid", "eventName", "platform"):
                dtype = typed_schema(plan.catalog)[key]  # another event's parameter: typed as everywhere
            elif value is None or isinstance(value, (str, bool)) or (
                    isinstance(value, (int, float)) and abs(value) < _EXACT_FLOAT):
                continue
            else:
                return False
        if not _fits(value, dtype, plan.catalog):
            return False
    return True


def _cell(value: Any, dtype: pl.DataType) -> Any:
    if value is None:
        return None
    if dtype == pl.Int64:
        return int(value)
    if dtype == pl.Float64:
        return float(value)
    if isinstance(dtype, pl.List):
        return [{k: _cell(item.get(k), f.dtype) for f in dtype.inner.fields for k in (f.name,)}  # type: ignore
                for item in value]
    return value


def typed_frame(records: Iterable[Mapping[str, Any]], model: type) -> Any:
    """`records` as a typed frame of `model` (raises ValueError for a record that does not fit one)."""
    plan = _plan(model)
    rows = list(records)
    for i, r in enumerate(rows):
        if not holds_typed(r, model):
            raise ValueError(f"row {i}: does not fit a typed frame of {model.__name__} (a value of the wrong type?); "
                             "validate_events reads such records as they are")
    everywhere = typed_schema(plan.catalog)
    types = typed_schema(plan.catalog, plan.events)
    for r in rows:
        for key in r:
            if key not in types:
                types[key] = everywhere.get(key, _other_dtype([x.get(key) for x in rows]))
    columns = []
    for name, dtype in types.items():
        values = [_cell(r.get(name), dtype) for r in rows]
        if dtype == pl.String and any(v is not None and not isinstance(v, str) for v in values):
            values = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
        columns.append(pl.Series(name, values, dtype=dtype, strict=True))
    df = pl.DataFrame(columns, schema=types) if rows else pl.DataFrame(schema=types)
    if getattr(model, "__module__", "").endswith(".pandas"):
        return _to_pandas(df)
    return df


def _other_dtype(values: list[Any]) -> pl.DataType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pl.Boolean
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pl.Float64 if any(isinstance(v, float) for v in present) else pl.Int64
    return pl.String


def _to_pandas(df: pl.DataFrame) -> Any:
    import pandas as pd

    out = {}
    for name, dtype in df.schema.items():
        values = df.get_column(name).to_list()
        if dtype == pl.Int64:
            out[name] = pd.Series(values, dtype="Int64")
        elif dtype == pl.Boolean:
            out[name] = pd.Series(values, dtype="boolean")
        elif dtype == pl.Float64:
            out[name] = pd.Series([math.nan if v is None else v for v in values], dtype="float64")
        elif name == ITEMS:  # lists of dicts, without the fields an item does not hold
            out[name] = pd.Series([None if v is None else [{k: x for k, x in item.items() if x is not None}
                                                            for item in v] for v in values], dtype=object)
        elif dtype == pl.String:
            out[name] = pd.Series(values, dtype=pd.StringDtype(na_value=math.nan))  # pandas' own str dtype
        else:
            out[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(out, index=pd.RangeIndex(df.height))


__all__ = ["holds_typed", "typed_frame"]
