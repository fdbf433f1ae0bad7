"""Getting a dataset file's bytes, once, and as UTF-8 text: what every file reader starts from.

- A regular file is read once (the empty-file check looks at those bytes, not at the file again).
- A FIFO (a named pipe, `mkfifo`, or a shell's `<(...)`) is read as a stream until its writer
  closes it: JSONL, CSV and JSON can come through one. Parquet cannot (it needs to seek).
- Anything else that is not a regular file (a character device such as `/dev/zero`, a block
  device, a socket) is refused with one line naming what it is: such a "file" can be endless.
- Text: a UTF-8 byte order mark is skipped; UTF-16 and UTF-32 files with a byte order mark are
  decoded (as they stream: `Decoded`; refused, naming the encoding and the byte, if they do not
  decode); binary data (a NUL byte in
  the first `SNIFF_BYTES`) is refused at once with a clear message. Invalid UTF-8 further in is
  not refused here: the readers make the line or record that holds it an E001 row.
"""

from __future__ import annotations

import codecs
import mmap
import os
import stat
from pathlib import Path
from typing import BinaryIO

from adrop_kit.errors import DataReadError
from adrop_kit.io.encodings import Transcoder
from adrop_kit.spec.rules import MAX_EVENT_BYTES
from adrop_kit.support.labels import escape

READ_BOUND = 16 * MAX_EVENT_BYTES
"""A JSONL line or a CSV record longer than this (1 MiB, 16 times the event limit) is an E001 row
(SIZE_MESSAGE) without being parsed or decoded: reading stays linear in the file whatever it holds.
Rows under it are parsed; whether their event is over the 64 KiB limit is judged on the event."""
SNIFF_BYTES = 8192
"""A NUL byte this early means binary data (the same window git uses), not a text dataset."""
CHUNK = 1 << 20

