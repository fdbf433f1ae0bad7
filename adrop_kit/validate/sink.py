"""Writing violations to a file as they are found (`violations_out=`, `--violations-out`).

The format follows the suffix (`io.sink`): `.parquet` (one row group per batch), `.jsonl`/`.ndjson`
(one violation a line), `.csv` (a header, then a record per violation). The columns are a report's
(`SOURCED_VIOLATION_SCHEMA`: source, row, eventName, rule, severity, field, value, message).
Rows come batch by batch in input order; W107 (found once the whole input is read) comes last.
"""

from __future__ import annotations

import os

from adrop_kit.io.sink import SINK_SUFFIXES, FrameSink
from adrop_kit.validate.checks import SOURCED_VIOLATION_SCHEMA


class ViolationSink(FrameSink):
    """Appends violation frames to one file; `close()` finishes it (a context manager)."""

    def __init__(self, path: str | os.PathLike[str]):
        super().__init__(path, SOURCED_VIOLATION_SCHEMA, "violations")


__all__ = ["SINK_SUFFIXES", "ViolationSink"]
