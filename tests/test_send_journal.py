"""The journal (issue 9): one run at a time on a journal (an OS lock), and every problem with the
file is a one-line `JournalError` naming it (the CLI: exit 2, `adrop-kit: error: …`, no traceback).

The server here is a tiny `http.server` that answers `{"message":"ok"}` and keeps every body it
got, so a test can tell whether anything arrived twice.
"""

from __future__ import annotations

import http.server
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from conftest import KEY, app_opens, write_jsonl

from adrop_kit import JournalError, JournalInUse
from adrop_kit.cli import main
from adrop_kit.send.journal import Journal
from adrop_kit.send.sender import Sender

DEAD = "http://127.0.0.1:9/event"  # nothing listens: these runs must stop before sending anything


class OkServer(http.server.ThreadingHTTPServer):
    """POST → 200 {"message":"ok"} after `latency` seconds; `bodies` holds every body received."""

    daemon_threads = True

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _OkHandler)
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}/event"

    def __enter__(self) -> OkServer:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def uids(self) -> list[str]:
        with self._lock:
            return [json.loads(b)["uid"] for b in self.bodies]


class _OkHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server._lock:
            self.server.bodies.append(body)
        time.sleep(self.server.latency)
        reply = b'{"message":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _one_line_error(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("adrop-kit: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


# -- one run at a time ------------------------------------------------------------------------

def test_two_senders_on_one_journal_in_one_process_the_second_is_refused(tmp_path):
    path = tmp_path / "send.journal"
    with OkServer() as srv:
        with Sender(KEY, endpoint=srv.endpoint, journal=path) as first:
            with pytest.raises(JournalInUse) as exc:
                Sender(KEY, endpoint=srv.endpoint, journal=path)
            assert str(exc.value).startswith(f"{path} is in use by another adrop-kit send (pid {os.getpid()}")
            assert isinstance(exc.value, JournalError)
            assert first.send_all(app_opens(5)).delivered == 5
        with Sender(KEY, endpoint=srv.endpoint, journal=path) as again:  # released on close
            assert again.send_all(app_opens(5)).already_delivered == 5
    assert len(srv.bodies) == 5


def test_the_lock_holds_however_the_path_is_spelled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Journal("send.journal"), pytest.raises(JournalInUse):
        Journal(tmp_path / "." / "send.journal")


SEND = [sys.executable, "-m", "adrop_kit", "send"]


