"""The rows of an export, batch by batch, as parsed: newline-delimited JSON (BigQuery's JSON export,
whatever its suffix: `.json`, `.jsonl`, `.ndjson`, `.gz`/`.zst`), a JSON array, or Parquet.

Inputs are resolved by `io.parts` (files, directories of daily parts, globs, lists, `-`). A line
that is not JSON stays a row (its text), so it is counted and reported, never dropped.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from adrop_kit.errors import DataReadError
from adrop_kit.io.parts import CSV_FORMATS, Inputs, Part, open_part, read_block, read_part

DEFAULT_ROWS = 20_000
"""Rows per batch: a GA4 row is a few KB of JSON, so a batch stays within tens of MB."""
_BLOCK = 1 << 22


@dataclass
class RowBatch:
    """Rows of one part, the first at position `first_row` in its file."""

    part_index: int
    source: str
    first_row: int
    rows: list[Any]


def iter_rows(inputs: Inputs, *, batch_rows: int = DEFAULT_ROWS) -> Iterator[RowBatch]:
    """Every part's rows in batches of at most `batch_rows`, in input order."""
    for index, part in enumerate(inputs.parts):
        if part.fmt in CSV_FORMATS:
            raise DataReadError(f"{part.label}: an export is read from JSON (newline-delimited or an array) or "
                                "Parquet, not CSV")
        gen = _parquet(part, batch_rows) if part.fmt in (".parquet", ".pq") else _json(part, batch_rows)
        for first, rows in gen:
            yield RowBatch(index, part.label, first, rows)


def _parquet(part: Part, batch_rows: int) -> Iterator[tuple[int, list[Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(part.path if part.path is not None else pa.BufferReader(read_part(part)))
        first = 0
        for batch in pf.iter_batches(batch_size=batch_rows):
            rows = batch.to_pylist()
            yield first, rows
            first += len(rows)
    except (OSError, pa.ArrowException) as exc:
        raise DataReadError(f"{part.label}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None


def _json(part: Part, batch_rows: int) -> Iterator[tuple[int, list[Any]]]:
    fh = open_part(part)
    try:
        head = read_block(fh, part, _BLOCK)
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        if part.fmt == ".json" and head.lstrip()[:1] == b"[":  # an array: read whole (it cannot be cut at lines)
            data = head + b"".join(iter(lambda: read_block(fh, part, _BLOCK), b""))
            try:
                rows = orjson.loads(data)
            except orjson.JSONDecodeError:  # newline-delimited rows, the first of them an array
                yield from _lines(data, io.BytesIO(), part, batch_rows)
                return
            for start in range(0, len(rows), batch_rows):
                yield start, rows[start:start + batch_rows]
            return
        yield from _lines(head, fh, part, batch_rows)
    finally:
        if part.path is not None:
            fh.close()


def _lines(head: bytes, fh: Any, part: Part, batch_rows: int) -> Iterator[tuple[int, list[Any]]]:
    """Rows of newline-delimited JSON (blank lines are no rows), numbered from 0."""
    buf, rows, first = head, [], 0
    eof = not head
    while buf or not eof:
        more = b"" if eof else read_block(fh, part, _BLOCK)
        eof = eof or not more
        buf += more
        cut = len(buf) if eof else buf.rfind(b"\n") + 1
        if cut == 0:
            continue
        chunk, buf = buf[:cut], buf[cut:]
        for line in chunk.split(b"\n"):
            if line.strip():
                rows.append(_parse(line))
                if len(rows) >= batch_rows:
                    yield first, rows
                    first += len(rows)
                    rows = []
    if rows:
        yield first, rows


def _parse(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return line.decode("utf-8", "replace")[:200]


__all__ = ["DEFAULT_ROWS", "RowBatch", "iter_rows"]
