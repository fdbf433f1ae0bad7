"""Acknowledged means stored: the server replies only once an event is committed (group commit),
answers 503 and stores nothing when it cannot commit (full disk, read-only file), so a retried event
is stored once; `adrop-kit serve` stopped by SIGTERM or SIGINT finishes in-flight requests and loses
nothing it acknowledged, and even SIGKILL right after the acknowledgements loses nothing."""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from adrop_kit.send.sender import Sender
from adrop_kit.server import LocalServer

KEY = "durability-key-0123456789"
HEADERS = {"Authorization": KEY, "Content-Type": "application/json"}


def event(i: int, pad: int = 0) -> bytes:
    return b'{"uid":"u%d","eventName":"page_view","page_id":"p%s"}' % (i, b"x" * pad)


def in_flight(port: int, n: int) -> tuple[list[threading.Thread], list[int]]:
    """`n` events posted side by side, returned once the server holds them all (a server with a latency
    of 1.5 s): the threads, and the statuses they append. Each request is first on the wire (threads
    start late on a loaded machine), then 0.3 s is left for the server to read them."""
    results: list[int] = []
    sent = threading.Semaphore(0)

    def send(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/event", event(i), HEADERS)
        sent.release()
        resp = conn.getresponse()
        resp.read()
        conn.close()
        results.append(resp.status)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for _ in threads:
        assert sent.acquire(timeout=30)
    time.sleep(0.3)
    return threads, results


def post(port: int, body: bytes, conn: http.client.HTTPConnection | None = None) -> int:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/event", body, HEADERS)
    resp = conn.getresponse()
    resp.read()
    if own:
        conn.close()
    return resp.status


def count_rows(db) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT COUNT(*) FROM events").fetchone()[0]


# -- in process ----------------------------------------------------------------------------------
def test_every_acknowledged_event_is_readable_at_once(tmp_path):
    with LocalServer(app_keys=[KEY], db=str(tmp_path / "e.db")) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        for i in range(50):
            assert post(srv.port, event(i), conn) == 200
            assert srv.stats()["good"] == i + 1  # no flush interval: committed before the ack
            assert count_rows(tmp_path / "e.db") == i + 1  # and visible to another connection
        conn.close()


def test_concurrent_requests_are_committed_in_groups(tmp_path):
    with LocalServer(app_keys=[KEY], db=str(tmp_path / "e.db")) as srv:
        def client(k: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            for i in range(100):
                assert post(srv.port, event(k * 1000 + i), conn) == 200
            conn.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert srv.stats()["good"] == 800 == count_rows(tmp_path / "e.db")
        assert srv.writer.rows == 800 and srv.writer.failed == 0
        assert srv.writer.batches < 800  # concurrent requests shared commits


def _fill_up(srv: LocalServer) -> None:
    """Simulate a full disk: the database may not grow by one more page."""
    with srv.store._lock:
        pages = srv.store._db.execute("PRAGMA page_count").fetchone()[0]
        srv.store._db.execute(f"PRAGMA max_page_count = {pages}")


def _free_up(srv: LocalServer) -> None:
    with srv.store._lock:
        srv.store._db.execute("PRAGMA max_page_count = 1073741823")


@pytest.mark.parametrize("db", [":memory:", "file"])
def test_a_full_disk_answers_503_and_stores_nothing_so_a_retry_is_stored_once(tmp_path, db):
    with LocalServer(app_keys=[KEY], db=str(tmp_path / "e.db") if db == "file" else db) as srv:
        assert post(srv.port, event(0)) == 200
        _fill_up(srv)
        bodies = [event(i, pad=6000) for i in range(1, 41)]  # each needs new (overflow) pages
        statuses: list[int] = []

        def client(chunk: list[bytes]) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            statuses.extend(post(srv.port, b, conn) for b in chunk)
            conn.close()

        threads = [threading.Thread(target=client, args=(bodies[k::4],)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [503] * 40
        assert srv.stats() == {"total": 1, "good": 1, "bad": 0}  # no batch left a row behind
        _free_up(srv)
        assert [post(srv.port, b) for b in bodies] == [200] * 40  # the retries
        assert srv.stats()["good"] == 41  # each event stored exactly once


def test_a_sender_retries_through_a_full_disk_and_each_event_is_stored_once():
    with LocalServer(app_keys=[KEY]) as srv:
        _fill_up(srv)

        def free_up_after_some_failures() -> None:
            while srv.writer.failed < 8:  # the first eight commits fail: 503s the sender retries
                time.sleep(0.005)
            _free_up(srv)

        threading.Thread(target=free_up_after_some_failures, daemon=True).start()
        rows = [{"uid": f"u{i}", "eventName": "page_view", "page_id": "p" * 6000} for i in range(200)]
        with Sender(KEY, endpoint=srv.endpoint, concurrency=4, progress=False) as sender:
            report = sender.send_all(rows)
        assert report.delivered == 200 and report.retries >= 8
        assert srv.stats()["good"] == 200
        assert len({e["uid_sha256"] for e in srv.events("good", limit=1000)}) == 200


def test_a_read_only_database_answers_503(tmp_path):
    with LocalServer(app_keys=[KEY], db=str(tmp_path / "e.db")) as srv:
        with srv.store._lock:
            srv.store._db.execute("PRAGMA query_only = ON")
        assert post(srv.port, event(1)) == 503
        with srv.store._lock:
            srv.store._db.execute("PRAGMA query_only = OFF")
        assert post(srv.port, event(1)) == 200
        assert srv.stats()["total"] == 1


def test_close_lets_in_flight_requests_finish_first(tmp_path):
    from adrop_kit.server import Faults

    srv = LocalServer(app_keys=[KEY], db=str(tmp_path / "e.db"), faults=Faults(latency_ms=1500)).start()
    threads, results = in_flight(srv.port, 6)
    srv.close()  # while all six are waiting out their latency
    for t in threads:
        t.join()
    assert results == [200] * 6
    assert count_rows(tmp_path / "e.db") == 6


# -- adrop-kit serve in a subprocess --------------------------------------------------------------
def _serve(db) -> tuple[subprocess.Popen, int, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "adrop_kit", "serve", "--port", "0", "--app-key", KEY,
                             "--db", str(db), *([])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines = [proc.stdout.readline() for _ in range(3)]
    port = int(lines[0].split(" on ")[1].split()[0].rsplit(":", 1)[1].split("/")[0])
    return proc, port, lines


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stopped_by_a_signal_keeps_every_acknowledged_event(tmp_path, sig):
    db = tmp_path / "e.db"
    proc, port, lines = _serve(db)
    try:
        assert "admin token" in lines[2]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        acked = sum(post(port, event(i), conn) == 200 for i in range(200))
        proc.send_signal(sig)  # at once, with the connection still open
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert acked == 200 and count_rows(db) == 200


@pytest.mark.slow
def test_serve_stopped_by_sigterm_finishes_in_flight_requests(tmp_path):
    db = tmp_path / "e.db"
    proc = subprocess.Popen([sys.executable, "-m", "adrop_kit", "serve", "--port", "0", "--app-key", KEY,
                             "--db", str(db), "--latency", "1500"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        port = int(proc.stdout.readline().split(" on ")[1].split()[0].rsplit(":", 1)[1].split("/")[0])
        threads, results = in_flight(port, 8)
        proc.send_signal(signal.SIGTERM)  # while all eight are waiting out their latency
        for t in threads:
            t.join()
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert results == [200] * 8 and count_rows(db) == 8
    with pytest.raises(OSError):  # and it no longer accepts
        post(port, event(99))


@pytest.mark.slow
def test_serve_killed_right_after_the_acks_loses_nothing(tmp_path):
    db = tmp_path / "e.db"
    proc, port, _ = _serve(db)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        acked = sum(post(port, event(i), conn) == 200 for i in range(300))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert acked == 300 and count_rows(db) == 300
