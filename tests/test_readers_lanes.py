"""Reading JSONL costs in proportion to its irregular lines, never "the whole file again" (issue 17).

Where the two lanes cannot merge a key as it stands (a key outside the catalog rare over the
file, typed differently in the two lanes, wrong-typed in one, an integer beyond Int64, more keys
outside the catalog than get a column), the native rows holding that key move to the precise
lane: the frame is still exactly the precise path's, and only those lines are parsed again.
Each test reads the same bytes both ways and compares, and counts the lines parsed precisely.
"""

from __future__ import annotations

import json
import random

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import adrop_kit as ak
from adrop_kit.io import read_json

CATALOG = ak.STANDARD
PLAIN = b'{"uid":"u%d","eventName":"view_item","item_id":"S","price":1.5,"ts":"2026"}'


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Line numbers given to the precise path, over the next read (appended as they are parsed)."""
    seen: list[int] = []
    real = read_json._parse_lines

    def counting(pairs, exact):  # noqa: ANN001, ANN202
        pairs = list(pairs)
        seen.extend(n for n, _ in pairs)
        return real(pairs, exact)

    monkeypatch.setattr(read_json, "_parse_lines", counting)
    return seen


def _both(data: bytes, monkeypatch: pytest.MonkeyPatch, parsed: list[int] | None = None) -> pl.DataFrame:
    """The two-lane frame, checked equal to the precise path's; `parsed` then holds the two-lane read's lines."""
    monkeypatch.setattr(read_json, "NATIVE_FROM", 1 << 62)
    one = read_json.read_jsonl(data, "f.jsonl", CATALOG).df
    monkeypatch.setattr(read_json, "NATIVE_FROM", 0)
    if parsed is not None:
        parsed.clear()
    two = read_json.read_jsonl(data, "f.jsonl", CATALOG).df
    assert sorted(two.columns) == sorted(one.columns)
    assert_frame_equal(two.select(sorted(two.columns)), one.select(sorted(one.columns)))
    return two


def _file(n: int, odd: dict[int, bytes]) -> bytes:
    return b"\n".join(odd.get(i, PLAIN % i) for i in range(n)) + b"\n"


def test_a_rare_custom_key_after_the_sample_moves_only_its_lines(monkeypatch, parsed) -> None:
    """The sample (first 2,000 lines) shows `level` in 40 lines; over 6,000 it is rare: __more."""
    odd = {i: b'{"uid":"u","eventName":"level_up","level":%d}' % i for i in range(0, 2000, 50)}
    two = _both(_file(6000, odd), monkeypatch, parsed)
    assert "__more" in two.columns and "level" not in two.columns
    assert sorted(parsed) == sorted(odd)  # those lines, not the file


@pytest.mark.parametrize("other", [b'"seven"', b"7.5", b"true", b"123456789012345678901", b"[1]", b"null"])
def test_a_custom_key_typed_differently_in_the_two_lanes(other: bytes, monkeypatch, parsed) -> None:
    odd = {i: b'{"uid":"u","eventName":"app_open","seq":%d}' % i for i in range(0, 3000, 4)}
    odd[2500] = b'{"uid":"u","eventName":"app_open","seq":' + other + b',"x":"\\n"}'  # not plain: the precise lane
    _both(_file(3000, odd), monkeypatch, parsed)
    moved = set(odd) if other != b"null" else {2500}
    assert set(parsed) <= moved | {2500} and len(parsed) == len(set(parsed) | moved)


def test_more_custom_keys_than_get_a_column(monkeypatch, parsed) -> None:
    """140 common keys outside the catalog: the first 128 in input order get a column, the rest __more."""
    lines = [orjson.dumps({"uid": "u", "eventName": "app_open", **{f"k{j}": j for j in range(i % 140, 140, 7)}})
             for i in range(3000)]
    lines[2999] = orjson.dumps({"uid": "u", "eventName": "app_open", **{f"z{j}": "\n" for j in range(140)}})
    data = b"\n".join(lines)
    two = _both(data, monkeypatch, parsed)
    assert "__more" in two.columns


def test_mostly_irregular_lines_are_read_once(monkeypatch, parsed) -> None:
    """Decided on the sample: the native lane does not run, and each line is parsed once."""
    monkeypatch.setattr(read_json, "MOSTLY_SLOW", 0.25)
    odd = {i: b'{"uid":"u%d","eventName":"page_view","page_id":"a\\tb","n":null}' % i for i in range(0, 3000, 2)}
    _both(_file(3000, odd), monkeypatch, parsed)
    assert sorted(parsed) == list(range(3000))


# -- realistic mixes, seeded -----------------------------------------------------------------------
NAMES = ["무선 이어폰", "Café", 'Monitor 27" 4K', "Back\\slash", "Line\nbreak", "러닝화 👟", "\ud800 lone"]


def _event(rng: random.Random, i: int) -> dict:
    r = rng.random()
    if r < 0.004:
        return {"uid": f"u{i}", "eventName": "level_up", "level": rng.choice([rng.randrange(99), "9", 2.5, None])}
    if r < 0.006:
        return {"uid": f"u{i}", "eventName": "share", "share_target": rng.choice(NAMES)}
    e: dict = {"uid": f"u{i}", "eventName": rng.choice(["view_item", "add_to_cart", "page_view", "purchase"]),
               "platform": rng.choice(["web", "ios", None]), "ts": "2026-11-01"}
    if e["eventName"] == "page_view":
        e.update(page_id=rng.choice(NAMES), page_category=rng.choice([None, "생활"]))
    elif e["eventName"] == "purchase":
        e.update(tx_id=f"T{i}", currency="KRW",
                 items=[{"item_id": "S", "item_name": rng.choice(NAMES), "price": rng.choice([29900, 14.99, 1.0])}])
    else:
        e.update(item_id="S", item_name=rng.choice(NAMES), price=rng.choice([29900, 14.99, 29900.0, "12,900", None]))
        if e["eventName"] == "add_to_cart":
            e.update(quantity=rng.choice([1, 2, 1.5, 3.0]), value=rng.choice([29900, 59.98]))
    return e


def _text(rng: random.Random, e: dict) -> bytes:
    k = rng.random()
    if k < 0.03:
        return json.dumps(e).encode()[:20]  # cut short
    if k < 0.1:
        return json.dumps(e, ensure_ascii=True).encode()
    if k < 0.2:
        return json.dumps(e, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        return orjson.dumps(e)
    except orjson.JSONEncodeError:  # the lone surrogate
        return json.dumps(e).encode()


@pytest.mark.parametrize("seed", range(6))
def test_realistic_mixes_read_as_the_precise_path_reads_them(seed: int, monkeypatch) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(read_json, "MOSTLY_SLOW", 1.0)  # two lanes, however irregular
    data = b"\n".join(_text(rng, _event(rng, i)) for i in range(rng.choice([300, 2500, 4000])))
    _both(data, monkeypatch)


def _items_text(rng: random.Random) -> bytes:
    """An items array written by hand: canonical or not (spaces, escapes orjson writes otherwise),
    strings holding braces, quotes and keys, and now and then an object naming a key twice."""
    names = ["item_id", "item_name", "brand", "price", "quantity", "color"]
    values = ['"S"', '"a}b"', '"{\\"price\\":1}"', '"x\\\\"', '"\\u00e9"', '"\\/"', '"\\n"', "1", "2.5", "-0.5",
              "true", "null", '"\\"item_id\\":"']
    objects = []
    for _ in range(rng.randrange(4)):
        keys = rng.sample(names, rng.randrange(1, 4))
        if rng.random() < 0.15:
            keys.append(rng.choice(keys))  # a key twice
        sep = rng.choice([":", ":", ": "])
        objects.append("{" + ",".join(f'"{k}"{sep}{rng.choice(values)}' for k in keys) + "}")
    return ("[" + rng.choice([",", ",", ", "]).join(objects) + "]").encode()


@pytest.mark.parametrize("seed", range(4))
def test_items_texts_kept_as_written_only_when_the_precise_path_writes_them_so(seed: int, monkeypatch) -> None:
    rng = random.Random(seed)
    lines = [b'{"uid":"u%d","eventName":"purchase","items":%s,"value":%d,"tx_id":"T%d"}' % (i, _items_text(rng), i, i)
             for i in range(3000)]
    _both(b"\n".join(lines) + b"\n", monkeypatch)


# -- what real exports hold reads natively, and exactly ----------------------------------------------
NATIVE_NOW = [  # escapes, nulls, integral and fractional numbers in one column, items beside a number
    b'{"uid":"u","eventName":"page_view","page_id":"a\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\udc5f \xea\xb0\x80"}',
    b'{"uid":"u","eventName":"page_view","page_id":"x\\":\\"y","page_category":"\\\\"}',
    b'{"uid":"u","eventName":"page_view","page_id":null,"platform":null}',
    b'{"uid":"u","eventName":"purchase","items":null,"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","brand":null,"price":29900}],"value":29900,'
    b'"currency":"KRW","tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","price":5,"quantity":1}],"price":7,"tx_id":"T"}',
    b'{"uid":"u","eventName":"add_to_cart","item_id":"S","price":29900,"quantity":3.0,"value":89700}',
    b'{"uid":"u","eventName":"add_to_cart","item_id":"S","price":14.99,"quantity":2,"value":29.98}',
    b'{"uid":"u","eventName":"app_open","form_destination":null}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","item_name":"27\\": \\"x\\"","price":1.5}],'
    b'"tx_id":"T"}',
    # an integer token beside an integral fraction (`.0`) on one line, at the top level or inside items
    b'{"uid":"u","eventName":"add_to_cart","item_id":"S","price":29900,"quantity":2,"value":59800.0}',
    b'{"uid":"u","eventName":"add_to_cart","item_id":"S","price":29900.0,"quantity":2.0,"value":59800}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","price":29900.0,"quantity":1}],"value":29900,'
    b'"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","value":2.0,"price":1}],"value":3,"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","value":-7,"items":[{"item_id":"S","price":-7.0}],"tx_id":"T"}',
    # items texts the precise path writes otherwise (spaces, escapes, keys outside the catalog, null)
    b'{"uid":"u","eventName":"purchase","items":[ {"item_id": "S", "price": 1.5} , {} ],"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S\\u00e9\\/x","item_name":"a\\\\b\\n"}],"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","color":"red","size":42}],"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","brand":null},{"item_id":"null"}],"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[],"value":0,"tx_id":"T"}',
    # written as orjson writes them (kept as they are): braces, quotes and keys inside strings, a key in two objects
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"a}\\"b{","item_name":"{\\"item_id\\":1,\\"item_id\\":2}"},'
    b'{"item_id":"S","item_name":"\\\\\\n\\t"}],"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","price":1},{"item_id":"T","price":2.5,"brand":null}],'
    b'"tx_id":"T"}',
]
PRECISE_STILL = [  # what a native read would not give back as the precise path does
    b'{"uid":"u","eventName":"page_view","page_id":"\\ud800"}',
    b'{"uid":"u","eventName":"page_view","page_id":"\\u0000x\\u001f"}',
    b'{"uid":"u","eventName":"page_view","page_id":"p","page_id":null}',
    b'{"uid":"u","eventName":"page_view","page_id":null,"page_id":"p"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","price":1}],"items":null}',
    b'{"uid":"u","eventName":"purchase","items":null,"items":[{"item_id":"S","price":1}]}',
    b'{"uid":"u","eventName":"add_to_cart","item_id":"S","price":-0.0}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","item_id":"T"}],"tx_id":"T"}',  # an item's key twice
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","brand":null,"brand":"x"}],"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","price":1,"price":2.5}],"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S","item_name":"}{","item_id":"T"}],"tx_id":"T"}',
    b'{"uid":"u","eventName":"purchase","items":[{"item_id":"S"},{"item_name":"a\\"}","price":1,"item_name":"b"}],'
    b'"tx_id":"T"}',
]
MIXED = [b'{"uid":"u%d","eventName":"view_item","item_id":"S","price":%s,"ts":"2026"}' % (i, p)
         for i, p in enumerate([b"29900", b"14.99", b"1.0", b"0"] * 5)]


@pytest.mark.parametrize("line", NATIVE_NOW + PRECISE_STILL)
@pytest.mark.parametrize("where", ["sample", "later"])
def test_real_export_lines_read_as_the_precise_path_reads_them(line: bytes, where: str, monkeypatch, parsed) -> None:
    body = MIXED * 150
    at = 30 if where == "sample" else 2900
    body[at:at] = [line, line]
    _both(b"\n".join(body) + b"\n", monkeypatch, parsed)
    assert (set(parsed) == {at, at + 1}) == (line in PRECISE_STILL)
    assert not parsed or line in PRECISE_STILL


def test_a_key_only_ever_null_in_the_native_lane_has_its_column(monkeypatch) -> None:
    body = [b'{"uid":"u","eventName":"app_open","custom":null,"value":null}'] * 200 + MIXED * 120
    two = _both(b"\n".join(body), monkeypatch)
    assert {"custom", "value"} <= set(two.columns)


def test_an_evicted_key_takes_its_null_rows_along(monkeypatch, parsed) -> None:
    """`seq` is an integer in the sample, null in some native lines, a string in one line after it."""
    odd = {i: b'{"uid":"u","eventName":"app_open","seq":%s}' % (b"%d" % i if i % 3 else b"null")
           for i in range(0, 3000, 2)}
    odd[2999] = b'{"uid":"u","eventName":"app_open","seq":"seven","x":1}'
    two = _both(_file(3000, odd), monkeypatch, parsed)
    assert "__bad__seq" in two.columns and set(parsed) == set(odd)


def test_a_custom_key_rare_in_the_sample_takes_the_precise_lane_at_once(monkeypatch, parsed) -> None:
    """Rarer than 1 line in `RARE` of the sample, a key outside the catalog is left out of the native
    lane's schema: its lines are read precisely from the start (no eviction round), and only they."""
    from adrop_kit.io.frames import RARE
    from adrop_kit.io.jsonl_plan import plan

    every = RARE * 2  # in 1 line of 32: rare in the sample and over the file
    odd = {i: b'{"uid":"u","eventName":"level_up","level":%d}' % i for i in range(0, 3000, every)}
    sample = [odd.get(i, PLAIN % i) for i in range(2000)]
    assert "level" not in plan(sample, CATALOG).classes
    assert "level" in plan([odd.get(i, PLAIN % i) if i % 2 else odd[0] for i in range(2000)], CATALOG).classes
    evicted: list[frozenset[str]] = []
    real = read_json.holding
    monkeypatch.setattr(read_json, "holding", lambda fast, keys: evicted.append(keys) or real(fast, keys))
    two = _both(_file(3000, odd), monkeypatch, parsed)
    assert "__more" in two.columns and sorted(parsed) == sorted(odd) and not evicted


