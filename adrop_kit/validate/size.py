"""SPEC.md's limits judged on the body a row would send: over `MAX_EVENT_BYTES` (64 KiB) or with more
than `MAX_KEYS` top-level keys, a row is an E001 row. Metadata columns (`ts`, `_`-named ones) and
null cells are not part of that body, so they never count (the reader judges only what a value holds
inside: nesting depth and the keys of a nested object). A row's verdict is its own: nothing here
looks at the other rows of its batch except to skip, by a bound, the work none of them needs.

What is measured is the request body the sender would post for the row: `to_payloads` builds the
payload (metadata columns dropped, nulls absent, numbers as their exact text) and
`jsontext.dumps_payload` writes it (compact, UTF-8, non-ASCII as is), the bytes the local server
counts before it answers 413. Exactly 64 KiB is fine, one byte more is not. `check_batch` calls
`mark_oversized` for every entry point (files, frames, records, streamed batches, Spark's
partitions); a `Sender` that does not validate calls it too, so such a row is never sent.

Fast by bounds, measured exactly only where they cannot decide: first one bound for the whole
frame (each column's largest value, from its byte lengths), which clears any ordinary dataset in
one cheap aggregate; then, only when that bound is over the limit, a bound per row; only rows
whose bound is over the limit are built as payloads and written. A bound never underestimates:
a string is at most 6 bytes per byte once escaped (`\\u0001`), JSON text held in a column (items,
a wrong-typed value, rare keys) at most 6 bytes per byte once parsed and written again (`1e5`
becomes `100000.0`), a number at most its longest text (a whole float of an integer parameter
goes out as an integer of up to 309 digits).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import numpy as np
import polars as pl
import pyarrow as pa

from adrop_kit.io.columns import BAD, EXACT, MORE
from adrop_kit.io.frames import ERROR, MAX_REPR, RAW, to_payloads
from adrop_kit.io.jsontext import dumps_payload
from adrop_kit.io.values import loads_exact
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import KEYS_MESSAGE, MAX_EVENT_BYTES, MAX_KEYS, SIZE_MESSAGE

ESCAPED = 6
"""The most bytes one byte of text can take in JSON (a control character as `\\u0001`), also the
most a byte of JSON text can grow to when parsed and written again."""
_NULL = 4  # `null`, a null inside a nested value
_DEEPEST = 8  # nested dtypes deeper than this are not bounded: their non-null rows are measured
_WIDEST = 64  # nor structs of more fields than this (a row with more than MAX_KEYS is E001 already)
_POS = "__size_pos"
_INLINE = 12  # Arrow's string view holds a text of up to 12 bytes in the view itself


def _key_cost(key: str) -> int:
    """`"key":` and a comma, the key escaped at worst."""
    return ESCAPED * len(key.encode("utf-8", "surrogatepass")) + 4


def _constant(dtype: pl.DataType, *, whole: bool) -> int | None:
    """The longest JSON text of a scalar of this dtype (`whole`: an integral float goes out as an int)."""
    if dtype == pl.Boolean:
        return 5
    if dtype == pl.Null:
        return _NULL
    if dtype.is_float():
        return 330 if whole else 24  # -1.7976931348623157e+308; as an integer, 309 digits
    if dtype.is_integer():
        return 41 if dtype in (pl.Int128, pl.UInt128) else 20
    if dtype.is_decimal():
        return 48  # 38 digits, a sign, a point, quoted
    if dtype.is_temporal():
        return 64  # "2024-01-01T00:00:00.123456+09:00", a duration's text
    return None


def _bound(expr: pl.Expr, dtype: pl.DataType, *, whole: bool = False, depth: int = 0) -> pl.Expr | None:
    """An upper bound of the JSON bytes of `expr`'s value, per row (null where it is null). None:
    no cheap bound (the rows are measured)."""
    if dtype == pl.String:
        return expr.str.len_bytes() * ESCAPED + 2
    if isinstance(dtype, (pl.Categorical, pl.Enum)):
        return expr.cast(pl.String).str.len_bytes() * ESCAPED + 2
    if dtype == pl.Binary:
        return expr.bin.size() * ESCAPED + 8  # written as its text, b'\x00…'
    if (n := _constant(dtype, whole=whole)) is not None:
        return pl.when(expr.is_not_null()).then(pl.lit(n, pl.Int64))
    if depth >= _DEEPEST:
        return None
    if isinstance(dtype, pl.Array):
        return _bound(expr.arr.to_list(), pl.List(dtype.inner), depth=depth)
    if isinstance(dtype, pl.List):
        inner = _bound(pl.element(), dtype.inner, depth=depth + 1)
        return None if inner is None else expr.list.eval(inner.fill_null(_NULL)).list.sum() + expr.list.len() + 2
    if isinstance(dtype, pl.Struct):
        if len(dtype.fields) > _WIDEST:  # an expression per field: polars took 100 s over 1,001 of them
            return None
        total: pl.Expr = pl.lit(2, pl.Int64)
        for f in dtype.fields:
            inner = _bound(expr.struct.field(f.name), f.dtype, depth=depth + 1)
            if inner is None:
                return None
            total = total + _key_cost(f.name) + inner.fill_null(_NULL)
        return pl.when(expr.is_not_null()).then(total)
    return None  # Object and whatever else: measured


def _levels(dtype: pl.DataType) -> int:
    """How deep a dtype nests lists and structs (iterative)."""
    deepest, stack = 0, [(dtype, 0)]
    while stack:
        d, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(d, (pl.List, pl.Array)):
            stack.append((d.inner, level + 1))
        elif isinstance(d, pl.Struct):
            stack.extend((f.dtype, level + 1) for f in d.fields)
    return deepest


_NO_ARROW = (pl.Int128, pl.UInt128, pl.Object)  # pyarrow cannot import them ('_pli128')


def _arrow_refuses(dtype: pl.DataType) -> bool:
    """Something inside `dtype` that Arrow's C interface cannot carry: a struct field whose name
    holds NUL, or a leaf type pyarrow does not know (a 128-bit integer, a Python object)."""
    stack = [dtype]
    while stack:
        d = stack.pop()
        if isinstance(d, (pl.List, pl.Array)):
            stack.append(d.inner)
        elif isinstance(d, pl.Struct):
            if any("\x00" in f.name for f in d.fields):
                return True
            stack.extend(f.dtype for f in d.fields)
        elif isinstance(d, _NO_ARROW) or d in _NO_ARROW:
            return True
    return False


def _arrow_chunks(s: pl.Series) -> Iterator[pa.Array]:
    """Each chunk of `s` as one Arrow array, without copying (exported nameless: a name holding NUL
    makes polars panic; a struct field so named, or a leaf type pyarrow does not know, is kept from
    here by `_arrow_refuses`)."""
    for chunk in s.get_chunks():
        a = chunk.rename("").to_arrow(compat_level=pl.CompatLevel.newest())
        yield a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def _flatten(s: pl.Series) -> tuple[int, list[pl.Series]]:
    """The longest list of a List/Array column, and the elements of all its lists (through Arrow,
    without copying them; elements a slice leaves out included: a bound may only be higher)."""
    longest, parts = 0, []
    for a in _arrow_chunks(s):
        if pa.types.is_fixed_size_list(a.type):
            longest = max(longest, a.type.list_size)
        elif len(a):
            longest = max(longest, int(np.diff(a.offsets.to_numpy()).max()))
        parts.append(pl.Series(a.values))
    return longest, parts


def _most(s: pl.Series, *, whole: bool = False, depth: int = 0) -> int | None:
    """An upper bound of the JSON bytes of any one value of `s` (a null inside a value: `null`).
    None: no cheap bound (the rows are measured)."""
    dtype = s.dtype
    if s.null_count() == s.len():
        return _NULL
    if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
        return int((s if dtype == pl.String else s.cast(pl.String)).str.len_bytes().max() or 0) * ESCAPED + 2
    if dtype == pl.Binary:
        return int(s.bin.size().max() or 0) * ESCAPED + 8
    if (n := _constant(dtype, whole=whole)) is not None:
        return n
    if depth >= _DEEPEST:
        return None
    if isinstance(dtype, (pl.List, pl.Array)):
        if _levels(dtype) > _DEEPEST - depth or _arrow_refuses(dtype):  # not bounded: Arrow would refuse it
            return None
        longest, parts = _flatten(s)
        inner = [_most(p, depth=depth + 1) for p in parts]
        return None if None in inner else longest * (max([_NULL, *inner]) + 1) + 2  # type: ignore[type-var]
    if isinstance(dtype, pl.Struct):
        if len(dtype.fields) > _WIDEST:
            return None
        fields = [_most(s.struct.field(f.name), depth=depth + 1) for f in dtype.fields]
        if None in fields:
            return None
        return 2 + sum(_key_cost(f.name) + max(_NULL, n) for f, n in zip(dtype.fields, fields, strict=True))  # type: ignore[type-var]
    return None


def _wanted(name: str, extra_columns: Collection[str]) -> str | None:
    """The payload key a column carries, as `to_payloads` picks them ("" for `__more`), or None."""
    if name == MORE:
        return ""
    key = name[len(BAD):] if name.startswith(BAD) else name[len(EXACT):] if name.startswith(EXACT) else name
    return None if key.startswith("_") or key in extra_columns else key


def _stored_most(s: pl.Series) -> int | None:
    """An upper bound of the byte length of any one text of a String column, read off its Arrow
    buffers without touching a row: a text lies within one data buffer, or (a string view of 12
    bytes at most) in its view. None: a layout this does not know."""
    most = 0
    for a in _arrow_chunks(s):
        if pa.types.is_string_view(a.type):
            most = max(most, _INLINE, *(b.size for b in a.buffers()[2:] if b is not None))
        elif pa.types.is_string(a.type) or pa.types.is_large_string(a.type):
            data = a.buffers()[2]
            most = max(most, data.size if data is not None else 0)
        else:
            return None
    return most


def _frame_bound(df: pl.DataFrame, catalog: Catalog, extra_columns: Collection[str]) -> int | None:
    """One bound for every row: each sent column's largest value, summed (None: no cheap bound).
    Text columns are bounded by their buffers first; only the ones that leave the sum over the
    limit have their byte lengths read (the largest first); nested columns through their flat values."""
    integer = {k for k, t in catalog.param_types.items() if t == "integer"}
    total = 2
    texts: dict[str, int] = {}
    for name, dtype in df.schema.items():
        key = _wanted(name, extra_columns)
        if key is None or df.get_column(name).null_count() == df.height:  # a null cell is absent: not sent
            continue
        total += _key_cost(key) if key else 0
        if dtype == pl.String:
            stored = _stored_most(df.get_column(name))
            texts[name] = (stored if stored is not None else MAX_EVENT_BYTES) * ESCAPED + 2
            continue
        most = _most(df.get_column(name), whole=name == key and key in integer)
        if most is None:
            return None
        total += most
    unread = sorted(texts, key=texts.__getitem__, reverse=True)
    for last in (False, True):  # read the largest until the rest fit in half what is left, then all
        if not unread or total + sum(texts.values()) <= MAX_EVENT_BYTES:
            break
        rest = sum(texts[n] for n in unread)
        read: list[str] = []
        while unread and (last or rest > (MAX_EVENT_BYTES - total) // 2):
            read.append(name := unread.pop(0))
            rest -= texts[name]
        lengths = df.select(pl.col(read).str.len_bytes().max()).row(0) if read else ()
        texts.update({n: int(k or 0) * ESCAPED + 2 for n, k in zip(read, lengths, strict=True)})
    return total + sum(texts.values())


def _row_bound(df: pl.DataFrame, catalog: Catalog, extra_columns: Collection[str]) -> pl.Expr:
    """Whether a row could be over the limit: its bound, else (no cheap bound) whether it holds a value."""
    integer = {k for k, t in catalog.param_types.items() if t == "integer"}
    terms: list[pl.Expr] = []
    suspect: pl.Expr = pl.lit(False)
    for name, dtype in df.schema.items():
        key = _wanted(name, extra_columns)
        if key is None:
            continue
        bound = _bound(pl.col(name), dtype, whole=name == key and key in integer)
        if bound is None:
            suspect = suspect | pl.col(name).is_not_null()
        else:  # a null cell is absent: it costs nothing
            terms.append((bound + (_key_cost(key) if key else 0)).fill_null(0))
    return suspect | (pl.sum_horizontal(terms) + 2 > MAX_EVENT_BYTES) if terms else suspect


def oversized(df: pl.DataFrame, catalog: Catalog, extra_columns: Collection[str]) -> dict[int, str]:
    """The positions of the rows (not yet E001) whose payload is over MAX_EVENT_BYTES, each with
    the start of its JSON text."""
    bound = _frame_bound(df, catalog, extra_columns)
    if bound is not None and bound <= MAX_EVENT_BYTES:
        return {}  # no row can be over: the common case
    suspect = _row_bound(df, catalog, extra_columns)
    if ERROR in df.columns:
        suspect = suspect & pl.col(ERROR).is_null()
    rows = df.with_row_index(_POS).filter(suspect)
    if not rows.height:
        return {}
    found: dict[int, str] = {}
    payloads = to_payloads(rows.drop(_POS), catalog, extra_columns=extra_columns)
    for pos, (_, payload) in zip(rows.get_column(_POS).to_list(), payloads, strict=True):
        try:
            body = dumps_payload(payload)
        except (UnicodeEncodeError, ValueError):  # text UTF-8 cannot hold: judged elsewhere
            continue
        if len(body) > MAX_EVENT_BYTES:  # shown with its keys sorted: the frame's column order is the batch's
            shown = dumps_payload(dict(sorted(payload.items())))
            found[pos] = shown[: MAX_REPR * 4].decode("utf-8", "replace")
    return found


def _most_more_keys(s: pl.Series) -> int:
    """An upper bound of the keys any one `__more` text holds: a key takes at least 4 bytes of it
    (`"":0` and a comma or a brace), so its longest text over 4 (read off the buffers first)."""
    most = _stored_most(s)
    if most is None or most // 4 > MAX_KEYS:
        most = int(s.str.len_bytes().max() or 0)
    return most // 4


def too_many_keys(df: pl.DataFrame, extra_columns: Collection[str]) -> list[int]:
    """The positions of the rows (not yet E001) whose body would have more than MAX_KEYS keys: the
    sent columns not null in the row (a value or its `__bad__` text), and the sent keys of `__more`."""
    keys: dict[str, list[str]] = {}
    for name in df.columns:
        key = _wanted(name, extra_columns)
        if key is not None and name != MORE and not name.startswith(EXACT):  # `__exact__` rides beside its value
            keys.setdefault(key, []).append(name)
    more = MORE in df.columns
    if len(keys) + (_most_more_keys(df.get_column(MORE)) if more else 0) <= MAX_KEYS:
        return []  # no row can have more keys than the frame's sent columns and its longest `__more` holds
    present = [pl.any_horizontal([pl.col(c).is_not_null() for c in cols]).cast(pl.Int32) for cols in keys.values()]
    counted = pl.sum_horizontal(present) if present else pl.lit(0, pl.Int32)
    ok = pl.col(ERROR).is_null() if ERROR in df.columns else pl.lit(True)
    # a key of `__more` takes at least 4 bytes of its text (`"":0` and a comma or a brace): only rows
    # whose text could hold enough keys are parsed
    could = counted + (pl.col(MORE).str.len_bytes().fill_null(0) // 4 if more else 0) > MAX_KEYS
    rows = df.with_row_index(_POS).with_columns(counted.alias("__keys")).filter(ok & could)
    found: list[int] = []
    for pos, n, text in rows.select(_POS, "__keys", MORE if more else pl.lit(None, pl.String)).iter_rows():
        if text is not None:
            n += sum(1 for k, v in loads_exact(text).items()
                     if v is not None and not k.startswith("_") and k not in extra_columns)
        if n > MAX_KEYS:
            found.append(pos)
    return found


def mark_oversized(df: pl.DataFrame, catalog: Catalog, extra_columns: Collection[str]) -> pl.DataFrame:
    """`df` with the rows over SPEC's limits on the body they would send made E001 rows: more than
    MAX_KEYS keys (KEYS_MESSAGE), or over MAX_EVENT_BYTES (`oversized`: SIZE_MESSAGE, and the start of
    their JSON text to show)."""
    many = too_many_keys(df, extra_columns)
    if many:
        error = df.get_column(ERROR) if ERROR in df.columns else pl.Series(ERROR, [None] * df.height, pl.String)
        df = df.with_columns(error.clone().scatter(many, KEYS_MESSAGE))
    found = oversized(df, catalog, extra_columns)
    if not found:
        return df
    where = list(found)
    error = (df.get_column(ERROR) if ERROR in df.columns else pl.Series(ERROR, [None] * df.height, pl.String)).clone()
    raw = (df.get_column(RAW) if RAW in df.columns else pl.Series(RAW, [None] * df.height, pl.String)).clone()
    return df.with_columns(error.scatter(where, SIZE_MESSAGE), raw.scatter(where, list(found.values())))


__all__ = ["mark_oversized", "oversized", "too_many_keys"]
