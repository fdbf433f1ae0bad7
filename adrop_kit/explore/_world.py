"""The little world the synthetic users live in, for `synth`: the shop and its traffic's vocabulary.

A fixed catalogue of products with KRW and USD prices and a long-tailed popularity, the lookup
tables of parameters that go together (product, page, element, content, form), the personal
strings planted for W106 and how often optional parameters appear; the column builders `Str`
(codes into a vocabulary) and `Num` (float64 with NaN as null); `Ctx`, the per-row facts a
generator draws from; and `clean_values`, the clean values of one parameter for every row.
Private to `adrop_kit.explore`: only `synth` imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from adrop_kit.spec.rules import TX_PARAM

DTYPES: dict[str, pl.DataType] = {"string": pl.String(), "number": pl.Float64(),
                                  "integer": pl.Int64(), "boolean": pl.Boolean()}

CATEGORIES = {"Apparel": ("T-shirt", "Hoodie", "Denim Jacket", "Knit Cardigan"), "Sports": ("Yoga Mat", "Cap"),
              "Beauty": ("Cushion Foundation", "Sun Cream", "Lip Tint", "Toner"), "Home": ("Mug", "Blanket"),
              "Electronics": ("Earbuds", "Power Bank", "Smart Watch"), "Shoes": ("Sneakers", "Loafers"),
              "Food": ("Green Tea", "Kimchi Set", "Coffee Beans")}
BRANDS = ("Lumo", "Nara", "Haneul", "Pico", "Orbit", "Maru", "Sora", "Bada", "Dal", "Kiwi")
ADJECTIVES = ("Classic", "Soft", "Daily", "Premium", "Mini", "Light", "Urban")
SITE = "https://shop.example.com/"


def shop(size: int = 600) -> tuple[tuple[tuple[str, ...], ...], np.ndarray, np.ndarray]:
    """The shop's products, fixed (a seed varies the traffic, not the shop): rows, KRW and USD prices."""
    rng, cats = np.random.default_rng(2026), list(CATEGORIES)
    picks = zip(*(rng.integers(0, m, size).tolist() for m in (len(cats), len(BRANDS), len(ADJECTIVES), 12)),
                strict=True)
    nouns = [CATEGORIES[c] for c in cats]
    rows = tuple((f"SKU-{i:05d}", f"{BRANDS[b]} {ADJECTIVES[a]} {nouns[c][k % len(nouns[c])]}", cats[c], BRANDS[b])
                 for i, (c, b, a, k) in enumerate(picks, 1))
    krw = np.clip(np.round(rng.lognormal(np.log(30_000), 0.9, size), -2), 1_000, 2_000_000)
    return rows, krw, np.floor(krw / 1_350) + 0.99


PRODUCTS, KRW, USD = shop()
POPULAR = np.cumsum(1.0 / np.arange(8.0, 8.0 + len(PRODUCTS)))  # a long tail: low indices sell more
POPULAR /= POPULAR[-1]
TABLES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {  # parameters that go together
    "product": (("item_id", "item_name", "item_category", "brand"), PRODUCTS),
    "page": (("page_id", "page_category", "page_url"),
             tuple((p, c, SITE + u) for p, c, u in (
                 ("home", "main", ""), ("category", "shopping", "category"), ("search", "shopping", "search"),
                 ("event", "promotion", "event"), ("best", "shopping", "best"), ("new", "shopping", "new"),
                 ("mypage", "account", "mypage")))),
    "element": (("element_id", "element_type", "target_url"),
                tuple((e, t, SITE + u) for e, t, u in (
                    ("btn_add_cart", "button", "cart"), ("btn_search", "button", "search"),
                    ("banner_main", "banner", "event/winter-sale"), ("banner_event", "banner", "event"),
                    ("tab_best", "tab", "best"), ("link_notice", "link", "notice"),
                    ("btn_coupon", "button", "coupons")))),
    "content": (("content_id", "content_name", "content_type"),
                tuple((f"c{i:04d}", f"{t.title()} #{i}", t) for i, t in
                      enumerate(("article", "video", "review", "lookbook") * 60))),
    "form": (("form_id", "form_name", "form_type", "form_destination"),
             (("form_consult", "1:1 consultation", "consultation", "crm"),
              ("form_newsletter", "Newsletter", "newsletter", "email"),
              ("form_quote", "Bulk order quote", "quote", "sales"), ("form_event", "Event entry", "event", "crm"))),
}
COLUMN_OF = {name: (table, j) for table, (names, _) in TABLES.items() for j, name in enumerate(names)}
METHODS = ("email", "kakao", "naver", "google", "apple")
PERSONAL = ("someone@example.com", "kim.minji@example.com", "010-1234-5678", "+82 10-9876-5432")
OPTIONAL_P = {"brand": 0.85, "item_category": 0.95, "item_name": 0.95, "page_url": 0.8,
              "target_url": 0.7, "value": 0.8, "currency": 0.95, "form_destination": 0.6, "price": 0.9}
