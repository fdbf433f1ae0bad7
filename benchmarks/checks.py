"""`check_batch` alone (every rule but W107, no read) on each format's frame of the same realistic events.

Each file is read once (`read_path`, as `validate_events` reads it); then `check_batch` runs on its
frame `--repeats` times, the formats in turn within each repeat, so each sees the same moments of a
shared machine. Medians of wall and CPU time, and the ratios CSV/Parquet and JSONL/Parquet (each the
median of one repeat's own ratios). What a format's frame costs the checks beyond Parquet's is what
its JSON texts cost (items as text, rare keys in `__more`, exact numbers beside their floats).

    .venv/bin/python benchmarks/checks.py [--rows 1000000] [--repeats 5] [--seed 1] [--dir DIR]

`--dir DIR` reads `DIR/events.{jsonl,csv,parquet}` instead of writing them (`benchmarks/realistic.py`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realistic  # noqa: E402  (benchmarks/realistic.py)

from adrop_kit import STANDARD  # noqa: E402
from adrop_kit.io.readers import read_path  # noqa: E402
from adrop_kit.validate.batch import check_batch  # noqa: E402

FORMATS = ("jsonl", "csv", "parquet")


def measure(directory: Path, repeats: int) -> dict[str, dict[str, list[float]]]:
    frames = {fmt: read_path(directory / f"events.{fmt}", STANDARD) for fmt in FORMATS}
    times: dict[str, dict[str, list[float]]] = {fmt: {"wall": [], "cpu": []} for fmt in FORMATS}
    for _ in range(repeats):
        for fmt, frame in frames.items():
            wall, cpu = time.perf_counter(), time.process_time()
            check_batch(frame, STANDARD)
            times[fmt]["wall"].append(time.perf_counter() - wall)
            times[fmt]["cpu"].append(time.process_time() - cpu)
    return times


def report(times: dict[str, dict[str, list[float]]]) -> None:
    print(f"check_batch on each format's frame, median of {len(times['parquet']['wall'])}")
    for fmt in FORMATS:
        print(f"  {fmt:8s} wall {statistics.median(times[fmt]['wall']):6.3f} s"
              f"   CPU {statistics.median(times[fmt]['cpu']):6.3f} s")
    for fmt in ("csv", "jsonl"):
        ratios = {k: statistics.median(a / b for a, b in zip(times[fmt][k], times["parquet"][k], strict=True))
                  for k in ("wall", "cpu")}
        print(f"  {fmt} / parquet: {ratios['wall']:.2f}x wall, {ratios['cpu']:.2f}x CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", type=Path, help="read DIR/events.{jsonl,csv,parquet} instead of writing them")
    args = ap.parse_args()
    if args.dir is not None:
        report(measure(args.dir, args.repeats))
        return
    with tempfile.TemporaryDirectory() as tmp:
        realistic.write_formats(Path(tmp), "events", args.rows, seed=args.seed)
        report(measure(Path(tmp), args.repeats))


if __name__ == "__main__":
    main()
