"""The one HTML table renderer: every report's `_repr_html_` and every widget table use it.

Cells are escaped; None is an empty cell. `cls` names the table for styling and for tests.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any


def html_table(rows: Iterable[Iterable[Any]], header: Iterable[str], *, cls: str = "adrop-table") -> str:
    """Rows as an HTML `<table>`, left-aligned, with a header row."""
    th = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left;padding:2px 8px'>{cell(c)}</td>" for c in r)
                   + "</tr>" for r in rows)
    return (f"<table class='{html.escape(cls)}' style='border-collapse:collapse'>"
            f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>")


def cell(value: Any) -> str:
    """One cell's text, escaped."""
    return "" if value is None else html.escape(str(value))


__all__ = ["cell", "html_table"]
