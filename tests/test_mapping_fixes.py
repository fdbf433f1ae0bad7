"""The same mapping for any dataset: `validate`/`send --mapping FILE` apply renames and value fixes
before checking, and the report says what each rule changed."""

from __future__ import annotations

import json

import pytest

import adrop_kit
from adrop_kit.cli import main
from adrop_kit.errors import PlanError
from adrop_kit.io.importers.mapping import parse_mapping

FIXES = '''source = "adrop"
[rename]
Purchase = "purchase"
"add-to-cart" = "add_to_cart"
[fix.currency]
"₩" = "KRW"
[case]
platform = "lower"
currency = "upper"
'''

ROWS = [
    {"uid": "a", "eventName": "Purchase", "platform": "iOS", "currency": "krw", "tx_id": "T1",
     "items": [{"item_id": "x"}]},
    {"uid": "b", "eventName": "add-to-cart", "platform": "Android", "item_id": "i", "price": 1, "quantity": 1,
     "currency": "₩"},
    {"uid": "c", "eventName": "app_open", "platform": "web"},
]


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "events.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    mapping = tmp_path / "fixes.toml"
    mapping.write_text(FIXES, encoding="utf-8")
    return data, mapping


@pytest.mark.parametrize("stream", [False, True])
def test_fixes_apply_before_checking_and_the_report_counts_each_rule(files, stream):
    data, mapping = files
    assert adrop_kit.validate_events(data).invalid == 2  # Purchase, add-to-cart, iOS, krw as they are
    report = adrop_kit.validate_events(data, mapping=mapping, stream=stream)
    assert (report.invalid, report.warned) == (0, 0)
    notes = "\n".join(report.notes)
    for said in ("rename Purchase -> purchase changed 1 row", "rename add-to-cart -> add_to_cart changed 1 row",
                 "fix currency: ₩ -> KRW changed 1 row", "lower-case platform changed 2 rows",
                 "upper-case currency changed 1 row"):
        assert said in notes


def test_send_sends_the_fixed_events(files, adrop_server, adrop_sender):
    data, mapping = files
    report = adrop_sender.send_all(data, mapping=mapping)
    assert report.delivered == 3
    stored = sorted((e["payload"]["eventName"], e["payload"].get("platform"), e["payload"].get("currency"))
                    for e in adrop_server.events())
    assert stored == [("add_to_cart", "android", "KRW"), ("app_open", "web", None), ("purchase", "ios", "KRW")]
    assert any("rename Purchase -> purchase" in n for n in report.notes)


def test_cli_validate_with_a_mapping_says_what_it_changed(files, capsys):
    data, mapping = files
    assert main(["validate", str(data), "--mapping", str(mapping)]) == 0
    assert "lower-case platform changed 2 rows" in capsys.readouterr().out
    bad = mapping.with_name("bad.toml")
    bad.write_text(FIXES.replace('platform = "lower"', 'platform = "title"'), encoding="utf-8")
    assert main(["validate", str(data), "--mapping", str(bad)]) == 2
    assert f"{bad}:8: case.platform = 'title'" in capsys.readouterr().err


def test_a_fixes_file_holds_only_fixes():
    with pytest.raises(PlanError, match="only \\[rename\\]"):
        parse_mapping('uid = "user_id"\n' + FIXES)


def test_an_import_mapping_may_carry_fixes_too(tmp_path):
    from adrop_kit.validate.importers import DEFAULTS

    src = tmp_path / "calls.jsonl"
    src.write_text(json.dumps({"type": "track", "event": "Order Completed", "userId": "u", "messageId": "m",
                               "properties": {"order_id": "O1", "currency": "krw",
                                              "products": [{"product_id": "p"}]}}) + "\n", encoding="utf-8")
    mapping = tmp_path / "seg.toml"
    mapping.write_text(DEFAULTS["segment"] + '\n[case]\ncurrency = "upper"\n', encoding="utf-8")
    frame, report = adrop_kit.importers.segment(src, mapping)
    assert frame["currency"].to_list() == ["KRW"] and report.fixed == {"upper-case currency": 1}
