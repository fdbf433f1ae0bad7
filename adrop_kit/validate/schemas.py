"""pandera schemas generated from the catalog.

`for_event("purchase")` and `dataset_schema()` are ordinary `pandera.polars`
`DataFrameSchema`s: columns typed from the catalog and one dataframe-level `Check`
per rule (named `"<rule>:<field>"`), each wrapping a vectorised expression from
`adrop_kit.validate.checks`. Use them in your own pipelines (`schema.validate(df, lazy=True)`).

`validate_events` (validate/dataset.py) evaluates *the same checks* in one polars pass
(engine="polars", the default) or through these schemas (engine="pandera", via
`violations_pandera`); the test suite holds both engines to the same verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from adrop_kit.io.frames import ERROR, NATIVE_DTYPES, ROW
from adrop_kit.spec.catalog import ENVELOPE, Catalog, resolve
from adrop_kit.spec.rules import Rule
from adrop_kit.validate.checks import (
    DEFAULT_EXTRA_COLUMNS,
    VIOLATION_SCHEMA,
    RuleCheck,
    frame_checks,
    line_of,
)

_SEP = " — "
_TEMPLATE_DTYPES = {"number": pl.Float64, "integer": pl.Float64, "boolean": pl.Boolean}


def _pandera():
    try:
        import pandera.polars as pa
    except ImportError as exc:  # pragma: no cover - pandera is a dependency
        raise ImportError("adrop_kit.validate.schemas needs pandera with polars support: "
                          "pip install 'pandera[polars]'") from exc
    return pa


# -- pandera schemas -----------------------------------------------------------------
def _pandera_check(chk_key: str, catalog: Catalog, strict: bool, extra: Sequence[str], title: str,
                   built: dict[tuple, dict[str, RuleCheck]]) -> Any:
    pa = _pandera()

    def check_fn(data: Any) -> pl.LazyFrame:
        lf = data.lazyframe
        schema = lf.collect_schema()
        key = tuple(schema.items())
        checks = built.get(key)
        if checks is None:  # the checks of one frame's schema, built once for all the schema's checks
            checks = {c.key: c for c in frame_checks(catalog, schema, strict=strict, extra_columns=extra)}
            if len(built) >= 8:
                built.clear()
            built[key] = checks
        c = checks.get(chk_key)
        if c is None:
            return lf.select(pl.lit(True).alias("check"))
        ok = pl.col(ERROR).is_not_null() if ERROR in schema else pl.lit(False)
        return lf.select((ok | ~c.mask.fill_null(False)).alias("check"))

    return pa.Check(check_fn, name=chk_key, error=f"{chk_key}{_SEP}{title}")


def dataset_schema(*, catalog: Catalog | str | None = None, strict: bool = False,
                   events: Sequence[str] | None = None,
                   extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                   other_columns: Sequence[str] = ()) -> Any:
    """A `pandera.polars.DataFrameSchema` for a frame of mixed events (or only `events`).

    `other_columns` names columns outside the catalog that the frame will have, so the
    schema also flags them (W102) on the events they do not belong to.
    """
    pa = _pandera()
    cat = resolve(catalog)
    specs = [cat[e] for e in events] if events is not None else list(cat)
    columns: dict[str, Any] = {
        "uid": pa.Column(pl.String, nullable=True, required=True),
        "eventName": pa.Column(pl.String, nullable=True, required=True),
        "platform": pa.Column(pl.String, nullable=True, required=False),
    }
    for spec in specs:
        for p in spec.params:
            if p.name not in columns:
                dtype = NATIVE_DTYPES.get(p.type)
                # numbers may be Int or Float, integers Int or integral Float: the checks judge values
                if p.type in ("number", "integer", "items"):
                    dtype = None
                columns[p.name] = pa.Column(dtype, nullable=True, required=False)
    # the checks' keys come from a template schema: catalog dtypes (numbers as Float64, so the
    # value checks of E006 exist: NaN, Infinity, 2.5 for an integer), other columns as text
    types = {"uid": "string", "eventName": "string", "platform": "string", **cat.param_types}
    template_cols = {c: _TEMPLATE_DTYPES.get(types.get(c, ""), pl.String) for c in [*columns, *other_columns]}
    template = frame_checks(cat, template_cols, strict=strict, extra_columns=extra_columns)
    wanted = {s.name for s in specs}
    keys = [c.key for c in template
            if not _param_of(c) or any(_param_of(c) in cat[e].param_names for e in wanted)]
    built: dict[tuple, dict[str, RuleCheck]] = {}
    checks = [_pandera_check(k, cat, strict, extra_columns, Rule(k[:4]).title, built) for k in keys]
    name = "adrop:" + (",".join(events) if events is not None else "all")
    return pa.DataFrameSchema(columns, checks=checks, name=name, strict=False, coerce=False)


def _param_of(check: RuleCheck) -> str | None:
    """The parameter a check is about, for the checks that exist per parameter (E005, E006); None for
    the others (read from the check itself, not from its key: a key may hold any text, ':' too)."""
    return check.field if check.rule in (Rule.E005, Rule.E006) else None


def for_event(name: str, *, catalog: Catalog | str | None = None, strict: bool = False) -> Any:
    """The pandera schema for rows of one event, e.g. `for_event("purchase")`."""
    return dataset_schema(catalog=catalog, strict=strict, events=[name])


def violations_pandera(df: pl.DataFrame, catalog: Catalog, strict: bool, extra: Sequence[str]) -> pl.DataFrame:
    pa = _pandera()
    schema = dataset_schema(catalog=catalog, strict=strict, extra_columns=extra,
                            other_columns=[c for c in df.columns if not c.startswith("_")])
    work = df.with_columns([pl.lit(None, pl.String).alias(c) for c in ENVELOPE if c not in df.columns])
    try:
        schema.validate(work, lazy=True)
        return pl.DataFrame(schema=VIOLATION_SCHEMA)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    fc = fc.filter(pl.col("index").is_not_null())
    checks = {c.key: c for c in frame_checks(catalog, df.schema, strict=strict, extra_columns=extra)}
    hits = fc.select(pl.col("index").cast(pl.Int64), pl.col("check")).unique()
    parts = []
    for key, group in hits.partition_by("check", as_dict=True).items():
        name = key[0] if isinstance(key, tuple) else key
        c = checks.get(_key_from_error(name, checks))
        if c is None:
            continue
        rows = df.with_row_index("__i").filter(pl.col("__i").is_in(group["index"].implode()))
        parts.append(rows.select(
            pl.col(ROW).alias("row"), line_of(rows.columns), pl.col("eventName"), pl.lit(c.rule.value).alias("rule"),
            pl.lit(c.severity).alias("severity"), pl.lit(c.field).alias("field"),
            c.value.cast(pl.String).alias("value"), c.message.alias("message")))
    return pl.concat(parts) if parts else pl.DataFrame(schema=VIOLATION_SCHEMA)


def _key_from_error(name: str, checks: dict[str, RuleCheck]) -> str:
    key = name.rpartition(_SEP)[0] or name  # the title has no separator; a key (a column name) may
    return key if key in checks else ""


__all__ = ["dataset_schema", "for_event", "violations_pandera"]
