"""What a CSV record is, in one place: the header, and the split of a file into records.

The grammar (RFC 4180, as both CSV paths read it):

- a record is fields separated by one separator — `,` unless given, or sniffed from the header and
  the first records (`sniff`): `;`, tab or `|` — and ends at `\\n` or `\\r\\n` (or the end of the file);
- a field is either quoted — `"` … `"`, holding anything (separators, line breaks, CR) with `""` for
  a quote — or bare: no `"`, separator, CR or LF;
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
from functools import cache
from pathlib import Path

from adrop_kit.errors import DataReadError
from adrop_kit.io.columns import polars_pattern
from adrop_kit.io.source import READ_BOUND
from adrop_kit.spec.rules import MAX_KEYS, SIZE_MESSAGE

DELIMITERS = (b",", b";", b"\t", b"|")
"""The field separators a CSV may use (sniffed in this order of preference, or given)."""
_ESCAPED = {b",": ",", b";": ";", b"\t": r"\t", b"|": r"\|"}  # for Python's and polars' (Rust) regex alike
_QUOTED = rb'"[^"]*+(?:""[^"]*+)*+"'


@dataclass(frozen=True)
class Grammar:
    """The record grammar for one field separator (`grammar(sep)`)."""

    sep: bytes
    record: re.Pattern[bytes]
    """One well-formed record (and its line end) at a position; no match: a malformed record there."""
    fields: re.Pattern[bytes]
    bare: re.Pattern[bytes]
    records_text: str
    """The grammar as one regular expression for polars' (Rust, linear-time) engine: a whole body."""


@cache
def grammar(sep: bytes = b",") -> Grammar:
    if sep not in _ESCAPED:
        raise ValueError(f"the CSV delimiter must be one of , ; tab |, not {sep!r}")
    e = _ESCAPED[sep].encode()
    bare = rb'[^"' + e + rb'\r\n]*+'
    field_ = rb"(?>" + _QUOTED + rb"|" + bare + rb")"
    record = re.compile(field_ + rb"(?:" + e + field_ + rb")*+(?:\r?\n|\Z)")
    fields_re = re.compile(rb'(?:"((?:[^"]|"")*+)"|([^"' + e + rb']*+))(?:' + e + rb'|\Z)')
    t = e.decode()
    f = r'(?:"(?:[^"]|"")*"|[^"' + t + r'\r\n]*)'
    text = r"\A(?:" + f + "(?:" + t + f + r")*(?:\r?\n|\z))*\z"
    return Grammar(sep, record, fields_re, re.compile(bare), text)


RECORD = grammar(b",").record
"""One well-formed comma-separated record at a position (`grammar(sep).record` for another separator)."""
_QUOTED_RE = re.compile(_QUOTED)
RAW_BYTES = 800  # what an E001 row shows of its line (shortened further in reports)


def fields(span: bytes, sep: bytes = b",") -> list[bytes]:
    """The fields of one well-formed record (without its line end), unquoted."""
    if b'"' not in span:
        return span.split(sep)
    found = [(q + b).replace(b'""', b'"') for q, b in grammar(sep).fields.findall(span)]
    if span and not span.endswith(sep):
        found.pop()  # the empty match findall adds at the very end
    return found


def count_fields(span: bytes, sep: bytes = b",") -> int:
    """How many fields a well-formed record has (separators inside quotes do not count)."""
    if b'"' not in span:
        return span.count(sep) + 1
    return _QUOTED_RE.sub(b"", span).count(sep) + 1


def raw_line(data: bytes, start: int, end: int) -> str:
    return data[start:min(end, start + RAW_BYTES)].decode("utf-8", "replace").rstrip("\r\n")