_BOMS = (  # UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISFIFO, "a FIFO"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def file_size(p: Path, *, stream_ok: bool = True) -> int | None:
    """The size of a regular file, None for a FIFO that may be read as a stream (`stream_ok`);
    DataReadError with a one-line reason for anything else (missing, a directory, a device)."""
    try:
        st = os.stat(p)  # follows symlinks: a link to /dev/zero is a character device
    except FileNotFoundError:
        raise DataReadError(f"{escape(p)}: no such file") from None
    except OSError as exc:
        raise DataReadError(f"{escape(p)}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise DataReadError(f"{escape(p)}: is a directory, not a dataset file")
    if stat.S_ISREG(st.st_mode):
        return st.st_size
    if stat.S_ISFIFO(st.st_mode) and stream_ok:
        return None
    hint = "this format needs a regular file" if stat.S_ISFIFO(st.st_mode) else \
        "pass a regular file (or a FIFO of JSONL, CSV or JSON)"
    raise DataReadError(f"{escape(p)}: not a regular file ({file_kind(st.st_mode)}); {hint}")


def read_file(p: Path) -> bytes:
    """The bytes of `p`, read once: a regular file, or a FIFO read to its end. Anything else is
    refused (`file_size`). Raises DataReadError with a one-line reason."""
    size = file_size(p)
    try:
        if size is not None:
            return p.read_bytes()
        with open(p, "rb", buffering=0) as fh:
            first = fh.read(CHUNK) or b""
            if (at := first.find(b"\x00", 0, SNIFF_BYTES)) >= 0:  # /dev/zero piped in: stop before memory fills
                raise DataReadError(_binary(p, at))
            parts = [first]
            while chunk := fh.read(CHUNK):
                parts.append(chunk)
        return b"".join(parts)
    except DataReadError:
        raise
    except OSError as exc:
        raise DataReadError(f"{escape(p)}: cannot read: {exc.strerror or exc}") from None


def _binary(p: Path, at: int) -> str:
    return (f"{escape(p)}: binary data, not text (a NUL byte at byte {at:,}); if it is compressed, decompress it; "
            "if it is UTF-16 text without a byte order mark, save it as UTF-8")


def utf8_text(data: bytes, p: Path, *, skip_bom: bool = True) -> bytes:
    """`data` as UTF-8 bytes: a UTF-8 byte order mark skipped, UTF-16/UTF-32 with a byte order mark
    decoded (one mark only: `skip_bom=False` for text decoded from such a file already). Binary data
    (a NUL byte within the first SNIFF_BYTES) raises DataReadError."""
    if skip_bom and data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    elif skip_bom and (found := bom_of(data)) is not None:
        bom, codec, name = found
        try:
            data = data[len(bom):].decode(codec).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataReadError(_undecodable(p, name, exc.reason, exc.start + len(bom))) from None
    at = data.find(b"\x00", 0, SNIFF_BYTES)
    if at >= 0:
        raise DataReadError(_binary(p, at))
    return data


def bom_of(data: bytes) -> tuple[bytes, str, str] | None:
    """(mark, codec, name) of the UTF-16/UTF-32 byte order mark `data` starts with, or None."""
    return next((b for b in _BOMS if data.startswith(b[0])), None)


def _undecodable(label: str | Path, name: str, reason: str, at: int) -> str:
    return f"{escape(label)}: not valid {name} text ({reason} at byte {at:,}); save it as UTF-8"


class Decoded(Transcoder):
    """A UTF-16/UTF-32 stream read as UTF-8 bytes, decoded as it is read (a `Transcoder`), so a big file
    is never held whole. `head`: what was read already, after the byte order mark (`start` bytes).
    Unlike a guessed encoding's, bytes that do not decode are a DataReadError naming the byte, as
    `utf8_text` names it for a file read whole."""

    def __init__(self, raw: BinaryIO, codec: str, name: str, label: str, *, head: bytes, start: int):
        self.name, self.label = name, label
        self._decode = getattr(codecs, codec.replace("-", "_") + "_decode")  # (data, errors, final) -> (str, used)
        self.tail, self.at = b"", start  # bytes not decoded yet (a code unit cut in two), where they start
        super().__init__(raw, codec, head)

    def _convert(self, data: bytes, *, final: bool) -> bytes:
        data = self.tail + data
        try:
            text, used = self._decode(data, "strict", final)
        except UnicodeDecodeError as exc:
            raise DataReadError(_undecodable(self.label, self.name, exc.reason, self.at + exc.start)) from None
        self.tail, self.at = data[used:], self.at + used
        return text.encode("utf-8")


MAP_FROM = 1 << 20
"""From this size on, a JSONL file read whole is mapped (`map_file`) rather than copied into memory."""


def map_file(p: Path) -> mmap.mmap | None:
    """A regular file of MAP_FROM bytes or more, mapped read-only: its bytes read where the page
    cache holds them, not copied first (0.11 s for 183 MB). Only a file that starts as UTF-8 text (no
    byte order mark, no NUL byte in its first SNIFF_BYTES: what `utf8_text` passes as it is); None for
    any other, and where mapping fails, so the caller reads it."""
    try:
        if (file_size(p, stream_ok=True) or 0) < MAP_FROM:
            return None
        with open(p, "rb") as fh:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (DataReadError, OSError, ValueError):  # (the read that follows names the problem)
        return None
    head = mapped[:SNIFF_BYTES]
    try:
        plain = utf8_text(head, p) is head  # no byte order mark to skip or decode, no NUL byte
    except DataReadError:
        plain = False
    if not plain:
        mapped.close()
        return None
    return mapped


def is_blank(data: bytes | mmap.mmap) -> bool:
    """Nothing but whitespace (an empty file holds no events). Stops at the first other byte."""
    if not len(data):
        return True
    if isinstance(data, bytes):
        return data.isspace()
    return data[:SNIFF_BYTES].isspace() and bytes(data).isspace()  # a mapped file (`map_file`)


__all__ = ["CHUNK", "MAP_FROM", "READ_BOUND", "SNIFF_BYTES", "Decoded", "bom_of", "file_kind", "file_size", "is_blank",
           "map_file", "read_file", "utf8_text"]
