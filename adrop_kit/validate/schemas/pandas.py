"""pandera models of Adrop's event catalog for pandas (`pandera.pandas`): the same models as
`adrop_kit.validate.schemas` (polars), for the pandas API most pandera users know.

    import pandera.pandas as pa
    from pandera.typing import DataFrame
    from adrop_kit.validate.schemas.pandas import Purchase, Events

    @pa.check_types
    def revenue(purchases: DataFrame[Purchase]) -> float: ...

Columns are typed as a typed pandas frame holds them: strings `str`, numbers `float`, integers the
nullable `Int64`, booleans the nullable `boolean`, `items` objects (lists of dicts). Each check runs
the rule check of the polars model on the frame (read as `validate_events` reads a pandas frame), so
both libraries give one verdict. A check whose rule reads its column alone (uid, eventName, platform)
is a column check; one that also reads the event of the row is a dataframe check whose boolean frame
is False in its column only, so `failure_cases` name the column, the rule and the row all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from adrop_kit.io.frames import ERROR, ROW
from adrop_kit.io.pandas_frames import from_pandas
from adrop_kit.spec.catalog import Catalog
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS
from adrop_kit.validate.schemas import (
    DATASET_MODEL,
    STANDARD_MODELS,
    Models,
    Warnings,
    build_model,
    models_for,
    standard_models,
)
from adrop_kit.validate.schemas.plan import SchemaCheck, SchemaPlan


def _pandera() -> Any:
    try:
        import pandera.pandas as pa
    except ImportError as exc:  # pragma: no cover - pandera is a dependency
        raise ImportError("adrop_kit.validate.schemas.pandas needs pandera and pandas: "
                          "pip install 'pandera[pandas]'") from exc
    return pa


def _annotation(dtype: pl.DataType) -> Any:
    import pandas as pd
    from pandera.typing import Series

    if dtype == pl.String:
        return Series[str]
    if dtype.is_float():
        return Series[float]
    if dtype.is_integer():
        return Series[pd.Int64Dtype()]  # type: ignore[valid-type]
    if dtype == pl.Boolean:
        return Series[pd.BooleanDtype()]  # type: ignore[valid-type]
    return Series[object]  # items: lists of dicts


def _polars(pdf: Any, catalog: Catalog) -> pl.LazyFrame:
    """A pandas frame as `validate_events` reads it (positions, not the index, name rows)."""
    return from_pandas(pdf, catalog).df.drop(ROW, ERROR).lazy()


def _column_alone(sc: SchemaCheck) -> bool:
    if sc.column is None or sc.kind != "rule":
        return False
    return set(sc.plan.rule_check(sc.key).mask.meta.root_names()) <= {sc.column}


def _method(sc: SchemaCheck, warnings: Warnings) -> Any:
    import pandas as pd

    pa = _pandera()
    catalog = sc.plan.catalog
    kwargs = {"name": sc.rule.value, "error": sc.error, "statistics": {"adrop_key": sc.key}, "ignore_na": False,
              "raise_warning": sc.severity == "warning" and warnings == "warn"}

    reads = set(sc.plan.rule_check(sc.key).mask.meta.root_names()) if sc.kind == "rule" else None

    def verdicts(pdf: Any) -> Any:
        if reads is not None:  # read only the columns the rule reads (and one, for the row count)
            pdf = pdf[[c for c in pdf.columns if c in reads] or list(pdf.columns[:1])]
        return sc.passes(_polars(pdf, catalog)).collect().to_series().to_numpy()

    if _column_alone(sc):
        def column_check(cls: Any, series: Any) -> Any:
            return pd.Series(verdicts(series.to_frame()), index=series.index)

        column_check.__doc__ = sc.error
        return pa.check(sc.column, **kwargs)(column_check)

    def frame_check(cls: Any, df: Any) -> Any:
        return pd.Series(verdicts(df), index=df.index)

    frame_check.__doc__ = sc.error
    return pa.dataframe_check(**kwargs)(frame_check)


def build_pandas_model(plan: SchemaPlan, name: str, *, warnings: Warnings = "warn") -> type:
    """The `pandera.pandas.DataFrameModel` of `plan` (see `schemas.build_model`)."""
    return build_model(plan, name, warnings=warnings, pa=_pandera(), field_dtype=_annotation, method=_method,
                       module=__name__)


def pandas_models(catalog: Catalog | str | None = None, *, strict: bool = False,
                  extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS, warnings: Warnings = "warn") -> Models:
    """The pandas models of a catalog: `models_for(catalog, backend="pandas")`."""
    return models_for(catalog, strict=strict, extra_columns=extra_columns, warnings=warnings, backend="pandas")


def dataset_schema(*, catalog: Catalog | str | None = None, strict: bool = False,
                   extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS, warnings: Warnings = "warn") -> Any:
    """The `pandera.pandas.DataFrameSchema` of a frame of mixed events."""
    return pandas_models(catalog, strict=strict, extra_columns=extra_columns, warnings=warnings).Events.to_schema()


def for_event(name: str, *, catalog: Catalog | str | None = None, strict: bool = False,
              warnings: Warnings = "warn") -> Any:
    """The `pandera.pandas.DataFrameSchema` of rows of one event."""
    return pandas_models(catalog, strict=strict, warnings=warnings)[name].to_schema()


__getattr__, __dir__ = standard_models(globals(), pandas_models)  # the standard models, built on first use


__all__ = ["build_pandas_model", "dataset_schema", "for_event", "pandas_models", DATASET_MODEL, *STANDARD_MODELS]
