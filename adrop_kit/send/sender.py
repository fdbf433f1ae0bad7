"""`Sender`: validate, then deliver events reliably, journaled, with bounded concurrency.

    with Sender(endpoint=srv.endpoint, journal="send.journal") as sender:
        report = sender.send_all("events.jsonl")

Every event ends in exactly one bucket of the `SendReport`: delivered, rejected (the
server said `!invalid`), failed (gave up after retries), skipped (invalid locally, never
sent), already_delivered (found in the journal), or pending (not attempted because the
run was interrupted or aborted). Nothing is dropped silently.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, resolve
from .journal import Journal, event_key
from .jsontext import dumps_payload
from .payload import validate_event
from .send_report import OUTCOMES, Outcome, SendReport
from .transport import (
    DEFAULT_ENDPOINT,
    Endpoint,
    Reply,
    make_transport,
    mask_key,
    post_with_retries,
    resolve_key,
)


@dataclass(frozen=True)
class SendResult:
    """The fate of one event."""

    outcome: str                 # delivered | rejected | failed | skipped | dry_run
    status: int | None = None
    attempts: int = 0
    error: str | None = None
    violations: tuple = ()

    @property
    def ok(self) -> bool:
        return self.outcome in ("delivered", "dry_run")


class RateLimiter:
    """A token bucket shared by the workers: at most `rate` events/s, bursts of one second's worth."""

    def __init__(self, rate: float):
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = 1.0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, stop: threading.Event | None = None) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            if stop is not None and stop.wait(wait):
                return
            if stop is None:
                time.sleep(wait)


@dataclass
class _Job:
    index: int
    row: int
    key: str
    event_name: str | None
    body: bytes
    attempts_before: int = 0