@pytest.mark.slow  # fresh processes
def test_a_second_cli_run_on_a_journal_in_use_exits_2_at_once_and_a_rerun_sends_nothing_twice(tmp_path):
    n = 120
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(n))
    journal = tmp_path / "send.journal"
    env = {**os.environ, "ADROP_APP_KEY": KEY}
    with OkServer(latency=0.03) as srv:  # one worker: ~4 s for the first run
        args = [str(data), "--endpoint", srv.endpoint, "--journal", str(journal), "--concurrency", "1",
                "--no-progress", "--format", "json"]
        first = subprocess.Popen([*SEND, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120  # a limit to fail by: a fresh process starts slowly on a loaded machine
        while len(srv.bodies) < 5 and time.time() < deadline:
            time.sleep(0.02)
        assert len(srv.bodies) >= 5, "the first run never started sending"
        second = subprocess.run([*SEND, *args], env=env, capture_output=True, text=True, timeout=60)
        assert first.poll() is None, "the second run must stop while the first still runs, not wait for it"
        assert second.returncode == 2, second.stderr
        _one_line_error(second.stderr, f"{journal} is in use by another adrop-kit send (pid {first.pid})")
        assert second.stdout == ""
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert json.loads(out)["summary"]["delivered"] == n
        rerun = subprocess.run([*SEND, *args], env=env, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        assert json.loads(rerun.stdout)["summary"]["already_delivered"] == n
    uids = srv.uids()
    assert len(uids) == n and len(set(uids)) == n  # every event once, none twice


HOLDER = """
import sys, time
from adrop_kit.send.journal import Journal
j = Journal(sys.argv[1])
print("locked", flush=True)
time.sleep(120)
"""


@pytest.mark.slow  # a killed process
def test_kill_9_never_leaves_a_stale_lock(tmp_path):
    path = tmp_path / "send.journal"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(JournalInUse, match=f"pid {holder.pid}"):
            Journal(path)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with Journal(path) as j:  # the OS let go of the lock with the process
        assert j.counts() == {}


def test_a_hard_link_to_a_journal_in_use_is_refused_in_another_process(tmp_path):
    """The lock is on the file (device and inode), not its name: a hard link is the same journal."""
    path = tmp_path / "send.journal"
    Journal(path).close()
    other = tmp_path / "elsewhere"
    other.mkdir()
    link = other / "same.journal"
    os.link(path, link)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(link)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(JournalInUse, match="in use by another adrop-kit send"):
            Journal(path)
        with OkServer() as srv, pytest.raises(JournalInUse):
            Sender(KEY, endpoint=srv.endpoint, journal=path)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with Journal(path), pytest.raises(JournalInUse):  # and the other way round, in one process
        Journal(link)


@pytest.mark.slow  # a killed process
def test_kill_9_mid_send_then_a_rerun_sends_again_at_most_the_in_flight_and_the_uncommitted(tmp_path):
    from adrop_kit.send.journal import MAX_UNCOMMITTED

    n, concurrency = 1500, 4
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(n))
    journal = tmp_path / "send.journal"
    env = {**os.environ, "ADROP_APP_KEY": KEY}
    args = [str(data), "--endpoint", "", "--journal", str(journal), "--concurrency", str(concurrency),
            "--no-progress", "--format", "json"]
    with OkServer(latency=0.002) as srv:
        args[2] = srv.endpoint
        first = subprocess.Popen([*SEND, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while len(srv.bodies) < n // 3 and time.time() < deadline:
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert 0 < len(srv.bodies) < n, "the run must be killed mid-send"
        rerun = subprocess.run([*SEND, *args], env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    uids = Counter(srv.uids())
    assert set(uids) == {f"u{i}" for i in range(n)}  # nothing lost
    twice = sum(c - 1 for c in uids.values())
    assert twice <= concurrency + MAX_UNCOMMITTED, twice  # in flight, plus the outcomes not yet committed


# -- problems with the file: one line, exit 2 -------------------------------------------------

def _not_sqlite(path):
    path.write_text("uid,eventName\nu1,app_open\n")


def _foreign_deliveries(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE deliveries (id INTEGER PRIMARY KEY, parcel TEXT, address TEXT)")
        db.execute("INSERT INTO deliveries (parcel, address) VALUES ('box', 'Main St 1')")
    db.close()


def _other_tables(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
    db.close()


def _directory(path):
    path.mkdir()


@pytest.mark.parametrize(("make", "problem"), [
    (_not_sqlite, "not an adrop-kit journal (not a SQLite database)"),
    (_foreign_deliveries, "not an adrop-kit journal: its deliveries table has other columns (id, parcel, address)"),
    (_other_tables, "not an adrop-kit journal: a SQLite database with other tables (customers, orders)"),
    (_directory, "is a directory"),
], ids=["not-sqlite", "foreign-deliveries-table", "other-tables", "directory"])
def test_a_journal_that_is_not_ours_is_a_one_line_error_and_is_left_untouched(make, problem, tmp_path, capsys,
                                                                             monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(3))
    journal = tmp_path / "send.journal"
    make(journal)
    before = journal.read_bytes() if journal.is_file() else None
    code, out, err = _cli(["send", str(data), "--endpoint", DEAD, "--journal", str(journal)], capsys)
    assert code == 2 and out == ""
    _one_line_error(err, f"{journal}: {problem}")
    if before is not None:
        assert journal.read_bytes() == before  # nothing of ours was written into someone else's file
    if make in (_not_sqlite, _directory):
        assert not (tmp_path / "send.journal.lock").exists()  # refused before even the lock file is made
    with pytest.raises(JournalError, match=problem.split(" (")[0]):  # the same through the Python API
        Sender(KEY, endpoint=DEAD, journal=journal)


def _make_read_only(path) -> None:
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        return
    # root writes through file modes: use the immutable attribute (ext4/xfs), else there is no read-only file
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: cannot make a read-only file")


def test_a_read_only_journal_is_a_one_line_error_before_anything_is_sent(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(3))
    journal = tmp_path / "send.journal"
    Journal(journal).close()  # a real journal, from an earlier run
    _make_read_only(journal)
    try:
        with OkServer() as srv:
            code, out, err = _cli(["send", str(data), "--endpoint", srv.endpoint, "--journal", str(journal)],
                                  capsys)
        assert code == 2 and out == ""
        _one_line_error(err, f"{journal}: the journal is read-only")
        assert srv.bodies == []  # refused at once, not after the first delivery failed to be recorded
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(journal)], capture_output=True)


class _FullDisk:
    """A journal connection whose writes fail after `ok` of them, as on a full disk."""

    def __init__(self, db: sqlite3.Connection, ok: int):
        self._db, self._ok = db, ok

    def execute(self, sql: str, *args: object):
        if sql.startswith("INSERT INTO deliveries"):
            if self._ok <= 0:
                raise sqlite3.OperationalError("database or disk is full")
            self._ok -= 1
        return self._db.execute(sql, *args)

    def executemany(self, sql: str, rows: list) -> object:  # a group commit
        if sql.startswith("INSERT INTO deliveries"):
            if self._ok < len(rows):
                raise sqlite3.OperationalError("database or disk is full")
            self._ok -= len(rows)
        return self._db.executemany(sql, rows)

    def close(self) -> None:
        self._db.close()


def test_a_journal_write_failing_mid_run_is_a_one_line_error_after_the_report(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(20))
    journal = tmp_path / "send.journal"
    real_open = Journal._open
    monkeypatch.setattr(Journal, "_open", lambda self: _FullDisk(real_open(self), ok=3))
    with OkServer(latency=0.03) as srv:  # a group is committed every 50 ms: mid-run
        code, out, err = _cli(["send", str(data), "--endpoint", srv.endpoint, "--journal", str(journal),
                               "--concurrency", "1", "--format", "json"], capsys)
    assert code == 2
    _one_line_error(err, f"{journal}: cannot write the journal: database or disk is full")
    summary = json.loads(out)["summary"]  # what did happen is still reported
    assert summary["pending"] > 0 and summary["delivered"] + summary["pending"] == 20
    assert len(srv.bodies) == summary["delivered"]


FILL_LIMIT = 96 * 1024


def _limit_file_size() -> None:  # in the child: files stop growing past FILL_LIMIT, like a full disk
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILL_LIMIT, FILL_LIMIT))


@pytest.mark.slow  # a fresh process
def test_a_journal_that_cannot_grow_mid_run_exits_2_with_one_line(tmp_path):
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(300))
    journal = tmp_path / "send.journal"
    with OkServer() as srv:
        run = subprocess.run([*SEND, str(data), "--endpoint", srv.endpoint, "--journal", str(journal),
                              "--concurrency", "2", "--no-progress"], env={**os.environ, "ADROP_APP_KEY": KEY},
                             capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size)
    assert run.returncode == 2, (run.stdout, run.stderr)
    _one_line_error(run.stderr, f"{journal}: cannot write the journal:")
    assert "Stopped:" in run.stdout and 0 < len(srv.bodies) < 300
