"""Canonical rows back in the user's own columns and values: the one decoder of `io.frames`' encoding for users.

`user_rows(frames)` turns canonical rows (one frame, or the batches of one input in order) into a
polars DataFrame of the user's columns, with their values as they came in, and no `__` column:

- a wrong-typed value (`"12,900"` in `price`, held aside in `__bad__price`) is back in its column as
  given; a column whose values are of more than one JSON type is a String column: strings as they
  are, every other value as its JSON text (`12900`, `true`, `[1, 2]`) — how a CSV file holds it;
- a number whose exact text the typed column does not hold (an integer past 53 bits in a float
  column; `__exact__`) makes its column a String column of JSON number text; numbers a float holds
  exactly (`29900` beside `99.5`) stay numbers;
- the rare keys kept together in `__more` are columns again (after the others, in first-seen order);
- bookkeeping (`__row`, `__line`, `__error`, `__raw`, `__ev`, …) is dropped; with `positions=True`
  the row's position comes first as `row` (and `source` with `source=`), and the text of an E001
  row (what the reader kept of a row that is not an event) last as `raw`. A user column of one of
  those names keeps its name; the position column then takes a leading `_` (`_row`).

`form` says how cells come out: "values" (typed columns, above), "text" (every cell as text, as in a
CSV cell: strings as they are, numbers as their exact JSON text, other values as JSON text) or
"json" (every cell its JSON text: what a JSONL line holds; `jsonl_lines` joins them). A null cell is
an absent key in every form.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Literal

import orjson
import polars as pl

from adrop_kit.io.columns import BAD, EXACT, MORE
from adrop_kit.io.frames import RAW, ROW
from adrop_kit.io.values import exact_json, loads_exact
from adrop_kit.spec.catalog import ITEMS

Form = Literal["values", "text", "json"]
POSITION = "row"
SOURCE = "source"
RAW_TEXT = "raw"
_HELD_DIGITS = 15  # an integer of at most this many digits is exact in a Float64
_NUMERIC_KINDS = frozenset({int, float})
_NESTED_KINDS = frozenset({dict, list})  # JSON text, as a key with a column of its own gives them (`__bad__`)
_ESCAPED = r'["\\\x00-\x1f]'  # what a JSON string cannot hold as it is


def user_rows(frames: pl.DataFrame | Sequence[pl.DataFrame], *, form: Form = "values", positions: bool = False,
              source: str | Sequence[str] | None = None, as_text: Collection[str] = (),
              columns: Sequence[str] | None = None) -> pl.DataFrame:
    """Canonical rows (a frame, or the batches of one input) in the user's columns (see the module
    docstring). `positions`: add `row` (and `source` when `source` is given: a label, or one per
    batch) first and `raw` last. `as_text`: keys to give as text even where their values are of one
    type (batches are joined that way: a key that is text in one batch is text in all). `columns`:
    the columns to give, in order (`input_columns` of the whole input: these rows may be some of it)."""
    one = isinstance(frames, pl.DataFrame)
    frames = [frames] if isinstance(frames, pl.DataFrame) else list(frames)
    labels = [source] * len(frames) if isinstance(source, str) or source is None else list(source)
    views = [_view(f, form, frozenset(as_text)) for f in frames]
    if not views:  # no rows at all (an empty input): the columns still, and where the positions go
        empty = dict.fromkeys(columns or (), pl.Null())
        if positions:
            src, row, raw = position_names(empty, source=source is not None)
            text = pl.String() if form != "values" else pl.Int64()
            empty = {**({src: pl.String()} if src is not None else {}), row: text, **empty, raw: pl.String()}
        return pl.DataFrame(schema=empty)
    if one and columns is None:
        schema = dict(views[0].schema)
    else:
        schema, text = view_plan([valued_schema(v) for v in views])
        if text:
            views = [_view(f, form, frozenset(as_text) | text) if text & set(v.columns) else v
                     for f, v in zip(frames, views, strict=True)]
        if columns is not None:
            schema = {name: schema.get(name, pl.Null()) for name in columns}
        if form != "values":
            schema = {name: pl.String() if dtype == pl.Null else dtype for name, dtype in schema.items()}
        views = [fit(v, schema) for v in views]
    if positions:
        names = position_names(schema, source=source is not None)
        views = [with_positions(v, f, names, s, form) for v, f, s in zip(views, frames, labels, strict=True)]
    return views[0] if one else pl.concat(views, how="vertical")


class Layout:
    """What the batches of one input say of its columns (`input_columns`; `held` gives them)."""

    def __init__(self) -> None:
        self.batches = 0
        self.found: dict[str, int] = {}  # name -> batches it was a column of (rare keys: 0), first seen first
        self.valued: set[str] = set()


def input_columns(df: pl.DataFrame, seen: Layout | None = None) -> Layout:
    """The columns of canonical rows `df` (a batch, or a whole input read as one) in the order the
    reader gives them, then the rare keys of `__more` in first-seen order, and which hold a value in
    some row (in its column, or held aside in `__bad__`/`__exact__`). `seen`: the same of the batches
    before, which this batch's join (one layout for an input however it is cut)."""
    out = Layout() if seen is None else seen
    out.batches += 1
    names = set(df.columns)
    for name in df.columns:
        if name.startswith("__"):
            continue
        out.found[name] = out.found.get(name, 0) + 1
        if name not in out.valued and any(c in names and df.get_column(c).null_count() < df.height
                                          for c in (name, BAD + name, EXACT + name)):
            out.valued.add(name)
    if MORE in names:
        for text in df.get_column(MORE).drop_nulls().to_list():
            for k, v in loads_exact(text).items():
                if v is not None:
                    out.found.setdefault(k, 0)
                    out.valued.add(k)
    return out


