"""Reading dataset files (CSV, JSONL/NDJSON, a JSON array, Parquet) into a canonical `Frame`.

A file that cannot be read at all raises `DataReadError` naming it; a row that cannot be read
becomes an E001 row (see `adrop_kit.io.frames`), so nothing is dropped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from adrop_kit.errors import DataReadError
from adrop_kit.io.frames import (
    BAD,
    ERROR,
    MAX_REPR,
    RAW,
    ROW,
    Frame,
    from_pandas,
    from_polars,
    from_records,
    key_types,
    normalise_native,
    short,
)
from adrop_kit.io.jsontext import parse_json_text
from adrop_kit.spec.catalog import Catalog
from adrop_kit.spec.rules import json_kind


def to_frame(data: Any, catalog: Catalog) -> Frame:
    """Any supported input → a canonical `Frame`; `DataReadError` for what cannot be read at all."""
    if isinstance(data, Frame):
        return data
    if isinstance(data, (str, Path)):
        return read_path(data, catalog)
    if isinstance(data, pl.LazyFrame):
        data = data.collect()
    if isinstance(data, pl.DataFrame):
        return from_polars(data, catalog)
    mod = type(data).__module__
    if mod.startswith("pandas") and hasattr(data, "columns"):
        return from_pandas(data, catalog)
    if isinstance(data, Mapping):
        return from_records([data], catalog)
    if isinstance(data, Iterable) and not isinstance(data, (bytes, bytearray)):
        return from_records(list(data), catalog)
    raise DataReadError(f"cannot read a {type(data).__name__}: pass a file path, a pandas or polars DataFrame, "
                        "or a list of event dicts")


def read_path(path: str | Path, catalog: Catalog) -> Frame:
    p = Path(path)
    suffix = p.suffix.lower()
    readers = {".csv": _read_csv, ".jsonl": _read_jsonl, ".ndjson": _read_jsonl,
               ".json": _read_json, ".parquet": _read_parquet, ".pq": _read_parquet}
    reader = readers.get(suffix)
    if reader is None:
        raise DataReadError(f"{p}: unknown file type {suffix or '(no suffix)'!r}; "
                            "expected .csv, .jsonl, .ndjson, .json or .parquet")
    if not p.exists():
        raise DataReadError(f"{p}: no such file")
    if p.is_dir():
        raise DataReadError(f"{p}: is a directory, not a dataset file")
    try:
        if p.stat().st_size == 0 or (suffix != ".parquet" and not p.read_bytes().strip()):
            return from_records([], catalog, source=str(p))  # an empty file holds no events
        return reader(p, catalog)
    except DataReadError:
        raise
    except OSError as exc:
        raise DataReadError(f"{p}: cannot read: {exc.strerror or exc}") from None


def _read_jsonl(p: Path, catalog: Catalog) -> Frame:
    data = p.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark (Notepad writes one)
        data = data[3:]
    records: list[Any] = []
    rows: list[int] = []
    errors: dict[int, tuple[str, str]] = {}
    loads = orjson.loads
    for lineno, line in enumerate(data.split(b"\n")):
        if not line.strip():
            continue
        try:
            records.append(loads(line))
        except orjson.JSONDecodeError as exc:
            try:  # JSON orjson refuses but is still JSON (1e400, a lone surrogate escape): keep it
                records.append(parse_json_text(line))
                rows.append(lineno)
                continue
            except ValueError:
                pass
            errors[len(records)] = (f"line {lineno + 1} is not valid JSON ({exc})",
                                    line[:MAX_REPR].decode("utf-8", "replace"))
            records.append(None)
        rows.append(lineno)
    return from_records(records, catalog, errors=errors, rows=rows, source=str(p))


def _read_json(p: Path, catalog: Catalog) -> Frame:
    try:
        data = orjson.loads(p.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise DataReadError(f"{p}: not valid JSON ({exc}); for one event per line use .jsonl") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise DataReadError(f"{p}: expected a JSON array of events, got {json_kind(data)}")
    return from_records(data, catalog, source=str(p))


def _read_parquet(p: Path, catalog: Catalog) -> Frame:
    try:
        df = pl.read_parquet(p)
    except pl.exceptions.PolarsError as exc:
        raise DataReadError(f"{p}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    return Frame(normalise_native(df, catalog), str(p))


def _read_csv(p: Path, catalog: Catalog) -> Frame:
    data = p.read_bytes()
    try:
        df = pl.read_csv(io.BytesIO(data), infer_schema=False, raise_if_empty=True)
        df = df.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64), pl.lit(None, pl.String).alias(ERROR))
        cells = [c for c in df.columns if c not in (ROW, ERROR)]
        if cells:  # a blank line (every cell empty) is not an event; the others keep their numbers
            df = df.filter(pl.any_horizontal(pl.col(cells).is_not_null()))
    except pl.exceptions.PolarsError:
        df = _read_csv_forgiving(p, data)
    return Frame(_type_csv(df, catalog), str(p))


def _read_csv_forgiving(p: Path, data: bytes) -> pl.DataFrame:
    """Slow, forgiving path for a CSV polars refuses: record by record, and a broken record is judged
    by its first line alone, so one stray quote cannot swallow the lines after it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataReadError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = io.StringIO(text, newline="").readlines()  # physical lines, line ends kept (what csv expects)
    header = next(csv.reader(lines[:1]))
    width = len(header)
    rows: list[int] = []
    cols: list[list[str | None]] = [[] for _ in header]
    errs: list[str | None] = []
    raws: list[str | None] = []
    i, n = 1, 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue  # a blank line is not an event
        fields, problem, used = _one_record(lines, i, width)
        if problem and used > 1:  # it ran on into the next lines: judge its first line alone
            fields, problem, used = _one_record(lines[: i + 1], i, width)
        rows.append(n)
        n += 1
        errs.append(problem)
        raws.append(short(lines[i].rstrip("\r\n")) if problem else None)
        for j in range(width):
            cols[j].append(fields[j] if fields and j < len(fields) and fields[j] != "" else None)
        i += used
    return pl.DataFrame({ROW: pl.Series(rows, dtype=pl.Int64), ERROR: pl.Series(errs, dtype=pl.String),
                         RAW: pl.Series(raws, dtype=pl.String),
                         **{h: pl.Series(c, dtype=pl.String) for h, c in zip(header, cols, strict=True)}})


def _one_record(lines: list[str], start: int, width: int) -> tuple[list[str] | None, str | None, int]:
    """Parse one CSV record from lines[start:]: (fields, problem, physical lines used)."""
    reader = csv.reader(iter(lines[start:]), strict=True)
    try:
        fields = next(reader)
    except csv.Error as exc:
        return None, f"line {start + 1}: malformed CSV ({exc})", max(1, reader.line_num)
    if len(fields) > width:
        return None, f"line {start + 1}: {len(fields)} fields, but the header has {width}", reader.line_num
    return fields, None, reader.line_num


def _type_csv(df: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """CSV cells are text: parse numbers/integers/booleans; text that does not parse is a type error.
    Whole numbers stay integers (29900, not 29900.0); a cell that does not parse is kept, whole, aside."""
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
        unparsed = cell.is_not_null() & val.is_null()
        columns.append(val.alias(name))
        if unparsed.any():
            texts = [json.dumps(v, ensure_ascii=False) if bad else None
                     for v, bad in zip(cell.to_list(), unparsed.to_list(), strict=True)]
            columns.append(pl.Series(BAD + name, texts, dtype=pl.String))
    return df.with_columns(columns) if columns else df


