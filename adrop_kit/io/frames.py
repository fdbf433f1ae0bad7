"""Reading datasets into one canonical polars frame, losing and altering nothing.

Whatever comes in (CSV, JSONL/NDJSON, a JSON array, Parquet, a pandas or polars
DataFrame, a list of dicts) becomes a `Frame`:

- `__row`   the row's 0-based position in the input (for JSONL: its line number);
- `__line`  for text files (JSONL, CSV), the 1-based line where the row starts in the file, as an
  editor shows it (a CSV header is line 1; a quoted line break moves later records down);
- `__error` a message when the row is not a usable JSON object (rule E001), else null: not an
  object, nested past the limits or with too many keys in an object (SPEC.md "Limits"), text
  UTF-8 cannot hold. Limits are checked before anything recursive touches a value, and before
  any column is built for an oversized row's keys;
- one column per key, typed by the catalog: strings `String`, numbers `Float64`/`Int64`,
  booleans `Boolean`; a value of the wrong JSON type is moved to a side column
  `__bad__<key>` holding its JSON text, so the value column stays typed and the type
  error is still reported (E006) — never coerced away;
- `__exact__<key>`: the JSON text of a number its typed column does not hold exactly (an
  integer beyond Int64 or in a Float64 column, an integral float of an integer parameter such
  as `3.0` or `-0.0`); the value column holds the nearest float for the checks (the largest
  float of its sign beyond the float range), and `to_payloads` sends the text's value;
- keys outside the catalog get a column each while they are common; rare ones (in fewer than
  1 row in `RARE`, or past `MAX_OTHER_COLUMNS` such columns) share one column `__more`, a JSON
  object per row, so memory stays linear in the input whatever the number of distinct keys;
- `items` as native `List(Struct)` (polars/parquet sources) or as JSON text per cell
  (CSV, JSON sources), checked item by item.

Null and a missing key are the same: absent. In CSV an empty cell is absent. Value helpers
(exact JSON text, plain types) live in `io.values`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

import polars as pl

from adrop_kit.io.columns import BAD, EXACT, MORE, NATIVE_DTYPES, into_more, polars_pattern, series, value_text
from adrop_kit.io.jsontext import limits_problem, sent_items
from adrop_kit.io.values import LONG_RUN_PATTERN, event_problem, exact_json, loads_exact, plain, value_problem
from adrop_kit.spec.catalog import ITEMS, Catalog
from adrop_kit.spec.rules import MAX_DEPTH, MAX_KEYS, UNICODE_MESSAGE, json_kind

ROW = "__row"
LINE = "__line"
"""For text files, the 1-based line a row starts on (JSONL: its line; CSV: as an editor shows it)."""
ERROR = "__error"
RAW = "__raw"  # for E001 rows: what the row held, shortened
MAX_REPR = 200  # offending values are kept short in reports
MAX_OTHER_COLUMNS = 128
"""At most this many keys outside the catalog get a column of their own (the rest go in `__more`)."""
RARE = 16
"""A key outside the catalog gets a column only if it is in at least 1 row in RARE."""

_WIDE_INTS = (pl.Int64, pl.UInt64, pl.Int128, pl.UInt128)  # integer dtypes kept as they are (exact)


@dataclass
class Frame:
    """A dataset in canonical form (see the module docstring)."""

    df: pl.DataFrame
    source: str = "<data>"
    notes: tuple[str, ...] = ()
    """What the reader noticed about the whole input, said once (e.g. a CSV read as one column
    whose name holds semicolons); reports show them."""


def in_order(df: pl.DataFrame) -> pl.DataFrame:
    """Rows by `__row` (a reader may leave them in another order: `read_jsonl(ordered=False)`)."""
    return df if ROW not in df.columns or df.get_column(ROW).is_sorted() else df.sort(ROW)


def key_types(catalog: Catalog) -> dict[str, str]:
    """JSON type of every known top-level key: the envelope strings plus every parameter."""
    return {"uid": "string", "eventName": "string", "platform": "string", **catalog.param_types}


def short(text: str) -> str:
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 1] + "…"


# -- lists of dicts ------------------------------------------------------------------
def key_name(key: Any) -> str:
    return key if type(key) is str else str.__str__(key) if isinstance(key, str) else str(key)


def _not_an_object(value: Any) -> tuple[str, str | None]:
    problem = event_problem(value)
    if problem is not None:
        return problem, None
    try:
        return f"the event must be a JSON object, got {json_kind(value)}", short(exact_json(value))
    except ValueError:
        return f"the event must be a JSON object, got {json_kind(value)}", None


def from_records(records: Iterable[Any], catalog: Catalog, *, errors: Mapping[int, tuple[str, str]] | None = None,
                 rows: list[int] | None = None, source: str = "<records>",
                 beside: tuple[Mapping[str, int], int] | None = None) -> Frame:
    """Rows of Python objects (dicts, ideally) to a canonical frame; non-dicts become E001 rows.
    `errors` maps a position to (message, raw text) for rows that could not even be parsed.
    `beside`: (key counts, usable rows) of other rows of the same input, read elsewhere (the
    JSONL reader's native lane): whether a key is rare is judged over the whole input."""
    records = records if isinstance(records, list) else list(records)
    err: list[str | None] = [None] * len(records)
    raw: list[str | None] = [None] * len(records)
    wide: Counter[Any] = Counter()
    for i, r in enumerate(records):
        if type(r) is not dict:
            if not isinstance(r, Mapping):
                err[i], raw[i] = _not_an_object(r)
                continue
            records[i] = r = dict(r)
        if len(r) > MAX_KEYS:  # its keys make no column: they share `__more` (the batch check counts them)
            wide.update(r.keys())
    counts: Counter[Any] = Counter(chain.from_iterable(r for r in records if type(r) is dict))  # (one C loop)
    if wide:
        counts = Counter({k: c - wide[k] for k, c in counts.items()})  # a key only a wide row has is rare
    if errors:
        for i, (msg, text) in errors.items():
            err[i], raw[i] = msg, short(text)
    types = key_types(catalog)
    try:
        return Frame(_records_frame(records, counts, err, raw, rows, types, beside), source)
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): JSON allows the escape, UTF-8 cannot hold it
        pass
    for i, r in enumerate(records):
        if type(r) is dict and err[i] is None and (problem := value_problem(_kept(r))) is not None:
            err[i] = problem
            raw[i] = short(_ascii_json(r)) if problem == UNICODE_MESSAGE else None
    usable = Counter({k: c for k, c in counts.items() if value_problem(key_name(k)) is None})
    return Frame(_records_frame(records, usable, err, raw, rows, types, beside), source)


