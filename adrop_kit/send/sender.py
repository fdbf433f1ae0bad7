"""`Sender`: validate, then deliver events reliably, journaled, with bounded concurrency.

    with Sender(endpoint=srv.endpoint, journal="send.journal") as sender:
        report = sender.send_all("events.jsonl")

Every event ends in exactly one bucket of the `SendReport`: delivered, rejected (the
server said `!invalid`), failed (gave up after retries), skipped (invalid locally, never
sent), already_delivered (found in the journal), pending (not attempted because the
run was interrupted or aborted), or held (valid, but carrying a warning `hold_warnings=`
names: kept back, not journaled, so a run without it sends them). Nothing is dropped silently.

How hard each event is tried is one `RetryPolicy` (`retry=`); `on_outcome=` sees each
event's `EventOutcome` as it happens (live counts in a widget, a log, a metrics counter).
How a request travels is one transport object (`transport=`, see `send.transport`): HTTP by
default, or e.g. `LocalServer().transport()` to the local server's app in this process.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from adrop_kit.errors import JournalError
from adrop_kit.io.jsontext import dumps_payload
from adrop_kit.send.http import transport_for
from adrop_kit.send.jobs import Job as _Job
from adrop_kit.send.jobs import RunState as _RunState
from adrop_kit.send.jobs import held_warnings, reasons
from adrop_kit.send.journal import Journal, event_key
from adrop_kit.send.ratelimit import RateLimiter
from adrop_kit.send.report import OUTCOMES, EventOutcome, Outcome, SendReport, hold_rules
from adrop_kit.send.retry import RetryPolicy, post_with_retries
from adrop_kit.send.transport import (
    DEFAULT_ENDPOINT,
    Endpoint,
    Reply,
    Request,
    Transport,
    mask_key,
    resolve_key,
)
from adrop_kit.spec.catalog import Catalog, resolve
from adrop_kit.spec.version import USER_AGENT
from adrop_kit.support.progress import progress_bar
from adrop_kit.validate.event import validate_event

OutcomeHook = Callable[[EventOutcome], Any]


@dataclass(frozen=True)
class SendResult:
    """The fate of one event."""

    outcome: str                 # delivered | rejected | failed | skipped | dry_run | held
    status: int | None = None
    attempts: int = 0
    error: str | None = None
    violations: tuple = ()

    @property
    def ok(self) -> bool:
        return self.outcome in ("delivered", "dry_run")


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
                 journal: str | os.PathLike | Journal | None = None, validate: bool = True, strict: bool = False,
                 catalog: Catalog | str | None = None, progress: bool | None = None,
                 transport: Transport | str | None = None, extra_columns: Iterable[str] = ("ts",),
                 on_outcome: OutcomeHook | None = None, hold_warnings: bool | str | Iterable[str] = False):
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
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
        self.catalog = resolve(catalog)
        self.progress = progress
        self.extra_columns = tuple(extra_columns)
        self.hold_warnings = hold_rules(hold_warnings)  # ValueError for an id that is not a warning rule
        if self.hold_warnings and not validate:
            raise ValueError("hold_warnings needs validate=True: warnings come from validating the rows")
        self._closed = False
        # last, once nothing else can fail: an own journal is locked from here until close()
        self._own_journal = journal is not None and not isinstance(journal, Journal)
        self.journal = Journal(journal) if self._own_journal else journal  # type: ignore[arg-type]

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
        body = dumps_payload(payload).decode()
        return (f"POST {self.endpoint.url}\nAuthorization: {self.masked_key}\n"
                f"Content-Type: application/json\n\n{body}")

    def close(self) -> None:
        """Close connections (and the journal if this sender opened it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.transport.close()
        if self._own_journal and self.journal is not None:
            self.journal.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- one event ----------------------------------------------------------------------

    def send(self, payload: Any) -> SendResult:
        """Validate and send one event (with retries). Returns what happened; never raises for data."""
        if self.validate:
            report = validate_event(payload, catalog=self.catalog, strict=self.strict)
            if not report.ok:
                return SendResult("skipped", violations=tuple(report.errors),
                                  error="; ".join(f"{v.rule} {v.field}: {v.message}" for v in report.errors))
            held = [v for v in report.warnings if self.hold_warnings is True or v.rule.value in self.hold_warnings] \
                if self.hold_warnings else []
            if held:
                return SendResult("held", violations=tuple(held),
                                  error="; ".join(f"{v.rule} {v.field}: {v.message}" for v in held))
        if self.dry_run:
            return SendResult("dry_run")
        reply, attempts, _ = post_with_retries(self.transport, self._request(dumps_payload(payload)), self.retry,
                                               limiter=self.limiter)
        return _result(reply, attempts)

    # -- many events ----------------------------------------------------------------------
    def send_all(self, data: Any, *, dry_run_preview: int = 5, stream: bool | None = None,
                 batch_bytes: int | None = None, batch_rows: int | None = None,
                 delimiter: str | None = None, outcomes_out: str | os.PathLike[str] | None = None) -> SendReport:
        """Validate and send a dataset (anything `validate_events` takes; `delimiter`: a CSV file's
        field separator, None sniffs it). See the module docstring.
        Inputs that `validate_events` streams (several files, `-`, a big file, `batch_bytes=`…) are
        sent batch by batch (`send.stream`): read, validate, send the valid rows, journal, let go;
        the report counts every outcome but lists only the rows needing attention (not the delivered
        ones). `outcomes_out` (.parquet/.jsonl/.csv; it streams the send) gets every row's outcome."""

        from adrop_kit.io.frames import ROW, to_payloads
        from adrop_kit.io.parts import Inputs
        from adrop_kit.io.readers import to_frame
        from adrop_kit.validate.dataset import plan_inputs, validate_events
        from adrop_kit.validate.size import mark_oversized

        start = time.perf_counter()
        plan = plan_inputs(data, stream=stream, batch_bytes=batch_bytes, batch_rows=batch_rows,
                           outcomes_out=outcomes_out)
        if isinstance(plan, Inputs):  # streamed
            from adrop_kit.send.stream import send_stream

            return send_stream(self, plan, dry_run_preview=dry_run_preview, batch_bytes=batch_bytes,
                               batch_rows=batch_rows, delimiter=delimiter, outcomes_out=outcomes_out)
        if self.validate:
            vreport = validate_events(data, catalog=self.catalog, strict=self.strict,
                                      extra_columns=self.extra_columns, stream=False if plan is not None else None,
                                      delimiter=delimiter)
            sendable = to_payloads(vreport.canonical_rows("valid"), self.catalog, extra_columns=self.extra_columns)
            skipped = list(reasons(vreport.errors).iter_rows())
            held = _held_rows(vreport, self.hold_warnings)
            if held:
                holding = {r for r, _, _ in held}
                sendable = [(r, p) for r, p in sendable if r not in holding]
            total = vreport.rows
            source = vreport.source
        else:
            frame = to_frame(data, self.catalog, delimiter=delimiter)
            df = mark_oversized(frame.df, self.catalog, self.extra_columns)  # never sent: the server says 413
            unreadable = df.filter(df["__error"].is_not_null())
            skipped = [(r, None, f"E001: {m}") for r, m in unreadable.select(ROW, "__error").iter_rows()]
            sendable = to_payloads(df.filter(df["__error"].is_null()), self.catalog, extra_columns=self.extra_columns)
            total = df.height
            source = frame.source
            held = []

        outcomes: list[EventOutcome] = []
        emit = self._emitter(outcomes)
        for r, ev, why in skipped:
            emit(EventOutcome(r, ev, None, Outcome.SKIPPED, None, 0, why))
        for r, ev, why in held:  # never sent, never journaled: a run without hold_warnings sends them
            emit(EventOutcome(r, ev, None, Outcome.HELD, None, 0, why))
        jobs = [_Job(i, row, event_key(p, row), p.get("eventName") if isinstance(p.get("eventName"), str) else None,
                     dumps_payload(p)) for i, (row, p) in enumerate(sendable)]
        preview: list[str] = []
        if self.dry_run:
            preview = [self.render_request(p) for _, p in sendable[:dry_run_preview]]
            for j in jobs:
                emit(EventOutcome(j.row, j.event_name, j.key, Outcome.DRY_RUN, None, 0, None))
            return SendReport(total=total, outcomes=outcomes, elapsed_s=time.perf_counter() - start,
                              source=source, endpoint=self.endpoint.url, dry_run=True, requests=preview)

        known = self.journal.lookup(j.key for j in jobs) if self.journal is not None else {}
        todo: list[_Job] = []
        for j in jobs:
            status, attempts = known.get(j.key, (None, 0))
            if status == Outcome.DELIVERED:
                emit(EventOutcome(j.row, j.event_name, j.key, Outcome.ALREADY_DELIVERED, None, attempts, None))
            elif status == Outcome.REJECTED:
                emit(EventOutcome(j.row, j.event_name, j.key, Outcome.REJECTED, None, attempts,
                                  "rejected in an earlier run (journal)"))
            else:
                j.attempts_before = attempts
                j.index = len(todo)
                todo.append(j)

        state = _RunState([None] * len(todo))
        interrupted = self._run(todo, state)
        for j, o in zip(todo, state.outcomes, strict=True):
            if o is None:
                emit(EventOutcome(j.row, j.event_name, j.key, Outcome.PENDING, None, 0, state.fatal or (
                    "not attempted: the run was interrupted" if interrupted else "not attempted")))
            else:
                outcomes.append(o)  # emitted by its worker as it happened
        retries = sum(max(0, o.attempts - j.attempts_before - 1) for j, o in zip(todo, state.outcomes, strict=True)
                      if o is not None)
        return SendReport(total=total, outcomes=outcomes, elapsed_s=time.perf_counter() - start, source=source,
                          endpoint=self.endpoint.url, interrupted=interrupted, aborted=state.fatal,
                          retries=retries, longest_wait_s=state.longest_wait, journal_error=state.journal_error)

    def _emitter(self, outcomes: list[EventOutcome]) -> Callable[[EventOutcome], None]:
        """Collect an outcome and show it to the `on_outcome` hook."""
        hook = self.on_outcome

        def emit(outcome: EventOutcome) -> None:
            outcomes.append(outcome)
            if hook is not None:
                hook(outcome)

        return emit

    def _run(self, todo: list[_Job], state: _RunState, bar: Any = None) -> bool:
        """Workers drain a queue; the calling thread shows progress (its own bar, or `bar` when a
        streamed send shares one over its batches). Returns True if interrupted."""
        if not todo:
            return False
        own_bar = bar is None
        q: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        for j in todo:
            q.put(j)
        n_workers = min(self.concurrency, len(todo))
        for _ in range(n_workers):
            q.put(None)
        if own_bar:
            bar = progress_bar(len(todo), self.progress, unit="ev", desc="sending")
        done = threading.Semaphore(0)

        def work() -> None:
            while not state.stop.is_set():
                job = q.get()
                if job is None:
                    break
                try:
                    reply, attempts, waited = post_with_retries(self.transport, self._request(job.body), self.retry,
                                                                limiter=self.limiter, stop=state.stop)
                    result = _result(reply, attempts)
                    outcome = EventOutcome(job.row, job.event_name, job.key, Outcome(result.outcome), result.status,
                                           job.attempts_before + attempts, result.error, job.source)
                    state.outcomes[job.index] = outcome
                    if self.journal is not None:
                        self.journal.record(job.key, job.row, job.event_name, result.outcome, outcome.attempts,
                                            result.status, result.error)
                    if waited > state.longest_wait:
                        with state.lock:
                            state.longest_wait = max(state.longest_wait, waited)
                    if self.on_outcome is not None:
                        self.on_outcome(outcome)
                    if reply.outcome == "fatal":  # a wrong key or a wrong endpoint: nothing else would get through
                        with state.lock:
                            state.fatal = reply.error
                        state.stop.set()
                except Exception as exc:  # noqa: BLE001 - a worker must not die silently (disk full, ...)
                    why = f"{type(exc).__name__}: {exc}"
                    if state.outcomes[job.index] is None:
                        state.outcomes[job.index] = EventOutcome(job.row, job.event_name, job.key, Outcome.FAILED,
                                                                 None, job.attempts_before, why, job.source)
                    with state.lock:
                        state.fatal = state.fatal or f"stopped by an error: {why}"
                        if isinstance(exc, JournalError):
                            state.journal_error = state.journal_error or str(exc)
                    state.stop.set()
                finally:
                    done.release()

        threads = [threading.Thread(target=work, name=f"adrop-send-{i}", daemon=True) for i in range(n_workers)]
        for t in threads:
            t.start()
        interrupted = False
        try:
            finished = 0
            while finished < len(todo) and any(t.is_alive() for t in threads):
                if done.acquire(timeout=0.1):
                    finished += 1
                    if bar is not None:
                        bar.update(1)
        except KeyboardInterrupt:
            interrupted = True
            state.stop.set()
        finally:
            if interrupted:
                state.stop.set()
            for t in threads:
                t.join()
            if bar is not None and own_bar:
                bar.close()
            self.transport.close()  # a long-lived Sender must not hoard sockets between batches
        return interrupted


def _held_rows(vreport: Any, hold: frozenset[str] | bool) -> list[tuple[int, str | None, str]]:
    """(row, eventName, why) of each valid row carrying a warning `hold` names (True: any)."""
    if not hold:
        return []
    import polars as pl

    warned = held_warnings(vreport.violations, hold)
    return list(reasons(warned.filter(~pl.col("row").is_in(vreport.invalid_positions.implode()))).iter_rows())


def _result(reply: Reply, attempts: int) -> SendResult:
    if reply.outcome == "delivered":
        return SendResult("delivered", reply.status, attempts)
    if reply.outcome == "rejected":
        return SendResult("rejected", reply.status, attempts, reply.summary)
    return SendResult("failed", reply.status, attempts, reply.error or reply.summary)


__all__ = ["OUTCOMES", "EventOutcome", "Outcome", "OutcomeHook", "SendReport", "SendResult", "Sender"]
