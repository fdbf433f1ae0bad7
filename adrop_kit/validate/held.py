"""The violations a streamed run keeps for its report, held compact as the batches pass.

A report of millions of violations is mostly the same few texts again and again: the file's name,
a rule id, a severity, a field, a message template filled with a key and an event. So the held
violations are packed a chunk of `CHUNK` at a time (`Packed`): each text column as its distinct
values (a new, compact column: no buffer of the batch the texts were cut from stays alive) and a
4-byte code a row. At the end (`HeldViolations.frame`) each chunk's table is built once, chunk by
chunk, its codes let go as it goes: polars keeps a text as a 16-byte view (a text of up to 12
bytes inside it) into shared buffers, and `gather` from the distinct values copies views, not
text, so a 60-byte message repeated a million times takes 16 MB, not 76. No global state: polars'
`Categorical` would keep every text it ever saw in a process-wide mapping. Measured at 10M
realistic rows (3.1M violations): benchmarks/README.md, `stream.py`.
"""

from __future__ import annotations

import polars as pl

CHUNK = 65_536
"""Violations packed together (a batch of a few holds them as they came until a chunk is full)."""


class Packed:
    """A chunk of violations, its text columns held as codes into their distinct values (4 bytes a
    row); `frame()` gives the table back, those columns as views of the distinct values."""

    def __init__(self, violations: pl.DataFrame):
        self.columns = violations.columns
        self.coded: dict[str, tuple[pl.Series, pl.Series]] = {}
        for name, dtype in violations.schema.items():
            if dtype == pl.String:
                self.coded[name] = _codes(violations.get_column(name))
        self.plain = violations.drop(list(self.coded)).rechunk()  # (not slices of a batch's arrays)
        self.height = violations.height

    @property
    def nbytes(self) -> int:
        """What the chunk holds: codes, distinct values and the other columns."""
        coded = sum(d.estimated_size() + c.estimated_size() for d, c in self.coded.values())
        return self.plain.estimated_size() + coded

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame([self._column(name) for name in self.columns])

    def _column(self, name: str) -> pl.Series:
        if name in self.coded:
            distinct, codes = self.coded[name]
            return distinct.gather(codes).alias(name)
        return self.plain.get_column(name)


def _codes(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(distinct values, UInt32 code of each row's value; null for null) of a text column. The distinct
    values are a new, compact column: nothing of the batch the texts were cut from stays alive."""
    distinct = s.drop_nulls().unique()
    return distinct, s.replace_strict(distinct, pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True),
                                      default=None, return_dtype=pl.UInt32)


class HeldViolations:
    """Violation frames added batch by batch (all of one schema), held packed (`Packed`; `pack=False`:
    as they came, for a run of one batch, whose table is built once anyway); `frame()` is all of them."""

    def __init__(self, empty: pl.DataFrame, *, pack: bool = True):
        self._empty = empty
        self._pack_chunks = pack
        self._chunks: list[pl.DataFrame | Packed] = []
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
            self._chunks.append(Packed(chunk) if self._pack_chunks else chunk)

    @property
    def height(self) -> int:
        return sum(c.height for c in self._chunks) + self._n_pending

    @property
    def nbytes(self) -> int:
        """What the holder keeps now (the packed chunks and the frames waiting for a chunk)."""
        return (sum(c.nbytes if isinstance(c, Packed) else c.estimated_size() for c in self._chunks)
                + sum(p.estimated_size() for p in self._pending))

    def frame(self) -> pl.DataFrame:
        """Every violation added, in order; each chunk's codes let go as soon as its table is built."""
        self._pack()
        chunks, self._chunks = self._chunks, []
        frames = [self._empty]
        while chunks:
            chunk = chunks.pop(0)
            frames.append(chunk.frame() if isinstance(chunk, Packed) else chunk)
        return pl.concat(frames, rechunk=False)


__all__ = ["CHUNK", "HeldViolations", "Packed"]
