"""Importing a GA4 / Firebase BigQuery export: rows written here from Google's export schema (nested
event_params whose values use different slots, INT64 as strings, placeholders, 12-item lists with one
quantity set, older tables without the newer columns, intraday tables)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import adrop_kit
from adrop_kit.cli import main
from adrop_kit.errors import PlanError
from adrop_kit.io.importers.mapping import default_mapping, load_mapping, parse_mapping

SLOTS = ("string_value", "int_value", "float_value", "double_value")


def param(key: str, **value: Any) -> dict[str, Any]:
    return {"key": key, "value": {s: value.get(s) for s in SLOTS}}


def row(name: str, *, ts: Any = "1604188800123456", uid: str | None = None, pseudo: str = "1234.5678",
        platform: str = "WEB", params: list | None = None, items: list | None = None, **more: Any) -> dict:
    r = {"event_date": "20201101", "event_timestamp": ts, "event_name": name, "user_id": uid,
         "user_pseudo_id": pseudo, "platform": platform, "event_params": params or [],
         "device": {"category": "mobile", "operating_system": "Android"}, "geo": {"country": "South Korea"},
         "ecommerce": {"transaction_id": "(not set)", "purchase_revenue": None}, "items": items or [], **more}
    return r


def shelf(n: int = 12, *, added: int | None = 3, qty: Any = "2") -> list[dict[str, Any]]:
    """`n` items as GA4 lists them on screen; only item `added` has a quantity (as BigQuery's JSON writes INT64)."""
    return [{"item_id": f"SKU{i}", "item_name": f"Shoe {i}", "item_brand": "(not set)" if i % 2 else "Acme",
             "item_variant": "red", "item_category": "Shoes", "item_category2": "Running", "price": 59.0 + i,
             "quantity": qty if i == added else None} for i in range(n)]


def write(path: Path, rows: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join((json.dumps(r) if not isinstance(r, str) else r) + "\n" for r in rows)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(lines)
    else:
        path.write_text(lines, encoding="utf-8")
    return path


def events_of(tmp_path: Path, rows: list[Any], mapping: Any = None) -> tuple[list[dict[str, Any]], Any]:
    src = write(tmp_path / "events_20201101.json", rows)
    out = tmp_path / "out.jsonl"
    frame, report = adrop_kit.importers.ga4(src, mapping, out=out)
    assert frame is None
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()], report


def test_a_page_view_keeps_its_time_to_the_microsecond_and_derives_page_id_from_the_url(tmp_path):
    evs, report = events_of(tmp_path, [
        row("page_view", params=[param("page_location", string_value="https://shop.example/p/42?utm=x"),
                                 param("ga_session_id", int_value="1604188")]),
    ])
    assert evs == [{"uid": "1234.5678", "platform": "web", "eventName": "page_view", "page_id": "/p/42",
                    "page_url": "https://shop.example/p/42?utm=x", "ts": "2020-11-01T00:00:00.123456Z",
                    "_source": str(tmp_path / "events_20201101.json"), "_row": 0}]
    assert (report.rows, report.mapped_rows, report.events, report.invalid) == (1, 1, 1, 0)


def test_uid_is_user_id_else_the_pseudo_id_and_platform_is_lower_cased(tmp_path):
    evs, _ = events_of(tmp_path, [row("sign_up", uid="U-1", platform="IOS",
                                      params=[param("method", string_value="kakao")]),
                                  row("sign_up", uid=None, platform="ANDROID",
                                      params=[param("method", string_value="email")])])
    assert [(e["uid"], e["platform"], e["method"]) for e in evs] == [("U-1", "ios", "kakao"),
                                                                     ("1234.5678", "android", "email")]


def test_int64_as_strings_or_numbers_and_any_value_slot_give_the_same_events(tmp_path):
    as_text = [row("form_start", ts="1604188800000001", params=[param("form_id", int_value="77")])]
    as_numbers = [row("form_start", ts=1604188800000001, params=[param("form_id", int_value=77)])]
    as_double = [row("form_start", ts=1604188800000001, params=[param("form_id", double_value=77.0)])]
    as_string = [row("form_start", ts=1604188800000001, params=[param("form_id", string_value="77")])]
    got = [events_of(tmp_path, rows)[0] for rows in (as_text, as_numbers, as_double, as_string)]
    assert got[0] == got[1] == got[2] == got[3]
    assert got[0][0]["form_id"] == "77" and got[0][0]["eventName"] == "begin_lead_form"
    assert got[0][0]["ts"] == "2020-11-01T00:00:00.000001Z"


def test_add_to_cart_with_twelve_items_on_screen_is_one_event_for_the_item_with_a_quantity(tmp_path):
    items = shelf(12, added=3)
    evs, report = events_of(tmp_path, [
        row("add_to_cart", params=[param("currency", string_value="KRW")], items=items),
        row("add_to_cart", items=shelf(12, added=None)),  # none has a quantity: no fake add-to-cart
    ])
    assert len(evs) == 1
    assert {k: evs[0][k] for k in ("eventName", "item_id", "price", "quantity", "currency")} == {
        "eventName": "add_to_cart", "item_id": "SKU3", "price": 62.0, "quantity": 2, "currency": "KRW"}
    assert report.skipped == {"add_to_cart": 1}
    assert report.rows == report.mapped_rows + sum(report.skipped.values())
    assert report.lost["items (not taken)"] == 11
    assert report.lost["items.item_variant"] == 1  # the taken item's variant: no Adrop field carries it


def test_view_item_takes_the_item_the_row_is_about_and_never_guesses(tmp_path):
    evs, report = events_of(tmp_path, [
        row("view_item", items=shelf(1, added=None)),        # one item: it
        row("view_item", items=shelf(12, added=5, qty=1)),   # twelve, one with a quantity: that one
        row("view_item", items=shelf(12, added=None)),       # twelve, none marked: which? skipped, said so
    ])
    assert [e["item_id"] for e in evs] == ["SKU0", "SKU5"]
    assert [e["_row"] for e in evs] == [0, 1]
    assert report.skipped == {"view_item (no single item)": 1}


def test_placeholders_are_absent_values(tmp_path):
    evs, report = events_of(tmp_path, [
        row("screen_view", platform="ANDROID", params=[param("page_location", string_value="(not set)"),
                                                        param("firebase_screen", string_value="Home")]),
        row("purchase", uid="U9", params=[param("currency", string_value="USD")],
            ecommerce={"transaction_id": "T-1", "purchase_revenue": 118.0, "tax_value": 8.0},
            items=shelf(2, added=None)),
    ])
    assert evs[0]["page_id"] == "Home" and "page_url" not in evs[0]
    assert evs[1]["tx_id"] == "T-1"
    assert [it.get("brand") for it in evs[1]["items"]] == ["Acme", None]  # "(not set)" is no brand
    assert report.lost["ecommerce.purchase_revenue"] == 1 and report.lost["ecommerce.tax_value"] == 1
    assert "ecommerce.transaction_id" not in report.lost


def test_app_sessions_are_app_open_and_web_sessions_are_skipped(tmp_path):
    evs, report = events_of(tmp_path, [row("session_start", platform="IOS"), row("session_start", platform="WEB"),
                                       row("notification_open", platform="ANDROID",
                                           params=[param("message_id", string_value="m-42")]),
                                       row("user_engagement"), row("scroll")])
    assert [e["eventName"] for e in evs] == ["app_open", "push_clicks"]
    assert evs[1]["campaign_id"] == "m-42"
    assert report.skipped == {"session_start": 1, "user_engagement": 1, "scroll": 1}
    assert report.by_event == {"app_open": 1, "push_clicks": 1}


def test_older_tables_without_the_newer_columns_import(tmp_path):
    old = {"event_date": "20180612", "event_timestamp": "1528761600000000", "event_name": "screen_view",
           "user_pseudo_id": "A1", "platform": "IOS",
           "event_params": [param("firebase_screen", string_value="Cart")]}
    bare = {"event_timestamp": "1528761600000000", "event_name": "session_start", "user_pseudo_id": "A2",
            "platform": "ANDROID"}
    evs, report = events_of(tmp_path, [old, bare, "{not json", 42])
    assert [(e["eventName"], e.get("page_id")) for e in evs] == [("page_view", "Cart"), ("app_open", None)]
    assert report.rows == 4 and report.skipped == {"(not a JSON object)": 2}


def test_daily_and_intraday_tables_in_a_directory_keep_their_file_and_row(tmp_path):
    d = tmp_path / "export"
    write(d / "events_20201101.json.gz", [row("sign_up", params=[param("method", string_value="a")])] * 2)
    write(d / "events_intraday_20201102.json", [row("sign_up", params=[param("method", string_value="b")])])
    frame, report = adrop_kit.importers.ga4(d)
    assert frame["_source"].to_list() == ["events_20201101.json.gz"] * 2 + ["events_intraday_20201102.json"]
    assert frame["_row"].to_list() == [0, 1, 0]
    assert str(frame.schema["ts"]) == "Datetime(time_unit='us', time_zone='UTC')"
    assert frame["ts"][0].microsecond == 123456
    assert report.rows == 3


def _parquet_rows() -> list[dict[str, Any]]:
    items = shelf(3, added=1, qty=2)
    return [row("add_to_cart", ts=1604188800000001, items=items, params=[param("currency", string_value="KRW")]),
            row("purchase", ts=1604188800000002, uid="U1", items=items,
                ecommerce={"transaction_id": "T7", "purchase_revenue": 3.5})]


def test_parquet_and_json_exports_give_the_same_events(tmp_path):
    rows = _parquet_rows()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "events_20201101.parquet")
    write(tmp_path / "json" / "events_20201101.json", rows)
    from_parquet, rep_p = adrop_kit.importers.ga4(tmp_path / "events_20201101.parquet", batch_rows=1)
    from_json, rep_j = adrop_kit.importers.ga4(tmp_path / "json" / "events_20201101.json")
    assert from_parquet.drop("_source").to_dicts() == from_json.drop("_source").to_dicts()
    assert rep_p.lost == rep_j.lost and rep_p.by_event == {"add_to_cart": 1, "purchase": 1}


