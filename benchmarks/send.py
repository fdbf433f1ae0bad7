"""Sending benchmark (run by `make bench`; not a test). Prints medians and ratios measured in one run.

1. CPU cost: `Sender.send_all` (validation, retries and the journal on) vs a raw `http.client`
   keep-alive loop, both against the local server running in its own process.
2. Latency hiding: the server adds 100 ms per reply; the sender keeps 64 in flight (ideal 640 ev/s).
3. Server capacity: the local server (validation + SQLite, each event committed before its ack) vs
   a bare echo ASGI app on the same HTTP stack (uvicorn + httptools, the same hardened protocol),
   both driven by the same raw client load (4 keep-alive connections in threads).
4. Transports: one local server in this process, reached by a Sender over its loopback socket
   (`HTTPTransport`) and in process (`ASGITransport`, no socket), runs alternated
   (`--transports-only` runs this part alone).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KEY = "bench-key-0123456789"
HERE = Path(__file__).resolve()


# -- servers in their own processes ----------------------------------------------------
def echo_server() -> None:
    """The same HTTP stack as the local server (uvicorn + httptools, the same hardened protocol and
    limits), with a bare ASGI app that reads the body and replies ok: no validation, no storage."""
    from adrop_kit.server.limits import HttpLimits
    from adrop_kit.server.stack import Runner, listen

    ok_start = {"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"16")]}
    ok_body = {"type": "http.response.body", "body": b'{"message":"ok"}'}

    async def echo(scope, receive, send):  # noqa: ANN001, ANN202
        if scope["type"] != "http":
            return
        while True:
            msg = await receive()
            if msg["type"] != "http.request" or not msg.get("more_body"):
                break
        await send(ok_start)
        await send(ok_body)

    sock = listen("127.0.0.1", 0, 1024)
    print(f"adrop-kit echo server on http://127.0.0.1:{sock.getsockname()[1]}/event", flush=True)
    Runner(echo, sock, HttpLimits()).run()


def start(kind: str, *extra: str) -> tuple[subprocess.Popen, str]:
    if kind == "echo":
        cmd = [sys.executable, str(HERE), "--echo-server"]
    else:
        cmd = [sys.executable, "-m", "adrop_kit", "serve", "--port", "0", "--app-key", KEY, *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    return proc, line.split(" on ")[1].split()[0]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


# -- clients ---------------------------------------------------------------------------------
def raw_loop(url: str, bodies: list[bytes], connections: int = 1) -> float:
    """Keep-alive http.client POSTs, `connections` threads; returns events/s."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    headers = {"Authorization": KEY, "Content-Type": "application/json"}
    chunks = [bodies[i::connections] for i in range(connections)]

    def run(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection(host, int(port))
        for b in chunk:
            conn.request("POST", "/event", b, headers)
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
        conn.close()

    t = time.perf_counter()
    threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return len(bodies) / (time.perf_counter() - t)


def sender_rate(url: str, payloads: list[dict], concurrency: int, journal: bool = True) -> tuple[float, object]:
    from adrop_kit.send.sender import Sender

    with tempfile.TemporaryDirectory() as d:
        jpath = Path(d) / "bench.journal" if journal else False
        with Sender(KEY, endpoint=url, concurrency=concurrency, journal=jpath, progress=False) as s:
            report = s.send_all(payloads)
    assert report.delivered == len(payloads), report
    return report.events_per_s, report


def transports(payloads: list[dict], repeats: int, concurrency: int = 4) -> None:
    """4. The same server, the same Sender settings (no journal), two transports; runs alternated.
    Events/s, and CPU time per event of this process (client and server both live in it), which a
    loaded machine disturbs less than wall time."""
    from adrop_kit.send.sender import Sender
    from adrop_kit.testing.local import local_server, local_transport

    runs: dict[str, list[float]] = {"socket": [], "in process": []}
    cpu: dict[str, list[float]] = {"socket": [], "in process": []}
    with local_server(socket=True) as srv:
        def once(kind: str) -> float:
            srv.reset()
            way = {"endpoint": srv.endpoint} if kind == "socket" else {"transport": local_transport(srv)}
            c = time.process_time()
            with Sender(srv.app_key, concurrency=concurrency, progress=False, journal=False, **way) as s:
                report = s.send_all(payloads)
            cpu[kind].append((time.process_time() - c) / len(payloads) * 1e6)
            assert report.delivered == len(payloads) == srv.stats()["good"], report
            return report.events_per_s

        once("socket"), once("in process")  # warm-up
        for v in cpu.values():
            v.clear()
        for r in range(repeats):
            for kind in ("socket", "in process") if r % 2 == 0 else ("in process", "socket"):
                runs[kind].append(once(kind))
    med = {k: statistics.median(v) for k, v in runs.items()}
    us = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"4. transports: one local server in this process, Sender concurrency {concurrency}, no journal")
    print("                                                          events/s   CPU µs/event (client + server)")
    print(f"   over its loopback socket (HTTPTransport, baseline)  {med['socket']:10,.0f}   {us['socket']:8,.0f}   "
          f"runs {', '.join(f'{v:,.0f}' for v in runs['socket'])}")
    print(f"   in process (ASGITransport, no socket)               {med['in process']:10,.0f}   "
          f"{us['in process']:8,.0f}   {med['in process'] / med['socket']:.2f}x the events/s, "
          f"{us['in process'] / us['socket']:.2f}x the CPU; runs {', '.join(f'{v:,.0f}' for v in runs['in process'])}")


