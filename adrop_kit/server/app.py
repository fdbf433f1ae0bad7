"""The local Adrop-compatible server: real HTTP on loopback, the same rules as `validate_event`.

Replies (SPEC.md): 200 `{"message":"ok"}`, 400 `{"message":"!invalid"}`, 401 `!unauthorized`,
413 body over 64 KiB, 415 not JSON, 405 other methods, 404 other paths. `?explain=1` adds the
violations (body field and `X-Adrop-Kit-Violations` header); without it replies are Adrop's.
"""

from __future__ import annotations

import random
import secrets
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from adrop_kit.io.jsontext import parse_json_text
from adrop_kit.server.store import Store
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.validate.event import validate_event

MAX_BODY = 64 * 1024
OK = b'{"message":"ok"}'
INVALID = b'{"message":"!invalid"}'


@dataclass
class Faults:
    """Fault injection for testing senders; rates are probabilities per POST /event."""

    fail_rate: float = 0.0      # 503
    throttle_rate: float = 0.0  # 429 with Retry-After
    drop_rate: float = 0.0      # close the connection without a reply
    latency_ms: float = 0.0
    retry_after: float = 1.0
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not (self.latency_ms >= 0 and self.retry_after >= 0):  # also refuses NaN
            raise ValueError("latency and retry_after must be 0 or more")
        for name in ("fail_rate", "throttle_rate", "drop_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {v}")
        if self.fail_rate + self.throttle_rate + self.drop_rate > 1.0:
            raise ValueError("fail_rate + throttle_rate + drop_rate must not exceed 1")
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        if not (self.fail_rate or self.throttle_rate or self.drop_rate):
            return None
        with self._lock:
            x = self._rng.random()
        if x < self.drop_rate:
            return "drop"
        if x < self.drop_rate + self.fail_rate:
            return "fail"
        if x < self.drop_rate + self.fail_rate + self.throttle_rate:
            return "throttle"
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], app: LocalServer):
        self.app = app
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # never crash, stay quiet
        if self.app.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header + body in two writes would wait on delayed ACKs
    timeout = 15  # slow or silent clients do not hold a thread forever
    server: _Server
    server_version = "adrop-kit-local"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.app.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    # -- plumbing -----------------------------------------------------------------
    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None, *, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any, **kw: Any) -> None:
        self._reply(status, orjson.dumps(obj), **kw)

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query)

    def _discard_body(self) -> bool:
        """Read and drop a body we will not use, so keep-alive stays in sync; False if too big."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return False  # not worth decoding only to drop it: close the connection instead
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return False
        if n < 0 or n > MAX_BODY:
            return False
        if n:
            self.rfile.read(n)
        return True

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked), at most MAX_BODY; None when we already replied."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        try:
            n = int(length) if length is not None else 0  # HTTP/1.1: no length, no chunking = no body
        except ValueError:
            n = -1
        if n < 0:
            self._json(400, {"message": "!invalid"}, close=True)  # an unreadable length: we cannot find the end
            return None
        if n > MAX_BODY:
            self._json(413, {"message": "!too_large"}, close=True)
            return None
        body = self.rfile.read(n)
        if len(body) < n:  # the client went away mid-body
            self.close_connection = True
            return None
        return body

    def _read_chunked(self) -> bytes | None:
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(65)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self._json(400, {"message": "!invalid"}, close=True)
                return None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers, then the blank line
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                self._json(413, {"message": "!too_large"}, close=True)
                return None
            data = self.rfile.read(size)
            self.rfile.readline(3)
            if len(data) < size:
                self.close_connection = True
                return None
            chunks.append(data)

    def _not_allowed(self, allow: str) -> None:
        ok = self._discard_body()
        self._json(405, {"message": "!method_not_allowed"}, headers={"Allow": allow}, close=not ok)

    # -- methods -----------------------------------------------------------------------
    def do_POST(self) -> None:  # noqa: N802
        path, query = self._route()
        if path == "/event":
            return self._post_event(query)
        if path == "/_local/reset":
            self._discard_body()
            self.server.app.store.reset()
            return self._json(200, {"message": "ok"})
        ok = self._discard_body()
        self._json(404 if path not in ("/_local/stats", "/_local/events") else 405,
                   {"message": "!not_found"}, close=not ok)

    def do_GET(self) -> None:  # noqa: N802
        path, query = self._route()
        store = self.server.app.store
        if path == "/_local/stats":
            return self._json(200, store.stats())
        if path == "/_local/events":
            status = (query.get("status") or [None])[0]
            if status not in (None, "good", "bad"):
                return self._json(400, {"message": "status must be good or bad"})
            try:
                limit = max(0, min(10_000, int((query.get("limit") or ["100"])[0])))
                offset = max(0, int((query.get("offset") or ["0"])[0]))
            except ValueError:
                return self._json(400, {"message": "limit and offset must be integers"})
            return self._json(200, {"events": store.events(status, limit=limit, offset=offset)})
        if path == "/event":
            return self._not_allowed("POST")
        self._json(404, {"message": "!not_found"})

    def _other(self) -> None:
        path, _ = self._route()
        if path == "/event":
            return self._not_allowed("POST")
        ok = self._discard_body()
        self._json(404, {"message": "!not_found"}, close=not ok)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other  # noqa: N815

    def _post_event(self, query: dict[str, list[str]]) -> None:
        app = self.server.app
        explain = (query.get("explain") or ["0"])[0] not in ("0", "", "false")
        if app.faults.latency_ms:
            time.sleep(app.faults.latency_ms / 1000)
        fault = app.faults.draw()
        if fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault == "fail":
            ok = self._discard_body()
            return self._json(503, {"message": "!unavailable"}, close=not ok)
        if fault == "throttle":
            ok = self._discard_body()
            return self._json(429, {"message": "!too_many_requests"},
                              headers={"Retry-After": f"{app.faults.retry_after:g}"}, close=not ok)
        if self.headers.get("Authorization") not in app.app_keys:
            ok = self._discard_body()
            return self._json(401, {"message": "!unauthorized"}, close=not ok)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            ok = self._discard_body()
            return self._json(415, {"message": "!unsupported_media_type"}, close=not ok)
        body = self._read_body()
        if body is None:
            return  # _read_body replied (413) or the client went away
        try:
            payload = parse_json_text(body, allow_nan=False)  # NaN is not JSON: Adrop would not parse it
        except ValueError:
            payload = _NOT_JSON
        if payload is _NOT_JSON:
            violations = [{"rule": "E001", "field": "", "message": "the body is not valid JSON"}]
        else:
            report = validate_event(payload, catalog=app.catalog, strict=app.strict)
            violations = [{"rule": v.rule.value, "field": v.field, "message": v.message}
                          for v in report.violations if v.severity == "error"] if not report.ok else []
        if violations:
            app.store.add("bad", payload if payload is not _NOT_JSON else None, body, violations)
            if explain:
                return self._json(400, {"message": "!invalid", "violations": violations},
                                  headers={"X-Adrop-Kit-Violations": ",".join(sorted({v["rule"] for v in violations}))})
            return self._reply(400, INVALID)
        app.store.add("good", payload, body)
        self._reply(200, OK)


_NOT_JSON = object()




class LocalServer:
    """The local server, in a background thread: `with LocalServer() as srv: srv.url, srv.app_key`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, app_keys: list[str] | tuple[str, ...] = (),
                 db: str = ":memory:", catalog: Catalog | str | None = None, strict: bool = False,
                 faults: Faults | None = None, verbose: bool = False):
        self.host = host
        self.port = port
        self.generated_key = not app_keys
        self.app_keys = frozenset(app_keys) if app_keys else frozenset({"local-" + secrets.token_hex(12)})
        self.catalog = resolve(catalog)
        self.strict = strict
        self.faults = faults or Faults()
        self.verbose = verbose
        self.store = Store(db)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def app_key(self) -> str:
        return next(iter(sorted(self.app_keys)))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.url + "/event"

    def bind(self) -> LocalServer:
        """Open the listening socket (port 0 picks a free one); `OSError` if the port is taken."""
        if self._httpd is None:
            self._httpd = _Server((self.host, self.port), self)
            self.port = self._httpd.server_address[1]
        return self

    def start(self) -> LocalServer:
        """Serve in a background thread (what tests and notebooks use)."""
        self.bind()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="adrop-local-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (what `adrop-kit serve` uses)."""
        self.bind()
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self.close()

    def stop(self) -> None:
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        self.stop()
        if not self._closed:
            self._closed = True
            self.store.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- inspection (same data as the /_local endpoints) ----------------------------------
    def stats(self) -> dict[str, int]:
        return self.store.stats()

    def events(self, status: str | None = None, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        return self.store.events(status, limit=limit, offset=offset)

    def reset(self) -> None:
        self.store.reset()

    def __repr__(self) -> str:
        return f"<LocalServer {self.url} keys={len(self.app_keys)}>"