@dataclass
class Header:
    names: list[str]
    end: int
    """Where the first record after the header starts."""
    text: bytes
    """The header record as it is in the file, without its line end."""
    sep: bytes = b","
    """The field separator (given, or sniffed by `sniff`)."""

    @property
    def lines(self) -> int:
        """How many physical lines the header spans (a quoted name may hold a line break)."""
        return self.text.count(b"\n") + 1

    def hint(self) -> str | None:
        """When the file reads as one column whose name holds another separator: say so, once."""
        if len(self.names) != 1:
            return None
        for sep, word in ((b";", "semicolons"), (b"\t", "tabs"), (b"|", "pipes"), (b",", "commas")):
            if sep != self.sep and sep.decode() in self.names[0]:
                flag = "tab" if sep == b"\t" else sep.decode()
                return (f"the header was read as one column, {self.names[0][:60]!r}, which holds {word}: "
                        f"if the fields are separated by {word}, use --delimiter '{flag}' "
                        f"(delimiter={sep.decode()!r} in Python)")
        return None


SNIFF_BYTES = 64 * 1024
"""How much of the start of a file `sniff` looks at (the header and the first records)."""
SNIFF_RECORDS = 20


def sniff(data: bytes) -> bytes:
    """The field separator of a CSV, from its header and first records: among `DELIMITERS`, the one
    that splits the header into most columns that the first records agree with (a comma when none
    splits it: one column)."""
    head = data[:SNIFF_BYTES]
    best, best_score = b",", (0, 0, 0)
    for rank, sep in enumerate(reversed(DELIMITERS)):  # ties go to the earlier (preferred) separator
        g = grammar(sep)
        m = g.record.match(head)
        if m is None or sep not in head[:m.end()]:
            continue
        width = count_fields(head[:m.end()].rstrip(b"\r\n"), sep)
        if width < 2:
            continue
        agree, pos = 0, m.end()
        for _ in range(SNIFF_RECORDS):
            r = g.record.match(head, pos)
            if r is None or r.end() == pos or (r.end() == len(head) and len(head) < len(data)):
                break
            agree += count_fields(head[pos:r.end()].rstrip(b"\r\n"), sep) == width
            pos = r.end()
        score = (agree, width, rank)
        if score > best_score:
            best, best_score = sep, score
    return best


def read_header(data: bytes, source: str | Path, sep: bytes | None = None) -> Header:
    """The header record, or DataReadError: too many columns (checked before anything is built),
    malformed, not UTF-8, empty, or a column named twice. `sep` None: sniffed (`sniff`)."""
    sep = sniff(data) if sep is None else sep
    g = grammar(sep)
    nl = data.find(b"\n")
    first_end = len(data) if nl < 0 else nl
    if data.find(b'"', 0, first_end) < 0:  # the common case: the width is a count of separators
        _check_width(data.count(sep, 0, first_end) + 1, source)
    m = g.record.match(data)
    if m is None:
        if nl < 0 and b"\r" in data[:first_end].strip(b"\r"):  # lines end with CR alone: "CSV (Macintosh)"
            raise DataReadError(f"{source}: its lines end with a carriage return alone (CR, the old Mac text "
                                "format); save it with Unix or Windows line ends (Excel: \"CSV UTF-8\")")
        raise DataReadError(f"{source}: the header (line 1) is malformed CSV ({_why(data[:first_end], sep)})")
    end = m.end()
    text = data[:end].rstrip(b"\n")
    text = text[:-1] if text.endswith(b"\r") else text
    _check_width(count_fields(text, sep), source)
    if len(text) > READ_BOUND:
        raise DataReadError(f"{source}: the header is {len(text):,} bytes long; is this a CSV file?")
    if b"\x00" in text:
        raise DataReadError(f"{source}: the header (line 1) holds a NUL byte: binary data, not CSV text")
    try:
        names = [f.decode("utf-8") for f in fields(text, sep)]
    except UnicodeDecodeError:
        raise DataReadError(f"{source}: the header (line 1) is not valid UTF-8 text") from None
    if names == [""]:
        raise DataReadError(f"{source}: the header (line 1) is empty; the first line must name the columns")
    unnamed = [i + 1 for i, name in enumerate(names) if name == ""]
    if len(unnamed) > 1:  # Excel keeps empty columns after the last one ever used
        raise DataReadError(f"{source}: the header has {len(unnamed)} columns with no name (columns "
                            f"{', '.join(map(str, unnamed[:5]))}{', …' if len(unnamed) > 5 else ''}); delete them "
                            "(Excel leaves empty ones after the last column used) or give each a name")
    seen: set[str] = set()
    for name in names:
        if polars_pattern(name):
            raise DataReadError(f"{source}: a column is named {name!r}, which the reader takes for a pattern "
                                "(every column, or a regex); rename that column")
        if name in seen:
            raise DataReadError(f"{source}: the header names the column {name!r} twice")
        seen.add(name)
    return Header(names, end, text, sep)


