"""What Adrop's SDKs would do to a row, as polars expressions over a canonical frame: W108 (more
than `MAX_PARAMS` parameters) and W109 (a value that is an object or a list, which they drop).
`checks.frame_checks` turns these into rule checks, so both engines (polars and pandera) run them;
the keys of `__more` are judged for W109 in `nested.more_violations`.

A row's parameters are its sent keys besides the envelope: the columns not null in the row (a value
or its `__bad__` text; `__exact__` rides beside its value) and the keys of `__more` whose value is
not null. Metadata (`ts`, the user's extra columns, `_`-named ones) never counts (SPEC's Decisions).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import orjson
import polars as pl

from adrop_kit.io.columns import BAD, EXACT, MORE
from adrop_kit.io.values import exact_json, loads_exact, plain
from adrop_kit.spec.catalog import ENVELOPE, ITEMS
from adrop_kit.spec.rules import MAX_KEYS, MAX_PARAMS


def sent_key(column: str, extra_columns: Collection[str]) -> str | None:
    """The parameter a column carries (its `__bad__` text too), or None: the envelope, metadata,
    `__exact__` (beside its value) and `__more` (counted key by key) carry none."""
    if column == MORE or column.startswith(EXACT):
        return None
    key = column[len(BAD):] if column.startswith(BAD) else column
    if key.startswith("_") or key in extra_columns or key in ENVELOPE:
        return None
    return key


def _more_counts(extra_columns: Collection[str]):  # noqa: ANN202 - a polars batch function
    def batch(s: pl.Series) -> pl.Series:
        texts = s.drop_nulls()  # the few rows holding rare keys: not a Python loop over the batch
        if not texts.len():
            return pl.repeat(0, s.len(), dtype=pl.Int64, eager=True).alias(s.name)
        out = np.zeros(s.len(), dtype=np.int64)
        out[s.is_not_null().to_numpy()] = [sum(1 for k, v in _keys(text).items()
                                                if v is not None and sent_key(k, extra_columns) is not None)
                                           for text in texts.to_list()]
        return pl.Series(s.name, out)

    return batch


def _keys(text: str) -> dict:
    """A `__more` text's keys and values, as far as counting them goes: which key holds null (orjson
    reads a number past its range as a float and refuses NaN, a lone surrogate: `loads_exact` then)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return loads_exact(text)


def _present(schema: Mapping[str, pl.DataType], extra_columns: Collection[str]) -> tuple[list[pl.Expr], pl.Expr | None]:
    """Per sent key of the schema's columns, whether the row holds it (its column or its `__bad__`
    text); and the count of `__more`'s sent keys (None: no `__more`), capped just past MAX_KEYS."""
    keys: dict[str, list[str]] = {}
    for name in schema:
        key = sent_key(name, extra_columns)
        if key is not None:
            keys.setdefault(key, []).append(name)
    present = [pl.any_horizontal([pl.col(c).is_not_null() for c in cols]) if len(cols) > 1
               else pl.col(cols[0]).is_not_null() for cols in keys.values()]
    more = (pl.col(MORE).map_batches(_more_counts(extra_columns), return_dtype=pl.Int64, is_elementwise=False)
            .fill_null(0).clip(0, MAX_KEYS + 1)) if MORE in schema else None
    return present, more


def param_count(schema: Mapping[str, pl.DataType], extra_columns: Collection[str]) -> pl.Expr:
    """Per row, how many parameters it would send (W108's message; `too_many_params` is its mask)."""
    present, more = _present(schema, extra_columns)
    # Counted in 2 bytes a row where no row can overflow them (a third of the time of 8 bytes): a row
    # the checks judge has at most MAX_KEYS keys, and a count of `__more` is capped just past it.
    dtype = pl.UInt16 if len(present) + MAX_KEYS + 1 <= 65_535 else pl.UInt32
    counts = [p.cast(dtype) for p in present] + ([more.cast(dtype)] if more is not None else [])
    return pl.sum_horizontal(counts) if counts else pl.lit(0, dtype)


def too_many_params(schema: Mapping[str, pl.DataType], extra_columns: Collection[str]) -> pl.Expr:
    """W108's mask: `param_count(...) > MAX_PARAMS`, counted only on the rows that can get there
    (`_over_limit`)."""
    present, more = _present(schema, extra_columns)
    if not present and more is None:
        return pl.lit(False)
    inputs = [*present, more if more is not None else pl.lit(0, pl.Int64)]
    return pl.map_batches(inputs, _over_limit, return_dtype=pl.Boolean, is_elementwise=False)


