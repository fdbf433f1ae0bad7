"""Hostile dataset files, read the way the reports did: `validate_events(path)` and `adrop-kit
validate PATH`. A bad row is a row (exit 1), an unreadable file one line on stderr (exit 2),
never a traceback, a hang, an empty read or a memory blow-up."""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import adrop_kit as ak
from adrop_kit.cli import main
from adrop_kit.errors import DataReadError
from adrop_kit.io.source import READ_BOUND
from adrop_kit.spec.rules import DEPTH_MESSAGE, MAX_KEYS, SIZE_MESSAGE

OPEN = {"uid": "u", "eventName": "app_open"}
OPEN_LINE = json.dumps(OPEN)


def _rules(report: ak.DatasetReport) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for row, rule in report.violations.filter(pl.col("severity") == "error").select("row", "rule").iter_rows():
        out.setdefault(row, set()).add(rule)
    return out


def _message(report: ak.DatasetReport, row: int) -> str:
    return report.violations.filter(pl.col("row") == row).get_column("message")[0]


def _cli(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if code == 2:
        assert err.startswith(f"adrop-kit: error: {path}: ") and err.count("\n") == 1, err
    return code, out, err


def _refused(path: Path, needle: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(DataReadError, match=re.escape(needle)):
        ak.validate_events(path)
    code, _, err = _cli(path, capsys)
    assert code == 2 and needle in err
    return err


# -- CSV: one meaning whichever path reads it ----------------------------------------------
def test_a_quoted_empty_csv_cell_is_absent_like_an_empty_one(tmp_path, capsys):
    path = tmp_path / "e.csv"
    path.write_text('uid,eventName,platform,method\nu1,app_open,"",\nu2,sign_up,web,""\n')
    report = ak.validate_events(path)
    assert _rules(report) == {1: {"E005"}}  # platform "" is absent (no E004); method "" is missing (E005)
    assert "missing" in _message(report, 1)
    assert _cli(path, capsys)[0] == 1


def test_a_rows_verdict_and_number_do_not_change_when_an_unrelated_line_is_malformed(tmp_path, capsys):
    def write(name: str, line: str) -> Path:
        rows = ['u1,app_open,"",', 'u2,sign_up,web,"a\nmulti-line method"', "", line, "u4,app_open,Web,",
                "u5,sign_up,,"]
        path = tmp_path / name
        path.write_text("uid,eventName,platform,method\n" + "\n".join(rows) + "\n")
        return path

    good, broken = write("good.csv", "u3,sign_up,,email"), write("broken.csv", 'u3,sign_up,,x"y')
    a, b = ak.validate_events(good), ak.validate_events(broken)  # the fast path, then the forgiving one
    assert _rules(a) == {4: {"E004"}, 5: {"E005"}}
    assert _rules(b) == {3: {"E001"}, 4: {"E004"}, 5: {"E005"}}
    assert a.frame.get_column("__row").to_list() == b.frame.get_column("__row").to_list() == [0, 1, 3, 4, 5]
    assert a.violations.drop("source").filter(pl.col("row") != 3).equals(
        b.violations.drop("source").filter(pl.col("row") != 3))
    assert "line 6: malformed CSV (a quote inside an unquoted field" in _message(b, 3)
    assert _cli(broken, capsys)[0] == 1


def test_a_broken_csv_record_is_judged_by_its_own_line(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text('uid,eventName\nu1,app_open\nu2,"app_open\nu3,app_open\nu4,x"y\nu5,app_open,EXTRA\nu6,app_open\n')
    report = ak.validate_events(path)
    assert _rules(report) == {1: {"E001"}, 3: {"E001"}, 4: {"E001"}}
    assert report.invalid_rows.get_column("row").to_list() == [1, 3, 4]
    assert report.valid_rows.get_column("uid").to_list() == ["u1", "u3", "u6"]
    assert "3 fields, but the header has 2" in _message(report, 4)


@pytest.mark.parametrize("tail", ["", 'u9,"unclosed\n'])
def test_quotes_inside_an_unquoted_field_are_malformed_on_either_path(tmp_path, tail):
    path = tmp_path / "e.csv"  # polars alone would read `He said ""hi""` as text; the grammar says malformed
    path.write_text('uid,eventName,note\nu1,app_open,He said ""hi""\nu2,app_open,"a ""quoted"" word"\n' + tail)
    report = ak.validate_events(path)
    assert _rules(report).get(0) == {"E001"} and 1 not in _rules(report)
    assert report.frame.filter(pl.col("__row") == 1).get_column("note").to_list() == ['a "quoted" word']


def test_a_csv_quoting_every_field_is_checked_whole_and_read_alike(tmp_path):
    rows = pl.DataFrame({"uid": [f"u{i}" for i in range(30_000)], "eventName": ["app_open"] * 30_000})
    path = tmp_path / "e.csv"
    rows.write_csv(path, quote_style="always")
    assert ak.validate_events(path).summary()["valid"] == 30_000
    text = path.read_text().splitlines()
    text[25_000] = '"u25000",app""open'  # past the first quoted records: found by the one-pass check
    path.write_text("\n".join(text) + "\n")
    report = ak.validate_events(path)
    assert _rules(report) == {24_999: {"E001"}} and report.valid == 29_999


# -- JSON arrays: judged element by element, as JSONL lines are ----------------------------
def test_a_json_array_with_a_bom_nan_1e400_and_a_lone_surrogate_is_read_row_by_row(tmp_path, capsys):
    path = tmp_path / "e.json"
    elements = ['{"uid":"u","eventName":"view_item","item_id":"a","price":NaN}',
                '{"uid":"u","eventName":"view_item","item_id":"a","price":1e400}',  # a number (SPEC), not Infinity
                '{"uid":"u\\ud800","eventName":"app_open"}', OPEN_LINE]
    text = "[" + ",".join(elements) + "]"
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    report = ak.validate_events(path)
    assert report.rows == 4
    assert _rules(report) == {0: {"E006"}, 2: {"E001"}}
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_bytes(codecs.BOM_UTF8 + "\n".join(elements).encode())
    assert _rules(ak.validate_events(jsonl)) == _rules(report)  # the same judgment per row
    assert _cli(path, capsys)[0] == 1
    path.write_bytes(codecs.BOM_UTF8 + json.dumps([OPEN, OPEN]).encode())
    assert ak.validate_events(path).summary()["valid"] == 2


def test_a_broken_json_array_element_is_one_row_and_the_others_are_kept(tmp_path):
    path = tmp_path / "e.json"
    path.write_text('[{"uid":"u","eventName":"app_open"}, {"uid": [1,2}, {"uid":"v"} {"x":1},\n'
                    f'{OPEN_LINE}, {{"uid":"w","eventName":"app_open"}}] trailing')
    report = ak.validate_events(path)
    assert report.rows == 6  # u, the broken one, v glued to {"x":1} (one row, as on one JSONL line), u, w, the tail
    assert _rules(report) == {1: {"E001"}, 2: {"E001"}, 5: {"E001"}}
    assert "element 1 is not valid JSON" in _message(report, 1)
    assert "after the end of the JSON array" in _message(report, 5)
    assert report.valid_rows.get_column("uid").to_list() == ["u", "u", "w"]


def test_a_json_array_gives_each_element_the_same_verdict_whole_or_element_by_element(tmp_path):
    events = [OPEN, {"uid": "", "eventName": "app_open"}, {"uid": "u", "eventName": "sign_up"}, [1], "x", None,
              {"uid": "u", "eventName": "view_item", "item_id": "a", "price": "9"}, {"uid": "u", "x": [[[[1]]]]},
              {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"price": 1}]}, {"k": "v" * 500}]
    whole, by_element = tmp_path / "whole.json", tmp_path / "by_element.json"
    whole.write_text(json.dumps(events))
    by_element.write_text(json.dumps(events)[:-1] + ', {"uid": NaN}]')  # orjson refuses the file: element by element
    a, b = ak.validate_events(whole), ak.validate_events(by_element)
    assert b.rows == a.rows + 1
    assert a.violations.drop("source").equals(b.violations.drop("source").filter(pl.col("row") < a.rows))


@pytest.mark.parametrize("content,rows", [(json.dumps(OPEN), 1), ('{"uid":"u","eventName":"app_open","x":NaN}', 1)])
def test_a_top_level_json_object_is_one_event(tmp_path, content, rows):
    path = tmp_path / "e.json"
    path.write_text(content)
    assert ak.validate_events(path).rows == rows


@pytest.mark.parametrize("content,needle", [("42", "got an integer"), ('"x"', "got a string"), ("null", "got null"),
                                            ("nope", "not valid JSON"), ("{nope", "not valid JSON")])
def test_a_json_file_that_holds_no_events_is_refused_in_one_line(tmp_path, capsys, content, needle):
    path = tmp_path / "e.json"
    path.write_text(content)
    _refused(path, needle, capsys)


def test_integers_beyond_64_bits_are_read_exactly_from_jsonl_and_json(tmp_path):
    from adrop_kit.io.frames import to_payloads

    big = [2**64 + 1, -(2**63) - 1, 10**30]
    rows = [{"uid": "u", "eventName": "view_item", "item_id": "1234567890123456789012", "price": v} for v in big]
    for name, text in {"e.jsonl": "\n".join(json.dumps(r) for r in rows) + "\n", "e.json": json.dumps(rows)}.items():
        path = tmp_path / name
        path.write_text(text)
        sent = [p for _, p in to_payloads(ak.validate_events(path).frame, ak.STANDARD)]
        assert [p["price"] for p in sent] == big and all(type(p["price"]) is int for p in sent), name


@pytest.mark.parametrize("vector", [False, True])
def test_every_run_of_19_digits_is_found_by_the_sampled_search(monkeypatch, vector):
    import random

    import adrop_kit.io.numbers as numbers

    monkeypatch.setattr(numbers, "_VECTOR_BYTES", 0 if vector else 1 << 30)
    rng = random.Random(7)
    for _ in range(300):
        data = bytes(rng.choice(b"0123456789 ,x\n") for _ in range(rng.randint(0, 300)))
        at = rng.randint(0, len(data))
        data = data[:at] + b"7" * rng.randint(17, 25) + data[at:]
        runs = [(m.start(), m.end()) for m in re.finditer(rb"[0-9]{19,}", data)]
        found = numbers.long_digit_runs(data)
        assert all(any(s <= f < e for f in found) for s, e in runs) and all(any(s <= f < e for s, e in runs)
                                                                             for f in found), data


def test_csv_integers_are_sent_as_written_whatever_the_other_rows_hold(tmp_path):
    from adrop_kit.io.frames import to_payloads

    path = tmp_path / "e.csv"
    path.write_text("uid,eventName,item_id,price\nu,view_item,a,12\nu,view_item,a,1.5\n"
                    "u,view_item,a,18446744073709551617\nu,view_item,a,+007\n")
    prices = [p["price"] for _, p in to_payloads(ak.validate_events(path).frame, ak.STANDARD)]
    assert prices == [12, 1.5, 2**64 + 1, 7] and [type(v) for v in prices] == [int, float, int, int]


# -- nesting that would crash a parser -------------------------------------------------------
@pytest.mark.parametrize("levels", [100, 1_000, 5_000, 100_000])
def test_deep_nesting_is_an_e001_row_in_jsonl_json_and_csv(tmp_path, capsys, levels):
    deep = "[" * levels + "]" * levels
    line = '{"uid":"u","eventName":"app_open","x":' + deep + "}"
    cases = {"e.jsonl": f"{line}\n{OPEN_LINE}\n", "e.json": f"[{line}, {OPEN_LINE}]",
             "e.csv": 'uid,eventName,tx_id,items\nu,purchase,t,"' + deep + '"\nu,app_open,,\n'}
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content)
        report = ak.validate_events(path)
        assert _rules(report) == {0: {"E001"}}, name
        assert _message(report, 0) == DEPTH_MESSAGE, name
        assert _cli(path, capsys)[0] == 1
    one = tmp_path / "one.json"
    one.write_text(line)
    assert _message(ak.validate_events(one), 0) == DEPTH_MESSAGE


