"""Synthetic Adrop event datasets: seeded, realistic, with planted mistakes whose truth is known.

`sample_frame(n)` simulates users moving through sessions (entry, browsing, the commerce
funnel view_item → add_to_cart → begin_checkout → purchase with drop-off, lead forms,
sign-ups, pushes) on web, android and ios, in KRW and some USD, and returns a typed polars
DataFrame with one column per catalog parameter. A fraction of rows (`error_rate`) breaks
exactly one error rule and a smaller fraction (`warning_rate`) trips exactly one warning;
the column `_truth` names the planted rule (null on clean rows). Clean rows are valid with
no warnings under `validate_event`, so the truth is exact and benchmarks can check answers.

Everything is vectorised with numpy (about a second per million rows); the only Python
loops run over the catalog or over the few duplicated `tx_id`s, never over the bulk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl

from .catalog import ITEMS, PLATFORMS, Catalog, resolve
from .rules import CURRENCY_PARAM, PURCHASE_EVENT, TX_PARAM, VALUE_TRIPLE

TRUTH = "_truth"
TS = "ts"
EXTRA = (TS, TRUTH)
ERROR_RULES = ("E002", "E003", "E004", "E005", "E007", "E008")
WARNING_RULES = ("W103", "W104", "W105", "W106", "W107")
_RULES = (*ERROR_RULES, *WARNING_RULES)  # truth code k (1-based) is _RULES[k - 1]

DTYPES: dict[str, pl.DataType] = {"string": pl.String(), "number": pl.Float64(),
                                  "integer": pl.Int64(), "boolean": pl.Boolean()}
_START = datetime(2026, 11, 1)
_DAY_US = 86_400 * 1_000_000

# -- the little world the users live in ----------------------------------------------------
_CATEGORIES = {"Apparel": ("T-shirt", "Hoodie", "Denim Jacket", "Knit Cardigan"),
               "Shoes": ("Running Shoes", "Sneakers", "Loafers"),
               "Beauty": ("Cushion Foundation", "Sun Cream", "Lip Tint", "Toner"),
               "Electronics": ("Earbuds", "Power Bank", "Smart Watch"),
               "Home": ("Mug", "Blanket", "Desk Lamp"),
               "Food": ("Green Tea", "Kimchi Set", "Coffee Beans"),
               "Sports": ("Yoga Mat", "Water Bottle")}
_BRANDS = ("Lumo", "Nara", "Haneul", "Pico", "Orbit", "Maru", "Sora", "Bada", "Dal", "Kiwi")
_ADJECTIVES = ("Classic", "Soft", "Daily", "Premium", "Mini", "Light", "Urban")
_PAGES = (("home", "main", ""), ("category", "shopping", "category"), ("search", "shopping", "search"),
          ("event", "promotion", "event"), ("best", "shopping", "best"), ("new", "shopping", "new"),
          ("mypage", "account", "mypage"))
_ELEMENTS = (("btn_add_cart", "button", "cart"), ("btn_search", "button", "search"),
             ("banner_main", "banner", "event/winter-sale"), ("banner_event", "banner", "event"),
             ("tab_best", "tab", "best"), ("link_notice", "link", "notice"), ("btn_coupon", "button", "coupons"))
_CONTENT_TYPES = ("article", "video", "review", "lookbook")
_FORMS = (("form_consult", "1:1 consultation", "consultation", "crm"),
          ("form_newsletter", "Newsletter", "newsletter", "email"),
          ("form_quote", "Bulk order quote", "quote", "sales"),
          ("form_event", "Event entry", "event", "crm"))
_METHODS = ("email", "kakao", "naver", "google", "apple")
_SITE = "https://shop.example.com/"
_PERSONAL = ("someone@example.com", "kim.minji@example.com", "010-1234-5678", "+82 10-9876-5432")
_OPTIONAL_P = {"brand": 0.85, "item_category": 0.95, "item_name": 0.95, "page_url": 0.8,
               "target_url": 0.7, "value": 0.8, "currency": 0.95, "form_destination": 0.6, "price": 0.9}
_ITEM_P = {"item_name": 0.97, "item_category": 0.95, "brand": 0.85, "price": 1.0, "quantity": 1.0}


@dataclass
class _Str:
    """A string column as codes into a vocabulary; -1 is null."""

    vocab: list[str]
    codes: np.ndarray

    def __post_init__(self) -> None:
        self.codes = np.array(self.codes, dtype=np.int64)  # a copy: planting must not touch the source

    def code(self, text: str) -> int:
        if text not in self.vocab:
            self.vocab.append(text)
        return self.vocab.index(text)

    def series(self, name: str) -> pl.Series:
        lookup = pl.Series(name, [*self.vocab, None], dtype=pl.String)
        return lookup.gather(pl.Series(np.where(self.codes < 0, len(self.vocab), self.codes).astype(np.uint32)))


@dataclass
class _Products:
    ids: list[str]
    names: list[str]
    category: np.ndarray
    brand: np.ndarray
    krw: np.ndarray
    usd: np.ndarray
    cdf: np.ndarray

    @classmethod
    def make(cls, rng: np.random.Generator, size: int = 600) -> _Products:
        cats = list(_CATEGORIES)
        category = rng.integers(0, len(cats), size)
        brand = rng.integers(0, len(_BRANDS), size)
        adj = rng.integers(0, len(_ADJECTIVES), size)
        noun = rng.integers(0, 1 << 30, size)
        names = [f"{_BRANDS[b]} {_ADJECTIVES[a]} {_CATEGORIES[cats[c]][k % len(_CATEGORIES[cats[c]])]}"
                 for b, a, c, k in zip(brand.tolist(), adj.tolist(), category.tolist(), noun.tolist(), strict=True)]
        krw = np.clip(np.round(rng.lognormal(np.log(30_000), 0.9, size), -2), 1_000, 2_000_000)
        usd = np.floor(krw / 1_350) + 0.99
        weight = 1.0 / (np.arange(size) + 8.0)
        return cls([f"SKU-{i:05d}" for i in range(1, size + 1)], names, category, brand, krw, usd,
                   np.cumsum(weight) / weight.sum())

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Product indices, popular products (low index) more often."""
        return np.minimum(self.cdf.searchsorted(rng.random(size), side="right"), self.cdf.size - 1)