def _kept(record: dict[Any, Any]) -> dict[Any, Any]:
    """A record without the keys of the frame's reserved namespace (`__…`), which are dropped unread."""
    return {k: v for k, v in record.items() if not key_name(k).startswith("__")}


def _ascii_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, default=str)


def _records_frame(records: list[Any], counts: Counter[Any], err: list[str | None], raw: list[str | None],
                   rows: list[int] | None, types: Mapping[str, str],
                   beside: tuple[Mapping[str, int], int] | None = None) -> pl.DataFrame:
    empty: dict[Any, Any] = {}
    dicts = [r if type(r) is dict and err[i] is None else empty for i, r in enumerate(records)]
    n_ok = err.count(None)
    other_counts, other_ok = beside or ({}, 0)
    problems: dict[int, str] = {}
    cols: list[pl.Series] = []
    packed: set[Any] = set()
    names: set[str] = set()
    others = 0
    chosen: dict[Any, str] = {}
    for k, count in counts.items():
        name = key_name(k)
        if name.startswith("__") or name in names:  # the reserved namespace of this frame
            continue
        if name not in types:
            if (others >= MAX_OTHER_COLUMNS or (count + other_counts.get(name, 0)) * RARE < n_ok + other_ok
                    or polars_pattern(name)):
                packed.add(k)
                continue
            others += 1
        names.add(name)
        chosen[k] = name
    columns, extras = _columns(dicts, chosen, packed)
    for k, values in columns.items():
        cols.extend(series(chosen[k], values, types.get(chosen[k]), problems))
    if packed:
        cols.append(_more_column(len(dicts), extras, problems))
    for i, problem in problems.items():
        if err[i] is None:
            err[i] = value_problem(records[i]) or problem  # the whole row's message
            raw[i] = None
    head = [pl.Series(ROW, rows if rows is not None else range(len(records)), pl.Int64),
            pl.Series(ERROR, err, pl.String), pl.Series(RAW, raw, pl.String)]
    return frame_of(head + cols)


def _columns(dicts: list[dict[Any, Any]], keys: Mapping[Any, str], packed: set[Any]
             ) -> tuple[dict[Any, list[Any]], dict[int, dict[str, Any]]]:
    """Each key's value in every dict (None where absent), and each row's rare (`packed`) keys that
    are not null, in one pass over the dicts' own items: rows hold a few of many keys, so this
    touches each value once rather than every (row, key)."""
    n = len(dicts)
    out: dict[Any, list[Any]] = {k: [None] * n for k in keys}
    extras: dict[int, dict[str, Any]] = {}
    get = out.get
    for i, d in enumerate(dicts):
        for k, v in d.items():
            if (col := get(k)) is not None:
                col[i] = v
            elif v is not None and k in packed:
                extras.setdefault(i, {})[key_name(k)] = v
    return out, extras


