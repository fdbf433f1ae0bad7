"""Inputs as exports come: one file, a directory of part files, a glob, a list of paths, or `-`.

`resolve_inputs(data)` turns what a user passes into a list of `Part`s, each with the label that
names its rows in reports (the `source` column):

- a file: its path as given;
- a directory: every dataset file under it, recursively and in sorted order (Spark/Hive layouts
  such as `export/dt=2026-11-01/part-00000.jsonl.gz`), labelled by its path relative to the
  directory (`io/walk.py`). What writers leave beside the data is skipped and listed in
  `Inputs.skipped`: hidden files and folders (`.part-00000.crc`, `.DS_Store`), `_`-named ones
  (`_SUCCESS`, `_temporary/`, `_committed_…`), `.crc` checksums and files of no dataset format.
  An entry that cannot be read (no permission, a broken or looping link, a name that is not
  UTF-8) is a `DataReadError` naming it, or skipped and listed in `Inputs.unread` with
  `skip_unreadable=True`; a link out of the directory is read only with `follow_links=True`
  (listed in `Inputs.linked`); a file reached through several links is read once. A directory
  with nothing readable in it is a `DataReadError`, not an empty success;
- a glob (`'export/*.jsonl'`, `'logs/**/*.csv.gz'`): the files it matches, sorted;
- a list or tuple of paths: each of the above, in the order given; formats may be mixed; one file
  named twice under two names (`a.jsonl`, a link to it) is read once;
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
from adrop_kit.io.walk import Seen, Walk, Walker, beside_data, decodes
from adrop_kit.support.labels import escape

CSV_FORMATS = (".csv", ".tsv")
"""Read as delimited text: a `.tsv` file's fields are separated by tabs unless a delimiter is given."""
TEXT_FORMATS = (*CSV_FORMATS, ".jsonl", ".ndjson", ".json")
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
    fmt: str  # ".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq"
    compression: str | None = None  # "gzip" | "zstd"
    encoding: str | None = None  # a text part's encoding, when named (`io.encodings`; None: UTF-8, else guessed)

    def delimiter(self, given: str | None = None) -> str | None:
        """A CSV part's field separator: the one given, a tab for `.tsv`, else None (sniffed)."""
        return given if given is not None or self.fmt != ".tsv" else "\t"

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
    """What was left beside the data (`_SUCCESS`, `.crc` files, …) and a file or directory reached
    again through another link (read once)."""
    unread: list[str] = field(default_factory=list)
    """`name: why` for each entry that could not be read and was skipped (`skip_unreadable`)."""
    linked: list[str] = field(default_factory=list)
    """`name -> target` for each link out of an input directory that was followed (`follow_links`)."""
    given: list[str] = field(default_factory=list)
    """The paths, directories and globs as given (what identifies the input: `send.plan.input_identity`)."""


def is_paths(data: Any) -> bool:
    """A path, `-`, or a non-empty list/tuple of paths, not a list of events: each item a `Path`, or
    a string naming an existing file or directory or ending in a dataset suffix (`a.jsonl.gz`, `*.csv`)."""
    if isinstance(data, (str, Path, Inputs)):
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
        p.suffixes[-2].lower() in PARQUET_FORMATS else "expected .csv, .tsv, .jsonl, .ndjson, .json or .parquet"
    return DataReadError(f"{escape(p)}: unknown file type {escape(shown)!r}; {hint} (.gz/.zst for the text formats)")


def _file_part(p: Path, label: str) -> Part:
    fmt, comp = format_of(p)
    if fmt is None:
        raise _unknown_type(p)
    return Part(p, label, fmt, comp)


def _is_dataset(p: Path) -> bool:
    return format_of(p)[0] is not None


def _walk(root: Path, seen: Seen, **options: bool) -> Walk:
    return Walker(root, _is_dataset, seen, **options).run()


