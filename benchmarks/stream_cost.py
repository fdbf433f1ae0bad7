"""What streaming costs: `validate_events(path, stream=True)` against reading the same file whole.

Every file over 512 MiB streams by default (and `send` streams), so a streamed run should cost about
what a whole read costs. For each file (1M realistic events as CSV and JSONL by default, written by
`benchmarks/realistic.py` into a temporary directory, or `--files`), each mode (whole; streamed in
batches of each `--batch-mb`) runs in a fresh process, `--repeats` times, alternated; it prints the
median wall and CPU seconds (CPU: every thread of the process), the peak RSS, and the streamed/whole
ratio of the medians. `--tree DIR` (repeatable) runs the same with another checkout's adrop_kit
(`PYTHONPATH=DIR`), alternated with this one: before/after in one run.

    .venv/bin/python benchmarks/stream_cost.py [--rows 1000000] [--batch-mb 12 64] [--repeats 3]
        [--files a.csv b.jsonl] [--tree /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CHILD = """
import resource, sys, time
from adrop_kit import validate_events
import adrop_kit.validate.dataset  # imported before the clock starts
path, mb = sys.argv[1], int(sys.argv[2])
kw = {"stream": False} if mb == 0 else {"stream": True, "batch_bytes": mb << 20}
t, c = time.perf_counter(), time.process_time()
r = validate_events(path, **kw)
print(time.perf_counter() - t, time.process_time() - c, r.rows, r.invalid, r.warned,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def one(tree: Path, path: Path, mb: int) -> tuple[float, float, tuple[int, int, int], float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(mb)], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode:
        raise SystemExit(f"{tree}: {path} failed: {done.stderr[-2000:]}")
    wall, cpu, rows, invalid, warned, rss = done.stdout.split()
    return float(wall), float(cpu), (int(rows), int(invalid), int(warned)), float(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch-mb", type=int, nargs="+", default=[12, 64])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--files", type=Path, nargs="+")
    ap.add_argument("--tree", type=Path, action="append", default=[], help="another checkout, run alternated")
    args = ap.parse_args()
    trees = [ROOT, *args.tree]
    with tempfile.TemporaryDirectory(prefix="adrop-stream-cost-") as tmp:
        files = args.files
        if not files:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from realistic import write_formats

            files = write_formats(Path(tmp), "events", args.rows, suffixes=(".csv", ".jsonl"))
        modes = [0, *args.batch_mb]
        runs: dict[tuple[Path, int, Path], list[tuple[float, float, float]]] = {}
        counts: dict[Path, set[tuple[int, int, int]]] = {}
        for _ in range(args.repeats):
            for path in files:
                for mb in modes:
                    for tree in trees:
                        wall, cpu, found, rss = one(tree, path, mb)
                        runs.setdefault((path, mb, tree), []).append((wall, cpu, rss))
                        counts.setdefault(path, set()).add(found)
        print(f"{'file':<14}{'mode':<10}{'tree':<28}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}"
              f"{'wall/whole':>12}{'CPU/whole':>11}")
        for path in files:
            if len(counts[path]) != 1:
                raise SystemExit(f"{path}: the reports differ between modes or trees: {counts[path]}")
            for tree in trees:
                base = runs[(path, 0, tree)]
                bw, bc = (statistics.median(r[i] for r in base) for i in (0, 1))
                for mb in modes:
                    rs = runs[(path, mb, tree)]
                    w, c, m = (statistics.median(r[i] for r in rs) for i in (0, 1, 2))
                    label = "whole" if mb == 0 else f"{mb} MiB"
                    print(f"{path.name:<14}{label:<10}{str(tree)[-27:]:<28}{w:>8.2f}{c:>8.2f}{m:>9.0f}"
                          f"{w / bw:>11.2f}x{c / bc:>10.2f}x")
        rows, invalid, warned = next(iter(counts[files[0]]))
        print(f"every run: {rows:,} rows, {invalid:,} invalid, {warned:,} warned (first file)")


if __name__ == "__main__":
    main()
