"""The native lane's schema and grammar for one JSONL file (`io.jsonl_fast` reads with them).

`plan` learns from the catalog and a sample of the file each key's *class*: string, boolean,
items, or for a number key `int` (the sample shows integer tokens alone), `float` (fractions
alone) or `num` (both, or none: a column where `29900` and `14.99` meet, as in real exports).
`Plan.grammar` is the strict line grammar (a Rust regex) a line must match to be read natively:
a JSON object whose members each have a key of the schema and a value of its class, or `null`;
its numbers only tokens orjson writes back as they are (no `1.50`, `-0`, exponent or 16 digits:
`io.numbers`), so a number read natively goes out as written.
Strings may hold escapes except those a native read would not give back as the precise path does
(`\\u0000`-`\\u001f`, lone surrogates; a surrogate *pair* is fine); item keys hold no escape, so
every key of a line ends with a `":` that is not `\\":` (how the reader counts keys).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl

from adrop_kit.io.frames import RARE, key_types
from adrop_kit.spec.catalog import Catalog

MAX_EXTRA_KEYS = 64
"""Keys outside the catalog the native lane knows at most (more: their lines take the precise path)."""

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")  # keys the grammar names literally (escaped below)
W = r"[ \t]*"
_KEY = r'"[^"\\\x00-\x1f]*"'  # an item's key: no escape
_HEX = "[0-9a-fA-F]"
_ESCAPE = (rf'\\["\\/bfnrt]|\\u(?:[1-9a-cA-CeEfF]{_HEX}{{3}}|0[1-9a-fA-F]{_HEX}{{2}}|00[2-9a-fA-F]{_HEX}'
           rf"|[dD][0-7]{_HEX}{{2}}|[dD][89abAB]{_HEX}{{2}}\\u[dD][c-fC-F]{_HEX}{{2}})")
STR = rf'"(?:[^"\\\x00-\x1f]|{_ESCAPE})*"'
_INT = r"(?:0|-?[1-9][0-9]{0,14})"  # no -0 (an integer token orjson reads as 0)
# A fraction orjson writes back as it is (`io.numbers`): at most 15 digits in all, no trailing 0 but in `.0`,
# not below 0.0001; no -0.0 (its sign matters). Other fractions (`1.50`, `1.5e-7`, 17 digits) are read precisely.
_SMALL = r"0{0,3}[1-9](?:[0-9]{0,9}[1-9])?"  # the fraction of 0.x: from 0.0001 on, at most 14 digits
_WHOLE = "|".join(rf"[1-9][0-9]{{{k - 1}}}\.(?:0|[0-9]{{0,{14 - k}}}[1-9])" for k in range(1, 15))
_FLOAT = rf"(?:0\.(?:0|{_SMALL})|-0\.{_SMALL}|-?(?:{_WHOLE}))"
_ITEM_SCALAR = rf"(?:{STR}|{_FLOAT}|{_INT}|true|false|null)"
_ITEM_OBJECT = rf"\{{{W}(?:{_KEY}:{W}{_ITEM_SCALAR}(?:{W},{W}{_KEY}:{W}{_ITEM_SCALAR})*)?{W}\}}"
ITEMS_TEXT = rf"\[{W}(?:{_ITEM_OBJECT}(?:{W},{W}{_ITEM_OBJECT})*)?{W}\]"
# items text as orjson writes it (`values.exact_json`): no whitespace, a string's escapes only those orjson
# writes (`\"` `\\` `\b` `\f` `\n` `\r` `\t`), numbers of the grammar (written back as they are)
_CANON_STR = r'"(?:[^"\\\x00-\x1f]|\\["\\bfnrt])*"'
_VALUE = {"string": STR, "boolean": "(?:true|false)", "int": _INT, "float": _FLOAT, "num": f"(?:{_FLOAT}|{_INT})",
          "items": ITEMS_TEXT}
_DTYPE = {"string": pl.String, "boolean": pl.Boolean, "int": pl.Int64, "float": pl.Float64, "num": pl.Float64}


@dataclass
class Plan:
    """The native lane's schema for one file: each key's class (string, boolean, int, float, num, items)."""

    classes: dict[str, str]
    extras: set[str] = field(default_factory=set)
    item_keys: tuple[str, ...] = ()  # the catalog's item parameters (`canonical_items`)
    integers: frozenset[str] = frozenset()  # the catalog's integer parameters

    def keys_pattern(self) -> str:
        return "|".join(sorted(map(re.escape, self.classes)))

    def grammar(self) -> str:
        groups: dict[str, list[str]] = {}
        for key, cls in self.classes.items():
            groups.setdefault(cls, []).append(re.escape(key))
        members = [f'"(?:{"|".join(sorted(keys))})":{W}{_VALUE[cls]}' for cls, keys in groups.items()]
        members.append(f'"(?:{self.keys_pattern()})":{W}null')
        member = "(?:" + "|".join(members) + ")"
        return rf"^{W}\{{{W}{member}(?:{W},{W}{member})*{W}\}}[ \t\r\n]*$"

    def canonical_items(self) -> tuple[str, str] | None:
        """Two patterns over an items text of the grammar: the first matches a text already as the
        precise path writes it (`_CANON_STR`: no whitespace, only the escapes orjson writes; every
        key an item parameter), the second a text with an object naming a key twice (orjson keeps
        one). A text matching the first and not the second is its own canonical form. (Flat objects:
        a `}` outside a string closes one; the tokens between are strings, read whole, or other
        characters.) None: an item parameter the patterns cannot name literally."""
        if not self.item_keys or not all(NAME.fullmatch(k) for k in self.item_keys):
            return None
        names = "|".join(map(re.escape, self.item_keys))
        member = f'"(?:{names})":(?:{_CANON_STR}|{_FLOAT}|{_INT}|true|false|null)'
        obj = rf"\{{(?:{member}(?:,{member})*)?\}}"
        between = rf'(?:[^}}"]|{_CANON_STR})*'
        twice = "|".join(rf'\{{{between}"{re.escape(k)}":{between}"{re.escape(k)}":' for k in self.item_keys)
        return rf"^\[(?:{obj}(?:,{obj})*)?\]$", twice

    def schema(self) -> dict[str, pl.DataType]:
        return {k: _DTYPE[c] for k, c in self.classes.items() if c != "items"}


def _kind(value: Any) -> str | None:
    t = type(value)
    if t is str:
        return "string"
    if t is bool:
        return "boolean"
    if t is int:
        return "int" if -(10**15) < value < 10**15 else None
    if t is float:
        return "float"
    return None


def plan(lines: list[bytes], catalog: Catalog) -> Plan:
    """The schema of the native lane, from the catalog and a sample of the file's lines."""
    types = key_types(catalog)
    seen: dict[str, set[str | None]] = {}
    held: Counter[str] = Counter()  # lines that hold each key, with a value or as null
    objects = 0
    for line in lines:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if type(value) is dict:
            objects += 1
            held.update(value.keys())
            for k, v in value.items():
                if v is not None:
                    seen.setdefault(k, set()).add(_kind(v))
    classes: dict[str, str] = {}
    for key, ptype in types.items():
        if not NAME.fullmatch(key):
            continue
        if ptype in ("number", "integer"):
            kinds = seen.get(key, set()) & {"int", "float"}  # a string price in the sample says nothing
            classes[key] = next(iter(kinds)) if len(kinds) == 1 else "num"
        else:
            classes[key] = ptype
    extras = set()
    for key, kinds in seen.items():
        if key in types or key.startswith("__") or not NAME.fullmatch(key) or len(kinds) != 1 or None in kinds:
            continue
        if held[key] * RARE < objects:  # rare in the sample: likely rare over the file (`__more`, not a column)
            continue
        if len(extras) < MAX_EXTRA_KEYS:
            extras.add(key)
            classes[key] = next(iter(kinds))  # type: ignore[arg-type]
    integers = frozenset(k for k, t in types.items() if t == "integer")
    return Plan(classes, extras, tuple(p.name for p in catalog.item_params), integers)


__all__ = ["ITEMS_TEXT", "MAX_EXTRA_KEYS", "NAME", "STR", "W", "Plan", "plan"]
