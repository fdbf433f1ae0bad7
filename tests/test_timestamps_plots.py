"""The day charts on zoned and partly unreadable timestamps, and Korean labels: drawn with a CJK
font when one is installed, still drawn (boxes, no crash) without, rcParams untouched either way."""

from __future__ import annotations

import io
import warnings
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")

from matplotlib import dates as mdates  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import findSystemFonts, fontManager  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from adrop_kit.explore import fonts, funnel, plots  # noqa: E402
from adrop_kit.explore.analytics import TimestampWarning  # noqa: E402

SEOUL = "Asia/Seoul"
AT = datetime(2026, 11, 1, 10, 20, tzinfo=UTC)  # 19:20 in Seoul


def zoned(n_days: int = 3) -> pl.DataFrame:
    """Every 4 hours for `n_days` from AT: ISO text, alternately with Z and +09:00; 'platform' in Korean."""
    times = [AT + timedelta(hours=4 * i) for i in range(6 * n_days)]
    return pl.DataFrame({
        "uid": [f"u{i % 5}" for i in range(len(times))],
        "eventName": ["view_item", "add_to_cart", "purchase"] * (2 * n_days),
        "platform": ["웹", "안드로이드", "아이폰"] * (2 * n_days),
        "ts": [(t + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%S+09:00") if i % 2 else f"{t:%Y-%m-%dT%H:%M:%S}Z"
               for i, t in enumerate(times)],
    })


def days_drawn(fig: Figure) -> list[date]:
    return [mdates.num2date(x).date() for x in fig.axes[0].lines[0].get_xdata(orig=False)]


def render(fig: Figure) -> list[str]:
    """Draw `fig` to PNG bytes; the warnings raised while drawing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=60)
    assert buf.getvalue().startswith(b"\x89PNG")
    return [str(w.message) for w in caught]


# -- zoned timestamps ------------------------------------------------------------------------------------
def test_day_charts_draw_calendar_days_in_tz_not_1970() -> None:
    df = zoned()
    fig = plots.plot_events_by_day(df)
    assert days_drawn(fig) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]
    seoul = plots.plot_events_by_day(df, tz=SEOUL)
    assert days_drawn(seoul) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]
    assert list(seoul.axes[0].lines[0].get_ydata()) == [2, 6, 6, 4]  # 19:20 and 23:20 KST on the 1st
    assert list(fig.axes[0].lines[0].get_ydata()) == [4, 6, 6, 2]  # 10:20…22:20 UTC on the 1st
    dau = plots.plot_daily_active_users(df, tz=SEOUL)
    assert days_drawn(dau) == days_drawn(seoul)
    per_platform = plots.plot_events_by_day(df, tz=SEOUL, by="platform")
    assert len(per_platform.axes[0].lines) == 3
    assert not any("1970" in t.get_text() for f in (fig, seoul, dau) for t in f.findobj(Text))
    for f in (fig, seoul, dau, per_platform):
        render(f)


def test_day_charts_leave_out_unreadable_timestamps_and_say_how_many() -> None:
    df = zoned().with_columns(pl.when(pl.int_range(pl.len()) < 3).then(pl.lit("n/a")).otherwise("ts").alias("ts"))
    with pytest.warns(TimestampWarning, match="plot_events_by_day: 3 of 18"):
        fig = plots.plot_events_by_day(df, tz=SEOUL)
    assert sum(fig.axes[0].lines[0].get_ydata()) == 15
    assert any(t.get_text() == "3 events without a readable timestamp not shown" for t in fig.axes[0].texts)
    with pytest.warns(TimestampWarning, match="plot_daily_active_users: 3 of 18"):
        dau = plots.plot_daily_active_users(df, tz=SEOUL)
    assert any("3 events without" in t.get_text() for t in dau.axes[0].texts)
    render(fig)
    with pytest.raises(ValueError, match=r"'ts' can be read as a time \(e\.g\. 'n/a'\)"):
        plots.plot_daily_active_users(df.with_columns(pl.lit("n/a").alias("ts")))
    with pytest.raises(ValueError, match=r"'when'.*pass ts="):
        plots.plot_events_by_day(df, ts="when")


# -- Korean labels ----------------------------------------------------------------------------------------
def korean_charts() -> list[Figure]:
    df = zoned()
    f = funnel(df, ("view_item", "add_to_cart")).with_columns(pl.Series("event", ["상품 보기", "장바구니 담기"]))
    given = Figure()
    ax = given.add_subplot()  # made outside adrop_kit: its texts get the fallback too
    return [plots.plot_funnel(f, title="구매 퍼널"), plots.plot_events_by_day(df, by="platform", title="일별 이벤트"),
            plots.plot_daily_active_users(df, tz=SEOUL, title="일별 활성 사용자"),
            plots.plot_platforms(df, title="플랫폼별"), plots.plot_platforms(df, ax=ax, title="플랫폼별")]


def glyph_warnings(messages: list[str]) -> list[str]:
    return [m for m in messages if "Glyph" in m and "missing" in m]


def installed_cjk_font() -> str | None:
    """A CJK font that matplotlib knows, after checking the system's font files are in its list."""
    findSystemFonts()  # what is installed; fontManager is what matplotlib will use
    return fonts.cjk_font()


def test_korean_labels_are_drawn_with_a_cjk_font_when_one_is_installed() -> None:
    font = installed_cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk or fonts-nanum); "
                    f"looked for {', '.join(fonts.CJK_FONTS[:6])}, …")
    before = dict(mpl.rcParams)
    for fig in korean_charts():
        assert glyph_warnings(render(fig)) == []
        korean = [t for t in fig.findobj(Text) if any("\uac00" <= ch <= "\ud7a3" for ch in t.get_text())]
        assert korean and all(font in t.get_fontfamily() for t in korean)
    assert dict(mpl.rcParams) == before