class _Ctx:
    """Per-row facts the parameter generators draw from (a row of the frame, or one item)."""

    def __init__(self, rng: np.random.Generator, products: _Products, product: np.ndarray, usd: np.ndarray,
                 qty: np.ndarray, session: np.ndarray | None = None, entry: np.ndarray | None = None,
                 lead_value: bool = False) -> None:
        self.rng, self.products, self.product, self.usd, self.qty = rng, products, product, usd, qty
        self.n = product.size
        self.session = np.zeros(self.n, np.int64) if session is None else session
        self.entry = np.zeros(self.n, bool) if entry is None else entry
        self.lead_value = lead_value

    def pick(self, k: int) -> np.ndarray:
        return self.rng.integers(0, k, self.n)

    @cached_property
    def price(self) -> np.ndarray:
        return np.where(self.usd, self.products.usd[self.product], self.products.krw[self.product])

    @cached_property
    def page(self) -> np.ndarray:
        return np.where(self.entry, 0, 1 + self.pick(len(_PAGES) - 1))

    @cached_property
    def element(self) -> np.ndarray:
        return self.pick(len(_ELEMENTS))

    @cached_property
    def content(self) -> np.ndarray:
        return self.pick(240)

    @cached_property
    def form(self) -> np.ndarray:  # one form per session, so generate_lead matches begin_lead_form
        return (self.session * 2_654_435_761 % 1_000_003) % len(_FORMS)

    def value(self) -> np.ndarray:
        if not self.lead_value:
            return self.price * self.qty
        return np.where(self.usd, 25.0, 30_000.0) * (1 + self.pick(3))


