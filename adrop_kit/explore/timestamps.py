"""Timestamps in any common form, read as UTC instants and as calendar days in a time zone.

A timestamp column (`ts` unless `ts=` names another) may hold, and may mix, value by value:

* ISO 8601 text with or without a zone: `2026-11-01T10:20:00Z`, `…+09:00`, `…+0900`, `…-05`,
  `… UTC`; `T` or a space between date and time; seconds and their fraction optional; or a date
  alone (`2026-11-01`).
* Epoch numbers, integer or float, or text of digits (GA4 exports). The unit comes from each
  value's size: from 10^8 to below 10^11 seconds, below 10^14 milliseconds, below 10^17
  microseconds (GA4's `event_timestamp`), beyond that nanoseconds; so every instant from March
  1973 to the year 2262 is read right in any of these units. An 8-digit whole number that is a
  valid date, such as `20261101` (GA4's `event_date`), is that date; other numbers below 10^8,
  negative ones included, are not times (0 is a common placeholder) and count as unreadable.
* A datetime column with or without a time zone, or a date column.

Zones: a value that carries its zone or offset, a zoned datetime and an epoch number are instants.
A value without one (naive text, a naive datetime, a date) is a wall-clock time in `tz` (default
"UTC"), so a column mixing `…Z` and naive text reads the naive ones as UTC, or as `tz` when given.
A naive time that a daylight-saving change skips is moved an hour on; one that happens twice is
the earlier. A day is the calendar day in `tz`: `2026-11-01T15:30:00Z` is on 2026-11-02 with
`tz="Asia/Seoul"` and on 2026-11-01 in UTC.

Empty values (null, blank text) are *missing*; any other value that none of these rules read is
*unreadable*. The analytics leave both out of days and of funnel order, and warn
(`TimestampWarning`) with the number of unreadable values and examples; a column in which no
value can be read is a ValueError naming the column and a value. `check_timestamps` reports on a
column without analysing anything.
"""

from __future__ import annotations

import html
import os
import sys
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from adrop_kit.explore.inputs import to_polars
from adrop_kit.io.frames import ROW

TS = "ts"
UTC = "UTC"
DAY = "day"

_US = pl.Datetime("us")
_ISO = (r"^(?P<body>\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?)"
        r"\s*(?P<zone>[Zz]|UTC|GMT|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})?)?$")
_NUMBER = r"^[+-]?\d+(?:\.\d*)?$"
_EPOCH, _SECONDS, _MILLIS, _MICROS, _NANOS = 10**8, 10**11, 10**14, 10**17, 2**63
_HERE = os.path.dirname(os.path.abspath(__file__))


class TimestampWarning(UserWarning):
    """Some timestamps could not be read; the rows holding them were left out of days and order."""


@dataclass(frozen=True)
class TimestampReport:
    """How a timestamp column reads: counts, the forms found, and the values that could not be read.

    `rows` = `parsed` + `missing` (null or blank) + `unreadable`. `forms` counts the read values
    per form ("text with a zone", "epoch µs", "YYYYMMDD", …). `problems` has one row per unreadable
    value: `row` (its `__row`, else its position) and `value` as text. `first`/`last` are the
    earliest and latest instants read, in UTC.
    """

    column: str
    tz: str
    rows: int
    parsed: int
    missing: int
    unreadable: int
    forms: dict[str, int] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    problems: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema={"row": pl.Int64,
                                                                                 "value": pl.String}))
    first: datetime | None = None
    last: datetime | None = None

    @property
    def ok(self) -> bool:
        """True when every value that is not empty was read."""
        return self.unreadable == 0

    def summary(self) -> str:
        forms = ", ".join(f"{n:,} {form}" for form, n in self.forms.items()) or "none"
        text = (f"{self.column!r}: {self.parsed:,} of {self.rows:,} read ({forms}); {self.missing:,} empty, "
                f"{self.unreadable:,} unreadable")
        if self.examples:
            text += f" (e.g. {', '.join(self.examples)})"
        if self.first is not None:
            text += f"; from {self.first:%Y-%m-%d %H:%M:%S} to {self.last:%Y-%m-%d %H:%M:%S} UTC; days in {self.tz}"
        return text

    def __repr__(self) -> str:
        return f"<TimestampReport {self.summary()}>"

    def _repr_html_(self) -> str:
        mark = ("<b style='color:#1e8449'>timestamps</b>" if self.ok
                else "<b style='color:#d68910'>timestamps (some unreadable)</b>")
        return f"<p>{mark} {html.escape(self.summary())}</p>"


