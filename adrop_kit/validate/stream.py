"""Validating any size of input in bounded memory: the pipeline (`validate.pipeline`) over batches.

`input_frames` reads the input batch by batch (`io.stream.iter_batches`: each a canonical frame,
rows numbered in their file) with a progress bar on a terminal; `validate_stream` runs the
pipeline over them. Each batch is checked (every rule but W107) and let go once its W107 is known
and its violations are kept (or written to `violations_out`, the report holding the first `HELD`):
the report equals the in-memory one, the same violations in the same order (by source, then row)
and the same counts, whatever the batch size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

from adrop_kit.io.frames import Frame
from adrop_kit.io.parts import Inputs
from adrop_kit.io.stream import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, iter_batches
from adrop_kit.spec.catalog import Catalog
from adrop_kit.support.progress import progress_bar
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS
from adrop_kit.validate.pipeline import HELD, validate_frames
from adrop_kit.validate.report import DatasetReport
from adrop_kit.validate.rows import RowsOut


def input_frames(inputs: Inputs, catalog: Catalog, *, batch_bytes: int = DEFAULT_BATCH_BYTES,
                 batch_rows: int = DEFAULT_BATCH_ROWS, progress: bool | None = None,
                 delimiter: str | None = None) -> Iterator[tuple[int, Frame]]:
    """(part index, frame) for every batch of the input, in input order; a bar in bytes on a terminal."""
    sizes = [p.size for p in inputs.parts]
    total = sum(s or 0 for s in sizes) if all(s is not None and p.compression is None and p.fmt != ".json"
                                              for s, p in zip(sizes, inputs.parts, strict=True)) else None
    meter = _Meter(progress, total)
    try:
        for batch in iter_batches(inputs, catalog, batch_bytes=batch_bytes, batch_rows=batch_rows,
                                  delimiter=delimiter):
            meter.update(batch.frame.df.height, batch.nbytes)
            yield batch.part_index, batch.frame
    finally:
        meter.close()


def validate_stream(inputs: Inputs, catalog: Catalog, *, strict: bool = False,
                    extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                    engine: Literal["polars", "pandera"] = "polars", batch_bytes: int = DEFAULT_BATCH_BYTES,
                    batch_rows: int = DEFAULT_BATCH_ROWS, violations_out: Any = None, progress: bool | None = None,
                    delimiter: str | None = None, rows_out: RowsOut | None = None,
                    fix: Callable[[Iterable[tuple[int, Frame]]], Iterable[tuple[int, Frame]]] | None = None,
                    ) -> DatasetReport:
    """The streamed `validate_events` (see the module docstring). `rows_out`: where each batch's
    valid and invalid rows go (`validate.rows`; by default only the invalid row numbers are kept, so
    the report can read its rows again when asked). `fix`: what each batch goes through before it
    is checked (a mapping's renames and value fixes)."""
    start = time.perf_counter()
    rows_out = rows_out if rows_out is not None else RowsOut()
    frames = input_frames(inputs, catalog, batch_bytes=batch_bytes, batch_rows=batch_rows, progress=progress,
                          delimiter=delimiter)
    if fix is not None:
        frames = fix(frames)  # type: ignore[assignment]
    report = validate_frames(frames, catalog, source=inputs.label, sources=[p.label for p in inputs.parts],
                             skipped=inputs.skipped, strict=strict, extra_columns=extra_columns, engine=engine,
                             violations_out=violations_out, rows_out=rows_out, start=start)
    report._reread = rows_out.reread(inputs, catalog, extra_columns=extra_columns, batch_bytes=batch_bytes,
                                     batch_rows=batch_rows, delimiter=delimiter)
    return report


class _Meter:
    """A progress bar in bytes (MB/s) with rows and rows/s beside it; nothing off a terminal."""

    def __init__(self, enabled: bool | None, total: int | None):
        self.bar = progress_bar(total or 0, enabled, unit="B", desc="validating")
        if self.bar is not None:
            self.bar.unit_scale = True
            self.bar.unit_divisor = 1000
            if total is None:
                self.bar.total = None
        self.rows = 0
        self.start = time.perf_counter()

    def update(self, rows: int, nbytes: int) -> None:
        self.rows += rows
        if self.bar is not None:
            rate = self.rows / max(time.perf_counter() - self.start, 1e-9)
            self.bar.set_postfix_str(f"{self.rows:,} rows, {rate:,.0f} rows/s", refresh=False)
            self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


__all__ = ["HELD", "input_frames", "validate_stream"]
