"""Validating any size of input in bounded memory: batch by batch, the same verdicts.

Each batch of `io.stream.iter_batches` goes through `check_frame` (every rule but W107) and is let
go; what is kept is small: the counts, the violations (or only the first `HELD` when they go to a
file, `violations_out=`), and for W107 the (source, row, tx_id) of each purchase. W107 is then
judged once over the whole input, exactly as over one frame: the first purchase (in input order,
across files) keeps a tx_id, later ones warn and name it ("row 3", or "row 3 of part-0001.jsonl"
when it is in another file). So the report equals the in-memory one: same violations, same order
(by source, then row), same counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from adrop_kit.io.frames import ERROR
from adrop_kit.io.parts import Inputs
from adrop_kit.io.progress import progress_bar
from adrop_kit.io.stream import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, Batch, iter_batches
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import MESSAGES, TX_PARAM, Rule
from adrop_kit.validate.batch import check_frame
from adrop_kit.validate.checks import SOURCED_VIOLATION_SCHEMA, _slot, printable_text, render, short_text
from adrop_kit.validate.json_values import JSON_FLAG, json_flags
from adrop_kit.validate.nested import purchase_tx
from adrop_kit.validate.report import DatasetReport, StreamTotals, event_counts, rule_counts
from adrop_kit.validate.rows import RowsOut
from adrop_kit.validate.sink import ViolationSink

HELD = 1000
"""With `violations_out=`, the report holds the first this many violations (the file holds all)."""
_SRC = "__src"
_SPAN = 1 << 40  # part index * _SPAN + row orders rows across parts (a part may have 2**40 rows)


@dataclass
class CheckedBatch:
    """One batch after `check_frame`: its rows (with the event code) and violations (with `source`),
    sorted by row, rule and field."""

    batch: Batch
    df: pl.DataFrame
    violations: pl.DataFrame


def checked_batches(inputs: Inputs, catalog: Catalog, *, strict: bool = False,
                    extra_columns: Sequence[str] = ("ts",), engine: Literal["polars", "pandera"] = "polars",
                    batch_bytes: int = DEFAULT_BATCH_BYTES, batch_rows: int = DEFAULT_BATCH_ROWS,
                    progress: bool | None = None, delimiter: str | None = None) -> Iterator[CheckedBatch]:
    """Every batch of the input, checked (all rules but W107), with a progress bar on a terminal.
    Each violation carries `JSON_FLAG` (is its value JSON text?), decided while the batch's rows are here."""
    sizes = [p.size for p in inputs.parts]
    total = sum(s or 0 for s in sizes) if all(s is not None and p.compression is None and p.fmt != ".json"
                                              for s, p in zip(sizes, inputs.parts, strict=True)) else None
    meter = _Meter(progress, total)
    try:
        for batch in iter_batches(inputs, catalog, batch_bytes=batch_bytes, batch_rows=batch_rows,
                                  delimiter=delimiter):
            df, found = check_frame(batch.frame, catalog, strict=strict, extra_columns=extra_columns, engine=engine)
            found = found.sort("row", "rule", "field", maintain_order=True)
            found = found.select(pl.lit(batch.part.label, pl.String).alias("source"), pl.all(),
                                 json_flags(found, df))
            meter.update(df.height, batch.nbytes)
            yield CheckedBatch(batch, df, found)
    finally:
        meter.close()


