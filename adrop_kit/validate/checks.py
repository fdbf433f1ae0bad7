"""The rules of SPEC.md as vectorised polars expressions over a canonical `Frame`.

Each `RuleCheck` carries a rule id, a field, a boolean `mask` (true where the row breaks
the rule), and expressions for the offending value and the message. The same checks
become the pandera schemas' checks (`validate.schemas`) and are evaluated in one
pass by `validate_events`. They are built from the catalog: no parameter is named here
except through `catalog` and the rule constants of `spec.rules`. The checks that look
inside a row (items, the rare keys of `__more`) or across rows (W107) are in `validate.nested`.

Numbers are judged as `validate_event` judges them: an `__exact__<key>` text (a big integer)
stands for the value, and W105 is computed in floats only where that is bit for bit what
`rules.value_mismatch` computes; other rows (numbers past the float range, a product that
overflows) go through `rules.value_mismatch` itself, exactly (`validate.exact_numbers`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import polars as pl

from adrop_kit.io.frames import BAD, EXACT, LINE, NATIVE_DTYPES
from adrop_kit.spec.catalog import ENVELOPE, PLATFORMS, Catalog
from adrop_kit.spec.near import currency_meant, near_miss
from adrop_kit.spec.rules import (
    AT_LEAST_ONE,
    BLANK,
    BLANK_PATTERN,
    CURRENCY_PARAM,
    CURRENCY_PATTERN,
    EMAIL_PATTERN,
    MAX_EVENT_NAME,
    MESSAGES,
    NON_NEGATIVE,
    NON_PRINTABLE_PATTERN,
    PHONE_PATTERN,
    VALUE_TRIPLE,
    Rule,
    msg_empty,
    msg_long_name,
    msg_missing,
    msg_too_many,
    msg_wrong_type,
    printable,
)
from adrop_kit.validate.custom import near_mask
from adrop_kit.validate.exact_numbers import not_whole, w105
from adrop_kit.validate.sdk_checks import json_texts, nested_values, param_count, too_many_params

_M = MESSAGES
VIOLATION_SCHEMA = {"row": pl.Int64, "line": pl.Int64, "eventName": pl.String, "rule": pl.String, "severity": pl.String,
                    "field": pl.String, "value": pl.String, "message": pl.String}
SOURCED_VIOLATION_SCHEMA = {"source": pl.String, **VIOLATION_SCHEMA}
"""A report's violations: `check_batch`'s (VIOLATION_SCHEMA) with the file each row comes from first."""
VALUE_CHARS = 80
DEFAULT_EXTRA_COLUMNS: tuple[str, ...] = ("ts",)
"""Columns that are metadata, not event parameters (never checked, never sent); so is any `_column`."""


def line_of(columns: Collection[str]) -> pl.Expr:
    """The `line` of a violation: the frame's `__line` (text files), else null."""
    return (pl.col(LINE) if LINE in columns else pl.lit(None, pl.Int64)).alias("line")


def _slot(name: str) -> str:
    return f"\x00{name}\x00"


def render(template: str, **slots: pl.Expr) -> pl.Expr:
    """A message template whose `_slot(x)` markers are filled by per-row expressions."""
    parts = re.split("\x00(\\w+)\x00", template)
    exprs = [pl.lit(p) if i % 2 == 0 else slots[p] for i, p in enumerate(parts) if p or i % 2]
    return pl.concat_str(exprs) if len(exprs) > 1 else exprs[0]


def full(pattern: str) -> str:
    return f"^(?:{pattern})$"


_BLANK_ASCII_END = chr(max(ord(ch) for ch in BLANK if ch < "\x80") + 1)


def _blank_batch(s: pl.Series) -> pl.Series:
    # A blank text is empty or starts with a BLANK character: an ASCII one sorts below
    # `_BLANK_ASCII_END`, any other is non-ASCII (its UTF-8 sorts at or above "\x80"). Two string
    # comparisons find such rows (a few); the regex reads those alone.
    maybe = (s < _BLANK_ASCII_END) | (s >= "\x80")
    rows = maybe.arg_true()
    return maybe.scatter(rows, s.gather(rows).str.contains(full(BLANK_PATTERN))) if rows.len() else maybe


