"""`ASGITransport`: requests handled by an ASGI app in this process, no socket (as httpx's).

    transport = ASGITransport(app, loop=loop, endpoint="http://localhost/event")
    Sender(key, transport=transport)   # requests go to the app, on its loop (running in another thread)

The app runs on its event loop: given one (`loop=`, running in another thread: the local
server's), or a loop of the transport's own, started on first use in a daemon thread and
stopped by `close()` (a `Sender` closes its transport after each batch, so an app that keeps
state on its loop, as the local server's group commit does, should be given its loop).

Each `handle()` builds an HTTP scope from the `Request`, passes the body in one `http.request`
message, and waits for the response, at most `Request.timeout` seconds; the caller's thread
blocks meanwhile, so many threads may share one transport.

An app that returns without starting a response is a connection closed without a reply
(`ConnectionError`), as over a socket; an app that raises propagates (`raise_app_exceptions`,
as httpx) or becomes a 500. The transport knows nothing of the local server: any ASGI 3 app.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from adrop_kit.send.deadline import MAX_REPLY_BYTES
from adrop_kit.send.transport import Request, Response

ASGIApp = Callable[[dict[str, Any], Any, Any], Any]


class _NoReply(Exception):
    """The app returned without starting a response."""


class ASGITransport:
    """Handles each `Request` by calling `app(scope, receive, send)` on an event loop (see the module)."""

    in_process = True
    """The app lives in this process, and its state with it: a `Sender`'s default journal for it is
    in memory, for the Sender's lifetime (a file kept across sessions would outlive what it describes)."""

    def __init__(self, app: ASGIApp, *, loop: asyncio.AbstractEventLoop | None = None, endpoint: str | None = None,
                 client: tuple[str, int] = ("127.0.0.1", 0), raise_app_exceptions: bool = True):
        self.app = app
        self.endpoint = endpoint
        """Where requests say they go; a `Sender` given no endpoint uses it (the app sees its path and host)."""
        self.client = client
        self.raise_app_exceptions = raise_app_exceptions
        self._loop = loop
        self._own: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is not None:
            return self._loop
        with self._lock:
            if self._own is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="adrop-asgi-transport", daemon=True)
                thread.start()
                self._own = (loop, thread)
            return self._own[0]

    def handle(self, request: Request) -> Response:
        loop = self._running_loop()
        if loop.is_closed():
            raise ConnectionRefusedError("the app's event loop is closed (is the server running?)")
        future = asyncio.run_coroutine_threadsafe(self._call(request), loop)
        try:
            return future.result(request.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"timed out waiting for the server (no complete reply within "
                               f"{request.timeout:g} s)") from None
        except concurrent.futures.CancelledError:
            raise ConnectionResetError("the server stopped before replying") from None
        except _NoReply:
            raise ConnectionError("the server closed the connection without replying") from None

    async def _call(self, request: Request) -> Response:
        ep = request.endpoint
        path, _, query = ep.path.partition("?")
        host = ep.host if ep.port == (443 if ep.scheme == "https" else 80) else f"{ep.host}:{ep.port}"
        headers = [(b"host", host.encode("latin-1"))]
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()
                    if k.lower() not in ("host", "content-length")]
        headers.append((b"content-length", b"%d" % len(request.body)))
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                 "method": "POST", "scheme": ep.scheme, "path": path, "raw_path": path.encode("latin-1"),
                 "query_string": query.encode("latin-1"), "root_path": "", "headers": headers,
                 "client": self.client, "server": (ep.host, ep.port)}
        sent_body = False
        replied = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await replied.wait()
            return {"type": "http.disconnect"}

        status: int | None = None
        reply_headers: list[tuple[bytes, bytes]] = []
        body = bytearray()
        over = False

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, reply_headers, over
            if message["type"] == "http.response.start":
                status, reply_headers = message["status"], list(message.get("headers", ()))
            elif message["type"] == "http.response.body" and status is not None and not over:
                body.extend(message.get("body", b""))
                over = len(body) > MAX_REPLY_BYTES
                if not message.get("more_body", False):
                    replied.set()

        try:
            await self.app(scope, receive, send)
        except Exception:
            if self.raise_app_exceptions or status is not None:
                raise
            return Response(500, b'{"message":"!internal_error"}')
        finally:
            replied.set()
        if status is None:
            raise _NoReply
        found = {k.lower(): v.decode("latin-1") for k, v in reply_headers if k.lower() in (b"retry-after", b"location")}
        return Response(status, None if over else bytes(body), found.get(b"retry-after"), found.get(b"location"))

    def close(self) -> None:
        """Stop the transport's own loop, if it started one (a loop given to it is its owner's)."""
        with self._lock:
            own, self._own = self._own, None
        if own is not None:
            loop, thread = own
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            if not thread.is_alive():
                loop.close()

    def __repr__(self) -> str:
        return f"ASGITransport({getattr(self.app, '__qualname__', type(self.app).__qualname__)})"


__all__ = ["ASGITransport"]
