"""CSV files → a canonical `Frame`, with one meaning whichever way a file is read.

Two paths read a CSV, and they give every row the same verdict and the same number (the
record grammar and the numbering are in `io.csv_records`):

- fast: polars reads the whole file, when it holds no NUL byte and no lone CR, every record
  with a quote is well-formed (`csv_records.well_formed`: polars would read some malformed
  ones its own way) and polars accepts it (it refuses too many fields, invalid UTF-8);
- forgiving: `csv_records.split` finds the records polars may read and the E001 rows for the
  others (each judged by its own line), and polars reads the well-formed records, the same
  parser as the fast path, so a value cannot depend on an unrelated broken line.

Then both: an empty cell, quoted (`""`) or not, is absent; a record with no cell is not an event
(it keeps its number); a record whose cells hold more than `READ_BOUND` bytes, or whose `items`
cell nests or widens past the limits, is an E001 row; `__`-named columns (the reader's own
namespace) are dropped; numbers are parsed (`type_csv`).
"""

from __future__ import annotations

import json

import polars as pl

from adrop_kit.io.csv_records import Header, Split, fields, grammar, read_header, spanning_records, split, well_formed
from adrop_kit.io.frames import BAD, ERROR, EXACT, LINE, RAW, ROW, Frame, key_types, short
from adrop_kit.io.jsontext import limits_problem, parse_json_text, too_deep
from adrop_kit.io.source import READ_BOUND
from adrop_kit.spec.catalog import ITEMS, Catalog
from adrop_kit.spec.rules import DEPTH_MESSAGE, MAX_DEPTH, MAX_KEYS, SIZE_MESSAGE

_META = (ROW, ERROR, RAW)


def read_csv(data: bytes, source: str, catalog: Catalog, *, forgiving: bool = False,
             delimiter: str | None = None) -> Frame:
    """A CSV file's UTF-8 bytes (byte order mark already skipped) → a canonical frame.
    `delimiter` (`,` `;` tab `|`): None sniffs it from the header and the first records.
    `forgiving=True` skips the fast path (for tests that hold the two paths to one meaning).
    A file read as one column whose name holds another separator gets a note saying so."""
    header = read_header(data, source, None if delimiter is None else delimiter_bytes(delimiter))
    df = None
    if not forgiving and data.find(b"\x00", header.end) < 0 and not _lone_cr(data) \
            and well_formed(data, header.end, header.sep):  # polars reads some malformed records its own way
        df = fast_rows(data, header)
    breaks = None
    if df is None:
        df = forgiving_rows(data, header)
    elif cell_columns(header) == header.names:  # every cell read as the grammar reads it: its line breaks count
        breaks = df.select(pl.sum_horizontal(pl.col(header.names).str.count_matches("\n", literal=True)
                                             .fill_null(0)).cast(pl.Int64)).to_series() if header.names else None
    records = df.height
    hint = header.hint()
    df = type_csv(finish(df, header, may_be_big=len(data) > READ_BOUND), catalog)
    return Frame(df.with_columns(lines(data, header, records, df.get_column(ROW), breaks)), source,
                 notes=(f"{source}: {hint}",) if hint else ())


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


def _lone_cr(data: bytes) -> bool:
    """A CR that is not part of a CRLF line end (polars and the grammar may read it differently)."""
    return b"\r" in data and data.count(b"\r") != data.count(b"\r\n")


def cell_columns(header: Header) -> list[str]:
    """The header's columns but the reader's own `__` namespace (such columns are dropped)."""
    return [n for n in header.names if not n.startswith("__")]


def _polars(data: bytes, header: Header) -> pl.DataFrame:
    df = pl.read_csv(data, has_header=True, infer_schema=False, raise_if_empty=False,
                     separator=header.sep.decode())
    if df.width != len(header.names):
        raise pl.exceptions.ComputeError("the header was read differently")
    if df.columns != header.names:
        df = df.rename(dict(zip(df.columns, header.names, strict=True)))
    return df.select(cell_columns(header))


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


