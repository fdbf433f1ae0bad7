"""One POST, one normalised `Reply`.

The hot path uses the standard library's `http.client` with one keep-alive connection
per worker thread: on 2 cores `requests` tops out near 500 events/s on loopback (its
per-call machinery, not the network, is the limit), `http.client` reaches several
thousand. `transport="requests"` is there for proxies, custom TLS or auth adapters.

    Reply.outcome:  "delivered"  200 + {"message":"ok"}
                    "rejected"   "!invalid" (any status), 400, 413, 415: retrying cannot help
                    "retry"      429, 5xx, connection errors, timeouts: worth another try
                    "fatal"      401 (the key) and other 4xx: stop, nothing will get through
"""

from __future__ import annotations

import email.utils
import http.client
import os
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

from adrop_kit.errors import InsecureEndpoint, MissingKey
from adrop_kit.io.hosts import is_loopback

DEFAULT_ENDPOINT = "https://api-v2.adrop.io/event"
KEY_ENV = "ADROP_APP_KEY"


def resolve_key(app_key: str | None, *, required: bool = True) -> str | None:
    key = app_key if app_key is not None else os.environ.get(KEY_ENV)
    if key is not None:
        key = key.strip()
    if not key:
        if required:
            raise MissingKey(f"no app key: set {KEY_ENV} in the environment (or pass app_key=...)")
        return None
    for i, ch in enumerate(key):  # a header value: printable ASCII only (a pasted newline would leak it in errors)
        if not "!" <= ch <= "~":
            raise MissingKey(f"the app key has a space, control or non-ASCII character at position {i + 1} "
                             f"(a copy-paste slip?); set {KEY_ENV} to the key alone")
    return key


def mask_key(key: str | None) -> str:
    """Enough of the key to recognise it, never enough to use it: 'ab…yz'."""
    if not key:
        return "(none)"
    if len(key) < 8:
        return "…"
    return f"{key[:2]}…{key[-2:]}"


@dataclass(frozen=True)
class Endpoint:
    url: str
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint must be an http(s) URL like {DEFAULT_ENDPOINT}, not {url!r}")
        if parts.username or parts.password:
            raise ValueError("endpoint must not carry credentials; the app key goes in ADROP_APP_KEY")
        host = parts.hostname
        if parts.scheme == "http" and not is_loopback(host):
            raise InsecureEndpoint(f"refusing plain http:// to {host}: the app key would be sent unencrypted; "
                                   "use https:// (http is allowed only to 127.0.0.1/localhost)")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return cls(url, parts.scheme, host, port, path)

    @property
    def is_local(self) -> bool:
        return is_loopback(self.host)


@dataclass(frozen=True)
class Reply:
    outcome: str            # delivered | rejected | retry | fatal
    status: int | None      # HTTP status, None when no reply arrived
    message: str | None = None
    retry_after: float | None = None
    error: str | None = None

    @property
    def summary(self) -> str:
        if self.status is None:
            return self.error or "no reply"
        return f"{self.status} {self.message or ''}".strip()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def classify(status: int, body: bytes, retry_after: str | None = None) -> Reply:
    try:
        message = orjson.loads(body).get("message") if body else None
    except (orjson.JSONDecodeError, AttributeError):
        message = None
    message = message if isinstance(message, str) else None
    if message == "!invalid":
        return Reply("rejected", status, message)
    if status == 200 and message == "ok":
        return Reply("delivered", status, message)
    if status == 429 or status >= 500:
        return Reply("retry", status, message, parse_retry_after(retry_after))
    if status in (400, 413, 415):
        return Reply("rejected", status, message)
    if status == 401 or status == 403:
        return Reply("fatal", status, message, error=f"{status} unauthorized: the server refused the app key "
                                                      f"(check {KEY_ENV})")
    if 200 <= status < 300:
        return Reply("fatal", status, message, error=f"{status} with an unexpected reply body; expected "
                                                     '{"message":"ok"}')
    return Reply("fatal", status, message, error=f"{status} {message or 'unexpected reply'}")


class Transport(Protocol):
    def post(self, body: bytes) -> Reply: ...
    def close(self) -> None: ...


class HttpClientTransport:
    """One keep-alive `http.client` connection (not thread-safe: one per worker)."""

    def __init__(self, endpoint: Endpoint, headers: dict[str, str], timeout: float):
        self.endpoint = endpoint
        self._headers = headers
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        ep = self.endpoint
        if ep.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                ep.host, ep.port, timeout=self._timeout, context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(ep.host, ep.port, timeout=self._timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def post(self, body: bytes) -> Reply:
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.request("POST", self.endpoint.path, body=body, headers=self._headers)
            resp = self._conn.getresponse()
            data = resp.read()
            if resp.will_close:
                self.close()
            return classify(resp.status, data, resp.getheader("Retry-After"))
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Reply("retry", None, error=_describe(exc))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class RequestsTransport:
    """The same contract over a `requests.Session` (proxies, custom CA bundles, adapters)."""

    def __init__(self, endpoint: Endpoint, headers: dict[str, str], timeout: float):
        import requests

        self.endpoint = endpoint
        self._session = requests.Session()
        self._session.headers.update(headers)
        self._timeout = timeout
        self._exc = requests.RequestException

    def post(self, body: bytes) -> Reply:
        try:
            resp = self._session.post(self.endpoint.url, data=body, timeout=self._timeout)
        except self._exc as exc:
            return Reply("retry", None, error=_describe(exc))
        return classify(resp.status_code, resp.content, resp.headers.get("Retry-After"))

    def close(self) -> None:
        self._session.close()


def _describe(exc: BaseException) -> str:
    """A short, key-free description of a transport error."""
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out waiting for the server"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without replying"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the endpoint's host name"
    name = type(exc).__name__
    return f"{name}: {exc}" if str(exc) else name


def make_transport(kind: str, endpoint: Endpoint, headers: dict[str, str], timeout: float) -> Any:
    if kind == "http.client":
        return HttpClientTransport(endpoint, headers, timeout)
    if kind == "requests":
        return RequestsTransport(endpoint, headers, timeout)
    raise ValueError(f"transport must be 'http.client' or 'requests', not {kind!r}")