def test_an_unordered_read_holds_the_same_rows_and_the_report_gives_them_in_order(monkeypatch, tmp_path) -> None:
    """`read_jsonl(ordered=False)` (what `validate_events` reads a file with) skips the sort of the
    merged lanes: the same rows, `__row` saying where each was; what users see is in input order."""
    odd = {i: b'{"uid":"u%d","eventName":"view_item","item_id":"S","price":"1,5","ts":"2026"}' % i
           for i in range(3, 6000, 97)}  # a wrong-typed price: the precise lane, between native rows
    odd |= {i: b'{"uid":"u%d","eventName":"view_item","item_id":"S","price":1.50,"ts":"2026"}' % i
            for i in range(7, 6000, 89)}  # valid, and read precisely (`1.50` goes out as written)
    odd |= {i: b'{"eventName":"view_item","item_id":"S","price":1.5,"ts":"2026","uid":"u%d"}' % i
            for i in range(5, 6000, 101) if i % 2}  # plain, native, and valid
    odd |= {i: b'{"eventName":"view_item","item_id":"S","price":1.5,"ts":"2026"}' for i in range(11, 6000, 103)}
    odd[10] = b"{broken"
    data = _file(6000, odd)
    monkeypatch.setattr(read_json, "NATIVE_FROM", 0)
    ordered = read_json.read_jsonl(data, "f.jsonl", CATALOG).df
    loose = read_json.read_jsonl(data, "f.jsonl", CATALOG, ordered=False).df
    assert not loose.get_column("__row").is_sorted()  # (else this test would prove nothing)
    assert_frame_equal(loose.sort("__row"), ordered)
    path = tmp_path / "e.jsonl"
    path.write_bytes(data)
    report = ak.validate_events(path, valid_out=tmp_path / "v.jsonl", invalid_out=tmp_path / "i.csv")
    bad = sorted(i for i, line in odd.items() if b'"1,5"' in line or b"uid" not in line)  # (no uid: invalid)
    assert report.invalid_rows.get_column("row").to_list() == sorted(bad)
    assert report.valid_rows.get_column("uid").to_list() == [f"u{i}" for i in range(6000) if i not in bad]
    assert [orjson.loads(line)["uid"] for line in (tmp_path / "v.jsonl").read_bytes().splitlines()] == \
        report.valid_rows.get_column("uid").to_list()
    assert pl.read_csv(tmp_path / "i.csv").get_column("row").to_list() == sorted(bad)


