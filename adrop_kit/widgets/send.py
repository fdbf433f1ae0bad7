"""`SendPanel`: send a dataset with a progress bar and live counts; dry-run first (on by default)."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from typing import Any

import ipywidgets as w

from adrop_kit.errors import AdropError
from adrop_kit.send.report import EventOutcome
from adrop_kit.spec.catalog import Catalog
from adrop_kit.widgets import _logic as logic
from adrop_kit.widgets._base import KeyInput, View, small
from adrop_kit.widgets._target import Target

_COUNTED = ("delivered", "rejected", "failed", "dry_run")  # what moves the progress bar
_CARDS = ("delivered", "rejected", "failed", "skipped")  # shown live (others once they happen)


class SendPanel(View):
    """Send `data` (anything `validate_events` takes; or type a path) to an endpoint or the local server.

    An empty endpoint means the embedded local server, started on the first send. The key comes from
    `app_key`, the key box (cleared at once) or $ADROP_APP_KEY and is only ever shown masked.
    """

    def __init__(self, data: Any = None, *, endpoint: str | None = None, app_key: str | None = None,
                 server: Any = None, catalog: Catalog | str | None = None, strict: bool = False) -> None:
        self.data = data
        self.catalog = catalog
        self.strict = strict
        self.target = Target(endpoint, app_key, server=server, catalog=catalog)
        self.report: Any = None
        self._lock = threading.Lock()
        self._last_update = 0.0
        self._counts: Counter[str] = Counter()

        self.source = w.Text(placeholder="path to a dataset (.csv, .jsonl, .json, .parquet)", description="data",
                             layout=w.Layout(width="460px"))
        self.endpoint = w.Text(value=endpoint or "", placeholder="empty: the local server",
                               description="endpoint", layout=w.Layout(width="460px"))
        self.key = KeyInput(self.target, on_change=self._show_target)
        self.where = w.HTML()
        self.concurrency = w.IntSlider(value=8, min=1, max=32, description="concurrency")
        self.dry_run = w.ToggleButton(value=True, description="dry run", icon="eye",
                                      tooltip="validate and show the requests (key masked); send nothing")
        self.send_button = w.Button(description="Dry run", icon="paper-plane")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="sent", bar_style="info")
        self.counts = w.HTML()
        self.requests = w.HTML()
        self.results = w.HTML()

        self.endpoint.observe(lambda _: self._show_target(), names="value")
        self.dry_run.observe(self._dry_run_changed, names="value")
        self.send_button.on_click(lambda _: self.send())
        self._show_target()

        data_row = [small(f"data: {_describe(data)}")] if data is not None else [self.source]
        self.widget = w.VBox([
            *data_row,
            self.endpoint, self.key.password, self.where,
            w.HBox([self.concurrency, self.dry_run, self.send_button]),
            self.progress, self.counts, self.requests, self.results,
        ])
        self.widget.add_class("adrop-send-panel")

    def _show_target(self) -> None:
        self.target.set_endpoint(self.endpoint.value)
        self.where.value = f"<span style='color:#444'>to {self.target.describe()}</span>"

    def _dry_run_changed(self, change: dict[str, Any]) -> None:
        self.send_button.description = "Dry run" if change["new"] else "Send"
        self.send_button.button_style = "" if change["new"] else "primary"

    def _on_outcome(self, outcome: EventOutcome | None) -> None:
        """The Sender's `on_outcome` hook: every event's outcome as it happens, from the sender's worker
        threads (None: redraw). Counts under a lock; redraws at most every 0.1 s, and at the last event."""
        with self._lock:
            if outcome is not None:
                self._counts[str(outcome.outcome)] += 1
            done = sum(self._counts[k] for k in _COUNTED)
            now = time.monotonic()
            if outcome is not None and now - self._last_update < 0.1 and done < self.progress.max:
                return
            self._last_update = now
            self.progress.value = min(self.progress.max, done)
            shown = dict.fromkeys(_CARDS, 0) | self._counts
            self.counts.value = logic.cards_html(shown, "adrop-send-counts")

    def send(self) -> Any:
        """Validate, then send (or dry-run) every valid row; returns the SendReport."""
        from adrop_kit import validate_events

        data = self.data if self.data is not None else self.source.value.strip()
        if isinstance(data, str) and not data:
            self.results.value = "<span style='color:#b00020'>give a dataset path first</span>"
            return None
        self._show_target()
        self.requests.value = ""
        self.results.value = ""
        try:
            checked = validate_events(data, catalog=self.catalog, strict=self.strict)
            self.progress.max = max(1, checked.valid)
            self.progress.bar_style = "info"
            with self._lock:
                self._counts.clear()
            self._on_outcome(None)
            with self.target.sender(dry_run=self.dry_run.value, concurrency=self.concurrency.value,
                                    progress=False, strict=self.strict, on_outcome=self._on_outcome) as sender:
                report = sender.send_all(data)
        except (AdropError, OSError, ValueError) as exc:
            self.results.value = f"<span style='color:#b00020'>cannot send: {exc}</span>"
            self.progress.bar_style = "danger"
            return None
        self.report = report
        self._show(report)
        return report

    def _show(self, report: Any) -> None:
        s = report.summary()
        self.progress.value = self.progress.max if report.dry_run else min(
            self.progress.max, report.delivered + report.rejected + report.failed)
        self.progress.bar_style = "warning" if report.failed or report.rejected or report.pending else "success"
        shown = {k: v for k, v in s.items() if v or k in ("total", "delivered")}
        self.counts.value = logic.cards_html(shown, "adrop-send-counts",
                                             f"<b>{'dry run' if report.dry_run else 'sent'}</b> to "
                                             f"{report.endpoint}")
        if report.dry_run and report.requests:
            self.requests.value = ("<div style='color:#666'>dry run: nothing was sent; the first requests:</div>"
                                   + logic.pre_html("\n\n".join(report.requests[:3]), "adrop-request"))
        problems = report.problems()
        table = report.table().drop("key")
        parts = []
        if problems:
            parts.append(f"<b>Problems</b> ({len(problems):,}{', the first 10' if len(problems) > 10 else ''})")
            parts.append(logic.table_html([(o.row, o.eventName, o.outcome, o.status, o.attempts, o.error)
                                           for o in problems[:10]],
                                          ("row", "eventName", "outcome", "status", "attempts", "error"),
                                          "adrop-table adrop-send-problems"))
        parts.append("<b>Outcomes</b>")
        parts.append(logic.frame_html(table, limit=10, cls="adrop-table adrop-send-table"))
        self.results.value = "".join(parts)


def _describe(data: Any) -> str:
    if isinstance(data, (str, os.PathLike)):
        return str(data)
    height = getattr(data, "height", None) or getattr(data, "shape", (None,))[0]
    if height is not None:
        return f"a {type(data).__module__.split('.')[0]} frame of {height:,} rows"
    try:
        return f"{len(data):,} events"
    except TypeError:
        return type(data).__name__


__all__ = ["SendPanel"]