def _check_width(width: int, source: str | Path) -> None:
    if width > MAX_KEYS:  # every row would have more than MAX_KEYS keys: refuse before building anything
        raise DataReadError(f"{source}: has {width:,} columns; an event can have at most {MAX_KEYS:,} keys")


def _why(line: bytes, sep: bytes = b",") -> str:
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
            pos = grammar(sep).bare.match(line, pos).end()
            if line.startswith(b'"', pos):
                return "a quote inside an unquoted field (quote the whole field and double the quote)"
        if pos >= len(line):
            break
        c = line[pos:pos + 1]
        if c == sep:
            pos += 1
            continue
        if c == b"\r":
            return "a carriage return (CR) that does not end the line"
        return "text after a closing quote"
    return "unexpected text"


_DENSE = 1500  # quoted records per MiB above which one linear pass beats a match per quoted record


def well_formed(data: bytes, start: int, sep: bytes = b",") -> bool:
    """True when every record from `start` on is well-formed, assuming no record holds a lone CR
    (checked apart). Records without a quote always are; each record with one is matched (a
    `find` hops between them); when they are dense, the rest is checked in one linear pass."""
    find, rfind, match = data.find, data.rfind, grammar(sep).record.match
    pos, matched = start, 0
    while (q := find(b'"', pos)) >= 0:
        line = max(pos, rfind(b"\n", pos, q) + 1)  # the lines before it hold no quote: whole records
        m = match(data, line)
        if m is None:
            return False
        pos = m.end()
        matched += 1
        if matched % 10_000 == 0 and matched * (1 << 20) > _DENSE * (pos - start):
            return _well_formed_rest(data, pos, sep)
    return True


