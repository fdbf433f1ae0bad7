"""Nothing lost, nothing sent twice (issue 19): a journal always, and an event identity that survives
a re-run whatever flags changed. Each case runs twice: through the CLI and through the Python API,
both with their default journal (under `ADROP_KIT_STATE_DIR`, which conftest points at a fresh
directory for each test).
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import KEY, app_opens, write_jsonl

import adrop_kit as ak
from adrop_kit.cli import main
from adrop_kit.send.journal import Journal, default_journal
from adrop_kit.send.plan import input_identity


@pytest.fixture
def srv():
    with ak.LocalServer(app_keys=[KEY]) as server:
        yield server


def _cli(srv: Any, data: Any, *, meta: tuple[str, ...] = (), concurrency: int = 8, resend_changed: bool = False,
         id_column: str | None = None, journal: Any = None, no_journal: bool = False,
         quarantine: Path | None = None, capsys: Any = None) -> dict[str, Any]:
    argv = ["send", *([str(d) for d in data] if isinstance(data, list) else [str(data)]),
            "--endpoint", srv.endpoint, "--format", "json", "--no-progress", "--concurrency", str(concurrency)]
    argv += [a for m in meta for a in ("--meta-columns", m)]
    argv += ["--resend-changed"] * resend_changed + ["--no-journal"] * no_journal
    argv += ["--id-column", id_column] if id_column else []
    argv += ["--journal", str(journal)] if journal else []
    argv += ["--quarantine", str(quarantine)] if quarantine else []
    os.environ["ADROP_APP_KEY"] = KEY
    try:
        main(argv)
    finally:
        del os.environ["ADROP_APP_KEY"]
    return json.loads(capsys.readouterr().out)


def _api(srv: Any, data: Any, *, meta: tuple[str, ...] = (), concurrency: int = 8, resend_changed: bool = False,
         id_column: str | None = None, journal: Any = None, no_journal: bool = False,
         quarantine: Path | None = None, capsys: Any = None) -> dict[str, Any]:
    with ak.Sender(KEY, endpoint=srv.endpoint, progress=False, concurrency=concurrency,
                   extra_columns=("ts", *meta), resend_changed=resend_changed, id_column=id_column,
                   journal=False if no_journal else (journal or True)) as sender:
        report = sender.send_all(data, quarantine=quarantine)
    return report.to_dict()


WAYS = pytest.mark.parametrize("send", [_cli, _api], ids=["cli", "api"])


def _rows(n: int, offset: int = 0) -> list[dict[str, Any]]:
    return [{"uid": f"u{i}", "eventName": "add_to_cart", "item_id": f"sku-{i}", "price": 1000 + i, "quantity": 1,
             "currency": "KRW", "event_time": f"2026-12-0{1 + i % 5}T10:00:00"} for i in range(offset, offset + n)]


def _stored(srv: Any) -> Counter[str]:
    """Stored events by body (uid hashed), to tell what arrived twice."""
    return Counter(json.dumps({k: v for k, v in e.items() if k not in ("id", "received_at", "status")},
                              sort_keys=True) for e in srv.events("good", limit=10_000))


@WAYS
def test_the_same_file_twice_sends_nothing_the_second_time_whatever_flags_changed(send, srv, tmp_path, capsys):
    path = write_jsonl(tmp_path / "export.jsonl", _rows(30))
    first = send(srv, path, meta=("event_time",), capsys=capsys)
    assert first["summary"]["delivered"] == 30 and first["journal"]
    again = send(srv, path, concurrency=1, capsys=capsys)  # event_time is no longer metadata: the bodies differ
    assert again["summary"]["delivered"] == 0 and srv.stats()["good"] == 30
    assert again["summary"]["changed"] == 30  # said, not sent
    same = send(srv, path, meta=("event_time",), concurrency=3, capsys=capsys)
    assert same["summary"]["already_delivered"] == 30 and same["summary"]["changed"] == 0
    assert srv.stats()["good"] == 30


@WAYS
def test_appended_rows_are_the_only_ones_sent(send, srv, tmp_path, capsys):
    path = write_jsonl(tmp_path / "export.jsonl", _rows(20))
    send(srv, path, meta=("event_time",), capsys=capsys)
    write_jsonl(path, _rows(25))  # five more at the end
    again = send(srv, path, meta=("event_time",), capsys=capsys)
    assert (again["summary"]["delivered"], again["summary"]["already_delivered"]) == (5, 20)
    assert srv.stats()["good"] == 25 and max(_stored(srv).values()) == 1


@WAYS
def test_the_same_rows_re_sorted_or_re_exported_as_csv_under_the_same_name_send_nothing(send, srv, tmp_path, capsys):
    rows = _rows(40)
    path = write_jsonl(tmp_path / "export.jsonl", rows)
    send(srv, path, meta=("event_time",), capsys=capsys)
    random.Random(3).shuffle(rows)
    write_jsonl(path, rows)
    again = send(srv, path, meta=("event_time",), capsys=capsys)
    assert again["summary"]["already_delivered"] == 40 and again["summary"]["changed"] == 0
    # a re-export under another name is another input: the same journal, given, knows its events
    csv = tmp_path / "export-again.csv"
    pl.DataFrame(rows).write_csv(csv)
    other = send(srv, csv, meta=("event_time",), journal=again["journal"], capsys=capsys)
    assert other["summary"]["already_delivered"] == 40
    assert srv.stats()["good"] == 40


@WAYS
def test_two_identical_events_in_one_file_are_both_sent_once_each(send, srv, tmp_path, capsys):
    opens = [{"uid": "u1", "eventName": "app_open"}, {"uid": "u2", "eventName": "app_open"},
             {"uid": "u1", "eventName": "app_open"}]  # u1 opened the app twice
    path = write_jsonl(tmp_path / "opens.jsonl", opens)
    assert send(srv, path, capsys=capsys)["summary"]["delivered"] == 3
    assert send(srv, path, capsys=capsys)["summary"]["already_delivered"] == 3
    write_jsonl(path, [*opens, {"uid": "u1", "eventName": "app_open"}])  # and a third time, appended
    assert send(srv, path, capsys=capsys)["summary"]["delivered"] == 1
    assert srv.stats()["good"] == 4


@WAYS
def test_a_delivered_row_changed_since_is_listed_not_resent_unless_asked(send, srv, tmp_path, capsys):
    rows = _rows(10)
    rows[4]["currency"] = "krw"  # a W104 warning: valid, delivered
    path = write_jsonl(tmp_path / "export.jsonl", rows)
    send(srv, path, meta=("event_time",), capsys=capsys)
    rows[4]["currency"] = "KRW"  # fixed after it was delivered
    write_jsonl(path, rows)
    again = send(srv, path, meta=("event_time",), capsys=capsys)
    assert again["summary"]["changed"] == 1 and again["summary"]["delivered"] == 0
    assert [c["row"] for c in again["changed"]] == [4] and "--resend-changed" in again["changed"][0]["error"]
    resent = send(srv, path, meta=("event_time",), resend_changed=True, capsys=capsys)
    assert resent["summary"]["delivered"] == 1 and srv.stats()["good"] == 11
    assert send(srv, path, meta=("event_time",), capsys=capsys)["summary"]["already_delivered"] == 10


@WAYS
def test_a_row_invalid_last_time_and_fixed_now_is_sent(send, srv, tmp_path, capsys):
    rows = _rows(6)
    rows[2]["uid"] = ""  # E002: skipped
    path = write_jsonl(tmp_path / "export.jsonl", rows)
    first = send(srv, path, meta=("event_time",), capsys=capsys)
    assert (first["summary"]["delivered"], first["summary"]["skipped"]) == (5, 1)
    rows[2]["uid"] = "u2"
    write_jsonl(path, rows)
    again = send(srv, path, meta=("event_time",), capsys=capsys)
    assert (again["summary"]["delivered"], again["summary"]["already_delivered"]) == (1, 5)
    assert srv.stats()["good"] == 6


@WAYS
def test_an_id_column_is_the_identity_and_is_not_sent(send, srv, tmp_path, capsys):
    rows = [{"event_id": f"e-{i}", **r} for i, r in enumerate(_rows(8))]
    path = write_jsonl(tmp_path / "export.jsonl", rows)
    first = send(srv, path, meta=("event_time",), id_column="event_id", capsys=capsys)
    assert first["summary"]["delivered"] == 8
    assert not any("event_id" in e for e in srv.events("good"))  # an id of the export, not a parameter
    rows.reverse()
    rows[0]["price"] = 1  # changed and moved: the id says it is the same event, changed since delivered
    write_jsonl(path, [*rows, {**rows[1], "event_id": "e-new"}, {**rows[2]}])  # a new id; a repeated id
    again = send(srv, path, meta=("event_time",), id_column="event_id", capsys=capsys)
    s = again["summary"]
    assert (s["delivered"], s["already_delivered"], s["changed"], s["skipped"]) == (1, 7, 1, 1)
    assert [c["row"] for c in again["changed"]] == [0] and "its id" in again["changed"][0]["error"]
    assert srv.stats()["good"] == 9
    resent = send(srv, path, meta=("event_time",), id_column="event_id", resend_changed=True, capsys=capsys)
    assert (resent["summary"]["delivered"], srv.stats()["good"]) == (1, 10)
    s = send(srv, path, meta=("event_time",), id_column="event_id", capsys=capsys)["summary"]
    assert (s["delivered"], s["already_delivered"], s["changed"]) == (0, 9, 0)


@WAYS
def test_no_journal_sends_everything_again_and_says_so(send, srv, tmp_path, capsys):
    path = write_jsonl(tmp_path / "opens.jsonl", app_opens(5))
    for _ in range(2):
        report = send(srv, path, no_journal=True, capsys=capsys)
        assert report["summary"]["delivered"] == 5 and report["journal"] is None
    assert srv.stats()["good"] == 10


def test_the_cli_summary_names_the_journal_or_says_a_rerun_sends_everything(srv, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    path = write_jsonl(tmp_path / "opens.jsonl", app_opens(3))
    assert main(["send", str(path), "--endpoint", srv.endpoint, "--no-progress"]) == 0
    shown = capsys.readouterr().out
    assert f"journal: {default_journal(srv.endpoint, input_identity(str(path)))}" in shown
    assert main(["send", str(path), "--endpoint", srv.endpoint, "--no-progress", "--no-journal"]) == 0
    assert "no journal (--no-journal): a re-run sends everything again" in capsys.readouterr().out
    assert main(["send", str(path), "--journal", "j.db", "--no-journal"]) == 2  # one or the other


def test_the_default_journal_is_one_per_endpoint_and_input_under_the_state_directory(srv, tmp_path, monkeypatch):
    state = Path(os.environ["ADROP_KIT_STATE_DIR"])
    a = write_jsonl(tmp_path / "a.jsonl", app_opens(3))
    b = write_jsonl(tmp_path / "b.jsonl", app_opens(3))  # the same events in another file: other events
    with ak.Sender(KEY, endpoint=srv.endpoint, progress=False) as sender:
        assert sender.send_all(a).delivered == 3
        assert sender.send_all(b).delivered == 3
        monkeypatch.chdir(tmp_path)
        assert sender.send_all("a.jsonl").already_delivered == 3  # the same file, however it is named
    journals = sorted((state / "journals").glob("*.journal"))
    assert len(journals) == 2 and all(p.parent.parent == state for p in journals)
    assert input_identity(str(a)) == input_identity("a.jsonl") != input_identity(str(b))
    assert default_journal(srv.endpoint, input_identity(str(a))) != default_journal("http://other/event",
                                                                                    input_identity(str(a)))


def test_a_dry_run_writes_no_journal_but_reads_one(srv, tmp_path):
    state = Path(os.environ["ADROP_KIT_STATE_DIR"])
    path = write_jsonl(tmp_path / "opens.jsonl", app_opens(4))
    with ak.Sender(KEY, endpoint=srv.endpoint, progress=False, dry_run=True) as sender:
        assert sender.send_all(path).count("dry_run") == 4
    assert not (state / "journals").exists()
    with ak.Sender(KEY, endpoint=srv.endpoint, progress=False) as sender:
        sender.send_all(write_jsonl(path, app_opens(2)))
    write_jsonl(path, app_opens(4))
    with ak.Sender(KEY, endpoint=srv.endpoint, progress=False, dry_run=True) as sender:
        report = sender.send_all(path)
    assert (report.already_delivered, report.count("dry_run")) == (2, 2)
    with Journal(default_journal(srv.endpoint, input_identity(str(path)))) as j:
        assert j.counts() == {"delivered": 2}


def test_a_journal_of_an_earlier_version_is_still_read(srv, tmp_path):
    """Journals written before event identity keyed rows by content and position together."""
    import hashlib

    import orjson

    path = write_jsonl(tmp_path / "opens.jsonl", app_opens(3))
    journal = tmp_path / "old.journal"
    import sqlite3

    with sqlite3.connect(journal) as db:
        db.execute("CREATE TABLE deliveries (key TEXT PRIMARY KEY, row INTEGER, event_name TEXT, status TEXT NOT "
                   "NULL, attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER, error TEXT, updated_at REAL)")
        for i, p in enumerate(app_opens(2)):
            key = hashlib.sha256(orjson.dumps(p, option=orjson.OPT_SORT_KEYS) + f"#{i}".encode()).hexdigest()[:32]
            db.execute("INSERT INTO deliveries VALUES (?, ?, 'app_open', 'delivered', 1, 200, NULL, 0)", (key, i))
    db.close()
    with ak.Sender(KEY, endpoint=srv.endpoint, progress=False, journal=journal) as sender:
        report = sender.send_all(path)
    assert (report.already_delivered, report.delivered) == (2, 1)


# -- safe backfills -------------------------------------------------------------------------------

def _mixed(tmp_path: Path, bad: int, good: int = 10) -> Path:
    return write_jsonl(tmp_path / "mixed.jsonl", [*app_opens(good), *({"uid": "", "eventName": "app_open"}
                                                                     for _ in range(bad))])


def test_send_max_invalid_rate_stops_before_sending_anything(srv, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    path = _mixed(tmp_path, bad=3)  # 3 of 13 invalid: 23%
    code = main(["send", str(path), "--endpoint", srv.endpoint, "--max-invalid-rate", "0.2", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and srv.stats()["total"] == 0
    assert err.strip().splitlines() == [
        "adrop-kit: 3 of 13 rows are invalid (23.08%), more than the 20.00% allowed (max_invalid_rate): "
        "nothing was sent"]
    assert not (Path(os.environ["ADROP_KIT_STATE_DIR"]) / "journals").exists()
    assert main(["send", str(path), "--endpoint", srv.endpoint, "--max-invalid-rate", "0.25", "--no-progress"]) == 1
    assert srv.stats()["good"] == 10  # within the rate: sent (exit 1: invalid rows, as always)
    with pytest.raises(ak.InvalidEvents, match="nothing was sent"), ak.Sender(KEY, endpoint=srv.endpoint) as s:
        s.send_all(path, max_invalid_rate=0.1)
    assert main(["send", "-", "--endpoint", srv.endpoint, "--max-invalid-rate", "0.1"]) == 2  # read once only


def test_validate_max_invalid_rate_is_a_ci_gate(tmp_path, capsys):
    path = _mixed(tmp_path, bad=1)  # 1 of 11: 9%
    assert main(["validate", str(path), "--max-invalid-rate", "0.1"]) == 0
    assert "within --max-invalid-rate 0.1" in capsys.readouterr().err
    assert main(["validate", str(path), "--max-invalid-rate", "0.05"]) == 1
    assert main(["validate", str(path)]) == 1  # without it: any invalid row
    assert main(["validate", str(path), "--max-invalid-rate", "2"]) == 2


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_quarantine_holds_every_row_not_sent_with_why_ready_to_fix_and_send(srv, tmp_path, capsys, suffix):
    rows = [{"uid": "u0", "eventName": "app_open", "ts": "2026-12-01", "campaign": "시즌"},
            {"uid": "", "eventName": "app_open", "ts": "2026-12-02", "campaign": "b"},
            {"uid": "u2", "eventName": "add_to_cart", "item_id": "A", "price": 10.5, "quantity": 1,
             "ts": "2026-12-03"},
            {"uid": "u3", "eventName": "add_to_cart", "item_id": "B", "ts": "2026-12-04"}]  # E005: price, quantity
    path = write_jsonl(tmp_path / "export.jsonl", rows)
    out = tmp_path / f"quarantine{suffix}"
    report = _cli(srv, path, quarantine=out, capsys=capsys)
    assert report["quarantine"] == str(out) and report["summary"]["skipped"] == 2
    back = (pl.read_parquet(out) if suffix == ".parquet" else pl.read_csv(out, infer_schema=False)
            if suffix == ".csv" else pl.read_ndjson(out))
    assert back.get_column("row").cast(pl.Int64).to_list() == [1, 3]
    assert set(back.get_column("_adrop_outcome")) == {"skipped"}
    assert "E002" in back.get_column("_adrop_why")[0] and "price" in back.get_column("_adrop_why")[1]
    assert back.get_column("ts").to_list() == ["2026-12-02", "2026-12-04"]  # the user's own columns
    if suffix == ".jsonl":  # fixed, the file is sent as it is: the _adrop_ columns are metadata
        fixed = [json.loads(line) for line in out.read_text().splitlines()]
        fixed[0]["uid"] = "u1"
        fixed[1].update(price=1, quantity=1)
        for r in fixed:
            r.pop("row", None), r.pop("raw", None)
        again = _cli(srv, write_jsonl(tmp_path / "fixed.jsonl", fixed), capsys=capsys)
        assert again["summary"]["delivered"] == 2
        assert not any(k.startswith("_adrop") for e in srv.events("good") for k in e)


def test_quarantine_also_holds_held_and_rejected_rows(srv, tmp_path):
    rows = [*app_opens(2), {"uid": "u9", "eventName": "my_custom_event", "note": "x"},  # W101: held
            {"uid": "", "eventName": "app_open", "_batch": "b7"}]  # sent unchecked: the server rejects it
    path = write_jsonl(tmp_path / "export.jsonl", rows)
    out = tmp_path / "quarantine.jsonl"
    with ak.Sender(KEY, endpoint=srv.endpoint, progress=False, hold_warnings="W101") as sender:
        report = sender.send_all(path, quarantine=out)
    assert (report.delivered, report.held, report.skipped) == (2, 1, 1)
    with ak.Sender(KEY, endpoint=srv.endpoint, progress=False, validate=False, journal=False,
                   retry=ak.RetryPolicy(retries=0)) as sender:
        rejected = sender.send_all(write_jsonl(tmp_path / "bad.jsonl", rows[3:]), quarantine=tmp_path / "r.jsonl")
    assert rejected.rejected == 1
    held = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["row"], r["_adrop_outcome"]) for r in held] == [(2, "held"), (3, "skipped")]
    assert held[0]["note"] == "x" and "W101" in held[0]["_adrop_why"] and held[1]["_batch"] == "b7"
    back = json.loads((tmp_path / "r.jsonl").read_text())
    assert back["_adrop_outcome"] == "rejected" and back["_batch"] == "b7" and "invalid" in back["_adrop_why"]


def test_an_in_process_server_gets_an_in_memory_default_journal_for_the_senders_lifetime():
    from adrop_kit.testing.local import local_server, local_transport

    state = Path(os.environ["ADROP_KIT_STATE_DIR"])
    rows = app_opens(4)
    with local_server() as server:
        with ak.Sender(server.app_key, transport=local_transport(server), progress=False) as sender:
            assert sender.send_all(rows).delivered == 4
            assert sender.send_all(rows).already_delivered == 4  # nothing sent twice in a session
        with ak.Sender(server.app_key, transport=local_transport(server), progress=False) as sender:
            assert sender.send_all(rows).delivered == 4  # a new Sender: its journal lived with the last one
    assert not (state / "journals").exists()  # an app in this process: no file outlives it


def test_a_dry_run_with_a_journal_file_that_does_not_exist_creates_none(srv, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", KEY)
    path = write_jsonl(tmp_path / "opens.jsonl", app_opens(2))
    journal = tmp_path / "new.journal"
    assert main(["send", str(path), "--endpoint", srv.endpoint, "--journal", str(journal), "--dry-run"]) == 0
    assert not journal.exists() and not Path(f"{journal}.lock").exists()
