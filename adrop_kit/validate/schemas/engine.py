"""`engine="pandera"`: a batch judged by the pandera schemas of `adrop_kit.validate.schemas`.

`check_batch` (validate/batch.py) calls `violations_pandera` on its canonical batch: the mixed-events
model built for the batch's schema (its dtypes, its `__bad__`/`__exact__` side columns; W107 is the
pipeline's, across batches) validates it with `lazy=True` and warnings failing too, and the rows each
check flags become the batch's violations: field, value and message of the same rule checks the
polars engine renders, so both engines give one report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from adrop_kit.io.frames import ERROR, ROW
from adrop_kit.spec.catalog import Catalog
from adrop_kit.validate.checks import VIOLATION_SCHEMA, RuleCheck, line_of
from adrop_kit.validate.nested import items_violations, more_violations
from adrop_kit.validate.schemas import build_model, pandera_polars
from adrop_kit.validate.schemas.plan import SchemaPlan, typed_schema

_MODELS: dict[tuple, tuple[Catalog, type]] = {}
_POS = "__pos"


def engine_model(catalog: Catalog, schema: pl.Schema | dict, strict: bool, extra: Sequence[str]) -> type:
    """The mixed-events model for a batch of this schema (built once per schema)."""
    key = (id(catalog), strict, tuple(extra), tuple((n, str(d)) for n, d in schema.items()))
    hit = _MODELS.get(key)
    if hit is None or hit[0] is not catalog:
        plan = SchemaPlan(catalog, strict=strict, extra_columns=extra, schema=schema, duplicates=False)
        if len(_MODELS) >= 8:
            _MODELS.clear()
        hit = _MODELS[key] = (catalog, build_model(plan, "Events", warnings="fail"))
    return hit[1]


def violations_pandera(df: pl.DataFrame, catalog: Catalog, strict: bool, extra: Sequence[str]) -> pl.DataFrame:
    """The violations of one checked batch `df` (every rule but E001 and W107), found by pandera."""
    pa = pandera_polars()
    typed = typed_schema(catalog)
    work = df.with_columns([pl.lit(None, d).alias(c) for c, d in typed.items() if c not in df.columns])
    seen = work.with_columns([pl.col(c).cast(pl.Float64) for c, d in work.schema.items() if _unknown_to_pandera(d)])
    model = engine_model(catalog, seen.schema, strict, extra)
    plan: SchemaPlan = model.__adrop_plan__
    try:
        model.validate(seen, lazy=True)
        errors: list[Any] = []
    except pa.errors.SchemaErrors as exc:
        errors = exc.schema_errors
    finally:
        plan.forget()
    by_key = {sc.key: sc for sc in plan.checks}
    work = work.with_row_index(_POS)
    ok = pl.col(ERROR).is_null() if ERROR in work.columns else pl.lit(True)
    parts: list[pl.DataFrame] = []
    for err in errors:
        key = (getattr(err.check, "statistics", None) or {}).get("adrop_key")
        sc = by_key.get(key)
        if sc is None or err.check_output is None:
            raise RuntimeError(f"pandera failed outside the catalog's checks: {err}")  # a dtype, a bug of ours
        out = err.check_output
        positions = out.with_row_index(_POS).filter(~pl.col(out.columns[0]))[_POS]
        rows = work.filter(pl.col(_POS).is_in(positions.implode()))
        if sc.kind == "rule":
            parts.append(_render(rows, plan.rule_check(sc.key)))
        elif sc.kind == "items":
            found = items_violations(rows, catalog, ok)
            parts.append(found.filter(pl.col("rule") == sc.rule.value))
        else:  # what the frame brings: columns outside the catalog, `__more`'s keys, their count
            for c in plan.frame_rule_checks(work.schema):
                if c.rule is sc.rule:
                    parts.append(_render(rows.filter((ok & c.mask).fill_null(False)), c))
            more = more_violations(rows, catalog, ok, extra)
            parts.append(more.filter(pl.col("rule") == sc.rule.value))
    parts = [p for p in parts if p.height]
    return pl.concat(parts) if parts else pl.DataFrame(schema=VIOLATION_SCHEMA)


def _unknown_to_pandera(dtype: pl.DataType) -> bool:
    """A dtype pandera's polars engine cannot name (Int128, UInt128): such a column (numbers the
    canonical frame keeps exact) is judged as Float64, as the polars engine's checks compare it, and
    reported from the batch's own values."""
    from pandera.engines import polars_engine

    try:
        polars_engine.Engine.dtype(dtype)
    except TypeError:
        return dtype.is_numeric()
    return False


def _render(rows: pl.DataFrame, c: RuleCheck) -> pl.DataFrame:
    return rows.select(
        pl.col(ROW).alias("row"), line_of(rows.columns), pl.col("eventName"), pl.lit(c.rule.value).alias("rule"),
        pl.lit(c.severity).alias("severity"), pl.lit(c.field).alias("field"),
        c.value.cast(pl.String).alias("value"), c.message.alias("message"))


__all__ = ["engine_model", "violations_pandera"]