# -- encodings -----------------------------------------------------------------------------
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_files_with_a_byte_order_mark_are_decoded(tmp_path, capsys, codec):
    bom = {"utf-16-be": codecs.BOM_UTF16_BE, "utf-32-be": codecs.BOM_UTF32_BE}.get(codec, b"")
    for name, text in {"e.csv": "uid,eventName,item_name\nu1,app_open,é💥\nu2,sign_up,\n",
                       "e.jsonl": f'{OPEN_LINE}\n{{"uid":"u2","eventName":"sign_up"}}\n'}.items():
        path = tmp_path / name
        path.write_bytes(bom + text.encode(codec))
        report = ak.validate_events(path)
        assert _rules(report) == {1: {"E005"}}, (codec, name)
        assert _cli(path, capsys)[0] == 1
    assert ak.validate_events(tmp_path / "e.csv").frame.get_column("item_name")[0] == "é💥"


def test_a_utf16_file_that_does_not_decode_is_refused_naming_the_encoding(tmp_path, capsys):
    path = tmp_path / "e.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "uid,eventName\n".encode("utf-16-le") + b"\x00\xd8a\x00")  # lone surrogate
    _refused(path, "not valid UTF-16 text", capsys)


def test_invalid_utf8_in_a_line_is_an_e001_row_for_that_line(tmp_path, capsys):
    csv_path, jsonl = tmp_path / "e.csv", tmp_path / "e.jsonl"
    csv_path.write_bytes(b"uid,eventName\nu\xff,app_open\nu2,app_open\n")
    jsonl.write_bytes(b'{"uid":"u\xff","eventName":"app_open"}\n' + OPEN_LINE.encode() + b"\n")
    for path, needle in ((csv_path, "line 2: not valid UTF-8"), (jsonl, "line 1 is not valid UTF-8")):
        report = ak.validate_events(path)
        assert _rules(report) == {0: {"E001"}} and report.valid == 1
        assert needle in _message(report, 0)
        assert _cli(path, capsys)[0] == 1


