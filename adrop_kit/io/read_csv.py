"""CSV files → a canonical `Frame`, with one meaning whichever way a file is read.

Two paths read a CSV, and they give every row the same verdict and the same number (the
record grammar and the numbering are in `io.csv_records`):

- spans (`span_rows`, the default): `io.csv_spans` cuts the body into spans of regular records
  (well-formed, no NUL byte, no lone CR, UTF-8), which polars reads in one call, and the irregular
  records between them, walked one by one by `csv_records.split`; merged in order. So one broken
  record costs about that record, not a second pass over the file. A span polars still refuses
  (too many fields) is read again span by span, and the span it refuses is walked;
- forgiving (`forgiving=True`, the definition the first is held to): `csv_records.split` over the
  whole body finds the records polars may read and the E001 rows for the others (each judged by
  its own line), and polars reads the well-formed records, so a value cannot depend on an
  unrelated broken line.

Then both: an empty cell, quoted (`""`) or not, is absent; a record with no cell is not an event
(it keeps its number); a record whose cells hold more than `READ_BOUND` bytes, or whose `items`
cell nests or widens past the limits, is an E001 row; `__`-named columns (the reader's own
namespace) are dropped; numbers are parsed (`type_csv`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from adrop_kit.io.csv_records import Header, Split, fields, grammar, read_header, spanning_records, split
from adrop_kit.io.csv_spans import Breaks, Native, Precise, line_breaks, pieces
from adrop_kit.io.csv_types import type_csv
from adrop_kit.io.frames import ERROR, LINE, RAW, ROW, Frame, short
from adrop_kit.io.jsontext import limits_problem, parse_json_text, too_deep
from adrop_kit.io.source import READ_BOUND
from adrop_kit.io.values import text_problem
from adrop_kit.spec.catalog import ITEMS, Catalog
from adrop_kit.spec.rules import DEPTH_MESSAGE, MAX_DEPTH, MAX_KEYS, SIZE_MESSAGE
from adrop_kit.support.chunks import gathered

_META = (ROW, ERROR, RAW)


def read_csv(data: bytes, source: str, catalog: Catalog, *, forgiving: bool = False,
             delimiter: str | None = None) -> Frame:
    """A CSV file's UTF-8 bytes (byte order mark already skipped) → a canonical frame.
    `delimiter` (`,` `;` tab `|`): None sniffs it from the header and the first records.
    `forgiving=True` skips the fast path (for tests that hold the two paths to one meaning).
    A file read as one column whose name holds another separator gets a note saying so."""
    header = read_header(data, source, None if delimiter is None else delimiter_bytes(delimiter))
    breaks = facts = None
    if forgiving or not cell_columns(header):
        df = forgiving_rows(data, header)
    else:  # polars reads the regular spans, the records between them are walked one by one
        df, breaks, facts = span_rows(data, header)
    df = df.with_columns(lines(data, header, df.height, df.get_column(ROW), breaks))
    hint = header.hint()
    big = len(data) > READ_BOUND and (facts is None or facts.longest > READ_BOUND)  # else no record can be over it
    df = type_csv(finish(df, header, may_be_big=big, data=data), catalog)
    return Frame(df, source, notes=(f"{source}: {hint}",) if hint else ())


def lines(data: bytes, header: Header, records: int, rows: pl.Series, breaks: pl.Series | None = None) -> pl.Series:
    """`__line`: the 1-based physical line each record starts on, as an editor shows it (the
    header is line 1; a quoted line break inside a record moves the records after it down).
    `breaks`: the line breaks inside each record's cells, when polars read every record (then
    no record is walked again)."""
    base = rows + (header.lines + 1)
    if breaks is not None:
        if breaks.sum() == 0:
            return base.alias(LINE)
        before = breaks.cum_sum() - breaks  # lines added by the records before each
        return (base + before.gather(rows)).alias(LINE)
    spanning, extra = spanning_records(data, header, records)
    if not spanning:
        return base.alias(LINE)
    before = pl.Series([0, *extra], dtype=pl.Int64).cum_sum()  # lines added by the records before each
    return (base + before.gather(pl.Series(spanning, dtype=pl.Int64).search_sorted(rows, side="left"))).alias(LINE)


DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}


def delimiter_bytes(delimiter: str) -> bytes:
    """`,` `;` `\\t` (or a tab, or `tab`) `|` → the separator; ValueError for anything else."""
    sep = DELIMITER_NAMES.get(delimiter.lower(), delimiter)
    if sep not in (",", ";", "\t", "|"):
        raise ValueError(f"the CSV delimiter must be one of , ; tab |, not {delimiter!r}")
    return sep.encode()


def cell_columns(header: Header) -> list[str]:
    """The header's columns but the reader's own `__` namespace (such columns are dropped)."""
    return [n for n in header.names if not n.startswith("__")]


def _read(data: bytes, header: Header) -> pl.DataFrame:
    """polars over header + records, every column (`__` ones too) named as the header names it. An empty
    cell, quoted (`""`) or not, is null (absent) as polars parses it: no pass over the cells after."""
    df = pl.read_csv(data, has_header=True, infer_schema=False, raise_if_empty=False,
                     separator=header.sep.decode(), null_values=[""])
    if df.width != len(header.names):
        raise pl.exceptions.ComputeError("the header was read differently")
    if df.columns != header.names:
        df = df.rename(dict(zip(df.columns, header.names, strict=True)))
    return df


def _polars(data: bytes, header: Header, *, breaks: bool = False) -> pl.DataFrame:
    df = _read(data, header)
    if breaks:  # the line breaks inside each record's cells (all of them, `__` columns too)
        return df.select(*cell_columns(header), _breaks(header.names))
    return df.select(cell_columns(header))


_BREAKS = "__breaks"


def _breaks(names: list[str]) -> pl.Expr:
    return pl.sum_horizontal(pl.col(names).str.count_matches("\n", literal=True).fill_null(0)).cast(pl.Int64) \
        .alias(_BREAKS)


def span_rows(data: bytes, header: Header) -> tuple[pl.DataFrame, pl.Series, Breaks | None]:
    """polars over the regular spans of records, `csv_records.split` over the others (`csv_spans.pieces`),
    merged in order: the frame `forgiving_rows` builds, the line breaks inside each record, and what the
    bytes say of its records when polars read them all in one call (else None)."""
    parts = pieces(data, header)
    native = [p for p in parts if isinstance(p, Native)]
    frames, facts = _native_frames(data, header, native)
    read = dict(zip(native, frames, strict=True))
    refused = [p for p in native if read[p] is None and p.cuts]
    if refused:  # read again chunk by chunk: only the chunk polars refuses is walked
        parts = [q for p in parts for q in (p.chunks() if p in refused else [p])]
        read.update((q, _native_frames(data, header, [q])[0][0]) for p in refused for q in p.chunks())
    parts = [Precise(split(data, header, p.start, p.end)) if isinstance(p, Native) and read[p] is None else p
             for p in parts]
    walks = [p.split for p in parts if isinstance(p, Precise)]
    runs: list[tuple[pl.DataFrame, int, int] | Precise] = []  # consecutive spans of one read: one slice
    for p in parts:
        if isinstance(p, Precise):
            runs.append(p)
            continue
        f, a, h = read[p]  # type: ignore[misc]
        last = runs[-1] if runs else None
        if isinstance(last, tuple) and last[0] is f and last[1] + last[2] == a:
            runs[-1] = (f, last[1], last[2] + h)
        else:
            runs.append((f, a, h))
    good = _good_rows(data, header, [r for w in walks for r in w.runs], sum(len(w.good) for w in walks))
    cells = cell_columns(header)
    frames: list[pl.DataFrame] = []
    index = offset = 0
    for p in runs:  # in order: only a walk's own good and bad records need sorting
        if isinstance(p, tuple):
            # (a row index, not an int_range: a column of one chunk beside polars' many rechunks them all)
            df = p[0].slice(p[1], p[2]).with_row_index(ROW, offset=index).with_columns(
                pl.col(ROW).cast(pl.Int64), pl.lit(None, pl.String).alias(ERROR), pl.lit(None, pl.String).alias(RAW))
            index += df.height
        else:
            w = p.split
            df = good.slice(offset, len(w.good)).with_columns(pl.Series(ROW, w.good, pl.Int64) + index,
                                                              pl.lit(None, pl.String).alias(ERROR),
                                                              pl.lit(None, pl.String).alias(RAW))
            offset += len(w.good)
            if w.bad:
                rows, messages, raws = zip(*w.bad, strict=True)
                bad = pl.DataFrame({ROW: pl.Series(rows, dtype=pl.Int64) + index,
                                    ERROR: pl.Series(messages, dtype=pl.String),
                                    RAW: pl.Series([short(r) for r in raws], dtype=pl.String),
                                    _BREAKS: pl.Series(w.bad_breaks, dtype=pl.Int64)})
                df = pl.concat([df, bad], how="diagonal").sort(ROW)
            index += w.records
        frames.append(df)
    if not frames:
        frames = [pl.DataFrame(schema={ROW: pl.Int64, ERROR: pl.String, RAW: pl.String,
                                       **dict.fromkeys(cells, pl.String), _BREAKS: pl.Int64})]
    df = pl.concat(frames, how="diagonal") if len(frames) > 1 else frames[0]
    breaks = df.drop_in_place(_BREAKS)
    return df, breaks, facts if not walks and not refused else None


def _native_frames(data: bytes, header: Header,
                   native: list[Native]) -> tuple[list[tuple[pl.DataFrame, int, int] | None], Breaks | None]:
    """Each native span's records read by polars, as (frame, first row, rows) (one read for all; the
    spans one by one if polars refuses that: too many fields), None for a span it refuses; and what their
    bytes say (`Breaks`) when one read took them all. A big read runs in a thread while numpy finds the
    line breaks (both release the GIL). polars does not start before `pieces` has found the spans: a read
    of a body it then cuts would be thrown away (a stray quote would cost a whole read more)."""
    if not native:
        return [], None
    whole = native[0].start == header.end and native[-1].end == len(data) \
        and all(a.end == b.start for a, b in zip(native, native[1:], strict=False))
    if whole:  # the whole body: no copy
        text = data
    else:
        view = memoryview(data)  # (slices of it are not copies: one copy, the joined text)
        text = b"".join([header.text, b"\n", *(view[p.start:p.end] for p in native)])
    if len(text) < _SIDE_BY_SIDE:
        df = _read_or_none(text, header)
        found = line_breaks(data, native) if df is not None else None
    else:  # polars reads in its threads while numpy finds the line breaks here
        with ThreadPoolExecutor(1) as pool:
            read = pool.submit(_read_or_none, text, header)
            found = line_breaks(data, native)
            df = read.result()
    if df is not None and found is not None:  # each span's records (by line ends and quotes), if polars read as many
        sizes = [len(b) for b in found.spans]
        if df.height == sum(sizes):
            breaks = pl.Series(_BREAKS, np.concatenate(found.spans), dtype=pl.Int64)
            multi = (breaks > 0).arg_true()  # polars' records that span lines hold the breaks they should (all)
            if not len(multi) or (gathered(df, multi).select(_breaks(header.names)).to_series()
                                  == breaks.gather(multi)).all():
                df = df.select(cell_columns(header)).with_columns(breaks)
                cuts = np.cumsum(sizes).tolist()
                return [(df, a, b - a) for a, b in zip([0, *cuts], cuts, strict=False)], found
    if len(native) == 1:  # refused, or read otherwise than the grammar says: walked
        return [None], None
    return [_native_frames(data, header, [p])[0][0] for p in native], None


_SIDE_BY_SIDE = 1 << 20
"""Bytes from which polars' read and the search for line breaks run side by side (below, a thread costs more)."""


