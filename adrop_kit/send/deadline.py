"""A total deadline for one HTTP request, and a cap on how much of a reply is read.

`RetryPolicy.timeout` bounds the whole request: connect, TLS, send, and every read of the
status line, the headers and the body. A socket timeout alone bounds each read, so a server
that dribbles one byte a second would hold a request forever. Here every read sets the
socket's timeout to the time left before the deadline, and a read that starts after it
raises `TimeoutError` at once.

Both transports read replies through `deadline_response_class(deadline)`, an `http.client`
response whose socket reads obey the deadline: `HTTPTransport` on its own connection
class, `RequestsTransport` through urllib3 connection classes mounted by `deadline_adapter`
(urllib3's connections are `http.client` connections, so the same response class applies).
`deadline` is a callable returning the current request's deadline on `time.monotonic()`'s
clock; each connection (one per thread) serves one request at a time, so it holds its own.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

Deadline = Callable[[], float]

MAX_REPLY_BYTES = 64 * 1024
"""The most of a reply body that is read (Adrop's reply is `{"message":"ok"}`)."""


def time_left(deadline: Deadline) -> float:
    """Seconds left before the deadline; `TimeoutError` when none are."""
    left = deadline() - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


class _DeadlineReader(io.RawIOBase):
    """A socket's reading side where each read may take only the time left before the deadline."""

    def __init__(self, sock: Any, deadline: Deadline):
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)  # holds a reference: the socket stays open while we read
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int | None:
        self._sock.settimeout(time_left(self._deadline))
        return self._raw.readinto(b)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _DeadlineSocket:
    """What `http.client.HTTPResponse` needs of a socket (`makefile`), reading under the deadline."""

    def __init__(self, sock: Any, deadline: Deadline):
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


def deadline_response_class(deadline: Deadline) -> Callable[..., http.client.HTTPResponse]:
    """A `response_class` for an `http.client` connection: the reply is read under `deadline`."""

    def response(sock: Any, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:
        return http.client.HTTPResponse(_DeadlineSocket(sock, deadline), *args, **kwargs)  # type: ignore[arg-type]

    return response


class DeadlineConnection(http.client.HTTPConnection):
    """An `http.client` connection (plain or TLS) on which each request obeys a total deadline."""

    def __init__(self, host: str, port: int, deadline: Deadline, tls: ssl.SSLContext | None = None):
        super().__init__(host, port)
        self.default_port = 443 if tls is not None else 80  # the Host header omits the scheme's port
        self._tls = tls
        self._deadline = deadline
        self.response_class = deadline_response_class(deadline)  # type: ignore[assignment]

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), time_left(self._deadline))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock.settimeout(time_left(self._deadline))  # the whole handshake, not each step of it
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def send(self, data: Any) -> None:
        if self.sock is not None:
            self.sock.settimeout(time_left(self._deadline))  # sendall: one timeout for all of it
        super().send(data)


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def read_capped(resp: http.client.HTTPResponse) -> bytes | None:
    """The reply body, or None when it is over `MAX_REPLY_BYTES` (then it is not read further)."""
    if resp.length is not None and resp.length > MAX_REPLY_BYTES:
        return None
    data = resp.read(MAX_REPLY_BYTES + 1)
    return None if len(data) > MAX_REPLY_BYTES else data


def deadline_adapter(deadline: Deadline) -> Any:
    """A `requests` adapter whose urllib3 connections read replies under `deadline`."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.poolmanager import PoolManager, ProxyManager

    response_class = staticmethod(deadline_response_class(deadline))

    def connect(base: type) -> Callable[[Any], None]:
        def _connect(self: Any) -> None:
            self.timeout = time_left(deadline)  # the time left, for the TCP connect and the TLS handshake
            base.connect(self)
        return _connect

    conn = type("DeadlineHTTPConnection", (HTTPConnection,),
                {"response_class": response_class, "connect": connect(HTTPConnection)})
    tls_conn = type("DeadlineHTTPSConnection", (HTTPSConnection,),
                    {"response_class": response_class, "connect": connect(HTTPSConnection)})
    pools = {"http": type("DeadlineHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": conn}),
             "https": type("DeadlineHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": tls_conn})}

    class DeadlineAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = dict(pools)

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> PoolManager:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if type(manager) is ProxyManager:  # not SOCKS: its pools carry their own connection classes
                manager.pool_classes_by_scheme = dict(pools)
            return manager

    return DeadlineAdapter()


__all__ = ["MAX_REPLY_BYTES", "DeadlineConnection", "deadline_adapter", "deadline_response_class", "read_capped",
           "time_left", "tls_context"]
