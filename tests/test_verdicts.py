"""Issue 18, "one verdict, one value": each report of the issue, done again the way it was found.

NaN/Infinity where no type rule looks is E001 in every entry point; a CSV record of empty cells is
a row; a metadata column cannot be a catalog parameter; null is an absent key in every body sent;
a `ts` column mixing ISO text and epoch numbers is read in explore; two columns of one name are a
one-line error; W102's value is JSON text everywhere. Every entry point at once: test_differential.
"""

from __future__ import annotations

import io
import json
import warnings
from contextlib import redirect_stderr, redirect_stdout

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adrop_kit import (
    DataReadError,
    MetaColumnError,
    Sender,
    validate_event,
    validate_events,
)
from adrop_kit.cli.main import main
from adrop_kit.explore.analytics import daily_active_users, event_counts
from adrop_kit.explore.timestamps import with_day
from adrop_kit.testing.local import local_server, local_transport

NAN, INF = float("nan"), float("inf")


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _rules(report) -> list[tuple[int, str, str]]:
    return report.violations.select("row", "rule", "field").rows()


# -- 1. NaN / ±Infinity where values are not type-checked -----------------------------------------
UNTYPED = [
    {"uid": "u1", "eventName": "app_open", "foo": NAN},                                  # a key outside the catalog
    {"uid": "u1", "eventName": "my_event", "foo": INF},                                  # a custom event's parameter
    {"uid": "u1", "eventName": "app_open", "price": -INF},                               # another event's parameter
    {"uid": "u1", "eventName": "app_open", "items": [{"item_id": "a", "price": NAN}]},   # items where not typed
    {"uid": "u1", "eventName": "app_open", "foo": {"a": [1, {"b": -INF}]}},              # nested
    {"uid": "u1", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a", "zz": NAN}]},  # an item's own key
]
TYPED = [
    ({"uid": "u1", "eventName": "view_item", "item_id": "i", "price": NAN}, "E006", "price"),
    ({"uid": "u1", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a", "price": INF}]},
     "E008", "items[0].price"),
]


@pytest.mark.parametrize("payload", UNTYPED)
def test_nan_or_infinity_where_no_type_rule_looks_is_e001_in_validate_event_and_every_dataset_path(payload, tmp_path):
    report = validate_event(payload)
    assert [(v.rule.value, v.field) for v in report.violations] == [("E001", "")]
    assert "NaN or Infinity" in report.violations[0].message
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(payload) + "\n")  # NaN/Infinity written as the tokens Python writes
    for data, kw in [([payload], {}), ([payload], {"engine": "pandera"}), (path, {}),
                     (path, {"stream": True, "batch_bytes": 64})]:
        assert _rules(validate_events(data, **kw)) == [(0, "E001", "")], (data, kw)


def test_nan_in_a_polars_column_not_type_checked_is_e001_and_a_typed_one_e006():
    df = pl.DataFrame({"uid": ["u1", "u2", "u3"], "eventName": ["app_open", "view_item", "app_open"],
                       "item_id": [None, "i", None], "price": [NAN, NAN, 1.0], "score": [1.5, 2.0, INF]})
    assert _rules(validate_events(df)) == [(0, "E001", ""), (1, "E006", "price"), (1, "W102", "score"),
                                           (2, "E001", "")]
    nested = pl.DataFrame({"uid": ["u1"], "eventName": ["app_open"], "meta": [[{"a": INF}]]})
    assert _rules(validate_events(nested)) == [(0, "E001", "")]


def test_infinity_in_a_pandas_column_is_e001_and_nan_is_missing_as_pandas_means_it():
    df = pd.DataFrame({"uid": ["u1", "u2"], "eventName": ["app_open", "app_open"], "score": [INF, NAN]})
    assert _rules(validate_events(df)) == [(0, "E001", "")]


@pytest.mark.parametrize(("payload", "rule", "field"), TYPED)
def test_nan_where_a_type_rule_looks_stays_that_rules_type_error(payload, rule, field):
    assert [(v.rule.value, v.field) for v in validate_event(payload).violations] == [(rule, field)]
    assert _rules(validate_events([payload])) == [(0, rule, field)]


def test_the_local_server_and_the_cli_agree_that_nan_on_a_custom_key_is_invalid(tmp_path):
    payload = {"uid": "u1", "eventName": "app_open", "foo": NAN}
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(payload) + "\n")
    code, out, _ = _cli(["validate", str(path), "--format", "json"])
    assert code == 1 and json.loads(out)["violations"][0]["rule"] == "E001"
    server = local_server()
    try:
        with Sender(server.app_key, transport=local_transport(server), validate=False) as s:
            assert s.send(payload).outcome.value == "rejected"
        with Sender(server.app_key, transport=local_transport(server)) as s:
            assert s.send(payload).outcome.value == "skipped"  # predicted locally, never sent
    finally:
        server.close()


