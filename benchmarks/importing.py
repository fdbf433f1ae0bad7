"""How fast is `adrop-kit import ga4`, against reading the same export with nothing done to it?

Data: `adrop_kit.explore.ga4_sample.write_ga4_sample` (rows shaped as Google's export schema:
nested event_params, INT64 as strings, 12-item lists), written once as BigQuery's NDJSON.

Contenders, in the same run, medians of `--repeats`:
- baseline: every line parsed with orjson (the least any importer must do);
- `adrop_kit.importers.ga4(path, out=...)`: read, map (`map_rows`), check every event with the
  validation pipeline, write Parquet batch by batch; the ratio to the baseline is the cost of the rest;
- `map_rows` alone on the parsed rows (the per-batch mapping, what Spark runs on each partition).

    .venv/bin/python benchmarks/importing.py --rows 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import orjson

import adrop_kit
from adrop_kit.explore.ga4_sample import write_ga4_sample
from adrop_kit.io.importers.engine import map_rows
from adrop_kit.io.importers.mapping import default_mapping


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="adrop-bench-import-"))
    src = write_ga4_sample(work / "events_20241201.json", args.rows, seed=1)
    out = work / "events.parquet"
    mapping = default_mapping("ga4")
    parsed = [orjson.loads(line) for line in src.read_bytes().splitlines()]

    baseline = median_time(lambda: [orjson.loads(line) for line in src.read_bytes().splitlines()], args.repeats)
    mapping_only = median_time(lambda: map_rows(parsed, mapping, source=src.name), args.repeats)
    full = median_time(lambda: adrop_kit.importers.ga4(src, out=out), args.repeats)
    _, report = adrop_kit.importers.ga4(src, out=out)
    print(f"{args.rows:,} GA4 rows ({src.stat().st_size / 1e6:.1f} MB), {report.events:,} events, "
          f"{report.invalid:,} invalid; medians of {args.repeats}")
    print(f"{'contender':<34}{'seconds':>10}{'rows/s':>12}{'x baseline':>12}")
    for name, secs in (("orjson.loads per line (baseline)", baseline), ("map_rows (mapping only)", mapping_only),
                       ("importers.ga4 -> Parquet (all)", full)):
        print(f"{name:<34}{secs:>10.2f}{args.rows / secs:>12,.0f}{secs / baseline:>12.2f}")


if __name__ == "__main__":
    main()
