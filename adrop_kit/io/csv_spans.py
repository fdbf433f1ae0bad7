"""Where a CSV body is regular, and where it needs the record-by-record walk of `csv_records.split`.

A body is cut into pieces, in order: `Native` byte spans of whole records that polars may read as
they are (every record well-formed, no NUL byte, no CR that does not end a line), and `Precise`
walks (`csv_records.split`) over the records that are not, each starting at a true record start.
So one malformed record, NUL byte or lone CR costs a walk over that record, not over the file.

A span's records are found from where its quotes are, `CHUNK` bytes at a time, all at once (numpy):
from a record start the quotes alternate open and close, so the grammar holds exactly when every
opening quote starts a field and every closing quote ends one (`_first_irregular`); only a record
that the chunk's end cuts through is matched by the record grammar (`_matched`, one regex match per
quoted record, which also serves when quoted records are dense). `line_breaks` gives each record's
line breaks inside its cells from the same parity (the line ends with an odd number of quotes
before them), so no pass over the cells is needed to number lines.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from adrop_kit.io.csv_records import Header, Split, grammar, split
from adrop_kit.io.encodings import valid_utf8

CHUNK = 1 << 20
"""The bytes looked at in one step (the most the walk covers for one irregular record in dense quotes)."""
_DENSE = 1500  # quoted records per MiB above which one linear pass beats a match per quoted record
_DENSE_EVERY = 1000  # quoted records matched between two looks at the density
_LONE_CR = re.compile(rb"\r(?!\n)")


@dataclass(frozen=True)
class Native:
    start: int
    end: int
    cuts: tuple[int, ...] = ()
    """Record starts inside it where it may be cut (the ends of the chunks it was found in)."""
    quotes: tuple[Any, ...] | None = field(default=None, compare=False, repr=False)
    """Where the quotes of each of its chunks are (a numpy array a chunk, as `pieces` found them, or None
    where it did not keep them), so that `line_breaks` need not look for them again."""

    def chunks(self) -> list[Native]:
        bounds = (self.start, *self.cuts, self.end)
        return [Native(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


@dataclass(frozen=True)
class Precise:
    split: Split
    """Its records, numbered from 0 at its start."""


def pieces(data: bytes, header: Header) -> list[Native | Precise]:
    """The body after the header cut into native spans and precise walks, in order, covering it. A big
    body is checked to be UTF-8 in a thread while its quotes are looked at (both release the GIL); the
    rare body that is not is then cut again, each chunk checked."""
    nul, lone_cr = data.find(b"\x00", header.end) >= 0, b"\r" in data and data.count(b"\r") != data.count(b"\r\n")
    if len(data) - header.end < _SIDE_BY_SIDE:
        return _pieces(data, header, (nul, lone_cr, not valid_utf8(data, header.end)))
    with ThreadPoolExecutor(1) as pool:
        utf8 = pool.submit(valid_utf8, data, header.end)
        out = _pieces(data, header, (nul, lone_cr, False))
        if utf8.result():
            return out
    return _pieces(data, header, (nul, lone_cr, True))


_SIDE_BY_SIDE = 1 << 20
"""Bytes from which the UTF-8 check runs in a thread beside the search for spans (below, a thread costs more)."""


def _pieces(data: bytes, header: Header, flags: tuple[bool, bool, bool]) -> list[Native | Precise]:
    """`pieces`, knowing which of NUL bytes, lone CRs and bytes that are not UTF-8 the body holds at all."""
    n, chunk = len(data), CHUNK
    out: list[Native | Precise] = []
    line = None
    pos = header.end
    found: list[Any] = []  # the quotes of a regular chunk, where `_first_irregular` found them all
    budget = max(n // _QUOTES_KEPT, 1 << 16)  # quotes kept for `line_breaks`, at most (8 bytes each)
    while pos < n:
        nl = data.find(b"\n", min(pos + chunk, n) - 1)
        end = n if nl < 0 else nl + 1
        trouble = _trouble(data, pos, end, flags)
        at, upto, end = _first_irregular(data, pos, end, header.sep, trouble, flags, found=found)
        if at is None:
            q = found.pop() if found else None
            budget -= 0 if q is None else len(q)
            _native(out, pos, end, q if budget >= 0 else None)
            pos = end
            continue
        found.clear()
        if at > pos:
            _native(out, pos, at)
        walk = split(data, header, start=at, stop=upto, line=line)
        line = walk.line
        out.append(Precise(walk))
        pos = walk.end
    return out


_QUOTES_KEPT = 16  # `pieces` keeps the quotes it found for at most one in this many bytes of the file


def _native(out: list[Native | Precise], start: int, end: int, quotes: Any = None) -> None:
    """A regular chunk [start, end) added to the spans (`quotes`: where its quotes are, when known)."""
    last = out[-1] if out else None
    if isinstance(last, Native) and last.end == start:
        kept = (*(last.quotes or (None,) * (len(last.cuts) + 1)), quotes)
        out[-1] = Native(last.start, end, (*last.cuts, start), kept)
    else:
        out.append(Native(start, end, (), (quotes,)))


def _trouble(data: bytes, start: int, end: int, flags: tuple[bool, bool, bool]) -> int | None:
    """The first NUL byte, lone CR or byte that is not UTF-8 in [start, end), if any (`flags`: which
    of the three the file holds at all)."""
    nul, lone_cr, utf8 = flags
    found = []
    if nul and (i := data.find(b"\x00", start, end)) >= 0:
        found.append(i)
    if lone_cr and (m := _LONE_CR.search(data, start, end)) is not None:
        found.append(m.start())
    if utf8 and not valid_utf8(data, start, end):  # only a chunk that is not UTF-8 is decoded, to place the byte
        try:
            str(memoryview(data)[start:end], "utf-8")
        except UnicodeDecodeError as e:
            found.append(start + e.start)
    return min(found) if found else None


def _first_irregular(data: bytes, pos: int, end: int, sep: bytes, trouble: int | None,
                     flags: tuple[bool, bool, bool], found: list[Any] | None = None) -> tuple[int | None, int, int]:
    """(None, end, end) when the records of [pos, end) are regular (`pos` a record start, `end` a line
    end; moved to the end of a record the chunk's end cuts through); else (at, upto, end): `at` the
    start of the first record that is not (the records before it are), to be walked up to `upto`.

    Judged from where the quotes are, all at once: from a record start, the quotes alternate open and
    close (`""` inside a field is a close and an open side by side), so the grammar holds exactly when
    every opening quote starts a field (after a separator or a line end, or at `pos`) and every closing
    quote ends one (before a separator, a line end, CR, another quote, or the end of the file). A line
    end is a record's end when the quotes before it are even in number. A field still open at `end`
    (the chunk's end cuts through a record) is matched by the record grammar (`_matched`). `found`: where
    the quotes of [pos, end) are is appended to it when the records are regular and `end` did not move."""
    import numpy as np

    from adrop_kit.io.csv_cut import misplaced

    arr = np.frombuffer(data, dtype=np.uint8)
    q = np.flatnonzero(arr[pos:end] == _QUOTE) + pos
    if found is not None and trouble is None:
        found.append(q)  # (taken back by the caller when the records are not regular)
    if not len(q):
        return _irregular_at(data, arr, q, pos, end, trouble)
    bad = misplaced(arr, q, sep[0], pos)
    at = None if bad is None else int(q[bad])
    if at is None and len(q) % 2:  # the last field opened is not closed before `end`: its record is matched
        if found:
            found.pop()  # (`end` may move)
        start = _record_start(data, arr, q, pos, int(q[-1]))
        if trouble is None or trouble >= start:
            return _matched(data, start, end, sep, trouble, flags)
    return _irregular_at(data, arr, q, pos, end, trouble if at is None or (trouble is not None and trouble < at)
                         else at)


_QUOTE, _LF = 34, 10


def _irregular_at(data: bytes, arr: Any, q: Any, pos: int, end: int, at: int | None) -> tuple[int | None, int, int]:
    """(None, end, end) when nothing is irregular (`at` None), else the start of the record holding `at`."""
    if at is None:
        return None, end, end
    start = _record_start(data, arr, q, pos, at)
    return start, start + 1, end


def _record_start(data: bytes, arr: Any, q: Any, pos: int, at: int) -> int:
    """The start of the record holding byte `at`: after the last line end before it outside quotes
    (`q`: the quotes from `pos`, a record start, whose parity says inside or outside up to `at`)."""
    import numpy as np

    lfs = np.flatnonzero(arr[pos:at] == _LF) + pos
    outside = lfs[np.searchsorted(q, lfs) % 2 == 0]
    return int(outside[-1]) + 1 if len(outside) else pos


def _matched(data: bytes, pos: int, end: int, sep: bytes, trouble: int | None,
             flags: tuple[bool, bool, bool]) -> tuple[int | None, int, int]:
    """`_first_irregular` by the record grammar, one quoted record at a time (for a record the chunk's
    end cuts through)."""
    find, rfind, match = data.find, data.rfind, grammar(sep).record.match
    start, matched = pos, 0
    while (q := find(b'"', pos, end)) >= 0:
        line = max(pos, rfind(b"\n", pos, q) + 1)  # the lines before it hold no quote: whole records
        if trouble is not None and trouble < line:
            break
        m = match(data, line, end)
        if m is None and trouble is None and (m := match(data, line)) is not None:
            if m.end() <= end or _trouble(data, end, m.end(), flags) is not None:
                m = None
            else:  # a record the chunk's end cuts through (a quoted line break): the chunk ends after it
                end = m.end()
        if m is None or (trouble is not None and trouble < m.end()):
            return line, line + 1, end
        pos = m.end()
        matched += 1
        if matched % _DENSE_EVERY == 0 and matched * (1 << 20) > _DENSE * (pos - start) and trouble is None:
            return (None, end, end) if _dense_ok(data, pos, end, sep) else (pos, end, end)
    if trouble is None:
        return None, end, end
    at = max(pos, rfind(b"\n", pos, trouble) + 1)
    return at, at + 1, end


def _dense_ok(data: bytes, pos: int, end: int, sep: bytes) -> bool:
    import polars as pl

    try:
        text = pl.Series([data[pos:end]], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:  # not UTF-8: walked
        return False
    return bool(text.str.contains(grammar(sep).records_text)[0])


_STEP = 1 << 21  # bytes looked at in one step by `line_breaks` (bounds its arrays; 8 MiB: 15% slower)


@dataclass(frozen=True)
class Breaks:
    """What the bytes of regular spans say about their records, found in one pass over their line ends and quotes."""

    spans: list[Any]
    """For each span, the line breaks inside each of its records' cells (a numpy array, a record an element)."""
    longest: int
    """The bytes of the longest record (its line end included): no record's cells hold more."""


def line_breaks(data: bytes, spans: list[Native]) -> Breaks:
    """The line breaks inside each record of these regular spans, and their longest record. A line end is
    inside a cell when the quotes before it, from its span's start (a record start), are odd in number; the
    others end records (and a span's last record may have no line end)."""
    import numpy as np

    arr = np.frombuffer(data, dtype=np.uint8)
    out, longest = [], 0
    for span in spans:
        records, parity, inside, first = 0, 0, [], span.start  # `first`: where the current record starts
        for start, stop, q in _steps(span):
            seg = arr[start:stop]
            lfs = np.flatnonzero(seg == _LF) + start
            q = np.flatnonzero(seg == _QUOTE) + start if q is None else q
            if len(q) or parity:
                within = ((np.searchsorted(q, lfs) + parity) & 1).astype(bool)
                ends = ~within
                inside.append(records + (np.cumsum(ends) - ends)[within])  # the record each inner line end is in
                records += int(ends.sum())
                lfs = lfs[ends]
            else:
                records += len(lfs)
            if len(lfs):
                longest = max(longest, int(lfs[0]) + 1 - first, int(np.diff(lfs).max(initial=0)))
                first = int(lfs[-1]) + 1
            parity = (parity + len(q)) & 1
        if not data.endswith(b"\n", span.start, span.end):
            records += 1
            longest = max(longest, span.end - first)
        found = np.concatenate(inside) if inside else np.zeros(0, dtype=np.int64)
        out.append(np.bincount(found, minlength=records))
    return Breaks(out, longest)


def _steps(span: Native) -> list[tuple[int, int, Any]]:
    """[start, stop) steps covering a span, with where their quotes are when `pieces` kept that (else None)."""
    if span.quotes is not None:
        bounds = (span.start, *span.cuts, span.end)
        return list(zip(bounds[:-1], bounds[1:], span.quotes, strict=True))
    return [(a, min(a + _STEP, span.end), None) for a in range(span.start, span.end, _STEP)]  # (a chunk: a step)


__all__ = ["CHUNK", "Breaks", "Native", "Precise", "line_breaks", "pieces"]
