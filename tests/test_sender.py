"""The sender against the real local server: outcomes, retries, journal, dry-run, key safety.

The server is the plugin's `adrop_server`, the sender often its `adrop_sender` (options through
`@pytest.mark.adrop_sender(...)`); servers with faults are started here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import KEY, app_opens, write_jsonl

import adrop_kit as ak
from adrop_kit import InsecureEndpoint, MissingKey, Outcome, RetryPolicy
from adrop_kit.cli.exits import for_send
from adrop_kit.send.http import HTTPTransport
from adrop_kit.send.journal import MAX_UNCOMMITTED, Journal
from adrop_kit.send.sender import Sender
from adrop_kit.send.transport import classify, parse_retry_after
from adrop_kit.server import Faults, LocalServer


def test_send_one_event(adrop_server, adrop_sender):
    sent = adrop_sender.send({"uid": "u", "eventName": "app_open"})
    assert sent.outcome is Outcome.DELIVERED and sent.ok and (sent.eventName, sent.status) == ("app_open", 200)
    assert isinstance(sent, ak.EventOutcome) and ak.SendResult is ak.EventOutcome  # one result type
    skipped = adrop_sender.send({"uid": "u", "eventName": "sign_up"})
    assert skipped.outcome == "skipped" and "E005" in skipped.error and not skipped.ok
    assert [v.rule for v in skipped.violations] == ["E005"]
    assert adrop_server.stats() == {"total": 1, "good": 1, "bad": 0}


@pytest.mark.adrop_sender(concurrency=4)
def test_send_all_accounts_for_every_row(adrop_server, adrop_sender):
    rows = app_opens(50) + [{"uid": "u", "eventName": "sign_up"}, [1, 2]]
    report = adrop_sender.send_all(rows)
    assert (report.total, report.delivered, report.skipped, report.failed) == (52, 50, 2, 0)
    assert for_send(report) == 1
    table = report.table()
    assert table.height == 52 and set(table["outcome"]) == {"delivered", "skipped"}
    assert adrop_server.stats()["good"] == 50


@pytest.mark.adrop_sender(validate=False)  # the server's !invalid is what the sender must classify
def test_a_server_rejection_is_not_retried(adrop_sender):
    report = adrop_sender.send_all([{"uid": "u", "eventName": "sign_up"}])
    (o,) = report.outcomes
    assert (o.outcome, o.status, o.attempts) == ("rejected", 400, 1)
    assert for_send(report) == 1


def test_a_200_carrying_invalid_is_a_rejection():
    # a reply is named in the one vocabulary of an event's fate, plus what the next attempt should do
    assert classify(200, b'{"message":"!invalid"}').outcome is Outcome.REJECTED
    assert classify(200, b'{"message":"ok"}').outcome is Outcome.DELIVERED
    html = classify(200, b"<html>")
    assert html.outcome is Outcome.FAILED and html.fatal and not html.retryable
    busy = classify(503, b"")
    assert busy.outcome is Outcome.FAILED and busy.retryable and not busy.fatal
    assert classify(429, b"", "3").retry_after == 3.0
    for status in (400, 413, 415):
        reply = classify(status, b"{}")
        assert reply.outcome is Outcome.REJECTED and not (reply.retryable or reply.fatal)
    assert classify(401, b"{}").fatal
    assert {r.outcome for r in (html, busy)} <= set(Outcome)


def test_retry_after_forms():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize("fault", ["fail_rate", "throttle_rate", "drop_rate"])
def test_each_fault_kind_is_retried_until_delivered(fault):
    faults = Faults(**{fault: 0.4}, seed=3, retry_after=0.01)
    with LocalServer(app_keys=[KEY], faults=faults) as srv, \
            Sender(KEY, endpoint=srv.endpoint, concurrency=4, retry=RetryPolicy(retries=12, backoff=0.005)) as s:
        report = s.send_all(app_opens(60))
        assert report.delivered == 60 and report.failed == 0
        assert max(o.attempts for o in report.outcomes) > 1
        assert srv.stats()["good"] == 60  # a retried event is stored once


def test_retry_after_is_honoured():
    faults = Faults(throttle_rate=1.0, retry_after=0.4)
    with LocalServer(app_keys=[KEY], faults=faults) as srv, \
            Sender(KEY, endpoint=srv.endpoint, retry=RetryPolicy(retries=2, backoff=0.001)) as s:
        t = time.perf_counter()
        result = s.send({"uid": "u", "eventName": "app_open"})
        elapsed = time.perf_counter() - t
    assert result.outcome == "failed" and result.attempts == 3 and result.status == 429
    assert elapsed >= 0.8  # two waits of Retry-After, not the 1 ms back-off


def test_a_dead_server_fails_after_retries_with_the_reason():
    with Sender(KEY, endpoint="http://127.0.0.1:9/event", retry=RetryPolicy(retries=2, backoff=0.001)) as s:
        report = s.send_all(app_opens(3))
    assert report.failed == 3 and for_send(report) == 3
    assert "refused" in report.outcomes[0].error


def test_a_wrong_key_aborts_the_run_and_leaves_the_rest_pending(adrop_server):
    with Sender("wrong-key-123", endpoint=adrop_server.endpoint, concurrency=1) as s:
        report = s.send_all(app_opens(20))
    assert report.delivered == 0 and report.failed >= 1 and report.failed + report.pending == 20
    assert "unauthorized" in report.aborted and for_send(report) == 3


def test_the_journal_skips_what_was_delivered_and_retries_what_failed(tmp_path):
    journal = tmp_path / "send.journal"
    rows = app_opens(40)
    with LocalServer(app_keys=[KEY], faults=Faults(fail_rate=0.5, seed=1)) as srv:
        with Sender(KEY, endpoint=srv.endpoint, journal=journal, retry=RetryPolicy(retries=0)) as s:
            first = s.send_all(rows)
        assert first.failed > 0 and first.delivered + first.failed == 40
        with Sender(KEY, endpoint=srv.endpoint, journal=journal, dry_run=True) as s:  # asks the journal too
            dry = s.send_all(rows)
        assert (dry.already_delivered, dry.count("dry_run")) == (first.delivered, first.failed)
        assert len(dry.requests) == min(5, first.failed) and srv.stats()["good"] == first.delivered
        srv.faults = Faults()
        with Sender(KEY, endpoint=srv.endpoint, journal=journal, retry=RetryPolicy(retries=0)) as s:
            second = s.send_all(rows)
        assert second.already_delivered == first.delivered and second.delivered == first.failed
        assert for_send(second) == 0
        assert srv.stats()["good"] == 40  # nothing sent twice
        with Sender(KEY, endpoint=srv.endpoint, journal=journal) as s:
            third = s.send_all(rows)
        assert third.already_delivered == 40 and srv.stats()["good"] == 40


def test_dry_run_sends_nothing_and_masks_the_key(adrop_server):
    with Sender(KEY, endpoint=adrop_server.endpoint, dry_run=True) as s:
        report = s.send_all(app_opens(5) + [{"uid": "u", "eventName": "sign_up"}])
    assert report.count("dry_run") == 5 and report.skipped == 1
    assert adrop_server.stats()["total"] == 0
    assert "Authorization: sk…89" in report.requests[0]
    assert KEY not in report.to_json() and KEY not in "\n".join(report.requests)


def test_dry_run_needs_no_key(monkeypatch):
    monkeypatch.delenv("ADROP_APP_KEY", raising=False)
    with Sender(dry_run=True) as s:
        assert s.send({"uid": "u", "eventName": "app_open"}).outcome == "dry_run"


def test_the_key_never_shows(adrop_server, tmp_path, monkeypatch):
    key = adrop_server.app_key
    monkeypatch.setenv("ADROP_APP_KEY", key)
    journal = tmp_path / "j.db"
    with Sender(endpoint="http://127.0.0.1:9/event", journal=journal, retry=RetryPolicy(retries=0)) as s:
        text = repr(s) + str(s.send_all(app_opens(2))) + s.send_all(app_opens(2)).to_json()
    with Sender(endpoint=adrop_server.endpoint, journal=journal) as s:
        report = s.send_all(app_opens(3))
        text += repr(report) + repr(s)
    assert report.delivered == 3  # the key did its job, and still shows nowhere
    assert key not in text
    for f in tmp_path.iterdir():
        assert key.encode() not in f.read_bytes()


def test_missing_key_and_insecure_endpoints(monkeypatch):
    monkeypatch.delenv("ADROP_APP_KEY", raising=False)
    with pytest.raises(MissingKey, match="ADROP_APP_KEY"):
        Sender()
    with pytest.raises(InsecureEndpoint, match="unencrypted"):
        Sender(KEY, endpoint="http://api.example.com/event")
    for ok in ("http://127.0.0.1:1/event", "http://localhost:1/event", "http://[::1]:1/event",
               "https://api.example.com/event"):
        Sender(KEY, endpoint=ok).close()
    with pytest.raises(ValueError):
        Sender(KEY, concurrency=0)


@pytest.mark.adrop_sender(rate=50, concurrency=8)
def test_rate_limit_spaces_requests(adrop_sender):
    t = time.perf_counter()
    report = adrop_sender.send_all(app_opens(30))
    elapsed = time.perf_counter() - t
    assert report.delivered == 30 and elapsed >= 0.5  # 30 events at 50/s, one token to start


@pytest.mark.adrop_sender(transport="requests", validate=False)
def test_requests_transport_gives_the_same_outcomes(adrop_sender):
    report = adrop_sender.send_all(app_opens(5) + [{"uid": "u", "eventName": "sign_up"}])
    assert (report.delivered, report.rejected) == (5, 1)


def test_no_worker_thread_survives_the_sender(adrop_server):
    import threading

    with Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, concurrency=6) as s:
        assert s.send_all(app_opens(30)).delivered == 30
    assert not [t for t in threading.enumerate() if t.name.startswith("adrop-send")]


SENDER_SCRIPT = textwrap.dedent("""
    import json, sys
    from adrop_kit.send.sender import Sender
    endpoint, journal, path = sys.argv[1:4]
    rows = [json.loads(line) for line in open(path)]
    with Sender(endpoint=endpoint, journal=journal, concurrency=4, progress=False) as s:
        s.send_all(rows)