def _file(p: Path, label: str, seen: Seen, walk: Walk, *, skip_unreadable: bool) -> Part | None:
    """One named file (given, or matched by a glob) as a part; None when it is the same file as one
    already taken (listed), or unreadable and skipped (listed)."""
    try:
        file_size(p)  # one line for a missing file, a directory, a device, …
        if not decodes(str(p)):
            raise DataReadError(f"{escape(p)}: the file name is not valid UTF-8 (rename it)")
        st = os.stat(p)
        if stat.S_ISREG(st.st_mode) and not os.access(p, os.R_OK):
            raise DataReadError(f"{escape(p)}: cannot read: permission denied")
    except DataReadError as exc:
        if not skip_unreadable or "no such file" in str(exc):
            raise
        walk.unread.append(str(exc))
        return None
    part = _file_part(p, label)
    first = seen.take_file(st, label)
    if first is not None:
        walk.skipped.append(escape(f"{label} (the file {first} again: read once)"))
        return None
    return part


def _one(item: str | Path, seen: Seen, *, listed: bool, skip_unreadable: bool = False,
         follow_links: bool = False) -> tuple[list[Part], Walk, bool]:
    """(parts, what was not read, several parts possible) for one path, directory, glob or `-`."""
    text = str(item)
    if text == STDIN:
        return [Part(None, STDIN_LABEL, ".jsonl")], Walk(), False
    if not text:
        raise DataReadError("'': an empty path names no file (a shell variable left empty?)")
    p = Path(item)
    if p.is_dir():
        try:
            walk = _walk(p, seen, skip_unreadable=skip_unreadable, follow_links=follow_links)
        except DataReadError:
            raise
        except OSError as exc:
            raise DataReadError(f"{escape(p)}: cannot read this directory ({exc.strerror or exc})") from None
        if not walk.files:
            skipped = walk.skipped + walk.unread
            shown = f" (skipped: {', '.join(skipped[:5])}{' …' if len(skipped) > 5 else ''})" if skipped else ""
            raise DataReadError(f"{escape(p)}: no dataset files in this directory{shown}; expected .csv, .jsonl, "
                                ".ndjson, .json or .parquet files (.gz/.zst allowed)")
        return [_file_part(f, label) for f, label in walk.files], walk, True
    walk = Walk()
    if not p.exists() and _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(text, recursive=True))
        files = [Path(m) for m in matches if Path(m).is_file()]
        if not files:
            raise DataReadError(f"{escape(text)}: the pattern matches no file")
        parts = []
        for f in files:
            if beside_data(f.name, False) or not _is_dataset(f):
                walk.skipped.append(escape(f))
            elif (part := _file(f, escape(f), seen, walk, skip_unreadable=skip_unreadable)) is not None:
                parts.append(part)
        if not parts:
            raise DataReadError(f"{escape(text)}: the pattern matches no dataset file "
                                f"(only {', '.join((walk.skipped + walk.unread)[:5])})")
        return parts, walk, True
    part = _file(p, escape(text), seen, walk, skip_unreadable=skip_unreadable)
    return ([part] if part else []), walk, listed


def resolve_inputs(data: str | Path | Sequence[str | Path] | Inputs, *, skip_unreadable: bool = False,
                   follow_links: bool = False) -> Inputs:
    """A path, directory, glob, `-` or list of them → its `Inputs` (see the module docstring).
    `skip_unreadable`: an entry that cannot be read is skipped and listed (`Inputs.unread`) instead
    of being a `DataReadError`; `follow_links`: a link out of an input directory is read (and listed
    in `Inputs.linked`). `Inputs` given are returned as they are."""
    if isinstance(data, Inputs):
        return data
    items: Iterable[str | Path] = [data] if isinstance(data, (str, Path)) else data
    items = list(items)
    parts: list[Part] = []
    everything = Walk()
    seen = Seen()
    multi = len(items) > 1
    for item in items:
        got, walk, several = _one(item, seen, listed=multi, skip_unreadable=skip_unreadable,
                                  follow_links=follow_links)
        parts.extend(got)
        for name in ("skipped", "unread", "linked"):
            getattr(everything, name).extend(getattr(walk, name))
        multi = multi or several
    labels = [p.label for p in parts]
    if len(set(labels)) != len(labels):
        dup = next(x for x in labels if labels.count(x) > 1)
        raise DataReadError(f"{escape(dup)}: given twice; each file may be read once in one run")
    if sum(p.path is None for p in parts) > 1:
        raise DataReadError("-: standard input can be read once in one run")
    if not parts:
        raise DataReadError(f"{escape(items[0]) if len(items) == 1 else 'the inputs'}: nothing left to read "
                            f"({'; '.join(everything.unread[:3])})")
    label = escape(items[0]) if len(items) == 1 else f"{len(parts)} files"
    return Inputs(parts, STDIN_LABEL if label == STDIN else label, multi, everything.skipped, everything.unread,
                  everything.linked, [str(i) for i in items])