# -- 2. an all-empty CSV record is a row -----------------------------------------------------------
@pytest.mark.parametrize(("text", "rows", "empty"), [
    ("uid,eventName\n,\nu1,app_open\n", 2, [0]),
    ('uid,eventName\n"",""\nu1,app_open\n', 2, [0]),
    ("uid,eventName\nu1,app_open\n,\nu2,app_open\n,\n", 4, [1, 3]),
    ("uid,eventName\nu1,app_open\n\nu2,app_open\n", 2, []),  # a blank line is no record of an event
    ("uid,eventName\r\nu1,app_open\r\n,\r\n", 2, [1]),
])
def test_a_csv_record_of_empty_cells_is_counted_like_its_jsonl_twin(tmp_path, text, rows, empty):
    path = tmp_path / "e.csv"
    path.write_bytes(text.encode())
    for kw in ({}, {"stream": True, "batch_bytes": 16}):
        report = validate_events(path, **kw)
        assert report.rows == rows
        assert sorted({r for r, _, _ in _rules(report)}) == empty
        assert {(rule, f) for r, rule, f in _rules(report)} <= {("E002", "uid"), ("E003", "eventName")}
    twin = tmp_path / "e.jsonl"
    twin.write_text("{}\n")
    assert _rules(validate_events(twin)) == [(0, "E002", "uid"), (0, "E003", "eventName")]


# -- 3. a metadata column cannot be a catalog parameter ---------------------------------------------
@pytest.mark.parametrize("columns", [("ts", "price"), ("uid",), ("eventName",), ("platform",), ("items",)])
def test_a_catalog_parameter_as_metadata_is_a_value_error_naming_it(columns):
    with pytest.raises(MetaColumnError, match=repr(columns[-1])) as caught:
        validate_events([{"uid": "u", "eventName": "view_item", "item_id": "i", "price": "x"}], extra_columns=columns)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(MetaColumnError):
        Sender(dry_run=True, extra_columns=columns)


def test_meta_columns_price_is_a_usage_error_in_the_cli(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"uid": "u", "eventName": "view_item", "item_id": "i", "price": "x"}\n')
    for argv in (["validate", str(path), "--meta-columns", "price"],
                 ["send", str(path), "--meta-columns", "ts,price", "--dry-run"]):
        code, _, err = _cli(argv)
        assert code == 2
        assert len(err.strip().splitlines()) == 1 and "'price' cannot be a metadata column" in err


def test_other_metadata_columns_are_still_fine():
    report = validate_events([{"uid": "u", "eventName": "app_open", "ts": 1, "source": "x", "_n": 1}],
                             extra_columns=("ts", "source"))
    assert report.ok and report.violations.height == 0


# -- 4. null is absent everywhere: the same bytes from every input ---------------------------------
EVENTS = [
    {"uid": "u1", "eventName": "app_open", "x": None},
    {"uid": "u2", "eventName": "purchase", "tx_id": "t1", "items": [{"item_id": "a", "price": None, "zz": None}]},
    {"uid": "u3", "eventName": "view_item", "item_id": "i", "price": None},
]
SENT = [{"eventName": "app_open"},
        {"eventName": "purchase", "tx_id": "t1", "items": [{"item_id": "a"}]},
        {"eventName": "view_item", "item_id": "i"}]


def _stored(send) -> list[dict]:
    server = local_server()
    try:
        with Sender(server.app_key, transport=local_transport(server), concurrency=1) as s:
            send(s)
        return [{k: v for k, v in e["payload"].items() if k != "uid"} for e in server.events()]
    finally:
        server.close()


