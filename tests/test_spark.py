"""The Spark engine (`adrop_kit.spark`) on `local[2]`: the same verdicts as `validate_events`, row for
row, whatever the splits; exact counts; rows named by (file, line); send, and a resumed send.

One SparkSession for the whole suite (conftest's `spark`: its start is the slow part); here files are
split into many small partitions (`spark.sql.files.maxPartitionBytes`) so that rows, W107 and counts
cross partitions. A fresh `adrop-kit --engine spark` process is tested in test_spark_cli.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import polars as pl
import pytest

from adrop_kit import validate_events
from adrop_kit.explore.synth import sample_events, write_sample
from adrop_kit.spec.rules import TX_PARAM

pytestmark = [pytest.mark.slow,  # a JVM, and Python workers per partition
              pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")]
SPLIT_BYTES = 48 * 1024
ADVERSARIAL = [
    b'{"uid": "a1", "eventName": "add_to_cart", "item_id": "x", "price": "29900", "quantity": 1}',  # E006
    b'{"uid": "a2", "eventName": "add_to_cart", "item_id": "x", "price": NaN, "quantity": 1}',      # NaN
    b'{"uid": "a3", "eventName": "add_to_cart", "item_id": "x", "price": Infinity, "quantity": 1}',
    b"[1, 2]",                                                                                     # E001
    b'"just a string"',
    b"{not json",
    b'{"uid": "a4", "eventName": "app_open", "odd\xff": 1}',                                       # bad UTF-8
    b"",                                                                                           # blank
    b"   \t",
    b'{"uid": "a5", "eventName": "app_open"}\r',                                                   # CRLF
    b'{"uid": "a6", "eventName": "purchase", "tx_id": "t", "price": 123456789012345678901234567890}',
    b"[" * 3000 + b"]" * 3000,                                                                      # too deep
    b'{"uid": "a7", "eventName": "app_open", "rare_key_only_here": {"x": [1, 2]}}',               # W102
    b'{"uid": "", "eventName": "sign_up", "method": 5}',
]


@pytest.fixture(scope="module")
def spark(spark: object) -> Iterator[object]:
    """The suite's session (conftest), its files split every SPLIT_BYTES while this module runs."""
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(SPLIT_BYTES))
    yield spark
    spark.conf.set("spark.sql.files.maxPartitionBytes", before)


def events_with_reused_tx(n: int, seed: int) -> list[dict]:
    """A synth sample with planted errors, plus a copy of its first purchase at the very end: the same
    tx_id far from the first use (another split), so W107 must be found across partitions."""
    events = sample_events(n, seed=seed, error_rate=0.1)
    first = next(e for e in events if e.get("eventName") == "purchase" and e.get(TX_PARAM))
    return [*events, dict(first, uid="again")]


@pytest.fixture(scope="module")
def mixed_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spark") / "mixed.jsonl"
    lines = [json.dumps(e).encode() for e in events_with_reused_tx(1500, seed=3)]
    lines[700:700] = ADVERSARIAL  # in the middle of a split, not only at the end
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n\n")  # a byte order mark; trailing blank line
    return path


def same_verdicts(report: object, local: object) -> None:
    """Spark's violations are the local ones, row for row and word for word; the counts too."""
    from adrop_kit.spark import collect

    collected = collect(report)
    assert "source" not in collected.shown_columns  # one file: tables and JSON show no source column
    got, want = collected.violations.drop("source"), local.violations.drop("source")
    assert got.sort(pl.all()).equals(want.sort(pl.all()))
    assert report.summary() == local.summary()


def test_jsonl_gets_the_local_verdicts_on_every_split(spark, mixed_jsonl: Path) -> None:
    from adrop_kit.spark import validate

    report = validate(str(mixed_jsonl), spark=spark)
    local = validate_events(mixed_jsonl)
    assert report.keyed.sdf.rdd.getNumPartitions() >= 4  # really split
    same_verdicts(report, local)
    rules = set(local.violations.get_column("rule"))
    assert {"E001", "E006", "W102", "W107"} <= rules
    w107 = report.violations.where("rule = 'W107'").collect()
    assert any(r["row"] > 1400 for r in w107)  # the copy at the end, against a purchase splits earlier

    valid = report.valid_rows
    assert valid.count() == local.valid
    got_rows = sorted(r["row"] for r in valid.select("row").collect())
    assert got_rows == local.rows_of("valid", positions=True).get_column("row").to_list()
    line = valid.where(f"row = {got_rows[0]}").first()
    assert json.loads(line["json"].lstrip("\ufeff")) == json.loads(
        mixed_jsonl.read_bytes().split(b"\n")[got_rows[0]].lstrip(b"\xef\xbb\xbf"))


