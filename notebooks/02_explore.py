# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Explore: funnels, revenue, platforms, with plots
#
# This notebook looks at an Adrop event dataset the way a product analyst would: how many
# events and users, on which platforms, day by day; how users move through the commerce
# funnel (`view_item → add_to_cart → begin_checkout → purchase`) and the lead funnel
# (`begin_lead_form → generate_lead`); and how much revenue the purchases bring, per currency
# and platform, with double-counted purchases (the same `tx_id` twice, rule **W107**) left out.
#
# Every number comes from a plain function in `adrop_kit.explore` (polars in, polars out) and
# every chart from one of its `plot_*` functions, so what you see here is exactly what you get
# in a script. By default it runs on a synthetic sample (50,000 events with known, planted
# mistakes); point `DATA` at your own file to explore your events instead. Run it top to bottom.

# %%
# %matplotlib inline
import polars as pl

import adrop_kit
from adrop_kit import explore as an
from adrop_kit.explore import timestamps
from adrop_kit.explore.synth import sample_frame

DATA = None  # ← or the path of your own events: "events.parquet", "events.csv", "events.jsonl", …

# Validate first, then analyse only the rows Adrop would accept (warnings such as W107 stay in).
report = adrop_kit.validate_events(sample_frame(50_000, seed=7) if DATA is None else DATA)
events = report.valid_rows
print(f"{DATA or 'synthetic sample (seed 7)'}: {report.valid:,} valid of {report.rows:,} rows, "
      f"{an.unique_users(events):,} users")

# %% [markdown]
# ### What was left out
#
# Rows that break an error rule are not part of the analysis. The chart counts violations per
# rule (red: errors, which Adrop rejects; orange: warnings, accepted but probably a data bug).
# `report` renders the details, and `report.violations` lists every one with its row number.

# %%
an.plot_failures_by_rule(report)

# %% [markdown]
# ## Event counts
#
# Events per name, most frequent first. `event_counts` groups by any columns, and by `"day"`
# (taken from the `ts` timestamp column) — e.g. `by=("eventName", "platform", "day")`.

# %%
an.event_counts(events)

# %%
an.event_counts(events, by=("eventName", "platform")).head(10)

# %% [markdown]
# Traffic over time, one line per platform. A dip or a spike on one platform only usually
# means a tracking change (an app release, a tag that stopped firing) rather than real behaviour.

# %%
an.plot_events_by_day(events, by="platform")

# %% [markdown]
# ## Platform breakdown
#
# Events and distinct users per platform, with each platform's share. A user active on two
# platforms counts on both, so user shares can add up to more than 100%.

# %%
an.platform_breakdown(events)

# %%
an.plot_platforms(events)

# %% [markdown]
# ## Daily active users
#
# Distinct users per calendar day of `ts` (in UTC unless you pass `tz=`, see
# [Time zones](#Time-zones-and-timestamp-formats) below), with the number of events they sent.

# %%
dau = an.daily_active_users(events)
print(f"average {dau['users'].mean() or 0:,.0f} users a day over {dau.height} days")
dau.head(7)

# %%
an.plot_daily_active_users(events)

# %% [markdown]
# ## Commerce funnel
#
# A user reaches step *k* when they did steps 1…*k* **in order**: each step's first occurrence
# after the previous one, by `ts` (an `add_to_cart` before any `view_item` does not count).
# `conversion` is from the previous step, `overall` from the first, `drop_off` the users lost
# since the previous step. Pass `ordered=False` to ignore time and just require every earlier step.

# %%
commerce = an.funnel(events)
commerce

# %%
an.plot_funnel(commerce, title="Commerce funnel")

# %% [markdown]
# The same funnel per platform: where does the purchase rate differ?

# %%
pl.concat([
    an.funnel(events.filter(pl.col("platform") == p)).select(
        pl.lit(p).alias("platform"), "event", "users", "conversion", "overall")
    for p in ("web", "android", "ios")
]).filter(pl.col("event") == "purchase")

# %% [markdown]
# ## Lead funnel
#
# Forms started (`begin_lead_form`) and completed (`generate_lead`), with the same ordering rule.

# %%
leads = an.lead_funnel(events)
leads

# %%
an.plot_funnel(leads, title="Lead funnel")

# %% [markdown]
# ## Revenue by currency and platform
#
# Revenue is the sum over each purchase's items of `price × quantity` (an item without a
# quantity counts once). Amounts in different currencies are never added together. A purchase
# that reuses the `tx_id` of an earlier purchase (rule **W107**) would count the same order twice:
# it is excluded from every total and listed in `.duplicates`, with its row number and the row
# of the purchase that keeps the `tx_id`. Given the `report` itself, the rows are numbered as in
# the input (`events`, the valid rows alone, would number them among themselves).

# %%
money = an.revenue(report, by=("currency", "platform"))
money

# %%
money.total_by_currency

# %%
money.duplicates

# %%
an.plot_revenue(money)

# %% [markdown]
# ## Time zones and timestamp formats
#
# `ts` does not have to be a naive datetime. Each value may be ISO 8601 text with or without a
# zone (`2026-11-01T10:20:00Z`, `…+09:00`), a datetime with or without a zone, a date, or an
# epoch number in seconds, milliseconds or microseconds (GA4's `event_timestamp`; the unit comes
# from the size of each number). A value without a zone is read in `tz=` (UTC by default), and a
# "day" is the calendar day in `tz`. Values that cannot be read are counted and reported
# (a `TimestampWarning`), never drawn as 1970.
#
# Here the same events are written the way an export might have them, half with `Z` and half
# with `+09:00`, then counted per day in Seoul: an event at 15:30 UTC belongs to the next day there.

# %%
utc = timestamps.to_utc(events)  # the instants, in any form above → Datetime in UTC
zoned = events.with_columns(
    pl.when(pl.int_range(pl.len()) % 2 == 0)
    .then(utc.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
    .otherwise(utc.dt.convert_time_zone("Asia/Seoul").dt.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z"))
    .alias("ts"))
print(zoned["ts"].head(4).to_list())
timestamps.check_timestamps(zoned, tz="Asia/Seoul")

# %%
seoul = an.daily_active_users(zoned, tz="Asia/Seoul")
seoul.join(an.daily_active_users(zoned), on="day", how="full", coalesce=True, suffix="_utc").sort("day").head(7)

# %%
an.plot_daily_active_users(zoned, tz="Asia/Seoul", title="Daily active users, days in Asia/Seoul")

# %% [markdown]
# A GA4 export has `event_timestamp` in microseconds since 1970 (often as text in a CSV): name
# it with `ts=` and the funnel comes out the same as from the datetimes above.

# %%
ga4 = events.with_columns(event_timestamp=utc.dt.epoch("us").cast(pl.String)).drop("ts")
an.funnel(ga4, ts="event_timestamp").equals(commerce)

# %% [markdown]
# ## Closing note
#
# Everything above is a function call you can reuse: `an.event_counts`, `an.unique_users`,
# `an.daily_active_users`, `an.platform_breakdown`, `an.funnel` / `an.lead_funnel` (any list of
# steps) and `an.revenue`, each taking a polars or pandas DataFrame or a validation report (and,
# where days or order matter, `ts=` for the timestamp column and `tz=` for the time zone). Every
# chart function returns a matplotlib `Figure`; save one with `an.save_png(fig, "funnel.png")`.
# On the synthetic sample the numbers are known by construction, so they double as a check that
# the pipeline works; on your own data, look first at the rows that were left out and at the
# W107 duplicates — both change the totals.
