"""Spark, for data past one machine (`pip install 'adrop-kit[spark]'`).

- `validate(sdf_or_path, …)` → `SparkReport`: exact counts; violations and valid rows as Spark
  DataFrames; the local polars engine on every partition (`mapInArrow`), W107 global.
- `send(sdf_or_path, …)` → an outcomes DataFrame (source, row, eventName, outcome, status,
  attempts, error), each partition sent by a `Sender`; `previous=` skips what an earlier run delivered.

- `import_export(sdf, "ga4" | "segment", mapping=None)` → (events DataFrame, mapping report counts): a GA4 /
  Firebase export or Segment calls mapped by the same per-batch function as `adrop-kit import`.

pyspark is imported when these are called, never by `import adrop_kit`.
"""

from __future__ import annotations

from adrop_kit.spark.importers import import_export
from adrop_kit.spark.send import OUTCOME_COLUMNS, send
from adrop_kit.spark.session import get_session
from adrop_kit.spark.validate import CollectedReport, SparkReport, collect, validate

__all__ = ["OUTCOME_COLUMNS", "CollectedReport", "SparkReport", "collect", "get_session", "import_export", "send",
           "validate"]
