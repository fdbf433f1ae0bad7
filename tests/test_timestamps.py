"""Timestamps in every form the analytics accept: ISO 8601 with or without a zone, datetimes with or
without one, dates, epoch seconds/ms/µs/ns (GA4), mixed columns, `tz=` days, and what happens to
values that cannot be read (counted, warned about, an error when nothing reads)."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import polars as pl
import pytest

from adrop_kit.explore import daily_active_users, event_counts, funnel, revenue, unique_users
from adrop_kit.explore.analytics import TimestampWarning, check_timestamps, to_utc, with_day

SEOUL = "Asia/Seoul"
AT = datetime(2026, 11, 1, 10, 20, tzinfo=UTC)  # 19:20 in Seoul
EPOCH_S = int(AT.timestamp())  # 1_793_528_400


def utc(df: pl.DataFrame | pd.DataFrame, **kw) -> list[datetime | None]:
    return to_utc(df, **kw).to_list()


def frame(values, dtype=None, name: str = "ts") -> pl.DataFrame:
    return pl.DataFrame({name: pl.Series(values, dtype=dtype, strict=False)})


# -- each form -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    "2026-11-01T10:20:00Z", "2026-11-01T10:20:00z", "2026-11-01T19:20:00+09:00", "2026-11-01T19:20:00+0900",
    "2026-11-01T19:20+09", "2026-11-01T05:20:00-05:00", "2026-11-01 10:20:00 UTC", "2026-11-01T10:20:00.000000Z",
    "2026-11-01T10:20:00.000000000+00:00", "  2026-11-01T10:20:00Z ", "2026-11-01T10:20:00,0Z",
    "2026-11-01T10:20:00", "2026-11-01 10:20:00", "2026-11-01T10:20",  # naive: UTC by default
])
def test_iso_text_with_or_without_a_zone(value: str) -> None:
    assert utc(frame([value])) == [AT]


@pytest.mark.parametrize(("values", "dtype", "form"), [
    ([EPOCH_S], pl.Int64, "epoch s"),
    ([float(EPOCH_S)], pl.Float64, "epoch s"),
    ([EPOCH_S * 1_000], pl.Int64, "epoch ms"),
    ([EPOCH_S * 1_000_000], pl.Int64, "epoch µs"),  # GA4's event_timestamp
    ([EPOCH_S * 1_000_000], pl.UInt64, "epoch µs"),
    ([EPOCH_S * 1_000_000_000], pl.Int64, "epoch ns"),
    ([str(EPOCH_S * 1_000_000)], pl.String, "epoch µs"),  # GA4 exported to CSV: digits as text
    ([str(EPOCH_S * 1_000)], pl.String, "epoch ms"),
    ([f"{EPOCH_S}.0"], pl.String, "epoch s"),
    ([AT], pl.Datetime("us", "UTC"), "zoned datetime"),
    ([AT], pl.Datetime("ns", SEOUL), "zoned datetime"),
    ([AT.replace(tzinfo=None)], pl.Datetime("ms"), "naive datetime"),
])
def test_epoch_numbers_and_datetimes(values, dtype, form) -> None:
    df = frame(values, dtype)
    assert utc(df) == [AT]
    assert check_timestamps(df).forms == {form: 1}


def test_epoch_unit_comes_from_each_values_size_and_fractions_are_kept() -> None:
    ms = EPOCH_S * 1000 + 250
    df = frame([EPOCH_S + 0.25, ms, ms * 1000, ms * 1_000_000, 10**8, 10**11 - 1, 10**11, 10**14, 10**17])
    got = utc(df)
    assert got[:4] == [AT + timedelta(milliseconds=250)] * 4
    assert got[4] == datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)  # 10^8 s: the first instant read
    assert got[5].year == 5138 and got[6] == got[7] == got[8] == datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)


def test_small_negative_and_huge_numbers_are_not_times() -> None:
    df = frame([0, -EPOCH_S, 2026, 99_999_999, EPOCH_S])
    report = check_timestamps(df)
    assert (report.parsed, report.unreadable) == (1, 4)
    assert report.problems["row"].to_list() == [0, 1, 2, 3]
    text = frame(["0", "99999999999999999999", "1e9", str(EPOCH_S)])
    assert check_timestamps(text).unreadable == 3


def test_dates_and_yyyymmdd_are_midnight_in_tz() -> None:
    midnight = datetime(2026, 11, 1, tzinfo=UTC)
    for values in ([date(2026, 11, 1)], ["2026-11-01"], ["20261101"], [20261101]):
        assert utc(frame(values)) == [midnight], values
        assert utc(frame(values), tz=SEOUL) == [midnight - timedelta(hours=9)], values
        assert with_day(frame(values), tz=SEOUL)["day"].to_list() == [date(2026, 11, 1)]
    assert check_timestamps(frame(["20261301"])).unreadable == 1  # not a date, and too small for epoch


def test_naive_values_are_wall_clock_in_tz_zoned_ones_keep_their_zone() -> None:
    naive = ["2026-11-01T19:20:00", "2026-11-01 19:20"]
    assert utc(frame(naive), tz=SEOUL) == [AT, AT]
    assert utc(frame([AT.replace(tzinfo=None) + timedelta(hours=9)]), tz=SEOUL) == [AT]
    assert utc(frame(["2026-11-01T10:20:00Z", "2026-11-01T19:20:00+09:00"]), tz=SEOUL) == [AT, AT]
    assert utc(frame([AT], pl.Datetime("us", "UTC")), tz=SEOUL) == [AT]
    assert utc(frame([EPOCH_S]), tz=SEOUL) == [AT]  # epoch numbers are instants
    assert utc(frame(naive), tz=ZoneInfo(SEOUL)) == [AT, AT]


def test_a_mixed_column_reads_every_value_by_the_same_rules() -> None:
    mixed = frame(["2026-11-01T10:20:00Z", "2026-11-01T19:20:00+09:00", "2026-11-01T10:20:00",
                   str(EPOCH_S * 1_000_000), "20261101"])
    assert utc(mixed) == [AT] * 4 + [datetime(2026, 11, 1, tzinfo=UTC)]
    seoul = utc(mixed, tz=SEOUL)
    assert seoul[:2] == [AT, AT] and seoul[3] == AT  # zoned and epoch values do not move
    assert seoul[2] == AT - timedelta(hours=9)  # the naive one is 10:20 in Seoul
    report = check_timestamps(mixed, tz=SEOUL)
    assert report.forms == {"text with a zone": 2, "YYYYMMDD": 1, "epoch µs": 1, "text without a zone": 1}
    assert report.ok and report.parsed == 5 and "Asia/Seoul" in repr(report)


def test_days_are_calendar_days_in_tz() -> None:
    df = frame(["2026-11-01T14:59:59Z", "2026-11-01T15:00:00Z", "2026-11-01T15:30:00Z",
                "2026-11-02T00:30:00+09:00", "2026-11-01T23:59:59-12:00"])
    assert with_day(df)["day"].to_list() == [date(2026, 11, 1)] * 4 + [date(2026, 11, 2)]
    assert with_day(df, tz=SEOUL)["day"].to_list() == [date(2026, 11, 1)] + [date(2026, 11, 2)] * 4


def test_dst_gaps_move_an_hour_on_and_repeated_times_take_the_earlier() -> None:
    ny = "America/New_York"
    df = frame(["2026-03-08 02:30", "2026-11-01 01:30", "2026-11-01T01:30:00-05:00"])
    assert utc(df, tz=ny) == [datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # 03:30 EDT
                              datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT, the first 01:30
                              datetime(2026, 11, 1, 6, 30, tzinfo=UTC)]  # 01:30 EST, as written


# -- what cannot be read ---------------------------------------------------------------------------------
def test_unreadable_values_are_counted_listed_and_warned_about() -> None:
    df = pl.DataFrame({"uid": ["a", "b", "c", "d", "e"], "eventName": ["app_open"] * 5,
                       "ts": ["2026-11-01T10:20:00Z", "yesterday", None, " ", "2026-02-30T10:00:00"],
                       "__row": [10, 11, 12, 13, 14]})
    report = check_timestamps(df)
    assert (report.rows, report.parsed, report.missing, report.unreadable) == (5, 1, 2, 2)
    assert not report.ok
    assert report.problems.rows() == [(11, "yesterday"), (14, "2026-02-30T10:00:00")]
    assert report.examples == ("'yesterday'", "'2026-02-30T10:00:00'")
    assert "2 unreadable" in repr(report) and "yesterday" in report._repr_html_()
    with pytest.warns(TimestampWarning, match=r"daily_active_users: 2 of 5 .*'ts'.*'yesterday'.*left out") as rec:
        dau = daily_active_users(df)
    assert rec[0].filename == __file__  # points at the caller, not at adrop_kit
    assert dau.rows() == [(date(2026, 11, 1), 1, 1)]
    with pytest.warns(TimestampWarning, match="day=null"):
        counts = event_counts(df, by=("day",))
    assert dict(counts.iter_rows()) == {None: 4, date(2026, 11, 1): 1}  # nothing disappears from counts
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_timestamps(df)  # reports, never warns
        event_counts(df, by=("eventName",))  # no day, no timestamps read


@pytest.mark.parametrize("call", [
    lambda df: daily_active_users(df, "when"), lambda df: event_counts(df, by=("day",), ts="when"),
    lambda df: funnel(df, ts="when"), lambda df: unique_users(df, by="day", ts="when"),
    lambda df: revenue(df, by="day", ts="when"), lambda df: to_utc(df, "when"),
], ids=["dau", "event_counts", "funnel", "unique_users", "revenue", "to_utc"])
def test_a_column_where_nothing_reads_is_an_error_naming_it_and_a_value(call) -> None:
    garbage = pl.DataFrame({"uid": ["a", "b"], "eventName": ["view_item", "purchase"], "when": ["soon", "later"]})
    with pytest.raises(ValueError, match=r"timestamp column 'when' can be read as a time \(e\.g\. 'soon'\)"):
        call(garbage)


@pytest.mark.parametrize("dtype", [pl.String, pl.Null, pl.Datetime("us"), pl.Int64])
def test_an_all_null_column_is_an_error_saying_so(dtype) -> None:
    df = pl.DataFrame({"uid": ["a", "b"], "eventName": ["view_item", "add_to_cart"],
                       "ts": pl.Series([None, None], dtype=dtype)})
    with pytest.raises(ValueError, match=r"'ts' is empty \(all 2 values are null or blank\)"):
        daily_active_users(df)
    with pytest.raises(ValueError, match="ordered=False"):
        funnel(df, ("view_item", "add_to_cart"))
    assert funnel(df, ("view_item", "add_to_cart"), ordered=False)["users"].to_list() == [1, 0]
    report = check_timestamps(df)
    assert (report.missing, report.unreadable, report.parsed) == (2, 0, 0)


def test_no_rows_is_no_error() -> None:
    empty = pl.DataFrame(schema={"uid": pl.String, "eventName": pl.String, "ts": pl.String})
    assert daily_active_users(empty).height == 0
    assert event_counts(empty, by=("day",)).height == 0


def test_bad_arguments_are_named() -> None:
    df = frame(["2026-11-01T10:20:00Z"])
    with pytest.raises(ValueError, match="unknown time zone 'Asia/Seol'.*Asia/Seoul"):
        with_day(df, tz="Asia/Seol")
    with pytest.raises(TypeError, match=r"'ts' is Boolean"):
        to_utc(frame([True]))
    with pytest.raises(ValueError, match=r"'when' is not in the frame.*ts="):
        check_timestamps(df, "when")


# -- the analytics on zoned data --------------------------------------------------------------------
# u1: view → cart → purchase; u2: cart before view; u3: view only. Minutes after AT.
EVENTS = [("u1", "view_item", 0), ("u1", "add_to_cart", 1), ("u1", "purchase", 600), ("u2", "add_to_cart", 2),
          ("u2", "view_item", 3), ("u3", "view_item", 300)]
STEPS = ("view_item", "add_to_cart", "purchase")


def events(form) -> pl.DataFrame:
    rows = [{"uid": u, "eventName": e, "ts": form(AT + timedelta(minutes=m))} for u, e, m in EVENTS]
    return pl.DataFrame(rows[::-1])  # reversed, so the order comes from ts


FORMS = {
    "iso Z": lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "iso +09:00": lambda t: t.astimezone(ZoneInfo(SEOUL)).isoformat(),
    "naive UTC": lambda t: t.replace(tzinfo=None),  # read in tz: see the test below
    "zoned datetime": lambda t: t.astimezone(ZoneInfo(SEOUL)),
    "epoch ms": lambda t: int(t.timestamp() * 1000),
    "GA4 µs": lambda t: int(t.timestamp() * 1_000_000),
    "GA4 µs text": lambda t: str(int(t.timestamp() * 1_000_000)),
}


@pytest.mark.parametrize("form", list(FORMS), ids=list(FORMS))
def test_funnel_counts_and_days_agree_across_forms(form: str) -> None:
    df = events(FORMS[form])
    assert funnel(df, STEPS, ordered=True)["users"].to_list() == [3, 1, 1]
    # 10:20 UTC is 19:20 in Seoul: the purchase (+600 min) and u3's view (+300 min) are on 11-02 there
    assert daily_active_users(df).rows() == [(date(2026, 11, 1), 3, 6)]
    if form.startswith("naive"):  # no zone: the same wall-clock times, now read in Seoul
        assert daily_active_users(df, tz=SEOUL).rows() == [(date(2026, 11, 1), 3, 6)]
        df = events(lambda t: t.astimezone(ZoneInfo(SEOUL)).replace(tzinfo=None))  # Seoul wall-clock times
    assert daily_active_users(df, tz=SEOUL).rows() == [(date(2026, 11, 1), 2, 4), (date(2026, 11, 2), 2, 2)]
    assert dict(event_counts(df, by=("day",), tz=SEOUL).iter_rows()) == {date(2026, 11, 1): 4, date(2026, 11, 2): 2}
    assert dict(unique_users(df, by="day", tz=SEOUL).iter_rows()) == {date(2026, 11, 1): 2, date(2026, 11, 2): 2}
    assert funnel(df, STEPS, tz=SEOUL)["users"].to_list() == [3, 1, 1]


def test_a_mixed_column_orders_a_funnel_across_forms() -> None:
    forms = list(FORMS.values())
    rows = [{"uid": u, "eventName": e, "ts": str(forms[i % 5](AT + timedelta(minutes=m)))}
            for i, (u, e, m) in enumerate(EVENTS)]
    df = pl.DataFrame(rows)
    assert check_timestamps(df).ok
    assert funnel(df, STEPS)["users"].to_list() == [3, 1, 1]


def test_pandas_zoned_and_mixed_columns() -> None:
    pdf = events(FORMS["iso +09:00"]).to_pandas()
    pdf["ts"] = pd.to_datetime(pdf["ts"])  # datetime64[ns, UTC+09:00]
    assert daily_active_users(pdf, tz=SEOUL).rows() == [(date(2026, 11, 1), 2, 4), (date(2026, 11, 2), 2, 2)]
    assert funnel(pdf, STEPS)["users"].to_list() == [3, 1, 1]
    mixed = pd.DataFrame({"uid": ["a", "b"], "eventName": ["app_open"] * 2,
                          "ts": ["2026-11-01T10:20:00Z", "2026-11-01T10:20:00"]})
    assert daily_active_users(mixed).rows() == [(date(2026, 11, 1), 2, 2)]
    objects = pd.DataFrame({"uid": ["a", "b", "c"], "eventName": ["app_open"] * 3,  # datetimes and text in one
                            "ts": [AT, AT.astimezone(ZoneInfo(SEOUL)) + timedelta(hours=5), "2026-11-01T10:00:00"]})
    assert daily_active_users(objects, tz=SEOUL).rows() == [(date(2026, 11, 1), 2, 2), (date(2026, 11, 2), 1, 1)]


def test_a_csv_with_zoned_timestamps_analyses_like_naive_utc(tmp_path) -> None:
    """The reported case: an export whose `ts` ends in Z or +09:00, read back through validate_events."""
    from adrop_kit import validate_events
    from adrop_kit.explore.synth import write_sample

    naive = write_sample(tmp_path / "naive.csv", 3_000, seed=5)
    text = pl.read_csv(naive, infer_schema=False)
    instants = pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us").dt.replace_time_zone("UTC")
    zoned = text.with_columns(pl.when(pl.int_range(pl.len()) % 2 == 0)
                              .then(instants.dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ"))
                              .otherwise(instants.dt.convert_time_zone(SEOUL).dt.strftime("%Y-%m-%dT%H:%M:%S%.f%:z"))
                              .alias("ts"))
    zoned.write_csv(tmp_path / "zoned.csv")
    a, b = validate_events(naive).valid_rows, validate_events(tmp_path / "zoned.csv").valid_rows
    assert b["ts"].str.ends_with("+09:00").any() and b["ts"].str.ends_with("Z").any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every value reads: no TimestampWarning
        assert daily_active_users(b).equals(daily_active_users(a))
        assert daily_active_users(b)["day"].min() == date(2026, 11, 1)
        assert event_counts(b, by=("day",)).equals(event_counts(a, by=("day",)))
        assert funnel(b, ordered=True).equals(funnel(a, ordered=True))
        in_utc = a.with_columns(to_utc(a))  # naive text read as UTC, now a UTC datetime column
        assert daily_active_users(b, tz=SEOUL).equals(daily_active_users(in_utc, tz=SEOUL))
        assert not daily_active_users(b, tz=SEOUL).equals(daily_active_users(a, tz=SEOUL))  # naive = Seoul time
