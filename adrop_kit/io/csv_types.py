"""CSV cells are text: the numbers, integers and booleans of a CSV frame parsed by the catalog's types
(`type_csv`), with the text of a number orjson would write otherwise kept to be sent as written."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from adrop_kit.io.frames import BAD, EXACT, key_types
from adrop_kit.io.numbers import CELL_SUSPECT, NumberToken, cell_token
from adrop_kit.spec.catalog import Catalog


def type_csv(df: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """CSV cells are text: parse numbers/integers/booleans; text that does not parse is a type error.
    Whole numbers stay integers (29900, not 29900.0), whatever the other rows hold: in a column
    that also holds fractions (Float64), an integer keeps its text in `__exact__<key>`, as do
    integers beyond Int64, and a JSON number orjson would write otherwise (`2.50`, `1E2`, `-0`): it goes
    out as the cell's text (its float, beyond the float range the largest of its sign, for the checks).
    A cell that does not parse is kept, whole, aside. Big frames type their columns side by side
    (polars releases the GIL)."""
    types = key_types(catalog)
    typed = [(df.get_column(name), ptype) for name in df.columns
             if (ptype := types.get(name)) not in (None, "string", "items")]
    if len(typed) > 1 and df.height >= _SIDE_BY_SIDE:
        with ThreadPoolExecutor(min(len(typed), _THREADS)) as pool:
            done = list(pool.map(lambda c: _type_column(*c), typed))
    else:
        done = [_type_column(cell, ptype) for cell, ptype in typed]
    columns = [c for cols in done for c in cols]
    return df.with_columns(columns) if columns else df


_SIDE_BY_SIDE = 100_000  # rows from which the columns are typed in threads
_THREADS = 4


def _type_column(cell: pl.Series, ptype: str) -> list[pl.Series]:
    """One column's typed values, and beside them its `__exact__` and `__bad__` columns when it needs them.
    A column of mostly empty cells (a parameter of a few events) types the cells it has, put back in place:
    every step is cell by cell, and what it decides for the column it decides from the cells that are not empty."""
    if cell.null_count() <= len(cell) // 4:
        return _typed(cell, ptype)
    where = cell.is_not_null().arg_true()
    return [pl.repeat(None, len(cell), dtype=s.dtype, eager=True).scatter(where, s).alias(s.name)
            for s in _typed(cell.drop_nulls(), ptype)]


def _typed(cell: pl.Series, ptype: str) -> list[pl.Series]:
    name = cell.name
    columns: list[pl.Series] = []
    text = cell.str.strip_chars()
    if ptype == "boolean":
        low = text.str.to_lowercase()
        val = pl.select(pl.when(low == "true").then(True).when(low == "false").then(False)).to_series()
    else:
        as_int = text.cast(pl.Int64, strict=False)
        where, tokens = _cell_tokens(text, as_int)
        if tokens:  # `-0` is no Int64
            as_int = as_int.scatter(where, None)
        if not (cell.is_not_null() & as_int.is_null()).any():
            val = as_int
        else:
            val = pl.select(pl.coalesce(as_int.cast(pl.Float64), text.cast(pl.Float64, strict=False))).to_series()
            exact = _integer_texts(text, as_int, val)
            if tokens:  # numbers as written: their nearest float for the checks, their text to send
                val = val.scatter(where, [float(t) for t in tokens])
                written = _nulls(len(text))
                written = written.scatter(where, [t.json_token for t in tokens])
                exact = written if exact is None else pl.select(pl.coalesce(written, exact)).to_series()
            if exact is not None:
                columns.append(exact.alias(EXACT + name))
    unparsed = cell.is_not_null() & val.is_null()
    columns.append(val.alias(name))
    if unparsed.any():  # (only those cells leave polars)
        where = unparsed.arg_true()
        texts = [json.dumps(v, ensure_ascii=False) for v in cell.gather(where).to_list()]
        columns.append(_nulls(len(cell)).scatter(where, texts).alias(BAD + name))
    return columns


def _nulls(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True)


def _cell_tokens(text: pl.Series, as_int: pl.Series) -> tuple[list[int], list[NumberToken]]:
    """The cells that are JSON numbers orjson would write otherwise (`2.50`, `1E2`, `-0`, `1e400`):
    their positions and their numbers as written (SPEC.md: a CSV cell's number goes out as its text).
    An integer cell is its digits already (`-0` aside): only the other cells are looked at."""
    if as_int.null_count() == text.null_count() and not (text == "-0").any():
        return [], []
    suspect = (text.str.contains(CELL_SUSPECT) & (as_int.is_null() | (text == "-0"))).fill_null(False).arg_true()
    where, tokens = [], []
    for i, t in zip(suspect.to_list(), text.gather(suspect).to_list(), strict=True):
        if (token := cell_token(t)) is not None:
            where.append(i)
            tokens.append(token)
    return where, tokens


def _integer_texts(text: pl.Series, as_int: pl.Series, val: pl.Series) -> pl.Series | None:
    """The exact JSON text of each integer cell of a Float64 column (None if there is none)."""
    exact = as_int.cast(pl.String)  # within Int64: its canonical text
    beyond = as_int.is_null() & val.is_not_null() & (text.str.len_bytes() >= 19)  # (a cheap first cut: Int64 holds
    # every integer of fewer digits)
    if beyond.any() and (beyond := beyond & text.str.contains(r"^[+-]?[0-9]+$")).any():
        # beyond Int64: the digits themselves, without a sign + or leading zeros
        digits = text.str.replace(r"^\+", "").str.replace(r"^(-?)0+([0-9])", "${1}${2}")
        exact = pl.select(pl.when(beyond).then(digits).otherwise(exact)).to_series()
    return exact if exact.null_count() < exact.len() else None


__all__ = ["type_csv"]
