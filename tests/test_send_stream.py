"""Sending in batches: an input read whole is one batch (its report lists every row); a streamed one
is many, in bounded memory: the report counts every outcome exactly but lists only the rows needing
attention (rejected, failed, skipped, pending, held); `outcomes_out=` / `--outcomes-out` writes every
row's outcome to a file, each row once. A row's fate does not depend on the batch it is in.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import KEY, app_opens, write_jsonl

import adrop_kit as ak
from adrop_kit.cli import main
from adrop_kit.send.report import OUTCOMES

PURCHASE = {"eventName": "purchase", "currency": "KRW", "items": [{"item_id": "A", "price": 100, "quantity": 1}]}
LISTED = {"rejected", "failed", "skipped", "pending", "held"}


def mixed(n: int) -> list[dict]:
    """Every 10th row invalid (skipped), every 15th a custom event (W101: a strict server rejects it),
    every 25th a purchase reusing the tx_id of row 0's purchase (W107: held), the rest valid."""
    rows = []
    for i in range(n):
        if i % 10 == 3:
            rows.append({"uid": "", "eventName": "app_open"})
        elif i % 15 == 7:
            rows.append({"uid": f"u{i}", "eventName": "my_custom_event"})
        elif i % 25 == 0:
            rows.append({**PURCHASE, "uid": f"u{i}", "tx_id": "T-dup"})
        else:
            rows.append({"uid": f"u{i}", "eventName": "app_open"})
    return rows


def fate(i: int) -> str:
    """What becomes of row `i` of `mixed` (strict server, W107 held), at any batch size."""
    if i % 10 == 3:
        return "skipped"
    if i % 15 == 7:
        return "rejected"
    return "held" if i % 25 == 0 and i else "delivered"  # row 0's purchase keeps its tx_id


EXPECTED = {"delivered": 191, "rejected": 16, "skipped": 24, "held": 9}


def _send(server, path, journal, **kw) -> ak.SendReport:
    with ak.Sender(server.app_key, endpoint=server.endpoint, hold_warnings="W107", progress=False,
                   journal=journal) as s:
        return s.send_all(path, **kw)


@pytest.mark.adrop_server(strict=True)
def test_an_input_read_whole_is_one_batch_and_its_report_lists_every_row(tmp_path, adrop_server):
    report = _send(adrop_server, write_jsonl(tmp_path / "e.jsonl", mixed(240)), tmp_path / "j", stream=False)
    assert report.unlisted == 0 and report.read_all
    assert [(o.row, str(o.outcome)) for o in report.outcomes] == [(i, fate(i)) for i in range(240)]
    assert {k: report.count(k) for k in EXPECTED} == EXPECTED and report.held_rules() == ["W107"]


@pytest.mark.adrop_server(strict=True)
@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv"])
def test_a_streamed_send_lists_the_rows_needing_attention_and_the_file_holds_every_row_once(tmp_path, adrop_server,
                                                                                           suffix):
    path = write_jsonl(tmp_path / "e.jsonl", mixed(240))
    out = tmp_path / f"outcomes{suffix}"
    streamed = _send(adrop_server, path, tmp_path / "j", batch_bytes=300, outcomes_out=out)
    assert {k: streamed.count(k) for k in EXPECTED} == EXPECTED  # W107 held across batches
    assert [(o.row, str(o.outcome)) for o in streamed.outcomes] == [(i, fate(i)) for i in range(240)
                                                                    if fate(i) in LISTED]
    assert streamed.held_rules() == ["W107"]
    assert streamed.unlisted == 191 and streamed.outcomes_out == str(out)
    # the file: every row once, in input order, with its outcome (and never the app key)
    every = {".parquet": pl.read_parquet, ".jsonl": pl.read_ndjson, ".csv": pl.read_csv}[suffix](out)
    assert every.columns == ["source", "row", "eventName", "outcome", "status", "attempts", "error", "key"]
    assert every.select("row", "outcome").rows() == [(i, fate(i)) for i in range(240)]
    assert set(every.get_column("source")) == {str(path)}
    listed = {o.row: (o.eventName, o.key, o.status, o.error) for o in streamed.outcomes}
    assert {r: v for r, *v in every.select("row", "eventName", "key", "status", "error").rows()
            if r in listed} == {r: list(v) for r, v in listed.items()}
    assert every.filter(pl.col("outcome") == "delivered").get_column("key").n_unique() == 191
    assert adrop_server.app_key not in out.read_bytes().decode("utf-8", "replace")


def test_a_resumed_streamed_send_counts_rows_already_delivered_without_listing_them(tmp_path, adrop_server):
    path = write_jsonl(tmp_path / "e.jsonl", [*app_opens(50), {"uid": "", "eventName": "app_open"}])
    journal = tmp_path / "send.journal"
    for _ in range(2):
        with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, journal=journal, progress=False) as s:
            report = s.send_all(path, batch_bytes=200, outcomes_out=tmp_path / "o.jsonl")
    assert (report.already_delivered, report.delivered, report.skipped) == (50, 0, 1)
    assert [o.outcome for o in report.outcomes] == ["skipped"] and adrop_server.stats()["good"] == 50
    every = pl.read_ndjson(tmp_path / "o.jsonl")  # the second run's file: it starts afresh
    assert every.get_column("outcome").value_counts(sort=True).rows() == [("already_delivered", 50), ("skipped", 1)]
    assert "already delivered rows are counted, not listed" in repr(report)


