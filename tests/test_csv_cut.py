"""Where a streamed CSV chunk ends: always at a record boundary of the whole file, as its walk reads it.

A streamed CSV is numbered by the records before each chunk, so a cut anywhere else (inside a quoted
line break, inside a malformed record's line) would renumber or re-read rows. `record_cut` finds the
cut from where the quotes are; these tests hold it to the record grammar's walk over the whole file,
on hostile bytes (stray quotes, quotes that never close, lone CRs, CRLF, separators in quotes).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adrop_kit.io.csv_cut import record_cut
from adrop_kit.io.csv_records import grammar


def boundaries(data: bytes, sep: bytes = b",") -> list[int]:
    """The record ends of a whole file, as `csv_records.split` walks it (a malformed record is its own line)."""
    match, pos, ends = grammar(sep).record.match, 0, []
    while pos < len(data):
        m = match(data, pos)
        if m is not None:
            pos = m.end()
        else:
            nl = data.find(b"\n", pos)
            pos = len(data) if nl < 0 else nl + 1
        ends.append(pos)
    return ends


PIECES = [b"a", b"bc", b",", b";", b'"', b'""', b"\n", b"\r\n", b"\r", b" ", b'"x,y"', b'"p\nq"', b"\xed\x95\x9c",
          b"\x00"]
bodies = st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join)


def check(data: bytes, cut_at: int, limit: int, sep: bytes = b",") -> None:
    ends = boundaries(data, sep)
    buf, eof = data[:cut_at], cut_at == len(data)
    if not buf:
        return
    got = record_cut(buf, limit, eof, sep)
    if got is None:  # more data needed: where the first record ends depends on what follows
        assert not eof
        assert b'"' in buf or b"\n" not in buf
        return
    end, n = got
    assert 0 < end <= len(buf)
    assert end in ends, (buf, limit, got, ends)
    assert ends.index(end) + 1 == n, (buf, limit, got, ends)
    assert end <= limit or n == 1 or ends[n - 2] < limit, (buf, limit, got)  # not past the limit by more than a record


@given(bodies, st.integers(0, 400), st.integers(1, 200), st.sampled_from([b",", b";"]))
@example(b'a,"b"', 100, 100, b",")
@example(b'a,"b\nc,d\n', 100, 100, b",")
@example(b'x,"abc\ny,z\n"p",q\n', 100, 100, b",")
@example(b'a"b\nc\n"d\ne"\n', 100, 3, b",")
@example(b'a\rb\nc\n', 100, 100, b",")
def test_a_cut_is_a_record_boundary_of_the_whole_file_and_counts_the_records_before_it(body, cut_at, limit, sep):
    check(body, min(cut_at, len(body)), limit, sep)


def test_a_regular_body_is_cut_at_its_last_record_end_before_the_limit_without_a_walk():
    rows = b"".join(b'u%d,view_item,"[{""item_id"": ""A%d""}]",x\n' % (i, i) for i in range(1000))
    end, n = record_cut(rows, len(rows) // 2, False)
    assert rows[end - 1:end] == b"\n" and end <= len(rows) // 2
    assert n == rows[:end].count(b"\n")
    assert record_cut(rows, 10 * len(rows), True) == (len(rows), 1000)


def test_quoted_line_breaks_and_a_malformed_record_keep_their_numbers():
    body = b'a,"x\ny"\nb,c"d\ne,f\n"g\nh",i\n'
    assert boundaries(body) == [8, 14, 18, 26]
    assert record_cut(body, 100, True) == (26, 4)
    assert record_cut(body, 15, False) == (14, 2)
    assert record_cut(body[:5], 3, False) is None  # a quoted line break not closed yet


def test_a_stray_quote_in_a_streamed_csv_is_one_row_and_the_rows_after_it_are_read(tmp_path):
    import adrop_kit as ak

    rows = [f"u{i},page_view,p{i}\n" for i in range(120_000)]  # 2.4 MB after the stray quote: past 2 MiB
    path = tmp_path / "stray.csv"
    path.write_text("uid,eventName,page_id\nu,page_view,first\n" + 'u,page_view,5" screen\n' + "".join(rows))
    whole = ak.validate_events(path, stream=False)
    streamed = ak.validate_events(path, batch_bytes=256 << 10)
    assert (streamed.rows, streamed.invalid) == (whole.rows, whole.invalid) == (120_002, 1)
    assert streamed.violations.get_column("row").to_list() == whole.violations.get_column("row").to_list() == [1]


@given(st.integers(1, 60_000), st.sampled_from([b'"\n', b'x"\n', b'",y\n', b"\r\n", b""]), bodies,
       st.integers(1, 5000), st.booleans())
def test_a_first_record_longer_than_the_limit_ends_where_the_whole_file_walk_ends_it(k, close, rest, limit, cut):
    body = b'a,"' + b"line\n" * k + close + rest  # one quoted field over many lines, closed or not
    check(body, len(body) - (len(rest) // 2 if cut else 0), limit)


@pytest.mark.parametrize(("text", "bad"), [
    (b'"a",b\n', None), (b'"a"b,c\n', 1), (b'a"b",c\n', 0), (b'"a""b",""\n', None), (b'"a\nb"\r\n', None),
    (b'x,"a"\n"b"c\n', 3), (b'"', None), (b'"a" ,"b\n', 1)])
def test_misplaced_names_the_first_quote_out_of_its_role(text, bad):
    """Quotes alternate open and close from a record start: the first that may not play its role there."""
    import numpy as np

    from adrop_kit.io.csv_cut import misplaced, quote_roles

    arr = np.frombuffer(text, dtype=np.uint8)
    q = np.flatnonzero(arr == ord('"'))
    assert misplaced(arr, q, ord(","), 0) == bad
    opening, closing = quote_roles(arr, q, ord(","))
    roles = [bool(closing[i]) if i % 2 else bool(opening[i] or q[i] == 0) for i in range(len(q))]
    assert (roles.index(False) if False in roles else None) == bad
