"""Charts of the analytics results, drawn with matplotlib's object API.

Each function returns a `matplotlib.figure.Figure` and takes `ax=None` to draw into an
existing axes instead. No pyplot state is touched, so the charts work headless (CI, a
server) and inside ipywidgets `Output`s; in a notebook run `%matplotlib inline` once so a
returned Figure renders as an image. `save_png(fig, path)` writes a PNG file.

Korean labels: matplotlib's default font has no Hangul, so every chart falls back, glyph by
glyph, to a CJK font when one is installed (Noto Sans CJK, NanumGothic, Malgun Gothic,
AppleGothic, …; see `adrop_kit.explore.fonts`), without touching your rcParams. On Debian or
Ubuntu install one with `apt-get install fonts-noto-cjk` (or `fonts-nanum`). Without one the
charts still draw, with boxes for the Hangul and a "Glyph … missing" warning from matplotlib.

The day charts take `ts=` (the timestamp column, in any form `adrop_kit.explore.timestamps`
reads) and `tz=` (the time zone whose calendar days are counted, default UTC); events whose
timestamp is missing or unreadable are left out and counted in a note on the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

try:
    from matplotlib.axes import Axes
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, DayLocator
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
except ImportError as exc:  # pragma: no cover - matplotlib ships with the notebooks extra
    raise ImportError("adrop_kit.explore.plots needs matplotlib: pip install 'adrop-kit[notebooks]'") from exc

from adrop_kit.explore import analytics as an
from adrop_kit.explore.fonts import cjk_figure
from adrop_kit.explore.timestamps import UTC, days
from adrop_kit.validate.report import DatasetReport

BLUE, ORANGE, GREEN, GREY = "#4C72B0", "#DD8452", "#55A868", "#8C8C8C"
PALETTE = (BLUE, ORANGE, GREEN, "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#CCB974", "#64B5CD", GREY)
SEVERITY_COLORS = {"error": "#C44E52", "warning": "#DD8452"}
NONE_LABEL = "(none)"

_THOUSANDS = FuncFormatter(lambda x, _: f"{x:,.0f}")


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig = Figure(figsize=size, layout="constrained")
        return fig, fig.add_subplot()
    return ax.get_figure(root=True), ax  # type: ignore[return-value]


def _tidy(ax: Axes, title: str, *, grid: str = "y") -> None:
    """One quiet style: a title, no top/right frame, a light grid behind the data."""
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis=grid, color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(length=0)


def _label(value: Any) -> str:
    return NONE_LABEL if value is None else str(value)


def _money(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.2f}"


# -- funnels ---------------------------------------------------------------------------------
@cjk_figure
def plot_funnel(funnel_frame: pl.DataFrame, *, ax: Axes | None = None, title: str = "Funnel") -> Figure:
    """Horizontal bars, step 1 on top: users per step, labelled with the conversion from the step before."""
    fig, ax = _axes(ax, (8, 0.6 * funnel_frame.height + 1.6))
    rows = funnel_frame.sort("step").to_dicts()
    y = list(range(len(rows)))
    users = [r["users"] for r in rows]
    ax.barh(y, users, color=BLUE, height=0.6)
    ax.set_yticks(y, [f"{r['step']}. {r['event']}" for r in rows])
    ax.invert_yaxis()
    top = max(users, default=0) or 1
    for i, r in enumerate(rows):
        note = f"{r['users']:,}" if i == 0 else f"{r['users']:,}  ·  {r['conversion']:.1%} of previous"
        ax.text(r["users"] + top * 0.01, i, note, va="center", fontsize=9, color="#333")
    ax.set_xlim(0, top * 1.45)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel("users")
    overall = rows[-1]["overall"] if rows else 0.0
    _tidy(ax, f"{title} — {overall:.1%} of step 1 reach the end", grid="x")
    return fig


# -- revenue ---------------------------------------------------------------------------------
@cjk_figure
def plot_revenue(report: an.RevenueReport, *, ax: Axes | Sequence[Axes] | None = None, currency: str | None = None,
                 title: str = "Revenue") -> Figure:
    """Bars of revenue, one panel per currency (amounts in different currencies never share an axis).

    Within a panel, one bar per group of the report's other `by` columns (e.g. platform).
    `currency=` draws one currency only; `ax` is one Axes per drawn currency.
    """
    table = report.table
    by = [k for k in report.by if k != "currency"]
    if "currency" in report.by:
        currencies = table.get_column("currency").unique(maintain_order=True).to_list()
        if currency is not None:
            currencies = [c for c in currencies if c == currency]
            if not currencies:
                raise ValueError(f"no revenue in currency {currency!r}")
    else:
        currencies = [None]
    axes: list[Axes]
    if ax is None:
        fig = Figure(figsize=(max(5.0, 3.2 * len(currencies)), 3.8), layout="constrained")
        axes = list(fig.subplots(1, len(currencies), squeeze=False)[0])
    else:
        axes = [ax] if isinstance(ax, Axes) else list(ax)
        if len(axes) != len(currencies):
            raise ValueError(f"{len(currencies)} currencies to draw but {len(axes)} axes given; "
                             "pass currency= or one Axes per currency")
        fig = axes[0].get_figure(root=True)  # type: ignore[assignment]
    for i, (cur, a) in enumerate(zip(currencies, axes, strict=True)):
        part = table.filter(pl.col("currency").eq_missing(cur)) if "currency" in report.by else table
        labels = [" / ".join(_label(r[k]) for k in by) or "total" for r in part.iter_rows(named=True)]
        values = part.get_column("revenue").to_list()
        bars = a.bar(range(len(values)), values, color=PALETTE[i % len(PALETTE)], width=0.65)
        a.bar_label(bars, labels=[_money(v) for v in values], padding=2, fontsize=8, color="#333")
        a.set_xticks(range(len(values)), labels, rotation=30 if len(values) > 4 else 0,
                     ha="right" if len(values) > 4 else "center")
        a.yaxis.set_major_formatter(_THOUSANDS)
        a.margins(y=0.15)
        unit = ("no currency" if cur is None else str(cur)) if "currency" in report.by else "all currencies"
        a.set_ylabel("revenue")
        _tidy(a, f"{title} — {unit}")
    n = report.duplicates.height
    if n:
        fig.supxlabel(f"{n:,} purchase(s) reusing a tx_id (W107) excluded", fontsize=9, color="#C44E52")
    return fig


# -- activity --------------------------------------------------------------------------------
@cjk_figure
def plot_events_by_day(df: Any, *, ts: str = "ts", tz: str = UTC, by: str | None = None, top: int = 8,
                       ax: Axes | None = None, title: str = "Events per day") -> Figure:
    """A line of events per calendar day in `tz`; with `by` (e.g. "platform") one line per value,
    the `top` largest kept and the rest summed as "other"."""
    fig, ax = _axes(ax, (9, 3.8))
    frame, undated = _dated(df, ts, tz, "plot_events_by_day")
    if by is None:
        daily = an.event_counts(frame, by=("day",), ts=ts).sort("day")
        ax.plot(daily.get_column("day").to_list(), daily.get_column("count").to_list(), color=BLUE, marker="o",
                markersize=3, linewidth=1.6, label="events")
    else:
        counts = an.event_counts(frame, by=(by, "day"), ts=ts)
        totals = counts.group_by(by).agg(pl.col("count").sum()).sort("count", descending=True, nulls_last=True)
        keep = [_label(k) for k in totals.get_column(by).head(top).to_list()]
        label = pl.col(by).cast(pl.String).fill_null(NONE_LABEL)
        counts = (counts.with_columns(pl.when(label.is_in(keep)).then(label).otherwise(pl.lit("other")).alias("__g"))
                  .group_by("__g", "day").agg(pl.col("count").sum()).sort("day"))
        order = keep + (["other"] if totals.height > top else [])
        for i, g in enumerate(order):
            line = counts.filter(pl.col("__g") == g)
            ax.plot(line.get_column("day").to_list(), line.get_column("count").to_list(),
                    color=PALETTE[i % len(PALETTE)], marker="o", markersize=3, linewidth=1.4, label=g)
        ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0), title=by,
                  title_fontsize=9, alignment="left")
    _dates(ax, undated)
    ax.set_ylabel("events")
    _tidy(ax, title if by is None else f"{title} by {by}")
    return fig


@cjk_figure
def plot_daily_active_users(df: Any, *, ts: str = "ts", tz: str = UTC, ax: Axes | None = None,
                            title: str = "Daily active users") -> Figure:
    """A line of distinct users per calendar day in `tz`."""
    fig, ax = _axes(ax, (9, 3.4))
    frame, undated = _dated(df, ts, tz, "plot_daily_active_users")
    dau = an.daily_active_users(frame, ts)
    dates, users = dau.get_column("day").to_list(), dau.get_column("users").to_list()
    ax.plot(dates, users, color=GREEN, marker="o", markersize=3, linewidth=1.6)
    ax.fill_between(dates, users, color=GREEN, alpha=0.12, linewidth=0)
    _dates(ax, undated)
    ax.set_ylabel("users")
    _tidy(ax, title)
    return fig


def _dated(df: Any, ts: str, tz: str, what: str) -> tuple[pl.DataFrame, int]:
    """The rows whose timestamp reads, with their `day` in `tz`, and how many rows were left out."""
    frame = an.to_polars(df)
    if "day" not in frame.columns:
        if ts not in frame.columns:
            return frame, 0  # the analytics say which column is missing
        frame = frame.with_columns(days(frame, ts, tz=tz, what=what, effect="are not drawn"))
    dated = frame.filter(pl.col("day").is_not_null())
    return dated, frame.height - dated.height


def _dates(ax: Axes, undated: int = 0) -> None:
    lo, hi = ax.dataLim.intervalx
    locator = DayLocator() if hi - lo < 12 else AutoDateLocator()  # days, never hours, on a short range
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 ticks printed as "0" and "1"
    ax.yaxis.set_major_formatter(_THOUSANDS)
    ax.set_ylim(bottom=0)
    if undated:
        ax.text(1.0, 1.02, f"{undated:,} events without a readable timestamp not shown", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=8, color=SEVERITY_COLORS["error"])


@cjk_figure
def plot_platforms(df: Any, *, ax: Axes | None = None, title: str = "Platforms") -> Figure:
    """Side-by-side bars of each platform's share of events and of users, labelled with the counts."""
    fig, ax = _axes(ax, (8, 3.8))
    pb = an.platform_breakdown(df)
    x = list(range(pb.height))
    w = 0.38
    for offset, (share, count, color, name) in zip(
            (-w / 2, w / 2), (("event_share", "events", BLUE, "events"), ("user_share", "users", ORANGE, "users")),
            strict=True):
        bars = ax.bar([i + offset for i in x], pb.get_column(share).to_list(), width=w, color=color, label=name)
        ax.bar_label(bars, labels=[f"{v:,}" for v in pb.get_column(count).to_list()], padding=2, fontsize=8,
                     color="#333")
    ax.set_xticks(x, [_label(p) for p in pb.get_column("platform").to_list()])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share of all")
    ax.margins(y=0.12)
    ax.legend(frameon=False, fontsize=9)
    _tidy(ax, title)
    return fig


