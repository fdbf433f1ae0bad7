"""A CJK font fallback for the charts, so Korean (and Japanese, Chinese) labels are drawn, not boxes.

matplotlib's default font, DejaVu Sans, has no Hangul. When a font with CJK glyphs is installed,
each chart lists it after the families it would use anyway, and matplotlib (3.6 and later) takes
every glyph from the first family of the list that has it: Latin text keeps its font, Hangul
comes from the CJK one. Nothing global changes: the list is set while a chart is built
(`rc_context`) and on the chart's text artists, and the user's rcParams stay as they were.

Installed fonts looked for, in order: `CJK_FONTS`. On Debian or Ubuntu, `apt-get install
fonts-noto-cjk` (Noto Sans CJK) or `fonts-nanum` (NanumGothic) brings one (then delete
matplotlib's font cache, `~/.cache/matplotlib/fontlist-*.json`, if matplotlib was used before);
Windows has Malgun Gothic, macOS AppleGothic. Without any, the charts still draw and matplotlib
warns "Glyph … missing from font(s)".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager
from matplotlib.text import Text

CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK KR", "Noto Sans CJK JP", "Noto Sans KR", "Source Han Sans KR", "Source Han Sans K",
    "NanumGothic", "NanumBarunGothic", "NanumSquare", "Malgun Gothic", "Apple SD Gothic Neo", "AppleGothic",
    "Noto Sans CJK SC", "Noto Sans CJK TC", "Source Han Sans", "UnDotum", "Baekmuk Gulim", "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
"""Font families with Hangul, most wanted first (Noto Sans CJK's files are read as "… CJK JP")."""

F = TypeVar("F", bound=Callable[..., Figure])


def cjk_font() -> str | None:
    """The first of `CJK_FONTS` that matplotlib knows (its font list), or None."""
    installed = {f.name for f in fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def with_fallback(families: Any, font: str) -> list[str]:
    """`families` (a name or a list, as in rcParams["font.family"]) with `font` last, once."""
    names = [families] if isinstance(families, str) else list(families)
    return names if font in names else [*names, font]


@contextmanager
def cjk_fallback() -> Iterator[str | None]:
    """While inside, text created takes its glyphs from a CJK font when the usual fonts lack them.

    Yields the CJK font used, or None (and changes nothing) when none is installed.
    """
    font = cjk_font()
    if font is None:
        yield None
        return
    with mpl.rc_context({"font.family": with_fallback(mpl.rcParams["font.family"], font)}):
        yield font


def add_fallback(fig: Figure, font: str) -> None:
    """Give every text of `fig` (titles, labels, ticks, legends, notes) `font` as its last family."""
    for text in fig.findobj(Text):
        family = text.get_fontfamily()
        if font not in family:
            text.set_fontfamily(with_fallback(family, font))


def cjk_figure(draw: F) -> F:
    """Decorate a chart function: it builds its figure inside `cjk_fallback`, and every text of the
    figure it returns (axes it was given included) falls back to the CJK font."""

    @functools.wraps(draw)
    def drawn(*args: Any, **kwargs: Any) -> Figure:
        with cjk_fallback() as font:
            fig = draw(*args, **kwargs)
        if font is not None:
            add_fallback(fig, font)
        return fig

    return drawn  # type: ignore[return-value]


__all__ = ["CJK_FONTS", "add_fallback", "cjk_fallback", "cjk_figure", "cjk_font", "with_fallback"]
