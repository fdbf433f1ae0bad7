"""`adrop_kit.spark.import_export`: a GA4 / Firebase export (or Segment calls) as a Spark DataFrame →
Adrop events, by the same per-batch mapping as `adrop-kit import` (`io.importers.engine.map_rows`),
run on every partition through `mapInArrow`.

    from adrop_kit import spark as adrop_spark
    sdf = spark.read.json("gs://bucket/analytics_123/events_*.json.gz")   # or .parquet(...)
    events, report = adrop_spark.import_export(sdf, "ga4")
    events.select("event").write.text("adrop-events/")                    # JSONL for validate / send

`events` has one row per Adrop event: `event` (its JSON text, what would be sent), `ts`, `_source`
and `_row` (the metadata columns of a local import). `report` is the mapping report's counts
(`rows`, `mapped_rows`, `events`, `skipped`, `by_event`, `lost`), summed over the partitions; its
`invalid` is what `adrop_kit.spark.validate` finds on the events (run it on `events`' JSON).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

import orjson

from adrop_kit.io.importers.engine import ROW, SOURCE, TS, Tally, map_rows
from adrop_kit.io.importers.mapping import Mapping, default_mapping, load_mapping, parse_mapping
from adrop_kit.spark.session import require_pyspark
from adrop_kit.spec.catalog import Catalog, resolve

KEY = "__adrop_row"
EVENT_DDL = "kind string, event string, ts string, _source string, _row long, tally string"


def import_export(sdf: Any, kind: str = "ga4", mapping: Mapping | str | None = None, *,
                  catalog: Catalog | str | None = None, source: str | None = None) -> tuple[Any, dict[str, Any]]:
    """(events DataFrame, report counts) for an export DataFrame of `kind` ("ga4" or "segment").
    `source`: the `_source` of every event (default: the DataFrame's `_source` column if it has
    one, else `input_file_name()`); `_row` is the row's position (a `_row` column, else a
    monotonically increasing id)."""
    require_pyspark()
    from pyspark.sql import functions as F

    cat = resolve(catalog)
    m = mapping if isinstance(mapping, Mapping) else (
        default_mapping(kind) if mapping is None else load_mapping(mapping, catalog=cat, source=kind))
    text = m.text
    src = F.lit(source) if source is not None else (F.col("_source") if "_source" in sdf.columns
                                                    else F.input_file_name())
    row = F.col("_row") if "_row" in sdf.columns else F.monotonically_increasing_id()
    keyed = sdf.select(F.to_json(F.struct(*[F.col(c) for c in sdf.columns if c not in ("_source", "_row")]))
                       .alias("__json"), src.alias("__src"), row.cast("long").alias(KEY))
    out = keyed.mapInArrow(partial(map_partition, mapping_text=text, catalog=cat), EVENT_DDL).cache()
    events = out.filter(F.col("kind") == "e").select("event", TS, SOURCE, ROW)
    tally = Tally()
    for (blob,) in out.filter(F.col("kind") == "t").select("tally").collect():
        tally.add(_tally(orjson.loads(blob)))
    report = {"rows": tally.rows, "mapped_rows": tally.mapped_rows, "events": tally.events,
              "skipped": dict(tally.skipped.most_common()), "by_event": dict(tally.by_event.most_common()),
              "lost": dict(tally.lost.most_common())}
    return events, report


def map_partition(batches: Iterable[Any], *, mapping_text: str, catalog: Catalog) -> Iterator[Any]:
    """mapInArrow: each Arrow batch's rows (JSON text, source, key) → `map_rows` → events and one tally."""
    import pyarrow as pa

    mapping = parse_mapping(mapping_text, catalog=catalog)
    total = Tally()
    for b in batches:
        cols = b.to_pydict()
        rows = [orjson.loads(t) if t is not None else None for t in cols["__json"]]
        keys, sources = cols[KEY], cols["__src"]
        out: dict[str, list[Any]] = {"kind": [], "event": [], TS: [], SOURCE: [], ROW: [], "tally": []}
        events, found = map_rows(rows, mapping, source="", first_row=0, catalog=catalog)  # the one mapping
        total.add(found)
        for ev in events:
            i = ev.pop(ROW)
            ev.pop(SOURCE)
            out["kind"].append("e")
            out[TS].append(ev.pop(TS, None))
            out["event"].append(orjson.dumps(ev).decode())
            out[SOURCE].append(sources[i] or "<spark>")
            out[ROW].append(keys[i])
            out["tally"].append(None)
        if out["kind"]:
            yield pa.RecordBatch.from_pydict(out, schema=_schema())
    blob = orjson.dumps({"rows": total.rows, "mapped_rows": total.mapped_rows, "events": total.events,
                         "skipped": total.skipped, "by_event": total.by_event, "lost": total.lost}).decode()
    yield pa.RecordBatch.from_pydict({"kind": ["t"], "event": [None], TS: [None], SOURCE: [None], ROW: [None],
                                      "tally": [blob]}, schema=_schema())


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([("kind", pa.string()), ("event", pa.string()), (TS, pa.string()), (SOURCE, pa.string()),
                      (ROW, pa.int64()), ("tally", pa.string())])


def _tally(d: dict[str, Any]) -> Tally:
    from collections import Counter

    return Tally(d["rows"], d["mapped_rows"], d["events"], Counter(d["skipped"]), Counter(d["by_event"]),
                 Counter(d["lost"]))


__all__ = ["EVENT_DDL", "import_export", "map_partition"]
