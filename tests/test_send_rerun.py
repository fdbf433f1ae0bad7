"""Re-runs of a streamed input (many batches, or many part files): nothing lost, nothing sent twice.

Whether a new row is "changed since delivered" (its position was delivered under a key no longer in the
input) is known only once the whole input is read: rows prepended to a big export, or moved to a later
part file, push the events they displaced into later batches. Those rows are new and must be sent.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any

import pytest
from conftest import KEY, app_opens, write_jsonl

import adrop_kit as ak
from adrop_kit.cli import main
from adrop_kit.send.http import HTTPTransport
from adrop_kit.send.transport import Response
from adrop_kit.server import Faults


@pytest.fixture
def srv():
    with ak.LocalServer(app_keys=[KEY]) as server:
        yield server


def _on_the_web(n: int, prefix: str = "u") -> list[dict[str, Any]]:
    """The same users as `app_opens(n, prefix)`, opening the app on the web: other events of theirs, whose
    uid and eventName match those of the rows they displace (what an edit in place would keep)."""
    return [{**e, "platform": "web"} for e in app_opens(n, prefix)]


def _send(srv: Any, path: Any, journal: Any, **kw: Any) -> Any:
    with ak.Sender(KEY, endpoint=srv.endpoint, journal=journal, progress=False) as sender:
        return sender.send_all(path, stream=True, batch_bytes=2_000, **kw)


def test_rows_prepended_to_a_streamed_export_are_sent_not_taken_for_changed_rows(srv, tmp_path):
    path, journal = tmp_path / "export.jsonl", tmp_path / "send.journal"
    old = app_opens(300)
    write_jsonl(path, old)
    assert _send(srv, path, journal).delivered == 300
    new = _on_the_web(200)  # newest first: the re-export starts with today's events, by the same users
    write_jsonl(path, [*new, *old])
    again = _send(srv, path, journal)
    assert (again.delivered, again.already_delivered, again.summary()["changed"]) == (200, 300, 0)
    assert srv.stats()["good"] == 500
    assert _send(srv, path, journal).already_delivered == 500


def test_rows_edited_in_place_in_a_streamed_export_are_still_changed_once_the_whole_input_is_read(srv, tmp_path):
    path, journal = tmp_path / "export.jsonl", tmp_path / "send.journal"
    old = [*app_opens(300), *({"uid": f"v{i}", "eventName": "page_view", "page_id": f"p{i}"} for i in range(100))]
    write_jsonl(path, old)
    _send(srv, path, journal)
    edited = [dict(r) for r in old]
    edited[10]["platform"] = "web"  # edited in place, in the first batch: its old event is in no later one
    edited[350]["page_id"] = "p-fixed"  # and in a later batch, whose columns differ
    write_jsonl(path, [*edited, *app_opens(100, prefix="new")])
    quarantine = tmp_path / "fix-me.jsonl"
    again = _send(srv, path, journal, quarantine=quarantine)
    assert (again.delivered, again.already_delivered, again.summary()["changed"]) == (100, 398, 2)
    changed = [o for o in again.outcomes if o.outcome == "changed"]
    assert [o.row for o in changed] == [10, 350] and "--resend-changed" in changed[0].error
    held = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert [(h["row"], h["uid"], h.get("platform"), h.get("page_id"), h["_adrop_outcome"]) for h in held] == [
        (10, "u10", "web", None, "changed"), (350, "v50", None, "p-fixed", "changed")]
    assert srv.stats()["good"] == 500


def test_a_dry_run_of_a_streamed_export_says_the_prepended_rows_would_be_sent(srv, tmp_path):
    path, journal = tmp_path / "export.jsonl", tmp_path / "send.journal"
    write_jsonl(path, app_opens(300))
    _send(srv, path, journal)
    write_jsonl(path, [*_on_the_web(200), *app_opens(300)])
    with ak.Sender(KEY, endpoint=srv.endpoint, journal=journal, progress=False, dry_run=True) as sender:
        dry = sender.send_all(path, stream=True, batch_bytes=2_000)
    assert dry.summary()["dry_run"] == 200 and dry.already_delivered == 300 and dry.summary()["changed"] == 0
    assert srv.stats()["good"] == 300


def test_the_cli_sends_rows_moved_to_a_later_part_file_and_the_new_rows_in_their_place(srv, tmp_path, capsys):
    parts, journal = tmp_path / "export", tmp_path / "send.journal"
    write_jsonl(parts / "a.jsonl", app_opens(5, prefix="a"))
    write_jsonl(parts / "b.jsonl", app_opens(5, prefix="b"))
    argv = ["send", str(parts), "--endpoint", srv.endpoint, "--journal", str(journal), "--format", "json",
            "--no-progress"]
    os.environ["ADROP_APP_KEY"] = KEY
    try:
        assert main(argv) == 0
        capsys.readouterr()
        # re-partitioned: a.jsonl now holds new events, its old ones moved to the end of b.jsonl
        write_jsonl(parts / "a.jsonl", _on_the_web(5, prefix="a"))
        write_jsonl(parts / "b.jsonl", [*app_opens(5, prefix="b"), *app_opens(5, prefix="a")])
        assert main(argv) == 0
    finally:
        del os.environ["ADROP_APP_KEY"]
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (summary["delivered"], summary["already_delivered"], summary["changed"]) == (5, 10, 0)
    assert srv.stats()["good"] == 15


class _KeyRevokedAfter:
    """The default HTTP transport, until `n` requests have gone: then every reply is a 401 (a fatal stop)."""

    def __init__(self, n: int):
        self.inner, self.left = HTTPTransport(), n

    def handle(self, request: Any) -> Response:
        self.left -= 1
        return self.inner.handle(request) if self.left >= 0 else Response(401, b'{"message":"!unauthorized"}')

    def close(self) -> None:
        self.inner.close()


def test_a_run_stopped_before_the_end_leaves_the_undecided_rows_pending_and_the_next_run_sends_them(srv, tmp_path):
    path, journal = tmp_path / "export.jsonl", tmp_path / "send.journal"
    write_jsonl(path, app_opens(300))
    _send(srv, path, journal)
    write_jsonl(path, [*_on_the_web(200), *app_opens(300), *app_opens(100, prefix="tail")])
    with ak.Sender(KEY, endpoint=srv.endpoint, journal=journal, progress=False, concurrency=1,
                   transport=_KeyRevokedAfter(30)) as sender:
        cut = sender.send_all(path, stream=True, batch_bytes=2_000)
    counts = cut.summary()
    assert cut.aborted and counts["changed"] == 0 and counts["delivered"] == 30
    undecided = [o for o in cut.outcomes if o.outcome == "pending" and o.row < 200]
    assert len(undecided) == 200 and "401" in undecided[0].error
    again = _send(srv, path, journal)
    assert (again.delivered, again.already_delivered, again.summary()["changed"]) == (270, 330, 0)
    assert srv.stats()["good"] == 600


def test_sigterm_stops_a_cli_send_as_ctrl_c_does_and_the_rerun_sends_each_event_once(tmp_path, capsys):
    """`timeout`, `kill`, `docker stop` and a cancelled CI job send SIGTERM: the requests in flight finish and
    are journaled, the report is printed (exit 143), and the next run sends exactly what did not arrive."""
    path, journal = write_jsonl(tmp_path / "events.jsonl", app_opens(400)), tmp_path / "send.journal"
    argv = ["send", str(path), "--journal", str(journal), "--concurrency", "2", "--format", "json", "--no-progress"]
    previous = signal.signal(signal.SIGTERM, lambda *_: None)  # a SIGTERM after the send must not end pytest
    os.environ["ADROP_APP_KEY"] = KEY
    try:
        with ak.LocalServer(app_keys=[KEY], faults=Faults(latency_ms=10)) as slow:
            def terminate_once_some_arrived() -> None:
                while slow.stats()["good"] < 40:
                    time.sleep(0.01)
                os.kill(os.getpid(), signal.SIGTERM)

            killer = threading.Thread(target=terminate_once_some_arrived, daemon=True)
            killer.start()
            assert main([*argv, "--endpoint", slow.endpoint]) == 143
            killer.join()
            summary = json.loads(capsys.readouterr().out)["summary"]
            assert summary["pending"] > 0 and summary["delivered"] + summary["pending"] == 400
            assert slow.stats()["good"] == summary["delivered"]  # what arrived is journaled: nothing in doubt
            assert main([*argv, "--endpoint", slow.endpoint]) == 0
            again = json.loads(capsys.readouterr().out)["summary"]
            assert again["delivered"] == summary["pending"] and slow.stats()["good"] == 400
    finally:
        del os.environ["ADROP_APP_KEY"]
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("id_column", [None, "event_id"])
def test_an_export_replaced_by_the_next_days_under_the_same_name_is_sent_not_taken_for_edits(srv, tmp_path,
                                                                                             id_column):
    """A row is "changed since delivered" when it is an edit (the same user's same event, another body) of
    the event delivered at its position; another event in its place is new, and an id is an identity."""
    path = tmp_path / "export.jsonl"
    day1 = [{"event_id": f"d1-{i}", "uid": f"u{i}", "eventName": "page_view", "page_id": "home"} for i in range(50)]
    day2 = [{"event_id": f"d2-{i}", "uid": f"v{i}", "eventName": "page_view", "page_id": "home"} for i in range(40)]
    day2[7] = {**day1[7], "page_id": "home-fixed"}  # row 7: yesterday's event, edited (its id kept)
    for rows in (day1, day2):
        write_jsonl(path, rows)
        with ak.Sender(KEY, endpoint=srv.endpoint, progress=False, id_column=id_column) as sender:  # default journal
            report = sender.send_all(path)
    assert (report.delivered, report.summary()["changed"]) == (39, 1)
    [changed] = [o for o in report.outcomes if o.outcome == "changed"]
    assert changed.row == 7 and srv.stats()["good"] == 89
