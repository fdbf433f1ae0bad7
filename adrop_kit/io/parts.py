"""Inputs as exports come: one file, a directory of part files, a glob, a list of paths, or `-`.

`resolve_inputs(data)` turns what a user passes into a list of `Part`s, each with the label that
names its rows in reports (the `source` column):

- a file: its path as given;
- a directory: every dataset file under it, recursively and in sorted order (Spark/Hive layouts
  such as `export/dt=2026-11-01/part-00000.jsonl.gz`), labelled by its path relative to the
  directory. What writers leave beside the data is skipped and listed in `Inputs.skipped`: hidden
  files and folders (`.part-00000.crc`, `.DS_Store`), `_`-named ones (`_SUCCESS`, `_temporary/`,
  `_committed_…`), `.crc` checksums and files of no dataset format. A directory with nothing
  readable in it is a `DataReadError`, not an empty success;
- a glob (`'export/*.jsonl'`, `'logs/**/*.csv.gz'`): the files it matches, sorted;
- a list or tuple of paths: each of the above, in the order given; formats may be mixed;
- `-`: standard input, read as JSONL (a stream, never held whole when streamed).

Compression is a second suffix: `.gz` (gzip) and `.zst`/`.zstd` (Zstandard) for JSONL, NDJSON,
CSV and JSON, decompressed as a stream (pyarrow's codecs: no extra dependency). Parquet files
carry their own compression; `.parquet.gz` is refused.
"""

from __future__ import annotations

import glob
import os
import stat
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from adrop_kit.errors import DataReadError
from adrop_kit.io.source import file_size

TEXT_FORMATS = (".csv", ".jsonl", ".ndjson", ".json")
PARQUET_FORMATS = (".parquet", ".pq")
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
STDIN = "-"
STDIN_LABEL = "<stdin>"
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Part:
    """One file of an input: where it is, how its rows are labelled, its format and compression."""

    path: Path | None  # None: standard input
    label: str
    fmt: str  # ".csv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq"
    compression: str | None = None  # "gzip" | "zstd"
    encoding: str | None = None  # a text part's encoding, when named (`io.encodings`; None: UTF-8, else guessed)

    @property
    def size(self) -> int | None:
        """Bytes on disk (compressed if compressed), None for a stream."""
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_size if stat.S_ISREG(st.st_mode) else None


@dataclass
class Inputs:
    """What an input resolved to: its parts, the files skipped beside them, and a label for all."""

    parts: list[Part]
    label: str
    multi: bool = False
    """True for a directory, a glob or a list: rows are named by (source, row), and journal keys
    include the source (a single file keeps the keys it always had)."""
    skipped: list[str] = field(default_factory=list)


def is_paths(data: Any) -> bool:
    """A path, `-`, or a non-empty list/tuple of paths, not a list of events: each item a `Path`, or
    a string naming an existing file or directory or ending in a dataset suffix (`a.jsonl.gz`, `*.csv`)."""
    if isinstance(data, (str, Path)):
        return True
    return isinstance(data, (list, tuple)) and bool(data) and all(_path_like(d) for d in data)


def _path_like(item: Any) -> bool:
    if isinstance(item, Path):
        return True
    if not isinstance(item, str) or not item or len(item) > 4096 or "\n" in item:
        return False
    return item == STDIN or format_of(Path(item))[0] is not None or os.path.exists(item)


