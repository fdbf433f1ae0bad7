"""A run's rows, split into valid and invalid: to files as batches pass, and back for the report.

`RowsOut` is the hook a validation run hands each checked batch (its canonical rows and the row
numbers with an error): it writes the valid rows to `valid_out` and the invalid ones to
`invalid_out` (`io.sink.RowSink`: the user's columns and values; `.parquet`, `.jsonl`, `.csv`) and
keeps the invalid row numbers (8 bytes each). A streamed report keeps no rows; `reread` gives it
them back when asked (`DatasetReport.valid_rows` / `invalid_rows`): the same input read again by
the same readers, split by those row numbers. Standard input cannot be read twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from adrop_kit.io.frames import ROW, in_order
from adrop_kit.io.parts import Inputs
from adrop_kit.io.sink import RowSink
from adrop_kit.io.stream import iter_batches
from adrop_kit.io.views import Layout, held, input_columns
from adrop_kit.spec.catalog import Catalog
from adrop_kit.validate.size import mark_oversized

HOLD_ROWS = 5_000_000
"""A streamed report gives back at most this many rows in memory (`valid_rows`, `invalid_rows`);
past that, `valid_out=` / `invalid_out=` write them to files as the batches pass."""


class RowsOut:
    """Where a run's rows go, batch by batch (see the module docstring); `close()` finishes the files."""

    def __init__(self, valid_out: Any = None, invalid_out: Any = None, *, multi: bool = False):
        self.valid = RowSink(valid_out, multi=multi, what="valid rows") if valid_out is not None else None
        try:
            self.invalid = (RowSink(invalid_out, positions=True, multi=multi, what="invalid rows")
                            if invalid_out is not None else None)
        except BaseException:
            self.close()
            raise
        self.bad: dict[int, list[pl.Series]] = {}
        self.columns = Layout()  # the input's (`io.views.input_columns`), both files have them

    def add(self, df: pl.DataFrame, errors: pl.Series, *, part: int = 0, source: str | None = None) -> None:
        """One batch: its canonical rows and the row numbers (`__row`) that have an error."""
        self.bad.setdefault(part, []).append(errors.cast(pl.Int64))
        if self.valid is None and self.invalid is None:
            return
        input_columns(df, self.columns)
        hit = pl.col(ROW).is_in(errors.implode())
        df = in_order(df)
        if self.valid is not None:
            self.valid.write(df.filter(~hit), source)
        if self.invalid is not None:
            self.invalid.write(df.filter(hit), source)

    def close(self) -> None:
        for sink in (getattr(self, "valid", None), getattr(self, "invalid", None)):
            if sink is not None:
                sink.close(held(getattr(self, "columns", Layout())))

    @property
    def paths(self) -> tuple[str | None, str | None]:
        return tuple(None if s is None else str(s.path) for s in (self.valid, self.invalid))  # type: ignore[return-value]

    def reread(self, inputs: Inputs, catalog: Catalog, *, extra_columns: Sequence[str], **read: Any) -> Reread:
        """How the report gets its rows back: `inputs` read again with the same `read` options."""
        bad = {i: pl.concat(s).unique() for i, s in self.bad.items()}
        return Reread(inputs, catalog, bad, tuple(extra_columns), read)


class Reread:
    """`(canonical frames, their sources, the input's columns)` of the valid or invalid rows of a streamed
    run, read again (`io.views.input_columns` over every batch: the layout the input read whole has)."""

    def __init__(self, inputs: Inputs, catalog: Catalog, bad: dict[int, pl.Series], extra_columns: tuple[str, ...],
                 read: dict[str, Any]):
        self.inputs, self.catalog, self.bad, self.extra_columns, self.read = inputs, catalog, bad, extra_columns, read

    def __call__(self, which: str, expected: int) -> tuple[list[pl.DataFrame], list[str], list[str]]:
        label = self.inputs.label
        if any(p.path is None for p in self.inputs.parts):
            raise ValueError(f"{label}: standard input is read once, so this streamed report cannot give its rows "
                             "back; pass valid_out= / invalid_out= (--valid-out / --invalid-out) to write them "
                             "as the batches pass")
        if expected > HOLD_ROWS:
            raise ValueError(f"{label}: {expected:,} {which} rows are more than a streamed report gives back in "
                             f"memory ({HOLD_ROWS:,}); pass {which}_out= (--{which}-out FILE: .parquet, .jsonl or "
                             ".csv) to write them to a file as the batches pass")
        frames: list[pl.DataFrame] = []
        sources: list[str] = []
        columns = Layout()  # the input's, from every batch: those of the rows not given too
        empty = pl.Series([], dtype=pl.Int64)
        for batch in iter_batches(self.inputs, self.catalog, **self.read):
            input_columns(batch.frame.df, columns)
            hit = pl.col(ROW).is_in(self.bad.get(batch.part_index, empty).implode())
            df = batch.frame.df.filter(hit if which == "invalid" else ~hit)
            if df.height or not frames:
                frames.append(mark_oversized(df, self.catalog, self.extra_columns) if df.height else df)
                sources.append(batch.part.label)
        return frames, sources, held(columns)


__all__ = ["HOLD_ROWS", "Reread", "RowsOut"]