_STRINGS: dict[str, Callable[[_Ctx], _Str]] = {
    "item_id": lambda c: _Str(list(c.products.ids), c.product),
    "item_name": lambda c: _Str(list(c.products.names), c.product),
    "item_category": lambda c: _Str(list(_CATEGORIES), c.products.category[c.product]),
    "brand": lambda c: _Str(list(_BRANDS), c.products.brand[c.product]),
    "currency": lambda c: _Str(["KRW", "USD"], c.usd.astype(np.int64)),
    "method": lambda c: _Str(list(_METHODS), c.rng.choice(5, c.n, p=(0.3, 0.3, 0.15, 0.15, 0.1))),
    "campaign_id": lambda c: _Str([f"push_{i:03d}" for i in range(1, 31)], c.pick(30)),
    "page_id": lambda c: _Str([p[0] for p in _PAGES], c.page),
    "page_category": lambda c: _Str([p[1] for p in _PAGES], c.page),
    "page_url": lambda c: _Str([_SITE + p[2] for p in _PAGES], c.page),
    "element_id": lambda c: _Str([e[0] for e in _ELEMENTS], c.element),
    "element_type": lambda c: _Str([e[1] for e in _ELEMENTS], c.element),
    "target_url": lambda c: _Str([_SITE + e[2] for e in _ELEMENTS], c.element),
    "content_id": lambda c: _Str([f"c{i:04d}" for i in range(240)], c.content),
    "content_name": lambda c: _Str([f"{_CONTENT_TYPES[i % 4].title()} #{i}" for i in range(240)], c.content),
    "content_type": lambda c: _Str(list(_CONTENT_TYPES), c.content % 4),
    "form_id": lambda c: _Str([f[0] for f in _FORMS], c.form),
    "form_name": lambda c: _Str([f[1] for f in _FORMS], c.form),
    "form_type": lambda c: _Str([f[2] for f in _FORMS], c.form),
    "form_destination": lambda c: _Str([f[3] for f in _FORMS], c.form),
}


def _values(name: str, ptype: str, ctx: _Ctx, listed: np.ndarray | None = None) -> _Str | np.ndarray:
    """Clean values of one parameter for every row of `ctx` (floats with NaN for null, or codes).

    `listed` marks the rows that will carry it (unique ids are only made for those).
    """
    if name == TX_PARAM:
        listed = np.ones(ctx.n, bool) if listed is None else listed
        ids = ctx.rng.choice(90_000_000, int(listed.sum()), replace=False) + 10_000_000
        return _Str([f"ORD-{i}" for i in ids.tolist()], np.cumsum(listed) - 1)
    if name in _STRINGS:
        return _STRINGS[name](ctx)
    if name == "price":
        return ctx.price.copy()
    if name == "quantity":
        return ctx.qty.astype(np.float64)
    if name == "value":
        return ctx.value()
    if ptype == "string":  # a parameter only a tracking plan knows
        return _Str([f"{name}_{i}" for i in range(1, 21)], ctx.pick(20))
    if ptype == "number":
        return (1 + ctx.pick(999)).astype(np.float64)
    if ptype == "integer":
        return (1 + ctx.pick(5)).astype(np.float64)
    return ctx.pick(2).astype(np.float64)  # boolean


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segment lengths `counts`: each element's segment id and its position in the segment."""
    seg = np.repeat(np.arange(counts.size), counts)
    return seg, np.arange(seg.size) - np.repeat(np.cumsum(counts) - counts, counts)


