"""`Sender`: validate, then deliver events reliably, journaled, with bounded concurrency.

    with Sender(endpoint=srv.endpoint) as sender:
        report = sender.send_all("events.jsonl")   # run it again: nothing is sent twice

Every event ends in exactly one bucket of the `SendReport`: delivered, rejected (the
server said `!invalid`), failed (gave up after retries), skipped (invalid locally, never
sent), already_delivered (found in the journal), pending (not attempted because the
run was interrupted or aborted), held (valid, but carrying a warning `hold_warnings=`
names: kept back, not journaled, so a run without it sends them), or changed (its position was
delivered earlier with another body: not re-sent unless `resend_changed=True`). Nothing is
dropped silently.

A journal always, unless `journal=False`: by default (`journal=True`) each `send_all` keeps one
under the user's state directory, one per endpoint and input (`send.journal.default_journal`,
`send.plan.input_identity`), in memory for the Sender's lifetime when its transport is an app in
this process (`in_process`, e.g. the local server's); a path or a `Journal` chooses one. Event
identity: `send.plan`.

How hard each event is tried is one `RetryPolicy` (`retry=`); `on_outcome=` sees each
event's `EventOutcome` as it happens (live counts in a widget, a log, a metrics counter).
How a request travels is one transport object (`transport=`, see `send.transport`): HTTP by
default, or e.g. `LocalServer().transport()` to the local server's app in this process.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adrop_kit.errors import InvalidEvents, JournalError
from adrop_kit.io.jsontext import dumps_payload, sent_body
from adrop_kit.send.filelock import sniff
from adrop_kit.send.http import transport_for
from adrop_kit.send.journal import Journal, default_journal
from adrop_kit.send.outcome import OUTCOMES, EventOutcome, Outcome, SendResult
from adrop_kit.send.ratelimit import RateLimiter
from adrop_kit.send.report import SendReport, hold_rules
from adrop_kit.send.retry import RetryPolicy, post_with_retries
from adrop_kit.send.transport import DEFAULT_ENDPOINT, Endpoint, Request, Transport, mask_key, resolve_key
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.spec.rules import UNICODE_MESSAGE
from adrop_kit.spec.version import USER_AGENT
from adrop_kit.validate.event import validate_event

OutcomeHook = Callable[[EventOutcome], Any]


class Sender:
    """Sends events to Adrop (or any compatible endpoint, e.g. the local server).

    The app key comes from `app_key` or `ADROP_APP_KEY`; it is used in one header and never
    printed, logged, stored in the journal or shown in a repr (dry-run shows it masked).
    A journal given as a path is locked while the Sender is open: another Sender or run on the
    same file raises `JournalInUse` (a `JournalError`, as is a file that is not a journal).

    `transport`: a transport object (`HTTPTransport()` when omitted; `RequestsTransport()`;
    `LocalServer.transport()`; anything with `handle(request)` and `close()`), or the shorthand
    "http.client" / "requests" for the first two. The Sender closes it when it closes (a transport
    may be used again after `close()`). `endpoint`: where requests go; when omitted, the
    transport's own `endpoint` if it has one (an in-process server's), else Adrop's.
    """

    def __init__(self, app_key: str | None = None, *, endpoint: str | None = None, concurrency: int = 8,
                 rate: float | None = None, retry: RetryPolicy | None = None, dry_run: bool = False,
                 journal: str | os.PathLike | Journal | bool | None = True, validate: bool = True,
                 strict: bool = False,
                 catalog: Catalog | str | None = None, progress: bool | None = None,
                 transport: Transport | str | None = None, extra_columns: Iterable[str] = ("ts",),
                 on_outcome: OutcomeHook | None = None, hold_warnings: bool | str | Iterable[str] | None = None,
                 id_column: str | None = None, resend_changed: bool = False):
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        self.catalog = resolve(catalog)
        self.extra_columns = self.catalog.metadata(extra_columns)  # MetaColumnError for `price`, `uid`…
        self.transport = transport_for(transport)  # ValueError/TypeError for what is no transport
        self.endpoint = Endpoint.parse(endpoint or getattr(self.transport, "endpoint", None) or DEFAULT_ENDPOINT)
        self.__key = resolve_key(app_key, required=not dry_run)
        self.concurrency = concurrency
        self.limiter = RateLimiter(rate) if rate else None
        self.retry = retry if retry is not None else RetryPolicy()
        self.on_outcome = on_outcome
        self.dry_run = dry_run
        self.validate = validate
        self.strict = strict
        self.progress = progress
        self.id_column = id_column
        """A column holding an event id the export already has: the event's identity (`send.plan`).
        Not sent, unless it is a field of the event (`tx_id`…)."""
        if id_column is not None and id_column not in self.extra_columns and id_column not in \
                {"uid", "eventName", "platform", *self.catalog.param_types}:
            self.extra_columns += (id_column,)
        self.resend_changed = resend_changed
        # ValueError for an id that is not a warning rule; by default W110 (`DEFAULT_HOLD`), when validating
        self.hold_warnings = hold_rules(hold_warnings if validate or hold_warnings is not None else False)
        if self.hold_warnings and not validate:
            raise ValueError("hold_warnings needs validate=True: warnings come from validating the rows")
        self._closed = False
        # last, once nothing else can fail: an own journal is locked from here until close()
        self._default_journal = journal is True
        self._memory_journals: dict[str, Journal] = {}  # the defaults of an in-process transport, by input
        self._own_journal = journal not in (None, False, True) and not isinstance(journal, Journal)
        if self._own_journal and dry_run and not os.path.exists(journal):  # type: ignore[arg-type]
            sniff(str(journal))  # what the real run would stop on (no directory there): say it now
            self._own_journal, journal = False, None  # a dry run reads a journal, never creates one
        self.journal: Journal | None = Journal(journal) if self._own_journal else (  # type: ignore[arg-type]
            journal if isinstance(journal, Journal) else None)

    # -- plumbing ----------------------------------------------------------------------
    @property
    def masked_key(self) -> str:
        return mask_key(self.__key)

    def __repr__(self) -> str:
        return (f"<Sender endpoint={self.endpoint.url!r} key={self.masked_key} concurrency={self.concurrency}"
                f"{' dry_run' if self.dry_run else ''}>")

    def _request(self, body: bytes) -> Request:
        headers = {"Authorization": self.__key or "", "Content-Type": "application/json", "User-Agent": USER_AGENT}
        return Request(self.endpoint, body, headers, self.retry.timeout)

    def render_request(self, payload: Any) -> str:
        """The request as it would go out, the key masked (what dry-run shows)."""
        return self._render(dumps_payload(payload))

    def _render(self, body: bytes) -> str:
        return (f"POST {self.endpoint.url}\nAuthorization: {self.masked_key}\n"
                f"Content-Type: application/json\n\n{body.decode()}")

    def close(self) -> None:
        """Close connections (and the journal if this sender opened it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.transport.close()
        if self._own_journal and self.journal is not None:
            self.journal.close()
        for journal in self._memory_journals.values():
            journal.close()
        self._memory_journals.clear()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- one event ----------------------------------------------------------------------

    def send(self, payload: Any) -> SendResult:
        """Validate and send one event (with retries). Returns what happened (an `EventOutcome`, row 0,
        not journaled); never raises for data."""
        name = payload.get("eventName") if isinstance(payload, dict) else None
        name = name if isinstance(name, str) else None
        if self.validate:
            report = validate_event(payload, catalog=self.catalog, strict=self.strict)
            held = [v for v in report.warnings if self.hold_warnings is True or v.rule.value in self.hold_warnings] \
                if self.hold_warnings else []
            for outcome, kept in ((Outcome.SKIPPED, report.errors), (Outcome.HELD, held)):
                if kept:
                    return EventOutcome(0, name, None, outcome, None, 0,
                                        "; ".join(f"{v.rule} {v.field}: {v.message}" for v in kept),
                                        violations=tuple(kept))
        if self.dry_run:
            return EventOutcome(0, name, None, Outcome.DRY_RUN, None, 0, None)
        try:
            body = dumps_payload(sent_body(payload))  # null is an absent key: not sent (SPEC.md, "Decisions")
        except (ValueError, TypeError) as exc:  # text UTF-8 cannot hold (validate=False): no body to send
            why = UNICODE_MESSAGE if isinstance(exc, UnicodeError) else f"cannot be written as JSON ({exc})"
            return EventOutcome(0, name, None, Outcome.SKIPPED, None, 0, why)
        reply, attempts, _ = post_with_retries(self.transport, self._request(body), self.retry, limiter=self.limiter)
        return EventOutcome(0, name, None, reply.outcome, reply.status, attempts, reply.why)

    # -- many events ----------------------------------------------------------------------
    def send_all(self, data: Any, *, dry_run_preview: int = 5, stream: bool | None = None,
                 batch_bytes: int | None = None, batch_rows: int | None = None,
                 delimiter: str | None = None, outcomes_out: str | os.PathLike[str] | None = None,
                 encoding: str | None = None, mapping: Any = None,
                 quarantine: str | os.PathLike[str] | None = None,
                 max_invalid_rate: float | None = None) -> SendReport:
        """Validate and send a dataset (anything `validate_events` takes; `delimiter`: a CSV file's
        field separator, None sniffs it; `encoding`: a CSV file's text encoding, None reads UTF-8 or
        guesses CP949; `mapping`: a mapping file whose renames and value fixes apply to every row
        before it is checked and sent, the report's notes saying how many rows each rule changed).
        See the module docstring.
        Every input goes through one loop (`send.stream`): batches, each checked, planned
        (`send.plan`), sent, journaled and let go; an input `validate_events` reads whole is one batch,
        and its report lists every row. Inputs it streams (several files, `-`, a big file,
        `batch_bytes=`…) are many batches; their report counts every outcome but lists only the rows
        needing attention (not the delivered ones). `outcomes_out` (.parquet/.jsonl/.csv; it streams
        the send) gets every row's outcome; `quarantine` (same formats) every row not sent, in the
        user's columns, with `_adrop_outcome` and `_adrop_why`.
        `max_invalid_rate`: validate the whole input first, and raise `InvalidEvents` (nothing sent)
        when more than that share of its rows is invalid (standard input cannot be read twice)."""
        if max_invalid_rate is not None:
            self._check_invalid_rate(data, max_invalid_rate, delimiter=delimiter, encoding=encoding, mapping=mapping)
        with self._journal_for(data):
            if self.journal is not None and hasattr(self.journal, "bind"):
                self.journal.bind(self.endpoint.identity, write=not self.dry_run)
            report = self._send_all(data, dry_run_preview=dry_run_preview, stream=stream, batch_bytes=batch_bytes,
                                    batch_rows=batch_rows, delimiter=delimiter, outcomes_out=outcomes_out,
                                    encoding=encoding, mapping=mapping, quarantine=quarantine)
        report.notes += self._shared_journal_note(data, report)
        return report

    def _shared_journal_note(self, data: Any, report: SendReport) -> tuple[str, ...]:
        """Say so when the default journal of an input with no name (standard input, rows in memory), shared
        by every such input sent to this endpoint, took rows for already delivered: if this is other data
        than what was sent before, those rows are new events with the same body, and they were not sent."""
        if not (self._default_journal and report.already_delivered):
            return ()
        from adrop_kit.send.plan import input_identity  # polars: not at import

        what = {"stdin": "standard input", "data": "rows in memory"}.get(input_identity(data))
        if what is None:
            return ()
        return (f"already delivered: {report.already_delivered:,}, by the default journal that every input from "
                f"{what} sent to this endpoint shares (same body, same occurrence); if this is not the data sent "
                "before, those rows are new events and were not sent: give each input its own journal "
                "(--journal FILE, journal=) to send them",)

    def _send_all(self, data: Any, *, dry_run_preview: int, stream: bool | None, batch_bytes: int | None,
                  batch_rows: int | None, delimiter: str | None, outcomes_out: Any, encoding: str | None,
                  mapping: Any, quarantine: Any) -> SendReport:

        from adrop_kit.io.importers.fixes import fix_notes, fixed_frames
        from adrop_kit.io.parts import Inputs
        from adrop_kit.io.readers import to_frame
        from adrop_kit.io.stream import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, whole_frame
        from adrop_kit.send.stream import checked, send_batches
        from adrop_kit.validate.dataset import mapping_fixes, plan_inputs
        from adrop_kit.validate.stream import input_frames

        plan = plan_inputs(data, stream=stream, batch_bytes=batch_bytes, batch_rows=batch_rows,
                           outcomes_out=outcomes_out, encoding=encoding)
        fixes, where = mapping_fixes(mapping, self.catalog)
        changed: Counter[str] = Counter()
        if isinstance(plan, Inputs):  # streamed: batch by batch
            frames: Any = input_frames(plan, self.catalog, batch_bytes=batch_bytes or DEFAULT_BATCH_BYTES,
                                       batch_rows=batch_rows or DEFAULT_BATCH_ROWS, progress=False,
                                       delimiter=delimiter)
            if fixes is not None:
                frames = fixed_frames(frames, fixes, changed)
            report = send_batches(self, checked(self, frames), label=plan.label, multi=plan.multi,
                                  dry_run_preview=dry_run_preview, outcomes_out=outcomes_out,
                                  quarantine=quarantine)
            report.notes += fix_notes(changed, where)
            return report
        frame = to_frame(data, self.catalog, delimiter=delimiter) if plan is None else \
            whole_frame(plan, self.catalog, delimiter=delimiter)  # the one-batch case
        frames = [(0, frame)] if fixes is None else fixed_frames([(0, frame)], fixes, changed)
        report = send_batches(self, checked(self, frames), label=frame.source, whole=True,
                              dry_run_preview=dry_run_preview, quarantine=quarantine)
        report.notes += fix_notes(changed, where)
        return report

    def default_journal(self, data: Any) -> Path | None:
        """The journal `send_all(data)` keeps when the Sender was given none (`journal=True`), else None."""
        from adrop_kit.send.plan import input_identity  # polars: not at import

        return default_journal(self.endpoint.url, input_identity(data)) if self._default_journal else None

    @contextmanager
    def _journal_for(self, data: Any) -> Iterator[None]:
        """The default journal of `data`, open (and locked) for one `send_all`. A dry run reads it when it
        exists and never creates it."""
        path = self.default_journal(data)
        if path is not None and self.journal is None and getattr(self.transport, "in_process", False):
            from adrop_kit.send.plan import input_identity

            identity = input_identity(data)
            if identity not in self._memory_journals:
                self._memory_journals[identity] = Journal(":memory:")
            self.journal = self._memory_journals[identity]
            try:
                yield
            finally:
                self.journal = None
            return
        if path is None or self.journal is not None or (self.dry_run and not path.exists()):
            yield
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"{path.parent}: cannot create the journal directory: {exc.strerror or exc}") from None
        self.journal = Journal(path)
        try:
            yield
        finally:
            journal, self.journal = self.journal, None
            journal.close()

    def _check_invalid_rate(self, data: Any, rate: float, *, delimiter: str | None, encoding: str | None,
                            mapping: Any) -> None:
        """Raise `InvalidEvents` when more than `rate` of `data`'s rows are invalid (a whole validation pass)."""
        from adrop_kit.io.parts import STDIN
        from adrop_kit.validate.dataset import validate_events

        if not 0 <= rate <= 1:
            raise ValueError(f"max_invalid_rate is a share of rows between 0 and 1, not {rate}")
        if data == STDIN or (isinstance(data, (list, tuple)) and STDIN in data):
            raise ValueError("max_invalid_rate validates the whole input before sending, so it reads it twice: "
                             "standard input cannot be; save it to a file first")
        report = validate_events(data, catalog=self.catalog, strict=self.strict, extra_columns=self.extra_columns,
                                 progress=False, delimiter=delimiter, encoding=encoding, mapping=mapping)
        if report.rows and report.invalid / report.rows > rate:
            exc = InvalidEvents(f"{report.invalid:,} of {report.rows:,} rows are invalid "
                                f"({report.invalid / report.rows:.2%}), more than the {rate:.2%} allowed "
                                "(max_invalid_rate): nothing was sent")
            exc.report = report  # type: ignore[attr-defined]
            raise exc

    def _emitter(self, outcomes: list[EventOutcome]) -> Callable[[EventOutcome], None]:
        """Collect an outcome and show it to the `on_outcome` hook."""
        hook = self.on_outcome

        def emit(outcome: EventOutcome) -> None:
            outcomes.append(outcome)
            if hook is not None:
                hook(outcome)

        return emit


__all__ = ["OUTCOMES", "EventOutcome", "Outcome", "OutcomeHook", "SendReport", "SendResult", "Sender"]
