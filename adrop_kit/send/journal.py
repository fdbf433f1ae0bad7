"""The delivery journal: SQLite, one row per event key, the place a send remembers what it settled.

What identifies an event (its key) is the planner's business (`send.plan.Identity`); the journal
stores, per key, the event's position (`source`, `row`), the hash of the body sent (`body`) and of
its uid and eventName (`subject`: whose event, of what kind), its outcome and attempts, and answers
which keys earlier runs settled (`known`), and which positions were delivered with another body
(`delivered_at`: a row changed since it was delivered).

Group commit: the send's workers hand each outcome to the journal (`record`, a list append) and go
on; one writer thread commits them in groups, one transaction per `GROUP` outcomes or per
`GROUP_SECONDS` since the group's first, whichever comes first, and at once at the end of every batch,
before a lookup and at `close()` (`flush`). A worker waits when `MAX_UNCOMMITTED` outcomes are not yet
committed, so the writer never falls further behind. WAL, synchronous=NORMAL: a committed group
survives `kill -9` (no fsync per commit; the OS writes it to disk at its own pace, so a power cut may
lose the last groups). After `kill -9` the events whose fate is unknown are the ones in flight (at most
`concurrency`) plus the uncommitted outcomes (at most `MAX_UNCOMMITTED`, 64): the bound on duplicates
when the run is resumed.
The key itself is never written here, nor any header; payloads are not stored either.

One journal, one run at a time: a `Journal` holds an OS lock on the journal file itself (`flock`,
which belongs to the file's identity, its device and inode), for as long as it is open: a second
`Journal` on the same file, under any name (a hard link, a bind mount, another spelling), in this
process or another, raises `JournalInUse` at once. The holder's pid is noted in `<journal>.lock` for
the message. On Windows the lock is msvcrt's on that sidecar file (by name). The OS drops the lock
when the file is closed or the process dies, even by `kill -9`, so it is never stale.

`default_journal(endpoint, identity)`: where a send keeps its journal when not told
(`platformdirs.user_state_dir("adrop-kit")`, or `$ADROP_KIT_STATE_DIR`): one file per endpoint and input.

Every problem with the file is a `JournalError` naming it: not SQLite, someone else's
SQLite database, damaged (`PRAGMA quick_check` at open), read-only, a disk full or an I/O error mid-run,
or a journal of another endpoint (`bind`: the endpoint is noted in `journal_meta`, never the key).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adrop_kit.errors import JournalError
from adrop_kit.send.filelock import NOT_SQLITE, lock_file, problem, sniff

COLUMNS = ("key", "row", "event_name", "status", "attempts", "http_status", "error", "updated_at")
"""The columns every adrop-kit journal has (`source`, `body` and `subject` are added to older ones when opened)."""
SCHEMA = ("CREATE TABLE IF NOT EXISTS deliveries ("
          " key TEXT PRIMARY KEY, row INTEGER, event_name TEXT, status TEXT NOT NULL,"
          " attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER, error TEXT, updated_at REAL,"
          " source TEXT, body TEXT, subject TEXT)")
_POSITION_INDEX = "CREATE INDEX IF NOT EXISTS deliveries_row ON deliveries (row)"
_META = "CREATE TABLE IF NOT EXISTS journal_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
"""What a journal says of itself: the endpoint its deliveries went to (`Journal.bind`)."""
_UPSERT = ("INSERT INTO deliveries (key, row, event_name, status, attempts, http_status, error, updated_at, source,"
           " body, subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
           " status=excluded.status, attempts=excluded.attempts, http_status=excluded.http_status,"
           " error=excluded.error, updated_at=excluded.updated_at, row=excluded.row, source=excluded.source,"
           " body=excluded.body, subject=excluded.subject")

GROUP = 32
"""At most this many outcomes wait for one commit (and so may be sent again after `kill -9`)."""
GROUP_SECONDS = 0.05
"""…and no outcome waits longer than this for its group to be committed."""
MAX_UNCOMMITTED = 2 * GROUP
"""A worker noting an outcome waits while this many are not yet committed (the writer thread is behind):
after `kill -9`, at most this many delivered events are unknown to the journal, besides those in flight."""

STATE_DIR_ENV = "ADROP_KIT_STATE_DIR"
"""Overrides the directory default journals live in (tests, CI, a shared disk)."""



def state_dir() -> Path:
    """Where adrop-kit keeps its state: `$ADROP_KIT_STATE_DIR`, else the user's state directory
    (`platformdirs.user_state_dir("adrop-kit")`: `~/.local/state/adrop-kit` on Linux)."""
    env = os.environ.get(STATE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("adrop-kit", appauthor=False))


def default_journal(endpoint: str, identity: str) -> Path:
    """The journal a send uses when not given one: `<state dir>/journals/<host>-<hash>.journal`, the
    hash of the endpoint URL and the input's identity (`send.plan.input_identity`), so each endpoint
    and input has its own."""
    digest = hashlib.sha256(f"{endpoint}\n{identity}".encode("utf-8", "surrogatepass")).hexdigest()[:20]
    host = endpoint.split("//", 1)[-1].split("/", 1)[0]
    host = "".join(c if c.isalnum() or c in ".-" else "_" for c in host)[:60] or "endpoint"
    return state_dir() / "journals" / f"{host}-{digest}.journal"


class Journal:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[Any, ...]] = []  # outcomes waiting for their group's commit
        self._pending_since = 0.0
        self._committing = 0  # outcomes in the commit under way
        self._cond = threading.Condition()  # guards the four fields above and below
        self._urgent = self._stopping = False
        self._write_error: JournalError | None = None
        self._writer: threading.Thread | None = None
        if self.path != ":memory:":
            sniff(self.path)
        self._file_lock = None if self.path == ":memory:" else lock_file(self.path)
        try:
            self._db = self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot open the journal: {problem(exc)}") from None
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
            damage = None if self.path == ":memory:" else db.execute("PRAGMA quick_check(1)").fetchone()[0]
            page = db.execute("PRAGMA page_size").fetchone()[0]
            size = 0 if damage is None else os.path.getsize(self.path)  # quick_check misses a cut in an index page
            damage = f"cut short: {size:,} bytes, not a whole number of {page:,}-byte pages" if size % page else damage
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
                raise JournalError(f"{self.path}: {NOT_SQLITE}") from None
            if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_CORRUPT"):
                raise self._damaged(problem(exc)) from None
            raise JournalError(f"{self.path}: cannot read the journal: {problem(exc)}") from None
        if damage not in (None, "ok"):
            raise self._damaged(" ".join(str(damage).split())[:200])
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
            have = {name for _, name, *_ in db.execute("PRAGMA table_info(deliveries)")}
            for column in ("source", "body", "subject"):  # a journal of an earlier adrop-kit
                if column not in have:
                    db.execute(f"ALTER TABLE deliveries ADD COLUMN {column} TEXT")
            db.execute(_POSITION_INDEX)
            db.execute(_META)
            db.execute("BEGIN IMMEDIATE")  # can we write? (a read-only file opens, and fails at the first write)
            try:
                db.execute("INSERT OR REPLACE INTO deliveries (key, status) VALUES ('#write-check', 'check')")
            finally:
                db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
                raise JournalError(f"{self.path}: the journal is read-only ({problem(exc)})") from None
            raise JournalError(f"{self.path}: cannot use the journal: {problem(exc)}") from None

    def _damaged(self, detail: str) -> JournalError:
        """A damaged journal (cut short, overwritten): nothing is sent on its word (~0.25 s per 1M events)."""
        return JournalError(f"{self.path}: the journal is damaged ({detail}); nothing was sent: restore it from a "
                            "backup, or move it aside and start a new journal (what it recorded as delivered would "
                            "then be sent again)")

    def bind(self, endpoint: str, *, write: bool = True) -> None:
        """Tie the journal to the endpoint its deliveries go to, or refuse (`JournalError`) one that records
        deliveries to another: what was delivered there was not delivered here, and skipping it as
        "already delivered" would lose it. A journal of an earlier adrop-kit (no endpoint noted) takes
        this one, and so does one that settled nothing yet (every event failed: a wrong URL, since fixed).
        `write=False` (a dry run) checks without noting anything."""
        self.flush()
        try:
            with self._lock:
                db = self._conn()
                row = db.execute("SELECT value FROM journal_meta WHERE name = 'endpoint'").fetchone()
                settled = "SELECT 1 FROM deliveries WHERE status IN ('delivered', 'rejected') LIMIT 1"
                if row is not None and row[0] != endpoint and db.execute(settled).fetchone() is None:
                    row = None
                if row is None and write:
                    db.execute("INSERT OR REPLACE INTO journal_meta (name, value) VALUES ('endpoint', ?)", (endpoint,))
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot use the journal: {problem(exc)}") from None
        if row is not None and row[0] != endpoint:
            raise JournalError(f"{self.path}: this journal records deliveries to {row[0]}, not to {endpoint}: "
                               "give this run its own journal (--journal FILE), so that events delivered there "
                               "are not skipped here as already delivered")

    def lookup(self, keys: Iterable[str]) -> dict[str, tuple[str, int]]:
        """Known keys → (status, attempts so far)."""
        return {k: (status, attempts) for k, status, attempts in self._by_key("key, status, attempts", "1", keys)}

    def _by_key(self, columns: str, where: str, keys: Iterable[str]) -> list[tuple[Any, ...]]:
        """`columns` of the rows of `keys` that match `where`, once every outcome noted is committed."""
        keys, out = list(keys), []
        self.flush()
        try:
            with self._lock:
                for i in range(0, len(keys), 900):
                    chunk = keys[i:i + 900]
                    q = f"SELECT {columns} FROM deliveries WHERE {where} AND key IN ({','.join('?' * len(chunk))})"
                    out += self._conn().execute(q, chunk).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {problem(exc)}") from None
        return out

    label = "journal"
    """The journal as a `send.plan.Resume`: how a report names it."""

    def known(self, jobs: Iterable[Any]) -> dict[str, tuple[str, int]]:
        """What earlier runs settled among `jobs` (anything with a `key`), by key: the planner's
        question (`send.plan.Resume`)."""
        return self.lookup(j.key for j in jobs)

    def delivered_at(self, jobs: Iterable[Any]) -> dict[str, list[tuple[str, str | None, str | None]]]:
        """For each of `jobs` (with `key`, `source`, `row`) whose position an earlier run delivered
        under another key: that job's key → [(the delivered key, its body hash, its subject: None in a
        journal of an earlier adrop-kit)]. How the planner tells a row changed since it was delivered."""
        jobs = list(jobs)
        out: dict[str, list[tuple[str, str | None, str | None]]] = {}
        self.flush()
        try:
            with self._lock:
                db = self._conn()
                if db.execute("SELECT 1 FROM deliveries WHERE status = 'delivered' LIMIT 1").fetchone() is None:
                    return out
                for i in range(0, len(jobs), 400):
                    chunk = jobs[i:i + 400]
                    at = {(j.source or "", j.row): j.key for j in chunk}
                    rows = sorted({row for _, row in at})
                    q = (f"SELECT key, row, source, body, subject FROM deliveries WHERE status = 'delivered'"
                         f" AND row IN ({','.join('?' * len(rows))})")
                    for key, row, src, body, subject in db.execute(q, rows):
                        mine = at.get((src or "", row))
                        if mine is not None and key != mine:
                            out.setdefault(mine, []).append((key, body, subject))
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {problem(exc)}") from None
        return out

    def delivered_bodies(self, jobs: Iterable[Any]) -> dict[str, str]:
        """The body hash each of `jobs` (with a `key`) was delivered with, when known (not in a journal of an
        earlier adrop-kit): how the planner tells an event known by its id that changed since delivered."""
        return dict(self._by_key("key, body", "status = 'delivered' AND body IS NOT NULL", (j.key for j in jobs)))

    def record(self, key: str, row: int, event_name: str | None, status: str, attempts: int,
               http_status: int | None = None, error: str | None = None, *, source: str | None = None,
               body: str | None = None, subject: str | None = None) -> None:
        """Note an event's outcome; the journal's writer thread commits it with its group (see the
        module docstring). Waits while `MAX_UNCOMMITTED` outcomes are not yet committed; raises the
        writer's `JournalError` if a commit failed."""
        item = (key, row, event_name, status, attempts, http_status, error, time.time(), source, body, subject)
        with self._cond:
            if self._write_error is not None:
                raise self._write_error
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(item)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="adrop-journal", daemon=True)
                self._writer.start()
            if len(self._pending) >= GROUP:
                self._cond.notify_all()
            while len(self._pending) + self._committing >= MAX_UNCOMMITTED and self._write_error is None:
                self._cond.wait(0.1)
            if self._write_error is not None:
                raise self._write_error

    def flush(self) -> None:
        """Commit every outcome noted so far, now (the end of a batch, a lookup, `close()`)."""
        with self._cond:
            self._urgent = True
            self._cond.notify_all()
            while (self._pending or self._committing) and self._write_error is None and self._writer is not None:
                self._cond.wait(0.1)
            self._urgent = False
            if self._write_error is not None:
                raise self._write_error

    def _write_loop(self) -> None:
        """The writer thread: a group is committed when it is `GROUP` long, `GROUP_SECONDS` old, or asked for."""
        while True:
            with self._cond:
                while True:
                    if self._pending and (len(self._pending) >= GROUP or self._urgent or self._stopping
                                          or time.monotonic() - self._pending_since >= GROUP_SECONDS):
                        break
                    if self._stopping:
                        return
                    wait = GROUP_SECONDS if not self._pending else \
                        max(0.0, self._pending_since + GROUP_SECONDS - time.monotonic())
                    self._cond.wait(wait)
                rows, self._pending = self._pending, []
                self._committing = len(rows)
            try:
                with self._lock:
                    self._commit(rows)
            except JournalError as exc:
                with self._cond:
                    self._write_error = self._write_error or exc
            except Exception as exc:  # noqa: BLE001 - the writer must not die silently
                with self._cond:
                    self._write_error = self._write_error or JournalError(
                        f"{self.path}: cannot write the journal: {problem(exc)}")
            finally:
                with self._cond:
                    self._committing = 0
                    self._cond.notify_all()

    def _commit(self, rows: list[tuple[Any, ...]]) -> None:
        """Write one group in one transaction (the caller holds `_lock`)."""
        db = self._conn()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_UPSERT, rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot write the journal: {problem(exc)}") from None

    def counts(self) -> dict[str, int]:
        self.flush()
        try:
            with self._lock:
                return dict(self._conn().execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {problem(exc)}") from None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise JournalError(f"{self.path}: the journal is closed")
        return self._db

    def close(self) -> None:
        """Commit what is pending, stop the writer, close the database, then release the lock. Idempotent."""
        try:
            self.flush()
        except JournalError:
            pass  # the run already said the journal cannot be written (its last flush)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            writer, self._writer = self._writer, None
        if writer is not None and writer is not threading.current_thread():
            writer.join()
        with self._lock:
            db, self._db = self._db, None
        try:
            if db is not None:
                db.close()
        except sqlite3.Error:
            pass  # nothing is pending: the last group was committed above
        finally:
            file_lock, self._file_lock = self._file_lock, None
            if file_lock is not None:
                file_lock.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
