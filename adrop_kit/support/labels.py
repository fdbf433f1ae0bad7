"""How a dataset's source reads in a report: `<polars.DataFrame>` as 'a polars DataFrame of 1,000
rows', `<records>` as 'a list of 3 events'; a path or a given name as it is. Reports (validation,
sends) and widgets say it the same way.

`escape(name)` is the one way a name from outside (a file name, a URL a server sent) is printed:
control characters (a newline, `ESC[31m`), other unprintable characters and the undecodable
bytes of a non-UTF-8 file name (`os.fsdecode`'s surrogates) become visible escapes, so a name
stays on one line and cannot color or move a terminal."""

from __future__ import annotations

import re
from collections.abc import Mapping

_FRAME_SOURCE = re.compile(r"<(\w+)\.(\w+)>")


def escape(name: object) -> str:
    """`name` as text safe to print on one line: `\\n`, `\\x1b`, `\\u2028`, and `\\xff` for an
    undecodable byte of a file name; a backslash stays itself. Printable text is returned as is."""
    text = str(name)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape: the byte that did not decode
        return f"\\x{code - 0xDC00:02x}"
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def count_of(n: int, noun: str = "row") -> str:
    """`1 row`, `1,000 rows`."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def source_label(source: str, rows: int) -> str:
    """A report's source as a reader would say it: '<polars.DataFrame>' -> 'a polars DataFrame of
    1,000 rows', '<records>' -> 'a list of 3 events'; a path or a given name stays as it is."""
    m = _FRAME_SOURCE.fullmatch(source)
    if m:
        return f"a {m[1]} {m[2]} of {count_of(rows)}"
    if source == "<records>":
        return f"a list of {count_of(rows, 'event')}"
    return escape(source)


def top_counts(counts: Mapping[str, int], n: int = 5) -> str:
    """The `n` largest counts, largest first: 'Purchase ×300, add_to_Cart ×112 and 3 more'."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{name} ×{c:,}" for name, c in ranked[:n])
    return shown + (f" and {len(ranked) - n:,} more" if len(ranked) > n else "")


__all__ = ["count_of", "escape", "source_label", "top_counts"]
