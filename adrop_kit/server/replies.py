"""Reply and request plumbing shared by the ASGI handlers: JSON replies, headers, the body under its limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from adrop_kit.server.limits import MAX_BODY

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

OK = b'{"message":"ok"}'
INVALID = b'{"message":"!invalid"}'
UNAVAILABLE = b'{"message":"!unavailable"}'
TOO_LARGE = b'{"message":"!too_large"}'
HEAD_TOO_LARGE = b'{"message":"!headers_too_large"}'
_JSON = (b"content-type", b"application/json")
_CLOSE = (b"connection", b"close")
_SINGLE = {b"host", b"authorization", b"content-type", b"content-length", b"transfer-encoding", b"origin"}
OK_START = {"type": "http.response.start", "status": 200, "headers": [_JSON, (b"content-length", b"16")]}
OK_BODY = {"type": "http.response.body", "body": OK}


async def reply(send: Send, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...] = (), *,
                close: bool = False) -> None:
    hs = [_JSON, (b"content-length", b"%d" % len(body)), *headers]
    if close:
        hs.append(_CLOSE)
    await send({"type": "http.response.start", "status": status, "headers": hs})
    await send({"type": "http.response.body", "body": body})


async def reply_json(send: Send, status: int, obj: Any, headers: tuple[tuple[bytes, bytes], ...] = (), *,
                     close: bool = False) -> None:
    await reply(send, status, orjson.dumps(obj), headers, close=close)


def request_headers(scope: dict[str, Any], max_head_bytes: int) -> dict[bytes, bytes] | int:
    """The headers by (lower-case) name; 400 when the framing or a header that must be single is
    ambiguous (repeated; Content-Length with Transfer-Encoding: the parser refuses most of these),
    431 when the head is over `max_head_bytes` (a head that arrived whole, in one read)."""
    out: dict[bytes, bytes] = {}
    size = len(scope["raw_path"]) + len(scope["query_string"])
    for name, value in scope["headers"]:
        if name in out and name in _SINGLE:
            return 400
        out[name] = value
        size += len(name) + len(value) + 4
    if size > max_head_bytes:
        return 431
    if b"content-length" in out and b"transfer-encoding" in out:
        return 400
    return out


def body_is_small(h: dict[bytes, bytes]) -> bool:
    """The body has a known length within MAX_BODY: the parser can skip it and keep the connection."""
    if b"transfer-encoding" in h:
        return False
    cl = h.get(b"content-length", b"0")
    return cl.isdigit() and int(cl) <= MAX_BODY


async def read_body(receive: Receive, h: dict[bytes, bytes]) -> bytes | int | None:
    """The body, at most MAX_BODY bytes; 413 as soon as it is known to be bigger; None if the client left."""
    if not body_is_small(h) and b"transfer-encoding" not in h:
        return 413  # a declared length over the limit (the parser has checked it is a number)
    parts: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] != "http.request":
            return None
        chunk = msg.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return 413
        parts.append(chunk)
        if not msg.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


