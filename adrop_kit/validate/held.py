"""The violations a streamed run keeps for its report, held compact as the batches pass.

A report of millions of violations is mostly the same few texts again and again: the file's name,
a rule id, a severity, a field, a message template filled with a key and an event. polars keeps a
text column as one 16-byte view a row (a text of up to 12 bytes sits inside its view) pointing
into shared data buffers, and `gather` from a column of distinct texts copies the views, not the
text. So the held violations are packed a chunk of `CHUNK` at a time: each text column whose
values repeat becomes the chunk's distinct values gathered back (16 bytes a row and the distinct
texts once), a column whose values are mostly distinct (a line's JSON error, say) stays as it
is. The chunks are the report's violations table as they stand: `frame()` concatenates them
without a copy, so nothing is materialised twice at the end (measured at 10M realistic rows, 3.1M
violations: see benchmarks/README.md, `stream.py`). No global state: polars' `Categorical` keeps
every text it ever saw in a process-wide mapping.
"""

from __future__ import annotations

import polars as pl

CHUNK = 65_536
"""Violations packed together (a batch of a few holds them as they came until a chunk is full)."""
_REPEATS = 2  # a column is shared when its chunk has at most one distinct value per this many rows


def shared_text(s: pl.Series) -> pl.Series:
    """`s` (text) with its values the views of its distinct values, when they repeat (else `s`)."""
    distinct = s.drop_nulls().unique()
    if distinct.len() * _REPEATS > s.len():
        return s
    codes = s.replace_strict(distinct, pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True),
                             default=None, return_dtype=pl.UInt32)
    return distinct.gather(codes).alias(s.name)


def packed(violations: pl.DataFrame) -> pl.DataFrame:
    """`violations` with every text column shared where its values repeat (`shared_text`), one chunk."""
    return violations.with_columns(
        shared_text(violations.get_column(name)) for name, dtype in violations.schema.items() if dtype == pl.String)


class HeldViolations:
    """Violation frames added batch by batch (all of one schema), held packed (`pack=False`: as they
    came, for a run of one batch, whose table is built once anyway); `frame()` is all of them."""

    def __init__(self, empty: pl.DataFrame, *, pack: bool = True):
        self._empty = empty
        self._pack_chunks = pack
        self._chunks: list[pl.DataFrame] = []
        self._pending: list[pl.DataFrame] = []
        self._n_pending = 0

    def add(self, violations: pl.DataFrame) -> None:
        if not violations.height:
            return
        self._pending.append(violations)
        self._n_pending += violations.height
        if self._n_pending >= CHUNK:
            self._pack()

    def _pack(self) -> None:
        if self._pending:
            pending, self._pending, self._n_pending = self._pending, [], 0
            chunk = pl.concat(pending)
            self._chunks.append(packed(chunk) if self._pack_chunks else chunk)

    @property
    def height(self) -> int:
        return sum(c.height for c in self._chunks) + self._n_pending

    def frame(self) -> pl.DataFrame:
        """Every violation added, in order (the chunks as they are: not copied); the holder is emptied."""
        self._pack()
        chunks, self._chunks = self._chunks, []
        return pl.concat([self._empty, *chunks], rechunk=False)


__all__ = ["CHUNK", "HeldViolations", "packed", "shared_text"]
