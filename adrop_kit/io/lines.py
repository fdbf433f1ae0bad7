"""A text file cut into lines, over its bytes (no copy): what the JSONL reader's two lanes share."""

from __future__ import annotations

import codecs
import mmap
import threading
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

FileBytes = bytes | mmap.mmap
"""A file's bytes: read into memory, or mapped (`io.source.map_file`: read where the page cache holds them)."""


@dataclass
class Lines:
    """A file cut into lines (each with its line end), as one Arrow array over the file's bytes."""

    data: FileBytes
    offsets: np.ndarray  # line i is data[offsets[i]:offsets[i + 1]]

    @classmethod
    def of(cls, data: FileBytes) -> Lines:
        raw = np.frombuffer(data, np.uint8)
        step = 1 << 22  # in blocks that stay in cache: 7x one pass over a 180 MB mask
        ends = np.concatenate([np.flatnonzero(raw[i:i + step] == 10) + i for i in range(0, len(raw), step)]
                              or [np.empty(0, np.int64)])
        offsets = np.empty(len(ends) + 2, np.int64)
        offsets[0], offsets[1:-1], offsets[-1] = 0, ends + 1, len(data)
        if offsets[-2] == len(data):  # a final line end: no empty line after it
            offsets = offsets[:-1]
        return cls(data, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def line(self, i: int) -> bytes:
        return self.data[self.offsets[i]:self.offsets[i + 1]].rstrip(b"\n")

    def binary(self, lo: int = 0, hi: int | None = None) -> pl.Series:
        """Lines lo..hi (all by default) as a Binary series over the file's bytes (no copy)."""
        hi = len(self) if hi is None else hi
        offsets = self.offsets[lo:hi + 1]
        arr = pa.LargeBinaryArray.from_buffers(pa.large_binary(), hi - lo,
                                               [None, pa.py_buffer(offsets), pa.py_buffer(self.data)])
        return pl.Series(pl.from_arrow(arr))


_noted = threading.local()


def _note(exc: UnicodeError) -> tuple[str, int]:
    _noted.where.append(exc.start)  # type: ignore[attr-defined]
    return "\ufffd", exc.end  # type: ignore[attr-defined]


codecs.register_error("adrop_kit.note", _note)


def invalid_utf8_lines(lines: Lines, lo: int, hi: int) -> np.ndarray:
    """Indices (from lo) of the lines lo..hi that hold bytes that are not UTF-8: blocks of lines are
    validated where they lie (pyarrow, no copy), and only a block that fails is decoded, in C, to
    name its lines."""
    offsets = lines.offsets[lo:hi + 1]
    whole = pa.Array.from_buffers(pa.large_string(), hi - lo,
                                  [None, pa.py_buffer(offsets), pa.py_buffer(lines.data)])
    found: list[np.ndarray] = []
    for a in range(0, hi - lo, _UTF8_BLOCK):
        b = min(a + _UTF8_BLOCK, hi - lo)
        try:
            whole.slice(a, b - a).validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        _noted.where = []
        start = int(offsets[a])
        lines.data[start:int(offsets[b])].decode("utf-8", "adrop_kit.note")
        found.append(np.array(_noted.where, np.int64) + start)
    at = np.concatenate(found) if found else np.empty(0, np.int64)
    return np.unique(np.searchsorted(offsets, at, side="right") - 1)


_UTF8_BLOCK = 1024  # lines validated at once (a block with a bad line is decoded whole)


__all__ = ["FileBytes", "Lines", "invalid_utf8_lines"]
