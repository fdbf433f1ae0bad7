"""The logic behind the widgets, as plain functions with no widget import.

Forms come from the catalog (`form_fields`), form text becomes a payload (`payload_from_form`),
reports become small HTML fragments, datasets become CSV downloads and a chart. Where sends go
is in `_target.py`; drawing and probing payloads is `adrop_kit.testing.contract.ContractRun`'s job.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adrop_kit.spec.catalog import PLATFORMS, EventSpec
from adrop_kit.support.html import html_table
from adrop_kit.validate.report import DatasetReport, EventReport
from adrop_kit.widgets._display import mutation_note, shown, source_label

ABSENT = "(absent)"
UPLOAD_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")
DATA_URI_LIMIT = 5_000_000  # bytes of CSV offered as a download link; above, write files instead

# -- forms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One input of the event form: `kind` is text, number, integer, boolean, items or platform."""

    name: str
    kind: str
    required: bool = False

    @property
    def label(self) -> str:
        return self.name + (" *" if self.required else "")


def form_fields(spec: EventSpec) -> list[Field]:
    """The inputs for one event, in catalog order: uid, platform, then its parameters."""
    kinds = {"string": "text", "number": "number", "integer": "integer", "boolean": "boolean", "items": "items"}
    return [Field("uid", "text", True), Field("platform", "platform"),
            *(Field(p.name, kinds[p.type], p.required) for p in spec.params)]


def platform_options() -> tuple[str, ...]:
    return (ABSENT, *PLATFORMS)


def parse_number(text: str, kind: str) -> Any:
    """'' -> None (absent); '3' -> 3; '2.5' -> 2.5; anything else stays text, so E006 can say so."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def payload_from_form(event: str, values: Mapping[str, Any],
                      fields: Sequence[Field]) -> tuple[dict[str, Any], list[str]]:
    """The payload a filled form describes, and notes on inputs that could not be read (bad JSON).

    An empty input means the key is absent, never an empty value.
    """
    payload: dict[str, Any] = {}
    notes: list[str] = []
    if values.get("uid"):
        payload["uid"] = values["uid"]
    payload["eventName"] = event
    for f in fields:
        raw = values.get(f.name)
        if f.name == "uid":
            continue
        if f.kind in ("platform", "boolean"):
            if raw not in (None, "", ABSENT):
                payload[f.name] = {"true": True, "false": False}.get(raw, raw) if f.kind == "boolean" else raw
        elif f.kind == "items":
            text = (raw or "").strip()
            if text:
                try:
                    payload[f.name] = json.loads(text)
                except ValueError as exc:
                    notes.append(f"{f.name}: not valid JSON ({exc}); left out")
        elif f.kind in ("number", "integer"):
            value = parse_number(raw or "", f.kind)
            if value is not None:
                payload[f.name] = value
        elif raw:
            payload[f.name] = raw
    return payload, notes


def example_values(spec: EventSpec) -> dict[str, str]:
    """Form text for a valid, warning-free example of `spec` (every parameter filled)."""
    out = {"uid": "user-1", "platform": "web"}
    for p in spec.params:
        if p.type == "items":
            out[p.name] = json.dumps([{"item_id": "SKU-1", "item_name": "Widget", "price": 1000, "quantity": 1}])
        elif p.type == "boolean":
            out[p.name] = "true"
        elif p.type in ("number", "integer"):
            out[p.name] = "1000" if p.type == "number" else "1"
        elif p.name == "currency":
            out[p.name] = "KRW"
        elif p.name.endswith("_url"):
            out[p.name] = "https://example.com/"
        else:
            out[p.name] = f"{p.name}-1" if p.name.endswith("_id") else "example"
    return out


# -- HTML fragments ------------------------------------------------------------------------
_SEVERITY_COLOR = {"error": "#b00020", "warning": "#8a6d00"}


def violations_html(report: EventReport, notes: Iterable[str] = ()) -> str:
    """The verdict on one payload: a list of violations with their rule ids (class adrop-violations)."""
    items = [f"<li style='color:#555'>{html.escape(n)}</li>" for n in notes]
    for v in report.violations:
        color = _SEVERITY_COLOR.get(v.severity, "#333")
        items.append(f"<li><b style='color:{color}'>{v.rule.value}</b> <code>{html.escape(v.field or '(body)')}"
                     f"</code>: {html.escape(v.message)}</li>")
    head = ("<b style='color:#1b7f3b'>✓ valid</b>" if report.ok else
            f"<b style='color:#b00020'>✗ invalid: {len(report.errors)} error(s)</b>")
    if report.ok and report.warnings:
        head += f" <span style='color:#8a6d00'>({len(report.warnings)} warning(s))</span>"
    body = f"<ul style='margin:2px 0'>{''.join(items)}</ul>" if items else ""
    return f"<div class='adrop-violations'>{head}{body}</div>"


def json_html(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=str)
    return f"<pre class='adrop-json' style='margin:0;font-size:12px'>{html.escape(text)}</pre>"


def pre_html(text: str, cls: str = "adrop-pre") -> str:
    return f"<pre class='{cls}' style='margin:0;font-size:12px;white-space:pre-wrap'>{html.escape(text)}</pre>"


def cards_html(counts: Mapping[str, Any], cls: str, title: str = "") -> str:
    """Numbers as a row of small cards."""
    cards = "".join(
        f"<div style='padding:4px 12px;border:1px solid #ddd;border-radius:6px;text-align:center;min-width:60px'>"
        f"<div style='font-size:1.3em;font-weight:600'>{_fmt(v)}</div>"
        f"<div style='color:#666;font-size:0.85em'>{html.escape(str(k))}</div></div>" for k, v in counts.items())
    head = f"<div>{title}</div>" if title else ""
    return f"<div class='{cls}'>{head}<div style='display:flex;gap:8px;flex-wrap:wrap;margin:4px 0'>{cards}</div></div>"


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return html.escape(str(v))
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return html.escape(str(v))


def summary_html(report: DatasetReport) -> str:
    """The dataset summary cards (class adrop-summary, which the browser test looks for), under a title
    naming the data as a reader would ("a polars DataFrame of 1,000 rows") and a status in words and
    color (no emoji: without an emoji font it is a box)."""
    s = report.summary()
    status = ("<b class='adrop-status' style='color:#1b7f3b'>all valid</b>" if report.ok else
              f"<b class='adrop-status' style='color:#b00020'>invalid rows</b>: {s['invalid']:,} of {s['rows']:,} "
              "would be rejected")
    title = (f"<b>{html.escape(source_label(report.source, report.rows))}</b> — {status} "
             f"<span style='color:#888'>({report.elapsed_s:.2f} s)</span>")
    notes = "".join(f"<div class='adrop-name-note' style='color:#8a6d00'>{html.escape(n)}</div>"
                    for n in report.event_notes())  # W110 near misses, W101 custom events
    return cards_html(s, "adrop-summary", title) + notes


def table_html(rows: Iterable[Sequence[Any]], header: Sequence[str], cls: str = "adrop-table") -> str:
    """Rows as the package's one HTML table (`adrop_kit.support.html.html_table`), cells cut to fit a widget."""
    return html_table(([_short(c) for c in r] for r in rows), header, cls=cls)


