"""What a send keeps of its outcomes, batch by batch: the exact count of each outcome,
the rows that need the user's attention (`report.LISTED`: rejected, failed, skipped, pending,
held), and, with `outcomes_out=`, every row's outcome written to a file (`io.sink`: .parquet,
.jsonl, .csv) as each batch ends. Delivered, already delivered and dry-run rows are counted,
not kept, so the memory of a send does not grow with its input.

The file has one row per input row read (`OUTCOME_SCHEMA`: source, row, eventName, outcome,
status, attempts, error, key), in input order: batch by batch, by row within a batch (rows held until
the end of the input to tell whether they changed since delivered, `plan.BatchPlan.deferred`, come
last). `source` is the row's file (the input's label for a single file); `key` is the journal's event key (a
hash of the payload and its position, never the app key).
"""

from __future__ import annotations

import os
from collections import Counter

import polars as pl

from adrop_kit.io.sink import FrameSink
from adrop_kit.send.outcome import COLUMNS, LISTED, EventOutcome

OUTCOME_SCHEMA = {"source": pl.String, "row": pl.Int64, "eventName": pl.String, "outcome": pl.String,
                  "status": pl.Int64, "attempts": pl.Int64, "error": pl.String, "key": pl.String}
"""The columns of an outcomes file (`outcomes_out=`)."""

_FIELDS = {f: OUTCOME_SCHEMA[f] for f in COLUMNS}  # an EventOutcome's row order
_LISTED = frozenset(o.value for o in LISTED)


class Tally:
    """Counts, the listed outcomes, and the outcomes file of one send; `close()` finishes the file.
    `list_all`: list every outcome, not only the rows needing attention (an input read whole)."""

    def __init__(self, outcomes_out: str | os.PathLike[str] | None = None, *, list_all: bool = False):
        self.list_all = list_all
        self.counts: Counter[str] = Counter()
        self.custom: Counter[str] = Counter()  # rows going out as custom events (W101), by eventName
        self.listed: list[EventOutcome] = []
        self.sink = FrameSink(outcomes_out, OUTCOME_SCHEMA, "outcomes") if outcomes_out is not None else None

    @property
    def path(self) -> str | None:
        return None if self.sink is None else str(self.sink.path)

    def add(self, outcomes: list[EventOutcome], label: str) -> None:
        """One batch's outcomes (all from the file `label`): counted, the listed ones kept, every
        one written to the file in row order. The caller lets the list go."""
        if not outcomes:
            return
        outcomes.sort(key=lambda o: o.row)
        self.counts.update(str(o.outcome) for o in outcomes)
        self.listed.extend(o for o in outcomes if self.list_all or o.outcome in _LISTED)
        if self.sink is not None:
            frame = pl.DataFrame([o.as_row() for o in outcomes], schema=_FIELDS, orient="row")
            self.sink.write(frame.with_columns(pl.col("source").fill_null(label)))

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()


__all__ = ["OUTCOME_SCHEMA", "Tally"]