def test_a_key_holding_nul_delimited_text_is_just_a_key(tmp_path, capsys):
    path = tmp_path / "e.jsonl"
    path.write_text('{"uid":"u","eventName":"app_open","a\\u0000i\\u0000b":1}\n')
    report = ak.validate_events(path)
    assert report.ok and report.violations.get_column("rule").to_list() == ["W102"]
    assert _cli(path, capsys)[0] == 0


# -- what is not a regular file ----------------------------------------------------------------
def _fifo(tmp_path: Path, name: str, content: bytes) -> tuple[Path, threading.Thread]:
    path = tmp_path / name
    os.mkfifo(path)

    def write() -> None:
        try:
            with open(path, "wb") as fh:
                fh.write(content)
        except BrokenPipeError:  # the reader stopped early (binary data): what it should do
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return path, writer


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("name,content", [("e.jsonl", (OPEN_LINE + "\n") * 3),
                                          ("e.csv", "uid,eventName\n" + "u,app_open\n" * 3)])
def test_a_fifo_of_jsonl_or_csv_is_read_as_a_stream_not_as_an_empty_file(tmp_path, capsys, name, content):
    path, writer = _fifo(tmp_path, name, content.encode())
    assert ak.validate_events(path).summary() == {"rows": 3, "valid": 3, "invalid": 0, "warned": 0}
    writer.join(5)
    path.unlink()
    path, writer = _fifo(tmp_path, name, content.encode())
    code, out, _ = _cli(path, capsys)
    assert code == 0 and "3 rows checked" in out
    writer.join(5)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_parquet_and_a_fifo_of_zeros_are_refused(tmp_path, capsys):
    pq = tmp_path / "e.parquet"
    os.mkfifo(pq)
    _refused(pq, "not a regular file (a FIFO)", capsys)
    path, writer = _fifo(tmp_path, "zeros.csv", b"\x00" * (1 << 20))
    with pytest.raises(DataReadError, match="binary data"):
        ak.validate_events(path)
    writer.join(5)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("name", ["zero.csv", "zero.jsonl", "zero.json", "zero.parquet"])
