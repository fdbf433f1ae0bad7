"""The retry policy: a backfill rides out heavy transient faults in one run, and a dead endpoint
still ends within the time budget, with every event accounted for in the journal."""

from __future__ import annotations

import json
import random
import sqlite3
import time

import pytest

from adrop_kit import RetryPolicy, Sender
from adrop_kit.cli import main
from adrop_kit.server import Faults, LocalServer

KEY = "sk-retry-SECRET-0123456789"


def _events(n: int) -> list[dict]:
    return [{"uid": f"u{i}", "eventName": "view_item", "item_id": f"SKU-{i}"} for i in range(n)]


# -- the policy itself ---------------------------------------------------------------------
def test_the_default_policy_is_built_for_a_backfill():
    p = RetryPolicy()
    assert (p.retries, p.max_retry_time) == (10, 600.0)


def test_waits_are_full_jitter_below_a_growing_ceiling():
    p = RetryPolicy(backoff=0.5, max_backoff=4.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (8, 4.0)]:
        waits = [p.wait(attempt, None, 0.0, rng) for _ in range(400)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.9 and min(waits) < ceiling * 0.1  # the whole range, not a fixed step


def test_it_gives_up_after_its_retries_or_its_time_budget():
    p = RetryPolicy(retries=3, max_retry_time=10.0)
    assert p.wait(3, None, 0.0) is not None
    assert p.wait(4, None, 0.0) is None           # retries spent
    assert p.wait(1, None, 10.0) is None          # budget spent
    assert p.wait(1, None, 9.99) <= 0.01 + 1e-9   # never waits past the budget


def test_retry_after_is_honoured_when_it_fits_in_the_budget():
    p = RetryPolicy(max_retry_time=60.0)
    assert p.wait(1, 30.0, 0.0) == 30.0           # the server said when
    assert p.wait(1, 30.0, 40.0) is None          # it would end past the budget: give up now


@pytest.mark.parametrize("bad", [{"retries": -1}, {"retries": 1.5}, {"timeout": 0}, {"max_retry_time": float("nan")},
                                 {"backoff": -1}, {"retries": True}])
def test_impossible_settings_raise_at_once(bad):
    with pytest.raises(ValueError):
        RetryPolicy(**bad)


def test_the_sender_takes_one_policy_object():
    with pytest.raises(TypeError):
        Sender(KEY, endpoint="http://127.0.0.1:9/event", retry=5)


# -- through the local server's fault injection -----------------------------------------------
MIXED_30 = {"fail_rate": 0.12, "throttle_rate": 0.10, "drop_rate": 0.08, "retry_after": 0.0}
"""About 30% of requests fail: 503, 429 with Retry-After, connections dropped without a reply."""


def _backfill(seed: int, n: int) -> tuple[dict, dict]:
    with LocalServer(app_keys=[KEY], faults=Faults(seed=seed, **MIXED_30)) as srv, \
            Sender(KEY, endpoint=srv.endpoint, concurrency=1, progress=False,
                   retry=RetryPolicy(backoff=0.001, max_backoff=0.01)) as sender:
        report = sender.send_all(_events(n))
        return report.summary(), srv.stats()


@pytest.mark.slow
def test_a_backfill_through_30_percent_faults_is_delivered_in_one_run_the_same_way_every_time():
    first, stored = _backfill(seed=12, n=3000)
    assert (first["delivered"], first["failed"], first["pending"]) == (3000, 0, 0)
    assert stored["good"] == 3000                       # nothing lost, nothing stored twice
    assert 0.3 * 3000 <= first["retries"] <= 0.6 * 3000  # ~0.43 retries per event at a 30% fault rate
    again, _ = _backfill(seed=12, n=3000)
    assert again["retries"] == first["retries"]          # the same seed gives the same run


def test_the_cli_reports_retries_and_the_longest_wait(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in _events(300)) + "\n")
    with LocalServer(app_keys=[KEY], faults=Faults(seed=3, **MIXED_30)) as srv:
        code = main(["send", str(path), "--endpoint", srv.endpoint, "--concurrency", "16", "--format", "json",
                     "--journal", str(tmp_path / "send.journal")])
        stored = srv.stats()["good"]
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert code == 0 and summary["delivered"] == 300 and stored == 300
    assert summary["retries"] > 0 and summary["longest_wait_s"] > 0


def test_a_dead_endpoint_ends_within_the_time_budget_with_exit_3_and_the_journal_right(tmp_path, capsys,
                                                                                     monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in _events(5)) + "\n")
    journal = tmp_path / "send.journal"
    with LocalServer(app_keys=[KEY], faults=Faults(fail_rate=1.0, seed=1)) as srv:
        start = time.monotonic()
        code = main(["send", str(path), "--endpoint", srv.endpoint, "--retries", "1000", "--max-retry-time", "1.5",
                     "--journal", str(journal), "--format", "json"])
        elapsed = time.monotonic() - start
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert elapsed < 1.5 + 10  # the budget, plus a request and start-up on a loaded machine; not 1000 retries
    assert report["summary"]["failed"] == 5 and report["summary"]["retries"] >= 5
    rows = sqlite3.connect(journal).execute("SELECT status, attempts, http_status FROM deliveries").fetchall()
    assert len(rows) == 5
    assert all(status == "failed" and attempts > 1 and http == 503 for status, attempts, http in rows)


def test_a_rejection_is_never_retried_whatever_the_policy():
    with LocalServer(app_keys=[KEY]) as srv, \
            Sender(KEY, endpoint=srv.endpoint, validate=False, progress=False, retry=RetryPolicy(retries=50)) as s:
        report = s.send_all([{"uid": "u1", "eventName": "sign_up"}])  # E005: the server answers 400 !invalid
    assert report.rejected == 1 and report.retries == 0 and report.table()["attempts"].to_list() == [1]
