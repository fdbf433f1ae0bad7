"""The one batch pipeline every dataset job runs; the size of the input only changes how many batches.

    input ─▶ batches, each a canonical `Frame` (io: the whole input in memory, or io.stream's chunks)
      └─▶ check_batch (validate.batch: every rule but W107, per row) ─▶ that batch's violations
            └─▶ Accumulator.add: the batch's W107 (validate.w107), counts, notes, violations kept
                  (or written to `violations_out`)  ─▶ Accumulator.report ─▶ DatasetReport

`validate_events` on a frame, a list or a file read whole is the one-batch case (the report keeps
that batch's rows for `valid_rows`); streamed validation (`validate.stream`) and streamed sending
(`send.stream`) run the same `check_batches` over many. Spark's partitions call the same
`check_batch` and W107's `duplicate_tx` (`adrop_kit.spark`). Batches come in input order (file by
file, rows rising), so each batch's W107 is known when it is added: a send can hold such a row.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

import polars as pl

from adrop_kit.io.frames import Frame
from adrop_kit.spec.catalog import Catalog
from adrop_kit.support.memory import release_freed
from adrop_kit.validate.batch import CheckedBatch, empty_violations
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS
from adrop_kit.validate.coalesce import checked_groups
from adrop_kit.validate.custom import name_counts, sum_name_counts
from adrop_kit.validate.held import HeldViolations
from adrop_kit.validate.json_values import JSON_FLAG
from adrop_kit.validate.report import DatasetReport, StreamTotals, event_counts, rule_counts
from adrop_kit.validate.rows import RowsOut
from adrop_kit.validate.sink import ViolationSink
from adrop_kit.validate.w107 import W107State, purchases

HELD = 1000
"""With `violations_out=`, the report holds the first this many violations (the file holds all)."""
RELEASE_ROWS = 50_000
"""Rows checked between two `support.memory.release_freed` calls (about a batch of a big file)."""
_RECOUNT = 1_000_000  # up to this many violations, a report's counts are checked against its table
_FEW = 64  # violations of a batch counted in Python below this many (a polars plan costs more)


class Accumulator:
    """What a pipeline keeps across batches: W107's state, the counts, the readers' notes, and the
    violations (all of them; or, with a `sink`, the first `HELD` and counts by rule and event while
    every one goes to the file; or none, `keep=False`, for a send, which reports outcomes)."""

    def __init__(self, *, sink: ViolationSink | None = None, keep: bool = True, flags: bool = False,
                 rows_out: RowsOut | None = None):
        self.sink = sink
        self.rows_out = rows_out
        self.keep = keep
        self.flags = flags
        self.w107 = W107State()
        self.rows = self.invalid = self.warned = 0
        self.notes: dict[str, None] = {}  # once per input, however many batches said it
        self.batches = 0
        self._held = HeldViolations(empty_violations(flags=flags), pack=flags)
        none = empty_violations()
        self._rules: list[pl.DataFrame] = [rule_counts(none)]  # by rule and by event, with a sink
        self._events: list[pl.DataFrame] = [event_counts(none)]
        self._names: list[pl.DataFrame] = []

    def add(self, cb: CheckedBatch) -> pl.DataFrame:
        """Merge one checked batch (the next in input order): its W107 joins `cb.violations`
        (returned too), and the counts and violations kept grow by its own."""
        w107 = self.w107.judge(purchases(cb.df, cb.source, cb.part))
        v = cb.violations
        if w107.height:
            if JSON_FLAG in v.columns:
                w107 = w107.with_columns(pl.lit(False).alias(JSON_FLAG))  # a tx_id is text
            v = pl.concat([v, w107]).sort("row", "rule", "field", maintain_order=True)
            cb.violations = v
        self.batches += 1
        self.rows += cb.df.height
        self.notes.update(dict.fromkeys(cb.notes))
        errors = error_rows(v)
        invalid, warned = row_counts(v, errors)
        self.invalid += invalid
        self.warned += warned
        if self.rows_out is not None:
            self.rows_out.add(cb.df, errors, part=cb.part, source=cb.source)
        if self.sink is not None:
            self.sink.write(v.drop(JSON_FLAG, strict=False))
            self._rules.append(rule_counts(v))
            self._events.append(event_counts(v))
            self._names.append(name_counts(v))
            if self._held.height < HELD:
                self._held.add(v.head(HELD - self._held.height))
        elif self.keep:
            self._held.add(v)  # held packed: millions of violations take views of a few texts (validate.held)
        return v

    def report(self, *, source: str, sources: Sequence[str] = (), skipped: Sequence[str] = (),
               frame: pl.DataFrame | None = None, strict: bool = False, start: float | None = None) -> DatasetReport:
        """The report on every batch added (`frame`: the rows of a one-batch run, for `valid_rows`)."""
        violations = self._held.frame()
        totals = None
        if self.sink is not None:
            totals = StreamTotals(self.invalid, self.warned, self.sink.count, _sum(self._rules, ["rule", "severity"]),
                                  _sum(self._events, ["eventName"]), sum_name_counts(self._names))
        report = DatasetReport(rows=self.rows, violations=violations, frame=frame, source=source,
                               strict=strict, elapsed_s=0.0 if start is None else time.perf_counter() - start,
                               sources=tuple(sources), skipped=tuple(skipped), notes=tuple(self.notes),
                               violations_out=None if self.sink is None else str(self.sink.path), totals=totals)
        if totals is None and violations.height <= _RECOUNT:  # the two ways to count agree (tests run here)
            if (report.invalid, report.warned) != (self.invalid, self.warned):  # pragma: no cover
                raise AssertionError(f"counted {self.invalid}/{self.warned} invalid/warned rows, "
                                     f"the violations say {report.invalid}/{report.warned}")  # a bug, not bad data
        report._counted = None if totals is not None else (self.invalid, self.warned)  # not counted again
        return report


def error_rows(violations: pl.DataFrame) -> pl.Series:
    """The rows of one batch's violations that have an error (a batch's rows are of one file)."""
    if violations.height <= _FEW:  # most batches of tiny part files: no polars plan for a handful
        rows = violations.get_column("row").to_list()
        bad = {r for r, s in zip(rows, violations.get_column("severity").to_list(), strict=True) if s == "error"}
        return pl.Series("row", sorted(bad), dtype=violations.schema["row"])
    return violations.filter(pl.col("severity") == "error").get_column("row").unique()


def row_counts(violations: pl.DataFrame, errors: pl.Series | None = None) -> tuple[int, int]:
    """(invalid, warned) of one batch's violations: its rows with an error (`errors`, when already
    known), and its rows with a warning and no error (a batch's rows are of one file: `row` names each)."""
    errs = error_rows(violations) if errors is None else errors
    if violations.height <= _FEW:
        bad = set(errs.to_list())
        warned = {r for r, s in zip(violations.get_column("row").to_list(), violations.get_column("severity").to_list(),
                                    strict=True) if s == "warning" and r not in bad}
        return len(bad), len(warned)
    warns = violations.filter(pl.col("severity") == "warning").get_column("row").unique()
    return errs.len(), warns.filter(~warns.is_in(errs.implode())).len()


def check_batches(frames: Iterable[tuple[int, Frame]], catalog: Catalog, acc: Accumulator, *,
                  strict: bool = False, extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                  engine: Literal["polars", "pandera"] = "polars") -> Iterator[CheckedBatch]:
    """Each (part index, frame) of an input, in input order: checked (`check_batch`; consecutive small
    frames, such as one-row part files, checked together and split again: `validate.coalesce`),
    merged into `acc` (its W107 added to its violations), then handed on."""
    released = 0
    for cb in checked_groups(frames, catalog, strict=strict, extra_columns=extra_columns, engine=engine,
                             flags=acc.flags):
        acc.add(cb)
        yield cb
        del cb  # a checked batch is not held while the next is read (the caller keeps what it needs)
        if acc.rows - released >= RELEASE_ROWS:  # what the allocators kept of the batches, given back
            released = acc.rows
            release_freed()


def validate_frames(frames: Iterable[tuple[int, Frame]], catalog: Catalog, *, source: str | None = None,
                    sources: Sequence[str] = (), skipped: Sequence[str] = (), keep_rows: bool = False,
                    strict: bool = False, extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                    engine: Literal["polars", "pandera"] = "polars", violations_out: Any = None,
                    rows_out: RowsOut | None = None, start: float | None = None) -> DatasetReport:
    """The report on an input's batches. `keep_rows`: the input is one batch (a frame, a list, a file
    read whole), whose rows the report keeps; else each batch is let go once checked, and the JSON
    kind of each violation's value (`JSON_FLAG`) is decided while its rows are here. `rows_out`:
    each batch's valid and invalid rows go there as it passes (`validate.rows`)."""
    start = time.perf_counter() if start is None else start
    sink = ViolationSink(violations_out) if violations_out is not None else None
    acc = Accumulator(sink=sink, flags=not keep_rows, rows_out=rows_out)
    kept: CheckedBatch | None = None
    try:
        for cb in check_batches(frames, catalog, acc, strict=strict, extra_columns=extra_columns, engine=engine):
            kept = cb if keep_rows else None
            source = source or cb.source
            del cb  # (when not kept: let it go before the next batch is read)
    finally:
        if callable(close := getattr(frames, "close", None)):
            close()  # an input read ahead in a thread (io.stream) stops here, also when a check failed
        if sink is not None:
            sink.close()
        if rows_out is not None:
            rows_out.close()
    if keep_rows and acc.batches > 1:  # pragma: no cover - a caller's bug
        raise ValueError("keep_rows=True takes one batch")
    report = acc.report(source=source or "<data>", sources=sources, skipped=skipped, strict=strict, start=start,
                        frame=None if kept is None else kept.df)
    if rows_out is not None:
        report.valid_out, report.invalid_out = rows_out.paths
    return report


def _sum(parts: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    df = pl.concat(parts)
    values = [c for c in df.columns if c not in keys]
    return df.group_by(keys).agg(pl.col(values).sum().cast(pl.UInt32))


__all__ = ["HELD", "Accumulator", "check_batches", "error_rows", "row_counts", "validate_frames"]
