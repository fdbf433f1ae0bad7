"""SQLite storage of the local server: accepted events (uid hashed) and rejected ones apart.

Writes are transactions of whole batches (`insert`): all rows committed or none, so a batch that
fails (full disk, read-only file) leaves nothing behind and a retried event is stored once. The
server acknowledges an event only once its batch is committed (`writer.GroupCommitWriter`).
With a file, the journal is WAL with `synchronous=NORMAL`: a committed event survives the process
being killed (SIGKILL); an operating-system crash or power cut may lose the last commits.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from typing import Any

import orjson

from adrop_kit.io.values import exact_json
from adrop_kit.server.limits import MAX_OFFSET
from adrop_kit.server.payload import parse_stored

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
_INSERT = ("INSERT INTO events (status, received_at, event_name, platform, uid_sha256, body, violations) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")


def hash_uid(uid: Any) -> str | None:
    """SHA-256 hex digest of the uid, as Adrop stores it (the raw uid is never kept)."""
    if not isinstance(uid, str):
        return None
    return hashlib.sha256(uid.encode("utf-8", "surrogatepass")).hexdigest()


def make_row(status: str, payload: Any, body: bytes, violations: list[dict] | None = None) -> tuple:
    """The row stored for one request: the uid hashed, in its column and in the stored body. The body
    is the bytes received, or, with a uid to hash, the parsed event written again: valid JSON (a body
    that is not, NaN included, has no parsed event), its numbers as they were sent (`io.numbers`)."""
    obj = payload if isinstance(payload, dict) else {}
    name = obj.get("eventName")
    platform = obj.get("platform")
    digest = hash_uid(obj.get("uid"))
    stored = body
    if "uid" in obj:  # the raw body must not keep the raw uid either
        stored = exact_json({**obj, "uid": digest}).encode("utf-8", "surrogatepass")
    return (status, time.time(), name if isinstance(name, str) else None,
            platform if isinstance(platform, str) else None, digest, stored,
            orjson.dumps(violations).decode() if violations else None)


def check_page(limit: Any, offset: Any) -> tuple[int, int]:
    """`limit` and `offset` as SQLite can take them; ValueError when negative, not integers or ≥ 2^63."""
    for name, v in (("limit", limit), ("offset", offset)):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_OFFSET:
            raise ValueError(f"{name} must be an integer from 0 to {MAX_OFFSET}, not {v!r}")
    return limit, offset


class Store:
    """Thread-safe event store over one SQLite connection (one lock for writer and readers)."""

    def __init__(self, path: str = ":memory:", *, flush_every: int | None = None,
                 flush_interval: float | None = None):
        # flush_every / flush_interval: accepted and ignored (writes are no longer deferred)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        self._lock = threading.Lock()
        self._closed = False

    def insert(self, rows: list[tuple]) -> None:
        """Commit `rows` in one transaction, or raise `sqlite3.Error` having stored none of them."""
        with self._lock:
            try:
                if len(rows) == 1:  # one statement is its own transaction (and a third of the cost)
                    self._db.execute(_INSERT, rows[0])
                    return
                self._db.execute("BEGIN")
                self._db.executemany(_INSERT, rows)
                self._db.execute("COMMIT")
            except sqlite3.Error:
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise

    def add(self, status: str, payload: Any, body: bytes, violations: list[dict] | None = None) -> None:
        """Store one event now (committed when this returns)."""
        self.insert([make_row(status, payload, body, violations)])

    def flush(self) -> None:
        """Nothing to do: every write is committed before it returns (kept for callers)."""

    def stats(self) -> dict[str, int]:
        with self._lock:
            good, bad = self._db.execute(
                "SELECT COALESCE(SUM(status = 'good'), 0), COALESCE(SUM(status = 'bad'), 0) FROM events").fetchone()
        return {"total": good + bad, "good": good, "bad": bad}

    def events(self, status: str | None = None, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        if status not in (None, "good", "bad"):
            raise ValueError(f"status must be good, bad or None, not {status!r}")
        limit, offset = check_page(limit, offset)
        sql = "SELECT id, status, received_at, event_name, platform, uid_sha256, body, violations FROM events"
        args: tuple = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status,)
        sql += " ORDER BY id LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit, offset)).fetchall()
        out = []
        for id_, st, at, name, platform, uid_hash, body, violations in rows:
            parsed = parse_stored(body)
            out.append({"id": id_, "status": st, "received_at": at, "eventName": name, "platform": platform,
                        "uid_sha256": uid_hash, "payload": parsed,
                        "raw": body.decode("utf-8", "replace") if parsed is None else None,
                        "violations": orjson.loads(violations) if violations else []})
        return out

    def reset(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM events")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()
