"""Before/after on the same files in one run: `validate_events(path)` under two checkouts of adrop_kit,
their runs alternated (each repeat: one process per checkout), beside the orjson + pydantic loop.

    python benchmarks/before_after.py BEFORE_DIR AFTER_DIR DATA_DIR [--repeats 3]

DATA_DIR holds r.jsonl, r.csv, r.parquet (`realistic.write_formats(DATA_DIR, "r", n)`); a CSV with one
malformed record, one NUL byte and one invalid UTF-8 record in the middle is written beside them.
Prints medians of wall and CPU seconds, and each repeat's ratios' medians."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

_CHILD = """
import json, sys, time
sys.path.insert(0, {bench!r})
from validate import jsonl_baseline
from adrop_kit import validate_events
d = {data!r}
import adrop_kit
assert adrop_kit.__file__.startswith({root!r}), adrop_kit.__file__
out = {{}}
validate_events(d + "/warm.csv"); validate_events(d + "/warm.jsonl"); validate_events(d + "/r.parquet")
for name, fn, path in (("parquet", validate_events, "r.parquet"), ("csv", validate_events, "r.csv"),
                       ("csv+3 bad", validate_events, "r_bad.csv"), ("jsonl", validate_events, "r.jsonl"),
                       ("loop", jsonl_baseline, "r.jsonl")):
    t, c = time.perf_counter(), time.process_time()
    r = fn(d + "/" + path)
    out[name] = (time.perf_counter() - t, time.process_time() - c, r if isinstance(r, int) else r.invalid)
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("data")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    data = Path(a.data)
    csv = (data / "r.csv").read_bytes()
    mid = csv.find(b"\n", len(csv) // 2) + 1
    (data / "r_bad.csv").write_bytes(csv[:mid] + b'u9,x"y,web\nu9,app\x00open\nu1,app_open\xff\n' + csv[mid:])
    (data / "warm.csv").write_bytes(csv[:200_000] + b'u9,x"y,web\n')
    jsonl = (data / "r.jsonl").read_bytes()
    (data / "warm.jsonl").write_bytes(jsonl[:400_000])
    bench = str(Path(__file__).parent)
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(a.repeats):
        for label, root in (("before", a.before), ("after", a.after)):
            code = _CHILD.format(bench=bench, data=str(data), root=str(Path(root).resolve()))
            env = {"PYTHONPATH": root, "PATH": "/usr/bin:/bin"}
            t = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                                 cwd=data)  # not this checkout's directory: `-c` puts the cwd first on sys.path
            runs[label].append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(f"  {label} run in {time.perf_counter() - t:.0f} s: {json.dumps(runs[label][-1])}", file=sys.stderr)
    names = list(runs["before"][0])
    print(f"{'':12} {'before wall':>11} {'after wall':>11} {'before CPU':>11} {'after CPU':>10}  invalid")
    for n in names:
        med = {k: [statistics.median(r[n][i] for r in runs[k]) for i in (0, 1)] for k in runs}
        counts = f"{runs['before'][0][n][2]:,}/{runs['after'][0][n][2]:,}"
        print(f"{n:12} {med['before'][0]:10.2f}s {med['after'][0]:10.2f}s {med['before'][1]:10.2f}s "
              f"{med['after'][1]:9.2f}s  {counts}")
    for label, x, y in (("jsonl / loop", "jsonl", "loop"), ("csv / parquet", "csv", "parquet"),
                        ("csv+3 bad / csv", "csv+3 bad", "csv")):
        cells = []
        for k in runs:
            for i, kind in ((0, "wall"), (1, "CPU")):
                cells.append(f"{k} {kind} {statistics.median(r[x][i] / r[y][i] for r in runs[k]):.2f}x")
        print(f"{label:16} " + "   ".join(cells))


if __name__ == "__main__":
    main()
