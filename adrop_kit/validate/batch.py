"""`check_frame`: every rule a batch decides (all but W107), in one lazy polars pass.

Every rule's vectorised check (`checks.frame_checks`) runs in one parallel pass that keeps only
the failing rows, and messages are built for those alone. pandera's own runner evaluates and
serialises each check separately (about 20x slower on 100k rows here); `engine="pandera"` runs
the same checks through it (`schemas.violations_pandera`). `validate_events` (one frame) and the
batch engines (`validate.stream`, Spark's partitions) all call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl

from adrop_kit.io.frames import ERROR, RAW, ROW, Frame
from adrop_kit.spec.catalog import Catalog
from adrop_kit.validate.checks import (
    DEFAULT_EXTRA_COLUMNS,
    EVENT_CODE,
    VIOLATION_SCHEMA,
    RuleCheck,
    event_code,
    frame_checks,
    line_of,
    short_text,
)
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


def check_frame(frame: Frame, catalog: Catalog, *, strict: bool = False,
                extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                engine: Literal["polars", "pandera"] = "polars") -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every rule that a row (or its own batch) decides: all but W107, which needs the whole input.
    Returns (the frame with the event code added, its violations, unsorted). Batch engines (the
    streaming validator, Spark's partitions) call this per batch and find W107 over everything
    with `w107_violations` on the purchases' `tx_id`s."""
    df = mark_oversized(frame.df, catalog, extra_columns)  # SPEC.md's 64 KiB, judged on the payload
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
    return df, pl.concat([e001, main, items_violations(df, catalog, ok_rows),
                          more_violations(df, catalog, ok_rows, extra_columns)])


__all__ = ["check_frame"]
