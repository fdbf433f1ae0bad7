"""What a transport is, and how its reply becomes one `Reply`.

A `Sender` (or the contract probe) builds a `Request` — the endpoint, the headers with the
app key, the body, the total timeout — and hands it to a *transport object* (as httpx does):

    Sender(transport=HTTPTransport())        # the default (`send.http`): http.client, keep-alive per thread
    Sender(transport=RequestsTransport())    # requests: proxies, custom CA bundles
    Sender(transport=ASGITransport(app, loop=loop))   # in process (`send.asgi`): an ASGI app, no socket
    Sender(transport=local_transport(server))         # the same, to a LocalServer (`testing.local`)

A transport answers `handle(request) -> Response` (the status and the body as they came) or
raises `OSError` (`ConnectionError`, `TimeoutError`, …) when no reply arrived; `close()` lets
go of connections (a transport may be used again after it). Anything with those two methods
is a transport: a user's own one (a recorder, a proxy to a queue) gets the same retries,
classification and key redaction, because `deliver` does them, not the transport.

A reply is named with the one vocabulary of an event's fate (`send.outcome.Outcome`), plus what
it means for the next attempt:

    Reply.outcome   when                                                   then
    DELIVERED       200 + {"message":"ok"}                                 done
    REJECTED        "!invalid" (any status), 400, 413, 415                 done: retrying cannot help
    FAILED          429, 5xx, no reply (connection errors, timeouts)       `retryable`: worth another try
    FAILED          401 (the key), other 4xx, an unexpected 2xx body,      `fatal`: stop the run, nothing
                    a redirect (3xx, never followed; the error names       else will get through
                    where it pointed)
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import orjson

from adrop_kit.errors import InsecureEndpoint, MissingKey
from adrop_kit.send.deadline import MAX_REPLY_BYTES
from adrop_kit.send.outcome import Outcome
from adrop_kit.send.redact import mask_key, redact, redact_exception
from adrop_kit.spec.hosts import is_loopback
from adrop_kit.support.labels import escape

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
    def identity(self) -> str:
        """The endpoint as a journal notes it: scheme, host (lower case), port and path, however the URL was spelled."""
        return f"{self.scheme}://{self.host.lower()}:{self.port}{self.path}"

    @property
    def is_local(self) -> bool:
        return is_loopback(self.host)


@dataclass(frozen=True)
class Reply:
    """One attempt, classified (see the module docstring)."""

    outcome: Outcome        # DELIVERED | REJECTED | FAILED
    status: int | None      # HTTP status, None when no reply arrived
    message: str | None = None
    retry_after: float | None = None
    error: str | None = None
    retryable: bool = False  # FAILED, and another attempt may succeed (429, 5xx, no reply)
    fatal: bool = False      # FAILED, and no other event would get through either (the key, the URL)

    @property
    def summary(self) -> str:
        if self.status is None:
            return self.error or "no reply"
        return f"{self.status} {self.message or ''}".strip()

    @property
    def why(self) -> str | None:
        """What an event's outcome says about this reply: nothing when delivered, the server's
        answer when rejected, the error when failed."""
        if self.outcome is Outcome.DELIVERED:
            return None
        return self.summary if self.outcome is Outcome.REJECTED else self.error or self.summary


def _retry(status: int | None, message: str | None = None, retry_after: float | None = None,
           error: str | None = None) -> Reply:
    return Reply(Outcome.FAILED, status, message, retry_after, error, retryable=True)


def _fatal(status: int, message: str | None, error: str) -> Reply:
    return Reply(Outcome.FAILED, status, message, error=error, fatal=True)


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


def classify(status: int, body: bytes | None, retry_after: str | None = None, location: str | None = None) -> Reply:
    """A reply by its status and body; `body=None` is a body too big to read (judged by its status alone).
    A redirect (3xx) is never followed: it is fatal, and its error names where it pointed (`location`)."""
    try:
        message = orjson.loads(body).get("message") if body else None
    except (orjson.JSONDecodeError, AttributeError):
        message = None
    message = message if isinstance(message, str) else None
    if message == "!invalid":
        return Reply(Outcome.REJECTED, status, message)
    if status == 200 and message == "ok":
        return Reply(Outcome.DELIVERED, status, message)
    if status == 429 or status >= 500:
        return _retry(status, message, parse_retry_after(retry_after))
    if status in (400, 413, 415):
        return Reply(Outcome.REJECTED, status, message)
    if 300 <= status < 400:
        return _fatal(status, message, redirected(status, location))
    if status == 401 or status == 403:
        return _fatal(status, message, f"{status} unauthorized: the server refused the app key "
                                                      f"(check {KEY_ENV})")
    if 200 <= status < 300:
        what = f"a reply body over {MAX_REPLY_BYTES // 1024} KiB" if body is None else "an unexpected reply body"
        return _fatal(status, message, f"{status} with {what}; expected " '{"message":"ok"}')
    if status in (404, 405):  # the wrong URL: every event would get the same answer
        return _fatal(status, message, f"{status} {message or 'not found'}: is the endpoint URL "
                                                     "right? Adrop's (and the local server's) path is /event, "
                                                     "e.g. http://127.0.0.1:8787/event")
    return _fatal(status, message, f"{status} {message or 'unexpected reply'}")


def redirected(status: int, location: str | None) -> str:
    """The error of a redirect: not followed (a POST re-sent elsewhere, or turned into a GET, could
    carry the key to another host or over plain http://); where it pointed, escaped and clipped."""
    where = escape(location.strip())[:300] if location and location.strip() else "(no Location header)"
    return (f"{status} redirect to {where}: not followed; an endpoint that redirects is the wrong URL "
            "(give the URL it points to with --endpoint if you trust it)")


@dataclass(frozen=True)
class Request:
    """One POST to `endpoint`; `timeout` is the whole request's budget (connect, send, the reply).
    Its repr masks the key: a request may be logged, the key never is."""

    endpoint: Endpoint
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def key(self) -> str | None:
        return self.headers.get("Authorization") or None

    def __repr__(self) -> str:
        shown = {k: mask_key(v) if k.lower() == "authorization" else v for k, v in self.headers.items()}
        return f"Request(POST {self.url}, headers={shown}, body={len(self.body)} bytes, timeout={self.timeout:g})"


@dataclass(frozen=True)
class Response:
    """A reply as it came: the status, the body (None when it was over `MAX_REPLY_BYTES`, not
    read on) and `Retry-After` if the server sent one."""

    status: int
    body: bytes | None = b""
    retry_after: str | None = None
    location: str | None = None
    """The `Location` header of a redirect (3xx), which is never followed."""


@runtime_checkable
class Transport(Protocol):
    """Sends one `Request`: `handle` returns the `Response`, or raises `OSError` when none came."""

    def handle(self, request: Request) -> Response: ...
    def close(self) -> None: ...


def deliver(transport: Transport, request: Request) -> Reply:
    """One attempt: the transport's response classified (`classify`), or a retryable `Reply` when no
    reply came. The key is scrubbed from whatever text the reply carries (a server or a transport
    may echo it): `redact.redact`, the one redaction step, here where reply text enters the program.
    An exception other than `OSError` propagates, its text redacted too."""
    try:
        response = transport.handle(request)
    except OSError as exc:
        return _scrubbed(_retry(None, error=describe(exc)), request.key)
    except Exception as exc:
        clean = redact_exception(exc, request.key)
        if clean is exc:
            raise
        raise clean from None
    return _scrubbed(classify(response.status, response.body, response.retry_after, response.location), request.key)


def _scrubbed(reply: Reply, key: str | None) -> Reply:
    message, error = redact(reply.message, key), redact(reply.error, key)
    if message == reply.message and error == reply.error:
        return reply
    return replace(reply, message=message, error=error)


def describe(exc: BaseException) -> str:
    """A short description of why no reply came (an `OSError` a transport raised)."""
    import http.client
    import socket
    import ssl

    if isinstance(exc, (TimeoutError, socket.timeout)):
        return str(exc) if str(exc).startswith("timed out waiting") else "timed out waiting for the server"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    # closed, reset or a broken pipe: which one a dropped connection shows depends on timing (where the
    # request was when the server let go), and a reply never came in any: one meaning, one message
    if isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        return "the server closed the connection without replying"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the endpoint's host name"
    if type(exc) in (ConnectionError, OSError) and str(exc):  # a transport's own words
        return str(exc)
    name = type(exc).__name__
    return f"{name}: {exc}" if str(exc) else name


__all__ = ["DEFAULT_ENDPOINT", "KEY_ENV", "Endpoint", "Reply", "Request", "Response",
           "Transport", "classify", "deliver", "describe", "mask_key", "parse_retry_after", "redirected",
           "resolve_key"]
