"""The delivery journal: SQLite, one row per event key, written as each outcome happens.

A key is the SHA-256 of the event's canonical JSON plus its row position, so the same
dataset sent again maps to the same keys. Each outcome is committed before the worker
takes its next event (WAL, synchronous=NORMAL: a killed process loses nothing that was
committed), so after Ctrl-C or `kill -9` the only events whose fate is unknown are the
ones that were in flight — the bound on duplicates when the run is resumed.
The key itself is never written here, nor any header; payloads are not stored either.

One journal, one run at a time: a `Journal` holds an OS lock (`flock`; msvcrt's on Windows)
on a sidecar file, `<journal>.lock`, for as long as it is open. A second one on the same
file, in this process or another, raises `JournalInUse` at once (two runs would each send
what the other sends). The OS drops the lock when the file is closed or the process dies,
even by `kill -9`, so it is never stale; the file itself stays (deleting a lock file races
with its next user).

Every problem with the file is a `JournalError` naming it: not SQLite, someone else's
SQLite database, read-only, a disk full or an I/O error mid-run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from adrop_kit.errors import JournalError, JournalInUse
from adrop_kit.io.numbers import NumberToken

try:
    import fcntl
except ImportError:  # Windows: msvcrt's byte locks, also dropped when the file is closed or the process dies
    fcntl = None  # type: ignore[assignment]
    import msvcrt

COLUMNS = ("key", "row", "event_name", "status", "attempts", "http_status", "error", "updated_at")
SCHEMA = ("CREATE TABLE IF NOT EXISTS deliveries ("
          " key TEXT PRIMARY KEY, row INTEGER, event_name TEXT, status TEXT NOT NULL,"
          " attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER, error TEXT, updated_at REAL)")

_SQLITE_HEADER = b"SQLite format 3\x00"
_WINDOWS_LOCK_BYTE = 1 << 20
_NOT_SQLITE = "not an adrop-kit journal (not a SQLite database); give the run a new journal file"


def event_key(payload: Any, row: int, source: str | None = None) -> str:
    """The event's journal key: its canonical JSON (keys sorted) and its row position, hashed.
    `source` (the part file's label, for inputs of several files) makes row 0 of two files two
    events; a single file passes None and keeps the keys earlier runs wrote."""
    try:  # a number kept as written counts by its value: the keys earlier runs wrote stay the same
        canon = orjson.dumps(payload, default=_as_float, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, lone surrogates: exact, still canonical
        canon = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=True, ensure_ascii=True,
                           default=str).encode()
    where = str(row).encode() if source is None else str(row).encode() + b"@" + source.encode("utf-8", "replace")
    return hashlib.sha256(canon + b"#" + where).hexdigest()[:32]


def _as_float(value: Any) -> float:
    if isinstance(value, NumberToken):
        return float.__float__(value)
    raise TypeError


def _problem(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def _try_lock(fd: int) -> bool:
    """Lock `fd` for this open file; False when someone else holds it. Released when `fd` is closed."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    os.lseek(fd, _WINDOWS_LOCK_BYTE, os.SEEK_SET)  # a byte past the pid, so the pid stays readable
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EDEADLK):  # EDEADLOCK is EDEADLK there
            return False
        raise
    return True


def _lock(path: str) -> Any:
    """Take the journal's lock (an open file holding it), or raise JournalInUse / JournalError."""
    lock_path = os.path.realpath(path) + ".lock"  # one lock per journal file, however its path is spelled
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        raise JournalError(f"{path}: cannot create the journal's lock file {lock_path}: {_problem(exc)}") from None
    lock = open(fd, "r+b", buffering=0)  # held while the Journal is open; closing it releases the lock
    try:
        locked = _try_lock(fd)
    except OSError as exc:
        lock.close()
        raise JournalError(f"{path}: cannot lock the journal ({lock_path}): {_problem(exc)}") from None
    if not locked:
        lock.seek(0)
        holder = lock.read(32).decode("ascii", "replace").strip() or "unknown"
        lock.close()
        here = " (this process)" if holder == str(os.getpid()) else ""
        raise JournalInUse(f"{path} is in use by another adrop-kit send (pid {holder}{here}); wait for it to "
                           "finish, or give this run another journal")
    try:
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()).encode())  # who holds it, for the next one's message
    except OSError:
        pass  # the lock holds without the pid
    return lock