def _read_or_none(text: bytes, header: Header) -> pl.DataFrame | None:
    """`_read` of header + records (a line end added after the last), None when polars refuses them."""
    try:
        return _read(text if text.endswith(b"\n") else text + b"\n", header)
    except pl.exceptions.PolarsError:
        return None


def _good_rows(data: bytes, header: Header, runs: list[tuple[int, int]], count: int) -> pl.DataFrame:
    """The well-formed records of the walks, read by polars (by `_python_rows` if it reads them differently)."""
    body = b"".join(data[s:e] for s, e in runs)
    if body and not body.endswith(b"\n"):
        body += b"\n"
    try:
        good = _polars(header.text + b"\n" + body, header, breaks=True) if body else None
        if good is not None and good.height == count:
            return good
    except pl.exceptions.PolarsError:
        pass
    if not count:
        return pl.DataFrame({**{n: pl.Series([], dtype=pl.String) for n in cell_columns(header)},
                             _BREAKS: pl.Series([], dtype=pl.Int64)})
    return _python_rows(data, header, Split(runs=runs), breaks=True)


def fast_rows(data: bytes, header: Header) -> pl.DataFrame | None:
    """polars over the whole file; None when it refuses it (then the forgiving path reads it)."""
    if not data.endswith(b"\n"):  # polars lets a last record without a line end break the grammar
        data += b"\n"
    try:
        df = _polars(data, header)
    except pl.exceptions.PolarsError:
        return None
    return df.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64), pl.lit(None, pl.String).alias(ERROR),
                                               pl.lit(None, pl.String).alias(RAW))


