"""The two CSV paths have one meaning: polars over the whole file (fast) and record by record
(forgiving, when polars refuses the file) give every well-formed row the same cells, number and
verdict, and an unrelated malformed line changes nothing but its own row (property tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl
import pytest
from conftest import examples
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import adrop_kit as ak
from adrop_kit.io.csv_records import fields, read_header
from adrop_kit.io.frames import ERROR, LINE, ROW
from adrop_kit.io.read_csv import fast_rows, finish, forgiving_rows, lines, read_csv
from adrop_kit.spec.catalog import STANDARD

NAMES = ["uid", "eventName", "platform", "method", "price", "quantity", "note", "ts", "a,b", 'q"x', "__row"]
PIECES = ["a", "b", " ", ",", ";", "|", '"',
          "\n", "\r\n", "\r", "é", "1", ".", "-", "💥", "web", "app_open", "sign_up", "\t"]
MALFORMED = [b'u9,x"y', b'"a"b,c', b"a\rb,c", b"TOO-WIDE", b'"a" ,b', b'a,"b"c"', b"u\xff,app_open", b'x"']
"""Lines that are malformed whatever follows them."""
UNCLOSED = [b'u9,"open', b'"x""']
"""A quote left open: malformed only as the last record (a later line could close it, as in any CSV)."""
SETTINGS = settings(max_examples=examples(200), deadline=None, suppress_health_check=list(HealthCheck))


@dataclass
class Case:
    names: list[str]
    records: list[list[str]]  # cell texts, "" = an empty cell
    quoted: list[list[bool]]
    header_quoted: list[bool]
    eol: str
    final_eol: bool
    sep: str = ","

    def record(self, i: int) -> bytes:
        cells = zip(self.records[i], self.quoted[i], strict=True)
        return self.sep.join(_cell(c, q, self.sep) for c, q in cells).encode()

    def render(self, replace: dict[int, bytes] | None = None) -> bytes:
        replace = replace or {}
        lines = [self.sep.join(_cell(n, q, self.sep) for n, q in zip(self.names, self.header_quoted, strict=True))
                 .encode()]
        lines += [replace.get(i, self.record(i)) for i in range(len(self.records))]
        eol = self.eol.encode()
        return eol.join(lines) + (eol if self.final_eol else b"")

    def lines(self) -> dict[int, int]:
        """The 1-based physical line each record starts on (the header is line 1)."""
        eol = self.eol.encode()
        at = self.render().split(eol)[0].count(b"\n") + 2
        out = {}
        for i in range(len(self.records)):
            out[i] = at
            at += self.record(i).count(b"\n") + 1
        return out

    def events(self) -> list[tuple[int, list[str | None]]]:
        """What a reader must find: (record number, cells) of each record that is an event."""
        out = []
        for i, cells in enumerate(self.records):
            if i == len(self.records) - 1 and not self.final_eol and self.record(i) == b"":
                continue  # the file just ends there
            vals = [c or None for c in cells] + [None] * (len(self.names) - len(cells))
            vals = [v for v, n in zip(vals, self.names, strict=True) if not n.startswith("__")]
            if self.record(i) != b"" and vals:  # a blank line is no event; `,` or `""` is one with no key
                out.append((i, vals))
        return out


def _cell(text: str, quote: bool, sep: str = ",") -> str:
    if quote or any(ch in text for ch in sep + '"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


cell_text = st.one_of(st.sampled_from(["", "", "app_open", "sign_up", "web", "12", "1.5", "x", " "]),
                      st.lists(st.sampled_from(PIECES), max_size=5).map("".join))


@st.composite
def cases(draw: st.DrawFn, max_rows: int = 12, seps: tuple[str, ...] = (",",)) -> Case:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    records, quoted = [], []
    for _ in range(draw(st.integers(0, max_rows))):
        k = draw(st.integers(1, len(names)))  # fewer cells than columns: the rest are absent
        records.append([draw(cell_text) for _ in range(k)])
        quoted.append([draw(st.booleans()) for _ in range(k)])
    return Case(names, records, quoted, [draw(st.booleans()) for _ in names], draw(st.sampled_from(["\n", "\r\n"])),
                draw(st.booleans()), draw(st.sampled_from(seps)))


def _frame(data: bytes, *, forgiving: bool, sep: str = ",") -> pl.DataFrame:
    header = read_header(data, "e.csv", sep.encode())
    df = None if forgiving else fast_rows(data, header)
    if not forgiving:
        assert df is not None, f"polars refused a well-formed file: {data!r}"
    df = df if df is not None else forgiving_rows(data, header)
    df = df.with_columns(lines(data, header, df.height, df.get_column(ROW)))
    return finish(df, header, may_be_big=False, data=data)


def _verdicts(frame: ak.io.frames.Frame) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = {}
    for row, rule, field in ak.validate_events(frame).violations.select("row", "rule", "field").iter_rows():
        out.setdefault(row, set()).add((rule, field))
    return out


@SETTINGS
@given(cases())
def test_the_fast_and_the_forgiving_path_read_a_well_formed_file_alike(case):
    data = case.render()
    fast, forgiving = _frame(data, forgiving=False), _frame(data, forgiving=True)
    assert_frame_equal(fast, forgiving)
    cols = [n for n in case.names if not n.startswith("__")]
    assert [(r[ROW], [r[c] for c in cols]) for r in fast.iter_rows(named=True)] == case.events()
    assert fast.get_column(ERROR).null_count() == fast.height
    auto = read_csv(data, "e.csv", STANDARD).df
    assert_frame_equal(auto, read_csv(data, "e.csv", STANDARD, forgiving=True).df)
    expected = case.lines()
    assert [(r, line) for r, line in auto.select(ROW, LINE).iter_rows()] == [(r, expected[r]) for r in auto[ROW]]


@SETTINGS
@given(cases(seps=(";", "\t", "|")))
def test_both_paths_read_a_file_with_another_delimiter_alike(case):
    data = case.render()
    fast, forgiving = _frame(data, forgiving=False, sep=case.sep), _frame(data, forgiving=True, sep=case.sep)
    assert_frame_equal(fast, forgiving)
    cols = [n for n in case.names if not n.startswith("__")]
    assert [(r[ROW], [r[c] for c in cols]) for r in fast.iter_rows(named=True)] == case.events()
    given_ = read_csv(data, "e.csv", STANDARD, delimiter=case.sep).df
    assert_frame_equal(given_, read_csv(data, "e.csv", STANDARD, delimiter=case.sep, forgiving=True).df)


@SETTINGS
@given(cases(seps=(",", ";", "\t", "|")))
def test_the_delimiter_is_sniffed_from_a_header_of_two_columns_or_more(case):
    others = {",", ";", "\t", "|"} - {case.sep}
    assume(len(case.names) >= 2 and not any(ch in n for n in case.names for ch in others))
    data = case.render()
    assert read_header(data, "e.csv").sep == case.sep.encode()
    assert_frame_equal(read_csv(data, "e.csv", STANDARD).df, read_csv(data, "e.csv", STANDARD, delimiter=case.sep).df)


@pytest.mark.slow  # a big hypothesis run: two files and two reports an example
@settings(SETTINGS, max_examples=150)  # 300 took 18 CPU s
@given(cases(), st.data())
def test_a_malformed_line_changes_only_its_own_row(case, data):
    assume(case.records)
    k = data.draw(st.integers(0, len(case.records) - 1), label="malformed record")
    bad = data.draw(st.sampled_from(MALFORMED + (UNCLOSED if k == len(case.records) - 1 else [])), label="line")
    if bad == b"TOO-WIDE":
        bad = b",".join([b"x"] * (len(case.names) + 1))
    good = read_csv(case.render(), "e.csv", STANDARD)
    broken = read_csv(case.render({k: bad}), "e.csv", STANDARD)
    rest_good, rest_broken = good.df.filter(pl.col(ROW) != k), broken.df.filter(pl.col(ROW) != k)
    # the replaced record may span fewer lines than the one it replaces: the records after it move up
    shared = [c for c in rest_good.columns if c in rest_broken.columns and c != LINE]
    # a column's dtype may follow the other rows (12 is Int64 until some row holds 1.5): compare values
    assert_frame_equal(rest_good.select(shared), rest_broken.select(shared), check_dtypes=False)
    message, line = broken.df.filter(pl.col(ROW) == k).select(ERROR, LINE).row(0)
    assert message is not None and message.startswith(f"line {line:,}: ")  # the message and `line` agree
    expected, got = _verdicts(good), _verdicts(broken)
    expected.pop(k, None)
    assert got.pop(k) == {("E001", "")}
    assert got == expected
    assert _sent(good, k) == _sent(broken, k)  # what would be sent, type for type (12 stays 12, not 12.0)


def _sent(frame: ak.io.frames.Frame, skip: int) -> dict[int, str]:
    from adrop_kit.io.frames import to_payloads

    return {row: json.dumps(p, sort_keys=True) for row, p in to_payloads(frame.df, STANDARD) if row != skip}


BYTES = st.lists(st.sampled_from([b"a", b",", b'"', b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xc3\xa9", b" ", b"uid",
                                   b"[", b"{", b"}", b"]", b":", b"1", b"NaN"]), max_size=40).map(b"".join)


@SETTINGS
@given(BYTES)
def test_any_bytes_read_alike_by_both_paths_and_raise_nothing_but_a_data_read_error(data):
    from adrop_kit.errors import DataReadError
    from adrop_kit.io.read_json import read_json, read_jsonl

    for read in (read_json, read_jsonl):
        try:
            read(data, "e", STANDARD)
        except DataReadError:
            pass
    try:
        auto = read_csv(data, "e.csv", STANDARD)
    except DataReadError:
        return
    assert_frame_equal(auto.df, read_csv(data, "e.csv", STANDARD, forgiving=True).df)


def test_the_record_grammar_splits_fields_as_written():
    assert fields(b"") == [b""]
    assert fields(b"a,") == [b"a", b""]
    assert fields(b'"x""y","",z,') == [b'x"y', b"", b"z", b""]
    assert fields(b'"a\nb",,"c\r\nd"') == [b"a\nb", b"", b"c\r\nd"]


def test_when_polars_reads_records_differently_the_python_path_gives_the_same_frame(monkeypatch):
    data = b'uid,eventName,method\r\nu1,sign_up,""\r\nu2,"sign_up","a\r\nb"\r\n\r\nu3,x"y\r\n,,\r\nu4,app_open'
    expected = read_csv(data, "e.csv", STANDARD, forgiving=True).df
    import adrop_kit.io.read_csv as module

    def refuse(*_a: object, **_k: object) -> pl.DataFrame:
        raise pl.exceptions.ComputeError("refused")

    monkeypatch.setattr(module, "_polars", refuse)
    assert_frame_equal(read_csv(data, "e.csv", STANDARD).df, expected)
    assert expected.get_column(ROW).to_list() == [0, 1, 3, 4, 5]  # 2 is a blank line, 3 is malformed, 4 empty
    assert expected.get_column("method").to_list() == [None, "a\r\nb", None, None, None]
    assert expected.get_column(ERROR).to_list()[2] == 'line 6: malformed CSV (a quote inside an unquoted field ' \
        '(quote the whole field and double the quote))'


@pytest.mark.parametrize("body", [b"u1,sign_up,\"\"\n", b"u1,sign_up,\n"])
def test_quoted_and_unquoted_empty_cells_are_both_absent(body):
    frame = read_csv(b"uid,eventName,method\n" + body, "e.csv", STANDARD)
    assert frame.df.get_column("method").to_list() == [None]
