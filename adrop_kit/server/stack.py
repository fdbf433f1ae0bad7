"""The HTTP stack: uvicorn on httptools (h11 when httptools is missing), hardened where uvicorn is not.

The parser does the framing, strictly (llhttp refuses duplicate Content-Length, Content-Length with
Transfer-Encoding, any coding but `chunked`, signed or `0x` chunk sizes, bare LF, obs-fold). What
uvicorn leaves open is closed here, per connection and with no thread per client:

- a deadline per request: from its first byte (or from the connect) to its last, `read_timeout`
  seconds, then 408 and close (uvicorn has no header timeout and none on a body in flight);
- a cap on the request head (`max_head_bytes`, 431 and close; llhttp has no limit of its own);
- a reply's head and body in one write (uvicorn makes two: two syscalls, two TCP segments);
- `scope["adrop.abort"]`, for the drop fault: close without a reply;
- quiet logs unless verbose, no access log, no `Server`/`Date` headers.

`Runner` serves an ASGI app on a bound socket, in this thread (SIGINT/SIGTERM stop it gracefully:
stop accepting, finish in-flight requests) or on the server's background loop (`loop.ServerLoop`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
import time
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from adrop_kit.server.limits import HttpLimits

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 is the fallback
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

_IDLE, _HEAD, _BODY = 0, 1, 2
_LOUD = logging.getLogger("adrop_kit.server.http")
_QUIET = logging.getLogger("adrop_kit.server.http.quiet")  # parser warnings dropped, errors kept
_QUIET.setLevel(logging.ERROR)
_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}
_MESSAGES = {408: b'{"message":"!timeout"}', 431: b'{"message":"!headers_too_large"}'}


def _raw_reply(status: int) -> bytes:
    body = _MESSAGES[status]
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % (status, _REASONS[status], len(body))) + body


class _Corked:
    """The connection's transport, holding a response head until its body is written: one send()
    per reply instead of two (uvicorn writes them apart; each is a syscall and a TCP segment)."""

    __slots__ = ("_t", "_held")

    def __init__(self, transport: asyncio.Transport):
        self._t = transport
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._held is not None:
            data, self._held = self._held + data, None
        elif data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 1"):  # 1xx goes out at once
            self._held = data
            return
        self._t.write(data)

    def flush(self) -> None:
        if self._held is not None:
            data, self._held = self._held, None
            self._t.write(data)

    def close(self) -> None:
        if not self._t.is_closing():
            self.flush()
        self._held = None
        self._t.close()

    def abort(self) -> None:
        self._held = None
        self._t.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._t, name)


class _Guard:
    """The deadline, head cap, abort hook and corked writes shared by both protocol classes."""

    limits: HttpLimits
    verbose: bool
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any

    def _guard_init(self) -> None:
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self.access_log = False  # the app logs requests itself when verbose
        self.logger = _LOUD if self.verbose else _QUIET

    def _in_body(self) -> bool:
        raise NotImplementedError

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.limits.read_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        self._refuse(408)

    def _refuse(self, status: int) -> None:
        """Reply `status` and close; only close when that reply could be taken for another one's (a
        response under way, or an earlier pipelined request still unanswered)."""
        if self.transport.is_closing():
            return
        cycle = self.cycle  # the request being read when in its body, else the one before it
        reply = True
        if cycle is not None and not cycle.response_complete:
            reply = self._in_body() and not cycle.response_started
            cycle.disconnected = True  # the app's receive() now returns http.disconnect; its send() is dropped
            cycle.message_event.set()
        if reply:
            self.transport.write(_raw_reply(status))
        self.transport.close()

    def _abort(self) -> None:
        """Close the connection without a reply (the drop fault)."""
        if self.cycle is not None:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()


if HttpToolsProtocol is not None:
    class _HttpTools(_Guard, HttpToolsProtocol):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._phase = _IDLE
            self._guard_init()

        def _in_body(self) -> bool:
            return self._phase == _BODY

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_Corked(transport))  # type: ignore[arg-type]
            self._arm()  # a client that connects and says nothing is cut off too

        def on_response_complete(self) -> None:
            self.transport.flush()  # type: ignore[attr-defined]  # a HEAD reply or a 204 has no body write
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._phase != _BODY:
                self._head_bytes += len(data)
                self._arm()
            super().data_received(data)
            if self._phase != _BODY and self._head_bytes > self.limits.max_head_bytes:
                self._refuse(431)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._phase = _HEAD
            self._arm()
            self.scope["adrop.abort"] = self._abort  # type: ignore[typeddict-unknown-key]

        def on_headers_complete(self) -> None:
            self._phase = _BODY
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._phase = _IDLE
            self._head_bytes = 0
            self._disarm()


class _H11(_Guard, H11Protocol):
    """The fallback: h11 caps the head itself (`h11_max_incomplete_event_size`, then 400)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard_init()

    def _in_body(self) -> bool:
        return self.conn.their_state is h11.SEND_BODY

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_Corked(transport))  # type: ignore[arg-type]
        self._arm()

    def on_response_complete(self) -> None:
        self.transport.flush()  # type: ignore[attr-defined]
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self._arm()
        else:
            self._disarm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.scope is not None:
            self.scope.setdefault("adrop.abort", self._abort)  # type: ignore[typeddict-item]


