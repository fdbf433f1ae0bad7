"""A journal only answers for what it saw: a journal of another endpoint, or a damaged journal file, is
a one-line refusal (exit 2) before anything is sent, never a run that skips events as "already delivered"
on its word (they would be lost) or dies mid-send.
"""

from __future__ import annotations

import os
import sqlite3

import pytest
from conftest import KEY, app_opens, write_jsonl

import adrop_kit as ak
from adrop_kit import JournalError
from adrop_kit.cli import main
from adrop_kit.send.journal import Journal


@pytest.fixture
def two():
    with ak.LocalServer(app_keys=[KEY]) as a, ak.LocalServer(app_keys=[KEY]) as b:
        yield a, b


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    os.environ["ADROP_APP_KEY"] = KEY
    try:
        code = main([*argv, "--no-progress"])
    finally:
        del os.environ["ADROP_APP_KEY"]
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _one_line_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith("adrop-kit: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def test_a_journal_of_another_endpoint_is_refused_instead_of_skipping_its_events(two, tmp_path, capsys):
    a, b = two
    data, journal = write_jsonl(tmp_path / "events.jsonl", app_opens(20)), tmp_path / "send.journal"
    assert _cli(["send", str(data), "--endpoint", a.endpoint, "--journal", str(journal)], capsys)[0] == 0
    for dry in ([], ["--dry-run"]):  # a dry run says what the real run would do
        code, out, err = _cli(["send", str(data), "--endpoint", b.endpoint, "--journal", str(journal), *dry], capsys)
        assert code == 2 and out == ""
        _one_line_error(err, str(journal), f"records deliveries to {a.endpoint}", b.endpoint, "--journal")
    assert b.stats()["good"] == 0 and a.stats()["good"] == 20
    with pytest.raises(JournalError, match="records deliveries to"), \
            ak.Sender(KEY, endpoint=b.endpoint, journal=journal, progress=False) as sender:
        sender.send_all(data)
    # the same endpoint however spelled is the same endpoint: nothing twice
    code, out, _ = _cli(["send", str(data), "--endpoint", a.endpoint.replace("http://", "HTTP://"),
                         "--journal", str(journal)], capsys)
    assert code == 0 and a.stats()["good"] == 20


def test_a_journal_that_settled_nothing_follows_the_endpoint_once_it_is_fixed(two, tmp_path, capsys):
    a, _ = two
    data, journal = write_jsonl(tmp_path / "events.jsonl", app_opens(5)), tmp_path / "send.journal"
    code, _, _ = _cli(["send", str(data), "--endpoint", "http://127.0.0.1:9/event", "--journal", str(journal),
                       "--retries", "0"], capsys)
    assert code == 3  # a wrong URL: every event failed, nothing was settled
    assert _cli(["send", str(data), "--endpoint", a.endpoint, "--journal", str(journal)], capsys)[0] == 0
    assert a.stats()["good"] == 5


@pytest.mark.parametrize("damage", ["cut-short", "overwritten"])
def test_a_damaged_journal_is_a_one_line_error_and_nothing_is_sent(two, tmp_path, capsys, damage):
    a, _ = two
    data, journal = write_jsonl(tmp_path / "events.jsonl", app_opens(3000)), tmp_path / "send.journal"
    assert _cli(["send", str(data), "--endpoint", a.endpoint, "--journal", str(journal)], capsys)[0] == 0
    size = journal.stat().st_size
    if damage == "cut-short":  # a copy cut short (a full disk, an interrupted copy)
        os.truncate(journal, size - 100)
    else:
        with open(journal, "r+b") as f:
            f.seek(size // 2)
            f.write(os.urandom(4096))
    code, out, err = _cli(["send", str(data), "--endpoint", a.endpoint, "--journal", str(journal)], capsys)
    assert code == 2 and out == ""
    _one_line_error(err, str(journal), "the journal is damaged", "nothing was sent")
    assert a.stats()["good"] == 3000
    with pytest.raises(JournalError, match="damaged"):
        Journal(journal)


def test_a_journal_in_a_directory_that_does_not_exist_says_so(tmp_path, capsys):
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(1))
    journal = tmp_path / "nowhere" / "send.journal"
    for dry in ([], ["--dry-run"]):  # a dry run says what the real run would stop on
        code, _, err = _cli(["send", str(data), "--endpoint", "http://127.0.0.1:9/event", "--journal", str(journal),
                             *dry], capsys)
        assert code == 2
        _one_line_error(err, str(journal), f"the directory {journal.parent} does not exist")
    assert not journal.parent.exists()


def test_a_journal_under_a_file_says_so_in_a_dry_run_as_in_the_real_one(tmp_path, capsys):
    data = write_jsonl(tmp_path / "events.jsonl", app_opens(1))
    (tmp_path / "afile").write_text("x")
    journal = tmp_path / "afile" / "send.journal"
    for dry in ([], ["--dry-run"]):
        code, _, err = _cli(["send", str(data), "--endpoint", "http://127.0.0.1:9/event", "--journal", str(journal),
                             *dry], capsys)
        assert code == 2
        _one_line_error(err, str(journal), f"{journal.parent} is not a directory")


def test_an_endpoint_is_noted_in_the_journal_and_never_the_key(two, tmp_path):
    a, _ = two
    journal = tmp_path / "send.journal"
    with ak.Sender(KEY, endpoint=a.endpoint, journal=journal, progress=False) as sender:
        sender.send_all(app_opens(2))
    db = sqlite3.connect(journal)
    assert db.execute("SELECT value FROM journal_meta WHERE name = 'endpoint'").fetchone()[0] == a.endpoint
    db.close()
    assert KEY.encode() not in journal.read_bytes()


def test_rows_taken_as_delivered_by_the_journal_shared_by_every_in_memory_input_are_named(two, tmp_path):
    """Rows in memory (and standard input) have no name: their default journal is one per endpoint, so
    another dataset's event with the same body is taken as delivered. The report says so, never silently."""
    a, _ = two
    with ak.Sender(KEY, endpoint=a.endpoint, progress=False) as sender:  # the default journal
        first = sender.send_all(app_opens(2))
        assert first.notes == () and first.delivered == 2
        second = sender.send_all(app_opens(3))  # another dataset: u0 and u1 again (other app opens?), and u2
    assert (second.delivered, second.already_delivered) == (1, 2)
    [note] = [n for n in second.notes if "default journal" in n]
    assert "already delivered: 2" in note and "rows in memory" in note and "its own journal" in note
    with ak.Sender(KEY, endpoint=a.endpoint, progress=False, journal=tmp_path / "j") as sender:  # chosen: no note
        sender.send_all(app_opens(2))
        assert not any("default journal" in n for n in sender.send_all(app_opens(2)).notes)
