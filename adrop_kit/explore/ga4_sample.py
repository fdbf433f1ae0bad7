"""A synthetic GA4 / Firebase BigQuery export, shaped as Google's schema and real exported rows are:
nested `event_params` whose values use different slots for one key, INT64 written as strings (as
BigQuery's JSON export does), placeholders, `view_item` / `add_to_cart` rows listing the whole
screen of 12 items with only the added one's `quantity` set, web and app platforms, and events
Adrop has no counterpart for (`user_engagement`, `scroll`, `first_visit`).

For demos (the import notebook), benchmarks and tests; not real data.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

SLOTS = ("string_value", "int_value", "float_value", "double_value")
_MIX = (("page_view", 24), ("screen_view", 12), ("user_engagement", 14), ("session_start", 8), ("scroll", 6),
        ("view_item", 10), ("add_to_cart", 5), ("begin_checkout", 2), ("purchase", 2), ("first_visit", 2),
        ("sign_up", 1), ("notification_open", 2), ("select_content", 3), ("click", 3), ("form_start", 1),
        ("generate_lead", 1), ("add_to_wishlist", 1))


def _param(key: str, value: Any, slot: str) -> dict[str, Any]:
    return {"key": key, "value": {s: (value if s == slot else None) for s in SLOTS}}


def ga4_rows(n: int, *, seed: int = 0, start_us: int = 1_733_011_200_000_000) -> list[dict[str, Any]]:
    """`n` export rows, in time order."""
    rng = random.Random(seed)
    names = [name for name, weight in _MIX for _ in range(weight)]
    users = [(f"{rng.randrange(10**9)}.{rng.randrange(10**9)}", f"U{i}" if rng.random() < 0.3 else None,
              rng.choice(("WEB", "WEB", "ANDROID", "IOS"))) for i in range(max(1, n // 20))]
    catalog = [{"item_id": f"SKU{i:04d}", "item_name": f"Item {i}", "item_brand": rng.choice(("Acme", "(not set)")),
                "item_variant": rng.choice(("red", "blue", "(not set)")), "item_category": "Shoes",
                "item_category2": rng.choice(("Running", "Trail")), "price": float(rng.choice((19, 29.9, 59, 129))),
                "quantity": None} for i in range(60)]
    rows = []
    ts = start_us
    for _ in range(n):
        ts += rng.randrange(1, 5_000_000)
        pseudo, uid, platform = rng.choice(users)
        name = rng.choice(names)
        params = [_param("ga_session_id", str(rng.randrange(10**9)), "int_value"),
                  _param("engagement_time_msec", str(rng.randrange(100, 60_000)), "int_value"),
                  _param("session_engaged", *(("1", "string_value") if rng.random() < 0.5 else ("1", "int_value")))]
        if platform == "WEB":
            path = rng.choice(("/", "/shoes", "/p/42", "/cart", "(not set)"))
            params.append(_param("page_location", path if path == "(not set)" else f"https://shop.example{path}?utm=x",
                                 "string_value"))
        else:
            params.append(_param("firebase_screen", rng.choice(("Home", "Product", "Cart")), "string_value"))
        items: list[dict[str, Any]] = []
        ecommerce: dict[str, Any] = {"transaction_id": "(not set)", "purchase_revenue": None}
        if name in ("view_item", "add_to_cart", "add_to_wishlist"):
            shown = rng.sample(catalog, 12 if rng.random() < 0.6 else 1)
            items = [dict(it) for it in shown]
            if name == "add_to_cart" and rng.random() < 0.85:
                rng.choice(items)["quantity"] = str(rng.randrange(1, 3))
            params.append(_param("currency", "KRW", "string_value"))
        elif name in ("begin_checkout", "purchase"):
            items = [dict(it, quantity=str(rng.randrange(1, 3))) for it in rng.sample(catalog, rng.randrange(1, 4))]
            params.append(_param("currency", rng.choice(("KRW", "USD")), "string_value"))
            if name == "purchase":
                revenue = sum(float(it["price"]) * int(it["quantity"]) for it in items)
                ecommerce = {"transaction_id": f"T{rng.randrange(10**8)}", "purchase_revenue": revenue,
                             "tax_value": round(revenue * 0.1, 2), "shipping_value": 3.0}
        elif name == "sign_up":
            params.append(_param("method", rng.choice(("email", "kakao", "google")), "string_value"))
        elif name == "notification_open":
            params.append(_param("message_id", str(rng.randrange(10**6)), "int_value"))
        elif name == "select_content":
            params += [_param("content_type", "article", "string_value"),
                       _param("item_id", f"A{rng.randrange(100)}", "string_value")]
        elif name == "click":
            params += [_param("link_url", "https://partner.example/x", "string_value"),
                       _param("outbound", "true", "string_value")]
        elif name in ("form_start", "generate_lead"):
            params.append(_param("form_id", f"F{rng.randrange(5)}", "string_value"))
        row: dict[str, Any] = {"event_date": "20241201", "event_timestamp": str(ts), "event_name": name,
                               "event_params": params, "user_id": uid, "user_pseudo_id": pseudo, "platform": platform,
                               "device": {"category": "mobile" if platform != "WEB" else "desktop"},
                               "geo": {"country": "South Korea", "city": "(not set)"}, "items": items,
                               "ecommerce": ecommerce}
        rows.append(row)
    return rows


def write_ga4_sample(path: str | Path, n: int, *, seed: int = 0) -> Path:
    """Write `n` export rows as BigQuery's newline-delimited JSON export does."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as fh:
        for row in ga4_rows(n, seed=seed):
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")
    return p


__all__ = ["ga4_rows", "write_ga4_sample"]