def test_parts_read_side_by_side_hand_their_refused_lines_over_early_and_parse_each_once(monkeypatch, parsed) -> None:
    """A file cut into parts read in threads: each part's refused lines go to the precise path
    while polars reads the part (`native_lane(early=)`), a line a part's read then refuses (a key
    given twice) after; the frame is the precise path's, each irregular line parsed once."""
    from adrop_kit.io import jsonl_fast

    monkeypatch.setattr(jsonl_fast, "PART_BYTES", 4096)
    monkeypatch.setattr(jsonl_fast, "_parts", lambda lines: [(0, 2100), (2100, 3500), (3500, len(lines))])
    handed: list[list[int]] = []
    real = jsonl_fast.native_lane

    def watching(*args, early=None, **kwargs):  # noqa: ANN001, ANN202
        return real(*args, early=lambda ns: (handed.append(ns), early(ns)), **kwargs)

    monkeypatch.setattr(read_json, "native_lane", watching)
    odd = {i: b'{"uid":"u%d","eventName":"view_item","price":"1,5"}' % i for i in range(5, 6000, 211)}
    odd |= {i: b"{broken %d" % i for i in range(7, 6000, 307)}
    twice = {i: b'{"uid":"u%d","eventName":"view_item","price":1.5,"price":2.5}' % i for i in (2101, 4000, 5998)}
    _both(_file(6000, odd | twice), monkeypatch, parsed)
    assert sorted(n for ns in handed for n in ns) == sorted(odd)  # the grammar's refusals, part by part
    assert len(handed) == 3 and sorted(parsed) == sorted(odd | twice) and len(parsed) == len(set(parsed))


