"""What the pandera schemas check, whatever the dataframe library: every rule check of
`validate.checks` placed on the column it is about, or on the frame when it compares columns or rows.

A `SchemaPlan` is built from a catalog (the events of one model, or all of them) and a frame schema:
the *typed* schema (`typed_schema`: strings `String`, numbers `Float64`, integers `Int64`, booleans
`Boolean`, `items` a `List(Struct)` of the item parameters) for the public models, or a canonical
batch's own schema for `engine="pandera"`. Nothing here names a parameter or restates a rule: the
checks are `frame_checks` (one `RuleCheck` each), `items_violations`, `more_violations` and
`duplicate_tx`, and each becomes one `SchemaCheck`:

- on a column (`column` set) when its mask reads that column alone (its `__bad__`/`__exact__` side
  columns, the event's code and `__error` aside): E002-E006, W101-W104, W106, E007/E008 on `items`;
- on the frame (`column` None) when it compares columns (W105) or rows (W107), and per rule for what
  is only known when a frame comes (`FRAME`): columns outside the model (W102, W109), their count
  (W108), a model column the frame lacks (E005 for a required parameter whose column is absent…).

`passes(lf)` gives, per row, whether the row keeps the check (one boolean column): the backends
(`schemas/__init__.py` for polars, `schemas/pandas.py`) wrap it in a `pandera.Check` named with the
rule id, whose `error` is the rule id and the message users see.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from adrop_kit.io.columns import BAD, EXACT, MORE, NATIVE_DTYPES
from adrop_kit.io.frames import ERROR, ROW
from adrop_kit.spec.catalog import ENVELOPE, ITEMS, Catalog
from adrop_kit.spec.rules import Rule
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS, EVENT_CODE, RuleCheck, frame_checks
from adrop_kit.validate.nested import items_violations, more_violations
from adrop_kit.validate.w107 import duplicate_tx, purchases

SEP = " — "
"""Between a check's rule id and its message in `error=` (what `failure_cases["check"]` shows)."""
FRAME = (Rule.E002, Rule.E003, Rule.E004, Rule.E005, Rule.E006, Rule.E007, Rule.E008, Rule.W101, Rule.W102,
         Rule.W103, Rule.W104, Rule.W106, Rule.W108, Rule.W109)
"""The rules a frame may break in columns the model does not check (absent, or outside the model)."""
_ITEM_RULES = (Rule.E007, Rule.E008, Rule.W103)
_NOT_OWN = frozenset({EVENT_CODE, ERROR})


def typed_schema(catalog: Catalog, events: Sequence[str] | None = None) -> dict[str, pl.DataType]:
    """The columns of a typed frame of `events` (all: None), in order, and their polars dtypes."""
    specs = [catalog[e] for e in events] if events is not None else list(catalog)
    out: dict[str, pl.DataType] = dict.fromkeys(ENVELOPE, pl.String)
    for spec in specs:
        for p in spec.params:
            out.setdefault(p.name, items_dtype(catalog) if p.type == ITEMS else NATIVE_DTYPES[p.type])
    return out


def items_dtype(catalog: Catalog) -> pl.DataType:
    """`items` in a typed frame: a list of structs of the item parameters."""
    return pl.List(pl.Struct({p.name: NATIVE_DTYPES[p.type] for p in catalog.item_params}))


