"""Reading datasets (CSV, JSONL/NDJSON, a JSON array, Parquet, frames, lists of dicts) into a
canonical `Frame`.

A file that cannot be read at all raises `DataReadError` naming it, on one line; a row that
cannot be read becomes an E001 row (see `adrop_kit.io.frames`), so nothing is dropped. Each file
is read once (`io.source`: regular files, FIFOs, encodings, binary data), then by its format:
`io.read_csv` (with `io.csv_records`), `io.read_json`, `io.read_parquet`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.io.frames import Frame, from_pandas, from_polars, from_records
from adrop_kit.io.read_csv import read_csv
from adrop_kit.io.read_json import read_json, read_jsonl
from adrop_kit.io.read_parquet import read_parquet
from adrop_kit.io.source import file_size, is_blank, read_file, utf8_text
from adrop_kit.spec.catalog import Catalog

TEXT_READERS: dict[str, Callable[[bytes, str, Catalog], Frame]] = {
    ".csv": read_csv, ".jsonl": read_jsonl, ".ndjson": read_jsonl, ".json": read_json}
PARQUET_SUFFIXES = (".parquet", ".pq")


def to_frame(data: Any, catalog: Catalog, *, delimiter: str | None = None) -> Frame:
    """Any supported input → a canonical `Frame`; `DataReadError` for what cannot be read at all.
    `delimiter`: a CSV file's field separator (`,` `;` tab `|`); None sniffs it."""
    if isinstance(data, Frame):
        return data
    if isinstance(data, (str, Path)):
        return read_path(data, catalog, delimiter=delimiter)
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        return from_polars(data, catalog)
    mod = type(data).__module__
    if mod.startswith("pandas") and hasattr(data, "columns"):
        return from_pandas(data, catalog)
    if isinstance(data, Mapping):
        return from_records([data], catalog)
    if isinstance(data, Iterable) and not isinstance(data, (bytes, bytearray)):
        return from_records(list(data), catalog)
    raise DataReadError(f"cannot read a {type(data).__name__}: pass a file path, a pandas or polars DataFrame, "
                        "or a list of event dicts")


def read_path(path: str | Path, catalog: Catalog, *, delimiter: str | None = None) -> Frame:
    p = Path(path)
    suffix = p.suffix.lower()
    reader = TEXT_READERS.get(suffix)
    if reader is None and suffix not in PARQUET_SUFFIXES:
        raise DataReadError(f"{p}: unknown file type {suffix or '(no suffix)'!r}; "
                            "expected .csv, .jsonl, .ndjson, .json or .parquet")
    if reader is None:  # Parquet: polars reads the file itself (it seeks); only its size is looked at here
        if not file_size(p, stream_ok=False):
            return from_records([], catalog, source=str(p))  # an empty file holds no events
        try:
            return read_parquet(p, catalog)
        except OSError as exc:
            raise DataReadError(f"{p}: cannot read: {exc.strerror or exc}") from None
    data = utf8_text(read_file(p), p)
    if is_blank(data):
        return from_records([], catalog, source=str(p))  # an empty file holds no events
    if reader is read_csv:
        return read_csv(data, str(p), catalog, delimiter=delimiter)
    return reader(data, str(p), catalog)
