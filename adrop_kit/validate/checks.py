"""The rules of SPEC.md as vectorised polars expressions over a canonical `Frame`.

Each `RuleCheck` carries a rule id, a field, a boolean `mask` (true where the row breaks
the rule), and expressions for the offending value and the message. The same checks
become the pandera schemas' checks (`adrop_kit.schemas`) and are evaluated in one
pass by `validate_events`. They are built from the catalog: no parameter is named here
except through `catalog` and the rule constants of `adrop_kit.rules`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from adrop_kit.io.frames import BAD, NATIVE_DTYPES, ROW
from adrop_kit.io.jsontext import parse_json_text
from adrop_kit.spec.catalog import ENVELOPE, ITEMS, PLATFORMS, Catalog
from adrop_kit.spec.rules import (
    AT_LEAST_ONE,
    BLANK_PATTERN,
    CURRENCY_PARAM,
    CURRENCY_PATTERN,
    EMAIL_PATTERN,
    MESSAGES,
    NON_NEGATIVE,
    PHONE_PATTERN,
    PURCHASE_EVENT,
    TX_PARAM,
    VALUE_TOLERANCE,
    VALUE_TRIPLE,
    Rule,
    msg_empty,
    msg_missing,
    msg_wrong_type,
)
from adrop_kit.validate.event import check_items

_M = MESSAGES
VIOLATION_SCHEMA = {"row": pl.Int64, "eventName": pl.String, "rule": pl.String, "severity": pl.String,
                    "field": pl.String, "value": pl.String, "message": pl.String}
VALUE_CHARS = 80
DEFAULT_EXTRA_COLUMNS: tuple[str, ...] = ("ts",)
"""Columns that are metadata, not event parameters (never checked, never sent); so is any `_column`."""


def _slot(name: str) -> str:
    return f"\x00{name}\x00"


def render(template: str, **slots: pl.Expr) -> pl.Expr:
    """A message template whose `_slot(x)` markers are filled by per-row expressions."""
    parts = re.split("\x00(\\w+)\x00", template)
    exprs = [pl.lit(p) if i % 2 == 0 else slots[p] for i, p in enumerate(parts) if p or i % 2]
    return pl.concat_str(exprs) if len(exprs) > 1 else exprs[0]


def full(pattern: str) -> str:
    return f"^(?:{pattern})$"


def kind_of_json(text: pl.Expr) -> pl.Expr:
    """'a string', 'a boolean', … for a JSON text (the `__bad__` columns); mirrors `rules.json_kind`."""
    first = text.str.slice(0, 1)
    num = text.cast(pl.Float64, strict=False)
    return (pl.when(first == '"').then(pl.lit("a string"))
            .when(text.is_in(["true", "false"])).then(pl.lit("a boolean"))
            .when(first == "[").then(pl.lit("an array"))
            .when(first == "{").then(pl.lit("an object"))
            .when(text == "NaN").then(pl.lit("NaN"))
            .when(text.str.contains("Infinity", literal=True)).then(pl.lit("Infinity"))
            .when(text.str.contains(r"^-?[0-9]+$")).then(pl.lit("an integer"))
            .when(num.is_not_null() & (num != num.floor())).then(pl.lit("a number with a fraction"))
            .when(num.is_not_null()).then(pl.lit("a number"))
            .otherwise(pl.lit("an unexpected value")))


def kind_of_number(c: pl.Expr) -> pl.Expr:
    return (pl.when(c.is_nan()).then(pl.lit("NaN")).when(c.is_infinite()).then(pl.lit("Infinity"))
            .otherwise(pl.lit("a number with a fraction")))


def short_text(e: pl.Expr) -> pl.Expr:
    s = e.cast(pl.String)
    return pl.when(s.str.len_chars() > VALUE_CHARS).then(s.str.slice(0, VALUE_CHARS - 1) + pl.lit("…")).otherwise(s)


@dataclass(frozen=True)
class RuleCheck:
    key: str
    rule: Rule
    field: str
    severity: str
    mask: pl.Expr
    message: pl.Expr
    value: pl.Expr


EVENT_CODE = "__ev"


def event_code(catalog: Catalog) -> pl.Expr:
    """eventName as its position in the catalog (-1 when unknown or not a string)."""
    mapping = {n: i for i, n in enumerate(catalog.names)}
    return pl.col("eventName").replace_strict(mapping, default=-1, return_dtype=pl.Int16).fill_null(-1)


class _Cols:
    """Columns of one frame's schema; absent ones read as typed nulls."""

    def __init__(self, schema: Mapping[str, pl.DataType]):
        self.schema = schema

    def __call__(self, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
        return pl.col(name) if name in self.schema else pl.lit(None, dtype)

    def bad(self, name: str) -> pl.Expr:
        return pl.col(BAD + name) if BAD + name in self.schema else pl.lit(None, pl.String)

    def dtype(self, name: str, default: pl.DataType) -> pl.DataType:
        return self.schema.get(name, default)


def frame_checks(catalog: Catalog, schema: Mapping[str, pl.DataType], *, strict: bool = False,
                 extra_columns: Sequence[str] = ()) -> list[RuleCheck]:
    """Every row-level check for a frame with this schema (W107 and items are separate)."""
    col = _Cols(schema)
    out: list[RuleCheck] = []

    def add(key: str, rule: Rule, field: str, mask: pl.Expr, message: str | pl.Expr,
            value: pl.Expr | None = None, severity: str | None = None) -> None:
        msg = pl.lit(message) if isinstance(message, str) else message
        out.append(RuleCheck(key, rule, field, severity or rule.severity, mask, msg,
                             short_text(value) if value is not None else pl.lit(None, pl.String)))

    ev = col("eventName")
    names = list(catalog.names)
    code = pl.col(EVENT_CODE) if EVENT_CODE in schema else event_code(catalog)
    index = {n: i for i, n in enumerate(names)}

    def in_events(events: Sequence[str]) -> pl.Expr:
        """Membership by small integer code: one hash lookup per row for all checks, not one per check."""
        return code.is_in([index[e] for e in events]) if events else pl.lit(False)

    # -- envelope ------------------------------------------------------------------
    uid, buid = col("uid"), col.bad("uid")
    add("E002:missing", Rule.E002, "uid", uid.is_null() & buid.is_null(), _M["E002.missing"])
    add("E002:type", Rule.E002, "uid", buid.is_not_null(),
        render(msg_wrong_type("uid", "string", _slot("k")), k=kind_of_json(buid)), buid)
    add("E002:empty", Rule.E002, "uid", uid.str.contains(full(BLANK_PATTERN)), _M["E002.empty"], uid)
    # one regex pass for both shapes; which one it was is worked out for the hit rows only
    personal = uid.str.contains(f"{full(EMAIL_PATTERN)}|{full(PHONE_PATTERN)}")  # full() groups each alternation
    what = pl.when(uid.str.contains("@", literal=True)).then(pl.lit("an e-mail address")).otherwise(
        pl.lit("a phone number"))
    add("W106", Rule.W106, "uid", personal, render(_M["W106"].format(what=_slot("w")), w=what), uid)

    bev = col.bad("eventName")
    add("E003:missing", Rule.E003, "eventName", ev.is_null() & bev.is_null(), _M["E003.missing"])
    add("E003:type", Rule.E003, "eventName", bev.is_not_null(),
        render(msg_wrong_type("eventName", "string", _slot("k")), k=kind_of_json(bev)), bev)
    add("E003:empty", Rule.E003, "eventName", ev == "", _M["E003.empty"])
    unknown = (ev != "") & (code < 0)
    add("W101", Rule.W101, "eventName", unknown,
        render(_M["W101.strict" if strict else "W101"].format(event=_slot("e")), e=ev), ev,
        severity="error" if strict else "warning")

    plat, bplat = col("platform"), col.bad("platform")
    not_platform = pl.all_horizontal([plat != p for p in PLATFORMS])  # cheaper than is_in on strings
    add("E004", Rule.E004, "platform", not_platform | bplat.is_not_null(),
        _M["E004"], pl.coalesce(plat, bplat))

    # -- parameters ------------------------------------------------------------------
    ok_type: dict[str, pl.Expr] = {}
    for name, ptype in catalog.param_types.items():
        if ptype == "items":
            continue
        having = [e.name for e in catalog if name in e.param_names]
        requiring = [e.name for e in catalog if any(p.name == name and p.required for p in e.params)]
        dtype = col.dtype(name, NATIVE_DTYPES[ptype])
        c, b = col(name, NATIVE_DTYPES[ptype]), col.bad(name)
        has, req = in_events(having), in_events(requiring)
        present = c.is_not_null() | b.is_not_null()
        if requiring:
            add(f"E005:{name}:missing", Rule.E005, name, req & ~present,
                render(msg_missing(name, _slot("e")), e=ev))
        add(f"E006:{name}:type", Rule.E006, name, has & b.is_not_null(),
            render(msg_wrong_type(name, ptype, _slot("k")), k=kind_of_json(b)), b)
        good = c.is_not_null()
        if ptype in ("number", "integer") and dtype.is_float():
            broken = ~c.is_finite() if ptype == "number" else (~c.is_finite() | (c != c.floor()))
            add(f"E006:{name}:value", Rule.E006, name, has & c.is_not_null() & broken,
                render(msg_wrong_type(name, ptype, _slot("k")), k=kind_of_number(c)), c)
            good = good & ~broken
        if ptype == "string" and requiring:
            empty = req & (c == "")
            add(f"E005:{name}:empty", Rule.E005, name, empty, render(msg_empty(name, _slot("e")), e=ev), c)
            good = good & ~empty.fill_null(False)
        good = has & good
        ok_type[name] = good
        if name in NON_NEGATIVE:
            add(f"W103:{name}", Rule.W103, name, good & (c < 0), _M["W103.negative"].format(field=name), c)
        elif name in AT_LEAST_ONE:
            add(f"W103:{name}", Rule.W103, name, good & (c < 1), _M["W103.quantity"].format(field=name), c)
        elif name == CURRENCY_PARAM:
            add(f"W104:{name}", Rule.W104, name, good & ~c.str.contains(full(CURRENCY_PATTERN)), _M["W104"], c)

    vname, pname, qname = VALUE_TRIPLE
    triple = [e.name for e in catalog if set(VALUE_TRIPLE) <= e.param_names]
    if triple and all(n in ok_type for n in VALUE_TRIPLE):
        v, p, q = (col(n, pl.Float64).cast(pl.Float64) for n in VALUE_TRIPLE)
        expected = p * q
        mismatch = (v - expected).abs() > VALUE_TOLERANCE * pl.max_horizontal(pl.lit(1.0), expected.abs())
        add("W105", Rule.W105, vname,
            in_events(triple) & ok_type[vname] & ok_type[pname] & ok_type[qname] & mismatch, _M["W105"],
            col(vname, pl.Float64))

    # -- keys the event does not list -------------------------------------------------
    known = code >= 0
    skip = set(ENVELOPE) | set(extra_columns)
    for name in schema:
        if name.startswith("_") or name in skip:
            continue
        allowed = [e.name for e in catalog if name in e.param_names]
        present = col(name, schema[name]).is_not_null() | col.bad(name).is_not_null()
        value = col.bad(name) if (BAD + name) in schema else col(name, schema[name])
        if isinstance(schema[name], (pl.List, pl.Struct, pl.Array)):
            value = pl.lit(None, pl.String)
        add(f"W102:{name}", Rule.W102, name, known & ~in_events(allowed) & present,
            render(_M["W102"].format(field=name, event=_slot("e")), e=ev), pl.coalesce(value.cast(pl.String)))
    return out


# -- dataset-level and nested checks ------------------------------------------------------
def _empty_violations() -> pl.DataFrame:
    return pl.DataFrame(schema=VIOLATION_SCHEMA)


def w107_violations(df: pl.DataFrame, ok_rows: pl.Expr) -> pl.DataFrame:
    """Purchases whose tx_id an earlier purchase already used (the first keeps it)."""
    if TX_PARAM not in df.columns or "eventName" not in df.columns or df.schema[TX_PARAM] != pl.String:
        return _empty_violations()
    tx = pl.col(TX_PARAM)
    sub = df.filter(ok_rows & (pl.col("eventName") == PURCHASE_EVENT) & tx.is_not_null() & (tx != ""))
    sub = sub.select(ROW, "eventName", TX_PARAM).with_columns(pl.col(ROW).min().over(TX_PARAM).alias("__first"))
    dup = sub.filter(pl.col(ROW) != pl.col("__first"))
    return dup.select(
        pl.col(ROW).alias("row"), "eventName", pl.lit(Rule.W107.value).alias("rule"),
        pl.lit("warning").alias("severity"),
        pl.lit(TX_PARAM).alias("field"), short_text(tx).alias("value"),
        render(_M["W107"].format(tx=_slot("t"), first=_slot("f")), t=tx, f=pl.col("__first").cast(pl.String))
        .alias("message"))


def items_violations(df: pl.DataFrame, catalog: Catalog, ok_rows: pl.Expr) -> pl.DataFrame:
    """E007/E008 (and W103 inside items) for events that carry `items`."""
    having = [e.name for e in catalog if e.has_items]
    requiring = [e.name for e in catalog if e.has_items and e.param(ITEMS).required]
    if not having or "eventName" not in df.columns:
        return _empty_violations()
    ev = pl.col("eventName")
    parts = []
    if requiring:
        items_absent = pl.col(ITEMS).is_null() if ITEMS in df.columns else pl.lit(True)
        missing = df.filter(ok_rows & ev.is_in(requiring) & items_absent)
        if missing.height:
            parts.append(missing.select(
                pl.col(ROW).alias("row"), "eventName", pl.lit("E007").alias("rule"), pl.lit("error").alias("severity"),
                pl.lit(ITEMS).alias("field"), pl.lit(None, pl.String).alias("value"),
                render(_M["E007.missing"].format(event=_slot("e")), e=ev).alias("message")))
    if ITEMS in df.columns:
        sub = df.filter(ok_rows & ev.is_in(having) & pl.col(ITEMS).is_not_null()).select(ROW, "eventName", ITEMS)
        if sub.height:
            dtype = df.schema[ITEMS]
            if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
                parts.append(_native_items(sub, catalog))
            else:
                parts.append(_python_items(sub, catalog))
    return pl.concat(parts) if parts else _empty_violations()


def _python_items(sub: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Items held as JSON text (CSV cells, JSON sources): parse and check each with `check_items`."""
    rows: list[tuple] = []
    for row, event, text in sub.iter_rows():
        try:
            items = parse_json_text(text) if isinstance(text, str) else text
        except ValueError:
            snippet = text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
            rows.append((row, event, "E007", "error", ITEMS, snippet,
                         f"{event}: items must be a JSON array of item objects, but the cell is not valid JSON"))
            continue
        for v in check_items(items, event, catalog.item_params):
            rows.append((row, event, v.rule.value, v.severity, v.field, v.value, v.message))
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
                pl.col(ROW).alias("row"), "eventName", pl.lit(rule.value).alias("rule"),
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
        fits = ((ptype == "string" and dtype == pl.String) or (ptype == "boolean" and dtype == pl.Boolean)
                or (ptype in ("number", "integer") and dtype.is_numeric()))
        if not fits:
            kind = {pl.String: "a string", pl.Boolean: "a boolean"}.get(dtype, "an array or object")
            if dtype.is_numeric():
                kind = "an integer" if dtype.is_integer() else "a number"
            emit(ex.filter(c.is_not_null()), Rule.E008, field,
                 render(msg_wrong_type(_slot("f"), ptype, kind), f=field), c.cast(pl.String, strict=False))
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
