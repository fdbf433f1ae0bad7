"""Python values → typed polars columns, losing nothing (the layout is described in `io.frames`).

`series` turns one key's values (one per row) into its value column plus, when needed, a
`__bad__<key>` column (JSON text of values of the wrong JSON type) and an `__exact__<key>` column
(JSON text of numbers the typed column does not hold exactly, or that were written otherwise than
orjson writes their value: a `NumberToken` such as `1E2` or `200.00`, `io.numbers`). Containers past the limits are set
aside before anything recursive looks at them; the row's position goes into `problems`.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from typing import Any

import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.io.jsontext import limits_problem
from adrop_kit.io.numbers import NumberToken
from adrop_kit.io.values import PLAIN_TYPES, as_float, exact_json, loads_exact, number_text, plain
from adrop_kit.spec.rules import digits_message

BAD = "__bad__"
EXACT = "__exact__"
MORE = "__more"
NATIVE_DTYPES = {"string": pl.String, "number": pl.Float64, "integer": pl.Int64, "boolean": pl.Boolean}
"""The column dtype of each parameter type (number columns may also be Int64: whole numbers stay whole)."""
_NONE = type(None)
_CONTAINERS = frozenset({list, dict})
_FLOATS = frozenset({float, NumberToken})


# `problems` maps a row position to why it is an E001 row (found while its values are converted;
# lists of dicts and pandas rows then take the message of the whole event, as validate_event would).
def polars_pattern(name: str) -> bool:
    """Whether polars reads `name`, given as a column name to an expression, as every column (`*`) or
    as a regex (`^…$`): such a key never becomes a column of its own, it is kept in `__more`."""
    return name == "*" or (len(name) > 1 and name.startswith("^") and name.endswith("$"))


def into_more(df: pl.DataFrame, names: list[str], problems: dict[int, str]) -> pl.DataFrame:
    """The columns `names` (keys polars would read as patterns: `polars_pattern`) moved into `__more`,
    each row's JSON object of its rare keys; read by name, never through an expression."""
    import polars.selectors as cs

    def column(name: str) -> list[Any]:
        return df.get_column(name).to_list() if name in df.columns else [None] * df.height

    sides = {BAD + n for n in names} | {EXACT + n for n in names}  # (a pandas column's side columns)
    values = [(n, column(n), column(BAD + n), column(EXACT + n)) for n in names]
    old = column(MORE)
    texts: list[str | None] = []
    for i in range(df.height):
        extra = loads_exact(old[i]) if old[i] is not None else {}
        for n, col, bad, exact in values:
            if bad[i] is not None or exact[i] is not None:
                extra[n] = loads_exact(bad[i] if bad[i] is not None else exact[i])
            elif col[i] is not None:
                extra[n] = plain(col[i])
        texts.append(None if i in problems or not extra else value_text(extra, i, problems))
    kept = df.select(cs.by_name([c for c in df.columns if c not in names and c not in sides and c != MORE]))
    return kept.with_columns(pl.Series(MORE, texts, pl.String))


def value_text(value: Any, i: int, problems: dict[int, str]) -> str | None:
    if value is None:
        return None
    try:
        return exact_json(value)
    except ValueError:  # an integer too long to write: the row cannot be sent as it is
        problems[i] = digits_message(sys.get_int_max_str_digits())
        return None


def unique_columns(names: Iterable[Any], source: str) -> None:
    """Raise DataReadError when two columns have one name (as text: `1` and `"1"` too): a column is
    an event key, and which of the two is the event's value cannot be told. (A CSV header is
    checked as it is read; a JSON object naming a key twice keeps its last value, as JSON parsers
    and the server do.)"""
    keys = Counter(c if type(c) is str else str.__str__(c) if isinstance(c, str) else str(c) for c in names)
    twice = [k for k, n in keys.items() if n > 1]
    if twice:
        raise DataReadError(f"{source}: more than one column is named {', '.join(map(repr, twice))}: "
                            "rename or drop the duplicates (a column name is an event key)")


def _within_limits(name: str, values: list[Any], problems: dict[int, str]) -> list[Any]:
    """Containers past the limits are set aside (the row becomes E001) before anything recursive sees them."""
    out = values
    for i, v in enumerate(values):
        if type(v) in _CONTAINERS and (problem := limits_problem({name: v})) is not None:
            out = out if out is not values else list(values)
            out[i] = None
            problems[i] = problem
    return out