def frame_of(columns: list[pl.Series]) -> pl.DataFrame:
    """A frame of these columns, names kept as they are (a list of Series would rename a "" column)."""
    named = {c.name: c for c in columns}
    return pl.DataFrame(named) if len(named) == len(columns) else pl.DataFrame(columns)  # duplicates: polars says so


def _more_column(n: int, extras: dict[int, dict[str, Any]], problems: dict[int, str]) -> pl.Series:
    """The rare keys of each row as one JSON object (null when the row has none)."""
    texts: list[str | None] = [None] * n
    for i, extra in extras.items():
        if (problem := limits_problem(list(extra.values()))) is not None:  # its keys are counted with the row's
            problems[i] = problem
            continue
        texts[i] = value_text(extra, i, problems)
    return pl.Series(MORE, texts, pl.String)


# -- native frames -----------------------------------------------------------------
def _dtype_shape(dtype: pl.DataType) -> tuple[int, int]:
    """(levels of nesting, most fields in one struct) of a dtype; iterative."""
    depth = width = 0
    stack = [(dtype, 0)]
    while stack:
        d, level = stack.pop()
        if isinstance(d, (pl.List, pl.Array)):
            stack.append((d.inner, level + 1))
        elif isinstance(d, pl.Struct):
            width = max(width, len(d.fields))
            stack.extend((f.dtype, level + 1) for f in d.fields)
        depth = max(depth, level)
    return depth, width


def _native_problems(df: pl.DataFrame) -> dict[int, str]:
    """Rows of a native frame whose values nest or widen past the limits (the keys of the body a
    row would send are counted by the batch check, `validate.size`, without metadata or nulls)."""
    problems: dict[int, str] = {}
    payload, schema = [c for c in df.columns if not c.startswith("_")], df.schema  # not per column: O(n²)
    for name in payload:
        dtype = schema[name]
        depth, width = _dtype_shape(dtype)
        if dtype == pl.Object or depth >= MAX_DEPTH or width > MAX_KEYS:
            for i, v in enumerate(df.get_column(name).to_list()):
                if v is not None and i not in problems and (p := limits_problem({name: plain(v)})) is not None:
                    problems[i] = p
    return problems


def normalise_native(df: pl.DataFrame, catalog: Catalog, *, problems: Mapping[int, str] | None = None) -> pl.DataFrame:
    """A polars frame (also what pandas becomes) in canonical form; `problems` adds E001 rows."""
    types = key_types(catalog)
    problems = {**_native_problems(df), **(problems or {})}
    if patterned := [c for c in df.columns if polars_pattern(c)]:
        df = into_more(df, patterned, problems)
    exprs: list[pl.Expr | pl.Series] = []
    for name, dtype in df.schema.items():
        ptype = types.get(name)
        c = pl.col(name)
        if name.startswith("__") or ptype is None:
            continue
        if ptype == "items":
            native = isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)
            if not native and dtype not in (pl.Null, pl.String):  # a String items column holds JSON text
                exprs.append(pl.Series(name, _texts(df.get_column(name), problems), pl.String))
            continue
        if dtype == pl.Null:
            exprs.append(c.cast(NATIVE_DTYPES[ptype]))
            continue
        if isinstance(dtype, (pl.Categorical, pl.Enum)):
            if ptype == "string":
                exprs.append(c.cast(pl.String))
                continue
            df = df.with_columns(c.cast(pl.String))  # and then judged as text: a type error for this param
            dtype = pl.String
        fits = ((ptype == "string" and dtype == pl.String)
                or (ptype == "boolean" and dtype == pl.Boolean)
                or (ptype in ("number", "integer") and dtype.is_numeric()))
        if fits:
            if dtype.is_integer():
                if dtype not in _WIDE_INTS:  # Int64, UInt64, Int128, UInt128 hold every value exactly as is
                    exprs.append(c.cast(pl.Int64))
            elif dtype.is_decimal() or (dtype.is_float() and dtype != pl.Float64):
                exprs.append(c.cast(pl.Float64))
            continue
        # a whole column of the wrong type: every present value is a type error
        exprs.append(pl.lit(None, NATIVE_DTYPES[ptype]).alias(name))
        exprs.append(pl.Series(BAD + name, _texts(df.get_column(name), problems), pl.String).alias(BAD + name))
    out = df.with_columns(exprs) if exprs else df
    if ROW not in out.columns:
        out = out.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    if ERROR not in out.columns:
        out = out.with_columns(pl.lit(None, pl.String).alias(ERROR))
    if problems:
        messages = [None] * out.height
        for i, m in problems.items():
            messages[i] = m
        out = out.with_columns(pl.coalesce(pl.col(ERROR), pl.Series(messages, dtype=pl.String)).alias(ERROR))
    return out