# -- validation --------------------------------------------------------------------------------
@cjk_figure
def plot_failures_by_rule(report: DatasetReport, *, ax: Axes | None = None,
                          title: str = "Violations by rule") -> Figure:
    """Horizontal bars of violations per rule (errors first), colored by severity."""
    rules = report.by_rule().sort("rule")
    fig, ax = _axes(ax, (10, 0.42 * max(rules.height, 2) + 1.4))
    if not rules.height:
        ax.text(0.5, 0.5, "no violations: every row is valid", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        _tidy(ax, title)
        return fig
    rows = rules.to_dicts()
    y = list(range(len(rows)))
    counts = [r["violations"] for r in rows]
    bars = ax.barh(y, counts, color=[SEVERITY_COLORS.get(r["severity"], GREY) for r in rows], height=0.65)
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=3, fontsize=8, color="#333")
    ax.set_yticks(y, [f"{r['rule']}  {_short(r['title'])}" for r in rows], fontsize=9)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_xlabel("violations")
    ax.margins(x=0.12)
    present = [s for s in SEVERITY_COLORS if any(r["severity"] == s for r in rows)]
    ax.legend(handles=[Patch(color=SEVERITY_COLORS[s], label=s) for s in present], frameon=False, fontsize=9,
              loc="lower right")
    _tidy(ax, title, grid="x")
    return fig


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def save_png(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Write `fig` as a PNG (white background, tight margins); no display needed. Returns the path."""
    path = Path(path)
    fig.savefig(path, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return path


__all__ = ["plot_daily_active_users", "plot_events_by_day", "plot_failures_by_rule", "plot_funnel", "plot_platforms",
           "plot_revenue", "save_png"]
