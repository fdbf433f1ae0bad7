"""Writing violations to a file as they are found (`violations_out=`, `--violations-out`).

The format follows the suffix: `.parquet` (one row group per batch), `.jsonl`/`.ndjson` (one
violation a line), `.csv` (a header, then a record per violation). The columns are a report's
(`SOURCED_VIOLATION_SCHEMA`: source, row, eventName, rule, severity, field, value, message).
Rows come batch by batch in input order; W107 (found once the whole input is read) comes last.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.validate.checks import SOURCED_VIOLATION_SCHEMA

SINK_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".csv")


class ViolationSink:
    """Appends violation frames to one file; `close()` finishes it (a context manager)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.kind = self.path.suffix.lower()
        if self.kind not in SINK_SUFFIXES:
            raise ValueError(f"{self.path}: violations are written as .parquet, .jsonl, .ndjson or .csv "
                             f"(the format follows the suffix), not {self.kind or '(no suffix)'!r}")
        self.count = 0
        self._writer: Any = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.kind == ".parquet":
                import pyarrow.parquet as pq

                schema = pl.DataFrame(schema=SOURCED_VIOLATION_SCHEMA).to_arrow().schema
                self._writer = pq.ParquetWriter(self.path, schema, compression="zstd")
            else:
                self._fh = open(self.path, "wb")  # noqa: SIM115 - closed by close()
                if self.kind == ".csv":
                    pl.DataFrame(schema=SOURCED_VIOLATION_SCHEMA).write_csv(self._fh)
        except OSError as exc:
            raise DataReadError(f"{self.path}: cannot write: {exc.strerror or exc}") from None

    def write(self, violations: pl.DataFrame) -> None:
        if not violations.height:
            return
        df = violations.select(list(SOURCED_VIOLATION_SCHEMA)).cast(SOURCED_VIOLATION_SCHEMA)  # type: ignore[arg-type]
        try:
            if self._writer is not None:
                self._writer.write_table(df.to_arrow())
            elif self.kind == ".csv":
                df.write_csv(self._fh, include_header=False)
            else:
                df.write_ndjson(self._fh)
        except OSError as exc:
            raise DataReadError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self.count += df.height

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        elif getattr(self, "_fh", None) is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> ViolationSink:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["SINK_SUFFIXES", "ViolationSink"]
