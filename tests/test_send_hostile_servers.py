"""The sender against hostile servers (issue 9): a reply dribbled a byte at a time must not hold a
request past `RetryPolicy.timeout`, and a huge reply body must not be read into memory.

The servers are tiny raw sockets on 127.0.0.1, written here: each reads one request and then
does what its `reply` function says, byte by byte if it likes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
from conftest import KEY, app_opens, write_jsonl

from adrop_kit import RetryPolicy
from adrop_kit.cli import main
from adrop_kit.send.deadline import MAX_REPLY_BYTES
from adrop_kit.send.sender import Sender

Reply = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """Accepts connections on 127.0.0.1; for each request calls `reply(conn, stop)`, then closes."""

    def __init__(self, reply: Reply):
        self.reply = reply
        self.requests = 0
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.sock.getsockname()[1]}/event"
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> RawServer:
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(timeout=5)
            assert not t.is_alive(), "a test server thread is stuck"
        self.sock.close()

    def _accept(self) -> None:
        self.sock.settimeout(0.05)  # a closed listening socket does not wake a blocked accept()
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self.requests += 1
                self.reply(conn, self.stop)
            except OSError:
                pass  # the client gave up on us: that is the point


DRIBBLE_FOR = 30.0
"""How long a dribbling server keeps a reply going (a client without a deadline gives up only then):
far over every bound below, which are generous for a loaded 2-core machine."""


def dribble(head: bytes, every: float = 0.5) -> Reply:
    """Send `head`, then one byte every `every` seconds, for DRIBBLE_FOR seconds (or until the client leaves)."""

    def reply(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        end = time.monotonic() + DRIBBLE_FOR
        while not stop.wait(every) and time.monotonic() < end:
            conn.sendall(b"x")

    return reply


STATUS_ONLY = b"HTTP/1.1 200 OK\r\n"
HEADERS_THEN_BODY = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mess'


@pytest.mark.parametrize("transport", ["http.client", "requests"])
def test_a_dribbling_server_cannot_stretch_a_request_past_its_timeout(transport):
    with RawServer(dribble(STATUS_ONLY)) as srv:
        start = time.monotonic()
        with Sender(KEY, endpoint=srv.endpoint, transport=transport,
                    retry=RetryPolicy(timeout=1, retries=1)) as s:
            result = s.send({"uid": "u", "eventName": "app_open"})
        elapsed = time.monotonic() - start
    assert result.outcome == "failed" and result.attempts == 2 and srv.requests == 2
    assert "timed out" in result.error and result.status is None
    assert 1.9 <= elapsed < 12, elapsed  # two attempts of 1 s each and a short back-off, not DRIBBLE_FOR


@pytest.mark.parametrize("transport", ["http.client", "requests"])
def test_a_body_dribbled_after_the_headers_is_bounded_too(transport):
    with RawServer(dribble(HEADERS_THEN_BODY, every=0.2)) as srv:
        start = time.monotonic()
        with Sender(KEY, endpoint=srv.endpoint, transport=transport,
                    retry=RetryPolicy(timeout=1, retries=0)) as s:
            report = s.send_all(app_opens(2))
        elapsed = time.monotonic() - start
    assert report.failed == 2 and all("timed out" in o.error for o in report.problems())
    assert elapsed < 12, elapsed  # two events of 1 s each (side by side on an idle machine), not DRIBBLE_FOR


def test_the_cli_send_with_timeout_ends_against_a_dribbling_server(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(1))
    with RawServer(dribble(STATUS_ONLY)) as srv:
        start = time.monotonic()
        code = main(["send", str(data), "--endpoint", srv.endpoint, "--timeout", "1", "--retries", "1",
                     "--no-progress"])
        elapsed = time.monotonic() - start
    assert code == 3 and 1.9 <= elapsed < 12, (code, elapsed)  # two attempts of 1 s each, not DRIBBLE_FOR
    assert "timed out" in capsys.readouterr().out


# -- huge replies ---------------------------------------------------------------------------

HUGE = 200 * 1024 * 1024


def huge(status: bytes, framing: str, sent: list[int] | None = None) -> Reply:
    """A `status` reply whose body is 200 MB, framed by Content-Length, as one chunk, or until close;
    the bytes of body the client let through are added to `sent`."""
    heads = {"length": f"Content-Length: {HUGE}\r\n".encode(), "chunked": b"Transfer-Encoding: chunked\r\n",
             "close": b"Connection: close\r\n"}
    block = b"0" * 65536

    def reply(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + heads[framing] + b"\r\n")
        if framing == "chunked":
            conn.sendall(f"{HUGE:x}\r\n".encode())
        for _ in range(HUGE // len(block)):
            if stop.is_set():
                return
            conn.sendall(block)
            if sent is not None:
                sent.append(len(block))

    return reply


def _rss_peak_reset() -> bool:
    """Reset this process's peak RSS (VmHWM) so the next reading covers only what follows (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _vm(field: str) -> int:
    """A /proc/self/status memory field, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


@pytest.mark.parametrize("transport", ["http.client", "requests"])
@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_a_huge_200_reply_is_not_read_and_is_an_unexpected_reply(framing, transport):
    if not _rss_peak_reset():
        pytest.skip("needs Linux /proc/self/clear_refs to measure the peak memory of one send")
    sent: list[int] = []
    with RawServer(huge(b"200 OK", framing, sent)) as srv:
        before = _vm("VmRSS")
        _rss_peak_reset()
        start = time.monotonic()
        with Sender(KEY, endpoint=srv.endpoint, transport=transport, retry=RetryPolicy(timeout=10)) as s:
            result = s.send({"uid": "u", "eventName": "app_open"})
        elapsed = time.monotonic() - start
        growth_mib = (_vm("VmHWM") - before) / 1024
    assert growth_mib < 40, f"reading the reply grew RSS by {growth_mib:.0f} MiB"
    assert sum(sent) < HUGE // 8, sum(sent)  # the sender hung up: the rest was never sent (socket buffers aside)
    assert elapsed < 10, elapsed  # its timeout: the reply was never waited out
    assert result.outcome == "failed" and result.status == 200 and result.attempts == 1  # fatal: not retried
    assert f"over {MAX_REPLY_BYTES // 1024} KiB" in result.error


@pytest.mark.parametrize("transport", ["http.client", "requests"])
def test_a_huge_5xx_reply_stays_retryable_and_its_connection_is_dropped(transport):
    with RawServer(huge(b"503 Service Unavailable", "length")) as srv:
        with Sender(KEY, endpoint=srv.endpoint, transport=transport,
                    retry=RetryPolicy(retries=2, backoff=0.01, timeout=5)) as s:
            result = s.send({"uid": "u", "eventName": "app_open"})
    assert result.outcome == "failed" and result.status == 503 and result.attempts == 3
    assert srv.requests == 3  # the sender hung up on each cut-short reply (else the server would be stuck
    #                           sending it: RawServer's exit checks no thread is)
