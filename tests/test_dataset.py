"""validate_events: every input format, hostile input, nothing lost, engines agree."""

from __future__ import annotations

import json
import math

import pandas as pd
import polars as pl
import pytest

import adrop_kit as ak
from adrop_kit.errors import DataReadError
from adrop_kit.validate import schemas

GOOD = [
    {"uid": "u1", "eventName": "app_open"},
    {"uid": "u1", "eventName": "view_item", "platform": "web", "item_id": "SKU-1", "price": 29900},
    {"uid": "u1", "eventName": "add_to_cart", "platform": "web", "item_id": "SKU-1", "price": 29900,
     "quantity": 2, "value": 59800, "currency": "KRW"},
    {"uid": "u1", "eventName": "purchase", "platform": "web", "tx_id": "T-1", "currency": "KRW",
     "items": [{"item_id": "SKU-1", "price": 29900, "quantity": 2}, {"item_id": "SKU-2"}]},
]
BAD = [
    {"uid": "", "eventName": "app_open"},                                   # E002
    {"uid": "u2", "eventName": "sign_up"},                                  # E005 method
    {"uid": "u2", "eventName": "view_item", "item_id": "S", "price": "9 EUR"},  # E006 price
    {"uid": "u2", "eventName": "purchase", "tx_id": "T-2", "items": []},    # E007
    {"uid": "u2", "eventName": "purchase", "tx_id": "T-3", "items": [{"item_id": "A"}, {"price": 1}]},  # E008
    {"uid": "u2", "eventName": "app_open", "platform": "Web"},              # E004
]
EXPECTED_BAD = {0: "E002", 1: "E005", 2: "E006", 3: "E007", 4: "E008", 5: "E004"}


def _rules_by_row(report: ak.DatasetReport, severity: str = "error") -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for row, rule in report.violations.filter(pl.col("severity") == severity).select("row", "rule").iter_rows():
        out.setdefault(row, set()).add(rule)
    return out


def test_list_of_dicts_reports_each_broken_rule_with_its_row():
    report = ak.validate_events(GOOD + BAD)
    assert report.summary() == {"rows": 10, "valid": 4, "invalid": 6, "warned": 0}
    got = _rules_by_row(report)
    assert got == {len(GOOD) + i: {rule} for i, rule in EXPECTED_BAD.items()}
    e008 = report.violations.filter(pl.col("rule") == "E008").row(0, named=True)
    assert e008["field"] == "items[1].item_id" and "item_id" in e008["message"]


def test_violation_table_has_the_documented_columns():
    report = ak.validate_events(BAD)
    assert report.violations.columns == ["source", "row", "line", "eventName", "rule", "severity", "field", "value",
                                         "message"]
    assert report.violations.get_column("source").unique().to_list() == [report.source] == ["<records>"]
    assert report.by_rule().get_column("rule").to_list() == sorted(EXPECTED_BAD.values())
    assert set(report.by_event().get_column("eventName")) == {"app_open", "sign_up", "view_item", "purchase"}
    assert report.rows_for("E006") == [2]


def test_valid_rows_keep_order_and_values_and_invalid_rows_their_position():
    report = ak.validate_events(BAD + GOOD)
    assert report.invalid_rows.get_column("row").to_list() == [0, 1, 2, 3, 4, 5]
    assert report.valid_rows.height == 4 and not any(c.startswith("__") for c in report.valid_rows.columns)
    assert report.valid_rows.filter(pl.col("eventName") == "view_item").get_column("price").to_list() == [29900]


def test_to_json_and_html():
    report = ak.validate_events(GOOD + BAD)
    data = json.loads(report.to_json())
    assert data["summary"]["invalid"] == 6
    assert {v["rule"] for v in data["violations"]} == set(EXPECTED_BAD.values())
    html = report._repr_html_()
    assert "E007" in html and "invalid" in html


