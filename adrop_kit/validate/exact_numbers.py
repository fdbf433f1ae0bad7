"""Numbers judged on their exact texts, for `checks.frame_checks`: whether an integer's `__exact__`
text is whole (`not_whole`: E006, `1.0000000000000000000000001`), and W105 (`w105`), in floats where
that is bit for bit what `rules.value_mismatch` computes, else through `rules.value_mismatch` itself.
Both read only the rows that need it (a batch's texts, the judged rows), not the whole column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl

from adrop_kit.io.numbers import token_integral
from adrop_kit.io.values import loads_exact
from adrop_kit.spec.rules import VALUE_TOLERANCE, value_mismatch


def not_whole(texts: pl.Expr) -> pl.Expr:
    """Whether a number's exact text is not a whole number, decided on the text (its float may be
    whole: `1.0000000000000000000000001`); only texts with a fraction or an exponent are looked at."""
    def batch(s: pl.Series) -> pl.Series:
        fraction = s.drop_nulls().str.contains(r"[.eE]")  # (most rows have no exact text: only the others)
        out = pl.repeat(False, s.len(), dtype=pl.Boolean, eager=True).alias(s.name)
        if not fraction.any():
            return out
        rows = s.is_not_null().arg_true().filter(fraction)
        return out.scatter(rows, [not token_integral(t) for t in s.gather(rows).to_list()])

    return texts.map_batches(batch, return_dtype=pl.Boolean, is_elementwise=False)


def w105(judged: pl.Expr, values: Sequence[pl.Expr], texts: Sequence[pl.Expr | None]) -> pl.Expr:
    """W105 (value != price * quantity: `values`, with their `__exact__` texts, None for none) on
    the `judged` rows (their three values well typed; False elsewhere), worked out for those rows
    alone (`_w105_rows`): in floats where that is exactly `rules.value_mismatch`'s float branch
    (finite floats, no exact text), else through `rules.value_mismatch` on the exact values
    (`_exact_w105`; rows with a missing or non-finite value are not judged, so False there)."""
    has_text = tuple(t is not None for t in texts)
    inputs = [judged.fill_null(False), *values, *(t for t in texts if t is not None)]
    return pl.map_batches(inputs, lambda s: _w105_rows(s, has_text), return_dtype=pl.Boolean, is_elementwise=False)


def _w105_rows(series: Sequence[pl.Series], has_text: tuple[bool, bool, bool]) -> pl.Series:
    judged, *rest = series
    n = judged.len()
    out = np.zeros(n, dtype=bool)
    rows = judged.arg_true()
    if not rows.len():
        return pl.Series(judged.name, out, pl.Boolean)
    # the judged rows alone, from here on (a literal column, shorter than the batch, is null)
    picked = [c.gather(rows) if c.len() == n else pl.repeat(None, rows.len(), dtype=c.dtype, eager=True)
              for c in rest]
    values, texts = picked[:3], picked[3:]
    v, p, q = (c.cast(pl.Float64) for c in values)
    expected = p * q
    hits = ((v - expected).abs() > VALUE_TOLERANCE * pl.select(
        pl.max_horizontal(pl.lit(1.0), expected.abs())).to_series()).fill_null(False)
    # A well-typed value is a finite float (E006 takes the others), so the float branch holds unless the
    # product overflows (then the float test is False: inf > inf) or an exact text is not what its float
    # says (an integer of 16 digits or more): those rows, and only those, are judged exactly.
    need = ~expected.is_finite()
    if texts:
        lossy = pl.select(pl.any_horizontal([_long_integer(t) for t in texts])).to_series()
        need = need | lossy
    if (redo := need.fill_null(False).arg_true()).len():
        hits = hits.scatter(redo, _exact_w105([c.gather(redo) for c in values], [t.gather(redo) for t in texts],
                                              has_text))
    out[rows.to_numpy()] = hits.to_numpy()
    return pl.Series(judged.name, out, pl.Boolean)


def _long_integer(s: pl.Series) -> pl.Series:
    """Whether each text is an integer of 16 digits or more (False for null); the regex runs only
    when a batch has a text that long."""
    long = s.str.len_bytes() >= 16
    return s.str.contains(r"^-?[0-9]{16,}$").fill_null(False) if long.any() else long.fill_null(False)


def _exact_w105(values: Sequence[pl.Series], texts: Sequence[pl.Series], has_text: tuple[bool, bool, bool]
                ) -> list[bool]:
    """`rules.value_mismatch` on these rows' exact values (a number's `__exact__` text where it has one)."""
    exact = iter(texts)
    numbers = []
    for c, has in zip(values, has_text, strict=True):
        nums = c.to_list()
        if has:
            nums = [loads_exact(t) if t is not None else x for x, t in zip(nums, next(exact).to_list(), strict=True)]
        numbers.append(nums)
    return [_judgeable(v, p, q) and value_mismatch(v, p, q) for v, p, q in zip(*numbers, strict=True)]


def _judgeable(*numbers: object) -> bool:
    return all(n is not None and not (isinstance(n, float) and not math.isfinite(n)) for n in numbers)


__all__ = ["not_whole", "w105"]
