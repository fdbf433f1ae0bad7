"""Importing Segment / RudderStack calls: track calls with the e-commerce v2 names, page and screen
calls, identify calls (no event), userId else anonymousId, JSONL and JSON arrays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import adrop_kit
from adrop_kit.cli import main


def call(kind: str, event: str | None = None, *, user: str | None = None, anon: str = "anon-1",
         ts: str = "2026-11-30T09:15:02.123456+09:00", props: dict | None = None, **more: Any) -> dict[str, Any]:
    c = {"type": kind, "messageId": f"m-{event or kind}", "anonymousId": anon, "userId": user, "timestamp": ts,
         "context": {"library": {"name": "analytics-ios"}, "device": {"type": "ios"}}, "properties": props or {},
         **more}
    if event is not None:
        c["event"] = event
    return c


PRODUCTS = [{"product_id": "P1", "sku": "S1", "name": "Cap", "category": "Hats", "brand": "Acme", "price": 19.99,
             "quantity": 1, "variant": "blue"},
            {"sku": "S2", "name": "Scarf", "price": 25, "quantity": 2}]

CALLS = [
    call("track", "Product Viewed", props={"product_id": "P1", "name": "Cap", "price": 19.99, "currency": "USD"}),
    call("track", "Product Added", user="u-7", props={"product_id": "P1", "sku": "S1", "price": 19.99, "quantity": 2,
                                                     "currency": "usd"}),
    call("track", "Product Added to Wishlist", props={"sku": "S9", "name": "Gloves"}),
    call("track", "Checkout Started", props={"order_id": "O1", "currency": "USD", "products": PRODUCTS}),
    call("track", "Order Completed", user="u-7", props={"order_id": "O1", "total": 64.99, "revenue": 59.99,
                                                       "tax": 5, "currency": "USD", "products": PRODUCTS}),
    call("page", None, name="Home", props={"path": "/", "url": "https://shop.example/", "title": "Shop"}),
    call("screen", None, name="Cart"),
    call("track", "Application Opened", props={"version": "3.1"}),
    call("track", "Signed Up", user="u-8", props={"type": "google"}),
    call("track", "Push Notification Tapped", props={"campaign": {"id": "c-5", "name": "Black Friday"}}),
    call("identify", None, user="u-8", traits={"email": "x@example.com"}),
    call("track", "Coupon Applied", props={"coupon_id": "BF"}),
]


def imported(tmp_path: Path, calls: list[Any], *, as_array: bool = False, mapping: Any = None):
    src = tmp_path / ("calls.json" if as_array else "calls.jsonl")
    src.write_text(json.dumps(calls) if as_array else "".join(json.dumps(c) + "\n" for c in calls), encoding="utf-8")
    return adrop_kit.importers.segment(src, mapping)


def test_ecommerce_v2_calls_become_adrop_commerce_events(tmp_path):
    frame, report = imported(tmp_path, CALLS)
    evs = [{k: v for k, v in e.items() if v is not None} for e in frame.to_dicts()]
    assert [e["eventName"] for e in evs] == ["view_item", "add_to_cart", "add_to_wishlist", "begin_checkout",
                                             "purchase", "page_view", "page_view", "app_open", "sign_up",
                                             "push_clicks"]
    assert evs[0]["item_id"] == "P1" and evs[0]["price"] == 19.99
    assert (evs[1]["uid"], evs[1]["quantity"], evs[1]["currency"]) == ("u-7", 2, "usd")
    assert evs[2]["item_id"] == "S9"  # sku when there is no product_id
    assert json.loads(evs[4]["items"]) == [
        {"item_id": "P1", "item_name": "Cap", "item_category": "Hats", "brand": "Acme", "price": 19.99, "quantity": 1},
        {"item_id": "S2", "item_name": "Scarf", "price": 25, "quantity": 2}]
    assert evs[4]["tx_id"] == "O1"
    assert (evs[5]["page_id"], evs[5]["page_url"], evs[6]["page_id"]) == ("/", "https://shop.example/", "Cart")
    assert evs[8]["method"] == "google" and evs[9]["campaign_id"] == "c-5"
    assert all(e["platform"] == "ios" for e in evs) and evs[0]["uid"] == "anon-1"
    assert report.skipped == {"identify": 1, "Coupon Applied": 1}
    assert report.rows == report.mapped_rows + sum(report.skipped.values()) == len(CALLS)


def test_iso_timestamps_become_utc_with_the_microseconds_kept(tmp_path):
    frame, _ = imported(tmp_path, CALLS[:1])
    assert frame["ts"][0].isoformat() == "2026-11-30T00:15:02.123456+00:00"


def test_what_no_adrop_field_carries_is_reported_lost(tmp_path):
    _, report = imported(tmp_path, CALLS)
    for field in ("properties.total", "properties.revenue", "properties.tax", "properties.products.variant",
                  "properties.title", "properties.version"):
        assert report.lost.get(field), field
    assert report.lost["properties.order_id"] == 1  # Checkout Started's (begin_checkout has no tx_id)
    assert report.lost["properties.currency"] == 1  # Product Viewed's: view_item has no currency


def test_a_json_array_gives_the_same_events_as_jsonl(tmp_path):
    a, ra = imported(tmp_path, CALLS, as_array=True)
    b, rb = imported(tmp_path, CALLS)
    assert a.drop("_source").to_dicts() == b.drop("_source").to_dicts()
    assert ra.by_event == rb.by_event


def test_unmapped_calls_kept_as_custom_events_with_their_properties(tmp_path):
    path = tmp_path / "seg.toml"
    assert main(["import", "segment", "--write-mapping", str(path)]) == 0
    path.write_text(path.read_text().replace('unmapped = "skip"', 'unmapped = "keep"'), encoding="utf-8")
    frame, report = imported(tmp_path, CALLS[-1:], mapping=path)
    assert frame.select("eventName", "coupon_id").to_dicts() == [{"eventName": "Coupon Applied", "coupon_id": "BF"}]


def test_cli_import_segment_and_validate_agree(tmp_path, capsys):
    src = tmp_path / "calls.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in CALLS), encoding="utf-8")
    out = tmp_path / "events.csv"
    code = main(["import", "segment", str(src), "--out", str(out), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    checked = adrop_kit.validate_events(out)
    assert checked.rows == report["events"] == 10
    assert checked.invalid == report["invalid"]
    assert code == (1 if report["invalid"] else 0)


def test_validate_given_segment_calls_says_to_import_them(tmp_path, capsys):
    src = tmp_path / "calls.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in CALLS * 2), encoding="utf-8")
    main(["validate", str(src)])
    assert "adrop-kit import segment" in capsys.readouterr().out
