"""What the explore functions accept: polars or pandas frames, or a `DatasetReport`'s valid rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import polars as pl

from adrop_kit.io.frames import ROW
from adrop_kit.validate.report import DatasetReport


def to_polars(data: Any) -> pl.DataFrame:
    """A polars DataFrame from a polars (lazy) or pandas frame, or a `DatasetReport`'s valid rows."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, DatasetReport):  # its valid rows, each with its position in the input (ROW)
        view = data.rows_of("valid", positions=True)  # [source,] row, the user's columns, raw
        head = 2 if data.multi else 1
        return view.drop(view.columns[:head - 1] + view.columns[-1:]).rename({view.columns[head - 1]: ROW})
    if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        try:
            return pl.from_pandas(data)
        except Exception:  # noqa: BLE001 - pyarrow/polars raise many kinds for mixed object columns
            pass
        try:  # a column mixing datetimes and text (timestamps from two sources): the datetimes as ISO text
            return pl.from_pandas(data.apply(_iso_datetimes))
        except Exception:  # noqa: BLE001
            from adrop_kit.io.pandas_frames import from_pandas
            from adrop_kit.io.views import user_rows
            from adrop_kit.spec.catalog import STANDARD

            # each column typed by the catalog, then back in the user's columns: a column mixing
            # kinds (ISO text and epoch numbers in `ts`) is text, numbers as their JSON text
            return user_rows(from_pandas(data, STANDARD).df)
    raise TypeError(f"expected a polars or pandas DataFrame or a DatasetReport, got {type(data).__name__}; "
                    "for a file use adrop_kit.validate_events(path).valid_rows")


def _iso_datetimes(column: Any) -> Any:
    """A pandas object column with datetimes among other values: those datetimes as ISO 8601 text."""
    if column.dtype != object:
        return column
    is_time = column.map(lambda v: isinstance(v, (date, datetime)))
    if not is_time.any() or is_time.all():
        return column
    return column.where(~is_time, column[is_time].map(lambda v: v.isoformat()))


def require(df: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise a ValueError naming the `columns` that `df` lacks (and the ones it has)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise ValueError(f"{what} needs column(s) {names}, which the frame lacks (it has: {', '.join(df.columns)})")


__all__ = ["require", "to_polars"]