def class_name(event: str) -> str:
    """`add_to_cart` → `AddToCart`; any event name (a plan's `quiz/answered v2`) → an identifier."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", event) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Event"
    return name if name[0].isalpha() else f"Event{name}"


@dataclass(frozen=True)
class SchemaCheck:
    """One pandera check: `rule` on `column` (None: the frame), with the `error` users read."""

    key: str
    rule: Rule
    column: str | None
    severity: str
    error: str
    kind: str  # "rule" (a RuleCheck's mask), "items", "frame" (what a frame brings), "w107"
    plan: SchemaPlan = field(repr=False, compare=False)

    def passes(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        """One boolean column: True where the row keeps this check."""
        return self.plan.passes(self, lf)


class SchemaPlan:
    """The checks of one schema (see the module docstring)."""

    def __init__(self, catalog: Catalog, *, events: Sequence[str] | None = None, strict: bool = False,
                 extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                 schema: Mapping[str, pl.DataType] | None = None, duplicates: bool = True) -> None:
        self.catalog, self.strict, self.extra_columns = catalog, strict, tuple(extra_columns)
        self.events = tuple(catalog[e].name for e in events) if events is not None else None
        typed = typed_schema(catalog, self.events)
        wanted = set(typed)
        if schema is None:
            self.schema: dict[str, pl.DataType] = typed
        else:  # a canonical batch: its own dtypes, and the side columns its checks read
            self.schema = dict(schema)
        # a model's `items` is any list of structs: the fields an item holds are E008's to judge
        self.columns = {c: pl.List(pl.Struct) if c == ITEMS and schema is None else self.schema.get(c, d)
                        for c, d in typed.items()}
        self._rule_checks = {c.key: c for c in frame_checks(catalog, self.schema, strict=strict,
                                                            extra_columns=self.extra_columns)}
        self.checks: list[SchemaCheck] = []
        for c in self._rule_checks.values():
            column = _column_of(c, wanted)
            if column is _NEVER:
                continue
            self.checks.append(SchemaCheck(c.key, c.rule, column, c.severity, self._error(c), "rule", self))
        if ITEMS in wanted:
            for rule in _ITEM_RULES:
                self.checks.append(SchemaCheck(f"items:{rule.value}", rule, ITEMS, rule.severity,
                                               f"{rule.value}{SEP}{ITEMS}: {rule.title}", "items", self))
        if duplicates and (self.events is None or "purchase" in self.events) and "tx_id" in wanted:
            self.checks.append(SchemaCheck("W107", Rule.W107, None, Rule.W107.severity,
                                           f"W107{SEP}{Rule.W107.title}", "w107", self))
        static = {c.key for c in self.checks}
        for rule in FRAME:
            self.checks.append(SchemaCheck(f"frame:{rule.value}", rule, None, rule.severity,
                                           f"{rule.value}{SEP}{rule.title} (columns outside the schema or absent)",
                                           "frame", self))
        self._static = static
        self._runtime: dict[tuple, list[RuleCheck]] = {}
        self._memo: tuple[Any, Any] | None = None

    # -- messages ------------------------------------------------------------------
    def _error(self, c: RuleCheck) -> str:
        one = self.events is not None and len(self.events) == 1 and c.rule in (Rule.E005, Rule.E007)
        event = self.events[0] if one else "the event"  # the message of a row, for the rows it is about
        text = None
        if c.field != "eventName" and set(c.message.meta.root_names()) <= {"eventName"}:
            try:
                text = pl.DataFrame({"eventName": [event]}).select(c.message).item()
            except pl.exceptions.PolarsError:
                text = None
        if not isinstance(text, str) or not text:
            text = f"{c.field}: {c.rule.title}" if c.field else c.rule.title
        return f"{c.rule.value}{SEP}{text}"

    # -- evaluation ------------------------------------------------------------------
    def passes(self, check: SchemaCheck, lf: pl.LazyFrame) -> pl.LazyFrame:
        have = lf.collect_schema()
        if check.kind == "rule":
            c = self._rule_checks[check.key]
            lf = self._filled(lf, have, c.mask)
            return lf.select((~(self._ok(have) & c.mask)).fill_null(True).alias("ok"))
        flagged = self._flagged(lf, have, check)
        rows = pl.col(ROW) if ROW in have else pl.int_range(pl.len(), dtype=pl.Int64)
        return lf.select((~rows.is_in(flagged.implode())).alias("ok"))

    def _ok(self, have: Mapping[str, Any]) -> pl.Expr:
        return pl.col(ERROR).is_null() if ERROR in have else pl.lit(True)

    def _filled(self, lf: pl.LazyFrame, have: Mapping[str, Any], *exprs: pl.Expr) -> pl.LazyFrame:
        """`lf` with the columns `exprs` read but it lacks, as nulls of their dtype here."""
        roots = {r for e in exprs for r in e.meta.root_names()}
        missing = [r for r in roots if r not in have]
        if not missing:
            return lf
        return lf.with_columns([pl.lit(None, self.schema.get(r, pl.String)).alias(r) for r in missing])

    def _flagged(self, lf: pl.LazyFrame, have: Mapping[str, Any], check: SchemaCheck) -> pl.Series:
        """The `__row`s (or positions) breaking an items, W107 or frame check, from one look at the frame
        shared by the checks of one validation (`_memo`)."""
        memo = self._memo  # the frame by weak reference: a model keeps no frame alive after validating it
        if memo is None or memo[0]() is not lf:
            memo = self._memo = (weakref.ref(lf), {})
        found: dict[str, pl.Series] = memo[1]
        if check.key not in found:
            df = lf.collect()
            if ROW not in df.columns:
                df = df.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
            if "eventName" not in df.columns:
                df = df.with_columns(pl.lit(None, pl.String).alias("eventName"))
            ok = self._ok(have)
            if check.kind == "items":
                hits = items_violations(df, self.catalog, ok)
                for rule in _ITEM_RULES:
                    found[f"items:{rule.value}"] = hits.filter(pl.col("rule") == rule.value)["row"]
            elif check.kind == "w107":
                found[check.key] = duplicate_tx(purchases(df, "", 0))["row"]
            else:
                found.update(self._frame_rows(df, have, ok))
        return found[check.key]

    def rule_check(self, key: str) -> RuleCheck:
        """The `validate.checks` rule check behind a check of kind "rule"."""
        return self._rule_checks[key]

    def frame_rule_checks(self, have: Mapping[str, Any]) -> list[RuleCheck]:
        """The rule checks a frame of schema `have` brings beyond the static ones: its columns outside
        the model, the model's columns it lacks (as nulls), the count of its parameters (W108)."""
        schema = {**dict(have), **{c: d for c, d in self.columns.items() if c not in have}}
        key = tuple((n, str(d)) for n, d in schema.items())
        checks = self._runtime.get(key)
        if checks is None:
            model = set(self.columns)
            seen = {k for k in self._static if (c := self._rule_checks.get(k)) is None
                    or _column_of(c, model) is None or _column_of(c, model) in have}
            checks = [c for c in frame_checks(self.catalog, schema, strict=self.strict,
                                              extra_columns=self.extra_columns)
                      if c.key not in seen or c.rule is Rule.W108]
            if len(self._runtime) > 8:
                self._runtime.clear()
            self._runtime[key] = checks
        return checks

    def forget(self) -> None:
        """Drop the frame the checks of the last validation shared."""
        self._memo = None

    def _frame_rows(self, df: pl.DataFrame, have: Mapping[str, Any], ok: pl.Expr) -> dict[str, pl.Series]:
        """Per rule of `FRAME`, the rows breaking it in what the static checks do not see."""
        absent = {c: d for c, d in self.columns.items() if c not in have}
        checks = self.frame_rule_checks(have)
        full = df.with_columns([pl.lit(None, d).alias(c) for c, d in absent.items()])
        masks = {r: [(ok & c.mask).fill_null(False) for c in checks if c.rule is r] for r in FRAME}
        exprs = [pl.any_horizontal(m).alias(r.value) for r, m in masks.items() if m]
        hit = full.select(pl.col(ROW), *exprs)
        out = {f"frame:{r.value}": hit.filter(pl.col(r.value))[ROW] if r.value in hit.columns
               else pl.Series(ROW, [], pl.Int64) for r in FRAME}
        extra: list[pl.DataFrame] = []
        if ITEMS in absent:
            extra.append(items_violations(full.drop(ITEMS), self.catalog, ok))
        if MORE in have:
            extra.append(more_violations(full, self.catalog, ok, self.extra_columns))
        for found in extra:
            for (rule,), rows in found.group_by("rule"):
                k = f"frame:{rule}"
                if k in out:
                    out[k] = pl.concat([out[k], rows["row"]]).unique()
        return out


class _Never:
    pass


_NEVER: Any = _Never()


def _column_of(c: RuleCheck, columns: set[str]) -> str | None | Any:
    """The column a rule check sits on, None for the frame (it reads other columns), `_NEVER` when
    it can never fire on the schema it was built for, or when it belongs to what a frame brings."""
    if c.rule is Rule.W108:
        return _NEVER
    roots = set(c.mask.meta.root_names()) - _NOT_OWN
    own = {c.field, BAD + c.field, EXACT + c.field}
    if c.field != "eventName":
        roots.discard("eventName")
    if not roots & own:
        return _NEVER
    if c.field not in columns:
        return _NEVER if roots <= own else None
    return c.field if roots <= own else None


__all__ = ["FRAME", "SEP", "SchemaCheck", "SchemaPlan", "class_name", "items_dtype", "typed_schema"]