def blank(text: pl.Expr) -> pl.Expr:
    """Whether a text is empty or only BLANK characters (`BLANK_PATTERN`, fully matched; null stays null)."""
    return text.map_batches(_blank_batch, return_dtype=pl.Boolean, is_elementwise=False)


def contains(text: pl.Expr, pattern: str) -> pl.Expr:
    """`text.str.contains(pattern)` for a column that is mostly null (a parameter of a few events):
    the regex reads the texts alone, and when they all agree (all match, or none) no row is looked
    at again; null stays null."""
    def batch(s: pl.Series) -> pl.Series:
        found = s.drop_nulls().str.contains(pattern)
        if found.all() or not found.any():  # (as is an empty batch, or one of nulls)
            return pl.select(pl.when(s.is_not_null()).then(pl.lit(found.all()))).to_series().alias(s.name)
        return s.str.contains(pattern)

    return text.map_batches(batch, return_dtype=pl.Boolean, is_elementwise=False)


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


def _printable_batch(s: pl.Series) -> pl.Series:
    need = s.str.contains(NON_PRINTABLE_PATTERN).fill_null(False)
    if not need.any():
        return s
    return pl.Series(s.name, [printable(v) if flag else v for v, flag in zip(s.to_list(), need.to_list(), strict=True)],
                     pl.String)


def printable_text(e: pl.Expr) -> pl.Expr:
    """User text for a message, as `rules.printable` writes it (control characters escaped):
    a regex finds the few rows that need it, `printable` itself escapes them."""
    return e.cast(pl.String).map_batches(_printable_batch, return_dtype=pl.String, is_elementwise=True)


def suggestions(text: pl.Expr, suggest: Callable[[str], str | None]) -> pl.Expr:
    """Per row, what `suggest` says for the row's text (null for none), asked once per distinct text."""
    def batch(s: pl.Series) -> pl.Series:
        found = {t: suggest(t) for t in s.drop_nulls().unique().to_list()}
        found = {t: v for t, v in found.items() if v is not None}
        if not found:  # (no Python list of a million Nones: this runs on every batch, in a mask)
            return pl.Series(s.name, [], pl.String).extend_constant(None, s.len())
        return s.replace_strict(found, default=None, return_dtype=pl.String)

    return text.cast(pl.String).map_batches(batch, return_dtype=pl.String, is_elementwise=True)


def suggesting(suggest: Callable[[str], str | None], text: pl.Expr, plain: str, with_suggestion: str,
               **slots: pl.Expr) -> pl.Expr:
    """A message that names what `text` was probably meant to be when `suggest` finds it (the
    `with_suggestion` template, its `s` slot filled), else the `plain` template."""
    found = suggestions(text, suggest)
    return (pl.when(found.is_not_null()).then(render(with_suggestion, s=printable_text(found), **slots))
            .otherwise(render(plain, **slots)))


