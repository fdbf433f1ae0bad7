"""How a dataset's source reads in a report: `<polars.DataFrame>` as 'a polars DataFrame of 1,000
rows', `<records>` as 'a list of 3 events'; a path or a given name as it is. Reports (validation,
sends) and widgets say it the same way."""

from __future__ import annotations

import re
from collections.abc import Mapping

_FRAME_SOURCE = re.compile(r"<(\w+)\.(\w+)>")


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
    return source


def top_counts(counts: Mapping[str, int], n: int = 5) -> str:
    """The `n` largest counts, largest first: 'Purchase ×300, add_to_Cart ×112 and 3 more'."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{name} ×{c:,}" for name, c in ranked[:n])
    return shown + (f" and {len(ranked) - n:,} more" if len(ranked) > n else "")


__all__ = ["count_of", "source_label", "top_counts"]
