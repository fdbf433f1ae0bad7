"""E001 for NaN/±Infinity where no type rule looks, on a canonical batch (`validate.untyped` says
where that is; `validate_event` judges one payload with the same function).

Vectorised where a column's dtype says it: a float column, or a float inside a native list/struct,
of a key the row's event does not type. JSON text (a `__bad__` cell, `items` read from text, the
rare keys of `__more`) is a candidate only when it holds the token `NaN` or `Infinity`; those rows
alone are parsed and judged by `untyped_nonfinite`. A number kept as its exact text
(`__exact__<key>`) is a number as written, never NaN. Metadata columns are never looked at.
`check_batch` calls `mark_nonfinite` for every entry point (frames, lists, files, streamed
batches, pandera, Spark's partitions), after the limits: a row past them is already E001.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from adrop_kit.io.frames import BAD, ERROR, EXACT, MORE, to_payloads
from adrop_kit.spec.catalog import ENVELOPE, ITEMS, Catalog
from adrop_kit.spec.rules import nonfinite_message
from adrop_kit.validate.checks import EVENT_CODE, event_code
from adrop_kit.validate.untyped import untyped_nonfinite

_TOKENS = ["NaN", "Infinity"]
_DEEPEST = 8  # native dtypes nested deeper than this are judged in Python, row by row
_WIDEST = 64  # so are structs of more fields (an expression per field costs polars dearly)
_POS = "__nf_pos"


def _float_inside(expr: pl.Expr, dtype: pl.DataType, depth: int = 0) -> pl.Expr | None:
    """Whether a (native) value holds a NaN or an infinite float; None: no float inside its dtype,
    or one past `_DEEPEST` levels or `_WIDEST` fields (the caller then looks at its rows in Python)."""
    if dtype.is_float():
        return expr.is_nan() | expr.is_infinite()
    if depth >= _DEEPEST:
        return None
    if isinstance(dtype, pl.Array):
        return _float_inside(expr.arr.to_list(), pl.List(dtype.inner), depth)
    if isinstance(dtype, pl.List):
        inner = _float_inside(pl.element(), dtype.inner, depth + 1)
        return None if inner is None else expr.list.eval(inner.fill_null(False)).list.any()
    if isinstance(dtype, pl.Struct):
        if len(dtype.fields) > _WIDEST:
            return None
        parts = [p for f in dtype.fields
                 if (p := _float_inside(expr.struct.field(f.name), f.dtype, depth + 1)) is not None]
        return pl.any_horizontal(parts) if parts else None
    return None


def _has_float(dtype: pl.DataType) -> bool:
    stack = [dtype]
    while stack:
        d = stack.pop()
        if d.is_float() or d == pl.Object:
            return True
        if isinstance(d, (pl.List, pl.Array)):
            stack.append(d.inner)
        elif isinstance(d, pl.Struct):
            stack.extend(f.dtype for f in d.fields)
    return False


def _item_fields_inside(expr: pl.Expr, dtype: pl.DataType, item_names: Collection[str]) -> pl.Expr | None:
    """For a native `items` column (List(Struct)) of an event that types it: NaN/Infinity under an
    item's own keys (not the catalog's item fields). None: not told by an expression (rows looked at)."""
    if not (isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)) or len(dtype.inner.fields) > _WIDEST:
        return None
    own = [f for f in dtype.inner.fields if f.name not in item_names and _has_float(f.dtype)]
    parts = [p for f in own if (p := _float_inside(pl.element().struct.field(f.name), f.dtype, 2)) is not None]
    if len(parts) < len(own):  # a float deeper than the expression goes
        return None
    return expr.list.eval(pl.any_horizontal(parts).fill_null(False)).list.any() if parts else pl.lit(False)


def nonfinite_rows(df: pl.DataFrame, catalog: Catalog, extra_columns: Collection[str]) -> dict[int, str]:
    """The positions of the rows (not yet E001) holding NaN/Infinity where no type rule looks,
    each with its E001 message."""
    code = pl.col(EVENT_CODE) if EVENT_CODE in df.columns else (  # check_batch's event code, else its own
        event_code(catalog) if "eventName" in df.columns else pl.lit(-1, pl.Int16))
    item_names = catalog.item_types

    def typed_for(key: str) -> pl.Expr:
        events = [i for i, e in enumerate(catalog) if key in e.param_names]
        return code.is_in(events) if events else pl.lit(False)

    masks: list[pl.Expr] = []  # candidate rows: confirmed in Python from their payload
    for name, dtype in df.schema.items():
        if name == MORE:
            masks.append(pl.col(name).str.contains_any(_TOKENS))
            continue
        if name.startswith(EXACT) or name == EVENT_CODE:
            continue
        key = name[len(BAD):] if name.startswith(BAD) else name
        if key.startswith("_") or key in extra_columns or key in ENVELOPE:
            continue
        typed = typed_for(key)
        c = pl.col(name)
        if dtype == pl.String:
            if name.startswith(BAD) or key == ITEMS:
                masks.append(c.str.contains_any(_TOKENS) & (~typed | pl.lit(key == ITEMS)))
            continue
        if not _has_float(dtype):
            continue
        inside = None if dtype == pl.Object else _float_inside(c, dtype)
        if inside is None:  # Python objects, or nested deeper than the expression goes: looked at row by row
            inside = c.is_not_null()
        if EXACT + key in df.columns:
            inside = inside & pl.col(EXACT + key).is_null()
        untyped = ~typed & inside
        if key == ITEMS:  # typed: NaN under an item's own keys (looked at row by row past the expression)
            own = _item_fields_inside(c, dtype, item_names)
            untyped = untyped | (typed & (c.is_not_null() if own is None else own))
        masks.append(untyped)
    if not masks:
        return {}
    ok = pl.col(ERROR).is_null() if ERROR in df.columns else pl.lit(True)
    rows = df.with_row_index(_POS).filter(ok & pl.any_horizontal(masks).fill_null(False))
    if not rows.height:
        return {}
    found: dict[int, str] = {}
    payloads = to_payloads(rows.drop(_POS), catalog, extra_columns=extra_columns)
    for pos, (_, payload) in zip(rows.get_column(_POS).to_list(), payloads, strict=True):
        name = payload.get("eventName")
        spec = catalog.events[name] if isinstance(name, str) and name in catalog else None
        keys = untyped_nonfinite(payload, spec, catalog, skip=extra_columns)
        if keys:
            found[pos] = nonfinite_message(keys)
    return found


def mark_nonfinite(df: pl.DataFrame, catalog: Catalog, extra_columns: Collection[str]) -> pl.DataFrame:
    """`df` with the rows holding NaN/Infinity where no type rule looks made E001 rows."""
    found = nonfinite_rows(df, catalog, extra_columns)
    if not found:
        return df
    error = df.get_column(ERROR) if ERROR in df.columns else pl.Series(ERROR, [None] * df.height, pl.String)
    return df.with_columns(error.clone().scatter(list(found), list(found.values())))


__all__ = ["mark_nonfinite", "nonfinite_rows"]