def test_an_event_over_64_kib_is_e001_on_spark_as_locally(spark, tmp_path: Path) -> None:
    """SPEC's size limit comes with `check_batch` on every partition: the same row, the same message,
    for a JSONL file (its long lines across splits) and for Parquet."""
    from adrop_kit.io.jsontext import dumps_payload
    from adrop_kit.spark import validate
    from adrop_kit.spec.rules import MAX_EVENT_BYTES, SIZE_MESSAGE

    def sized(size: int) -> dict:
        event = {"uid": "u", "eventName": "view_item", "item_id": "i", "item_name": ""}
        need = size - len(dumps_payload(event))
        event["item_name"] = '"\\\x01' * (need // 10) + "a" * (need % 10)  # \" \\ \u0001: 10 bytes
        assert len(dumps_payload(event)) == size
        return event

    events = [*sample_events(300, seed=5), sized(MAX_EVENT_BYTES), sized(MAX_EVENT_BYTES + 1),
              *sample_events(300, seed=6)]
    jsonl = tmp_path / "big.jsonl"
    jsonl.write_bytes(b"".join(json.dumps(e).encode() + b"\n" for e in events))
    parquet = tmp_path / "big.parquet"
    keys = ("uid", "eventName", "item_id", "item_name")
    pl.DataFrame([{k: e.get(k) for k in keys} for e in events]).write_parquet(parquet)
    for path in (jsonl, parquet):
        local = validate_events(path)
        too_big = local.violations.filter(pl.col("message") == SIZE_MESSAGE)
        assert too_big.select("row", "rule").rows() == [(301, "E001")]
        same_verdicts(validate(str(path), spark=spark), local)


def test_a_directory_of_parts_names_each_row_by_file_and_line(spark, tmp_path: Path) -> None:
    from adrop_kit.spark import validate

    events = events_with_reused_tx(900, seed=5)
    parts = tmp_path / "export"
    parts.mkdir()
    (parts / "_SUCCESS").write_bytes(b"")
    first, second = parts / "part-00000.jsonl", parts / "part-00001.jsonl"
    first.write_text("".join(json.dumps(e) + "\n" for e in events[:500]), encoding="utf-8")
    second.write_text("".join(json.dumps(e) + "\n" for e in events[500:]), encoding="utf-8")

    report = validate(str(parts), spark=spark)
    v = report.violations_polars()
    assert set(v.get_column("source")) == {str(first), str(second)}
    from adrop_kit.spark import collect

    assert collect(report).shown_columns[0] == "source"  # several files: tables and JSON name each row's file
    for part in (first, second):  # within each file: the local verdicts, but W107 (which spans files)
        mine = v.filter((pl.col("source") == str(part)) & (pl.col("rule") != "W107")).drop("source")
        local = validate_events(part).violations.filter(pl.col("rule") != "W107").drop("source")
        assert mine.sort(pl.all()).equals(local.sort(pl.all()))
    reused = v.filter((pl.col("rule") == "W107") & (pl.col("source") == str(second)) & (pl.col("row") == 400))
    assert reused.height == 1
    assert f" of {first}" in reused.item(0, "message")  # the first use is in the other file
    everything = validate_events(events)
    assert report.summary() == everything.summary()  # the same rows, as one dataset


def test_parquet_and_spark_dataframes_by_position_or_by_key(spark, tmp_path: Path) -> None:
    from adrop_kit.spark import validate

    path = write_sample(tmp_path / "sample.parquet", 1200, seed=7, error_rate=0.1)
    local = validate_events(path)
    from_path = validate(str(path), spark=spark)  # row groups read by the executors themselves
    same_verdicts(from_path, local)
    valid = sorted(r["row"] for r in from_path.valid_rows.select("row").collect())  # numbered by Spark's splits
    assert valid == local.rows_of("valid", positions=True).get_column("row").to_list()

    sdf = spark.read.parquet(str(path))  # a DataFrame: rows by position, as a polars frame of it would be
    by_position = validate(sdf, spark=spark)
    assert by_position.summary() == local.summary()
    assert by_position.source == "<spark>"
    want = local.violations.drop("source").sort(pl.all())
    assert by_position.violations_polars().drop("source").sort(pl.all()).equals(want)

    ids = pl.read_parquet(path).with_row_index("pos").with_columns((pl.col("pos").cast(pl.Int64) * 10 + 7)
                                                                   .alias("_id")).drop("pos")
    ids.write_parquet(tmp_path / "with_ids.parquet")
    keyed = spark.read.parquet(str(tmp_path / "with_ids.parquet")).repartition(3)  # order lost: rows by key
    by_key = validate(keyed, key="_id", name="orders", spark=spark)
    local_by_key = validate_events(ids)
    want = local_by_key.violations.drop("source").with_columns(pl.col("row") * 10 + 7)
    w107 = pl.col("rule") == "W107"  # its message names the first purchase's row: by key here
    got = by_key.violations_polars()
    assert set(got.get_column("source")) <= {"orders"}
    assert got.drop("source").filter(~w107).sort(pl.all()).equals(want.filter(~w107).sort(pl.all()))
    assert got.filter(w107).get_column("row").to_list() == want.filter(w107).get_column("row").to_list()
    assert by_key.summary() == local_by_key.summary()


def test_send_delivers_the_valid_rows_and_previous_resumes(spark, adrop_server, tmp_path: Path) -> None:
    from adrop_kit.spark import send
    from adrop_kit.spark.inputs import keyed
    from adrop_kit.spark.send import OUTCOME_COLUMNS, plan
    from adrop_kit.spec.catalog import resolve

    path = tmp_path / "to_send.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in sample_events(240, seed=11, error_rate=0.1)),
                    encoding="utf-8")
    local = validate_events(path)
    key = adrop_server.app_key
    out = send(str(path), app_key=key, endpoint=adrop_server.endpoint, spark=spark)
    assert tuple(out.columns) == OUTCOME_COLUMNS
    rows = out.collect()
    assert sorted(r["row"] for r in rows) == list(range(240))  # every row once
    by = {o: sum(r["outcome"] == o for r in rows) for o in ("delivered", "skipped")}
    assert by == {"delivered": local.valid, "skipped": local.invalid}
    assert adrop_server.stats()["good"] == local.valid
    assert not any(key in str(v) for r in rows for v in r)

    k = keyed(spark, str(path))  # the plan a send runs: the key is not in it (it travels in a broadcast)
    shared = spark.sparkContext.broadcast(key)
    lazy = plan(k, resolve(None), shared, {"endpoint": adrop_server.endpoint}, None)
    shown = StringIO()
    with redirect_stdout(shown):
        lazy.explain(True)
    shared.destroy()
    assert "MapInArrow adrop_send" in shown.getvalue() and key not in shown.getvalue()

    adrop_server.reset()  # an interrupted run: only the first half of the rows were delivered
    earlier = out.where("row < 120")
    again = send(str(path), app_key=key, endpoint=adrop_server.endpoint, spark=spark,
                 previous=earlier.unionByName(earlier))  # a table given twice repeats no row
    rows2 = again.collect()
    assert sorted(r["row"] for r in rows2) == list(range(240))
    done_before = {r["row"] for r in rows if r["row"] < 120 and r["outcome"] == "delivered"}
    assert {r["row"] for r in rows2 if r["outcome"] == "already_delivered"} == done_before
    assert adrop_server.stats()["good"] == local.valid - len(done_before)  # nothing sent twice


def test_cli_engine_spark_prints_what_the_local_engine_prints(spark, mixed_jsonl: Path, capsys) -> None:
    from adrop_kit.cli import main

    assert main(["validate", str(mixed_jsonl), "--format", "json"]) == 1
    local = json.loads(capsys.readouterr().out)
    assert main(["validate", "--engine", "spark", str(mixed_jsonl), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == local
    code = main(["validate", "--engine", "spark", str(mixed_jsonl.parent / "missing.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and "missing.jsonl" in err and len(err.strip().splitlines()) == 1


def test_adrop_kit_never_needs_pyspark() -> None:
    code = ("import sys; sys.modules['pyspark'] = None\n"
            "import adrop_kit, adrop_kit.spark\n"
            "from adrop_kit.errors import AdropError\n"
            "try:\n    adrop_kit.spark.validate('x.jsonl')\nexcept AdropError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "pip install 'adrop-kit[spark]'" in done.stdout
