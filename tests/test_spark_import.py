"""Spark imports a GA4 export DataFrame with the same per-batch mapping as the local import."""

from __future__ import annotations

import json

import pytest
from test_import_ga4 import MIXED, param, row, shelf, write

import adrop_kit

pytestmark = pytest.mark.slow


def test_spark_import_gives_the_local_imports_events_and_counts(tmp_path, spark):
    from adrop_kit.spark import import_export

    rows = [*MIXED, row("add_to_cart", items=shelf(12, added=4), params=[param("currency", string_value="KRW")]),
            row("scroll"), row("session_start", platform="IOS")]
    src = write(tmp_path / "events_20201101.json", rows)
    local, local_report = adrop_kit.importers.ga4(src)
    events, report = import_export(spark.read.json(str(src)), "ga4", source="events_20201101.json")
    got = sorted((r["event"], r["ts"]) for r in events.collect())
    want = sorted((json.dumps({k: v for k, v in e.items() if v is not None and k not in ("ts", "_source", "_row")}
                              | ({"items": json.loads(e["items"])} if e.get("items") else {}),
                              separators=(",", ":"), sort_keys=True), e["ts"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
                  for e in local.to_dicts())
    assert sorted((json.dumps(json.loads(ev), separators=(",", ":"), sort_keys=True), ts) for ev, ts in got) == want
    for key in ("rows", "mapped_rows", "events", "skipped", "by_event"):
        assert report[key] == getattr(local_report, key), key
