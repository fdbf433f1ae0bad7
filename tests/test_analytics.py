"""Analytics: counts, funnels and revenue with known answers, on hand-built and synthetic frames; charts headless."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from adrop_kit import explore, validate_events
from adrop_kit.explore import (
    COMMERCE_FUNNEL,
    LEAD_FUNNEL,
    RevenueReport,
    daily_active_users,
    event_counts,
    funnel,
    lead_funnel,
    platform_breakdown,
    plots,
    revenue,
    to_polars,
    unique_users,
)
from adrop_kit.explore.synth import sample_events, sample_frame, write_sample

T0 = datetime(2026, 11, 1, 9, 0)
PNG = b"\x89PNG\r\n\x1a\n"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# -- hand-built data with known answers ------------------------------------------------------
# u1 does the whole funnel in order; u2 adds to cart *before* viewing, then checks out (no
# purchase); u3 views, adds, and buys without a checkout; u4 only buys. Rows are shuffled so
# the order comes from `ts`, not from the row order.
JOURNEYS = [
    ("u1", "view_item", 0, "web"), ("u1", "add_to_cart", 1, "web"), ("u1", "begin_checkout", 2, "web"),
    ("u1", "purchase", 3, "web"),
    ("u2", "add_to_cart", 0, "ios"), ("u2", "view_item", 5, "ios"), ("u2", "begin_checkout", 6, "ios"),
    ("u3", "view_item", 0, "android"), ("u3", "add_to_cart", 1, "android"), ("u3", "purchase", 2, "android"),
    ("u4", "purchase", 60 * 24, "web"),
    ("u3", "begin_lead_form", 30, "android"), ("u3", "generate_lead", 31, "android"),
    ("u4", "begin_lead_form", 60 * 24 + 1, "web"),
]
ORDERED = [3, 2, 1, 1]  # view: u1 u2 u3; then cart: u1 u3 (u2's cart came first); checkout: u1; purchase: u1
UNORDERED = [3, 3, 2, 1]  # without time: u2 has view+cart+checkout, u3 view+cart


def journeys() -> pl.DataFrame:
    rows = [{"uid": u, "eventName": e, "ts": at(m), "platform": p} for u, e, m, p in JOURNEYS]
    order = [5, 0, 9, 3, 12, 1, 7, 10, 2, 13, 4, 8, 6, 11]
    return pl.DataFrame([rows[i] for i in order])


def test_funnel_orders_each_users_steps_by_time() -> None:
    f = funnel(journeys())
    assert f.columns == ["step", "event", "users", "conversion", "overall", "drop_off"]
    assert f["step"].to_list() == [1, 2, 3, 4]
    assert f["event"].to_list() == list(COMMERCE_FUNNEL)
    assert f["users"].to_list() == ORDERED
    assert f["conversion"].to_list() == pytest.approx([1.0, 2 / 3, 1 / 2, 1.0])
    assert f["overall"].to_list() == pytest.approx([1.0, 2 / 3, 1 / 3, 1 / 3])
    assert f["drop_off"].to_list() == [0, 1, 1, 0]


def test_funnel_without_time_counts_having_done_every_previous_step() -> None:
    assert funnel(journeys().drop("ts"))["users"].to_list() == UNORDERED
    assert funnel(journeys(), ordered=False)["users"].to_list() == UNORDERED


def test_funnel_breaks_timestamp_ties_by_row_order() -> None:
    same = pl.DataFrame({"uid": ["a", "a", "b", "b"], "eventName": ["view_item", "add_to_cart"] * 2,
                         "ts": [T0] * 4})
    assert funnel(same, ("view_item", "add_to_cart"))["users"].to_list() == [2, 2]
    swapped = same.with_columns(pl.Series("eventName", ["add_to_cart", "view_item", "view_item", "add_to_cart"]))
    assert funnel(swapped, ("view_item", "add_to_cart"))["users"].to_list() == [2, 1]


def test_a_step_repeated_needs_a_second_occurrence() -> None:
    df = pl.DataFrame({"uid": ["a", "a", "b"], "eventName": ["view_item"] * 3, "ts": [at(0), at(1), at(0)]})
    assert funnel(df, ("view_item", "view_item"))["users"].to_list() == [2, 1]


def test_funnel_ignores_blank_users_and_unknown_steps_and_handles_nobody() -> None:
    df = pl.DataFrame({"uid": ["", None, "  ", "a"], "eventName": ["view_item"] * 4, "ts": [T0] * 4})
    assert funnel(df, ("view_item",))["users"].to_list() == [1]
    empty = funnel(df, ("purchase", "view_item"))
    assert empty["users"].to_list() == [0, 0]
    assert empty["conversion"].to_list() == [0.0, 0.0] and empty["overall"].to_list() == [0.0, 0.0]


def test_lead_funnel() -> None:
    f = lead_funnel(journeys())
    assert f["event"].to_list() == list(LEAD_FUNNEL)
    assert f["users"].to_list() == [2, 1]
    assert f["conversion"][1] == pytest.approx(0.5)


def test_funnel_reads_timestamps_held_as_text() -> None:
    text = journeys().with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S"))
    assert funnel(text)["users"].to_list() == ORDERED


def test_ordered_funnel_without_a_timestamp_says_which_column_is_missing() -> None:
    with pytest.raises(ValueError, match="'ts'"):
        funnel(journeys().drop("ts"), ordered=True)
    with pytest.raises(ValueError, match="'uid'"):
        funnel(journeys().drop("uid"))
    with pytest.raises(ValueError, match="at least one step"):
        funnel(journeys(), ())


def test_event_counts_by_name_platform_and_day() -> None:
    df = journeys()
    counts = event_counts(df)
    assert counts.columns == ["eventName", "count"]
    assert counts.rows()[:3] == [("add_to_cart", 3), ("purchase", 3), ("view_item", 3)]  # ties by name
    assert counts["count"].to_list() == sorted(counts["count"].to_list(), reverse=True)
    assert counts["count"].sum() == df.height
    by_day = dict(event_counts(df, by="day").iter_rows())
    assert by_day == {date(2026, 11, 1): 12, date(2026, 11, 2): 2}
    both = event_counts(df, by=("platform", "day"))
    assert both.row(0) == ("android", date(2026, 11, 1), 5)
    assert both.height == 4


def test_event_counts_by_day_without_a_timestamp_names_the_column() -> None:
    with pytest.raises(ValueError, match=r"'ts'.*pass ts="):
        event_counts(journeys().drop("ts"), by=("eventName", "day"))
    with pytest.raises(ValueError, match="'platform'"):
        event_counts(journeys().drop("platform"), by=("platform",))
    assert event_counts(journeys().rename({"ts": "when"}), by="day", ts="when").height == 2


def test_unique_users_total_and_per_group() -> None:
    df = journeys()
    assert unique_users(df) == 4
    per = unique_users(df, by="platform")
    assert dict(per.iter_rows()) == {"web": 2, "ios": 1, "android": 1}
    assert per.columns == ["platform", "users"] and per["users"][0] == 2


def test_daily_active_users_and_platform_breakdown() -> None:
    dau = daily_active_users(journeys())
    assert dau.rows() == [(date(2026, 11, 1), 3, 12), (date(2026, 11, 2), 1, 2)]
    pb = platform_breakdown(journeys())
    assert pb.columns == ["platform", "events", "users", "event_share", "user_share"]
    assert pb.rows()[0] == ("web", 6, 2, pytest.approx(6 / 14), pytest.approx(2 / 4))
    assert pb["event_share"].sum() == pytest.approx(1.0)


# -- revenue ---------------------------------------------------------------------------------------
def purchases() -> list[dict[str, Any]]:
    def buy(uid: str, tx: str | None, cur: str, platform: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {"uid": uid, "eventName": "purchase", "tx_id": tx, "currency": cur, "platform": platform,
                "items": items}

    return [
        buy("u1", "A", "KRW", "web", [{"item_id": "a", "price": 1000.0, "quantity": 2},
                                      {"item_id": "b", "price": 500.0}]),  # 2,500 KRW, 3 units
        {"uid": "u1", "eventName": "view_item", "tx_id": None, "currency": None, "platform": "web", "items": None},
        buy("u2", "B", "USD", "ios", [{"item_id": "c", "price": 9.99, "quantity": 1}]),  # 9.99 USD
        buy("u1", "A", "KRW", "web", [{"item_id": "a", "price": 1000.0, "quantity": 2}]),  # W107: tx A again
        buy("u3", "C", "KRW", "android", [{"item_id": "d", "price": 300.0, "quantity": 3},
                                          {"item_id": "e", "quantity": 1}]),  # 900 KRW (no price: adds 0), 4 units
        buy("u3", None, "KRW", "android", [{"item_id": "f", "price": 100.0}]),  # no tx_id: counted, 100 KRW
    ]


def check_known_revenue(report: RevenueReport) -> None:
    assert report.total_by_currency == pytest.approx({"KRW": 3500.0, "USD": 9.99})
    assert report.table.columns == ["currency", "revenue", "purchases", "items"]
    assert report.table.rows() == [("KRW", pytest.approx(3500.0), 3, pytest.approx(8.0)),
                                   ("USD", pytest.approx(9.99), 1, pytest.approx(1.0))]
    assert report.duplicates.select("row", "tx_id", "uid", "first_row").rows() == [(3, "A", "u1", 0)]
    assert report.duplicates["revenue"].to_list() == [pytest.approx(2000.0)]
    assert report.excluded_by_currency == pytest.approx({"KRW": 2000.0})


def test_revenue_is_price_times_quantity_without_duplicate_tx_ids() -> None:
    check_known_revenue(revenue(pl.DataFrame(purchases())))


def test_revenue_by_currency_and_platform() -> None:
    report = revenue(pl.DataFrame(purchases()), by=("currency", "platform"))
    assert report.table.select("currency", "platform", "revenue").rows() == [
        ("KRW", "web", pytest.approx(2500.0)), ("KRW", "android", pytest.approx(1000.0)),
        ("USD", "ios", pytest.approx(9.99))]
    assert report.total_by_currency == pytest.approx({"KRW": 3500.0, "USD": 9.99})
    assert revenue(pl.DataFrame(purchases()), by=()).table.rows() == [(pytest.approx(3509.99), 4, 9.0)]


def test_revenue_from_items_held_as_json_text() -> None:
    rows = [{**r, "items": None if r["items"] is None else json.dumps(r["items"])} for r in purchases()]
    check_known_revenue(revenue(pl.DataFrame(rows)))
    rows[0]["items"] = '[{"item_id": "a", "price": 1000, "quantity": 2}, {"item_id": "b", "price": 500}, NaN]'
    rows[2]["items"] = "not json"  # polars cannot decode these: the slow path must agree
    report = revenue(pl.DataFrame(rows))
    assert report.total_by_currency == pytest.approx({"KRW": 3500.0, "USD": 0.0})  # still a purchase, no items
    assert report.table.filter(pl.col("currency") == "USD").rows() == [("USD", 0.0, 1, 0.0)]


def test_revenue_duplicates_are_named_by_their_input_row() -> None:
    report = revenue(pl.DataFrame(purchases()).with_columns(pl.Series("__row", [10, 11, 12, 13, 14, 15])))
    assert report.duplicates.select("row", "first_row").rows() == [(13, 10)]


def test_revenue_without_tx_ids_or_quantities() -> None:
    rows = [{**r, "items": [{"price": i.get("price")} for i in r["items"]] if r["items"] else None}
            for r in purchases()]
    report = revenue(pl.DataFrame(rows).drop("tx_id"))
    assert report.duplicates.height == 0  # no tx_id, no W107
    assert report.total_by_currency == pytest.approx({"KRW": 1000 + 500 + 1000 + 300 + 100, "USD": 9.99})
    assert report.table["items"].to_list() == [6.0, 1.0]


def test_revenue_html_and_repr_flag_the_duplicates() -> None:
    report = revenue(pl.DataFrame(purchases()))
    page = report._repr_html_()
    assert "W107" in page and "3,500" in page and "2,000" in page
    assert "1 duplicate" in repr(report)


# -- inputs --------------------------------------------------------------------------------------------
def test_pandas_input_gives_the_same_answers_as_polars() -> None:
    pdf = pd.DataFrame(purchases())
    check_known_revenue(revenue(pdf))
    jp = journeys().to_pandas()
    assert funnel(jp).equals(funnel(journeys()))
    assert event_counts(jp, by=("platform", "day")).equals(event_counts(journeys(), by=("platform", "day")))
    assert unique_users(jp) == 4
    assert platform_breakdown(jp).equals(platform_breakdown(journeys()))


def test_to_polars_accepts_frames_and_reports_only() -> None:
    df = journeys()
    assert to_polars(df) is df
    assert to_polars(df.lazy()).equals(df)
    report = validate_events(pl.DataFrame(purchases()))
    assert to_polars(report).height == report.valid == 4  # the view_item without item_id and the purchase
    assert 5 not in to_polars(report)["__row"].to_list()  # without tx_id are not valid rows
    with pytest.raises(TypeError, match="validate_events"):
        to_polars("events.csv")


def test_plots_are_reachable_from_explore() -> None:
    assert explore.plot_funnel is plots.plot_funnel
    assert explore.save_png is plots.save_png
    with pytest.raises(AttributeError):
        explore.no_such_thing  # noqa: B018


# -- the synthetic dataset: properties and slow references ----------------------------------------
@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    return sample_frame(20_000, seed=3)


def slow_ordered_funnel(df: pl.DataFrame, steps: tuple[str, ...]) -> list[int]:
    by_user: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
    for i, (uid, ev, ts) in enumerate(df.select("uid", "eventName", "ts").iter_rows()):
        if uid and uid.strip() and ev in steps and ts is not None:
            by_user[uid].append((ts, i, ev))
    counts = [0] * len(steps)
    for events in by_user.values():
        k = 0
        for _, _, ev in sorted(events):
            if k < len(steps) and ev == steps[k]:
                counts[k] += 1
                k += 1
    return counts


def test_sample_funnel_is_monotone_and_matches_a_slow_reference(sample: pl.DataFrame) -> None:
    ordered = funnel(sample)
    loose = funnel(sample, ordered=False)
    for f in (ordered, loose):
        users = f["users"].to_list()
        assert users[0] > 0 and all(a >= b for a, b in zip(users, users[1:], strict=False))
        assert f["drop_off"].to_list() == [0] + [a - b for a, b in zip(users, users[1:], strict=False)]
        assert all(0 <= c <= 1 for c in f["conversion"].to_list())
    assert all(o <= u for o, u in zip(ordered["users"], loose["users"], strict=True))
    assert ordered["users"].to_list() == slow_ordered_funnel(sample, COMMERCE_FUNNEL)
    assert lead_funnel(sample)["users"].to_list() == slow_ordered_funnel(sample, LEAD_FUNNEL)


def test_sample_revenue_matches_a_slow_reference(sample: pl.DataFrame) -> None:
    expected: dict[str | None, float] = defaultdict(float)
    seen: set[str] = set()
    duplicates = []
    for row, event in enumerate(sample_events(20_000, seed=3)):
        if event.get("eventName") != "purchase":
            continue
        tx = event.get("tx_id")
        if tx:
            if tx in seen:
                duplicates.append(row)
                continue
            seen.add(tx)
        for item in event.get("items") or []:
            if "price" in item:
                expected[event.get("currency")] += item["price"] * item.get("quantity", 1)
    report = revenue(sample)
    assert report.total_by_currency == pytest.approx(dict(expected))
    assert report.duplicates["row"].to_list() == duplicates
    by_both = revenue(sample, by=("currency", "platform"))
    regrouped = by_both.table.group_by("currency").agg(pl.col("revenue").sum())
    assert dict(regrouped.iter_rows()) == pytest.approx(report.total_by_currency)


def test_sample_duplicates_are_exactly_the_w107_rows(sample: pl.DataFrame) -> None:
    report = revenue(sample)
    w107 = validate_events(sample).rows_for("W107")
    assert w107, "the sample should plant at least one reused tx_id"
    assert report.duplicates["row"].to_list() == w107
    assert sample.filter(pl.col("_truth") == "W107").height == len(w107)


def test_sample_counts_add_up(sample: pl.DataFrame) -> None:
    assert event_counts(sample)["count"].sum() == sample.height
    assert event_counts(sample, by=("eventName", "platform", "day"))["count"].sum() == sample.height
    users = {u for u in sample["uid"].to_list() if u and u.strip()}
    assert unique_users(sample) == len(users)
    dau = daily_active_users(sample)
    assert dau["events"].sum() == sample.height
    assert dau["day"].is_sorted()
    assert platform_breakdown(sample)["event_share"].sum() == pytest.approx(1.0)


def test_a_csv_file_read_back_gives_the_same_analytics(tmp_path: Path) -> None:
    csv = write_sample(tmp_path / "events.csv", 3_000, seed=5)
    pq = write_sample(tmp_path / "events.parquet", 3_000, seed=5)
    from_csv, from_pq = validate_events(csv).valid_rows, validate_events(pq).valid_rows
    assert from_csv.schema["items"] == pl.String and from_csv.schema["ts"] == pl.String
    assert funnel(from_csv).equals(funnel(from_pq))
    a, b = revenue(from_csv, by=("currency", "platform")), revenue(from_pq, by=("currency", "platform"))
    assert a.total_by_currency == pytest.approx(b.total_by_currency)
    assert a.duplicates["row"].to_list() == b.duplicates["row"].to_list()
    assert daily_active_users(from_csv).equals(daily_active_users(from_pq))


# -- plots ---------------------------------------------------------------------------------------------
def bars(fig: Any) -> int:
    return sum(len(ax.patches) for ax in fig.axes)


def test_plot_funnel_draws_one_bar_per_step(tmp_path: Path) -> None:
    fig = plots.plot_funnel(funnel(journeys()))
    assert bars(fig) == 4
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any("66.7% of previous" in t for t in labels)
    assert plots.save_png(fig, tmp_path / "f.png").read_bytes().startswith(PNG)


def test_plot_revenue_one_panel_per_currency(sample: pl.DataFrame) -> None:
    report = revenue(sample, by=("currency", "platform"))
    fig = plots.plot_revenue(report)
    assert bars(fig) == report.table.height
    assert len(fig.axes) == report.table["currency"].n_unique()
    one = plots.plot_revenue(report, currency="USD")
    assert len(one.axes) == 1 and bars(one) == report.table.filter(pl.col("currency") == "USD").height
    by_platform = revenue(sample, by="platform")
    assert bars(plots.plot_revenue(by_platform)) == by_platform.table.height
    with pytest.raises(ValueError, match="currency="):
        plots.plot_revenue(report, ax=fig.axes[0])


def test_plot_events_by_day_lines(sample: pl.DataFrame) -> None:
    days = daily_active_users(sample).height
    fig = plots.plot_events_by_day(sample)
    assert len(fig.axes[0].lines) == 1 and len(fig.axes[0].lines[0].get_xdata()) == days
    per_platform = plots.plot_events_by_day(sample, by="platform")
    assert len(per_platform.axes[0].lines) == sample["platform"].n_unique()
    top3 = plots.plot_events_by_day(sample, by="eventName", top=3)
    assert [ln.get_label() for ln in top3.axes[0].lines][-1] == "other" and len(top3.axes[0].lines) == 4
    assert len(plots.plot_daily_active_users(sample).axes[0].lines) == 1


def test_plot_platforms_two_bars_per_platform(sample: pl.DataFrame) -> None:
    assert bars(plots.plot_platforms(sample)) == 2 * platform_breakdown(sample).height


def test_plot_failures_by_rule_colors_by_severity(sample: pl.DataFrame) -> None:
    report = validate_events(sample)
    fig = plots.plot_failures_by_rule(report)
    ax = fig.axes[0]
    assert len(ax.patches) == report.by_rule().height
    colors = {p.get_facecolor() for p in ax.patches}
    assert len(colors) == 2  # errors and warnings
    clean = plots.plot_failures_by_rule(validate_events(sample.filter(pl.col("_truth").is_null())))
    assert bars(clean) == 0


def test_plots_draw_into_a_given_axes() -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plots.plot_funnel(funnel(journeys()), ax=left) is fig
    assert plots.plot_platforms(journeys(), ax=right) is fig
    assert len(left.patches) == 4 and len(right.patches) == 2 * 3


@pytest.mark.slow  # a fresh process importing matplotlib
def test_save_png_works_without_a_display_or_pyplot(tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    code = (
        "import sys\n"
        "from adrop_kit import explore as a\n"
        "from adrop_kit.explore.synth import sample_frame\n"
        f"a.save_png(a.plot_funnel(a.funnel(sample_frame(2_000, seed=1))), {str(out)!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no DISPLAY, no MPLBACKEND
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 1_000