def _simulate(rng: np.random.Generator, n: int, cat: Catalog, products: _Products) -> dict[str, np.ndarray]:
    """Sessions → events; the first `n` events by time, as per-row arrays."""
    code = {name: i for i, name in enumerate(cat.names)}
    customs = [e.name for e in cat if e.custom]
    n_sessions = max(16, int(n / 5.5) + 16)
    while True:
        s = n_sessions
        n_users = max(1, s // 3)
        user = rng.integers(0, n_users, s)
        platform_u = rng.choice(3, n_users, p=(0.45, 0.35, 0.20))
        usd_u = rng.random(n_users) < 0.08
        start = rng.integers(0, 30 * _DAY_US, s)
        app = platform_u[user] != 0
        by_user = np.lexsort((start, user))
        first = np.ones(s, bool)
        first[by_user[1:]] = user[by_user[1:]] != user[by_user[:-1]]
        n_view = rng.poisson(1.6, s)
        cart = (n_view > 0) & (rng.random(s) < 0.4)
        n_add = np.where(cart, np.minimum(n_view, 1 + rng.poisson(0.35, s)), 0)
        checkout = cart & (rng.random(s) < 0.5)
        lead = rng.random(s) < 0.04
        parts = [("push_clicks", 0, app & (rng.random(s) < 0.12)), ("app_open", 1, app),
                 ("page_view", 1, ~app), ("sign_up", 2, first & (rng.random(s) < 0.3)),
                 ("page_view", 3, rng.poisson(0.8, s)), ("click", 3, rng.poisson(0.7, s)),
                 ("view_content", 3, rng.poisson(0.3, s)), ("view_item", 3, n_view),
                 ("add_to_wishlist", 3, rng.random(s) < 0.06),
                 *[(c, 3, rng.random(s) < 0.03) for c in customs],
                 ("add_to_cart", 4, n_add), ("begin_lead_form", 4, lead),
                 ("generate_lead", 5, lead & (rng.random(s) < 0.5)), ("begin_checkout", 5, checkout),
                 ("purchase", 6, checkout & (rng.random(s) < 0.6))]
        if sum(int(np.sum(c)) for _, _, c in parts) >= n:
            break
        n_sessions *= 2
    blocks, starts, total = [], {}, 0
    for i, (name, stage, counts) in enumerate(parts):
        sess, k = _segments(np.asarray(counts, np.int64))
        starts.setdefault(name, total)
        total += sess.size
        blocks.append((np.full(sess.size, code[name]), sess, k, np.full(sess.size, stage), np.full(sess.size, i)))
    ev, sess, k, stage, part = (np.concatenate(cols) for cols in zip(*blocks, strict=True))
    product = products.draw(rng, total)
    qty = 1 + (rng.random(total) < 0.2) + (rng.random(total) < 0.05)
    view_off, add_off = np.cumsum(n_view) - n_view, np.cumsum(n_add) - n_add
    adds = np.arange(starts["add_to_cart"], starts["add_to_cart"] + int(n_add.sum()))
    product[adds] = product[starts["view_item"] + view_off[sess[adds]] + k[adds]]  # carts hold viewed items

    order = np.argsort((sess << 24) + (stage << 20) + rng.integers(0, 1 << 20, total))  # session, stage, random
    gaps = np.cumsum(1_000_000 + rng.exponential(40e6, total).astype(np.int64))
    new = np.r_[True, sess[order][1:] != sess[order][:-1]]
    first_gap = gaps[np.flatnonzero(new)]
    ts = start[sess[order]] + gaps - np.repeat(first_gap - 1_000_000, np.diff(np.r_[np.flatnonzero(new), total]))
    by_time = np.argsort(ts)[:n]
    rows = order[by_time]
    s_of = sess[rows]
    return {"ev": ev[rows], "session": s_of, "user": user[s_of], "platform": platform_u[user[s_of]],
            "usd": usd_u[user[s_of]], "product": product[rows], "qty": qty[rows], "ts": ts[by_time],
            "entry": (part[rows] == 2), "cart_items": n_add[s_of], "cart_start": starts["add_to_cart"] + add_off[s_of],
            "all_product": product, "all_qty": qty, "n_users": np.array(n_users)}


def _present(rng: np.random.Generator, ev: np.ndarray, cat: Catalog, name: str, probs: dict[str, float]) -> np.ndarray:
    """Rows whose event lists `name`: always when required, else with the parameter's probability."""
    listed = np.array([name in e.param_names for e in cat])[ev]
    optional = np.array([any(p.name == name and not p.required for p in e.params) for e in cat])[ev]
    rows = np.flatnonzero(optional)
    listed[rows] = rng.random(rows.size) < probs.get(name, 0.9)
    return listed


def _pick(rng: np.random.Generator, eligible: np.ndarray) -> np.ndarray:
    """For each row of a boolean matrix, a uniformly chosen True column (rows need one True)."""
    return np.argmax(rng.random(eligible.shape) * eligible, axis=1)


def sample_frame(n: int, *, seed: int = 0, error_rate: float = 0.03, warning_rate: float = 0.01,
                 catalog: Catalog | str | Path | None = None) -> pl.DataFrame:
    """`n` events as a typed frame, with `ts` and the planted rule in `_truth` (see module doc)."""
    if n < 0 or not 0 <= error_rate <= 1 or not 0 <= warning_rate <= 1 or error_rate + warning_rate > 1:
        raise ValueError("need n >= 0 and 0 <= error_rate + warning_rate <= 1")
    cat = resolve(catalog)
    rng = np.random.default_rng(seed)
    products = _Products.make(rng)
    sim = _simulate(rng, n, cat, products)
    ev, usd = sim["ev"], sim["usd"]
    n = ev.size
    ctx = _Ctx(rng, products, sim["product"], usd, sim["qty"], sim["session"], sim["entry"])
    params = {k: t for k, t in cat.param_types.items() if t != "items"}
    cols: dict[str, _Str | np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for name, ptype in params.items():
        present[name] = _present(rng, ev, cat, name, _OPTIONAL_P)
        ctx.lead_value = name == "value"
        values = _values(name, ptype, ctx, present[name])
        if name == "value":  # add_to_cart style: value = price * quantity; else a lead's worth
            pq = np.array([{"price", "quantity"} <= e.param_names for e in cat] + [False])[ev]
            ctx.lead_value = False
            values = np.where(pq, _values(name, ptype, ctx), values)
        cols[name] = values

    # items: the session's cart on checkout/purchase, random products on other events listing items
    has_items = _present(rng, ev, cat, ITEMS, _OPTIONAL_P) if ITEMS in cat.param_types else np.zeros(n, bool)
    from_cart = np.isin(ev, [cat.names.index(e) for e in ("begin_checkout", "purchase") if e in cat])
    n_items = np.where(has_items, np.where(from_cart, sim["cart_items"], 1 + rng.poisson(0.3, n)), 0)

    # -- plant the mistakes ------------------------------------------------------------
    truth = np.zeros(n, np.int8)
    req_scalar = [[p.name for p in e.required if p.type != "items"] for e in cat]
    items_req = np.array([any(p.name == ITEMS and p.required for p in e.params) for e in cat])[ev]
    bad = rng.permutation(n)[: round(error_rate * n)]
    elig = np.column_stack([np.ones(bad.size, bool)] * 3 + [np.array([len(r) > 0 for r in req_scalar])[ev[bad]],
                                                            items_req[bad], has_items[bad] & (n_items[bad] > 0)])
    truth[bad] = 1 + _pick(rng, elig)
    rest = np.flatnonzero(truth == 0)
    warn = rest[rng.permutation(rest.size)[: round(warning_rate * n)]]
    zeros = np.zeros(n, bool)
    top_price, value = present.get("price", zeros), present.get("value", zeros)
    triple = np.logical_and.reduce([present.get(k, zeros) for k in VALUE_TRIPLE])
    purchase = ev == (cat.names.index(PURCHASE_EVENT) if PURCHASE_EVENT in cat else -2)
    welig = np.column_stack([(top_price | value | (n_items > 0))[warn], present.get(CURRENCY_PARAM, zeros)[warn],
                             triple[warn], np.ones(warn.size, bool), (purchase & present.get(TX_PARAM, zeros))[warn]])
    truth[warn] = 1 + len(ERROR_RULES) + _pick(rng, welig)
    rows_of = {rule: np.flatnonzero(truth == i + 1) for i, rule in enumerate(_RULES)}
    half = lambda idx: rng.random(idx.size) < 0.5  # noqa: E731

    # W107: the second occurrence reuses the tx_id of an earlier clean purchase
    if TX_PARAM in cols:
        tx = cols[TX_PARAM]
        sources = np.flatnonzero((truth == 0) & purchase & present[TX_PARAM])
        used = np.zeros(sources.size, bool)
        for row in rows_of["W107"].tolist():
            free = np.flatnonzero(~used[: np.searchsorted(sources, row)])
            if free.size == 0:
                truth[row] = _RULES.index("W106") + 1
                continue
            j = free[rng.integers(free.size)]
            used[j] = True
            tx.codes[row] = tx.codes[sources[j]]
        rows_of["W106"] = np.flatnonzero(truth == _RULES.index("W106") + 1)

    uid = _Str([f"u{i:010x}" for i in rng.choice(1 << 40, int(sim["n_users"]), replace=False).tolist()],
               sim["user"].copy())
    e002 = rows_of["E002"]
    uid.codes[e002] = np.where(rng.random(e002.size) < 0.75, uid.code(""), uid.code("   "))
    uid.codes[rows_of["W106"]] = [uid.code(p) for p in _PERSONAL][0] + rng.integers(0, 4, rows_of["W106"].size)
    names = _Str(list(cat.names), ev.copy())
    names.codes[rows_of["E003"]] = -1
    platform = _Str([*PLATFORMS, "Web", "windows"], sim["platform"].copy())
    platform.codes[(ev == cat.names.index("app_open")) & (rng.random(n) < 0.03)] = -1  # optional on app_open
    platform.codes[rows_of["E004"]] = np.where(half(rows_of["E004"]), 3, 4)

    e005 = rows_of["E005"]
    lens = np.array([max(1, len(r)) for r in req_scalar])[ev[e005]]
    which = (rng.random(e005.size) * lens).astype(np.int64)
    for e, req in enumerate(req_scalar):
        for j, name in enumerate(req):
            rows = e005[(ev[e005] == e) & (which == j)]
            col = cols[name]
            if isinstance(col, _Str):
                col.codes[rows] = np.where(half(rows) & (name != TX_PARAM), col.code(""), -1)
            else:
                col[rows] = np.nan
    for name, col in cols.items():
        if isinstance(col, np.ndarray):
            col[~present[name]] = np.nan
        else:
            col.codes[~present[name]] = -1

    w103 = rows_of["W103"]
    if "price" in cols:
        cols["price"][w103] *= -1
    if "value" in cols:
        cols["value"][w103] *= -1  # keeps value == price * quantity where both are negated
    if CURRENCY_PARAM in cols:
        cur = cols[CURRENCY_PARAM]
        cur.codes[rows_of["W104"]] = [cur.code("krw"), cur.code("usd")][0] + usd[rows_of["W104"]]
    if "value" in cols and "price" in cols:
        cols["value"][rows_of["W105"]] += cols["price"][rows_of["W105"]]

    e007 = rows_of["E007"]
    n_items[e007] = 0
    items_null = ~has_items
    items_null[e007] = half(e007)
    item_row, pos = _segments(n_items)
    from_cart_flat = from_cart[item_row]
    cart_add = sim["cart_start"][item_row] + pos
    flat_product = np.where(from_cart_flat, sim["all_product"][np.where(from_cart_flat, cart_add, 0)],
                            products.draw(rng, item_row.size))
    flat_qty = np.where(from_cart_flat, sim["all_qty"][np.where(from_cart_flat, cart_add, 0)],
                        1 + (rng.random(item_row.size) < 0.2))
    ictx = _Ctx(rng, products, flat_product, usd[item_row], flat_qty)
    offsets = np.r_[0, np.cumsum(n_items)]
    item_cols: list[pl.Series] = []
    for name, ptype in cat.item_types.items():
        col = _values(name, ptype, ictx)
        keep = (rng.random(item_row.size) < _ITEM_P.get(name, 0.9)) | (name == "item_id")
        broken = offsets[rows_of["E008"]] + (rng.random(rows_of["E008"].size) * n_items[rows_of["E008"]]).astype(int)
        if isinstance(col, _Str):
            col.codes[~keep] = -1
            if name == "item_id":
                col.codes[broken] = np.where(half(broken), col.code(""), -1)
            item_cols.append(col.series(name))
        else:
            col[~keep] = np.nan
            if name == "price":
                col[offsets[w103][n_items[w103] > 0]] *= -1
            item_cols.append(pl.Series(name, col, nan_to_null=True).cast(DTYPES[ptype]))
    item_struct = pl.DataFrame(item_cols).to_struct(ITEMS).to_arrow()
    import pyarrow as pa

    items = pl.from_arrow(pa.ListArray.from_arrays(pa.array(offsets, pa.int64()), item_struct,
                                                   mask=pa.array(items_null)))
    item_dtype = pl.List(pl.Struct({k: DTYPES[t] for k, t in cat.item_types.items()}))

    series = [uid.series("uid"), names.series("eventName"), platform.series("platform")]
    for name, ptype in cat.param_types.items():
        if ptype == "items":
            series.append(pl.Series(ITEMS, items).cast(item_dtype))
        elif isinstance(cols[name], _Str):
            series.append(cols[name].series(name))
        else:
            series.append(pl.Series(name, cols[name], nan_to_null=True).cast(DTYPES[ptype]))
    ts = pl.Series(TS, sim["ts"]).cast(pl.Datetime("us")) + (_START - datetime(1970, 1, 1))
    series += [ts, _Str(list(_RULES), truth.astype(np.int64) - 1).series(TRUTH)]
    return pl.DataFrame(series)


def frame_to_events(frame: pl.DataFrame, *, keep_extra: bool = False) -> list[dict[str, Any]]:
    """Rows as payload dicts: nulls dropped (top level and inside items); `ts`/`_truth` only if asked."""
    drop = set() if keep_extra else set(EXTRA)
    out = []
    for row in frame.to_dicts():
        event = {k: v for k, v in row.items() if v is not None and k not in drop}
        if ITEMS in event:
            event[ITEMS] = [{k: v for k, v in it.items() if v is not None} for it in event[ITEMS]]
        out.append(event)
    return out


def sample_events(n: int, *, keep_extra: bool = False, **options: Any) -> list[dict[str, Any]]:
    """The rows of `sample_frame(n, **options)` as payload dicts (see `frame_to_events`)."""
    return frame_to_events(sample_frame(n, **options), keep_extra=keep_extra)


_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet",
            ".pq": "parquet"}


def write_sample(path: str | Path, n: int, *, seed: int = 0, error_rate: float = 0.03, fmt: str | None = None,
                 extra: Iterable[str] = (TS,), **options: Any) -> Path:
    """Write `sample_frame(n)` as CSV, JSONL, JSON or Parquet (by `fmt` or the suffix); return the path.

    `extra` picks the non-contract columns to keep (`ts`, `_truth`); by default only `ts`.
    CSV cells hold items as JSON array text; an empty cell is an absent value.
    """
    path = Path(path)
    fmt = fmt or _FORMATS.get(path.suffix.lower())
    if fmt not in _FORMATS.values():
        raise ValueError(f"cannot tell the format of {path}; pass fmt= one of csv, jsonl, json, parquet")
    frame = sample_frame(n, seed=seed, error_rate=error_rate, **options)
    frame = frame.drop([c for c in EXTRA if c not in set(extra)])
    if fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "csv":
        cells: list[str | None] = [None] * frame.height
        for i, items in zip(frame.select(pl.arg_where(pl.col(ITEMS).is_not_null())).to_series().to_list(),
                            frame.get_column(ITEMS).drop_nulls().to_list(), strict=True):
            cells[i] = orjson.dumps([{k: v for k, v in it.items() if v is not None} for it in items]).decode()
        frame.with_columns(pl.Series(ITEMS, cells, dtype=pl.String)).write_csv(path)
    else:
        events = frame_to_events(frame, keep_extra=True)
        if fmt == "json":
            path.write_bytes(orjson.dumps(events))
        else:
            with path.open("wb") as fh:
                fh.writelines(orjson.dumps(e) + b"\n" for e in events)
    return path


__all__ = ["ERROR_RULES", "TRUTH", "TS", "WARNING_RULES", "frame_to_events", "sample_events", "sample_frame",
           "write_sample"]
