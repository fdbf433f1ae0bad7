"""A CSV with irregular records (malformed, a NUL byte, a lone CR, invalid UTF-8, too many fields) is
read natively around them and walked record by record only over them (`io.csv_spans`), and the frame
is the one the record-by-record path alone builds (`forgiving=True`), cut into pieces of any size."""

from __future__ import annotations

import dataclasses
import importlib
import random

import polars as pl
import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from test_readers_csv import MALFORMED, UNCLOSED, cases

from adrop_kit.io import csv_spans, csv_types
from adrop_kit.io.csv_records import read_header
from adrop_kit.io.csv_spans import Native, Precise, pieces
from adrop_kit.io.read_csv import read_csv
from adrop_kit.spec.catalog import STANDARD

_reader = importlib.import_module("adrop_kit.io.read_csv")

SETTINGS = settings(max_examples=examples(150), deadline=None, suppress_health_check=list(HealthCheck))
IRREGULAR = [*MALFORMED, *UNCLOSED, b"u1,app\x00open", b"u1,app\ropen", b'u1,"a\rb",web', b"u1,app_open\xff",
             b'u1,"\xc3",web', b"x,x,x,x,x,x,x,x,x,x,x,x", b"", b'"a\nb",c', b"\r"]


def _same(data: bytes, monkeypatch: pytest.MonkeyPatch, chunk: int, dense_every: int = 1000) -> None:
    monkeypatch.setattr(csv_spans, "CHUNK", chunk)
    monkeypatch.setattr(csv_spans, "_DENSE_EVERY", dense_every)
    try:
        precise = read_csv(data, "e.csv", STANDARD, forgiving=True)
    except Exception as e:  # noqa: BLE001 - the same error either way
        with pytest.raises(type(e)):
            read_csv(data, "e.csv", STANDARD)
        return
    got = read_csv(data, "e.csv", STANDARD)
    assert_frame_equal(got.df, precise.df)
    assert got.notes == precise.notes
    monkeypatch.setattr(_reader, "_SIDE_BY_SIDE", 0)  # what a big file does: polars reads while numpy finds the
    monkeypatch.setattr(csv_types, "_SIDE_BY_SIDE", 0)  # line breaks, columns are typed side by side
    side = read_csv(data, "e.csv", STANDARD)
    assert_frame_equal(side.df, precise.df)
    assert side.notes == precise.notes


@SETTINGS
@given(cases(max_rows=16, seps=(",", ";", "\t")), st.data())
def test_irregular_records_anywhere_give_the_precise_frame_at_any_chunk_size(case, data):
    replace = {}
    if case.records:
        for _ in range(data.draw(st.integers(0, 3), label="irregular records")):
            k = data.draw(st.integers(0, len(case.records) - 1))
            replace[k] = data.draw(st.sampled_from(IRREGULAR))
    raw = case.render(replace)
    chunk = data.draw(st.sampled_from([1, 2, 7, 16, 64, 1 << 20]), label="chunk")
    dense = data.draw(st.sampled_from([1, 1000]), label="dense every")
    with pytest.MonkeyPatch.context() as mp:
        _same(raw, mp, chunk, dense)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_realistic_file_with_irregular_records_gives_the_precise_frame(seed, monkeypatch, tmp_path):
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parent.parent / "benchmarks"))
    from realistic import write_realistic  # the benchmark's realistic export, written from SPEC.md

    data = write_realistic(tmp_path / "r.csv", 3000, seed=seed).read_bytes()
    rng = random.Random(seed)
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 12)):
        k = rng.randrange(1, len(lines))
        lines.insert(k, rng.choice(IRREGULAR))
    mixed = b"\n".join(lines)
    for chunk, dense in ((1 << 20, 1000), (4096, 1), (300, 1000)):
        _same(mixed, monkeypatch, chunk, dense)


def test_one_malformed_record_is_the_only_one_walked():
    head = b"uid,eventName,method\n"
    body = [b'u%d,sign_up,"m, %d"' % (i, i) if i % 3 else b"u%d,app_open," % i for i in range(20_000)]
    body[12_345] = b'u9,x"y,'
    body[17_000] = b"u9,app\x00open,"
    data = head + b"\n".join(body) + b"\n"
    header = read_header(data, "e.csv")
    parts = pieces(data, header)
    walked = sum(p.split.records for p in parts if isinstance(p, Precise))
    assert walked == 2
    assert sum(isinstance(p, Native) for p in parts) >= 2
    frame = read_csv(data, "e.csv", STANDARD)
    assert frame.df.height == 20_000
    assert_frame_equal(frame.df, read_csv(data, "e.csv", STANDARD, forgiving=True).df)


