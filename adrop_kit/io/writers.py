"""Writing a frame of events to CSV, JSONL/NDJSON, a JSON array or Parquet (the format by suffix).

The inverse of `adrop_kit.io.readers`: nulls are absent (dropped in JSON, empty cells in CSV) and
a CSV `items` cell holds the items as a JSON array.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import orjson
import polars as pl

from adrop_kit.io.frames import to_payloads
from adrop_kit.spec.catalog import ITEMS, STANDARD

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet",
           ".pq": "parquet"}


def event_format(path: Path, fmt: str | None = None) -> str:
    """The format to write `path` in: `fmt`, or the one its suffix names; ValueError otherwise."""
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt not in FORMATS.values():
        raise ValueError(f"cannot tell the format of {path}; pass fmt= one of csv, jsonl, json, parquet")
    return fmt


def write_events(frame: pl.DataFrame, path: str | Path, *, fmt: str | None = None, keep: Iterable[str] = ()) -> Path:
    """Write a typed frame of events (one column per key) to `path`; `keep` names metadata columns to keep."""
    path = Path(path)
    fmt = event_format(path, fmt)
    keep = tuple(keep)
    if fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "csv":
        if ITEMS in frame.columns and frame.schema[ITEMS] != pl.String:
            items = [p.get(ITEMS) for _, p in to_payloads(frame.select(ITEMS), STANDARD)]
            cells = [orjson.dumps(v).decode() if v is not None else None for v in items]
            frame = frame.with_columns(pl.Series(ITEMS, cells, dtype=pl.String))
        frame.write_csv(path)
    else:
        events = [p for _, p in to_payloads(frame, STANDARD, keep=keep)]
        if fmt == "json":
            path.write_bytes(orjson.dumps(events))
        else:
            with path.open("wb") as fh:
                fh.writelines(orjson.dumps(e) + b"\n" for e in events)
    return path