# -- reading ---------------------------------------------------------------------------------------
def check_timestamps(df: Any, ts: str = TS, *, tz: str = UTC) -> TimestampReport:
    """How the column `ts` of `df` reads (see the module docstring for the rules); never warns."""
    return _read(to_polars(df), ts, _zone(tz), "check_timestamps")[1]


def to_utc(df: Any, ts: str = TS, *, tz: str = UTC) -> pl.Series:
    """The column `ts` as UTC instants (Datetime("us", "UTC")), null where missing or unreadable."""
    return read_times(to_polars(df), ts, tz=tz, what="to_utc", effect="are null")


def with_day(df: Any, ts: str = TS, *, tz: str = UTC) -> pl.DataFrame:
    """`df` (as polars) with a `day` column: the calendar day in `tz` of each row's timestamp."""
    frame = to_polars(df)
    return frame.with_columns(days(frame, ts, tz=tz, what="with_day", effect="have no day"))


def read_times(frame: pl.DataFrame, ts: str, *, tz: str, what: str, effect: str, hint: str = "") -> pl.Series:
    """UTC instants of `frame[ts]`; warns about unreadable values, raises when none can be read."""
    times, report = _read(frame, ts, _zone(tz), what)
    _check(report, what, effect, hint)
    return times


def days(frame: pl.DataFrame, ts: str, *, tz: str, what: str, effect: str) -> pl.Series:
    """The calendar day in `tz` of each timestamp of `frame[ts]`, as a Date series named `day`."""
    zone = _zone(tz)
    return read_times(frame, ts, tz=zone, what=what, effect=effect).dt.convert_time_zone(zone).dt.date().alias(DAY)