@pytest.mark.parametrize("kind", ["dict", "list", "pandas", "polars", "jsonl"])
def test_null_keys_are_never_sent_whatever_the_input(kind, tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    data = {"list": EVENTS, "pandas": pd.DataFrame(EVENTS), "polars": pl.DataFrame(EVENTS), "jsonl": path}.get(kind)
    stored = _stored((lambda s: [s.send(e) for e in EVENTS]) if kind == "dict" else (lambda s: s.send_all(data)))
    assert stored == SENT


def test_null_keys_count_toward_no_limit_and_a_required_null_is_e005():
    wide = {"uid": "u", "eventName": "app_open", **{f"k{i}": None for i in range(1200)}}
    assert validate_event(wide).ok and validate_events([wide]).ok
    big = {"uid": "u", "eventName": "app_open", **{f"n{i}": None for i in range(200)}, "s": "x" * (64 * 1024 - 60)}
    assert validate_event(big).rules == {"W102"}
    assert set(validate_events([big]).violations.get_column("rule")) == {"W102"}
    assert validate_event({"uid": "u", "eventName": "sign_up", "method": None}).rules == {"E005"}


# -- 5. a ts column mixing ISO text and epoch numbers ----------------------------------------------
def test_explore_reads_a_ts_column_mixing_iso_text_and_epoch_numbers(tmp_path):
    rows = [{"uid": "u", "eventName": "app_open", "ts": "2024-01-02T00:00:00Z"},
            {"uid": "v", "eventName": "app_open", "ts": 1704240000},
            {"uid": "w", "eventName": "app_open", "ts": 1704240000.5}]
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    csv = tmp_path / "t.csv"
    csv.write_text("uid,eventName,ts\nu,app_open,2024-01-02T00:00:00Z\nv,app_open,1704240000\nw,app_open,1704240000.5\n")
    days = ["2024-01-02", "2024-01-03", "2024-01-03"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no value left unread
        for data in (pd.DataFrame(rows), validate_events(jsonl), validate_events(jsonl, stream=True, batch_bytes=40),
                     validate_events(csv), validate_events(rows)):
            assert [str(d) for d in with_day(data).get_column("day")] == days
            assert daily_active_users(data).select("users").to_series().to_list() == [1, 2]
            assert event_counts(data).rows() == [("app_open", 3)]


# -- 6. two columns of one name ---------------------------------------------------------------------
def test_a_pandas_frame_with_a_duplicated_column_name_is_a_one_line_data_read_error():
    df = pd.DataFrame([["u", "app_open", "x"]], columns=["uid", "eventName", "uid"])
    with pytest.raises(DataReadError, match="more than one column is named 'uid'"):
        validate_events(df)
    with pytest.raises(DataReadError, match="'1'"):  # 1 and "1" are one key
        validate_events(pd.DataFrame([["u", "app_open", 1, 2]], columns=["uid", "eventName", 1, "1"]))


def test_a_parquet_file_with_a_duplicated_column_name_is_a_usage_error_read_whole_or_streamed(tmp_path):
    path = tmp_path / "e.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array(["u"]), pa.array(["app_open"]), pa.array(["v"])],
                                        names=["uid", "eventName", "uid"]), path)
    for kw in ({}, {"stream": True}):
        with pytest.raises(DataReadError, match=f"^{path}: more than one column is named 'uid'"):
            validate_events(path, **kw)
    code, _, err = _cli(["validate", str(path)])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "'uid'" in err


def test_a_csv_header_naming_a_column_twice_is_a_usage_error_and_a_json_key_twice_keeps_the_last(tmp_path):
    csv = tmp_path / "e.csv"
    csv.write_text("uid,eventName,uid\nu,app_open,v\n")
    code, _, err = _cli(["validate", str(csv)])
    assert code == 2 and "'uid' twice" in err
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text('{"uid": "u", "eventName": "sign_up", "eventName": "app_open"}\n')
    report = validate_events(jsonl)
    assert report.ok and report.valid_rows.get_column("eventName").to_list() == ["app_open"]


# -- 7. W102's value is JSON text everywhere -------------------------------------------------------
def test_w102_shows_its_value_as_json_text_in_validate_event_and_datasets(tmp_path):
    p = {"uid": "u", "eventName": "app_open", "a": "x", "b": 1.5, "c": True, "d": [1, "y"]}
    want = {"a": '"x"', "b": "1.5", "c": "true", "d": '[1,"y"]'}
    assert {v.field: v.value for v in validate_event(p).violations if v.rule.value == "W102"} == want
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(p) + "\n")
    for data in ([p], path, pd.DataFrame([p])):
        report = validate_events(data)
        shown = dict(report.violations.filter(pl.col("rule") == "W102").select("field", "value").rows())
        assert shown == want, data
        assert {v["field"]: v["value"] for v in report.to_dict()["violations"] if v["rule"] == "W102"} == \
            {"a": "x", "b": 1.5, "c": True, "d": [1, "y"]}


def test_a_sender_not_validating_skips_a_body_utf8_cannot_hold_instead_of_raising():
    with Sender(dry_run=False, app_key="k", transport=local_transport(local_server()), validate=False) as s:
        outcome = s.send({"uid": "u", "eventName": "app_open", "note": "\ud800"})
    assert outcome.outcome.value == "skipped" and "Unicode" in (outcome.error or "")