def forgiving_rows(data: bytes, header: Header) -> pl.DataFrame:
    """Record by record (`csv_records.split`): polars reads the well-formed records; the others are E001 rows."""
    parts = split(data, header)
    body = b"".join(data[s:e] for s, e in parts.runs)
    if body and not body.endswith(b"\n"):
        body += b"\n"
    try:
        good = _polars(header.text + b"\n" + body, header) if body and cell_columns(header) else None
        if good is not None and good.height != len(parts.good):
            raise pl.exceptions.ComputeError("a record was read differently")
    except pl.exceptions.PolarsError:
        good = _python_rows(data, header, parts)
    rows = pl.Series(ROW, parts.good, pl.Int64)
    if good is None:  # nothing to read, or no column but `__` ones: no record is an event
        good = pl.DataFrame(rows).with_columns(pl.lit(None, pl.String).alias(n) for n in cell_columns(header))
    good = good.with_columns(rows, pl.lit(None, pl.String).alias(ERROR), pl.lit(None, pl.String).alias(RAW))
    if not parts.bad:
        return good
    rows, messages, raws = zip(*parts.bad, strict=True)
    bad = pl.DataFrame({ROW: pl.Series(rows, dtype=pl.Int64), ERROR: pl.Series(messages, dtype=pl.String),
                        RAW: pl.Series([short(r) for r in raws], dtype=pl.String)})
    return pl.concat([good, bad], how="diagonal_relaxed").sort(ROW)