def test_a_symlink_to_dev_zero_is_refused_at_once(tmp_path, capsys, name):
    path = tmp_path / name
    path.symlink_to("/dev/zero")
    start = time.perf_counter()
    _refused(path, "not a regular file (a character device)", capsys)
    assert time.perf_counter() - start < 20  # refused, not read: /dev/zero never ends


# -- size, binary data, width --------------------------------------------------------------
def test_nul_bytes_are_refused_early_as_binary_data(tmp_path, capsys):
    path = tmp_path / "e.csv"
    with path.open("wb") as fh:  # 200 MB of NUL bytes (sparse on most file systems)
        fh.truncate(200 * 1024 * 1024)
    start = time.perf_counter()
    err = _refused(path, "binary data, not text (a NUL byte at byte 0)", capsys)
    assert time.perf_counter() - start < 30 and len(err) < 300


def test_a_nul_byte_past_the_start_makes_only_its_row_e001(tmp_path):
    lines = ["u,app_open"] * 2000  # the NUL is past the first bytes: not binary data, a broken row
    lines[1500] = "u\x00,app_open"
    csv_path = tmp_path / "e.csv"
    csv_path.write_text("uid,eventName\n" + "\n".join(lines) + "\n")
    report = ak.validate_events(csv_path)
    assert _rules(report) == {1500: {"E001"}} and "NUL byte" in _message(report, 1500)
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text("\n".join([OPEN_LINE] * 1500 + ['{"uid":"u\x00"}'] + [OPEN_LINE] * 10) + "\n")
    report = ak.validate_events(jsonl)
    assert _rules(report) == {1500: {"E001"}} and "NUL byte" in _message(report, 1500)


