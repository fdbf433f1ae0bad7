"""Event names outside the catalog: which rows are near misses of a catalog event (W110's mask,
`near_mask`, asked once per distinct name), and what a summary says of them: the rows a send holds
for W110 and the rows that would go out as custom events (W101), each with its most frequent names.
Counted per batch (`name_counts`), summed across batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from adrop_kit.spec.rules import Rule, printable
from adrop_kit.support.labels import count_of, top_counts

NAME_RULES = (Rule.W110.value, Rule.W101.value)
NAME_SCHEMA = ("rule", "eventName", "rows")


def near_mask(text: pl.Expr, where: pl.Expr, suggest: Callable[[str], str | None]) -> pl.Expr:
    """Per row, whether `suggest` finds something for the row's text, asked for the rows `where` is
    true (once per distinct text among them): a boolean mask, no text built for the other rows."""
    def batch(cols: Sequence[pl.Series]) -> pl.Series:
        s, w = cols
        asked = s.filter(w.fill_null(False)).drop_nulls().unique().to_list()
        hits = [t for t in asked if suggest(t) is not None]
        if not hits:
            return pl.Series(s.name, [], pl.Boolean).extend_constant(False, s.len())
        return s.is_in(hits).fill_null(False)

    return pl.map_batches([text.cast(pl.String), where], batch, return_dtype=pl.Boolean, is_elementwise=False)


def name_counts(violations: pl.DataFrame) -> pl.DataFrame:
    """(rule, eventName, rows): the rows of `violations` with W110 or a W101 warning and no error."""
    keys = ["source", "row"] if "source" in violations.columns else ["row"]
    errors = violations.filter(pl.col("severity") == "error").select(keys).unique()
    named = violations.filter(pl.col("rule").is_in(NAME_RULES) & (pl.col("severity") == "warning"))
    named = named.join(errors, on=keys, how="anti", nulls_equal=True)
    return (named.group_by("rule", "eventName").agg(pl.struct(keys).n_unique().cast(pl.UInt32).alias("rows"))
            .select(NAME_SCHEMA))


def empty_name_counts() -> pl.DataFrame:
    return pl.DataFrame(schema={"rule": pl.String, "eventName": pl.String, "rows": pl.UInt32})


def sum_name_counts(parts: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat([empty_name_counts(), *parts]).group_by("rule", "eventName").agg(
        pl.col("rows").sum().cast(pl.UInt32))


def name_notes(counts: pl.DataFrame) -> list[str]:
    """The lines a summary shows: rows a send holds for W110, rows going out as custom events (W101)."""
    notes = []
    for rule, what in ((Rule.W110.value, "would be held back by a send as near misses of catalog events (W110)"),
                       (Rule.W101.value, "would go out as custom events, their parameters unchecked (W101)")):
        by_name = {printable(n or ""): r for rule_, n, r in counts.iter_rows() if rule_ == rule}
        if by_name:
            notes.append(f"{count_of(sum(by_name.values()))} {what}: {top_counts(by_name)}")
    return notes


__all__ = ["NAME_RULES", "empty_name_counts", "near_mask", "name_counts", "name_notes", "sum_name_counts"]