def _texts(col: pl.Series, problems: dict[int, str]) -> list[str | None]:
    found: dict[int, str] = {}
    texts = [None if i in problems else value_text(plain(v), i, found) for i, v in enumerate(col.to_list())]
    problems.update(found)
    return texts


def without_reserved(df: pl.DataFrame) -> pl.DataFrame:
    """A user's frame without the readers' row bookkeeping. `__bad__`, `__exact__` and `__more` columns
    carry values (a canonical frame written out and read back) when they hold what the readers write
    there, JSON text (an object in `__more`); other such columns are metadata, dropped unread."""
    drop = [c for c in df.columns if c in (ROW, LINE, ERROR, RAW)]
    empty = []  # kept, all null (dtype Null): the text columns they are everywhere else
    for c in df.columns:
        if (c == MORE or c.startswith((BAD, EXACT))) and not _json_texts(df.get_column(c), objects=c == MORE):
            drop.append(c)
        elif (c == MORE or c.startswith((BAD, EXACT))) and df.schema[c] == pl.Null:
            empty.append(c)
    df = df.drop(drop) if drop else df
    return df.with_columns(pl.col(empty).cast(pl.String)) if empty else df


def _json_texts(col: pl.Series, *, objects: bool) -> bool:
    if col.dtype != pl.String:
        return col.dtype == pl.Null
    try:
        return all(not objects or type(v) is dict for v in map(loads_exact, col.drop_nulls().to_list()))
    except ValueError:
        return False


def from_polars(df: pl.DataFrame, catalog: Catalog, *, source: str = "<polars.DataFrame>") -> Frame:
    return Frame(normalise_native(df, catalog), source)  # a user's frame: `without_reserved` first


# -- frames → payloads ---------------------------------------------------------------
def to_payloads(df: pl.DataFrame, catalog: Catalog, *, extra_columns: Iterable[str] = (),
                keep: Iterable[str] = ()) -> list[tuple[int, dict]]:
    """Rows of a canonical frame back to `(row, payload)` pairs, exactly as they were read.

    Nulls are dropped (absent), wrong-typed values come back from their `__bad__` column as
    they were, numbers from their `__exact__` text when they have one (big integers, `3.0`),
    rare keys from `__more`, `items` become lists of dicts, integral floats of integer
    parameters without such a text (CSV cells, pandas float columns) become ints.
    Metadata columns (`extra_columns`, `_`-prefixed) are not part of a payload unless in `keep`.
    Built column by column: only the non-null cells are touched.
    """
    keep = set(keep)
    skip = set(extra_columns) - keep

    def wanted(key: str) -> bool:
        return key in keep or not (key.startswith("_") or key in skip)

    integer = {k for k, t in catalog.param_types.items() if t == "integer"}
    payloads: list[dict] = [{} for _ in range(df.height)]
    side = [c for c in df.columns if c.startswith((BAD, EXACT))]  # after the value columns: they win
    for name in [c for c in df.columns if wanted(c)] + side:
        key = name[len(BAD if name.startswith(BAD) else EXACT):] if name in side else name
        if name in side and not wanted(key):
            continue
        col = df.get_column(name)
        where = col.is_not_null().arg_true().to_list()
        if not where:
            continue
        values = col.drop_nulls().to_list()
        if name in side or (key == ITEMS and col.dtype == pl.String):
            long_runs = col.drop_nulls().str.contains(LONG_RUN_PATTERN).to_list()
            values = [_parse_or_keep(v, long_run) for v, long_run in zip(values, long_runs, strict=True)]
        elif key in integer and col.dtype.is_float():
            values = [int(v) if v.is_integer() else v for v in values]
        if key == ITEMS:  # an item's null keys are absent, read from text or native (SPEC.md, "Decisions")
            values = [sent_items(v) if isinstance(v, list) else v for v in values]
        for i, v in zip(where, values, strict=True):
            payloads[i][key] = v
    if MORE in df.columns:
        col = df.get_column(MORE)
        for i, text in zip(col.is_not_null().arg_true().to_list(), col.drop_nulls().to_list(), strict=True):
            payloads[i].update((k, v) for k, v in loads_exact(text).items() if wanted(k))
    rows = df.get_column(ROW).to_list() if ROW in df.columns else range(df.height)
    return list(zip(rows, payloads, strict=True))


def _parse_or_keep(text: str, long_run: bool | None = None) -> Any:
    try:
        return loads_exact(text, long_run=long_run)
    except ValueError:
        return text


__all__ = ["BAD", "ERROR", "EXACT", "LINE", "MAX_OTHER_COLUMNS", "MORE", "NATIVE_DTYPES", "RARE", "RAW", "ROW", "Frame",
           "frame_of", "key_name",
           "from_polars", "from_records", "key_types", "normalise_native", "short", "to_payloads",
           "without_reserved"]
