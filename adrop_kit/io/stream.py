"""Reading inputs in batches, each a canonical `Frame`, in memory that does not grow with the input.

`iter_batches(inputs, catalog)` yields `Batch`es part by part. Each batch is read by the same
readers as a whole file (`read_jsonl`, `read_csv`, `parquet_frame`), so a row gets the same verdict
and the same number either way:

- JSONL/NDJSON: byte chunks of about `batch_bytes`, cut after a line end (a line longer than a
  chunk makes its chunk longer); `__row` (the line number) is offset by the lines before it;
- CSV: byte chunks cut at a record boundary (a quoted field may hold line ends: the cut is at a
  line end with an even number of quotes before it, found from where the quotes are; a record
  with a misplaced quote or a lone CR is matched by the record grammar as `csv_records.split` reads
  it: `io.csv_cut`), each read with the header in front; `__row` (the record number) is offset by
  the records before it;
- Parquet: record batches of `batch_rows` rows (pyarrow), `__row` offset by the rows before;
- a JSON array cannot be cut without parsing it: it is read whole (its size bounds the memory).

The next batch is read in one background thread while the caller checks this one
(`support.ahead.read_ahead`: one batch ahead, so memory stays bounded; an error is raised where it
was, and the thread ends with the iteration).

Messages that name a physical line ("line 12: malformed CSV …") and a `__line` column, if a reader
adds one, are shifted to the line in the whole file. Compressed parts and standard input are
decompressed as streams (`io.parts`). Memory stays bounded whatever a part decompresses to: a JSONL
line longer than `READ_BOUND` (1 MiB; an E001 row, never parsed) is read past, not held: its first
bytes stand for it in the batch (and in the report). A JSON document is read whole, up to
`WHOLE_LIMIT` (then a `DataReadError`: convert it to JSONL, which streams). A CSV record that runs
on past 2 MiB (a quote that never closes) is read past to its end (the next line end with an even
number of quotes before it, or the end of the file) and stands as one E001 row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.io.columns import unique_columns
from adrop_kit.io.csv_cut import record_cut
from adrop_kit.io.csv_records import read_header
from adrop_kit.io.encodings import DECIDE_BYTES, Transcoder, choose, transcode
from adrop_kit.io.frames import ERROR, ROW, Frame, from_records, without_reserved
from adrop_kit.io.parts import CSV_FORMATS, PARQUET_FORMATS, WHOLE_LIMIT, Inputs, Part, open_part, read_block, read_part
from adrop_kit.io.read_csv import delimiter_bytes, read_csv
from adrop_kit.io.read_json import read_json, read_jsonl
from adrop_kit.io.read_parquet import parquet_frame
from adrop_kit.io.source import READ_BOUND, SNIFF_BYTES, Decoded, bom_of, file_size, is_blank, map_file, utf8_text
from adrop_kit.spec.catalog import Catalog
from adrop_kit.support.ahead import read_ahead

DEFAULT_BATCH_BYTES = 12 << 20
"""Text is read in chunks of about this many (decompressed) bytes: ~65k events of a realistic export. A JSONL
batch takes ~15x its text while read and checked (a wide frame, mostly nulls: 16 bytes a cell); 10M realistic
rows with violations_out peak at 454 MB (8 MiB), 508 (12), 623 (16): benchmarks/README.md, `stream.py`."""
DEFAULT_BATCH_ROWS = 250_000
"""Parquet is read in record batches of this many rows."""
READ_AHEAD = 1 << 16
"""Bytes asked of a file at least at once (the chunks cut from them may be smaller)."""
LINE = "__line"
_LINE_MSG = re.compile(r"^line ([\d,]+)")


@dataclass
class Batch:
    """One batch of one part: its frame (`__row` numbered within the part) and the bytes it took."""

    part: Part
    part_index: int
    frame: Frame
    nbytes: int


def iter_batches(inputs: Inputs, catalog: Catalog, *, batch_bytes: int = DEFAULT_BATCH_BYTES,
                 batch_rows: int = DEFAULT_BATCH_ROWS, delimiter: str | None = None) -> Iterator[Batch]:
    """Every part's rows, batch by batch (see the module docstring), the next batch read in a
    background thread while the caller checks this one (`support.ahead`: one batch ahead, errors
    raised where they were). `delimiter`: CSV parts' field separator (None: sniffed per file from
    its header, then kept for all its chunks)."""
    if batch_bytes < 1 or batch_rows < 1:
        raise ValueError("batch_bytes and batch_rows must be at least 1")
    yield from read_ahead(_batches(inputs, catalog, batch_bytes, batch_rows, delimiter))


def _batches(inputs: Inputs, catalog: Catalog, batch_bytes: int, batch_rows: int,
             delimiter: str | None) -> Iterator[Batch]:
    for i, part in enumerate(inputs.parts):
        for frame, nbytes in part_frames(part, catalog, batch_bytes=batch_bytes, batch_rows=batch_rows,
                                         delimiter=delimiter):
            yield Batch(part, i, frame, nbytes)
            del frame  # not held while the next batch is read


def part_frames(part: Part, catalog: Catalog, *, batch_bytes: int = DEFAULT_BATCH_BYTES,
                batch_rows: int = DEFAULT_BATCH_ROWS, delimiter: str | None = None) -> Iterator[tuple[Frame, int]]:
    """One part's batches as (frame, bytes read)."""
    if part.fmt in PARQUET_FORMATS:
        yield from _parquet(part, catalog, batch_rows)
        return
    if part.fmt == ".json":
        data = utf8_text(read_part(part, limit=WHOLE_LIMIT), Path(part.label))
        if not is_blank(data):
            yield read_json(data, part.label, catalog), len(data)
        return
    fh = open_part(part)
    try:
        if part.fmt in CSV_FORMATS:
            yield from _csv(fh, part, catalog, batch_bytes, part.delimiter(delimiter))
        else:
            for chunk, lines in _line_chunks(fh, part, batch_bytes):
                frame = read_jsonl(chunk, part.label, catalog)
                yield shifted(frame, lines, lines, commas=False), len(chunk)
                del chunk, frame  # a batch's text and rows go before the next is read (only one is held)
    finally:
        if part.path is not None:
            fh.close()


