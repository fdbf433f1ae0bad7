"""Issue 17, "the encoding leaks to users": a report's rows come back in your own columns and values.

Whatever the input (JSONL, CSV, Parquet, pandas, polars, a list of dicts, a directory streamed),
`valid_rows` and `invalid_rows` together, in order, are the input's rows: `"12,900"` stays in
`price`, exact numbers keep their text, rare keys are columns again, no `__` column; and
`valid_out=` / `invalid_out=` (`--valid-out` / `--invalid-out`) write the same rows to files.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import adrop_kit as ak
from adrop_kit.cli import main

BIG = 12345678901234567890123
ROWS: list[dict[str, Any]] = [
    {"uid": f"u{i}", "eventName": "view_item", "item_id": f"sku-{i}", "price": 29900 if i % 2 else 99.5,
     "ts": f"2026-11-0{1 + i % 9}"} for i in range(20)]
ROWS[3]["price"] = "12,900"                      # E006: a string where a number goes
ROWS[5]["price"] = BIG                           # exact beyond a float
ROWS[7]["coupon"] = "WELCOME"                    # a key in 1 row of 20: kept in `__more` inside
ROWS[9] = {"uid": "u9", "eventName": "add_to_cart", "item_id": "a", "price": 1, "quantity": 2.0, "value": -0.0}
ROWS[11] = {"uid": "", "eventName": "app_open"}  # E002
POSITIONS = ("source", "row", "raw")


def _no_internals(report: ak.DatasetReport) -> None:
    for view in (report.valid_rows, report.invalid_rows):
        assert not [c for c in view.columns if c.startswith("__")], view.columns


def _back(report: ak.DatasetReport) -> list[tuple[Any, dict[str, Any], str | None]]:
    """((source, row) or row, the row as JSON values, raw) of every row, valid and invalid, in input order."""
    out = []
    for which in ("valid", "invalid"):
        for r in report.rows_of(which, form="json", positions=True).iter_rows(named=True):
            key = (json.loads(r["source"]), int(r["row"])) if report.multi else int(r["row"])
            raw = json.loads(r["raw"]) if r["raw"] is not None else None
            out.append((key, {k: json.loads(v) for k, v in r.items() if v is not None and k not in POSITIONS}, raw))
    return sorted(out, key=lambda t: t[0])


def _check_pairs(got: list[Any], want: list[Any]) -> None:
    assert len(got) == len(want)
    for (_, row, _), expected in zip(got, want, strict=True):
        assert row == expected
        for k, v in expected.items():  # 1 is not 1.0, -0.0 keeps its sign
            assert type(row[k]) is type(v), (k, row[k], v)


def test_a_list_of_dicts_comes_back_whole():
    report = ak.validate_events(ROWS)
    _no_internals(report)
    _check_pairs(_back(report), ROWS)
    assert report.invalid_rows.get_column("row").to_list() == [3, 11]
    assert report.invalid_rows.filter(pl.col("row") == 3).get_column("price").to_list() == ["12,900"]
    valid = report.valid_rows
    assert valid.height == 18 and "coupon" in valid.columns  # the rare key is a column again
    assert valid.schema["price"] == pl.String and str(BIG) in valid.get_column("price").to_list()  # exact, as text
    assert report.valid_rows.get_column("uid").to_list() == [r["uid"] for i, r in enumerate(ROWS) if i not in (3, 11)]


def test_a_jsonl_file_comes_back_line_by_line(tmp_path: Path):
    lines = [json.dumps(r) for r in ROWS] + ["not json", '{"uid": "x", "eventName"']
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = ak.validate_events(path)
    _no_internals(report)
    back = _back(report)
    _check_pairs(back[:20], ROWS)
    assert [(key, row, raw) for key, row, raw in back[20:]] == [(20, {}, "not json"), (21, {}, lines[21])]
    assert report.invalid_rows.get_column("raw").to_list()[-2:] == ["not json", lines[21]]


def test_a_csv_file_comes_back_cell_by_cell(tmp_path: Path):
    text = ("uid,eventName,item_id,price,quantity,value,currency,ts\n"
            "n1,add_to_cart,a,15900,1,15900.0,KRW,2026-01-01\n"
            'n2,add_to_cart,a,"12,900",3,7.5,KRW,\n'
            f"n3,add_to_cart,a,{BIG},1,-0.0,KRW,\n"
            "n4,add_to_cart,a,2.5,2,5,KRW,\n")
    path = tmp_path / "e.csv"
    path.write_text(text)
    report = ak.validate_events(path)
    _no_internals(report)
    cells = list(csv.DictReader(io.StringIO(text)))
    both = pl.concat([report.rows_of("valid", form="text", positions=True), report.rows_of("invalid", form="text")],
                     how="diagonal_relaxed").sort(pl.col("row").cast(pl.Int64))
    for got, want in zip(both.drop(POSITIONS[1:]).iter_rows(named=True), cells, strict=True):
        assert got == {k: v or None for k, v in want.items()}
    assert report.invalid_rows.get_column("price").to_list() == ["12,900"]
    assert report.valid_rows.get_column("value").to_list() == [15900.0, -0.0, 5.0]


def test_number_tokens_come_back_as_written(tmp_path: Path):
    (tmp_path / "e.csv").write_text("uid,eventName,item_id,price\nn,view_item,a,2.50\n")
    (tmp_path / "e.jsonl").write_text('{"uid":"n","eventName":"view_item","item_id":"a","price":1E2}\n')
    assert ak.validate_events(tmp_path / "e.csv").rows_of(form="text").get_column("price").to_list() == ["2.50"]
    assert ak.validate_events(tmp_path / "e.jsonl").rows_of(form="json").get_column("price").to_list() == ["1E2"]


def test_polars_and_parquet_come_back_as_the_same_frame(tmp_path: Path):
    df = pl.DataFrame({"uid": ["a", "b", "", "d"], "eventName": ["view_item"] * 4, "item_id": ["x", "y", "z", "w"],
                       "price": [29900.0, None, 99.5, -1.0], "ts": ["2026-11-01"] * 4,
                       "_note": [None, "n", None, None]})
    path = tmp_path / "e.parquet"
    df.write_parquet(path)
    for report in (ak.validate_events(df), ak.validate_events(path)):
        _no_internals(report)
        both = pl.concat([report.rows_of("valid", positions=True), report.invalid_rows], how="diagonal_relaxed")
        assert_frame_equal(both.sort("row").drop(POSITIONS[1:]), df)
    whole_column = df.with_columns(pl.col("price").cast(pl.String).fill_null("12,900"))  # every price a string
    report = ak.validate_events(whole_column)
    assert report.valid_rows.height == 0
    assert_frame_equal(report.invalid_rows.drop(POSITIONS[1:]), whole_column)


def test_pandas_comes_back_with_its_mixed_column(tmp_path: Path):
    pd = pytest.importorskip("pandas")
    pdf = pd.DataFrame({"uid": ["a", "b", "c"], "eventName": ["view_item"] * 3, "item_id": ["x", "y", "z"],
                        "price": [29900, "12,900", 99.5]})
    report = ak.validate_events(pdf)
    _no_internals(report)
    _check_pairs(_back(report), pdf.to_dict("records"))
    assert report.invalid_rows.get_column("price").to_list() == ["12,900"]


def test_a_streamed_directory_gives_its_rows_back_by_file(tmp_path: Path):
    root = tmp_path / "export"
    root.mkdir()
    (root / "part-0.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS[:10]) + "\n")
    (root / "part-1.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS[10:]) + "\nnot json\n")
    report = ak.validate_events(root, batch_bytes=200)
    assert report.frame is None and report.multi
    _no_internals(report)
    back = _back(report)
    _check_pairs(back[:20], ROWS)
    names = [("part-0.jsonl", i) for i in range(10)] + [("part-1.jsonl", i) for i in range(11)]
    assert [k for k, _, _ in back] == names
    assert back[-1][2] == "not json"
    assert report.invalid_rows.select("source", "row").rows() == [("part-0.jsonl", 3), ("part-1.jsonl", 1),
                                                                  ("part-1.jsonl", 10)]
    assert report.invalid_rows.get_column("price").to_list()[0] == "12,900"


def test_stdin_rows_are_not_read_twice_but_written_as_they_pass(tmp_path: Path, monkeypatch):
    data = ("\n".join(json.dumps(r) for r in ROWS) + "\n").encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    report = ak.validate_events("-", valid_out=tmp_path / "v.jsonl")
    with pytest.raises(ValueError, match="standard input is read once"):
        _ = report.valid_rows
    assert len((tmp_path / "v.jsonl").read_text().splitlines()) == report.valid == 18


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_valid_out_and_invalid_out_hold_every_row_once(tmp_path: Path, suffix: str):
    lines = [json.dumps(r) for r in ROWS] + ["not json"]
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines) + "\n")
    valid, invalid = tmp_path / f"out/valid{suffix}", tmp_path / f"out/invalid{suffix}"
    report = ak.validate_events(path, batch_bytes=300, valid_out=valid, invalid_out=invalid)
    assert (report.valid_out, report.invalid_out) == (str(valid), str(invalid))
    read = {".jsonl": pl.read_ndjson, ".csv": lambda p: pl.read_csv(p, infer_schema=False),
            ".parquet": pl.read_parquet}[suffix]
    v, i = read(valid), read(invalid)
    assert (v.height, i.height) == (report.valid, report.invalid) == (18, 3)  # rows written = rows read
    assert i.get_column("row").cast(pl.Int64).to_list() == [3, 11, 20]
    assert i.get_column("price").to_list()[0] == "12,900" and i.get_column("raw").to_list()[-1] == "not json"
    assert not [c for c in v.columns + i.columns if c.startswith("__")]
    assert sorted(p.name for p in valid.parent.iterdir()) == sorted([valid.name, invalid.name])  # no leftovers
    if suffix == ".jsonl":  # each row exactly as it came in: 1 is not 1.0, big integers whole
        got = [json.loads(t) for t in valid.read_text().splitlines()]
        _check_pairs([(None, g, None) for g in got], [r for k, r in enumerate(ROWS) if k not in (3, 11)])
        assert str(BIG) in valid.read_text()


def test_the_cli_writes_the_valid_and_invalid_rows(tmp_path: Path, capsys):
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    code = main(["validate", str(path), "--valid-out", str(tmp_path / "v.csv"),
                 "--invalid-out", str(tmp_path / "i.jsonl")])
    out = capsys.readouterr().out
    assert code == 1 and "The valid rows (18) are in" in out and "The invalid rows (2) are in" in out
    assert pl.read_csv(tmp_path / "v.csv", infer_schema=False).height == 18
    first = json.loads((tmp_path / "i.jsonl").read_text().splitlines()[0])
    assert first == {"row": 3, **ROWS[3]}


def test_a_column_of_yours_named_row_keeps_its_name():
    report = ak.validate_events([{"uid": "", "eventName": "app_open", "row": "mine", "raw": 1}])
    assert report.invalid_rows.columns == ["_row", "uid", "eventName", "row", "raw", "_raw"]
    assert report.invalid_rows.row(0) == (0, "", "app_open", "mine", 1, None)


def test_a_key_typed_differently_in_two_batches_is_text_in_both(tmp_path: Path):
    rows = ([{"uid": f"u{i}", "eventName": "app_open", "level": i} for i in range(20)]
            + [{"uid": f"v{i}", "eventName": "app_open", "level": "high" if i % 2 else i + 0.5} for i in range(20)])
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = ak.validate_events(path, batch_bytes=400)  # the ints and the mixed values in different batches
    level = report.valid_rows.get_column("level")
    assert level.dtype == pl.String and level.to_list() == [str(r["level"]) for r in rows]
    whole = ak.validate_events(path)
    assert whole.valid_rows.get_column("level").to_list() == level.to_list()  # one batch or many: one view
    out = tmp_path / "v.parquet"
    ak.validate_events(path, batch_bytes=400, valid_out=out)
    assert pl.read_parquet(out).get_column("level").to_list() == level.to_list()
    _check_pairs(_back(report), rows)


def test_user_rows_of_a_canonical_frame_leaves_no_internal_column():
    from adrop_kit.io.frames import from_records
    from adrop_kit.io.views import jsonl_lines, user_rows

    rows = [{"uid": 7, "eventName": "view_item", "price": BIG, "items": [{"item_id": "a", "price": 1}]},
            {"uid": "u", "eventName": "view_item", "price": 2.5, "flag": True}]
    frame = from_records(rows, ak.STANDARD).df
    assert any(c.startswith("__bad__") for c in frame.columns)  # inside, the encoding holds them aside
    view = user_rows(frame)
    assert view.columns == ["uid", "eventName", "price", "items", "flag"]
    assert view.get_column("uid").to_list() == ["7", "u"] and view.get_column("price").to_list() == [str(BIG), "2.5"]
    assert [json.loads(t) for t in jsonl_lines(user_rows(frame, form="json"))] == rows


def test_positions_are_named_once_for_every_batch_and_sit_first_and_last(tmp_path: Path):
    rows = [{"uid": "", "eventName": "app_open"}] * 10 + [{"uid": "", "eventName": "app_open", "row": "mine"}] * 10
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "i.csv"
    report = ak.validate_events(path, batch_bytes=200, invalid_out=out)  # `row` (yours) only in later batches
    assert report.invalid_rows.columns == ["_row", "uid", "eventName", "row", "raw"]
    assert report.invalid_rows.get_column("_row").to_list() == list(range(20))
    written = pl.read_csv(out, infer_schema=False)
    assert written.columns == ["_row", "uid", "eventName", "row", "raw"]
    assert written.get_column("row").to_list() == [None] * 10 + ["mine"] * 10
