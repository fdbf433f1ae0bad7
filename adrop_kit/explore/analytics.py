"""Analytics on event frames: counts, users, funnels, revenue — plain functions, polars out.

Every function takes a polars or pandas DataFrame (or a `DatasetReport`, meaning its
valid rows) with the dataset columns of SPEC.md (`uid`, `eventName`, `platform`, the
parameters, and optionally a timestamp `ts`), and returns a polars DataFrame or a small
result object. Nothing here loops over rows or users in Python; the plots that draw these
results live in `adrop_kit.explore.plots` (matplotlib, imported lazily) and are also
reachable as `adrop_kit.explore.plot_funnel`.

Conventions: a user is a non-blank `uid`; "day" is the calendar day, in the time zone `tz=`
(default UTC), of the timestamp column (`ts=` names it); rows whose event or user is missing
are left out of user counts. Timestamps may be ISO 8601 text with or without a zone, datetimes
with or without one, dates, or epoch seconds/ms/µs (see `adrop_kit.explore.timestamps` for the
rules; `check_timestamps(df)` reports how a column reads).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from adrop_kit.explore.inputs import require, to_polars
from adrop_kit.explore.timestamps import (
    UTC,
    TimestampReport,
    TimestampWarning,
    check_timestamps,
    days,
    read_times,
    to_utc,
    with_day,
)
from adrop_kit.io.frames import ROW
from adrop_kit.io.jsontext import parse_json_text
from adrop_kit.spec.catalog import ITEMS
from adrop_kit.spec.rules import CURRENCY_PARAM, PURCHASE_EVENT, TX_PARAM
from adrop_kit.support.html import html_table

EVENT = "eventName"
USER = "uid"
PLATFORM = "platform"
TS = "ts"
DAY = "day"

COMMERCE_FUNNEL: tuple[str, ...] = ("view_item", "add_to_cart", "begin_checkout", "purchase")
LEAD_FUNNEL: tuple[str, ...] = ("begin_lead_form", "generate_lead")

_AMOUNT_DTYPE = pl.List(pl.Struct({"price": pl.Float64, "quantity": pl.Float64}))


# -- input ---------------------------------------------------------------------------------
def _keys(by: str | Sequence[str] | None) -> tuple[str, ...]:
    if by is None:
        return ()
    return (by,) if isinstance(by, str) else tuple(by)


def _with_keys(df: pl.DataFrame, by: tuple[str, ...], ts: str, tz: str, what: str,
               effect: str = "are counted under day=null") -> pl.DataFrame:
    """`df` with a `day` column (the calendar day in `tz`) when `by` asks for one and the frame has none."""
    if DAY in by and DAY not in df.columns:
        if ts not in df.columns:
            raise ValueError(f"{what}: 'day' is derived from the timestamp column {ts!r}, which the frame lacks "
                             f"(it has: {', '.join(df.columns)}); pass ts= to name yours")
        df = df.with_columns(days(df, ts, tz=tz, what=what, effect=effect))
    require(df, by, what)
    return df


def _is_user(df: pl.DataFrame, user: str) -> pl.Expr:
    c = pl.col(user)
    return c.is_not_null() & (c.str.strip_chars() != "") if df.schema[user] == pl.String else c.is_not_null()


def _most_first(frame: pl.DataFrame, measure: str, keys: tuple[str, ...]) -> pl.DataFrame:
    """Largest `measure` first; ties in key order, so results are deterministic."""
    return frame.sort([measure, *keys], descending=[True] + [False] * len(keys), nulls_last=True)


# -- counts ------------------------------------------------------------------------------
def event_counts(df: Any, by: str | Sequence[str] = (EVENT,), *, ts: str = TS, tz: str = UTC) -> pl.DataFrame:
    """Events per group of `by` (any columns, plus "day": the day in `tz` of `ts`), most frequent first.

    Rows whose timestamp is missing or unreadable count under day=null (a TimestampWarning counts the unreadable ones).
    """
    keys = _keys(by)
    frame = _with_keys(to_polars(df), keys, ts, tz, "event_counts")
    if not keys:
        return pl.DataFrame({"count": [frame.height]}, schema={"count": pl.Int64})
    return _most_first(frame.group_by(keys).agg(pl.len().cast(pl.Int64).alias("count")), "count", keys)


def unique_users(df: Any, by: str | Sequence[str] | None = None, *, user: str = USER, ts: str = TS,
                 tz: str = UTC) -> int | pl.DataFrame:
    """Distinct users: an int, or with `by` a frame of `users` per group (most users first)."""
    keys = _keys(by)
    frame = to_polars(df)
    require(frame, [user], "unique_users")
    frame = _with_keys(frame, keys, ts, tz, "unique_users")
    frame = frame.lazy().select(*dict.fromkeys([*keys, user])).filter(_is_user(frame, user)).collect()
    if not keys:
        return frame.get_column(user).n_unique()
    return _most_first(frame.group_by(keys).agg(pl.col(user).n_unique().cast(pl.Int64).alias("users")), "users", keys)


def daily_active_users(df: Any, ts: str = TS, *, user: str = USER, tz: str = UTC) -> pl.DataFrame:
    """Per calendar day (in `tz`) of `ts`: distinct users and events, in date order.

    Rows whose timestamp is missing or unreadable are left out (a TimestampWarning counts the unreadable ones).
    """
    frame = to_polars(df)
    require(frame, [user], "daily_active_users")
    frame = _with_keys(frame, (DAY,), ts, tz, "daily_active_users", "are left out")
    return (frame.group_by(DAY)
            .agg(pl.col(user).filter(_is_user(frame, user)).n_unique().cast(pl.Int64).alias("users"),
                 pl.len().cast(pl.Int64).alias("events"))
            .drop_nulls(DAY).sort(DAY))


def platform_breakdown(df: Any, *, user: str = USER) -> pl.DataFrame:
    """Events and users per platform with their shares of the whole (a null platform is its own row).

    `user_share` is the platform's users over all users; a user active on two platforms counts
    on both, so those shares may add up to more than 1.
    """
    frame = to_polars(df)
    require(frame, [PLATFORM, user], "platform_breakdown")
    frame = frame.select(PLATFORM, pl.when(_is_user(frame, user)).then(pl.col(user)).alias("__u"))
    total_users = max(1, frame.get_column("__u").drop_nulls().n_unique())
    return (frame.group_by(PLATFORM)
            .agg(pl.len().cast(pl.Int64).alias("events"),
                 pl.col("__u").drop_nulls().n_unique().cast(pl.Int64).alias("users"))
            .with_columns((pl.col("events") / max(1, frame.height)).alias("event_share"),
                          (pl.col("users") / total_users).alias("user_share"))
            .sort(["events", PLATFORM], descending=[True, False], nulls_last=True))


# -- funnels -------------------------------------------------------------------------------
def funnel(df: Any, steps: Sequence[str] = COMMERCE_FUNNEL, *, user: str = USER, ts: str = TS, tz: str = UTC,
           ordered: bool | None = None) -> pl.DataFrame:
    """Users reaching each step of `steps`: step, event, users, conversion, overall, drop_off.

    A user reaches step k when they did steps 1..k in order: with a timestamp column (and
    `ordered` not False) each step's first occurrence after the previous step's (same
    timestamps are ordered by row); otherwise, or with `ordered=False`, simply having done
    every step up to k. `conversion` is from the previous step, `overall` from step 1
    (both 0 when the base has no users), `drop_off` the users lost since the previous step.
    Rows without a user, and without a readable timestamp when ordering, are left out (a
    TimestampWarning says how many unreadable). Timestamps in any form of `timestamps` are
    ordered as instants; `tz` only places the ones without a zone.
    """
    steps = _keys(steps)
    if not steps:
        raise ValueError("a funnel needs at least one step")
    frame = to_polars(df)
    require(frame, [EVENT, user], "funnel")
    if ordered is None:
        ordered = ts in frame.columns
    elif ordered and ts not in frame.columns:
        raise ValueError(f"funnel(ordered=True) orders by the timestamp column {ts!r}, which the frame lacks "
                         f"(it has: {', '.join(frame.columns)}); pass ts= or ordered=False")
    hint = "; pass ordered=False to count without order" if ordered else ""
    time = (pl.lit(read_times(frame, ts, tz=tz, what="funnel", effect="are left out", hint=hint)) if ordered
            else pl.lit(0))
    ev = (frame.lazy().select(pl.col(user).alias("__u"), pl.col(EVENT).alias("__e"), time.alias("__t"),
                              _is_user(frame, user).alias("__ok"))
          .with_row_index("__pos")
          .filter(pl.col("__ok") & pl.col("__e").is_in(list(steps)) & pl.col("__t").is_not_null()))
    counts = _ordered_counts(ev, steps) if ordered else _unordered_counts(ev, steps)
    return _funnel_frame(steps, counts)


def _ordered_counts(ev: pl.LazyFrame, steps: tuple[str, ...]) -> list[int]:
    """Greedy in-order matching, one join per step: the earliest next step after the previous one."""
    ev = ev.sort("__t", "__pos").with_row_index("__ord").select("__u", "__e", "__ord").collect().lazy()
    at = ev.filter(pl.col("__e") == steps[0]).group_by("__u").agg(pl.col("__ord").min().alias("__at"))
    reached = [at]
    for step in steps[1:]:
        at = (ev.filter(pl.col("__e") == step).join(reached[-1], on="__u", how="inner")
              .filter(pl.col("__ord") > pl.col("__at"))
              .group_by("__u").agg(pl.col("__ord").min().alias("__at")))
        reached.append(at.collect().lazy())
    return [int(r.item()) for r in pl.collect_all([r.select(pl.len()) for r in reached])]


def _unordered_counts(ev: pl.LazyFrame, steps: tuple[str, ...]) -> list[int]:
    names = [f"__s{i}" for i in range(len(steps))]
    flags = ev.group_by("__u").agg((pl.col("__e") == s).any().alias(n) for s, n in zip(steps, names, strict=True))
    row = flags.select(pl.all_horizontal(names[: k + 1]).sum().alias(f"__c{k}") for k in range(len(steps))).collect()
    return [int(v or 0) for v in row.row(0)]


def _funnel_frame(steps: tuple[str, ...], counts: list[int]) -> pl.DataFrame:
    prev = [counts[0], *counts[:-1]]
    first = counts[0]
    return pl.DataFrame({
        "step": list(range(1, len(steps) + 1)),
        "event": list(steps),
        "users": counts,
        "conversion": [c / p if p else 0.0 for c, p in zip(counts, prev, strict=True)],
        "overall": [c / first if first else 0.0 for c in counts],
        "drop_off": [p - c for c, p in zip(counts, prev, strict=True)],
    }, schema={"step": pl.Int64, "event": pl.String, "users": pl.Int64, "conversion": pl.Float64,
               "overall": pl.Float64, "drop_off": pl.Int64})


def lead_funnel(df: Any, **kw: Any) -> pl.DataFrame:
    """`funnel` over the lead steps begin_lead_form → generate_lead."""
    return funnel(df, LEAD_FUNNEL, **kw)


# -- revenue -------------------------------------------------------------------------------
@dataclass
class RevenueReport:
    """Revenue from purchases, with the purchases that reuse a `tx_id` (W107) left out and listed.

    `table`: the `by` columns, `revenue` (sum of item price × quantity), `purchases` (counted
    purchase events) and `items` (units: the sum of item quantities), highest revenue first.
    `duplicates`: one row per excluded purchase — `row` (its `__row`, else its position),
    `tx_id`, `uid`, `first_row` (the earlier purchase that keeps the tx_id) and the `revenue`
    it would have added. Amounts in different currencies are never added together.
    """

    table: pl.DataFrame
    duplicates: pl.DataFrame
    total_by_currency: dict[str | None, float]
    excluded_by_currency: dict[str | None, float] = field(default_factory=dict)
    by: tuple[str, ...] = (CURRENCY_PARAM,)

    def __repr__(self) -> str:
        totals = ", ".join(f"{_money(v)} {k or '(no currency)'}" for k, v in self.total_by_currency.items())
        return (f"<RevenueReport {totals or 'no revenue'}; {self.duplicates.height} duplicate purchase(s) "
                f"excluded (W107)>")

    def _repr_html_(self) -> str:
        totals = "".join(
            f"<div style='padding:6px 14px;border:1px solid #ddd;border-radius:6px;text-align:center'>"
            f"<div style='font-size:1.3em;font-weight:600'>{_money(v)}</div>"
            f"<div style='color:#666'>{html.escape(k or '(no currency)')}</div></div>"
            for k, v in self.total_by_currency.items())
        head = f"<div style='display:flex;gap:10px;margin:6px 0'>{totals}</div>"
        table = _frame_html(self.table)
        n = self.duplicates.height
        if not n:
            return head + table + "<p>No purchase reuses a tx_id.</p>"
        lost = ", ".join(f"{_money(v)} {html.escape(k or '(no currency)')}"
                         for k, v in self.excluded_by_currency.items())
        dup = _frame_html(self.duplicates.head(10))
        more = f"<p style='color:#666'>first 10 of {n:,}; see <code>.duplicates</code></p>" if n > 10 else ""
        return (head + table + f"<p>⚠️ <b>W107</b>: {n:,} purchase(s) reuse an earlier tx_id and are excluded "
                f"above (would have added {lost}).</p>" + dup + more)


def _money(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.2f}"


def _frame_html(frame: pl.DataFrame) -> str:
    def cell(v: Any) -> Any:
        return _money(v) if isinstance(v, float) else "—" if v is None else v

    return html_table(([cell(v) for v in r] for r in frame.rows()), frame.columns)


def _decode_items(col: pl.Series) -> pl.Series:
    """JSON-text items → List(Struct(price, quantity)); cells that are not arrays of objects hold no items."""
    try:
        return col.str.json_decode(_AMOUNT_DTYPE)
    except pl.exceptions.PolarsError:
        pass

    def number(v: Any) -> float | None:
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None

    out: list[list[dict[str, float | None]] | None] = []
    for text in col.to_list():  # slow path, only for cells polars cannot decode (NaN tokens, odd types)
        try:
            value = None if text is None else parse_json_text(text)
        except ValueError:
            value = None
        out.append([{"price": number(it.get("price")), "quantity": number(it.get("quantity"))}
                    for it in value if isinstance(it, dict)] if isinstance(value, list) else None)
    return pl.Series(col.name, out, dtype=_AMOUNT_DTYPE)


def _amounts(purchases: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """(revenue, units) of each purchase row: Σ price × quantity and Σ quantity, quantity absent → 1."""
    zero = pl.lit(0.0), pl.lit(0.0)
    if ITEMS not in purchases.columns:
        return zero
    dtype = purchases.schema[ITEMS]
    items = pl.col(ITEMS)
    if not (isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)):
        return zero
    fields = {f.name for f in dtype.inner.fields}
    el = pl.element().struct
    qty = el.field("quantity").cast(pl.Float64).fill_null(1.0) if "quantity" in fields else pl.lit(1.0)
    price = el.field("price").cast(pl.Float64) if "price" in fields else pl.lit(None, pl.Float64)
    revenue = items.list.eval(price * qty).list.sum().fill_null(0.0)
    units = items.list.eval(qty).list.sum().fill_null(0.0)
    return revenue, units


def revenue(df: Any, by: str | Sequence[str] = (CURRENCY_PARAM,), *, ts: str = TS, tz: str = UTC) -> RevenueReport:
    """Revenue of the purchase events per group of `by` (e.g. ("currency", "platform"), or "day").

    A purchase whose `tx_id` an earlier purchase (by row) already used is rule W107: it is
    excluded from every total and listed in `.duplicates`. Item prices that are absent add nothing.
    """
    keys = _keys(by)
    frame = to_polars(df)
    require(frame, [EVENT], "revenue")
    frame = _with_keys(frame, keys, ts, tz, "revenue")
    pos = pl.col(ROW).cast(pl.Int64) if ROW in frame.columns else pl.int_range(pl.len(), dtype=pl.Int64)
    buys = frame.with_columns(pos.alias("__r")).filter(pl.col(EVENT) == PURCHASE_EVENT)
    if ITEMS in buys.columns and buys.schema[ITEMS] == pl.String:  # CSV/JSON sources hold JSON text
        buys = buys.with_columns(_decode_items(buys.get_column(ITEMS)))
    amount, units = _amounts(buys)
    buys = buys.with_columns(amount.alias("__amount"), units.alias("__units"))
    if TX_PARAM in buys.columns and buys.schema[TX_PARAM] == pl.String:
        tx = pl.col(TX_PARAM)
        first = pl.col("__r").min().over(TX_PARAM)
        buys = buys.with_columns(pl.when(tx.is_not_null() & (tx != "")).then(first).alias("__first"))
    else:
        buys = buys.with_columns(pl.lit(None, pl.Int64).alias("__first"))
    is_dup = pl.col("__first").is_not_null() & (pl.col("__first") != pl.col("__r"))
    kept, dups = buys.filter(~is_dup), buys.filter(is_dup)

    aggs = [pl.col("__amount").sum().alias("revenue"), pl.len().cast(pl.Int64).alias("purchases"),
            pl.col("__units").sum().round(0).cast(pl.Int64).alias("items")]
    if keys:
        table = _most_first(kept.group_by(keys).agg(aggs), "revenue", keys)
    else:
        table = kept.select(aggs)
    currency = pl.col(CURRENCY_PARAM) if CURRENCY_PARAM in buys.columns else pl.lit(None, pl.String)

    def per_currency(rows: pl.DataFrame) -> dict[str | None, float]:
        sums = rows.group_by(currency.alias("__c")).agg(pl.col("__amount").sum()).sort("__amount", descending=True)
        return dict(zip(sums.get_column("__c").to_list(), sums.get_column("__amount").to_list(), strict=True))

    duplicates = dups.select(
        pl.col("__r").alias("row"),
        pl.col(TX_PARAM) if TX_PARAM in dups.columns else pl.lit(None, pl.String).alias(TX_PARAM),
        pl.col(USER) if USER in dups.columns else pl.lit(None, pl.String).alias(USER),
        pl.col("__first").alias("first_row"),
        currency.alias(CURRENCY_PARAM),
        pl.col("__amount").alias("revenue"),
    ).sort("row")
    return RevenueReport(table=table, duplicates=duplicates, total_by_currency=per_currency(kept),
                         excluded_by_currency=per_currency(dups), by=keys)


__all__ = ["COMMERCE_FUNNEL", "LEAD_FUNNEL", "RevenueReport", "TimestampReport", "TimestampWarning",
           "check_timestamps", "daily_active_users", "event_counts", "funnel", "lead_funnel", "platform_breakdown",
           "revenue", "to_polars", "to_utc", "unique_users", "with_day"]
