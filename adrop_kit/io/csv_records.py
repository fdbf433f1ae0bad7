"""What a CSV record is, in one place: the header, and the split of a file into records.

The grammar (RFC 4180, as both CSV paths read it):

- a record is fields separated by `,` and ends at `\\n` or `\\r\\n` (or the end of the file);
- a field is either quoted — `"` … `"`, holding anything (commas, line breaks, CR) with `""` for
  a quote — or bare: no `"`, `,`, CR or LF;
- anything else is a malformed record: a quote inside a bare field, text after a closing quote,
  a quote that never closes, a CR that does not end a line (CRLF).

Rows are named by the record's 0-based position after the header (a record spanning lines keeps
one number; a blank line is a record that is not an event). A malformed record is judged by its
own physical line: it is one E001 row, and reading goes on at the next line, so one stray quote
cannot swallow or renumber the records after it. `split` finds the records of a file that a
parser may read, and the E001 rows for the others, without decoding or copying any record;
`well_formed` tells, cheaply, whether a whole file keeps to the grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from adrop_kit.errors import DataReadError
from adrop_kit.io.source import READ_BOUND
from adrop_kit.spec.rules import MAX_KEYS, SIZE_MESSAGE

_QUOTED = rb'"[^"]*+(?:""[^"]*+)*+"'
_BARE = rb'[^",\r\n]*+'
_FIELD = rb"(?>" + _QUOTED + rb"|" + _BARE + rb")"
RECORD = re.compile(_FIELD + rb"(?:," + _FIELD + rb")*+(?:\r?\n|\Z)")
"""One well-formed record (and its line end) at a position; no match: a malformed record there."""
_FIELDS = re.compile(rb'(?:"((?:[^"]|"")*+)"|([^",]*+))(?:,|\Z)')
_QUOTED_RE = re.compile(_QUOTED)
_BARE_RE = re.compile(_BARE)
RAW_BYTES = 800  # what an E001 row shows of its line (shortened further in reports)


def fields(span: bytes) -> list[bytes]:
    """The fields of one well-formed record (without its line end), unquoted."""
    if b'"' not in span:
        return span.split(b",")
    found = [(q + b).replace(b'""', b'"') for q, b in _FIELDS.findall(span)]
    if span and not span.endswith(b","):
        found.pop()  # the empty match findall adds at the very end
    return found


def count_fields(span: bytes) -> int:
    """How many fields a well-formed record has (commas inside quotes do not count)."""
    if b'"' not in span:
        return span.count(b",") + 1
    return _QUOTED_RE.sub(b"", span).count(b",") + 1


def raw_line(data: bytes, start: int, end: int) -> str:
    return data[start:min(end, start + RAW_BYTES)].decode("utf-8", "replace").rstrip("\r\n")


@dataclass
class Header:
    names: list[str]
    end: int
    """Where the first record after the header starts."""
    text: bytes
    """The header record as it is in the file, without its line end."""


def read_header(data: bytes, source: str | Path) -> Header:
    """The header record, or DataReadError: too many columns (checked before anything is built),
    malformed, not UTF-8, empty, or a column named twice."""
    nl = data.find(b"\n")
    first_end = len(data) if nl < 0 else nl
    if data.find(b'"', 0, first_end) < 0:  # the common case: the width is a count of commas
        _check_width(data.count(b",", 0, first_end) + 1, source)
    m = RECORD.match(data)
    if m is None:
        raise DataReadError(f"{source}: the header (line 1) is malformed CSV ({_why(data[:first_end])})")
    end = m.end()
    text = data[:end].rstrip(b"\n")
    text = text[:-1] if text.endswith(b"\r") else text
    _check_width(count_fields(text), source)
    if len(text) > READ_BOUND:
        raise DataReadError(f"{source}: the header is {len(text):,} bytes long; is this a CSV file?")
    if b"\x00" in text:
        raise DataReadError(f"{source}: the header (line 1) holds a NUL byte: binary data, not CSV text")
    try:
        names = [f.decode("utf-8") for f in fields(text)]
    except UnicodeDecodeError:
        raise DataReadError(f"{source}: the header (line 1) is not valid UTF-8 text") from None
    if names == [""]:
        raise DataReadError(f"{source}: the header (line 1) is empty; the first line must name the columns")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataReadError(f"{source}: the header names the column {name!r} twice")
        seen.add(name)
    return Header(names, end, text)


def _check_width(width: int, source: str | Path) -> None:
    if width > MAX_KEYS:  # every row would have more than MAX_KEYS keys: refuse before building anything
        raise DataReadError(f"{source}: has {width:,} columns; an event can have at most {MAX_KEYS:,} keys")


def _why(line: bytes) -> str:
    """Why a physical line does not start a well-formed record (for the E001 message)."""
    line = line.rstrip(b"\n")
    pos = 0
    while pos <= len(line):
        if line.startswith(b'"', pos):
            m = _QUOTED_RE.match(line, pos)
            if m is None:
                return "a quoted field that is not closed on this line"
            pos = m.end()
        else:
            pos = _BARE_RE.match(line, pos).end()
            if line.startswith(b'"', pos):
                return "a quote inside an unquoted field (quote the whole field and double the quote)"
        if pos >= len(line):
            break
        c = line[pos:pos + 1]
        if c == b",":
            pos += 1
            continue
        if c == b"\r":
            return "a carriage return (CR) that does not end the line"
        return "text after a closing quote"
    return "unexpected text"


_RECORDS_TEXT = r'\A(?:{f}(?:,{f})*(?:\r?\n|\z))*\z'.format(f=r'(?:"(?:[^"]|"")*"|[^",\r\n]*)')
"""The grammar as one regular expression for polars' (Rust, linear-time) engine: a whole body."""
_DENSE = 1500  # quoted records per MiB above which one linear pass beats a match per quoted record