def protocol_class(http: str, limits: HttpLimits, verbose: bool) -> type[asyncio.Protocol]:
    """The hardened protocol: `http` is "auto" (httptools, else h11), "httptools" or "h11"."""
    if http not in ("auto", "httptools", "h11"):
        raise ValueError(f"http must be auto, httptools or h11, not {http!r}")
    if http == "httptools" and HttpToolsProtocol is None:
        raise ValueError("httptools is not installed")
    base = _H11 if http == "h11" or HttpToolsProtocol is None else _HttpTools
    return type(f"Adrop{base.__name__[1:]}", (base,), {"limits": limits, "verbose": verbose})


def make_config(app: Any, limits: HttpLimits, *, verbose: bool = False, http: str = "auto") -> uvicorn.Config:
    return uvicorn.Config(
        app, http=protocol_class(http, limits, verbose), ws="none", lifespan="off", interface="asgi3",
        loop="asyncio", log_config=None, proxy_headers=False, server_header=False, date_header=False,
        limit_concurrency=limits.max_connections, backlog=limits.backlog,
        timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]  # a float works
        timeout_graceful_shutdown=limits.graceful_timeout,  # type: ignore[arg-type]
        h11_max_incomplete_event_size=limits.max_head_bytes)


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket (`OSError` if the address is taken or not ours)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: accepted sockets inherit it, and asyncio sets TCP_NODELAY only then
    # (header and body go out in two writes; with Nagle, each reply would wait ~40 ms for an ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class Runner:
    """uvicorn serving `app` on `sock`: `run()` here, or `start(loop)` on a background loop and `stop()` it."""

    def __init__(self, app: Any, sock: socket.socket, limits: HttpLimits, *, verbose: bool = False,
                 http: str = "auto"):
        self.sock = sock
        self.server = uvicorn.Server(make_config(app, limits, verbose=verbose, http=http))
        self._future: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """Serve until SIGINT/SIGTERM (main thread) or `stop()`; then stop accepting, finish what is in
        flight and return. A SIGINT still raises KeyboardInterrupt afterwards; a SIGTERM returns."""
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, self._sigterm) if in_main else None
        try:  # uvicorn catches SIGTERM, shuts down gracefully, then re-raises it: to the handler above
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()  # uvicorn's shutdown has closed it, unless it never started
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def _sigterm(self, *_: Any) -> None:
        """SIGTERM outside uvicorn's own handler (before it starts, or re-raised after a graceful
        shutdown): stop, and do not die before the store is flushed and closed."""
        self.server.should_exit = True

    async def _serve(self) -> None:
        try:
            await self.server.serve(sockets=[self.sock])
        except BaseException as exc:  # noqa: BLE001 - reported by start(); SystemExit would stop the loop
            self.error = exc
        finally:
            self.sock.close()

    def start(self, loop: Any, timeout: float = 10.0) -> None:
        """Serve on `loop` (a `ServerLoop`, the server's one loop) until `stop()`."""
        self._future = loop.submit(self._serve())
        end = time.monotonic() + timeout
        while not self.server.started:
            if self._future.done() or time.monotonic() > end:
                raise RuntimeError(f"the local server did not start: {self.error or 'timed out'}")
            time.sleep(0.002)

    def stop(self, timeout: float | None = None) -> None:
        """Stop accepting, let in-flight requests finish (up to the graceful timeout), return."""
        self.server.should_exit = True
        if self._future is not None:
            try:
                self._future.result(timeout)
            except BaseException:  # noqa: BLE001 - stopping: a timeout or a cancelled serve is final anyway
                pass
            self._future = None
