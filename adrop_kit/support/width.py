"""How wide text is on a terminal: East Asian wide and full-width characters (Hangul, CJK, most
emoji) take two columns, combining marks and zero-width characters none. CLI tables pad and
clip by this width, so a column of Korean product names stays aligned."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def char_width(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def width(text: str) -> int:
    """Terminal columns `text` takes."""
    return len(text) if text.isascii() else sum(char_width(c) for c in text)


def ljust(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def rjust(text: str, columns: int) -> str:
    return " " * max(0, columns - width(text)) + text


def clip(text: str, columns: int) -> str:
    """`text` cut to at most `columns` terminal columns, with an ellipsis when cut."""
    if width(text) <= columns:
        return text
    out, used = [], 0
    for c in text:
        w = char_width(c)
        if used + w > columns - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


__all__ = ["clip", "ljust", "rjust", "width"]