@pytest.mark.parametrize("fmt", ["jsonl", "ndjson", "json", "parquet", "csv"])
def test_every_file_format_gives_the_same_verdict(tmp_path, fmt):
    rows = GOOD + BAD
    path = tmp_path / f"events.{fmt}"
    if fmt in ("jsonl", "ndjson"):
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    elif fmt == "json":
        path.write_text(json.dumps(rows))
    elif fmt == "parquet":
        typed = [dict(r) for r in rows if r is not BAD[2]]  # parquet columns have one type
        pl.from_dicts(typed, infer_schema_length=None).write_parquet(path)
        report = ak.validate_events(path)
        assert report.rows == len(typed) and report.invalid == len(BAD) - 1
        return
    else:
        frame = pl.from_dicts(rows, infer_schema_length=None, strict=False).with_columns(
            pl.col("items").map_elements(lambda v: json.dumps(v.to_list() if hasattr(v, "to_list") else v),
                                         return_dtype=pl.String))
        frame = frame.with_columns(pl.col("items").replace("null", None))
        frame.write_csv(path)
    report = ak.validate_events(path)
    assert (report.rows, report.valid, report.invalid) == (len(rows), len(GOOD), len(BAD))
    assert report.valid_rows.height == len(GOOD)
    assert _rules_by_row(report) == {len(GOOD) + i: {rule} for i, rule in EXPECTED_BAD.items()}
    assert report.source == str(path)


def test_pandas_and_polars_frames():
    typed = [r for r in GOOD + BAD if r is not BAD[2]]
    pdf = pd.DataFrame(typed)
    r1 = ak.validate_events(pdf)
    r2 = ak.validate_events(pl.from_dicts(typed, infer_schema_length=None))
    assert r1.summary() == r2.summary() == {"rows": 9, "valid": 4, "invalid": 5, "warned": 0}
    assert r1.violations.select("row", "rule").equals(r2.violations.select("row", "rule"))


def test_pandas_object_column_with_mixed_types_is_a_type_error_not_a_crash():
    pdf = pd.DataFrame({"uid": ["a", "b"], "eventName": ["view_item", "view_item"],
                        "item_id": ["x", "y"], "price": [10, "10"]})
    report = ak.validate_events(pdf)
    assert _rules_by_row(report) == {1: {"E006"}}


def test_a_wrong_typed_polars_column_reports_every_row():
    df = pl.DataFrame({"uid": [1, 2], "eventName": ["app_open", "app_open"]})
    report = ak.validate_events(df)
    assert _rules_by_row(report) == {0: {"E002"}, 1: {"E002"}}
    assert "got an integer" in report.violations.get_column("message")[0]


# -- hostile input ------------------------------------------------------------------------
def test_jsonl_lines_that_are_not_objects_are_e001_rows(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"uid":"a","eventName":"app_open"}\n[1,2]\nnot json\n"text"\nnull\n\n'
                    '{"uid":"b","eventName":"sign_up","method":"x"}\n{"uid": "c", "eventName"\n')
    report = ak.validate_events(path)
    assert report.rows == 7  # the blank line is not an event
    assert _rules_by_row(report) == {1: {"E001"}, 2: {"E001"}, 3: {"E001"}, 4: {"E001"}, 7: {"E001"}}
    assert report.invalid_rows.get_column("row").to_list() == [1, 2, 3, 4, 7]
    assert report.valid_rows.get_column("uid").to_list() == ["a", "b"]
    msg = report.violations.filter(pl.col("row") == 2).get_column("message")[0]
    assert "line 3" in msg and "not valid JSON" in msg


