"""What an input that is not yet Adrop events looks like, told from its columns (its first batch's).

`adrop-kit validate` and `send` given a GA4 / Firebase BigQuery export or Segment / RudderStack calls
would find every row E002/E003; `export_hint(columns)` names the export and the `import` to run.
"""

from __future__ import annotations

from collections.abc import Collection

GA4_KEYS = ("event_params", "event_timestamp")
SEGMENT_KEYS = ("messageId", "anonymousId", "type")


def export_kind(columns: Collection[str]) -> str | None:
    """"ga4", "segment" or None, from an input's column names."""
    cols = set(columns)
    if cols.issuperset(GA4_KEYS) or ({"event_name", "event_timestamp", "user_pseudo_id"} <= cols):
        return "ga4"
    if "eventName" not in cols and ("messageId" in cols or {"anonymousId", "type"} <= cols):
        return "segment"
    return None


def export_hint(columns: Collection[str]) -> str | None:
    """One line saying what the input looks like and which `import` to run, or None."""
    kind = export_kind(columns)
    if kind == "ga4":
        return ("this looks like a GA4 / Firebase BigQuery export (event_params, event_timestamp), not Adrop "
                "events: map it first with `adrop-kit import ga4 PATH --out events.parquet`")
    if kind == "segment":
        return ("this looks like Segment / RudderStack calls (messageId, anonymousId, type), not Adrop events: "
                "map them first with `adrop-kit import segment PATH --out events.parquet`")
    return None


__all__ = ["GA4_KEYS", "SEGMENT_KEYS", "export_hint", "export_kind"]