def _well_formed_rest(data: bytes, pos: int, sep: bytes) -> bool:
    import polars as pl

    try:
        text = pl.Series([data[pos:]], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:  # not UTF-8: not for the fast path either
        return False
    return bool(text.str.contains(grammar(sep).records_text)[0])


@dataclass
class Split:
    """The records of a CSV body: `runs` are byte ranges of consecutive records a parser may read
    (line ends included), `good` the record number of each of them in order, `bad` the E001 rows."""

    runs: list[tuple[int, int]] = field(default_factory=list)
    good: list[int] = field(default_factory=list)
    bad: list[tuple[int, str, str]] = field(default_factory=list)
    """(record number, message, raw text)"""
    bad_breaks: list[int] = field(default_factory=list)
    """The line breaks inside each bad record (0 for a malformed one: it is its own line)."""
    end: int = 0
    """Where the walk stopped: the end of its last record."""
    line: tuple[int, int] = (0, 0)
    """(line number, position): where line counting stands, to go on from in a later walk."""

    @property
    def records(self) -> int:
        return len(self.good) + len(self.bad)


def split(data: bytes, header: Header, start: int | None = None, stop: int | None = None,
          line: tuple[int, int] | None = None) -> Split:
    """Every record after the header (or from `start`, a record's start, to the first record end at or
    past `stop`, numbered from 0 there; `line`: a previous walk's `Split.line`): well-formed ones into
    runs, the others into E001 rows (malformed: its own line; more fields than the header; far over
    the size bound; a NUL byte; not UTF-8). Linear: one regex match per record, no record decoded or copied."""
    out = Split()
    width, sep = len(header.names), header.sep
    n = len(data)
    whole = start is None
    start = header.end if start is None else start
    stop = n if stop is None else stop
    check_nul = not whole or data.find(b"\x00", header.end) >= 0
    check_utf8 = not whole or not _utf8(data, header.end)
    big = 2 * READ_BOUND + 3 * width  # over this many bytes, a record's cells are surely over READ_BOUND
    # line numbers (1-based) are counted only when a message needs one
    line, line_pos = line if line is not None else (header.lines + 1, header.end)
    run_start = pos = start
    index = 0
    match = grammar(sep).record.match
    while pos < n and (pos < stop or index == 0):
        m = match(data, pos)
        problem = None
        inner = 0
        if m is None:
            nl = data.find(b"\n", pos)
            end = n if nl < 0 else nl + 1
            content = end - (1 if nl >= 0 else 0)
            if content - pos > READ_BOUND:
                problem = SIZE_MESSAGE
            elif check_nul and data.find(b"\x00", pos, content) >= 0:
                problem = "a NUL byte (binary data)"
            else:
                problem = f"malformed CSV ({_why(data[pos:content], sep)})"
        else:
            end = m.end()
            content = end - (2 if data.startswith(b"\r\n", end - 2) else 1 if data.startswith(b"\n", end - 1) else 0)
            if content - pos > big:
                problem = SIZE_MESSAGE
            elif data.count(sep, pos, content) >= width and (k := count_fields(data[pos:content], sep)) > width:
                problem = f"{k:,} fields, but the header has {width:,}"
            elif check_nul and data.find(b"\x00", pos, content) >= 0:
                problem = "a NUL byte (binary data)"
            elif check_utf8 and not _utf8(data[pos:content]):
                problem = "not valid UTF-8 text"
            if problem is not None:
                inner = data.count(b"\n", pos, content)
        if problem is None:
            out.good.append(index)
        else:
            line += data.count(b"\n", line_pos, pos)
            line_pos = pos
            message = problem if problem == SIZE_MESSAGE else f"line {line:,}: {problem}"
            out.bad.append((index, message, raw_line(data, pos, content)))
            out.bad_breaks.append(inner)
            if run_start < pos:
                out.runs.append((run_start, pos))
            run_start = end
        index += 1
        pos = end
    if run_start < pos:
        out.runs.append((run_start, pos))
    out.end, out.line = pos, (line, line_pos)
    return out


def spanning_records(data: bytes, header: Header, records: int) -> tuple[list[int], list[int]]:
    """The records that span more than one physical line (a quoted field holding a line break):
    their record numbers and how many lines each adds, given how many records the body holds.
    When the body's line breaks are one a record (the common case) that is known from one count,
    with no loop; else the records with a quote are walked as `split` walks them (a malformed
    record is its own physical line)."""
    start = header.end
    if records == 0 or data.find(b'"', start) < 0:
        return [], []
    breaks = data.count(b"\n", start) + (0 if data.endswith(b"\n") else 1)
    if breaks == records:
        return [], []
    find, rfind, match = data.find, data.rfind, grammar(header.sep).record.match
    rows: list[int] = []
    extra: list[int] = []
    pos, index = start, 0
    while (q := find(b'"', pos)) >= 0:
        line = max(pos, rfind(b"\n", pos, q) + 1)  # the lines before it hold no quote: a record each
        index += data.count(b"\n", pos, line)
        m = match(data, line)
        if m is None:
            nl = find(b"\n", line)
            end = len(data) if nl < 0 else nl + 1
        else:
            end = m.end()
            inner = data.count(b"\n", line, end) - (1 if data.endswith(b"\n", line, end) else 0)
            if inner:
                rows.append(index)
                extra.append(inner)
        index += 1
        pos = end
    return rows, extra


def _utf8(data: bytes, start: int = 0) -> bool:
    if data.isascii():
        return True
    try:
        str(memoryview(data)[start:], "utf-8")
    except UnicodeDecodeError:
        return False
    return True


__all__ = ["DELIMITERS", "RECORD", "Grammar", "Header", "Split", "count_fields", "fields", "grammar", "raw_line",
           "read_header", "sniff", "spanning_records", "split", "well_formed"]
