"""The CSV read alone: `adrop_kit`'s `read_csv` (bytes → canonical frame) against polars' `read_csv` of the
same bytes, every cell text (the parse any reader built on polars pays), on the realistic events of
`benchmarks/realistic.py` written as CSV. Four contenders, alternated within each repeat so that a
shared machine's load falls on all of them alike:

  read_csv            adrop_kit's reader as it runs (big bodies: polars' read in a thread while numpy
                      looks at the bytes; number columns typed side by side)
  read_csv, serial    the same with nothing side by side (what the threads buy, in the same run)
  pl.read_csv alone   polars' parse of the same bytes, no rule, no exactness, no line numbers: the floor
  pl.read_csv + numbers  that parse plus the least typing a CSV needs that Parquet does not (the catalog's
                      number, integer and boolean columns cast, no exactness): the read's true floor

Prints the median wall and CPU seconds (process CPU time, every thread) and, per repeat, each reader's
ratio to `pl.read_csv alone` (medians), with the load average before and after.

    .venv/bin/python benchmarks/csv_read.py [--rows 1000000] [--repeats 5] [--csv FILE]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
import realistic  # noqa: E402 - benchmarks/realistic.py, beside this script

from adrop_kit.io.csv_records import read_header  # noqa: E402
from adrop_kit.io.frames import key_types  # noqa: E402
from adrop_kit.io.read_csv import read_csv  # noqa: E402
from adrop_kit.spec.catalog import STANDARD  # noqa: E402


def _serial(data: bytes) -> None:
    """`read_csv` with every side-by-side step run in turn (the thresholds above any file)."""
    modules = [importlib.import_module(f"adrop_kit.io.{m}") for m in ("read_csv", "csv_types", "csv_spans")]
    saved = [getattr(m, "_SIDE_BY_SIDE", None) for m in modules]
    for m in modules:
        m._SIDE_BY_SIDE = 1 << 62  # type: ignore[attr-defined]
    try:
        read_csv(data, "r.csv", STANDARD)
    finally:
        for m, value in zip(modules, saved, strict=True):
            if value is not None:
                m._SIDE_BY_SIDE = value  # type: ignore[attr-defined]


_CASTS = {"number": pl.Float64, "integer": pl.Int64}


def _least_typing(data: bytes) -> pl.DataFrame:
    """polars' parse plus the least typing a CSV needs that Parquet does not: the catalog's number,
    integer and boolean columns from their text (no number kept as written, no cell kept aside)."""
    df = pl.read_csv(data, infer_schema=False, null_values=[""])
    types = key_types(STANDARD)
    return df.with_columns(
        pl.col(c).str.strip_chars().cast(_CASTS[t], strict=False) if t in _CASTS
        else pl.col(c).str.to_lowercase() == "true" for c in df.columns if (t := types.get(c)) in (*_CASTS, "boolean"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", type=Path, help="read this CSV instead of writing the realistic one")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.csv or realistic.write_realistic(Path(tmp) / "realistic.csv", args.rows, seed=args.seed)
        data = path.read_bytes()
    header = read_header(data, "r.csv")
    print(f"CSV read alone: {len(data) / 1e6:.0f} MB, {len(header.names)} columns, median of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.1f}")
    contenders = {"read_csv": lambda: read_csv(data, "r.csv", STANDARD), "read_csv, serial": lambda: _serial(data),
                  "pl.read_csv alone": lambda: pl.read_csv(data, infer_schema=False),
                  "pl.read_csv + numbers": lambda: _least_typing(data)}
    read_csv(data[:200_000], "warm.csv", STANDARD)  # imports and first calls, untimed
    try:
        pl.read_csv(data, infer_schema=False)
    except pl.exceptions.PolarsError as e:  # a file polars refuses (a stray quote): no floor, ratios to serial
        print(f"  pl.read_csv refuses this file ({type(e).__name__}): ratios are to `read_csv, serial`")
        del contenders["pl.read_csv alone"], contenders["pl.read_csv + numbers"]
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    floor = "pl.read_csv alone" if "pl.read_csv alone" in contenders else "read_csv, serial"
    for name in contenders:
        ratio = statistics.median(x / y for x, y in zip(wall[name], wall[floor], strict=True))
        cpu_ratio = statistics.median(x / y for x, y in zip(cpu[name], cpu[floor], strict=True))
        print(f"  {name:<21} wall {statistics.median(wall[name]):5.2f} s   CPU {statistics.median(cpu[name]):5.2f} s"
              f"   / {floor}: wall {ratio:4.2f}x CPU {cpu_ratio:4.2f}x   runs "
              f"{', '.join(f'{t:.2f}' for t in wall[name])}")
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