def _short(c: Any) -> str | None:
    """A cell's text: nested values as JSON, text with edge blanks quoted (`'KRW '`, `''`), long text cut
    at 120 characters (html_table escapes it)."""
    if c is None:
        return None
    text = json.dumps(c, ensure_ascii=False, default=str) if isinstance(c, (dict, list)) else shown(c)
    return text if len(text) <= 120 else text[:119] + "…"


def frame_html(df: Any, *, limit: int = 50, cls: str = "adrop-table") -> str:
    """The first `limit` rows of a polars frame as a light HTML table, with a count line."""
    shown = df.head(limit)
    more = (f"<div style='color:#666;font-size:0.85em'>first {shown.height:,} of {df.height:,} rows</div>"
            if df.height > limit else f"<div style='color:#666;font-size:0.85em'>{df.height:,} row(s)</div>")
    return table_html(shown.rows(), shown.columns, cls) + more


def reply_html(result: Any) -> str:
    """A SendResult as one line: outcome, HTTP status, attempts, error."""
    color = "#1b7f3b" if result.ok else "#b00020"
    parts = [f"<b style='color:{color}'>{html.escape(result.outcome)}</b>"]
    if result.status is not None:
        parts.append(f"HTTP {result.status}")
    if result.attempts:
        parts.append(f"{result.attempts} attempt(s)")
    if result.error:
        parts.append(html.escape(result.error))
    return "<div class='adrop-reply'>" + " · ".join(parts) + "</div>"


# -- contract runs ------------------------------------------------------------------------------
def probe_rows(results: Sequence[Any], *, observed: bool = True, catalog: Any = None) -> list[tuple[Any, ...]]:
    """`ProbeResult`s as table rows, in run order: #, event, breaks, note, expected[, observed, agree, HTTP],
    payload.

    The note says what the event column does not: the payload's eventName was removed or replaced (W101:
    "eventName replaced by a name outside the catalog, 'level_up'"), or its body is not an object. The
    payload is the JSON text exactly as sent (NaN stays NaN)."""
    rows = []
    for i, r in enumerate(results):
        verdict = (r.observed, "✓" if r.agreed else "✗ disagree", r.status) if observed else ()
        rows.append((i, r.event, r.rule or "—", mutation_note(r.event, r.payload, catalog) or None, r.expected,
                     *verdict, r.body))
    return rows


PROBE_HEADER = ("#", "event", "breaks", "note", "expected", "observed", "agree", "HTTP", "payload")
DRAW_HEADER = ("#", "event", "breaks", "note", "expected", "payload")
_AGREE = PROBE_HEADER.index("agree")