@SETTINGS
@given(st.lists(st.sampled_from([b"a", b"b,", b",", b";", b'"', b'""', b"\n", b"\r\n", b"\r", b'"x\ny"', b"\x00",
                                 b"\xff", "가".encode()]), max_size=40),
       st.sampled_from([b",", b";"]), st.sampled_from([1, 3, 16, 1 << 20]))
def test_where_the_quotes_are_says_what_the_record_grammar_says(tokens, sep, chunk):
    """The spans found from the quotes' places, all at once, are those the record grammar finds matching
    one quoted record at a time (hostile bodies: stray, doubled and unclosed quotes, CR, NUL, not UTF-8)."""
    data = b"uid" + sep + b"eventName\n" + b"".join(tokens)
    header = read_header(data, "e.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csv_spans, "CHUNK", chunk)
        fast = pieces(data, header)
        mp.setattr(csv_spans, "_SIDE_BY_SIDE", 0)  # the UTF-8 check in a thread (the body cut again if not UTF-8)
        assert pieces(data, header) == fast
        mp.setattr(csv_spans, "_first_irregular", lambda *a, found=None: csv_spans._matched(*a))
        assert pieces(data, header) == fast


_CELLS = st.sampled_from([b"", b"a", b'"x"', b'""', b'"a\nb"', b'"\r\n"', b'"""\n\n"'])


@SETTINGS
@given(st.lists(st.tuples(_CELLS, _CELLS, st.sampled_from([b"\n", b"\r\n"])), max_size=12),
       st.booleans(), st.sampled_from([1, 2, 5, 1 << 23]))
def test_the_line_breaks_inside_records_are_found_from_the_bytes_at_any_step(records, last_end, step):
    """Each record's line breaks inside its cells, found from where line ends and quotes are (looked at
    `step` bytes at a time), are those polars finds in the cells it reads."""

    data = b"a,b\n" + b"".join(x + b"," + y + end for x, y, end in records)
    if records and not last_end:
        data = data[:-2] if data.endswith(b"\r\n") else data[:-1]
    header = read_header(data, "e.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csv_spans, "CHUNK", step)  # (chunks of `step` bytes: the quotes `pieces` keeps, chunk by chunk)
        spans = [p for p in pieces(data, header) if isinstance(p, Native)]
    if not records:
        assert spans == []
        return
    assert [(p.start, p.end) for p in spans] == [(header.end, len(data))]
    assert spans[0].quotes is not None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csv_spans, "_STEP", step)
        bytes_say = csv_spans.line_breaks(data, spans)
        looked_again = csv_spans.line_breaks(data, [dataclasses.replace(s, quotes=None) for s in spans])
    assert looked_again.spans[0].tolist() == bytes_say.spans[0].tolist()
    assert looked_again.longest == bytes_say.longest
    df = pl.read_csv(data if data.endswith(b"\n") else data + b"\n", infer_schema=False)
    assert bytes_say.spans[0].tolist() == \
        df.select(pl.sum_horizontal(pl.all().str.count_matches("\n").fill_null(0))).to_series().to_list()
    # the longest record spares a pass over every cell (the size bound)
    sizes = [len(x) + 1 + len(y) + len(end) for x, y, end in records]
    sizes[-1] -= 0 if last_end else len(records[-1][2])
    assert bytes_say.longest == max(sizes)


_NUMBER_CELLS = st.sampled_from(["", "12,900", "1E2", "2.50", "-0", "0", "7", " 7 ", "1234567890123456",
                                 "12345678901234567", "99999999999999999999", "-99999999999999999999", "+5", "007",
                                 "3.0", "14.99", "1e400", "abc", "NaN", "inf", "0.00001", "true"])


@SETTINGS
@given(st.lists(st.tuples(_NUMBER_CELLS, _NUMBER_CELLS, _NUMBER_CELLS), min_size=1, max_size=30))
def test_number_columns_typed_side_by_side_are_typed_as_one_by_one(rows):
    """A big file types its number columns in threads: the same values, the same texts sent as written
    (`12,900` kept aside whole, `2.50`, `1E2`, `-0` and 16-digit integers as their cells), the same frame."""
    body = "uid,eventName,price,quantity,value\n" + "".join(f'u,add_to_cart,"{p}","{q}",{v}\n' if "," not in v
                                                             else f'u,add_to_cart,"{p}","{q}","{v}"\n'
                                                             for p, q, v in rows)
    one = read_csv(body.encode(), "e.csv", STANDARD).df
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csv_types, "_SIDE_BY_SIDE", 0)
        side = read_csv(body.encode(), "e.csv", STANDARD).df
    assert_frame_equal(side, one)
    prices = [p for p, _, _ in rows]
    if "12,900" in prices:
        assert side.get_column("__bad__price")[prices.index("12,900")] == '"12,900"'
    if "2.50" in prices:
        assert side.get_column("__exact__price")[prices.index("2.50")] == "2.50"


