"""Judging events against the contract: one payload (`event.validate_event`, pure Python), a
dataset (`dataset.validate_events`: every input kind through one batch pipeline, `pipeline`: each
batch checked by `batch.check_batch`, one lazy polars pass over the row checks of `checks`, then
the checks inside items and of rare keys of `nested`; W107 across batches by `w107`), the same
checks as pandera schemas (`schemas`), and the reports (`report`; a run's valid and invalid rows,
to files too: `rows`). Every entry point gives one verdict
for a payload (tests/test_parity.py).

Layer: above `io`; may import `adrop_kit.spec`, `adrop_kit.io`, `adrop_kit.support` and `adrop_kit.errors`.
Validation never raises for bad data: it returns reports.
"""

from __future__ import annotations

from adrop_kit.validate.event import validate_event
from adrop_kit.validate.report import DatasetReport, EventReport

__all__ = ["DatasetReport", "EventReport", "validate_event"]