def _check(report: TimestampReport, what: str, effect: str, hint: str) -> None:
    name = report.column
    if report.rows and not report.parsed:
        if report.unreadable:
            raise ValueError(
                f"{what}: no value of the timestamp column {name!r} can be read as a time (e.g. {report.examples[0]}); "
                "expected ISO 8601 text ('2026-11-01T10:20:00Z', '2026-11-01 19:20:00+09:00', or naive), a datetime "
                f"or date column, or epoch seconds, milliseconds or microseconds{hint}")
        raise ValueError(f"{what}: the timestamp column {name!r} is empty (all {report.rows:,} values are null or "
                         f"blank){hint}")
    if report.unreadable:
        warnings.warn(
            f"{what}: {report.unreadable:,} of {report.rows:,} values of the timestamp column {name!r} cannot be "
            f"read as a time (e.g. {', '.join(report.examples)}); those rows {effect}. "
            f"check_timestamps(df, {name!r}).problems lists them", TimestampWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The stacklevel that points a warning at the first caller outside adrop_kit.explore."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _HERE:
        frame, level = frame.f_back, level + 1
    return level


def _zone(tz: Any) -> str:
    name = getattr(tz, "key", tz)  # a zoneinfo.ZoneInfo works too
    if not isinstance(name, str):
        raise TypeError(f"tz must be a time zone name such as 'Asia/Seoul' or 'UTC', got {type(tz).__name__}")
    if name != UTC:
        try:
            pl.Series([datetime(2000, 1, 1)]).dt.replace_time_zone(name)
        except pl.exceptions.PolarsError as exc:
            detail = " ".join(line for line in str(exc).splitlines()[:3] if line and "forcibly" not in line)
            raise ValueError(f"unknown time zone {name!r}: {detail}") from None
    return name


def _read(frame: pl.DataFrame, ts: str, tz: str, what: str) -> tuple[pl.Series, TimestampReport]:
    if ts not in frame.columns:
        raise ValueError(f"{what}: the timestamp column {ts!r} is not in the frame (it has: "
                         f"{', '.join(frame.columns)}); pass ts= to name yours")
    col = frame.get_column(ts)
    out = _parse(col, tz, f"{what}: the timestamp column {ts!r}")  # columns t, form, missing
    times = out.get_column("t").alias(ts)
    bad = (~out.get_column("missing")) & times.is_null()
    row = frame.get_column(ROW).cast(pl.Int64) if ROW in frame.columns else pl.int_range(frame.height, eager=True)
    problems = pl.DataFrame({"row": row.filter(bad).cast(pl.Int64),
                             "value": col.filter(bad).cast(pl.String, strict=False).fill_null("?")})
    forms = out.filter(pl.col("t").is_not_null()).group_by("form").len().sort(["len", "form"], descending=[True, False])
    shown = problems.get_column("value").unique(maintain_order=True).head(3).to_list()
    report = TimestampReport(
        column=ts, tz=tz, rows=frame.height, parsed=frame.height - times.null_count(),
        missing=int(out.get_column("missing").sum()), unreadable=problems.height, forms=dict(forms.iter_rows()),
        examples=tuple(repr(v[:40]) for v in shown), problems=problems,
        first=times.min(), last=times.max())  # type: ignore[arg-type]
    return times, report


def _parse(col: pl.Series, tz: str, name: str) -> pl.DataFrame:
    """`t` (the UTC instant), `form` (how it was read) and `missing` (null or blank) for each value of `col`."""
    dtype, c = col.dtype, pl.col(col.name)
    if dtype in (pl.String, pl.Null) or isinstance(dtype, (pl.Categorical, pl.Enum)):
        return _text(col.cast(pl.String).str.strip_chars(), tz)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            t, form = _local(c.dt.cast_time_unit("us"), tz), "naive datetime"
        else:
            t, form = c.dt.convert_time_zone(UTC).dt.cast_time_unit("us"), "zoned datetime"
    elif dtype == pl.Date:
        t, form = _local(c.cast(_US), tz), "date"
    elif dtype.is_numeric():
        return _numbers(col.cast(pl.Int64 if dtype.is_integer() else pl.Float64, strict=False), tz)
    else:
        raise TypeError(f"{name} is {dtype}; expected ISO 8601 text, a datetime or date, or epoch numbers")
    return col.to_frame().select(t.alias("t"), pl.lit(form).alias("form"), c.is_null().alias("missing"))


def _text(text: pl.Series, tz: str) -> pl.DataFrame:
    """Text: digits are epoch numbers or YYYYMMDD, the rest ISO 8601; each part parsed on its own rows."""
    frame = pl.DataFrame({"x": text}).with_row_index("__i").with_columns(
        (pl.col("x").is_null() | (pl.col("x") == "")).alias("missing"),
        pl.col("x").str.contains(_NUMBER).fill_null(False).alias("__n"))
    parts = [frame.filter(pl.col("missing")).select("__i", "missing", pl.lit(None, pl.Datetime("us", UTC)).alias("t"),
                                                    pl.lit(None, pl.String).alias("form"))]
    digits = frame.filter(pl.col("__n")).get_column("x")
    if digits.len():
        whole = digits.cast(pl.Int64, strict=False)
        if whole.null_count():  # decimals, or integers past int64
            as_int, as_float = _numbers(whole, tz), _numbers(digits.cast(pl.Float64, strict=False), tz)
            numbers = as_int.with_columns(pl.when(whole.is_not_null()).then(pl.col(c)).otherwise(as_float.get_column(c))
                                          for c in ("t", "form"))
        else:
            numbers = _numbers(whole, tz)
        parts.append(numbers.with_columns(frame.filter(pl.col("__n")).get_column("__i"), missing=pl.lit(False)))
    iso = frame.filter(~pl.col("missing") & ~pl.col("__n"))
    if iso.height:
        g = pl.col("__g").struct
        body = g.field("body").str.replace_all(r"[Tt ]", "T").str.replace(",", ".", literal=True)
        hh, mm = g.field("hh").cast(pl.Int64), g.field("mm").cast(pl.Int64).fill_null(0)
        sign = pl.when(g.field("sign") == "-").then(-1).otherwise(1)
        iso = (iso.lazy().with_columns(pl.col("x").str.extract_groups(_ISO).alias("__g"))
               .with_columns(body.alias("__b"), g.field("zone").is_not_null().alias("__z"),
                             pl.when(g.field("sign").is_null()).then(0).when((hh < 24) & (mm < 60))
                             .then(sign * (hh * 60 + mm)).alias("__off"))
               .with_columns(pl.coalesce(pl.col("__b").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us",
                                                                       strict=False),
                                         pl.col("__b").str.to_datetime("%Y-%m-%dT%H:%M", time_unit="us", strict=False),
                                         pl.col("__b").str.to_date("%Y-%m-%d", strict=False).cast(_US)).alias("__t"))
               .select("__i", pl.when("__z").then((pl.col("__t") - pl.duration(minutes="__off"))
                                                  .dt.replace_time_zone(UTC))
                       .otherwise(_local(pl.col("__t"), tz)).alias("t"),
                       pl.when("__z").then(pl.lit("text with a zone")).otherwise(pl.lit("text without a zone"))
                       .alias("form"))
               .collect())
        parts.append(iso)
    out = pl.concat(parts, how="diagonal_relaxed").sort("__i")
    return out.select(pl.col("t").cast(pl.Datetime("us", UTC)), pl.col("form").cast(pl.String),
                      pl.col("missing").fill_null(False))


