"""A validation report as one self-contained HTML page: the page a data engineer attaches to a
backfill ticket (`adrop-kit validate PATH --html report.html`, or `write_report_page(report, path)`).

Everything is inline (CSS, SVG charts; no script, font or image is fetched), so the file opens
anywhere, offline, and prints cleanly. Every value from the data is HTML-escaped: a payload
holding `<script>` shows as text. Only the first `limit` violations are listed (the counts and
charts cover all of them); `adrop-kit validate --format json` gives every one.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adrop_kit.spec.version import __version__
from adrop_kit.support.html import html_table
from adrop_kit.support.labels import source_label
from adrop_kit.validate.report import DatasetReport

DEFAULT_LIMIT = 200
RED, AMBER, GREEN, GREY = "#c0392b", "#d68910", "#1e8449", "#5d6d7e"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK KR",sans-serif;
     color:#1b2631;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #e5e8e8;padding-bottom:4px}
.meta{color:#5d6d7e;margin:0 0 16px} .meta code{background:#f4f6f6;padding:1px 4px;border-radius:3px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid #d5dbdb;border-radius:8px;padding:10px 18px;min-width:110px;text-align:center}
.card b{display:block;font-size:24px} .card span{color:#5d6d7e}
.card.invalid b{color:#c0392b} .card.valid b{color:#1e8449} .card.warned b{color:#d68910}
.verdict{font-size:16px;padding:10px 14px;border-radius:6px;margin:12px 0}
.verdict.bad{background:#fdedec;color:#922b21} .verdict.good{background:#e9f7ef;color:#196f3d}
.charts{display:flex;gap:24px;flex-wrap:wrap} .chart{flex:1 1 460px}
table.adrop-table{border-collapse:collapse;width:100%;font-size:13px}
table.adrop-table th{background:#f4f6f6;border-bottom:1px solid #d5dbdb}
table.adrop-table td{border-bottom:1px solid #eaeded;vertical-align:top;overflow-wrap:anywhere}
table.adrop-table td:nth-child(-n+5){white-space:nowrap}
.note{color:#5d6d7e}
.legend{color:#5d6d7e;font-size:12px} .legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;
  border-radius:2px} footer{margin-top:32px;color:#7f8c8d;font-size:12px}
@media print{body{margin:0}.chart{break-inside:avoid}}
"""


def report_page(report: DatasetReport, *, title: str | None = None, limit: int = DEFAULT_LIMIT,
                generated: datetime | None = None) -> str:
    """The report as one HTML document (a string)."""
    s = report.summary()
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    name = title or f"Validation report: {source_label(report.source, report.rows)}"
    by_rule = report.by_rule().sort("violations", descending=True)
    by_event = report.by_event()
    n = report.violation_count
    if s["invalid"]:
        verdict = (f"<div class='verdict bad'>{s['invalid']:,} of {s['rows']:,} rows would be rejected by Adrop "
                   "(<code>!invalid</code>): they are held back by <code>adrop-kit send</code>.</div>")
    else:
        verdict = ("<div class='verdict good'>Every row is valid" +
                   (f"; {s['warned']:,} carry warnings worth a look." if s["warned"] else " and nothing looks off.")
                   + "</div>")
    cards = "".join(f"<div class='card {k}'><b>{s[k]:,}</b><span>{k}</span></div>"
                    for k in ("rows", "valid", "invalid", "warned"))
    rule_bars = [(f"{r['rule']} {r['title']}", [(r["violations"], RED if r["severity"] == "error" else AMBER)])
                 for r in by_rule.iter_rows(named=True)]
    events = sorted(by_event.iter_rows(named=True), key=lambda r: (-(r["errors"] + r["warnings"]), -r["errors"]))
    event_bars = [(str(r["eventName"]) if r["eventName"] is not None else "(no eventName)",
                   [(r["errors"], RED), (r["warnings"], AMBER)]) for r in events]
    legend = (f"<p class='legend'><i style='background:{RED}'></i>errors (rejected by Adrop) "
              f"<i style='background:{AMBER}'></i>warnings (accepted, worth a look)</p>")
    charts = (f"{legend}<div class='charts'>"
              f"<div class='chart'><h2>Violations by rule</h2>{bar_chart(rule_bars, 'violations by rule')}</div>"
              f"<div class='chart'><h2>Violations by event</h2>{bar_chart(event_bars, 'violations by event')}</div>"
              "</div>") if n else ""
    rules_table = html_table(by_rule.select("rule", "severity", "violations", "rows", "title").rows(),
                             ("rule", "severity", "violations", "rows", "what it checks")) if n else ""
    listing = ""
    if n:
        groups = grouped(report, limit)
        held = report.violations.height
        partial = (f" (grouped from the first {held:,} of {n:,} violations, the ones this report holds)"
                   if held < n else "")
        more = (f"<p class='note'>The {limit:,} largest groups; <code>adrop-kit validate --format json</code> lists "
                "every violation.</p>" if groups.height >= limit else "")
        listing = ("<h2>Violations</h2>"
                   f"<p class='note'>The same problem is listed once, with how often it occurs and the first rows "
                   f"it occurs in{partial}.</p>" + more
                   + html_table((_cells(r, 4) for r in groups.iter_rows()), GROUP_COLUMNS))
    esc = html.escape
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{esc(name)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{esc(name)}</h1>"
            f"<p class='meta'>Input <code>{esc(source_label(report.source, report.rows))}</code> · "
            f"{s['rows']:,} rows checked in "
            f"{report.elapsed_s:.2f} s · generated {when} by adrop_kit {esc(__version__)}"
            f"{' · strict: events outside the catalog are errors' if report.strict else ''}</p>"
            f"<div class='cards'>{cards}</div>{verdict}{charts}"
            + (f"<h2>By rule</h2>{rules_table}" if rules_table else "") + listing
            + "<footer>Errors (E…) make Adrop answer !invalid; warnings (W…) are accepted but probably a data "
              "bug. <code>adrop-kit rules</code> explains each rule id.</footer></body></html>")