def series(name: str, values: list[Any], ptype: str | None, problems: dict[int, str]) -> list[pl.Series]:
    """A typed value column (+ `__bad__` / `__exact__` side columns when needed)."""
    kinds = set(map(type, values))
    if not kinds <= PLAIN_TYPES:  # numpy scalars, str/int/float subclasses, tuples: their plain JSON type
        values = [plain(v) for v in values]
        kinds = set(map(type, values))
    kinds.discard(_NONE)
    if kinds & _CONTAINERS:
        values = _within_limits(name, values, problems)
    if ptype == "items":
        return [pl.Series(name, [value_text(v, i, problems) for i, v in enumerate(values)], pl.String)]
    if ptype is None:  # a key the catalog does not know: typed if uniform, else kept as JSON text aside
        if NumberToken in kinds and kinds <= _FLOATS:  # numbers, some kept as written: Float64 + `__exact__`
            return _numbers(name, values, kinds, "number", problems)
        if (len(kinds) <= 1 and not kinds & _CONTAINERS and NumberToken not in kinds
                and (kinds != {int} or _ints_within(values, 127))):
            try:
                return [pl.Series(name, values, strict=True)]  # ints: Int64, UInt64, Int128… as they fit
            except (TypeError, OverflowError, pl.exceptions.PolarsError):
                pass
        return [pl.Series(name, [None] * len(values), pl.String),
                pl.Series(BAD + name, [value_text(v, i, problems) for i, v in enumerate(values)], pl.String)]
    if ptype in ("string", "boolean"):
        good = str if ptype == "string" else bool
        if kinds <= {good}:
            return [pl.Series(name, values, NATIVE_DTYPES[ptype])]
        ok = [v if type(v) is good else None for v in values]
        bad = [None if type(v) is good else value_text(v, i, problems) for i, v in enumerate(values)]
        return [pl.Series(name, ok, NATIVE_DTYPES[ptype]), pl.Series(BAD + name, bad, pl.String)]
    return _numbers(name, values, kinds, ptype, problems)


def _ints_within(values: list[Any], bits: int) -> bool:
    """Whether the integers among `values` (and None) fit a signed integer of `bits` + 1 bits. Checked
    here, not by polars: its error for an integer it cannot hold would print one of any length."""
    ints = [v for v in values if v is not None]
    return not ints or (-(2**bits) <= min(ints) and max(ints) < 2**bits)


def _numbers(name: str, values: list[Any], kinds: set[type], ptype: str, problems: dict[int, str]) -> list[pl.Series]:
    """A number/integer column: Int64 when every value is an integer that fits, else Float64 with the
    exact text of what Float64 would not give back (integers, integral floats of integer params)."""
    if kinds <= {int}:
        if _ints_within(values, 63):
            return [pl.Series(name, values, pl.Int64)]
    elif kinds <= {float} and ptype == "number":
        return [pl.Series(name, values, pl.Float64)]
    integer = ptype == "integer"
    if kinds <= {int, float}:  # the common mixed case, vectorised: 29900 and 99.99 in one column
        nums = pl.Series(name, values, pl.Float64, strict=False)
        if nums.null_count() == values.count(None):  # every integer within the float range
            exact = [str(v) if type(v) is int else (repr(v) if integer and v is not None and v.is_integer() else None)
                     for v in values]
            return [nums, pl.Series(EXACT + name, exact, pl.String)] if exact.count(None) < len(exact) else [nums]
    nums_l: list[float | None] = [None] * len(values)
    exact_l: list[str | None] = [None] * len(values)
    bad_l: list[str | None] = [None] * len(values)
    for i, v in enumerate(values):
        t = type(v)
        if v is None:
            continue
        if t is float:
            nums_l[i] = v
            if integer and v.is_integer():
                exact_l[i] = repr(v)  # 3.0 stays 3.0 (to_payloads makes integral floats of integers whole)
        elif t is int:
            nums_l[i] = as_float(v)
            try:
                exact_l[i] = number_text(v)
            except ValueError:
                problems[i] = digits_message(sys.get_int_max_str_digits())
        elif t is NumberToken:  # a number kept as written (`1E2`, `1e400`): its nearest float, and its text
            nums_l[i] = float.__float__(v)
            exact_l[i] = v.json_token
        else:
            bad_l[i] = value_text(v, i, problems)
    out = [pl.Series(name, nums_l, pl.Float64)]
    if any(e is not None for e in exact_l):
        out.append(pl.Series(EXACT + name, exact_l, pl.String))
    if any(b is not None for b in bad_l):
        out.append(pl.Series(BAD + name, bad_l, pl.String))
    return out


__all__ = ["BAD", "EXACT", "MORE", "NATIVE_DTYPES", "into_more", "polars_pattern", "series", "unique_columns",
           "value_text"]
