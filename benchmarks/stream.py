"""The bounded-memory benchmark: `adrop-kit validate` streaming a big JSONL file.

A synthetic part (`sample_frame(--part-rows, seed=1)`, about 3% planted errors) is written once as
JSONL and repeated until the file holds `--rows` rows (20M rows is about 2.6 GB) in a temporary
directory. Then, in a child process measured by `/usr/bin/time -v` (peak RSS), the CLI checks it:

    adrop-kit validate BIG --format json --violations-out v.parquet   (default)
    adrop-kit validate BIG --format json                               (--held: every violation kept)

and the invalid count is compared with the planted truth (the part's planted errors times the
repeats: exact, or the run fails). `--realistic` writes `benchmarks/realistic.py`'s rows instead (drawn
and written a block at a time, never held); its truth is the rows broken on purpose. `--send`
measures a streamed send instead, as a dry run (no network, so the send's own bookkeeping is what is
measured):

    adrop-kit send BIG --dry-run --format json [--outcomes-out o.parquet]

whose skipped count must equal the planted truth and whose counts must add up to the rows.
Repeating the part also reuses every purchase's tx_id in each
repeat: W107 (a warning) is found across the whole file, and that global pass is measured too.
Prints rows, invalid (and truth), elapsed, rows/s, MB/s and peak RSS.

    .venv/bin/python benchmarks/stream.py [--rows 20000000] [--part-rows 500000] [--held] [--keep DIR]
    .venv/bin/python benchmarks/stream.py --realistic --rows 10000000 [--held] [--keep DIR [--reuse]] [--batch-mb N]
    .venv/bin/python benchmarks/stream.py --send [--outcomes-out] [--error-rate 0] [--rows …] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from adrop_kit.explore.synth import ERROR_RULES, TRUTH, sample_frame
from adrop_kit.io.writers import write_events

ROOT = Path(__file__).resolve().parents[1]


def build(directory: Path, rows: int, part_rows: int, error_rate: float = 0.03) -> tuple[Path, int]:
    """The big JSONL file and its planted number of invalid rows."""
    if rows % part_rows:
        raise SystemExit(f"--rows ({rows:,}) must be a multiple of --part-rows ({part_rows:,})")
    frame = sample_frame(part_rows, seed=1, error_rate=error_rate)
    planted = frame.filter(pl.col(TRUTH).is_in(ERROR_RULES)).height
    part = write_events(frame.drop(TRUTH), directory / "part.jsonl")
    data = part.read_bytes()
    big = directory / "big.jsonl"
    with big.open("wb") as fh:
        for _ in range(rows // part_rows):
            fh.write(data)
    part.unlink()
    return big, planted * (rows // part_rows)


def build_realistic(directory: Path, rows: int, seed: int = 0) -> tuple[Path, int]:
    """A big JSONL file of `realistic.planted_events` (rare custom keys, mixed number classes, nulls,
    escapes, 3% broken rows), written as drawn (never held), and its number of rows broken on purpose."""
    sys.path.insert(0, str(Path(__file__).parent))
    from realistic import planted_events

    big = directory / "big.jsonl"
    planted = 0
    with big.open("wb") as fh:
        block: list[bytes] = []
        for _, line, broken in planted_events(rows, seed=seed):
            block.append(line)
            planted += broken
            if len(block) == 10_000:
                fh.write(b"\n".join(block) + b"\n")
                block.clear()
        if block:
            fh.write(b"\n".join(block) + b"\n")
    return big, planted


def timed(args: list[str]) -> tuple[dict[str, Any], float, float, float]:
    """`python -m adrop_kit ARGS` under `/usr/bin/time -v`: its JSON output, elapsed s, CPU s, peak RSS MB."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "adrop_kit", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
    cpu = sum(float(re.search(rf"{w} time \(seconds\): ([\d.]+)", done.stderr)[1]) for w in ("User", "System"))
    return json.loads(done.stdout), elapsed, cpu, peak_kb / 1024


def run(big: Path, *, held: bool, out_dir: Path, batch_mb: int | None = None) -> dict[str, float | int | str]:
    args = ["validate", str(big), "--format", "json", "--limit", "0"]
    if batch_mb is not None:
        args += ["--batch-mb", str(batch_mb)]
    if not held:
        args += ["--violations-out", str(out_dir / "violations.parquet")]
    report, elapsed, _, peak = timed(args)
    return {"summary": report["summary"], "elapsed_s": elapsed, "peak_rss_mb": peak,
            "violations": report.get("violation_count", len(report["violations"]))}


