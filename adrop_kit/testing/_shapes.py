"""The building blocks of the catalog strategies, for `strategies`: values, dict shapes and their draws.

Hypothesis spends its time per choice, so each value here costs one choice: a `Value` is a
strategy and a converter (`TEXT`, `STRINGS`, `CURRENCIES`, the amounts, quantities, URLs…),
and `param_values` picks the valid, warning-free one for a parameter. A `Shape` says how to
draw one dict (keys always drawn, keys drawn by the bits of one mask); `fill` draws it, and the
composites `dicts`, `dict_lists` and `broken_dicts` draw payloads, item lists and
(payload, rule) pairs from a `Case`. Private to `adrop_kit.testing`: only `strategies` imports it.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from hypothesis import strategies as st

from adrop_kit.spec.catalog import ParamSpec
from adrop_kit.spec.rules import AT_LEAST_ONE, CURRENCY_PARAM, MAX_PARAMS, NON_NEGATIVE, VALUE_TRIPLE
from adrop_kit.testing.mutations import consistent_value

Payload = dict[str, Any]
Edit = Callable[[Payload], Any]

# -- values: Hypothesis spends its time per choice, so each value costs one choice --------
ALPHABET = string.ascii_letters + string.digits + "-_.:/가나다é"  # no space, no '@'
TEXT = st.text(alphabet=ALPHABET, min_size=1, max_size=12)
WORDS = ("Widget", "Product A", "Product B", "Electronics", "Books", "BrandX", "Acme", "contact", "newsletter",
         "Contact Us", "/thank-you", "email", "google", "kakao", "apple", "naver", "article", "video",
         "button", "banner", "landing", "home", "무선 이어폰", "뷰티", "가전", "Café", "Ünïcode", "x",
         "a-b_c.d", "42", "O'Brien", "100% cotton")


def text(n: int) -> str:
    """Realistic strings from one integer: 'Widget', 'Widget 3', '뷰티 17'… (cheaper than st.text())."""
    word = WORDS[n % len(WORDS)]
    return word if n < len(WORDS) else f"{word} {n // len(WORDS)}"


def uid(s: str) -> str:
    """A letter first: without '@' or spaces, never an e-mail address nor a phone number (W106)."""
    return s if s[0].isalpha() else "u" + s


def money(n: int) -> int | float:
    """Whole amounts and amounts with cents (29900 and 99.99) from one integer."""
    return n // 100 if n % 4 == 0 else n / 100


def quantity(n: int) -> int | float:
    """1..20, as ints and as integral floats (3 and 3.0 are both JSON integers)."""
    return n // 2 if n % 2 == 0 else float(n // 2)


# A value is drawn as `convert(draw(strategy))`: converting here rather than with `.map()`
# saves a nested draw per value.
Value = tuple[st.SearchStrategy[Any], Callable[[Any], Any] | None]
UIDS: Value = (TEXT, uid)
STRINGS: Value = (st.integers(0, 10_000), text)
CURRENCIES: Value = (st.sampled_from(("KRW", "USD", "EUR", "JPY", "GBP", "CNY")), None)
NON_NEGATIVE_NUMBERS: Value = (st.integers(0, 100_000_000), money)
NUMBERS: Value = (st.integers(-100_000_000, 100_000_000), money)
QUANTITIES: Value = (st.integers(2, 41), quantity)
INTEGERS: Value = (st.integers(-1_000_000, 1_000_000), None)
BOOLEANS: Value = (st.booleans(), None)
URLS: Value = (st.integers(0, 99_999), "https://example.com/p/{}".format)


def param_values(p: ParamSpec, item_lists: st.SearchStrategy[list]) -> Value:
    """Valid, warning-free values of one parameter (top level or inside an item)."""
    if p.type == "items":
        return item_lists, None
    if p.type == "boolean":
        return BOOLEANS
    if p.type == "string":
        if p.name == CURRENCY_PARAM:
            return CURRENCIES
        if p.name.endswith("_url"):
            return URLS
        if p.name.endswith("_id"):  # realistic ids: ITEM-123, TX-42, FORM-7
            return st.integers(0, 99_999), f"{p.name.removesuffix('_id').upper() or 'ID'}-{{}}".format
        return STRINGS
    if p.name in AT_LEAST_ONE:
        return QUANTITIES
    if p.name in NON_NEGATIVE:
        return NON_NEGATIVE_NUMBERS
    return NUMBERS if p.type == "number" else INTEGERS


class Shape:
    """How to draw one dict: keys always drawn, and keys drawn when their bit of one mask is set."""

    __slots__ = ("always", "budget", "fixed", "mask", "sometimes", "triple")

    def __init__(self, always: tuple[tuple[str, Value], ...], sometimes: tuple[tuple[str, Value], ...],
                 fixed: tuple[tuple[str, Any], ...] = (), triple: bool = False, budget: int | None = None) -> None:
        self.budget = budget  # the most optional parameters drawn (W108: an event's parameters, at most 20)
        self.always = always
        self.sometimes = sometimes
        self.mask = st.integers(0, 2 ** len(sometimes) - 1) if sometimes else None
        self.fixed = fixed  # constant keys (eventName)
        self.triple = triple  # value, price and quantity are all parameters: keep value == price * quantity

    def __repr__(self) -> str:  # short, for Hypothesis' reports
        fixed = ", ".join(f"{k}={v!r}" for k, v in self.fixed) or "dict"
        always, sometimes = (", ".join(k for k, _ in keys) for keys in (self.always, self.sometimes))
        return f"<{fixed}: {always} [{sometimes}]>"


def make_shape(params: Iterable[ParamSpec], item_lists: st.SearchStrategy[list], *, optional: bool = True,
               envelope: Sequence[tuple[str, Value]] = (), platform: Sequence[tuple[str, Value]] = (),
               fixed: tuple[tuple[str, Any], ...] = ()) -> Shape:
    params = tuple(params)
    always = (*envelope, *((p.name, param_values(p, item_lists)) for p in params if p.required))
    sometimes = (*platform, *((p.name, param_values(p, item_lists)) for p in params if optional and not p.required))
    required = sum(p.required for p in params)
    budget = None if len(params) <= MAX_PARAMS else max(0, MAX_PARAMS - required)  # a plan's big event: no W108
    return Shape(always, sometimes, fixed, triple=set(VALUE_TRIPLE) <= {p.name for p in params}, budget=budget)


def fill(draw: st.DrawFn, shape: Shape) -> Payload:
    out = dict(shape.fixed)
    for key, (values, convert) in shape.always:
        out[key] = draw(values) if convert is None else convert(draw(values))
    if shape.mask is not None:
        bits = draw(shape.mask)  # shrinks towards 0: no optional keys
        left = shape.budget
        for key, (values, convert) in shape.sometimes:
            if bits & 1 and (left is None or key == "platform" or left > 0):
                out[key] = draw(values) if convert is None else convert(draw(values))
                if left is not None and key != "platform":
                    left -= 1
            bits >>= 1
    return consistent_value(out) if shape.triple else out


@st.composite
def dicts(draw: st.DrawFn, shapes: tuple[Shape, ...], pick: st.SearchStrategy[Shape] | None) -> Payload:
    return fill(draw, shapes[0] if pick is None else draw(pick))


@st.composite
def dict_lists(draw: st.DrawFn, shape: Shape, sizes: st.SearchStrategy[int]) -> list[Payload]:
    return [fill(draw, shape) for _ in range(draw(sizes))]


class Case(NamedTuple):
    """Payloads of one event broken by one rule: the event's shape, and the edits that break it."""

    shape: Shape
    edits: st.SearchStrategy[Edit]


@st.composite
def broken_dicts(draw: st.DrawFn, cases: st.SearchStrategy[tuple[str, Case]]) -> tuple[Any, str]:
    rule, case = draw(cases)
    return draw(case.edits)(fill(draw, case.shape)), rule