def format_of(path: Path) -> tuple[str | None, str | None]:
    """(format suffix, compression) from a file name: `a.jsonl.gz` → (".jsonl", "gzip")."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = None
    if suffixes and suffixes[-1] in COMPRESSIONS:
        compression = COMPRESSIONS[suffixes.pop()]
    fmt = suffixes[-1] if suffixes else None
    if fmt in TEXT_FORMATS or (fmt in PARQUET_FORMATS and compression is None):
        return fmt, compression
    return None, compression


def _unknown_type(p: Path) -> DataReadError:
    _, comp = format_of(p)
    shown = p.suffix or "(no suffix)"
    hint = "Parquet carries its own compression" if comp and p.suffixes[-2:-1] and \
        p.suffixes[-2].lower() in PARQUET_FORMATS else "expected .csv, .jsonl, .ndjson, .json or .parquet"
    return DataReadError(f"{p}: unknown file type {shown!r}; {hint} (.gz/.zst for the text formats)")


def _file_part(p: Path, label: str) -> Part:
    fmt, comp = format_of(p)
    if fmt is None:
        raise _unknown_type(p)
    return Part(p, label, fmt, comp)


def _walk(root: Path) -> tuple[list[Part], list[str]]:
    parts: list[Part] = []
    skipped: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        base = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            if d.startswith((".", "_")) and "=" not in d:  # _temporary/, .spark-staging; Hive keys have `=`
                skipped.append(str((base / d).relative_to(root)) + "/")
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            p = base / name
            rel = str(p.relative_to(root))
            fmt, _ = format_of(p)
            if name.startswith((".", "_")) or name.lower().endswith(".crc") or fmt is None:
                skipped.append(rel)
            else:
                parts.append(_file_part(p, rel))
    parts.sort(key=lambda part: part.label)
    return parts, sorted(skipped)


def _one(item: str | Path, *, listed: bool) -> tuple[list[Part], list[str], bool]:
    """(parts, skipped, several parts possible) for one path, directory, glob or `-`."""
    text = str(item)
    if text == STDIN:
        return [Part(None, STDIN_LABEL, ".jsonl")], [], False
    p = Path(item)
    if p.is_dir():
        parts, skipped = _walk(p)
        if not parts:
            seen = f" (skipped: {', '.join(skipped[:5])}{' …' if len(skipped) > 5 else ''})" if skipped else ""
            raise DataReadError(f"{p}: no dataset files in this directory{seen}; expected .csv, .jsonl, .ndjson, "
                                ".json or .parquet files (.gz/.zst allowed)")
        return parts, skipped, True
    if not p.exists() and _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(text, recursive=True))
        files = [Path(m) for m in matches if Path(m).is_file()]
        if not files:
            raise DataReadError(f"{text}: the pattern matches no file")
        parts, skipped = [], []
        for f in files:
            fmt, _ = format_of(f)
            if f.name.startswith((".", "_")) or f.name.lower().endswith(".crc") or fmt is None:
                skipped.append(str(f))
            else:
                parts.append(_file_part(f, str(f)))
        if not parts:
            raise DataReadError(f"{text}: the pattern matches no dataset file (only {', '.join(skipped[:5])})")
        return parts, skipped, True
    file_size(p)  # one line for a missing file, a device, …
    return [_file_part(p, text)], [], listed


def resolve_inputs(data: str | Path | Sequence[str | Path]) -> Inputs:
    """A path, directory, glob, `-` or list of them → its `Inputs` (see the module docstring)."""
    items: Iterable[str | Path] = [data] if isinstance(data, (str, Path)) else data
    items = list(items)
    parts: list[Part] = []
    skipped: list[str] = []
    multi = len(items) > 1
    for item in items:
        got, skip, several = _one(item, listed=multi)
        parts.extend(got)
        skipped.extend(skip)
        multi = multi or several
    labels = [p.label for p in parts]
    if len(set(labels)) != len(labels):
        dup = next(x for x in labels if labels.count(x) > 1)
        raise DataReadError(f"{dup}: given twice; each file may be read once in one run")
    if sum(p.path is None for p in parts) > 1:
        raise DataReadError("-: standard input can be read once in one run")
    label = str(items[0]) if len(items) == 1 else f"{len(parts)} files"
    return Inputs(parts, STDIN_LABEL if label == STDIN else label, multi, skipped)


def with_encoding(inputs: Inputs, encoding: str | None) -> Inputs:
    """`inputs` whose text parts are read as `encoding` (None: UTF-8, or guessed when they are not)."""
    if encoding is None:
        return inputs
    parts = [replace(p, encoding=encoding) for p in inputs.parts]
    return Inputs(parts, inputs.label, inputs.multi, inputs.skipped)


def open_part(part: Part) -> BinaryIO:
    """A binary stream of the part's (decompressed) bytes. DataReadError with one line if it cannot."""
    if part.path is None:
        return sys.stdin.buffer
    file_size(part.path)  # refuses devices, sockets, directories with one line
    try:
        if part.compression is None:
            return open(part.path, "rb")  # noqa: SIM115 - the caller closes it
        import pyarrow as pa

        return pa.input_stream(str(part.path), compression=part.compression)  # type: ignore[return-value]
    except OSError as exc:
        raise DataReadError(f"{part.label}: cannot read: {exc.strerror or exc}") from None


def read_part(part: Part) -> bytes:
    """All of a part's (decompressed) bytes: for the in-memory path and formats that cannot stream."""
    if part.path is not None and part.compression is None and file_size(part.path) is not None:
        try:
            return part.path.read_bytes()  # a regular file: read once, in one call
        except OSError as exc:
            raise DataReadError(f"{part.label}: cannot read: {exc.strerror or exc}") from None
    fh = open_part(part)
    try:
        chunks = []
        while chunk := read_block(fh, part, 1 << 24):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        if part.path is not None:
            fh.close()


def read_block(fh: BinaryIO, part: Part, n: int) -> bytes:
    """Up to `n` bytes (fewer only at the end); a corrupt compressed stream is one DataReadError line."""
    try:
        out = fh.read(n)
        while out and len(out) < n:  # a pipe or a codec hands over what it has: fill the block
            more = fh.read(n - len(out))
            if not more:
                break
            out += more
        return out or b""
    except (OSError, ValueError) as exc:  # pyarrow: ArrowIOError / ArrowInvalid
        what = f"not valid {part.compression} data" if part.compression else "cannot read"
        raise DataReadError(f"{part.label}: {what} ({str(exc).splitlines()[0] if str(exc) else exc})") from None


__all__ = ["COMPRESSIONS", "PARQUET_FORMATS", "STDIN", "STDIN_LABEL", "TEXT_FORMATS", "Inputs", "Part",
           "format_of", "is_paths", "open_part", "read_block", "read_part", "resolve_inputs", "with_encoding"]