def verdicts_html(report: Any, catalog: Any = None) -> str:
    """What a contract run without shrinking found: a headline, the disagreements (the key masked in
    their curl), every verdict (disagreements first), and why it stopped early, if it did."""
    results = report.results
    bad = [r for r in results if not r.agreed]
    head = (f"<b style='color:#1b7f3b'>all {len(results)} verdicts agree</b>" if not bad else
            f"<b style='color:#b00020'>{len(bad)} of {len(results)} verdicts disagree</b>")
    parts = [head]
    if report.error:
        parts.append(f"<div style='color:#b00020'>stopped: {html.escape(report.error)}</div>")
    if report.disagreements:
        items = "".join(f"<li>{html.escape(d.describe())}{pre_html(d.curl, 'adrop-curl')}</li>"
                        for d in report.disagreements)
        parts.append(f"<ol class='adrop-disagreements'>{items}</ol>")
    rows = probe_rows(results, catalog=catalog)
    rows = [r for r in rows if r[_AGREE] != "✓"] + [r for r in rows if r[_AGREE] == "✓"]
    parts.append(table_html(rows, PROBE_HEADER, "adrop-table adrop-fuzz-verdicts"))
    return "".join(parts)


# -- datasets --------------------------------------------------------------------------------
def upload_to_path(name: str, content: bytes, directory: str | Path | None = None) -> Path:
    """Write uploaded bytes to a temporary file whose suffix tells the reader the format."""
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ValueError(f"{name}: expected one of {', '.join(UPLOAD_SUFFIXES)}")
    folder = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="adrop-upload-"))
    path = folder / ("upload" + suffix)
    path.write_bytes(bytes(content))
    return path


def filter_violations(violations: Any, *, rule: str | None = None, event: str | None = None) -> Any:
    """Violations of one rule and/or one eventName (None: all). `event=''` means rows with no eventName."""
    import polars as pl

    out = violations
    if rule:
        out = out.filter(pl.col("rule") == rule)
    if event is not None:
        out = out.filter(pl.col("eventName").is_null() if event == "" else pl.col("eventName") == event)
    return out


def csv_bytes(df: Any) -> bytes:
    """A frame as CSV, nested cells as JSON text. Rows of a report come as `DatasetReport.rows_of(...,
    form="text")` gives them: the user's columns and values, numbers as their exact text."""
    import polars as pl

    nested = [c for c, t in df.schema.items() if isinstance(t, (pl.List, pl.Struct, pl.Array))]
    if nested:
        df = df.with_columns(pl.Series(c, [None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                                           for v in df.get_column(c).to_list()], dtype=pl.String) for c in nested)
    buf = io.BytesIO()
    df.write_csv(buf)
    return buf.getvalue()


def download_link(filename: str, data: bytes, label: str) -> str:
    """An <a download> link carrying the bytes as a data: URI (empty when too big for that)."""
    if len(data) > DATA_URI_LIMIT:
        return (f"<span style='color:#666'>{html.escape(label)}: {len(data):,} bytes, too big for a link; "
                f"use “Save CSV files”</span>")
    b64 = base64.b64encode(data).decode()
    return (f"<a class='adrop-download' download='{html.escape(filename)}' href='data:text/csv;base64,{b64}' "
            f"style='margin-right:16px'>⬇ {html.escape(label)}</a>")


def save_csvs(report: DatasetReport, folder: str | Path) -> list[Path]:
    """Write failures.csv and clean_rows.csv into `folder` (created); return the paths."""
    out = Path(folder).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "failures.csv", out / "clean_rows.csv"]
    paths[0].write_bytes(csv_bytes(report.violations))
    paths[1].write_bytes(csv_bytes(report.rows_of("valid", form="text")))
    return paths


def failures_figure(report: DatasetReport) -> Any:
    """A matplotlib Figure of violations by rule: the library's own chart (`explore.plots`)."""
    from adrop_kit.explore.plots import plot_failures_by_rule

    return plot_failures_by_rule(report)


def figure_png(fig: Any, dpi: int = 80) -> bytes:
    """Render a Figure to PNG bytes and release it (pyplot keeps figures alive otherwise)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # noqa: BLE001 - a Figure built without pyplot is not registered there
        pass
    return buf.getvalue()


def png_output(png: bytes, text: str = "<Figure>") -> dict[str, Any]:
    """A display_data output (what an Output widget holds) for a PNG."""
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png).decode(), "text/plain": text}}


__all__ = [
    "ABSENT", "DRAW_HEADER", "PROBE_HEADER", "Field", "cards_html", "csv_bytes", "download_link", "example_values",
    "failures_figure", "figure_png", "filter_violations", "form_fields", "frame_html", "json_html", "parse_number",
    "payload_from_form", "platform_options", "png_output", "pre_html", "probe_rows", "reply_html", "save_csvs",
    "summary_html", "table_html", "upload_to_path", "verdicts_html", "violations_html",
]