def _over_limit(series: Sequence[pl.Series]) -> pl.Series:
    # With n keys in columns, a row with no key in `__more` sends more than MAX_PARAMS only when at
    # most n - MAX_PARAMS - 1 of them are absent, so it holds one at least of any n - MAX_PARAMS
    # columns: the sparsest such columns (and `__more`) name the rows worth counting; a few percent
    # of realistic rows, where summing 24 columns over every row took 19 ms of 1M rows' 180 ms of masks.
    *present, more = series
    n = present[0].len() if present else more.len()
    more = more if more.len() == n else pl.repeat(0, n, dtype=pl.Int64, eager=True)  # (no `__more`: a literal 0)
    out = np.zeros(n, dtype=bool)
    spare = len(present) - MAX_PARAMS
    if spare <= 0 and not more.max():  # (the most a row can send is within the limit)
        return pl.Series("W108", out, pl.Boolean)
    sparse = sorted(present, key=lambda p: p.sum())[:max(spare, 0)]
    maybe = pl.select(pl.any_horizontal([*sparse, more > 0])).to_series()
    if maybe.any():
        frame = pl.DataFrame([more.alias("__more"), *(p.alias(f"__p{i}") for i, p in enumerate(present))])
        counts = frame.filter(maybe).select(pl.sum_horizontal(pl.all().cast(pl.Int64))).to_series()
        out[maybe.arg_true().filter(counts > MAX_PARAMS).to_numpy()] = True
    return pl.Series("W108", out, pl.Boolean)


_ESCAPED = r'["\\\x00-\x1f]'
"""What JSON text escapes in a string (RFC 8259; orjson, hence `exact_json`, escapes nothing else)."""


def json_texts(s: pl.Series) -> pl.Series:
    """Each value of `s` as its JSON text (`exact_json`). A string with nothing to escape is itself
    quoted, natively; the others, and nested values, are written one by one."""
    if s.dtype != pl.String:
        return pl.Series(s.name, [None if v is None else exact_json(plain(v)) for v in s.to_list()], pl.String)
    out = pl.select(pl.concat_str(pl.lit('"'), s, pl.lit('"'))).to_series().alias(s.name)
    rows = s.str.contains(_ESCAPED).fill_null(False).arg_true()
    return out.scatter(rows, [exact_json(v) for v in s.gather(rows).to_list()]) if rows.len() else out


def _nested_text(s: pl.Series) -> pl.Series:
    """Whether each JSON text (of a mostly null `__bad__` column) is an array or an object; the
    column is read again only when one of its texts is."""
    texts = s.drop_nulls()
    if not (texts.str.starts_with("[") | texts.str.starts_with("{")).any():
        return pl.repeat(False, s.len(), dtype=pl.Boolean, eager=True).alias(s.name)
    return s.str.starts_with("[") | s.str.starts_with("{")


def nested_values(schema: Mapping[str, pl.DataType],
                  extra_columns: Collection[str]) -> list[tuple[str, pl.Expr, pl.Expr, pl.Expr, bool]]:
    """For every parameter of the frame but `items`: (key, whether the row's value is an object or a
    list, 'an object'/'an array', the value as JSON text, whether this schema can hold one at all),
    from a native nested column or the JSON text of `__bad__<key>`. Every key is listed (a check that
    cannot fire is `False`), so a template schema has the same checks as the frame."""
    keys = dict.fromkeys(k for name in schema if (k := sent_key(name, extra_columns)) is not None and k != ITEMS)
    out = []
    for key in keys:
        holds, kind, value = pl.lit(False), pl.lit(None, pl.String), pl.lit(None, pl.String)
        if BAD + key in schema:
            bad = pl.col(BAD + key)
            holds = bad.map_batches(_nested_text, return_dtype=pl.Boolean, is_elementwise=False)
            kind = pl.when(bad.str.starts_with("[")).then(pl.lit("an array")).otherwise(pl.lit("an object"))
            value = bad
        dtype = schema.get(key)
        if isinstance(dtype, (pl.List, pl.Array, pl.Struct)):
            native = pl.col(key)
            holds = native.is_not_null() | holds.fill_null(False)
            kind = pl.when(native.is_not_null()).then(
                pl.lit("an object" if isinstance(dtype, pl.Struct) else "an array")).otherwise(kind)
            value = pl.coalesce(native.map_batches(json_texts, return_dtype=pl.String, is_elementwise=True), value)
        out.append((key, holds.fill_null(False), kind, value,
                    BAD + key in schema or isinstance(dtype, (pl.List, pl.Array, pl.Struct))))
    return out


__all__ = ["json_texts", "nested_values", "param_count", "sent_key", "too_many_params"]