def _python_rows(data: bytes, header: Header, parts: Split) -> pl.DataFrame:
    """The well-formed records field by field, when polars does not read them as the grammar says
    (a safety net: the property tests hold polars to the grammar)."""
    width = len(header.names)
    cols: list[list[str | None]] = [[] for _ in range(width)]
    for start, end in parts.runs:
        pos = start
        while pos < end:
            stop = grammar(header.sep).record.match(data, pos).end()
            text = data[pos:stop].rstrip(b"\n")
            cells = fields(text[:-1] if text.endswith(b"\r") else text, header.sep)
            for j in range(width):
                cols[j].append(cells[j].decode("utf-8") or None if j < len(cells) else None)
            pos = stop
    df = pl.DataFrame({n: pl.Series(c, dtype=pl.String) for n, c in zip(header.names, cols, strict=True)})
    return df.select(cell_columns(header))


def finish(df: pl.DataFrame, header: Header, *, may_be_big: bool) -> pl.DataFrame:
    """What both paths share: empty cells absent, records with no cell dropped, E001 rows for
    records past the size bound or with an `items` cell past the limits; `__` columns dropped."""
    cells = cell_columns(header)
    df = df.select(*_META, *cells)
    if not cells:
        return df.filter(pl.col(ERROR).is_not_null())
    sizes = pl.col(cells).str.len_bytes()
    stats = df.lazy().select(sizes.min().name.prefix("min:"), sizes.max().name.prefix("max:")).collect().row(0)
    empty = [c for c, least in zip(cells, stats[: len(cells)], strict=True) if least == 0]
    if empty:  # "" (quoted) is absent, as an empty cell is
        df = df.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in empty)
    df = df.filter(pl.col(ERROR).is_not_null() | pl.any_horizontal(pl.col(cells).is_not_null()))
    problems: dict[int, str] = {}
    if may_be_big and sum(m or 0 for m in stats[len(cells):]) > READ_BOUND:  # else no record can be over it
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


def _items_problems(col: pl.Series) -> dict[int, str]:
    """`items` cells past the limits (the cell is level 2 of its event). A cheap count of brackets
    and colons picks the few cells worth a look."""
    suspects = col.str.count_matches(r"[\[{]").fill_null(0) >= MAX_DEPTH
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
        if (problem := limits_problem({ITEMS: value})) is not None:
            problems[i] = problem
    return problems


def type_csv(df: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """CSV cells are text: parse numbers/integers/booleans; text that does not parse is a type error.
    Whole numbers stay integers (29900, not 29900.0), whatever the other rows hold: in a column
    that also holds fractions (Float64), an integer keeps its text in `__exact__<key>`, as do
    integers beyond Int64. A cell that does not parse is kept, whole, aside."""
    types = key_types(catalog)
    columns: list[pl.Series] = []
    for name in df.columns:
        ptype = types.get(name)
        if ptype in (None, "string", "items"):
            continue
        cell = df.get_column(name)
        text = cell.str.strip_chars()
        if ptype == "boolean":
            low = text.str.to_lowercase()
            val = pl.select(pl.when(low == "true").then(True).when(low == "false").then(False)).to_series()
        else:
            as_int = text.cast(pl.Int64, strict=False)
            if not (cell.is_not_null() & as_int.is_null()).any():
                val = as_int
            else:
                val = pl.select(pl.coalesce(as_int.cast(pl.Float64), text.cast(pl.Float64, strict=False))).to_series()
                exact = _integer_texts(text, as_int, val)
                if exact is not None:
                    columns.append(exact.alias(EXACT + name))
        unparsed = cell.is_not_null() & val.is_null()
        columns.append(val.alias(name))
        if unparsed.any():
            texts = [json.dumps(v, ensure_ascii=False) if bad else None
                     for v, bad in zip(cell.to_list(), unparsed.to_list(), strict=True)]
            columns.append(pl.Series(BAD + name, texts, dtype=pl.String))
    return df.with_columns(columns) if columns else df


def _integer_texts(text: pl.Series, as_int: pl.Series, val: pl.Series) -> pl.Series | None:
    """The exact JSON text of each integer cell of a Float64 column (None if there is none)."""
    exact = as_int.cast(pl.String)  # within Int64: its canonical text
    beyond = as_int.is_null() & val.is_not_null() & text.str.contains(r"^[+-]?[0-9]+$")
    if beyond.any():  # beyond Int64: the digits themselves, without a sign + or leading zeros
        digits = text.str.replace(r"^\+", "").str.replace(r"^(-?)0+([0-9])", "${1}${2}")
        exact = pl.select(pl.when(beyond).then(digits).otherwise(exact)).to_series()
    return exact if exact.null_count() < exact.len() else None


__all__ = ["cell_columns", "delimiter_bytes", "fast_rows", "finish", "forgiving_rows", "read_csv", "type_csv"]
