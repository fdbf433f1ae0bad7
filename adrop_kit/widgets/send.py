"""`SendPanel`: dry-run or send a dataset with a progress bar and live counts, never sending a row twice."""

from __future__ import annotations

import html
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import ipywidgets as w

from adrop_kit.errors import AdropError
from adrop_kit.send.journal import Journal, default_journal
from adrop_kit.send.outcome import EventOutcome, Outcome
from adrop_kit.send.transport import Endpoint
from adrop_kit.spec.catalog import Catalog
from adrop_kit.widgets import _logic as logic
from adrop_kit.widgets._base import KeyInput, View, small
from adrop_kit.widgets._display import describe_data, live_cards, send_cards, sent_count
from adrop_kit.widgets._target import Target

_COUNTED = tuple(map(str, (Outcome.DELIVERED, Outcome.REJECTED, Outcome.FAILED, Outcome.DRY_RUN,
                          Outcome.ALREADY_DELIVERED)))  # what moves the progress bar
_RED = "<span style='color:#b00020'>{}</span>"
DRY_RUN_DONE = "dry run — nothing sent"


class SendPanel(View):
    """Send `data` (anything `validate_events` takes; or type a path) to an endpoint or the local server.

    Two buttons say what they do: **Dry run** validates and shows the first requests (key masked) and
    sends nothing; **Send** sends every valid row. An empty endpoint means the embedded local server,
    started on first use. The key comes from `app_key`, the key box (cleared at once) or $ADROP_APP_KEY
    and is only ever shown masked.

    Nothing is sent twice: a journal remembers every row delivered, so a second **Send** skips them
    and says so. By default (`journal=None`) an endpoint gets the same journal as `Sender` and
    `adrop-kit send` use (one per endpoint and input under the user's state directory, kept across
    sessions); the embedded local server, whose events live only as long as this session, an in-memory
    one per key. **Forget sent rows** clears the default journals this panel used, to send them again
    on purpose. `journal=` a file path chooses the journal (the user's own: not cleared from here);
    `journal=False` keeps none.
    """

    def __init__(self, data: Any = None, *, endpoint: str | None = None, app_key: str | None = None,
                 server: Any = None, catalog: Catalog | str | None = None, strict: bool = False,
                 journal: str | os.PathLike[str] | Journal | bool | None = None) -> None:
        self.data = data
        self.catalog = catalog
        self.strict = strict
        self.target = Target(endpoint, app_key, server=server, catalog=catalog)
        self.report: Any = None
        self.journal = journal
        """The journal file (or `Journal`) given; False: none; None: the default (see the class docstring)."""
        self._journals: dict[str, Journal] = {}
        self._defaults: set[Path] = set()  # the default journal files this panel's sends used
        self._lock = threading.Lock()
        self._last_update = 0.0
        self._counts: Counter[str] = Counter()
        self._dry = True

        self.source = w.Text(placeholder="path to a dataset (.csv, .jsonl, .json, .parquet)", description="data",
                             layout=w.Layout(width="460px"))
        self.endpoint = w.Text(value=endpoint or "", placeholder="empty: the local server",
                               description="endpoint", layout=w.Layout(width="460px"))
        self.key = KeyInput(self.target, on_change=self._show_target)
        self.where = w.HTML()
        self.concurrency = w.IntSlider(value=8, min=1, max=32, description="concurrency")
        self.dry_run_button = w.Button(description="Dry run", icon="eye",
                                       tooltip="validate and show the first requests (key masked); nothing is sent")
        self.send_button = w.Button(description="Send", icon="paper-plane", button_style="primary",
                                    tooltip="send every valid row; rows this panel already delivered are skipped")
        self.forget_button = w.Button(description="Forget sent rows", icon="eraser", disabled=True,
                                      tooltip="clear this panel's journal: the next Send sends delivered rows again")
        if journal is not None and journal is not True:
            self.forget_button.layout.display = "none"  # a journal file is the user's own: not cleared here
        self.progress = w.IntProgress(value=0, min=0, max=1, description="", bar_style="info",
                                      style={"description_width": "initial"})
        self.counts = w.HTML()
        self.note = w.HTML()
        self.requests = w.HTML()
        self.results = w.HTML()

        self.endpoint.observe(lambda _: self._show_target(), names="value")
        self.dry_run_button.on_click(lambda _: self.send(dry_run=True))
        self.send_button.on_click(lambda _: self.send())
        self.forget_button.on_click(lambda _: self.forget())
        self._show_target()

        data_row = [small(f"data: {html.escape(describe_data(data))}")] if data is not None else [self.source]
        self.widget = w.VBox([
            *data_row,
            self.endpoint, self.key.password, self.where,
            w.HBox([self.concurrency, self.dry_run_button, self.send_button, self.forget_button]),
            self.progress, self.counts, self.note, self.requests, self.results,
        ])
        self.widget.add_class("adrop-send-panel")

    def _show_target(self) -> None:
        self.target.set_endpoint(self.endpoint.value)
        self.where.value = f"<span style='color:#444'>to {self.target.describe()}</span>"

    # -- the journal ----------------------------------------------------------------------------
    def _journal(self, data: Any) -> Any:
        """The journal of this send: the one given; for the embedded local server this panel's
        in-memory one for its key; else True (the Sender's default journal for the endpoint and data)."""
        if self.journal is not None and self.journal is not True:
            return self.journal
        if not self.target.local:
            from adrop_kit.send.plan import input_identity  # polars: not at import

            self._defaults.add(default_journal(Endpoint.parse(self.target.url()).url, input_identity(data)))
            return True
        scope = self.target.scope()
        if scope not in self._journals:
            self._journals[scope] = Journal(":memory:")
        return self._journals[scope]

    def forget(self) -> None:
        """Clear the journals this panel used by default: the next Send sends every valid row again,
        delivered or not."""
        for journal in self._journals.values():
            journal.close()
        self._journals.clear()
        for path in self._defaults:
            for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.lock")):
                f.unlink(missing_ok=True)
        self._defaults.clear()
        self.forget_button.disabled = True
        self.note.value = ("<span class='adrop-send-note' style='color:#444'>forgotten: the next Send sends every "
                           "valid row again, even those already delivered</span>")

    def close(self) -> None:
        for journal in self._journals.values():
            journal.close()
        self._journals.clear()
        super().close()

    # -- sending --------------------------------------------------------------------------------
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
            self.counts.value = logic.cards_html(live_cards(self._counts, dry_run=self._dry), "adrop-send-counts")

    def send(self, *, dry_run: bool = False) -> Any:
        """Validate, then send every valid row (`dry_run=True`: show the first requests, send nothing).
        Rows this panel's journal has as delivered are not sent again. Returns the SendReport."""
        from adrop_kit import validate_events

        data = self.data if self.data is not None else self.source.value.strip()
        if isinstance(data, str) and not data:
            self.results.value = _RED.format("give a dataset path first")
            return None
        self._show_target()
        self.requests.value = self.results.value = self.note.value = ""
        self._dry = dry_run
        try:
            checked = validate_events(data, catalog=self.catalog, strict=self.strict)
            self.progress.max = max(1, checked.valid)
            self.progress.value = 0
            self.progress.bar_style = "info"
            self.progress.description = "checking" if dry_run else "sending"
            with self._lock:
                self._counts.clear()
            self._on_outcome(None)
            journal = self._journal(data)  # a dry run asks it too: what Send would skip
            with self.target.sender(dry_run=dry_run, concurrency=self.concurrency.value, progress=False,
                                    strict=self.strict, journal=journal, on_outcome=self._on_outcome) as sender:
                report = sender.send_all(data)
        except (AdropError, OSError, ValueError) as exc:
            self.results.value = _RED.format(f"cannot send: {html.escape(str(exc))}")
            self.progress.bar_style = "danger"
            self.progress.description = "not sent"
            return None
        self.report = report
        self._show(report)
        return report

    def _show(self, report: Any) -> None:
        s = report.summary()
        where = html.escape(report.endpoint)
        before = report.already_delivered if report.dry_run else 0
        if report.dry_run:
            self.progress.value = self.progress.max
            self.progress.bar_style = "info"
            self.progress.description = DRY_RUN_DONE
            title = f"<b>{DRY_RUN_DONE}</b>; “Send” would send to {where}"
        else:
            sent = sent_count(s)
            self.progress.value = min(self.progress.max, sent + report.already_delivered)
            self.progress.bar_style = ("warning" if report.failed or report.rejected or report.pending else
                                       "success")
            self.progress.description = "sent" if sent else "nothing sent"
            title = f"<b>sent</b> to {where}" if sent else f"<b>nothing sent</b> to {where}"
        self.counts.value = logic.cards_html(send_cards(s, dry_run=report.dry_run), "adrop-send-counts", title)
        self._show_note(report, before)
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
        note = report.unlisted_note()  # a streamed send lists only the rows needing attention
        parts.append("<b>Outcomes</b>" + (f" <span style='color:#666'>({html.escape(note)})</span>" if note else ""))
        parts.append(logic.frame_html(table, limit=10, cls="adrop-table adrop-send-table"))
        self.results.value = "".join(parts)

    def _show_note(self, report: Any, before: int) -> None:
        """What the journal did (or would do): rows already delivered are not sent again. `before`: of a
        dry run's rows, those already delivered."""
        mine = self.journal is None or self.journal is True
        whose = "this panel's journal" if mine else \
            f"the journal {html.escape(str(getattr(self.journal, 'path', self.journal)))}"
        again = "; “Forget sent rows” to send them again" if mine else ""
        if report.dry_run:
            text = (f"{before:,} of these row(s) were already delivered by an earlier Send ({whose}): “Send” "
                    f"would skip them" + again) if before else ""
        else:
            n = report.already_delivered
            if mine:
                self.forget_button.disabled = not (self._journals or self._defaults)
            text = (f"{n:,} row(s) already delivered by an earlier Send were not sent again ({whose}){again}"
                    if n else "")
        lines = [text, *(html.escape(t) for t in report.event_notes())]  # W110 held, W101 custom events
        self.note.value = "".join(f"<div class='adrop-send-note' style='color:#8a6d00'>{t}</div>" for t in lines if t)


__all__ = ["DRY_RUN_DONE", "SendPanel"]
