"""How the widgets word things, as plain functions with no widget import: values with their blanks
visible, a dataset's readable name, what a fuzz mutation did to `eventName`, a send's cards with
human labels, where a typed path points.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adrop_kit.support.labels import count_of, source_label

# -- values --------------------------------------------------------------------------------


def shown(value: Any) -> str:
    """A value as text a reader can trust (the CLI's `clip`, uncut): text with leading or trailing
    blanks, or empty, is quoted (`'KRW '`, `''`), and control characters are escaped. None is ''."""
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and (text != text.strip() or not text):
        text = repr(text)
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


# -- datasets ------------------------------------------------------------------------------
_rows = count_of  # a report's readable source name lives in `support.labels.source_label`, shared with reports


def describe_data(data: Any) -> str:
    """What a view was given, before it is read: a path, 'a polars DataFrame of 1,000 rows', …"""
    if isinstance(data, (str, os.PathLike)):
        return str(data)
    height = getattr(data, "height", None)
    if height is None and hasattr(data, "shape"):
        height = data.shape[0]
    if height is not None:
        return f"a {type(data).__module__.split('.')[0]} {type(data).__name__} of {_rows(height)}"
    try:
        return f"a {type(data).__name__} of {_rows(len(data), 'event')}"
    except TypeError:
        return type(data).__name__


def locate(path: str | os.PathLike[str]) -> tuple[Path, Path | None]:
    """Where a typed path points, and the folder a relative one started in (None for an absolute path):
    the kernel's working directory, which in a notebook is the notebook's folder, not where the user is."""
    given = Path(path).expanduser()
    if given.is_absolute():
        return Path(os.path.normpath(given)), None
    return Path(os.path.normpath(Path.cwd() / given)), Path.cwd()


# -- fuzz payloads ---------------------------------------------------------------------------
_JSON_KINDS = {list: "a JSON array", str: "a JSON string", bool: "a JSON boolean", int: "a JSON number",
               float: "a JSON number", type(None): "JSON null"}


def mutation_note(event: str, payload: Any, catalog: Any = None) -> str:
    """What the row's event does not tell about its payload: the payload was drawn from `event`, but
    its body is not an object, or its eventName was removed or replaced. '' when it is `event`'s."""
    if not isinstance(payload, dict):
        return f"the body is {_JSON_KINDS.get(type(payload), type(payload).__name__)}, not a JSON object"
    if "eventName" not in payload:
        return "eventName removed"
    name = payload["eventName"]
    if name == event:
        return ""
    if not isinstance(name, str):
        return f"eventName replaced by {json.dumps(name, ensure_ascii=False)} (not a string)"
    if not name.strip():
        return f"eventName replaced by a blank name, {shown(name)}"
    if catalog is not None and name in catalog:
        return f"eventName replaced by another event of the catalog, {shown(name)}"
    return f"eventName replaced by a name outside the catalog, {shown(name)}"


# -- sends -----------------------------------------------------------------------------------
SEND_LABELS = {"dry_run": "would send", "already_delivered": "already delivered", "elapsed_s": "elapsed",
               "events_per_s": "events/s", "longest_wait_s": "longest wait"}
_SHOWN_WHEN_NONZERO = ("rejected", "failed", "skipped", "already_delivered", "pending", "retries")


def send_label(key: str) -> str:
    """A summary key as a card says it: 'dry_run' -> 'would send', 'events_per_s' -> 'events/s'."""
    return SEND_LABELS.get(key, key.replace("_", " "))


def sent_count(summary: Mapping[str, Any]) -> int:
    """Events that went over the network in this run (delivered, rejected or failed)."""
    return sum(int(summary.get(k, 0)) for k in ("delivered", "rejected", "failed"))


def send_cards(summary: Mapping[str, Any], *, dry_run: bool) -> dict[str, Any]:
    """A `SendReport.summary()` as cards with human labels: the total, what was (or would be) sent, the
    other outcomes that happened, the time taken, and the rate only when something was sent."""
    cards: dict[str, Any] = {"total": summary["total"]}
    if dry_run:
        cards[send_label("dry_run")] = summary.get("dry_run", 0)
    else:
        cards["delivered"] = summary["delivered"]
    for key in _SHOWN_WHEN_NONZERO:
        if summary.get(key):
            cards[send_label(key)] = summary[key]
    cards[send_label("elapsed_s")] = f"{summary['elapsed_s']:.2f} s"
    if not dry_run and sent_count(summary):
        cards[send_label("events_per_s")] = f"{summary['events_per_s']:,.1f}"
    if summary.get("longest_wait_s"):
        cards[send_label("longest_wait_s")] = f"{summary['longest_wait_s']:.2f} s"
    return cards


def live_cards(counts: Mapping[str, int], *, dry_run: bool) -> dict[str, int]:
    """The counts shown while a send runs (outcome -> count), with human labels."""
    keys = ("dry_run", "skipped") if dry_run else ("delivered", "rejected", "failed", "skipped")
    shown_counts = {send_label(k): counts.get(k, 0) for k in keys}
    for key, n in counts.items():
        if n and send_label(key) not in shown_counts:
            shown_counts[send_label(key)] = n
    return shown_counts


__all__ = ["SEND_LABELS", "describe_data", "live_cards", "locate", "mutation_note", "send_cards", "send_label",
           "sent_count", "shown", "source_label"]
