"""Merging the JSONL reader's two lanes into the frame the precise path alone would build.

The native lane (`io.jsonl_fast`) read the plain lines; the precise path (`frames.from_records`)
read the rest, judging rare keys over the whole input (`beside=`). Each key's column then takes
the type the precise path would give it over all rows (`io.frames`, `io.columns.series`):

- a number/integer parameter is Int64 only when both lanes hold integers alone; otherwise
  Float64, and every integer keeps its text in `__exact__<key>` (as `series` does for a column
  that mixes integers and fractions);
- string, boolean and `items` columns are the same type in both lanes;
- a key outside the catalog keeps its typed column when both lanes hold the same type.

When a key outside the catalog cannot be merged that way (rare over the whole input, so the
precise path keeps it in `__more`; typed differently in the two lanes, or wrong-typed in one, so
the precise path keeps all its values as text; more such keys than get a column), the merge
never gives up on the file: it names the key (`Evict`), the reader moves the native rows that
hold it to the precise lane and merges again. The cost is the lines concerned, never the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from adrop_kit.io.columns import BAD, EXACT, MORE
from adrop_kit.io.frames import ERROR, MAX_OTHER_COLUMNS, RARE, RAW, ROW, key_types
from adrop_kit.io.jsonl_fast import NULLS
from adrop_kit.spec.catalog import Catalog

_META = (ROW, ERROR, RAW, MORE, NULLS)


@dataclass(frozen=True)
class Evict:
    """Keys whose native rows must be read by the precise lane before the lanes can merge."""

    keys: frozenset[str]


def _base(column: str) -> str:
    for prefix in (BAD, EXACT):
        if column.startswith(prefix):
            return column[len(prefix):]
    return column


def fast_counts(fast: pl.DataFrame) -> dict[str, int]:
    """How many rows of the native lane hold each key, with a value or as null (as the precise path counts)."""
    payload = [c for c in fast.columns if c not in _META and not c.startswith((BAD, EXACT))]
    counts = dict(zip(payload, fast.select(pl.col(payload).is_not_null().sum()).row(0), strict=True)) if payload else {}
    if NULLS in fast.columns:
        named = fast.get_column(NULLS).drop_nulls().explode().drop_nulls().value_counts()  # (most rows name none)
        for key, n in named.iter_rows():
            counts[key] = counts.get(key, 0) + n
    return counts


def holding(fast: pl.DataFrame, keys: frozenset[str]) -> pl.Series:
    """Which native rows hold one of `keys`, with a value or as null."""
    held = [pl.col(k).is_not_null() for k in keys if k in fast.columns]
    if NULLS in fast.columns:
        named = keys & set(fast.get_column(NULLS).drop_nulls().explode().drop_nulls().unique().to_list())
        held += [pl.col(NULLS).list.contains(k).fill_null(False) for k in named]
    return fast.select(pl.any_horizontal(held) if held else pl.lit(False)).to_series()


def evictions(fast: pl.DataFrame, catalog: Catalog, *, slow_ok: int, slow_counts: dict[str, int]) -> Evict | None:
    """Keys outside the catalog the native lane must give up before the precise lane's frame is
    built: those rare over the whole input (the precise path packs them in `__more`), and, when
    more such keys are common than get a column, every one the native lane holds (the precise
    path gives columns to the first `MAX_OTHER_COLUMNS` in input order: with all their rows in
    the precise lane, its own order is the input's)."""
    types = key_types(catalog)
    counts = {k: n for k, n in fast_counts(fast).items() if n and k not in types and not k.startswith("__")}
    n_ok = fast.height + slow_ok
    common = {k for k in {*counts, *slow_counts} if k not in types and not k.startswith("__")
              and (counts.get(k, 0) + slow_counts.get(k, 0)) * RARE >= n_ok}
    if len(common) > MAX_OTHER_COLUMNS:
        return Evict(frozenset(counts))
    rare = frozenset(k for k in counts if k not in common)
    return Evict(rare) if rare else None


def merge_lanes(fast: pl.DataFrame, slow: pl.DataFrame, catalog: Catalog, *,
                ordered: bool = True) -> pl.DataFrame | Evict:
    """One frame, rows in input order (`ordered=False`: the native rows, then the others, each in
    input order: sorting a wide frame costs 0.4 s per 1M rows, which a caller that does not need
    the order saves); or the keys to move to the precise lane first (see above).
    Call after `evictions` found none."""
    fast = fast.drop(NULLS, strict=False)
    if slow.height == 0:
        return _drop_empty_exact(fast, set())
    types = key_types(catalog)
    slow_exact = {c for c in slow.columns if c.startswith(EXACT)}
    fixes_fast: list[pl.Expr] = []
    fixes_slow: list[pl.Expr] = []
    evict: set[str] = set()
    keys = {_base(c) for c in (*fast.columns, *slow.columns) if c not in _META}
    for key in keys:
        if key not in fast.columns or key not in slow.columns:
            if key not in types and key in fast.columns and (BAD + key) in slow.columns:
                evict.add(key)  # wrong-typed in the slow lane only: the precise path makes the whole key text
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
        if ptype is None and ((BAD + key) in slow.columns or (BAD + key) in fast.columns):
            evict.add(key)
        elif st == pl.Null:
            fixes_slow.append(pl.col(key).cast(ft))
        elif ft == pl.Null:
            fixes_fast.append(pl.col(key).cast(st))
        elif st != ft:
            evict.add(key)  # an integer beyond Int64 in the slow lane, say: its native rows join it
    if evict:
        return Evict(frozenset(evict))
    fast = fast.with_columns(fixes_fast) if fixes_fast else fast
    slow = slow.with_columns(fixes_slow) if fixes_slow else slow
    schema = {**fast.schema, **slow.schema}
    fast, slow = (df.select(pl.col(c) if c in df.columns else pl.lit(None, t).alias(c) for c, t in schema.items())
                  for df in (fast, slow))
    merged = pl.concat([fast, slow])
    merged = merged.sort(ROW) if ordered else merged  # (measured: cheaper than `merge_sorted` on wide frames)
    return _drop_empty_exact(merged, slow_exact)


def _drop_empty_exact(df: pl.DataFrame, keep: set[str]) -> pl.DataFrame:
    """The precise path adds an `__exact__` column only when some row needs it."""
    exact = [c for c in df.columns if c.startswith(EXACT) and c not in keep]
    if not exact:
        return df
    empty = [c for c, n in zip(exact, df.select(pl.col(exact).null_count()).row(0), strict=True) if n == df.height]
    return df.drop(empty) if empty else df


__all__ = ["Evict", "evictions", "fast_counts", "holding", "merge_lanes"]