def validate_stream(inputs: Inputs, catalog: Catalog, *, strict: bool = False,
                    extra_columns: Sequence[str] = ("ts",), engine: Literal["polars", "pandera"] = "polars",
                    batch_bytes: int = DEFAULT_BATCH_BYTES, batch_rows: int = DEFAULT_BATCH_ROWS,
                    violations_out: Any = None, progress: bool | None = None,
                    delimiter: str | None = None, rows_out: RowsOut | None = None) -> DatasetReport:
    """The streamed `validate_events` (see the module docstring). `rows_out`: where each batch's
    valid and invalid rows go (`validate.rows`; by default only their numbers are kept)."""
    start = time.perf_counter()
    rows_out = rows_out if rows_out is not None else RowsOut()
    sink = ViolationSink(violations_out) if violations_out is not None else None
    held: list[pl.DataFrame] = []
    n_held = 0
    purchases: list[pl.DataFrame] = []
    rules: list[pl.DataFrame] = []
    events: list[pl.DataFrame] = []
    rows = invalid = warned = 0
    notes: dict[str, None] = {}  # what a reader noticed, once per file however many batches said it
    try:
        for cb in checked_batches(inputs, catalog, strict=strict, extra_columns=extra_columns, engine=engine,
                                  batch_bytes=batch_bytes, batch_rows=batch_rows, progress=progress,
                                  delimiter=delimiter):
            v, i = cb.violations, cb.batch.part_index
            notes.update(dict.fromkeys(cb.batch.frame.notes))
            rows += cb.df.height
            errs = v.filter(pl.col("severity") == "error").get_column("row").unique()
            warns = v.filter(pl.col("severity") == "warning").get_column("row").unique()
            warns = warns.filter(~warns.is_in(errs.implode()))
            invalid += errs.len()
            warned += warns.len()
            rows_out.add(cb.df, errs, part=i, source=cb.batch.part.label)
            bought = purchase_tx(cb.df, pl.col(ERROR).is_null())
            if bought is not None and bought.height:
                flagged = pl.concat([errs, warns]).implode()
                purchases.append(bought.select(
                    pl.lit(i, pl.Int64).alias(_SRC), pl.col("__row").alias("row"), "line", "eventName", TX_PARAM,
                    (~pl.col("__row").is_in(flagged)).alias("__clean")))
            if sink is None:
                held.append(v.with_columns(pl.lit(i, pl.Int64).alias(_SRC)))
                continue
            sink.write(v.drop(JSON_FLAG))
            rules.append(rule_counts(v))
            events.append(event_counts(v))
            if n_held < HELD:
                held.append(v.head(HELD - n_held).with_columns(pl.lit(i, pl.Int64).alias(_SRC)))
                n_held += min(v.height, HELD - n_held)
        labels = [p.label for p in inputs.parts]
        dup = _w107(purchases, labels)
        warned += dup.filter(pl.col("__clean")).height
        w107 = dup.drop("__clean")
        totals = None
        if sink is not None:
            sink.write(w107.drop(JSON_FLAG))
            rules.append(rule_counts(w107))
            events.append(event_counts(w107))
            totals = StreamTotals(invalid, warned, sink.count, _sum(rules, ["rule", "severity"]),
                                  _sum(events, ["eventName"]))
            if n_held < HELD:
                held.append(w107.head(HELD - n_held).with_columns(pl.lit(None, pl.Int64).alias(_SRC)))
        else:
            held.append(w107.with_columns(pl.col("source").replace_strict(
                {s: k for k, s in enumerate(labels)}, return_dtype=pl.Int64).alias(_SRC)))
    finally:
        rows_out.close()
        if sink is not None:
            sink.close()
    violations = pl.concat([pl.DataFrame(schema={**SOURCED_VIOLATION_SCHEMA, JSON_FLAG: pl.Boolean,
                                                 _SRC: pl.Int64}), *held])
    if sink is None:
        violations = violations.sort(_SRC, "row", "rule", "field", maintain_order=True)
    report = DatasetReport(rows=rows, violations=violations.drop(_SRC), frame=None, source=inputs.label,
                           strict=strict, elapsed_s=time.perf_counter() - start, sources=tuple(labels),
                           skipped=tuple(inputs.skipped), notes=tuple(notes),
                           violations_out=None if sink is None else str(sink.path), totals=totals,
                           valid_out=rows_out.paths[0], invalid_out=rows_out.paths[1],
                           _reread=rows_out.reread(inputs, catalog, extra_columns=extra_columns,
                                                   batch_bytes=batch_bytes, batch_rows=batch_rows, delimiter=delimiter))
    if totals is None:
        _check_counts(report, invalid, warned)
    return report


def _check_counts(report: DatasetReport, invalid: int, warned: int) -> None:
    """The counts kept while streaming and those of the held violations are one truth."""
    if (report.invalid, report.warned) != (invalid, warned):  # pragma: no cover - a bug, not bad data
        raise AssertionError(f"streamed counts {invalid}/{warned} != {report.invalid}/{report.warned}")


def _w107(purchases: list[pl.DataFrame], labels: list[str]) -> pl.DataFrame:
    """W107 over every purchase of the input: the first (in input order) keeps its tx_id."""
    schema = {**SOURCED_VIOLATION_SCHEMA, JSON_FLAG: pl.Boolean, "__clean": pl.Boolean}
    if not purchases:
        return pl.DataFrame(schema=schema)
    p = pl.concat(purchases, how="vertical_relaxed").with_columns(
        (pl.col(_SRC) * _SPAN + pl.col("row")).alias("__ord"))
    p = p.with_columns(pl.col("__ord").min().over(TX_PARAM).alias("__first"))
    dup = p.filter(pl.col("__ord") != pl.col("__first"))
    if not dup.height:
        return pl.DataFrame(schema=schema)
    first_src = pl.col("__first") // _SPAN
    first_row = (pl.col("__first") % _SPAN).cast(pl.String)
    names = {k: s for k, s in enumerate(labels)}
    where = (pl.when(first_src == pl.col(_SRC)).then(first_row)
             .otherwise(pl.concat_str(first_row, pl.lit(" of "),
                                      first_src.replace_strict(names, return_dtype=pl.String))))
    tx = pl.col(TX_PARAM)
    return dup.sort("__ord").select(
        pl.col(_SRC).replace_strict(names, return_dtype=pl.String).alias("source"),
        "row", "line", "eventName", pl.lit(Rule.W107.value).alias("rule"), pl.lit("warning").alias("severity"),
        pl.lit(TX_PARAM).alias("field"), short_text(tx).alias("value"),
        render(MESSAGES["W107"].format(tx=_slot("t"), first=_slot("f")), t=printable_text(tx), f=where)
        .alias("message"), pl.lit(False).alias(JSON_FLAG), "__clean")


def _sum(parts: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    df = pl.concat(parts)
    values = [c for c in df.columns if c not in keys]
    return df.group_by(keys).agg(pl.col(values).sum().cast(pl.UInt32))


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


__all__ = ["HELD", "CheckedBatch", "checked_batches", "validate_stream"]
