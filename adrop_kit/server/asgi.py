"""The local server's ASGI app (no framework): `POST /event` as SPEC.md decides, `/_local/*` apart.

Replies: 200 `{"message":"ok"}` once the event is committed, 400 `{"message":"!invalid"}` (its row
committed too), 401 `!unauthorized`, 413 body over 64 KiB (read while streaming; the rest is left
unread and the connection closed), 415 not JSON, 405 other methods, 404 other paths, 503
`!unavailable` when the store cannot commit (nothing was stored: retry). `?explain=1` adds the
violations (a body field and the `X-Adrop-Kit-Violations` header). Faults come first, as a real
overloaded service would answer before looking at the request.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from typing import Any
from urllib.parse import parse_qs

from adrop_kit.server.local_api import LocalApi
from adrop_kit.server.payload import judge
from adrop_kit.server.replies import (
    HEAD_TOO_LARGE,
    INVALID,
    OK_BODY,
    OK_START,
    TOO_LARGE,
    UNAVAILABLE,
    Receive,
    Send,
    body_is_small,
    read_body,
    reply,
    reply_json,
    request_headers,
)
from adrop_kit.server.store import make_row


def _explain(query: bytes) -> bool:
    if not query:
        return False
    values = parse_qs(query.decode("latin-1")).get("explain") or ["0"]
    return values[0] not in ("0", "", "false")


class EventApp:
    """`app(scope, receive, send)` for one `LocalServer` (its keys, catalog, faults, writer)."""

    def __init__(self, server: Any):  # a LocalServer (not imported: app imports this module)
        self.server = server
        self.local = LocalApi(server)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if self.server.verbose:
            send = self._logged(scope, send)
        h = request_headers(scope, self.server.limits.max_head_bytes)
        if isinstance(h, int):
            return await reply(send, h, INVALID if h == 400 else HEAD_TOO_LARGE, close=True)
        path, method = scope["path"], scope["method"]
        if path == "/event":
            if method == "POST":
                return await self.post_event(scope, h, receive, send)
            return await reply_json(send, 405, {"message": "!method_not_allowed"}, ((b"allow", b"POST"),),
                                    close=not body_is_small(h))
        if path.startswith("/_local/"):
            return await self.local.handle(scope, h, send)
        await reply_json(send, 404, {"message": "!not_found"}, close=not body_is_small(h))

    async def post_event(self, scope: dict[str, Any], h: dict[bytes, bytes], receive: Receive, send: Send) -> None:
        srv = self.server
        faults = srv.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        fault = faults.draw()
        if fault == "drop":  # no reply: the server's own protocol (stack.py) closes the connection; in
            abort = scope.get("adrop.abort")  # process, a response never started is the same to the client
            return abort() if abort else None
        if fault == "fail":
            return await reply(send, 503, UNAVAILABLE, close=not body_is_small(h))
        if fault == "throttle":
            return await reply_json(send, 429, {"message": "!too_many_requests"},
                                    ((b"retry-after", f"{faults.retry_after:g}".encode()),),
                                    close=not body_is_small(h))
        if h.get(b"authorization", b"").decode("latin-1") not in srv.app_keys:
            return await reply_json(send, 401, {"message": "!unauthorized"}, close=not body_is_small(h))
        ctype = h.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype != b"application/json":
            return await reply_json(send, 415, {"message": "!unsupported_media_type"}, close=not body_is_small(h))
        body = await read_body(receive, h)
        if body is None:
            return  # the client went away mid-body
        if isinstance(body, int):
            return await reply(send, 413, TOO_LARGE, close=True)
        verdict = judge(body, srv.catalog, srv.strict)
        row = make_row("good" if verdict.ok else "bad", verdict.payload, body, verdict.violations or None)
        try:
            await srv.writer.write(row)  # returns once committed: only then is the event acknowledged
        except sqlite3.Error:  # nothing of its batch was stored: the client may retry
            return await reply(send, 503, UNAVAILABLE, ((b"retry-after", b"1"),))
        if verdict.ok:
            await send(OK_START)
            return await send(OK_BODY)
        if _explain(scope["query_string"]):
            return await reply_json(send, 400, {"message": "!invalid", "violations": verdict.violations},
                                    ((b"x-adrop-kit-violations", verdict.rules.encode()),))
        await reply(send, 400, INVALID)

    @staticmethod
    def _logged(scope: dict[str, Any], send: Send) -> Send:
        async def logged(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                host, port = scope.get("client") or ("-", "-")
                client = f"{host}:{port}"
                query = scope.get("query_string") or b""
                target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
                sys.stderr.write(f"{client} \"{scope['method']} {target}\" {message['status']}\n")
            await send(message)
        return logged