def test_a_line_or_record_far_over_the_size_limit_is_an_e001_row(tmp_path, capsys):
    huge = "x" * (READ_BOUND + 10)
    cases = {"e.jsonl": f'{OPEN_LINE}\n{{"uid":"{huge}","eventName":"app_open"}}\n{OPEN_LINE}\n',
             "e.csv": f"uid,eventName\nu,app_open\n{huge},app_open\nu,app_open\n",
             "f.csv": f'uid,eventName\nu,app_open\n"{huge}\n{huge}",app_open\nu,"x"y\n'}  # forgiving path, multi-line
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content)
        report = ak.validate_events(path)
        assert 1 in _rules(report) and _message(report, 1) == SIZE_MESSAGE, name
        assert report.valid >= 1 and len(report.violations.get_column("value")[0] or "") <= 200
        assert _cli(path, capsys)[0] == 1


def test_a_csv_with_100000_columns_is_refused_before_anything_is_built(tmp_path, capsys):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("x" * 100_000) + "\n")
    start = time.perf_counter()
    err = _refused(path, f"has 100,000 columns; an event can have at most {MAX_KEYS:,} keys", capsys)
    assert time.perf_counter() - start < 20 and "wide.csv" in err
    path.write_text(",".join(f"c{i}" for i in range(MAX_KEYS)) + "\nx\n")  # at the limit: read
    assert ak.validate_events(path).rows == 1


@pytest.mark.parametrize("content,needle", [("uid,uid\nu,v\n", "names the column 'uid' twice"),
                                            ("\nu,app_open\n", "the header (line 1) is empty"),
                                            ('uid,"event\n', "the header (line 1) is malformed CSV")])
def test_a_csv_header_that_cannot_name_the_columns_is_refused(tmp_path, capsys, content, needle):
    path = tmp_path / "e.csv"
    path.write_text(content)
    _refused(path, needle, capsys)


def test_csv_columns_in_the_readers_namespace_are_ignored(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("__row,uid,eventName,__error\n7,u,app_open,boom\n")
    report = ak.validate_events(path)
    assert report.ok and report.frame.get_column("__row").to_list() == [0]


def test_each_file_is_read_once(tmp_path, monkeypatch):
    path = tmp_path / "e.jsonl"
    path.write_text(OPEN_LINE + "\n")
    reads: list[Path] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    assert ak.validate_events(path).rows == 1 and reads == [path]


# -- Parquet binary columns ----------------------------------------------------------------
def test_parquet_binary_columns_are_decoded_and_bytes_that_are_not_utf8_make_that_row_e001(tmp_path, capsys):
    path = tmp_path / "e.parquet"
    pl.DataFrame({
        "uid": pl.Series([b"u1", b"\xff\xfe", b"u3"], dtype=pl.Binary),
        "eventName": pl.Series([b"app_open", b"app_open", b"purchase"], dtype=pl.Binary),
        "tx_id": [None, None, "t"],
        "items": pl.Series([None, None, [{"item_id": b"a"}]], dtype=pl.List(pl.Struct({"item_id": pl.Binary}))),
        "_blob": pl.Series([b"\x00\xff", None, None], dtype=pl.Binary),
    }).write_parquet(path)
    report = ak.validate_events(path)
    assert _rules(report) == {1: {"E001"}}
    assert "uid holds bytes that are not valid UTF-8" in _message(report, 1)
    assert report.frame.get_column("uid").to_list()[0] == "u1"
    assert _cli(path, capsys)[0] == 1


def test_an_empty_file_still_holds_no_events(tmp_path, capsys):
    for name in ("e.csv", "e.jsonl", "e.json", "e.parquet"):
        path = tmp_path / name
        path.write_bytes(b"")
        assert ak.validate_events(path).rows == 0
        assert _cli(path, capsys)[0] == 0
    bom_only = tmp_path / "bom.csv"
    bom_only.write_bytes(codecs.BOM_UTF16_LE)
    assert ak.validate_events(bom_only).rows == 0


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="FIFOs and /dev/zero are POSIX")