def median_of(fn, repeats: int) -> float:  # noqa: ANN001
    return statistics.median(fn() for _ in range(repeats))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--transports-only", action="store_true", help="run part 4 alone")
    args = ap.parse_args()
    if args.echo_server:
        return echo_server()

    from adrop_kit.explore.synth import sample_events

    payloads = [p for p in sample_events(args.events * 2, seed=5, error_rate=0.0, warning_rate=0.0)][: args.events]
    bodies = [json.dumps(p).encode() for p in payloads]
    if args.transports_only:
        print(f"{len(payloads):,} events per run, median of {args.repeats}\n")
        return transports(payloads, args.repeats)
    print(f"{len(payloads):,} events per run, median of {args.repeats}; servers in their own processes\n")

    # 1. CPU cost
    proc, url = start("local")
    try:
        raw = median_of(lambda: raw_loop(url, bodies), args.repeats)
        ours = {c: median_of(lambda c=c: sender_rate(url, payloads, c)[0], args.repeats) for c in (1, 4)}
        nojournal = median_of(lambda: sender_rate(url, payloads, 4, journal=False)[0], args.repeats)
    finally:
        stop(proc)
    best = max(ours.values())
    print("1. client cost on loopback (local server)                 events/s")
    print(f"   raw http.client keep-alive loop (baseline)          {raw:10,.0f}")
    for c, v in ours.items():
        print(f"   Sender, journal + retries on, concurrency {c}         {v:10,.0f}   {v / raw:.2f}x raw")
    print(f"   Sender, no journal, concurrency 4                    {nojournal:10,.0f}   {nojournal / raw:.2f}x raw")
    print(f"   target >= 0.85x raw at concurrency 4 (journal + retries on): "
          f"{'met' if ours[4] >= 0.85 * raw else 'NOT met'} ({ours[4] / raw:.2f}x)\n")

    # 2. latency hiding
    proc, url = start("local", "--latency", "100")
    try:
        n = min(len(payloads), 1920)
        lat = median_of(lambda: sender_rate(url, payloads[:n], 64)[0], args.repeats)
    finally:
        stop(proc)
    ideal = min(640.0, best)
    print("2. latency hiding: 100 ms per reply, 64 in flight")
    print(f"   Sender {lat:,.0f} events/s of an ideal {ideal:,.0f}: {lat / ideal:.0%} "
          f"(target >= 90%: {'met' if lat >= 0.9 * ideal else 'NOT met'})\n")

    # 3. server capacity: both servers up at once, their runs alternated, so both see the same load
    servers = {kind: start(kind) for kind in ("echo", "local")}
    runs: dict[str, list[float]] = {kind: [] for kind in servers}
    try:
        for _, url in servers.values():
            raw_loop(url, bodies[:200], connections=4)  # warm-up
        for r in range(args.repeats):
            for kind in ("echo", "local") if r % 2 == 0 else ("local", "echo"):
                runs[kind].append(raw_loop(servers[kind][1], bodies, connections=4))
    finally:
        for proc, _ in servers.values():
            stop(proc)
    results = {kind: statistics.median(v) for kind, v in runs.items()}
    ratio = results["local"] / results["echo"]
    print("3. server capacity, 4 keep-alive client connections             events/s")
    print(f"   bare echo ASGI app, same uvicorn stack (baseline)   {results['echo']:10,.0f}")
    print(f"   local server: validation + SQLite storage            {results['local']:10,.0f}   {ratio:.2f}x echo")
    print(f"   target >= 0.7x echo: {'met' if ratio >= 0.7 else 'NOT met'}\n")

    transports(payloads, args.repeats)


if __name__ == "__main__":
    main()
