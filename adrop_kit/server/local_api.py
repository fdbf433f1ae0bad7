"""`/_local/*`: inspection and reset over HTTP, locked down.

- `GET /_local/stats`, `GET /_local/events?status=good|bad&limit=&offset=`, `POST /_local/reset`;
- the Host must be the server's own loopback host:port (localhost, 127.0.0.1, [::1]), else 421,
  so a DNS-rebinding page cannot read the store; not checked when bound off loopback on purpose;
- `Authorization`: an accepted app key, or the admin token (`LocalServer.admin_token`, printed by
  `adrop-kit serve`; bare or as `Bearer <token>`), else 401;
- a state-changing request (POST) carrying an `Origin` that is not the server's own gets 403, and one
  without a JSON Content-Type 415: a cross-site form or `fetch` cannot reach it;
- `limit` and `offset` are plain decimal integers below 2^63 (limit capped at 10,000), else 400.
"""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import parse_qs

import orjson

from adrop_kit.io.jsontext import dumps_lenient
from adrop_kit.server.limits import MAX_OFFSET, MAX_PAGE
from adrop_kit.server.replies import Send, body_is_small, reply, reply_json

_ROUTES = {"/_local/stats": ("GET", "HEAD"), "/_local/events": ("GET", "HEAD"), "/_local/reset": ("POST",)}
_DIGITS = re.compile(r"[0-9]{1,19}")
PAGE_MESSAGE = f"limit and offset must be whole numbers from 0 to {MAX_OFFSET}"


def parse_page(query: bytes) -> tuple[str | None, int, int] | str:
    """(status, limit, offset) from a query string, or the reason it is refused."""
    try:
        qs = parse_qs(query.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return "the query string must be ASCII"
    if any(len(v) > 1 for v in qs.values()):
        return "each parameter may be given once"
    status = qs.get("status", [None])[0]
    if status not in (None, "good", "bad"):
        return "status must be good or bad"
    values = []
    for name, default in (("limit", 100), ("offset", 0)):
        raw = qs.get(name, [None])[0]
        if raw is None:
            values.append(default)
            continue
        if not _DIGITS.fullmatch(raw) or int(raw) > MAX_OFFSET:
            return PAGE_MESSAGE
        values.append(int(raw))
    return status, min(values[0], MAX_PAGE), values[1]


class LocalApi:
    """The `/_local/*` handler of one `LocalServer`."""

    def __init__(self, server: Any):  # a LocalServer (not imported: app imports this module)
        self.server = server

    def host_ok(self, host: bytes | None) -> bool:
        allowed = self.server.allowed_hosts
        if allowed is None:  # bound off loopback on purpose: any name may reach it
            return host is not None
        return host is not None and host.decode("latin-1").lower() in allowed

    def authorized(self, value: bytes | None) -> bool:
        if value is None:
            return False
        text = value.decode("latin-1")
        token = self.server.admin_token
        if text.startswith("Bearer "):
            text = text[7:]
        return text in self.server.app_keys or hmac.compare_digest(text.encode("latin-1"), token.encode())

    async def handle(self, scope: dict[str, Any], h: dict[bytes, bytes], send: Send) -> None:
        close = not body_is_small(h)
        path, method = scope["path"], scope["method"]
        if not self.host_ok(h.get(b"host")):
            return await reply_json(send, 421, {"message": "!misdirected: the Host is not this server"}, close=close)
        allowed = _ROUTES.get(path)
        if allowed is None:
            return await reply_json(send, 404, {"message": "!not_found"}, close=close)
        if method not in allowed:
            return await reply_json(send, 405, {"message": "!method_not_allowed"},
                                    ((b"allow", ", ".join(allowed).encode()),), close=close)
        if not self.authorized(h.get(b"authorization")):
            return await reply_json(send, 401, {"message": "!unauthorized"}, close=close)
        store = self.server.store
        if method == "POST":
            origin = h.get(b"origin")
            if origin is not None and origin.lower() != b"http://" + h[b"host"].lower():
                return await reply_json(send, 403, {"message": "!forbidden: cross-origin request"}, close=close)
            if h.get(b"content-type", b"").split(b";")[0].strip().lower() != b"application/json":
                return await reply_json(send, 415, {"message": "!unsupported_media_type"}, close=close)
            store.reset()
            return await reply_json(send, 200, {"message": "ok"}, close=close)
        if path == "/_local/stats":
            return await reply_json(send, 200, store.stats(), close=close)
        page = parse_page(scope["query_string"])
        if isinstance(page, str):
            return await reply_json(send, 400, {"message": page}, close=close)
        status, limit, offset = page
        events = store.events(status, limit=limit, offset=offset)
        try:
            body = orjson.dumps({"events": events})
        except (TypeError, orjson.JSONEncodeError):
            body = dumps_lenient({"events": events})
        await reply(send, 200, body, close=close)
