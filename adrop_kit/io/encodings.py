"""Text files that are not UTF-8: a CSV saved by Excel on Korean Windows is CP949 (EUC-KR's
superset), and is read as such, said once in the report, instead of every row being "not valid
UTF-8". What is decided from a file's first `DECIDE_BYTES` (the same bytes however the file is read,
whole or in batches of any size, so the verdict of a row never depends on the batch size):

- valid UTF-8 (a multi-byte character cut by the block's end allowed): read as it is;
- else, when the block decodes cleanly as one of `GUESSES`: the file is transcoded to UTF-8 as it
  streams, and the report's note names the encoding (`encoding=` sets it instead of guessing);
- else: read as it is (the rows that are not UTF-8 are E001), with a note saying how to name the
  encoding.

A byte that the chosen encoding cannot decode further in is kept (surrogate escape), so its row is
an E001 row naming it rather than a silently altered value.
"""

from __future__ import annotations

import codecs
from typing import Any, BinaryIO

DECIDE_BYTES = 1 << 20
"""How much of the start of a text file its encoding is decided from (`choose`)."""
GUESSES = ("cp949",)
"""Encodings tried, in order, on a text file that is not UTF-8 (CP949 decodes EUC-KR too)."""
NAMES = {"cp949": "CP949 / EUC-KR (Excel on Korean Windows)"}


def valid_utf8(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether data[start:end] is UTF-8 (no character cut at the end), checked without a copy: pyarrow's
    validation (~1 GB/s; a text file read whole would otherwise be decoded once just to ask)."""
    if end is None and data.isascii():  # (stops at the first byte that is not; not asked of a part, many are)
        return True
    end = len(data) if end is None else end
    import pyarrow as pa

    offsets = pa.array([start, end], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _utf8(block: bytes) -> bool:
    """Whether `block` is UTF-8, a multi-byte character cut by its end allowed."""
    cut = len(block)  # before the last character's lead byte, when a character may be cut there
    for i in range(len(block) - 1, max(len(block) - 4, 0) - 1, -1):
        if block[i] & 0xC0 != 0x80:  # not a continuation byte
            cut = i if block[i] >= 0xC0 else cut
            break
    if not valid_utf8(block, 0, cut):
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(block[cut:], final=False)
        return True
    except UnicodeDecodeError:
        return False


def choose(block: bytes, label: str, encoding: str | None = None) -> tuple[str | None, str | None]:
    """(the encoding to transcode from, or None; a note for the report, or None) for a file starting with
    `block`, decided from its first `DECIDE_BYTES` (a caller hands at least those, or the whole file)."""
    block = block[:DECIDE_BYTES]
    if encoding is not None:
        name = codecs.lookup(encoding).name  # LookupError for an unknown one: a usage error
        if name.startswith(("utf-16", "utf-32")) and b"\x00" not in block:  # decoded from its byte order mark
            return None, None
        return (None if name == "utf-8" else name), None
    if _utf8(block):
        return None, None
    for guess in GUESSES:
        try:
            codecs.getincrementaldecoder(guess)().decode(block, final=False)
        except UnicodeDecodeError:
            continue
        return guess, (f"{label}: not UTF-8; read as {NAMES.get(guess, guess)}. If the text looks wrong, "
                       "name the encoding (--encoding, encoding=) or save the file as UTF-8")
    return None, (f"{label}: not UTF-8 text, nor {', '.join(GUESSES)}; name its encoding (--encoding latin-1, "
                  "encoding='shift_jis', …) or save it as UTF-8")


def transcode(data: bytes, encoding: str) -> bytes:
    """Bytes of `encoding` as UTF-8 (an undecodable byte kept, so its row is reported, not altered)."""
    return data.decode(encoding, "surrogateescape").encode("utf-8", "surrogateescape")


class Transcoder:
    """A binary stream of UTF-8 bytes read from a stream in another encoding (`read(n)` as a file's)."""

    def __init__(self, raw: BinaryIO, encoding: str, head: bytes = b""):
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder(encoding)("surrogateescape")
        self.pending = self._convert(head, final=False)
        self.done = False

    def _convert(self, data: bytes, *, final: bool) -> bytes:
        return self.decoder.decode(data, final=final).encode("utf-8", "surrogateescape")

    def read(self, n: int = -1) -> bytes:
        while not self.done and (n < 0 or len(self.pending) < n):
            chunk = self.raw.read(1 << 16 if n < 0 else max(n, 1 << 16))
            if not chunk:
                self.pending += self._convert(b"", final=True)
                self.done = True
            else:
                self.pending += self._convert(chunk, final=False)
        if n < 0:
            out, self.pending = self.pending, b""
        else:
            out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def close(self) -> None:
        self.raw.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


__all__ = ["DECIDE_BYTES", "GUESSES", "Transcoder", "choose", "transcode", "valid_utf8"]
