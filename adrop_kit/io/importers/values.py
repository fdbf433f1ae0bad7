"""Values out of an export row: dotted paths, GA4's key/value lists, placeholders, and what was left.

A `Row` answers `first(sources)` (the first source that holds a value) and remembers which fields
it gave, so `lost()` can count the fields that held a value no Adrop field carries. Paths walk
dicts; a list of `{key, value}` entries (GA4's `event_params`, `user_properties`) is walked by its
keys, and a GA4 value struct gives whichever slot is set (`string_value`, `int_value`,
`float_value`, `double_value`: one key may use different slots from row to row). `params` is short
for `event_params`. `coerce` gives a parameter the JSON type the catalog says when the export
wrote it otherwise (INT64 as a string, an id as a number), and leaves any other value as it is for
validation to report.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from adrop_kit.io.importers.mapping import Mapping

SLOTS = ("string_value", "int_value", "double_value", "float_value")
ALIASES = {"params": "event_params"}
NOT_TAKEN = "items (not taken)"
"""The `lost` name of the items of a row that an event taking one item did not take."""


class Row:
    """One export row, read through a mapping (see the module docstring)."""

    def __init__(self, raw: dict[str, Any], mapping: Mapping):
        self.raw = raw
        self.mapping = mapping
        self.used: set[str] = set()
        self.dropped = 0
        self.taken: list[int] | None = None
        self._items: list[Any] | None = None
        self._items_path = ""
        self._params: dict[str, Any] | None = None

    # -- reading values -------------------------------------------------------------------------
    def first(self, sources: tuple[str, ...], *, item: int | None = None, use: bool = True) -> Any:
        """The value of the first source that holds one (not null, not a placeholder), else None."""
        for src in sources:
            value, name = self._resolve(src, item)
            if value is not None:
                if use and name:
                    self.used.add(name)
                return value
        return None

    def _resolve(self, src: str, item: int | None) -> tuple[Any, str]:
        if src.startswith("const:"):
            return src[6:], ""
        if src.startswith("path(") and src.endswith(")"):
            value, name = self._resolve(src[5:-1], item)
            if not isinstance(value, str):
                return None, name
            path = urlsplit(value.strip()).path if "://" in value or value.startswith("/") else ""
            return (path or None), name
        parts = _parts(src)
        if parts[0] in ("params", "event_params") and len(parts) == 2:  # the common case: one dict lookup
            return self._value(self.params().get(parts[1])), src
        if parts[0] == "item":
            elements = self.items_list()
            if item is None or item >= len(elements):
                return None, ""
            cur: Any = elements[item]
            parts = parts[1:]
            name = ".".join([self._items_path, *parts])
        else:
            cur = self.raw
            name = src
        for part in parts:
            cur = _step(cur, ALIASES.get(part, part) if cur is self.raw else part)
            if cur is None:
                return None, name
        return self._value(cur), name

    def params(self) -> dict[str, Any]:
        """`event_params` as a dict (key -> value struct), built once per row."""
        if self._params is None:
            self._params = {}
            entries = self.raw.get("event_params")
            if isinstance(entries, list):
                for e in entries:
                    if isinstance(e, dict) and isinstance(e.get("key"), str):
                        self._params.setdefault(e["key"], e.get("value"))
        return self._params

    def _value(self, v: Any) -> Any:
        if isinstance(v, dict) and v.keys() and v.keys() <= _STRUCT:
            v = next((v[s] for s in SLOTS if v.get(s) is not None), None)
        if isinstance(v, str) and v in self.mapping.placeholders:
            return None
        return v

    def items_list(self) -> list[Any]:
        if self._items is None:
            self._items = []
            for src in self.mapping.items_from:
                cur: Any = self.raw
                for part in src.split("."):
                    cur = _step(cur, part)
                if isinstance(cur, list):
                    self._items, self._items_path = cur, src
                    break
        return self._items

    def items(self) -> list[int]:
        """The positions of the row's item objects; taking them marks the items list as used."""
        taken = [i for i, it in enumerate(self.items_list()) if isinstance(it, dict)]
        self.taken = taken
        return taken

    def in_item(self, index: int, key: str) -> Any:
        """Item `index`'s value of the source field the mapping's `[item]` gives for `key`."""
        sources = dict(self.mapping.item).get(key, (key,))
        element = self.items_list()[index]
        for src in sources:
            value = self._value(element.get(src)) if isinstance(element, dict) else None
            if value is not None:
                return value
        return None

    def take_items(self, chosen: list[int], *, dropped: int) -> None:
        """The events of this row carry the items at `chosen`; `dropped` other items are lost whole."""
        self.taken = chosen
        self.dropped += dropped

    def custom_params(self) -> dict[str, Any]:
        """For `unmapped = "keep"`: the row's own parameters with simple values (GA4 event_params,
        Segment properties), as a custom event carries them."""
        params = self.raw.get("event_params")
        out: dict[str, Any] = {}
        if isinstance(params, list):
            for entry in params:
                if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                    value = self._value(entry.get("value"))
                    if _simple(value):
                        out[entry["key"]] = value
                        self.used.add(f"params.{entry['key']}")
        elif isinstance(props := self.raw.get("properties"), dict):
            for key, value in props.items():
                value = self._value(value)
                if _simple(value):
                    out[key] = value
                    self.used.add(f"properties.{key}")
        return out

    # -- what was left --------------------------------------------------------------------------
    def lost(self) -> Counter[str]:
        """Fields that held a value no event of this row carries (the mapping's `ignore` aside)."""
        found: Counter[str] = Counter()
        self.items_list()
        for key, value in self.raw.items():
            name = "params" if key == "event_params" else key
            self._leaves(value, name, found)
        if self.dropped:
            found[NOT_TAKEN] += self.dropped
        return found

    def _leaves(self, value: Any, name: str, found: Counter[str]) -> None:
        if name in self.used or self.mapping.ignored(name):
            return
        if value is None:
            return
        if isinstance(value, dict):
            if value.keys() and value.keys() <= _STRUCT:
                if self._value(value) is not None:
                    found[name] += 1
                return
            for k, v in value.items():
                self._leaves(v, f"{name}.{k}", found)
        elif isinstance(value, list):
            if name == self._items_path and self._items is value:
                taken = self.taken if self.taken is not None else range(len(value))
                for i in taken:
                    if isinstance(value[i], dict):
                        for k, v in value[i].items():
                            self._leaves(v, f"{name}.{k}", found)
                return
            if value and all(isinstance(e, dict) and "key" in e for e in value):
                for e in value:
                    self._leaves(e.get("value"), f"{name}.{e.get('key')}", found)
                return
            if value:
                found[name] += 1
        elif not (isinstance(value, str) and (value in self.mapping.placeholders or value == "")):
            found[name] += 1



_STRUCT = frozenset((*SLOTS, "set_timestamp_micros"))


@lru_cache(maxsize=4096)
def _parts(src: str) -> tuple[str, ...]:
    return tuple(src.split("."))


def _step(cur: Any, part: str) -> Any:
    if isinstance(cur, dict):
        return cur.get(part)
    if isinstance(cur, list):  # GA4's [{key, value}, …]
        for entry in cur:
            if isinstance(entry, dict) and entry.get("key") == part:
                return entry.get("value")
    return None


def _simple(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and not (isinstance(value, float) and not math.isfinite(value))


def coerce(value: Any, kind: str | None) -> Any:
    """`value` as the JSON type `kind` ("string", "number", "integer") when it says the same thing
    in another type (INT64 written as "3", an id written as 42); otherwise unchanged."""
    if isinstance(value, bool) or kind not in ("string", "number", "integer"):
        return value
    if kind == "string":
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and math.isfinite(value):
            return str(int(value)) if value.is_integer() else repr(value)
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            number: Any = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return value
            if not math.isfinite(number):
                return value
        value = number
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


__all__ = ["NOT_TAKEN", "SLOTS", "Row", "coerce"]
