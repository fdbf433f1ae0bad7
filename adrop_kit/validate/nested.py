"""The checks that look inside a row, over a canonical frame: E007/E008 (and W103) inside `items`,
and W102 for the rare keys kept together in `__more`. The row-level checks are in
`validate.checks`; `check_batch` runs these after them, for both engines. (W107, across rows:
`validate.w107`.)
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from adrop_kit.io.frames import MORE, ROW
from adrop_kit.io.jsonl_fast import key_ends
from adrop_kit.io.jsonl_plan import STR
from adrop_kit.io.values import LONG_RUN_PATTERN, exact_json, loads_exact, plain
from adrop_kit.spec.catalog import ENVELOPE, ITEMS, Catalog
from adrop_kit.spec.rules import (
    AT_LEAST_ONE,
    CURRENCY_PARAM,
    MAX_EVENT_NAME,
    MESSAGES,
    NON_NEGATIVE,
    Rule,
    json_kind,
    msg_wrong_type,
    printable,
)
from adrop_kit.validate.checks import (
    EVENT_CODE,
    VALUE_CHARS,
    VIOLATION_SCHEMA,
    _slot,
    kind_of_number,
    line_of,
    render,
    short_text,
)
from adrop_kit.validate.event import check_items, msg_unknown_key

_M = MESSAGES


def _empty_violations() -> pl.DataFrame:
    return pl.DataFrame(schema=VIOLATION_SCHEMA)


def items_violations(df: pl.DataFrame, catalog: Catalog, ok_rows: pl.Expr) -> pl.DataFrame:
    """E007/E008 (and W103 inside items) for events that carry `items`."""
    having = [e.name for e in catalog if e.has_items]
    requiring = [e.name for e in catalog if e.has_items and e.param(ITEMS).required]
    if not having or "eventName" not in df.columns:
        return _empty_violations()
    ev = pl.col("eventName")
    index = {n: i for i, n in enumerate(catalog.names)}

    def among(events: list[str]) -> pl.Expr:  # by check_batch's event code where there is one: no string lookup
        return pl.col(EVENT_CODE).is_in([index[e] for e in events]) if EVENT_CODE in df.columns else ev.is_in(events)

    parts = []
    if requiring:
        items_absent = pl.col(ITEMS).is_null() if ITEMS in df.columns else pl.lit(True)
        missing = df.lazy().filter(ok_rows & among(requiring) & items_absent).select(
            ROW, "eventName", line_of(df.columns)).collect()
        if missing.height:
            parts.append(missing.select(
                pl.col(ROW).alias("row"), "line", "eventName", pl.lit("E007").alias("rule"),
                pl.lit("error").alias("severity"),
                pl.lit(ITEMS).alias("field"), pl.lit(None, pl.String).alias("value"),
                render(_M["E007.missing"].format(event=_slot("e")), e=ev).alias("message")))
    if ITEMS in df.columns:
        sub = df.lazy().filter(ok_rows & among(having) & pl.col(ITEMS).is_not_null()).select(
            ROW, "eventName", ITEMS, line_of(df.columns)).collect()  # (lazy: only these columns are gathered)
        if sub.height:
            dtype = df.schema[ITEMS]
            if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
                parts.append(_native_items(sub, catalog))
            else:  # JSON text: the rows proven clean natively are skipped; the rest judged one by one
                parts.append(_python_items(sub.filter(~_clean_plain_items(sub, catalog)), catalog))
    return pl.concat(parts) if parts else _empty_violations()


_JSON_WS = "[ \\t\\n\\r]*"
_WHOLE, _FRACTION = "(?:0|[1-9][0-9]{0,14})", "(?:\\.[0-9]{1,15})?"  # numbers without exponents, 15 digits at most
_PLAIN_VALUE = {"string": STR, "boolean": "(?:true|false)", "integer": f"-?{_WHOLE}",
                "number": f"-?{_WHOLE}{_FRACTION}"}
_AT_LEAST_ONE = {"integer": "[1-9][0-9]{0,14}", "number": f"[1-9][0-9]{{0,14}}{_FRACTION}"}  # (no `-0`: left out)
_NON_NEGATIVE = {"integer": _WHOLE, "number": f"{_WHOLE}{_FRACTION}"}
_NAME = re.compile(r'[^"\\\x00-\x1f]+')  # item parameters the grammar names (a key never holds a backslash)
_PLAIN_DTYPE = {"string": pl.String, "boolean": pl.Boolean, "integer": pl.Int64, "number": pl.Float64}


@functools.lru_cache(maxsize=8)
def _plain_items_grammar(params: tuple[tuple[str, str, bool], ...]) -> tuple[str, pl.DataType]:
    """A regex matching an items text that is *plain*: an array of flat objects whose every key is an
    item parameter and whose every value has that parameter's JSON type (strings whose escapes polars
    decodes as orjson does, `io.jsonl_plan.STR`; numbers without exponents), or null for an optional
    one, and the List(Struct) dtype such a text decodes to exactly."""
    w = _JSON_WS
    values = {name: _PLAIN_VALUE[ptype] if required else f"(?:{_PLAIN_VALUE[ptype]}|null)"
              for name, ptype, required in params}
    pair = "|".join(f'"{re.escape(name)}"{w}:{w}{value}' for name, value in values.items())
    obj = f"\\{{{w}(?:(?:{pair})(?:{w},{w}(?:{pair}))*)?{w}\\}}"
    dtype = pl.List(pl.Struct({name: _PLAIN_DTYPE[ptype] for name, ptype, _ in params}))
    return f"^{w}\\[{w}{obj}(?:{w},{w}{obj})*{w}\\]{w}$", dtype


def _clean_value(name: str, ptype: str, required: bool) -> str | None:
    """A regex of the values of an item parameter that break no items rule (its type; not empty when
    it is a required string; W103's bounds for `NON_NEGATIVE` and `AT_LEAST_ONE`), null when it is
    optional. None: a parameter whose clean values this does not write (W104's currency, a bound on
    a type other than a number)."""
    value = _PLAIN_VALUE[ptype]
    if name == CURRENCY_PARAM:
        return None
    if name in NON_NEGATIVE or name in AT_LEAST_ONE:
        bounded = (_NON_NEGATIVE if name in NON_NEGATIVE else _AT_LEAST_ONE).get(ptype)
        if bounded is None:
            return None
        value = bounded
    if required and ptype == "string":  # `STR` with one character or escape at least
        if not STR.endswith(')*"'):
            return None
        value = STR[:-2] + '+"'
    return value if required else f"(?:{value}|null)"


@functools.lru_cache(maxsize=8)
def _clean_items_grammar(params: tuple[tuple[str, str, bool], ...]) -> str | None:
    """A regex matching an items text that breaks no items rule, whatever else it holds: a non-empty
    array of flat objects whose every member is an item parameter with a clean value
    (`_clean_value`), and each object names the required parameter. A key given twice needs no count
    here: whichever value a reader keeps is clean. None: not written for these parameters (more than
    one required, or a value `_clean_value` does not write)."""
    values = {name: _clean_value(name, ptype, required) for name, ptype, required in params}
    required = [name for name, _, req in params if req]
    if None in values.values() or len(required) > 1:
        return None
    w = _JSON_WS
    pairs = {name: f'"{re.escape(name)}"{w}:{w}{value}' for name, value in values.items()}
    pair = "(?:" + "|".join(pairs.values()) + ")"
    if required:  # any members, the required one, any members
        obj = f"\\{{{w}(?:{pair}{w},{w})*{pairs[required[0]]}(?:{w},{w}{pair})*{w}\\}}"
    else:
        obj = f"\\{{{w}(?:{pair}(?:{w},{w}{pair})*)?{w}\\}}"
    return f"^{w}\\[{w}{obj}(?:{w},{w}{obj})*{w}\\]{w}$"


def _clean_plain_items(sub: pl.DataFrame, catalog: Catalog) -> pl.Series:
    """Which rows of `sub` (items as JSON text) are proven to break no items rule, natively: the text
    matches the clean grammar (`_clean_items_grammar`: 93% of realistic texts, proven without being
    read), or it is plain (`_plain_items_grammar`), names no key twice (its keys, each a `"` + `:` whose
    quote is not an escaped `\\"` inside a string, are as many as the values decoded and the null
    members: polars keeps a key's first value, so a key given twice with a value then null, both fine
    for an optional parameter, is the only twice-named key that passes), and the List(Struct) checks
    find nothing. Only a filter: every other row is judged by `check_items`, so what a report says
    comes from one place."""
    texts = sub.get_column(ITEMS)
    clean = pl.Series(ITEMS, [False] * sub.height, dtype=pl.Boolean)
    params = tuple((p.name, p.type, p.required) for p in catalog.item_params)
    if not params or any(t not in _PLAIN_VALUE or not _NAME.fullmatch(n) for n, t, _ in params):
        return clean
    pattern, dtype = _plain_items_grammar(params)
    todo = pl.int_range(0, sub.height, dtype=pl.UInt32, eager=True)
    if (clean_pattern := _clean_items_grammar(params)) is not None:  # most texts: proven by their text alone
        proven = texts.str.contains(clean_pattern).fill_null(False)
        clean, todo = proven.alias(ITEMS), todo.filter(~proven)
    where = todo.filter(texts.gather(todo).str.contains(pattern).fill_null(False))
    if not len(where):
        return clean
    plain = sub[where].with_columns(texts.gather(where).str.json_decode(dtype).alias(ITEMS))
    fields = [pl.element().struct.field(name).is_not_null().cast(pl.Int64) for name, _, _ in params]
    decoded = plain.get_column(ITEMS).list.eval(pl.sum_horizontal(fields)).list.sum()
    keys, nulls = _members(texts.gather(where))
    decoded = decoded + nulls
    flagged = _native_items(plain, catalog).get_column("row")
    good = where.filter((keys == decoded) & ~plain.get_column(ROW).is_in(flagged.unique().implode()))
    return clean.scatter(good, True) if len(good) else clean


_SPACED = ['" ', '"\t', '"\n', '"\r']  # a quote before whitespace (a key's may be: `"brand" : 1`)


def _members(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """How many keys and how many null members each plain items text holds. A key ends with `"` +
    `:` (whitespace between them allowed) whose quote is not an escaped `\\"` inside a string (no item
    parameter holds a backslash); a null member is such a key followed by `null`. A text with no quote
    before whitespace (what `exact_json` and most writers give) has its keys counted literally, as the
    JSONL reader counts a line's (`io.jsonl_fast.key_ends`); the few others, with the pattern. Null
    members are looked for only in texts that say `null`. (Literal searches: a third of the time of
    the patterns on 75,000 realistic items texts.)"""
    null = f"{_JSON_WS}:{_JSON_WS}null"
    keys = key_ends(texts)
    nulls = pl.zeros(texts.len(), pl.UInt32, eager=True)
    if (where := texts.str.contains("null", literal=True).fill_null(False).arg_true()).len():
        t = texts.gather(where)
        nulls = nulls.scatter(where, t.str.count_matches(f'"{null}') - t.str.count_matches(f'\\\\"{null}'))
    spaced = functools.reduce(operator.or_, [texts.str.contains(t, literal=True) for t in _SPACED]).fill_null(False)
    if (where := spaced.arg_true()).len():
        t = texts.gather(where)
        keys = keys.scatter(where, t.str.count_matches(f'"{_JSON_WS}:') - t.str.count_matches(f'\\\\"{_JSON_WS}:'))
    return keys, nulls


def _python_items(sub: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Items held as JSON text (CSV cells, JSON sources): parse and check each with `check_items`."""
    rows: list[tuple] = []
    long_runs = sub.get_column(ITEMS).str.contains(LONG_RUN_PATTERN).to_list()  # one regex pass, not one a row
    for (row, event, text, line), long_run in zip(sub.iter_rows(), long_runs, strict=True):
        try:
            items = loads_exact(text, long_run=long_run) if isinstance(text, str) else text
        except ValueError:
            snippet = text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
            rows.append((row, line, event, "E007", "error", ITEMS, snippet,
                         f"{event}: items must be a JSON array of item objects, but the cell is not valid JSON"))
            continue
        for v in check_items(items, event, catalog.item_params):
            rows.append((row, line, event, v.rule.value, v.severity, v.field, v.value, v.message))
    return pl.DataFrame(rows, schema=VIOLATION_SCHEMA, orient="row")


def _native_items(sub: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Items as a native List(Struct) column: exploded and checked column-wise."""
    ev = pl.col("eventName")
    items = pl.col(ITEMS)
    parts = []

    def emit(frame: pl.DataFrame, rule: Rule, field: pl.Expr, message: pl.Expr, value: pl.Expr,
             severity: str | None = None) -> None:
        if frame.height:
            parts.append(frame.select(
                pl.col(ROW).alias("row"), pl.col("line"), "eventName", pl.lit(rule.value).alias("rule"),
                pl.lit(severity or rule.severity).alias("severity"), field.alias("field"),
                short_text(value).alias("value"), message.alias("message")))

    emit(sub.filter(items.list.len() == 0), Rule.E007, pl.lit(ITEMS),
         render(_M["E007.empty"].format(event=_slot("e")), e=ev), pl.lit(None, pl.String))
    ex = (sub.filter(items.list.len() > 0)
          .with_columns(pl.int_ranges(0, items.list.len()).alias("__i"))
          .explode(ITEMS, "__i"))
    base = pl.concat_str(pl.lit(ITEMS + "["), pl.col("__i").cast(pl.String), pl.lit("]"))
    emit(ex.filter(items.is_null()), Rule.E008, base,
         render(_M["E008.type"].format(field=_slot("f"), got="null"), f=base), pl.lit(None, pl.String))
    ex = ex.filter(items.is_not_null())
    fields = {f.name: f.dtype for f in sub.schema[ITEMS].inner.fields}
    for param in catalog.item_params:
        name, ptype = param.name, param.type
        field = pl.concat_str(base, pl.lit("." + name))
        if name not in fields:
            if param.required:
                emit(ex, Rule.E008, field, render(_M["E008.missing"].format(field=_slot("f")), f=field),
                     pl.lit(None, pl.String))
            continue
        c = items.struct.field(name)
        dtype = fields[name]
        if isinstance(dtype, (pl.Categorical, pl.Enum)):  # text, dictionary-encoded
            c, dtype = c.cast(pl.String), pl.String
        fits = ((ptype == "string" and dtype == pl.String) or (ptype == "boolean" and dtype == pl.Boolean)
                or (ptype in ("number", "integer") and dtype.is_numeric()))
        if not fits:
            emit(ex.filter(c.is_not_null()), Rule.E008, field,
                 render(msg_wrong_type(_slot("f"), ptype, _dtype_kind(dtype)), f=field), _as_text(c, dtype))
            if param.required:
                emit(ex.filter(c.is_null()), Rule.E008, field,
                     render(_M["E008.missing"].format(field=_slot("f")), f=field), pl.lit(None, pl.String))
            continue
        good = c.is_not_null()
        if param.required:
            emit(ex.filter(c.is_null()), Rule.E008, field,
                 render(_M["E008.missing"].format(field=_slot("f")), f=field), pl.lit(None, pl.String))
            if ptype == "string":
                emit(ex.filter(c == ""), Rule.E008, field,
                     render(_M["E008.empty"].format(field=_slot("f")), f=field), c)
                continue
        if ptype in ("number", "integer") and dtype.is_float():
            broken = ~c.is_finite() if ptype == "number" else (~c.is_finite() | (c != c.floor()))
            emit(ex.filter(c.is_not_null() & broken), Rule.E008, field,
                 render(msg_wrong_type(_slot("f"), ptype, _slot("k")), f=field, k=kind_of_number(c)), c)
            good = good & ~broken
        if name in NON_NEGATIVE:
            emit(ex.filter(good & (c < 0)), Rule.W103, field,
                 render(_M["W103.negative"].format(field=_slot("f")), f=field), c)
        elif name in AT_LEAST_ONE:
            emit(ex.filter(good & (c < 1)), Rule.W103, field,
                 render(_M["W103.quantity"].format(field=_slot("f")), f=field), c)
    return pl.concat(parts) if parts else _empty_violations()


def _dtype_kind(dtype: pl.DataType) -> str:
    """The JSON kind of the values of a native item field, with its article."""
    if isinstance(dtype, (pl.List, pl.Array)):
        return "an array"
    if isinstance(dtype, pl.Struct):
        return "an object"
    if dtype.is_numeric():
        return "an integer" if dtype.is_integer() else "a number"
    return {pl.String: "a string", pl.Boolean: "a boolean"}.get(dtype, f"a {dtype}")


def _as_text(c: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A native value as reported: nested ones (a list inside an item) as their JSON text."""
    if isinstance(dtype, (pl.List, pl.Array, pl.Struct)) or dtype == pl.Object:
        return c.map_batches(lambda s: pl.Series([None if v is None else exact_json(plain(v)) for v in s.to_list()],
                                                 dtype=pl.String), return_dtype=pl.String, is_elementwise=True)
    return c.cast(pl.String, strict=False)


def more_violations(df: pl.DataFrame, catalog: Catalog, ok_rows: pl.Expr,
                    extra_columns: Sequence[str] = ()) -> pl.DataFrame:
    """W102 and W109 for the rare keys outside the catalog, kept together in `__more` (one JSON object a
    row): the same verdict, field, value and message as a column of their own would give."""
    if MORE not in df.columns:
        return _empty_violations()
    ev = pl.col("eventName")
    named = ev.is_not_null() & (ev != "") & (ev.str.len_chars() <= MAX_EVENT_NAME)  # catalog or custom (W109)
    sub = df.filter(ok_rows & named & pl.col(MORE).is_not_null()).select(ROW, "eventName", MORE, line_of(df.columns))
    skip = set(ENVELOPE) | set(extra_columns)
    rows: list[tuple[Any, ...]] = []
    messages: dict[tuple[str, str], str] = {}
    for row, event, text, line in sub.iter_rows():
        spec = catalog.events.get(event)
        for key, value in loads_exact(text).items():
            if value is None or key.startswith("_") or key in skip or (spec is not None and key in spec.param_names):
                continue
            shown = exact_json(value)  # JSON text, as validate_event shows it
            shown = shown if len(shown) <= VALUE_CHARS else shown[: VALUE_CHARS - 1] + "…"
            if spec is not None:
                if (key, event) not in messages:  # once per distinct key and event, not per row
                    messages[key, event] = msg_unknown_key(key, event, catalog)
                rows.append((row, line, event, Rule.W102.value, Rule.W102.severity, key, shown, messages[key, event]))
            if isinstance(value, (dict, list)) and key != ITEMS:
                message = _M["W109"].format(field=printable(key), kind=json_kind(value))
                rows.append((row, line, event, Rule.W109.value, Rule.W109.severity, key, shown, message))
    return pl.DataFrame(rows, schema=VIOLATION_SCHEMA, orient="row")


__all__ = ["items_violations", "more_violations"]
