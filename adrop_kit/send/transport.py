"""One POST, one normalised `Reply`.

The hot path uses the standard library's `http.client` with one keep-alive connection
per worker thread: on 2 cores `requests` tops out near 500 events/s on loopback (its
per-call machinery, not the network, is the limit), `http.client` reaches several
thousand. `transport="requests"` is there for proxies, custom TLS or auth adapters.

Both obey a total deadline per request (`timeout`: connect, send and every read of the
reply; see `deadline`) and read at most `MAX_REPLY_BYTES` of a reply body: a bigger body is
not read on, its connection is closed and the reply is judged by its status (a 2xx is an
unexpected reply, a 5xx worth another try).

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
from adrop_kit.send.deadline import MAX_REPLY_BYTES, DeadlineConnection, deadline_adapter, read_capped, tls_context
from adrop_kit.spec.hosts import is_loopback

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


def classify(status: int, body: bytes | None, retry_after: str | None = None) -> Reply:
    """A reply by its status and body; `body=None` is a body too big to read (judged by its status alone)."""
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
        what = f"a reply body over {MAX_REPLY_BYTES // 1024} KiB" if body is None else "an unexpected reply body"
        return Reply("fatal", status, message, error=f"{status} with {what}; expected " '{"message":"ok"}')
    if status in (404, 405):  # the wrong URL: every event would get the same answer
        return Reply("fatal", status, message, error=f"{status} {message or 'not found'}: is the endpoint URL "
                                                     "right? Adrop's (and the local server's) path is /event, "
                                                     "e.g. http://127.0.0.1:8787/event")
    return Reply("fatal", status, message, error=f"{status} {message or 'unexpected reply'}")


class Transport(Protocol):
    def post(self, body: bytes) -> Reply: ...
    def close(self) -> None: ...


class HttpClientTransport:
    """One keep-alive `http.client` connection (not thread-safe: one per worker).

    `timeout` is the whole request (connect, send, status, headers, body), not each read; at
    most `MAX_REPLY_BYTES` of a reply body are read (a bigger one is judged by its status and
    its connection closed)."""

    def __init__(self, endpoint: Endpoint, headers: dict[str, str], timeout: float):
        self.endpoint = endpoint
        self._headers = headers
        self._timeout = timeout
        self._deadline = 0.0
        self._tls = tls_context() if endpoint.scheme == "https" else None
        self._conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> Reply:
        self._deadline = time.monotonic() + self._timeout
        try:
            if self._conn is None:
                self._conn = DeadlineConnection(self.endpoint.host, self.endpoint.port, self._get_deadline,
                                                self._tls)
            self._conn.request("POST", self.endpoint.path, body=body, headers=self._headers)
            resp = self._conn.getresponse()
            data = read_capped(resp)
            if data is None or resp.will_close or not resp.isclosed():
                resp.close()
                self.close()
            return classify(resp.status, data, resp.getheader("Retry-After"))
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Reply("retry", None, error=_timed_out(self._timeout) if self._past_deadline() else _describe(exc))

    def _get_deadline(self) -> float:
        return self._deadline

    def _past_deadline(self) -> bool:
        return time.monotonic() >= self._deadline

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class RequestsTransport:
    """The same contract over a `requests.Session` (proxies, custom CA bundles, adapters), with the
    same total deadline and reply cap."""

    def __init__(self, endpoint: Endpoint, headers: dict[str, str], timeout: float):
        import requests
        import urllib3

        self.endpoint = endpoint
        self._session = requests.Session()
        self._session.headers.update(headers)
        adapter = deadline_adapter(lambda: self._deadline)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._timeout = timeout
        self._deadline = 0.0
        self._exc = (requests.RequestException, urllib3.exceptions.HTTPError, OSError, http.client.HTTPException)

    def post(self, body: bytes) -> Reply:
        self._deadline = time.monotonic() + self._timeout
        resp = None
        try:
            resp = self._session.post(self.endpoint.url, data=body, timeout=self._timeout, stream=True)
            data = self._read(resp)
            return classify(resp.status_code, data, resp.headers.get("Retry-After"))
        except self._exc as exc:
            timed_out = time.monotonic() >= self._deadline
            return Reply("retry", None, error=_timed_out(self._timeout) if timed_out else _describe(exc))
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
        self._session.close()


def _timed_out(timeout: float) -> str:
    return f"timed out waiting for the server (no complete reply within {timeout:g} s)"


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