def run_send(big: Path, *, outcomes_out: bool, out_dir: Path) -> dict[str, Any]:
    """`adrop-kit send BIG --dry-run --format json` under `/usr/bin/time -v`."""
    args = ["send", str(big), "--dry-run", "--format", "json", "--no-progress"]
    if outcomes_out:
        args += ["--outcomes-out", str(out_dir / "outcomes.parquet")]
    report, elapsed, cpu, peak = timed(args)
    return {"summary": report["summary"], "elapsed_s": elapsed, "cpu_s": cpu, "peak_rss_mb": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--part-rows", type=int, default=500_000)
    ap.add_argument("--held", action="store_true", help="keep every violation in memory (no --violations-out)")
    ap.add_argument("--send", action="store_true", help="measure `adrop-kit send --dry-run` instead of validate")
    ap.add_argument("--outcomes-out", action="store_true", help="with --send: every outcome to a Parquet file")
    ap.add_argument("--error-rate", type=float, default=0.03, help="share of planted invalid rows (default 0.03)")
    ap.add_argument("--keep", type=Path, help="build the file in this directory and leave it there")
    ap.add_argument("--realistic", action="store_true",
                    help="rows of benchmarks/realistic.py (rare custom keys, nulls, escapes, mixed numbers) "
                         "instead of a repeated synthetic part")
    ap.add_argument("--reuse", action="store_true", help="with --keep: use the big.jsonl already there")
    ap.add_argument("--batch-mb", type=int, help="validate's --batch-mb (default: the CLI's)")
    args = ap.parse_args()

    tmp = args.keep or Path(tempfile.mkdtemp(prefix="adrop-stream-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        if args.reuse and (tmp / "big.jsonl").exists() and (tmp / "planted.txt").exists():
            big, truth = tmp / "big.jsonl", int((tmp / "planted.txt").read_text())
        elif args.realistic:
            big, truth = build_realistic(tmp, args.rows)
        else:
            big, truth = build(tmp, args.rows, args.part_rows, args.error_rate)
        (tmp / "planted.txt").write_text(str(truth))
        size = big.stat().st_size
        print(f"built {big} ({args.rows:,} rows, {size / 1e9:.2f} GB) in {time.perf_counter() - t:.0f} s; "
              f"planted invalid rows: {truth:,}", flush=True)
        if args.send:
            _send(big, truth, size, args, tmp)
            return
        r = run(big, held=args.held, out_dir=tmp, batch_mb=args.batch_mb)
        s = r["summary"]
        assert isinstance(s, dict)
        exact = s["invalid"] == truth and s["rows"] == args.rows
        elapsed = float(r["elapsed_s"])
        print(json.dumps({
            "rows": s["rows"], "invalid": s["invalid"], "planted_invalid": truth, "exact": exact,
            "warned": s["warned"], "violations": r["violations"], "mode": "held" if args.held else "violations_out",
            "batch_mb": args.batch_mb,
            "elapsed_s": round(elapsed, 1), "rows_per_s": round(s["rows"] / elapsed),
            "mb_per_s": round(size / 1e6 / elapsed, 1), "peak_rss_mb": round(float(r["peak_rss_mb"]))}, indent=1))
        if not exact:
            raise SystemExit("the invalid count is not the planted truth")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


def _send(big: Path, truth: int, size: int, args: argparse.Namespace, tmp: Path) -> None:
    r = run_send(big, outcomes_out=args.outcomes_out, out_dir=tmp)
    s = r["summary"]
    buckets = ("delivered", "rejected", "failed", "skipped", "already_delivered", "pending", "held", "dry_run")
    exact = s["skipped"] == truth and s["total"] == args.rows == sum(s.get(k, 0) for k in buckets)
    written = None
    if args.outcomes_out:
        written = pl.scan_parquet(tmp / "outcomes.parquet").select(pl.len()).collect().item()
        exact = exact and written == args.rows
    print(json.dumps({
        "rows": s["total"], "skipped": s["skipped"], "planted_invalid": truth, "dry_run": s.get("dry_run"),
        "exact": exact, "outcomes_written": written, "mode": "send --dry-run" + (" --outcomes-out" * args.outcomes_out),
        "elapsed_s": round(r["elapsed_s"], 1), "cpu_s": round(r["cpu_s"], 1),
        "rows_per_s": round(s["total"] / r["elapsed_s"]), "mb_per_s": round(size / 1e6 / r["elapsed_s"], 1),
        "peak_rss_mb": round(r["peak_rss_mb"])}, indent=1))
    if not exact:
        raise SystemExit("the counts are not exact")


if __name__ == "__main__":
    main()