def whole_frame(part: Part, catalog: Catalog, *, delimiter: str | None = None, ordered: bool = True) -> Frame:
    """A part read whole (the in-memory path), with the same readers (`ordered`: see `read_jsonl`)."""
    if part.fmt in PARQUET_FORMATS:
        from adrop_kit.io.read_parquet import read_parquet

        assert part.path is not None
        if not file_size(part.path, stream_ok=False):
            return from_records([], catalog, source=part.label)
        try:
            return read_parquet(part.path, catalog)
        except DataReadError:  # already one line naming the file
            raise
        except OSError as exc:
            raise DataReadError(f"{part.label}: cannot read: {exc.strerror or exc}") from None
    if part.fmt in (".jsonl", ".ndjson") and part.path is not None and part.compression is None \
            and (mapped := map_file(part.path)) is not None:  # read in place, no copy
        return from_records([], catalog, source=part.label) if is_blank(mapped) else \
            read_jsonl(mapped, part.label, catalog, ordered=ordered)
    data = utf8_text(read_part(part, limit=WHOLE_LIMIT), Path(part.label))
    if is_blank(data):
        return from_records([], catalog, source=part.label)
    if part.fmt in CSV_FORMATS:
        encoding, note = choose(data, part.label, part.encoding)
        frame = read_csv(data if encoding is None else transcode(data, encoding), part.label, catalog,
                         delimiter=part.delimiter(delimiter))
        frame.notes += (note,) if note else ()
        return frame
    reader = read_json if part.fmt == ".json" else read_jsonl
    return reader(data, part.label, catalog, ordered=ordered)


