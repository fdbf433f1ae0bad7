"""Looking at event data: analytics as plain functions returning polars frames (`analytics`:
counts, funnels, revenue, platforms), their matplotlib charts (`plots`) and realistic
synthetic datasets with planted errors (`synth`).

Layer: beside `send`; may import `adrop_kit.spec`, `adrop_kit.io`, `adrop_kit.validate`, `adrop_kit.support`.
"""

from __future__ import annotations

from typing import Any

from adrop_kit.explore.analytics import (
    COMMERCE_FUNNEL,
    LEAD_FUNNEL,
    RevenueReport,
    daily_active_users,
    event_counts,
    funnel,
    lead_funnel,
    platform_breakdown,
    revenue,
    to_polars,
    unique_users,
)
from adrop_kit.explore.timestamps import TimestampReport, TimestampWarning, check_timestamps, to_utc, with_day

PLOTS = ("plot_daily_active_users", "plot_events_by_day", "plot_failures_by_rule", "plot_funnel", "plot_platforms",
         "plot_revenue", "save_png")
"""The charts (`explore.plots`), imported on first use: matplotlib is an optional extra."""


def __getattr__(name: str) -> Any:
    if name in PLOTS:
        from adrop_kit.explore import plots

        return getattr(plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["COMMERCE_FUNNEL", "LEAD_FUNNEL", "PLOTS", "RevenueReport", "daily_active_users", "event_counts", "funnel",
           "lead_funnel", "platform_breakdown", "revenue", "to_polars", "unique_users",
           "TimestampReport", "TimestampWarning", "check_timestamps", "to_utc", "with_day"]