# -- a big JSONL file is read where it lies (mapped), with the meaning of one read into memory ---------
def _report_both_ways(path, monkeypatch) -> tuple[ak.DatasetReport, ak.DatasetReport]:
    from adrop_kit.io import source

    monkeypatch.setattr(source, "MAP_FROM", 1 << 62)  # read into memory
    read = ak.validate_events(path)
    monkeypatch.setattr(source, "MAP_FROM", 1 << 20)
    return read, ak.validate_events(path)


def test_a_mapped_file_reads_as_the_file_read_into_memory(tmp_path, monkeypatch) -> None:
    from adrop_kit.io.source import map_file

    rng = random.Random(3)
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(_text(rng, _event(rng, i)) for i in range(9000)) + b"\n")
    assert path.stat().st_size > 1 << 20 and map_file(path) is not None
    read, mapped = _report_both_ways(path, monkeypatch)
    assert (mapped.rows, mapped.invalid, mapped.warned) == (read.rows, read.invalid, read.warned)
    assert_frame_equal(mapped.violations, read.violations)
    assert_frame_equal(mapped.valid_rows, read.valid_rows)


@pytest.mark.parametrize("head", [b"\xef\xbb\xbf", b"\xff\xfe", b"\x00"])
def test_a_file_that_does_not_start_as_utf8_text_is_not_mapped(head: bytes, tmp_path, monkeypatch) -> None:
    """A byte order mark is skipped (or UTF-16 decoded) and a NUL byte refused, as for any file read whole."""
    from adrop_kit.io.source import map_file

    path = tmp_path / "big.jsonl"
    path.write_bytes(head + b"\n".join(PLAIN % i for i in range(20_000)) + b"\n")
    assert map_file(path) is None
    if head == b"\x00":
        with pytest.raises(ak.DataReadError, match="binary data"):
            ak.validate_events(path)
        return
    read, mapped = _report_both_ways(path, monkeypatch)
    assert (mapped.rows, mapped.invalid) == (read.rows, read.invalid)


def test_a_big_file_of_whitespace_holds_no_events(tmp_path) -> None:
    path = tmp_path / "blank.jsonl"
    path.write_bytes(b" \n\t\r\n" * (1 << 19))
    assert ak.validate_events(path).rows == 0
