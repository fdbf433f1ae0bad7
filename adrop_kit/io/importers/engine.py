"""The one per-batch mapping: rows of an export (dicts, as parsed) → Adrop events and a `Tally`.

`map_rows(rows, mapping, source=, first_row=)` is what the Python API, the CLI and Spark call on
each batch; a row's events depend on that row alone. Each event is a dict in the user's shape
(`uid`, `eventName`, `platform`, parameters, `items`) with the metadata `ts` (ISO 8601, UTC, the
microseconds kept), `_source` (the input file) and `_row` (the row's 0-based position in it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adrop_kit.io.importers.mapping import Mapping, Rule
from adrop_kit.io.importers.values import Row, coerce
from adrop_kit.spec.catalog import ITEMS, STANDARD, Catalog

TS, SOURCE, ROW = "ts", "_source", "_row"
UNREADABLE = "(not a JSON object)"
"""The `skipped` name of a row that is not an object (a broken line of the export)."""
NO_ITEM = " (no single item)"
NO_NAME = "(no event name)"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Tally:
    """What mapping rows found: the counts of the mapping report (`rows == mapped_rows + sum(skipped)`)."""

    rows: int = 0
    mapped_rows: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    by_event: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.rows += other.rows
        self.mapped_rows += other.mapped_rows
        self.events += other.events
        self.skipped.update(other.skipped)
        self.by_event.update(other.by_event)
        self.lost.update(other.lost)


def map_rows(rows: list[Any], mapping: Mapping, *, source: str = "<data>", first_row: int = 0,
             catalog: Catalog = STANDARD) -> tuple[list[dict[str, Any]], Tally]:
    """The events of `rows` (in row order, each row's in item order) and what the mapping found."""
    tally = Tally(rows=len(rows))
    events: list[dict[str, Any]] = []
    types = (catalog.param_types, catalog.item_types)
    for offset, raw in enumerate(rows):
        if not isinstance(raw, dict):
            tally.skipped[UNREADABLE] += 1
            continue
        row = Row(raw, mapping)
        name = row.first(mapping.event_name)
        name = name if isinstance(name, str) else (NO_NAME if name is None else str(name))
        rule = _rule_for(row, name, mapping)
        meta = {TS: _time(row.first(mapping.time)), SOURCE: source, ROW: first_row + offset}
        keep = mapping.unmapped == "keep" and name != NO_NAME  # a row with no name is no custom event
        made = _events(row, rule, name, mapping, types) if rule is not None or keep else []
        if made is None or not made:
            tally.skipped[name + (NO_ITEM if made is None else "")] += 1
            continue
        envelope = {"uid": _text(row.first(mapping.uid)), "platform": _platform(row.first(mapping.platform))}
        for ev in made:
            events.append({k: v for k, v in {**envelope, **ev, **meta}.items() if v is not None})
            tally.by_event[ev["eventName"]] += 1
        tally.mapped_rows += 1
        tally.events += len(made)
        tally.lost.update(row.lost())
    return events, tally


def _rule_for(row: Row, name: str, mapping: Mapping) -> Rule | None:
    for rule in mapping.by_name.get(name, ()):
        if all(_text(row.first((src,), use=False)) in accepted for src, accepted in rule.when):
            for src, _ in rule.when:
                row.first((src,))  # a condition's field is used, not lost
            return rule
    return None


def _events(row: Row, rule: Rule | None, name: str, mapping: Mapping,
            types: Any) -> list[dict[str, Any]] | None:
    """The row's events (None: the rule takes one item and the row has no single one)."""
    if rule is None:  # unmapped = "keep": a custom event with the row's simple values
        return [{"eventName": name, **row.custom_params()}]
    if rule.items in ("none", "all"):
        ev = {"eventName": rule.to, **_params(row, rule, types[0])}
        if rule.items == "all":
            items = [it for i in row.items() if (it := _item(row, i, mapping, types[1]))]
            ev[ITEMS] = items or None
        return [ev]
    elements = row.items()
    if rule.items == "each":
        chosen = elements
    elif rule.items == "with_quantity":
        chosen = [i for i in elements if row.in_item(i, "quantity") is not None]
    else:  # about: the only item, else the only one with a quantity
        with_qty = [i for i in elements if row.in_item(i, "quantity") is not None]
        chosen = elements if len(elements) == 1 else with_qty if len(with_qty) == 1 else []
        if not chosen:
            return None
    row.take_items(chosen, dropped=len(elements) - len(chosen))
    return [{"eventName": rule.to, **_params(row, rule, types[0], item=i)} for i in chosen]


def _params(row: Row, rule: Rule, types: Any, item: int | None = None) -> dict[str, Any]:
    out = {}
    for name, sources in rule.params:
        value = row.first(sources, item=item)
        if value is not None:
            out[name] = coerce(value, types.get(name))
    return out


def _item(row: Row, index: int, mapping: Mapping, types: Any) -> dict[str, Any]:
    out = {}
    for name, sources in mapping.item:
        value = row.first(tuple(f"item.{s}" if not s.startswith(("const:", "path(")) else s for s in sources),
                          item=index)
        if value is not None:
            out[name] = coerce(value, types.get(name))
    return out


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    return str(value) if isinstance(value, int) else value


def _platform(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _time(value: Any) -> str | None:
    """The source time as ISO 8601 UTC with microseconds: INT64 microseconds (number or string) or ISO text."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
            when = _EPOCH + timedelta(microseconds=int(value))
        elif isinstance(value, float):
            when = _EPOCH + timedelta(microseconds=round(value))
        elif isinstance(value, str):
            when = datetime.fromisoformat(value.strip())
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


__all__ = ["NO_ITEM", "NO_NAME", "ROW", "SOURCE", "TS", "UNREADABLE", "Tally", "map_rows"]
