"""The local Adrop-compatible server: real HTTP on loopback (`app`), SQLite storage with uids
hashed (`store`), fault injection for testing senders.

Layer: beside `send`; may import `adrop_kit.spec`, `adrop_kit.io` and `adrop_kit.validate` (never
the sender: a client and its test server share rules, not code paths).
"""

from __future__ import annotations

from adrop_kit.io.hosts import is_loopback
from adrop_kit.server.app import MAX_BODY, Faults, LocalServer
from adrop_kit.server.store import Store, hash_uid

__all__ = ["MAX_BODY", "Faults", "LocalServer", "Store", "hash_uid", "is_loopback"]
