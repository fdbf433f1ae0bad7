"""The journal's file: is it one (`sniff`, before anything is made), and its lock: one run at a time on a
journal file, whatever its name.

POSIX: `flock` on the journal file itself. An flock belongs to the open file, and so to the file's
identity (its device and inode): a second path to it (another spelling, a symlink, a hard link, a bind
mount) meets the same lock, in this process or another. SQLite's own locks are POSIX record locks, a
separate mechanism, so the two never interfere. Windows: msvcrt's byte lock on `<journal>.lock` (by name).
The OS drops either when the file is closed or the process dies, even by `kill -9`: never stale.
The holder's pid is noted in `<journal>.lock`, for the next one's message.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from adrop_kit.errors import JournalError, JournalInUse

try:
    import fcntl
except ImportError:  # Windows: msvcrt's byte locks, also dropped when the file is closed or the process dies
    fcntl = None  # type: ignore[assignment]
    import msvcrt

_WINDOWS_LOCK_BYTE = 1 << 20


_SQLITE_HEADER = b"SQLite format 3\x00"
NOT_SQLITE = "not an adrop-kit journal (not a SQLite database); give the run a new journal file"


def sniff(path: str) -> None:
    """Refuse a directory, a missing directory or a file that is not SQLite before anything (the lock
    file too) is made."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise JournalError(f"{path}: cannot keep a journal there: the directory {parent} does not "
                               "exist (create it, or give a journal file in an existing directory)") from None
        return  # a new journal
    except NotADirectoryError:  # a file stands where its directory should be
        raise JournalError(f"{path}: cannot keep a journal there: {os.path.dirname(os.path.abspath(path))} is not "
                           "a directory") from None
    except IsADirectoryError:
        raise JournalError(f"{path}: is a directory; the journal is a file") from None
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the journal: {problem(exc)}") from None
    if head and head != _SQLITE_HEADER:  # an empty file is an empty database
        raise JournalError(f"{path}: {NOT_SQLITE}") from None


def problem(exc: BaseException) -> str:
    """An OS or SQLite error as one short line."""
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


def _open_for_lock(path: str) -> int:
    """A descriptor on the journal file itself (created empty if new: an empty file is an empty
    database); read-only when that is all it allows (SQLite then says the journal is read-only)."""
    flags = getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | flags, 0o644)
    except (PermissionError, OSError) as exc:
        if not isinstance(exc, PermissionError) and exc.errno != errno.EROFS:
            raise
        return os.open(path, os.O_RDONLY | flags)


def lock_file(path: str) -> Any:
    """Take the journal's lock (an open file holding it), or raise JournalInUse / JournalError.
    POSIX: `flock` on the journal file itself, so the lock follows its device and inode, not its name."""
    note = os.path.realpath(path) + ".lock"  # who holds it, for the next one's message
    try:
        fd = _open_for_lock(path) if fcntl is not None else \
            os.open(note, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as exc:
        where = path if fcntl is not None else f"the journal's lock file {note}"
        raise JournalError(f"{path}: cannot open {where} to lock it: {problem(exc)}") from None
    lock = open(fd, "rb", buffering=0)  # held while the Journal is open; closing it releases the lock
    try:
        locked = _try_lock(fd)
    except OSError as exc:
        lock.close()
        raise JournalError(f"{path}: cannot lock the journal: {problem(exc)}") from None
    if not locked:
        lock.close()
        holder = _read_note(note)
        here = " (this process)" if holder == str(os.getpid()) else ""
        raise JournalInUse(f"{path} is in use by another adrop-kit send (pid {holder}{here}); wait for it to "
                           "finish, or give this run another journal")
    try:
        with open(note, "wb") as f:
            f.write(str(os.getpid()).encode())
    except OSError:
        pass  # the lock holds without the note
    return lock


def _read_note(note: str) -> str:
    try:
        with open(note, "rb") as f:
            return f.read(32).decode("ascii", "replace").strip() or "unknown"
    except OSError:
        return "unknown"


__all__ = ["NOT_SQLITE", "lock_file", "problem", "sniff"]