RESERVED_ROWS = [{"uid": "u1", "eventName": "app_open", "__row": 99, "__error": "x", "_note": "a"},
                 {"uid": "", "eventName": "app_open", "__row": 7, "__error": None, "_note": "b"},
                 {"uid": "u3", "eventName": "page_view", "__row": 0, "__error": "no", "_note": None}]


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet", "parquet streamed", "polars", "pandas"])
def test_a_users_reserved_column_never_stands_for_the_row_number_or_the_verdict(tmp_path, kind):
    """`__row`, `__error` are the readers' own bookkeeping; a user's column of that name is metadata
    (SPEC: `_` columns are never checked or sent), so rows keep their positions and verdicts."""
    frame = pl.DataFrame(RESERVED_ROWS)
    if kind in ("polars", "pandas"):
        data = frame if kind == "polars" else frame.to_pandas()
    elif kind == "jsonl":
        data = tmp_path / "e.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in RESERVED_ROWS), encoding="utf-8")
    elif kind == "csv":
        data = tmp_path / "e.csv"
        frame.write_csv(data)
    else:
        data = tmp_path / "e.parquet"
        frame.write_parquet(data)
    report = ak.validate_events(data, stream=True) if kind == "parquet streamed" else ak.validate_events(data)
    got = sorted((v["row"], v["rule"]) for v in report.to_dict()["violations"])
    assert got == [(1, "E002"), (2, "E005")]
    assert (report.rows, report.invalid) == (3, 2)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_a_big_utf16_or_utf32_file_streams_as_it_decodes(tmp_path, codec, monkeypatch):
    bom = {"utf-16-be": codecs.BOM_UTF16_BE, "utf-32-be": codecs.BOM_UTF32_BE}.get(codec, b"")
    rows = "".join(f'{{"uid":"u{i}","eventName":"app_open","platform":"ios","x":"é💥"}}\n' for i in range(3000))
    path = tmp_path / "e.jsonl"
    path.write_bytes(bom + (rows + '{"uid":"u"}\n').encode(codec))
    import adrop_kit.io.stream as stream_module
    from adrop_kit.io.parts import resolve_inputs
    from adrop_kit.io.stream import part_frames
    from adrop_kit.spec.catalog import STANDARD

    read, real = [], stream_module.read_block
    monkeypatch.setattr(stream_module, "read_block", lambda fh, part, n: read.append(n) or real(fh, part, n))
    frames = part_frames(resolve_inputs(path).parts[0], STANDARD, batch_bytes=4096)
    next(frames)
    assert sum(read) < path.stat().st_size // 4  # the first batch came before the file was read whole
    assert len(list(frames)) > 10
    streamed = ak.validate_events(path, stream=True, batch_bytes=4096)
    whole = ak.validate_events(path, stream=False)
    assert (streamed.rows, streamed.invalid) == (whole.rows, whole.invalid) == (3001, 1)
    assert streamed.violations.equals(whole.violations)


@pytest.mark.parametrize("cut", [4096, 4097, 4098, 4099])
def test_a_utf16_file_that_does_not_decode_far_in_is_refused_naming_the_byte_when_streamed(tmp_path, capsys, cut):
    head = codecs.BOM_UTF16_LE + "uid,eventName\n".encode("utf-16-le")
    body = "u1,app_open\n".encode("utf-16-le") * 2000
    at = len(head) + 24 * 500 + 2 * (cut - 4096)  # a lone surrogate past the first block, at a code unit
    data = head + body[:at - len(head)] + b"\x00\xd8a\x00" + body[at - len(head):]
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    for stream in (False, True):
        with pytest.raises(ak.DataReadError) as err:
            ak.validate_events(path, stream=stream, **({"batch_bytes": cut} if stream else {}))
        assert "e.csv: not valid UTF-16 text (" in str(err.value) and f" at byte {at:,}); save it as UTF-8" in str(
            err.value), (stream, str(err.value))