def _python_rows(data: bytes, header: Header, parts: Split, *, breaks: bool = False) -> pl.DataFrame:
    """The well-formed records field by field, when polars does not read them as the grammar says
    (a safety net: the property tests hold polars to the grammar). `breaks`: with `__breaks`."""
    width = len(header.names)
    cols: list[list[str | None]] = [[] for _ in range(width)]
    inner: list[int] = []
    for start, end in parts.runs:
        pos = start
        while pos < end:
            stop = grammar(header.sep).record.match(data, pos).end()
            text = data[pos:stop].rstrip(b"\n")
            cells = fields(text[:-1] if text.endswith(b"\r") else text, header.sep)
            inner.append(sum(c.count(b"\n") for c in cells[:width]))
            for j in range(width):
                cols[j].append(cells[j].decode("utf-8") or None if j < len(cells) else None)
            pos = stop
    df = pl.DataFrame({n: pl.Series(c, dtype=pl.String) for n, c in zip(header.names, cols, strict=True)})
    if breaks:
        return df.select(*cell_columns(header), pl.Series(_BREAKS, inner, dtype=pl.Int64))
    return df.select(cell_columns(header))


def finish(df: pl.DataFrame, header: Header, *, may_be_big: bool, data: bytes) -> pl.DataFrame:
    """What both paths share (their empty cells, quoted or not, already null): blank lines dropped (a
    record of empty cells, `,` or `"",""`, is an event with no key, as `{}` in JSONL), E001 rows for
    records past the size bound or with an `items` cell past the limits; `__` columns dropped.
    `may_be_big=False`: no record is past the size bound."""
    cells = cell_columns(header)
    df = df.select(*_META, LINE, *cells)
    if not cells:
        return df.filter(pl.col(ERROR).is_not_null())
    sizes = pl.col(cells).str.len_bytes()
    kept = pl.col(ERROR).is_not_null() | pl.any_horizontal(pl.col(cells).is_not_null())
    empty_rows = df.filter(~kept).get_column(LINE)
    if empty_rows.len():  # a record of empty cells is an event; a blank line is not
        df = df.filter(kept | ~pl.col(LINE).is_in(_blank_lines(data, empty_rows).implode()))
    problems: dict[int, str] = {}
    if may_be_big and sum(m or 0 for m in df.select(sizes.max()).row(0)) > READ_BOUND:  # else none can be over it
        total = df.select(pl.sum_horizontal(sizes.fill_null(0))).to_series()
        problems.update(dict.fromkeys((total > READ_BOUND).arg_true().to_list(), SIZE_MESSAGE))
    if ITEMS in cells:
        problems.update((i, p) for i, p in _items_problems(df.get_column(ITEMS)).items() if i not in problems)
    if not problems:
        return df
    hit = pl.Series([False] * df.height, dtype=pl.Boolean).scatter(sorted(problems), True)
    messages = [None] * df.height
    raws: list[str | None] = [None] * df.height
    for i, p in problems.items():
        messages[i] = p
        raws[i] = short(header.sep.decode().join("" if v is None else v[:200] for v in df.select(cells).row(i)))
    return df.with_columns(pl.coalesce(pl.col(ERROR), pl.Series(messages, dtype=pl.String)).alias(ERROR),
                           pl.coalesce(pl.col(RAW), pl.Series(raws, dtype=pl.String)).alias(RAW),
                           *(pl.when(hit).then(None).otherwise(pl.col(c)).alias(c) for c in cells))