def _numbers(v: pl.Series, tz: str) -> pl.DataFrame:
    """Epoch numbers (unit by size, see the module docstring) and YYYYMMDD dates → `t`, `form`, `missing`."""
    x = pl.col(v.name)
    if v.dtype == pl.Int64:
        micros = (pl.when(x < _EPOCH).then(None).when(x < _SECONDS).then(x * 1_000_000)
                  .when(x < _MILLIS).then(x * 1_000).when(x < _MICROS).then(x).otherwise(x // 1_000))
    else:
        micros = (pl.when(x < _EPOCH).then(None).when(x < _SECONDS).then(x * 1e6).when(x < _MILLIS).then(x * 1e3)
                  .when(x < _MICROS).then(x).when(x < _NANOS).then(x / 1e3)).round(0).cast(pl.Int64, strict=False)
    t = pl.from_epoch(micros, time_unit="us").dt.replace_time_zone(UTC)
    form = (pl.when(x < _SECONDS).then(pl.lit("epoch s")).when(x < _MILLIS).then(pl.lit("epoch ms"))
            .when(x < _MICROS).then(pl.lit("epoch µs")).otherwise(pl.lit("epoch ns")))
    out = v.to_frame().select(t.alias("t"), form.alias("form"), x.is_null().alias("missing"))
    dated = v.is_between(19000101, 29991231) & (v == v.cast(pl.Int64, strict=False))
    if dated.any():  # YYYYMMDD, GA4's event_date: midnight in tz
        ymd = v.to_frame().select(pl.when(dated).then(x.cast(pl.Int64, strict=False).cast(pl.String))
                                  .str.to_date("%Y%m%d", strict=False).alias("d")).get_column("d")
        out = out.with_columns(pl.when(ymd.is_not_null()).then(_local(pl.lit(ymd).cast(_US), tz)).otherwise("t")
                               .alias("t"),
                               pl.when(ymd.is_not_null()).then(pl.lit("YYYYMMDD")).otherwise("form").alias("form"))
    return out


def _local(naive: pl.Expr, tz: str) -> pl.Expr:
    """Naive wall-clock times in `tz` → UTC; a time skipped by DST moves an hour on, a repeated one is the earlier."""
    if tz == UTC:
        return naive.dt.replace_time_zone(UTC)
    here = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    later = (naive + pl.duration(hours=1)).dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    return pl.coalesce(here, later).dt.convert_time_zone(UTC)


__all__ = ["TimestampReport", "TimestampWarning", "check_timestamps", "days", "read_times", "to_utc", "with_day"]