def test_excel_leftovers_are_refused_saying_what_to_do(tmp_path, capsys):
    trailing = tmp_path / "trailing.csv"  # empty columns Excel keeps after the last one used
    trailing.write_bytes(b"eventName,uid,platform,,\r\napp_open,u1,ios,,\r\n")
    _refused(trailing, "the header has 2 columns with no name (columns 4, 5); delete them", capsys)
    mac = tmp_path / "mac.csv"  # Excel's "CSV (Macintosh)": lines end with CR alone
    mac.write_bytes(b"eventName,uid,platform\rapp_open,u1,ios\rapp_open,u2,web\r")
    _refused(mac, "its lines end with a carriage return alone (CR, the old Mac text format)", capsys)
    one = tmp_path / "one.csv"  # one column with no name is a key like any other (W102 where it holds a value)
    one.write_bytes(b"eventName,uid,platform,\napp_open,u1,ios,\napp_open,u2,ios,x\n")
    report = ak.validate_events(one)
    assert report.ok and [(v["rule"], v["field"]) for v in report.violations.to_dicts()] == [("W102", "")]


def test_newline_delimited_json_saved_as_json_is_read_as_jsonl(tmp_path, capsys):
    # BigQuery, mongoexport and Firehose write one object per line into .json files
    text = (OPEN_LINE + "\n" + '{"uid":"u2","eventName":"sign_up"}\n' + "{broken\n\n" + OPEN_LINE + "\n")
    (tmp_path / "e.json").write_text(text)
    (tmp_path / "e.jsonl").write_text(text)
    as_json, as_jsonl = (ak.validate_events(tmp_path / n) for n in ("e.json", "e.jsonl"))
    assert _rules(as_json) == _rules(as_jsonl) == {1: {"E005"}, 2: {"E001"}}
    assert as_json.violations.drop("source", strict=False).equals(as_jsonl.violations.drop("source", strict=False))
    assert "line 3" in _message(as_json, 2)
    assert _cli(tmp_path / "e.json", capsys)[0] == 1
    one = tmp_path / "one.json"  # one object on one line, then blank lines: one event, as before
    one.write_text(OPEN_LINE + "\n\n  \n")
    assert ak.validate_events(one).rows == 1
    pretty = tmp_path / "pretty.json"  # `jq .` without -c: documents one after another, not lines
    pretty.write_text('{\n  "uid": "u1"\n}\n{\n  "uid": "u2"\n}\n')
    _refused(pretty, "one event per line (`jq -c` writes them so)", capsys)


@pytest.mark.parametrize("key", ["*", "^a$", "^.*$", "^uid$"])
def test_a_key_polars_reads_as_a_pattern_is_a_key_like_any_other(tmp_path, capsys, key):
    import pandas as pd
    import polars as pl

    event = {"eventName": "app_open", "uid": "u0", key: "x"}
    (tmp_path / "e.jsonl").write_text(json.dumps(event) + "\n")
    pl.DataFrame([event]).write_parquet(tmp_path / "e.parquet")
    for data in ([event], tmp_path / "e.jsonl", tmp_path / "e.parquet", pd.DataFrame([event]), pl.DataFrame([event])):
        report = ak.validate_events(data)
        assert [(v["rule"], v["field"]) for v in report.violations.to_dicts()] == [("W102", key)], data
        assert report.valid_rows.to_dicts() == [event], data
    (tmp_path / "e.csv").write_text(f"eventName,uid,{key}\napp_open,u0,x\n")
    _refused(tmp_path / "e.csv", f"a column is named {key!r}", capsys)