def write_report_page(report: DatasetReport, path: str | Path, **options: Any) -> Path:
    """Write `report_page(report)` to `path` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(report_page(report, **options), encoding="utf-8")
    return path


Bar = tuple[str, Sequence[tuple[int, str]]]
"""A bar: its label and its segments, (count, colour) each (errors then warnings)."""
GROUP_COLUMNS = ("rule", "severity", "field", "occurrences", "example values", "message", "first rows")


def bar_chart(bars: Sequence[Bar], label: str, *, width: int = 520, max_bars: int = 15) -> str:
    """A horizontal bar chart as inline SVG, largest first as given: each bar's full label on a line of its
    own above it (rule titles are long: never cut), its segments stacked, its total at its end."""
    bars = list(bars)[:max_bars]
    if not bars:
        return ""
    row, pad = 40, 64
    top = max(sum(c for c, _ in segments) for _, segments in bars) or 1
    inner = width - pad
    parts = []
    for i, (text, segments) in enumerate(bars):
        y, x = i * row, 0.0
        parts.append(f"<text x='0' y='{y + 13}' font-size='12' fill='#1b2631'>{html.escape(text)}</text>")
        for count, color in segments:
            if count:
                w = max(1.0, inner * count / top)
                parts.append(f"<rect x='{x:.1f}' y='{y + 18}' width='{w:.1f}' height='14' rx='2' fill='{color}'/>")
                x += w
        total = sum(c for c, _ in segments)
        parts.append(f"<text x='{x + 6:.1f}' y='{y + 30}' font-size='12' fill='{GREY}'>{total:,}</text>")
    height = row * len(bars)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='{html.escape(label)}' "
            f"viewBox='0 0 {width} {height}' width='100%' style='max-width:{width}px'>{''.join(parts)}</svg>")


def grouped(report: DatasetReport, limit: int = DEFAULT_LIMIT) -> Any:
    """The report's violations grouped by (rule, field, message): how often each occurs, one example
    value and the first rows (with their file when there are several), errors first, then by count."""
    import polars as pl

    v = report.violations
    where = (pl.concat_str(pl.col("source"), pl.lit(":"), pl.col("row").cast(pl.String))
             if report.multi and "source" in v.columns else pl.col("row").cast(pl.String))
    return (v.with_columns(where.alias("_where"))
            .group_by("rule", "severity", "field", "message", maintain_order=True)
            .agg(pl.len().alias("occurrences"),
                 pl.col("value").drop_nulls().unique(maintain_order=True).head(EXAMPLES).alias("example values"),
                 pl.col("_where").head(FIRST_ROWS).str.join(", ").alias("first rows"))
            .sort(pl.col("severity") != "error", pl.col("occurrences"), descending=[False, True], maintain_order=True)
            .head(limit)
            .select(GROUP_COLUMNS))


FIRST_ROWS = 5
EXAMPLES = 3


def _cells(row: tuple[Any, ...], at: int) -> list[Any]:
    """A group's cells as shown: its example values side by side, one with blanks at either end quoted so
    the blanks show."""
    out = list(row)
    out[at] = ", ".join(repr(v) if v != v.strip() or not v else v for v in out[at] or ())
    return out


__all__ = ["bar_chart", "report_page", "write_report_page"]