MIXED = [
    row("purchase", uid="U1", items=shelf(2, added=None), ecommerce={"transaction_id": "T1"}),
    row("purchase", uid="U1", ecommerce={"transaction_id": "T2"}),            # no items: E007
    row("generate_lead", params=[param("value", double_value=10.0)]),         # no form_id: E005
    row("add_to_cart", items=[{"item_id": "X", "quantity": 1}]),             # no price: E005
    row("page_view", params=[param("page_location", string_value="https://a.example/")]),
    row("sign_up", uid="kim@example.com", params=[param("method", string_value="email")]),  # W106 only
]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".csv"])
def test_invalid_is_what_validate_finds_on_the_output(tmp_path, suffix):
    src = write(tmp_path / "events_20201101.json", MIXED)
    out = tmp_path / f"events{suffix}"
    _, report = adrop_kit.importers.ga4(src, out=out, batch_rows=2)
    checked = adrop_kit.validate_events(out)
    assert checked.rows == report.events == 6
    assert checked.invalid == report.invalid == 3
    assert report.invalid_by_rule == {"E005": 2, "E007": 1}
    assert not any(v in ("ts", "_source", "_row") for v in checked.violations["field"].to_list())


def test_the_default_mapping_round_trips_through_its_file(tmp_path):
    path = tmp_path / "ga4.toml"
    assert main(["import", "ga4", "--write-mapping", str(path)]) == 0
    assert load_mapping(path) == default_mapping("ga4")


