"""Importing events from where they live: GA4 / Firebase BigQuery exports and Segment / RudderStack
archives, through a mapping a user can edit (`adrop_kit.importers`).

    frame, report = adrop_kit.importers.ga4("export/events_*.json.gz")
    frame, report = adrop_kit.importers.segment("segment/2026/", mapping="mapping.toml", out="events.parquet")

The input is read batch by batch (`io.importers.sources`); each batch is mapped by the one
per-batch function (`io.importers.engine.map_rows`, which the CLI and Spark call too), checked by
the validation pipeline's `check_batches` (so `report.invalid` is what `adrop-kit validate` finds on
the output), and written to `out` as it passes (`io.sink.RowSink`: bounded memory). Without `out`
the events come back as one polars frame.

Layer: validate (it counts what validation finds); may import `io`, `spec`, `support`, `errors`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from adrop_kit.io.frames import Frame, from_records
from adrop_kit.io.importers.defaults import DEFAULTS
from adrop_kit.io.importers.engine import ROW, SOURCE, TS, Tally, map_rows
from adrop_kit.io.importers.fixes import fixed_frames
from adrop_kit.io.importers.mapping import Mapping, default_mapping, load_mapping
from adrop_kit.io.importers.sources import DEFAULT_ROWS, iter_rows
from adrop_kit.io.parts import resolve_inputs
from adrop_kit.io.sink import RowSink
from adrop_kit.io.views import user_rows
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS
from adrop_kit.validate.pipeline import Accumulator, check_batches, error_rows


@dataclass
class MappingReport:
    """What an import did. `rows == mapped_rows + sum(skipped.values())`; `invalid` counts the events
    written that `adrop-kit validate` finds invalid (`invalid_by_rule`: by the rules they break)."""

    source: str
    kind: str
    rows: int = 0
    mapped_rows: int = 0
    events: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    by_event: dict[str, int] = field(default_factory=dict)
    invalid: int = 0
    invalid_by_rule: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    fixed: dict[str, int] = field(default_factory=dict)
    """Rows each of the mapping's renames and value fixes (`[rename]`, `[fix.COLUMN]`, `[case]`) changed."""
    out: str | None = None
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "kind": self.kind, "rows": self.rows, "mapped_rows": self.mapped_rows,
                "events": self.events, "skipped": self.skipped, "by_event": self.by_event, "invalid": self.invalid,
                "invalid_by_rule": self.invalid_by_rule, "lost": self.lost, "fixed": self.fixed, "out": self.out,
                "elapsed_s": round(self.elapsed_s, 3)}


def ga4(paths: Any, mapping: Mapping | str | Path | None = None, *, out: str | Path | None = None,
        catalog: Catalog | str | None = None, batch_rows: int = DEFAULT_ROWS) -> tuple[pl.DataFrame | None,
                                                                                      MappingReport]:
    """A GA4 / Firebase BigQuery export (newline-delimited JSON, INT64 as strings or numbers, or
    Parquet; files, directories of daily tables, globs, `.gz`/`.zst`) → (events, report). With `out`
    (.parquet, .jsonl, .csv) the events are written there batch by batch and the frame is None."""
    return run("ga4", paths, mapping, out=out, catalog=catalog, batch_rows=batch_rows)


def segment(paths: Any, mapping: Mapping | str | Path | None = None, *, out: str | Path | None = None,
            catalog: Catalog | str | None = None, batch_rows: int = DEFAULT_ROWS) -> tuple[pl.DataFrame | None,
                                                                                          MappingReport]:
    """Segment / RudderStack calls (JSONL or JSON arrays: track, page, screen, …) → (events, report);
    see `ga4`."""
    return run("segment", paths, mapping, out=out, catalog=catalog, batch_rows=batch_rows)


def mapping_for(kind: str, mapping: Mapping | str | Path | None, catalog: Catalog) -> Mapping:
    if isinstance(mapping, Mapping):
        if mapping.source != kind:
            raise ValueError(f"this mapping is for {mapping.source}, not {kind}")
        return mapping
    return default_mapping(kind) if mapping is None else load_mapping(mapping, catalog=catalog, source=kind)


def write_mapping(kind: str, path: str | Path) -> Path:
    """Write the default `kind` mapping (TOML, commented) to `path`, to edit and pass back."""
    p = Path(path)
    p.write_text(DEFAULTS[kind], encoding="utf-8")
    return p


def run(kind: str, paths: Any, mapping: Mapping | str | Path | None = None, *, out: str | Path | None = None,
        catalog: Catalog | str | None = None, batch_rows: int = DEFAULT_ROWS) -> tuple[pl.DataFrame | None,
                                                                                      MappingReport]:
    """`ga4` / `segment` for a source `kind`."""
    start = time.perf_counter()
    cat = resolve(catalog)
    m = mapping_for(kind, mapping, cat)
    inputs = resolve_inputs(paths)
    tally = Tally()
    rules: Counter[str] = Counter()
    kept: list[pl.DataFrame] = []
    sink = RowSink(out) if out is not None else None
    acc = Accumulator(keep=False, flags=True)
    changed: Counter[str] = Counter()
    frames = _frames(inputs, m, cat, tally, batch_rows)
    if m.fixes:
        frames = fixed_frames(frames, m.fixes, changed)
    try:
        for cb in check_batches(frames, cat, acc,
                                extra_columns=DEFAULT_EXTRA_COLUMNS):
            errors = cb.violations.filter(pl.col("row").is_in(error_rows(cb.violations).implode())) \
                if cb.violations.height else cb.violations
            rules.update(errors.filter(pl.col("severity") == "error").unique(["row", "rule"])
                         .get_column("rule").to_list())
            if sink is not None:
                sink.write(cb.df)
            else:
                kept.append(cb.df)
    finally:
        if sink is not None:
            sink.close()
    report = MappingReport(source=inputs.label, kind=kind, rows=tally.rows, mapped_rows=tally.mapped_rows,
                           events=tally.events, skipped=dict(tally.skipped.most_common()),
                           by_event=dict(tally.by_event.most_common()), invalid=acc.invalid,
                           invalid_by_rule=dict(sorted(rules.items())), lost=dict(tally.lost.most_common()),
                           fixed=dict(changed),
                           out=None if out is None else str(out), elapsed_s=time.perf_counter() - start)
    if sink is not None:
        return None, report
    frame = user_rows(kept) if kept else pl.DataFrame()
    if TS in frame.columns:
        frame = frame.with_columns(pl.col(TS).str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us",
                                                              time_zone="UTC", strict=False))
    return frame, report


def _frames(inputs: Any, mapping: Mapping, catalog: Catalog, tally: Tally,
            batch_rows: int) -> Iterator[tuple[int, Frame]]:
    written = 0
    for batch in iter_rows(inputs, batch_rows=batch_rows):
        events, found = map_rows(batch.rows, mapping, source=batch.source, first_row=batch.first_row,
                                 catalog=catalog)
        tally.add(found)
        if events:
            yield 0, from_records(events, catalog, rows=list(range(written, written + len(events))),
                                  source=inputs.label)
            written += len(events)


METADATA: Sequence[str] = (TS, SOURCE, ROW)
"""The metadata columns every imported event carries (never checked, never sent)."""

__all__ = ["DEFAULTS", "METADATA", "MappingReport", "ga4", "mapping_for", "run", "segment", "write_mapping"]
