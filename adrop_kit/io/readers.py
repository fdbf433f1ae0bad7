"""Reading datasets (CSV, JSONL/NDJSON, a JSON array, Parquet, frames, lists of dicts) into a
canonical `Frame`.

A file that cannot be read at all raises `DataReadError` naming it, on one line; a row that
cannot be read becomes an E001 row (see `adrop_kit.io.frames`), so nothing is dropped. Each file
is read once (`io.source`: regular files, FIFOs, encodings, binary data), then by its format:
`io.read_csv` (with `io.csv_records`), `io.read_json`, `io.read_parquet`. Directories, globs, lists
of files, `.gz`/`.zst` and `-` (standard input) are resolved by `io.parts`; big inputs are read in
batches by `io.stream`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.io.frames import Frame, from_polars, from_records, without_reserved
from adrop_kit.io.pandas_frames import from_pandas
from adrop_kit.io.parts import is_paths, resolve_inputs
from adrop_kit.io.stream import whole_frame
from adrop_kit.spec.catalog import Catalog


def to_frame(data: Any, catalog: Catalog, *, delimiter: str | None = None) -> Frame:
    """Any supported input → a canonical `Frame`; `DataReadError` for what cannot be read at all.
    `delimiter`: a CSV file's field separator (`,` `;` tab `|`); None sniffs it."""
    if isinstance(data, Frame):
        return data
    if is_paths(data):
        return read_path(data, catalog, delimiter=delimiter)
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        return from_polars(without_reserved(data), catalog)
    mod = type(data).__module__
    if mod.startswith("pandas") and hasattr(data, "columns"):
        return from_pandas(data, catalog)
    if isinstance(data, Mapping):
        return from_records([data], catalog)
    if isinstance(data, Iterable) and not isinstance(data, (bytes, bytearray)):
        return from_records(list(data), catalog)
    raise DataReadError(f"cannot read a {type(data).__name__}: pass a file path, a pandas or polars DataFrame, "
                        "or a list of event dicts")


def read_path(path: str | Path | Sequence[str | Path], catalog: Catalog, *, delimiter: str | None = None) -> Frame:
    """One file (compressed or not; `-` for standard input) read whole. A directory, a glob or a
    list of files holds several parts: `validate_events` and `Sender.send_all` read those part by part."""
    inputs = resolve_inputs(path)
    if inputs.multi or len(inputs.parts) != 1:
        raise DataReadError(f"{inputs.label}: {len(inputs.parts)} files make no single frame; pass it to "
                            "validate_events(...) or Sender.send_all(...), which read it part by part")
    return whole_frame(inputs.parts[0], catalog, delimiter=delimiter)
