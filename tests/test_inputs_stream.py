"""Inputs as exports come (directories, globs, lists, .gz/.zst, stdin) and streamed validation/sending.

Validation in memory and streamed is one pipeline (tests/test_pipeline.py holds any batch size to
the in-memory report, W107 across batches included); what is left here is how inputs are cut into
batches: tiny batches on small data put every reader boundary (a CSV record with quoted line ends
cut across chunks, a JSONL line across chunks, a Parquet record batch, a file of a directory) where
it can go wrong.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import zstandard
from conftest import app_opens, write_jsonl

import adrop_kit as ak
from adrop_kit.cli import main
from adrop_kit.errors import DataReadError
from adrop_kit.explore.synth import write_sample
from adrop_kit.send.journal import Journal
from adrop_kit.send.plan import Identity, canonical, legacy_key

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "adrop_kit"]
ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}

PURCHASE = {"uid": "u1", "eventName": "purchase", "tx_id": "T-1", "currency": "KRW",
            "items": [{"item_id": "A", "price": 100, "quantity": 1}]}

CSV_TEXT = (
    'uid,eventName,note,price\n'
    'u1,app_open,"a note\nover two lines",\n'
    'u2,view_item,"quote "" and, comma",-5\n'
    'u3,app_open,"three\nline\nnote",\n'
    'u4,app_open,bad"quote,\n'  # malformed: its own line is an E001 row
    '\n'
    ',app_open,,\n'  # E002
    'u6,view_item,"x\r\ny",9\n'
    'u7,app_open,plain,\n'
)


def _same(streamed: ak.DatasetReport, whole: ak.DatasetReport) -> None:
    assert streamed.summary() == whole.summary()
    assert streamed.violations.equals(whole.violations)
    assert streamed.by_rule().equals(whole.by_rule())


@pytest.mark.parametrize("batch", [1, 7, 40, 1000])
def test_a_csv_record_with_quoted_line_ends_cut_across_chunks_keeps_its_number_and_verdict(tmp_path, batch):
    path = tmp_path / "e.csv"
    path.write_bytes(CSV_TEXT.encode())
    whole = ak.validate_events(path)
    assert whole.rows_for("E001") == [3] and "line 8:" in whole.errors.filter(pl.col("row") == 3)["message"][0]
    _same(ak.validate_events(path, batch_bytes=batch), whole)


@pytest.mark.parametrize("batch", [1, 13, 64, 4096])
def test_a_jsonl_line_across_chunks_and_line_numbers_in_messages(tmp_path, batch):
    lines = [json.dumps(e) for e in app_opens(6)]
    lines[2] = '{"uid": "u2", "eventName": '  # not JSON: E001 naming line 3
    lines.insert(4, "")  # a blank line keeps its number
    lines.append('{"uid": "u9", "eventName": "app_open", "x": "' + "y" * 200 + '"}')
    lines.append('{"uid": "bad \xff"}')
    path = tmp_path / "e.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape").replace("\xff".encode(), b"\xff"))
    whole = ak.validate_events(path)
    assert whole.invalid == 2 and whole.rows == 8
    _same(ak.validate_events(path, batch_bytes=batch), whole)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])  # JSONL: tests/test_pipeline.py's property
def test_csv_and_parquet_cut_into_batches_read_as_the_whole_file(tmp_path, suffix):
    path = write_sample(tmp_path / f"s{suffix}", 1500, seed=5, error_rate=0.2)
    whole = ak.validate_events(path)
    assert whole.invalid > 100
    _same(ak.validate_events(path, batch_bytes=40_000, batch_rows=300), whole)


@pytest.mark.parametrize("comp", ["gz", "zst"])
def test_compressed_text_reads_as_the_plain_file(tmp_path, comp):
    plain = write_sample(tmp_path / "s.csv", 400, seed=2, error_rate=0.2)
    packed = tmp_path / f"s.csv.{comp}"
    data = plain.read_bytes()
    packed.write_bytes(gzip.compress(data) if comp == "gz" else zstandard.compress(data))
    a, b = ak.validate_events(plain), ak.validate_events(packed)
    assert b.summary() == a.summary() and b.violations.drop("source").equals(a.violations.drop("source"))
    c = ak.validate_events(packed, batch_bytes=3000)
    assert c.violations.equals(b.violations)


def test_a_corrupt_compressed_file_is_one_line(tmp_path):
    bad = tmp_path / "e.jsonl.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    with pytest.raises(DataReadError, match=r"e\.jsonl\.gz: not valid gzip data") as err:
        ak.validate_events(bad)
    assert "\n" not in str(err.value)


def test_a_hive_export_directory_names_each_row_by_file_and_skips_what_writers_leave(tmp_path):
    root = tmp_path / "export"
    write_jsonl(root / "dt=2026-11-01" / "part-00000.jsonl", [PURCHASE, {"uid": "", "eventName": "app_open"}])
    raw = "".join(json.dumps(e) + "\n" for e in [{**PURCHASE, "uid": "u7"}, *app_opens(2)]).encode()
    (root / "dt=2026-11-02").mkdir()
    (root / "dt=2026-11-02" / "part-00000.jsonl.zst").write_bytes(zstandard.compress(raw))
    pl.DataFrame({"uid": ["p1", None], "eventName": ["app_open", "app_open"]}).write_parquet(
        root / "dt=2026-11-02" / "part-00001.parquet")
    for junk in ("_SUCCESS", ".part-00000.jsonl.crc", "dt=2026-11-01/.part-00000.jsonl.crc", "README.txt"):
        (root / junk).write_text("x")
    (root / "_temporary").mkdir()
    write_jsonl(root / "_temporary" / "part-9.jsonl", [{"uid": ""}])

    report = ak.validate_events(root)
    assert report.sources == ("dt=2026-11-01/part-00000.jsonl", "dt=2026-11-02/part-00000.jsonl.zst",
                              "dt=2026-11-02/part-00001.parquet")
    assert set(report.skipped) == {"_SUCCESS", ".part-00000.jsonl.crc", "dt=2026-11-01/.part-00000.jsonl.crc",
                                   "README.txt", "_temporary/"}
    assert (report.rows, report.invalid, report.valid) == (7, 2, 5)
    assert report.rows_for("E002") == [("dt=2026-11-01/part-00000.jsonl", 1), ("dt=2026-11-02/part-00001.parquet", 1)]
    w107 = report.violations.filter(pl.col("rule") == "W107").row(0, named=True)
    assert (w107["source"], w107["row"]) == ("dt=2026-11-02/part-00000.jsonl.zst", 0)
    assert "row 0 of dt=2026-11-01/part-00000.jsonl" in w107["message"]
    assert report.warned == 1 and report.rows_for("W107") == [("dt=2026-11-02/part-00000.jsonl.zst", 0)]
    tiny = ak.validate_events(root, batch_bytes=10, batch_rows=1)
    _same(tiny, report)
    assert report.valid_rows.height == 5 and "__row" not in report.valid_rows.columns  # read again, when asked
    assert report.invalid_rows.select("source", "row").rows() == report.rows_for("E002")


def test_a_glob_and_a_list_of_mixed_formats(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", app_opens(3))
    b = tmp_path / "b.csv"
    b.write_text("uid,eventName\nx,app_open\n,app_open\n")
    listed = ak.validate_events([a, b])
    assert listed.sources == (str(a), str(b)) and (listed.rows, listed.invalid) == (5, 1)
    globbed = ak.validate_events(str(tmp_path / "*.*"))
    assert globbed.summary() == listed.summary() and globbed.multi


def test_a_directory_with_nothing_readable_is_an_error(tmp_path, capsys):
    (tmp_path / "_SUCCESS").write_text("")
    with pytest.raises(DataReadError, match="no dataset files in this directory.*_SUCCESS"):
        ak.validate_events(tmp_path)
    code = main(["validate", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no dataset files" in err


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv"])
def test_violations_streamed_to_a_file_hold_every_violation(tmp_path, suffix):
    path = write_sample(tmp_path / "s.jsonl", 3500, seed=9, error_rate=0.3)
    whole = ak.validate_events(path)
    out = tmp_path / f"v{suffix}"
    report = ak.validate_events(path, violations_out=out, batch_bytes=90_000)
    assert report.summary() == whole.summary() and report.by_rule().equals(whole.by_rule())
    assert report.violation_count == whole.violations.height > report.violations.height == 1000
    read = {".parquet": pl.read_parquet, ".jsonl": pl.read_ndjson, ".csv": pl.read_csv}[suffix](out)
    key = ["source", "row", "rule", "field", "message"]
    assert read.select(key).sort(key).equals(whole.violations.select(key).sort(key))


def test_stdin_is_read_as_jsonl(tmp_path):
    path = write_sample(tmp_path / "s.jsonl", 500, seed=4, error_rate=0.2)
    whole = ak.validate_events(path)
    with path.open("rb") as fh:
        done = subprocess.run([*CLI, "validate", "-", "--format", "json"], stdin=fh, capture_output=True, env=ENV)
    assert done.returncode == 1, done.stderr
    got = json.loads(done.stdout)
    assert got["summary"] == whole.summary()
    assert [(v["row"], v["rule"]) for v in got["violations"]] == whole.violations.select("row", "rule").rows()


def test_sample_parts_cli_writes_an_export_that_validates_as_the_single_file(tmp_path, capsys):
    code = main(["sample", "900", "--out", str(tmp_path / "export"), "--parts", "4",
                 "--as", "csv.gz", "--seed", "3", "--error-rate", "0.2"])
    assert code == 0, capsys.readouterr().err
    names = sorted(p.name for p in (tmp_path / "export").iterdir())
    assert names == ["_SUCCESS", *(f"part-0000{k}.csv.gz" for k in range(4))]
    single = ak.validate_events(write_sample(tmp_path / "one.csv", 900, seed=3, error_rate=0.2))
    parts = ak.validate_events(tmp_path / "export")
    assert parts.summary() == single.summary()
    capsys.readouterr()
    code = main(["validate", str(tmp_path / "export"), "--limit", "2"])
    shown = capsys.readouterr().out
    assert code == 1 and "from 4 files" in shown and "source" in shown
    assert "skipped 1 file beside the data: _SUCCESS" in shown


def test_event_keys_count_identical_events_across_parts_and_read_the_keys_earlier_versions_wrote():
    p = {"uid": "u0", "eventName": "app_open"}
    import hashlib

    import orjson

    old = hashlib.sha256(orjson.dumps(p, option=orjson.OPT_SORT_KEYS) + b"#0").hexdigest()[:32]
    assert legacy_key(canonical(p), 0) == old  # journals of earlier single-file runs are still read
    identity = Identity()
    first, second = identity.assign(canonical(p)), identity.assign(canonical(p))  # row 0 of two part files
    assert first[0] != second[0] and first[1] == second[1]  # two events, one body


def test_sending_a_directory_streams_and_resumes_from_the_journal(tmp_path, adrop_server):
    root = tmp_path / "export"
    same = app_opens(3)
    write_jsonl(root / "part-00000.jsonl", [*same, {"uid": "", "eventName": "app_open"}])
    write_jsonl(root / "part-00001.jsonl", same)  # the same payloads at the same rows: other events
    (root / "_SUCCESS").write_text("")
    journal = tmp_path / "send.journal"
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, journal=journal, progress=False) as s:
        report = s.send_all(root, batch_bytes=30, outcomes_out=tmp_path / "outcomes.parquet")
    assert (report.total, report.delivered, report.skipped) == (7, 6, 1) and report.ok is False
    assert adrop_server.stats()["good"] == 6
    table = report.table()  # streamed: the rows needing attention
    assert table.select("source", "row", "outcome").rows() == [("part-00000.jsonl", 3, "skipped")]
    every = pl.read_parquet(tmp_path / "outcomes.parquet")
    assert every.filter(pl.col("outcome") == "delivered").get_column("key").n_unique() == 6
    with Journal(journal) as j:
        assert j.counts().get("delivered") == 6
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, journal=journal, progress=False) as s:
        again = s.send_all(root)
    assert (again.already_delivered, again.delivered) == (6, 0) and adrop_server.stats()["good"] == 6


def test_a_single_file_sent_streamed_keeps_the_journal_of_an_in_memory_send(tmp_path, adrop_server):
    path = write_jsonl(tmp_path / "e.jsonl", app_opens(5))
    journal = tmp_path / "send.journal"
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, journal=journal, progress=False) as s:
        first = s.send_all(path)
    with ak.Sender(adrop_server.app_key, endpoint=adrop_server.endpoint, journal=journal, progress=False) as s:
        again = s.send_all(path, batch_bytes=40)
    assert first.delivered == 5 and again.already_delivered == 5 and adrop_server.stats()["good"] == 5


def test_cli_send_dry_run_reads_a_directory_and_stdin(tmp_path, capsys):
    root = tmp_path / "export"
    write_jsonl(root / "part-00000.jsonl", app_opens(2))
    write_jsonl(root / "part-00001.jsonl", [{"uid": "", "eventName": "app_open"}, *app_opens(1)])
    code = main(["send", str(root), "--dry-run", "--format", "json"])
    got = json.loads(capsys.readouterr().out)
    assert code == 1 and got["summary"]["total"] == 4 and got["summary"]["dry_run"] == 3
    assert [(p["source"], p["row"]) for p in got["problems"]] == [("part-00001.jsonl", 0)]
    shown = subprocess.run([*CLI, "send", "-", "--dry-run"], input="".join(
        json.dumps(e) + "\n" for e in app_opens(3)), capture_output=True, text=True, env=ENV)
    assert shown.returncode == 0 and "<stdin>" in shown.stdout and "3" in shown.stdout


# -- what the streamed path must keep from the single-frame one (delimiter, JSON values, held rows) --
@pytest.mark.parametrize("batch", [1, 9, 64])
def test_a_semicolon_csv_cut_into_chunks_is_read_with_the_separator_of_its_header(tmp_path, batch):
    path = tmp_path / "e.csv"
    path.write_bytes(CSV_TEXT.replace(",", ";").encode())  # every comma (inside quotes too) becomes ';'
    whole = ak.validate_events(path)
    assert whole.rows == 7 and "E002" in whole.by_rule().get_column("rule").to_list()
    _same(ak.validate_events(path, batch_bytes=batch), whole)


def test_streamed_json_output_gives_values_as_the_json_values_they_were(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [
        {"uid": 123, "eventName": "app_open"},                                         # E002: a number
        {"uid": "u2", "eventName": "view_item", "item_id": "A", "price": "12,900"},  # E006: a string
        {"uid": "u3", "eventName": "view_item", "item_id": "A", "price": -500},      # W103: a number
        {"uid": "u4", "eventName": "app_open", "note": "x"}] * 3)
    whole = ak.validate_events(path).to_dict()
    streamed = ak.validate_events(path, batch_bytes=40).to_dict()
    assert streamed == whole
    values = {(v["row"], v["rule"]): v["value"] for v in streamed["violations"]}
    assert values[0, "E002"] == 123 and values[1, "E006"] == "12,900" and values[2, "W103"] == -500


def test_an_interrupted_streamed_send_says_the_input_was_not_read_to_its_end(tmp_path):
    rows = [*app_opens(10), {"uid": "", "eventName": "app_open"}, *app_opens(10)]  # row 10: skipped (E002)
    path = write_jsonl(tmp_path / "e.jsonl", rows)

    def ctrl_c_at_the_skipped_row(outcome):  # skipped outcomes are emitted on the reading thread
        if outcome.outcome == "skipped":
            raise KeyboardInterrupt

    with ak.Sender(dry_run=True, progress=False, on_outcome=ctrl_c_at_the_skipped_row) as sender:
        report = sender.send_all(path, batch_bytes=120)
    assert report.interrupted and not report.read_all and report.to_dict()["read_all"] is False
    assert report.total < len(rows)  # what was read is counted; the rest is for the next run
    with ak.Sender(dry_run=True, progress=False) as sender:
        whole = sender.send_all(path, batch_bytes=120)
    assert whole.read_all and whole.total == len(rows) and "read_all" not in whole.to_dict()