def test_without_a_cjk_font_korean_charts_still_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    before = dict(mpl.rcParams)
    for fig in korean_charts():
        messages = render(fig)  # boxes and matplotlib's glyph warnings, but no error
        assert all("Glyph" in m or "findfont" in m for m in messages)
        assert fig.axes[-1].get_title(loc="left")
    assert dict(mpl.rcParams) == before


def test_the_fallback_is_appended_per_chart_and_never_left_in_rcparams(monkeypatch: pytest.MonkeyPatch) -> None:
    # any installed family stands in for the CJK one: what is checked is where the list goes
    monkeypatch.setattr(fonts, "cjk_font", lambda: "DejaVu Serif")
    monkeypatch.setitem(mpl.rcParams, "font.family", ["monospace"])
    fig = plots.plot_platforms(zoned(), title="플랫폼")
    given = Figure()
    ax = given.add_subplot()
    ax.set_xlabel("before")
    plots.plot_funnel(funnel(zoned(), ("view_item",)), ax=ax)
    assert mpl.rcParams["font.family"] == ["monospace"]
    for f in (fig, given):
        families = {tuple(t.get_fontfamily()) for t in f.findobj(Text)}
        assert families == {("monospace", "DejaVu Serif")}, families
    ticks = fig.axes[0].xaxis.get_major_ticks()
    assert ticks[0].label1.get_fontfamily() == ["monospace", "DejaVu Serif"]
    assert fonts.with_fallback("sans-serif", "X") == ["sans-serif", "X"]
    assert fonts.with_fallback(["X", "sans-serif"], "X") == ["X", "sans-serif"]


def test_cjk_font_picks_the_first_installed_preference(monkeypatch: pytest.MonkeyPatch) -> None:
    class Entry:
        def __init__(self, name: str) -> None:
            self.name = name

    monkeypatch.setattr(fontManager, "ttflist", [Entry("DejaVu Sans"), Entry("NanumGothic"),
                                                 Entry("Noto Sans CJK JP")])
    assert fonts.cjk_font() == "Noto Sans CJK JP"
    monkeypatch.setattr(fontManager, "ttflist", [Entry("DejaVu Sans")])
    assert fonts.cjk_font() is None