def well_formed(data: bytes, start: int) -> bool:
    """True when every record from `start` on is well-formed, assuming no record holds a lone CR
    (checked apart). Records without a quote always are; each record with one is matched (a
    `find` hops between them); when they are dense, the rest is checked in one linear pass."""
    find, rfind, match = data.find, data.rfind, RECORD.match
    pos, matched = start, 0
    while (q := find(b'"', pos)) >= 0:
        line = max(pos, rfind(b"\n", pos, q) + 1)  # the lines before it hold no quote: whole records
        m = match(data, line)
        if m is None:
            return False
        pos = m.end()
        matched += 1
        if matched % 10_000 == 0 and matched * (1 << 20) > _DENSE * (pos - start):
            return _well_formed_rest(data, pos)
    return True


def _well_formed_rest(data: bytes, pos: int) -> bool:
    import polars as pl

    try:
        text = pl.Series([data[pos:]], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:  # not UTF-8: not for the fast path either
        return False
    return bool(text.str.contains(_RECORDS_TEXT)[0])


@dataclass
class Split:
    """The records of a CSV body: `runs` are byte ranges of consecutive records a parser may read
    (line ends included), `good` the record number of each of them in order, `bad` the E001 rows."""

    runs: list[tuple[int, int]] = field(default_factory=list)
    good: list[int] = field(default_factory=list)
    bad: list[tuple[int, str, str]] = field(default_factory=list)
    """(record number, message, raw text)"""


def split(data: bytes, header: Header) -> Split:
    """Every record after the header: well-formed ones into runs, the others into E001 rows
    (malformed: its own line; more fields than the header; far over the size bound; a NUL byte;
    not UTF-8). Linear: one regex match per record, no record decoded or copied."""
    out = Split()
    width = len(header.names)
    n = len(data)
    check_nul = data.find(b"\x00", header.end) >= 0
    check_utf8 = not _utf8(data, header.end)
    big = 2 * READ_BOUND + 3 * width  # over this many bytes, a record's cells are surely over READ_BOUND
    line, line_pos = 2, header.end  # line numbers (1-based) are counted only when a message needs one
    run_start = pos = header.end
    index = 0
    match = RECORD.match
    while pos < n:
        m = match(data, pos)
        problem = None
        if m is None:
            nl = data.find(b"\n", pos)
            end = n if nl < 0 else nl + 1
            content = end - (1 if nl >= 0 else 0)
            if content - pos > READ_BOUND:
                problem = SIZE_MESSAGE
            elif check_nul and data.find(b"\x00", pos, content) >= 0:
                problem = "a NUL byte (binary data)"
            else:
                problem = f"malformed CSV ({_why(data[pos:content])})"
        else:
            end = m.end()
            content = end - (2 if data.startswith(b"\r\n", end - 2) else 1 if data.startswith(b"\n", end - 1) else 0)
            if content - pos > big:
                problem = SIZE_MESSAGE
            elif data.count(b",", pos, content) >= width and (k := count_fields(data[pos:content])) > width:
                problem = f"{k:,} fields, but the header has {width:,}"
            elif check_nul and data.find(b"\x00", pos, content) >= 0:
                problem = "a NUL byte (binary data)"
            elif check_utf8 and not _utf8(data[pos:content]):
                problem = "not valid UTF-8 text"
        if problem is None:
            out.good.append(index)
        else:
            line += data.count(b"\n", line_pos, pos)
            line_pos = pos
            message = problem if problem == SIZE_MESSAGE else f"line {line:,}: {problem}"
            out.bad.append((index, message, raw_line(data, pos, content)))
            if run_start < pos:
                out.runs.append((run_start, pos))
            run_start = end
        index += 1
        pos = end
    if run_start < n:
        out.runs.append((run_start, n))
    return out


def _utf8(data: bytes, start: int = 0) -> bool:
    if data.isascii():
        return True
    try:
        str(memoryview(data)[start:], "utf-8")
    except UnicodeDecodeError:
        return False
    return True


__all__ = ["RECORD", "Header", "Split", "count_fields", "fields", "raw_line", "read_header", "split", "well_formed"]