def test_an_edited_mapping_renames_keeps_unmapped_events_and_changes_page_id(tmp_path):
    text = (adrop_kit.importers.DEFAULTS["ga4"]
            .replace('unmapped = "skip"', 'unmapped = "keep"')
            .replace('page_id = ["path(params.page_location)"', 'page_id = ["params.page_title"'))
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    evs, report = events_of(tmp_path, [
        row("page_view", params=[param("page_title", string_value="Home"),
                                 param("page_location", string_value="https://a.example/x")]),
        row("level_up", params=[param("level", int_value="3"), param("character", string_value="elf")]),
    ], mapping=path)
    assert evs[0]["page_id"] == "Home"
    assert {k: evs[1][k] for k in ("eventName", "level", "character")} == {"eventName": "level_up", "level": "3",
                                                                            "character": "elf"}
    assert report.skipped == {} and report.mapped_rows == 2


@pytest.mark.parametrize(("edit", "message"), [
    (('to = "push_clicks"', 'to = "push_click"'), r"m\.toml:\d+: event #9 .*'push_click' is not an event.*push_clicks"),
    (('items = "with_quantity"', 'items = "each_one"'), r"m\.toml:\d+: event #5 .*items = 'each_one'"),
    (('method = "params.method"', 'methd = "params.method"'), r"m\.toml:\d+: .*sign_up has no parameter 'methd'"),
    (('unmapped = "skip"', 'unmapped = "drop"'), r"m\.toml:\d+: unmapped = 'drop'"),
    (('source = "ga4"', 'source = "ga4"\nfoo = 1'), r"m\.toml:\d+: unknown key 'foo'"),
    (('[item]', '[item'), r"m\.toml: not valid TOML"),
])
def test_a_mistake_in_the_mapping_file_is_one_line_naming_line_and_key(tmp_path, edit, message):
    path = tmp_path / "m.toml"
    path.write_text(adrop_kit.importers.DEFAULTS["ga4"].replace(*edit, 1), encoding="utf-8")
    with pytest.raises(PlanError, match=message):
        load_mapping(path)