def _first_block(fh: BinaryIO, part: Part, batch_bytes: int) -> tuple[BinaryIO, bytes, bool]:
    """(the stream to read on, the start of a text part as `utf8_text` sees a whole file, eof): BOM
    skipped, NUL sniffed. A UTF-16/32 file is read on through `Decoded`, as UTF-8, block by block."""
    want = max(batch_bytes, SNIFF_BYTES)
    block = read_block(fh, part, want)
    eof = len(block) < want
    if not eof and (found := bom_of(block)) is not None:
        mark, codec, name = found
        fh = Decoded(fh, codec, name, part.label, head=block[len(mark):], start=len(mark))  # type: ignore
        block = read_block(fh, part, want)
        return fh, utf8_text(block, Path(part.label), skip_bom=False), len(block) < want  # (one mark, as whole)
    return fh, utf8_text(block, Path(part.label)), eof


def _line_chunks(fh: BinaryIO, part: Part, batch_bytes: int) -> Iterator[tuple[bytes, int]]:
    """(chunk ending after a line end, lines before it) for JSONL. A line longer than `READ_BOUND`
    (an E001 row, never parsed) is read past, not held: its first `READ_BOUND + 1` bytes stand for it."""
    fh, buf, eof = _first_block(fh, part, batch_bytes)
    lines = 0
    while True:
        while len(buf) >= batch_bytes or (eof and buf):
            cut = buf.rfind(b"\n", 0, batch_bytes)
            if cut < 0:
                cut = buf.find(b"\n", batch_bytes)
            if cut < 0 and not eof:
                break
            end = len(buf) if cut < 0 else cut + 1
            chunk, buf = buf[:end], buf[end:]
            yield chunk, lines
            lines += chunk.count(b"\n")
            del chunk  # (not held while the next chunk is cut)
        if eof:
            return
        if len(buf) > READ_BOUND and b"\n" not in buf:  # one line, already over the bound: skip to its end
            head, buf, eof = _past_line(fh, part, buf, batch_bytes)
            yield head, lines
            lines += 1
            continue
        block, eof = _more(fh, part, batch_bytes)
        buf += block


def _past_line(fh: BinaryIO, part: Part, buf: bytes, batch_bytes: int) -> tuple[bytes, bytes, bool]:
    """(what stands for an oversized line, what follows its end, eof): the line's first bytes, kept
    blank only if the whole line was, and a line end; the rest of the line is read and dropped."""
    head, blank, rest = buf[:READ_BOUND + 1], buf.isspace(), b""
    tail, eof = buf[READ_BOUND + 1:], False
    while True:
        nl = tail.find(b"\n")
        if nl >= 0:
            blank = blank and tail[:nl].isspace() if nl else blank
            rest = tail[nl + 1:]
            break
        blank = blank and (not tail or tail.isspace())
        if eof:
            break
        tail, eof = _more(fh, part, batch_bytes)
    if head.isspace() and not blank:  # spaces, then text: still a (too long) row, not a blank line
        head = head[:-1] + b"?"
    return head + b"\n", rest, eof


def _more(fh: BinaryIO, part: Part, batch_bytes: int) -> tuple[bytes, bool]:
    """The next block of a text part, and whether the part ends with it."""
    want = max(batch_bytes, READ_AHEAD)
    block = read_block(fh, part, want)
    return block, len(block) < want


