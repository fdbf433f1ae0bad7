"""The many-small-parts benchmark: what one more part file costs `validate_events`.

A directory of `--parts` one-row JSONL part files (an export whose writer flushed a file per event)
against the baseline, the same rows in one JSONL file, in the same run: each read `--repeats` times
(median). Prints both times, the cost per part file (the directory's time less the file's, over
the parts) and the ratio. Issue 19 measured ~21 ms per part (100,000 parts in 35 minutes); the
goal is 100,000 parts in minutes. `--send` also times a dry-run `Sender.send_all` (the same
batches, checked and planned; nothing goes over the network) of both inputs.

    .venv/bin/python benchmarks/parts.py [--parts 10000] [--repeats 3] [--send]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import adrop_kit as ak


def _write(root: Path, parts: int) -> tuple[Path, Path]:
    lines = [f'{{"uid":"u{i}","eventName":"app_open"}}\n' for i in range(parts)]
    directory = root / "export"
    directory.mkdir()
    for i, line in enumerate(lines):
        (directory / f"part-{i:06d}.jsonl").write_text(line)
    single = root / "all.jsonl"
    single.write_text("".join(lines))
    return directory, single


def _median(path: Path, repeats: int, rows: int, send: bool = False) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        if send:
            with ak.Sender(dry_run=True, progress=False) as sender:
                sent = sender.send_all(path, stream=True)
            assert sent.total == rows and sent.count("dry_run") == rows, sent
        else:
            report = ak.validate_events(path, stream=True, progress=False)
            assert report.rows == rows and report.invalid == 0, report.summary()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _show(what: str, parts: int, one: float, many: float) -> None:
    per_part = (many - one) / parts
    print(f"{what}: {'input':<32}{'seconds':>10}")
    print(f"{what}: {'one file, ' + format(parts, ',') + ' rows':<32}{one:>10.3f}")
    print(f"{what}: {format(parts, ',') + ' one-row part files':<32}{many:>10.3f}")
    print(f"{what}: cost per part file: {per_part * 1000:.2f} ms; parts / one file: {many / one:.1f}x; "
          f"100,000 parts would take about {per_part * 100_000 / 60:.1f} min")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--send", action="store_true", help="also time a dry-run send of both inputs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory, single = _write(Path(tmp), args.parts)
        ak.validate_events(single)  # warm up: imports, polars' first plans
        _show("validate", args.parts, _median(single, args.repeats, args.parts),
              _median(directory, args.repeats, args.parts))
        if args.send:
            _show("send (dry run)", args.parts, _median(single, args.repeats, args.parts, send=True),
                  _median(directory, args.repeats, args.parts, send=True))


if __name__ == "__main__":
    main()