def held(layout: Layout) -> list[str]:
    """The user's columns, in order: those that hold a value somewhere, and those every batch has (a
    CSV header's, a frame's or a Parquet file's columns, empty or not: the same whether the input is
    read whole or in batches). A JSON key null wherever it is (an absent key) is left out: the reader
    gives it a column only where it is common. So is an `eventName` empty on every row (or in an input
    of no rows): the checks add that column to an input that has none."""
    return [name for name, n in layout.found.items() if name in layout.valued
            or (n == layout.batches and name != "eventName")]


def valued_schema(view: pl.DataFrame) -> dict[str, pl.DataType]:
    """A view's schema, a column that holds no value typed Null: what a batch says of a column's type
    (an all-null column says nothing, however the reader typed it)."""
    return {n: d if view.get_column(n).null_count() < view.height else pl.Null() for n, d in view.schema.items()}


def view_plan(schemas: Iterable[pl.Schema | dict[str, pl.DataType]]) -> tuple[dict[str, pl.DataType], frozenset[str]]:
    """One schema for views of several batches, and the keys to give as text in all of them: a key of
    one type keeps it, numbers of several widths take their supertype, any other mix is text."""
    seen: dict[str, list[pl.DataType]] = {}
    for schema in schemas:
        for name, dtype in schema.items():
            seen.setdefault(name, [])
            if dtype != pl.Null and dtype not in seen[name]:
                seen[name].append(dtype)
    out: dict[str, pl.DataType] = {}
    text: set[str] = set()
    for name, dtypes in seen.items():
        if not dtypes:
            out[name] = pl.Null()
        elif len(dtypes) == 1:
            out[name] = dtypes[0]
        elif all(d.is_numeric() for d in dtypes):
            out[name] = pl.concat([pl.DataFrame(schema={name: d}) for d in dtypes], how="vertical_relaxed").schema[name]
        else:
            out[name] = pl.String()
            text.add(name)
    return out, frozenset(text)


