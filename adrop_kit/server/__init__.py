"""The local Adrop-compatible server (real HTTP on loopback, SQLite storage, fault injection)."""

from .app import MAX_BODY, Faults, LocalServer, is_loopback
from .store import Store, hash_uid

__all__ = ["MAX_BODY", "Faults", "LocalServer", "Store", "hash_uid", "is_loopback"]