def test_the_report_of_thousands_of_delivered_rows_holds_only_the_problem_rows(tmp_path, adrop_server):
    """Not timed: what the report keeps is the problem rows, however many rows were delivered
    (here over 3 and over 10 batches of 4 KiB)."""
    sizes = {}
    for n in (250, 1000):
        path = write_jsonl(tmp_path / f"e{n}.jsonl", [*app_opens(n), *[{"uid": "", "eventName": "app_open"}] * 5])
        with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, progress=False) as s:
            report = s.send_all(path, batch_bytes=4096)
        assert (report.total, report.delivered, report.skipped) == (n + 5, n, 5)
        sizes[n] = len(report.outcomes)
        assert report.table().height == 5 and report.unlisted == n
    assert sizes == {250: 5, 1000: 5}
    with ak.Sender(dry_run=True, progress=False) as s:  # a dry run counts its would-be-sent rows the same way
        dry = s.send_all(tmp_path / "e1000.jsonl", batch_bytes=4096)
    assert (dry.count("dry_run"), len(dry.outcomes)) == (1000, 5)


def test_the_notes_say_delivered_rows_were_counted_not_listed(tmp_path, adrop_server):
    path = write_jsonl(tmp_path / "e.jsonl", app_opens(20))
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, progress=False) as s:
        streamed = s.send_all(path, stream=True)
        whole = s.send_all(path, stream=False)
    note = "delivered rows are counted, not listed; use outcomes_out="
    assert note in repr(streamed) and note in streamed._repr_html_() and note in streamed.to_dict()["note"]
    assert streamed.outcomes == [] and streamed.delivered == 20 and streamed.ok
    assert "counted, not listed" not in repr(whole) + whole._repr_html_() and "note" not in whole.to_dict()
    assert whole.table().height == 20


def test_outcomes_out_streams_files_only_and_checks_its_suffix_before_sending(tmp_path, adrop_server):
    path = write_jsonl(tmp_path / "e.jsonl", app_opens(3))
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, progress=False) as s:
        with pytest.raises(TypeError, match="outcomes_out="):
            s.send_all(app_opens(3), outcomes_out=tmp_path / "o.jsonl")
        with pytest.raises(ValueError, match=r"outcomes are written as \.parquet.*not '\.txt'"):
            s.send_all(path, outcomes_out=tmp_path / "o.txt")
        with pytest.raises(ValueError, match="outcomes_out= stream"):
            s.send_all(path, stream=False, outcomes_out=tmp_path / "o.jsonl")
    assert adrop_server.stats()["good"] == 0


def test_an_interrupted_streamed_send_writes_the_outcome_of_every_row_it_counted(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [*app_opens(10), {"uid": "", "eventName": "app_open"}, *app_opens(10)])

    def ctrl_c_at_the_skipped_row(outcome):
        if outcome.outcome == "skipped":
            raise KeyboardInterrupt

    with ak.Sender(dry_run=True, progress=False, on_outcome=ctrl_c_at_the_skipped_row) as s:
        report = s.send_all(path, batch_bytes=120, outcomes_out=tmp_path / "o.csv")
    assert report.interrupted and not report.read_all
    every = pl.read_csv(tmp_path / "o.csv")
    counted = sum(report.count(o) for o in OUTCOMES)
    assert every.height == counted and every.get_column("row").is_unique().all()
    assert report.skipped == 1 and every.filter(pl.col("outcome") == "skipped").get_column("row").to_list() == [10]


def test_cli_send_outcomes_out_and_the_note(tmp_path, adrop_server, capsys, monkeypatch):
    monkeypatch.setenv("ADROP_APP_KEY", adrop_server.app_key)
    path = str(write_jsonl(tmp_path / "e.jsonl", [*app_opens(30), {"uid": "", "eventName": "app_open"}]))
    out = tmp_path / "outcomes.jsonl"
    code = main(["send", path, "--endpoint", adrop_server.endpoint, "--outcomes-out", str(out), "--format", "json"])
    shown, err = capsys.readouterr()
    got = json.loads(shown)
    assert code == 1 and got["summary"]["delivered"] == 30 and got["outcomes_out"] == str(out)
    assert [p["row"] for p in got["problems"]] == [30]
    assert pl.read_ndjson(out).height == 31
    assert adrop_server.app_key not in shown + err + out.read_text()
    code = main(["send", path, "--endpoint", adrop_server.endpoint])
    text, _ = capsys.readouterr()
    assert code == 1 and "delivered rows are counted, not listed; use --outcomes-out FILE" in text
    code = main(["send", path, "--dry-run", "--outcomes-out", str(tmp_path / "dry.parquet")])
    text, _ = capsys.readouterr()
    assert code == 1 and f"every row's outcome: {tmp_path / 'dry.parquet'}" in text
    assert pl.read_parquet(tmp_path / "dry.parquet").get_column("outcome").to_list() == ["dry_run"] * 30 + ["skipped"]
    assert KEY not in text


def test_a_request_body_takes_its_own_size_in_memory_not_a_serialiser_buffer() -> None:
    """A send holds one body per event of a batch (about 175,000 for 32 MiB of JSONL): orjson's own
    result kept a 4 KiB buffer per 100-byte body, 700 MB a batch. Measured, not timed."""
    import tracemalloc

    from adrop_kit.io.jsontext import dumps_payload

    payloads = [{"uid": f"u{i}", "eventName": "app_open", "platform": "web"} for i in range(5000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        bodies = [dumps_payload(p) for p in payloads]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert bodies[7] == b'{"uid":"u7","eventName":"app_open","platform":"web"}'
    assert held < 5000 * 256  # about 100 bytes each; 4 KiB each before
