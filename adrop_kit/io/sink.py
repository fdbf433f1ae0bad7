"""Writing rows to a file as they come, in bounded memory (`violations_out=`, `outcomes_out=`,
`valid_out=`, `invalid_out=`).

The format follows the suffix: `.parquet` (one row group per write), `.jsonl`/`.ndjson` (one row
a line), `.csv` (a header, then a record per row). Every write is cast to the sink's schema, so
the file has the same columns and types however many writes (or none) it had. `RowSink` writes
canonical rows in the user's columns (`io.views`), whose columns are known only at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.io.views import fit, jsonl_lines, position_names, user_rows, valued_schema, view_plan, with_positions

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


class RowSink:
    """Canonical rows (batch by batch, in input order) written in the user's columns and values
    (`io.views.user_rows`): JSONL as each row's JSON text, written as it comes; CSV (every cell as
    text: numbers as their exact JSON text) and Parquet (typed columns; a key whose values are of
    several types is text) once the last batch says which columns the file has: the batches wait
    in a temporary folder beside the file. `positions`: `row` (`source` with `multi`) first and
    `raw` last, as `DatasetReport.invalid_rows` has them."""

    def __init__(self, path: str | os.PathLike[str], *, positions: bool = False, multi: bool = False,
                 what: str = "rows"):
        self.path = Path(path)
        self.kind = self.path.suffix.lower()
        self.positions, self.multi, self.what = positions, multi, what
        if self.kind not in SINK_SUFFIXES:
            raise ValueError(f"{self.path}: {what} are written as .parquet, .jsonl, .ndjson or .csv "
                             f"(the format follows the suffix), not {self.kind or '(no suffix)'!r}")
        self.count = 0
        self._fh: Any = None
        self._parts: list[tuple[Path, str | None, dict[str, pl.DataType]]] = []
        self._tmp: Path | None = None
        self._columns: dict[str, pl.DataType] | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.kind in (".jsonl", ".ndjson"):
                self._fh = open(self.path, "wb")  # noqa: SIM115 - closed by close()
            else:
                self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=self.path.parent))
        except OSError as exc:
            raise DataReadError(f"{self.path}: cannot write: {exc.strerror or exc}") from None

    def write(self, rows: pl.DataFrame, source: str | None = None) -> None:
        """Append canonical rows (`io.frames`) of the input `source` names."""
        label = source if self.multi else None
        if not rows.height:  # no rows, but the columns: a file of none still has them
            if self._tmp is not None and not self._parts and self._columns is None:
                self._columns = valued_schema(user_rows(rows))
            return
        try:
            if self._fh is not None:
                view = user_rows(rows, form="json", positions=self.positions, source=label)
                self._fh.write(("\n".join(jsonl_lines(view).to_list()) + "\n").encode("utf-8", "surrogatepass"))
            else:
                assert self._tmp is not None
                part = self._tmp / f"{len(self._parts):06d}.parquet"
                rows.write_parquet(part)
                schema = valued_schema(user_rows(rows))
                self._parts.append((part, label, schema))
        except OSError as exc:
            raise DataReadError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self.count += rows.height

    def close(self, columns: Sequence[str] | None = None) -> None:
        """Finish the file; `columns`: the input's columns, in order (`io.views.input_columns` of every
        batch), which the file has whichever rows it holds; None: the columns of the rows written."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tmp is None:
            return
        try:
            schemas = [s for _, _, s in self._parts] or ([self._columns] if self._columns is not None else [])
            form = "text" if self.kind == ".csv" else "values"
            if form == "text":
                names = list(dict.fromkeys(n for s in schemas for n in s)) if columns is None else list(columns)
                schema, text = dict.fromkeys(names, pl.String()), frozenset()
            else:
                schema, text = view_plan(schemas)
                if columns is not None:
                    schema = {name: schema.get(name, pl.Null()) for name in columns}
            where = position_names(schema, source=self.multi) if self.positions else None
            full = schema
            if where is not None:
                src, row, raw = where
                full = {**({src: pl.String()} if src is not None else {}),
                        row: pl.String() if form == "text" else pl.Int64(), **schema, raw: pl.String()}
            with FrameSink(self.path, full, self.what) as sink:
                for part, label, _ in self._parts:
                    rows = pl.read_parquet(part)
                    view = fit(user_rows(rows, form=form, as_text=text), schema)
                    sink.write(view if where is None else with_positions(view, rows, where, label, form))
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> RowSink:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["SINK_SUFFIXES", "FrameSink", "RowSink"]