def _csv(fh: BinaryIO, part: Part, catalog: Catalog, batch_bytes: int,
         delimiter: str | None) -> Iterator[tuple[Frame, int]]:
    fh, buf, eof = _first_block(fh, part, max(batch_bytes, DECIDE_BYTES))  # the bytes the encoding is decided from
    encoding, note = choose(buf, part.label, part.encoding)
    notes = (note,) if note else ()
    if encoding is not None:  # e.g. CP949 from Excel on Korean Windows: transcoded as it streams
        fh = Transcoder(fh, encoding, head=buf)  # type: ignore[assignment]
        buf = fh.read(-1) if eof else fh.read(len(fh.pending))
    while not eof and (buf.isspace() or _parity_cut(buf, 0, len(buf), eof) is None):
        if len(buf.lstrip()) > 2 * READ_BOUND:  # no header ends this far in: not held on
            raise DataReadError(f"{part.label}: the header (line 1) does not end within "
                                f"{2 * READ_BOUND >> 20} MiB (a quote never closed?); is this a CSV file?")
        block, eof = _more(fh, part, batch_bytes)  # the header may be longer than a block
        buf = buf.lstrip() + block if buf.isspace() else buf + block
    if is_blank(buf) and eof:
        return  # an empty file holds no events
    header = read_header(buf, part.label, None if delimiter is None else delimiter_bytes(delimiter))
    sep = header.sep.decode()  # sniffed once, from the file's start: every chunk is read with it
    head, buf = buf[:header.end], buf[header.end:]
    records = lines = 0
    yielded = False
    while True:
        while len(buf) >= batch_bytes or (eof and buf):
            cut = record_cut(buf, batch_bytes, eof, header.sep)
            if cut is None:
                break
            end, n = cut
            with memoryview(buf) as view:
                body = b"".join((head, view[:end]))  # one copy of the chunk, the header in front
            n_lines = buf.count(b"\n", 0, end)
            buf = buf[end:]
            frame = read_csv(body, part.label, catalog, delimiter=sep)
            frame.notes += notes
            yield shifted(frame, records, lines, commas=True), end
            yielded = True
            records, lines = records + n, lines + n_lines
            del body, frame  # a batch's text and rows go before the next is read (only one is held)
        if eof:
            break
        if len(buf) > 2 * READ_BOUND and _runaway(buf):
            # the first record runs on past 2 MiB (a quote that never closes): an E001 row, read past
            body, n_lines, buf, eof = _past_record(fh, part, buf, batch_bytes)
            frame = read_csv(head + body, part.label, catalog, delimiter=sep)
            yield shifted(frame, records, lines, commas=True), len(body)
            yielded = True
            records, lines = records + 1, lines + n_lines
            continue
        block, eof = _more(fh, part, batch_bytes)
        buf += block
    if not yielded:
        frame = read_csv(head, part.label, catalog, delimiter=sep)
        frame.notes += notes
        yield frame, len(head)


def _past_record(fh: BinaryIO, part: Part, buf: bytes, batch_bytes: int) -> tuple[bytes, int, bytes, bool]:
    """(what stands for an oversized CSV record, its physical lines, what follows it, eof). The
    record ends at the first line end with an even number of quotes before it (or at the end of the
    file); it is read and dropped, and a one-cell record of its first `READ_BOUND + 1` bytes (quotes
    doubled: over the bound, so an E001 row, as the record itself) stands for it."""
    head = buf[:READ_BOUND + 1]
    odd, n_lines, tail, eof = buf.count(b'"') % 2, buf.count(b"\n"), b"", False
    while True:
        tail, eof = _more(fh, part, batch_bytes)
        pos, end = 0, -1
        while (nl := tail.find(b"\n", pos)) >= 0:
            odd ^= tail.count(b'"', pos, nl) % 2
            n_lines += 1
            pos = nl + 1
            if not odd:
                end = nl + 1
                break
        if end >= 0:
            return b'"' + head.replace(b'"', b'""') + b'"\n', n_lines, tail[end:], eof
        odd ^= tail.count(b'"', pos) % 2
        if eof:
            return b'"' + head.replace(b'"', b'""') + b'"\n', n_lines, b"", True


def _runaway(buf: bytes) -> bool:
    """Whether no line end of `buf` has an even number of quotes before it (its first record has not
    ended yet): the first line's quotes answer at once in the common case."""
    nl = buf.find(b"\n")
    if nl >= 0 and buf.count(b'"', 0, nl) % 2 == 0:
        return False
    return _parity_cut(buf, 0, len(buf), False) is None


