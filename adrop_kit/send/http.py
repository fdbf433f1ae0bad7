"""The HTTP transports: `HTTPTransport` (the default) and `RequestsTransport`.

`HTTPTransport` uses the standard library's `http.client` with one keep-alive connection per
thread (and endpoint): on 2 cores `requests` tops out near 500 events/s on loopback (its
per-call machinery, not the network, is the limit), `http.client` reaches several thousand.
`RequestsTransport` is there for proxies, custom CA bundles or auth adapters. `transport_for`
turns what `Sender(transport=...)` was given (an object, a shorthand name, None) into a transport.

Both are safe to share between threads (each thread gets its own connection or session), obey
a total deadline per request (`Request.timeout`: connect, send and every read of the reply; see
`deadline`) and read at most `MAX_REPLY_BYTES` of a reply body: a bigger body is not read on,
its connection is closed and the reply is judged by its status. No reply at all is an
`OSError` whose message never holds the key. Neither follows a redirect: a 3xx is returned as it
came, with its `Location`, and `transport.classify` makes it a fatal failure naming where it pointed
(`requests` would re-send a 307/308 body, key included, to any host, even over plain http://, and
turn a 301/302 POST into a GET whose 200 looked delivered).
"""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any

from adrop_kit.send.deadline import MAX_REPLY_BYTES, DeadlineConnection, deadline_adapter, read_capped, tls_context
from adrop_kit.send.transport import Request, Response, Transport, describe


class _PerThread:
    """One connection-like object per (thread, endpoint), all closed by `close()`; a thread asks
    only for its own, so no lock is held during a request."""

    def __init__(self) -> None:
        self._items: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Any) -> Any:
        key = (threading.get_ident(), *key)
        item = self._items.get(key)
        if item is None:
            item = make()
            with self._lock:
                self._items[key] = item
        return item

    def drop(self, key: tuple) -> None:
        with self._lock:
            item = self._items.pop((threading.get_ident(), *key), None)
        if item is not None:
            item.close()

    def __len__(self) -> int:
        return len(self._items)

    def close(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for item in items:
            item.close()


class _Clock:
    """The current request's deadline, one per connection (a connection serves one request at a time)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


class _Conn:
    __slots__ = ("conn", "clock")

    def __init__(self, conn: Any, clock: _Clock):
        self.conn, self.clock = conn, clock

    def close(self) -> None:
        self.conn.close()


class HTTPTransport:
    """`http.client`, one keep-alive connection per thread and endpoint (the default transport)."""

    def __init__(self) -> None:
        self._conns = _PerThread()
        self._tls: Any = None

    def _open(self, request: Request) -> _Conn:
        ep = request.endpoint
        tls = None
        if ep.scheme == "https":
            tls = self._tls = self._tls or tls_context()
        clock = _Clock()
        return _Conn(DeadlineConnection(ep.host, ep.port, clock, tls), clock)

    def handle(self, request: Request) -> Response:
        ep = request.endpoint
        where = (ep.scheme, ep.host, ep.port)
        c = self._conns.get(where, lambda: self._open(request))
        c.clock.at = time.monotonic() + request.timeout
        try:
            c.conn.request("POST", ep.path, body=request.body, headers=dict(request.headers))
            resp = c.conn.getresponse()
            data = read_capped(resp)
            if data is None or resp.will_close or not resp.isclosed():
                resp.close()
                self._conns.drop(where)
            return Response(resp.status, data, resp.getheader("Retry-After"), resp.getheader("Location"))
        except (OSError, http.client.HTTPException) as exc:
            self._conns.drop(where)
            raise _no_reply(exc, request.timeout, time.monotonic() >= c.clock.at) from None

    @property
    def connections(self) -> int:
        """Connections open now (one per thread and endpoint that has sent)."""
        return len(self._conns)

    def close(self) -> None:
        """Close every connection (they reopen on the next request)."""
        self._conns.close()

    def __repr__(self) -> str:
        return "HTTPTransport()"


class _Session:
    __slots__ = ("session", "clock")

    def __init__(self, session: Any, clock: _Clock):
        self.session, self.clock = session, clock

    def close(self) -> None:
        self.session.close()


class RequestsTransport:
    """The same contract over `requests` (a `Session` per thread: proxies from the environment, custom
    CA bundles through `REQUESTS_CA_BUNDLE`), with the same total deadline and reply cap."""

    def __init__(self) -> None:
        import requests  # fails here, at construction, when requests is missing
        import urllib3

        self._sessions = _PerThread()
        self._exc = (requests.RequestException, urllib3.exceptions.HTTPError, OSError, http.client.HTTPException)

    @staticmethod
    def _open() -> _Session:
        import requests

        clock = _Clock()
        session = requests.Session()
        adapter = deadline_adapter(clock)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return _Session(session, clock)

    def handle(self, request: Request) -> Response:
        s = self._sessions.get((), self._open)
        s.clock.at = time.monotonic() + request.timeout
        resp = None
        try:
            resp = s.session.post(request.url, data=request.body, headers=dict(request.headers),
                                  timeout=request.timeout, stream=True, allow_redirects=False)
            data = self._read(resp)
            return Response(resp.status_code, data, resp.headers.get("Retry-After"), resp.headers.get("Location"))
        except self._exc as exc:
            raise _no_reply(exc, request.timeout, time.monotonic() >= s.clock.at) from None
        finally:
            if resp is not None:
                resp.close()  # a body read to its end keeps the connection; one cut short closes it

    @staticmethod
    def _read(resp: Any) -> bytes | None:
        length = resp.headers.get("Content-Length", "")
        if length.strip().isdigit() and int(length) > MAX_REPLY_BYTES:
            return None
        data = bytearray()
        for chunk in resp.iter_content(16 * 1024):
            data += chunk
            if len(data) > MAX_REPLY_BYTES:
                return None
        return bytes(data)

    def close(self) -> None:
        self._sessions.close()

    def __repr__(self) -> str:
        return "RequestsTransport()"


def _no_reply(exc: BaseException, timeout: float, timed_out: bool) -> OSError:
    """The `OSError` a transport raises when no reply came: key-free, a timeout said as such."""
    if timed_out:
        return TimeoutError(f"timed out waiting for the server (no complete reply within {timeout:g} s)")
    if isinstance(exc, OSError):
        return exc
    return ConnectionError(describe(exc))


TRANSPORT_NAMES = ("http.client", "requests")
"""The shorthand names `Sender(transport=...)` also takes: each is one transport class."""


def transport_for(transport: Transport | str | None) -> Transport:
    """A transport object: None → `HTTPTransport()` (the measured default), "http.client" / "requests"
    → `HTTPTransport()` / `RequestsTransport()`, an object with `handle` and `close` → itself."""
    if transport is None or transport == "http.client":
        return HTTPTransport()
    if transport == "requests":
        return RequestsTransport()
    if isinstance(transport, str):
        raise ValueError(f"transport must be a transport object or one of {', '.join(TRANSPORT_NAMES)}, "
                         f"not {transport!r}")
    if not (callable(getattr(transport, "handle", None)) and callable(getattr(transport, "close", None))):
        raise TypeError(f"a transport needs handle(request) and close() methods; {type(transport).__name__} "
                        "has not")
    return transport


__all__ = ["TRANSPORT_NAMES", "HTTPTransport", "RequestsTransport", "transport_for"]