class Journal:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._sniff()
        self._file_lock = None if self.path == ":memory:" else _lock(self.path)
        try:
            self._db = self._open()
        except BaseException:
            self.close()
            raise

    def _sniff(self) -> None:
        """Refuse a directory or a file that is not SQLite before anything (the lock file too) is made."""
        if self.path == ":memory:":
            return
        try:
            with open(self.path, "rb") as f:
                head = f.read(len(_SQLITE_HEADER))
        except FileNotFoundError:
            return  # a new journal
        except IsADirectoryError:
            raise JournalError(f"{self.path}: is a directory; the journal is a file") from None
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {_problem(exc)}") from None
        if head and head != _SQLITE_HEADER:  # an empty file is an empty database
            raise JournalError(f"{self.path}: {_NOT_SQLITE}") from None

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot open the journal: {_problem(exc)}") from None
        try:
            self._check(db)
            return db
        except BaseException:
            db.close()
            raise

    def _check(self, db: sqlite3.Connection) -> None:
        """Refuse what is not an adrop-kit journal (or not writable) before anything is sent."""
        try:
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                      if not name.startswith("sqlite_")]
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
                raise JournalError(f"{self.path}: {_NOT_SQLITE}") from None
            raise JournalError(f"{self.path}: cannot read the journal: {_problem(exc)}") from None
        try:
            if "deliveries" in tables:
                info = {name: pk for _, name, _, _, _, pk in db.execute("PRAGMA table_info(deliveries)")}
                if not set(COLUMNS) <= info.keys() or not info["key"]:
                    raise JournalError(f"{self.path}: not an adrop-kit journal: its deliveries table has other "
                                       f"columns ({', '.join(info)}); give the run a new journal file")
            elif tables:
                shown = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
                raise JournalError(f"{self.path}: not an adrop-kit journal: a SQLite database with other "
                                   f"tables ({shown}); give the run a new journal file")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(SCHEMA)
            db.execute("BEGIN IMMEDIATE")  # can we write? (a read-only file opens, and fails at the first write)
            try:
                db.execute("INSERT OR REPLACE INTO deliveries (key, status) VALUES ('#write-check', 'check')")
            finally:
                db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
                raise JournalError(f"{self.path}: the journal is read-only ({_problem(exc)})") from None
            raise JournalError(f"{self.path}: cannot use the journal: {_problem(exc)}") from None

    def lookup(self, keys: Iterable[str]) -> dict[str, tuple[str, int]]:
        """Known keys → (status, attempts so far)."""
        out: dict[str, tuple[str, int]] = {}
        keys = list(keys)
        try:
            with self._lock:
                for i in range(0, len(keys), 900):
                    chunk = keys[i:i + 900]
                    q = f"SELECT key, status, attempts FROM deliveries WHERE key IN ({','.join('?' * len(chunk))})"
                    for k, status, attempts in self._conn().execute(q, chunk):
                        out[k] = (status, attempts)
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {_problem(exc)}") from None
        return out

    label = "journal"
    """The journal as a `send.plan.Resume`: how a report names it."""

    def known(self, jobs: Iterable[Any]) -> dict[str, tuple[str, int]]:
        """What earlier runs settled among `jobs` (anything with a `key`), by key: the planner's
        question (`send.plan.Resume`)."""
        return self.lookup(j.key for j in jobs)

    def record(self, key: str, row: int, event_name: str | None, status: str, attempts: int,
               http_status: int | None = None, error: str | None = None) -> None:
        try:
            with self._lock:
                self._conn().execute(
                    "INSERT INTO deliveries (key, row, event_name, status, attempts, http_status, error, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET status=excluded.status,"
                    " attempts=excluded.attempts, http_status=excluded.http_status, error=excluded.error,"
                    " updated_at=excluded.updated_at",
                    (key, row, event_name, status, attempts, http_status, error, time.time()))
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot write the journal: {_problem(exc)}") from None

    def counts(self) -> dict[str, int]:
        try:
            with self._lock:
                return dict(self._conn().execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {_problem(exc)}") from None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalError(f"{self.path}: the journal is closed")
        return self._db

    def close(self) -> None:
        """Close the database, then release the lock. Idempotent."""
        with self._lock:
            db, self._db = self._db, None
        try:
            if db is not None:
                db.close()
        except sqlite3.Error:
            pass  # nothing is pending: every outcome was committed as it happened
        finally:
            file_lock, self._file_lock = self._file_lock, None
            if file_lock is not None:
                file_lock.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
