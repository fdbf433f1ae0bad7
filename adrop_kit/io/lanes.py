"""Merging the JSONL reader's two lanes into the frame the precise path alone would build.

The native lane (`io.jsonl_fast`) read the plain lines; the precise path (`frames.from_records`)
read the rest, judging rare keys over the whole input (`beside=`). Each key's column then takes
the type the precise path would give it over all rows (`io.frames`, `io.columns.series`):

- a number/integer parameter is Int64 only when both lanes hold integers alone; otherwise
  Float64, and every integer keeps its text in `__exact__<key>` (as `series` does for a column
  that mixes integers and fractions);
- string, boolean and `items` columns are the same type in both lanes;
- a key outside the catalog keeps its typed column only if both lanes hold the same type; when
  they do not (or the key is rare over the whole input, or there are too many such keys), the
  merge gives up and returns None: the caller then reads the whole input precisely. Those are
  rare files, and the answer stays exact.
"""

from __future__ import annotations

import polars as pl

from adrop_kit.io.columns import BAD, EXACT, MORE
from adrop_kit.io.frames import ERROR, MAX_OTHER_COLUMNS, RARE, RAW, ROW, key_types
from adrop_kit.spec.catalog import Catalog

_META = (ROW, ERROR, RAW, MORE)


def _base(column: str) -> str:
    for prefix in (BAD, EXACT):
        if column.startswith(prefix):
            return column[len(prefix):]
    return column


def fast_counts(fast: pl.DataFrame) -> dict[str, int]:
    """How many rows of the native lane hold each key (a plain line holds no null value)."""
    payload = [c for c in fast.columns if c not in _META and not c.startswith((BAD, EXACT))]
    if not payload:
        return {}
    counts = fast.select(pl.col(payload).is_not_null().sum()).row(0)
    return dict(zip(payload, counts, strict=True))


def merge_lanes(fast: pl.DataFrame, slow: pl.DataFrame, catalog: Catalog, *, slow_ok: int,
                slow_counts: dict[str, int]) -> pl.DataFrame | None:
    """One frame, rows in input order; None when the lanes cannot be merged exactly (see above).
    `slow_ok`: rows of the precise lane that are objects (not E001); `slow_counts`: how many of
    them hold each key."""
    types = key_types(catalog)
    counts = fast_counts(fast)
    n_ok = fast.height + slow_ok
    extras = {k for k in (*counts, *slow_counts) if k not in types and not k.startswith("__")}
    if len(extras) > MAX_OTHER_COLUMNS:
        return None
    for key, count in counts.items():
        if key not in types and count and (count + slow_counts.get(key, 0)) * RARE < n_ok:
            return None  # the precise path would keep it in __more
    if slow.height == 0:
        return _drop_empty_exact(fast, set())
    slow_exact = {c for c in slow.columns if c.startswith(EXACT)}
    fixes_fast: list[pl.Expr] = []
    fixes_slow: list[pl.Expr] = []
    keys = {_base(c) for c in (*fast.columns, *slow.columns) if c not in _META}
    for key in keys:
        if key not in fast.columns or key not in slow.columns:
            if key not in types and key in fast.columns and (BAD + key) in slow.columns:
                return None  # wrong-typed in the slow lane only: the precise path makes the whole key text
            continue
        ft, st = fast.schema[key], slow.schema[key]
        ptype = types.get(key)
        if ptype in ("number", "integer"):
            if ft.is_integer() and st.is_integer():
                continue
            for dtype, fixes in ((ft, fixes_fast), (st, fixes_slow)):
                if dtype.is_integer():
                    fixes.extend([pl.col(key).cast(pl.Float64),
                                  pl.col(key).cast(pl.String).alias(EXACT + key)])
                elif dtype == pl.Null:
                    fixes.append(pl.col(key).cast(pl.Float64))
            continue
        if ptype is None:
            if (BAD + key) in slow.columns or (BAD + key) in fast.columns:
                return None
            if st == pl.Null:
                fixes_slow.append(pl.col(key).cast(ft))
            elif ft == pl.Null:
                fixes_fast.append(pl.col(key).cast(st))
            elif st != ft:
                return None
            continue
        if st != ft:
            if st == pl.Null:
                fixes_slow.append(pl.col(key).cast(ft))
            elif ft == pl.Null:
                fixes_fast.append(pl.col(key).cast(st))
            else:
                return None
    fast = fast.with_columns(fixes_fast) if fixes_fast else fast
    slow = slow.with_columns(fixes_slow) if fixes_slow else slow
    merged = pl.concat([fast, slow], how="diagonal").sort(ROW)
    return _drop_empty_exact(merged, slow_exact)


def _drop_empty_exact(df: pl.DataFrame, keep: set[str]) -> pl.DataFrame:
    """The precise path adds an `__exact__` column only when some row needs it."""
    exact = [c for c in df.columns if c.startswith(EXACT) and c not in keep]
    if not exact:
        return df
    empty = [c for c, n in zip(exact, df.select(pl.col(exact).null_count()).row(0), strict=True) if n == df.height]
    return df.drop(empty) if empty else df


__all__ = ["fast_counts", "merge_lanes"]