def _blank_lines(data: bytes, lines: pl.Series) -> pl.Series:
    """Which of these 1-based physical lines of `data` are blank (nothing, or a lone CR, before the
    line end): a blank line is no record of an event."""
    import numpy as np

    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    blank = []
    for line in lines.to_list():
        start = 0 if line == 1 else int(ends[line - 2]) + 1
        end = int(ends[line - 1]) if line - 1 < len(ends) else len(data)
        if data[start:end] in (b"", b"\r"):
            blank.append(line)
    return pl.Series(blank, dtype=pl.Int64)


def _items_problems(col: pl.Series) -> dict[int, str]:
    """`items` cells past the limits (the cell is level 2 of its event), or whose JSON holds text UTF-8
    cannot hold (a lone surrogate escape: the event cannot be sent, as for a JSONL line). A cheap count
    of brackets and colons, and a search for surrogate escapes, pick the few cells worth a look."""
    suspects = col.str.count_matches(r"[\[{]").fill_null(0) >= MAX_DEPTH
    suspects = suspects | col.str.contains(r"\\[uU][dD][89a-fA-F]").fill_null(False)
    if (col.str.len_bytes() > 4 * MAX_KEYS).any():  # shorter cells cannot hold MAX_KEYS + 1 keys
        suspects = suspects | (col.str.count_matches(":", literal=True).fill_null(0) > MAX_KEYS)
    problems: dict[int, str] = {}
    for i in suspects.arg_true().to_list():
        text = col[i]
        if too_deep(text, MAX_DEPTH - 1):
            problems[i] = DEPTH_MESSAGE
            continue
        try:
            value = parse_json_text(text)
        except ValueError:
            continue  # not JSON: an E007 for the checks
        if (problem := limits_problem({ITEMS: value}) or text_problem(value, size=False)) is not None:
            problems[i] = problem
    return problems


__all__ = ["cell_columns", "delimiter_bytes", "fast_rows", "finish", "forgiving_rows", "read_csv", "span_rows",
           "type_csv"]
