"""Where a CSV chunk may end: a record boundary near a size, found from where the quotes are (numpy).

A streamed CSV (`io.stream`) is read in chunks, each cut at a record boundary as `csv_records.split`
reads the whole file, and numbered by the records before it; so the cut and the count of records in
a chunk must be exactly the walk's. `record_cut` finds both without a Python loop over lines:

- from a record start the quotes alternate open and close (`""` in a field is a close and an open
  side by side); while every opening quote starts a field (after a separator, a line end, a quote,
  or at the start) and every closing quote ends one (before a separator, a line end, CR, a quote, or
  the end of the file), and no CR stands alone, the records are well-formed and a record ends
  exactly at each line end with an even number of quotes before it (counted from that start);
- a record where that does not hold (a stray quote, a lone CR) is matched by the record grammar,
  one regular-expression match (a malformed one is its own physical line, as `split` reads it),
  and the count goes on from the next record start with the parity taken there.

Nothing else is judged here: a chunk is read by the same `read_csv` as a whole file, which checks
its records anyway. Flagging a record that is in fact well-formed only costs its match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adrop_kit.io.csv_records import grammar

_QUOTE, _LF, _CR = 34, 10, 13


def record_cut(buf: bytes, limit: int, eof: bool, sep: bytes = b",") -> tuple[int, int] | None:
    """(end of the chunk, records in it) for `buf`, which starts at a record start: the last record
    end at or before `limit` (at the end of the file, when it comes before `limit`: all of it), else
    the end of the first record; None when more data is needed to know where that record ends."""
    size = len(buf)
    whole = eof and size <= limit
    window = size if whole else min(limit, size)
    got = _cut(buf, window, eof, sep, whole=whole)
    while got == (0, 0) and window < size:  # the first record runs past the limit: its end, looked
        window = min(size, max(2 * window, 1 << 16))  # for in twice as much each time
        got = _cut(buf, window, eof, sep, whole=eof and window == size, first=True)
    return None if got == (0, 0) else got


def _cut(buf: bytes, window: int, eof: bool, sep: bytes, *, whole: bool, first: bool = False) -> tuple[int, int]:
    """`record_cut` within `buf[:window]`: (0, 0) when no record ends there (or may go on past it).
    `first`: only the first record."""
    size = len(buf)
    marks = _Marks(buf, window, eof, sep[0], whole)
    start = n = 0
    match = grammar(sep).record.match
    while True:
        ends, bad, k0 = marks.at(start)
        i = int(np.searchsorted(ends, start))
        at = marks.irregular(bad, start, k0)
        if at is None or at >= window:
            if i == len(ends):  # the record at `start` runs past the window
                return start, n
            return (int(ends[i]) + 1, 1) if first else (int(ends[-1]) + 1, n + len(ends) - i)
        before = int(np.searchsorted(ends, at))  # the records from `start` up to the one holding `at`
        if first and before > i:
            return int(ends[i]) + 1, 1
        record = int(ends[before - 1]) + 1 if before > i else start
        n += before - i
        m = match(buf, record)
        if m is not None and (eof or m.end() < size or buf[m.end() - 1] == _LF):
            end = m.end()
        elif m is None and (eof or marks.fails_at(at, record) or _final(buf, marks.quotes_from(record))):
            nl = buf.find(b"\n", record)  # malformed: its own line
            if nl < 0 and not eof:
                return record, n
            end = size if nl < 0 else nl + 1
        else:  # the record may go on past what is read
            return record, n
        if end > window and n:  # a record past the limit is the next chunk's
            return record, n
        start, n = end, n + 1
        if start >= window or first:
            return start, n


class _Marks:
    """The quotes, record ends and lone CRs of `buf[:window]`, looked up from any record start."""

    def __init__(self, buf: bytes, window: int, eof: bool, sep: int, whole: bool):
        self.buf, self.window = buf, window
        size = len(buf)
        arr = np.frombuffer(buf, dtype=np.uint8)
        q, lf = np.flatnonzero(arr[:window] == _QUOTE), np.flatnonzero(arr[:window] == _LF)
        self.q = q
        if whole and not buf.endswith(b"\n"):  # the file's last record ends with the file
            lf = np.append(lf, size - 1)
        if len(q):
            opening, closing = quote_roles(arr, q, sep)
            if q[-1] == size - 1:  # the buffer's last byte: the end of the file, or not known yet
                closing[-1] = eof
            odd_bad = ~closing
            odd_bad[1::2] = ~opening[1::2]
            even_bad = ~opening
            even_bad[1::2] = ~closing[1::2]
            self.bad = (q[even_bad], q[odd_bad])
            parity = np.searchsorted(q, lf, side="right") % 2  # (the end of the file may be a quote)
            self.ends = (lf[parity == 0], lf[parity == 1])
        else:
            self.bad = (q, q)
            self.ends = (lf, lf[:0])
        self.cr = _lone_crs(buf, arr, window, size, eof)
        self.whole = whole
        self._beyond: int | None = None

    def at(self, start: int) -> tuple[Any, Any, int]:
        """(record ends, misplaced quotes, quotes before `start`) for records from `start` on."""
        k0 = int(np.searchsorted(self.q, start))
        return self.ends[k0 % 2], self.bad[k0 % 2], k0

    def irregular(self, bad: Any, start: int, k0: int) -> int | None:
        """The first byte from `start` on where the records stop being plainly well-formed, if any."""
        found = []
        i = int(np.searchsorted(bad, start))
        if i < len(bad):
            found.append(int(bad[i]))
        i = int(np.searchsorted(self.cr, start))
        if i < len(self.cr):
            found.append(int(self.cr[i]))
        if self.whole and (len(self.q) - k0) % 2:  # a quote that never closes before the end of the file
            found.append(int(self.q[-1]))
        return min(found) if found else None

    def fails_at(self, at: int, record: int) -> bool:
        """Whether the grammar fails at `at`, the first irregular byte of the record at `record`,
        whatever follows what is read: a misplaced quote, or a lone CR outside quotes, whose next byte is read."""
        if at + 1 >= len(self.buf):
            return False
        if self.buf[at] == _QUOTE:
            return True
        return (np.searchsorted(self.q, at) - np.searchsorted(self.q, record)) % 2 == 0

    def quotes_from(self, pos: int) -> int:
        """How many quotes `buf` holds from `pos` on."""
        if self._beyond is None:
            self._beyond = self.buf.count(b'"', self.window)
        return len(self.q) - int(np.searchsorted(self.q, pos)) + self._beyond if pos < self.window \
            else self.buf.count(b'"', pos)


def quote_roles(arr: Any, q: Any, sep: int) -> tuple[Any, Any]:
    """For the quotes at `q` (positions in the bytes `arr`): whether each may open a field (after a
    separator, a line end or a quote, or at the start of `arr`) and whether it may close one (before a
    separator, a line end, CR or a quote, or at the end of `arr`: callers that do not know yet whether
    that is the end of the file say so)."""
    return _may_open(arr, q, sep), _may_close(arr, q, sep)


def misplaced(arr: Any, q: Any, sep: int, start: int) -> int | None:
    """For quotes at `q` that alternate open and close (the first opens; `start`: a record start, where a
    quote may open): the index in `q` of the first that may not play its role there (`quote_roles`, each
    quote asked only about its own role), or None."""
    opening, closing = _may_open(arr, q[0::2], sep), _may_close(arr, q[1::2], sep)
    opening[0] |= q[0] == start
    if opening.all() and closing.all():
        return None
    first = [2 * int(np.argmin(opening))] if not opening.all() else []
    return min(first + ([2 * int(np.argmin(closing)) + 1] if not closing.all() else []))


def _may_open(arr: Any, q: Any, sep: int) -> Any:
    starts = np.zeros(256, dtype=bool)
    starts[[sep, _LF, _QUOTE]] = True  # (at the start of `arr` the quote stands before itself: True)
    return starts[arr[np.maximum(q - 1, 0)]]


def _may_close(arr: Any, q: Any, sep: int) -> Any:
    ends = np.zeros(256, dtype=bool)
    ends[[sep, _LF, _CR, _QUOTE]] = True  # (and at its end after itself)
    return ends[arr[np.minimum(q + 1, len(arr) - 1)]]


def _lone_crs(buf: bytes, arr: Any, window: int, size: int, eof: bool) -> Any:
    """Where a CR that does not end a line (CRLF) stands in the window (one at the end of what is
    read, before the file ends, counts: what follows it is not known yet)."""
    if buf.find(b"\r", 0, window) < 0:
        return np.zeros(0, dtype=np.int64)
    cr = np.flatnonzero(arr[:window] == _CR)
    nxt = np.minimum(cr + 1, size - 1)
    return cr[(arr[nxt] != _LF) | (nxt == cr)]


def _final(buf: bytes, quotes: int) -> bool:
    """Whether a record the grammar does not match in `buf` stays malformed whatever follows: the
    match can only stop at the end of what is read inside a quoted field (an odd number of quotes
    from the record's start) or at a CR that may be followed by a line end."""
    return quotes % 2 == 0 and not buf.endswith(b"\r")


__all__ = ["misplaced", "quote_roles", "record_cut"]
