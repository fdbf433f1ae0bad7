"""Renames and value fixes a team keeps in its repository instead of a notebook cell: the `[rename]`,
`[fix.COLUMN]` and `[case]` tables of a mapping file, applied to every batch before it is checked
(`validate --mapping`, `send --mapping`, and an import's events).

    source = "adrop"                     # a file of fixes only (a GA4 / Segment mapping may hold them too)
    [rename]                             # eventName: from = to
    Purchase = "purchase"
    [fix.currency]                       # a column's values: from = to
    "₩" = "KRW"
    [case]                               # a column's text upper- or lower-cased
    platform = "lower"
    currency = "upper"

Each rule counts the rows it changed, so a report can say what the mapping did. Only string
columns change; a value of another JSON type is left for validation to report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import polars as pl

from adrop_kit.io.frames import Frame

CASES = ("lower", "upper")


@dataclass(frozen=True)
class Fixes:
    """Parsed fixes: event renames, per-column value replacements, per-column case."""

    rename: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    case: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rename or self.values or self.case)

    def rules(self) -> list[tuple[str, str, pl.Expr]]:
        """(label, column, the fixed column's expression), in the order they apply."""
        out = []
        for old, new in self.rename:
            out.append((f"rename {old} -> {new}", "eventName",
                        pl.when(pl.col("eventName") == old).then(pl.lit(new)).otherwise(pl.col("eventName"))))
        for column, pairs in self.values:
            for old, new in pairs:
                out.append((f"fix {column}: {old} -> {new}", column,
                            pl.when(pl.col(column) == old).then(pl.lit(new)).otherwise(pl.col(column))))
        for column, how in self.case:
            text = pl.col(column)
            out.append((f"{how}-case {column}", column, text.str.to_lowercase() if how == "lower"
                        else text.str.to_uppercase()))
        return out


def apply_fixes(df: pl.DataFrame, fixes: Fixes) -> tuple[pl.DataFrame, Counter[str]]:
    """`df` (a canonical frame) with `fixes` applied, and the rows each rule changed."""
    changed: Counter[str] = Counter()
    for label, column, expr in fixes.rules():
        if column not in df.columns or df.schema[column] != pl.String:
            continue
        new = df.select(expr.alias(column)).to_series()
        old = df.get_column(column)
        n = int((old.ne_missing(new)).sum())
        if n:
            changed[label] += n
            df = df.with_columns(new)
    return df, changed




def fixed_frames(frames: Iterable[tuple[int, Frame]], fixes: Fixes,
                 changed: Counter[str]) -> Iterator[tuple[int, Frame]]:
    """Each (part, frame) with `fixes` applied, adding the rows each rule changed to `changed`."""
    for part, frame in frames:
        df, found = apply_fixes(frame.df, fixes)
        changed.update(found)
        yield part, Frame(df, frame.source, notes=frame.notes)


def fix_notes(changed: Counter[str], where: str) -> tuple[str, ...]:
    """One line per rule that changed rows, for a report's notes."""
    return tuple(f"{where}: {label} changed {n:,} row{'' if n == 1 else 's'}" for label, n in changed.items())


__all__ = ["CASES", "Fixes", "apply_fixes", "fix_notes", "fixed_frames"]
