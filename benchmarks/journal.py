"""Journal cost benchmark (not a test): what keeping a journal adds to a send, in CPU time per event,
which a loaded machine disturbs far less than wall time. Medians of `--repeats` runs, in one process.

1. `Journal.record` alone, 4,000 outcomes: committed one by one (a `flush()` after each, as before
   group commits) vs in groups (the writer thread), same run.
2. `Sender.send_all` on 4,000 events through a transport that answers ok at once (no network, no
   server: only the client's own work), concurrency 4, with and without a journal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from adrop_kit.explore.synth import sample_events
from adrop_kit.send.journal import Journal
from adrop_kit.send.sender import Sender
from adrop_kit.send.transport import Response


class _Ok:
    endpoint = "http://127.0.0.1:9/event"

    def handle(self, request: object) -> Response:
        return Response(200, b'{"message":"ok"}')

    def close(self) -> None:
        pass


def record_cost(n: int, *, each: bool) -> float:
    keys = [os.urandom(16).hex() for _ in range(n)]
    with tempfile.TemporaryDirectory() as d, Journal(os.path.join(d, "bench.journal")) as j:
        c = time.process_time()
        for i, k in enumerate(keys):
            j.record(k, i, "app_open", "delivered", 1, 200, None, source="", body=k)
            if each:
                j.flush()
        j.flush()
        return (time.process_time() - c) / n * 1e6


def sender_cost(payloads: list[dict], *, journal: bool) -> float:
    with tempfile.TemporaryDirectory() as d:
        c = time.process_time()
        with Sender("bench-key-0123456789", transport=_Ok(), concurrency=4, progress=False,
                    journal=os.path.join(d, "bench.journal") if journal else False) as s:
            report = s.send_all(payloads)
        assert report.delivered == len(payloads), report
        return (time.process_time() - c) / len(payloads) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    n = args.events
    runs: dict[str, list[float]] = {"one by one": [], "grouped": [], "sender, journal": [], "sender, none": []}
    payloads = list(sample_events(n * 2, seed=5, error_rate=0.0, warning_rate=0.0))[:n]
    for _ in range(args.repeats):
        runs["one by one"].append(record_cost(n, each=True))
        runs["grouped"].append(record_cost(n, each=False))
        runs["sender, journal"].append(sender_cost(payloads, journal=True))
        runs["sender, none"].append(sender_cost(payloads, journal=False))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{n:,} events, CPU µs per event, median of {args.repeats}")
    print(f"1. Journal.record, committed one by one (baseline)   {med['one by one']:7.1f}")
    print(f"   Journal.record, group commits                      {med['grouped']:7.1f}   "
          f"{med['grouped'] / med['one by one']:.2f}x")
    print(f"2. Sender, no journal (baseline)                      {med['sender, none']:7.1f}")
    print(f"   Sender, journal                                    {med['sender, journal']:7.1f}   "
          f"+{med['sender, journal'] - med['sender, none']:.1f} µs/event")


if __name__ == "__main__":
    main()