def test_the_mistakes_line_is_the_line_of_the_key(tmp_path):
    text = adrop_kit.importers.DEFAULTS["ga4"].replace('items = "with_quantity"', 'items = "bogus"')
    line = next(i for i, t in enumerate(text.splitlines(), 1) if 'items = "bogus"' in t)
    with pytest.raises(PlanError, match=rf"^<m>:{line}: "):
        parse_mapping(text, where="<m>")


def test_cli_import_prints_the_report_as_json_and_exits_1_on_invalid_events(tmp_path, capsys):
    src = write(tmp_path / "events_20201101.json", MIXED)
    code = main(["import", "ga4", str(src), "--out", str(tmp_path / "e.parquet"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["rows"] == report["mapped_rows"] + sum(report["skipped"].values())
    assert (report["events"], report["invalid"]) == (6, 3)
    assert main(["import", "ga4", str(src), "--out", str(tmp_path / "e.txt")]) == 2
    assert "parquet, .jsonl or .csv" in capsys.readouterr().err


def test_cli_import_table_names_what_is_lost(tmp_path, capsys):
    src = write(tmp_path / "e.json", [row("purchase", uid="U1", items=shelf(2, added=None),
                                          ecommerce={"transaction_id": "T1", "purchase_revenue": 9.5})])
    assert main(["import", "ga4", str(src), "--out", str(tmp_path / "e.jsonl")]) == 0
    shown = capsys.readouterr().out
    assert "ecommerce.purchase_revenue" in shown and "Lost" in shown


def test_validate_and_send_given_a_ga4_export_say_which_import_to_run(tmp_path, capsys):
    src = write(tmp_path / "events.jsonl", [row("page_view")] * 3)
    assert main(["validate", str(src)]) == 1
    assert "adrop-kit import ga4" in capsys.readouterr().out
    assert main(["send", str(src), "--dry-run"]) == 1
    assert "adrop-kit import ga4" in capsys.readouterr().out
    bq = write(tmp_path / "events_20201101.json", [row("page_view")] * 3)  # BigQuery's NDJSON named .json
    assert main(["validate", str(bq)]) == 1  # read as the JSONL it is, and said what it looks like
    assert "adrop-kit import ga4" in capsys.readouterr().out
    assert any("import ga4" in n for n in adrop_kit.validate_events(src).notes)


def test_the_guides_python_runs_and_its_toml_is_a_valid_mapping(tmp_path, capsys):
    import re

    guide = (Path(__file__).resolve().parent.parent / "docs" / "guide" / "importing.md").read_text(encoding="utf-8")
    exec(compile(re.findall(r"```python\n(.*?)```", guide, re.S)[0], "importing.md", "exec"), {})
    assert "'page_id': '/p/42'" in capsys.readouterr().out
    assert parse_mapping(re.findall(r"```toml\n(.*?)```", guide, re.S)[0]).rules[0].to == "page_view"


def _hostile_rows():
    from hypothesis import strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
                        st.sampled_from(["(not set)", "1604188800123456", "IOS", "", "https://a.example/x?y"]))
    values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                          max_leaves=12)
    names = st.sampled_from(["page_view", "add_to_cart", "view_item", "purchase", "session_start", "x", ""])
    keys = st.sampled_from(["event_name", "event_timestamp", "event_params", "items", "ecommerce", "platform",
                            "user_id", "user_pseudo_id", "device"])
    row = st.fixed_dictionaries({"event_name": st.one_of(names, values)},
                                optional={"event_params": st.lists(st.fixed_dictionaries(
                                    {"key": st.one_of(st.sampled_from(["page_location", "currency", "form_id"]),
                                                      values),
                                     "value": values}), max_size=4),
                                    "items": st.one_of(values, st.lists(st.dictionaries(
                                        st.sampled_from(["item_id", "price", "quantity", "item_brand"]), values),
                                        max_size=13))}) | st.dictionaries(keys, values)
    return st.lists(st.one_of(row, values), max_size=12)


def test_hostile_rows_never_break_the_import_and_every_row_is_accounted_for(tmp_path):
    from conftest import examples
    from hypothesis import HealthCheck, given, settings

    from adrop_kit.io.importers.engine import map_rows

    @settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_hostile_rows())
    def check(rows):
        events, tally = map_rows(rows, default_mapping("ga4"))
        assert tally.rows == len(rows) == tally.mapped_rows + sum(tally.skipped.values())
        assert tally.events == len(events) == sum(tally.by_event.values())
        assert all(isinstance(e["eventName"], str) for e in events)

    check()