@dataclass
class _RunState:
    outcomes: list[Outcome | None]
    stop: threading.Event = field(default_factory=threading.Event)
    fatal: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Sender:
    """Sends events to Adrop (or any compatible endpoint, e.g. the local server).

    The app key comes from `app_key` or `ADROP_APP_KEY`; it is used in one header and never
    printed, logged, stored in the journal or shown in a repr (dry-run shows it masked).
    """

    def __init__(self, app_key: str | None = None, *, endpoint: str = DEFAULT_ENDPOINT, concurrency: int = 8,
                 rate: float | None = None, timeout: float = 10.0, retries: int = 5, backoff: float = 0.25,
                 max_backoff: float = 30.0, max_retry_after: float = 120.0, dry_run: bool = False,
                 journal: str | os.PathLike | Journal | None = None, validate: bool = True, strict: bool = False,
                 catalog: Catalog | str | None = None, progress: bool | None = None,
                 transport: str = "http.client", extra_columns: Iterable[str] = ("ts",)):
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self.endpoint = Endpoint.parse(endpoint)
        self.__key = resolve_key(app_key, required=not dry_run)
        self.concurrency = concurrency
        self.limiter = RateLimiter(rate) if rate else None
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.dry_run = dry_run
        self.validate = validate
        self.strict = strict
        self.catalog = resolve(catalog)
        self.progress = progress
        self.transport_kind = transport
        self.extra_columns = tuple(extra_columns)
        self._own_journal = journal is not None and not isinstance(journal, Journal)
        self.journal = Journal(journal) if self._own_journal else journal  # type: ignore[arg-type]
        self._local = threading.local()
        self._transports: list[Any] = []
        self._tlock = threading.Lock()
        self._closed = False
        make_transport(transport, self.endpoint, {}, timeout).close()  # fail fast on a bad transport name

    # -- plumbing ----------------------------------------------------------------------
    @property
    def masked_key(self) -> str:
        return mask_key(self.__key)

    def __repr__(self) -> str:
        return (f"<Sender endpoint={self.endpoint.url!r} key={self.masked_key} concurrency={self.concurrency}"
                f"{' dry_run' if self.dry_run else ''}>")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self.__key or "", "Content-Type": "application/json",
                "User-Agent": "adrop-kit/0.1"}

    def _transport(self) -> Any:
        t = getattr(self._local, "transport", None)
        if t is None:
            t = make_transport(self.transport_kind, self.endpoint, self._headers(), self.timeout)
            self._local.transport = t
            with self._tlock:
                self._transports.append(t)
        return t

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
        self._close_transports()
        if self._own_journal and self.journal is not None:
            self.journal.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- one event ----------------------------------------------------------------------
    def _deliver(self, body: bytes, stop: threading.Event | None = None) -> tuple[Reply, int]:
        """POST with retries and back-off; returns the last reply and the attempts made."""
        return post_with_retries(self._transport(), body, retries=self.retries, backoff=self.backoff,
                                 max_backoff=self.max_backoff, max_retry_after=self.max_retry_after,
                                 limiter=self.limiter, stop=stop)

    def send(self, payload: Any) -> SendResult:
        """Validate and send one event (with retries). Returns what happened; never raises for data."""
        if self.validate:
            report = validate_event(payload, catalog=self.catalog, strict=self.strict)
            if not report.ok:
                return SendResult("skipped", violations=tuple(report.errors),
                                  error="; ".join(f"{v.rule} {v.field}: {v.message}" for v in report.errors))
        if self.dry_run:
            return SendResult("dry_run")
        reply, attempts = self._deliver(dumps_payload(payload))
        return _result(reply, attempts)

    # -- many events ----------------------------------------------------------------------
    def send_all(self, data: Any, *, dry_run_preview: int = 5) -> SendReport:
        """Validate and send a dataset (anything `validate_events` takes). See the module docstring."""
        import polars as pl

        from .frames import ROW, to_frame, to_payloads
        from .schemas import validate_events

        start = time.perf_counter()
        if self.validate:
            vreport = validate_events(data, catalog=self.catalog, strict=self.strict,
                                      extra_columns=self.extra_columns)
            sendable = to_payloads(vreport.valid_rows, self.catalog, extra_columns=self.extra_columns)
            errors = vreport.errors
            why = pl.concat_str(pl.col("rule"), pl.lit(" "), pl.col("field"), pl.lit(": "), pl.col("message"))
            skipped_rows = errors.group_by("row", maintain_order=True).agg(
                pl.col("eventName").first(), why.str.join("; ").alias("why"))
            skipped = list(skipped_rows.iter_rows())
            total = vreport.rows
            source = vreport.source
        else:
            frame = to_frame(data, self.catalog)
            unreadable = frame.df.filter(frame.df["__error"].is_not_null())
            skipped = [(r, None, f"E001: {m}") for r, m in unreadable.select(ROW, "__error").iter_rows()]
            sendable = to_payloads(frame.df.filter(frame.df["__error"].is_null()), self.catalog,
                                   extra_columns=self.extra_columns)
            total = frame.df.height
            source = frame.source

        outcomes: list[Outcome] = [Outcome(r, ev, None, "skipped", None, 0, why) for r, ev, why in skipped]
        jobs = [_Job(i, row, event_key(p, row), p.get("eventName") if isinstance(p.get("eventName"), str) else None,
                     dumps_payload(p)) for i, (row, p) in enumerate(sendable)]
        preview: list[str] = []
        if self.dry_run:
            preview = [self.render_request(p) for _, p in sendable[:dry_run_preview]]
            outcomes += [Outcome(j.row, j.event_name, j.key, "dry_run", None, 0, None) for j in jobs]
            return SendReport(total=total, outcomes=outcomes, elapsed_s=time.perf_counter() - start,
                              source=source, endpoint=self.endpoint.url, dry_run=True, requests=preview)

        known = self.journal.lookup(j.key for j in jobs) if self.journal is not None else {}
        todo: list[_Job] = []
        for j in jobs:
            status, attempts = known.get(j.key, (None, 0))
            if status == "delivered":
                outcomes.append(Outcome(j.row, j.event_name, j.key, "already_delivered", None, attempts, None))
            elif status == "rejected":
                outcomes.append(Outcome(j.row, j.event_name, j.key, "rejected", None, attempts,
                                        "rejected in an earlier run (journal)"))
            else:
                j.attempts_before = attempts
                j.index = len(todo)
                todo.append(j)

        state = _RunState([None] * len(todo))
        interrupted = self._run(todo, state)
        for j, o in zip(todo, state.outcomes, strict=True):
            outcomes.append(o if o is not None else Outcome(
                j.row, j.event_name, j.key, "pending", None, 0,
                state.fatal or ("not attempted: the run was interrupted" if interrupted else "not attempted")))
        return SendReport(total=total, outcomes=outcomes, elapsed_s=time.perf_counter() - start, source=source,
                          endpoint=self.endpoint.url, interrupted=interrupted, aborted=state.fatal)

    def _run(self, todo: list[_Job], state: _RunState) -> bool:
        """Workers drain a queue; the calling thread shows progress. Returns True if interrupted."""
        if not todo:
            return False
        q: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        for j in todo:
            q.put(j)
        n_workers = min(self.concurrency, len(todo))
        for _ in range(n_workers):
            q.put(None)
        bar = _progress_bar(len(todo), self.progress)
        done = threading.Semaphore(0)

        def work() -> None:
            while not state.stop.is_set():
                job = q.get()
                if job is None:
                    break
                try:
                    reply, attempts = self._deliver(job.body, state.stop)
                    result = _result(reply, attempts)
                    outcome = Outcome(job.row, job.event_name, job.key, result.outcome, result.status,
                                      job.attempts_before + attempts, result.error)
                    state.outcomes[job.index] = outcome
                    if self.journal is not None:
                        self.journal.record(job.key, job.row, job.event_name, result.outcome, outcome.attempts,
                                            result.status, result.error)
                    if reply.outcome == "fatal":  # a wrong key or a wrong endpoint: nothing else would get through
                        with state.lock:
                            state.fatal = reply.error
                        state.stop.set()
                except Exception as exc:  # noqa: BLE001 - a worker must not die silently (disk full, ...)
                    why = f"{type(exc).__name__}: {exc}"
                    if state.outcomes[job.index] is None:
                        state.outcomes[job.index] = Outcome(job.row, job.event_name, job.key, "failed", None,
                                                            job.attempts_before, why)
                    with state.lock:
                        state.fatal = state.fatal or f"stopped by an error: {why}"
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
            if bar is not None:
                bar.close()
            self._close_transports()  # a long-lived Sender must not hoard sockets between batches
        return interrupted

    def _close_transports(self) -> None:
        with self._tlock:
            for t in self._transports:
                t.close()
            self._transports.clear()
        self._local = threading.local()


def _result(reply: Reply, attempts: int) -> SendResult:
    if reply.outcome == "delivered":
        return SendResult("delivered", reply.status, attempts)
    if reply.outcome == "rejected":
        return SendResult("rejected", reply.status, attempts, reply.summary)
    return SendResult("failed", reply.status, attempts, reply.error or reply.summary)


def _progress_bar(total: int, enabled: bool | None) -> Any:
    if enabled is False:
        return None
    if enabled is None and (os.environ.get("CI") or not sys.stderr.isatty()):
        if not _in_notebook():
            return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="ev", desc="sending", leave=True)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


__all__ = ["OUTCOMES", "RateLimiter", "SendReport", "SendResult", "Sender"]