def fit(view: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A view with every column of `schema` (absent ones null), in its order and types."""
    have = set(view.columns)  # columns taken by name, not through `pl.col` (a key may read as a pattern: `^a$`)
    return _frame([view.get_column(n).cast(t) if n in have else pl.Series(n, [], t).extend_constant(None, view.height)
                   for n, t in schema.items()], view.height)


def jsonl_lines(view: pl.DataFrame) -> pl.Series:
    """Each row of a "json" view as one JSON object text (null cells left out): a JSONL line."""
    if not view.width:
        return pl.Series("line", ["{}"] * view.height, pl.String)
    parts = [pl.lit(orjson.dumps(n).decode() + ":") + pl.col(n) for n in view.columns]
    body = pl.concat_str(parts, separator=",", ignore_nulls=True).fill_null("")
    return view.select(pl.concat_str(pl.lit("{"), body, pl.lit("}")).alias("line")).to_series()


def position_names(columns: Collection[str], *, source: bool = False) -> tuple[str | None, str, str]:
    """The names of (`source` or None, `row`, `raw`) beside these user columns: a name the user's
    columns take gets a leading `_`."""
    taken = set(columns)

    def free(name: str) -> str:
        while name in taken:
            name = "_" + name
        taken.add(name)
        return name

    return (free(SOURCE) if source else None), free(POSITION), free(RAW_TEXT)


def with_positions(view: pl.DataFrame, df: pl.DataFrame, names: tuple[str | None, str, str], source: str | None,
                   form: Form = "values") -> pl.DataFrame:
    """A view of canonical rows `df` with their source (when named), row first and raw text last."""
    src, row_name, raw_name = names
    row = df.get_column(ROW) if ROW in df.columns else pl.Series(POSITION, range(df.height), pl.Int64)
    raw = df.get_column(RAW) if RAW in df.columns else pl.Series(RAW_TEXT, [None] * df.height, pl.String)
    head = [] if src is None else [_as_form(pl.Series(src, [source] * df.height, pl.String), form)]
    head.append(_as_form(row.cast(pl.Int64), form).rename(row_name))
    return _frame([*head, *view.get_columns(), _as_form(raw.cast(pl.String), form).rename(raw_name)], df.height)


# -- one batch ---------------------------------------------------------------------
def _view(df: pl.DataFrame, form: Form, as_text: frozenset[str]) -> pl.DataFrame:
    names = set(df.columns)
    cols: list[pl.Series] = []
    for name in df.columns:
        if name.startswith("__"):
            continue
        bad = _present(df, BAD + name)
        exact = _present(df, EXACT + name)
        cols.append(_cell_column(df.get_column(name), bad, exact, form, name in as_text))
    if MORE in names:
        taken = {c.name for c in cols}
        cols.extend(_more_columns(df.get_column(MORE), form, as_text, taken))
    return _frame(cols, df.height)


def _frame(cols: list[pl.Series], height: int) -> pl.DataFrame:
    """These columns (names kept as they are, "" too), or no column at all but `height` rows."""
    if cols:
        return pl.DataFrame({c.name: c for c in cols})
    return pl.DataFrame({"_": pl.Series([None] * height, dtype=pl.Null)}).drop("_")


def _present(df: pl.DataFrame, name: str) -> pl.Series | None:
    if name not in df.columns:
        return None
    s = df.get_column(name)
    return s if s.null_count() < s.len() else None


def _as_form(s: pl.Series, form: Form) -> pl.Series:
    if form == "values":
        return s
    return _json(s) if form == "json" else _text(s)


def _cell_column(col: pl.Series, bad: pl.Series | None, exact: pl.Series | None, form: Form,
                 as_text: bool) -> pl.Series:
    """One key's column in `form`, its side columns (`__bad__`, `__exact__`) folded back in."""
    name = col.name
    if form == "values" and not as_text and bad is None and (exact is None or _held(col, exact)):
        return col
    if form == "json":
        out = _json(col)
        if exact is not None:
            out = exact.fill_null(out)
        if bad is not None:
            out = bad.fill_null(out)
        return out.rename(name)
    out = _text(col)
    if exact is not None:
        out = exact.fill_null(out)
    if bad is not None:
        out = _bad_text(bad).fill_null(out)
    return out.rename(name)


def _held(col: pl.Series, exact: pl.Series) -> bool:
    """Whether the typed column holds every exact text's number exactly (so it can stay a number)."""
    if not col.dtype.is_float():
        return False
    texts = exact.drop_nulls()
    long_int = texts.str.contains(rf"^-?[0-9]{{{_HELD_DIGITS + 1},}}$")
    if long_int.any():
        return False
    on_rows = pl.DataFrame({"t": exact, "v": col}).filter(pl.col("t").is_not_null())
    same = on_rows.select(pl.col("t").cast(pl.Float64, strict=False) == pl.col("v")).to_series()
    return bool(same.fill_null(False).all())


def _text(s: pl.Series) -> pl.Series:
    """Each cell as a CSV cell holds it: strings as they are, other values as their JSON text."""
    if s.dtype == pl.String:
        return s
    if s.dtype.is_float():
        return _float_text(s)
    if s.dtype.is_integer() or s.dtype == pl.Boolean or s.dtype == pl.Null:
        return s.cast(pl.String)
    if s.dtype.is_nested() or s.dtype == pl.Object:
        return _nested_json(s)
    return s.cast(pl.String, strict=False)


def _json(s: pl.Series) -> pl.Series:
    """Each cell as its JSON text."""
    if s.dtype == pl.String:
        if s.name == ITEMS:  # items read from text are held as JSON text (a cell that is not JSON: a string)
            return _json_or_string(s)
        return _encoded(s)
    if s.dtype.is_float() or s.dtype.is_integer() or s.dtype in (pl.Boolean, pl.Null):
        return _text(s)
    if s.dtype.is_nested() or s.dtype == pl.Object:
        return _nested_json(s)
    return _encoded(s.cast(pl.String, strict=False))


def _encoded(s: pl.Series) -> pl.Series:
    """A String column as JSON string literals: quoted as they are, unless a quote, a backslash or a
    control character needs an escape (those few through orjson)."""
    frame = pl.DataFrame({"v": s})
    quoted = frame.select(pl.concat_str(pl.lit('"'), pl.col("v"), pl.lit('"'))).to_series()
    needs = frame.select(pl.col("v").str.contains(_ESCAPED).fill_null(False)).to_series()
    if needs.any():
        where = needs.arg_true()
        quoted = quoted.scatter(where, [orjson.dumps(v).decode() for v in s.gather(where).to_list()])
    return quoted.rename(s.name)


def _json_or_string(s: pl.Series) -> pl.Series:
    """JSON texts as they are; a cell that is not JSON text as a JSON string."""
    out = s.to_list()
    for i, t in enumerate(out):
        if t is None:
            continue
        try:
            loads_exact(t)
        except ValueError:
            out[i] = orjson.dumps(t).decode()
    return pl.Series(s.name, out, pl.String)


def _float_text(s: pl.Series) -> pl.Series:
    """Floats as JSON number text (as `repr`); NaN and ±Infinity as the tokens `exact_json` writes."""
    f = pl.col("v")
    return pl.DataFrame({"v": s}).select(
        pl.when(f.is_nan()).then(pl.lit("NaN"))
        .when(f == float("inf")).then(pl.lit("Infinity"))
        .when(f == float("-inf")).then(pl.lit("-Infinity"))
        .otherwise(f.cast(pl.String))).to_series().rename(s.name)


def _nested_json(s: pl.Series) -> pl.Series:
    """Lists and structs as JSON text; `items`' struct fields that are null are absent keys."""
    items = s.name == ITEMS
    out: list[str | None] = []
    for v in s.to_list():
        if v is None:
            out.append(None)
            continue
        if items and isinstance(v, list):
            v = [{k: x for k, x in it.items() if x is not None} if isinstance(it, dict) else it for it in v]
        out.append(exact_json(v))
    return pl.Series(s.name, out, pl.String)


def _bad_text(bad: pl.Series) -> pl.Series:
    """`__bad__` JSON texts as cells: a string as it is, any other value as its JSON text."""
    out: list[str | None] = []
    for t in bad.to_list():
        if t is None or not t.startswith('"'):
            out.append(t)
            continue
        try:
            v = loads_exact(t)
        except ValueError:
            v = t
        out.append(v if isinstance(v, str) else t)
    return pl.Series(bad.name, out, pl.String)


def _more_columns(more: pl.Series, form: Form, as_text: Collection[str], taken: set[str]) -> list[pl.Series]:
    """The rare keys of `__more` (one JSON object a row) as columns, in first-seen order."""
    values: dict[str, list[Any]] = {}
    n = more.len()
    for i, text in enumerate(more.to_list()):
        if text is None:
            continue
        for k, v in loads_exact(text).items():
            if k in taken:  # cannot happen within one frame; kept safe
                continue
            values.setdefault(k, [None] * n)[i] = v
    return [_values_column(k, vs, form, k in as_text) for k, vs in values.items()]


def _values_column(name: str, values: list[Any], form: Form, as_text: bool) -> pl.Series:
    kinds = {type(v) for v in values if v is not None}
    if form == "values" and not as_text and len(kinds) == 1 and not kinds & _NESTED_KINDS:
        try:
            return pl.Series(name, values, strict=True)  # one JSON type: typed (integers as they fit)
        except (TypeError, OverflowError, pl.exceptions.PolarsError):
            pass
    if form == "values" and not as_text and kinds == _NUMERIC_KINDS:
        s = pl.Series(name, [None if v is None else exact_json(v) for v in values], pl.String)
        if _held(pl.Series(name, values, pl.Float64, strict=False), s):
            return pl.Series(name, values, pl.Float64, strict=False)
    if form == "json":
        return pl.Series(name, [None if v is None else exact_json(v) for v in values], pl.String)
    return pl.Series(name, [v if v is None or type(v) is str else exact_json(v) for v in values], pl.String)


__all__ = ["POSITION", "RAW_TEXT", "SOURCE", "Form", "Layout", "fit", "held", "input_columns", "jsonl_lines",
           "position_names", "user_rows", "valued_schema", "view_plan", "with_positions"]
