"""NaN and ±Infinity where no type rule looks (SPEC.md, E006): an E001, as the server answers.

JSON has no NaN or Infinity token, so a body holding one cannot be read: Adrop answers `!invalid`.
Where a type rule judges a value (the envelope, the parameters of a catalog event, the catalog's
fields of an item of an event that carries `items`) a non-finite number is that rule's type error
(E002-E004, E006, E007, E008) whatever it holds; anywhere else (a key outside the catalog, a custom
event's parameter, a parameter of another event, an item's own keys, inside a nested value) it
makes the row E001. Pure Python: `validate_event` and the dataset pipeline's confirmation of a
candidate row (`validate.nonfinite`) both call `untyped_nonfinite`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from adrop_kit.io.jsontext import has_nonfinite
from adrop_kit.spec.catalog import ENVELOPE, ITEMS, Catalog, EventSpec


def typed_keys(spec: EventSpec | None) -> frozenset[str]:
    """The top-level keys a type rule judges for an event (`spec` None: a custom or unnamed one)."""
    return spec.allowed_keys if spec is not None else frozenset(ENVELOPE)


def item_nonfinite(items: Any, item_names: Collection[str]) -> bool:
    """Whether an item of a typed `items` array holds NaN/Infinity under a key of its own (the
    catalog's item fields are E008's to judge)."""
    if not isinstance(items, (list, tuple)):
        return False
    return any(k not in item_names and has_nonfinite(v)
               for it in items if isinstance(it, Mapping) for k, v in it.items())


def untyped_nonfinite(payload: Mapping[Any, Any], spec: EventSpec | None, catalog: Catalog,
                      skip: Collection[str] = ()) -> list[str]:
    """The top-level keys of `payload` holding NaN or Infinity where no type rule judges them, in
    order (an empty list: none). `skip`: keys not sent (a dataset's metadata columns)."""
    typed = typed_keys(spec)
    item_names = catalog.item_types
    out = []
    for key, value in payload.items():
        name = key if isinstance(key, str) else str(key)
        if value is None or name in skip or isinstance(value, str):
            continue
        if name in typed:
            if name == ITEMS and item_nonfinite(value, item_names):
                out.append(name)
        elif has_nonfinite(value):
            out.append(name)
    return out


__all__ = ["item_nonfinite", "typed_keys", "untyped_nonfinite"]