ITEM_P = {"item_name": 0.97, "item_category": 0.95, "brand": 0.85, "price": 1.0, "quantity": 1.0}


@dataclass
class Str:
    """A string column as codes into a vocabulary; -1 is null."""

    vocab: list[str]
    codes: np.ndarray

    def __post_init__(self) -> None:
        self.codes = np.array(self.codes, dtype=np.int64)  # a copy: planting must not touch the source

    def code(self, text: str) -> int:
        if text not in self.vocab:
            self.vocab.append(text)
        return self.vocab.index(text)

    def null(self, rows: np.ndarray) -> None:
        self.codes[rows] = -1

    def series(self, name: str) -> pl.Series:
        lookup = pl.Series(name, [*self.vocab, None], dtype=pl.String)
        return lookup.gather(pl.Series(np.where(self.codes < 0, len(self.vocab), self.codes).astype(np.uint32)))


@dataclass
class Num:
    """A numeric or boolean column as float64, NaN is null."""

    values: np.ndarray
    dtype: pl.DataType

    def null(self, rows: np.ndarray) -> None:
        self.values[rows] = np.nan

    def series(self, name: str) -> pl.Series:
        return pl.Series(name, self.values, nan_to_null=True).cast(self.dtype)


def draw_products(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.minimum(POPULAR.searchsorted(rng.random(size), side="right"), len(PRODUCTS) - 1)


class Ctx:
    """Per-row facts the parameter generators draw from (a row of the frame, or one item)."""

    def __init__(self, rng: np.random.Generator, product: np.ndarray, usd: np.ndarray, qty: np.ndarray,
                 session: np.ndarray | None = None, entry: np.ndarray | None = None,
                 basket: np.ndarray | None = None) -> None:
        self.rng, self.product, self.usd, self.qty = rng, product, usd, qty
        self.n = product.size
        self.session = np.zeros(self.n, np.int64) if session is None else session
        self.entry = np.zeros(self.n, bool) if entry is None else entry
        self.basket = np.ones(self.n, bool) if basket is None else basket  # value = price * quantity here

    def pick(self, k: int) -> np.ndarray:
        return self.rng.integers(0, k, self.n)

    @cached_property
    def price(self) -> np.ndarray:
        return np.where(self.usd, USD[self.product], KRW[self.product])

    @cached_property
    def row(self) -> dict[str, np.ndarray]:
        """The row of each lookup table an event uses (one form per session, so a lead matches its form)."""
        return {"product": self.product, "page": np.where(self.entry, 0, 1 + self.pick(len(TABLES["page"][1]) - 1)),
                "element": self.pick(len(TABLES["element"][1])), "content": self.pick(len(TABLES["content"][1])),
                "form": (self.session * 2_654_435_761 % 1_000_003) % len(TABLES["form"][1])}

    def value(self) -> np.ndarray:  # a basket's worth, or what a lead is worth
        return np.where(self.basket, self.price * self.qty, np.where(self.usd, 25.0, 30_000.0) * (1 + self.pick(3)))


STRINGS: dict[str, Callable[[Ctx], Str]] = {
    "currency": lambda c: Str(["KRW", "USD"], c.usd.astype(np.int64)),
    "method": lambda c: Str(list(METHODS), c.rng.choice(5, c.n, p=(0.3, 0.3, 0.15, 0.15, 0.1))),
    "campaign_id": lambda c: Str([f"push_{i:03d}" for i in range(1, 31)], c.pick(30)),
}


def clean_values(name: str, ptype: str, ctx: Ctx, listed: np.ndarray | None = None) -> Str | Num:
    """Clean values of one parameter for every row of `ctx`; `listed`: the rows that will carry it."""
    if name == TX_PARAM:  # unique, and made only for the rows that need one
        listed = np.ones(ctx.n, bool) if listed is None else listed
        ids = ctx.rng.choice(90_000_000, int(listed.sum()), replace=False) + 10_000_000
        return Str([f"ORD-{i}" for i in ids.tolist()], np.cumsum(listed) - 1)
    if name in STRINGS:
        return STRINGS[name](ctx)
    if name in COLUMN_OF:
        table, j = COLUMN_OF[name]
        return Str([row[j] for row in TABLES[table][1]], ctx.row[table])
    if ptype == "string":  # a parameter only a tracking plan knows
        return Str([f"{name}_{i}" for i in range(1, 21)], ctx.pick(20))
    if name == "price":
        values = ctx.price
    elif name == "quantity":
        values = ctx.qty
    elif name == "value":
        values = ctx.value()
    else:  # a number, integer or boolean only a tracking plan knows
        values = ctx.pick(2) if ptype == "boolean" else 1 + ctx.pick(999 if ptype == "number" else 5)
    return Num(np.array(values, dtype=np.float64), DTYPES[ptype])
