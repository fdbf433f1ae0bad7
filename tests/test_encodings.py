"""A CSV that is not UTF-8 (Excel on Korean Windows saves CP949) is read, said so, or named with
--encoding; never refused as "not UTF-8" without a hint."""

from __future__ import annotations

import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import adrop_kit
from adrop_kit.cli import main

ROWS = "uid,eventName,page_id,page_category\n" + "".join(f"u{i},page_view,/p/{i},신발 {i}\n" for i in range(300))


@pytest.mark.parametrize("stream", [False, True])
def test_a_cp949_csv_is_read_as_cp949_and_the_report_says_so(tmp_path, stream):
    path = tmp_path / "events.csv"
    path.write_bytes(ROWS.encode("cp949"))
    report = adrop_kit.validate_events(path, stream=stream, **({"batch_bytes": 999} if stream else {}))
    assert (report.rows, report.invalid) == (300, 0)
    assert any("read as CP949" in n for n in report.notes)
    assert report.valid_rows["page_category"].to_list()[:2] == ["신발 0", "신발 1"]


def test_the_encoding_can_be_named(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_bytes("uid,eventName,page_id\nu1,page_view,café\n".encode("latin-1"))
    assert adrop_kit.validate_events(path, encoding="latin-1").valid_rows["page_id"].to_list() == ["café"]
    assert main(["validate", str(path), "--encoding", "latin-1"]) == 0
    assert main(["validate", str(path), "--encoding", "klingon"]) == 2
    assert "unknown encoding 'klingon'" in capsys.readouterr().err


def test_text_in_no_known_encoding_gets_a_hint_not_a_bare_refusal(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_bytes(b"uid,eventName,page_id\nu1,page_view,\x81\xff\n")
    main(["validate", str(path)])
    assert "--encoding" in capsys.readouterr().out


def test_utf8_files_are_untouched(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(ROWS, encoding="utf-8")
    report = adrop_kit.validate_events(path)
    assert report.notes == () and report.invalid == 0


@pytest.mark.parametrize("stream", [False, True])
def test_a_send_says_the_file_was_read_as_cp949_once(tmp_path, capsys, stream):
    path = tmp_path / "events.csv"
    path.write_bytes(ROWS.encode("cp949"))
    report = adrop_kit.Sender(endpoint="http://127.0.0.1:9/event", app_key="k", dry_run=True).send_all(
        path, stream=stream, **({"batch_bytes": 999} if stream else {}))
    assert [n for n in report.notes if "read as CP949" in n] == [report.notes[0]] and len(report.notes) == 1
    assert main(["send", str(path), "--dry-run", "--endpoint", "http://127.0.0.1:9/event"]) == 0
    assert capsys.readouterr().out.count("read as CP949") == 1


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from([b"a", "가".encode(), "😀".encode(), "é".encode(), b"\xed\xa0\x80", b"\xc0\x80",
                                 b"\xf4\x90\x80\x80", b"\xff", "가".encode("cp949")]), max_size=12),
       st.integers(0, 3))
def test_utf8_is_told_as_the_incremental_decoder_tells_it(parts, cut):
    """A block is UTF-8 (a character cut by its end allowed) exactly when Python's decoder says so,
    though it is checked by pyarrow's validation first."""
    import codecs

    from adrop_kit.io.encodings import _utf8

    block = b"".join(parts)
    block = block[:len(block) - cut] if cut <= len(block) else block
    try:
        codecs.getincrementaldecoder("utf-8")().decode(block, final=False)
        expected = True
    except UnicodeDecodeError:
        expected = False
    assert _utf8(block) is expected


@pytest.mark.parametrize("ascii_rows", [100, 40_000])  # the CP949 row inside the first DECIDE_BYTES, and past them
def test_the_encoding_is_decided_from_the_same_bytes_whatever_the_batch_size(tmp_path, ascii_rows):
    from adrop_kit.io.encodings import DECIDE_BYTES

    head = "uid,eventName,page_id,page_category\n" + "".join(
        f"u{i},page_view,/p/{i},shoes\n" for i in range(ascii_rows))
    path = tmp_path / "mixed.csv"
    path.write_bytes(head.encode() + "u9,page_view,/p/9,신발\n".encode("cp949"))
    assert (len(head) > DECIDE_BYTES) == (ascii_rows == 40_000)
    reports = [adrop_kit.validate_events(path, stream=False)] + [
        adrop_kit.validate_events(path, stream=True, batch_bytes=b) for b in (4096, 65_536, 1 << 22)]
    seen = {(r.rows, r.invalid, r.notes) for r in reports}
    assert len(seen) == 1, seen
    rows, invalid, notes = seen.pop()
    assert rows == ascii_rows + 1
    # decided from the first DECIDE_BYTES: CP949 when the row is among them, else UTF-8 with that one row an E001
    assert (invalid, bool(notes)) == ((0, True) if ascii_rows == 100 else (1, False))
