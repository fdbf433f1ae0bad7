"""One input, one view of its rows: `valid_rows`, `invalid_rows` and `valid_out=`/`invalid_out=` files
have the same columns and values whether the input is read whole or in batches of any size.

Found by comparing in-memory and streamed reports (batch_bytes 1 to whole) on hostile files: the
columns were those of the batches that held returned rows (a key only on an invalid row was missing
from a streamed `valid_rows`), a key held as `null` showed as a column or not with the batch size, the
`eventName` column the checks add to an input that has none showed as the user's, and a custom key's
object or list came back as a nested polars value when the key was rare over the input but as JSON
text when it was common. The layout is `io.views.input_columns`, one function over every batch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import adrop_kit as ak

CUTS = (1, 7, 512, 1 << 30)


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _same_views(path: Path, tmp_path: Path) -> ak.DatasetReport:
    whole = ak.validate_events(path, stream=False)
    for cut in CUTS:
        streamed = ak.validate_events(path, stream=True, batch_bytes=cut)
        for which in ("valid_rows", "invalid_rows"):
            assert_frame_equal(getattr(streamed, which), getattr(whole, which)), (cut, which)
        for which in ("valid", "invalid"):
            out = tmp_path / f"{which}-{cut}.csv"
            ak.validate_events(path, stream=True, batch_bytes=cut, **{f"{which}_out": out})
            assert out.read_text().splitlines()[0] == ",".join(getattr(whole, f"{which}_rows").columns), (cut, which)
        out = tmp_path / f"valid-{cut}.parquet"
        ak.validate_events(path, stream=True, batch_bytes=cut, valid_out=out)
        assert pl.read_parquet(out).schema == whole.valid_rows.schema, cut
    return whole


def test_a_key_only_on_invalid_rows_or_only_null_is_a_column_of_neither_view_or_both(tmp_path):
    rows = [{"uid": f"u{i}", "eventName": "view_item", "item_id": "S", "price": 10, "note": None} for i in range(40)]
    rows[5] = {"uid": "u5", "eventName": "page_view", "page_id": 3, "note": None}  # E006: the only row with page_id
    rows[6]["gone"] = None                                              # a rare key, null: absent
    whole = _same_views(_jsonl(tmp_path / "e.jsonl", rows), tmp_path)
    # `note`, null on every row, is a column of every batch: the user's, as a CSV's empty column is
    assert whole.valid_rows.columns == ["uid", "eventName", "item_id", "price", "note", "page_id"]
    assert whole.invalid_rows.columns == ["row", "uid", "eventName", "item_id", "price", "note", "page_id", "raw"]
    assert whole.invalid_rows.get_column("page_id").to_list() == ["3"]


def test_a_csv_column_empty_in_every_row_is_kept_and_an_input_without_event_names_gets_none(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("uid,eventName,coupon,ts\n" + "".join(f"u{i},app_open,,\n" for i in range(30)) + "u30,,,\n")
    whole = _same_views(path, tmp_path)
    assert whole.valid_rows.columns == ["uid", "eventName", "coupon", "ts"]  # the header's, empty or not
    path.write_text("user,event\n" + "".join(f"u{i},app_open\n" for i in range(5)))  # no eventName column
    whole = _same_views(path, tmp_path)
    assert whole.invalid_rows.columns == ["row", "user", "event", "raw"]  # not the checks' own eventName


def test_an_empty_input_gives_the_same_empty_views(tmp_path):
    for name in ("e.jsonl", "e.csv"):
        whole = _same_views(_jsonl(tmp_path / name, []), tmp_path)
        assert whole.invalid_rows.columns == ["row", "raw"] and whole.valid_rows.width == 0


@pytest.mark.parametrize("where", ["rare", "common"])
def test_an_object_or_a_list_of_a_custom_key_comes_back_as_its_json_text(tmp_path, where):
    n = 40 if where == "rare" else 2  # one row of 40 keeps its keys in `__more`; one of 2 has columns
    rows = [{"uid": f"u{i}", "eventName": "app_open"} for i in range(n)]
    rows[1].update(meta={"a": [1, {"b": None}]}, tags=[1, 2], items_like=[{"item_id": "a"}])
    whole = _same_views(_jsonl(tmp_path / "e.jsonl", rows), tmp_path)
    got = whole.valid_rows.row(1, named=True)
    assert (got["meta"], got["tags"], got["items_like"]) == ('{"a":[1,{"b":null}]}', "[1,2]", '[{"item_id":"a"}]')
    assert whole.valid_rows.schema["tags"] == pl.String


def test_a_frames_columns_stay_even_when_empty_or_when_it_has_no_rows() -> None:
    frame = pl.DataFrame({"uid": ["u1", "u2"], "eventName": ["app_open", "app_open"], "_truth": [None, None],
                          "coupon": [None, None]}, schema_overrides={"_truth": pl.String, "coupon": pl.String})
    assert ak.validate_events(frame).valid_rows.columns == ["uid", "eventName", "_truth", "coupon"]
    # no rows: no eventName either (an eventName empty on every row is the column the checks add)
    assert ak.validate_events(frame.clear()).valid_rows.columns == ["uid", "_truth", "coupon"]
