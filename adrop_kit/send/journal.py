"""The delivery journal: SQLite, one row per event key, written as each outcome happens.

A key is the SHA-256 of the event's canonical JSON plus its row position, so the same
dataset sent again maps to the same keys. Each outcome is committed before the worker
takes its next event (WAL, synchronous=NORMAL: a killed process loses nothing that was
committed), so after Ctrl-C or `kill -9` the only events whose fate is unknown are the
ones that were in flight — the bound on duplicates when the run is resumed.
The key itself is never written here, nor any header; payloads are not stored either.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from adrop_kit.errors import JournalError


def event_key(payload: Any, row: int) -> str:
    canon = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    return hashlib.sha256(canon + b"#" + str(row).encode()).hexdigest()[:32]


class Journal:
    def __init__(self, path: str | Path):
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS deliveries ("
                " key TEXT PRIMARY KEY, row INTEGER, event_name TEXT, status TEXT NOT NULL,"
                " attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER, error TEXT, updated_at REAL)")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from None
        self._lock = threading.Lock()

    def lookup(self, keys: Iterable[str]) -> dict[str, tuple[str, int]]:
        """Known keys → (status, attempts so far)."""
        out: dict[str, tuple[str, int]] = {}
        keys = list(keys)
        with self._lock:
            for i in range(0, len(keys), 900):
                chunk = keys[i:i + 900]
                q = f"SELECT key, status, attempts FROM deliveries WHERE key IN ({','.join('?' * len(chunk))})"
                for k, status, attempts in self._db.execute(q, chunk):
                    out[k] = (status, attempts)
        return out

    def record(self, key: str, row: int, event_name: str | None, status: str, attempts: int,
               http_status: int | None = None, error: str | None = None) -> None:
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO deliveries (key, row, event_name, status, attempts, http_status, error, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET status=excluded.status,"
                    " attempts=excluded.attempts, http_status=excluded.http_status, error=excluded.error,"
                    " updated_at=excluded.updated_at",
                    (key, row, event_name, status, attempts, http_status, error, time.time()))
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write journal {self.path}: {exc}") from None

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