def with_encoding(inputs: Inputs, encoding: str | None) -> Inputs:
    """`inputs` whose text parts are read as `encoding` (None: UTF-8, or guessed when they are not)."""
    if encoding is None:
        return inputs
    parts = [replace(p, encoding=encoding) for p in inputs.parts]
    return replace(inputs, parts=parts)


def open_part(part: Part) -> BinaryIO:
    """A binary stream of the part's (decompressed) bytes. DataReadError with one line if it cannot."""
    if part.path is None:
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None or stdin.closed:
            raise DataReadError("-: standard input is closed (nothing to read; pipe a JSONL file in, e.g. "
                                "`adrop-kit validate - < events.jsonl`)")
        return stdin  # type: ignore[no-any-return]
    file_size(part.path)  # refuses devices, sockets, directories with one line
    try:
        if part.compression is None:
            return open(part.path, "rb")  # noqa: SIM115 - the caller closes it
        import pyarrow as pa

        return pa.input_stream(str(part.path), compression=part.compression)  # type: ignore[return-value]
    except OSError as exc:
        raise DataReadError(f"{part.label}: cannot read: {exc.strerror or exc}") from None


WHOLE_LIMIT = 512 << 20
"""The most a part read whole (a JSON document; a compressed or piped part read in memory) may
decompress to: past it, a `DataReadError` rather than memory without bound (a decompression bomb)."""


def read_part(part: Part, *, limit: int | None = None) -> bytes:
    """All of a part's (decompressed) bytes: for the in-memory path and formats that cannot stream.
    `limit`: the most a compressed or piped part may hold (a regular file is read at its size)."""
    if part.path is not None and part.compression is None and file_size(part.path) is not None:
        try:
            return part.path.read_bytes()  # a regular file: read once, in one call
        except OSError as exc:
            raise DataReadError(f"{part.label}: cannot read: {exc.strerror or exc}") from None
    fh = open_part(part)
    try:
        chunks, total = [], 0
        while chunk := read_block(fh, part, 1 << 24):
            chunks.append(chunk)
            total += len(chunk)
            if limit is not None and total > limit:
                what = "a JSON document is read whole" if part.fmt == ".json" else "it was to be read whole"
                raise DataReadError(f"{part.label}: more than {limit >> 20:,} MiB once decompressed, and {what}; "
                                    "give it as JSONL (one event per line), which is read in batches")
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
    except DataReadError:  # already one line naming the file (a UTF-16 file that does not decode)
        raise
    except (OSError, ValueError) as exc:  # pyarrow: ArrowIOError / ArrowInvalid
        what = f"not valid {part.compression} data" if part.compression else "cannot read"
        raise DataReadError(f"{part.label}: {what} ({str(exc).splitlines()[0] if str(exc) else exc})") from None


__all__ = ["COMPRESSIONS", "PARQUET_FORMATS", "STDIN", "STDIN_LABEL", "TEXT_FORMATS", "WHOLE_LIMIT", "Inputs", "Part",
           "format_of", "is_paths", "open_part", "read_block", "read_part", "resolve_inputs", "with_encoding"]
