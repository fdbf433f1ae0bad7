"""In-memory inputs on realistic data: `validate_events` given the same events as a polars frame, a
pandas frame and a list of dicts, beside pydantic `model_validate` over the same dicts (the plain
way to check dicts in Python). Runs alternate, so every contender sees the same moments of a shared
machine; medians of wall and CPU time, and each ratio is the median of one repeat's own ratios.

    .venv/bin/python benchmarks/inputs.py [--rows 1000000] [--repeats 5] [--seed 1]

Data: `benchmarks/realistic.py` (rare custom events with their own keys, integral and fractional
prices in one column, nulls, non-ASCII text, 3% broken rows), written once to Parquet (the polars
and pandas frames are read from it) and to JSONL (the dicts are its lines that are JSON objects).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson  # noqa: E402
import polars as pl  # noqa: E402
import realistic  # noqa: E402  (benchmarks/realistic.py)
from validate import pydantic_models  # noqa: E402  (benchmarks/validate.py)

from adrop_kit import validate_events  # noqa: E402
from adrop_kit.spec.catalog import STANDARD  # noqa: E402


def _objects(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_bytes().splitlines():
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if type(value) is dict:
            out.append(value)
    return out


def _pydantic(rows: list[dict[str, Any]]) -> int:
    from pydantic import ValidationError

    models, unknown = pydantic_models(STANDARD)
    bad = 0
    for row in rows:
        try:
            models.get(row.get("eventName"), unknown).model_validate(row)
        except ValidationError:
            bad += 1
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="adrop-bench-inputs-") as tmp:
        jsonl, parquet = realistic.write_formats(Path(tmp), "events", args.rows, suffixes=(".jsonl", ".parquet"),
                                                 seed=args.seed)
        frame = pl.read_parquet(parquet)
        pdf = frame.to_pandas()
        dicts = _objects(jsonl)
    contenders: list[tuple[str, Callable[[], Any]]] = [
        ("polars frame", lambda: validate_events(frame).invalid),
        ("pandas frame", lambda: validate_events(pdf).invalid),
        (f"list of {len(dicts):,} dicts", lambda: validate_events(dicts).invalid),
        ("pydantic per dict", lambda: _pydantic(dicts)),
    ]
    validate_events(frame.head(2000)), validate_events(pdf.head(2000)), validate_events(dicts[:2000])  # warm
    wall: dict[str, list[float]] = {n: [] for n, _ in contenders}
    cpu: dict[str, list[float]] = {n: [] for n, _ in contenders}
    invalid: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, fn in contenders:
            t, c = time.perf_counter(), time.process_time()
            invalid[name] = fn()
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    print(f"in-memory inputs, realistic data, {args.rows:,} events, median of {args.repeats} (alternated)")
    for name, _ in contenders:
        print(f"  {name:<24} {statistics.median(wall[name]):>7.2f} s  CPU {statistics.median(cpu[name]):>6.2f} s"
              f"   invalid {invalid[name]:,}")
    base = contenders[0][0]
    for name, _ in contenders[1:]:
        ratio = statistics.median(a / b for a, b in zip(wall[name], wall[base], strict=True))
        ratio_cpu = statistics.median(a / b for a, b in zip(cpu[name], cpu[base], strict=True))
        print(f"  {name} / {base}: {ratio:.2f}x   CPU {ratio_cpu:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