def test_a_second_byte_order_mark_in_a_utf16_file_is_text_streamed_or_not(tmp_path):
    line = '{"uid":"u","eventName":"page_view","page_id":"x"}\n'
    jsonl, csv_path = tmp_path / "d.jsonl", tmp_path / "d.csv"
    jsonl.write_bytes(codecs.BOM_UTF16_LE + ("\ufeff" + line * 400).encode("utf-16-le"))
    csv_path.write_bytes(codecs.BOM_UTF16_LE + ("\ufeffuid,eventName,page_id\n" + "u,page_view,x\n" * 300)
                         .encode("utf-16-le"))
    for path in (jsonl, csv_path):
        whole = ak.validate_events(path, stream=False)
        for batch in (1000, 4099):
            streamed = ak.validate_events(path, stream=True, batch_bytes=batch)
            assert (streamed.rows, streamed.invalid) == (whole.rows, whole.invalid), (path, batch)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_naming_the_encoding_of_a_file_with_a_byte_order_mark_reads_it_once(tmp_path, encoding):
    codec = "utf-32-le" if encoding == "utf-32" else "utf-16-le"
    bom = codecs.BOM_UTF32_LE if encoding == "utf-32" else codecs.BOM_UTF16_LE
    path = tmp_path / "e.csv"
    path.write_bytes(bom + ("uid,eventName,page_id\n" + "u,page_view,x\n" * 300).encode(codec))
    for stream in (False, True):
        report = ak.validate_events(path, encoding=encoding, stream=stream, **({"batch_bytes": 999} if stream else {}))
        assert (report.rows, report.invalid) == (300, 0), (encoding, stream)


def test_a_json_file_whose_first_line_is_broken_still_reads_line_by_line(tmp_path):
    good = '{"uid":"u","eventName":"app_open"}\n' * 5
    for first in ('{"uid": NaN, "eventName":"app_open"}', '{"uid": "u", "eventName"',
                  '{"uid":"u","eventName":"app_open","n":' + "[" * 1100 + "]" * 1100 + "}"):
        (tmp_path / "e.json").write_text(first + "\n" + good)
        (tmp_path / "e.jsonl").write_text(first + "\n" + good)
        as_json, as_jsonl = (ak.validate_events(tmp_path / n) for n in ("e.json", "e.jsonl"))
        assert (as_json.rows, as_json.invalid) == (as_jsonl.rows, as_jsonl.invalid) == (6, 1), first[:20]


@pytest.mark.parametrize("value", [[1], ["not json"], ['["a list"]']])
def test_a_users_frame_column_named_like_the_rare_keys_column_is_metadata(value):
    import pandas as pd
    import polars as pl

    row = {"uid": ["u"], "eventName": ["page_view"], "page_id": ["x"], "__more": value}
    for frame in (pl.DataFrame(row), pd.DataFrame(row)):
        report = ak.validate_events(frame)
        assert (report.rows, report.invalid, report.violations.height) == (1, 0, 0)


@pytest.mark.parametrize("column", ["__more", "__bad__page_id", "__exact__level"])
def test_a_users_frame_with_an_empty_reserved_column_reads_as_without_it(column):
    """A canonical frame written out and read back whose `__more` (or `__bad__`/`__exact__`) column
    holds only nulls (polars: dtype Null): nothing is there, the report is the frame's without it."""
    import pandas as pd
    import polars as pl

    row = {"uid": ["u", "v"], "eventName": ["page_view", "page_view"], "page_id": ["x", None], column: [None, None]}
    for frame in (pl.DataFrame(row), pd.DataFrame(row)):
        report = ak.validate_events(frame)
        assert (report.rows, report.invalid, _rules(report)) == (2, 1, {1: {"E005"}}), type(frame)


def test_a_pandas_string_column_holding_a_lone_surrogate_is_an_e001_row():
    import pandas as pd

    frame = pd.DataFrame({"uid": pd.array(["\ud800", "u"], dtype="string[python]"), "eventName": ["app_open"] * 2})
    report = ak.validate_events(frame)
    assert (report.rows, report.invalid) == (2, 1) and _rules(report) == {0: {"E001"}}


def test_the_lines_that_may_hold_number_tokens_are_found_at_once_as_line_by_line():
    """`token_lines` over joined lines (the precise lane's, a whole file's) names the lines the per-line test names."""
    import random

    from adrop_kit.io.numbers import LONG_DIGITS, may_hold_tokens, token_lines

    rng = random.Random(11)
    alphabet = [b"0", b"1", b"9", b".", b"-", b"e", b"E", b"+", b":", b",", b"[", b" ", b'"', b"x", b"00", b"0.0000",
                b"1.50", b"-0", b"1e5", b"12345678901234567890", b"{", b"}"]
    for _ in range(2000):
        lines = [b"".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(rng.randrange(1, 8))]
        truth = {i for i, line in enumerate(lines) if LONG_DIGITS.search(line) or may_hold_tokens(line)}
        assert token_lines(b"\n".join(lines)) == truth, lines
