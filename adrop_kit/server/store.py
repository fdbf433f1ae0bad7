"""SQLite storage of the local server: accepted events (uid hashed) and rejected ones apart."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from typing import Any

import orjson

from adrop_kit.io.jsontext import dumps_lenient

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('good', 'bad')),
    received_at REAL NOT NULL,
    event_name  TEXT,
    platform    TEXT,
    uid_sha256  TEXT,
    body        BLOB NOT NULL,
    violations  TEXT
);
CREATE INDEX IF NOT EXISTS events_status ON events (status, id);
"""


def hash_uid(uid: Any) -> str | None:
    """SHA-256 hex digest of the uid, as Adrop stores it (the raw uid is never kept)."""
    if not isinstance(uid, str):
        return None
    return hashlib.sha256(uid.encode("utf-8", "surrogatepass")).hexdigest()


class Store:
    """Thread-safe event store. Writes are grouped: one commit per `flush_every` events or
    `flush_interval` seconds, and on every read — so readers always see what was acknowledged."""

    def __init__(self, path: str = ":memory:", *, flush_every: int = 256, flush_interval: float = 0.05):
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._pending: list[tuple] = []
        self._flush_every = flush_every
        self._flush_interval = flush_interval
        self._last_flush = time.monotonic()

    def add(self, status: str, payload: Any, body: bytes, violations: list[dict] | None = None) -> None:
        obj = payload if isinstance(payload, dict) else {}
        name = obj.get("eventName")
        platform = obj.get("platform")
        stored = body
        if isinstance(payload, dict) and "uid" in payload:  # the raw body must not keep the raw uid either
            stored = dumps_lenient({**payload, "uid": hash_uid(payload["uid"])})
        row = (status, time.time(), name if isinstance(name, str) else None,
               platform if isinstance(platform, str) else None, hash_uid(obj.get("uid")), stored,
               orjson.dumps(violations).decode() if violations else None)
        with self._lock:
            self._pending.append(row)
            if len(self._pending) >= self._flush_every or time.monotonic() - self._last_flush > self._flush_interval:
                self._flush_locked()

    def _flush_locked(self) -> None:
        if self._pending:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO events (status, received_at, event_name, platform, uid_sha256, body, violations) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", self._pending)
            self._db.execute("COMMIT")
            self._pending.clear()
        self._last_flush = time.monotonic()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def stats(self) -> dict[str, int]:
        with self._lock:
            self._flush_locked()
            good, bad = self._db.execute(
                "SELECT COALESCE(SUM(status = 'good'), 0), COALESCE(SUM(status = 'bad'), 0) FROM events").fetchone()
        return {"total": good + bad, "good": good, "bad": bad}

    def events(self, status: str | None = None, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        sql = "SELECT id, status, received_at, event_name, platform, uid_sha256, body, violations FROM events"
        args: tuple = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status,)
        sql += " ORDER BY id LIMIT ? OFFSET ?"
        with self._lock:
            self._flush_locked()
            rows = self._db.execute(sql, (*args, limit, offset)).fetchall()
        out = []
        for id_, st, at, name, platform, uid_hash, body, violations in rows:
            try:
                parsed: Any = orjson.loads(body)
            except orjson.JSONDecodeError:
                parsed = None
            out.append({"id": id_, "status": st, "received_at": at, "eventName": name, "platform": platform,
                        "uid_sha256": uid_hash, "payload": parsed,
                        "raw": body.decode("utf-8", "replace") if parsed is None else None,
                        "violations": orjson.loads(violations) if violations else []})
        return out

    def reset(self) -> None:
        with self._lock:
            self._pending.clear()
            self._db.execute("DELETE FROM events")

    def close(self) -> None:
        with self._lock:
            self._flush_locked()
            self._db.close()
