"""Reading dataset files (CSV, JSONL/NDJSON, a JSON array, Parquet) into a canonical `Frame`.

A file that cannot be read at all raises `DataReadError` naming it; a row that cannot be read
becomes an E001 row (see `adrop_kit.frames`), so nothing is dropped.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from .catalog import Catalog
from .errors import DataReadError
from .frames import BAD, ERROR, MAX_REPR, RAW, ROW, Frame, _normalise_native, _short, from_records, key_types
from .jsontext import parse_json_text
from .rules import json_kind


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
    return Frame(_normalise_native(df, catalog), str(p))


def _read_csv(p: Path, catalog: Catalog) -> Frame:
    data = p.read_bytes()
    try:
        df = pl.read_csv(io.BytesIO(data), infer_schema=False, raise_if_empty=True)
        df = df.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64), pl.lit(None, pl.String).alias(ERROR))
    except pl.exceptions.PolarsError:
        df = _read_csv_by_line(p, data)
    return Frame(_type_csv(df, catalog), str(p))


def _read_csv_by_line(p: Path, data: bytes) -> pl.DataFrame:
    """Slow, forgiving path for a CSV polars refuses: each physical line is one record."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataReadError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = text.splitlines()
    header = next(csv.reader([lines[0]]))
    width = len(header)
    body = [ln for ln in lines[1:]]
    cols: list[list[str | None]] = [[] for _ in header]
    errs: list[str | None] = []
    raws: list[str | None] = []
    for i, line in enumerate(body):
        fields: list[str] | None
        problem = None
        try:
            fields = next(csv.reader([line], strict=True), [])
        except csv.Error as exc:
            fields, problem = None, f"line {i + 2}: malformed CSV ({exc})"
        if fields is not None and len(fields) > width:
            fields, problem = None, f"line {i + 2}: {len(fields)} fields, but the header has {width}"
        errs.append(problem)
        raws.append(_short(line) if problem else None)
        fields = fields or []
        for j in range(width):
            cols[j].append(fields[j] if j < len(fields) and fields[j] != "" else None)
    out = pl.DataFrame({ROW: pl.Series(range(len(body)), dtype=pl.Int64), ERROR: pl.Series(errs, dtype=pl.String),
                        RAW: pl.Series(raws, dtype=pl.String),
                        **{h: pl.Series(c, dtype=pl.String) for h, c in zip(header, cols, strict=True)}})
    return out


def _type_csv(df: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """CSV cells are text: parse numbers/integers/booleans; text that does not parse is a type error."""
    types = key_types(catalog)
    exprs: list[pl.Expr] = []
    for name in df.columns:
        ptype = types.get(name)
        if ptype in (None, "string", "items"):
            continue
        c = pl.col(name)
        text = c.str.strip_chars()
        if ptype == "boolean":
            low = text.str.to_lowercase()
            val = pl.when(low == "true").then(True).when(low == "false").then(False).otherwise(None)
        else:
            val = text.cast(pl.Float64, strict=False)
            if ptype == "integer":
                as_int = text.cast(pl.Int64, strict=False)
                val = pl.coalesce(as_int.cast(pl.Float64), val)
        bad = pl.when(c.is_not_null() & val.is_null()).then(
            pl.lit('"') + c.str.slice(0, MAX_REPR).str.replace_all('"', '\\"', literal=True) + pl.lit('"'))
        exprs += [val.alias(name), bad.alias(BAD + name)]
    return df.with_columns(exprs) if exprs else df