@pytest.mark.parametrize("quoted", [False, True])
def test_a_record_past_the_size_bound_is_an_e001_row_on_the_native_path(quoted, monkeypatch):
    """The size bound is judged from the longest record the bytes hold: a record past it is an E001 row
    whose cells are let go, the rows around it are events, as on the record-by-record path."""
    from adrop_kit.io.frames import ERROR
    from adrop_kit.io.source import READ_BOUND
    from adrop_kit.spec.rules import SIZE_MESSAGE

    huge = b"x" * (READ_BOUND // 2)
    cell = b'"' + huge + b"\n" + huge + b'"' if quoted else huge + huge
    data = b"uid,eventName\n" + b"u1,app_open\n" * 3 + cell + b",app_open\n" + b"u2,app_open\n" * 3
    for side in (1 << 20, 0):
        monkeypatch.setattr(_reader, "_SIDE_BY_SIDE", side)
        df = read_csv(data, "e.csv", STANDARD).df
        assert df.get_column(ERROR).to_list() == [None] * 3 + [SIZE_MESSAGE] + [None] * 3
        assert df.get_column("uid").to_list() == ["u1"] * 3 + [None] + ["u2"] * 3
        assert_frame_equal(df, read_csv(data, "e.csv", STANDARD, forgiving=True).df)


@SETTINGS
@given(st.lists(st.tuples(st.one_of(st.just(""), _NUMBER_CELLS), st.one_of(st.just(""), _NUMBER_CELLS)),
                min_size=1, max_size=40))
def test_a_mostly_empty_number_column_is_typed_as_a_full_one(rows):
    """A parameter of a few events is a column of mostly empty cells: its cells are typed alone and put back
    in place, giving the frame typing every row gives (values, texts sent as written, cells kept aside)."""
    body = "uid,eventName,price,value\n" + "".join(f'u,view_item,"{p}","{v}"\n' for p, v in rows)
    compact = read_csv(body.encode(), "e.csv", STANDARD).df
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csv_types, "_type_column", csv_types._typed)  # every row, empty or not
        full = read_csv(body.encode(), "e.csv", STANDARD).df
    assert_frame_equal(compact, full)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp949"])
def test_a_file_read_side_by_side_gets_the_report_it_gets_one_step_at_a_time(encoding, tmp_path, monkeypatch):
    """A byte order mark, a Korean Excel file (CP949), ragged rows, quoted line ends, `12,900` prices and
    16-digit integers: the same report whether the read runs its steps side by side (as for a big file)."""
    from polars.testing import assert_frame_equal as same_frame

    import adrop_kit as ak

    rows = ['u1,view_item,"무선\n이어폰",SKU-1,"12,900"', "u2,view_item,러닝화,SKU-2,1234567890123456",
            "u3,add_to_cart,캠핑 의자,SKU-3,2.50,extra,cells", "u4,page_view",
            'u5,view_item,"a ""quoted""\r\nname",SKU-5,1E2', "u6,view_item,,SKU-6,-0"]
    path = tmp_path / "e.csv"
    path.write_bytes(("uid,eventName,item_name,item_id,price,value\n" + "\n".join(rows * 40) + "\n").encode(encoding))
    one = ak.validate_events(path)
    monkeypatch.setattr(_reader, "_SIDE_BY_SIDE", 0)
    monkeypatch.setattr(csv_types, "_SIDE_BY_SIDE", 0)
    side = ak.validate_events(path)
    assert (side.invalid, side.valid) == (one.invalid, one.valid) and one.invalid >= 40
    same_frame(side.violations, one.violations)
    assert side.notes == one.notes
    assert any("CP949" in n for n in one.notes) == (encoding == "cp949")


def test_a_read_whose_records_spanning_lines_shift_is_refused(monkeypatch):
    """polars' read is held to the bytes by the line breaks of every record spanning lines: a read whose
    records shift (split otherwise, then back) is not taken, the walk reads them."""
    data = b"uid,eventName,item_name\n" + b"".join(
        f'u{i},view_item,"a\nb"\n'.encode() if i % 2 else f"u{i},view_item,ab\n".encode() for i in range(40))
    expected = read_csv(data, "e.csv", STANDARD, forgiving=True).df
    read = _reader._read_or_none

    def shifted(text: bytes, header: object) -> pl.DataFrame | None:
        df = read(text, header)
        return None if df is None else pl.concat([df[:10], df[11:31], df[10:11], df[31:]])

    monkeypatch.setattr(_reader, "_read_or_none", shifted)
    assert_frame_equal(read_csv(data, "e.csv", STANDARD).df, expected)
