"""Near misses: the one suggestion function ("did you mean 'purchase'?") of W110, E004 and W104.

SPEC.md's W110: a text is a near miss of a candidate when it differs from it only in case and
separators (`-`, `_`, `.`, whitespace: `Purchase`, `add-to-cart`, `addToCart`), or by one or two
edits (a letter inserted, removed, replaced, or two neighbours swapped: `purchse`, `Andriod`).
Two edits are allowed against candidates of five characters or more, one against shorter ones
(two edits turn any three-letter word into most others: `win` is not `web`). A text equally near
two candidates has no obvious meaning: no suggestion. Every entry point asks `near_miss` (the
dataset checks once per distinct text), so all of them agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

from adrop_kit.spec.rules import BLANK

SEPARATORS = "-_." + BLANK
"""Characters a near miss may add, drop or swap for one another (`add-to-cart`, `add to cart`)."""
MAX_EDITS = 2
"""SPEC's "one or two edits" (against candidates of `LONG` characters or more; one against shorter)."""
LONG = 5
_LONGEST = 128  # a text longer than this is nobody's near miss (an eventName has at most 64 code points)
_SEPARATORS = re.compile(f"[{re.escape(SEPARATORS)}]+")


def fold(text: str) -> str:
    """`text` in lower case without separators: two texts with the same fold differ only in case
    and separators (`Add-To-Cart` and `add_to_cart` both fold to `addtocart`)."""
    return _SEPARATORS.sub("", text.lower())


def edits(a: str, b: str, limit: int) -> int:
    """The edits (insert, delete, replace, swap two neighbours) from `a` to `b` (optimal string
    alignment distance), or `limit + 1` as soon as it is known to exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    before: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            d = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                d = min(d, before[j - 2] + 1)
            cur[j] = d
        if min(cur) > limit:
            return limit + 1
        before, prev = prev, cur
    return prev[-1] if prev[-1] <= limit else limit + 1


@lru_cache(maxsize=1 << 16)
def near_miss(text: str, candidates: tuple[str, ...], max_edits: int = MAX_EDITS) -> str | None:
    """The candidate `text` was most likely meant to be, when it is a near miss of exactly one
    (see the module docstring); None when `text` is a candidate, is not a string, or nothing (or
    more than one thing) is that near. `max_edits=0`: case and separators only (`currency_meant`).
    Cached: a dataset asks once per distinct text."""
    if not isinstance(text, str) or not text or len(text) > _LONGEST or text in candidates:
        return None
    folded = fold(text)
    index = _index(candidates)
    same = index.folds.get(folded)
    if same:
        return _one(same)
    if max_edits <= 0:
        return None
    best, hits = max_edits + 1, set()
    for c, f, segments in index.measured:
        limit = min(max_edits, MAX_EDITS if len(f) >= LONG else 1)
        if abs(len(f) - len(folded)) > limit or not any(seg in folded for seg in segments):
            continue
        d = edits(folded, f, min(limit, best))
        if d <= limit and d < best:
            best, hits = d, {c}
        elif d <= limit and d == best:
            hits.add(c)
    return _one(hits)


class _Index:
    """The candidates by fold; and, to measure (`edits`) only the candidates a text may be near, each
    fold cut into `2 * MAX_EDITS + 1` pieces: k edits (a swap counts as two: it may straddle two
    pieces) leave at least one piece whole, so a text containing none of them is not near."""

    def __init__(self, candidates: tuple[str, ...]):
        self.folds: dict[str, set[str]] = {}
        self.measured: list[tuple[str, str, tuple[str, ...]]] = []
        for c in candidates:
            f = fold(c)
            self.folds.setdefault(f, set()).add(c)
            self.measured.append((c, f, _pieces(f, 2 * MAX_EDITS + 1)))


@lru_cache(maxsize=64)
def _index(candidates: tuple[str, ...]) -> _Index:
    return _Index(candidates)


def _pieces(text: str, n: int) -> tuple[str, ...]:
    """`text` cut into `n` consecutive pieces as even as can be (at least one character each, or `('',)`:
    a text too short to cut gives no filter)."""
    if len(text) < n:
        return ("",)
    cuts = [round(i * len(text) / n) for i in range(n + 1)]
    return tuple(text[a:b] for a, b in zip(cuts, cuts[1:], strict=False))


def _one(found: set[str]) -> str | None:
    return next(iter(found)) if len(found) == 1 else None


CURRENCIES: tuple[str, ...] = tuple("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF
XPF YER ZAR ZMW ZWL
""".split())
"""ISO 4217's active currency codes: what a W104 value (`krw`, `usd `) is held against for a
suggestion. W104 itself checks the shape (three upper-case letters), never membership."""


def currency_meant(text: str) -> str | None:
    """The ISO 4217 code a W104 currency differs from only in case or separators (`krw`, `Usd `), else
    None. No edits: the codes are so dense that one edit turns most three-letter words into one
    (`Won` is one letter from `RON`), so an edited guess would not be obvious."""
    return near_miss(text, CURRENCIES, 0)

__all__ = ["CURRENCIES", "currency_meant", "LONG", "MAX_EDITS", "SEPARATORS", "edits", "fold", "near_miss"]