def _suggest_key(catalog: Catalog, key: str, event: str) -> str | None:
    return catalog.suggest_key(event, key)


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
    live: bool = True
    """False: the check cannot fire on this schema (a W109 for a key no column of it can hold an
    object or a list in); kept so that a template schema has the same checks, never evaluated on rows."""


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

    def has_bad(self, name: str) -> bool:
        """Whether a `__bad__` text can hold `name`'s value (else its type checks cannot fire)."""
        return BAD + name in self.schema

    def present(self, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
        """The row holds `name`: a value in its column or a text in its `__bad__` column."""
        c = self(name, dtype).is_not_null()
        return c | pl.col(BAD + name).is_not_null() if self.has_bad(name) else c

    def exact(self, name: str) -> pl.Expr | None:
        return pl.col(EXACT + name) if EXACT + name in self.schema else None

    def shown(self, name: str, c: pl.Expr) -> pl.Expr:
        """A number as reported: its exact text when it has one (a big integer), else the column's."""
        e = self.exact(name)
        return c if e is None else pl.coalesce(e, c.cast(pl.String))

    def dtype(self, name: str, default: pl.DataType) -> pl.DataType:
        return self.schema.get(name, default)


def frame_checks(catalog: Catalog, schema: Mapping[str, pl.DataType], *, strict: bool = False,
                 extra_columns: Sequence[str] = ()) -> list[RuleCheck]:
    """Every row-level check for a frame with this schema (W107 and items are separate)."""
    col = _Cols(schema)
    out: list[RuleCheck] = []

    def add(key: str, rule: Rule, field: str, mask: pl.Expr, message: str | pl.Expr,
            value: pl.Expr | None = None, severity: str | None = None, live: bool = True) -> None:
        msg = pl.lit(message) if isinstance(message, str) else message
        out.append(RuleCheck(key, rule, field, severity or rule.severity, mask, msg,
                             short_text(value) if value is not None else pl.lit(None, pl.String), live))

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
        render(msg_wrong_type("uid", "string", _slot("k")), k=kind_of_json(buid)), buid, live=col.has_bad("uid"))
    add("E002:empty", Rule.E002, "uid", blank(uid), _M["E002.empty"], uid)
    # one regex pass for both shapes; which one it was is worked out for the hit rows only
    personal = uid.str.contains(f"{full(EMAIL_PATTERN)}|{full(PHONE_PATTERN)}")  # full() groups each alternation
    what = pl.when(uid.str.contains("@", literal=True)).then(pl.lit("an e-mail address")).otherwise(
        pl.lit("a phone number"))
    add("W106", Rule.W106, "uid", personal, render(_M["W106"].format(what=_slot("w")), w=what), uid)

    bev = col.bad("eventName")
    add("E003:missing", Rule.E003, "eventName", ev.is_null() & bev.is_null(), _M["E003.missing"])
    add("E003:type", Rule.E003, "eventName", bev.is_not_null(),
        render(msg_wrong_type("eventName", "string", _slot("k")), k=kind_of_json(bev)), bev,
        live=col.has_bad("eventName"))
    add("E003:empty", Rule.E003, "eventName", ev == "", _M["E003.empty"])
    length = ev.str.len_chars()  # Unicode code points, as Python's len
    add("E003:long", Rule.E003, "eventName", length > MAX_EVENT_NAME,
        render(msg_long_name(_slot("n")), n=length.cast(pl.String)), ev)
    unknown = (ev != "") & (code < 0) & (length <= MAX_EVENT_NAME)
    near = near_mask(ev, unknown, catalog.suggest_event)  # asked once per distinct unknown name
    strictly = ".strict" if strict else ""
    add("W101", Rule.W101, "eventName", unknown & ~near,
        render(_M["W101" + strictly].format(event=_slot("e")), e=printable_text(ev)),
        ev, severity="error" if strict else "warning")
    add("W110", Rule.W110, "eventName", unknown & near,  # (the message: for the W110 rows alone)
        render(_M["W110" + strictly].format(event=_slot("e"), suggestion=_slot("s")), e=printable_text(ev),
               s=printable_text(suggestions(ev, catalog.suggest_event))), ev, severity="error" if strict else "warning")

    plat, bplat = col("platform"), col.bad("platform")
    not_platform = pl.all_horizontal([plat != p for p in PLATFORMS])  # cheaper than is_in on strings
    add("E004", Rule.E004, "platform", not_platform | bplat.is_not_null(),
        suggesting(partial(near_miss, candidates=PLATFORMS), pl.when(not_platform).then(plat), _M["E004"],
                   _M["E004.suggest"].format(suggestion=_slot("s"))), pl.coalesce(plat, bplat))

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
        present = col.present(name, dtype)
        if requiring:
            add(f"E005:{name}:missing", Rule.E005, name, req & ~present,
                render(msg_missing(name, _slot("e")), e=ev))
        add(f"E006:{name}:type", Rule.E006, name, has & b.is_not_null(),
            render(msg_wrong_type(name, ptype, _slot("k")), k=kind_of_json(b)), b, live=col.has_bad(name))
        good = c.is_not_null()
        if ptype in ("number", "integer") and dtype.is_float():  # (pandera's template types numbers Float64)
            broken = ~c.is_finite() if ptype == "number" else (~c.is_finite() | (c != c.floor()))
            if ptype == "integer" and (e := col.exact(name)) is not None:  # `1.0000000000000000000000001`
                broken = broken | not_whole(e)
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
            add(f"W103:{name}", Rule.W103, name, good & (c < 0), _M["W103.negative"].format(field=name),
                col.shown(name, c))
        elif name in AT_LEAST_ONE:
            add(f"W103:{name}", Rule.W103, name, good & (c < 1), _M["W103.quantity"].format(field=name),
                col.shown(name, c))
        elif name == CURRENCY_PARAM:
            shapeless = good & ~contains(c, full(CURRENCY_PATTERN))
            add(f"W104:{name}", Rule.W104, name, shapeless,
                suggesting(currency_meant, pl.when(shapeless).then(c), _M["W104"],
                           _M["W104.suggest"].format(suggestion=_slot("s"))), c)

    vname, pname, qname = VALUE_TRIPLE
    triple = [e.name for e in catalog if set(VALUE_TRIPLE) <= e.param_names]
    if triple and all(n in ok_type for n in VALUE_TRIPLE):
        judged = in_events(triple) & ok_type[vname] & ok_type[pname] & ok_type[qname]
        add("W105", Rule.W105, vname, w105(judged, [col(n, pl.Float64) for n in VALUE_TRIPLE],
                                          [col.exact(n) for n in VALUE_TRIPLE]), _M["W105"],
            col.shown(vname, col(vname, pl.Float64)))

    count = param_count(schema, extra_columns)  # W108: what Adrop's SDKs take
    add("W108", Rule.W108, "", too_many_params(schema, extra_columns),
        render(msg_too_many(_slot("n")), n=count.cast(pl.String)))
    named = ev.is_not_null() & (ev != "") & (length <= MAX_EVENT_NAME)  # a catalog or a custom event
    for key, holds, kind, value, possible in nested_values(schema, extra_columns):  # W109: what the SDKs drop
        listed = in_events([e.name for e in catalog if key in e.param_names])
        add(f"W109:{key}", Rule.W109, key, named & ~listed & holds,
            render(_M["W109"].format(field=printable(key), kind=_slot("k")), k=kind), value, live=possible)

    # -- keys the event does not list -------------------------------------------------
    known = code >= 0
    skip = set(ENVELOPE) | set(extra_columns)
    for name in schema:
        if name.startswith("_") or name in skip:
            continue
        allowed = [e.name for e in catalog if name in e.param_names]
        present = col.present(name, schema[name])
        if isinstance(schema[name], (pl.List, pl.Struct, pl.Array, pl.Object)) or schema[name] == pl.String:
            typed = col(name, schema[name]).map_batches(json_texts, return_dtype=pl.String, is_elementwise=True)
        elif schema[name].is_float():  # as its JSON text (the text a batch of mixed values holds)
            c = col(name, schema[name])
            typed = pl.when(c.is_infinite()).then(pl.when(c > 0).then(pl.lit("Infinity")).otherwise(pl.lit(
                "-Infinity"))).otherwise(col.shown(name, c).cast(pl.String))
        else:
            typed = col.shown(name, col(name, schema[name])).cast(pl.String)
        value = pl.coalesce(col.bad(name), typed)  # JSON text, whichever column the batch put it in
        add(f"W102:{name}", Rule.W102, name, known & ~in_events(allowed) & present,
            suggesting(partial(_suggest_key, catalog, name), ev,
                       _M["W102"].format(field=printable(name), event=_slot("e")),
                       _M["W102.suggest"].format(field=printable(name), event=_slot("e"), suggestion=_slot("s")),
                       e=ev),
            pl.coalesce(value.cast(pl.String)))
    return out
