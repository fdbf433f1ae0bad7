"""Writing rows to a file as they come, in bounded memory (`violations_out=`, `outcomes_out=`).

The format follows the suffix: `.parquet` (one row group per write), `.jsonl`/`.ndjson` (one row
a line), `.csv` (a header, then a record per row). Every write is cast to the sink's schema, so
the file has the same columns and types however many writes (or none) it had.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from adrop_kit.errors import DataReadError

SINK_SUFFIXES = (".parquet", ".jsonl", ".ndjson", ".csv")


class FrameSink:
    """Appends frames of `schema` to one file; `close()` finishes it (a context manager).
    `what` names the rows in messages ("violations", "outcomes")."""

    def __init__(self, path: str | os.PathLike[str], schema: Mapping[str, Any], what: str = "rows"):
        self.path = Path(path)
        self.schema = dict(schema)
        self.kind = self.path.suffix.lower()
        if self.kind not in SINK_SUFFIXES:
            raise ValueError(f"{self.path}: {what} are written as .parquet, .jsonl, .ndjson or .csv "
                             f"(the format follows the suffix), not {self.kind or '(no suffix)'!r}")
        self.count = 0
        self._writer: Any = None
        self._fh: Any = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.kind == ".parquet":
                import pyarrow.parquet as pq

                arrow = pl.DataFrame(schema=self.schema).to_arrow().schema
                self._writer = pq.ParquetWriter(self.path, arrow, compression="zstd")
            else:
                self._fh = open(self.path, "wb")  # noqa: SIM115 - closed by close()
                if self.kind == ".csv":
                    pl.DataFrame(schema=self.schema).write_csv(self._fh)
        except OSError as exc:
            raise DataReadError(f"{self.path}: cannot write: {exc.strerror or exc}") from None

    def write(self, rows: pl.DataFrame) -> None:
        if not rows.height:
            return
        df = rows.select(list(self.schema)).cast(self.schema)  # type: ignore[arg-type]
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
        elif self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> FrameSink:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["SINK_SUFFIXES", "FrameSink"]