def _parity_cut(buf: bytes, start: int, limit: int, eof: bool) -> int | None:
    """The end of the last line before `limit` (else the first after it) with an even number of
    quotes before it; None when there is none yet (more data needed)."""
    pos = buf.rfind(b"\n", start, limit)
    if pos >= 0:
        odd = buf.count(b'"', start, pos) % 2
        while pos >= 0 and odd:
            prev = buf.rfind(b"\n", start, pos)
            odd ^= buf.count(b'"', max(prev, start), pos) % 2
            pos = prev
        if pos >= 0:
            return pos + 1
    pos, odd = limit - 1, buf.count(b'"', start, max(limit - 1, start)) % 2
    while (nl := buf.find(b"\n", pos + 1)) >= 0:
        odd ^= buf.count(b'"', pos + 1, nl) % 2
        pos = nl
        if not odd:
            return nl + 1
    return len(buf) if eof else None


def shifted(frame: Frame, rows: int, lines: int, *, commas: bool) -> Frame:
    """A chunk's frame with rows and physical lines counted from the start of its file (a part of a
    file read elsewhere, e.g. a Spark partition's lines, too); "line N" in E001 messages follows."""
    if not rows and not lines:
        return frame
    df = frame.df
    shift = [pl.col(ROW) + rows]
    if LINE in df.columns:
        shift.append(pl.col(LINE) + lines)
    df = df.with_columns(shift)
    if lines and ERROR in df.columns:
        err = df.get_column(ERROR)
        hit = err.str.starts_with("line ").fill_null(False)
        if hit.any():
            idx = hit.arg_true()
            fmt = "{:,}" if commas else "{}"
            fixed = [_LINE_MSG.sub(lambda m: "line " + fmt.format(int(m[1].replace(",", "")) + lines), v)
                     for v in err.gather(idx).to_list()]
            df = df.with_columns(err.scatter(idx, pl.Series(fixed, dtype=pl.String)))
    return Frame(df, frame.source, notes=frame.notes)


def _parquet(part: Part, catalog: Catalog, batch_rows: int) -> Iterator[tuple[Frame, int]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert part.path is not None
    if not file_size(part.path, stream_ok=False):  # a FIFO or a device is refused: Parquet needs to seek
        return  # an empty file holds no events
    offset = 0
    try:
        pf = pq.ParquetFile(part.path)
        unique_columns(pf.schema_arrow.names, part.label)
        per_row = (part.size or 0) / max(pf.metadata.num_rows, 1)
        for rb in pf.iter_batches(batch_size=batch_rows):
            df = pl.from_arrow(pa.Table.from_batches([rb]))
            assert isinstance(df, pl.DataFrame)
            df.columns = rb.schema.names  # from_arrow names a "" column `column_N`; read whole, it stays ""
            frame = parquet_frame(without_reserved(df), part.label, catalog)
            yield shifted(frame, offset, 0, commas=False), int(per_row * df.height)
            offset += df.height
            del rb, df, frame  # (not held while the next batch is read)
    except (OSError, pa.ArrowException) as exc:
        if isinstance(exc, DataReadError):
            raise
        if "more than 64 bits" not in str(exc):
            raise DataReadError(f"{part.label}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
        # pyarrow cannot read a 128-bit integer column (polars writes them); polars can, as it does
        # when the file is read whole: the rest of the file, from the first row not yet given
        yield from _parquet_slices(part, catalog, batch_rows, offset)


def _parquet_slices(part: Part, catalog: Catalog, batch_rows: int, offset: int) -> Iterator[tuple[Frame, int]]:
    """Row `offset` on of a Parquet file, `batch_rows` at a time, read by polars."""
    assert part.path is not None
    lf = pl.scan_parquet(part.path)
    total = lf.select(pl.len()).collect().item()
    per_row = (part.size or 0) / max(total, 1)
    for start in range(offset, total, batch_rows):
        df = lf.slice(start, batch_rows).collect()
        yield shifted(parquet_frame(without_reserved(df), part.label, catalog), start, 0, commas=False), \
            int(per_row * df.height)


__all__ = ["shifted", "DEFAULT_BATCH_BYTES", "DEFAULT_BATCH_ROWS", "LINE", "Batch", "iter_batches", "part_frames",
           "whole_frame"]
