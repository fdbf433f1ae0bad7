"""The local Adrop-compatible server: an ASGI app of its own (`asgi`, `local_api`) on one background
loop (`loop`), in process or also on real HTTP on loopback (uvicorn + httptools, `stack`, imported
only for a socket), SQLite storage with uids hashed and group commit (`store`, `writer`), fault
injection for testing senders (`faults`); `LocalServer` in `app` ties them.

Layer: beside `send`; may import `adrop_kit.spec`, `adrop_kit.io`, `adrop_kit.validate` and
`adrop_kit.errors` (never the sender: a client and its test server share rules, not code paths).
"""

from __future__ import annotations

from adrop_kit.server.app import LocalServer
from adrop_kit.server.faults import Faults
from adrop_kit.server.limits import MAX_BODY, HttpLimits
from adrop_kit.server.store import Store, hash_uid
from adrop_kit.spec.hosts import is_loopback

__all__ = ["MAX_BODY", "Faults", "HttpLimits", "LocalServer", "Store", "hash_uid", "is_loopback"]
