"""Looking at event data: analytics as plain functions returning polars frames (`analytics`:
counts, funnels, revenue, platforms), their matplotlib charts (`plots`) and realistic
synthetic datasets with planted errors (`synth`).

Layer: beside `send`; may import `adrop_kit.spec`, `adrop_kit.io`, `adrop_kit.validate`, `adrop_kit.support`.
"""

from __future__ import annotations

import typing as _typing

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
from adrop_kit.support.lazy import lazy_exports as _lazy_exports

PLOTS = ("plot_daily_active_users", "plot_events_by_day", "plot_failures_by_rule", "plot_funnel", "plot_platforms",
         "plot_revenue", "save_png")
"""The charts (`explore.plots`), imported on first use: matplotlib is an optional extra."""

if _typing.TYPE_CHECKING:  # not in __all__, so `import *` never loads matplotlib
    from adrop_kit.explore.plots import (  # noqa: F401 - the lazy names of PLOTS
        plot_daily_active_users,
        plot_events_by_day,
        plot_failures_by_rule,
        plot_funnel,
        plot_platforms,
        plot_revenue,
        save_png,
    )

__getattr__, __dir__ = _lazy_exports(__name__, dict.fromkeys(PLOTS, "adrop_kit.explore.plots"))

__all__ = ["COMMERCE_FUNNEL", "LEAD_FUNNEL", "PLOTS", "RevenueReport", "daily_active_users", "event_counts", "funnel",
           "lead_funnel", "platform_breakdown", "revenue", "to_polars", "unique_users",
           "TimestampReport", "TimestampWarning", "check_timestamps", "to_utc", "with_day"]