def test_on_hostile_rows_invalid_is_still_what_validate_finds(tmp_path_factory):
    from conftest import examples
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_hostile_rows())
    def check(rows):
        d = tmp_path_factory.mktemp("hostile")
        src = d / "events.jsonl"
        src.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in rows))
        _, report = adrop_kit.importers.ga4(src, out=d / "out.jsonl")
        if report.events:
            assert adrop_kit.validate_events(d / "out.jsonl").invalid == report.invalid

    check()


@pytest.mark.parametrize("name", ["events.jsonl", "events_20201101.json"])
def test_newline_delimited_rows_whose_first_is_an_array_are_rows_not_a_json_array(tmp_path, name):
    src = tmp_path / name
    src.write_text("[1, 2]\n" + json.dumps(row("session_start", platform="IOS")) + "\n", encoding="utf-8")
    _, report = adrop_kit.importers.ga4(src)
    assert (report.rows, report.events, report.skipped) == (2, 1, {"(not a JSON object)": 1})


def test_a_json_array_export_is_read_whole(tmp_path):
    src = tmp_path / "events.json"
    src.write_text(json.dumps([row("session_start", platform="IOS"), row("scroll")], indent=2), encoding="utf-8")
    _, report = adrop_kit.importers.ga4(src)
    assert (report.rows, report.events) == (2, 1)