""")


@pytest.mark.slow  # a process killed mid-send
def test_kill_9_mid_send_then_resume_loses_nothing(tmp_path):
    n, concurrency = 300, 4
    rows = app_opens(n)
    data = write_jsonl(tmp_path / "events.jsonl", rows)
    journal = tmp_path / "send.journal"
    with LocalServer(app_keys=[KEY], faults=Faults(latency_ms=10)) as srv:
        env = {**os.environ, "ADROP_APP_KEY": KEY}
        proc = subprocess.Popen([sys.executable, "-c", SENDER_SCRIPT, srv.endpoint, str(journal), str(data)], env=env)
        deadline = time.time() + 120  # a limit to fail by: a fresh process starts slowly on a loaded machine
        while srv.stats()["good"] < 60 and time.time() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        got_before = srv.stats()["good"]
        assert 0 < got_before < n, "the kill should land mid-run"
        with Journal(journal) as j:  # the killed run's lock went with it
            counts = j.counts()
        assert counts.get("delivered", 0) >= got_before - concurrency - MAX_UNCOMMITTED  # group commits
        with Sender(KEY, endpoint=srv.endpoint, journal=journal, concurrency=concurrency) as s:
            report = s.send_all(data)
        assert for_send(report) == 0 and report.delivered + report.already_delivered == n
        stored = [e["payload"]["uid"] for e in srv.events("good", limit=10_000)]
    import hashlib

    expected = {hashlib.sha256(r["uid"].encode()).hexdigest() for r in rows}
    assert set(stored) == expected  # every event arrived
    # duplicates: at most the events in flight at the kill and those not yet committed in the journal
    assert len(stored) - n <= concurrency + MAX_UNCOMMITTED


def test_skipped_rows_say_why(adrop_sender):
    rows = [*app_opens(2), {"uid": "", "eventName": "sign_up"}, {"uid": "u", "eventName": "click"}]
    report = adrop_sender.send_all(rows)
    why = {o.row: o.error for o in report.outcomes if o.outcome == "skipped"}
    assert why[2].startswith("E002 uid:") and "E005 method" in why[2]
    assert why[3] == "E005 element_id: element_id is required for click but is missing"


def test_a_wrong_endpoint_path_stops_the_run_instead_of_failing_every_event(adrop_server):
    with Sender(adrop_server.app_key, endpoint=adrop_server.url + "/events", concurrency=2) as s:
        report = s.send_all(app_opens(30))
    assert report.delivered == 0 and report.failed >= 1 and report.failed + report.pending == 30
    assert "404" in report.aborted and for_send(report) == 3


@pytest.mark.adrop_sender(validate=False)
def test_nan_is_never_sent_as_null(adrop_server, adrop_sender):
    import math

    result = adrop_sender.send({"uid": "u", "eventName": "view_item", "item_id": "a", "price": math.nan})
    assert result.outcome == "rejected"  # the body carried NaN, which is not JSON; it did not become null
    assert adrop_server.stats() == {"total": 1, "good": 0, "bad": 1}


@pytest.mark.parametrize("bad_key", ["SECRETKEY-abc\r\ndef", "SECRET\u200bKEY-abcdef", "SECRET KEY-abcdef"])
def test_a_key_with_control_or_non_ascii_characters_is_refused_without_showing_it(bad_key):
    with pytest.raises(MissingKey) as exc:
        Sender(bad_key, endpoint="http://127.0.0.1:9/event")
    assert "SECRET" not in str(exc.value) and "position" in str(exc.value)


def test_a_journal_that_fails_mid_run_stops_the_run_with_the_reason(adrop_server, tmp_path, monkeypatch):
    from adrop_kit.send.journal import JournalError

    journal = Journal(tmp_path / "j.db")
    calls = {"n": 0}
    real = journal.record

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise JournalError("cannot write journal j.db: disk I/O error")
        return real(*args, **kwargs)

    monkeypatch.setattr(journal, "record", flaky)
    with Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, journal=journal, concurrency=1) as s:
        report = s.send_all(app_opens(20))
    assert "disk I/O error" in report.aborted and for_send(report) == 3
    assert report.journal_error == "cannot write journal j.db: disk I/O error"  # the CLI makes it exit 2
    assert report.delivered == 3 and report.pending == 17  # the third did arrive, and says so
    assert adrop_server.stats()["good"] == 3


@pytest.mark.adrop_server(socket=True)
@pytest.mark.adrop_sender(concurrency=4)
def test_connections_are_closed_after_each_batch(adrop_sender):
    assert isinstance(adrop_sender.transport, HTTPTransport)
    for _ in range(3):
        assert adrop_sender.send_all(app_opens(8)).delivered == 8
        assert adrop_sender.transport.connections == 0