def test_broken_csv_quoting_loses_no_row(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text('uid,eventName,method\nu1,sign_up,email\nu2,"sign_up,email\nu3,sign_up,google\n'
                    'u4,sign_up,a,EXTRA\n')
    report = ak.validate_events(path)
    assert report.rows == 4
    assert _rules_by_row(report) == {1: {"E001"}, 3: {"E001"}}
    assert "line 3" in report.violations.get_column("message")[0]


def test_csv_items_cell_that_is_not_a_json_array(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text('uid,eventName,tx_id,items\nu,purchase,t1,not-json\nu,purchase,t2,"{""a"":1}"\n'
                    'u,purchase,t3,"[{""item_id"":""x""}]"\nu,purchase,t4,\n')
    report = ak.validate_events(path)
    assert _rules_by_row(report) == {0: {"E007"}, 1: {"E007"}, 3: {"E007"}}


def test_csv_numbers_are_parsed_and_bad_text_is_a_type_error(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("uid,eventName,item_id,price,quantity\nu,add_to_cart,x,12.5,2\nu,add_to_cart,x,\"12,5\",2\n"
                    "u,add_to_cart,x,3,2.5\nu,add_to_cart,x,NaN,1\n")
    report = ak.validate_events(path)
    assert _rules_by_row(report) == {1: {"E006"}, 2: {"E006"}, 3: {"E006"}}
    assert report.violations.filter(pl.col("row") == 1).get_column("value")[0] == '"12,5"'


def test_nan_and_infinity_are_type_errors_in_json_sources():
    rows = [{"uid": "u", "eventName": "view_item", "item_id": "x", "price": v} for v in (math.nan, math.inf, 1.0)]
    report = ak.validate_events(rows)
    assert _rules_by_row(report) == {0: {"E006"}, 1: {"E006"}}


def test_a_10_mb_string_is_reported_short():
    huge = "x" * 10_000_000
    report = ak.validate_events([{"uid": "u", "eventName": "view_item", "item_id": "x", "price": huge}])
    (value,) = report.violations.get_column("value").to_list()
    assert len(value) <= 200 and report.invalid == 1


@pytest.mark.parametrize("name,content", [("e.csv", ""), ("e.jsonl", ""), ("e.json", "  \n"),
                                          ("e.csv", "uid,eventName,items\n")])
def test_empty_file_and_header_only_hold_no_events(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    report = ak.validate_events(path)
    assert report.summary() == {"rows": 0, "valid": 0, "invalid": 0, "warned": 0}


@pytest.mark.parametrize("name,content,needle", [
    ("e.txt", "x", "unknown file type"),
    ("e.json", "{nope", "not valid JSON"),
    ("e.json", "42", "expected a JSON array"),
    ("e.parquet", "not parquet", "not a readable Parquet file"),
])
def test_unreadable_files_raise_one_clear_error(tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataReadError, match=needle) as exc:
        ak.validate_events(path)
    assert str(path) in str(exc.value)


def test_missing_file_and_unsupported_objects():
    with pytest.raises(DataReadError, match="no such file"):
        ak.validate_events("/nonexistent/events.jsonl")
    with pytest.raises(DataReadError, match="cannot read a int"):
        ak.validate_events(42)


# -- rules that need the whole dataset -------------------------------------------------
def test_w107_flags_the_second_purchase_with_the_same_tx_id():
    item = [{"item_id": "a"}]
    rows = [{"uid": "u", "eventName": "purchase", "tx_id": t, "items": item} for t in ("T1", "T2", "T1", "T1")]
    report = ak.validate_events(rows)
    w = report.violations.filter(pl.col("rule") == "W107")
    assert w.get_column("row").to_list() == [2, 3]
    assert "row 0" in w.get_column("message")[0]
    assert report.summary() == {"rows": 4, "valid": 4, "invalid": 0, "warned": 2}


def test_strict_mode_and_plans():
    rows = [{"uid": "u", "eventName": "level_up", "level": 3}]
    assert ak.validate_events(rows).ok
    assert not ak.validate_events(rows, strict=True).ok
    plan = ak.Catalog.standard().extend({"events": {"level_up": {"params": {"level": {"type": "integer",
                                                                                    "required": True}}}}})
    assert ak.validate_events(rows, catalog=plan, strict=True).violations.height == 0
    assert _rules_by_row(ak.validate_events([{"uid": "u", "eventName": "level_up"}], catalog=plan)) == {0: {"E005"}}


def test_extra_columns_are_not_parameters():
    rows = [{"uid": "u", "eventName": "app_open", "ts": "2026-01-01T00:00:00", "_truth": None, "itemId": "x"}]
    report = ak.validate_events(rows)
    assert report.violations.select("rule", "field").rows() == [("W102", "itemId")]


# -- pandera ---------------------------------------------------------------------------------
def test_pandera_schemas_are_generated_from_the_catalog():
    import pandera.polars as pa

    schema = schemas.for_event("purchase")
    assert isinstance(schema, pa.DataFrameSchema)
    assert {"tx_id", "items", "currency"} <= set(schema.columns)
    assert "method" not in schema.columns
    good = pl.DataFrame({"uid": ["u"], "eventName": ["purchase"], "tx_id": ["T"],
                         "items": [[{"item_id": "a", "price": 1.0}]]})
    schema.validate(good)
    with pytest.raises(pa.errors.SchemaErrors) as exc:
        schema.validate(good.with_columns(pl.lit("").alias("tx_id")), lazy=True)
    assert "E005" in str(exc.value.failure_cases.get_column("check").to_list())


def test_both_engines_agree():
    rows = GOOD + BAD + [{"uid": "a@b.co", "eventName": "app_open", "itemId": 1}, {"uid": "u", "eventName": "x"}]
    fast = ak.validate_events(rows)
    slow = ak.validate_events(rows, engine="pandera")
    key = ["row", "rule", "field"]
    assert fast.violations.select(key).sort(key).equals(slow.violations.select(key).sort(key))
    with pytest.raises(ValueError, match="engine"):
        ak.validate_events(rows, engine="spark")


# -- what goes out is what came in ------------------------------------------------------------
def _payloads(report):
    from adrop_kit.io.frames import to_payloads

    return [p for _, p in to_payloads(report.canonical_rows(), ak.STANDARD)]


def test_values_round_trip_unchanged_for_sending():
    rows = [{"uid": "u1", "eventName": "level_up", "level": 5, "meta": {"a": 1}, "tags": ["x"], "flag": True},
            {"uid": "u2", "eventName": "level_up", "level": 2.5, "flag": "yes", "note": "n" * 500},
            {"uid": "u3", "eventName": "view_item", "item_id": "a", "price": 29900}]
    assert _payloads(ak.validate_events(rows)) == rows


def test_forgiving_csv_keeps_multi_line_cells_and_judges_a_broken_record_alone(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text('uid,eventName,item_id,price,quantity\nu1,add_to_cart,a,100,2\nu2,add_to_cart,"multi\nline",5,1\n'
                    'u3,add_to_cart,c,1,1,EXTRA\nu4,app_open,"broken,x\nu5,app_open\n\n')
    report = ak.validate_events(path)
    assert report.summary() == {"rows": 5, "valid": 3, "invalid": 2, "warned": 0}
    assert _rules_by_row(report) == {2: {"E001"}, 3: {"E001"}}
    assert [p["uid"] for p in _payloads(report)] == ["u1", "u2", "u5"]
    assert _payloads(report)[1]["item_id"] == "multi\nline" and _payloads(report)[0]["price"] == 100


def test_blank_csv_lines_and_a_jsonl_bom_are_not_events(tmp_path):
    csv_path = tmp_path / "e.csv"
    csv_path.write_text("uid,eventName\nu1,app_open\n\n\n")
    assert ak.validate_events(csv_path).summary() == {"rows": 1, "valid": 1, "invalid": 0, "warned": 0}
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_bytes(b'\xef\xbb\xbf{"uid":"u","eventName":"app_open"}\n')
    assert ak.validate_events(jsonl).ok


def test_a_categorical_column_of_a_numeric_parameter_is_a_type_error_not_a_crash():
    df = pl.DataFrame({"uid": ["u"], "eventName": ["view_item"], "item_id": ["a"], "price": ["12"]})
    report = ak.validate_events(df.with_columns(pl.col("price").cast(pl.Categorical)))
    assert report.violations.select("rule", "field").rows() == [("E006", "price")]


def test_a_lone_surrogate_is_an_e001_row_in_both_validators(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"uid":"u\\ud800x","eventName":"app_open"}\n{"uid":"ok","eventName":"app_open"}\n')
    report = ak.validate_events(path)
    assert _rules_by_row(report) == {0: {"E001"}} and report.valid == 1
    assert ak.validate_event({"uid": "u\ud800x", "eventName": "app_open"}).rules == {"E001"}


def test_a_lone_surrogate_anywhere_in_a_row_makes_that_row_alone_e001():
    rows = [{"uid": "u\ud800", "eventName": "app_open"},                                     # in a value
            {"uid": "ok", "eventName": "app_open"},
            {"uid": "u", "eventName": "app_open", "k\ud800": 1},                              # in a key
            {"uid": "u", "eventName": "purchase", "tx_id": "t", "items": [{"item_id": "a\ud800"}]},  # nested
            "x\ud800",                                                                        # not an object
            {"uid": "u2", "eventName": "view_item", "item_id": "i", "price": 3}]
    report = ak.validate_events(rows)
    assert _rules_by_row(report) == {0: {"E001"}, 2: {"E001"}, 3: {"E001"}, 4: {"E001"}}
    assert [ak.validate_event(r).rules for r in rows] == [{"E001"}, set(), {"E001"}, {"E001"}, {"E001"}, set()]
    assert report.invalid_rows.get_column("row").to_list() == [0, 2, 3, 4]
    assert report.valid_rows.get_column("uid").to_list() == ["ok", "u2"]
    assert "k\\ud800" in report.violations.filter(pl.col("row") == 2).get_column("value")[0]  # shown escaped
    assert _payloads(report) == [rows[1], rows[5]]


def test_whitespace_is_one_set_in_both_validators():
    from adrop_kit.spec.rules import BLANK

    assert set(BLANK) == {chr(c) for c in range(0x110000) if chr(c).isspace()}
    for uid in ("\x1f", " \u3000\t", "a\x1cb@c.de", "a\u2028b@x.io", "a@b.co"):
        p = {"uid": uid, "eventName": "app_open"}
        assert ak.validate_event(p).rules == set(ak.validate_events([p]).violations["rule"]), repr(uid)


def test_numpy_scalars_are_numbers_in_both_validators_and_go_out_as_json_numbers():
    import numpy as np

    from adrop_kit.io.jsontext import dumps_payload

    p = {"uid": "u", "eventName": "add_to_cart", "item_id": np.str_("a"), "price": np.float64(9.5),
         "quantity": np.int64(2), "value": np.float64(19.0)}
    assert ak.validate_event(p).violations == [] and ak.validate_events([p]).violations.height == 0
    assert json.loads(dumps_payload(p)) == {"uid": "u", "eventName": "add_to_cart", "item_id": "a", "price": 9.5,
                                            "quantity": 2, "value": 19.0}
    bad = {"uid": "u", "eventName": "view_item", "item_id": "a", "price": np.bool_(True)}
    assert "got a boolean" in ak.validate_event(bad).errors[0].message
    assert ak.validate_events([bad]).violations["rule"].to_list() == ["E006"]


def test_keys_in_the_reserved_namespace_do_not_break_the_reader():
    rows = [{"uid": "u", "eventName": "app_open", "__row": 5, "__bad__price": "x", "__error": 1}]
    assert ak.validate_events(rows).summary() == {"rows": 1, "valid": 1, "invalid": 0, "warned": 0}
