"""`check_batch`: the one per-batch check of the pipeline, every rule but W107.

A batch is a canonical `Frame` (the whole input in memory, a streamed chunk, a Spark partition's
rows); what `check_batch` finds in a row depends on that row alone. First SPEC's limits on the
body each row would send (`validate.size`), then every rule's vectorised check
(`checks.frame_checks`) in one parallel pass that keeps only the failing rows (messages are built
for those alone), then the checks inside `items` and of the rare keys (`validate.nested`).
pandera is a backend choice inside it: `engine="pandera"` runs the same checks through pandera's
runner (`schemas.violations_pandera`; about 20x slower on 100k rows here). W107 compares rows: the
pipeline judges it across batches (`validate.w107`, `validate.pipeline`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from adrop_kit.io.frames import ERROR, RAW, ROW, Frame
from adrop_kit.io.importers.detect import export_hint
from adrop_kit.spec.catalog import Catalog
from adrop_kit.validate.checks import (
    DEFAULT_EXTRA_COLUMNS,
    EVENT_CODE,
    SOURCED_VIOLATION_SCHEMA,
    VIOLATION_SCHEMA,
    RuleCheck,
    event_code,
    frame_checks,
    line_of,
    short_text,
)
from adrop_kit.validate.json_values import JSON_FLAG, json_flags
from adrop_kit.validate.nested import items_violations, more_violations
from adrop_kit.validate.size import mark_oversized


def _violations_fast(df: pl.DataFrame, checks: list[RuleCheck]) -> pl.DataFrame:
    """All checks in one lazy, parallel pass that keeps only the rows breaking something;
    messages and values are then built for those rows alone."""
    ok = pl.col(ERROR).is_null()
    names = [f"__m{i}" for i in range(len(checks))]
    masks = [(ok & c.mask).fill_null(False).alias(n) for c, n in zip(checks, names, strict=True)]
    hits = df.lazy().with_columns(masks).filter(pl.any_horizontal(names)).collect()
    if not hits.height:
        return pl.DataFrame(schema=VIOLATION_SCHEMA)
    fired = [i for i, hit in enumerate(hits.select(pl.col(names).any()).row(0)) if hit]
    lf = hits.lazy()
    ev = pl.col("eventName") if "eventName" in df.columns else pl.lit(None, pl.String)
    parts = [lf.filter(pl.col(f"__m{i}")).select(
        pl.col(ROW).alias("row"), line_of(df.columns), ev.alias("eventName"),
        pl.lit(checks[i].rule.value).alias("rule"), pl.lit(checks[i].severity).alias("severity"),
        pl.lit(checks[i].field).alias("field"), checks[i].value.cast(pl.String).alias("value"),
        checks[i].message.alias("message")) for i in fired]
    return pl.concat(parts).collect()


@dataclass
class CheckedBatch:
    """One batch after `check_batch`: `df`, its rows (E001 marks of the limits and the event code
    added), and `violations` (`SOURCED_VIOLATION_SCHEMA`, sorted by row, rule and field; with
    `JSON_FLAG` when asked). The pipeline's accumulator adds the batch's W107 to `violations`."""

    source: str
    part: int
    df: pl.DataFrame
    violations: pl.DataFrame
    notes: tuple[str, ...] = ()


def check_batch(frame: Frame, catalog: Catalog, *, part: int = 0, strict: bool = False,
                extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                engine: Literal["polars", "pandera"] = "polars", flags: bool = False) -> CheckedBatch:
    """Every rule but W107 on one batch, the `part`-th file's rows (see the module docstring).
    `flags`: add `JSON_FLAG` (is each value JSON text?), decided while the batch's rows are here."""
    df = mark_oversized(frame.df, catalog, extra_columns)  # SPEC.md's limits, judged on the payload
    if "eventName" not in df.columns:
        df = df.with_columns(pl.lit(None, pl.String).alias("eventName"))
    df = df.with_columns(event_code(catalog).alias(EVENT_CODE))
    ok_rows = pl.col(ERROR).is_null()
    e001 = df.filter(~ok_rows).select(
        pl.col(ROW).alias("row"), line_of(df.columns), pl.lit(None, pl.String).alias("eventName"),
        pl.lit("E001").alias("rule"),
        pl.lit("error").alias("severity"), pl.lit("").alias("field"),
        (short_text(pl.col(RAW)) if RAW in df.columns else pl.lit(None, pl.String)).alias("value"),
        pl.col(ERROR).alias("message"))
    if engine == "pandera":
        from adrop_kit.validate.schemas import violations_pandera

        main = violations_pandera(df, catalog, strict, extra_columns)
    elif engine == "polars":
        main = _violations_fast(df, frame_checks(catalog, df.schema, strict=strict, extra_columns=extra_columns))
    else:
        raise ValueError(f"engine must be 'polars' or 'pandera', not {engine!r}")
    found = pl.concat([e001, main, items_violations(df, catalog, ok_rows),
                       more_violations(df, catalog, ok_rows, extra_columns)])
    found = found.sort("row", "rule", "field", maintain_order=True)
    found = found.select(pl.lit(frame.source, pl.String).alias("source"), *VIOLATION_SCHEMA,
                         *([json_flags(found, df)] if flags else []))
    hint = export_hint(frame.df.columns)  # a GA4 / Segment export given as events: say which import to run
    return CheckedBatch(frame.source, part, df, found, frame.notes + ((hint,) if hint else ()))


def empty_violations(*, flags: bool = False) -> pl.DataFrame:
    """A violations table with no rows (`SOURCED_VIOLATION_SCHEMA`, and `JSON_FLAG` when asked)."""
    return pl.DataFrame(schema={**SOURCED_VIOLATION_SCHEMA, **({JSON_FLAG: pl.Boolean} if flags else {})})


__all__ = ["CheckedBatch", "check_batch", "empty_violations"]
